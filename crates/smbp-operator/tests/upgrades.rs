//! Version upgrades against the simulated cluster: the happy path, a path through a required
//! stop, a crash-looping target rolled back, a failing pre migration rolled back before any pod
//! changed, an operator restarted mid-rollout, pause and resume, and Manual approval — each
//! watched through the BigPeer's status, its Events and the pods themselves.

mod support;

use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use smbp_core::build::ReleaseImage;
use smbp_sim::{ImageBehaviour, ImageScope, ThirdPartyCrds};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Env, WAIT};

const NS: &str = "fleet";
const NAME: &str = "edge";

/// A BigPeer on `version` with an external broker (no Strimzi needed) and short upgrade
/// timeouts, with `upgrade` merged into `spec.upgrade`.
fn spec(version: &str, upgrade: Value) -> Value {
    let mut settings =
        json!({"podReadyTimeout": "30s", "minReadySeconds": 1, "migrationTimeout": "2m"});
    support::merge(&mut settings, &upgrade);
    json!({
        "version": version,
        "store": {"replicas": 3, "storage": {"size": "1Gi"}},
        "sync": {"replicas": 2},
        "transactionLog": {"external": {"bootstrapServers": ["kafka.example:9092"], "topic": "events"}},
        "upgrade": settings,
    })
}

async fn running(version: &str, upgrade: Value) -> Env {
    let env = Env::start(ThirdPartyCrds::all()).await;
    env.namespace(NS).await;
    env.create_bigpeer(NS, NAME, spec(version, upgrade)).await;
    env.condition(NS, NAME, "Ready", "True").await;
    env
}

async fn bigpeer(env: &Env) -> Value {
    env.get(&env.bigpeers(NS), NAME)
        .await
        .expect("BigPeer exists")
}

/// Waits until `status.upgrade.phase` is `phase`, returning the BigPeer.
async fn phase(env: &Env, phase: &str) -> Value {
    let start = Instant::now();
    loop {
        let object = bigpeer(env).await;
        if object.pointer("/status/upgrade/phase") == Some(&json!(phase)) {
            return object;
        }
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for upgrade phase {phase}; status: {:#}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn condition<'a>(object: &'a Value, type_: &str) -> &'a Value {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

/// Whether a pod status says Ready.
fn pod_ready(status: &Value) -> bool {
    status["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// The store pods' versions and uids, by name.
async fn store_pods(env: &Env) -> BTreeMap<String, (String, String, bool)> {
    let pods = env.api("v1", "Pod", "pods", NS);
    let list = pods
        .list(&ListParams::default().labels(&format!(
            "app.kubernetes.io/instance={NAME},app.kubernetes.io/component=store"
        )))
        .await
        .expect("list pods");
    list.items
        .into_iter()
        .map(|p| {
            let p = serde_json::to_value(p).unwrap();
            let ready = pod_ready(&p["status"]);
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                (
                    p["metadata"]["labels"]["app.kubernetes.io/version"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    p["metadata"]["uid"].as_str().unwrap().to_string(),
                    ready,
                ),
            )
        })
        .collect()
}

/// Waits until Events with every one of `reasons` are published about the BigPeer (the operator
/// publishes them right after the status write the test saw), failing with those it found.
async fn events_published(env: &Env, reasons: &[&str]) {
    let events = env.api("events.k8s.io/v1", "Event", "events", NS);
    let start = Instant::now();
    loop {
        let list = events
            .list(&ListParams::default())
            .await
            .expect("list events");
        let found: Vec<String> = list
            .items
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .filter(|e| e["regarding"]["name"] == NAME)
            .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
            .collect();
        let missing: Vec<&&str> = reasons
            .iter()
            .filter(|r| !found.iter().any(|f| f == **r))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(start.elapsed() < WAIT, "no {missing:?} Event in {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn image(version: &str) -> String {
    let spec = serde_json::from_value(spec(version, json!({}))).unwrap();
    ReleaseImage::of(version, &spec).unwrap().image
}

/// Records, until dropped, every migration Job's uid and the fewest Ready store pods seen.
struct Watch {
    jobs: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>,
    fewest_ready: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    fn start(env: &Env) -> Watch {
        let jobs_api = env.api("batch/v1", "Job", "jobs", NS);
        let pods_api = env.api("v1", "Pod", "pods", NS);
        let jobs = Arc::new(Mutex::new(BTreeMap::<String, BTreeSet<String>>::new()));
        let fewest_ready = Arc::new(Mutex::new(usize::MAX));
        let (j, f) = (jobs.clone(), fewest_ready.clone());
        let task = tokio::spawn(async move {
            let selector = format!("app.kubernetes.io/instance={NAME}");
            loop {
                if let Ok(list) = jobs_api
                    .list(&ListParams::default().labels(&selector))
                    .await
                {
                    let mut seen = j.lock().unwrap();
                    for job in list.items {
                        seen.entry(job.metadata.name.clone().unwrap_or_default())
                            .or_default()
                            .insert(job.metadata.uid.clone().unwrap_or_default());
                    }
                }
                let store = format!("{selector},app.kubernetes.io/component=store");
                if let Ok(list) = pods_api.list(&ListParams::default().labels(&store)).await {
                    let ready = list
                        .items
                        .iter()
                        .filter(|p| pod_ready(&p.data["status"]))
                        .count();
                    let mut fewest = f.lock().unwrap();
                    *fewest = (*fewest).min(ready);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Watch {
            jobs,
            fewest_ready,
            task,
        }
    }

    fn stop(self) -> (BTreeMap<String, BTreeSet<String>>, usize) {
        self.task.abort();
        let jobs = self.jobs.lock().unwrap().clone();
        let fewest = *self.fewest_ready.lock().unwrap();
        (jobs, fewest)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_upgrade_migrates_rolls_the_store_one_pod_at_a_time_and_completes() {
    let env = running("1.5.0", json!({})).await;
    let before = store_pods(&env).await;
    let writes_before = env.operator_writes_by_resource();
    let watch = Watch::start(&env);
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    let done = phase(&env, "Completed").await;
    let (jobs, fewest_ready) = watch.stop();
    // Only the workloads, their migration Jobs, the status and Events were written: an upgrade
    // rewrites no Service, policy or other child.
    let written: BTreeSet<String> = env
        .operator_writes_by_resource()
        .into_iter()
        .filter(|w| !writes_before.contains(w))
        .map(|(_, resource, _)| resource)
        .collect();
    let rollout = [
        "statefulsets",
        "deployments",
        "jobs",
        "bigpeers/status",
        "events",
        "pods",
    ];
    assert!(
        written.iter().all(|r| rollout.contains(&r.as_str())),
        "the upgrade wrote {written:?}"
    );

    assert_eq!(done["status"]["version"]["current"], "1.5.1");
    assert_eq!(done["status"]["version"]["image"], image("1.5.1"));
    let history = &done["status"]["upgrade"]["history"][0];
    assert_eq!(
        (history["from"].as_str(), history["to"].as_str()),
        (Some("1.5.0"), Some("1.5.1"))
    );
    assert_eq!(history["outcome"], "Completed");
    // Both migrations ran, each in exactly one Job.
    let names: Vec<&String> = jobs.keys().collect();
    assert_eq!(names, ["edge-migrate-post-1-5-1", "edge-migrate-pre-1-5-1"]);
    assert!(jobs.values().all(|uids| uids.len() == 1), "{jobs:?}");
    // Never more than maxUnavailable (1) of the 3 store pods down.
    assert!(
        fewest_ready >= 2,
        "only {fewest_ready} store pods were Ready at one point"
    );
    let after = store_pods(&env).await;
    assert!(after.values().all(|(v, _, _)| v == "1.5.1"), "{after:?}");
    assert!(
        before
            .iter()
            .all(|(name, (_, uid, _))| after[name].1 != *uid),
        "every store pod was replaced"
    );
    events_published(
        &env,
        &[
            "UpgradeStarted",
            "PreflightPassed",
            "MigrationSucceeded",
            "UpdatingStorePod",
            "UpgradeCompleted",
        ],
    )
    .await;
    env.condition(NS, NAME, "Ready", "True").await;
    let ready = bigpeer(&env).await;
    assert_eq!(condition(&ready, "Upgrading")["status"], "False");
    assert_eq!(condition(&ready, "Upgrading")["reason"], "Completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_through_a_required_stop_runs_each_hop_with_its_migrations() {
    let env = running("1.4.1", json!({})).await;
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    let done = phase(&env, "Completed").await;
    let upgrade = &done["status"]["upgrade"];
    assert_eq!(upgrade["stops"], json!(["1.4.2"]));
    assert_eq!(
        upgrade["completedMigrations"],
        json!([
            "edge-migrate-pre-1-4-2",
            "edge-migrate-post-1-4-2",
            "edge-migrate-pre-1-5-1",
            "edge-migrate-post-1-5-1"
        ])
    );
    assert_eq!(done["status"]["version"]["current"], "1.5.1");
    events_published(&env, &["HopCompleted"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_target_is_rolled_back_with_the_cause_in_conditions_and_events() {
    let env = running("1.5.0", json!({})).await;
    // The new server crashes; its migration command works.
    env.sim.controls().set_image_behaviour_in(
        &image("1.5.1"),
        ImageScope::Servers,
        ImageBehaviour::CrashLoop,
    );
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    phase(&env, "RollingBack").await;
    let rolled_back = phase(&env, "RolledBack").await;
    assert_eq!(rolled_back["status"]["version"]["current"], "1.5.0");
    let upgrading = condition(&rolled_back, "Upgrading");
    assert_eq!(upgrading["status"], "False");
    assert_eq!(upgrading["reason"], "RolledBack");
    let message = upgrading["message"].as_str().unwrap();
    assert!(
        message.contains("edge-store-2") && message.contains("smbp.dev/retry-upgrade"),
        "{message}"
    );
    let pods = store_pods(&env).await;
    assert!(pods.values().all(|(v, _, _)| v == "1.5.0"), "{pods:?}");
    events_published(&env, &["UpgradeRollingBack", "UpgradeRolledBack"]).await;
    env.condition(NS, NAME, "Ready", "True").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_pre_migration_rolls_back_before_any_pod_changes() {
    let env = running("1.5.0", json!({})).await;
    let before = store_pods(&env).await;
    env.sim.controls().set_image_behaviour_in(
        &image("1.5.1"),
        ImageScope::RunToCompletion,
        ImageBehaviour::Exit {
            code: 3,
            after: Duration::from_secs(1),
        },
    );
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    let rolled_back = phase(&env, "RolledBack").await;
    let message = rolled_back["status"]["upgrade"]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("edge-migrate-pre-1-5-1") && message.contains("BackoffLimitExceeded"),
        "{message}"
    );
    let after = store_pods(&env).await;
    assert_eq!(
        before
            .iter()
            .map(|(n, (v, uid, _))| (n, v, uid))
            .collect::<Vec<_>>(),
        after
            .iter()
            .map(|(n, (v, uid, _))| (n, v, uid))
            .collect::<Vec<_>>(),
        "a store pod changed"
    );
    // The failed Job stays for its logs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let job = env
        .get(
            &env.api("batch/v1", "Job", "jobs", NS),
            "edge-migrate-pre-1-5-1",
        )
        .await;
    let failed = job
        .as_ref()
        .and_then(|j| j["status"]["conditions"].as_array())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Failed" && c["status"] == "True")
        });
    assert!(
        failed,
        "the failed migration Job is gone or not failed: {job:?}"
    );
    let sts = env
        .get(
            &env.api("apps/v1", "StatefulSet", "statefulsets", NS),
            "edge-store",
        )
        .await
        .unwrap();
    assert_eq!(
        sts["spec"]["template"]["spec"]["containers"][0]["image"],
        image("1.5.0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_restarted_mid_rollout_completes_without_repeating_a_step() {
    let mut env = running("1.5.0", json!({})).await;
    let watch = Watch::start(&env);
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    let start = Instant::now();
    loop {
        let object = bigpeer(&env).await;
        let partition = object["status"]["upgrade"]["storePartition"].as_i64();
        if object["status"]["upgrade"]["phase"] == "RollingStore"
            && partition.is_some_and(|p| p < 3)
        {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "never reached the store rollout: {:#}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    env.stop_operator().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    env.start_operator().await;
    let done = phase(&env, "Completed").await;
    let (jobs, fewest_ready) = watch.stop();
    assert!(
        jobs.values().all(|uids| uids.len() == 1),
        "a migration ran twice: {jobs:?}"
    );
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(
        fewest_ready >= 2,
        "only {fewest_ready} store pods were Ready at one point"
    );
    assert_eq!(done["status"]["version"]["current"], "1.5.1");
    events_published(&env, &["UpgradeResumed"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_the_rollout_at_a_safe_point_and_resume_finishes_it() {
    let env = running("1.5.0", json!({})).await;
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    phase(&env, "RollingStore").await;
    env.patch_spec(NS, NAME, json!({"upgrade": {"paused": true}}))
        .await;
    let start = Instant::now();
    let held = loop {
        let object = bigpeer(&env).await;
        if condition(&object, "Upgrading")["reason"] == "Paused" {
            break object;
        }
        assert!(
            start.elapsed() < WAIT,
            "never paused: {:#}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let partition = held["status"]["upgrade"]["storePartition"].clone();
    assert!(
        partition.as_i64().is_some_and(|p| p > 0),
        "paused after the store finished: {partition}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = bigpeer(&env).await;
    assert_eq!(
        still["status"]["upgrade"]["storePartition"], partition,
        "the partition moved while paused"
    );
    events_published(&env, &["UpgradePaused"]).await;
    env.patch_spec(NS, NAME, json!({"upgrade": {"paused": false}}))
        .await;
    phase(&env, "Completed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_strategy_advances_only_on_each_named_approval() {
    let env = running("1.5.0", json!({"strategy": "Manual"})).await;
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    let bigpeers: Api<kube::api::DynamicObject> = env.bigpeers(NS);
    let mut approvals: Vec<String> = Vec::new();
    let start = Instant::now();
    loop {
        let object = bigpeer(&env).await;
        if object["status"]["upgrade"]["phase"] == "Completed" {
            break;
        }
        let awaiting = object["status"]["upgrade"]["awaitingApproval"]
            .as_str()
            .map(str::to_string);
        if let Some(step) = awaiting.filter(|s| approvals.last() != Some(s)) {
            assert_eq!(
                condition(&object, "Upgrading")["reason"],
                "AwaitingApproval"
            );
            // Unapproved, nothing moves.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let still = bigpeer(&env).await;
            assert_eq!(still["status"]["upgrade"]["awaitingApproval"], json!(step));
            let patch = json!({"metadata": {"annotations": {"smbp.dev/approve-step": step}}});
            bigpeers
                .patch(NAME, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
            approvals.push(step);
        }
        assert!(start.elapsed() < WAIT * 2, "stuck: {:#}", object["status"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_waits_for_the_maintenance_window_in_its_time_zone() {
    // Kathmandu is UTC+05:45: a window read as UTC would open hours away from the real one.
    let zone = jiff::tz::TimeZone::get("Asia/Kathmandu").unwrap();
    let env = running("1.5.0", json!({})).await;
    let clock = env.sim.clock_reader();
    // The next local minute at least 3 minutes (of cluster time, 18 s of real time) ahead, on
    // its local weekday only.
    let local = (clock() + jiff::SignedDuration::from_secs(180))
        .to_zoned(zone.clone())
        .round(
            jiff::ZonedRound::new()
                .smallest(jiff::Unit::Minute)
                .mode(jiff::RoundMode::Ceil),
        )
        .unwrap();
    let opening = local.timestamp();
    let day = format!("{:?}", local.weekday());
    let window = json!({"days": [day], "start": local.strftime("%H:%M").to_string(),
        "duration": "30m", "timeZone": "Asia/Kathmandu"});
    env.patch_spec(
        NS,
        NAME,
        json!({"version": "1.5.1", "upgrade": {"maintenanceWindow": window}}),
    )
    .await;
    let waiting = phase(&env, "Pending").await;
    let start = Instant::now();
    let mut waiting = waiting;
    while condition(&waiting, "Upgrading")["reason"] != "MaintenanceWindow" {
        assert!(start.elapsed() < WAIT, "{:#}", waiting["status"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        waiting = bigpeer(&env).await;
    }
    assert_eq!(
        waiting["status"]["upgrade"]["nextMaintenanceWindow"],
        json!(opening.to_string()),
        "{:#}",
        waiting["status"]
    );
    let message = condition(&waiting, "Upgrading")["message"].clone();
    assert!(
        message
            .as_str()
            .is_some_and(|m| m.contains("in Asia/Kathmandu")),
        "{message}"
    );
    // A start seen before the opening (the clock read after each look) would be too early.
    let start = Instant::now();
    loop {
        let object = bigpeer(&env).await;
        let after = clock();
        let upgrade_phase = object["status"]["upgrade"]["phase"].clone();
        if upgrade_phase != "Pending" {
            assert!(
                after >= opening,
                "started before {opening}: {upgrade_phase}"
            );
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "never started: {:#}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = phase(&env, "Completed").await;
    assert!(
        done["status"]["upgrade"]["nextMaintenanceWindow"].is_null(),
        "the window is open: {:#}",
        done["status"]
    );
}
