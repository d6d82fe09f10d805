//! `spec.security`: security contexts, NetworkPolicies and the service account. The defaults
//! (see `crate::defaults`) meet the Kubernetes *restricted* Pod Security Standard without fixed
//! UIDs, so OpenShift's `restricted-v2` SCC admits the pods unchanged.

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Security settings of every pod the operator runs.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySpec {
    /// Pod security context of store, sync and migration pods. Replaces the default (non-root,
    /// `RuntimeDefault` seccomp, no fixed UID) when set; checked against `podSecurityStandard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<PodSecurityContext>,

    /// Security context of every container. Replaces the default (no privilege escalation, all
    /// capabilities dropped, read-only root filesystem, non-root) when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_security_context: Option<SecurityContext>,

    /// NetworkPolicies for store and sync pods.
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub network_policy: NetworkPolicySpec,

    /// The service account the pods run as.
    #[serde(default)]
    // The default is written out in full: kube-apiserver checks a default against the CEL rules
    // as written, before nested defaults apply, so `{}` would fail `self.create`.
    #[schemars(extend("default" = {"create": true}))]
    pub service_account: ServiceAccountSpec,

    /// The Pod Security Standard the pods must meet, with `podSecurityContext`,
    /// `containerSecurityContext` and `podOverrides` applied. `Restricted` (the default) refuses
    /// a spec that breaks the restricted standard; `Baseline` refuses only what breaks the
    /// baseline standard (privileged containers, host namespaces, added capabilities beyond the
    /// baseline set, `Unconfined` seccomp) and warns about the rest; `Privileged` only warns.
    /// Relax it only for namespaces whose `pod-security.kubernetes.io/enforce` label allows it.
    #[serde(default)]
    pub pod_security_standard: PodSecurityStandard,
}

/// A Pod Security Standard level (`pod-security.kubernetes.io/enforce`).
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum PodSecurityStandard {
    /// Current pod hardening best practices: non-root, no privilege escalation, all
    /// capabilities dropped, `RuntimeDefault` or `Localhost` seccomp.
    #[default]
    Restricted,
    /// Prevents known privilege escalations: no privileged containers or host namespaces.
    Baseline,
    /// Unrestricted; the operator only warns.
    Privileged,
}

/// NetworkPolicy generation: store pods accept traffic only from store and sync pods; sync pods
/// accept device traffic from `syncFrom`; metrics only from `metricsFrom`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// Create the NetworkPolicies. Defaults to true.
    #[serde(default = "crate::defaults::enabled")]
    pub enabled: bool,

    /// Who may reach the sync port. Unset allows every source (the sync port is the public
    /// endpoint); list your ingress controller's or gateway's namespace to restrict it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub sync_from: Vec<NetworkPolicyPeer>,

    /// Namespaces allowed to scrape the metrics port. Unset allows namespaces labelled
    /// `kubernetes.io/metadata.name: monitoring`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_from: Option<LabelSelector>,
}

impl Default for NetworkPolicySpec {
    fn default() -> Self {
        Self {
            enabled: true,
            sync_from: Vec::new(),
            metrics_from: None,
        }
    }
}

/// The pods' service account.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.create || has(self.name)")
    .message("spec.security.serviceAccount.name is required when create is false: name the existing service account to use"))]
pub struct ServiceAccountSpec {
    /// Create a service account for the BigPeer. Defaults to true; set false to use an existing
    /// one named in `name`.
    #[serde(default = "crate::defaults::enabled")]
    pub create: bool,
    /// Name of the service account. Defaults to the BigPeer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub name: Option<String>,
    /// Annotations for a created service account (for example IRSA's
    /// `eks.amazonaws.com/role-arn` or GKE Workload Identity).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Default for ServiceAccountSpec {
    fn default() -> Self {
        Self {
            create: true,
            name: None,
            annotations: BTreeMap::new(),
        }
    }
}
