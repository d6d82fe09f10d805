//! Pod placement (`scheduling`) and free-form pod template overrides (`podOverrides`), shared by
//! the store and sync sections.

use k8s_openapi::api::core::v1::{Affinity, PodTemplateSpec, Toleration, TopologySpreadConstraint};
use kube::KubeSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// Where a component's pods may run.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Scheduling {
    /// Node labels a pod's node must carry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,

    /// Taints the pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub tolerations: Vec<Toleration>,

    /// Node and pod affinity (a Kubernetes `Affinity`). Replaces the operator's default
    /// anti-affinity when set. Free-form in the CRD to keep it small; the operator checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Embedded<Affinity>>,

    /// How pods spread across topology domains. Replaces the operator's default spread over
    /// nodes and zones when set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,

    /// PriorityClass of the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub priority_class_name: Option<String>,
}

/// A partial Kubernetes pod template (`metadata` and `spec`) merged over the one the operator
/// generates.
pub type PodOverrides = Embedded<PodTemplateSpec>;

/// A Kubernetes object of type `T` embedded in the spec, kept free-form in the CRD (whose full
/// schema would make the CRD several times larger) and parsed by the operator's semantic
/// validation, which reports the field that does not fit `T`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(transparent)]
pub struct Embedded<T> {
    raw: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    kind: PhantomData<T>,
}

impl<T: DeserializeOwned> Embedded<T> {
    /// Wraps a raw JSON object.
    pub fn new(raw: serde_json::Map<String, serde_json::Value>) -> Self {
        Self {
            raw,
            kind: PhantomData,
        }
    }

    /// The raw JSON object as the user wrote it.
    pub fn raw(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.raw
    }

    /// Parses the object as `T`.
    pub fn parse(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(serde_json::Value::Object(self.raw.clone()))
    }
}

impl<T> schemars::JsonSchema for Embedded<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EmbeddedObject".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::schema::free_form_object(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_objects_keep_what_the_user_wrote_and_parse_on_demand() {
        let raw: Embedded<Affinity> =
            serde_json::from_str(r#"{"nodeAffinity": {"unknownField": 1}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&raw).unwrap(),
            r#"{"nodeAffinity":{"unknownField":1}}"#
        );
        assert!(raw.parse().unwrap().node_affinity.is_some());
        let bad: Embedded<Affinity> = serde_json::from_str(r#"{"nodeAffinity": 3}"#).unwrap();
        assert!(bad.parse().is_err());
    }
}
