//! Built-in objects are refused, mutated and admitted as kube-apiserver does it: names per kind
//! (and the Service-name feature gate), quantities (decoding, canonical form, non-negative,
//! requests ≤ limits), pod spec rules, immutable fields, PriorityClasses with the Priority
//! admission plugin and the controllers' FailedCreate reporting, and the MaxUnavailableStatefulSet
//! gate. One test per rule, over HTTPS through kube-rs.

mod support;

use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimHandle, SimOptions};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// Sends one request; the status code and the JSON body.
async fn send(cluster: &SimHandle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let content_type = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let headers = [("Content-Type", content_type)];
    send_raw(&cluster.client(), method, path, &headers, bytes).await
}

/// `field: message` of every cause of a 422 answer.
fn causes(answer: &Value) -> Vec<String> {
    answer["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{}: {}",
                c["field"].as_str().unwrap_or(""),
                c["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// A Pod in `default` with one container and the given extra spec fields.
fn pod(name: &str, resources: Value, extra: Value) -> Value {
    let mut spec =
        json!({"containers": [{"name": "app", "image": "app:1", "resources": resources}]});
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn names_follow_each_kinds_rule_and_the_service_name_gate() {
    let cluster = SimCluster::start().await.unwrap();
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1web"},
        "spec": {"ports": [{"port": 80}]}});
    let services = "/api/v1/namespaces/default/services";
    let (status, answer) = send(&cluster, "POST", services, Some(service.clone())).await;
    assert_eq!(status, 422);
    assert_eq!(
        causes(&answer),
        [
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ]
    );
    let unnamed = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "two"},
        "spec": {"ports": [{"port": 80}, {"port": 443, "name": "https"}]}});
    let (status, answer) = send(&cluster, "POST", services, Some(unnamed)).await;
    assert_eq!(status, 422);
    assert_eq!(causes(&answer), ["spec.ports[0].name: Required value"]);
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}});
    let (status, _) = send(&cluster, "POST", "/api/v1/namespaces", Some(namespace)).await;
    assert_eq!(status, 422);
    let generated = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"generateName": "Bad-"}});
    let (status, answer) = send(
        &cluster,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some(generated),
    )
    .await;
    assert_eq!(status, 422);
    assert!(causes(&answer)[0].starts_with("metadata.generateName: Invalid value: \"Bad-\""));
    cluster.shutdown().await;

    let relaxed = SimCluster::start_with(
        SimOptions::default().with_feature_gate("RelaxedServiceNameValidation", true),
    )
    .await
    .unwrap();
    let (status, _) = send(&relaxed, "POST", services, Some(service)).await;
    assert_eq!(status, 201);
    relaxed.shutdown().await;
    let unknown = SimCluster::start_with(SimOptions::default().with_feature_gate("Nope", true));
    assert!(unknown.await.is_err());
}

#[tokio::test]
async fn quantities_are_decoded_checked_and_stored_canonical() {
    let cluster = SimCluster::start().await.unwrap();
    let (status, answer) = send(
        &cluster,
        "POST",
        PODS,
        Some(pod("bad", json!({"requests": {"cpu": "lots"}}), json!({}))),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        answer["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    let excessive = pod(
        "greedy",
        json!({"requests": {"cpu": "2", "memory": "-1Gi"}, "limits": {"cpu": "1"}}),
        json!({}),
    );
    let (status, answer) = send(&cluster, "POST", PODS, Some(excessive)).await;
    assert_eq!(status, 422);
    assert_eq!(
        causes(&answer),
        [
            "spec.containers[0].resources.requests[memory]: Invalid value: \"-1Gi\": must be greater than or equal to 0",
            "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        ]
    );
    let fine = pod(
        "fine",
        json!({"requests": {"cpu": 0.5, "memory": "30720Mi"}, "limits": {"cpu": "1000m", "memory": "1e11"}}),
        json!({}),
    );
    let (status, stored) = send(&cluster, "POST", PODS, Some(fine)).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(
        stored["spec"]["containers"][0]["resources"],
        json!({"requests": {"cpu": "500m", "memory": "30Gi"}, "limits": {"cpu": "1", "memory": "100e9"}})
    );
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}});
    let (_, stored) = send(
        &cluster,
        "POST",
        "/api/v1/namespaces/default/persistentvolumeclaims",
        Some(claim),
    )
    .await;
    assert_eq!(stored["spec"]["resources"]["requests"]["storage"], "1Gi");
}

#[tokio::test]
async fn pod_spec_and_metadata_rules_hold_in_pods_and_templates() {
    let cluster = SimCluster::start().await.unwrap();
    let extra = json!({"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}],
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]});
    let (status, answer) = send(&cluster, "POST", PODS, Some(pod("p", json!({}), extra))).await;
    assert_eq!(status, 422);
    assert_eq!(
        causes(&answer),
        [
            "spec.tolerations[0].operator: Invalid value: core.Toleration{Key:\"k\", Operator:\"Exists\", Value:\"v\", Effect:\"\", TolerationSeconds:(*int64)(nil)}: value must be empty when `operator` is 'Exists'",
            "spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, DoNotSchedule}\"",
        ]
    );
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d",
            "annotations": {"big": "x".repeat(262_144)}},
        "spec": {"selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d", "bad key": "v"}},
                "spec": {"containers": [{"name": "App", "image": "i"}]}}}});
    let (status, answer) = send(
        &cluster,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        Some(deployment),
    )
    .await;
    assert_eq!(status, 422);
    let shown = causes(&answer);
    assert_eq!(
        shown[0],
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    );
    assert!(shown[1].starts_with("spec.template.metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters"));
    assert!(shown[2].starts_with(
        "spec.template.spec.containers[0].name: Invalid value: \"App\": a lowercase RFC 1123 label"
    ));
}

#[tokio::test]
async fn immutable_fields_of_jobs_services_and_claims_stay_put() {
    let cluster = SimCluster::start().await.unwrap();
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "a"}]}}}});
    let jobs = "/apis/batch/v1/namespaces/default/jobs";
    assert_eq!(send(&cluster, "POST", jobs, Some(job)).await.0, 201);
    let change = json!({"spec": {"completions": 3}});
    let (status, answer) = send(&cluster, "PATCH", &format!("{jobs}/j"), Some(change)).await;
    assert_eq!(status, 422);
    assert_eq!(
        causes(&answer),
        ["spec.completions: Invalid value: 3: field is immutable"]
    );

    let services = "/api/v1/namespaces/default/services";
    let headless = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80}]}});
    let (_, created) = send(&cluster, "POST", services, Some(headless)).await;
    assert_eq!(created["spec"]["clusterIPs"], json!(["None"]));
    let retyped = json!({"spec": {"clusterIP": "10.96.0.9", "clusterIPs": null}});
    let (status, answer) = send(&cluster, "PATCH", &format!("{services}/s"), Some(retyped)).await;
    assert_eq!(status, 422);
    assert_eq!(
        causes(&answer),
        ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.9\"}: may not change once set"]
    );

    let claims = "/api/v1/namespaces/default/persistentvolumeclaims";
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}});
    send(&cluster, "POST", claims, Some(claim)).await;
    let bound = json!({"status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}});
    let (status, _) = send(
        &cluster,
        "PATCH",
        &format!("{claims}/c/status"),
        Some(bound),
    )
    .await;
    assert_eq!(status, 200);
    let grow = json!({"spec": {"resources": {"requests": {"storage": "20Gi"}}}});
    assert_eq!(
        send(&cluster, "PATCH", &format!("{claims}/c"), Some(grow))
            .await
            .0,
        200
    );
    let shrink = json!({"spec": {"resources": {"requests": {"storage": "5Gi"}}}});
    let (status, answer) = send(&cluster, "PATCH", &format!("{claims}/c"), Some(shrink)).await;
    assert_eq!(status, 422);
    assert_eq!(
        causes(&answer),
        ["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"]
    );
}

#[tokio::test]
async fn priority_classes_are_served_and_the_priority_plugin_admits_pods() {
    let cluster = SimCluster::start().await.unwrap();
    let (_, groups) = send(&cluster, "GET", "/apis", None).await;
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "scheduling.k8s.io")
    );
    let (_, resources) = send(&cluster, "GET", "/apis/scheduling.k8s.io/v1", None).await;
    assert_eq!(resources["resources"][0]["name"], "priorityclasses");
    let (_, classes) = send(
        &cluster,
        "GET",
        "/apis/scheduling.k8s.io/v1/priorityclasses",
        None,
    )
    .await;
    let values: Vec<(&str, i64)> = classes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["metadata"]["name"].as_str().unwrap(),
                c["value"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            ("system-cluster-critical", 2_000_000_000),
            ("system-node-critical", 2_000_001_000)
        ]
    );
    let missing = pod("x", json!({}), json!({"priorityClassName": "foo"}));
    let (status, answer) = send(&cluster, "POST", PODS, Some(missing)).await;
    assert_eq!(status, 403);
    assert_eq!(
        answer["message"],
        "pods \"x\" is forbidden: no PriorityClass with name foo was found"
    );
    let critical = pod(
        "y",
        json!({}),
        json!({"priorityClassName": "system-cluster-critical"}),
    );
    let (status, admitted) = send(&cluster, "POST", PODS, Some(critical)).await;
    assert_eq!(status, 201);
    assert_eq!(admitted["spec"]["priority"], 2_000_000_000);
    assert_eq!(admitted["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    let (_, plain) = send(&cluster, "POST", PODS, Some(pod("z", json!({}), json!({})))).await;
    assert_eq!(plain["spec"]["priority"], 0);
}

/// The Warning events about an object.
async fn warnings(cluster: &SimHandle, namespace: &str, name: &str) -> Vec<String> {
    let (_, events) = send(
        cluster,
        "GET",
        &format!("/api/v1/namespaces/{namespace}/events"),
        None,
    )
    .await;
    events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == name && e["type"] == "Warning")
        .map(|e| {
            format!(
                "{}: {}",
                e["reason"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn controllers_report_refused_pods_as_kubernetes_does() {
    let cluster = cluster().await;
    namespace(&cluster, "prio").await;
    let template = json!({"metadata": {"labels": {"app": "a"}},
        "spec": {"priorityClassName": "missing", "containers": [{"name": "c", "image": "i"}]}});
    let selector = json!({"matchLabels": {"app": "a"}});
    let sets = api(
        &cluster,
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "prio",
    );
    create(
        &sets,
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "selector": selector, "template": template}}),
    )
    .await;
    let deployments = api(&cluster, "apps", "v1", "Deployment", "deployments", "prio");
    create(
        &deployments,
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": selector, "template": template}}),
    )
    .await;
    let mut job_template = template.clone();
    job_template["spec"]["restartPolicy"] = json!("Never");
    let jobs = api(&cluster, "batch", "v1", "Job", "jobs", "prio");
    create(
        &jobs,
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
        "spec": {"template": job_template}}),
    )
    .await;

    let refusal = "is forbidden: no PriorityClass with name missing was found";
    let set_events = eventually("the StatefulSet's FailedCreate", WAIT, || async {
        Some(warnings(&cluster, "prio", "db").await).filter(|w| !w.is_empty())
    })
    .await;
    assert_eq!(
        set_events[0],
        format!(
            "FailedCreate: create Pod db-0 in StatefulSet db failed error: pods \"db-0\" {refusal}"
        )
    );
    let job_events = eventually("the Job's FailedCreate", WAIT, || async {
        Some(warnings(&cluster, "prio", "once").await).filter(|w| !w.is_empty())
    })
    .await;
    assert_eq!(
        job_events[0],
        format!("FailedCreate: Error creating: pods \"once-\" {refusal}")
    );
    let failure = eventually("the Deployment's ReplicaFailure", WAIT, || async {
        let deployment = get(&deployments, "web").await?;
        condition(&deployment, "ReplicaFailure").cloned()
    })
    .await;
    assert_eq!(failure["reason"], "FailedCreate");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.starts_with("pods \"web-") && message.ends_with(refusal),
        "{message}"
    );
}

#[tokio::test]
async fn max_unavailable_of_statefulsets_follows_its_feature_gate() {
    let set = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
        "spec": {"serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let sets = "/apis/apps/v1/namespaces/default/statefulsets";
    let off = SimCluster::start().await.unwrap();
    let (_, stored) = send(&off, "POST", sets, Some(set.clone())).await;
    assert_eq!(
        stored["spec"]["updateStrategy"]["rollingUpdate"],
        json!({"partition": 0})
    );
    let on = SimCluster::start_with(
        SimOptions::default().with_feature_gate("MaxUnavailableStatefulSet", true),
    )
    .await
    .unwrap();
    let (_, stored) = send(&on, "POST", sets, Some(set)).await;
    assert_eq!(
        stored["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
        2
    );
}

/// Whether a pod is Ready and not being deleted.
fn ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// Whether a StatefulSet has `n` updated, ready replicas at one revision.
fn rolled_out(set: &Value, n: i64) -> bool {
    set["status"]["updatedReplicas"] == n
        && set["status"]["readyReplicas"] == n
        && set["status"]["currentRevision"] == set["status"]["updateRevision"]
}

#[tokio::test]
async fn without_the_gate_a_statefulset_rolls_one_pod_at_a_time() {
    let cluster = cluster().await;
    let sets = api(
        &cluster,
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "default",
    );
    let pods = api(&cluster, "", "v1", "Pod", "pods", "default");
    create(
        &sets,
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
        "spec": {"replicas": 3, "serviceName": "web", "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}),
    )
    .await;
    eventually("3 ready", WAIT, || async {
        rolled_out(&get(&sets, "web").await?, 3).then_some(())
    })
    .await;
    let image = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}});
    merge(&sets, "web", image).await;
    let worst = std::cell::Cell::new(0);
    eventually("the rollout", WAIT, || async {
        let unavailable = 3 - list(&pods).await.iter().filter(|p| ready(p)).count();
        worst.set(unavailable.max(worst.get()));
        rolled_out(&get(&sets, "web").await?, 3).then_some(())
    })
    .await;
    let worst = worst.get();
    assert!(worst <= 1, "{worst} pods were unavailable at once");
}
