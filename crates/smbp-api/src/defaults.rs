//! Default values of the API, in one place. Scalar defaults are also published in the CRD schema
//! (so `kubectl explain` and the API server show them); structured defaults such as security
//! contexts and resources are applied by the operator when a field is unset, because writing them
//! into every stored object would freeze today's choice into users' manifests.

use k8s_openapi::api::core::v1::{
    Capabilities, PodSecurityContext, ResourceRequirements, SeccompProfile, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// Time zone of a maintenance window when unset.
pub fn time_zone() -> String {
    "UTC".into()
}
/// Store replicas when unset.
pub fn store_replicas() -> i32 {
    3
}
/// Sync replicas when neither `replicas` nor `autoscaling` is set.
pub fn sync_replicas() -> i32 {
    2
}
/// Size of each store volume when unset.
pub fn store_storage_size() -> String {
    "10Gi".into()
}
/// Target CPU utilisation of the sync autoscaler when unset.
pub fn target_cpu_utilization() -> i32 {
    70
}
/// Partitions of the transaction-log topic when unset.
pub fn topic_partitions() -> i32 {
    12
}
/// Replication factor of the transaction-log topic when unset.
pub fn topic_replicas() -> i32 {
    3
}
/// Retention of the transaction-log topic when unset (7 days).
pub fn topic_retention() -> String {
    "168h".into()
}
/// Group of cert-manager issuers when unset.
pub fn issuer_group() -> String {
    "cert-manager.io".into()
}
/// Default of the `enabled`/`create` switches: on.
pub fn enabled() -> bool {
    true
}
/// ServiceMonitor scrape interval when unset.
pub fn scrape_interval() -> String {
    "30s".into()
}
/// Labels Grafana's dashboard sidecar looks for by default.
pub fn grafana_dashboard_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("grafana_dashboard".to_string(), "1".to_string())])
}
/// Store pods that may be down at once during an upgrade.
pub fn max_unavailable() -> i32 {
    1
}
/// How long a migration Job may run.
pub fn migration_timeout() -> String {
    "30m".into()
}
/// How long an updated pod may take to become ready.
pub fn pod_ready_timeout() -> String {
    "10m".into()
}
/// How long an updated store pod must be Ready before the next is updated.
pub fn min_ready_seconds() -> i32 {
    10
}
/// The sync/API port of the workload contract.
pub fn http_port() -> i32 {
    8080
}
/// The metrics port of the workload contract.
pub fn metrics_port() -> i32 {
    9090
}
/// The store replication port of the workload contract.
pub fn peer_port() -> i32 {
    7000
}
/// The liveness probe path of the workload contract.
pub fn liveness_path() -> String {
    "/healthz".into()
}
/// The readiness probe path of the workload contract.
pub fn readiness_path() -> String {
    "/readyz".into()
}
/// The migration command of the workload contract.
pub fn migration_command() -> Vec<String> {
    vec!["migrate".into()]
}

/// The pod security context used when `spec.security.podSecurityContext` is unset: non-root with
/// the runtime's default seccomp profile, and no fixed UID or GID, so OpenShift's restricted SCC
/// can assign its namespace range. `fsGroupChangePolicy: OnRootMismatch` keeps restarts of pods
/// with large volumes fast.
pub fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        fs_group_change_policy: Some("OnRootMismatch".into()),
        ..PodSecurityContext::default()
    }
}

/// The container security context used when `spec.security.containerSecurityContext` is unset:
/// everything the restricted Pod Security Standard requires, plus a read-only root filesystem.
pub fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..SecurityContext::default()
    }
}

/// Resources of a store pod when `spec.store.resources` is unset.
pub fn store_resources() -> ResourceRequirements {
    resources("500m", "1Gi", "2Gi")
}

/// Resources of a sync pod when `spec.sync.resources` is unset.
pub fn sync_resources() -> ResourceRequirements {
    resources("250m", "512Mi", "1Gi")
}

/// CPU and memory requested, and a memory limit (no CPU limit, to avoid throttling).
fn resources(cpu_request: &str, memory_request: &str, memory_limit: &str) -> ResourceRequirements {
    let quantities = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
            .collect::<BTreeMap<_, _>>()
    };
    ResourceRequirements {
        requests: Some(quantities(&[
            ("cpu", cpu_request),
            ("memory", memory_request),
        ])),
        limits: Some(quantities(&[("memory", memory_limit)])),
        ..ResourceRequirements::default()
    }
}
