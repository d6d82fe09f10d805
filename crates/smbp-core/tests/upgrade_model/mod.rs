//! A small model of the cluster an upgrade runs in — a StatefulSet with `partition` and
//! `maxUnavailable`, a surge-only Deployment, migration Jobs, a kubelet, an operator that applies
//! each decision and writes the status (or crashes before writing it) — used by the scenario and
//! property tests of the upgrade state machine. It also checks the invariants at every step.

use jiff::{SignedDuration, Timestamp};
use semver::Version;
use smbp_api::v1alpha1::{BigPeerSpec, UpgradePhase, UpgradeSpec, UpgradeStatus, UpgradeStrategy};
use smbp_core::build::{MigrationPhase, Names, ReleaseImage};
use smbp_core::upgrade::{
    self, APPROVE_ANNOTATION, Decision, Inputs, JobFacts, PodFacts, RETRY_ANNOTATION, World,
};
use std::collections::{BTreeMap, BTreeSet};

pub const NAME: &str = "bp";
/// Tries of one upgrade whose Job names the model recognises.
const HISTORY_ATTEMPTS: u32 = 11;

/// A pod of the model.
#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub version: String,
    pub ready_since: Option<Timestamp>,
}

/// A migration Job of the model.
#[derive(Debug, Clone)]
pub struct Job {
    pub succeeds: bool,
    pub finished: bool,
}

/// The modelled cluster, the BigPeer and the operator's persisted status.
#[derive(Debug, Clone)]
pub struct Model {
    pub spec: BigPeerSpec,
    pub annotations: BTreeMap<String, String>,
    pub status: Option<UpgradeStatus>,
    pub current: String,
    pub now: Timestamp,
    pub sts_version: String,
    /// The StatefulSet's current revision: what pods below the partition are recreated with.
    pub sts_current: String,
    pub partition: i32,
    pub store: Vec<Option<Pod>>,
    pub sync_version: String,
    pub sync: Vec<Pod>,
    pub sync_replicas: i32,
    pub jobs: BTreeMap<String, Job>,
    /// Releases whose server pods crash (never Ready).
    pub broken: BTreeSet<String>,
    /// Migration Jobs (by name) that fail.
    pub failing_jobs: BTreeSet<String>,
    /// Whether any store pod failed on its own (then only the per-decision budget check holds).
    pub external_failures: bool,
    /// Every migration Job ever created.
    created: BTreeSet<String>,
    /// Post migrations that succeeded in the current run.
    post_done: Vec<Version>,
    pub last: Option<Decision>,
    pub phases_seen: Vec<UpgradePhase>,
}

pub fn spec(version: &str, replicas: i32, settings: UpgradeSpec) -> BigPeerSpec {
    serde_json::from_value(serde_json::json!({
        "version": version,
        "store": {"replicas": replicas},
        "sync": {"replicas": 2},
        "transactionLog": {"external": {"bootstrapServers": ["k:9092"], "topic": "t"}},
        "upgrade": serde_json::to_value(&settings).unwrap(),
    }))
    .unwrap()
}

impl Model {
    /// A settled BigPeer on `version`, every pod Ready for a long time.
    pub fn settled(version: &str, replicas: i32, settings: UpgradeSpec) -> Self {
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let long_ago = now - SignedDuration::from_hours(1);
        let pod = |name: String| Pod {
            name,
            version: version.to_string(),
            ready_since: Some(long_ago),
        };
        Model {
            spec: spec(version, replicas, settings),
            annotations: BTreeMap::new(),
            status: None,
            current: version.to_string(),
            now,
            sts_version: version.to_string(),
            sts_current: version.to_string(),
            partition: 0,
            store: (0..replicas)
                .map(|o| Some(pod(format!("{NAME}-store-{o}"))))
                .collect(),
            sync_version: version.to_string(),
            sync: (0..2).map(|i| pod(format!("{NAME}-sync-{i}"))).collect(),
            sync_replicas: 2,
            jobs: BTreeMap::new(),
            broken: BTreeSet::new(),
            failing_jobs: BTreeSet::new(),
            external_failures: false,
            created: BTreeSet::new(),
            post_done: Vec::new(),
            last: None,
            phases_seen: Vec::new(),
        }
    }

    pub fn settings(&self) -> UpgradeSpec {
        self.spec.upgrade.clone().unwrap_or_default()
    }

    pub fn set_settings(&mut self, f: impl FnOnce(&mut UpgradeSpec)) {
        let mut settings = self.settings();
        f(&mut settings);
        self.spec.upgrade = Some(settings);
    }

    pub fn phase(&self) -> Option<UpgradePhase> {
        self.status.as_ref().and_then(|s| s.phase)
    }

    pub fn job_name(phase: MigrationPhase, version: &str) -> String {
        Names::new(NAME).migration(phase.as_str(), version, 0)
    }

    fn min_ready(&self) -> SignedDuration {
        SignedDuration::from_secs(i64::from(self.settings().min_ready_seconds))
    }

    fn available(&self, pod: &Option<Pod>) -> bool {
        pod.as_ref()
            .and_then(|p| p.ready_since)
            .is_some_and(|since| since + self.min_ready() <= self.now)
    }

    /// Store pods (ordinal below replicas) that are missing or not available.
    pub fn unavailable(&self) -> i32 {
        self.store.iter().filter(|p| !self.available(p)).count() as i32
    }

    fn facts(pod: &Pod, ordinal: Option<i32>) -> PodFacts {
        PodFacts {
            name: pod.name.clone(),
            ordinal,
            version: Some(pod.version.clone()),
            ready_since: pod.ready_since,
            terminating: false,
        }
    }

    pub fn world(&self) -> World {
        let timeout = smbp_core::duration::parse(&self.settings().pod_ready_timeout).unwrap();
        let stalled = self.sync.iter().any(|p| {
            p.version == self.sync_version
                && p.ready_since.is_none()
                && self.broken.contains(&p.version)
                && self.now.duration_since(self.created_at(p))
                    > SignedDuration::try_from(timeout).unwrap()
        });
        World {
            store_pods: self
                .store
                .iter()
                .enumerate()
                .filter_map(|(o, p)| p.as_ref().map(|p| Self::facts(p, Some(o as i32))))
                .collect(),
            sync_pods: self.sync.iter().map(|p| Self::facts(p, None)).collect(),
            sync_replicas: self.sync_replicas,
            sync_stalled: stalled.then(|| "ReplicaSet has timed out progressing".to_string()),
            jobs: self
                .jobs
                .iter()
                .map(|(name, job)| {
                    let facts = match (job.finished, job.succeeds) {
                        (false, _) => JobFacts::Running,
                        (true, true) => JobFacts::Succeeded,
                        (true, false) => JobFacts::Failed {
                            reason: "BackoffLimitExceeded".into(),
                            message: "Job has reached the specified backoff limit".into(),
                        },
                    };
                    (name.clone(), facts)
                })
                .collect(),
            transaction_log_not_ready: None,
            certificate_not_after: None,
            disruptions_allowed: Some(self.settings().max_unavailable - self.unavailable()),
        }
    }

    /// Pod names carry their creation time in the model (`name@seconds`), for stall detection.
    fn created_at(&self, pod: &Pod) -> Timestamp {
        pod.name
            .rsplit_once('@')
            .and_then(|(_, s)| s.parse::<i64>().ok())
            .map_or(self.now, |s| Timestamp::from_second(s).unwrap())
    }

    fn new_pod(&self, base: &str, version: &str) -> Pod {
        Pod {
            name: format!("{base}@{}", self.now.as_second()),
            version: version.to_string(),
            ready_since: None,
        }
    }

    /// One reconcile: plan, check the invariants, apply the rollout, and write the status unless
    /// `crash` (the operator dies between applying and writing the status).
    pub fn reconcile(&mut self, crash: bool) -> Result<(), String> {
        let world = self.world();
        let current_image = ReleaseImage::of(&self.current, &self.spec).map(|r| r.image);
        let decision = upgrade::plan(&Inputs {
            name: NAME,
            spec: &self.spec,
            annotations: &self.annotations,
            current: Some(&self.current),
            current_image: current_image.as_deref(),
            status: self.status.as_ref(),
            world: &world,
            now: self.now,
        });
        self.check(&decision)?;
        self.apply(&decision);
        if !crash {
            if let Some(phase) = decision.status.as_ref().and_then(|s| s.phase)
                && self.phases_seen.last() != Some(&phase)
            {
                self.phases_seen.push(phase);
            }
            self.status = decision.status.clone();
            if let Some(current) = &decision.current {
                self.current = current.version.clone();
            }
            if decision.consume_retry {
                self.annotations.remove(RETRY_ANNOTATION);
            }
        }
        self.last = Some(decision);
        Ok(())
    }

    fn check(&mut self, decision: &Decision) -> Result<(), String> {
        let max = self.settings().max_unavailable;
        let rollout = &decision.rollout;
        // Budget: a decision takes down only as many available store pods as the budget has
        // left (a rollback is the StatefulSet's own budget's business).
        let rolling_back =
            decision.status.as_ref().and_then(|s| s.phase) == Some(UpgradePhase::RollingBack);
        if !rolling_back {
            let same_template = self.sts_version == rollout.store.version;
            let newly = self
                .store
                .iter()
                .enumerate()
                .filter(|(o, p)| {
                    let o = *o as i32;
                    o >= rollout.store_partition
                        && !(same_template && o >= self.partition)
                        && p.as_ref()
                            .is_some_and(|p| p.version != rollout.store.version)
                        && self.available(p)
                })
                .count() as i32;
            if newly > 0 && self.unavailable() + newly > max {
                return Err(format!(
                    "partition {} → {} takes {newly} more store pods down with {} unavailable: over maxUnavailable {max}",
                    self.partition,
                    rollout.store_partition,
                    self.unavailable()
                ));
            }
        }
        // Deleted pods were unavailable already.
        for name in &decision.delete_pods {
            let pod = self.store.iter().flatten().find(|p| &p.name == name);
            if pod.is_some_and(|p| p.ready_since.is_some()) {
                return Err(format!("deletes Ready pod {name}"));
            }
        }
        let run = decision
            .status
            .as_ref()
            .and_then(|s| s.started_at.as_ref())
            .map(|t| t.0.to_string())
            .unwrap_or_default();
        for migration in &rollout.migrations {
            let name = Names::new(NAME).migration(
                migration.phase.as_str(),
                &migration.release.version,
                migration.attempt,
            );
            if self.jobs.contains_key(&name) {
                continue;
            }
            // No migration runs twice: each try's Jobs have their own names.
            if !self.created.insert(name.clone()) {
                return Err(format!(
                    "migration Job {name} created a second time (try started {run})"
                ));
            }
            // The post migration starts only when every pod runs its release.
            if migration.phase == MigrationPhase::Post {
                let version = &migration.release.version;
                let all_store = self
                    .store
                    .iter()
                    .all(|p| p.as_ref().is_some_and(|p| &p.version == version));
                let all_sync = self.sync.iter().all(|p| &p.version == version);
                if !all_store || !all_sync {
                    return Err(format!(
                        "post migration of {version} started while pods run other releases: {:?} {:?}",
                        self.store, self.sync
                    ));
                }
            }
        }
        // No rollback past a finished post migration.
        if let Some(status) = &decision.status {
            if let (Some(phase), Some(hop_from)) = (status.phase, status.hop_from.as_ref())
                && matches!(phase, UpgradePhase::RollingBack | UpgradePhase::RolledBack)
            {
                let back_to = Version::parse(hop_from).unwrap();
                if let Some(done) = self.post_done.iter().find(|v| **v > back_to) {
                    return Err(format!(
                        "rolls back to {back_to} after the post migration of {done}"
                    ));
                }
            }
            for name in &status.completed_migrations {
                if name.contains("-migrate-post-") {
                    let version = self.jobs_versions().get(name).cloned();
                    if let Some(v) = version
                        && !self.post_done.contains(&v)
                    {
                        self.post_done.push(v);
                    }
                }
            }
        }
        Ok(())
    }

    fn jobs_versions(&self) -> BTreeMap<String, Version> {
        smbp_core::catalogue::builtin()
            .releases()
            .iter()
            .flat_map(|r| {
                (0..HISTORY_ATTEMPTS).map(move |attempt| {
                    let name = Names::new(NAME).migration("post", &r.version.to_string(), attempt);
                    (name, r.version.clone())
                })
            })
            .collect()
    }

    fn apply(&mut self, decision: &Decision) {
        let rollout = &decision.rollout;
        self.sts_version = rollout.store.version.clone();
        self.partition = rollout.store_partition;
        self.sync_version = rollout.sync.version.clone();
        let wanted: BTreeSet<String> = rollout
            .migrations
            .iter()
            .map(|m| Names::new(NAME).migration(m.phase.as_str(), &m.release.version, m.attempt))
            .collect();
        self.jobs.retain(|name, _| wanted.contains(name));
        for name in wanted {
            if !self.jobs.contains_key(&name) {
                let succeeds = !self.failing_jobs.contains(&name);
                self.jobs.insert(
                    name,
                    Job {
                        succeeds,
                        finished: false,
                    },
                );
            }
        }
        for name in &decision.delete_pods {
            for slot in self.store.iter_mut() {
                if slot.as_ref().is_some_and(|p| &p.name == name) {
                    *slot = None;
                }
            }
        }
        self.controllers();
    }

    /// The StatefulSet and Deployment controllers: replace outdated pods within their budgets.
    pub fn controllers(&mut self) {
        let max = self.settings().max_unavailable;
        for o in 0..self.store.len() {
            if self.store[o].is_none() {
                let version = if (o as i32) < self.partition {
                    self.sts_current.clone()
                } else {
                    self.sts_version.clone()
                };
                self.store[o] = Some(self.new_pod(&format!("{NAME}-store-{o}"), &version));
            }
        }
        let mut unavailable = (self.partition.max(0) as usize..self.store.len())
            .filter(|o| !self.available(&self.store[*o]))
            .count() as i32;
        for o in (self.partition.max(0) as usize..self.store.len()).rev() {
            if unavailable >= max {
                break;
            }
            let outdated = self.store[o]
                .as_ref()
                .is_some_and(|p| p.version != self.sts_version);
            if outdated {
                let version = self.sts_version.clone();
                self.store[o] = Some(self.new_pod(&format!("{NAME}-store-{o}"), &version));
                unavailable += 1;
            }
        }
        if self.store.iter().all(|p| {
            p.as_ref()
                .is_some_and(|p| p.version == self.sts_version && p.ready_since.is_some())
        }) {
            self.sts_current = self.sts_version.clone();
        }
        // Deployment: surge one new pod at a time, drop an old one per new Ready pod, and scale
        // down broken new pods when the target changes back.
        let target = self.sync_version.clone();
        self.sync
            .retain(|p| p.version == target || p.ready_since.is_some());
        let new_ready = self
            .sync
            .iter()
            .filter(|p| p.version == target && p.ready_since.is_some())
            .count() as i32;
        let new_pending = self
            .sync
            .iter()
            .any(|p| p.version == target && p.ready_since.is_none());
        let old = self.sync.iter().filter(|p| p.version != target).count() as i32;
        if old > 0
            && new_ready + old > self.sync_replicas
            && let Some(at) = self.sync.iter().position(|p| p.version != target)
        {
            self.sync.remove(at);
        }
        let total = self.sync.len() as i32;
        if (old > 0 && !new_pending && total <= self.sync_replicas) || total < self.sync_replicas {
            let pod = self.new_pod(&format!("{NAME}-sync"), &target);
            self.sync.push(pod);
        }
    }

    /// The kubelet: healthy pods become Ready now.
    pub fn kubelet(&mut self) {
        let now = self.now;
        let broken = self.broken.clone();
        for pod in self.store.iter_mut().flatten().chain(self.sync.iter_mut()) {
            if pod.ready_since.is_none() && !broken.contains(&pod.version) {
                pod.ready_since = Some(now);
            }
        }
        self.controllers();
    }

    /// Every running Job finishes with its outcome.
    pub fn finish_jobs(&mut self) {
        for job in self.jobs.values_mut() {
            job.finished = true;
        }
    }

    pub fn tick(&mut self, seconds: i64) {
        self.now += SignedDuration::from_secs(seconds);
        self.controllers();
    }

    pub fn approve(&mut self) {
        if let Some(step) = self
            .status
            .as_ref()
            .and_then(|s| s.awaiting_approval.clone())
        {
            self.annotations.insert(APPROVE_ANNOTATION.into(), step);
        }
    }

    /// Lets the world run healthily (approving every step, unpaused) until the upgrade ends or
    /// `steps` reconciles passed. A step that failed with autoRollback off is answered as the
    /// condition advises: autoRollback on. Returns whether it ended (`Upgrading` false).
    pub fn drain(&mut self, steps: usize) -> Result<bool, String> {
        self.set_settings(|s| s.paused = false);
        for _ in 0..steps {
            if self
                .last
                .as_ref()
                .is_some_and(|d| d.condition.reason == "StepFailed")
            {
                self.set_settings(|s| s.auto_rollback = true);
            }
            self.approve();
            self.tick(15);
            self.kubelet();
            self.finish_jobs();
            self.reconcile(false)?;
            let idle = self.last.as_ref().is_some_and(|d| !d.condition.upgrading);
            if idle {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn strategy(&mut self, strategy: UpgradeStrategy) {
        self.set_settings(|s| s.strategy = strategy);
    }
}
