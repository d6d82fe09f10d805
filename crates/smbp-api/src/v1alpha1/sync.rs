//! `spec.sync`: the stateless sync tier devices connect to.

use super::{PodOverrides, Scheduling};
use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The sync tier: a Deployment behind a Service, with a fixed replica count or autoscaling.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.replicas) && has(self.autoscaling))")
    .message("spec.sync.replicas and spec.sync.autoscaling are mutually exclusive: remove replicas to autoscale, or remove autoscaling for a fixed count")
    .field_path(".replicas"))]
pub struct SyncSpec {
    /// Fixed number of sync pods. Defaults to 2 when `autoscaling` is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 500))]
    pub replicas: Option<i32>,

    /// Scale the sync tier on CPU with a HorizontalPodAutoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,

    /// CPU and memory requests and limits for each sync pod. Defaults to 250m CPU and 512Mi memory
    /// requested, 1Gi memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Where sync pods may run. Without affinity or topology spread constraints, the operator
    /// spreads sync pods across nodes and zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling: Option<Scheduling>,

    /// A partial pod template merged over the generated one (strategic-merge semantics, containers
    /// matched by name), for what the API does not model. Checked by the operator, not the CRD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_overrides: Option<PodOverrides>,
}

/// Autoscaling of the sync tier.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas")
    .message("spec.sync.autoscaling.minReplicas must not exceed maxReplicas: raise maxReplicas or lower minReplicas")
    .field_path(".minReplicas"))]
pub struct Autoscaling {
    /// Lower bound of sync pods.
    #[schemars(range(min = 1, max = 500))]
    pub min_replicas: i32,
    /// Upper bound of sync pods.
    #[schemars(range(min = 1, max = 500))]
    pub max_replicas: i32,
    /// Average CPU utilisation (percent of requests) the autoscaler aims for. Defaults to 70.
    #[serde(
        default = "crate::defaults::target_cpu_utilization",
        rename = "targetCPUUtilizationPercentage"
    )]
    #[schemars(range(min = 10, max = 100))]
    pub target_cpu_utilization_percentage: i32,
}

impl SyncSpec {
    /// The sync pods wanted before any autoscaler acts: `replicas`, the autoscaler's minimum, or
    /// the default of 2.
    pub fn desired_replicas(&self) -> i32 {
        self.replicas
            .or(self.autoscaling.as_ref().map(|a| a.min_replicas))
            .unwrap_or_else(crate::defaults::sync_replicas)
    }
}
