//! The type check of built-ins: a body is decoded into its k8s-openapi type, as kube-apiserver
//! decodes it into its Go type; a field of the wrong type fails the decoding.

use crate::resources::ResourceType;
use serde_json::Value;

/// Decodes `object` as `T`, the way kube-apiserver decodes a body into its Go type.
fn decodes<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(object.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Decodes a built-in into its k8s-openapi type.
pub fn type_check(rt: &ResourceType, object: &Value) -> Result<(), String> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch,
        coordination::v1 as coordination, core::v1 as core, events::v1 as events,
        networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
        scheduling::v1 as scheduling,
    };
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "ConfigMap") => decodes::<core::ConfigMap>(object),
        ("", "Secret") => decodes::<core::Secret>(object),
        ("", "Pod") => decodes::<core::Pod>(object),
        ("", "Service") => decodes::<core::Service>(object),
        ("", "ServiceAccount") => decodes::<core::ServiceAccount>(object),
        ("", "PersistentVolumeClaim") => decodes::<core::PersistentVolumeClaim>(object),
        ("", "Namespace") => decodes::<core::Namespace>(object),
        ("", "Node") => decodes::<core::Node>(object),
        ("", "Event") => decodes::<core::Event>(object),
        ("", "ResourceQuota") => decodes::<core::ResourceQuota>(object),
        ("", "LimitRange") => decodes::<core::LimitRange>(object),
        ("scheduling.k8s.io", "PriorityClass") => decodes::<scheduling::PriorityClass>(object),
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
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;
    use serde_json::json;

    #[test]
    fn wrong_types_in_builtins_are_refused() {
        let rt = builtins()
            .into_iter()
            .find(|r| r.plural == "configmaps")
            .unwrap();
        let object = json!({"metadata": {"name": "c"}, "data": {"e": 7}});
        assert!(type_check(&rt, &object).is_err());
        let object = json!({"metadata": {"name": "c"}, "data": {"e": "7"}});
        assert!(type_check(&rt, &object).is_ok());
    }
}
