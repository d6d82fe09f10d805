//! Small pieces the simulated controllers share: label selectors as Kubernetes objects write them,
//! owner references, conditions that keep their transition time, pod readiness, the template hash
//! and random name suffixes the Kubernetes controllers use, and int-or-percent arithmetic.

use super::runtime::Key;
use serde_json::{Value, json};

/// Whether a `metav1.LabelSelector` (`matchLabels` and `matchExpressions`) selects these labels.
/// An empty selector selects everything; a missing one (`null`) selects nothing.
pub fn selector_matches(selector: &Value, labels: Option<&Value>) -> bool {
    if selector.is_null() {
        return false;
    }
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let match_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|expression| {
            let key = expression["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = expression["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match expression["operator"].as_str() {
                Some("In") => label(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => false,
            }
        });
    match_labels && expressions
}

/// Whether a plain label map (a Service's selector) selects these labels; empty selects nothing.
pub fn map_matches(selector: &Value, labels: Option<&Value>) -> bool {
    let Some(wanted) = selector.as_object().filter(|m| !m.is_empty()) else {
        return false;
    };
    wanted
        .iter()
        .all(|(key, value)| labels.and_then(|l| l.get(key)).is_some_and(|v| v == value))
}

/// The string at a JSON pointer.
pub fn str_at<'v>(object: &'v Value, pointer: &str) -> Option<&'v str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// The integer at a JSON pointer.
pub fn int_at(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// A controller owner reference to `owner`.
pub fn controller_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// The uid of the object's controller, when it has one.
pub fn controller_uid(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .and_then(|r| r["uid"].as_str())
}

/// The reconcile key (under `resource`) of the object's controller of `kind`, when it has one:
/// how a pod change reaches its StatefulSet, ReplicaSet or Job.
pub fn controller_key(resource: &str, kind: &str, object: &Value) -> Vec<Key> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| r["controller"].as_bool() == Some(true) && r["kind"] == kind)
        .and_then(|r| r["name"].as_str())
        .map(|name| Key {
            resource: resource.into(),
            namespace: str_at(object, "/metadata/namespace")
                .unwrap_or_default()
                .into(),
            name: name.into(),
        })
        .into_iter()
        .collect()
}

/// Whether the object is being deleted.
pub fn terminating(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some()
}

/// The condition of `kind` in `status.conditions`.
pub fn condition<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == kind)
}

/// Whether a pod is Running with its Ready condition True.
pub fn pod_ready(pod: &Value) -> bool {
    str_at(pod, "/status/phase") == Some("Running")
        && condition(pod, "Ready").is_some_and(|c| c["status"] == "True")
}

/// Whether a pod counts as available: Ready, and for `min_ready` seconds (simulated) already.
pub fn pod_available(clock: &crate::clock::Clock, pod: &Value, min_ready: i64) -> bool {
    pod_ready(pod)
        && (min_ready <= 0
            || ready_since(pod).is_some_and(|t| {
                clock.since(t) >= std::time::Duration::from_secs(min_ready as u64)
            }))
}

/// Whether a pod has run to its end (Succeeded or Failed).
pub fn pod_finished(pod: &Value) -> bool {
    matches!(
        str_at(pod, "/status/phase"),
        Some("Succeeded") | Some("Failed")
    )
}

/// When a ready pod became Ready.
pub fn ready_since(pod: &Value) -> Option<&str> {
    condition(pod, "Ready")
        .filter(|c| c["status"] == "True")
        .and_then(|c| c["lastTransitionTime"].as_str())
}

/// Sets a condition in a conditions list, keeping `lastTransitionTime` unless the status
/// changes; `fields` are the other keys in the order the owning controller writes them.
pub fn set_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    now: &str,
    fields: &[(&str, Value)],
) {
    let previous = conditions.iter().position(|c| c["type"] == kind);
    let transition = match previous {
        Some(i) if conditions[i]["status"] == status => conditions[i]["lastTransitionTime"].clone(),
        _ => json!(now),
    };
    let mut condition = serde_json::Map::new();
    condition.insert("type".into(), json!(kind));
    condition.insert("status".into(), json!(status));
    for (key, value) in fields {
        condition.insert((*key).to_string(), value.clone());
    }
    condition.insert("lastTransitionTime".into(), transition);
    let condition = Value::Object(condition);
    match previous {
        Some(i) => conditions[i] = condition,
        None => conditions.push(condition),
    }
}

/// The characters Kubernetes uses for generated names and hashes (no vowels, no look-alikes).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A random suffix of `n` characters, as `generateName` and the ReplicaSet controller use.
pub fn random_suffix(n: usize) -> String {
    let bytes = uuid::Uuid::new_v4();
    bytes
        .as_bytes()
        .iter()
        .take(n)
        .map(|b| ALPHANUMS[*b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// A short stable hash of a pod template, spelled like `pod-template-hash` and
/// `controller-revision-hash` values (FNV-1a 32 of the canonical JSON, safe-encoded as
/// Kubernetes does). The values differ from a real cluster's, which hash Go structs.
pub fn template_hash(template: &Value, collision_count: i64) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    let text = format!("{template}{collision_count}");
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash.to_string()
        .bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// An int-or-percent (`maxSurge: 25%`) against a total, rounding up or down as the field says.
pub fn scaled_value(value: Option<&Value>, total: i64, default: &str, round_up: bool) -> i64 {
    let value = value.cloned().unwrap_or_else(|| json!(default));
    if let Some(n) = value.as_i64() {
        return n;
    }
    let percent: i64 = value
        .as_str()
        .and_then(|s| s.strip_suffix('%'))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let product = total * percent;
    if round_up {
        (product + 99) / 100
    } else {
        product / 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_follow_kubernetes_semantics() {
        let labels = json!({"app": "web", "tier": "store"});
        assert!(selector_matches(&json!({}), Some(&labels)));
        assert!(!selector_matches(&Value::Null, Some(&labels)));
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            Some(&labels)
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            Some(&labels)
        ));
        let expression = |op: &str, values: Value| json!({"matchExpressions": [{"key": "tier", "operator": op, "values": values}]});
        assert!(selector_matches(
            &expression("In", json!(["store", "x"])),
            Some(&labels)
        ));
        assert!(!selector_matches(
            &expression("NotIn", json!(["store"])),
            Some(&labels)
        ));
        assert!(selector_matches(
            &expression("Exists", json!([])),
            Some(&labels)
        ));
        assert!(!selector_matches(
            &expression("DoesNotExist", json!([])),
            Some(&labels)
        ));
        assert!(!map_matches(&json!({}), Some(&labels)));
        assert!(map_matches(&json!({"app": "web"}), Some(&labels)));
    }

    #[test]
    fn percentages_round_as_the_field_says() {
        assert_eq!(scaled_value(None, 10, "25%", true), 3);
        assert_eq!(scaled_value(None, 10, "25%", false), 2);
        assert_eq!(scaled_value(Some(&json!(2)), 10, "25%", false), 2);
    }

    #[test]
    fn conditions_keep_their_transition_time_while_the_status_holds() {
        let mut conditions = Vec::new();
        set_condition(&mut conditions, "Ready", "False", "t1", &[]);
        set_condition(
            &mut conditions,
            "Ready",
            "False",
            "t2",
            &[("reason", json!("Still"))],
        );
        assert_eq!(conditions[0]["lastTransitionTime"], "t1");
        set_condition(&mut conditions, "Ready", "True", "t3", &[]);
        assert_eq!(conditions[0]["lastTransitionTime"], "t3");
        assert_eq!(conditions.len(), 1);
    }

    #[test]
    fn template_hashes_are_stable_and_safe() {
        let a = template_hash(&json!({"spec": {"image": "a"}}), 0);
        assert_eq!(a, template_hash(&json!({"spec": {"image": "a"}}), 0));
        assert_ne!(a, template_hash(&json!({"spec": {"image": "b"}}), 0));
        assert!(a.bytes().all(|b| ALPHANUMS.contains(&b)));
    }
}
