//! The `pods/log` subresource, as kube-apiserver and the kubelet serve it: `text/plain`, the
//! container choice and its 400s, `previous` (the instance before a restart, 400 without one),
//! `tailLines`, `sinceSeconds`, `timestamps`, `limitBytes`, option validation, the 404 of a
//! missing pod, and RBAC on `get pods/log`. The lines come from the sim's stand-in for the
//! container runtime (`SimHandle::pod_logs`).

mod support;

use serde_json::{Value, json};
use smbp_sim::{ImageBehaviour, SimHandle};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);
const NS: &str = "logs";

/// One GET: status code, Content-Type and body text.
async fn fetch(client: &kube::Client, path: &str) -> (u16, String, String) {
    let request = http::Request::builder()
        .method("GET")
        .uri(path)
        .body(kube::client::Body::from(Vec::new()))
        .unwrap();
    let response = client.send(request).await.expect("transport");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn log_path(pod: &str, query: &str) -> String {
    format!("/api/v1/namespaces/{NS}/pods/{pod}/log{query}")
}

/// The message of a Status body.
fn message(body: &str) -> String {
    let status: Value = serde_json::from_str(body).expect("a Status");
    status["message"].as_str().unwrap_or_default().to_string()
}

/// A running pod of `image` with the containers `names`.
async fn running_pod(cluster: &SimHandle, name: &str, image: &str, names: &[&str]) -> Value {
    let pods = api(cluster, "", "v1", "Pod", "pods", NS);
    let containers: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "image": image}))
        .collect();
    create(
        &pods,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": containers}}),
    )
    .await;
    eventually("the pod running", WAIT, || async {
        let pod = get(&pods, name).await?;
        (pod.pointer("/status/phase") == Some(&json!("Running"))).then_some(pod)
    })
    .await
}

#[tokio::test]
async fn a_container_log_is_served_as_text_with_the_kubelet_options() {
    let cluster = cluster().await;
    namespace(&cluster, NS).await;
    running_pod(&cluster, "two", "registry.example/app:1", &["app", "proxy"]).await;
    let client = cluster.client();
    for i in 0..5 {
        cluster
            .pod_logs()
            .append(NS, "two", "app", &format!("app line {i}"))
            .unwrap();
    }
    cluster
        .pod_logs()
        .append(NS, "two", "proxy", "proxy line")
        .unwrap();

    let (code, content_type, body) = fetch(&client, &log_path("two", "?container=app")).await;
    assert_eq!((code, content_type.as_str()), (200, "text/plain"), "{body}");
    assert_eq!(
        body,
        "app line 0\napp line 1\napp line 2\napp line 3\napp line 4\n"
    );
    let (_, _, body) = fetch(&client, &log_path("two", "?container=proxy")).await;
    assert_eq!(body, "proxy line\n");

    let (_, _, body) = fetch(&client, &log_path("two", "?container=app&tailLines=2")).await;
    assert_eq!(body, "app line 3\napp line 4\n");
    let (_, _, body) = fetch(&client, &log_path("two", "?container=app&limitBytes=13")).await;
    assert_eq!(body, "app line 0\nap");

    // timestamps=true: each line prefixed with its RFC 3339 time (nanoseconds) and a space.
    let (_, _, body) = fetch(
        &client,
        &log_path("two", "?container=app&timestamps=true&tailLines=1"),
    )
    .await;
    let (stamp, text) = body.split_once(' ').expect("a timestamp prefix");
    let at: jiff::Timestamp = stamp.parse().expect("RFC 3339");
    assert!(stamp.ends_with('Z') && at <= cluster.now(), "{body}");
    assert_eq!(text, "app line 4\n");

    // sinceSeconds: only the lines written within that many seconds of the cluster's clock.
    tokio::time::sleep(cluster.real_duration(Duration::from_secs(120))).await;
    cluster
        .pod_logs()
        .append(NS, "two", "app", "a late line")
        .unwrap();
    let (_, _, body) = fetch(&client, &log_path("two", "?container=app&sinceSeconds=60")).await;
    assert_eq!(body, "a late line\n");

    // Options are validated as PodLogOptions.
    let (code, _, body) = fetch(&client, &log_path("two", "?container=app&tailLines=-1")).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        message(&body),
        "PodLogOptions \"two\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"
    );
    let (code, _, body) = fetch(&client, &log_path("two", "?container=app&limitBytes=0")).await;
    assert_eq!(code, 422, "{body}");
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_container_must_be_named_and_valid_and_the_pod_must_exist() {
    let cluster = cluster().await;
    namespace(&cluster, NS).await;
    running_pod(&cluster, "two", "registry.example/app:1", &["a", "b"]).await;
    running_pod(&cluster, "one", "registry.example/app:1", &["only"]).await;
    cluster
        .pod_logs()
        .append(NS, "one", "only", "hello")
        .unwrap();
    let client = cluster.client();

    let (code, _, body) = fetch(&client, &log_path("two", "")).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        message(&body),
        "a container name must be specified for pod two, choose one of: [a b]"
    );
    let (code, _, body) = fetch(&client, &log_path("two", "?container=c")).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(message(&body), "container c is not valid for pod two");
    // A pod with one container needs no name.
    let (code, _, body) = fetch(&client, &log_path("one", "")).await;
    assert_eq!((code, body.as_str()), (200, "hello\n"));

    let (code, _, body) = fetch(&client, &log_path("gone", "")).await;
    assert_eq!(code, 404, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "NotFound");
    assert_eq!(status["message"], "pods \"gone\" not found");
    assert_eq!(status["details"]["kind"], "pods");

    assert!(
        cluster
            .pod_logs()
            .append(NS, "gone", "only", "x")
            .unwrap_err()
            .contains("not found")
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_restart_moves_the_log_to_previous_which_is_refused_before_any_restart() {
    let cluster = cluster().await;
    namespace(&cluster, NS).await;
    // Runs 30 simulated seconds, exits 1, and is restarted after the crash back-off.
    cluster.controls().set_image_behaviour(
        "registry.example/flaky",
        ImageBehaviour::Exit {
            code: 1,
            after: Duration::from_secs(30),
        },
    );
    running_pod(&cluster, "flaky", "registry.example/flaky:1", &["app"]).await;
    let client = cluster.client();
    cluster
        .pod_logs()
        .append(NS, "flaky", "app", "first run")
        .unwrap();
    let (code, _, body) = fetch(&client, &log_path("flaky", "?previous=true")).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        message(&body),
        "previous terminated container \"app\" in pod \"flaky\" not found"
    );

    let pods = api(&cluster, "", "v1", "Pod", "pods", NS);
    eventually("the container restarted", WAIT, || async {
        let pod = get(&pods, "flaky").await?;
        (pod.pointer("/status/containerStatuses/0/restartCount") == Some(&json!(1))).then_some(())
    })
    .await;
    // From now on it keeps running.
    cluster.controls().set_image_behaviour(
        "registry.example/flaky",
        ImageBehaviour::ReadyAfter(Duration::ZERO),
    );
    eventually("running again", WAIT, || async {
        let pod = get(&pods, "flaky").await?;
        pod.pointer("/status/containerStatuses/0/state/running")
            .map(|_| ())
    })
    .await;
    cluster
        .pod_logs()
        .append(NS, "flaky", "app", "second run")
        .unwrap();
    cluster
        .pod_logs()
        .append_previous(NS, "flaky", "app", "last words")
        .unwrap();
    let (_, _, body) = fetch(&client, &log_path("flaky", "")).await;
    assert_eq!(body, "second run\n");
    let (code, _, body) = fetch(&client, &log_path("flaky", "?previous=true")).await;
    assert_eq!((code, body.as_str()), (200, "first run\nlast words\n"));
    cluster.shutdown().await;
}

#[tokio::test]
async fn reading_logs_needs_get_on_pods_log() {
    let cluster = cluster().await;
    namespace(&cluster, NS).await;
    running_pod(&cluster, "one", "registry.example/app:1", &["only"]).await;
    cluster
        .pod_logs()
        .append(NS, "one", "only", "hello")
        .unwrap();
    let accounts = api(&cluster, "", "v1", "ServiceAccount", "serviceaccounts", NS);
    let roles = api(
        &cluster,
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        NS,
    );
    let bindings = api(
        &cluster,
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        NS,
    );
    for (name, resources) in [
        ("pods-only", json!(["pods"])),
        ("logs", json!(["pods/log"])),
    ] {
        create(
            &accounts,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}),
        )
        .await;
        create(
            &roles,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": resources, "verbs": ["get"]}]}),
        )
        .await;
        create(
            &bindings,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NS}]}),
        )
        .await;
    }
    let without = cluster
        .client_for_service_account(NS, "pods-only")
        .await
        .unwrap();
    let (code, _, body) = fetch(&without, &log_path("one", "")).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        message(&body),
        "pods \"one\" is forbidden: User \"system:serviceaccount:logs:pods-only\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"logs\""
    );
    let with = cluster
        .client_for_service_account(NS, "logs")
        .await
        .unwrap();
    let (code, _, body) = fetch(&with, &log_path("one", "")).await;
    assert_eq!((code, body.as_str()), (200, "hello\n"));
    cluster.shutdown().await;
}
