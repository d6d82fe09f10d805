//! The simulated Job controller, after kube-controller-manager's: pods carry the
//! `batch.kubernetes.io/job-tracking` finalizer until counted; `parallelism` and `completions`;
//! failed pods are replaced after a doubling back-off (10 s first) until `backoffLimit` is passed;
//! `activeDeadlineSeconds` ends the Job; the terminal conditions come in Kubernetes' order
//! (SuccessCriteriaMet then Complete; FailureTarget then Failed) with its reasons and messages.

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{
    condition, controller_key, controller_ref, controller_uid, int_at, pod_ready, set_condition,
    str_at, terminating,
};
use crate::store::Change;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

const JOBS: &str = "batch/jobs";
const TRACKING: &str = "batch.kubernetes.io/job-tracking";
/// The first pause before a failed pod is replaced.
const POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);

/// The Job controller.
pub struct Jobs {
    api: Api,
}

impl Jobs {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        Jobs { api }
    }
}

fn finished(pod: &Value) -> Option<bool> {
    match str_at(pod, "/status/phase") {
        Some("Succeeded") => Some(true),
        Some("Failed") => Some(false),
        _ => None,
    }
}

fn tracked(pod: &Value) -> bool {
    pod.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|f| f == TRACKING))
}

impl Controller for Jobs {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            JOBS => vec![Key::of(JOBS, &change.object)],
            "/pods" => controller_key(JOBS, "Job", &change.object),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::JOBS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let job = self.api.get(gvr::JOBS, &key.namespace, &key.name)?;
        if terminating(&job) {
            return None;
        }
        self.sync(&job)
            .await
            .unwrap_or(Some(Duration::from_millis(200)))
    }
}

impl Jobs {
    async fn sync(&self, job: &Arc<Value>) -> Result<Requeue, crate::error::ApiError> {
        let clock = &self.api.sim().clock;
        let now = clock.now_rfc3339();
        let namespace = str_at(job, "/metadata/namespace")
            .unwrap_or_default()
            .to_string();
        let uid = str_at(job, "/metadata/uid").unwrap_or_default();
        let pods: Vec<Arc<Value>> = self
            .api
            .list(gvr::PODS, Some(&namespace))
            .into_iter()
            .filter(|p| controller_uid(p) == Some(uid))
            .collect();
        let mut status = job.get("status").cloned().unwrap_or(json!({}));
        let mut succeeded = int_at(&status, "/succeeded").unwrap_or(0);
        let mut failed = int_at(&status, "/failed").unwrap_or(0);
        let mut last_failure: Option<String> = None;
        // Count finished pods once, releasing their finalizer.
        for pod in &pods {
            if let Some(success) = finished(pod) {
                if !success {
                    let finished_at = pod
                        .pointer("/status/containerStatuses/0/state/terminated/finishedAt")
                        .and_then(Value::as_str)
                        .map(String::from);
                    if finished_at > last_failure {
                        last_failure = finished_at;
                    }
                }
                if tracked(pod) {
                    if success {
                        succeeded += 1
                    } else {
                        failed += 1
                    }
                    self.release(pod).await?;
                }
            } else if terminating(pod) && tracked(pod) {
                failed += 1;
                self.release(pod).await?;
            }
        }
        let active: Vec<&Arc<Value>> = pods
            .iter()
            .filter(|p| finished(p).is_none() && !terminating(p))
            .collect();
        let terminating_count = pods
            .iter()
            .filter(|p| terminating(p) && finished(p).is_none())
            .count() as i64;
        let completions = int_at(job, "/spec/completions").unwrap_or(1);
        let parallelism = int_at(job, "/spec/parallelism").unwrap_or(1);
        let backoff_limit = int_at(job, "/spec/backoffLimit").unwrap_or(6);
        let mut conditions: Vec<Value> =
            status["conditions"].as_array().cloned().unwrap_or_default();
        let done = condition(job, "Complete").is_some() || condition(job, "Failed").is_some();
        if status.get("startTime").is_none() && !done {
            status["startTime"] = json!(now);
        }
        let mut requeue = None;
        let failure_target = conditions
            .iter()
            .find(|c| c["type"] == "FailureTarget")
            .and_then(|c| c["reason"].as_str())
            .map(String::from);
        let mut failure = failure_target.clone();
        if !done && failure.is_none() {
            let deadline = int_at(job, "/spec/activeDeadlineSeconds");
            let started = str_at(&status, "/startTime")
                .unwrap_or_default()
                .to_string();
            if let Some(deadline) = deadline {
                let running = clock.since(&started);
                if running >= Duration::from_secs(deadline as u64) {
                    failure = Some("DeadlineExceeded".into());
                } else {
                    requeue = Some(Duration::from_secs(deadline as u64) - running);
                }
            }
            if failure.is_none() && failed > backoff_limit {
                failure = Some("BackoffLimitExceeded".into());
            }
        }
        let mut active_count = active.len() as i64;
        if let Some(reason) = &failure
            && !done
        {
            let message = if reason == "DeadlineExceeded" {
                "Job was active longer than specified deadline"
            } else {
                "Job has reached the specified backoff limit"
            };
            if failure_target.is_none() {
                set_condition(
                    &mut conditions,
                    "FailureTarget",
                    "True",
                    &now,
                    &[
                        ("lastProbeTime", json!(now)),
                        ("reason", json!(reason)),
                        ("message", json!(message)),
                    ],
                );
            }
            for pod in &active {
                let (pod_namespace, pod_name) = crate::request::key_of(pod);
                let _ = self
                    .api
                    .delete(
                        gvr::PODS,
                        &pod_namespace,
                        &pod_name,
                        str_at(pod, "/metadata/uid"),
                        None,
                    )
                    .await;
            }
            if active.is_empty() && terminating_count == 0 {
                set_condition(
                    &mut conditions,
                    "Failed",
                    "True",
                    &now,
                    &[
                        ("lastProbeTime", json!(now)),
                        ("reason", json!(reason)),
                        ("message", json!(message)),
                    ],
                );
            }
            active_count = 0;
        } else if !done && succeeded >= completions {
            let message = "Reached expected number of succeeded pods";
            set_condition(
                &mut conditions,
                "SuccessCriteriaMet",
                "True",
                &now,
                &[
                    ("lastProbeTime", json!(now)),
                    ("reason", json!("CompletionsReached")),
                    ("message", json!(message)),
                ],
            );
            set_condition(
                &mut conditions,
                "Complete",
                "True",
                &now,
                &[
                    ("lastProbeTime", json!(now)),
                    ("reason", json!("CompletionsReached")),
                    ("message", json!(message)),
                ],
            );
            status["completionTime"] = json!(now);
        } else if !done {
            let wanted = parallelism.min(completions - succeeded).max(0);
            let missing = wanted - active_count;
            if missing > 0 {
                let wait = last_failure.as_deref().map(|t| {
                    let backoff = POD_FAILURE_BACKOFF.saturating_mul(1 << (failed - 1).clamp(0, 6));
                    backoff.saturating_sub(clock.since(t))
                });
                match wait {
                    Some(wait) if !wait.is_zero() => {
                        requeue = Some(requeue.map_or(wait, |r: Duration| r.min(wait)))
                    }
                    _ => {
                        for _ in 0..missing {
                            self.create_pod(job).await?;
                        }
                        active_count += missing;
                    }
                }
            }
        }
        let mut next = Map::new();
        if let Some(start) = status.get("startTime") {
            next.insert("startTime".into(), start.clone());
        }
        if let Some(end) = status.get("completionTime") {
            next.insert("completionTime".into(), end.clone());
        }
        for (field, value) in [
            ("active", active_count),
            ("succeeded", succeeded),
            ("failed", failed),
        ] {
            if value > 0 {
                next.insert(field.into(), json!(value));
            }
        }
        next.insert("terminating".into(), json!(terminating_count));
        next.insert("uncountedTerminatedPods".into(), json!({}));
        let ready = if active_count == 0 {
            0
        } else {
            active.iter().filter(|p| pod_ready(p)).count()
        };
        next.insert("ready".into(), json!(ready));
        if !conditions.is_empty() {
            next.insert("conditions".into(), json!(conditions));
        }
        let next = Value::Object(next);
        self.api.write_status(gvr::JOBS, job, next).await?;
        Ok(requeue)
    }

    /// Removes the tracking finalizer of a counted pod.
    async fn release(&self, pod: &Value) -> Result<(), crate::error::ApiError> {
        let mut updated = pod.clone();
        if let Some(finalizers) = updated
            .pointer_mut("/metadata/finalizers")
            .and_then(Value::as_array_mut)
        {
            finalizers.retain(|f| f != TRACKING);
        }
        match self.api.replace(gvr::PODS, &updated).await {
            Ok(_) => Ok(()),
            Err(error) if error.code == 404 => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn create_pod(&self, job: &Value) -> Result<(), crate::error::ApiError> {
        let (namespace, name) = crate::request::key_of(job);
        let uid = str_at(job, "/metadata/uid").unwrap_or_default();
        let template = &job["spec"]["template"];
        let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
        metadata["generateName"] = json!(format!("{name}-"));
        metadata["namespace"] = json!(namespace);
        for (label, value) in [
            ("batch.kubernetes.io/controller-uid", uid),
            ("batch.kubernetes.io/job-name", name.as_str()),
            ("controller-uid", uid),
            ("job-name", name.as_str()),
        ] {
            metadata["labels"][label] = json!(value);
        }
        metadata["ownerReferences"] = json!([controller_ref(job)]);
        metadata["finalizers"] = json!([TRACKING]);
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]});
        match self.api.create(gvr::PODS, &namespace, &pod).await {
            Ok(_) => Ok(()),
            Err(error) => {
                super::events::failed_create(&self.api, job, "", &error).await;
                Err(error)
            }
        }
    }
}
