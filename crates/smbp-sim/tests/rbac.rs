//! Authentication and RBAC authorization against kube-apiserver's recorded answers
//! (`../shared/apiserver-reference/16-rbac.json`, replayed step by step with each step's
//! identity), and one test per behaviour: ServiceAccount tokens, 401/403, resourceNames,
//! subresources, aggregated ClusterRoles, escalation prevention (`escalate`/`bind`),
//! impersonation, self reviews, the user in AdmissionReviews, and the 403 accounting.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, PostParams};
use regex::Regex;
use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimHandle};
use std::path::PathBuf;

/// Who sends a request.
#[derive(Clone, Copy)]
enum Who<'a> {
    Admin,
    Token(&'a str),
    Anonymous,
}

/// A client without credentials of its own: each request carries the header `Who` asks for.
async fn bare_client(cluster: &SimHandle) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path()).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    config.auth_info = Default::default();
    kube::Client::try_from(config).unwrap()
}

/// Sends one request as `who`; returns the status code and the body (JSON, or a string).
async fn send(
    cluster: &SimHandle,
    who: Who<'_>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Accept", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let client = match who {
        Who::Admin => cluster.client(),
        Who::Token(token) => {
            request = request.header("Authorization", format!("Bearer {token}"));
            bare_client(cluster).await
        }
        Who::Anonymous => bare_client(cluster).await,
    };
    let bytes = body.map_or_else(Vec::new, |b| b.to_string().into_bytes());
    let response = client
        .send(request.body(kube::client::Body::from(bytes)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

/// `POST` of a JSON body as `who`.
async fn post(cluster: &SimHandle, who: Who<'_>, path: &str, body: Value) -> (u16, Value) {
    let json = [("Content-Type", "application/json")];
    send(cluster, who, "POST", path, &json, Some(&body)).await
}

/// Creates objects as the administrator, each a `(collection path, body)`.
async fn create_all(cluster: &SimHandle, objects: &[(&str, Value)]) {
    for (path, object) in objects {
        let (status, body) = post(cluster, Who::Admin, path, object.clone()).await;
        assert_eq!(status, 201, "{path}: {body}");
    }
}

/// A token for a ServiceAccount from the TokenRequest API.
async fn token(cluster: &SimHandle, namespace: &str, name: &str) -> String {
    let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token");
    let request = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}});
    let (status, body) = post(cluster, Who::Admin, &path, request).await;
    assert_eq!(status, 201, "{body}");
    body["status"]["token"].as_str().unwrap().to_string()
}

/// A cluster with a namespace and ServiceAccounts in it.
async fn cluster_with(namespace: &str, accounts: &[&str]) -> SimHandle {
    let cluster = SimCluster::start().await.unwrap();
    let mut objects = vec![(
        "/api/v1/namespaces".to_string(),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
    )];
    for account in accounts {
        objects.push((
            format!("/api/v1/namespaces/{namespace}/serviceaccounts"),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}}),
        ));
    }
    let objects: Vec<(&str, Value)> = objects.iter().map(|(p, o)| (p.as_str(), o.clone())).collect();
    create_all(&cluster, &objects).await;
    cluster
}

/// A Role (or ClusterRole when `namespace` is empty) with `rules`, bound to a ServiceAccount.
async fn grant(cluster: &SimHandle, namespace: &str, account: (&str, &str), name: &str, rules: Value) {
    let (prefix, role_kind, binding_kind) = if namespace.is_empty() {
        ("/apis/rbac.authorization.k8s.io/v1".to_string(), "ClusterRole", "ClusterRoleBinding")
    } else {
        (format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"), "Role", "RoleBinding")
    };
    let plural = |kind: &str| format!("{}/{}s", prefix, kind.to_lowercase());
    create_all(cluster, &[
        (&plural(role_kind), json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
            "metadata": {"name": name}, "rules": rules})),
        (&plural(binding_kind), json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "namespace": account.0, "name": account.1}]})),
    ])
    .await;
}

// ---- the recorded scenario ----

fn reference(file: &str) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/apiserver-reference")
        .join(file);
    Some(serde_json::from_str(&std::fs::read_to_string(path).ok()?).unwrap())
}

/// Masks what differs between runs: uids, numbers (resourceVersions) and timestamps.
fn mask(value: &Value) -> String {
    let uid = Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let time = Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let number = Regex::new(r"\d+").unwrap();
    let text = uid.replace_all(&value.to_string(), "UID").into_owned();
    let text = time.replace_all(&text, "TIME").into_owned();
    number.replace_all(&text, "N").into_owned()
}

/// The objects the recording's steps find in place (created by the recorder beforehand).
async fn recorded_setup() -> (SimHandle, String, String) {
    let cluster = cluster_with("ref-16", &["probe", "granter"]).await;
    create_all(&cluster, &[
        ("/api/v1/namespaces/ref-16/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "allowed-cm"}, "data": {"a": "1"}})),
        ("/api/v1/namespaces/ref-16/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "other-cm"}, "data": {"a": "1"}})),
        ("/apis/apps/v1/namespaces/ref-16/deployments", json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})),
    ])
    .await;
    let probe = token(&cluster, "ref-16", "probe").await;
    let granter = token(&cluster, "ref-16", "granter").await;
    (cluster, probe, granter)
}

/// What to compare of an answer: the whole body for failures and reviews, else its kind.
fn comparable(body: &Value) -> Value {
    let kind = body["kind"].as_str().unwrap_or_default();
    let failure = kind == "Status" && body["status"] == "Failure";
    if failure || kind.starts_with("SelfSubject") {
        body.clone()
    } else {
        json!({"kind": kind})
    }
}

/// Replays every step as its recorded identity; returns the steps whose answer differs.
async fn replay(scenario: &Value) -> Vec<(usize, String)> {
    let (cluster, probe, granter) = recorded_setup().await;
    let mut mismatches = Vec::new();
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let request = &step["request"];
        let who = match request["headers"]["_auth"].as_str().unwrap() {
            auth if auth.contains("ref-16/probe") => Who::Token(&probe),
            auth if auth.contains("ref-16/granter") => Who::Token(&granter),
            auth if auth.contains("admin") => Who::Admin,
            auth if auth.contains("invalid") => Who::Token("not-a-token"),
            _ => Who::Anonymous,
        };
        let headers: Vec<(&str, &str)> = request["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "_auth" && *k != "Accept")
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let body = Some(&request["body"]).filter(|b| !b.is_null());
        let method = request["method"].as_str().unwrap();
        let path = request["path"].as_str().unwrap();
        let (status, answer) = send(&cluster, who, method, path, &headers, body).await;
        let recorded = &step["response"];
        let (got, want) = (mask(&comparable(&answer)), mask(&comparable(&recorded["body"])));
        if status != recorded["status"] || got != want {
            let comment = step["comment"].as_str().unwrap_or_default();
            let recorded_status = &recorded["status"];
            mismatches.push((i, format!("step {i} ({comment}): {status} {got}\n  recorded {recorded_status} {want}")));
        }
    }
    mismatches
}

#[tokio::test]
async fn rbac_answers_match_the_recording() {
    let Some(scenario) = reference("16-rbac.json") else {
        eprintln!("apiserver-reference not present; skipped");
        return;
    };
    // Known differences, with the reason:
    // 28: the recorded server (OpenShift's fork) grants every user one more non-resource rule,
    //     `get` on `/.well-known` and `/.well-known/*`, from a ClusterRole that upstream
    //     Kubernetes' bootstrap policy does not have; the sim keeps to upstream's defaults.
    let known = [28];
    let mismatches = replay(&scenario).await;
    let unexpected: Vec<&str> = mismatches
        .iter()
        .filter(|(i, _)| !known.contains(i))
        .map(|(_, m)| m.as_str())
        .collect();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    let fixed: Vec<&usize> = known
        .iter()
        .filter(|k| !mismatches.iter().any(|(i, _)| i == *k))
        .collect();
    assert!(fixed.is_empty(), "steps {fixed:?} now match: remove them from the known differences");
}
