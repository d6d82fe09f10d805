//! What the API server does to a BigPeer at apply time, reproduced client-side: the CRD's OpenAPI
// Shared by several test binaries; each uses a subset.
#![allow(dead_code)]
//! constraints (see `openapi`) and its CEL rules (through `kube-cel`), so tests can prove which
//! objects are admitted and with which message the others are refused.

pub mod embedded;
pub mod openapi;

use kube_cel::{CompiledSchema, compile_schema};
use serde_json::Value;
use std::sync::LazyLock;

/// The BigPeer CRD's `openAPIV3Schema`, as generated from the Rust types.
pub static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let crd = smbp_api::crd::bigpeer_crd();
    let version = &crd.spec.versions[0];
    serde_json::to_value(
        version
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap(),
    )
    .unwrap()
});

thread_local! {
    static COMPILED: CompiledSchema = {
        let compiled = compile_schema(&SCHEMA);
        assert!(!compiled.has_errors(), "CEL rules do not compile: {:?}", compiled.compilation_errors());
        compiled
    };
}

/// Every reason the API server would refuse `object` (an update of `old`, when given), each as
/// `path: message`. Empty when it would be admitted.
pub fn refusals(object: &Value, old: Option<&Value>) -> Vec<String> {
    let mut found = openapi::violations(&SCHEMA, object);
    if found.is_empty() {
        // Like the API server, CEL runs only on objects that fit the schema.
        found.extend(cel_refusals(object, old));
    }
    found
}

/// The CEL rules `object` breaks, as `path: message`.
pub fn cel_refusals(object: &Value, old: Option<&Value>) -> Vec<String> {
    let object = with_defaults(object);
    let old = old.map(with_defaults);
    COMPILED.with(
        |compiled| match kube_cel::validate_compiled(compiled, &object, old.as_ref()) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        },
    )
}

/// `object` with the schema's defaults applied the way kube-apiserver does: recursively, including
/// inside objects that were themselves defaulted (a section defaulted to `{}` gets its fields'
/// defaults). kube-cel 0.8's `apply_defaults` fills one level per pass, so it runs to a fixpoint.
pub fn with_defaults(object: &Value) -> Value {
    let mut current = object.clone();
    loop {
        let next = kube_cel::apply_defaults(&SCHEMA, &current);
        if next == current {
            return current;
        }
        current = next;
    }
}

/// A BigPeer object around `spec`.
pub fn bigpeer(name: &str, spec: Value) -> Value {
    serde_json::json!({
        "apiVersion": "smbp.dev/v1alpha1",
        "kind": "BigPeer",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    })
}

/// Recursively merges `patch` into `base` (objects merge, everything else replaces; `null`
/// removes), as a JSON merge patch does.
pub fn merge(base: &mut Value, patch: &Value) {
    if patch.is_object() && !base.is_object() {
        *base = Value::Object(serde_json::Map::new());
    }
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Reads every sample in `config/samples/`, as `(file name, object)`.
pub fn samples() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/samples");
    let mut samples: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                value,
            )
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    samples
}
