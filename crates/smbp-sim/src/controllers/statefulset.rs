//! The simulated StatefulSet controller, following kube-controller-manager's
//! `stateful_set_control.go`: ControllerRevisions per template (reused when a template returns),
//! PVCs from `volumeClaimTemplates` before each pod, OrderedReady (one pod at a time, each waiting
//! for Running+Ready) or Parallel pod management, scale-down from the highest ordinal,
//! `persistentVolumeClaimRetentionPolicy` (`whenScaled`/`whenDeleted: Delete` hand the claims to
//! the pod or the set as owner, so the garbage collector removes them), RollingUpdate with
//! `partition` and `maxUnavailable` (highest ordinal first; each updated pod must be Ready for
//! `minReadySeconds` before the next) or OnDelete, and the status counters as Kubernetes computes
//! them (`currentRevision` moves only when every pod is updated and ready).

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{
    controller_key, controller_ref, controller_uid, int_at, pod_available, pod_ready, scaled_value,
    selector_matches, str_at, template_hash, terminating,
};
use crate::store::Change;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The StatefulSet controller.
pub struct StatefulSets {
    api: Api,
}

impl StatefulSets {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        StatefulSets { api }
    }
}

const RESOURCE: &str = "apps/statefulsets";

impl Controller for StatefulSets {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            RESOURCE => vec![Key::of(RESOURCE, &change.object)],
            "/pods" => controller_key(RESOURCE, "StatefulSet", &change.object),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::STATEFULSETS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let set = self.api.get(gvr::STATEFULSETS, &key.namespace, &key.name)?;
        if terminating(&set) {
            return None;
        }
        match self.sync(&set).await {
            Ok(requeue) => requeue,
            Err(error) => {
                tracing::debug!(statefulset = %key.name, code = error.code, body = %error.body, "sync failed; retrying");
                Some(Duration::from_millis(200))
            }
        }
    }
}

/// A pod's ordinal from its name (`web-2` → 2).
fn ordinal(set_name: &str, pod: &Value) -> Option<i64> {
    str_at(pod, "/metadata/name")?
        .strip_prefix(set_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// The set's pods, found by name (`<set>-<ordinal>`, so no scan of the namespace): every
/// ordinal below the wanted or last-reported replica count, and any contiguous ones above.
fn owned_pods(api: &Api, set: &Value) -> Vec<Arc<Value>> {
    let (namespace, name) = crate::request::key_of(set);
    let uid = str_at(set, "/metadata/uid").unwrap_or_default();
    let known = int_at(set, "/spec/replicas")
        .unwrap_or(1)
        .max(int_at(set, "/status/replicas").unwrap_or(0));
    let mut pods = Vec::new();
    let mut ordinal = 0;
    loop {
        match api.get(gvr::PODS, &namespace, &format!("{name}-{ordinal}")) {
            Some(pod) if controller_uid(&pod) == Some(uid) => pods.push(pod),
            _ if ordinal >= known => break,
            _ => {}
        }
        ordinal += 1;
    }
    pods
}

fn revision_of(pod: &Value) -> &str {
    str_at(pod, "/metadata/labels/controller-revision-hash").unwrap_or_default()
}

impl StatefulSets {
    async fn sync(&self, set: &Arc<Value>) -> Result<Requeue, crate::error::ApiError> {
        let name = str_at(set, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let (current_revision, update_revision, current_template) = self.revisions(set).await?;
        let update_template = set["spec"]["template"].clone();
        let replicas = int_at(set, "/spec/replicas").unwrap_or(1);
        let parallel = str_at(set, "/spec/podManagementPolicy") == Some("Parallel");
        let rolling =
            str_at(set, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") == "RollingUpdate";
        let partition = int_at(set, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
        let min_ready = int_at(set, "/spec/minReadySeconds").unwrap_or(0);
        let mut requeue: Requeue = None;

        self.adopt_orphans(set, replicas).await?;
        let pods = owned_pods(&self.api, set);
        let by_ordinal = |o: i64| pods.iter().find(|p| ordinal(&name, p) == Some(o)).cloned();

        // Claims a scale-down will remove get the pod as owner first, when the policy says so.
        let when_scaled_delete =
            str_at(set, "/spec/persistentVolumeClaimRetentionPolicy/whenScaled") == Some("Delete");
        if when_scaled_delete {
            for pod in pods
                .iter()
                .filter(|p| ordinal(&name, p).is_some_and(|o| o >= replicas))
            {
                self.claims_owned_by(set, pod, ordinal(&name, pod).unwrap_or(0))
                    .await;
            }
        }

        let mut blocked = false;
        // Create missing pods and replace failed ones, in order.
        for o in 0..replicas {
            match by_ordinal(o) {
                None => {
                    let use_current = rolling && o < partition && current_template.is_some();
                    let (template, revision) = if use_current {
                        (
                            current_template.clone().unwrap_or_default(),
                            current_revision.clone(),
                        )
                    } else {
                        (update_template.clone(), update_revision.clone())
                    };
                    self.create_claims(set, o).await?;
                    self.create_pod(set, o, &template, &revision).await?;
                    if !parallel {
                        blocked = true;
                        break;
                    }
                }
                Some(pod)
                    if str_at(&pod, "/status/phase") == Some("Failed") && !terminating(&pod) =>
                {
                    self.delete_pod(&pod).await?;
                    if !parallel {
                        blocked = true;
                        break;
                    }
                }
                Some(pod)
                    if !parallel
                        && (terminating(&pod)
                            || !pod_available(&self.api.sim().clock, &pod, min_ready)) =>
                {
                    if pod_ready(&pod) && min_ready > 0 {
                        requeue = Some(Duration::from_secs(1));
                    }
                    blocked = true;
                    break;
                }
                Some(_) => {}
            }
        }

        // Scale down from the highest ordinal.
        if !blocked {
            let condemned: Vec<Arc<Value>> = pods
                .iter()
                .filter(|p| ordinal(&name, p).is_some_and(|o| o >= replicas))
                .rev()
                .cloned()
                .collect();
            for pod in condemned {
                if terminating(&pod) {
                    if !parallel {
                        blocked = true;
                        break;
                    }
                    continue;
                }
                self.delete_pod(&pod).await?;
                if !parallel {
                    blocked = true;
                    break;
                }
            }
        }

        // Rolling update: highest ordinal first, within the unavailability budget.
        if !blocked && rolling {
            let max_unavailable = scaled_value(
                set.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable"),
                replicas,
                "1",
                false,
            )
            .max(1);
            let in_scope: Vec<Arc<Value>> = pods
                .iter()
                .filter(|p| ordinal(&name, p).is_some_and(|o| o >= partition && o < replicas))
                .cloned()
                .collect();
            // A pod missing from the listing (just created in this pass, or not yet recreated)
            // is as unavailable as one that is not ready.
            let missing = (partition.max(0)..replicas)
                .filter(|o| by_ordinal(*o).is_none())
                .count() as i64;
            let mut unavailable = missing
                + in_scope
                    .iter()
                    .filter(|p| {
                        terminating(p) || !pod_available(&self.api.sim().clock, p, min_ready)
                    })
                    .count() as i64;
            if in_scope
                .iter()
                .any(|p| pod_ready(p) && !pod_available(&self.api.sim().clock, p, min_ready))
            {
                requeue = Some(Duration::from_secs(1));
            }
            for pod in in_scope.iter().rev() {
                if unavailable >= max_unavailable {
                    break;
                }
                if revision_of(pod) != update_revision && !terminating(pod) {
                    self.delete_pod(pod).await?;
                    unavailable += 1;
                }
            }
        }

        self.write_status(set, &current_revision, &update_revision)
            .await?;
        Ok(requeue)
    }

    /// The current and update revision names, creating the update revision's ControllerRevision
    /// when the template is new, and the current revision's template.
    async fn revisions(
        &self,
        set: &Value,
    ) -> Result<(String, String, Option<Value>), crate::error::ApiError> {
        let (namespace, name) = crate::request::key_of(set);
        let uid = str_at(set, "/metadata/uid").unwrap_or_default();
        let template = &set["spec"]["template"];
        let collision = int_at(set, "/status/collisionCount").unwrap_or(0);
        let data = json!({"spec": {"template": template}});
        let revisions: Vec<Arc<Value>> = self
            .api
            .list(gvr::REVISIONS, Some(&namespace))
            .into_iter()
            .filter(|r| controller_uid(r) == Some(uid))
            .collect();
        let latest = revisions
            .iter()
            .filter_map(|r| int_at(r, "/revision"))
            .max()
            .unwrap_or(0);
        let update = match revisions.iter().find(|r| r["data"] == data) {
            Some(existing) => {
                let existing_name = str_at(existing, "/metadata/name")
                    .unwrap_or_default()
                    .to_string();
                if int_at(existing, "/revision") != Some(latest) {
                    // A template that comes back becomes the newest revision again.
                    self.api
                        .merge_patch(
                            gvr::REVISIONS,
                            &namespace,
                            &existing_name,
                            None,
                            &json!({"revision": latest + 1}),
                        )
                        .await?;
                }
                existing_name
            }
            None => {
                let revision_name = format!("{name}-{}", template_hash(template, collision));
                let mut labels = template
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or(json!({}));
                labels["controller-revision-hash"] = json!(revision_name);
                let revision = json!({
                    "apiVersion": "apps/v1", "kind": "ControllerRevision",
                    "metadata": {"name": revision_name, "namespace": namespace, "labels": labels,
                                 "ownerReferences": [controller_ref(set)]},
                    "data": data, "revision": latest + 1,
                });
                match self.api.create(gvr::REVISIONS, &namespace, &revision).await {
                    Ok(_) => {}
                    Err(error) if error.code == 409 => {}
                    Err(error) => return Err(error),
                }
                revision_name
            }
        };
        let current = str_at(set, "/status/currentRevision")
            .filter(|c| !c.is_empty())
            .map(String::from)
            .unwrap_or_else(|| update.clone());
        let current_template = self
            .api
            .get(gvr::REVISIONS, &namespace, &current)
            .and_then(|r| r.pointer("/data/spec/template").cloned());
        Ok((current, update, current_template))
    }

    async fn create_claims(&self, set: &Value, ordinal: i64) -> Result<(), crate::error::ApiError> {
        let (namespace, name) = crate::request::key_of(set);
        let when_deleted = str_at(
            set,
            "/spec/persistentVolumeClaimRetentionPolicy/whenDeleted",
        ) == Some("Delete");
        for template in set
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let claim_name = format!(
                "{}-{name}-{ordinal}",
                str_at(template, "/metadata/name").unwrap_or("data")
            );
            if self.api.get(gvr::PVCS, &namespace, &claim_name).is_some() {
                continue;
            }
            let mut labels = template
                .pointer("/metadata/labels")
                .cloned()
                .unwrap_or(json!({}));
            if let Some(selector) = set
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
            {
                for (k, v) in selector {
                    labels[k] = v.clone();
                }
            }
            let mut metadata =
                json!({"name": claim_name, "namespace": namespace, "labels": labels});
            if let Some(annotations) = template.pointer("/metadata/annotations") {
                metadata["annotations"] = annotations.clone();
            }
            if when_deleted {
                metadata["ownerReferences"] = json!([controller_ref(set)]);
            }
            let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": template["spec"]});
            match self.api.create(gvr::PVCS, &namespace, &claim).await {
                Ok(_) => {}
                Err(error) if error.code == 409 => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Gives a condemned pod's claims an owner reference to the pod (whenScaled: Delete).
    async fn claims_owned_by(&self, set: &Value, pod: &Value, ordinal: i64) {
        let (namespace, name) = crate::request::key_of(set);
        for template in set
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let claim_name = format!(
                "{}-{name}-{ordinal}",
                str_at(template, "/metadata/name").unwrap_or("data")
            );
            let Some(claim) = self.api.get(gvr::PVCS, &namespace, &claim_name) else {
                continue;
            };
            let pod_uid = &pod["metadata"]["uid"];
            let owned = claim
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|r| &r["uid"] == pod_uid);
            if !owned {
                let reference = json!({"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": pod_uid});
                let _ = self
                    .api
                    .merge_patch(
                        gvr::PVCS,
                        &namespace,
                        &claim_name,
                        None,
                        &json!({"metadata": {"ownerReferences": [reference]}}),
                    )
                    .await;
            }
        }
    }

    async fn create_pod(
        &self,
        set: &Value,
        ordinal: i64,
        template: &Value,
        revision: &str,
    ) -> Result<(), crate::error::ApiError> {
        let (namespace, name) = crate::request::key_of(set);
        let pod_name = format!("{name}-{ordinal}");
        let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
        metadata["name"] = json!(pod_name);
        metadata["generateName"] = json!(format!("{name}-"));
        metadata["namespace"] = json!(namespace);
        metadata["ownerReferences"] = json!([controller_ref(set)]);
        let labels = metadata["labels"]
            .as_object_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let mut labels: Map<String, Value> = labels;
        labels.insert(
            "apps.kubernetes.io/pod-index".into(),
            json!(ordinal.to_string()),
        );
        labels.insert("controller-revision-hash".into(), json!(revision));
        labels.insert("statefulset.kubernetes.io/pod-name".into(), json!(pod_name));
        metadata["labels"] = Value::Object(labels);
        let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
        spec["hostname"] = json!(pod_name);
        if let Some(service) = str_at(set, "/spec/serviceName") {
            spec["subdomain"] = json!(service);
        }
        let mut volumes: Vec<Value> = spec["volumes"].as_array().cloned().unwrap_or_default();
        for claim in set
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let volume = str_at(claim, "/metadata/name").unwrap_or("data");
            volumes.retain(|v| v["name"] != volume);
            volumes.insert(0, json!({"name": volume, "persistentVolumeClaim": {"claimName": format!("{volume}-{name}-{ordinal}")}}));
        }
        if !volumes.is_empty() {
            spec["volumes"] = json!(volumes);
        }
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
        match self.api.create(gvr::PODS, &namespace, &pod).await {
            Ok(_) => Ok(()),
            Err(error) if error.code == 409 => Ok(()),
            Err(error) => {
                super::events::failed_create(&self.api, set, &pod_name, &error).await;
                Err(error)
            }
        }
    }

    /// Adopts pods named like the set's, matching its selector and without a controller (left
    /// behind by an orphaning delete of an earlier set of the same name), as the real
    /// controller's ControllerRefManager does.
    async fn adopt_orphans(
        &self,
        set: &Value,
        replicas: i64,
    ) -> Result<(), crate::error::ApiError> {
        let (namespace, name) = crate::request::key_of(set);
        let selector = &set["spec"]["selector"];
        for ordinal in 0..replicas {
            let Some(pod) = self
                .api
                .get(gvr::PODS, &namespace, &format!("{name}-{ordinal}"))
            else {
                continue;
            };
            if controller_uid(&pod).is_some()
                || terminating(&pod)
                || !selector_matches(selector, pod.pointer("/metadata/labels"))
            {
                continue;
            }
            let (_, pod_name) = crate::request::key_of(&pod);
            let patch = json!({"metadata": {"ownerReferences": [controller_ref(set)]}});
            match self
                .api
                .merge_patch(gvr::PODS, &namespace, &pod_name, None, &patch)
                .await
            {
                Ok(_) => {}
                Err(error) if error.code == 404 || error.code == 409 => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    async fn delete_pod(&self, pod: &Value) -> Result<(), crate::error::ApiError> {
        let (namespace, name) = crate::request::key_of(pod);
        match self
            .api
            .delete(
                gvr::PODS,
                &namespace,
                &name,
                str_at(pod, "/metadata/uid"),
                None,
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(error) if error.code == 404 || error.code == 409 => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Recomputes the status from the pods as they are now, and writes it when it changed.
    async fn write_status(
        &self,
        set: &Value,
        current_revision: &str,
        update_revision: &str,
    ) -> Result<(), crate::error::ApiError> {
        let min_ready = int_at(set, "/spec/minReadySeconds").unwrap_or(0);
        let replicas_wanted = int_at(set, "/spec/replicas").unwrap_or(1);
        let pods = owned_pods(&self.api, set);
        let (mut replicas, mut ready, mut available_count, mut current, mut updated) =
            (0, 0, 0, 0, 0);
        for pod in &pods {
            replicas += 1;
            if pod_ready(pod) {
                ready += 1;
                if pod_available(&self.api.sim().clock, pod, min_ready) {
                    available_count += 1;
                }
            }
            if !terminating(pod) {
                if revision_of(pod) == current_revision {
                    current += 1;
                }
                if revision_of(pod) == update_revision {
                    updated += 1;
                }
            }
        }
        let mut current_revision = current_revision.to_string();
        let rolling =
            str_at(set, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") == "RollingUpdate";
        if rolling
            && updated == replicas_wanted
            && ready == replicas_wanted
            && replicas == replicas_wanted
        {
            current = updated;
            current_revision = update_revision.to_string();
        }
        let mut status = Map::new();
        status.insert(
            "observedGeneration".into(),
            set["metadata"]["generation"].clone(),
        );
        status.insert("replicas".into(), json!(replicas));
        for (field, value) in [
            ("readyReplicas", ready),
            ("currentReplicas", current),
            ("updatedReplicas", updated),
        ] {
            if value > 0 {
                status.insert(field.into(), json!(value));
            }
        }
        status.insert("currentRevision".into(), json!(current_revision));
        status.insert("updateRevision".into(), json!(update_revision));
        status.insert(
            "collisionCount".into(),
            json!(int_at(set, "/status/collisionCount").unwrap_or(0)),
        );
        status.insert("availableReplicas".into(), json!(available_count));
        let status = Value::Object(status);
        self.api.write_status(gvr::STATEFULSETS, set, status).await
    }
}
