//! The transitions of the upgrade state machine. [`plan`] applies transitions until the upgrade
//! has to wait for the world (a pod, a Job, the clock, a person), then derives what the workloads
//! run from the state it reached.

use super::preflight;
use super::window::{self, WindowState};
use super::{
    APPROVE_ANNOTATION, Decision, HISTORY_LIMIT, Inputs, RETRY_ANNOTATION, UpgradeCondition,
    UpgradeEvent,
};
use crate::build::{Migration, MigrationPhase, Names, ReleaseImage, Rollout};
use crate::catalogue;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use semver::Version;
use smbp_api::v1alpha1::{
    UpgradePhase, UpgradeRecord, UpgradeSpec, UpgradeStatus, UpgradeStrategy,
};
use std::time::Duration;

/// A guard against a transition loop; a whole upgrade pass needs far fewer.
const MAX_TRANSITIONS: usize = 32;
/// How soon to look again while waiting for something no watch reports.
const POLL: Duration = Duration::from_secs(5);
/// Extra time a migration Job gets beyond its own deadline before the operator gives up on it.
const JOB_GRACE: SignedDuration = SignedDuration::from_secs(60);

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
struct Wait {
    upgrading: bool,
    reason: String,
    step: String,
    requeue: Option<Duration>,
    /// An Event to publish when this wait is new (its step text differs from the stored one).
    event: Option<(bool, &'static str)>,
}

impl Wait {
    fn active(reason: &str, step: impl Into<String>) -> Self {
        Wait {
            upgrading: true,
            reason: reason.into(),
            step: step.into(),
            requeue: Some(POLL),
            event: None,
        }
    }

    fn idle(reason: &str, message: impl Into<String>) -> Self {
        Wait {
            upgrading: false,
            requeue: None,
            ..Wait::active(reason, message)
        }
    }

    fn requeue(mut self, after: Option<Duration>) -> Self {
        self.requeue = after;
        self
    }

    fn announce(mut self, warning: bool, reason: &'static str) -> Self {
        self.event = Some((warning, reason));
        self
    }
}

enum Step {
    /// The state changed: evaluate again.
    Next,
    /// Nothing more until the world changes.
    Wait(Wait),
}

struct Machine<'a> {
    inputs: &'a Inputs<'a>,
    settings: UpgradeSpec,
    names: Names,
    state: Option<UpgradeStatus>,
    events: Vec<UpgradeEvent>,
    current: Option<ReleaseImage>,
    consume_retry: bool,
    delete_pods: Vec<String>,
}

fn secs(text: &str) -> SignedDuration {
    crate::duration::parse(text)
        .and_then(|d| SignedDuration::try_from(d).ok())
        .unwrap_or(SignedDuration::ZERO)
}

fn to_std(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

impl<'a> Machine<'a> {
    fn new(inputs: &'a Inputs<'a>) -> Self {
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

    fn now(&self) -> Timestamp {
        self.inputs.now
    }

    fn state(&mut self) -> &mut UpgradeStatus {
        self.state.get_or_insert_with(UpgradeStatus::default)
    }

    fn field(&self, get: impl Fn(&UpgradeStatus) -> Option<&String>) -> String {
        self.state
            .as_ref()
            .and_then(get)
            .cloned()
            .unwrap_or_default()
    }

    fn hop(&self) -> String {
        self.field(|s| s.hop.as_ref())
    }

    fn hop_from(&self) -> String {
        self.field(|s| s.hop_from.as_ref())
    }

    fn to(&self) -> String {
        self.field(|s| s.to.as_ref())
    }

    /// The release every pod runs when settled: a hop finished in this decision, else the stored
    /// `status.version.current`, else (first install) `spec.version`.
    fn settled(&self) -> ReleaseImage {
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

    fn image_of(&self, version: &str) -> ReleaseImage {
        ReleaseImage::of(version, self.inputs.spec).unwrap_or_else(|| ReleaseImage {
            version: version.to_string(),
            image: String::new(),
        })
    }

    fn hop_from_release(&self) -> ReleaseImage {
        let version = self.hop_from();
        let image = self.field(|s| s.hop_from_image.as_ref());
        if image.is_empty() {
            self.image_of(&version)
        } else {
            ReleaseImage { version, image }
        }
    }

    fn since_step(&self) -> SignedDuration {
        let started = self
            .state
            .as_ref()
            .and_then(|s| s.step_started_at.as_ref())
            .map_or(self.now(), |t| t.0);
        self.now().duration_since(started)
    }

    fn emit(&mut self, warning: bool, reason: &'static str, message: impl Into<String>) {
        self.events.push(UpgradeEvent {
            warning,
            reason,
            message: message.into(),
        });
    }

    /// Moves to `phase`, restarting the step clock, and reports it.
    fn transition(
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
    fn finish(&mut self, outcome: UpgradePhase, message: Option<String>) {
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
    fn gate(&mut self, step_id: String) -> Option<Wait> {
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

    fn step(&mut self) -> Step {
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

    /// A migration Job of the current hop, or store pods on it, that exist although the stored
    /// phase comes before them were started by a decision whose status write was lost (the
    /// operator stopped in between). The upgrade resumes from there: a Job is never deleted and
    /// started again, and once a post migration started there is no way back.
    fn adopt_started_step(&mut self) -> bool {
        let Some(phase) = self.state.as_ref().and_then(|s| s.phase) else {
            return false;
        };
        let hop = self.hop();
        let exists = |m: MigrationPhase| {
            let job = self.job(m, &hop);
            self.inputs.world.jobs.contains_key(&job)
        };
        let adopt = match phase {
            UpgradePhase::Pending
            | UpgradePhase::Preflight
            | UpgradePhase::PreMigration
            | UpgradePhase::RollingStore
            | UpgradePhase::RollingSync
                if exists(MigrationPhase::Post) =>
            {
                UpgradePhase::PostMigration
            }
            UpgradePhase::Pending | UpgradePhase::Preflight | UpgradePhase::PreMigration
                if hop != self.hop_from() && self.store_pods_run(&hop) =>
            {
                UpgradePhase::RollingStore
            }
            UpgradePhase::Pending | UpgradePhase::Preflight if exists(MigrationPhase::Pre) => {
                UpgradePhase::PreMigration
            }
            _ => return false,
        };
        if adopt == UpgradePhase::RollingStore {
            // Pods change only after the pre migration succeeded.
            let pre = self.job(MigrationPhase::Pre, &hop);
            let replicas = self.inputs.spec.store.replicas;
            let state = self.state();
            if !state.completed_migrations.contains(&pre) {
                state.completed_migrations.push(pre);
            }
            state.store_partition = Some(replicas);
        }
        if adopt == UpgradePhase::PostMigration {
            let pre = self.job(MigrationPhase::Pre, &hop);
            let state = self.state();
            if !state.completed_migrations.contains(&pre) {
                state.completed_migrations.push(pre);
            }
            state.store_partition = Some(0);
        }
        self.transition(
            adopt,
            false,
            "UpgradeResumed",
            format!("resuming at {adopt}: it was already under way for {hop}"),
        );
        true
    }

    fn attempt(&self) -> u32 {
        self.state.as_ref().map_or(0, attempt_of)
    }

    /// The name of this try's migration Job of `phase` for `version`.
    fn job(&self, phase: MigrationPhase, version: &str) -> String {
        self.names
            .migration(phase.as_str(), version, self.attempt())
    }

    /// Whether some store pod runs `version`.
    fn store_pods_run(&self, version: &str) -> bool {
        self.inputs
            .world
            .store_pods
            .iter()
            .any(|p| p.version.as_deref() == Some(version))
    }

    /// No upgrade under way: start one when `spec.version` differs from the running release.
    fn idle(&mut self) -> Step {
        let target = self.inputs.spec.version.clone();
        let Some(current) = self
            .current
            .as_ref()
            .map(|c| c.version.clone())
            .or(self.inputs.current.map(str::to_string))
        else {
            return Step::Wait(Wait::idle(
                "NoUpgrade",
                "first rollout: no version to upgrade from yet",
            ));
        };
        if current == target {
            let last = self.state.as_ref().and_then(|s| s.phase);
            return Step::Wait(match last {
                Some(UpgradePhase::Completed) => Wait::idle(
                    "Completed",
                    format!("the upgrade to {target} completed; every pod runs {target}"),
                ),
                _ => Wait::idle("NoUpgrade", format!("every pod runs {target}")),
            });
        }
        let ended = self
            .state
            .as_ref()
            .filter(|s| s.to.as_deref() == Some(target.as_str()))
            .and_then(|s| s.phase)
            .filter(|p| matches!(p, UpgradePhase::RolledBack | UpgradePhase::Failed));
        if let Some(ended) = ended {
            if self.inputs.annotations.get(RETRY_ANNOTATION) != Some(&target) {
                let message = self.field(|s| s.message.as_ref());
                let reason = if ended == UpgradePhase::Failed {
                    "UpgradeFailed"
                } else {
                    "RolledBack"
                };
                let hint = if ended == UpgradePhase::RolledBack {
                    format!(
                        "; to try again, fix the cause and set the annotation {RETRY_ANNOTATION}={target}"
                    )
                } else {
                    String::new()
                };
                return Step::Wait(Wait::idle(
                    reason,
                    format!("the upgrade to {target} ended {ended}: {message}{hint}"),
                ));
            }
            if ended == UpgradePhase::Failed {
                return Step::Wait(Wait::idle(
                    "UpgradeFailed",
                    format!(
                        "the upgrade to {target} failed past its point of no return and cannot be retried: {}",
                        self.field(|s| s.message.as_ref())
                    ),
                ));
            }
            self.consume_retry = true;
        }
        let path = Version::parse(&current)
            .ok()
            .zip(Version::parse(&target).ok())
            .map(|(f, t)| catalogue::builtin().upgrade_path(&f, &t));
        let path = match path {
            Some(Ok(path)) => path,
            Some(Err(error)) => {
                return Step::Wait(Wait::idle("PathNotAllowed", error.to_string()));
            }
            None => {
                return Step::Wait(Wait::idle(
                    "PathNotAllowed",
                    format!("{current} → {target} is not a pair of semantic versions"),
                ));
            }
        };
        let hop_from_image = self.settled().image;
        let now = Time(self.now());
        let past = self.past();
        self.state = Some(UpgradeStatus {
            phase: Some(UpgradePhase::Pending),
            from: Some(current.clone()),
            to: Some(target.clone()),
            stops: path.stops().iter().map(ToString::to_string).collect(),
            hop: path.hops.first().map(ToString::to_string),
            hop_from: Some(current),
            hop_from_image: Some(hop_from_image),
            started_at: Some(now.clone()),
            step_started_at: Some(now),
            ..past
        });
        self.emit(false, "UpgradeStarted", format!("upgrade {path} requested"));
        Step::Next
    }

    /// Before anything changed, a new `spec.version` replaces the target.
    fn retargeted(&mut self) -> bool {
        if self.to() == self.inputs.spec.version {
            return false;
        }
        self.state = Some(self.past());
        true
    }

    /// What outlives an upgrade: the history and the count of finished upgrades.
    fn past(&mut self) -> UpgradeStatus {
        let previous = self.state.take().unwrap_or_default();
        UpgradeStatus {
            history: previous.history,
            finished_upgrades: previous.finished_upgrades,
            ..UpgradeStatus::default()
        }
    }

    fn pending(&mut self) -> Step {
        if self.retargeted() {
            return Step::Next;
        }
        if self.settings.paused {
            return Step::Wait(
                Wait::active(
                    "Paused",
                    "paused before the upgrade starts; set spec.upgrade.paused to false to resume",
                )
                .requeue(None)
                .announce(false, "UpgradePaused"),
            );
        }
        if let Some(window) = &self.settings.maintenance_window
            && let WindowState::OpensAt(next) = window::state(window, self.now())
        {
            let wait = to_std(next.duration_since(self.now()));
            return Step::Wait(
                Wait::active(
                    "MaintenanceWindow",
                    format!("waiting for the maintenance window, which opens at {next}"),
                )
                .requeue(Some(wait.min(Duration::from_secs(3600))))
                .announce(false, "UpgradeDeferred"),
            );
        }
        let message = format!(
            "running pre-flight checks for {} → {}",
            self.hop_from(),
            self.to()
        );
        self.transition(UpgradePhase::Preflight, false, "UpgradePreflight", message);
        Step::Next
    }

    fn preflight(&mut self) -> Step {
        if self.retargeted() {
            return Step::Next;
        }
        let failures = preflight::run(self.inputs, &self.hop_from(), &self.to());
        if let Some(first) = failures.first() {
            let all = failures
                .iter()
                .map(|f| format!("{} failed: {}", f.check, f.message))
                .collect::<Vec<_>>()
                .join("; ");
            return Step::Wait(
                Wait::active(first.check, format!("pre-flight check {all}"))
                    .requeue(Some(Duration::from_secs(10)))
                    .announce(true, "PreflightFailed"),
            );
        }
        let hop = self.hop();
        if let Some(wait) = self.gate(format!("{hop}:pre-migration")) {
            return Step::Wait(wait);
        }
        let message = format!(
            "all {} pre-flight checks passed; running the pre migration of {hop}",
            preflight::CHECKS.len()
        );
        self.transition(
            UpgradePhase::PreMigration,
            false,
            "PreflightPassed",
            message,
        );
        Step::Next
    }

    fn migration(&mut self, phase: MigrationPhase) -> Step {
        let hop = self.hop();
        let job = self.job(phase, &hop);
        let done = self
            .state
            .as_ref()
            .is_some_and(|s| s.completed_migrations.contains(&job));
        if done {
            return self.after_migration(phase);
        }
        let timeout = secs(&self.settings.migration_timeout);
        match self.inputs.world.jobs.get(&job).cloned() {
            None => {
                // Requested in this pass: its clock starts now.
                self.state().step_started_at = Some(Time(self.now()));
                Step::Wait(
                    Wait::active(
                        phase_name(phase),
                        format!("running the {} migration Job {job} ({hop})", phase.as_str()),
                    )
                    .requeue(None)
                    .announce(false, "MigrationStarted"),
                )
            }
            Some(super::JobFacts::Running) => {
                if self.since_step() > timeout + JOB_GRACE {
                    return self.migration_failed(
                        phase,
                        &job,
                        format!(
                            "did not finish within migrationTimeout ({})",
                            self.settings.migration_timeout
                        ),
                    );
                }
                Step::Wait(Wait::active(
                    phase_name(phase),
                    format!("running the {} migration Job {job} ({hop})", phase.as_str()),
                ))
            }
            Some(super::JobFacts::Succeeded) => {
                self.state().completed_migrations.push(job.clone());
                self.emit(
                    false,
                    "MigrationSucceeded",
                    format!(
                        "the {} migration Job {job} of {hop} succeeded",
                        phase.as_str()
                    ),
                );
                if phase == MigrationPhase::Post && hop != self.to() {
                    self.emit(
                        false,
                        "HopCompleted",
                        format!(
                            "every pod runs {hop}, a required stop on the way to {}",
                            self.to()
                        ),
                    );
                }
                self.after_migration(phase)
            }
            Some(super::JobFacts::Failed { reason, message }) => {
                self.migration_failed(phase, &job, format!("failed ({reason}: {message})"))
            }
        }
    }

    fn migration_failed(&mut self, phase: MigrationPhase, job: &str, what: String) -> Step {
        let hop = self.hop();
        let hop_from = self.hop_from();
        match phase {
            MigrationPhase::Pre => {
                let message = format!(
                    "the pre migration Job {job} of {hop} {what}; no pod was changed, every pod still runs {hop_from}. Read its logs (kubectl logs job/{job}) before retrying"
                );
                self.emit(true, "UpgradeRolledBack", message.clone());
                self.finish(UpgradePhase::RolledBack, Some(message));
            }
            MigrationPhase::Post => {
                let message = format!(
                    "the post migration Job {job} of {hop} {what}. Every pod runs {hop} and the data may be partly migrated, so there is no rollback. Read its logs (kubectl logs job/{job}), fix the cause and run the migration by hand as docs/upgrades.md describes; the BigPeer keeps serving on {hop}"
                );
                self.current = Some(self.image_of(&hop));
                self.emit(true, "UpgradeFailed", message.clone());
                self.finish(UpgradePhase::Failed, Some(message));
            }
        }
        Step::Next
    }

    fn after_migration(&mut self, phase: MigrationPhase) -> Step {
        let hop = self.hop();
        match phase {
            MigrationPhase::Pre => {
                let replicas = self.inputs.spec.store.replicas;
                self.state().store_partition = Some(replicas);
                self.transition(
                    UpgradePhase::RollingStore,
                    false,
                    "RollingStore",
                    format!("updating the store to {hop}, one partition step at a time"),
                );
                Step::Next
            }
            MigrationPhase::Post => {
                self.current = Some(self.image_of(&hop));
                let to = self.to();
                if hop == to {
                    let took = self
                        .state
                        .as_ref()
                        .and_then(|s| s.started_at.as_ref())
                        .map(|t| {
                            format!(
                                " in {:#}",
                                self.now()
                                    .duration_since(t.0)
                                    .round(jiff::Unit::Second)
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_default();
                    let from = self.field(|s| s.from.as_ref());
                    self.emit(
                        false,
                        "UpgradeCompleted",
                        format!("upgrade {from} → {to} completed{took}"),
                    );
                    self.finish(UpgradePhase::Completed, None);
                    return Step::Next;
                }
                let Some(next) = self.next_hop(&hop) else {
                    self.finish(UpgradePhase::Completed, None);
                    return Step::Next;
                };
                if let Some(wait) = self.gate(format!("{next}:pre-migration")) {
                    return Step::Wait(wait);
                }
                let image = self.image_of(&hop).image;
                let state = self.state();
                state.hop_from = Some(hop.clone());
                state.hop_from_image = Some(image);
                state.hop = Some(next.clone());
                state.store_partition = None;
                self.transition(
                    UpgradePhase::PreMigration,
                    false,
                    "UpgradeHop",
                    format!("continuing from {hop} to {next}: running its pre migration"),
                );
                Step::Next
            }
        }
    }

    fn next_hop(&self, hop: &str) -> Option<String> {
        let state = self.state.as_ref()?;
        let hops: Vec<&String> = state.stops.iter().chain(state.to.as_ref()).collect();
        let at = hops.iter().position(|h| *h == hop)?;
        hops.get(at + 1).map(|h| h.to_string())
    }

    /// A step failed before the post migration: roll back, or hold when autoRollback is off.
    fn step_failed(&mut self, cause: String) -> Step {
        let hop_from = self.hop_from();
        if self.settings.auto_rollback {
            self.state().message = Some(cause.clone());
            self.transition(
                UpgradePhase::RollingBack,
                true,
                "UpgradeRollingBack",
                format!("{cause}; rolling back to {hop_from}"),
            );
            return Step::Next;
        }
        Step::Wait(
            Wait::active(
                "StepFailed",
                format!("{cause}; spec.upgrade.autoRollback is false, so the upgrade holds: fix the cause (it continues once the pods are Ready) or set autoRollback to true to roll back to {hop_from}"),
            )
            .announce(true, "UpgradeStepFailed"),
        )
    }

    /// Whether a pod has been Ready for `minReadySeconds`, or when it will have been.
    fn available_at(&self, pod: &super::PodFacts) -> Option<Timestamp> {
        let min_ready = SignedDuration::from_secs(i64::from(self.settings.min_ready_seconds));
        pod.ready_since
            .filter(|_| !pod.terminating)
            .map(|since| since + min_ready)
    }

    fn rolling_store(&mut self) -> Step {
        let hop = self.hop();
        let replicas = self.inputs.spec.store.replicas;
        let stored = self
            .state
            .as_ref()
            .and_then(|s| s.store_partition)
            .unwrap_or(replicas)
            .clamp(0, replicas);
        let now = self.now();
        let pod = |o: i32| {
            self.inputs
                .world
                .store_pods
                .iter()
                .find(|p| p.ordinal == Some(o) && !p.terminating)
        };
        // Pods just below the stored partition that already run the hop were updated by a
        // decision whose status write was lost: the partition is where the world says it is.
        let mut partition = stored;
        while partition > 0
            && pod(partition - 1).is_some_and(|p| p.version.as_deref() == Some(hop.as_str()))
        {
            partition -= 1;
        }
        if partition != stored {
            let started = Time(now);
            let state = self.state();
            state.store_partition = Some(partition);
            state.step_started_at = Some(started);
        }
        let available = |o: i32| {
            pod(o)
                .and_then(|p| self.available_at(p))
                .is_some_and(|t| t <= now)
        };
        let pending: Vec<i32> = (partition..replicas)
            .filter(|o| {
                !(pod(*o).is_some_and(|p| p.version.as_deref() == Some(hop.as_str()))
                    && available(*o))
            })
            .collect();
        if !pending.is_empty() {
            let timeout = secs(&self.settings.pod_ready_timeout);
            let names: Vec<String> = pending
                .iter()
                .map(|o| format!("{}-store-{o}", self.inputs.name))
                .collect();
            if self.since_step() > timeout {
                return self.step_failed(format!(
                    "store pod {} did not become Ready on {hop} within podReadyTimeout ({})",
                    names.join(", "),
                    self.settings.pod_ready_timeout
                ));
            }
            let soonest = pending
                .iter()
                .filter_map(|o| pod(*o).and_then(|p| self.available_at(p)))
                .filter(|t| *t > now)
                .min()
                .map(|t| to_std(t.duration_since(now)) + Duration::from_millis(100));
            return Step::Wait(
                Wait::active(
                    "RollingStore",
                    format!(
                        "updating the store to {hop}: {} of {replicas} pods updated; waiting for {} to be Ready for {}s",
                        replicas - partition - pending.len() as i32,
                        names.join(", "),
                        self.settings.min_ready_seconds
                    ),
                )
                .requeue(Some(soonest.map_or(POLL, |s| s.min(POLL)))),
            );
        }
        if partition == 0 {
            if let Some(wait) = self.gate(format!("{hop}:sync")) {
                return Step::Wait(wait);
            }
            self.transition(
                UpgradePhase::RollingSync,
                false,
                "RollingSync",
                format!("every store pod runs {hop}; rolling out the sync tier"),
            );
            return Step::Next;
        }
        let unavailable = (0..partition).filter(|o| !available(*o)).count() as i32;
        let budget = self.settings.max_unavailable - unavailable;
        if budget <= 0 {
            return Step::Wait(Wait::active(
                "WaitingForBudget",
                format!(
                    "{unavailable} store pod(s) below the partition are unavailable; the next pod is updated when at most {} would be down",
                    self.settings.max_unavailable
                ),
            ));
        }
        let next = partition - budget.min(partition);
        if let Some(wait) = self.gate(format!("{hop}:store-{next}")) {
            return Step::Wait(wait);
        }
        let now = Time(now);
        let state = self.state();
        state.store_partition = Some(next);
        state.step_started_at = Some(now);
        let pods: Vec<String> = (next..partition)
            .rev()
            .map(|o| format!("{}-store-{o}", self.inputs.name))
            .collect();
        self.emit(
            false,
            "UpdatingStorePod",
            format!("updating {} to {hop} (partition {next})", pods.join(", ")),
        );
        Step::Wait(Wait::active(
            "RollingStore",
            format!("updating {} to {hop}", pods.join(", ")),
        ))
    }

    /// Sync pods that are not being deleted, and how many of them run `version` and are Ready.
    fn sync_settled_on(&self, version: &str) -> (usize, usize) {
        let live: Vec<_> = self
            .inputs
            .world
            .sync_pods
            .iter()
            .filter(|p| !p.terminating)
            .collect();
        let good = live
            .iter()
            .filter(|p| p.version.as_deref() == Some(version) && p.ready_since.is_some())
            .count();
        (live.len(), good)
    }

    fn rolling_sync(&mut self) -> Step {
        let hop = self.hop();
        let desired = self.inputs.world.sync_replicas.max(0) as usize;
        let (live, good) = self.sync_settled_on(&hop);
        if good == live && good >= desired {
            if let Some(wait) = self.gate(format!("{hop}:post-migration")) {
                return Step::Wait(wait);
            }
            self.transition(
                UpgradePhase::PostMigration,
                false,
                "PostMigration",
                format!(
                    "every pod runs {hop}; running its post migration (no rollback after this)"
                ),
            );
            return Step::Next;
        }
        if let Some(stalled) = &self.inputs.world.sync_stalled {
            return self.step_failed(format!(
                "the sync Deployment stopped progressing on {hop}: {stalled}"
            ));
        }
        let timeout = secs(&self.settings.pod_ready_timeout) * (desired as i32 + 1);
        if self.since_step() > timeout {
            return self.step_failed(format!(
                "the sync tier did not become Ready on {hop} within podReadyTimeout ({}) per pod",
                self.settings.pod_ready_timeout
            ));
        }
        Step::Wait(Wait::active(
            "RollingSync",
            format!("rolling out the sync tier on {hop}: {good} of {desired} pods ready"),
        ))
    }

    fn rolling_back(&mut self) -> Step {
        let hop_from = self.hop_from();
        let replicas = self.inputs.spec.store.replicas;
        let now = self.now();
        let store: Vec<_> = self
            .inputs
            .world
            .store_pods
            .iter()
            .filter(|p| p.ordinal.is_some_and(|o| o < replicas) && !p.terminating)
            .collect();
        let store_back = store
            .iter()
            .filter(|p| {
                p.version.as_deref() == Some(hop_from.as_str())
                    && self.available_at(p).is_some_and(|t| t <= now)
            })
            .count() as i32;
        let (live, good) = self.sync_settled_on(&hop_from);
        let cause = self.field(|s| s.message.as_ref());
        if store_back == replicas
            && good == live
            && good >= self.inputs.world.sync_replicas.max(0) as usize
        {
            self.emit(
                true,
                "UpgradeRolledBack",
                format!(
                    "every pod runs {hop_from} again; the upgrade was rolled back because {cause}"
                ),
            );
            self.finish(UpgradePhase::RolledBack, Some(cause));
            return Step::Next;
        }
        // A StatefulSet does not replace a broken pod on its own (it waits for it to become
        // Ready); the updated pods that are not Ready are deleted so it recreates them on the
        // previous revision. They are down already: deleting them costs no availability.
        self.delete_pods = store
            .iter()
            .filter(|p| p.version.as_deref() != Some(hop_from.as_str()) && p.ready_since.is_none())
            .map(|p| p.name.clone())
            .collect();
        let timeout = secs(&self.settings.pod_ready_timeout) * (replicas + 1);
        if self.since_step() > timeout {
            let message = format!(
                "the rollback to {hop_from} did not complete within {:#} ({store_back} of {replicas} store pods and {good} sync pods back and Ready); it started because {cause}. Inspect the pods that are not Ready (kubectl describe pod -l app.kubernetes.io/instance={}); docs/upgrades.md describes the recovery",
                timeout, self.inputs.name
            );
            self.emit(true, "UpgradeFailed", message.clone());
            self.finish(UpgradePhase::Failed, Some(message));
            return Step::Next;
        }
        Step::Wait(Wait::active(
            "RollingBack",
            format!(
                "rolling back to {hop_from}: {store_back} of {replicas} store pods back and Ready"
            ),
        ))
    }

    /// The workloads and migration Jobs the reached state asks for.
    fn rollout(&self) -> Rollout {
        let settled = self.settled();
        let steady = Rollout {
            store: settled.clone(),
            store_partition: 0,
            sync: settled,
            migrations: Vec::new(),
        };
        let Some(state) = &self.state else {
            return steady;
        };
        let hop = || self.image_of(&self.hop());
        let from = || self.hop_from_release();
        let attempt = self.attempt();
        let migration = |phase| Migration {
            phase,
            release: hop(),
            attempt,
        };
        let mut rollout = match state.phase {
            Some(UpgradePhase::PreMigration) => Rollout {
                store: from(),
                store_partition: 0,
                sync: from(),
                migrations: vec![migration(MigrationPhase::Pre)],
            },
            Some(UpgradePhase::RollingStore) => Rollout {
                store: hop(),
                store_partition: state
                    .store_partition
                    .unwrap_or(self.inputs.spec.store.replicas),
                sync: from(),
                migrations: Vec::new(),
            },
            Some(UpgradePhase::RollingSync) => Rollout {
                store: hop(),
                store_partition: 0,
                sync: hop(),
                migrations: Vec::new(),
            },
            Some(UpgradePhase::PostMigration) => Rollout {
                store: hop(),
                store_partition: 0,
                sync: hop(),
                migrations: vec![migration(MigrationPhase::Post)],
            },
            Some(UpgradePhase::RollingBack) => Rollout {
                store: from(),
                store_partition: 0,
                sync: from(),
                migrations: Vec::new(),
            },
            _ => steady,
        };
        // A migration Job stays until a stored status records its success or the end of its
        // try: deleting it sooner would let a lost status write run it again. That covers the
        // stored try (it may have just ended or been replaced) and the decided one.
        let stored = self.inputs.status;
        let active = |s: &UpgradeStatus| s.phase.is_some_and(|p| !p.is_terminal());
        let tries = stored
            .filter(|s| active(s))
            .into_iter()
            .chain(Some(state).filter(|s| active(s)));
        for run in tries {
            let attempt = attempt_of(run);
            let recorded = |job: &String| {
                stored.is_some_and(|s| {
                    s.started_at == run.started_at && s.completed_migrations.contains(job)
                })
            };
            for version in run.stops.iter().chain(run.to.as_ref()) {
                for phase in [MigrationPhase::Pre, MigrationPhase::Post] {
                    let job = self.names.migration(phase.as_str(), version, attempt);
                    let requested = rollout.migrations.iter().any(|m| {
                        m.phase == phase && &m.release.version == version && m.attempt == attempt
                    });
                    if self.inputs.world.jobs.contains_key(&job) && !recorded(&job) && !requested {
                        rollout.migrations.push(Migration {
                            phase,
                            release: self.image_of(version),
                            attempt,
                        });
                    }
                }
            }
        }
        // A failed migration Job stays, for its logs, until the next upgrade starts.
        if matches!(
            state.phase,
            Some(UpgradePhase::RolledBack | UpgradePhase::Failed)
        ) {
            let attempt = attempt_of(state);
            for version in state.stops.iter().chain(state.to.as_ref()) {
                for phase in [MigrationPhase::Pre, MigrationPhase::Post] {
                    let job = self.names.migration(phase.as_str(), version, attempt);
                    let failed = matches!(
                        self.inputs.world.jobs.get(&job),
                        Some(super::JobFacts::Failed { .. })
                    );
                    let listed = rollout.migrations.iter().any(|m| {
                        m.phase == phase && &m.release.version == version && m.attempt == attempt
                    });
                    if failed && !listed {
                        rollout.migrations.push(Migration {
                            phase,
                            release: self.image_of(version),
                            attempt,
                        });
                    }
                }
            }
        }
        rollout
    }

    fn conclude(mut self, wait: Wait) -> Decision {
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
            requeue: wait.requeue,
        }
    }
}

/// How many upgrades ended before the one `state` describes: part of its migration Jobs' names,
/// so every try gets fresh Jobs. Changes only when a try ends, so it is stable while one runs
/// (even across lost status writes).
fn attempt_of(state: &UpgradeStatus) -> u32 {
    let ended = state.phase.is_some_and(UpgradePhase::is_terminal);
    state.finished_upgrades.saturating_sub(u32::from(ended))
}

fn phase_name(phase: MigrationPhase) -> &'static str {
    match phase {
        MigrationPhase::Pre => "PreMigration",
        MigrationPhase::Post => "PostMigration",
    }
}
