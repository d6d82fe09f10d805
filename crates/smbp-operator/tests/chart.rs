//! The Helm chart against the API server: `charts/smbp-operator` rendered with helm for the
//! default values and the combinations CI checks, and every rendered object applied to smbp-sim
//! (with the real third-party CRDs) by server-side apply with `dryRun=All`, so each one meets
//! the schemas, defaults and validation of its kind. Nothing is stored.
//!
//! Then a BigPeer's life on the simulated cluster (cert-manager TLS, a Kafka in another namespace,
//! Ingress, monitoring; Ready; deleted) with every request the operator makes checked against
//! the RBAC rules the chart renders: none it makes is missing from them. And the binary, started
//! with the rendered Deployment's environment, leads (Lease) and fills the rendered webhook
//! configuration's caBundle within the same rules, then stops cleanly on SIGTERM.
//!
//! helm comes from `scripts/helm.sh` (installed into `target/tools/`). Locally the test is skipped
//! with a message when no helm is installed; with `CI=true` it installs it and is required.

mod support;

use kube::api::{Api, DynamicObject, PatchParams, PostParams};
use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimHandle, SimOptions, ThirdPartyCrds};
use std::process::Command;
use support::chart::{
    RELEASE_NS, apply, assert_allowed, ca_bundle, deployment_env, helm, render, rule_pairs,
};
use support::{Env, WAIT, eventually, free_port, spec};

/// Value sets the chart is rendered with (as in scripts/check-chart.sh), by name.
const COMBINATIONS: &[(&str, &[&str])] = &[
    ("default", &[]),
    (
        "watch-namespaces",
        &[
            "watchNamespaces={team-a,team-b}",
            "strimziNamespaces={kafka}",
        ],
    ),
    ("cert-manager", &["webhook.certificates=cert-manager"]),
    (
        "olm",
        &["webhook.certificates=olm", "watchNamespaces={team-a}"],
    ),
    (
        "monitoring",
        &[
            "monitoring.serviceMonitor.enabled=true",
            "monitoring.prometheusRule.enabled=true",
            "monitoring.dashboard.enabled=true",
        ],
    ),
];

/// A cluster (API server only) with every third-party CRD and the namespaces the combinations
/// use.
async fn cluster() -> SimHandle {
    let sim = SimCluster::start_with(SimOptions {
        crds: ThirdPartyCrds::all(),
        ..SimOptions::default()
    })
    .await
    .expect("cluster starts");
    let namespaces: Api<DynamicObject> = Api::all_with(
        sim.client(),
        &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()),
    );
    for name in [RELEASE_NS, "team-a", "team-b", "kafka"] {
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        namespaces
            .create(
                &PostParams::default(),
                &serde_json::from_value(namespace).unwrap(),
            )
            .await
            .expect("namespace");
    }
    sim
}

/// Applies `object` with `dryRun=All`; the API server's refusal as text.
async fn dry_run(client: &kube::Client, object: &Value) -> Result<(), String> {
    apply(client, object, &PatchParams::apply("helm").dry_run()).await
}

/// `kind namespace/name: why` for every object of `objects` the cluster refuses.
async fn refusals(sim: &SimHandle, objects: &[Value]) -> Vec<String> {
    let client = sim.client();
    let mut refused = Vec::new();
    for object in objects {
        if let Err(why) = dry_run(&client, object).await {
            let meta = &object["metadata"];
            refused.push(format!(
                "{} {}/{}: {why}",
                object["kind"], meta["namespace"], meta["name"]
            ));
        }
    }
    refused
}

#[tokio::test]
async fn every_rendered_object_meets_the_cluster_schemas() {
    let Some(helm) = helm() else { return };
    let sim = cluster().await;
    for (name, sets) in COMBINATIONS {
        let objects = render(&helm, sets);
        assert!(
            objects.len() >= 10,
            "{name}: only {} objects",
            objects.len()
        );
        let refused = refusals(&sim, &objects).await;
        assert!(
            refused.is_empty(),
            "{name}: refused:\n{}",
            refused.join("\n")
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_dry_run_refuses_an_object_the_schema_forbids() {
    let Some(helm) = helm() else { return };
    let sim = cluster().await;
    let mut objects = render(&helm, &[]);
    let deployment = objects
        .iter_mut()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"] =
        json!("ALL");
    let refused = refusals(&sim, std::slice::from_ref(deployment)).await;
    assert_eq!(
        refused.len(),
        1,
        "a string where a list belongs was accepted"
    );
    sim.shutdown().await;
}

/// The `(resources, verbs)` of every rule of the rendered ClusterRoles and Roles.
fn rbac_rules(objects: &[Value]) -> Vec<(Vec<String>, Vec<String>)> {
    rule_pairs(
        objects
            .iter()
            .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "Role")
            .flat_map(|o| o["rules"].as_array().cloned().unwrap_or_default()),
    )
}

/// A BigPeer created with every optional part, Ready, then deleted.
async fn lifecycle(env: &Env) {
    env.namespace("shop").await;
    env.namespace("kafka").await;
    env.kafka("kafka", "shared").await;
    env.issuer("shop", "selfsigned").await;
    env.create_bigpeer("shop", "edge", spec("shared", Some("selfsigned"), json!({
        "transactionLog": {"strimzi": {"clusterRef": {"name": "shared", "namespace": "kafka"}}},
        "tls": {"certManager": {"dnsNames": ["sync.example.com"]}},
        "network": {"ingress": {"ingressClassName": "sim", "hosts": ["sync.example.com"], "tls": {"useBigPeerCertificate": true}}},
        "monitoring": {"serviceMonitor": {}, "prometheusRule": {}, "grafanaDashboards": {}},
    }))).await;
    env.condition("shop", "edge", "Ready", "True").await;
    env.bigpeers("shop")
        .delete("edge", &Default::default())
        .await
        .expect("delete the BigPeer");
    let bigpeers = env.bigpeers("shop");
    eventually("the BigPeer is gone", WAIT, || async {
        env.get(&bigpeers, "edge").await.is_none().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_allows_every_request_the_operator_makes_in_a_bigpeers_life() {
    let Some(helm) = helm() else { return };
    let rules = rbac_rules(&render(&helm, &[]));
    let env = Env::start(ThirdPartyCrds::all()).await;
    lifecycle(&env).await;
    assert_allowed(&env.sim, &rules, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_configured_as_the_chart_does_leads_and_serves_the_webhook_within_its_rules() {
    let Some(helm) = helm() else { return };
    let objects = render(&helm, &[]);
    let sim = support::cluster(ThirdPartyCrds::all()).await;
    support::create_namespace(&sim, RELEASE_NS).await;
    let webhook = objects
        .iter()
        .find(|o| o["kind"] == "ValidatingWebhookConfiguration")
        .expect("a webhook configuration");
    apply(&sim.client(), webhook, &PatchParams::apply("helm"))
        .await
        .expect("the webhook configuration is stored");
    let pod = "smbp-operator-7d9f8-chart";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smbp-operator"))
        .arg("run")
        .envs(deployment_env(&objects, pod))
        // A test cannot bind the pod's ports; everything else is as the chart sets it.
        .env("SMBP_PROBE_ADDRESS", "127.0.0.1:0")
        .env("SMBP_WEBHOOK_ADDRESS", format!("127.0.0.1:{}", free_port()))
        .env("SMBP_KUBECONFIG", sim.kubeconfig_path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let leases = sim.dynamic_api(
        "coordination.k8s.io/v1",
        "Lease",
        "leases",
        Some(RELEASE_NS),
    );
    eventually("the chart's pod leads", WAIT, || async {
        let lease = serde_json::to_value(leases.get("smbp-operator").await.ok()?).ok()?;
        let holder = lease["spec"]["holderIdentity"].as_str()?;
        holder.starts_with(&format!("{pod}_")).then_some(())
    })
    .await;
    eventually("the caBundle is filled in", WAIT, || ca_bundle(&sim)).await;
    let pid = child.id().expect("pid").to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.expect("kill").success());
    let exit = tokio::time::timeout(WAIT, child.wait()).await;
    assert_eq!(exit.expect("it stops").expect("status").code(), Some(0));
    assert_allowed(&sim, &rbac_rules(&objects), 5);
}
