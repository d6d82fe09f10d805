//! Authentication and RBAC authorization against kube-apiserver's recorded answers
//! (`../shared/apiserver-reference/16-rbac.json`, replayed step by step with each step's
//! identity), and one test per behaviour: ServiceAccount tokens, 401/403, resourceNames,
//! subresources, aggregated ClusterRoles, escalation prevention (`escalate`/`bind`),
//! impersonation, self reviews, the user in AdmissionReviews, and the 403 accounting.

mod support;

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
    let mut headers = headers.to_vec();
    let authorization;
    let client = match who {
        Who::Admin => cluster.client(),
        Who::Token(token) => {
            authorization = format!("Bearer {token}");
            headers.push(("Authorization", &authorization));
            bare_client(cluster).await
        }
        Who::Anonymous => bare_client(cluster).await,
    };
    let bytes = body.map_or_else(Vec::new, |b| b.to_string().into_bytes());
    support::send_raw(&client, method, path, &headers, bytes).await
}

/// `POST` of a JSON body as `who`.
async fn post(cluster: &SimHandle, who: Who<'_>, path: &str, body: Value) -> (u16, Value) {
    let json = [("Content-Type", "application/json")];
    send(cluster, who, "POST", path, &json, Some(&body)).await
}

/// Server-side apply of `object` at `path` (with its `fieldManager`) as `who`.
async fn apply(cluster: &SimHandle, who: Who<'_>, path: &str, object: &Value) -> (u16, Value) {
    let yaml = [("Content-Type", "application/apply-patch+yaml")];
    send(cluster, who, "PATCH", path, &yaml, Some(object)).await
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
    let request =
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}});
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
    let objects: Vec<(&str, Value)> = objects
        .iter()
        .map(|(p, o)| (p.as_str(), o.clone()))
        .collect();
    create_all(&cluster, &objects).await;
    cluster
}

/// A Role (or ClusterRole when `namespace` is empty) with `rules`, bound to a ServiceAccount.
async fn grant(
    cluster: &SimHandle,
    namespace: &str,
    account: (&str, &str),
    name: &str,
    rules: Value,
) {
    let (prefix, role_kind, binding_kind) = if namespace.is_empty() {
        (
            "/apis/rbac.authorization.k8s.io/v1".to_string(),
            "ClusterRole",
            "ClusterRoleBinding",
        )
    } else {
        (
            format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"),
            "Role",
            "RoleBinding",
        )
    };
    let plural = |kind: &str| format!("{}/{}s", prefix, kind.to_lowercase());
    create_all(
        cluster,
        &[
            (
                &plural(role_kind),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
            "metadata": {"name": name}, "rules": rules}),
            ),
            (
                &plural(binding_kind),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "namespace": account.0, "name": account.1}]}),
            ),
        ],
    )
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
        let (got, want) = (
            mask(&comparable(&answer)),
            mask(&comparable(&recorded["body"])),
        );
        if status != recorded["status"] || got != want {
            let comment = step["comment"].as_str().unwrap_or_default();
            let recorded_status = &recorded["status"];
            mismatches.push((
                i,
                format!(
                    "step {i} ({comment}): {status} {got}\n  recorded {recorded_status} {want}"
                ),
            ));
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
    assert!(
        fixed.is_empty(),
        "steps {fixed:?} now match: remove them from the known differences"
    );
}

// ---- one test per behaviour ----

#[tokio::test]
async fn service_account_tokens_identify_the_account_until_it_is_deleted() {
    let cluster = cluster_with("ns", &["sa"]).await;
    let path = "/api/v1/namespaces/ns/serviceaccounts/sa/token";
    let (status, issued) = post(&cluster, Who::Admin, path, json!({"spec": {}})).await;
    assert_eq!(status, 201);
    assert_eq!(
        (issued["kind"].as_str(), issued["apiVersion"].as_str()),
        (Some("TokenRequest"), Some("authentication.k8s.io/v1"))
    );
    assert_eq!(
        issued["metadata"],
        json!({"name": "sa", "namespace": "ns", "creationTimestamp": null})
    );
    assert_eq!(issued["spec"]["expirationSeconds"], 3600);
    let expires: jiff::Timestamp = issued["status"]["expirationTimestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let lifetime = expires.duration_since(cluster.now()).as_secs();
    assert!((3590..=3600).contains(&lifetime), "{lifetime}");
    let token = issued["status"]["token"].as_str().unwrap();

    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let whoami = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let (status, me) = post(&cluster, Who::Token(token), whoami, review.clone()).await;
    assert_eq!(status, 201, "{me}");
    assert_eq!(
        me["status"]["userInfo"]["username"],
        "system:serviceaccount:ns:sa"
    );
    assert_eq!(
        me["status"]["userInfo"]["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:ns",
            "system:authenticated"
        ])
    );

    let (status, short) = post(
        &cluster,
        Who::Admin,
        path,
        json!({"spec": {"expirationSeconds": 60}}),
    )
    .await;
    assert_eq!(
        (status, short["message"].as_str().unwrap()),
        (
            422,
            "TokenRequest.authentication.k8s.io \"sa\" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"
        )
    );
    let (status, _) = post(
        &cluster,
        Who::Admin,
        "/api/v1/namespaces/ns/serviceaccounts/nobody/token",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);

    let (status, _) = send(
        &cluster,
        Who::Admin,
        "DELETE",
        "/api/v1/namespaces/ns/serviceaccounts/sa",
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(&cluster, Who::Token(token), whoami, review).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("Unauthorized"))
    );
}

#[tokio::test]
async fn anonymous_requests_see_only_public_information() {
    let cluster = cluster_with("ns", &[]).await;
    for path in ["/version", "/healthz", "/readyz"] {
        assert_eq!(
            send(&cluster, Who::Anonymous, "GET", path, &[], None)
                .await
                .0,
            200,
            "{path}"
        );
    }
    let (status, body) = send(&cluster, Who::Anonymous, "GET", "/apis", &[], None).await;
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            403,
            "forbidden: User \"system:anonymous\" cannot get path \"/apis\""
        )
    );
}

#[tokio::test]
async fn service_account_clients_are_refused_until_bound_and_refusals_are_counted() {
    let cluster = cluster_with("ns", &["operator"]).await;
    let client = cluster
        .client_for_service_account("ns", "operator")
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "ns");
    let user = "system:serviceaccount:ns:operator";
    match pods.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403),
        other => panic!("expected 403, got {other:?}"),
    }
    assert_eq!(cluster.requests().forbidden_for(user), 1);
    grant(
        &cluster,
        "ns",
        ("ns", "operator"),
        "pods",
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]),
    )
    .await;
    assert!(pods.list(&Default::default()).await.is_ok());
    assert_eq!(cluster.requests().forbidden_for(user), 1);
    let denial = cluster.requests().forbidden().into_keys().next().unwrap();
    assert_eq!(
        (denial.verb.as_str(), denial.resource.as_str()),
        ("list", "pods")
    );
    let kubeconfig = cluster
        .kubeconfig_for_service_account("ns", "operator")
        .unwrap();
    assert!(
        std::fs::read_to_string(kubeconfig)
            .unwrap()
            .contains("token: ")
    );
    assert!(
        cluster
            .client_for_service_account("ns", "missing")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn watch_apply_and_all_namespace_lists_need_their_own_verbs() {
    let cluster = cluster_with("ns", &["sa"]).await;
    let sa = token(&cluster, "ns", "sa").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "create", "get"]}]);
    grant(&cluster, "ns", ("ns", "sa"), "cm", rules).await;
    let get = |path: &'static str| send(&cluster, Who::Token(&sa), "GET", path, &[], None);
    assert_eq!(get("/api/v1/namespaces/ns/configmaps").await.0, 200);
    let (status, body) = get("/api/v1/namespaces/ns/configmaps?watch=true").await;
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot watch resource \"configmaps\"")
    );
    let (status, body) = get("/api/v1/configmaps").await;
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("at the cluster scope")
    );
    let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
    let path = "/api/v1/namespaces/ns/configmaps/a?fieldManager=m";
    let (status, body) = apply(&cluster, Who::Token(&sa), path, &object).await;
    assert_eq!(status, 403);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot patch resource")
    );
    grant(
        &cluster,
        "",
        ("ns", "sa"),
        "cm-everywhere",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "patch"]}]),
    )
    .await;
    assert_eq!(get("/api/v1/configmaps").await.0, 200);
    assert_eq!(apply(&cluster, Who::Token(&sa), path, &object).await.0, 201);
}

/// kube-apiserver's patch handler wraps creation in `withAuthorization`: an apply that would create
/// the object needs `create` as well as `patch`, and the refusal carries RBAC's empty reason.
#[tokio::test]
async fn an_apply_that_creates_needs_create_as_well_as_patch() {
    let cluster = cluster_with("ns", &["sa"]).await;
    let sa = token(&cluster, "ns", "sa").await;
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["patch"]}]);
    grant(&cluster, "ns", ("ns", "sa"), "cm-patch", rules).await;
    let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"},
        "data": {"k": "v"}});
    let path = "/api/v1/namespaces/ns/configmaps/b?fieldManager=m";
    let apply_as_sa = || apply(&cluster, Who::Token(&sa), path, &object);
    let (status, body) = apply_as_sa().await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["message"], "configmaps \"b\" is forbidden: ");
    assert_eq!(body["details"], json!({"name": "b", "kind": "configmaps"}));
    assert_eq!(
        cluster
            .requests()
            .forbidden_for("system:serviceaccount:ns:sa"),
        1
    );
    let existing = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}});
    create_all(&cluster, &[("/api/v1/namespaces/ns/configmaps", existing)]).await;
    let (status, body) = apply_as_sa().await;
    assert_eq!(
        status, 200,
        "an apply that updates needs only patch: {body}"
    );
}

#[tokio::test]
async fn a_star_status_rule_grants_status_subresources_but_not_their_objects() {
    let cluster = cluster_with("ns", &["sa"]).await;
    let sa = token(&cluster, "ns", "sa").await;
    create_all(
        &cluster,
        &[(
            "/api/v1/namespaces/ns/pods",
            json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
        )],
    )
    .await;
    grant(
        &cluster,
        "",
        ("ns", "sa"),
        "status",
        json!([{"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["get"]}]),
    )
    .await;
    let get = |path: &'static str| send(&cluster, Who::Token(&sa), "GET", path, &[], None);
    assert_eq!(get("/api/v1/namespaces/ns/pods/p/status").await.0, 200);
    let (status, body) = get("/api/v1/namespaces/ns/pods/p").await;
    assert_eq!((status, body["details"]["name"].as_str()), (403, Some("p")));
}

#[tokio::test]
async fn aggregated_cluster_roles_hold_the_rules_of_the_roles_they_select() {
    let cluster = cluster_with("ns", &["sa"]).await;
    let sa = token(&cluster, "ns", "sa").await;
    create_all(&cluster, &[("/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "secrets-reader", "labels": {"example.com/aggregate-to-reader": "true"}},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]}))]).await;
    let aggregated = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "reader"}, "rules": [],
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"example.com/aggregate-to-reader": "true"}}]}});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "reader"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}]});
    create_all(
        &cluster,
        &[
            (
                "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                aggregated.clone(),
            ),
            (
                "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings",
                binding,
            ),
        ],
    )
    .await;
    assert_eq!(
        send(
            &cluster,
            Who::Token(&sa),
            "GET",
            "/api/v1/namespaces/ns/secrets",
            &[],
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        send(
            &cluster,
            Who::Token(&sa),
            "GET",
            "/api/v1/namespaces/ns/configmaps",
            &[],
            None
        )
        .await
        .0,
        403
    );
    grant(
        &cluster,
        "",
        ("ns", "sa"),
        "role-writer",
        json!([{"apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["clusterroles"], "verbs": ["create"]}]),
    )
    .await;
    let mut own = aggregated.clone();
    own["metadata"]["name"] = json!("own-reader");
    let (status, body) = post(
        &cluster,
        Who::Token(&sa),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        own,
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            403,
            "clusterroles.rbac.authorization.k8s.io \"own-reader\" is forbidden: must have cluster-admin privileges to use the aggregationRule"
        )
    );
}

#[tokio::test]
async fn escalation_needs_the_escalate_or_bind_verb_and_patches_are_checked_on_their_result() {
    let cluster = cluster_with("ns", &["granter"]).await;
    let granter = token(&cluster, "ns", "granter").await;
    grant(&cluster, "ns", ("ns", "granter"), "granter", json!([
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "get", "patch"]}])).await;
    let roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles";
    let role = |name: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": name}, "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["get"]}]})
    };
    assert_eq!(
        post(&cluster, Who::Token(&granter), roles, role("subset"))
            .await
            .0,
        201
    );
    let widen = json!({"rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]});
    let merge = [("Content-Type", "application/merge-patch+json")];
    let path = format!("{roles}/subset");
    let (status, body) = send(
        &cluster,
        Who::Token(&granter),
        "PATCH",
        &path,
        &merge,
        Some(&widen),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap().ends_with(
        "is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"));
    grant(&cluster, "ns", ("ns", "granter"), "escalator", json!([
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]},
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["cluster-admin"]}])).await;
    assert_eq!(
        send(
            &cluster,
            Who::Token(&granter),
            "PATCH",
            &path,
            &merge,
            Some(&widen)
        )
        .await
        .0,
        200
    );
    let bind = |role: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": role}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "granter", "namespace": "ns"}]})
    };
    let bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings";
    let (status, body) = post(&cluster, Who::Token(&granter), bindings, bind("absent")).await;
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            404,
            "clusterroles.rbac.authorization.k8s.io \"absent\" not found"
        )
    );
    assert_eq!(
        post(
            &cluster,
            Who::Token(&granter),
            bindings,
            bind("cluster-admin")
        )
        .await
        .0,
        201
    );
}

#[tokio::test]
async fn the_administrator_impersonates_a_service_account_and_reviews_answer_for_it() {
    let cluster = cluster_with("ns", &["sa"]).await;
    let as_sa = [("Impersonate-User", "system:serviceaccount:ns:sa")];
    let (status, body) = send(
        &cluster,
        Who::Admin,
        "GET",
        "/api/v1/namespaces/ns/pods",
        &as_sa,
        None,
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            403,
            "pods is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource \"pods\" in API group \"\" in the namespace \"ns\""
        )
    );
    grant(
        &cluster,
        "",
        ("ns", "sa"),
        "health",
        json!([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]),
    )
    .await;
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}});
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let json_as_sa = [as_sa[0], ("Content-Type", "application/json")];
    let (status, body) = send(
        &cluster,
        Who::Admin,
        "POST",
        path,
        &json_as_sa,
        Some(&review),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        body["status"],
        json!({"allowed": true,
        "reason": "RBAC: allowed by ClusterRoleBinding \"health\" of ClusterRole \"health\" to ServiceAccount \"sa/ns\""})
    );
}

/// Serves a webhook that denies every request, its message the `userInfo` it was sent.
async fn user_echoing_webhook(cert: smbp_sim::tls::IssuedCertificate) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(cert.server_config().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let Ok(stream) = acceptor.accept(stream).await else {
                continue;
            };
            let service = hyper::service::service_fn(
                |request: hyper::Request<hyper::body::Incoming>| async move {
                    let review: Value = serde_json::from_slice(
                        &request.into_body().collect().await.unwrap().to_bytes(),
                    )
                    .unwrap();
                    let response = json!({"uid": review["request"]["uid"], "allowed": false,
                    "status": {"message": review["request"]["userInfo"].to_string()}});
                    let answer = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response});
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(
                        answer.to_string(),
                    ))))
                },
            );
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    });
    port
}

#[tokio::test]
async fn admission_webhooks_are_told_the_requesting_user() {
    use base64::Engine;
    let cluster = cluster_with("ns", &["sa"]).await;
    let port = user_echoing_webhook(cluster.ca().issue(&["127.0.0.1".into()], 1).unwrap()).await;
    let ca = base64::engine::general_purpose::STANDARD.encode(cluster.ca().cert_pem());
    create_all(&cluster, &[("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "echo"}, "webhooks": [{"name": "echo.example.com",
            "clientConfig": {"url": format!("https://127.0.0.1:{port}/"), "caBundle": ca},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
            "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}))]).await;
    grant(
        &cluster,
        "ns",
        ("ns", "sa"),
        "cm",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}]),
    )
    .await;
    let client = cluster
        .client_for_service_account("ns", "sa")
        .await
        .unwrap();
    let config_map: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"}})).unwrap();
    let refused = Api::<ConfigMap>::namespaced(client, "ns")
        .create(&PostParams::default(), &config_map)
        .await;
    let Err(kube::Error::Api(status)) = refused else {
        panic!("expected a denial, got {refused:?}")
    };
    let (_, user) = status.message.split_once("denied the request: ").unwrap();
    let user: Value = serde_json::from_str(user).unwrap();
    assert_eq!(user["username"], "system:serviceaccount:ns:sa");
    assert_eq!(
        user["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:ns",
            "system:authenticated"
        ])
    );
    assert!(!user["uid"].as_str().unwrap().is_empty());
}
