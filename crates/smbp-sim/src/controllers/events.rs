//! Events the simulated workload controllers record, as kube-controller-manager's event recorder
//! writes them (core/v1 Events named `{object}.{unix nanos in hex}`, with `source.component` and
//! `reportingComponent`; a repeat of the same event bumps `count` and `lastTimestamp`), and the
//! `FailedCreate` Warnings a refused pod creation produces.

use super::api::{Api, Gvr};
use super::util::str_at;
use crate::error::ApiError;
use serde_json::{Value, json};

/// Events.
const EVENTS: Gvr = Gvr("", "v1", "events");

/// The message of an API error (its `Status.message`).
pub fn error_message(error: &ApiError) -> String {
    error.body["message"]
        .as_str()
        .map_or_else(|| error.body.to_string(), String::from)
}

/// The `involvedObject` reference of an object.
fn reference(object: &Value) -> Value {
    json!({
        "kind": object["kind"],
        "namespace": object["metadata"]["namespace"],
        "name": object["metadata"]["name"],
        "uid": object["metadata"]["uid"],
        "apiVersion": object["apiVersion"],
        "resourceVersion": object["metadata"]["resourceVersion"],
    })
}

/// Records a Warning (or Normal) event about `object` from `component`; an identical earlier
/// event (same object, reason, message and component) is counted up instead.
pub async fn record(
    api: &Api,
    object: &Value,
    event_type: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let namespace = str_at(object, "/metadata/namespace").unwrap_or("default");
    let uid = str_at(object, "/metadata/uid");
    let clock = &api.sim().clock;
    let now = clock.now_rfc3339();
    let same = api.list(EVENTS, Some(namespace)).into_iter().find(|e| {
        str_at(e, "/involvedObject/uid") == uid
            && e["reason"] == reason
            && e["message"] == message
            && str_at(e, "/source/component") == Some(component)
    });
    if let Some(earlier) = same {
        let count = earlier["count"].as_i64().unwrap_or(1) + 1;
        let name = str_at(&earlier, "/metadata/name").unwrap_or_default();
        let patch = json!({"count": count, "lastTimestamp": now});
        let _ = api.merge_patch(EVENTS, namespace, name, None, &patch).await;
        return;
    }
    let object_name = str_at(object, "/metadata/name").unwrap_or_default();
    let nanos = clock.now().as_nanosecond();
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{object_name}.{nanos:x}"), "namespace": namespace},
        "involvedObject": reference(object),
        "reason": reason, "message": message,
        "source": {"component": component},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        "type": event_type, "reportingComponent": component, "reportingInstance": "",
    });
    let _ = api.create(EVENTS, namespace, &event).await;
}

/// The `FailedCreate` Warning of a controller whose pod creation was refused: the StatefulSet
/// controller's `create Pod {pod} in StatefulSet {set} failed error: {error}`, or the ReplicaSet
/// and Job controllers' `Error creating: {error}`.
pub async fn failed_create(api: &Api, owner: &Value, pod_name: &str, error: &ApiError) {
    let error = error_message(error);
    let kind = owner["kind"].as_str().unwrap_or_default();
    let (message, component) = match kind {
        "StatefulSet" => (
            format!(
                "create Pod {pod_name} in StatefulSet {} failed error: {error}",
                str_at(owner, "/metadata/name").unwrap_or_default()
            ),
            "statefulset-controller",
        ),
        "Job" => (format!("Error creating: {error}"), "job-controller"),
        _ => (format!("Error creating: {error}"), "replicaset-controller"),
    };
    record(api, owner, "Warning", "FailedCreate", &message, component).await;
}
