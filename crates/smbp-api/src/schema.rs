//! Small schema helpers shared by the API types: formats that schemars cannot infer from a Rust
//! `String`, and free-form objects that are validated by the operator rather than the CRD.

use schemars::{Schema, SchemaGenerator, json_schema};

/// A Go-style duration string (`90s`, `30m`, `2160h`), required or optional. Declared with `format: duration`, which
/// makes the API server check the syntax and gives CEL rules a typed `duration` to compare.
pub fn duration(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "duration", "maxLength": 32 })
}

/// A Kubernetes resource quantity (`10Gi`, `500m`) held as a string; CEL rules use
/// `quantity(self)` to compare it.
pub fn quantity(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": 32,
        "x-kubernetes-validations": [{
            "rule": "isQuantity(self)",
            "message": "must be a Kubernetes quantity such as 10Gi or 500Mi"
        }]
    })
}

/// A free-form object kept as-is by the API server and checked by the operator's semantic
/// validation (used for pod template overrides, whose full schema would make the CRD huge).
pub fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}
