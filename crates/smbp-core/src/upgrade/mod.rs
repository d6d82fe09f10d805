//! The upgrade state machine: given a BigPeer's spec, its persisted `status.upgrade` and what the
//! operator observed (pods, migration Jobs, the transaction log, the certificate, the disruption
//! budget), [`plan`] returns the next state, what the workloads must run ([`Rollout`]), the
//! condition and Events to report, and pods to delete. Pure: every bit of progress lives in the
//! returned status, so an operator restarted at any moment resumes where it was.
//!
//! Phases: Pending → Preflight → (per hop: PreMigration → RollingStore → RollingSync →
//! PostMigration) → Completed; a failure before a hop's post migration → RollingBack →
//! RolledBack; a failure at or after it → Failed. docs/upgrades.md is the user's guide.

mod machine;
pub mod observe;
mod phases;
pub mod preflight;
pub mod steps;
pub mod window;
mod workloads;

pub use machine::plan;
pub use preflight::CHECKS;

use crate::build::Rollout;
use jiff::Timestamp;
use smbp_api::v1alpha1::{BigPeerSpec, UpgradeStatus};
use std::collections::BTreeMap;
use std::time::Duration;

/// The annotation that approves the step named in `status.upgrade.awaitingApproval` (Manual
/// strategy).
pub const APPROVE_ANNOTATION: &str = "smbp.dev/approve-step";
/// The annotation that retries a rolled-back or failed upgrade: set it to the target version.
/// The operator removes it when the new attempt starts.
pub const RETRY_ANNOTATION: &str = "smbp.dev/retry-upgrade";
/// How many finished upgrades `status.upgrade.history` keeps.
pub const HISTORY_LIMIT: usize = 10;

/// One pod of the store or the sync tier, as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFacts {
    /// The pod's name.
    pub name: String,
    /// The StatefulSet ordinal (store pods only).
    pub ordinal: Option<i32>,
    /// The release it runs (its `app.kubernetes.io/version` label).
    pub version: Option<String>,
    /// Since when it is Ready; `None` when not Ready.
    pub ready_since: Option<Timestamp>,
    /// Whether it is being deleted.
    pub terminating: bool,
}

/// How a migration Job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFacts {
    /// Created, not finished.
    Running,
    /// Its `Complete` condition is True.
    Succeeded,
    /// Its `Failed` condition is True, with the condition's reason and message.
    Failed {
        /// The condition's reason (`BackoffLimitExceeded`, `DeadlineExceeded`, ...).
        reason: String,
        /// The condition's message.
        message: String,
    },
}

/// What the operator observed that the upgrade depends on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct World {
    /// The store's pods.
    pub store_pods: Vec<PodFacts>,
    /// The sync tier's pods.
    pub sync_pods: Vec<PodFacts>,
    /// The sync Deployment's desired replicas (the autoscaler's choice when it scales).
    pub sync_replicas: i32,
    /// Set when the sync Deployment reports `ProgressDeadlineExceeded`, with its message.
    pub sync_stalled: Option<String>,
    /// Migration Jobs that exist, by name.
    pub jobs: BTreeMap<String, JobFacts>,
    /// Why the transaction log is not ready; `None` when it is.
    pub transaction_log_not_ready: Option<String>,
    /// When the serving certificate expires, when TLS is managed and known.
    pub certificate_not_after: Option<Timestamp>,
    /// The store PodDisruptionBudget's `disruptionsAllowed`, once reported.
    pub disruptions_allowed: Option<i32>,
}

/// Everything [`plan`] decides from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The BigPeer's name (for Job names).
    pub name: &'a str,
    /// The spec.
    pub spec: &'a BigPeerSpec,
    /// The BigPeer's annotations (approval and retry).
    pub annotations: &'a BTreeMap<String, String>,
    /// `status.version.current`: the release every pod ran when last settled.
    pub current: Option<&'a str>,
    /// `status.version.image`: the image of `current`.
    pub current_image: Option<&'a str>,
    /// The persisted `status.upgrade`.
    pub status: Option<&'a UpgradeStatus>,
    /// What was observed.
    pub world: &'a World,
    /// Now.
    pub now: Timestamp,
}

/// The `Upgrading` condition, as decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeCondition {
    /// True while an upgrade is under way (including waiting to start).
    pub upgrading: bool,
    /// A CamelCase reason: the phase, or what the upgrade waits for.
    pub reason: String,
    /// For people.
    pub message: String,
}

/// An Event to publish about the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeEvent {
    /// Whether it is a Warning (else Normal).
    pub warning: bool,
    /// The Event's reason.
    pub reason: &'static str,
    /// The Event's note.
    pub message: String,
}

/// What [`plan`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The new `status.upgrade` (unset while no upgrade ever happened).
    pub status: Option<UpgradeStatus>,
    /// The release every pod runs once settled, when this decision changed it (a hop finished).
    pub current: Option<crate::build::ReleaseImage>,
    /// What the workloads run and which migration Jobs exist.
    pub rollout: Rollout,
    /// The `Upgrading` condition.
    pub condition: UpgradeCondition,
    /// Events for the phase changes and failures of this decision.
    pub events: Vec<UpgradeEvent>,
    /// Pods to delete: updated store pods that are not Ready during a rollback (a StatefulSet
    /// does not replace a broken pod on its own).
    pub delete_pods: Vec<String>,
    /// Whether the retry annotation was used and should be removed.
    pub consume_retry: bool,
    /// When to look again at the latest, when time alone moves the upgrade on.
    pub requeue: Option<Duration>,
}
