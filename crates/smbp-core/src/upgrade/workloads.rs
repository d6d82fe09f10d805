//! What the workloads run in the state the upgrade reached — which release the store and sync
//! templates carry, the store's partition — and which migration Jobs exist: the one a phase runs,
//! those a stored status has not yet recorded, and failed ones kept for their logs.

use super::machine::{Machine, attempt_of};
use crate::build::{Migration, MigrationPhase, Rollout};
use smbp_api::v1alpha1::{UpgradePhase, UpgradeStatus};

impl Machine<'_> {
    /// The workloads and migration Jobs the reached state asks for.
    pub(super) fn rollout(&self) -> Rollout {
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
            let recorded = |job: &str| {
                stored.is_some_and(|s| {
                    s.started_at == run.started_at
                        && s.completed_migrations.iter().any(|c| c == job)
                })
            };
            self.keep_jobs(&mut rollout, run, |job| {
                self.inputs.world.jobs.contains_key(job) && !recorded(job)
            });
        }
        // A failed migration Job stays, for its logs, until the next upgrade starts.
        if matches!(
            state.phase,
            Some(UpgradePhase::RolledBack | UpgradePhase::Failed)
        ) {
            self.keep_jobs(&mut rollout, state, |job| {
                matches!(
                    self.inputs.world.jobs.get(job),
                    Some(super::JobFacts::Failed { .. })
                )
            });
        }
        rollout
    }

    /// Adds to `rollout` every migration Job of the try `run` that `keep` selects by name and
    /// that is not listed yet.
    fn keep_jobs(&self, rollout: &mut Rollout, run: &UpgradeStatus, keep: impl Fn(&str) -> bool) {
        let attempt = attempt_of(run);
        for version in run.stops.iter().chain(run.to.as_ref()) {
            for phase in [MigrationPhase::Pre, MigrationPhase::Post] {
                let job = self.names.migration(phase.as_str(), version, attempt);
                let listed = rollout.migrations.iter().any(|m| {
                    m.phase == phase && &m.release.version == version && m.attempt == attempt
                });
                if !listed && keep(&job) {
                    rollout.migrations.push(Migration {
                        phase,
                        release: self.image_of(version),
                        attempt,
                    });
                }
            }
        }
    }
}
