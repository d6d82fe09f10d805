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

/// Progress of a version upgrade. Everything the operator needs to resume an upgrade lives here,
/// so an operator restart at any moment continues exactly where it stopped.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    /// The current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<UpgradePhase>,
    /// The version the upgrade started from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The version the upgrade goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The required stops between `from` and `to`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stops: Vec<String>,
    /// The release being rolled out now: one of `stops`, or `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<String>,
    /// The release the pods ran before the current hop: what a rollback returns to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_from: Option<String>,
    /// The image (by digest) of `hopFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_from_image: Option<String>,
    /// The store StatefulSet's update partition: pods with this ordinal and above run `hop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_partition: Option<i32>,
    /// A short description of the step in progress, or of what the upgrade waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// When the step in progress started; step timeouts count from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_started_at: Option<Time>,
    /// With the `Manual` strategy: the step waiting for approval. Set the annotation
    /// `smbp.dev/approve-step` to this value to let it run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_approval: Option<String>,
    /// The migration Jobs of this upgrade that succeeded; none of them runs again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completed_migrations: Vec<String>,
    /// Why the upgrade is rolling back, rolled back or failed, and what to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the upgrade started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When `spec.upgrade.maintenanceWindow` is set and closed: when it opens next (RFC 3339,
    /// UTC), the earliest time an upgrade can start. Unset while the window is open and when no
    /// window is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_maintenance_window: Option<Time>,
    /// How many upgrades have ended, whatever their outcome. Numbers the migration Jobs of the
    /// next one, so every upgrade and retry gets fresh Jobs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub finished_upgrades: u32,
    /// The last upgrades (at most 10), newest first, with their outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<UpgradeRecord>,
}

/// The phase of a version upgrade.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpgradePhase {
    /// The version changed; the upgrade waits to start (maintenance window, pause or approval).
    Pending,
    /// Pre-flight checks run; nothing has changed yet.
    Preflight,
    /// The expand migration Job of the current hop runs; pods still run the previous version.
    PreMigration,
    /// Store pods are updated one partition step at a time, highest ordinal first.
    RollingStore,
    /// The sync Deployment rolls out the new version.
    RollingSync,
    /// The contract migration Job runs; past this point there is no rollback.
    PostMigration,
    /// Every hop is done: all pods run the target version.
    Completed,
    /// A step failed; already-updated pods return to the previous version.
    RollingBack,
    /// The rollback finished: all pods run the previous version again.
    RolledBack,
    /// The upgrade cannot continue and cannot roll back; see `message`.
    Failed,
}

impl UpgradePhase {
    /// Whether the upgrade has ended (no step remains).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::RolledBack | Self::Failed)
    }

    /// The phase's name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Preflight => "Preflight",
            Self::PreMigration => "PreMigration",
            Self::RollingStore => "RollingStore",
            Self::RollingSync => "RollingSync",
            Self::PostMigration => "PostMigration",
            Self::Completed => "Completed",
            Self::RollingBack => "RollingBack",
            Self::RolledBack => "RolledBack",
            Self::Failed => "Failed",
        }
    }
}

impl std::fmt::Display for UpgradePhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finished upgrade.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRecord {
    /// The version upgraded from.
    pub from: String,
    /// The version upgraded to.
    pub to: String,
    /// `Completed`, `RolledBack` or `Failed`.
    pub outcome: UpgradePhase,
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

fn is_zero(n: &u32) -> bool {
    *n == 0
}
