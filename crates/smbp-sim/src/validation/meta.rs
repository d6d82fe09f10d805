//! `ValidateObjectMeta` for every object: the name and `generateName` rule of its kind (DNS-1035
//! label for Services unless `RelaxedServiceNameValidation`, DNS-1123 label for Namespaces, path
//! segment for RBAC, DNS-1123 subdomain otherwise), label keys and values, annotation keys and
//! their total size. Also used for the metadata of pod templates.

use super::names;
use crate::error::Cause;
use crate::features::{FeatureGates, RELAXED_SERVICE_NAME_VALIDATION};
use crate::resources::ResourceType;
use serde_json::Value;

/// kube-apiserver's limit on the summed length of annotation keys and values.
const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// The name rule of a kind: a checker taking the name and whether it is a `generateName` prefix.
fn name_rule(rt: &ResourceType, gates: &FeatureGates) -> fn(&str) -> Vec<String> {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "services") if !gates.enabled(RELAXED_SERVICE_NAME_VALIDATION) => names::dns1035_label,
        ("", "services" | "namespaces") => names::dns1123_label,
        ("rbac.authorization.k8s.io", _) => names::path_segment,
        _ => names::dns1123_subdomain,
    }
}

/// The metadata causes of one object (name, generateName, labels, annotations).
pub fn object_meta(rt: &ResourceType, object: &Value, gates: &FeatureGates) -> Vec<Cause> {
    let rule = name_rule(rt, gates);
    let meta = object.get("metadata").unwrap_or(&Value::Null);
    let mut causes = Vec::new();
    if let Some(prefix) = meta.get("generateName").and_then(Value::as_str)
        && !prefix.is_empty()
    {
        causes.extend(
            rule(&names::mask_trailing_dash(prefix))
                .into_iter()
                .map(|m| {
                    Cause::new(
                        "FieldValueInvalid",
                        "metadata.generateName",
                        format!("Invalid value: {prefix:?}: {m}"),
                    )
                }),
        );
    }
    let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
    if !name.is_empty() {
        causes.extend(rule(name).into_iter().map(|m| {
            Cause::new(
                "FieldValueInvalid",
                "metadata.name",
                format!("Invalid value: {name:?}: {m}"),
            )
        }));
    }
    causes.extend(labels_and_annotations(meta, "metadata"));
    causes
}

/// Label and annotation rules of a metadata object at `path` (`metadata`,
/// `spec.template.metadata`).
pub fn labels_and_annotations(meta: &Value, path: &str) -> Vec<Cause> {
    let mut causes = labels(meta.get("labels"), &format!("{path}.labels"));
    causes.extend(annotations(
        meta.get("annotations"),
        &format!("{path}.annotations"),
    ));
    causes
}

/// `ValidateLabels`: every key a qualified name, every value a label value.
pub fn labels(labels: Option<&Value>, field: &str) -> Vec<Cause> {
    let Some(map) = labels.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut causes = Vec::new();
    for (key, value) in map {
        let value = value.as_str().unwrap_or("");
        let key_errors = names::qualified_name(key)
            .into_iter()
            .map(|m| (key.as_str(), m));
        let value_errors = names::label_value(value).into_iter().map(|m| (value, m));
        causes.extend(key_errors.chain(value_errors).map(|(bad, m)| {
            Cause::new(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {bad:?}: {m}"),
            )
        }));
    }
    causes
}

/// `ValidateAnnotations`: keys are qualified names (case-insensitively), and keys plus values
/// stay within 256 KiB.
fn annotations(annotations: Option<&Value>, field: &str) -> Vec<Cause> {
    let Some(map) = annotations.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut causes = Vec::new();
    for key in map.keys() {
        causes.extend(
            names::qualified_name(&key.to_lowercase())
                .into_iter()
                .map(|m| {
                    Cause::new(
                        "FieldValueInvalid",
                        field,
                        format!("Invalid value: {key:?}: {m}"),
                    )
                }),
        );
    }
    let size: usize = map
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > ANNOTATIONS_LIMIT {
        causes.push(Cause::new(
            "FieldValueTooLong",
            field,
            format!("Too long: may not be more than {ANNOTATIONS_LIMIT} bytes"),
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;
    use serde_json::json;

    fn rt(plural: &str) -> ResourceType {
        builtins().into_iter().find(|r| r.plural == plural).unwrap()
    }

    #[test]
    fn names_follow_the_kind_and_the_gate() {
        let gates = FeatureGates::default();
        let digit_first = json!({"metadata": {"name": "1abc"}});
        assert!(object_meta(&rt("configmaps"), &digit_first, &gates).is_empty());
        assert!(object_meta(&rt("namespaces"), &digit_first, &gates).is_empty());
        assert_eq!(object_meta(&rt("services"), &digit_first, &gates).len(), 1);
        let mut relaxed = FeatureGates::default();
        relaxed.set(RELAXED_SERVICE_NAME_VALIDATION, true);
        assert!(object_meta(&rt("services"), &digit_first, &relaxed).is_empty());
        let dotted = json!({"metadata": {"name": "a.b"}});
        assert_eq!(object_meta(&rt("namespaces"), &dotted, &gates).len(), 1);
        let rbac = json!({"metadata": {"name": "system:controller:x"}});
        assert!(object_meta(&rt("clusterroles"), &rbac, &gates).is_empty());
    }

    #[test]
    fn generate_name_labels_and_annotations() {
        let gates = FeatureGates::default();
        let object = json!({"metadata": {"generateName": "Web-", "name": "web-abcde",
            "labels": {"bad key": "ok", "app": "-bad"},
            "annotations": {"Example.com/Fine": "x", "a/b/c": "y"}}});
        let causes = object_meta(&rt("pods"), &object, &gates);
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.generateName",
                "metadata.labels",
                "metadata.labels",
                "metadata.annotations"
            ]
        );
        let big =
            json!({"metadata": {"name": "a", "annotations": {"k": "v".repeat(ANNOTATIONS_LIMIT)}}});
        let causes = object_meta(&rt("configmaps"), &big, &gates);
        assert_eq!(
            causes[0].display(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
    }
}
