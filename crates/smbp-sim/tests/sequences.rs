//! The status sequences of the simulated controllers against those a real cluster produced
//! (`../shared/apiserver-reference/`, scenarios 09, 10 and 11): the recorded requests are replayed,
//! every change of the StatefulSet or Job is watched, and the distinct recorded snapshots —
//! projected onto what the controller writes (status counters, revisions, conditions) — must
//! appear in the same order in the simulated sequence. The recorder polled, so it may have
//! missed states; the simulation is watched, so it has them all. Revision hashes differ from a
//! real cluster's (they hash Go structs), so both sides name revisions by first appearance.
//! The clock runs only 5× faster here: a faster clock stretches the real scheduling jitter
//! between two pods into simulated seconds, which can reorder their steps against the recording.
//! The eviction scenario (12) is replayed step by step instead: every answer's code, reason,
//! message and causes, and the budget's counters, must match the recording.
//! Fails when the reference recordings are not beside the clone.

mod support;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube_runtime::watcher;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

/// How much faster than real time these scenarios run.
const SEQUENCE_SCALE: f64 = 5.0;
/// The clock of the Job sequences (see there).
const JOB_SEQUENCE_SCALE: f64 = 1.5;

/// Names revision hashes `rev-1`, `rev-2`, ... in order of first appearance.
#[derive(Default)]
struct Revisions(HashMap<String, String>);

impl Revisions {
    fn name(&mut self, hash: &Value) -> Value {
        let Some(hash) = hash.as_str() else {
            return hash.clone();
        };
        let next = format!("rev-{}", self.0.len() + 1);
        json!(self.0.entry(hash.to_string()).or_insert(next))
    }
}

/// What the StatefulSet controller writes: generation, status counters and revisions.
fn statefulset_projection(generation: &Value, status: &Value, revisions: &mut Revisions) -> Value {
    let mut status = status.clone();
    for field in ["currentRevision", "updateRevision"] {
        if let Some(value) = status.get(field).cloned() {
            status[field] = revisions.name(&value);
        }
    }
    json!({"generation": generation, "status": status})
}

/// What the Job controller writes: counters and conditions (timestamps reduced to presence).
fn job_projection(status: &Value, conditions: &Value) -> Value {
    let mut status = status.clone();
    for field in ["startTime", "completionTime"] {
        if status.get(field).is_some() {
            status[field] = json!("<time>");
        }
    }
    status.as_object_mut().map(|s| s.remove("conditions"));
    let conditions: Vec<Value> = conditions
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({"type": c["type"], "status": c["status"], "reason": c["reason"], "message": c["message"]}))
        .collect();
    json!({"status": status, "conditions": conditions})
}

/// Every distinct state of one object, as a watch sees it.
fn record(api: Api<DynamicObject>, name: &str) -> Arc<Mutex<Vec<Value>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    tokio::spawn(async move {
        let mut stream = watcher(api, config).boxed();
        while let Some(Ok(event)) = stream.next().await {
            if let watcher::Event::Apply(object) | watcher::Event::InitApply(object) = event {
                sink.lock()
                    .unwrap()
                    .push(serde_json::to_value(object).unwrap());
            }
        }
    });
    seen
}

/// The recorded request of the step whose comment starts with `prefix`, sent to the cluster.
async fn send(cluster: &smbp_sim::SimHandle, scenario: &Value, prefix: &str) {
    let step = scenario["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["comment"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no step {prefix}"));
    let request = &step["request"];
    let content_type = request
        .pointer("/headers/Content-Type")
        .and_then(Value::as_str)
        .unwrap_or("application/json");
    let http = http::Request::builder()
        .method(request["method"].as_str().unwrap())
        .uri(request["path"].as_str().unwrap())
        .header("Content-Type", content_type)
        .body(serde_json::to_vec(&request["body"]).unwrap())
        .unwrap();
    cluster
        .client()
        .request::<Value>(http)
        .await
        .unwrap_or_else(|e| panic!("{prefix}: {e}"));
}

/// The distinct recorded snapshots of the named segments, projected, up to any timeout marker.
fn recorded(
    scenario: &Value,
    segments: &[&str],
    project: &mut dyn FnMut(&Value) -> Value,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for segment in segments {
        for entry in scenario["sequences"][segment].as_array().unwrap() {
            let Some(snapshot) = entry.get("snapshot") else {
                break;
            };
            let projected = project(snapshot);
            if out.last() != Some(&projected) {
                out.push(projected);
            }
        }
    }
    out
}

fn distinct(states: &[Value], project: &mut dyn FnMut(&Value) -> Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for state in states {
        let projected = project(state);
        if out.last() != Some(&projected) {
            out.push(projected);
        }
    }
    out
}

/// Panics with both sequences unless `expected` is an ordered subsequence of `actual`.
fn assert_subsequence(expected: &[Value], actual: &[Value]) {
    let mut position = 0;
    for (index, wanted) in expected.iter().enumerate() {
        match actual[position..].iter().position(|a| a == wanted) {
            Some(found) => position += found + 1,
            None => panic!(
                "recorded state {index} never appears (in order) in the simulation:\n{wanted}\n\nsimulated sequence:\n{}",
                actual
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }
}

#[tokio::test]
async fn statefulset_sequences_match_the_recording() {
    let scenario = replay::reference("09-statefulset.json");
    let cluster = cluster_at(SEQUENCE_SCALE).await;
    namespace(&cluster, "ref-09").await;
    let sets = api(
        &cluster,
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "ref-09",
    );
    let seen = record(sets.clone(), "web");
    send(&cluster, &scenario, "headless Service").await;
    send(&cluster, &scenario, "create: 3 replicas").await;
    let settled = |replicas: i64, ready: i64, updated: i64, generation: i64| {
        let sets = sets.clone();
        async move {
            eventually(
                &format!("the StatefulSet to settle at {replicas}/{ready}/{updated}/{generation}"),
                Duration::from_secs(30),
                || async {
                    let set = get(&sets, "web").await?;
                    let s = &set["status"];
                    (s["observedGeneration"] == generation
                        && s["readyReplicas"] == ready
                        && s["updatedReplicas"] == updated
                        && s["replicas"] == replicas)
                        .then_some(())
                },
            )
            .await
        }
    };
    settled(3, 3, 3, 1).await;
    send(
        &cluster,
        &scenario,
        "new image with rollingUpdate.partition=2",
    )
    .await;
    settled(3, 3, 1, 2).await;
    send(&cluster, &scenario, "partition=0").await;
    settled(3, 3, 3, 3).await;
    // A never-Ready update stalls at web-2; reverting does not unstick it; deleting the pod does.
    send(&cluster, &scenario, "a broken update").await;
    settled(3, 2, 1, 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&cluster, &scenario, "revert the template").await;
    settled(3, 2, 2, 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&cluster, &scenario, "delete the stuck pod by hand").await;
    settled(3, 3, 3, 5).await;
    send(&cluster, &scenario, "scale to 1 via the scale subresource").await;
    settled(1, 1, 1, 6).await;
    send(&cluster, &scenario, "scale back to 3").await;
    settled(3, 3, 3, 7).await;
    send(&cluster, &scenario, "whenScaled=Delete (a spec change").await;
    settled(3, 3, 3, 8).await;
    send(&cluster, &scenario, "scale to 1 with whenScaled=Delete").await;
    settled(1, 1, 1, 9).await;
    let claims = api(
        &cluster,
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "ref-09",
    );
    eventually(
        "the condemned claims deleted",
        Duration::from_secs(30),
        || async { (list(&claims).await.len() == 1).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut revisions = Revisions::default();
    let segments = [
        "1-create",
        "2-partition-2",
        "3-partition-0",
        "4-stalled",
        "5-reverted",
        "6-after-manual-delete",
        "7-scale-down-retain",
        "8-scale-up",
        "9-policy-change",
        "10-scale-down-delete",
    ];
    let expected = recorded(&scenario, &segments, &mut |s| {
        statefulset_projection(&s["generation"], &s["status"], &mut revisions)
    });
    let mut revisions = Revisions::default();
    let states = seen.lock().unwrap().clone();
    let actual = distinct(&states, &mut |o| {
        statefulset_projection(&o["metadata"]["generation"], &o["status"], &mut revisions)
    });
    assert_subsequence(&expected, &actual);
    cluster.shutdown().await;
}

#[tokio::test]
async fn job_sequences_match_the_recording() {
    let scenario = replay::reference("11-job.json");
    // A Job pod is Ready for about a second before it exits; at a faster clock the Job
    // controller, level-triggered like the real one, may sync only after the exit and never
    // write the recorded `ready: 1` state (seen as a flake under load at 5×).
    let cluster = cluster_at(JOB_SEQUENCE_SCALE).await;
    namespace(&cluster, "ref-11").await;
    let jobs = api(&cluster, "batch", "v1", "Job", "jobs", "ref-11");
    for (name, prefix, segment) in [
        ("ok", "a Job whose single pod succeeds", "1-succeeds"),
        ("multi", "completions=3, parallelism=2", "2-completions-3"),
        ("fails", "pods exit with code 1", "3-fails"),
        ("dl", "activeDeadlineSeconds=3", "4-deadline"),
    ] {
        let seen = record(jobs.clone(), name);
        send(&cluster, &scenario, prefix).await;
        eventually("the Job to finish", Duration::from_secs(30), || async {
            let job = get(&jobs, name).await?;
            let finished = condition(&job, "Complete")
                .or_else(|| condition(&job, "Failed"))
                .is_some();
            (finished && job["status"]["terminating"] == 0).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let expected = recorded(&scenario, &[segment], &mut |s| {
            job_projection(&s["status"], &json!(s["conditions"]))
        });
        let states = seen.lock().unwrap().clone();
        let actual = distinct(&states, &mut |o| {
            job_projection(
                o.get("status").unwrap_or(&json!({})),
                o.pointer("/status/conditions").unwrap_or(&json!([])),
            )
        });
        assert_subsequence(&expected, &actual);
    }
    cluster.shutdown().await;
}

/// What the Deployment controller writes: revision, status counters and conditions (ReplicaSet
/// names in messages named by first appearance, as their hashes differ). `terminatingReplicas`
/// is left out: it counts pods between deletion and removal, a window whose length is the
/// kubelet's (the recording's fake kubelet removed them at once), so whether a poll or a watch
/// sees it is timing, not bookkeeping.
fn deployment_projection(
    generation: &Value,
    revision: &Value,
    status: &Value,
    conditions: &Value,
    names: &mut Revisions,
) -> Value {
    let mut status = if status.is_object() {
        status.clone()
    } else {
        json!({})
    };
    if let Some(fields) = status.as_object_mut() {
        fields.remove("conditions");
        fields.remove("terminatingReplicas");
    }
    let conditions: Vec<Value> = conditions
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let message = c["message"].as_str().unwrap_or_default();
            let message = match message.split('"').nth(1) {
                Some(replica_set) => message.replace(replica_set, names.name(&json!(replica_set)).as_str().unwrap_or_default()),
                None => message.to_string(),
            };
            json!({"type": c["type"], "status": c["status"], "reason": c["reason"], "message": message})
        })
        .collect();
    json!({"generation": generation, "revision": revision, "status": status, "conditions": conditions})
}

#[tokio::test]
async fn deployment_sequences_match_the_recording() {
    let scenario = replay::reference("10-deployment-rollout.json");
    let cluster = cluster_at(SEQUENCE_SCALE).await;
    namespace(&cluster, "ref-10").await;
    let deployments = api(
        &cluster,
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "ref-10",
    );
    let seen = record(deployments.clone(), "web");
    let reached = |generation: i64, reason: &'static str| {
        let deployments = deployments.clone();
        async move {
            eventually(
                &format!("generation {generation} with Progressing {reason}"),
                Duration::from_secs(30),
                || async {
                    let d = get(&deployments, "web").await?;
                    let done = d["status"]["observedGeneration"] == generation
                        && condition(&d, "Progressing").is_some_and(|c| c["reason"] == reason)
                        && (reason != "NewReplicaSetAvailable"
                            || d["status"]["terminatingReplicas"] == 0);
                    done.then_some(())
                },
            )
            .await
        }
    };
    send(&cluster, &scenario, "3 replicas, maxSurge 1").await;
    reached(1, "NewReplicaSetAvailable").await;
    send(&cluster, &scenario, "change the image").await;
    reached(2, "NewReplicaSetAvailable").await;
    send(&cluster, &scenario, "a broken rollout").await;
    reached(3, "ProgressDeadlineExceeded").await;
    send(&cluster, &scenario, "roll back by restoring").await;
    reached(4, "NewReplicaSetAvailable").await;
    send(&cluster, &scenario, "pause").await;
    reached(5, "DeploymentPaused").await;
    send(&cluster, &scenario, "template change while paused").await;
    reached(6, "DeploymentPaused").await;
    send(&cluster, &scenario, "resume").await;
    reached(7, "NewReplicaSetAvailable").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let segments = [
        "1-create",
        "2-image-change",
        "3-deadline-exceeded",
        "4-rollback",
        "5-paused",
        "6-change-while-paused",
        "7-resumed",
    ];
    // Mid-rollout snapshots of a surge rollout are interleavings of two ReplicaSets' pods, whose
    // order depends on pod timing (the fake kubelet's, here the simulated kubelet's): of the
    // rolling segments only the first and last snapshots are compared.
    let mut trimmed = scenario.clone();
    for rolling in ["2-image-change", "7-resumed"] {
        let entries: Vec<Value> = trimmed["sequences"][rolling]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e.get("snapshot").is_some())
            .cloned()
            .collect();
        trimmed["sequences"][rolling] = json!([entries.first(), entries.last()]);
    }
    let mut names = Revisions::default();
    let expected = recorded(&trimmed, &segments, &mut |s| {
        deployment_projection(
            &s["generation"],
            &s["revision"],
            &s["status"],
            &s["conditions"],
            &mut names,
        )
    });
    let states = seen.lock().unwrap().clone();
    let mut names = Revisions::default();
    let actual = distinct(&states, &mut |o| {
        deployment_projection(
            &o["metadata"]["generation"],
            o.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                .unwrap_or(&Value::Null),
            o.get("status").unwrap_or(&Value::Null),
            o.pointer("/status/conditions").unwrap_or(&json!([])),
            &mut names,
        )
    });
    assert_subsequence(&expected, &actual);
    cluster.shutdown().await;
}

/// The fields of an error answer that must match: code, reason, message, causes.
fn answer(code: u16, body: &Value) -> Value {
    if code < 400 {
        return json!({"code": code});
    }
    json!({"code": code, "reason": body["reason"], "message": body["message"], "causes": body.pointer("/details/causes"),
        "retryAfterSeconds": body.pointer("/details/retryAfterSeconds")})
}

/// The counters of a PodDisruptionBudget's status.
fn budget_counters(pdb: &Value) -> Value {
    let status = &pdb["status"];
    json!({"disruptionsAllowed": status["disruptionsAllowed"], "currentHealthy": status["currentHealthy"],
        "desiredHealthy": status["desiredHealthy"], "expectedPods": status["expectedPods"]})
}

#[tokio::test]
async fn eviction_answers_match_the_recording() {
    let scenario = replay::reference("12-eviction-pdb.json");
    let cluster = cluster_at(SEQUENCE_SCALE).await;
    namespace(&cluster, "ref-12").await;
    let pods = api(&cluster, "", "v1", "Pod", "pods", "ref-12");
    let budgets = api(
        &cluster,
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "ref-12",
    );
    // The recorder's pods: three selected by the budget and one it does not select.
    for (name, labels) in [
        ("p-0", json!({"app": "pdb"})),
        ("p-1", json!({"app": "pdb"})),
        ("p-2", json!({"app": "pdb"})),
        ("free", json!({})),
    ] {
        create(&pods, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"terminationGracePeriodSeconds": 5, "containers": [{"name": "c", "image": "registry.example/app:1"}]}})).await;
    }
    eventually("four ready pods", Duration::from_secs(30), || async {
        let ready = list(&pods)
            .await
            .iter()
            .filter(|p| condition(p, "Ready").is_some_and(|c| c["status"] == "True"))
            .count();
        (ready == 4).then_some(())
    })
    .await;
    // The recording's client had no retries; neither may this one (kube-rs retries 429s).
    let client = client_without_retries(&cluster).await;
    let observed = || async {
        eventually("the budget observed", Duration::from_secs(30), || async {
            let pdb = get(&budgets, "pdb").await?;
            (pdb["status"]["observedGeneration"] == pdb["metadata"]["generation"]).then_some(pdb)
        })
        .await
    };
    let mut differences = Vec::new();
    for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        let comment = step["comment"].as_str().unwrap();
        let request = &step["request"];
        let (method, path) = (
            request["method"].as_str().unwrap(),
            request["path"].as_str().unwrap(),
        );
        if comment.starts_with("p-1 made not-Ready") {
            merge(
                &pods,
                "p-1",
                json!({"metadata": {"annotations": {"fake-kubelet.realk8s/ready": "false"}}}),
            )
            .await;
            eventually(
                "p-1 not ready in the budget",
                Duration::from_secs(30),
                || async {
                    (get(&budgets, "pdb").await?["status"]["currentHealthy"] == 1).then_some(())
                },
            )
            .await;
        }
        if comment.starts_with("PDB once the evicted pod is gone") {
            eventually("p-0 gone", Duration::from_secs(30), || async {
                get(&pods, "p-0").await.is_none().then_some(())
            })
            .await;
            observed().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if method == "GET" && path.contains("poddisruptionbudgets") {
            let pdb = get(&budgets, "pdb").await.unwrap();
            let (mut want, mut got) = (
                budget_counters(&step["response"]["body"]),
                budget_counters(&pdb),
            );
            if comment.starts_with("PDB right after the eviction") {
                // Whether the evicted pod still counts as expected depends on how fast its
                // containers stop (the recording's comment says "or already gone").
                want["expectedPods"] = Value::Null;
                got["expectedPods"] = Value::Null;
            }
            if want != got {
                differences.push(format!(
                    "step {index} ({comment}): budget {got}, recorded {want}"
                ));
            }
            continue;
        }
        if method == "GET" {
            continue;
        }
        let mut http = http::Request::builder().method(method).uri(path);
        if let Some(content_type) = request
            .pointer("/headers/Content-Type")
            .and_then(Value::as_str)
        {
            http = http.header("Content-Type", content_type);
        }
        let response = client
            .send(
                http.body(serde_json::to_vec(&request["body"]).unwrap().into())
                    .unwrap(),
            )
            .await
            .unwrap();
        let code = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let recorded = &step["response"];
        let (want, got) = (
            answer(
                recorded["status"].as_u64().unwrap() as u16,
                &recorded["body"],
            ),
            answer(code, &body),
        );
        if want != got {
            differences.push(format!(
                "step {index} ({comment}):\n  sim:      {got}\n  recorded: {want}"
            ));
        }
        if path.contains("poddisruptionbudgets") {
            observed().await;
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    cluster.shutdown().await;
}
