//! Schemas of the built-in kinds the sim serves, generated from k8s-openapi's Rust types with
//! schemars (their `JsonSchema` impls carry upstream's descriptions) and named as upstream names
//! its definitions (`io.k8s.api.apps.v1.StatefulSet`), so no OpenAPI file is vendored.

use k8s_openapi::api::{
    admissionregistration, apps, autoscaling, batch, coordination, core, discovery, events,
    networking, policy, rbac, scheduling, storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Adds a type's schema (and all it references) to the generator; returns its `$ref` schema.
type Root = fn(&mut SchemaGenerator) -> Schema;

fn root<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Every built-in kind the sim serves: group, version, kind and its Rust type.
static KINDS: &[(&str, &str, &str, Root)] = &[
    ("", "v1", "Namespace", root::<core::v1::Namespace>),
    ("", "v1", "Node", root::<core::v1::Node>),
    ("", "v1", "Pod", root::<core::v1::Pod>),
    ("", "v1", "Service", root::<core::v1::Service>),
    ("", "v1", "Endpoints", root::<core::v1::Endpoints>),
    ("", "v1", "ConfigMap", root::<core::v1::ConfigMap>),
    ("", "v1", "Secret", root::<core::v1::Secret>),
    ("", "v1", "ServiceAccount", root::<core::v1::ServiceAccount>),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        root::<core::v1::PersistentVolumeClaim>,
    ),
    (
        "",
        "v1",
        "PersistentVolume",
        root::<core::v1::PersistentVolume>,
    ),
    ("", "v1", "Event", root::<core::v1::Event>),
    ("", "v1", "ResourceQuota", root::<core::v1::ResourceQuota>),
    ("", "v1", "LimitRange", root::<core::v1::LimitRange>),
    ("apps", "v1", "Deployment", root::<apps::v1::Deployment>),
    ("apps", "v1", "StatefulSet", root::<apps::v1::StatefulSet>),
    ("apps", "v1", "ReplicaSet", root::<apps::v1::ReplicaSet>),
    ("apps", "v1", "DaemonSet", root::<apps::v1::DaemonSet>),
    (
        "apps",
        "v1",
        "ControllerRevision",
        root::<apps::v1::ControllerRevision>,
    ),
    ("batch", "v1", "Job", root::<batch::v1::Job>),
    ("batch", "v1", "CronJob", root::<batch::v1::CronJob>),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        root::<policy::v1::PodDisruptionBudget>,
    ),
    (
        "networking.k8s.io",
        "v1",
        "Ingress",
        root::<networking::v1::Ingress>,
    ),
    (
        "networking.k8s.io",
        "v1",
        "IngressClass",
        root::<networking::v1::IngressClass>,
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        root::<networking::v1::NetworkPolicy>,
    ),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        root::<discovery::v1::EndpointSlice>,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        root::<rbac::v1::Role>,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        root::<rbac::v1::RoleBinding>,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        root::<rbac::v1::ClusterRole>,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        root::<rbac::v1::ClusterRoleBinding>,
    ),
    (
        "coordination.k8s.io",
        "v1",
        "Lease",
        root::<coordination::v1::Lease>,
    ),
    ("events.k8s.io", "v1", "Event", root::<events::v1::Event>),
    (
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        root::<scheduling::v1::PriorityClass>,
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        root::<autoscaling::v2::HorizontalPodAutoscaler>,
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        root::<storage::v1::StorageClass>,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        root::<admissionregistration::v1::ValidatingWebhookConfiguration>,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        root::<admissionregistration::v1::MutatingWebhookConfiguration>,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        root::<apiextensions::v1::CustomResourceDefinition>,
    ),
];

/// The definition name of a `$ref` schema (`#/definitions/io.k8s...` → `io.k8s...`).
pub fn referenced_name(reference: &Schema) -> String {
    let target = reference
        .get("$ref")
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    target.rsplit('/').next().unwrap_or_default().to_string()
}

/// Adds the schema of a built-in kind to the generator; returns its definition name, or None
/// when the sim does not serve that kind.
pub fn add(
    generator: &mut SchemaGenerator,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<String> {
    let (.., root) = KINDS
        .iter()
        .find(|(g, v, k, _)| (*g, *v, *k) == (group, version, kind))?;
    Some(referenced_name(&root(generator)))
}

/// Adds the object and list metadata every document needs; returns their definition names.
pub fn add_metadata(generator: &mut SchemaGenerator) -> (String, String) {
    (
        referenced_name(&root::<ObjectMeta>(generator)),
        referenced_name(&root::<ListMeta>(generator)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::generate::SchemaSettings;

    #[test]
    fn every_builtin_the_sim_serves_has_a_schema() {
        let mut generator = SchemaSettings::openapi3().into_generator();
        for rt in crate::resources::builtins() {
            let name = add(&mut generator, &rt.group, &rt.version, &rt.kind);
            assert!(
                name.is_some(),
                "no schema for {} {}",
                rt.api_version(),
                rt.kind
            );
        }
    }

    #[test]
    fn definitions_are_named_as_upstream() {
        let mut generator = SchemaSettings::openapi3().into_generator();
        let name = add(&mut generator, "apps", "v1", "StatefulSet").unwrap();
        assert_eq!(name, "io.k8s.api.apps.v1.StatefulSet");
        let definitions = generator.take_definitions(true);
        let replicas = &definitions[&*name]["properties"]["spec"];
        assert!(
            replicas
                .to_string()
                .contains("io.k8s.api.apps.v1.StatefulSetSpec")
        );
        assert!(definitions.contains_key("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
    }
}
