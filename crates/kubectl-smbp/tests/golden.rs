//! Golden outputs of the table forms: a BigPeer in the middle of an upgrade, written object by
//! object into an API-server-only simulated cluster (no controllers, so nothing moves), read by
//! the plugin with its clock fixed. `UPDATE_GOLDEN=1` rewrites the files in `tests/golden/`;
//! review the diff.

mod plugin;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimHandle, SimOptions, ThirdPartyCrds};
use std::path::PathBuf;

const NS: &str = "fleet";
const NOW: &str = "2026-06-01T12:00:00Z";

async fn cluster() -> SimHandle {
    let sim = SimCluster::start_with(SimOptions {
        crds: ThirdPartyCrds::all(),
        ..SimOptions::default()
    })
    .await
    .expect("cluster starts");
    Api::<CustomResourceDefinition>::all(sim.client())
        .create(&PostParams::default(), &smbp_api::crd::bigpeer_crd())
        .await
        .expect("BigPeer CRD");
    sim
}

/// Creates `object` and, when it has one, writes its `status` through the status subresource.
async fn put(sim: &SimHandle, api_version: &str, kind: &str, plural: &str, mut object: Value) {
    let namespaced = kind != "Namespace";
    let api = sim.dynamic_api(api_version, kind, plural, namespaced.then_some(NS));
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(kind);
    let status = object.as_object_mut().and_then(|o| o.remove("status"));
    let name = object["metadata"]["name"].as_str().unwrap().to_string();
    let typed: DynamicObject = serde_json::from_value(object).unwrap();
    api.create(&PostParams::default(), &typed)
        .await
        .unwrap_or_else(|e| panic!("create {kind} {name}: {e}"));
    if let Some(status) = status {
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .unwrap_or_else(|e| panic!("status of {kind} {name}: {e}"));
    }
}

fn condition(type_: &str, status: &str, reason: &str, at: &str, message: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "lastTransitionTime": at,
           "message": message, "observedGeneration": 2})
}

fn pod(
    name: &str,
    component: &str,
    version: &str,
    ready: bool,
    restarts: i32,
    started: &str,
) -> Value {
    json!({
        "metadata": {"name": name, "labels": {
            "app.kubernetes.io/name": "bigpeer", "app.kubernetes.io/instance": "edge",
            "app.kubernetes.io/component": component, "app.kubernetes.io/version": version}},
        "spec": {"nodeName": "node-a", "containers": [{"name": component, "image": format!("big-peer:{version}")}]},
        "status": {
            "phase": "Running", "startTime": started,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }, "lastTransitionTime": started}],
            "containerStatuses": [{"name": component, "ready": ready, "restartCount": restarts,
                "image": format!("big-peer:{version}"), "imageID": "", "started": ready}]
        }
    })
}

fn event(
    name: &str,
    kind: &str,
    object: &str,
    reason: &str,
    at: &str,
    count: i32,
    message: &str,
) -> Value {
    json!({
        "metadata": {"name": name},
        "involvedObject": {"kind": kind, "name": object, "namespace": NS},
        "type": "Warning", "reason": reason, "message": message, "count": count,
        "firstTimestamp": at, "lastTimestamp": at, "source": {"component": "smbp-operator"}
    })
}

/// A BigPeer upgrading 1.5.0 → 1.5.1 with its store half rolled, one pod crash-looping.
async fn upgrading_bigpeer(sim: &SimHandle) {
    put(
        sim,
        "v1",
        "Namespace",
        "namespaces",
        json!({"metadata": {"name": NS}}),
    )
    .await;
    put(sim, "smbp.dev/v1alpha1", "BigPeer", "bigpeers", json!({
        "metadata": {"name": "edge"},
        "spec": {
            "version": "1.5.1",
            "store": {"replicas": 3, "storage": {"size": "10Gi"}},
            "sync": {"autoscaling": {"minReplicas": 2, "maxReplicas": 6}},
            "transactionLog": {"strimzi": {"clusterRef": {"name": "events"}}},
            "tls": {"certManager": {"issuerRef": {"name": "internal"}}},
        },
        "status": {
            "observedGeneration": 2, "phase": "Upgrading",
            "conditions": [
                condition("Ready", "True", "AllComponentsReady", "2026-05-30T08:00:00Z", "every component is ready"),
                condition("Degraded", "True", "StoreReplicasUnavailable", "2026-06-01T11:52:00Z", "store 2/3 ready"),
                condition("Upgrading", "True", "RollingStore", "2026-06-01T11:40:00Z", "1.5.0 → 1.5.1 (hop 1 of 1), RollingStore: updating edge-store-1 to 1.5.1"),
                condition("TransactionLogReady", "True", "KafkaReady", "2026-05-30T07:58:00Z", "topic smbp.fleet.edge is Ready"),
                condition("CertificateReady", "True", "Issued", "2026-05-30T07:57:30Z", "certificate edge-tls is valid"),
            ],
            "version": {"current": "1.5.0", "target": "1.5.1"},
            "endpoints": {"service": "edge-sync.fleet.svc:8080",
                          "external": [{"source": "LoadBalancer", "address": "203.0.113.7:8080"}]},
            "upgrade": {"phase": "RollingStore", "from": "1.5.0", "to": "1.5.1", "hop": "1.5.1",
                        "hopFrom": "1.5.0", "storePartition": 1, "step": "updating edge-store-1 to 1.5.1",
                        "stepStartedAt": "2026-06-01T11:51:00Z", "startedAt": "2026-06-01T11:40:00Z",
                        "completedMigrations": ["edge-migrate-pre-1-5-1"]},
        },
    })).await;
    for p in [
        pod(
            "edge-store-0",
            "store",
            "1.5.0",
            true,
            0,
            "2026-05-30T08:00:00Z",
        ),
        pod(
            "edge-store-1",
            "store",
            "1.5.1",
            false,
            4,
            "2026-06-01T11:51:10Z",
        ),
        pod(
            "edge-store-2",
            "store",
            "1.5.1",
            true,
            0,
            "2026-06-01T11:45:00Z",
        ),
        pod(
            "edge-sync-7d9f-x2k4q",
            "sync",
            "1.5.0",
            true,
            1,
            "2026-05-30T08:01:00Z",
        ),
        pod(
            "edge-sync-7d9f-z8r2m",
            "sync",
            "1.5.0",
            true,
            0,
            "2026-05-31T17:20:00Z",
        ),
    ] {
        put(sim, "v1", "Pod", "pods", p).await;
    }
    for ordinal in 0..3 {
        put(sim, "v1", "PersistentVolumeClaim", "persistentvolumeclaims", json!({
            "metadata": {"name": format!("data-edge-store-{ordinal}")},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}},
        })).await;
    }
    put(sim, "autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", json!({
        "metadata": {"name": "edge-sync"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "edge-sync"},
                 "minReplicas": 2, "maxReplicas": 6},
        "status": {"currentReplicas": 2, "desiredReplicas": 3},
    })).await;
    put(sim, "cert-manager.io/v1", "Certificate", "certificates", json!({
        "metadata": {"name": "edge-tls"},
        "spec": {"secretName": "edge-tls", "issuerRef": {"name": "internal"}, "dnsNames": ["edge-sync.fleet.svc"]},
        "status": {"notAfter": "2026-06-09T08:00:00Z"},
    })).await;
    for e in [
        event(
            "edge-store-1.a",
            "Pod",
            "edge-store-1",
            "BackOff",
            "2026-06-01T11:58:30Z",
            6,
            "Back-off restarting failed container store",
        ),
        event(
            "edge.b",
            "BigPeer",
            "edge",
            "PreflightFailed",
            "2026-06-01T11:38:00Z",
            2,
            "pre-flight check DisruptionAllowed failed: the store PodDisruptionBudget allows no disruption now",
        ),
        event(
            "other.c",
            "Pod",
            "other-0",
            "BackOff",
            "2026-06-01T11:59:00Z",
            1,
            "not about edge",
        ),
    ] {
        put(sim, "v1", "Event", "events", e).await;
    }
}

/// Compares `actual` with the golden file `name`, or rewrites it with `UPDATE_GOLDEN=1`.
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_an_upgrading_bigpeer_matches_its_golden_table() {
    let sim = cluster().await;
    upgrading_bigpeer(&sim).await;
    let now = NOW.parse().unwrap();
    let shown = plugin::run_at(
        sim.kubeconfig_path(),
        &["-n", NS, "status", "edge"],
        None,
        now,
    )
    .await;
    assert_eq!(shown.code, 0, "{shown:?}");
    golden("status.txt", &shown.out);
    // The list's AGE is the server-set creation time: everything but that column is fixed.
    let listed = plugin::run_at(sim.kubeconfig_path(), &["status", "-A"], None, now).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let row = listed.out.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with(
            "fleet       edge   1.5.1     1.5.0     True    Upgrading   RollingStore step 3/6"
        ),
        "{}",
        listed.out
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_through_a_required_stop_with_failing_checks_matches_its_golden_table() {
    let sim = cluster().await;
    upgrading_bigpeer(&sim).await;
    let now = NOW.parse().unwrap();
    let args = ["-n", NS, "upgrade", "plan", "edge", "--to", "1.6.1"];
    let plan = plugin::run_at(sim.kubeconfig_path(), &args, None, now).await;
    assert_eq!(plan.code, 6, "{plan:?}");
    assert!(
        plan.err.contains(
            "pre-flight checks failing now: PodsReady, NoUpgradeInProgress, DisruptionAllowed"
        ),
        "{}",
        plan.err
    );
    golden("plan.txt", &plan.out);
    sim.shutdown().await;
}

/// docs/kubectl-plugin.md shows the golden outputs as they are.
#[test]
fn the_guide_shows_the_golden_outputs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/kubectl-plugin.md")).unwrap();
    for name in ["status.txt", "plan.txt"] {
        let golden =
            std::fs::read_to_string(root.join("crates/kubectl-smbp/tests/golden").join(name))
                .unwrap();
        assert!(
            guide.contains(&golden),
            "docs/kubectl-plugin.md does not show tests/golden/{name}"
        );
    }
}

/// The krew manifest offers every platform, Apple silicon included, each with its binary.
#[test]
fn the_krew_manifest_offers_every_platform() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = std::fs::read_to_string(root.join("plugins/krew/smbp.yaml")).unwrap();
    for platform in [
        "linux_amd64",
        "linux_arm64",
        "darwin_amd64",
        "darwin_arm64",
        "windows_amd64",
    ] {
        assert!(
            manifest.contains(&format!("kubectl-smbp_{platform}.")),
            "{platform} missing"
        );
    }
    assert_eq!(manifest.matches("{{ addURIAndSha \"").count(), 5);
    assert_eq!(manifest.matches("bin: kubectl-smbp").count(), 5);
}

/// The built binary, run as kubectl runs a plugin (`kubectl smbp ...` finds `kubectl-smbp` on
/// the PATH) when kubectl is installed, and directly otherwise: no colour off a terminal, and the
/// documented exit codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_works_as_a_kubectl_plugin_with_its_exit_codes() {
    let sim = cluster().await;
    upgrading_bigpeer(&sim).await;
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_kubectl-smbp"));
    let kubeconfig = sim.kubeconfig_path().display().to_string();
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl = std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();
    let run = |args: &[&str]| {
        let mut command = if kubectl {
            let mut c = std::process::Command::new("kubectl");
            c.arg("smbp");
            c
        } else {
            std::process::Command::new(&binary)
        };
        command
            .args(["--kubeconfig", &kubeconfig])
            .args(args)
            .env("PATH", &path)
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::null());
        let output = command.output().expect("the plugin runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let args = ["-n", NS, "status", "edge"];
    let (code, out, err) = tokio::task::block_in_place(|| run(&args));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Name:            edge\n") && !out.contains('\x1b'),
        "{out}"
    );
    let args = ["-n", NS, "upgrade", "pause", "edge"];
    let (code, _, err) = tokio::task::block_in_place(|| run(&args));
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("error: standard input is not a terminal"),
        "{err}"
    );
    let args = ["-n", NS, "status", "nope"];
    let (code, _, err) = tokio::task::block_in_place(|| run(&args));
    assert_eq!(code, 3, "{err}");
    let args = ["-n", NS, "status", "edge", "-o", "xml"];
    let (code, _, err) = tokio::task::block_in_place(|| run(&args));
    assert_eq!(code, 2, "{err}");
    sim.shutdown().await;
}
