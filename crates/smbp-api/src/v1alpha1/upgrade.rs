//! `spec.upgrade`: how a change of `spec.version` is rolled out.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// How version upgrades are rolled out.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeSpec {
    /// `RollingUpdate` (default) proceeds automatically; `Manual` waits before every step until
    /// the annotation `smbp.dev/approve-step` equals the step named in
    /// `status.upgrade.awaitingApproval`.
    #[serde(default)]
    pub strategy: UpgradeStrategy,

    /// Store pods that may be down at once during an upgrade. Defaults to 1.
    #[serde(default = "crate::defaults::max_unavailable")]
    #[schemars(range(min = 1, max = 7))]
    pub max_unavailable: i32,

    /// How long a migration Job may run before the upgrade fails. Defaults to 30m.
    #[serde(default = "crate::defaults::migration_timeout")]
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('1m') && self <= duration('24h')")
        .message("spec.upgrade.migrationTimeout must be between 1m and 24h"))]
    pub migration_timeout: String,

    /// How long an updated pod may take to become ready before the step fails. Defaults to 10m.
    #[serde(default = "crate::defaults::pod_ready_timeout")]
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('30s') && self <= duration('6h')")
        .message("spec.upgrade.podReadyTimeout must be between 30s and 6h"))]
    pub pod_ready_timeout: String,

    /// How long an updated store pod must stay Ready before the next one is updated (and the
    /// StatefulSet's `minReadySeconds`). Defaults to 10.
    #[serde(default = "crate::defaults::min_ready_seconds")]
    #[schemars(range(min = 0, max = 3600))]
    pub min_ready_seconds: i32,

    /// Roll already-updated pods back to the previous version when a step fails before the post
    /// migration. Defaults to true.
    #[serde(default = "crate::defaults::enabled")]
    pub auto_rollback: bool,

    /// Stop the upgrade at the next safe point; set back to false to resume.
    #[serde(default)]
    pub paused: bool,

    /// Start upgrades only inside this window. Unset means any time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<MaintenanceWindow>,
}

impl Default for UpgradeSpec {
    fn default() -> Self {
        Self {
            strategy: UpgradeStrategy::default(),
            max_unavailable: crate::defaults::max_unavailable(),
            migration_timeout: crate::defaults::migration_timeout(),
            pod_ready_timeout: crate::defaults::pod_ready_timeout(),
            min_ready_seconds: crate::defaults::min_ready_seconds(),
            auto_rollback: true,
            paused: false,
            maintenance_window: None,
        }
    }
}

/// How an upgrade advances between steps.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum UpgradeStrategy {
    /// Advance automatically when each step is healthy.
    #[default]
    RollingUpdate,
    /// Wait for the `smbp.dev/approve-step` annotation before each step.
    Manual,
}

/// A weekly window, in local time of an IANA time zone (UTC by default), in which an upgrade may
/// start. An upgrade that has started runs to completion even past the window's end. The window
/// is open while the zone's wall clock shows a time from `start` to `start` + `duration` on one
/// of `days`: on a daylight-saving change, a start the clocks skip (02:30 when they jump from
/// 02:00 to 03:00) opens the window when the clocks jump; a start the clocks pass twice opens it
/// at the first pass; a window closes when the clocks go back to before its start, and does not
/// reopen that day; one lying wholly in the skipped hour does not open that day.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    /// Days of the week the window opens, each at most once. Unset means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 7), extend("x-kubernetes-list-type" = "set"))]
    pub days: Vec<Weekday>,

    /// Opening time, `HH:MM` on the wall clock of `timeZone`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,

    /// The IANA time zone `days` and `start` are in (for example `Europe/Berlin`). Defaults to
    /// `UTC`. The operator carries its own copy of the time zone database, so it needs none on
    /// the nodes; an unknown name is refused when the BigPeer is applied.
    #[serde(default = "crate::defaults::time_zone")]
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: String,

    /// Length of the window (for example `4h`), on the wall clock: a window from 02:00 for 2h
    /// closes at 04:00 local time, even on a day the clocks change.
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('30m') && self <= duration('168h')")
        .message("spec.upgrade.maintenanceWindow.duration must be between 30m and 168h"))]
    pub duration: String,
}

/// A day of the week.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}
