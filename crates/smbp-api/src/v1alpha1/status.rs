//! `status`: what the operator observed and did. Written only by the operator (its own field
//! manager); every condition carries the generation it was computed from.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The observed state of a BigPeer.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BigPeerStatus {
    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// A one-word summary of the lifecycle, for people and printer columns; automation should
    /// read `conditions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,

    /// Standard conditions: Ready, Available, Progressing, Degraded, Upgrading,
    /// TransactionLogReady, CertificateReady, ExposureReady, MonitoringReady, ReconcilePaused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// The version pods run and the version being rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionStatus>,

    /// Replica counts of the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<ComponentStatus>,

    /// Replica counts of the sync tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<ComponentStatus>,

    /// Where clients reach the sync tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,

    /// Progress of the current upgrade and a short history of past ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeStatus>,
}

/// A one-word lifecycle summary.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Accepted; nothing created yet.
    Pending,
    /// Children are being created and have not all become ready.
    Provisioning,
    /// Every component is ready.
    Running,
    /// A version upgrade is in progress.
    Upgrading,
    /// Running, but some component is not fully ready.
    Degraded,
    /// The spec cannot be reconciled until it changes; see conditions.
    Failed,
}

/// The running and target product versions.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VersionStatus {
    /// The version every pod runs (unset until the first rollout completes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The version being rolled out (equal to `current` when no rollout is in progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The image reference (by digest) the pods of `current` run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// Replica counts of one component.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    /// Desired replicas.
    pub replicas: i32,
    /// Replicas passing their readiness probe.
    pub ready_replicas: i32,
    /// Replicas running the target version.
    pub updated_replicas: i32,
}

/// Where clients reach the sync tier.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// In-cluster DNS name and port of the client Service (`host:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Addresses reachable from outside the cluster, with how each is provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external: Vec<ExternalEndpoint>,
}

/// One externally reachable address.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalEndpoint {
    /// What provides it: `LoadBalancer`, `NodePort`, `Ingress` or `Gateway`.
    pub source: String,
    /// Host name or IP address, with the port when not the scheme's default.
    pub address: String,
}

/// Progress of a version upgrade.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    /// The current phase (Pending, Preflight, PreMigration, RollingStore, RollingSync,
    /// PostMigration, Completed, RollingBack, RolledBack, Failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The version the upgrade started from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The version the upgrade goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The required stops between `from` and `to`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stops: Vec<String>,
    /// A short description of the step in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When the upgrade started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// The last upgrades, newest first, with their outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<UpgradeRecord>,
}

/// One finished upgrade.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRecord {
    /// The version upgraded from.
    pub from: String,
    /// The version upgraded to.
    pub to: String,
    /// `Completed`, `RolledBack` or `Failed`.
    pub outcome: String,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Time>,
    /// Why it ended that way, for RolledBack and Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
