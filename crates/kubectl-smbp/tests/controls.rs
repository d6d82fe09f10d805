//! The upgrade controls, obeyed by the running operator: `start` (refused without confirmation,
//! a field-manager conflict named), `pause` holding the store partition and `resume` finishing,
//! `approve` advancing exactly one step, and `retry` after a rollback.

#[path = "../../smbp-operator/tests/support/mod.rs"]
mod support;

mod plugin;

use serde_json::{Value, json};
use smbp_core::build::ReleaseImage;
use smbp_sim::{ImageBehaviour, ImageScope, ThirdPartyCrds};
use std::time::Duration;
use support::{Env, WAIT};

const NS: &str = "fleet";
const NAME: &str = "edge";

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

async fn upgrade_status(env: &Env) -> Value {
    let object = env.get(&env.bigpeers(NS), NAME).await.expect("BigPeer");
    object["status"]["upgrade"].clone()
}

/// Waits until `status.upgrade` satisfies `check`, returning it.
async fn until(env: &Env, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    support::eventually(what, WAIT, || async {
        let status = upgrade_status(env).await;
        check(&status).then_some(status)
    })
    .await
}

/// Starts the upgrade to `to` with the plugin, taking `spec.version` over from the manager that
/// created the BigPeer.
async fn start(env: &Env, to: &str) {
    plugin::expect(
        &env.sim,
        0,
        &[
            "-n",
            NS,
            "upgrade",
            "start",
            NAME,
            "--to",
            to,
            "--yes",
            "--force-conflicts",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_asks_first_names_a_conflicting_manager_and_pause_holds_the_partition() {
    // Each store step holds 20 simulated seconds (2 s real), so the pause lands mid-store.
    let env = running(
        "1.5.0",
        json!({"minReadySeconds": 20, "podReadyTimeout": "2m"}),
    )
    .await;
    let args = ["-n", NS, "upgrade", "start", NAME, "--to", "1.5.1"];

    let no_terminal = plugin::expect(&env.sim, 5, &args).await;
    assert!(
        no_terminal.err.contains("pass --yes"),
        "{}",
        no_terminal.err
    );
    assert!(
        no_terminal.err.contains("from 1.5.0 to 1.5.1"),
        "{}",
        no_terminal.err
    );
    let declined =
        plugin::run_at(env.sim.kubeconfig_path(), &args, Some("n\n"), env.sim.now()).await;
    assert_eq!(declined.code, 5, "{declined:?}");
    assert!(declined.err.contains("Proceed? [y/N]"), "{}", declined.err);
    // spec.version was set by the manager that created the BigPeer: a conflict, named.
    let conflict =
        plugin::run_at(env.sim.kubeconfig_path(), &args, Some("y\n"), env.sim.now()).await;
    assert_eq!(conflict.code, 7, "{conflict:?}");
    assert!(conflict.err.contains(".spec.version"), "{}", conflict.err);
    let bigpeer = env.get(&env.bigpeers(NS), NAME).await.unwrap();
    assert_eq!(
        bigpeer["spec"]["version"], "1.5.0",
        "nothing may change before confirmation"
    );

    let refused = plugin::expect(
        &env.sim,
        6,
        &["-n", NS, "upgrade", "start", NAME, "--to", "1.4.2", "--yes"],
    )
    .await;
    assert!(refused.err.contains("downgrade"), "{}", refused.err);

    start(&env, "1.5.1").await;
    let managers: Vec<String> =
        env.get(&env.bigpeers(NS), NAME).await.unwrap()["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["manager"].as_str().unwrap_or_default().to_string())
            .collect();
    assert!(
        managers.iter().any(|m| m == "kubectl-smbp-start"),
        "{managers:?}"
    );

    until(&env, "RollingStore", |u| u["phase"] == "RollingStore").await;
    plugin::expect(&env.sim, 0, &["-n", NS, "upgrade", "pause", NAME, "--yes"]).await;
    let held = support::eventually("paused", WAIT, || async {
        let object = env.get(&env.bigpeers(NS), NAME).await.unwrap();
        let upgrading = object["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Upgrading").cloned())
            .unwrap_or_default();
        (upgrading["reason"] == "Paused").then(|| object["status"]["upgrade"].clone())
    })
    .await;
    let partition = held["storePartition"].clone();
    assert!(
        partition.as_i64().is_some_and(|p| p > 0),
        "paused after the store finished: {held:#}"
    );
    let shown = plugin::expect(&env.sim, 0, &["-n", NS, "status", NAME]).await;
    assert!(
        shown
            .out
            .contains("RollingStore (paused) 1.5.0 → 1.5.1, hop 1 of 1"),
        "{}",
        shown.out
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        upgrade_status(&env).await["storePartition"],
        partition,
        "the partition moved while paused"
    );

    plugin::expect(&env.sim, 0, &["-n", NS, "upgrade", "resume", NAME, "--yes"]).await;
    until(&env, "Completed", |u| u["phase"] == "Completed").await;
    // The pause manager now owns paused=false; the start manager still owns the version.
    let bigpeer = env.get(&env.bigpeers(NS), NAME).await.unwrap();
    assert_eq!(bigpeer["spec"]["version"], "1.5.1");
    assert_eq!(bigpeer["spec"]["upgrade"]["paused"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_advances_a_manual_upgrade_by_exactly_one_step() {
    let env = running("1.5.0", json!({"strategy": "Manual"})).await;
    start(&env, "1.5.1").await;
    until(&env, "the first approval", |u| {
        u["awaitingApproval"] == "1.5.1:pre-migration"
    })
    .await;
    let shown = plugin::expect(&env.sim, 0, &["-n", NS, "status", NAME]).await;
    assert!(
        shown
            .out
            .contains("[--------------------] step 1 of 6: 1.5.1:pre-migration"),
        "{}",
        shown.out
    );

    let approved = plugin::expect(
        &env.sim,
        0,
        &["-n", NS, "upgrade", "approve", NAME, "--yes"],
    )
    .await;
    assert!(
        approved.err.contains("Approve step 1.5.1:pre-migration"),
        "{}",
        approved.err
    );
    let next = until(&env, "the next approval", |u| {
        u["awaitingApproval"] == "1.5.1:store-2"
    })
    .await;
    assert_eq!(next["phase"], "RollingStore");
    assert_eq!(
        next["storePartition"], 3,
        "no store pod may move before its approval: {next:#}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = upgrade_status(&env).await;
    assert_eq!(still["awaitingApproval"], "1.5.1:store-2", "{still:#}");
    assert_eq!(still["storePartition"], 3);

    plugin::expect(
        &env.sim,
        0,
        &[
            "-n",
            NS,
            "upgrade",
            "approve",
            NAME,
            "1.5.1:store-2",
            "--yes",
        ],
    )
    .await;
    until(&env, "store-1 awaited", |u| {
        u["awaitingApproval"] == "1.5.1:store-1"
    })
    .await;
    assert_eq!(upgrade_status(&env).await["storePartition"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_is_refused_until_a_rollback_and_then_starts_a_new_attempt() {
    let env = running("1.5.0", json!({})).await;
    let refused = plugin::expect(&env.sim, 6, &["-n", NS, "upgrade", "retry", NAME, "--yes"]).await;
    assert!(
        refused.err.contains("only a RolledBack or Failed upgrade"),
        "{}",
        refused.err
    );
    let approve = plugin::expect(
        &env.sim,
        6,
        &["-n", NS, "upgrade", "approve", NAME, "--yes"],
    )
    .await;
    assert!(
        approve.err.contains("strategy RollingUpdate"),
        "{}",
        approve.err
    );

    let target: smbp_api::v1alpha1::BigPeerSpec =
        serde_json::from_value(spec("1.5.1", json!({}))).unwrap();
    let image = ReleaseImage::of("1.5.1", &target).unwrap().image;
    env.sim.controls().set_image_behaviour_in(
        &image,
        ImageScope::Servers,
        ImageBehaviour::CrashLoop,
    );
    start(&env, "1.5.1").await;
    until(&env, "RolledBack", |u| u["phase"] == "RolledBack").await;
    let shown = plugin::expect(&env.sim, 0, &["-n", NS, "status", NAME]).await;
    assert!(
        shown
            .out
            .contains("Last upgrade:    RolledBack 1.5.0 → 1.5.1"),
        "{}",
        shown.out
    );

    env.sim.controls().clear_image_behaviours();
    let retried = plugin::expect(&env.sim, 0, &["-n", NS, "upgrade", "retry", NAME, "--yes"]).await;
    assert!(
        retried.err.contains("rolled back because"),
        "{}",
        retried.err
    );
    until(&env, "Completed", |u| u["phase"] == "Completed").await;
}
