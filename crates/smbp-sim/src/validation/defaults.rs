//! Server defaults of built-ins that clients, controllers and SSA keys rely on: port protocols,
//! namespace bookkeeping, the top-level StatefulSet/Deployment/Job spec defaults, and the status a
//! new workload starts with.

use crate::resources::ResourceType;
use serde_json::{Value, json};

/// Server defaults of built-ins that clients and SSA keys depend on: port protocols, and a
/// namespace's name label, `kubernetes` finalizer and Active phase.
pub fn default_builtin(rt: &ResourceType, object: &mut Value) {
    if rt.custom {
        return;
    }
    default_port_protocols(object);
    default_workload_spec(rt, object);
    if rt.group.is_empty() && rt.plural == "namespaces" {
        let name = object
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or(json!(""));
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
        if object.pointer("/spec/finalizers").is_none() {
            object["spec"]["finalizers"] = json!(["kubernetes"]);
        }
        if object.pointer("/status/phase").is_none() {
            object["status"]["phase"] = json!("Active");
        }
    }
}

/// The workload defaults kube-apiserver fills in on every write (the recorded StatefulSet shows
/// them), so controllers and clients see the same spec as on a real cluster.
fn default_workload_spec(rt: &ResourceType, object: &mut Value) {
    let defaults: &[(&str, Value)] = match (rt.group.as_str(), rt.plural.as_str()) {
        ("apps", "statefulsets") => &[
            ("replicas", json!(1)),
            ("podManagementPolicy", json!("OrderedReady")),
            (
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            ),
            ("revisionHistoryLimit", json!(10)),
            (
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            ),
        ],
        ("apps", "deployments") => &[
            ("replicas", json!(1)),
            (
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
            ),
            ("revisionHistoryLimit", json!(10)),
            ("progressDeadlineSeconds", json!(600)),
        ],
        ("batch", "jobs") => &[
            ("parallelism", json!(1)),
            ("completions", json!(1)),
            ("backoffLimit", json!(6)),
            ("completionMode", json!("NonIndexed")),
            ("suspend", json!(false)),
        ],
        _ => return,
    };
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for (field, value) in defaults {
        if !spec.contains_key(*field) {
            spec.insert((*field).to_string(), value.clone());
        }
    }
    if rt.plural == "statefulsets"
        && let Some(strategy) = spec
            .get_mut("updateStrategy")
            .and_then(Value::as_object_mut)
        && strategy.get("type") == Some(&json!("RollingUpdate"))
    {
        let rolling = strategy.entry("rollingUpdate").or_insert_with(|| json!({}));
        if let Some(rolling) = rolling.as_object_mut() {
            rolling.entry("partition").or_insert(json!(0));
        }
    }
}

/// The status a new workload object starts with before its controller writes one.
pub fn default_status_on_create(rt: &ResourceType, object: &mut Value) {
    let status = match (rt.group.as_str(), rt.plural.as_str()) {
        ("apps", "statefulsets") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps", "replicasets") => json!({"replicas": 0}),
        ("policy", "poddisruptionbudgets") => {
            json!({"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})
        }
        _ => return,
    };
    if object.get("status").is_none_or(Value::is_null) {
        object["status"] = status;
    }
}

fn default_port_protocols(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields.iter_mut() {
                if key == "ports"
                    && let Value::Array(ports) = child
                {
                    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                        if (port.contains_key("containerPort") || port.contains_key("port"))
                            && !port.contains_key("protocol")
                        {
                            port.insert("protocol".into(), json!("TCP"));
                        }
                    }
                } else {
                    default_port_protocols(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(default_port_protocols),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;

    #[test]
    fn ports_get_a_protocol() {
        let rt = builtins().into_iter().find(|r| r.plural == "pods").unwrap();
        let mut pod =
            json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80}]}]}});
        default_builtin(&rt, &mut pod);
        assert_eq!(pod["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
    }

    #[test]
    fn a_rolling_update_gets_a_partition() {
        let rt = builtins()
            .into_iter()
            .find(|r| r.plural == "statefulsets")
            .unwrap();
        let mut set = json!({"spec": {"updateStrategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 2}}}});
        default_builtin(&rt, &mut set);
        assert_eq!(
            set["spec"]["updateStrategy"]["rollingUpdate"],
            json!({"maxUnavailable": 2, "partition": 0})
        );
    }
}
