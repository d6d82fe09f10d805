//! Why pods are missing or not running, read from what Kubernetes says about them — only when a
//! workload is short of ready pods, so a healthy BigPeer costs no reads here:
//! - pods that could not be created (admission refused them: a missing PriorityClass, a quota, Pod
//!   Security): the StatefulSet controller's `FailedCreate` Events, the Deployment's
//!   `ReplicaFailure` condition;
//! - pods that cannot be scheduled: their `PodScheduled=False` condition and its message.

use crate::context::Context;
use crate::error::{Error, Result};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams};
use serde_json::Value;
use smbp_core::build::INSTANCE_LABEL;

/// The problems of the pods of a BigPeer's workloads (`store`, `sync`), each a sentence naming the
/// component.
pub async fn pod_problems(
    ctx: &Context,
    namespace: &str,
    instance: &str,
    store: Option<&Value>,
    sync: Option<&Value>,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    if let Some(sts) = store.filter(|s| short_of_pods(s)) {
        problems.extend(failed_create_event(ctx, namespace, sts).await?);
    }
    if let Some(deployment) = sync.filter(|d| short_of_pods(d)) {
        problems.extend(replica_failure(deployment));
    }
    let short = |w: Option<&Value>| w.is_some_and(short_of_ready);
    if short(store) || short(sync) {
        problems.extend(unschedulable(ctx, namespace, instance).await?);
    }
    Ok(problems)
}

/// Whether a workload has fewer pods than it wants.
fn short_of_pods(workload: &Value) -> bool {
    count(workload, "/status/replicas") < count(workload, "/spec/replicas")
}

/// Whether a workload has fewer ready pods than it wants.
fn short_of_ready(workload: &Value) -> bool {
    let ready = count(workload, "/status/readyReplicas");
    ready < count(workload, "/spec/replicas")
}

fn count(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The newest `FailedCreate` Event of a StatefulSet, as `store: <message>`.
async fn failed_create_event(
    ctx: &Context,
    namespace: &str,
    sts: &Value,
) -> Result<Option<String>> {
    let Some(uid) = sts.pointer("/metadata/uid").and_then(Value::as_str) else {
        return Ok(None);
    };
    let events: Api<Event> = Api::namespaced(ctx.client.clone(), namespace);
    let selector = format!("involvedObject.uid={uid},reason=FailedCreate");
    let list = events
        .list(&ListParams::default().fields(&selector))
        .await
        .map_err(|e| {
            Error::kube(
                format!("list the store's FailedCreate Events in {namespace}"),
                e,
            )
        })?;
    let newest = list
        .items
        .into_iter()
        .max_by_key(|e| e.last_timestamp.clone().map(|t| t.0));
    Ok(newest
        .and_then(|e| e.message)
        .map(|message| format!("store: {message}")))
}

/// A Deployment's `ReplicaFailure` condition, as `sync: <message>`.
fn replica_failure(deployment: &Value) -> Option<String> {
    let conditions = deployment.pointer("/status/conditions")?.as_array()?;
    let failure = conditions
        .iter()
        .find(|c| c["type"] == "ReplicaFailure" && c["status"] == "True")?;
    Some(format!("sync: {}", failure["message"].as_str()?))
}

/// The first unschedulable pod of each component, as `store pod X cannot be scheduled: ...`.
async fn unschedulable(ctx: &Context, namespace: &str, instance: &str) -> Result<Vec<String>> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let selector = format!("{INSTANCE_LABEL}={instance}");
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| Error::kube(format!("list the pods of {namespace}/{instance}"), e))?;
    let mut found: Vec<(String, String)> = Vec::new();
    for pod in list.items {
        let component = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(smbp_core::build::COMPONENT_LABEL))
            .cloned()
            .unwrap_or_default();
        if found.iter().any(|(c, _)| *c == component) {
            continue;
        }
        let conditions = pod.status.and_then(|s| s.conditions).unwrap_or_default();
        let refused = conditions
            .iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False");
        if let Some(condition) = refused {
            let name = pod.metadata.name.unwrap_or_default();
            let why = condition.message.clone().unwrap_or_default();
            found.push((
                component.clone(),
                format!("{component} pod {name} cannot be scheduled: {why}"),
            ));
        }
    }
    Ok(found.into_iter().map(|(_, problem)| problem).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deployment_that_cannot_create_pods_says_why() {
        let deployment = json!({"spec": {"replicas": 2}, "status": {"replicas": 0, "conditions": [
            {"type": "Available", "status": "False"},
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
             "message": "pods \"x\" is forbidden: no PriorityClass with name gold was found"}]}});
        assert!(short_of_pods(&deployment));
        assert_eq!(
            replica_failure(&deployment).as_deref(),
            Some("sync: pods \"x\" is forbidden: no PriorityClass with name gold was found")
        );
        let healthy =
            json!({"spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 2}});
        assert!(!short_of_pods(&healthy) && !short_of_ready(&healthy));
        assert_eq!(replica_failure(&healthy), None);
    }
}
