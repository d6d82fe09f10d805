//! `must-gather`: secret values planted everywhere (a Secret, env vars, annotations, a
//! ConfigMap, an Event, pod logs of the current and of a restarted container's previous
//! instance) never reach the bundle, while every child, Event and the rest of each log line
//! does; an identity bound to the documented least ClusterRole gets a complete bundle, and one
//! without Events or logs still gets a bundle whose manifest says what is missing and why.

#[path = "../../smbp-operator/tests/support/mod.rs"]
mod support;

mod plugin;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};
use smbp_core::build::ChildKind;
use smbp_sim::{ImageBehaviour, ThirdPartyCrds};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use support::Env;

const NS: &str = "fleet";
const NAME: &str = "edge";
/// Values that must never appear in a bundle.
const PLANTED: [&str; 9] = [
    "planted-secret-value-1",
    "planted-annotation-token-2",
    "planted-note-password-3",
    "planted-env-password-4",
    "planted-env-url-secret-5",
    "planted-configmap-password-6",
    "planted-configmap-apikey-7",
    "planted-last-applied-8",
    "planted-event-token-9",
];

/// Values planted in container logs, which must never appear in a bundle either.
const PLANTED_IN_LOGS: [&str; 6] = [
    "planted-log-password-10",
    "planted-log-bearer-11",
    "planted-log-pem-body-12",
    "planted-log-password-13",
    "planted-log-bearer-14",
    "planted-log-pem-body-15",
];
/// The image of a pod that crashed once, so it has a previous container log.
const CRASHED_ONCE: &str = "registry.example/debug-crashes-once";

/// Writes to the log of `container` of `pod`: the current instance, or the previous one.
fn write_log(env: &Env, pod: &str, container: &str, previous: bool, lines: &[String]) {
    let logs = env.sim.pod_logs();
    for line in lines {
        let written = if previous {
            logs.append_previous(NS, pod, container, line)
        } else {
            logs.append(NS, pod, container, line)
        };
        written.expect("the pod and container exist");
    }
}

/// Log lines quoting a password, a bearer token and a PEM private key between ordinary lines.
fn secret_lines(password: &str, bearer: &str, pem: &str, what: &str) -> Vec<String> {
    vec![
        format!("{what}: connecting to the db as user=app password={password}"),
        format!("{what}: GET /v1/peers Authorization: Bearer {bearer}"),
        "-----BEGIN PRIVATE KEY-----".into(),
        pem.into(),
        "-----END PRIVATE KEY-----".into(),
        format!("{what}: serving on :7000"),
    ]
}

/// Plants secrets in the log of the first container of `edge-store-0`, and in the current and
/// previous logs of `edge-debug`, a pod of the BigPeer's label whose container crashed once.
async fn plant_logs(env: &Env) {
    let pods = env.api("v1", "Pod", "pods", NS);
    let store = env.get(&pods, &format!("{NAME}-store-0")).await.unwrap();
    let container = store["spec"]["containers"][0]["name"].as_str().unwrap();
    let current = secret_lines(
        PLANTED_IN_LOGS[0],
        PLANTED_IN_LOGS[1],
        PLANTED_IN_LOGS[2],
        "store",
    );
    write_log(env, &format!("{NAME}-store-0"), container, false, &current);

    env.sim.controls().set_image_behaviour(
        CRASHED_ONCE,
        ImageBehaviour::Exit {
            code: 1,
            after: Duration::from_secs(20),
        },
    );
    support::create(
        &pods,
        json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "edge-debug", "labels": {"app.kubernetes.io/name": "bigpeer"}},
        "spec": {"containers": [{"name": "debug", "image": format!("{CRASHED_ONCE}:1")}]}}),
    )
    .await;
    support::eventually("edge-debug restarted", Duration::from_secs(60), || async {
        let pod = env.get(&pods, "edge-debug").await?;
        (pod.pointer("/status/containerStatuses/0/restartCount") == Some(&json!(1))).then_some(())
    })
    .await;
    env.sim
        .controls()
        .set_image_behaviour(CRASHED_ONCE, ImageBehaviour::ReadyAfter(Duration::ZERO));
    support::eventually(
        "edge-debug running again",
        Duration::from_secs(60),
        || async {
            let pod = env.get(&pods, "edge-debug").await?;
            pod.pointer("/status/containerStatuses/0/state/running")
                .map(|_| ())
        },
    )
    .await;
    let previous = secret_lines(
        PLANTED_IN_LOGS[3],
        PLANTED_IN_LOGS[4],
        PLANTED_IN_LOGS[5],
        "before the crash",
    );
    write_log(env, "edge-debug", "debug", true, &previous);
    write_log(
        env,
        "edge-debug",
        "debug",
        false,
        &["restarted after the crash".into()],
    );
}

/// A Ready BigPeer with secret values planted in its annotations and env, a Secret and a
/// ConfigMap beside it, and an Event quoting a token.
async fn planted() -> Env {
    let env = Env::start(ThirdPartyCrds::all()).await;
    env.namespace(NS).await;
    support::create(&env.bigpeers(NS), json!({
        "apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
        "metadata": {"name": NAME, "annotations": {
            "example.com/api-token": PLANTED[1],
            "example.com/note": format!("rotate the db password={} soon", PLANTED[2])}},
        "spec": {
            "version": "1.5.0",
            "store": {"replicas": 3, "storage": {"size": "1Gi"}},
            "sync": {"replicas": 2, "podOverrides": {"spec": {"containers": [{"name": "sync", "env": [
                {"name": "DB_PASSWORD", "value": PLANTED[3]},
                {"name": "UPSTREAM", "value": format!("https://sync:{}@upstream.example", PLANTED[4])}]}]}}},
            "transactionLog": {"external": {"bootstrapServers": ["kafka.example:9092"], "topic": "events"}},
        }})).await;
    env.condition(NS, NAME, "Ready", "True").await;
    let secrets = env.api("v1", "Secret", "secrets", NS);
    support::create(
        &secrets,
        json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "edge-extra", "labels": {"app.kubernetes.io/name": "bigpeer"}},
        "stringData": {"password": PLANTED[0]}}),
    )
    .await;
    let configmaps = env.api("v1", "ConfigMap", "configmaps", NS);
    support::create(&configmaps, json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "edge-tuning", "labels": {"app.kubernetes.io/name": "bigpeer", "app.kubernetes.io/instance": NAME},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"data\":{{\"x\":\"{}\"}}}}", PLANTED[7])}},
        "data": {"app.properties": format!("threads=4\nkafka.password={}\n", PLANTED[5]), "apiKey": PLANTED[6]}})).await;
    let events = env.api("v1", "Event", "events", NS);
    support::create(
        &events,
        json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "edge.planted"}, "type": "Warning", "reason": "AuthFailed",
        "involvedObject": {"kind": "BigPeer", "name": NAME, "namespace": NS},
        "message": format!("broker refused token: {}", PLANTED[8])}),
    )
    .await;
    env
}

/// Every file of a tar.gz, by path.
fn unpack(path: &Path) -> BTreeMap<String, String> {
    let file = std::fs::File::open(path).expect("bundle exists");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let name = entry.path().unwrap().display().to_string();
        let mut text = String::new();
        entry.read_to_string(&mut text).expect("UTF-8 text");
        let relative = name
            .split_once('/')
            .map_or(name.clone(), |(_, r)| r.to_string());
        files.insert(relative, text);
    }
    files
}

async fn gather(
    kubeconfig: &Path,
    env: &Env,
    extra: &[&str],
) -> (plugin::Outcome, BTreeMap<String, String>, Value) {
    let dir = std::env::temp_dir().join(format!("smbp-mg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("bundle-{}.tar.gz", uuid_like()));
    let scope = if extra.contains(&"-A") {
        vec![]
    } else {
        vec!["-n", NS]
    };
    let mut args = scope;
    args.extend(["must-gather", "--since", "1h", "-f", file.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let outcome = plugin::run_at(kubeconfig, &args, None, env.sim.now()).await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let files = unpack(&file);
    let manifest: Value = serde_json::from_str(&files["manifest.json"]).expect("manifest.json");
    // Never overwritten.
    let again = plugin::run_at(kubeconfig, &args, None, env.sim.now()).await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.err.contains("never overwritten"), "{}", again.err);
    (outcome, files, manifest)
}

fn uuid_like() -> String {
    format!("{:?}", std::time::SystemTime::now()).replace(|c: char| !c.is_ascii_alphanumeric(), "")
}

fn missing(manifest: &Value) -> Vec<(String, String)> {
    manifest["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["what"].as_str().unwrap().to_string(),
                m["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_planted_secret_reaches_the_bundle_while_every_child_and_event_does() {
    let env = planted().await;
    plant_logs(&env).await;
    let (_, files, manifest) = gather(env.sim.kubeconfig_path(), &env, &[]).await;
    let everything: String = files.values().cloned().collect::<Vec<_>>().join("\n");
    for value in PLANTED.into_iter().chain(PLANTED_IN_LOGS) {
        assert!(
            !everything.contains(value),
            "{value} leaked into the bundle"
        );
    }
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(PLANTED[0]);
    assert!(
        !everything.contains(&encoded),
        "a Secret value leaked base64-encoded"
    );

    // The Secret is listed by name and key only.
    let secrets = &files[&format!("namespaces/{NS}/secrets.yaml")];
    assert!(
        secrets.contains("edge-extra") && secrets.contains("password"),
        "{secrets}"
    );
    // What support needs is still there: the non-secret env var name, the ConfigMap's other keys.
    assert!(everything.contains("DB_PASSWORD") && everything.contains("threads=4"));

    // Every child the operator made, of every kind, has its file.
    for kind in ChildKind::ALL
        .into_iter()
        .filter(|k| *k != ChildKind::Secret)
    {
        let resource = kind.api_resource();
        let api: Api<DynamicObject> = Api::namespaced_with(env.sim.client(), NS, &resource);
        for child in api
            .list(&ListParams::default().labels("app.kubernetes.io/instance=edge"))
            .await
            .unwrap()
            .items
        {
            let path = format!(
                "namespaces/{NS}/{}/{}.yaml",
                resource.plural,
                child.metadata.name.unwrap()
            );
            assert!(
                files.contains_key(&path),
                "{path} missing; files: {:#?}",
                files.keys()
            );
        }
    }
    assert!(files.contains_key(&format!("namespaces/{NS}/bigpeers/{NAME}.yaml")));
    assert!(files.contains_key(&format!("namespaces/{NS}/pods/{NAME}-store-0.yaml")));
    // Every Event of the namespace.
    let events = &files[&format!("namespaces/{NS}/events.yaml")];
    let all = kubectl_smbp::events::list(&env.sim.client(), NS)
        .await
        .unwrap();
    assert!(
        all.iter()
            .any(|e| e.kind == "BigPeer" && e.reason != "AuthFailed"),
        "no operator Event: {all:#?}"
    );
    for event in all {
        let name = event.raw["metadata"]["name"].as_str().unwrap().to_string();
        assert!(events.contains(&name), "Event {name} missing");
    }
    assert!(
        events.contains("broker refused token: <redacted>"),
        "{events}"
    );

    // Logs: the rest of every line is there, timestamped, the secrets in it are not.
    let pods = env.api("v1", "Pod", "pods", NS);
    let store = env.get(&pods, &format!("{NAME}-store-0")).await.unwrap();
    let container = store["spec"]["containers"][0]["name"].as_str().unwrap();
    let log = &files[&format!("namespaces/{NS}/logs/{NAME}-store-0/{container}.log")];
    for kept in [
        "store: connecting to the db as user=app password=<redacted>",
        "store: GET /v1/peers Authorization: Bearer <redacted>",
        "<redacted private key>",
        "store: serving on :7000",
    ] {
        assert!(log.contains(kept), "{kept:?} missing from {log}");
    }
    let stamp = log.split_once(' ').map(|(t, _)| t).unwrap_or_default();
    assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{log}");
    let previous = &files[&format!("namespaces/{NS}/logs/edge-debug/debug.previous.log")];
    for kept in [
        "before the crash: connecting to the db as user=app password=<redacted>",
        "before the crash: GET /v1/peers Authorization: Bearer <redacted>",
        "<redacted private key>",
        "before the crash: serving on :7000",
    ] {
        assert!(previous.contains(kept), "{kept:?} missing from {previous}");
    }
    let current = &files[&format!("namespaces/{NS}/logs/edge-debug/debug.log")];
    assert!(current.contains("restarted after the crash"), "{current}");
    // The cluster serves every log; the operator runs outside it (no Deployment).
    let missing = missing(&manifest);
    assert!(
        !missing.iter().any(|(what, _)| what.starts_with("logs of")),
        "{missing:#?}"
    );
    assert!(
        missing
            .iter()
            .any(|(what, why)| what.starts_with("operator Deployment") && why == "not found"),
        "{missing:#?}"
    );
    let pods = &files[&format!("namespaces/{NS}/pods.txt")];
    assert!(
        pods.starts_with("NAME ") && pods.contains("edge-store-2                 store   1.5.0"),
        "{pods}"
    );
    let versions = &files["versions.yaml"];
    assert!(
        versions.contains("plugin: ") && versions.contains("compatible: false"),
        "{versions}"
    );
    for file in [
        "cluster/nodes.yaml",
        "cluster/crds.yaml",
        "catalogue.yaml",
        "operator/webhooks.yaml",
    ] {
        assert!(files.contains_key(file), "{file} missing");
    }
    let listed: Vec<&str> = manifest["collected"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(listed.len(), files.len(), "the manifest lists every file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redact_names_hashes_namespaces_and_bigpeer_names_everywhere() {
    let env = planted().await;
    let (_, files, manifest) =
        gather(env.sim.kubeconfig_path(), &env, &["-A", "--redact-names"]).await;
    assert_eq!(manifest["redactedNames"], true);
    // -A: every namespace with a BigPeer (one here), its name hashed.
    assert_eq!(
        manifest["scope"].as_array().map(Vec::len),
        Some(1),
        "{manifest:#}"
    );
    for (path, text) in &files {
        for name in [NS, NAME] {
            let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            let mut rest = format!("{path}\n{text}");
            while let Some(at) = rest.find(name) {
                let before = rest[..at].chars().next_back();
                let after = rest[at + name.len()..].chars().next();
                assert!(word(before) || word(after), "{name} left in {path}");
                rest = rest[at + name.len()..].to_string();
            }
        }
    }
    assert!(
        files.keys().any(|p| p.contains("-store-0.yaml")),
        "{:#?}",
        files.keys()
    );
}

async fn support_identity(env: &Env, drop: &[&str]) -> std::path::PathBuf {
    let yaml = std::fs::read_to_string(
        support::chart::root().join("config/kubectl-plugin/support-clusterrole.yaml"),
    )
    .unwrap();
    let mut role: ClusterRole = serde_yaml::from_str(&yaml).expect("the documented ClusterRole");
    for rule in role.rules.iter_mut().flatten() {
        rule.resources = rule.resources.take().map(|r| {
            r.into_iter()
                .filter(|r| !drop.contains(&r.as_str()))
                .collect()
        });
    }
    let name = if drop.is_empty() {
        "support-full".to_string()
    } else {
        format!("support-without-{}", drop.join("-").replace('/', "-"))
    };
    role.metadata.name = Some(name.clone());
    Api::<ClusterRole>::all(env.sim.client())
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let account: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<ServiceAccount>::namespaced(env.sim.client(), NS)
        .create(&PostParams::default(), &account)
        .await
        .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NS}]}))
    .unwrap();
    Api::<ClusterRoleBinding>::all(env.sim.client())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    env.sim.kubeconfig_for_service_account(NS, &name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_role_suffices_and_without_events_or_logs_the_manifest_says_so() {
    let env = planted().await;
    let kubeconfig = support_identity(&env, &[]).await;
    let (_, files, manifest) = gather(&kubeconfig, &env, &[]).await;
    let forbidden: Vec<_> = missing(&manifest)
        .into_iter()
        .filter(|(_, why)| why.starts_with("forbidden"))
        .collect();
    assert!(
        forbidden.is_empty(),
        "the documented ClusterRole is not enough: {forbidden:#?}"
    );
    assert!(files.contains_key(&format!("namespaces/{NS}/events.yaml")));

    let kubeconfig = support_identity(&env, &["events", "pods/log"]).await;
    let (outcome, files, manifest) = gather(&kubeconfig, &env, &[]).await;
    assert!(
        outcome.err.contains("could not be collected"),
        "{}",
        outcome.err
    );
    assert!(!files.contains_key(&format!("namespaces/{NS}/events.yaml")));
    assert!(files.contains_key(&format!("namespaces/{NS}/bigpeers/{NAME}.yaml")));
    let missing = missing(&manifest);
    assert!(
        missing
            .iter()
            .any(|(what, why)| what == "Events in fleet" && why.starts_with("forbidden")),
        "{missing:#?}"
    );
    assert!(
        missing
            .iter()
            .any(|(what, why)| what.starts_with("logs of fleet/edge-store-0")
                && why.starts_with("forbidden")),
        "{missing:#?}"
    );
}
