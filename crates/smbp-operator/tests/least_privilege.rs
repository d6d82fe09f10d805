//! Least privilege, proven: the operator binary runs as the chart's ServiceAccount, with the
//! RBAC objects of the rendered chart (default values: the all-namespaces ClusterRole and the
//! release-namespace Role) applied to smbp-sim by the admin, through a whole BigPeer life —
//! every optional API, Ready, scale, exposure switches (Ingress, HTTPRoute with BackendTLSPolicy,
//! TLSRoute, TCPRoute), an upgrade with migrations, delete — with
//! leader election and the self-managed webhook on, and is refused nothing.
//!
//! Then the ablation: for every rule of the rendered ClusterRole and Role (granularity: one
//! whole rule at a time), the same run with that rule removed is refused at least once, so the
//! chart holds no rule the operator does not use. A rule only a path the simulated lifecycle
//! cannot reach needs is a named exception in [`EXCEPTIONS`] (and in docs/security.md).
//!
//! The cluster runs at 1× because the binary reads the wall clock. Ablation runs stop at the
//! first 403 and run a few at a time. Skipped like chart.rs when there is no helm.

mod support;

use base64::Engine;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use smbp_sim::{SimHandle, ThirdPartyCrds};
use std::sync::Arc;
use std::time::Duration;
use support::chart::{RELEASE_NS, apply, deployment_env, helm, render};
use support::{WAIT, bigpeer_api, create, create_kafka, create_namespace, eventually, free_port};
use tokio::process::Child;

/// The chart's ServiceAccount (release `smbp-operator`).
const ACCOUNT: &str = "smbp-operator";
/// The ServiceAccount's user name, as RBAC and the 403 counters see it.
const USER: &str = "system:serviceaccount:smbp-system:smbp-operator";
/// The BigPeer's namespace and name.
const NS: &str = "shop";
const NAME: &str = "edge";
/// How many ablation runs share the machine at once: one, beside the lifecycle test. At three, a
/// loaded 2-core CI machine let a webhook call time out (`failurePolicy: Ignore`), so a twin
/// BigPeer got in without any refusal and a run failed for no RBAC reason.
const PARALLEL: usize = 1;
/// Rules (`Kind/rule index: resources verbs`) needed only on paths the simulated lifecycle
/// cannot reach, with the reason.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// The RBAC objects of the rendered chart: its ServiceAccount, ClusterRoles, Roles and their
/// bindings.
#[derive(Clone)]
struct Rbac(Vec<Value>);

impl Rbac {
    /// The RBAC objects of `objects`.
    fn of(objects: &[Value]) -> Rbac {
        let kinds = [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
        ];
        Rbac(
            objects
                .iter()
                .filter(|o| kinds.iter().any(|k| o["kind"] == *k))
                .cloned()
                .collect(),
        )
    }

    /// Every rule, as (object index, rule index).
    fn rules(&self) -> Vec<(usize, usize)> {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(o, object)| {
                let count = object["rules"].as_array().map_or(0, Vec::len);
                (0..count).map(move |r| (o, r))
            })
            .collect()
    }

    /// `Kind/index: resources verbs` (with resourceNames when set) of a rule.
    fn describe(&self, (o, r): (usize, usize)) -> String {
        let rule = &self.0[o]["rules"][r];
        let names = rule
            .get("resourceNames")
            .map(|n| format!(" names {n}"))
            .unwrap_or_default();
        format!(
            "{}/{r}: {} {}{names}",
            self.0[o]["kind"].as_str().unwrap_or_default(),
            rule["resources"],
            rule["verbs"]
        )
    }

    /// The same objects without rule `r` of object `o`.
    fn without(&self, (o, r): (usize, usize)) -> Rbac {
        let mut objects = self.0.clone();
        objects[o]["rules"].as_array_mut().expect("rules").remove(r);
        Rbac(objects)
    }

    /// Applies every object to `sim` as the admin.
    async fn install(&self, sim: &SimHandle) {
        let client = sim.client();
        for object in &self.0 {
            apply(&client, object, &PatchParams::apply("helm"))
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", object["kind"]));
        }
    }
}

/// The rendered webhook configuration pointed at `url` (smbp-sim has no Service network).
fn webhook_at(objects: &[Value], url: &str) -> Value {
    let mut configuration = objects
        .iter()
        .find(|o| o["kind"] == "ValidatingWebhookConfiguration")
        .expect("a webhook configuration")
        .clone();
    for webhook in configuration["webhooks"].as_array_mut().expect("webhooks") {
        let path = webhook["clientConfig"]["service"]["path"].clone();
        webhook["clientConfig"] = json!({"url": format!("{url}{}", path.as_str().unwrap_or(""))});
    }
    configuration
}

/// A 1× cluster with the chart's RBAC `rbac`, its webhook configuration and the operator
/// namespace, and the binary started there as the chart's ServiceAccount.
async fn install_and_run(objects: &[Value], rbac: &Rbac) -> (SimHandle, Child) {
    let sim = support::cluster_at(ThirdPartyCrds::all(), 1.0).await;
    create_namespace(&sim, RELEASE_NS).await;
    rbac.install(&sim).await;
    let port = free_port();
    let webhook = webhook_at(objects, &format!("https://127.0.0.1:{port}"));
    apply(&sim.client(), &webhook, &PatchParams::apply("helm"))
        .await
        .expect("the webhook configuration is stored");
    let kubeconfig = sim
        .kubeconfig_for_service_account(RELEASE_NS, ACCOUNT)
        .expect("a token for the chart's ServiceAccount");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smbp-operator"))
        .arg("run")
        .envs(deployment_env(objects, "smbp-operator-5c7d9-lp"))
        .env("SMBP_KUBECONFIG", kubeconfig)
        // A test cannot bind the pod's ports nor route the Service; the rest is the chart's.
        .env("SMBP_PROBE_ADDRESS", "127.0.0.1:0")
        .env("SMBP_WEBHOOK_ADDRESS", format!("127.0.0.1:{port}"))
        .env("SMBP_WEBHOOK_NAMES", "127.0.0.1")
        .env("SMBP_RESYNC_SECONDS", "2")
        // Lifetimes short enough that the self-managed CA is renewed within the run.
        .env("SMBP_WEBHOOK_CA_VALIDITY", "9s")
        .env("SMBP_WEBHOOK_CERT_VALIDITY", "3s")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    (sim, child)
}

/// Patches the BigPeer's spec as the admin.
async fn patch_spec(sim: &SimHandle, spec: Value) {
    let patch = Patch::Merge(json!({"spec": spec}));
    bigpeer_api(sim, NS)
        .patch(NAME, &PatchParams::default(), &patch)
        .await
        .expect("patch the BigPeer");
}

/// A second BigPeer with `spec`, which the operator's webhook (called by the cluster over HTTPS
/// with the self-managed CA) refuses: its host is the first one's.
async fn webhook_refuses_a_twin(sim: &SimHandle, spec: Value) {
    let twin = json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
        "metadata": {"name": "twin"}, "spec": spec});
    let twin = serde_json::from_value(twin).expect("a BigPeer");
    let refused = bigpeer_api(sim, NS)
        .create(&PostParams::default(), &twin)
        .await;
    let message = refused
        .expect_err("the webhook refuses the twin")
        .to_string();
    assert!(message.contains("admission webhook"), "{message}");
}

/// The BigPeer as JSON, if it exists.
async fn bigpeer(sim: &SimHandle) -> Option<Value> {
    let object = bigpeer_api(sim, NS).get_opt(NAME).await.ok()??;
    serde_json::to_value(object).ok()
}

/// Waits until the BigPeer's status at `pointer` is `value` for its current generation.
async fn status(sim: &SimHandle, what: &str, pointer: &str, value: &str) {
    eventually(what, WAIT, || async {
        let object = bigpeer(sim).await?;
        let generation = object.pointer("/metadata/generation")?;
        let observed = object.pointer("/status/observedGeneration")?;
        (observed == generation && object.pointer(pointer)? == value).then_some(())
    })
    .await;
}

/// Waits until the BigPeer is Ready for its current generation.
async fn ready(sim: &SimHandle, what: &str) {
    eventually(what, WAIT, || async {
        let object = bigpeer(sim).await?;
        let generation = object.pointer("/metadata/generation")?;
        let conditions = object.pointer("/status/conditions")?.as_array()?;
        conditions
            .iter()
            .any(|c| {
                c["type"] == "Ready"
                    && c["status"] == "True"
                    && c.get("observedGeneration") == Some(generation)
            })
            .then_some(())
    })
    .await;
}

/// The objects a BigPeer with every optional API needs: a Kafka in another namespace, a
/// self-signed Issuer and ClusterIssuer, a Gateway.
async fn prerequisites(sim: &SimHandle) {
    create_namespace(sim, NS).await;
    create_namespace(sim, "kafka").await;
    create_kafka(sim, "kafka", "shared").await;
    for (kind, plural, namespace) in [
        ("Issuer", "issuers", Some(NS)),
        ("ClusterIssuer", "clusterissuers", None),
    ] {
        let api = sim.dynamic_api("cert-manager.io/v1", kind, plural, namespace);
        create(
            &api,
            json!({"apiVersion": "cert-manager.io/v1", "kind": kind,
            "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}}),
        )
        .await;
    }
    let gateways = sim.dynamic_api(
        "gateway.networking.k8s.io/v1",
        "Gateway",
        "gateways",
        Some(NS),
    );
    create(&gateways, json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "public"},
        "spec": {"gatewayClassName": "sim", "listeners": [
            {"name": "http", "port": 80, "protocol": "HTTP"},
            {"name": "tls", "port": 443, "protocol": "TLS", "tls": {"mode": "Passthrough"}},
            {"name": "tcp", "port": 7443, "protocol": "TCP"}]}})).await;
}

/// A BigPeer's whole life: created on 1.5.0 with cert-manager TLS, a Strimzi log in another
/// namespace, an Ingress and monitoring; Ready; the sync tier scaled; its certificate from the
/// ClusterIssuer instead; exposed through a Gateway HTTPRoute with a BackendTLSPolicy instead,
/// then a TLSRoute, then a TCPRoute (each switch prunes the route before); upgraded to 1.5.1
/// (with migrations); deleted. The webhook refuses a twin with the same host.
async fn lifecycle(sim: &SimHandle) {
    prerequisites(sim).await;
    let spec = json!({
        "version": "1.5.0",
        "store": {"replicas": 1, "storage": {"size": "1Gi"}},
        "sync": {"replicas": 1},
        "transactionLog": {"strimzi": {"clusterRef": {"name": "shared", "namespace": "kafka"}}},
        "tls": {"certManager": {"issuerRef": {"name": "selfsigned"}, "dnsNames": ["sync.example.com"]}},
        "network": {"ingress": {"ingressClassName": "sim", "hosts": ["sync.example.com"], "tls": {"useBigPeerCertificate": true}}},
        "monitoring": {"serviceMonitor": {}, "prometheusRule": {}, "grafanaDashboards": {}},
        "upgrade": {"podReadyTimeout": "30s", "minReadySeconds": 1, "migrationTimeout": "2m"},
    });
    create(
        &bigpeer_api(sim, NS),
        json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
        "metadata": {"name": NAME}, "spec": spec.clone()}),
    )
    .await;
    ready(sim, "Ready").await;
    webhook_refuses_a_twin(sim, spec).await;
    patch_spec(sim, json!({"sync": {"replicas": 2}})).await;
    ready(sim, "Ready after scaling").await;
    let cluster_issuer = json!({"name": "selfsigned", "kind": "ClusterIssuer"});
    patch_spec(
        sim,
        json!({"tls": {"certManager": {"issuerRef": cluster_issuer}}}),
    )
    .await;
    ready(sim, "Ready with the ClusterIssuer").await;
    patch_spec(
        sim,
        json!({"network": {"ingress": null,
        "gateway": {"parentRefs": [{"name": "public", "sectionName": "http"}], "hostnames": ["sync.example.com"], "backendTLS": true}}}),
    )
    .await;
    ready(sim, "Ready behind the Gateway").await;
    let tls_route = json!({"routeKind": "TLSRoute", "backendTLS": false,
        "parentRefs": [{"name": "public", "sectionName": "tls"}]});
    patch_spec(sim, json!({"network": {"gateway": tls_route}})).await;
    ready(sim, "Ready behind a TLSRoute").await;
    let tcp_route = json!({"routeKind": "TCPRoute", "hostnames": null,
        "parentRefs": [{"name": "public", "sectionName": "tcp"}]});
    patch_spec(sim, json!({"network": {"gateway": tcp_route}})).await;
    ready(sim, "Ready behind a TCPRoute").await;
    patch_spec(sim, json!({"version": "1.5.1"})).await;
    status(
        sim,
        "the upgrade completes",
        "/status/upgrade/phase",
        "Completed",
    )
    .await;
    bigpeer_api(sim, NS)
        .delete(NAME, &Default::default())
        .await
        .expect("delete the BigPeer");
    eventually("the BigPeer is gone", WAIT, || async {
        bigpeer(sim).await.is_none().then_some(())
    })
    .await;
}

/// Waits until the webhook configuration's caBundle is filled in, the BigPeer's life is done and
/// the self-managed CA has been renewed (the bundle then holds the old and the new CA).
async fn whole_run(sim: &SimHandle) {
    eventually("the caBundle is filled in", WAIT, || {
        support::chart::ca_bundle(sim)
    })
    .await;
    lifecycle(sim).await;
    eventually("the CA is renewed", WAIT, || async {
        let bundle = support::chart::ca_bundle(sim).await?;
        let pem = base64::engine::general_purpose::STANDARD
            .decode(bundle)
            .ok()?;
        let cas = String::from_utf8_lossy(&pem)
            .matches("BEGIN CERTIFICATE")
            .count();
        (cas >= 2).then_some(())
    })
    .await;
}

/// The 403s the ServiceAccount got, as `verb resource` lines.
fn refusals(sim: &SimHandle) -> Vec<String> {
    sim.requests()
        .forbidden()
        .into_iter()
        .filter(|(k, _)| k.user == USER)
        .map(|(k, n)| format!("{} {} ×{n}", k.verb, k.resource))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_as_the_charts_service_account_is_refused_nothing_in_a_bigpeers_life() {
    let Some(helm) = helm() else { return };
    let objects = render(&helm, &[]);
    let (sim, _child) = install_and_run(&objects, &Rbac::of(&objects)).await;
    whole_run(&sim).await;
    let leases = sim.dynamic_api(
        "coordination.k8s.io/v1",
        "Lease",
        "leases",
        Some(RELEASE_NS),
    );
    let lease = serde_json::to_value(leases.get(ACCOUNT).await.expect("the Lease")).unwrap();
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .is_some_and(|h| h.starts_with("smbp-operator-5c7d9-lp_")),
        "{lease}"
    );
    assert_eq!(refusals(&sim), Vec::<String>::new());
}

/// How an ablation run ended.
enum Outcome {
    /// The ServiceAccount was refused (the rule is needed).
    Refused(Vec<String>),
    /// The whole life passed without a refusal (the rule is not needed).
    Unused,
}

/// The run with the chart's RBAC `rbac`, stopped at the first refusal. A life that fails (a
/// step times out, the webhook lets the twin in) after a refusal was refused too: the refusals
/// decide, and a failure without one fails the test.
async fn ablation_run(objects: Arc<Vec<Value>>, rbac: Rbac) -> Outcome {
    let (sim, _child) = install_and_run(&objects, &rbac).await;
    let sim = Arc::new(sim);
    let mut life = tokio::spawn({
        let sim = sim.clone();
        async move { whole_run(&sim).await }
    });
    let refused = eventually("a refusal", Duration::from_secs(600), || async {
        (sim.requests().forbidden_for(USER) > 0).then_some(())
    });
    let ended = tokio::select! {
        () = refused => Ok(()),
        ended = &mut life => ended,
    };
    life.abort();
    let refused = refusals(&sim);
    if !refused.is_empty() {
        return Outcome::Refused(refused);
    }
    if let Err(failure) = ended {
        panic!("the life failed without a refusal: {failure}");
    }
    Outcome::Unused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_one_rule_of_the_chart_the_operator_is_refused() {
    let Some(helm) = helm() else { return };
    let objects = Arc::new(render(&helm, &[]));
    let rbac = Rbac::of(&objects);
    assert!(
        rbac.rules().len() >= 20,
        "only {} rules",
        rbac.rules().len()
    );
    let slots = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut runs = tokio::task::JoinSet::new();
    for rule in rbac.rules() {
        let (objects, ablated, slots) = (objects.clone(), rbac.without(rule), slots.clone());
        let name = rbac.describe(rule);
        runs.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("semaphore");
            (name, ablation_run(objects, ablated).await)
        });
    }
    let mut unused = Vec::new();
    while let Some(run) = runs.join_next().await {
        let (name, outcome) = run.expect("an ablation run");
        match outcome {
            Outcome::Refused(refused) => eprintln!("without {name}: refused {refused:?}"),
            Outcome::Unused => match EXCEPTIONS.iter().find(|(rule, _)| *rule == name) {
                Some((_, why)) => eprintln!("without {name}: not refused, an exception: {why}"),
                None => unused.push(name),
            },
        }
    }
    assert!(
        unused.is_empty(),
        "rules the operator never needed: {unused:#?}"
    );
}
