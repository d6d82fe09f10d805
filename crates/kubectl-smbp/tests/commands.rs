//! `status`, `version` and `upgrade plan` against a running operator on the simulated cluster.

#[path = "../../smbp-operator/tests/support/mod.rs"]
mod support;

mod plugin;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use smbp_sim::ThirdPartyCrds;
use support::Env;

const NS: &str = "fleet";
const NAME: &str = "edge";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_a_ready_bigpeer_its_pods_and_conditions() {
    let env = running("1.3.1").await;
    let shown = plugin::expect(&env.sim, 0, &["-n", NS, "status", NAME]).await;
    for expected in [
        "Phase:           Running",
        "running 1.3.1, desired 1.3.1",
        "Ready       True",
        "edge-store-0",
        "edge-store-2",
        "external brokers kafka.example:9092",
        "Service   edge-sync.fleet.svc",
    ] {
        assert!(
            shown.out.contains(expected),
            "{expected:?} missing:\n{}",
            shown.out
        );
    }
    let sync_pods = shown
        .out
        .lines()
        .filter(|l| l.contains("   sync   "))
        .count();
    assert_eq!(sync_pods, 2, "{}", shown.out);

    let json = plugin::expect(&env.sim, 0, &["-n", NS, "status", NAME, "-o", "json"]).await;
    let report: Value = serde_json::from_str(&json.out).expect("JSON");
    assert_eq!(report["version"]["running"], "1.3.1");
    assert_eq!(report["pods"].as_array().map(Vec::len), Some(5));
    assert!(report["upgrade"].is_null());

    let yaml = plugin::expect(&env.sim, 0, &["-n", NS, "status", NAME, "-o", "yaml"]).await;
    let parsed: Value = serde_yaml::from_str(&yaml.out).expect("YAML");
    assert_eq!(parsed["name"], NAME);

    let listed = plugin::expect(&env.sim, 0, &["status", "-A"]).await;
    assert!(
        listed
            .out
            .lines()
            .any(|l| l.starts_with("fleet") && l.contains("edge") && l.contains("True")),
        "{}",
        listed.out
    );
    let missing = plugin::expect(&env.sim, 3, &["-n", NS, "status", "nope"]).await;
    assert!(
        missing.err.contains("BigPeer fleet/nope: not found"),
        "{}",
        missing.err
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_plan_walks_the_required_stop_and_evaluates_preflight_now() {
    let env = running("1.3.1").await;
    let plan = plugin::expect(
        &env.sim,
        0,
        &["-n", NS, "upgrade", "plan", NAME, "--to", "1.5.1"],
    )
    .await;
    assert!(
        plan.out
            .contains("Path:            1.3.1 → 1.4.2 (required stop) → 1.5.1"),
        "{}",
        plan.out
    );
    for check in smbp_core::upgrade::CHECKS.map(|(c, _)| c) {
        assert!(
            plan.out
                .lines()
                .any(|l| l.starts_with(check) && l.contains("pass")),
            "{check} not passing:\n{}",
            plan.out
        );
    }
    let json = plugin::expect(
        &env.sim,
        0,
        &[
            "-n", NS, "-o", "json", "upgrade", "plan", NAME, "--to", "1.5.1",
        ],
    )
    .await;
    let parsed: Value = serde_json::from_str(&json.out).unwrap();
    let steps: Vec<&str> = parsed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "1.4.2:pre-migration",
            "1.4.2:store-2",
            "1.4.2:store-1",
            "1.4.2:store-0",
            "1.4.2:sync",
            "1.4.2:post-migration",
            "1.5.1:pre-migration",
            "1.5.1:store-2",
            "1.5.1:store-1",
            "1.5.1:store-0",
            "1.5.1:sync",
            "1.5.1:post-migration"
        ]
    );
    assert_eq!(
        parsed["hops"][0]["preMigrationJob"],
        "edge-migrate-pre-1-4-2"
    );
    assert_eq!(parsed["duration"]["atLeastSeconds"], 6);
    // 2 hops × (2 × 2m migrations + 5 pods × 30s).
    assert_eq!(parsed["duration"]["atMostSeconds"], 2 * (240 + 150));

    // The same checks as the operator: a withdrawn target fails PathAllowed, exit 6.
    let withdrawn = plugin::expect(
        &env.sim,
        6,
        &["-n", NS, "upgrade", "plan", NAME, "--to", "1.4.0"],
    )
    .await;
    assert!(
        withdrawn
            .out
            .lines()
            .any(|l| l.starts_with("PathAllowed") && l.contains("FAIL") && l.contains("withdrawn")),
        "{}",
        withdrawn.out
    );
    // A store pod down right now fails PodsReady and DisruptionAllowed.
    env.sim.controls().set_image_behaviour(
        &smbp_core::build::ReleaseImage::of(
            "1.3.1",
            &serde_json::from_value(spec("1.3.1")).unwrap(),
        )
        .unwrap()
        .image,
        smbp_sim::ImageBehaviour::CrashLoop,
    );
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(env.sim.client(), NS);
    pods.delete("edge-store-1", &Default::default())
        .await
        .unwrap();
    let failing = support::eventually("PodsReady to fail", support::WAIT, || async {
        let outcome = plugin::run(
            &env.sim,
            &["-n", NS, "upgrade", "plan", NAME, "--to", "1.3.2"],
        )
        .await;
        (outcome.code == 6).then_some(outcome)
    })
    .await;
    assert!(
        failing.out.lines().any(|l| l.starts_with("PodsReady")
            && l.contains("FAIL")
            && l.contains("edge-store-1")),
        "{}",
        failing.out
    );
    assert!(failing.err.contains("PodsReady"), "{}", failing.err);

    let usage = plugin::expect(
        &env.sim,
        2,
        &["-n", NS, "upgrade", "plan", NAME, "--to", "latest"],
    )
    .await;
    assert!(
        usage.err.contains("--to \"latest\" is not a version"),
        "{}",
        usage.err
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_reports_the_crd_and_the_operator_deployment_and_their_compatibility() {
    let env = running("1.5.0").await;
    // The operator runs in process here: without its Deployment the versions cannot be matched.
    let missing = plugin::expect(&env.sim, 6, &["version"]).await;
    assert!(
        missing
            .out
            .contains("no Deployment smbp-system/smbp-operator"),
        "{}",
        missing.out
    );
    assert!(
        missing
            .out
            .contains("serves v1alpha1, stores v1alpha1; schema identical"),
        "{}",
        missing.out
    );

    env.namespace("smbp-system").await;
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "smbp-operator", "labels": {"app.kubernetes.io/version": env!("CARGO_PKG_VERSION")}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "op"}},
                 "template": {"metadata": {"labels": {"app": "op"}}, "spec": {"containers": [{"name": "operator", "image": "registry.smbp.dev/smbp/smbp-operator:x"}]}}}
    }))
    .unwrap();
    Api::<Deployment>::namespaced(env.sim.client(), "smbp-system")
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "smbp-operator"}, "spec": {"holderIdentity": "smbp-operator-abc"}
    }))
    .unwrap();
    Api::<Lease>::namespaced(env.sim.client(), "smbp-system")
        .create(&PostParams::default(), &lease)
        .await
        .unwrap();
    let shown = plugin::expect(&env.sim, 0, &["version", "-o", "json"]).await;
    let parsed: Value = serde_json::from_str(&shown.out).unwrap();
    assert_eq!(parsed["compatible"], true, "{parsed:#}");
    assert_eq!(parsed["operator"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        parsed["operator"]["detail"]
            .as_str()
            .unwrap()
            .contains("leader smbp-operator-abc"),
        "{parsed:#}"
    );
}

/// The operator's Deployment (running a stand-in image) and a held Lease, as the chart installs
/// them, for the checks that look for the operator.
async fn operator_objects(env: &Env) {
    env.namespace("smbp-system").await;
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "smbp-operator", "labels": {"app.kubernetes.io/version": env!("CARGO_PKG_VERSION")}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "smbp-operator"}},
                 "template": {"metadata": {"labels": {"app.kubernetes.io/name": "smbp-operator"}},
                              "spec": {"serviceAccountName": "smbp-operator",
                                       "containers": [{"name": "operator", "image": "registry.smbp.dev/smbp/smbp-operator:x"}]}}}
    }))
    .unwrap();
    Api::<Deployment>::namespaced(env.sim.client(), "smbp-system")
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "smbp-operator"},
        "spec": {"holderIdentity": "smbp-operator-abc", "leaseDurationSeconds": 3600,
                 "renewTime": env.sim.now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}
    }))
    .unwrap();
    Api::<Lease>::namespaced(env.sim.client(), "smbp-system")
        .create(&PostParams::default(), &lease)
        .await
        .unwrap();
    // The operator may do anything in fleet (as the chart's Role with watchNamespaces: [fleet]).
    let role: Role = serde_json::from_value(json!({"metadata": {"name": "smbp-operator"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}))
    .unwrap();
    Api::<Role>::namespaced(env.sim.client(), NS)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({"metadata": {"name": "smbp-operator"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "smbp-operator"},
        "subjects": [{"kind": "ServiceAccount", "name": "smbp-operator", "namespace": "smbp-system"}]}))
    .unwrap();
    Api::<RoleBinding>::namespaced(env.sim.client(), NS)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_passes_a_healthy_bigpeer_and_names_what_breaks_others_with_runbooks() {
    let env = running("1.5.0").await;
    operator_objects(&env).await;
    let healthy = support::eventually(
        "the operator Deployment to be ready",
        support::WAIT,
        || async {
            let outcome = plugin::run(&env.sim, &["-n", NS, "diagnose", NAME]).await;
            (outcome.code == 0).then_some(outcome)
        },
    )
    .await;
    for (check, result, detail) in [
        ("CRD", "ok", ""),
        ("operator", "ok", ""),
        ("leader", "ok", "smbp-operator-abc holds the Lease"),
        (
            "operator RBAC",
            "ok",
            "system:serviceaccount:smbp-system:smbp-operator may do what it needs in fleet",
        ),
        ("Ready", "ok", ""),
        ("volumes", "ok", "3 store volume(s), all Bound"),
    ] {
        assert!(
            finding(&healthy.out, check, result) && healthy.out.contains(detail),
            "{check} {result} {detail:?} missing:\n{}",
            healthy.out
        );
    }
    // The operator's rights stop at its namespaces: a BigPeer elsewhere fails the RBAC check.
    env.namespace("elsewhere").await;
    env.create_bigpeer("elsewhere", NAME, spec("1.5.0")).await;
    let elsewhere = plugin::expect(&env.sim, 6, &["-n", "elsewhere", "diagnose", NAME]).await;
    assert!(
        finding(&elsewhere.out, "operator RBAC", "FAIL"),
        "{}",
        elsewhere.out
    );
    assert!(
        elsewhere
            .out
            .contains("may not: watch bigpeers, patch bigpeers/status, patch statefulsets"),
        "{}",
        elsewhere.out
    );
    assert!(
        elsewhere.out.contains("#diagnose-operator-rbac"),
        "{}",
        elsewhere.out
    );
    // No admission webhook is installed here: a warning, with its runbook.
    assert!(finding(&healthy.out, "webhook", "WARN"), "{}", healthy.out);
    assert!(
        healthy.out.contains("docs/runbooks.md#diagnose-webhook"),
        "{}",
        healthy.out
    );

    // An Issuer that does not exist, and a StorageClass that does not exist.
    let mut orphan = spec("1.5.0");
    orphan["tls"] = json!({"certManager": {"issuerRef": {"name": "missing"}}});
    env.create_bigpeer(NS, "orphan", orphan).await;
    let mut unbound = spec("1.5.0");
    unbound["store"]["storage"]["storageClassName"] = json!("no-such-class");
    env.create_bigpeer(NS, "unbound", unbound).await;
    let orphaned = support::eventually(
        "the missing issuer to be reported",
        support::WAIT,
        || async {
            let outcome = plugin::run(&env.sim, &["-n", NS, "diagnose", "orphan"]).await;
            outcome
                .out
                .contains("Issuer fleet/missing does not exist")
                .then_some(outcome)
        },
    )
    .await;
    assert_eq!(orphaned.code, 6, "{orphaned:?}");
    assert!(finding(&orphaned.out, "issuer", "FAIL"), "{}", orphaned.out);
    assert!(
        orphaned.out.contains("#diagnose-references"),
        "{}",
        orphaned.out
    );
    assert!(
        orphaned.err.contains("check(s) failed: "),
        "{}",
        orphaned.err
    );
    let pending = support::eventually("pending volumes to be reported", support::WAIT, || async {
        let outcome = plugin::run(&env.sim, &["-n", NS, "diagnose", "unbound", "-o", "json"]).await;
        let parsed: Value = serde_json::from_str(&outcome.out).ok()?;
        let volumes = parsed["findings"]
            .as_array()?
            .iter()
            .find(|f| f["check"] == "volumes")?
            .clone();
        (volumes["outcome"] == "Fail").then_some(volumes)
    })
    .await;
    assert!(
        pending["detail"]
            .as_str()
            .unwrap()
            .contains("data-unbound-store-0"),
        "{pending:#}"
    );
    assert!(
        pending["runbook"]
            .as_str()
            .unwrap()
            .ends_with("#diagnose-volumes"),
        "{pending:#}"
    );
}

/// Whether the diagnose table has the row `check` with `result`.
fn finding(out: &str, check: &str, result: &str) -> bool {
    out.lines().any(|l| {
        l.strip_prefix(check)
            .is_some_and(|rest| rest.starts_with("   ") && rest.trim_start().starts_with(result))
    })
}
