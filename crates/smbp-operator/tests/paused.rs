//! Paused reconciliation (`smbp.dev/reconcile-paused: "true"`) against the simulated cluster: a
//! paused BigPeer costs no write at all — counted by the cluster's request accounting — while its
//! spec, a child and its pods change, converges once the pause is lifted, and is deleted as usual
//! when paused; a pause during an upgrade holds the upgrade's step and its store partition.

mod support;

use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use smbp_sim::ThirdPartyCrds;
use std::time::{Duration, Instant};
use support::{Env, WAIT, eventually};

const NS: &str = "ops";
const NAME: &str = "edge";
const PAUSE: &str = "smbp.dev/reconcile-paused";

/// A BigPeer on `version` with an external broker (no Strimzi needed) and quick upgrades.
fn spec(version: &str) -> Value {
    json!({
        "version": version,
        "store": {"replicas": 3, "storage": {"size": "1Gi"}},
        "sync": {"replicas": 2},
        "transactionLog": {"external": {"bootstrapServers": ["kafka.example:9092"], "topic": "events"}},
        "upgrade": {"podReadyTimeout": "30s", "minReadySeconds": 1, "migrationTimeout": "2m"},
    })
}

async fn running(version: &str) -> Env {
    let env = Env::start(ThirdPartyCrds::all()).await;
    env.namespace(NS).await;
    env.create_bigpeer(NS, NAME, spec(version)).await;
    env.condition(NS, NAME, "Ready", "True").await;
    env
}

async fn annotate(env: &Env, value: Value) {
    env.bigpeers(NS)
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {PAUSE: value}}})),
        )
        .await
        .expect("annotate the BigPeer");
}

async fn bigpeer(env: &Env) -> Value {
    env.get(&env.bigpeers(NS), NAME).await.expect("the BigPeer")
}

fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Pauses the BigPeer and waits until the pause is shown and announced; returns the condition.
async fn pause(env: &Env) -> Value {
    annotate(env, json!("true")).await;
    let shown = env.condition(NS, NAME, "ReconcilePaused", "True").await;
    event_published(env, "ReconcilePaused").await;
    shown
}

async fn event_published(env: &Env, reason: &str) {
    let events = env.api("events.k8s.io/v1", "Event", "events", NS);
    eventually(&format!("a {reason} Event"), WAIT, || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .any(|e| e.data["regarding"]["name"] == NAME && e.data["reason"] == reason)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_bigpeer_writes_nothing_while_it_changes_converges_once_resumed_and_can_be_deleted()
 {
    let env = running("1.5.1").await;
    let shown = pause(&env).await;
    assert_eq!(shown["reason"], "PausedByAnnotation", "{shown}");
    let message = shown["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("reconciliation paused at ")
            && message.contains("smbp.dev/reconcile-paused"),
        "{message}"
    );
    let status_before = bigpeer(&env).await["status"].clone();
    let writes = env.operator_writes();
    let snapshot = env.operator_writes_by_resource();
    let reconciles = env.reconcile_count();

    // The spec changes, someone edits a child, and a store pod is deleted (its StatefulSet
    // replaces it): each wakes the operator, which looks and writes nothing.
    env.patch_spec(NS, NAME, json!({"sync": {"replicas": 3}}))
        .await;
    let configs = env.api("v1", "ConfigMap", "configmaps", NS);
    configs
        .patch(
            "edge-config",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"bigpeer.yaml": "edited: by hand\n"}})),
        )
        .await
        .expect("edit the ConfigMap");
    let pods: Api<DynamicObject> = env.api("v1", "Pod", "pods", NS);
    let old_pod = env.get(&pods, "edge-store-0").await.expect("a store pod");
    pods.delete("edge-store-0", &Default::default())
        .await
        .expect("delete a pod");
    eventually("the store pod replaced", WAIT, || async {
        let pod = env.get(&pods, "edge-store-0").await?;
        (pod["metadata"]["uid"] != old_pod["metadata"]["uid"]).then_some(())
    })
    .await;
    eventually("the operator looked again", WAIT, || async {
        (env.reconcile_count() >= reconciles + 2).then_some(())
    })
    .await;
    // Give a write that was going to happen time to be made (20 s of cluster time).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        env.operator_writes(),
        writes,
        "a paused BigPeer was written for: before {snapshot:?}, after {:?}",
        env.operator_writes_by_resource()
    );
    let deployment = env
        .get(
            &env.api("apps/v1", "Deployment", "deployments", NS),
            "edge-sync",
        )
        .await
        .expect("the sync Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2, "scaled while paused");
    let config = env.get(&configs, "edge-config").await.expect("ConfigMap");
    assert_eq!(config["data"]["bigpeer.yaml"], "edited: by hand\n");
    assert_eq!(
        bigpeer(&env).await["status"],
        status_before,
        "status moved while paused"
    );
    let metrics = env.operator.metrics.render([&bigpeer(&env).await]);
    assert!(
        metrics.contains("smbp_operator_reconcile_paused{namespace=\"ops\",name=\"edge\"} 1"),
        "{metrics}"
    );

    // Resumed: from what it observes now, the operator converges on the current spec.
    annotate(&env, Value::Null).await;
    env.condition(NS, NAME, "Ready", "True").await;
    event_published(&env, "ReconcileResumed").await;
    let object = bigpeer(&env).await;
    assert!(
        condition(&object, "ReconcilePaused").is_none(),
        "the pause is still shown: {:#}",
        object["status"]
    );
    assert_eq!(object["status"]["sync"]["replicas"], 3);
    let config = env.get(&configs, "edge-config").await.expect("ConfigMap");
    assert_ne!(config["data"]["bigpeer.yaml"], "edited: by hand\n");

    // A pause does not hold a deletion: the finalizer runs and Kubernetes removes everything.
    pause(&env).await;
    env.bigpeers(NS)
        .delete(NAME, &Default::default())
        .await
        .expect("delete the BigPeer");
    let bigpeers = env.bigpeers(NS);
    eventually("the paused BigPeer is gone", WAIT, || async {
        env.get(&bigpeers, NAME).await.is_none().then_some(())
    })
    .await;
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    eventually("its store is garbage-collected", WAIT, || async {
        env.get(&statefulsets, "edge-store")
            .await
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_during_an_upgrade_holds_its_step_until_lifted() {
    let env = running("1.5.0").await;
    env.patch_spec(NS, NAME, json!({"version": "1.5.1"})).await;
    let start = Instant::now();
    while bigpeer(&env).await["status"]["upgrade"]["phase"] != "RollingStore" {
        assert!(start.elapsed() < WAIT, "the store never started rolling");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pause(&env).await;
    let held = bigpeer(&env).await["status"]["upgrade"].clone();
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    let partition =
        |sts: &Value| sts["spec"]["updateStrategy"]["rollingUpdate"]["partition"].clone();
    let sts = env
        .get(&statefulsets, "edge-store")
        .await
        .expect("StatefulSet");
    let writes = env.operator_writes();
    // 30 s of cluster time: far longer than a store step takes (minReadySeconds 1).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = bigpeer(&env).await["status"]["upgrade"].clone();
    assert_eq!(still, held, "the upgrade moved while paused");
    let now = env
        .get(&statefulsets, "edge-store")
        .await
        .expect("StatefulSet");
    assert_eq!(partition(&now), partition(&sts), "the partition moved");
    assert_eq!(env.operator_writes(), writes, "writes while paused");
    annotate(&env, Value::Null).await;
    let start = Instant::now();
    loop {
        let object = bigpeer(&env).await;
        if object["status"]["upgrade"]["phase"] == "Completed" {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "never completed after resuming: {:#}",
            object["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
