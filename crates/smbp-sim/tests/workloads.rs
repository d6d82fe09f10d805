//! The simulated workload controllers against kube-rs clients: StatefulSets (ordered start,
//! partitioned and stalled rolling updates, PVC retention), Deployments, Jobs, eviction with
//! PodDisruptionBudgets, HPA, and node failure.

mod support;

use serde_json::{Value, json};
use smbp_sim::ImageBehaviour;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn statefulset(image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"terminationGracePeriodSeconds": 5, "containers": [{"name": "nginx", "image": image,
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}
    })
}

fn revision(pod: &Value) -> String {
    pod.pointer("/metadata/labels/controller-revision-hash")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_statefulset_comes_up_in_order_and_a_partition_updates_only_the_high_ordinals() {
    let cluster = cluster().await;
    namespace(&cluster, "sts").await;
    let sets = api(&cluster, "apps", "v1", "StatefulSet", "statefulsets", "sts");
    let pods = api(&cluster, "", "v1", "Pod", "pods", "sts");
    let claims = api(
        &cluster,
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "sts",
    );
    create(&sets, statefulset("registry.example/nginx:1.0", 3)).await;

    // OrderedReady: web-(N) exists only once web-(N-1) is Ready.
    let created_while_predecessor_unready = std::cell::RefCell::new(Vec::new());
    let ready = eventually("3 ready replicas", WAIT, || async {
        let all = list(&pods).await;
        for pod in &all {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            let ordinal: usize = name.trim_start_matches("web-").parse().unwrap_or(0);
            if ordinal > 0 {
                let previous = all
                    .iter()
                    .find(|p| p["metadata"]["name"] == format!("web-{}", ordinal - 1));
                let previous_ready = previous
                    .and_then(|p| condition(p, "Ready"))
                    .is_some_and(|c| c["status"] == "True");
                if !previous_ready {
                    created_while_predecessor_unready
                        .borrow_mut()
                        .push(name.to_string());
                }
            }
        }
        let set = get(&sets, "web").await?;
        (set.pointer("/status/readyReplicas") == Some(&json!(3))).then_some(set)
    })
    .await;
    let early = created_while_predecessor_unready.take();
    assert!(
        early.is_empty(),
        "created before the previous ordinal was ready: {early:?}"
    );
    assert_eq!(
        ready["status"]["currentRevision"],
        ready["status"]["updateRevision"]
    );
    assert_eq!(ready["status"]["observedGeneration"], 1);
    let bound: Vec<Value> = list(&claims).await;
    let names: Vec<&str> = bound
        .iter()
        .filter_map(|c| c["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["data-web-0", "data-web-1", "data-web-2"]);
    assert!(
        bound.iter().all(|c| c["status"]["phase"] == "Bound"),
        "{bound:?}"
    );
    let first = revision(&get(&pods, "web-0").await.unwrap());

    // A new image with partition 2: only web-2 moves to the update revision.
    merge(&sets, "web", json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "registry.example/nginx:1.1"}]}}}})).await;
    let updated = eventually("web-2 updated and ready", WAIT, || async {
        let set = get(&sets, "web").await?;
        let done = set["status"]["observedGeneration"] == 2
            && set["status"]["updatedReplicas"] == 1
            && set["status"]["readyReplicas"] == 3;
        done.then_some(set)
    })
    .await;
    let update_revision = updated["status"]["updateRevision"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(update_revision, first);
    assert_eq!(updated["status"]["currentRevision"], first.as_str());
    assert_eq!(updated["status"]["currentReplicas"], 2);
    assert_eq!(
        revision(&get(&pods, "web-2").await.unwrap()),
        update_revision
    );
    for name in ["web-0", "web-1"] {
        assert_eq!(
            revision(&get(&pods, name).await.unwrap()),
            first,
            "{name} must keep the old revision"
        );
    }

    // Partition 0: the rest follow, and currentRevision moves once all are updated and ready.
    merge(
        &sets,
        "web",
        json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}),
    )
    .await;
    eventually("rollout complete", WAIT, || async {
        let set = get(&sets, "web").await?;
        (set["status"]["currentRevision"] == update_revision.as_str()
            && set["status"]["readyReplicas"] == 3)
            .then_some(())
    })
    .await;

    // Scale down with whenScaled=Retain keeps the claims.
    merge(&sets, "web", json!({"spec": {"replicas": 1}})).await;
    eventually("scaled to 1", WAIT, || async {
        let set = get(&sets, "web").await?;
        (set["status"]["replicas"] == 1 && list(&pods).await.len() == 1).then_some(())
    })
    .await;
    assert_eq!(
        list(&claims).await.len(),
        3,
        "whenScaled=Retain keeps every claim"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_crash_looping_image_stops_a_rolling_update() {
    let cluster = cluster().await;
    cluster
        .controls()
        .set_image_behaviour("nginx:broken", ImageBehaviour::CrashLoop);
    namespace(&cluster, "crash").await;
    let sets = api(
        &cluster,
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "crash",
    );
    let pods = api(&cluster, "", "v1", "Pod", "pods", "crash");
    create(&sets, statefulset("registry.example/nginx:1.0", 3)).await;
    eventually("3 ready", WAIT, || async {
        (get(&sets, "web").await?["status"]["readyReplicas"] == 3).then_some(())
    })
    .await;
    let old = revision(&get(&pods, "web-0").await.unwrap());
    merge(&sets, "web", json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "registry.example/nginx:broken"}]}}}})).await;
    let crashing = eventually("web-2 restarting", WAIT, || async {
        let pod = get(&pods, "web-2").await?;
        let restarts = pod
            .pointer("/status/containerStatuses/0/restartCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        (revision(&pod) != old && restarts >= 2).then_some(pod)
    })
    .await;
    assert_eq!(
        crashing.pointer("/status/containerStatuses/0/lastState/terminated/exitCode"),
        Some(&json!(1))
    );
    assert_ne!(condition(&crashing, "Ready").unwrap()["status"], "True");
    // However long it waits, web-1 and web-0 are never touched.
    tokio::time::sleep(cluster.real_duration(Duration::from_secs(60))).await;
    for name in ["web-0", "web-1"] {
        assert_eq!(
            revision(&get(&pods, name).await.unwrap()),
            old,
            "{name} must not be updated past a crashing pod"
        );
    }
    let set = get(&sets, "web").await.unwrap();
    assert_eq!(set["status"]["updatedReplicas"], 1);
    assert_eq!(set["status"]["readyReplicas"], 2);
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_deployment_rolls_out_within_its_surge_and_reports_its_conditions() {
    let cluster = cluster().await;
    namespace(&cluster, "deploy").await;
    let deployments = api(
        &cluster,
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deploy",
    );
    let sets = api(
        &cluster,
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "deploy",
    );
    let pods = api(&cluster, "", "v1", "Pod", "pods", "deploy");
    create(&deployments, json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "app:1"}]}}}})).await;
    let available = |reason: &'static str| {
        let deployments = deployments.clone();
        async move {
            eventually(reason, WAIT, || async {
                let d = get(&deployments, "web").await?;
                let progressing = condition(&d, "Progressing")?;
                (progressing["reason"] == reason
                    && d["status"]["availableReplicas"] == 3
                    && d["status"]["updatedReplicas"] == 3)
                    .then_some(d)
            })
            .await
        }
    };
    let first = available("NewReplicaSetAvailable").await;
    assert_eq!(
        condition(&first, "Available").unwrap()["reason"],
        "MinimumReplicasAvailable"
    );
    merge(
        &deployments,
        "web",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "app:2"}]}}}}),
    )
    .await;
    // Never more than replicas + maxSurge pods wanted across the ReplicaSets (the controller's
    // guarantee; a pod may briefly outlive its ReplicaSet's scale-down), never fewer than 3 available.
    let most = std::cell::Cell::new(0);
    let done = eventually("second rollout", WAIT, || async {
        let wanted: i64 = list(&sets)
            .await
            .iter()
            .map(|rs| rs["spec"]["replicas"].as_i64().unwrap_or(0))
            .sum();
        most.set(most.get().max(wanted));
        let d = get(&deployments, "web").await?;
        assert!(
            d["status"]["availableReplicas"].as_i64().unwrap_or(0) >= 3
                || d["metadata"]["generation"] != d["status"]["observedGeneration"]
                || d["status"]["availableReplicas"].is_null(),
            "maxUnavailable 0 broken: {}",
            d["status"]
        );
        let complete = d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
            && condition(&d, "Progressing")
                .is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
        complete.then_some(d)
    })
    .await;
    assert!(
        most.get() <= 4,
        "at most replicas + maxSurge pods wanted, saw {}",
        most.get()
    );
    assert!(list(&pods).await.len() >= 3);
    assert_eq!(done["status"]["updatedReplicas"], 3);
    let replica_sets = list(&sets).await;
    assert_eq!(replica_sets.len(), 2);
    assert!(replica_sets.iter().any(|rs| rs["spec"]["replicas"] == 0));
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_job_fails_after_its_backoff_limit_and_another_completes() {
    let cluster = cluster().await;
    cluster.controls().set_image_behaviour(
        "task:fails",
        ImageBehaviour::Exit {
            code: 1,
            after: Duration::from_secs(1),
        },
    );
    namespace(&cluster, "jobs").await;
    let jobs = api(&cluster, "batch", "v1", "Job", "jobs", "jobs");
    let pods = api(&cluster, "", "v1", "Pod", "pods", "jobs");
    let job = |name: &str, image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": image}]}}}})
    };
    create(&jobs, job("fails", "task:fails")).await;
    create(&jobs, job("works", "task:ok")).await;
    let failed = eventually("the failing job to fail", WAIT, || async {
        let j = get(&jobs, "fails").await?;
        condition(&j, "Failed").is_some().then_some(j)
    })
    .await;
    assert_eq!(
        condition(&failed, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
    assert_eq!(
        condition(&failed, "FailureTarget").unwrap()["message"],
        "Job has reached the specified backoff limit"
    );
    assert_eq!(
        failed["status"]["failed"], 2,
        "backoffLimit 1 allows exactly two attempts"
    );
    let works = eventually("the other job to complete", WAIT, || async {
        let j = get(&jobs, "works").await?;
        condition(&j, "Complete").is_some().then_some(j)
    })
    .await;
    assert_eq!(works["status"]["succeeded"], 1);
    assert!(condition(&works, "SuccessCriteriaMet").is_some());
    let all = list(&pods).await;
    assert!(
        all.iter()
            .all(|p| p["metadata"].get("finalizers").is_none()),
        "every pod was counted and released"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_disruption_budget_blocks_an_eviction_until_it_allows_one() {
    let cluster = cluster().await;
    namespace(&cluster, "pdb").await;
    let bare_pods = api(&cluster, "", "v1", "Pod", "pods", "pdb");
    let budgets = api(
        &cluster,
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "pdb",
    );
    // Bare pods, as in the recording: nothing replaces an evicted one.
    for i in 0..3 {
        create(&bare_pods, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p-{i}"), "labels": {"app": "app"}},
            "spec": {"containers": [{"name": "c", "image": "app:1"}]}})).await;
    }
    create(&budgets, json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "budget"},
        "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "app"}}}})).await;
    eventually("budget observed with 3 healthy", WAIT, || async {
        let b = get(&budgets, "budget").await?;
        (b["status"]["currentHealthy"] == 3 && b["status"]["observedGeneration"] == 1).then_some(())
    })
    .await;
    let victim = "p-0".to_string();
    // kube-rs retries 429s (15 times, backing off up to minutes), so the eviction goes through a
    // client without retries, as a controller that handles budgets itself would use.
    let no_retries = client_without_retries(&cluster).await;
    let evict = |name: String| {
        let client = no_retries.clone();
        async move {
            let body = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "pdb"}});
            let request =
                http::Request::post(format!("/api/v1/namespaces/pdb/pods/{name}/eviction"))
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(&body).unwrap())
                    .unwrap();
            client.request::<Value>(request).await
        }
    };
    let Err(kube::Error::Api(refused)) = evict(victim.clone()).await else {
        panic!("the budget must forbid the eviction")
    };
    assert_eq!(refused.code, 429);
    assert_eq!(
        refused.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    merge(&budgets, "budget", json!({"spec": {"minAvailable": 2}})).await;
    eventually("one disruption allowed", WAIT, || async {
        (get(&budgets, "budget").await?["status"]["disruptionsAllowed"] == 1).then_some(())
    })
    .await;
    let allowed = evict(victim.clone())
        .await
        .expect("now the budget allows it");
    assert_eq!(allowed["status"], "Success");
    let after = get(&budgets, "budget").await.unwrap();
    assert_eq!(
        after["status"]["disruptionsAllowed"], 0,
        "the eviction used up the budget"
    );
    let Err(kube::Error::Api(second)) = evict("p-1".to_string()).await else {
        panic!("the budget is used up")
    };
    assert_eq!(second.code, 429);
    eventually("the evicted pod gone", WAIT, || async {
        get(&bare_pods, "p-0").await.is_none().then_some(())
    })
    .await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn an_autoscaler_follows_the_cpu_figure_within_its_bounds() {
    let cluster = cluster().await;
    namespace(&cluster, "hpa").await;
    let deployments = api(&cluster, "apps", "v1", "Deployment", "deployments", "hpa");
    let autoscalers = api(
        &cluster,
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "hpa",
    );
    create(&deployments, json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sync"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "sync"}},
            "template": {"metadata": {"labels": {"app": "sync"}}, "spec": {"containers": [{"name": "c", "image": "sync:1"}]}}}})).await;
    cluster
        .controls()
        .set_cpu_utilisation("hpa", "Deployment", "sync", 400);
    create(&autoscalers, json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "sync"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "sync"}, "minReplicas": 2, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}})).await;
    let scaled = eventually("scaled to the maximum", WAIT, || async {
        let h = get(&autoscalers, "sync").await?;
        (h["status"]["desiredReplicas"] == 5).then_some(h)
    })
    .await;
    assert_eq!(
        condition(&scaled, "ScalingLimited").unwrap()["reason"],
        "TooManyReplicas"
    );
    eventually("deployment at 5", WAIT, || async {
        (get(&deployments, "sync").await?["spec"]["replicas"] == 5).then_some(())
    })
    .await;
    cluster
        .controls()
        .set_cpu_utilisation("hpa", "Deployment", "sync", 10);
    eventually("scaled back to the minimum", WAIT, || async {
        (get(&deployments, "sync").await?["spec"]["replicas"] == 2).then_some(())
    })
    .await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn pods_on_a_node_that_goes_not_ready_lose_readiness() {
    let cluster = cluster().await;
    namespace(&cluster, "nodes").await;
    let pods = api(&cluster, "", "v1", "Pod", "pods", "nodes");
    create(&pods, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"nodeSelector": {"kubernetes.io/hostname": "sim-node-1"}, "containers": [{"name": "c", "image": "app:1"}]}})).await;
    eventually("pod ready", WAIT, || async {
        let p = get(&pods, "p").await?;
        condition(&p, "Ready")
            .is_some_and(|c| c["status"] == "True")
            .then_some(())
    })
    .await;
    cluster.set_node_ready("sim-node-1", false).await.unwrap();
    eventually("pod not ready", WAIT, || async {
        let p = get(&pods, "p").await?;
        condition(&p, "Ready")
            .is_some_and(|c| c["status"] == "False")
            .then_some(())
    })
    .await;
    // Nothing new lands on the tainted node.
    create(&pods, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"},
        "spec": {"nodeSelector": {"kubernetes.io/hostname": "sim-node-1"}, "containers": [{"name": "c", "image": "app:1"}]}})).await;
    let pending = eventually("q unschedulable", WAIT, || async {
        let p = get(&pods, "q").await?;
        condition(&p, "PodScheduled")
            .filter(|c| c["status"] == "False")
            .cloned()
    })
    .await;
    assert_eq!(pending["reason"], "Unschedulable");
    assert!(
        pending["message"]
            .as_str()
            .unwrap()
            .starts_with("0/3 nodes are available"),
        "{pending}"
    );
    cluster.set_node_ready("sim-node-1", true).await.unwrap();
    eventually("q scheduled once the node is back", WAIT, || async {
        let p = get(&pods, "q").await?;
        (p["spec"]["nodeName"] == "sim-node-1").then_some(())
    })
    .await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_statefulset_created_by_server_side_apply_rolls_in_parallel_within_its_budget() {
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
    let mut set = statefulset("nginx:1", 3);
    set["spec"]["podManagementPolicy"] = json!("Parallel");
    let apply = kube::api::PatchParams::apply("tester");
    sets.patch("web", &apply, &kube::api::Patch::Apply(&set))
        .await
        .unwrap();
    let ready = |n: i64| {
        let sets = sets.clone();
        move || {
            let sets = sets.clone();
            async move {
                let set = get(&sets, "web").await?;
                let done = set["status"]["updatedReplicas"] == n
                    && set["status"]["readyReplicas"] == n
                    && set["status"]["currentRevision"] == set["status"]["updateRevision"];
                done.then_some(())
            }
        }
    };
    eventually("3 ready", WAIT, ready(3)).await;
    // Pods of an applied set name their owner's kind, so the controller sees their changes.
    let pod = get(&pods, "web-0").await.unwrap();
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");

    set["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    sets.patch("web", &apply, &kube::api::Patch::Apply(&set))
        .await
        .unwrap();
    let watch_budget = async {
        let mut worst = 0;
        loop {
            let listed = list(&pods).await;
            let unavailable = 3 - listed
                .iter()
                .filter(|p| {
                    p["metadata"]["deletionTimestamp"].is_null()
                        && p["status"]["conditions"].as_array().is_some_and(|c| {
                            c.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
                })
                .count() as i64;
            worst = worst.max(unavailable);
            let set = get(&sets, "web").await.unwrap();
            if set["status"]["updatedReplicas"] == 3
                && set["status"]["readyReplicas"] == 3
                && set["status"]["currentRevision"] == set["status"]["updateRevision"]
            {
                return worst;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let worst = tokio::time::timeout(WAIT, watch_budget)
        .await
        .expect("the rollout completes");
    assert!(
        worst <= 1,
        "{worst} pods were unavailable at once; maxUnavailable is 1"
    );
}
