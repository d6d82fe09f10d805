//! Validation and defaulting of built-in objects and of every object's metadata: names, the type
//! of every field (by decoding into the k8s-openapi type, as kube-apiserver decodes into its Go
//! type), and the few server defaults the simulated controllers and SSA keys rely on.

use crate::error::Cause;
use crate::resources::ResourceType;
use serde_json::{Value, json};

const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn is_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_label)
}

/// Metadata rules every object obeys: a valid name (a DNS label for namespaces and services, a
/// DNS subdomain otherwise).
pub fn metadata(rt: &ResourceType, object: &Value, _old: Option<&Value>) -> Vec<Cause> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let label_only = rt.group.is_empty() && (rt.plural == "namespaces" || rt.plural == "services");
    let (ok, message) = if label_only {
        (is_label(name), LABEL_MESSAGE)
    } else {
        (is_subdomain(name), SUBDOMAIN_MESSAGE)
    };
    if ok {
        Vec::new()
    } else {
        vec![Cause::new(
            "FieldValueInvalid",
            "metadata.name",
            format!("Invalid value: {name:?}: {message}"),
        )]
    }
}

/// Decodes `object` as `T`, the way kube-apiserver decodes a body into its Go type.
fn decodes<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(object.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The type check of a built-in object: every field must have the type Kubernetes declares.
pub fn builtin(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = type_check(rt, object);
    if let Some(old) = old {
        causes.extend(immutable_fields(rt, object, old));
    }
    causes
}

/// The spec fields of a StatefulSet an update may change; kube-apiserver forbids every other.
const STATEFULSET_MUTABLE: [&str; 7] = [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// The update rules of built-ins with immutable parts: a StatefulSet's spec beyond
/// [`STATEFULSET_MUTABLE`] (volume claim templates, selector, service name, pod management
/// policy), with the recorded message.
fn immutable_fields(rt: &ResourceType, object: &Value, old: &Value) -> Vec<Cause> {
    if (rt.group.as_str(), rt.kind.as_str()) != ("apps", "StatefulSet") {
        return Vec::new();
    }
    let frozen = |o: &Value| {
        let mut spec = o.get("spec").cloned().unwrap_or(Value::Null);
        if let Some(map) = spec.as_object_mut() {
            for field in STATEFULSET_MUTABLE {
                map.remove(field);
            }
        }
        spec
    };
    if frozen(object) == frozen(old) {
        return Vec::new();
    }
    vec![Cause::new(
        "FieldValueForbidden",
        "spec",
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

/// Decodes a built-in into its k8s-openapi type.
fn type_check(rt: &ResourceType, object: &Value) -> Vec<Cause> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch,
        coordination::v1 as coordination, core::v1 as core, events::v1 as events,
        networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
    };
    let result = match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "ConfigMap") => decodes::<core::ConfigMap>(object),
        ("", "Secret") => decodes::<core::Secret>(object),
        ("", "Pod") => decodes::<core::Pod>(object),
        ("", "Service") => decodes::<core::Service>(object),
        ("", "ServiceAccount") => decodes::<core::ServiceAccount>(object),
        ("", "PersistentVolumeClaim") => decodes::<core::PersistentVolumeClaim>(object),
        ("", "Namespace") => decodes::<core::Namespace>(object),
        ("", "Node") => decodes::<core::Node>(object),
        ("", "Event") => decodes::<core::Event>(object),
        ("apps", "Deployment") => decodes::<apps::Deployment>(object),
        ("apps", "StatefulSet") => decodes::<apps::StatefulSet>(object),
        ("apps", "ReplicaSet") => decodes::<apps::ReplicaSet>(object),
        ("batch", "Job") => decodes::<batch::Job>(object),
        ("policy", "PodDisruptionBudget") => decodes::<policy::PodDisruptionBudget>(object),
        ("networking.k8s.io", "Ingress") => decodes::<networking::Ingress>(object),
        ("networking.k8s.io", "NetworkPolicy") => decodes::<networking::NetworkPolicy>(object),
        ("coordination.k8s.io", "Lease") => decodes::<coordination::Lease>(object),
        ("events.k8s.io", "Event") => decodes::<events::Event>(object),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            decodes::<autoscaling::HorizontalPodAutoscaler>(object)
        }
        ("rbac.authorization.k8s.io", "Role") => decodes::<rbac::Role>(object),
        ("rbac.authorization.k8s.io", "RoleBinding") => decodes::<rbac::RoleBinding>(object),
        ("rbac.authorization.k8s.io", "ClusterRole") => decodes::<rbac::ClusterRole>(object),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            decodes::<rbac::ClusterRoleBinding>(object)
        }
        _ => Ok(()),
    };
    match result {
        Ok(()) => Vec::new(),
        Err(message) => vec![Cause::new(
            "FieldValueInvalid",
            "<body>",
            format!("Invalid value: {}", message),
        )],
    }
}

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
        && !strategy.contains_key("rollingUpdate")
    {
        strategy.insert("rollingUpdate".into(), json!({"partition": 0}));
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

    fn rt(plural: &str) -> ResourceType {
        builtins().into_iter().find(|r| r.plural == plural).unwrap()
    }

    #[test]
    fn names_follow_the_resource_rules() {
        let ok = json!({"metadata": {"name": "a.b-c"}});
        assert!(metadata(&rt("configmaps"), &ok, None).is_empty());
        assert_eq!(metadata(&rt("namespaces"), &ok, None).len(), 1);
        let bad = json!({"metadata": {"name": "Bad_Name"}});
        assert_eq!(
            metadata(&rt("configmaps"), &bad, None)[0].field,
            "metadata.name"
        );
    }

    #[test]
    fn wrong_types_in_builtins_are_refused() {
        let object = json!({"metadata": {"name": "c"}, "data": {"e": 7}});
        assert_eq!(builtin(&rt("configmaps"), &object, None).len(), 1);
        let object = json!({"metadata": {"name": "c"}, "data": {"e": "7"}});
        assert!(builtin(&rt("configmaps"), &object, None).is_empty());
    }

    #[test]
    fn statefulset_updates_outside_the_mutable_fields_are_forbidden() {
        let sts = |replicas: i32, storage: &str| {
            json!({"metadata": {"name": "web"}, "spec": {
                "replicas": replicas, "serviceName": "web",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"resources": {"requests": {"storage": storage}}}}]}})
        };
        let old = sts(3, "1Gi");
        assert!(builtin(&rt("statefulsets"), &sts(5, "1Gi"), Some(&old)).is_empty());
        let causes = builtin(&rt("statefulsets"), &sts(3, "2Gi"), Some(&old));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].reason, "FieldValueForbidden");
        assert!(
            causes[0]
                .message
                .contains("'persistentVolumeClaimRetentionPolicy'")
        );
    }

    #[test]
    fn ports_get_a_protocol() {
        let mut pod =
            json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80}]}]}});
        default_builtin(&rt("pods"), &mut pod);
        assert_eq!(pod["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
    }
}
