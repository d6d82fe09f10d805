//! The simulated Deployment and ReplicaSet controllers, after kube-controller-manager's: a
//! ReplicaSet per pod template (`pod-template-hash`), the `deployment.kubernetes.io/revision`
//! annotations (a rollback reuses the old ReplicaSet under a new revision), rolling updates within
//! `maxSurge`/`maxUnavailable` or Recreate, pausing, and the status and conditions Kubernetes
//! writes (`Available` MinimumReplicasAvailable/Unavailable; `Progressing` ReplicaSetUpdated,
//! NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed).

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{
    controller_key, controller_ref, controller_uid, int_at, pod_available, pod_finished, pod_ready,
    scaled_value, set_condition, str_at, template_hash, terminating,
};
use crate::error::ApiError;
use crate::store::Change;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

const DEPLOYMENTS: &str = "apps/deployments";
const REPLICASETS: &str = "apps/replicasets";
const REVISION: &str = "deployment.kubernetes.io/revision";

fn revision(object: &Value) -> i64 {
    str_at(
        object,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .and_then(|r| r.parse().ok())
    .unwrap_or(0)
}

/// The Deployment controller.
pub struct Deployments {
    api: Api,
}

impl Deployments {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        Deployments { api }
    }
}

impl Controller for Deployments {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            DEPLOYMENTS => vec![Key::of(DEPLOYMENTS, &change.object)],
            REPLICASETS => controller_key(DEPLOYMENTS, "Deployment", &change.object),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::DEPLOYMENTS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let deployment = self.api.get(gvr::DEPLOYMENTS, &key.namespace, &key.name)?;
        if terminating(&deployment) {
            return None;
        }
        match self.sync(&deployment).await {
            Ok(requeue) => requeue,
            Err(_) => Some(Duration::from_millis(200)),
        }
    }
}

impl Deployments {
    async fn sync(&self, deployment: &Arc<Value>) -> Result<Requeue, ApiError> {
        if self.mark_pause_change(deployment).await? {
            return Ok(Some(Duration::ZERO));
        }
        let (namespace, name) = crate::request::key_of(deployment);
        let uid = str_at(deployment, "/metadata/uid").unwrap_or_default();
        let replicas = int_at(deployment, "/spec/replicas").unwrap_or(1);
        let paused = deployment.pointer("/spec/paused") == Some(&json!(true));
        let template = &deployment["spec"]["template"];
        let hash = template_hash(
            template,
            int_at(deployment, "/status/collisionCount").unwrap_or(0),
        );
        let mut sets: Vec<Arc<Value>> = self
            .api
            .list(gvr::REPLICASETS, Some(&namespace))
            .into_iter()
            .filter(|rs| controller_uid(rs) == Some(uid))
            .collect();
        sets.sort_by_key(|rs| (revision(rs), str_at(rs, "/metadata/name").map(String::from)));
        let max_revision = sets.iter().map(|rs| revision(rs)).max().unwrap_or(0);
        let same_template = |rs: &Value| {
            let mut t = rs["spec"]["template"].clone();
            if let Some(labels) = t
                .pointer_mut("/metadata/labels")
                .and_then(Value::as_object_mut)
            {
                labels.remove("pod-template-hash");
            }
            &t == template
        };
        let mut new_set = sets.iter().find(|rs| same_template(rs)).cloned();
        if !paused {
            match &new_set {
                Some(rs) if revision(rs) < max_revision => {
                    // A rollback: the old ReplicaSet becomes the newest revision.
                    let annotations = json!({"metadata": {"annotations": {REVISION: (max_revision + 1).to_string()}}});
                    let rs_name = str_at(rs, "/metadata/name").unwrap_or_default().to_string();
                    new_set = Some(Arc::new(
                        self.api
                            .merge_patch(gvr::REPLICASETS, &namespace, &rs_name, None, &annotations)
                            .await?,
                    ));
                }
                Some(_) => {}
                None => {
                    let rs_name = format!("{name}-{hash}");
                    let mut rs_template = template.clone();
                    rs_template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
                    let mut selector = deployment["spec"]["selector"].clone();
                    selector["matchLabels"]["pod-template-hash"] = json!(hash);
                    let surge = scaled_value(
                        deployment.pointer("/spec/strategy/rollingUpdate/maxSurge"),
                        replicas,
                        "25%",
                        true,
                    );
                    let recreate = str_at(deployment, "/spec/strategy/type") == Some("Recreate");
                    let initial = if sets.is_empty() {
                        replicas
                    } else if recreate {
                        0
                    } else {
                        let current: i64 = sets
                            .iter()
                            .map(|rs| int_at(rs, "/spec/replicas").unwrap_or(0))
                            .sum();
                        (replicas + surge - current).clamp(0, replicas)
                    };
                    let rs = json!({
                        "apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": rs_name, "namespace": namespace,
                            "labels": rs_template["metadata"]["labels"],
                            "annotations": {REVISION: (max_revision + 1).to_string(),
                                "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                                "deployment.kubernetes.io/max-replicas": (replicas + surge).to_string()},
                            "ownerReferences": [controller_ref(deployment)]},
                        "spec": {"replicas": initial, "minReadySeconds": int_at(deployment, "/spec/minReadySeconds").unwrap_or(0),
                                 "selector": selector, "template": rs_template},
                    });
                    match self.api.create(gvr::REPLICASETS, &namespace, &rs).await {
                        Ok(_) => {}
                        Err(error) if error.code == 409 => return Ok(Some(Duration::ZERO)),
                        Err(error) => return Err(error),
                    }
                    self.api.merge_patch(gvr::DEPLOYMENTS, &namespace, &name, None, &json!({"metadata": {"annotations": {REVISION: (max_revision + 1).to_string()}}})).await?;
                    return Ok(Some(Duration::ZERO));
                }
            }
        }
        let new_name = new_set
            .as_ref()
            .and_then(|rs| str_at(rs, "/metadata/name"))
            .unwrap_or_default()
            .to_string();
        let olds: Vec<Arc<Value>> = sets
            .iter()
            .filter(|rs| str_at(rs, "/metadata/name") != Some(new_name.as_str()))
            .cloned()
            .collect();
        if !paused && let Some(new_rs) = &new_set {
            if revision(deployment) != revision(new_rs) {
                self.api.merge_patch(gvr::DEPLOYMENTS, &namespace, &name, None, &json!({"metadata": {"annotations": {REVISION: revision(new_rs).to_string()}}})).await?;
            }
            self.roll(deployment, new_rs, &olds).await?;
        }
        self.write_status(deployment, new_set.as_deref(), &sets)
            .await
    }

    /// Pausing or resuming is first reported on its own (`Progressing=Unknown` DeploymentPaused
    /// or DeploymentResumed, observedGeneration not yet moved), as Kubernetes does before the sync
    /// that acts on it. True when it wrote.
    async fn mark_pause_change(&self, deployment: &Value) -> Result<bool, ApiError> {
        let paused = deployment.pointer("/spec/paused") == Some(&json!(true));
        let reason = deployment
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c["type"] == "Progressing"))
            .and_then(|c| c["reason"].as_str());
        let (reason, message) = match (paused, reason) {
            (true, Some(r)) if r != "DeploymentPaused" => {
                ("DeploymentPaused", "Deployment is paused")
            }
            (false, Some("DeploymentPaused")) => ("DeploymentResumed", "Deployment is resumed"),
            _ => return Ok(false),
        };
        let now = self.api.sim().clock.now_rfc3339();
        let mut updated = deployment.clone();
        let mut conditions: Vec<Value> = deployment
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        set_condition(
            &mut conditions,
            "Progressing",
            "Unknown",
            &now,
            &[
                ("lastUpdateTime", json!(now)),
                ("reason", json!(reason)),
                ("message", json!(message)),
            ],
        );
        updated["status"]["conditions"] = json!(conditions);
        self.api.replace_status(gvr::DEPLOYMENTS, &updated).await?;
        Ok(true)
    }

    async fn scale(&self, rs: &Value, replicas: i64) -> Result<(), ApiError> {
        if int_at(rs, "/spec/replicas") == Some(replicas) {
            return Ok(());
        }
        let (namespace, name) = crate::request::key_of(rs);
        self.api
            .merge_patch(
                gvr::REPLICASETS,
                &namespace,
                &name,
                None,
                &json!({"spec": {"replicas": replicas}}),
            )
            .await
            .map(|_| ())
    }

    /// One step of a rolling update (or Recreate), as the Kubernetes controller takes it.
    async fn roll(
        &self,
        deployment: &Value,
        new_rs: &Value,
        olds: &[Arc<Value>],
    ) -> Result<(), ApiError> {
        let replicas = int_at(deployment, "/spec/replicas").unwrap_or(1);
        let spec_of = |rs: &Value| int_at(rs, "/spec/replicas").unwrap_or(0);
        let available_of = |rs: &Value| int_at(rs, "/status/availableReplicas").unwrap_or(0);
        if str_at(deployment, "/spec/strategy/type") == Some("Recreate") {
            for old in olds {
                self.scale(old, 0).await?;
            }
            let old_pods = olds
                .iter()
                .map(|rs| {
                    int_at(rs, "/status/replicas").unwrap_or(0)
                        + int_at(rs, "/status/terminatingReplicas").unwrap_or(0)
                })
                .sum::<i64>();
            if old_pods == 0 {
                self.scale(new_rs, replicas).await?;
            }
            return Ok(());
        }
        let surge = scaled_value(
            deployment.pointer("/spec/strategy/rollingUpdate/maxSurge"),
            replicas,
            "25%",
            true,
        );
        let mut unavailable = scaled_value(
            deployment.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            replicas,
            "25%",
            false,
        );
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        // Scale up the new ReplicaSet within maxSurge.
        let total: i64 = olds.iter().map(|rs| spec_of(rs)).sum::<i64>() + spec_of(new_rs);
        let new_spec = spec_of(new_rs);
        if new_spec > replicas {
            self.scale(new_rs, replicas).await?;
        } else if new_spec < replicas {
            let room = (replicas + surge - total).max(0);
            let up = room.min(replicas - new_spec);
            if up > 0 {
                self.scale(new_rs, new_spec + up).await?;
                return Ok(());
            }
        }
        // Scale down old ReplicaSets within maxUnavailable.
        let all_pods = total;
        let min_available = replicas - unavailable;
        let new_unavailable = spec_of(new_rs) - available_of(new_rs);
        let mut budget = all_pods - min_available - new_unavailable;
        if budget <= 0 {
            return Ok(());
        }
        for old in olds {
            // Unhealthy old pods go first.
            let unhealthy = spec_of(old) - available_of(old);
            if unhealthy > 0 && budget > 0 {
                let down = unhealthy.min(budget);
                self.scale(old, spec_of(old) - down).await?;
                budget -= down;
            }
        }
        let available: i64 =
            olds.iter().map(|rs| available_of(rs)).sum::<i64>() + available_of(new_rs);
        let mut down_total = (available - min_available).min(budget);
        for old in olds {
            if down_total <= 0 {
                break;
            }
            let current = self.api.get(
                gvr::REPLICASETS,
                str_at(old, "/metadata/namespace").unwrap_or_default(),
                str_at(old, "/metadata/name").unwrap_or_default(),
            );
            let spec = current.as_deref().map_or(0, spec_of);
            let down = spec.min(down_total);
            if down > 0 {
                self.scale(old, spec - down).await?;
                down_total -= down;
            }
        }
        Ok(())
    }

    async fn write_status(
        &self,
        deployment: &Value,
        new_rs: Option<&Value>,
        sets: &[Arc<Value>],
    ) -> Result<Requeue, ApiError> {
        let clock = &self.api.sim().clock;
        let now = clock.now_rfc3339();
        let namespace = str_at(deployment, "/metadata/namespace").unwrap_or_default();
        let replicas = int_at(deployment, "/spec/replicas").unwrap_or(1);
        let max_unavailable = scaled_value(
            deployment.pointer("/spec/strategy/rollingUpdate/maxUnavailable"),
            replicas,
            "25%",
            false,
        );
        let fresh: Vec<Arc<Value>> = sets
            .iter()
            .map(|rs| {
                self.api
                    .get(
                        gvr::REPLICASETS,
                        namespace,
                        str_at(rs, "/metadata/name").unwrap_or_default(),
                    )
                    .unwrap_or_else(|| rs.clone())
            })
            .collect();
        let sum = |field: &str| {
            fresh
                .iter()
                .map(|rs| int_at(rs, &format!("/status/{field}")).unwrap_or(0))
                .sum::<i64>()
        };
        let total = sum("replicas");
        let ready = sum("readyReplicas");
        let available = sum("availableReplicas");
        let terminating_count = sum("terminatingReplicas");
        // Kubernetes counts unavailability against the ReplicaSets' wanted replicas, surge included.
        let wanted: i64 = fresh
            .iter()
            .map(|rs| int_at(rs, "/spec/replicas").unwrap_or(0))
            .sum();
        let new_name = new_rs
            .and_then(|rs| str_at(rs, "/metadata/name"))
            .unwrap_or_default();
        let new_fresh = fresh
            .iter()
            .find(|rs| str_at(rs, "/metadata/name") == Some(new_name));
        let updated = new_fresh.map_or(0, |rs| int_at(rs, "/status/replicas").unwrap_or(0));
        let mut status = Map::new();
        status.insert(
            "observedGeneration".into(),
            deployment["metadata"]["generation"].clone(),
        );
        status.insert("replicas".into(), json!(total));
        for (field, value) in [
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", (wanted - available).max(0)),
        ] {
            if value > 0 {
                status.insert(field.into(), json!(value));
            }
        }
        status.insert("terminatingReplicas".into(), json!(terminating_count));
        let previous = deployment.get("status").cloned().unwrap_or(json!({}));
        let counters_moved = [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
        ]
        .iter()
        .any(|f| previous.get(*f) != status.get(*f));
        let mut conditions: Vec<Value> = previous["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (available_status, available_reason, available_message) =
            if available >= replicas - max_unavailable {
                (
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            } else {
                (
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            };
        let keep_update_time = |conditions: &[Value], kind: &str, status: &str| {
            conditions
                .iter()
                .find(|c| c["type"] == kind && c["status"] == status)
                .map_or(json!(now), |c| c["lastUpdateTime"].clone())
        };
        let available_update = keep_update_time(&conditions, "Available", available_status);
        set_condition(
            &mut conditions,
            "Available",
            available_status,
            &now,
            &[
                ("lastUpdateTime", available_update),
                ("reason", json!(available_reason)),
                ("message", json!(available_message)),
            ],
        );
        let progressing = conditions
            .iter()
            .find(|c| c["type"] == "Progressing")
            .cloned();
        let paused = deployment.pointer("/spec/paused") == Some(&json!(true));
        let complete = new_fresh.is_some()
            && updated == replicas
            && available == replicas
            && total == replicas;
        let mut requeue = None;
        let (status_value, reason, message) = if paused {
            (
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused".to_string(),
            )
        } else if complete {
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            )
        } else {
            let deadline = int_at(deployment, "/spec/progressDeadlineSeconds").unwrap_or(600);
            let since_update = progressing
                .as_ref()
                .filter(|c| c["reason"] == "ReplicaSetUpdated" && !counters_moved)
                .and_then(|c| c["lastUpdateTime"].as_str())
                .map(|t| clock.since(t));
            let timed_out = progressing
                .as_ref()
                .is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded" && !counters_moved);
            match since_update {
                _ if timed_out => (
                    "False",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                ),
                Some(waited) if waited >= Duration::from_secs(deadline as u64) => (
                    "False",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                ),
                Some(waited) => {
                    requeue = Some(
                        Duration::from_secs(deadline as u64).saturating_sub(waited)
                            + Duration::from_secs(1),
                    );
                    (
                        "True",
                        "ReplicaSetUpdated",
                        format!("ReplicaSet \"{new_name}\" is progressing."),
                    )
                }
                None => {
                    requeue = Some(Duration::from_secs(deadline as u64 + 1));
                    (
                        "True",
                        "ReplicaSetUpdated",
                        format!("ReplicaSet \"{new_name}\" is progressing."),
                    )
                }
            }
        };
        let same = progressing.as_ref().is_some_and(|c| {
            c["status"] == status_value && c["reason"] == reason && c["message"] == message.as_str()
        });
        let update_time = if same && !(counters_moved && reason == "ReplicaSetUpdated") {
            progressing
                .as_ref()
                .map_or(json!(now), |c| c["lastUpdateTime"].clone())
        } else {
            json!(now)
        };
        set_condition(
            &mut conditions,
            "Progressing",
            status_value,
            &now,
            &[
                ("lastUpdateTime", update_time),
                ("reason", json!(reason)),
                ("message", json!(message)),
            ],
        );
        copy_replica_failure(&mut conditions, &fresh, new_name, &now);
        status.insert("conditions".into(), json!(conditions));
        if let Some(collisions) = previous.get("collisionCount") {
            status.insert("collisionCount".into(), collisions.clone());
        }
        self.api
            .write_status(gvr::DEPLOYMENTS, deployment, Value::Object(status))
            .await?;
        Ok(requeue)
    }
}

/// The ReplicaSet controller.
pub struct ReplicaSets {
    api: Api,
}

impl ReplicaSets {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        ReplicaSets { api }
    }
}

impl Controller for ReplicaSets {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            REPLICASETS => vec![Key::of(REPLICASETS, &change.object)],
            "/pods" => controller_key(REPLICASETS, "ReplicaSet", &change.object),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::REPLICASETS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let rs = self.api.get(gvr::REPLICASETS, &key.namespace, &key.name)?;
        if terminating(&rs) {
            return None;
        }
        let uid = str_at(&rs, "/metadata/uid").unwrap_or_default();
        let min_ready = int_at(&rs, "/spec/minReadySeconds").unwrap_or(0);
        let pods: Vec<Arc<Value>> = self
            .api
            .list(gvr::PODS, Some(&key.namespace))
            .into_iter()
            .filter(|p| controller_uid(p) == Some(uid))
            .collect();
        let mut active: Vec<Arc<Value>> = pods
            .iter()
            .filter(|p| !terminating(p) && !pod_finished(p))
            .cloned()
            .collect();
        let wanted = int_at(&rs, "/spec/replicas").unwrap_or(1);
        let diff = wanted - active.len() as i64;
        let mut create_error = None;
        if diff > 0 {
            let template = &rs["spec"]["template"];
            for _ in 0..diff {
                let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
                metadata["generateName"] = json!(format!("{}-", key.name));
                metadata["namespace"] = json!(key.namespace);
                metadata["ownerReferences"] = json!([controller_ref(&rs)]);
                let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]});
                if let Err(error) = self.api.create(gvr::PODS, &key.namespace, &pod).await {
                    super::events::failed_create(&self.api, &rs, "", &error).await;
                    create_error = Some(super::events::error_message(&error));
                    break;
                }
            }
        } else if diff < 0 {
            // Delete the least useful pods first: unscheduled, pending, not ready, newest.
            active.sort_by_key(|p| {
                (
                    str_at(p, "/spec/nodeName").is_some(),
                    str_at(p, "/status/phase") == Some("Running"),
                    pod_ready(p),
                    std::cmp::Reverse(
                        str_at(p, "/metadata/creationTimestamp")
                            .unwrap_or_default()
                            .to_string(),
                    ),
                )
            });
            for pod in active.iter().take((-diff) as usize) {
                let (namespace, name) = crate::request::key_of(pod);
                let _ = self
                    .api
                    .delete(
                        gvr::PODS,
                        &namespace,
                        &name,
                        str_at(pod, "/metadata/uid"),
                        None,
                    )
                    .await;
            }
        }
        let pods: Vec<Arc<Value>> = self
            .api
            .list(gvr::PODS, Some(&key.namespace))
            .into_iter()
            .filter(|p| controller_uid(p) == Some(uid))
            .collect();
        let live = |p: &&Arc<Value>| !terminating(p) && !pod_finished(p);
        let replicas = pods.iter().filter(live).count();
        let ready = pods.iter().filter(live).filter(|p| pod_ready(p)).count();
        let available = pods
            .iter()
            .filter(live)
            .filter(|p| pod_available(&self.api.sim().clock, p, min_ready))
            .count();
        let terminating_count = pods.iter().filter(|p| terminating(p)).count();
        let mut status = Map::new();
        status.insert("replicas".into(), json!(replicas));
        for (field, value) in [
            ("fullyLabeledReplicas", replicas),
            ("readyReplicas", ready),
            ("availableReplicas", available),
        ] {
            if value > 0 {
                status.insert(field.into(), json!(value));
            }
        }
        status.insert("terminatingReplicas".into(), json!(terminating_count));
        status.insert(
            "observedGeneration".into(),
            rs["metadata"]["generation"].clone(),
        );
        let conditions = replica_failure(&rs, create_error.as_deref(), &self.api.sim().clock);
        if !conditions.is_empty() {
            status.insert("conditions".into(), json!(conditions));
        }
        let status = Value::Object(status);
        if self
            .api
            .write_status(gvr::REPLICASETS, &rs, status)
            .await
            .is_err()
        {
            return Some(Duration::from_millis(200));
        }
        if create_error.is_some() {
            return Some(Duration::from_secs(1));
        }
        (ready > available).then_some(Duration::from_secs(1))
    }
}

/// A ReplicaSet's conditions after a sync (`calculateStatus`): `ReplicaFailure` True with reason
/// `FailedCreate` and the error while pods cannot be created, removed once a sync succeeds.
fn replica_failure(
    rs: &Value,
    create_error: Option<&str>,
    clock: &crate::clock::Clock,
) -> Vec<Value> {
    let mut conditions: Vec<Value> = rs
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match create_error {
        Some(message) => set_condition(
            &mut conditions,
            "ReplicaFailure",
            "True",
            &clock.now_rfc3339(),
            &[
                ("reason", json!("FailedCreate")),
                ("message", json!(message)),
            ],
        ),
        None => conditions.retain(|c| c["type"] != "ReplicaFailure"),
    }
    conditions
}

/// `getReplicaFailures`: the Deployment carries the `ReplicaFailure` condition of its new
/// ReplicaSet, else of an old one, and loses it when none has one.
fn copy_replica_failure(
    conditions: &mut Vec<Value>,
    sets: &[Arc<Value>],
    new_name: &str,
    now: &str,
) {
    let failure_of = |rs: &Arc<Value>| {
        rs.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
            .cloned()
    };
    let is_new = |rs: &&Arc<Value>| str_at(rs, "/metadata/name") == Some(new_name);
    let failure = sets
        .iter()
        .filter(is_new)
        .find_map(failure_of)
        .or_else(|| sets.iter().find_map(failure_of));
    let Some(failure) = failure else {
        conditions.retain(|c| c["type"] != "ReplicaFailure");
        return;
    };
    set_condition(
        conditions,
        "ReplicaFailure",
        failure["status"].as_str().unwrap_or("True"),
        now,
        &[
            ("lastUpdateTime", failure["lastTransitionTime"].clone()),
            ("reason", failure["reason"].clone()),
            ("message", failure["message"].clone()),
        ],
    );
}
