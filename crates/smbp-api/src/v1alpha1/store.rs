//! `spec.store`: the replicated document store, a StatefulSet with one volume per replica.

use super::{PodOverrides, Scheduling};
use crate::defaults;
use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The replicated document store.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoreSpec {
    /// Number of store replicas. Use an odd number (3 or 5) for a replicated production store.
    #[serde(default = "defaults::store_replicas")]
    #[schemars(range(min = 1, max = 15))]
    pub replicas: i32,

    /// The volume each store replica keeps its data on.
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub storage: StoreStorage,

    /// CPU and memory requests and limits for each store pod. Defaults to 500m CPU and 1Gi memory
    /// requested, 2Gi memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Where store pods may run. Without affinity or topology spread constraints, the operator
    /// spreads store pods across nodes and zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<Scheduling>,

    /// A partial pod template merged over the generated one (strategic-merge semantics, containers
    /// matched by name), for what the API does not model. Checked by the operator, not the CRD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_overrides: Option<PodOverrides>,
}

impl Default for StoreSpec {
    fn default() -> Self {
        Self {
            replicas: defaults::store_replicas(),
            storage: StoreStorage::default(),
            resources: None,
            scheduling: None,
            pod_overrides: None,
        }
    }
}

/// The volume of each store replica.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)")
    .message("spec.store.storage.storageClassName is immutable: existing volumes cannot move to another storage class; keep the current value, or create a new BigPeer and migrate the data")
    .field_path(".storageClassName")
    .reason(Reason::FieldValueForbidden))]
pub struct StoreStorage {
    /// Size of each replica's volume (a quantity such as `50Gi`). May grow (when the storage class
    /// allows volume expansion) but never shrink.
    #[serde(default = "defaults::store_storage_size")]
    #[schemars(schema_with = "crate::schema::quantity")]
    #[x_kube(
        validation = Rule::new("!isQuantity(self) || quantity(self).isGreaterThan(quantity('0'))").message("spec.store.storage.size must be larger than zero, for example 10Gi"),
        validation = Rule::new("!isQuantity(self) || !isQuantity(oldSelf) || quantity(self).compareTo(quantity(oldSelf)) >= 0")
            .message("spec.store.storage.size cannot shrink (Kubernetes volumes only grow): set it back to the current size or larger")
            .reason(Reason::FieldValueForbidden),
    )]
    pub size: String,

    /// StorageClass of the volumes. Unset uses the cluster's default class. Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class_name: Option<String>,

    /// What happens to the volumes when the BigPeer is deleted or scaled down. Both default to
    /// `Retain`: no data is deleted unless you say so here.
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub retention: VolumeRetention,
}

impl Default for StoreStorage {
    fn default() -> Self {
        Self {
            size: defaults::store_storage_size(),
            storage_class_name: None,
            retention: VolumeRetention::default(),
        }
    }
}

/// The retention of store volumes, mapped onto the StatefulSet's
/// `persistentVolumeClaimRetentionPolicy`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VolumeRetention {
    /// What happens to the volumes when the BigPeer is deleted. Defaults to `Retain`.
    #[serde(default)]
    pub when_deleted: RetentionPolicy,
    /// What happens to the volume of a replica removed by scaling down. Defaults to `Retain`.
    #[serde(default)]
    pub when_scaled: RetentionPolicy,
}

/// Whether a volume outlives the pod it belonged to.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum RetentionPolicy {
    /// Keep the volume and its data.
    #[default]
    Retain,
    /// Delete the volume and its data.
    Delete,
}
