//! The engine of the upgrade state machine: [`plan`] applies transitions (the phases are in
//! `phases.rs`) until the upgrade has to wait for the world — a pod, a Job, the clock, a person —
//! then derives what the workloads run (`workloads.rs`) and the condition and Events. Here too:
//! the shared helpers every phase uses (step clock, transitions, pause and approval gates, the
//! end of an upgrade and its history).

use super::window::{self, WindowState};
use super::{APPROVE_ANNOTATION, Decision, HISTORY_LIMIT, Inputs, UpgradeCondition, UpgradeEvent};
use crate::build::{MigrationPhase, Names, ReleaseImage};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use smbp_api::v1alpha1::{
    UpgradePhase, UpgradeRecord, UpgradeSpec, UpgradeStatus, UpgradeStrategy,
};
use std::time::Duration;

/// A guard against a transition loop; a whole upgrade pass needs far fewer.
const MAX_TRANSITIONS: usize = 32;
/// How soon to look again while waiting for something no watch reports.
pub(super) const POLL: Duration = Duration::from_secs(5);
/// The longest a BigPeer with a maintenance window goes without its window being looked at.
const WINDOW_POLL: Duration = Duration::from_secs(3600);
/// Extra time a migration Job gets beyond its own deadline before the operator gives up on it.
pub(super) const JOB_GRACE: SignedDuration = SignedDuration::from_secs(60);

/// Decides the next state of the upgrade. See the module header of [`super`].
pub fn plan(inputs: &Inputs) -> Decision {
    let mut machine = Machine::new(inputs);
    let mut wait = None;
    for _ in 0..MAX_TRANSITIONS {
        if let Step::Wait(w) = machine.step() {
            wait = Some(w);
            break;
        }
    }
    let wait = wait.unwrap_or_else(|| Wait::active("Looping", "the upgrade did not settle"));
    machine.conclude(wait)
}

/// What the upgrade waits for.
pub(super) struct Wait {
    pub(super) upgrading: bool,
    pub(super) reason: String,
    pub(super) step: String,
    pub(super) requeue: Option<Duration>,
    /// An Event to publish when this wait is new (its step text differs from the stored one).
    pub(super) event: Option<(bool, &'static str)>,
}

impl Wait {
    pub(super) fn active(reason: &str, step: impl Into<String>) -> Self {
        Wait {
            upgrading: true,
            reason: reason.into(),
            step: step.into(),
            requeue: Some(POLL),
            event: None,
        }
    }

    pub(super) fn idle(reason: &str, message: impl Into<String>) -> Self {
        Wait {
            upgrading: false,
            requeue: None,
            ..Wait::active(reason, message)
        }
    }

    pub(super) fn requeue(mut self, after: Option<Duration>) -> Self {
        self.requeue = after;
        self
    }

    pub(super) fn announce(mut self, warning: bool, reason: &'static str) -> Self {
        self.event = Some((warning, reason));
        self
    }
}

pub(super) enum Step {
    /// The state changed: evaluate again.
    Next,
    /// Nothing more until the world changes.
    Wait(Wait),
}

pub(super) struct Machine<'a> {
    pub(super) inputs: &'a Inputs<'a>,
    pub(super) settings: UpgradeSpec,
    pub(super) names: Names,
    pub(super) state: Option<UpgradeStatus>,
    pub(super) events: Vec<UpgradeEvent>,
    pub(super) current: Option<ReleaseImage>,
    pub(super) consume_retry: bool,
    pub(super) delete_pods: Vec<String>,
}

pub(super) fn secs(text: &str) -> SignedDuration {
    crate::duration::parse(text)
        .and_then(|d| SignedDuration::try_from(d).ok())
        .unwrap_or(SignedDuration::ZERO)
}

pub(super) fn to_std(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

impl<'a> Machine<'a> {
    pub(super) fn new(inputs: &'a Inputs<'a>) -> Self {
        Machine {
            inputs,
            settings: inputs.spec.upgrade.clone().unwrap_or_default(),
            names: Names::new(inputs.name),
            state: inputs.status.cloned(),
            events: Vec::new(),
            current: None,
            consume_retry: false,
            delete_pods: Vec::new(),
        }
    }

    pub(super) fn now(&self) -> Timestamp {
        self.inputs.now
    }

    pub(super) fn state(&mut self) -> &mut UpgradeStatus {
        self.state.get_or_insert_with(UpgradeStatus::default)
    }

    pub(super) fn field(&self, get: impl Fn(&UpgradeStatus) -> Option<&String>) -> String {
        self.state
            .as_ref()
            .and_then(get)
            .cloned()
            .unwrap_or_default()
    }

    pub(super) fn hop(&self) -> String {
        self.field(|s| s.hop.as_ref())
    }

    pub(super) fn hop_from(&self) -> String {
        self.field(|s| s.hop_from.as_ref())
    }

    pub(super) fn to(&self) -> String {
        self.field(|s| s.to.as_ref())
    }

    /// The release every pod runs when settled: a hop finished in this decision, else the stored
    /// `status.version.current`, else (first install) `spec.version`.
    pub(super) fn settled(&self) -> ReleaseImage {
        if let Some(current) = &self.current {
            return current.clone();
        }
        let spec = self.inputs.spec;
        match self.inputs.current {
            Some(current) if current != spec.version => ReleaseImage {
                version: current.to_string(),
                image: self
                    .inputs
                    .current_image
                    .map(str::to_string)
                    .or_else(|| ReleaseImage::of(current, spec).map(|r| r.image))
                    .unwrap_or_default(),
            },
            _ => self.image_of(&spec.version),
        }
    }

    pub(super) fn image_of(&self, version: &str) -> ReleaseImage {
        ReleaseImage::of(version, self.inputs.spec).unwrap_or_else(|| ReleaseImage {
            version: version.to_string(),
            image: String::new(),
        })
    }

    pub(super) fn hop_from_release(&self) -> ReleaseImage {
        let version = self.hop_from();
        let image = self.field(|s| s.hop_from_image.as_ref());
        if image.is_empty() {
            self.image_of(&version)
        } else {
            ReleaseImage { version, image }
        }
    }

    pub(super) fn since_step(&self) -> SignedDuration {
        let started = self
            .state
            .as_ref()
            .and_then(|s| s.step_started_at.as_ref())
            .map_or(self.now(), |t| t.0);
        self.now().duration_since(started)
    }

    pub(super) fn emit(&mut self, warning: bool, reason: &'static str, message: impl Into<String>) {
        self.events.push(UpgradeEvent {
            warning,
            reason,
            message: message.into(),
        });
    }

    /// Moves to `phase`, restarting the step clock, and reports it.
    pub(super) fn transition(
        &mut self,
        phase: UpgradePhase,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        let now = Time(self.now());
        let state = self.state();
        state.phase = Some(phase);
        state.step_started_at = Some(now);
        state.awaiting_approval = None;
        self.emit(warning, reason, message);
    }

    /// Ends the upgrade with `outcome`, recording it in the history.
    pub(super) fn finish(&mut self, outcome: UpgradePhase, message: Option<String>) {
        let now = Time(self.now());
        let state = self.state();
        state.phase = Some(outcome);
        state.message = message.clone();
        state.awaiting_approval = None;
        state.store_partition = None;
        state.step = None;
        state.step_started_at = Some(now.clone());
        let record = UpgradeRecord {
            from: state.from.clone().unwrap_or_default(),
            to: state.to.clone().unwrap_or_default(),
            outcome,
            started_at: state.started_at.clone(),
            finished_at: Some(now),
            message,
        };
        state.history.insert(0, record);
        state.history.truncate(HISTORY_LIMIT);
        state.finished_upgrades += 1;
    }

    /// Pause and Manual approval, checked before every step that changes something.
    pub(super) fn gate(&mut self, step_id: String) -> Option<Wait> {
        if self.settings.paused {
            return Some(
                Wait::active(
                    "Paused",
                    format!("paused before {step_id}; set spec.upgrade.paused to false to resume"),
                )
                .requeue(None)
                .announce(false, "UpgradePaused"),
            );
        }
        if self.settings.strategy != UpgradeStrategy::Manual {
            return None;
        }
        let approved = self.inputs.annotations.get(APPROVE_ANNOTATION) == Some(&step_id);
        if approved {
            self.state().awaiting_approval = None;
            return None;
        }
        self.state().awaiting_approval = Some(step_id.clone());
        Some(
            Wait::active(
                "AwaitingApproval",
                format!(
                    "waiting for approval of {step_id}: kubectl annotate bigpeer {} {APPROVE_ANNOTATION}={step_id} --overwrite",
                    self.inputs.name
                ),
            )
            .requeue(None)
            .announce(false, "AwaitingApproval"),
        )
    }

    pub(super) fn step(&mut self) -> Step {
        if self.adopt_started_step() {
            return Step::Next;
        }
        let phase = self.state.as_ref().and_then(|s| s.phase);
        match phase {
            None => self.idle(),
            Some(p) if p.is_terminal() => self.idle(),
            Some(UpgradePhase::Pending) => self.pending(),
            Some(UpgradePhase::Preflight) => self.preflight(),
            Some(UpgradePhase::PreMigration) => self.migration(MigrationPhase::Pre),
            Some(UpgradePhase::RollingStore) => self.rolling_store(),
            Some(UpgradePhase::RollingSync) => self.rolling_sync(),
            Some(UpgradePhase::PostMigration) => self.migration(MigrationPhase::Post),
            Some(UpgradePhase::RollingBack) => self.rolling_back(),
            Some(_) => self.idle(),
        }
    }

    pub(super) fn attempt(&self) -> u32 {
        self.state.as_ref().map_or(0, attempt_of)
    }

    /// The name of this try's migration Job of `phase` for `version`.
    pub(super) fn job(&self, phase: MigrationPhase, version: &str) -> String {
        self.names
            .migration(phase.as_str(), version, self.attempt())
    }

    pub(super) fn conclude(mut self, wait: Wait) -> Decision {
        let previous_step = self.inputs.status.and_then(|s| s.step.clone());
        let active = self
            .state
            .as_ref()
            .and_then(|s| s.phase)
            .is_some_and(|p| !p.is_terminal());
        if active {
            let state = self.state();
            state.step = Some(wait.step.clone());
        }
        if let Some((warning, reason)) = wait.event
            && previous_step.as_deref() != Some(wait.step.as_str())
        {
            self.emit(warning, reason, wait.step.clone());
        }
        let mut message = wait.step.clone();
        if let Some(state) = self.state.as_ref().filter(|_| active) {
            let hops: Vec<&String> = state.stops.iter().chain(state.to.as_ref()).collect();
            let at = hops
                .iter()
                .position(|h| Some(*h) == state.hop.as_ref())
                .map_or(1, |i| i + 1);
            message = format!(
                "{} → {} (hop {at} of {}), {}: {message}",
                state.from.clone().unwrap_or_default(),
                state.to.clone().unwrap_or_default(),
                hops.len(),
                state.phase.map(UpgradePhase::as_str).unwrap_or_default()
            );
            if state.to.as_deref() != Some(self.inputs.spec.version.as_str()) {
                message.push_str(&format!(
                    "; spec.version {} starts when this upgrade ends",
                    self.inputs.spec.version
                ));
            }
        }
        let requeue = self.show_window(wait.requeue);
        Decision {
            rollout: self.rollout(),
            condition: UpgradeCondition {
                upgrading: wait.upgrading,
                reason: wait.reason,
                message,
            },
            status: self.state,
            current: self.current,
            events: self.events,
            delete_pods: self.delete_pods,
            consume_retry: self.consume_retry,
            requeue,
        }
    }

    /// Records when the maintenance window opens next (`status.upgrade.nextMaintenanceWindow`,
    /// unset while it is open) and returns `requeue`, shortened so the operator looks again when
    /// the window opens or closes (at least hourly).
    fn show_window(&mut self, requeue: Option<Duration>) -> Option<Duration> {
        let Some(window) = &self.settings.maintenance_window else {
            if let Some(state) = self.state.as_mut() {
                state.next_maintenance_window = None;
            }
            return requeue;
        };
        let now = self.now();
        let (next, changes) = match window::state(window, now) {
            WindowState::OpensAt(next) => (Some(next), Some(next)),
            WindowState::Open(closes) => (None, closes),
        };
        if next.is_some() || self.state.is_some() {
            self.state().next_maintenance_window = next.map(Time);
        }
        let until = changes.map_or(WINDOW_POLL, |at| to_std(at.duration_since(now)));
        Some(requeue.map_or(until, |r| r.min(until)).min(WINDOW_POLL))
    }
}

/// How many upgrades ended before the one `state` describes: part of its migration Jobs' names,
/// so every try gets fresh Jobs. Changes only when a try ends, so it is stable while one runs
/// (even across lost status writes).
pub(super) fn attempt_of(state: &UpgradeStatus) -> u32 {
    let ended = state.phase.is_some_and(UpgradePhase::is_terminal);
    state.finished_upgrades.saturating_sub(u32::from(ended))
}

pub(super) fn phase_name(phase: MigrationPhase) -> &'static str {
    match phase {
        MigrationPhase::Pre => "PreMigration",
        MigrationPhase::Post => "PostMigration",
    }
}
