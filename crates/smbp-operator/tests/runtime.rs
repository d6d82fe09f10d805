//! The operator process on smbp-sim: leader election between two instances (one leads; the
//! other takes over within the lease duration when the leader dies), the binary's SIGTERM
//! (lease released, exit 0, JSON logs with the object on every reconcile line), the admission
//! webhook called by the cluster over HTTPS with the operator's own CA, deletes while the
//! webhook is down, and `/metrics` parsed as OpenMetrics.

mod support;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use smbp_operator::clock::FnClock;
use smbp_operator::leader::{Leadership, LeaseSettings};
use smbp_operator::metrics::Metrics;
use smbp_operator::runtime::{self, Options, Running, WebhookOptions};
use smbp_operator::webhook::certs::{CertSource, SelfManaged};
use smbp_sim::{SimHandle, ThirdPartyCrds};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    WAIT, bigpeer_api, create, create_kafka, create_namespace, eventually, free_port, spec,
    test_settings,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const OPERATOR_NS: &str = "smbp-system";
const LEASE: &str = "smbp-operator";
const LEASE_DURATION: Duration = Duration::from_secs(2);

fn lease_settings(identity: &str) -> LeaseSettings {
    LeaseSettings {
        name: LEASE.into(),
        namespace: OPERATOR_NS.into(),
        identity: identity.into(),
        lease_duration: LEASE_DURATION,
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(200),
    }
}

/// An operator process started in this test, with the means to stop it.
struct Instance {
    running: Running,
    stop: Option<oneshot::Sender<()>>,
}

impl Instance {
    async fn start(sim: &SimHandle, options: Options) -> Instance {
        let metrics = Arc::new(Metrics::new());
        let client = smbp_operator::client::client(Some(sim.kubeconfig_path()), &metrics)
            .await
            .expect("client");
        let (stop, stopped) = oneshot::channel::<()>();
        let running = runtime::start(
            options,
            client,
            Arc::new(FnClock(sim.clock_reader())),
            metrics,
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .expect("the operator starts");
        Instance {
            running,
            stop: Some(stop),
        }
    }

    fn leadership(&self) -> Leadership {
        self.running.shared.leadership.borrow().clone()
    }

    fn reconciles(&self) -> u64 {
        self.running
            .shared
            .contexts()
            .iter()
            .map(|c| {
                c.stats
                    .reconciles
                    .load(std::sync::atomic::Ordering::Relaxed)
            })
            .sum()
    }

    /// Kills it: every task is dropped where it stands, the Lease is not released.
    fn kill(&self) {
        self.running.supervisor.abort();
    }

    /// Asks it to stop and returns how the supervisor ended.
    async fn shut_down(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.running.supervisor).await.expect("supervisor")
    }
}

fn options(lease: Option<LeaseSettings>) -> Options {
    Options {
        namespaces: Vec::new(),
        settings: test_settings(),
        probe_addr: "127.0.0.1:0".parse().expect("addr"),
        webhook: None,
        leader_election: lease,
    }
}

async fn lease_holder(sim: &SimHandle) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(sim.client(), OPERATOR_NS);
    leases
        .get_opt(LEASE)
        .await
        .expect("get Lease")
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

/// A namespace with a Kafka `log` and BigPeer `name` on it.
async fn kafka_and_bigpeer(sim: &SimHandle, ns: &str, name: &str) {
    create_namespace(sim, ns).await;
    create_kafka(sim, ns, "log").await;
    create(
        &bigpeer_api(sim, ns),
        json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer", "metadata": {"name": name},
            "spec": spec("log", None, json!({}))}),
    )
    .await;
}

/// GETs `path` from the server at `addr`; returns the status code and body.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (code, body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_two_instances_leads_and_the_other_takes_over_within_the_lease_duration() {
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    create_namespace(&sim, OPERATOR_NS).await;
    let names = ["operator-a", "operator-b"];
    let mut instances = Vec::new();
    for name in names {
        instances.push(Instance::start(&sim, options(Some(lease_settings(name)))).await);
    }
    let leader = eventually("one leader", WAIT, || async {
        match (instances[0].leadership(), instances[1].leadership()) {
            (Leadership::Leading, Leadership::Following { .. }) => Some(0),
            (Leadership::Following { .. }, Leadership::Leading) => Some(1),
            _ => None,
        }
    })
    .await;
    let follower = 1 - leader;
    assert_eq!(lease_holder(&sim).await.as_deref(), Some(names[leader]));
    assert_eq!(
        instances[follower].leadership(),
        Leadership::Following {
            holder: Some(names[leader].into())
        }
    );

    kafka_and_bigpeer(&sim, "edge", "peer").await;
    eventually("the leader reconciles", WAIT, || async {
        (instances[leader].reconciles() > 0).then_some(())
    })
    .await;
    // The follower runs no controller at all, and stays ready (it serves probes and webhooks).
    let standby = &instances[follower];
    assert!(standby.running.shared.contexts().is_empty());
    assert_eq!(standby.reconciles(), 0);
    assert_eq!(standby.running.shared.not_ready(), None);
    assert_eq!(http_get(standby.running.probe_addr, "/readyz").await.0, 200);

    // The leader dies without releasing the Lease: the follower takes over once the Lease
    // expires, counted from the leader's last renewal.
    instances[leader].kill();
    let killed = Instant::now();
    eventually("the follower takes over", WAIT, || async {
        (instances[follower].leadership() == Leadership::Leading).then_some(())
    })
    .await;
    let takeover = killed.elapsed();
    // Within the lease duration after the last renewal, plus one retry period of the follower
    // (and scheduling slack).
    assert!(
        takeover <= LEASE_DURATION + Duration::from_millis(800),
        "took over after {takeover:?}"
    );
    // Not before the Lease could have expired (the last renewal was at most one retry period
    // before the kill).
    assert!(
        takeover >= LEASE_DURATION - Duration::from_millis(300),
        "took over a Lease that had not expired, after {takeover:?}"
    );
    assert_eq!(lease_holder(&sim).await.as_deref(), Some(names[follower]));
    // The new leader reconciles: a spec change reaches the status.
    let before = instances[follower].reconciles();
    bigpeer_api(&sim, "edge")
        .patch(
            "peer",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"sync": {"replicas": 3}}})),
        )
        .await
        .expect("patch");
    eventually("the new leader reconciles the change", WAIT, || async {
        let object = bigpeer_api(&sim, "edge").get("peer").await.ok()?;
        let value = serde_json::to_value(object).ok()?;
        (value["status"]["observedGeneration"] == value["metadata"]["generation"]
            && instances[follower].reconciles() > before)
            .then_some(())
    })
    .await;
    let survivor = instances.swap_remove(follower);
    assert_eq!(survivor.shut_down().await, Ok(()));
    assert_eq!(
        lease_holder(&sim).await,
        None,
        "a clean stop releases the Lease"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_parse_as_openmetrics_and_count_reconciles_requests_and_bigpeers() {
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    let instance = Instance::start(&sim, options(None)).await;
    kafka_and_bigpeer(&sim, "metrics", "peer").await;
    eventually("a reconcile", WAIT, || async {
        (instance.reconciles() > 0).then_some(())
    })
    .await;
    eventually("ready", WAIT, || async {
        (http_get(instance.running.probe_addr, "/readyz").await.0 == 200).then_some(())
    })
    .await;
    assert_eq!(
        http_get(instance.running.probe_addr, "/healthz").await,
        (200, "ok".into())
    );
    let (code, text) = http_get(instance.running.probe_addr, "/metrics").await;
    assert_eq!(code, 200);
    let exposition = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{text}"));
    let sum = |family: &str, labels: &[(&str, &str)]| -> f64 {
        let family = exposition
            .families
            .get(family)
            .unwrap_or_else(|| panic!("no family {family} in\n{text}"));
        family
            .iter_samples()
            .filter(|sample| {
                let set = sample.get_labelset().expect("labels");
                labels
                    .iter()
                    .all(|(k, v)| set.get_label_value(k) == Some(*v))
            })
            .map(|sample| match &sample.value {
                openmetrics_parser::OpenMetricsValue::Counter(c) => c.value.as_f64(),
                openmetrics_parser::OpenMetricsValue::Gauge(g) => g.as_f64(),
                openmetrics_parser::OpenMetricsValue::Histogram(h) => {
                    h.count.map_or(0.0, |c| c as f64)
                }
                _ => 1.0,
            })
            .sum()
    };
    assert!(
        sum(
            "smbp_operator_reconciles",
            &[("result", "success"), ("error_category", "none")]
        ) >= 1.0
    );
    assert!(sum("smbp_operator_reconcile_duration_seconds", &[]) >= 1.0);
    assert!(
        sum(
            "smbp_operator_api_requests",
            &[
                ("verb", "patch"),
                ("resource", "bigpeers/status"),
                ("code", "200")
            ]
        ) >= 1.0
    );
    assert!(
        sum(
            "smbp_operator_api_requests",
            &[("verb", "watch"), ("resource", "bigpeers")]
        ) >= 1.0
    );
    assert_eq!(sum("smbp_operator_bigpeers", &[]), 1.0);
    assert_eq!(
        sum(
            "smbp_operator_bigpeer_conditions",
            &[("condition", "Ready")]
        ),
        1.0
    );
    assert_eq!(sum("smbp_operator_leader", &[]), 1.0);
    assert!(exposition.families.contains_key("smbp_operator_build"));
    assert!(
        exposition
            .families
            .contains_key("smbp_operator_watch_restarts")
    );
    assert_eq!(instance.shut_down().await, Ok(()));
}

/// The repository's webhook configuration, pointed at `url` (smbp-sim has no Service network).
fn webhook_configuration(url: &str, ca_bundle: Option<&str>) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/webhook/validating-webhook-configuration.yaml"
    ))
    .expect("config/webhook");
    let mut configuration: Value = serde_yaml::from_str(&text).expect("YAML");
    for webhook in configuration["webhooks"].as_array_mut().expect("webhooks") {
        webhook["clientConfig"] = json!({"url": url});
        if let Some(bundle) = ca_bundle {
            webhook["clientConfig"]["caBundle"] = json!(bundle);
        }
    }
    configuration
}

async fn install_webhook_configuration(sim: &SimHandle, configuration: Value) {
    create(
        &sim.dynamic_api(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            None,
        ),
        configuration,
    )
    .await;
}

/// Sends `body` with `method` to `path` and returns the status code, the Warning headers and
/// the body (kube's typed calls do not expose warnings).
async fn send(
    sim: &SimHandle,
    method: &str,
    path: &str,
    content_type: &str,
    body: Value,
) -> (u16, Vec<String>, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", content_type)
        .body(serde_json::to_vec(&body).expect("json"))
        .expect("request");
    let response = sim
        .client()
        .send(request.map(kube::client::Body::from))
        .await
        .expect("the API server answers");
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .filter_map(|w| w.to_str().ok().map(String::from))
        .collect();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        code,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_calls_the_webhook_over_https_which_denies_a_bad_upgrade_and_warns_of_a_missing_issuer()
 {
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    create_namespace(&sim, OPERATOR_NS).await;
    create_namespace(&sim, "hooks").await;
    // The operator's own controller watches another namespace: this test writes the BigPeer's
    // status by hand (the release its pods run) and must not have it overwritten.
    create_namespace(&sim, "idle").await;
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}/validate-bigpeer");
    // Installed without a caBundle: the operator fills it in.
    install_webhook_configuration(&sim, webhook_configuration(&url, None)).await;
    let mut webhook_options = options(None);
    webhook_options.namespaces = vec!["idle".into()];
    webhook_options.webhook = Some(WebhookOptions {
        addr: format!("127.0.0.1:{port}").parse().expect("addr"),
        certificate: CertSource::SelfManaged(SelfManaged {
            namespace: OPERATOR_NS.into(),
            secret: "smbp-operator-webhook-ca".into(),
            names: vec!["127.0.0.1".into()],
            configuration: Some("smbp-operator".into()),
            ca_validity: Duration::from_secs(3600),
            cert_validity: Duration::from_secs(600),
        }),
    });
    let instance = Instance::start(&sim, webhook_options).await;
    let configurations = sim.dynamic_api(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        None,
    );
    eventually("the caBundle is patched in", WAIT, || async {
        let configuration =
            serde_json::to_value(configurations.get("smbp-operator").await.ok()?).ok()?;
        configuration["webhooks"][0]["clientConfig"]["caBundle"]
            .as_str()
            .map(|_| ())
    })
    .await;

    // A BigPeer whose Issuer does not exist: created, with a warning naming the field.
    let path = "/apis/smbp.dev/v1alpha1/namespaces/hooks/bigpeers";
    let body = json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer", "metadata": {"name": "peer"},
        "spec": spec("log", Some("missing-ca"), json!({"version": "1.3.2"}))});
    let (code, warnings, _) = send(&sim, "POST", path, "application/json", body).await;
    assert_eq!(code, 201, "{warnings:?}");
    assert!(
        warnings.iter().any(|w| w
            .contains("spec.tls.certManager.issuerRef: Issuer hooks/missing-ca does not exist")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w
            .contains("spec.transactionLog.strimzi.clusterRef: Kafka hooks/log does not exist")),
        "{warnings:?}"
    );

    // The pods run 1.3.2; 1.4.0 was withdrawn. The CRD's rules cannot know that: the webhook
    // refuses it and spells out every allowed path.
    bigpeer_api(&sim, "hooks")
        .patch_status(
            "peer",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"version": {"current": "1.3.2"}}})),
        )
        .await
        .expect("status");
    let (code, _, status) = send(
        &sim,
        "PATCH",
        &format!("{path}/peer"),
        "application/merge-patch+json",
        json!({"spec": {"version": "1.4.0"}}),
    )
    .await;
    assert_eq!(code, 422, "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("admission webhook \"validate.bigpeers.smbp.dev\" denied the request: spec.version: 1.4.0 was withdrawn"),
        "{message}"
    );
    assert!(
        message.contains("upgrades allowed from 1.3.2:"),
        "{message}"
    );
    assert!(
        message.contains("1.3.2 → 1.4.1 → 1.4.2 → 1.5.1") || message.contains("1.3.2 → 1.4.1"),
        "{message}"
    );
    // An allowed upgrade goes through.
    let (code, _, status) = send(
        &sim,
        "PATCH",
        &format!("{path}/peer"),
        "application/merge-patch+json",
        json!({"spec": {"version": "1.4.1"}}),
    )
    .await;
    assert_eq!(code, 200, "{status}");

    // What only the operator knows: the time zone database, and the pause annotation's values.
    for (patch, expected) in [
        (
            json!({"spec": {"upgrade": {"maintenanceWindow": {"start": "02:00", "duration": "2h", "timeZone": "Europe/Berln"}}}}),
            "spec.upgrade.maintenanceWindow.timeZone: unknown time zone \"Europe/Berln\"",
        ),
        (
            json!({"metadata": {"annotations": {"smbp.dev/reconcile-paused": "yes"}}}),
            "metadata.annotations[smbp.dev/reconcile-paused]: must be \"true\" or \"false\", not \"yes\"",
        ),
    ] {
        let (code, _, status) = send(
            &sim,
            "PATCH",
            &format!("{path}/peer"),
            "application/merge-patch+json",
            patch,
        )
        .await;
        assert_eq!(code, 422, "{status}");
        let message = status["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{message}");
    }
    let (code, _, status) = send(
        &sim,
        "PATCH",
        &format!("{path}/peer"),
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {"smbp.dev/reconcile-paused": "true"}},
            "spec": {"upgrade": {"maintenanceWindow": {"start": "02:00", "duration": "2h", "timeZone": "Europe/Berlin"}}}}),
    )
    .await;
    assert_eq!(code, 200, "{status}");
    assert_eq!(instance.shut_down().await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_webhook_down_and_failure_policy_ignore_bigpeers_can_still_be_created_and_deleted()
{
    let env = support::Env::start(ThirdPartyCrds::all()).await;
    // Nothing listens on this port: every call to the webhook fails.
    let port = free_port();
    use base64::Engine;
    let bundle = base64::engine::general_purpose::STANDARD.encode(env.sim.ca().cert_pem());
    install_webhook_configuration(
        &env.sim,
        webhook_configuration(
            &format!("https://127.0.0.1:{port}/validate-bigpeer"),
            Some(&bundle),
        ),
    )
    .await;
    kafka_and_bigpeer(&env.sim, "down", "peer").await;
    // The operator adds its finalizer (an update the webhook would see) ...
    eventually("the finalizer", WAIT, || async {
        let object =
            serde_json::to_value(bigpeer_api(&env.sim, "down").get("peer").await.ok()?).ok()?;
        object["metadata"]["finalizers"]
            .as_array()
            .filter(|f| !f.is_empty())
            .map(|_| ())
    })
    .await;
    // ... and removes it on delete, with the webhook still down.
    bigpeer_api(&env.sim, "down")
        .delete("peer", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("the BigPeer is gone", WAIT, || async {
        bigpeer_api(&env.sim, "down")
            .get_opt("peer")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_binary_on_sigterm_finishes_releases_the_lease_and_exits_zero_with_json_logs() {
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    create_namespace(&sim, OPERATOR_NS).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smbp-operator"))
        .args(["run", "--kubeconfig"])
        .arg(sim.kubeconfig_path())
        .args([
            "--probe-address=127.0.0.1:0",
            "--webhook-cert-source=none",
            "--lease-identity=binary-1",
            "--lease-duration=2s",
            "--lease-renew-deadline=1500ms",
            "--lease-retry-period=200ms",
            "--resync-seconds=1",
            "--log-format=json",
            "--log-level=info,smbp_operator=debug",
        ])
        .env("POD_NAMESPACE", OPERATOR_NS)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    eventually("the binary leads", WAIT, || async {
        (lease_holder(&sim).await.as_deref() == Some("binary-1")).then_some(())
    })
    .await;
    kafka_and_bigpeer(&sim, "bin", "peer").await;
    eventually("a status from the binary", WAIT, || async {
        let object = serde_json::to_value(bigpeer_api(&sim, "bin").get("peer").await.ok()?).ok()?;
        object["status"]["observedGeneration"].as_i64().map(|_| ())
    })
    .await;
    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the binary stops")
        .expect("exit status");
    assert_eq!(exit.code(), Some(0), "SIGTERM is a clean stop");
    assert_eq!(lease_holder(&sim).await, None, "the Lease is released");

    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .await
        .expect("logs");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for expected in [
        "became the leader",
        "shutting down",
        "released the Lease",
        "stopped",
    ] {
        assert!(
            messages.contains(&expected),
            "no {expected:?} in {messages:?}"
        );
    }
    // Every line logged inside a reconcile names the BigPeer.
    let reconcile_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["spans"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["name"] == "reconcile"))
        })
        .collect();
    assert!(!reconcile_lines.is_empty(), "{stderr}");
    for line in reconcile_lines {
        let span = line["spans"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == "reconcile"))
            .expect("the reconcile span");
        assert_eq!(span["bigpeer"], "bin/peer", "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_that_dies_stops_the_whole_process_with_an_error() {
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    let mut broken = options(None);
    // No certificate where it is said to be: the certificate task fails at once.
    broken.webhook = Some(WebhookOptions {
        addr: "127.0.0.1:0".parse().expect("addr"),
        certificate: CertSource::Files("/nonexistent/serving-certs".into()),
    });
    let instance = Instance::start(&sim, broken).await;
    let outcome = tokio::time::timeout(WAIT, instance.running.supervisor)
        .await
        .expect("the process stops on its own")
        .expect("supervisor");
    let error = outcome.expect_err("a failed task is an error exit");
    assert!(
        error.starts_with("webhook certificate: cannot load the webhook certificate: read /nonexistent/serving-certs/tls.crt"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_operator_namespace_stops_the_binary_at_once_saying_what_to_do() {
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_smbp-operator"))
        .args(["run", "--kubeconfig"])
        .arg(sim.kubeconfig_path())
        .args(["--probe-address=127.0.0.1:0", "--log-format=text"])
        .env("POD_NAMESPACE", "not-there")
        .kill_on_drop(true)
        .output()
        .await
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the operator namespace \\\"not-there\\\" does not exist")
            || stderr.contains("the operator namespace \"not-there\" does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("--operator-namespace"), "{stderr}");
}
