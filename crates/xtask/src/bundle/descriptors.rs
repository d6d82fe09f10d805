//! The BigPeer fields a console (OpenShift's, OperatorHub's) shows and edits: the CSV's spec and
//! status descriptors. Only the paths, display names and widgets are chosen here; each
//! description is the field's own from the CRD schema (its first sentence), select widgets take
//! the schema's enum, and a path the schema does not have is an error.

use serde_json::{Value, json};

use super::Result;

/// A widget: `urn:alm:descriptor:` and what follows.
const TEXT: &str = "com.tectonic.ui:text";
const POD_COUNT: &str = "com.tectonic.ui:podCount";
const BOOLEAN_SWITCH: &str = "com.tectonic.ui:booleanSwitch";
const STORAGE_CLASS: &str = "io.kubernetes:StorageClass";
const PHASE: &str = "io.kubernetes.phase";
const CONDITIONS: &str = "io.kubernetes.conditions";
/// Marks an enum field: one `select:<value>` per enum value.
const SELECT: &str = "select";
/// A field group: no widget of its own.
const GROUP: &str = "";

/// (path under `spec`, display name, widget).
const SPEC: &[(&str, &str, &str)] = &[
    ("version", "Version", TEXT),
    ("store.replicas", "Store replicas", POD_COUNT),
    ("store.storage.size", "Store volume size", TEXT),
    (
        "store.storage.storageClassName",
        "Store storage class",
        STORAGE_CLASS,
    ),
    ("sync.replicas", "Sync replicas", POD_COUNT),
    ("transactionLog", "Transaction log", GROUP),
    ("tls", "TLS", GROUP),
    ("network", "Network", GROUP),
    ("upgrade.strategy", "Upgrade strategy", SELECT),
    ("upgrade.paused", "Upgrade paused", BOOLEAN_SWITCH),
];

/// (path under `status`, display name, widget).
const STATUS: &[(&str, &str, &str)] = &[
    ("phase", "Phase", PHASE),
    ("conditions", "Conditions", CONDITIONS),
    ("version.current", "Running version", TEXT),
    ("version.target", "Target version", TEXT),
    ("store.readyReplicas", "Store ready replicas", TEXT),
    ("sync.readyReplicas", "Sync ready replicas", TEXT),
    ("endpoints.service", "Service endpoint", TEXT),
    ("upgrade.phase", "Upgrade phase", TEXT),
    ("upgrade.step", "Upgrade step", TEXT),
    (
        "upgrade.awaitingApproval",
        "Upgrade step awaiting approval",
        TEXT,
    ),
];

/// The spec descriptors, from the schema of the CRD's served version.
pub fn spec(crd: &Value) -> Result<Vec<Value>> {
    descriptors(crd, "spec", SPEC)
}

/// The status descriptors.
pub fn status(crd: &Value) -> Result<Vec<Value>> {
    descriptors(crd, "status", STATUS)
}

fn descriptors(crd: &Value, root: &str, fields: &[(&str, &str, &str)]) -> Result<Vec<Value>> {
    let root_schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][root];
    fields
        .iter()
        .map(|(path, display_name, widget)| {
            let schema = field_schema(root_schema, path).ok_or_else(|| {
                format!(
                    "descriptor {root}.{path}: the CRD has no such field; fix crates/xtask/src/bundle/descriptors.rs"
                )
            })?;
            let mut descriptor = json!({
                "path": path,
                "displayName": display_name,
                "description": first_sentence(schema["description"].as_str().unwrap_or_default()),
            });
            let widgets = x_descriptors(widget, schema);
            if !widgets.is_empty() {
                descriptor["x-descriptors"] = json!(widgets);
            }
            Ok(descriptor)
        })
        .collect()
}

/// The schema of a dotted path below `schema`.
pub fn field_schema<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(schema, |node, part| node["properties"].get(part))
}

fn x_descriptors(widget: &str, schema: &Value) -> Vec<String> {
    match widget {
        GROUP => Vec::new(),
        SELECT => schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|v| format!("urn:alm:descriptor:com.tectonic.ui:select:{v}"))
            .collect(),
        other => vec![format!("urn:alm:descriptor:{other}")],
    }
}

/// The first sentence of a schema description, on one line.
fn first_sentence(description: &str) -> String {
    let line = description.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.find(". ") {
        Some(end) => line[..=end].to_string(),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({"spec": {"versions": [{"schema": {"openAPIV3Schema": {"properties": {"spec": {
            "properties": {"version": {"description": "The version.\nMore words. And more."},
                "upgrade": {"properties": {"strategy": {"enum": ["RollingUpdate", "Manual"]}}}}}}}}}]}})
    }

    #[test]
    fn descriptions_and_selects_come_from_the_schema() {
        let fields = [
            ("version", "Version", TEXT),
            ("upgrade.strategy", "Strategy", SELECT),
        ];
        let out = descriptors(&crd(), "spec", &fields).unwrap();
        assert_eq!(out[0]["description"], "The version.");
        assert_eq!(
            out[1]["x-descriptors"],
            json!([
                "urn:alm:descriptor:com.tectonic.ui:select:RollingUpdate",
                "urn:alm:descriptor:com.tectonic.ui:select:Manual"
            ])
        );
    }

    #[test]
    fn a_field_the_crd_lacks_is_an_error() {
        let error = descriptors(&crd(), "spec", &[("store.replicas", "x", TEXT)]).unwrap_err();
        assert!(error.contains("spec.store.replicas"), "{error}");
    }
}
