//! The upgrade state machine against a model of the cluster: scenarios (happy path, a required
//! stop, a crash-looping target, a failing migration, restarts, pause, Manual approval, the
//! maintenance window) and a property test over random event sequences that checks the
//! invariants at every step and that every run ends Completed, RolledBack or Failed.

mod upgrade_model;

use proptest::prelude::*;
use smbp_api::v1alpha1::{MaintenanceWindow, UpgradePhase, UpgradeSpec, UpgradeStrategy};
use smbp_core::build::MigrationPhase;
use smbp_core::upgrade::RETRY_ANNOTATION;
use upgrade_model::Model;

fn settings() -> UpgradeSpec {
    UpgradeSpec {
        pod_ready_timeout: "60s".into(),
        migration_timeout: "5m".into(),
        min_ready_seconds: 5,
        ..UpgradeSpec::default()
    }
}

fn upgrade(from: &str, to: &str) -> Model {
    let mut model = Model::settled(from, 3, settings());
    model.spec.version = to.into();
    model
}

fn phases(model: &Model) -> Vec<&'static str> {
    model.phases_seen.iter().map(|p| p.as_str()).collect()
}

#[test]
fn a_patch_upgrade_runs_every_phase_in_order_and_completes() {
    let mut model = upgrade("1.5.0", "1.5.1");
    assert!(model.drain(200).unwrap(), "did not end: {:?}", model.status);
    // Pending and Preflight pass within the first decision: every check holds.
    assert_eq!(
        phases(&model),
        [
            "PreMigration",
            "RollingStore",
            "RollingSync",
            "PostMigration",
            "Completed"
        ]
    );
    assert_eq!(model.current, "1.5.1");
    assert!(model.store.iter().flatten().all(|p| p.version == "1.5.1"));
    let status = model.status.as_ref().unwrap();
    assert_eq!(status.history[0].outcome, UpgradePhase::Completed);
    assert_eq!(status.completed_migrations.len(), 2);
    let events: Vec<&str> = model
        .last
        .as_ref()
        .unwrap()
        .events
        .iter()
        .map(|e| e.reason)
        .collect();
    assert!(events.contains(&"UpgradeCompleted"), "{events:?}");
}

#[test]
fn an_upgrade_across_a_required_stop_lands_on_it_with_its_own_migrations() {
    let mut model = upgrade("1.4.1", "1.5.1");
    assert!(model.drain(400).unwrap());
    let status = model.status.as_ref().unwrap();
    assert_eq!(status.stops, ["1.4.2"]);
    assert_eq!(
        status.completed_migrations,
        [
            Model::job_name(MigrationPhase::Pre, "1.4.2"),
            Model::job_name(MigrationPhase::Post, "1.4.2"),
            Model::job_name(MigrationPhase::Pre, "1.5.1"),
            Model::job_name(MigrationPhase::Post, "1.5.1"),
        ]
    );
    assert_eq!(status.phase, Some(UpgradePhase::Completed));
    assert_eq!(model.current, "1.5.1");
}

#[test]
fn a_crash_looping_target_rolls_back_and_says_why() {
    let mut model = upgrade("1.5.0", "1.5.1");
    model.broken.insert("1.5.1".into());
    assert!(model.drain(300).unwrap());
    assert_eq!(model.phase(), Some(UpgradePhase::RolledBack));
    assert!(phases(&model).contains(&"RollingBack"));
    assert_eq!(model.current, "1.5.0");
    assert!(
        model
            .store
            .iter()
            .flatten()
            .all(|p| p.version == "1.5.0" && p.ready_since.is_some())
    );
    let status = model.status.as_ref().unwrap();
    let message = status.message.as_deref().unwrap();
    assert!(
        message.contains("bp-store-2") && message.contains("podReadyTimeout"),
        "{message}"
    );
    // The post migration never ran; the pre migration did.
    assert!(
        !status
            .completed_migrations
            .iter()
            .any(|m| m.contains("post"))
    );
    let condition = &model.last.as_ref().unwrap().condition;
    assert_eq!(condition.reason, "RolledBack");
    assert!(
        condition.message.contains(RETRY_ANNOTATION),
        "{}",
        condition.message
    );

    // It stays rolled back until asked to retry; the retry runs a fresh attempt.
    model.reconcile(false).unwrap();
    assert_eq!(model.phase(), Some(UpgradePhase::RolledBack));
    model.broken.clear();
    model
        .annotations
        .insert(RETRY_ANNOTATION.into(), "1.5.1".into());
    assert!(model.drain(300).unwrap());
    assert_eq!(model.phase(), Some(UpgradePhase::Completed));
    assert!(!model.annotations.contains_key(RETRY_ANNOTATION));
    assert_eq!(model.status.as_ref().unwrap().history.len(), 2);
}

#[test]
fn a_failing_pre_migration_rolls_back_without_touching_a_pod() {
    let mut model = upgrade("1.5.0", "1.5.1");
    model
        .failing_jobs
        .insert(Model::job_name(MigrationPhase::Pre, "1.5.1"));
    assert!(model.drain(100).unwrap());
    assert_eq!(model.phase(), Some(UpgradePhase::RolledBack));
    assert!(!phases(&model).contains(&"RollingStore"));
    assert!(model.store.iter().flatten().all(|p| p.version == "1.5.0"));
    let message = model.status.as_ref().unwrap().message.clone().unwrap();
    assert!(
        message.contains("BackoffLimitExceeded") && message.contains("no pod was changed"),
        "{message}"
    );
}

#[test]
fn a_failing_post_migration_fails_without_rollback() {
    let mut model = upgrade("1.5.0", "1.5.1");
    model
        .failing_jobs
        .insert(Model::job_name(MigrationPhase::Post, "1.5.1"));
    assert!(model.drain(200).unwrap());
    assert_eq!(model.phase(), Some(UpgradePhase::Failed));
    assert!(!phases(&model).contains(&"RollingBack"));
    assert_eq!(model.current, "1.5.1");
    let message = model.status.as_ref().unwrap().message.clone().unwrap();
    assert!(message.contains("no rollback"), "{message}");
}

#[test]
fn a_restart_between_every_apply_and_status_write_repeats_no_step() {
    let mut model = upgrade("1.4.1", "1.5.1");
    for _ in 0..400 {
        model.approve();
        model.tick(15);
        model.kubelet();
        model.finish_jobs();
        // Each decision is applied twice: once by an operator that dies before writing the
        // status, once by its successor.
        model.reconcile(true).unwrap();
        model.reconcile(false).unwrap();
        if model.last.as_ref().is_some_and(|d| !d.condition.upgrading) {
            break;
        }
    }
    assert_eq!(model.phase(), Some(UpgradePhase::Completed));
}

#[test]
fn pause_holds_at_the_next_safe_point_and_resume_continues() {
    let mut model = upgrade("1.5.0", "1.5.1");
    // Run into the store rollout, then pause.
    for _ in 0..50 {
        model.tick(15);
        model.kubelet();
        model.finish_jobs();
        model.reconcile(false).unwrap();
        if model.phase() == Some(UpgradePhase::RollingStore) {
            break;
        }
    }
    model.set_settings(|s| s.paused = true);
    for _ in 0..20 {
        model.tick(15);
        model.kubelet();
        model.reconcile(false).unwrap();
    }
    let partition = model.partition;
    let condition = model.last.as_ref().unwrap().condition.clone();
    assert_eq!(condition.reason, "Paused", "{condition:?}");
    assert!(partition > 0, "paused before the store finished");
    for _ in 0..5 {
        model.tick(15);
        model.kubelet();
        model.reconcile(false).unwrap();
    }
    assert_eq!(
        model.partition, partition,
        "paused, yet the partition moved"
    );
    assert!(model.drain(200).unwrap());
    assert_eq!(model.phase(), Some(UpgradePhase::Completed));
}

#[test]
fn manual_strategy_waits_for_each_step_to_be_approved_by_name() {
    let mut model = upgrade("1.5.0", "1.5.1");
    model.strategy(UpgradeStrategy::Manual);
    let mut approvals = Vec::new();
    for _ in 0..300 {
        model.tick(15);
        model.kubelet();
        model.finish_jobs();
        model.reconcile(false).unwrap();
        if let Some(step) = model
            .status
            .as_ref()
            .and_then(|s| s.awaiting_approval.clone())
        {
            // Nothing moves without the approval.
            let before = (model.phase(), model.partition);
            model.tick(15);
            model.reconcile(false).unwrap();
            assert_eq!((model.phase(), model.partition), before);
            approvals.push(step);
            model.approve();
        }
        if model.phase() == Some(UpgradePhase::Completed) {
            break;
        }
    }
    assert_eq!(
        approvals,
        [
            "1.5.1:pre-migration",
            "1.5.1:store-2",
            "1.5.1:store-1",
            "1.5.1:store-0",
            "1.5.1:sync",
            "1.5.1:post-migration"
        ]
    );
}

#[test]
fn the_maintenance_window_defers_the_start_only() {
    let mut model = upgrade("1.5.0", "1.5.1");
    // Now is 10:00 UTC; the window opens at 11:00 for an hour.
    model.set_settings(|s| {
        s.maintenance_window = Some(MaintenanceWindow {
            days: Vec::new(),
            start: "11:00".into(),
            time_zone: "UTC".into(),
            duration: "1h".into(),
        })
    });
    model.reconcile(false).unwrap();
    assert_eq!(model.phase(), Some(UpgradePhase::Pending));
    let decision = model.last.clone().unwrap();
    assert_eq!(decision.condition.reason, "MaintenanceWindow");
    assert!(decision.requeue.unwrap().as_secs() <= 3600);
    model.tick(3600);
    model.reconcile(false).unwrap();
    assert_eq!(model.phase(), Some(UpgradePhase::PreMigration));
    // Once started it runs past the window's end.
    model.tick(7200);
    assert!(model.drain(200).unwrap());
    assert_eq!(model.phase(), Some(UpgradePhase::Completed));
}

#[test]
fn the_maintenance_window_is_read_in_its_time_zone_and_its_opening_shown_in_the_status() {
    let mut model = upgrade("1.5.0", "1.5.1");
    // Now is 10:00 UTC, 15:30 in Kolkata (+05:30): a window at 16:00 there opens at 10:30 UTC.
    // Read as UTC, 16:00 would be six hours away.
    model.set_settings(|s| {
        s.maintenance_window = Some(MaintenanceWindow {
            days: Vec::new(),
            start: "16:00".into(),
            time_zone: "Asia/Kolkata".into(),
            duration: "1h".into(),
        })
    });
    model.reconcile(false).unwrap();
    assert_eq!(model.phase(), Some(UpgradePhase::Pending));
    let decision = model.last.clone().unwrap();
    let next = decision
        .status
        .as_ref()
        .unwrap()
        .next_maintenance_window
        .clone();
    assert_eq!(
        next.map(|t| t.0.to_string()),
        Some("2026-11-21T10:30:00Z".to_string())
    );
    assert!(
        decision
            .condition
            .message
            .contains("opens at 2026-11-21T10:30:00Z (Sat 16:00 IST in Asia/Kolkata)"),
        "{}",
        decision.condition.message
    );
    assert_eq!(decision.requeue.map(|r| r.as_secs()), Some(1800));
    model.tick(1800);
    model.reconcile(false).unwrap();
    assert_eq!(model.phase(), Some(UpgradePhase::PreMigration));
    let decision = model.last.clone().unwrap();
    assert_eq!(
        decision.status.unwrap().next_maintenance_window,
        None,
        "unset while the window is open"
    );
}

#[test]
fn a_preflight_failure_names_its_check_and_changes_nothing() {
    let mut model = upgrade("1.5.0", "1.5.1");
    model.store[1].as_mut().unwrap().ready_since = None;
    model.broken.insert("1.5.0".into());
    for _ in 0..3 {
        model.tick(15);
        model.reconcile(false).unwrap();
    }
    let decision = model.last.clone().unwrap();
    assert_eq!(model.phase(), Some(UpgradePhase::Preflight));
    assert_eq!(decision.condition.reason, "PodsReady");
    assert!(
        decision.condition.message.contains("bp-store-1"),
        "{}",
        decision.condition.message
    );
    assert!(model.jobs.is_empty());
    assert_eq!(model.sts_version, "1.5.0");
}

/// What can happen between two reconciles.
#[derive(Debug, Clone)]
enum Event {
    Tick(i64),
    Kubelet,
    JobsFinish,
    Reconcile,
    CrashAfterApply,
    StorePodFails(usize),
    Pause(bool),
    Approve,
    BumpTarget,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (1i64..90).prop_map(Event::Tick),
        3 => Just(Event::Kubelet),
        2 => Just(Event::JobsFinish),
        6 => Just(Event::Reconcile),
        2 => Just(Event::CrashAfterApply),
        1 => (0usize..5).prop_map(Event::StorePodFails),
        1 => any::<bool>().prop_map(Event::Pause),
        2 => Just(Event::Approve),
        1 => Just(Event::BumpTarget),
    ]
}

/// Versions an upgrade can start from and go to (installable, in order).
fn versions() -> Vec<String> {
    smbp_core::catalogue::builtin()
        .releases()
        .iter()
        .filter(|r| r.withdrawn.is_none())
        .map(|r| r.version.to_string())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_run_keeps_the_invariants_and_ends_in_a_terminal_phase(
        from in 0usize..6,
        distance in 1usize..4,
        replicas in 2i32..6,
        max_unavailable in 1i32..3,
        manual in any::<bool>(),
        auto_rollback in prop::bool::weighted(0.8),
        broken_target in prop::bool::weighted(0.2),
        failing in prop::option::weighted(0.2, (any::<bool>(), any::<bool>())),
        events in prop::collection::vec(event(), 1..120),
    ) {
        let all = versions();
        let from = &all[from.min(all.len() - 2)];
        let at = all.iter().position(|v| v == from).unwrap();
        let to = all[(at + distance).min(all.len() - 1)].clone();
        let mut model = Model::settled(from, replicas, UpgradeSpec {
            max_unavailable: max_unavailable.min(replicas - 1),
            auto_rollback,
            strategy: if manual { UpgradeStrategy::Manual } else { UpgradeStrategy::RollingUpdate },
            ..settings()
        });
        model.spec.version = to.clone();
        if broken_target {
            model.broken.insert(to.clone());
        }
        if let Some((post, first_hop)) = failing {
            let path = smbp_core::catalogue::builtin()
                .upgrade_path(&from.parse().unwrap(), &to.parse().unwrap())
                .unwrap();
            let hop = if first_hop { path.hops[0].to_string() } else { to.clone() };
            let phase = if post { MigrationPhase::Post } else { MigrationPhase::Pre };
            model.failing_jobs.insert(Model::job_name(phase, &hop));
        }
        for event in events {
            match event {
                Event::Tick(s) => model.tick(s),
                Event::Kubelet => model.kubelet(),
                Event::JobsFinish => model.finish_jobs(),
                Event::Reconcile => model.reconcile(false).map_err(TestCaseError::fail)?,
                Event::CrashAfterApply => {
                    // The operator dies between applying and writing the status; its successor
                    // reconciles next.
                    model.reconcile(true).map_err(TestCaseError::fail)?;
                    model.reconcile(false).map_err(TestCaseError::fail)?;
                }
                Event::StorePodFails(o) => {
                    if let Some(Some(pod)) = model.store.get_mut(o) {
                        pod.ready_since = None;
                        model.external_failures = true;
                    }
                }
                Event::Pause(paused) => model.set_settings(|s| s.paused = paused),
                Event::Approve => model.approve(),
                Event::BumpTarget => {
                    let next = all.iter().position(|v| *v == model.spec.version).unwrap() + 1;
                    if let Some(v) = all.get(next) {
                        model.spec.version = v.clone();
                    }
                }
            }
            if !model.external_failures {
                let unavailable = model.unavailable();
                let rolling_back = model.phase() == Some(UpgradePhase::RollingBack);
                prop_assert!(rolling_back || unavailable <= model.settings().max_unavailable.max(1) + i32::from(model.broken.contains(&model.sts_version)),
                    "{unavailable} store pods unavailable: {:?}", model.store);
            }
        }
        // Left alone with a healthy world, every run ends.
        model.broken.remove(&model.current.clone());
        let ended = model.drain(1500).map_err(TestCaseError::fail)?;
        prop_assert!(ended, "never ended: {:?} {:?}", model.status, model.last.as_ref().map(|d| &d.condition));
        let phase = model.phase();
        prop_assert!(
            phase.is_none() || matches!(phase, Some(UpgradePhase::Completed | UpgradePhase::RolledBack | UpgradePhase::Failed)),
            "ended in {phase:?}"
        );
    }
}
