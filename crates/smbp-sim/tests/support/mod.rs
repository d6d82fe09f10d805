//! Helpers for the controller tests: a whole simulated cluster at a raised clock speed, generic
//! object access by API path, and polling until a condition holds.

#![allow(dead_code)]

pub mod replay;
pub mod webhook;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::Value;
use smbp_sim::{SimCluster, SimHandle, SimOptions};
use std::time::{Duration, Instant};

/// How much faster than real time the controller tests run.
pub const SCALE: f64 = 20.0;

/// A whole cluster (every controller and third-party CRD), running `SCALE` times faster.
pub async fn cluster() -> SimHandle {
    cluster_at(SCALE).await
}

/// A whole cluster whose clock runs `scale` times faster than real time.
pub async fn cluster_at(scale: f64) -> SimHandle {
    SimCluster::start_with(SimOptions::full_cluster().with_time_scale(scale))
        .await
        .expect("cluster starts")
}

/// A client that does not retry 429 answers (kube-rs retries them 15 times, backing off for
/// minutes), for tests that must see an eviction refused by a disruption budget.
pub async fn client_without_retries(cluster: &SimHandle) -> kube::Client {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(cluster.kubeconfig_path()).expect("kubeconfig");
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    config.default_retry = false;
    kube::Client::try_from(config).expect("client")
}

/// A dynamic API for a kind in a namespace ("" for cluster-scoped kinds).
pub fn api(
    cluster: &SimHandle,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespace: &str,
) -> Api<DynamicObject> {
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    cluster.dynamic_api(
        &api_version,
        kind,
        plural,
        Some(namespace).filter(|n| !n.is_empty()),
    )
}

/// Creates an object from JSON.
pub async fn create(api: &Api<DynamicObject>, object: Value) -> Value {
    let object: DynamicObject = serde_json::from_value(object).expect("object shape");
    let created = api
        .create(&PostParams::default(), &object)
        .await
        .expect("create succeeds");
    serde_json::to_value(created).expect("json")
}

/// Merge-patches an object.
pub async fn merge(api: &Api<DynamicObject>, name: &str, patch: Value) {
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("patch succeeds");
}

/// The object as JSON, if it exists.
pub async fn get(api: &Api<DynamicObject>, name: &str) -> Option<Value> {
    api.get_opt(name)
        .await
        .expect("get")
        .map(|o| serde_json::to_value(o).expect("json"))
}

/// All objects as JSON.
pub async fn list(api: &Api<DynamicObject>) -> Vec<Value> {
    api.list(&Default::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|o| serde_json::to_value(o).expect("json"))
        .collect()
}

/// Polls `check` until it returns Some, or panics after `timeout` (real time) naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The condition of a kind in an object's status.
pub fn condition<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// A namespace.
pub async fn namespace(cluster: &SimHandle, name: &str) {
    create(
        &api(cluster, "", "v1", "Namespace", "namespaces", ""),
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
    .await;
}

/// Sends one raw request through `client` with `headers` (Accept is JSON) and `body`; returns the
/// status code and the answer: JSON, or the text when it is not JSON.
pub async fn send_raw(
    client: &kube::Client,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Accept", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(kube::client::Body::from(body)).unwrap();
    let response = client.send(request).await.expect("transport");
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let answer = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, answer)
}
