//! The steps of an upgrade, named as the state machine names them in
//! `status.upgrade.awaitingApproval` and as a Manual approval must name them
//! (`<hop>:pre-migration`, `<hop>:store-<partition>`, `<hop>:sync`, `<hop>:post-migration`), and
//! the whole list of steps an upgrade along a path takes with given rollout settings — what the
//! kubectl plugin shows as a plan and as progress ("step k of n").

use smbp_api::v1alpha1::{UpgradePhase, UpgradeStatus};

/// The step that runs a hop's expand migration Job.
pub fn pre_migration(hop: &str) -> String {
    format!("{hop}:pre-migration")
}

/// The store partition step that lowers the partition to `partition` (updating the pods with
/// ordinals from `partition` up to the previous partition).
pub fn store(hop: &str, partition: i32) -> String {
    format!("{hop}:store-{partition}")
}

/// The step that rolls the sync Deployment out.
pub fn sync(hop: &str) -> String {
    format!("{hop}:sync")
}

/// The step that runs a hop's contract migration Job.
pub fn post_migration(hop: &str) -> String {
    format!("{hop}:post-migration")
}

/// What one step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// The expand migration (`migrate --phase pre`).
    PreMigration,
    /// Store pods updated together, highest ordinal first.
    Store {
        /// The partition after the step.
        partition: i32,
        /// The ordinals updated by the step, in the order they are replaced.
        ordinals: Vec<i32>,
    },
    /// The sync Deployment's rollout.
    Sync,
    /// The contract migration (`migrate --phase post`).
    PostMigration,
}

/// One step of an upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    /// The release the step rolls out.
    pub hop: String,
    /// What it does.
    pub kind: StepKind,
    /// Its name (what an approval names).
    pub id: String,
}

/// Every step of an upgrade through `hops` (the required stops, then the target) of a store of
/// `replicas` pods updated `max_unavailable` at a time, in the order they run, when every pod
/// stays available.
pub fn planned(hops: &[String], replicas: i32, max_unavailable: i32) -> Vec<PlannedStep> {
    let step = |hop: &String, kind: StepKind, id: String| PlannedStep {
        hop: hop.clone(),
        kind,
        id,
    };
    let mut steps = Vec::new();
    for hop in hops {
        steps.push(step(hop, StepKind::PreMigration, pre_migration(hop)));
        let mut partition = replicas.max(0);
        while partition > 0 {
            let next = partition - max_unavailable.max(1).min(partition);
            let ordinals = (next..partition).rev().collect();
            steps.push(step(
                hop,
                StepKind::Store {
                    partition: next,
                    ordinals,
                },
                store(hop, next),
            ));
            partition = next;
        }
        steps.push(step(hop, StepKind::Sync, sync(hop)));
        steps.push(step(hop, StepKind::PostMigration, post_migration(hop)));
    }
    steps
}

/// The index in `steps` of the step an upgrade in `status` is running or waiting to run; `None`
/// before the first step (pending, pre-flight) and after the last.
pub fn position(steps: &[PlannedStep], status: &UpgradeStatus) -> Option<usize> {
    let find = |id: &str| steps.iter().position(|s| s.id == id);
    if let Some(awaiting) = &status.awaiting_approval {
        return find(awaiting);
    }
    let hop = status.hop.as_deref()?;
    match status.phase? {
        UpgradePhase::PreMigration => find(&pre_migration(hop)),
        UpgradePhase::RollingStore => status
            .store_partition
            .and_then(|p| find(&store(hop, p)))
            .or_else(|| find(&pre_migration(hop)).map(|i| i + 1)),
        UpgradePhase::RollingSync => find(&sync(hop)),
        UpgradePhase::PostMigration => find(&post_migration(hop)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(steps: &[PlannedStep]) -> Vec<&str> {
        steps.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn a_three_pod_store_is_updated_one_pod_per_step_per_hop() {
        let steps = planned(&["1.4.2".into(), "1.5.1".into()], 3, 1);
        assert_eq!(
            ids(&steps)[..6],
            [
                "1.4.2:pre-migration",
                "1.4.2:store-2",
                "1.4.2:store-1",
                "1.4.2:store-0",
                "1.4.2:sync",
                "1.4.2:post-migration"
            ]
        );
        assert_eq!(steps.len(), 12);
    }

    #[test]
    fn max_unavailable_groups_pods_highest_ordinal_first() {
        let steps = planned(&["1.5.1".into()], 5, 2);
        let store: Vec<_> = steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Store { ordinals, .. } => Some(ordinals.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(store, vec![vec![4, 3], vec![2, 1], vec![0]]);
    }

    #[test]
    fn position_follows_the_phase_the_partition_and_an_awaited_approval() {
        let steps = planned(&["1.5.1".into()], 3, 1);
        let mut status = UpgradeStatus {
            phase: Some(UpgradePhase::RollingStore),
            hop: Some("1.5.1".into()),
            store_partition: Some(1),
            ..Default::default()
        };
        assert_eq!(position(&steps, &status), Some(2));
        status.awaiting_approval = Some("1.5.1:sync".into());
        assert_eq!(position(&steps, &status), Some(4));
        status.awaiting_approval = None;
        status.phase = Some(UpgradePhase::Preflight);
        assert_eq!(position(&steps, &status), None);
    }
}
