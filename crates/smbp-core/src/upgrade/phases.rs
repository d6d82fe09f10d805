//! What each phase of the upgrade does: when it starts, what it waits for, when it moves on and
//! how it fails; and how a decision lost before its status write is picked up again.

use super::RETRY_ANNOTATION;
use super::machine::{JOB_GRACE, Machine, POLL, Step, Wait, phase_name, secs, to_std};
use super::window::{Window, WindowState};
use super::{preflight, steps};
use crate::build::MigrationPhase;
use crate::catalogue;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use semver::Version;
use smbp_api::v1alpha1::{UpgradePhase, UpgradeStatus};
use std::time::Duration;

impl Machine<'_> {
    /// No upgrade under way: start one when `spec.version` differs from the running release.
    pub(super) fn idle(&mut self) -> Step {
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

    /// A migration Job of the current hop, or store pods on it, that exist although the stored
    /// phase comes before them were started by a decision whose status write was lost (the
    /// operator stopped in between). The upgrade resumes from there: a Job is never deleted and
    /// started again, and once a post migration started there is no way back.
    pub(super) fn adopt_started_step(&mut self) -> bool {
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
    /// Whether some store pod runs `version`.
    pub(super) fn store_pods_run(&self, version: &str) -> bool {
        self.inputs
            .world
            .store_pods
            .iter()
            .any(|p| p.version.as_deref() == Some(version))
    }
    /// Before anything changed, a new `spec.version` replaces the target.
    pub(super) fn retargeted(&mut self) -> bool {
        if self.to() == self.inputs.spec.version {
            return false;
        }
        self.state = Some(self.past());
        true
    }
    /// What outlives an upgrade: the history and the count of finished upgrades.
    pub(super) fn past(&mut self) -> UpgradeStatus {
        let previous = self.state.take().unwrap_or_default();
        UpgradeStatus {
            history: previous.history,
            finished_upgrades: previous.finished_upgrades,
            ..UpgradeStatus::default()
        }
    }
    pub(super) fn pending(&mut self) -> Step {
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
        let window = self.settings.maintenance_window.as_ref();
        // A window that cannot be read (validation refuses one first) never blocks the upgrade.
        if let Some(window) = window.and_then(|w| Window::parse(w).ok())
            && let WindowState::OpensAt(next) = window.state(self.now())
        {
            let wait = to_std(next.duration_since(self.now()));
            let local = window.local(next);
            return Step::Wait(
                Wait::active(
                    "MaintenanceWindow",
                    format!("waiting for the maintenance window, which opens at {next} ({local})"),
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
    pub(super) fn preflight(&mut self) -> Step {
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
        if let Some(wait) = self.gate(steps::pre_migration(&hop)) {
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
    pub(super) fn migration(&mut self, phase: MigrationPhase) -> Step {
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
    pub(super) fn migration_failed(
        &mut self,
        phase: MigrationPhase,
        job: &str,
        what: String,
    ) -> Step {
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
    pub(super) fn after_migration(&mut self, phase: MigrationPhase) -> Step {
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
                if let Some(wait) = self.gate(steps::pre_migration(&next)) {
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
    pub(super) fn next_hop(&self, hop: &str) -> Option<String> {
        let state = self.state.as_ref()?;
        let hops: Vec<&String> = state.stops.iter().chain(state.to.as_ref()).collect();
        let at = hops.iter().position(|h| *h == hop)?;
        hops.get(at + 1).map(|h| h.to_string())
    }
    /// A step failed before the post migration: roll back, or hold when autoRollback is off.
    pub(super) fn step_failed(&mut self, cause: String) -> Step {
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
    pub(super) fn available_at(&self, pod: &super::PodFacts) -> Option<Timestamp> {
        let min_ready = SignedDuration::from_secs(i64::from(self.settings.min_ready_seconds));
        pod.ready_since
            .filter(|_| !pod.terminating)
            .map(|since| since + min_ready)
    }
    pub(super) fn rolling_store(&mut self) -> Step {
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
            if let Some(wait) = self.gate(steps::sync(&hop)) {
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
        if let Some(wait) = self.gate(steps::store(&hop, next)) {
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
    pub(super) fn sync_settled_on(&self, version: &str) -> (usize, usize) {
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
    pub(super) fn rolling_sync(&mut self) -> Step {
        let hop = self.hop();
        let desired = self.inputs.world.sync_replicas.max(0) as usize;
        let (live, good) = self.sync_settled_on(&hop);
        if good == live && good >= desired {
            if let Some(wait) = self.gate(steps::post_migration(&hop)) {
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
    pub(super) fn rolling_back(&mut self) -> Step {
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
}
