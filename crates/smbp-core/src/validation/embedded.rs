//! Embedded Kubernetes objects (`affinity`, `podOverrides`), kept free-form in the CRD: decoded
//! strictly, as kube-apiserver's strict field validation does — a value of the wrong type, and a
//! field the type does not have (a misspelt `nodeAfinity` would otherwise be dropped silently),
//! are reported at their exact path.

use super::Report;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smbp_api::v1alpha1::Embedded;

/// Decodes `embedded` as a `kind`, or reports why not under `path`.
pub(super) fn decode<T: DeserializeOwned + Serialize>(
    report: &mut Report,
    embedded: &Embedded<T>,
    path: &str,
    kind: &str,
) -> Option<T> {
    let raw = Value::Object(embedded.raw().clone());
    let parsed = match serde_path_to_error::deserialize::<_, T>(raw.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            report.error(
                join(path, &e.path().to_string()),
                format!("does not fit a Kubernetes {kind}: {}", e.inner()),
            );
            return None;
        }
    };
    let known = serde_json::to_value(&parsed).unwrap_or(Value::Null);
    match unknown_field(&raw, &known, "") {
        Some((at, field)) => {
            report.error(join(path, &at), format!("unknown field {field:?}: a Kubernetes {kind} has no such field here (check its spelling and place)"));
            None
        }
        None => Some(parsed),
    }
}

/// `path` followed by the inner path `inner` (`.` or empty for the root).
fn join(path: &str, inner: &str) -> String {
    match inner {
        "" | "." => path.to_string(),
        inner => format!("{path}.{}", inner.trim_start_matches('.')),
    }
}

/// The first field of `raw` that decoding dropped: the path of its parent and its name. `known`
/// is the decoded value serialized again, which keeps every field the type has (nulls aside).
fn unknown_field(raw: &Value, known: &Value, at: &str) -> Option<(String, String)> {
    match (raw, known) {
        (Value::Object(raw), Value::Object(known)) => raw.iter().find_map(|(key, value)| {
            if value.is_null() {
                return None;
            }
            match known.get(key) {
                None => Some((at.to_string(), key.clone())),
                Some(k) => unknown_field(value, k, &join(at, key)),
            }
        }),
        (Value::Array(raw), Value::Array(known)) => raw
            .iter()
            .zip(known)
            .enumerate()
            .find_map(|(i, (r, k))| unknown_field(r, k, &format!("{at}[{i}]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, PodTemplateSpec};

    fn problems<T: DeserializeOwned + Serialize>(json: &str, kind: &str) -> Vec<String> {
        let embedded: Embedded<T> = serde_json::from_str(json).unwrap();
        let mut report = Report::default();
        decode(&mut report, &embedded, "spec.x", kind);
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn unknown_fields_are_refused_at_their_path() {
        assert_eq!(
            problems::<Affinity>(r#"{"nodeAfinity": {}}"#, "Affinity"),
            [
                "spec.x: unknown field \"nodeAfinity\": a Kubernetes Affinity has no such field here (check its spelling and place)"
            ]
        );
        let nested = r#"{"spec": {"containers": [{"name": "a", "imag": "x"}]}}"#;
        assert_eq!(
            problems::<PodTemplateSpec>(nested, "PodTemplateSpec")[0],
            "spec.x.spec.containers[0]: unknown field \"imag\": a Kubernetes PodTemplateSpec has no such field here (check its spelling and place)"
        );
    }

    #[test]
    fn known_fields_nulls_and_maps_are_accepted() {
        let ok = r#"{"metadata": {"labels": {"a": "b"}, "annotations": null}, "spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1"}}, "ports": [{"containerPort": 1, "name": "x"}]}], "volumes": [{"name": "v", "emptyDir": {}}]}}"#;
        assert_eq!(
            problems::<PodTemplateSpec>(ok, "PodTemplateSpec"),
            Vec::<String>::new()
        );
    }
}
