//! What kube-apiserver checks about the `default`s of a CRD's schema when the CRD is created or
//! updated (apiextensions' `defaulting.ValidateDefaults`): every default, as written (nested
//! defaults are not applied to it first), must survive pruning unchanged, must validate against
//! its node's OpenAPI schema and, only when it does, must pass the CEL rules of its node and
//! below, evaluated with `oldSelf` equal to `self`. Defaults below `additionalProperties` are not
//! followed, as upstream; defaults inside the root's `metadata`/`apiVersion`/`kind` are not
//! checked here.
//!
//! Paths are those of the internal API: `spec.validation.openAPIV3Schema.properties[spec]…`
//! when every version has the same schema (the v1 → internal conversion hoists it),
//! `spec.versions[i].schema.openAPIV3Schema…` otherwise.

use super::structural::{self, under};
use super::{cel, gofmt, prune_node};
use crate::error::Cause;
use serde_json::Value;

/// The causes for every default of `crd`'s schemas that kube-apiserver would refuse.
pub fn validate_crd(crd: &Value) -> Vec<Cause> {
    let versions: &[Value] = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let schemas: Vec<Option<&Value>> = versions
        .iter()
        .map(|v| v.pointer("/schema/openAPIV3Schema"))
        .collect();
    let mut causes = Vec::new();
    let hoisted = schemas.first().copied().flatten();
    if let Some(schema) = hoisted.filter(|s| schemas.iter().all(|o| *o == Some(*s))) {
        root(schema, "spec.validation.openAPIV3Schema", &mut causes);
        return causes;
    }
    for (i, schema) in schemas.iter().enumerate() {
        if let Some(schema) = schema {
            let path = format!("spec.versions[{i}].schema.openAPIV3Schema");
            root(schema, &path, &mut causes);
        }
    }
    causes
}

/// A resource root: its own metadata, apiVersion and kind are left out.
fn root(schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    children(schema, path, causes, &["metadata", "apiVersion", "kind"]);
}

/// The node's default, then its items and properties (in name order).
fn node(schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    if let Some(default) = schema.get("default") {
        check_default(default, schema, &format!("{path}.default"), causes);
    }
    children(schema, path, causes, &[]);
}

fn children(schema: &Value, path: &str, causes: &mut Vec<Cause>, skipped: &[&str]) {
    if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
        node(items, &format!("{path}.items"), causes);
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let mut names: Vec<&String> = properties.keys().collect();
        names.sort();
        for name in names.into_iter().filter(|n| !skipped.contains(&n.as_str())) {
            node(
                &properties[name],
                &format!("{path}.properties[{name}]"),
                causes,
            );
        }
    }
}

/// Pruning, then the OpenAPI schema, then (if that passed) the CEL rules.
fn check_default(default: &Value, schema: &Value, at: &str, causes: &mut Vec<Cause>) {
    let mut pruned = default.clone();
    prune_node(&mut pruned, schema, "", &mut Vec::new());
    if pruned != *default {
        causes.push(Cause::new(
            "FieldValueInvalid",
            at,
            format!(
                "Invalid value: {}: must not have unknown fields",
                gofmt::bad_value(default)
            ),
        ));
    }
    let mut openapi = Vec::new();
    structural::walk(default, schema, "", &mut openapi);
    if openapi.is_empty() {
        causes.extend(cel::rules_on_value(default, schema, at));
        return;
    }
    causes.extend(openapi.into_iter().map(|mut cause| {
        cause.field = under(at, &cause.field);
        cause
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(spec_properties: Value) -> Value {
        json!({"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
            "type": "object", "properties": {"spec": {"type": "object", "properties": spec_properties}}}}}]}})
    }

    fn shown(crd: &Value) -> Vec<String> {
        validate_crd(crd).iter().map(Cause::display).collect()
    }

    #[test]
    fn defaults_are_checked_as_written_against_their_schema() {
        let crd = crd(json!({
            "size": {"type": "integer", "default": "big"},
            "mode": {"type": "string", "enum": ["a", "b"], "default": "c"},
            "extra": {"type": "object", "default": {"x": 1}, "properties": {}},
            "interval": {"type": "string", "format": "duration", "default": "30s"}
        }));
        assert_eq!(
            shown(&crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[spec].properties[extra].default: Invalid value: map[string]interface {}{\"x\":1}: must not have unknown fields",
                "spec.validation.openAPIV3Schema.properties[spec].properties[mode].default: Unsupported value: \"c\": supported values: \"a\", \"b\"",
                "spec.validation.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: \"string\":  in body must be of type integer: \"string\"",
            ]
        );
    }

    #[test]
    fn cel_rules_run_on_the_default_without_its_nested_defaults() {
        let crd = crd(json!({"account": {"type": "object", "default": {},
            "x-kubernetes-validations": [{"rule": "self.create || has(self.name)",
                "message": "name it"}],
            "properties": {"create": {"type": "boolean", "default": true},
                "name": {"type": "string"}}}}));
        assert_eq!(
            shown(&crd),
            vec![
                "spec.validation.openAPIV3Schema.properties[spec].properties[account].default: Invalid value: \"object\": no such key: create evaluating rule: name it"
            ]
        );
        let mut fixed = crd.clone();
        fixed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["account"]["default"] = json!({"create": true});
        assert!(shown(&fixed).is_empty());
    }

    #[test]
    fn versions_with_different_schemas_are_reported_per_version() {
        let mut crd = crd(json!({"size": {"type": "integer", "default": 0, "minimum": 1}}));
        let other = json!({"name": "v2", "schema": {"openAPIV3Schema": {"type": "object"}}});
        crd["spec"]["versions"].as_array_mut().unwrap().push(other);
        assert_eq!(
            shown(&crd),
            vec![
                "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: 0:  in body should be greater than or equal to 1"
            ]
        );
    }
}
