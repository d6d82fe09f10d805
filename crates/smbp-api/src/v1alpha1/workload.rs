//! `spec.workload`: overrides of the container contract (docs/workload-contract.md) for images
//! whose ports, probe paths or commands differ from the defaults.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The container contract. Every field has the documented default.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.httpPort != self.metricsPort && self.httpPort != self.peerPort && self.metricsPort != self.peerPort")
    .message("spec.workload ports must differ: httpPort, metricsPort and peerPort each need their own number"))]
pub struct WorkloadContract {
    /// Port of the sync and API endpoint. Defaults to 8080.
    #[serde(default = "crate::defaults::http_port")]
    #[schemars(range(min = 1024, max = 65535))]
    pub http_port: i32,
    /// Port of the Prometheus metrics endpoint. Defaults to 9090.
    #[serde(default = "crate::defaults::metrics_port")]
    #[schemars(range(min = 1024, max = 65535))]
    pub metrics_port: i32,
    /// Port of store replication. Defaults to 7000.
    #[serde(default = "crate::defaults::peer_port")]
    #[schemars(range(min = 1024, max = 65535))]
    pub peer_port: i32,
    /// HTTP path of the liveness probe. Defaults to `/healthz`.
    #[serde(default = "crate::defaults::liveness_path")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^/"))]
    pub liveness_path: String,
    /// HTTP path of the readiness probe. Defaults to `/readyz`.
    #[serde(default = "crate::defaults::readiness_path")]
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^/"))]
    pub readiness_path: String,
    /// Command of the migration Job; the operator appends `--phase pre` or `--phase post`.
    /// Defaults to `["migrate"]`.
    #[serde(default = "crate::defaults::migration_command")]
    #[schemars(length(min = 1, max = 16))]
    pub migration_command: Vec<String>,
}

impl Default for WorkloadContract {
    fn default() -> Self {
        Self {
            http_port: crate::defaults::http_port(),
            metrics_port: crate::defaults::metrics_port(),
            peer_port: crate::defaults::peer_port(),
            liveness_path: crate::defaults::liveness_path(),
            readiness_path: crate::defaults::readiness_path(),
            migration_command: crate::defaults::migration_command(),
        }
    }
}
