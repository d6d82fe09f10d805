//! CRD validation, server-side apply and their messages as a real kube-apiserver gives them:
//! defaults of a CRD's schema checked on create (the BigPeer CRD a 1.36 apiserver refused),
//! OpenAPI `format`s, list set/map duplicates, `FieldValueDuplicate` CEL rules, typed-patch
//! errors of apply bodies, and apply removing a section its manager dropped.

mod support;

use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimHandle};
use std::path::PathBuf;

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const WIDGETS: &str = "/apis/fidelity.example.com/v1/namespaces/default/widgets";

/// Sends a raw request; returns the status code and the JSON answer.
async fn send(
    cluster: &SimHandle,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> (u16, Value) {
    let headers = [("Content-Type", content_type)];
    let bytes = body.to_string().into_bytes();
    support::send_raw(&cluster.client(), method, path, &headers, bytes).await
}

fn yaml_file(relative: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_yaml::from_str(&text).unwrap()
}

/// The refusal kube-apiserver v1.36.2 gave `kubectl apply --server-side -f config/crd/`.
const REFUSAL: &str = "spec.validation.openAPIV3Schema.properties[spec].properties[security].properties[serviceAccount].default: Invalid value: \"object\": no such key: create evaluating rule: spec.security.serviceAccount.name is required when create is false: name the existing service account to use";

#[tokio::test]
async fn the_bigpeer_crd_with_an_unevaluable_default_is_refused_as_kube_apiserver_refused_it() {
    let cluster = SimCluster::start().await.unwrap();
    let crd = yaml_file("tests/fixtures/bigpeers-refused-default.yaml");
    let (status, answer) = send(&cluster, "POST", CRDS, "application/json", &crd).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["message"],
        format!(
            "CustomResourceDefinition.apiextensions.k8s.io \"bigpeers.smbp.dev\" is invalid: {REFUSAL}"
        )
    );
    assert_eq!(
        answer["details"]["causes"][0]["reason"],
        "FieldValueInvalid"
    );
    cluster.shutdown().await;
}

/// Fails until the CRD in config/crd/ gets a default the rule can evaluate (the lead's fix).
#[tokio::test]
async fn the_generated_bigpeer_crd_installs() {
    let cluster = SimCluster::start().await.unwrap();
    let crd = yaml_file("../../config/crd/smbp.dev_bigpeers.yaml");
    let (status, answer) = send(&cluster, "POST", CRDS, "application/json", &crd).await;
    assert_eq!(status, 201, "{answer}");
    cluster.shutdown().await;
}

/// A CRD for the widgets of these tests; `spec` gets the given properties.
fn widget_crd(spec: Value) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.fidelity.example.com"},
        "spec": {"group": "fidelity.example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}}}]}})
}

async fn cluster_with_widgets(spec: Value) -> SimHandle {
    let cluster = SimCluster::start().await.unwrap();
    let (status, answer) = send(
        &cluster,
        "POST",
        CRDS,
        "application/json",
        &widget_crd(spec),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    cluster
}

fn widget(spec: Value) -> Value {
    json!({"apiVersion": "fidelity.example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": spec})
}

#[tokio::test]
async fn formats_are_checked_with_kube_apiserver_s_message() {
    let cluster = cluster_with_widgets(json!({"type": "object", "properties": {
        "interval": {"type": "string", "format": "duration"},
        "port": {"type": "integer", "format": "int32"}}}))
    .await;
    let bad = widget(json!({"interval": "abc", "port": 1}));
    let (status, answer) = send(&cluster, "POST", WIDGETS, "application/json", &bad).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["message"],
        "Widget.fidelity.example.com \"w1\" is invalid: spec.interval: Invalid value: \"abc\": spec.interval in body must be of type duration: \"abc\""
    );
    assert_eq!(
        answer["details"]["causes"][0]["reason"],
        "FieldValueTypeInvalid"
    );
    let good = widget(json!({"interval": "90s", "port": 1}));
    let (status, answer) = send(&cluster, "POST", WIDGETS, "application/json", &good).await;
    assert_eq!(status, 201, "{answer}");
    cluster.shutdown().await;
}

fn listed_spec() -> Value {
    json!({"type": "object", "properties": {
        "size": {"type": "integer"},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "port": {"type": "integer"}}}},
        "workload": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "!has(self.a) || !has(self.b) || self.a != self.b",
                "message": "a and b must differ", "reason": "FieldValueDuplicate"}]}}})
}

#[tokio::test]
async fn duplicates_are_reported_as_kube_apiserver_reports_them() {
    let cluster = cluster_with_widgets(listed_spec()).await;
    let body = widget(json!({"tags": ["a", "a", "a"],
        "ports": [{"name": "x", "port": 1}, {"name": "x", "port": 2}]}));
    let (status, answer) = send(&cluster, "POST", WIDGETS, "application/json", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["message"],
        "Widget.fidelity.example.com \"w1\" is invalid: [spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"x\"}, spec.tags[1]: Duplicate value: \"a\"]"
    );
    // A CEL rule with reason FieldValueDuplicate loses its message (Duplicate prints no detail).
    let body = widget(json!({"workload": {"a": 1, "b": 1}}));
    let (status, answer) = send(&cluster, "POST", WIDGETS, "application/json", &body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["message"],
        "Widget.fidelity.example.com \"w1\" is invalid: spec.workload: Duplicate value"
    );
    assert_eq!(
        answer["details"]["causes"][0]["reason"],
        "FieldValueDuplicate"
    );
    cluster.shutdown().await;
}

const APPLY: &str = "application/apply-patch+yaml";

#[tokio::test]
async fn apply_bodies_that_do_not_type_check_are_refused_with_smd_s_errors() {
    let cluster = cluster_with_widgets(listed_spec()).await;
    let path = format!("{WIDGETS}/w1?fieldManager=A");
    let prefix =
        "failed to create typed patch object (/w1; fidelity.example.com/v1, Kind=Widget): ";
    let (status, answer) = send(
        &cluster,
        "PATCH",
        &path,
        APPLY,
        &widget(json!({"size": "two"})),
    )
    .await;
    assert_eq!(status, 500, "{answer}");
    assert_eq!(
        answer["message"],
        format!("{prefix}.spec.size: expected numeric (int or float), got string")
    );
    let duplicated = widget(json!({"ports": [{"name": "x", "port": 1}, {"name": "x", "port": 2}]}));
    let (status, answer) = send(&cluster, "PATCH", &path, APPLY, &duplicated).await;
    assert_eq!(status, 500, "{answer}");
    assert_eq!(
        answer["message"],
        format!("{prefix}.spec.ports: duplicate entries for key [name=\"x\"]")
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn apply_that_drops_a_section_removes_it_with_its_defaults() {
    let cluster = cluster_with_widgets(json!({"type": "object",
        "x-kubernetes-validations": [{"rule": "!(has(self.tls) && has(self.certManager))",
            "message": "tls and certManager are mutually exclusive"}],
        "properties": {
            "tls": {"type": "object", "properties": {
                "mode": {"type": "string", "default": "auto"}, "secretName": {"type": "string"}}},
            "certManager": {"type": "object", "properties": {"issuer": {"type": "string"}}}}}))
    .await;
    let path = format!("{WIDGETS}/w1?fieldManager=A");
    let first = widget(json!({"tls": {"secretName": "s"}}));
    let (status, answer) = send(&cluster, "PATCH", &path, APPLY, &first).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["spec"]["tls"],
        json!({"mode": "auto", "secretName": "s"})
    );
    let switched = widget(json!({"certManager": {"issuer": "i"}}));
    let (status, answer) = send(&cluster, "PATCH", &path, APPLY, &switched).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["spec"], json!({"certManager": {"issuer": "i"}}));
    cluster.shutdown().await;
}

fn reference(file: &str) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/apiserver-reference")
        .join(file);
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

/// Every refused create of the recorded CRD scenario (types, required, enum, ranges, pattern,
/// lengths, duplicates, CEL rules with and without fieldPath/reason, a CEL evaluation error,
/// several at once) gets the recorded status and message. Known difference: step 20 lists its
/// causes in Go's map order (random) and includes the scale subresource's `.spec.replicas`
/// check, which the sim does not model.
#[tokio::test]
async fn refused_creates_answer_as_recorded() {
    let Some(scenario) = reference("02-crd-lifecycle.json") else {
        eprintln!("../shared/apiserver-reference not present: skipping");
        return;
    };
    let steps = scenario["steps"].as_array().unwrap();
    let cluster = SimCluster::start().await.unwrap();
    let namespace =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ref-02"}});
    send(
        &cluster,
        "POST",
        "/api/v1/namespaces",
        "application/json",
        &namespace,
    )
    .await;
    let crd = steps.iter().map(|s| &s["request"]["body"]);
    let crd = crd
        .clone()
        .find(|b| b["kind"] == "CustomResourceDefinition")
        .unwrap();
    let (status, answer) = send(&cluster, "POST", CRDS, "application/json", crd).await;
    assert_eq!(status, 201, "{answer}");
    let mut differences = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let (request, recorded) = (&step["request"], &step["response"]);
        if request["method"] != "POST" || recorded["status"].as_u64() != Some(422) || i == 20 {
            continue;
        }
        let path = request["path"].as_str().unwrap();
        let (status, answer) =
            send(&cluster, "POST", path, "application/json", &request["body"]).await;
        if status != 422 || answer["message"] != recorded["body"]["message"] {
            differences.push(format!(
                "step {i}: {status} {}\n  recorded {}",
                answer["message"], recorded["body"]["message"]
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    cluster.shutdown().await;
}

/// `serve` refuses a clock faster than real time for external clients unless told they cope.
#[test]
fn serve_refuses_a_scaled_clock_without_allow_clock_skew() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_smbp-sim"))
        .args(["serve", "--port", "0", "--time-scale", "10"])
        .args(["--kubeconfig", "/nonexistent/never-written.kubeconfig"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-clock-skew"), "{stderr}");
    assert!(stderr.contains("wall"), "{stderr}");
}

/// The real third-party CRDs (which real clusters accept) pass the stricter CRD checks: their
/// defaults are valid and pruned, their formats known.
#[tokio::test]
async fn real_third_party_crds_are_accepted() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crds");
    let Ok(folders) = std::fs::read_dir(&root) else {
        eprintln!("../shared/crds not present: skipping");
        return;
    };
    let cluster = SimCluster::start().await.unwrap();
    let mut files: Vec<PathBuf> = folders
        .flatten()
        .filter(|f| f.path().is_dir())
        .flat_map(|f| std::fs::read_dir(f.path()).unwrap().flatten())
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    for file in files {
        let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let (status, answer) = send(&cluster, "POST", CRDS, "application/json", &crd).await;
        assert_eq!(status, 201, "{file:?}: {}", answer["message"]);
    }
    cluster.shutdown().await;
}
