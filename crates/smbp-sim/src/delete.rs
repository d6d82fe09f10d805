//! DELETE and deletecollection: preconditions, propagation policies (Background, Foreground with
//! the `foregroundDeletion` finalizer, Orphan with the `orphan` finalizer), finalizers that hold an
//! object in `deletionTimestamp`, graceful deletion of pods bound to a node, namespaces that
//! terminate, dry runs, and the two response shapes (a `Status` when the object is gone at once,
//! the object otherwise).

use crate::admission::{self, Operation};
use crate::error::{ApiError, Cause};
use crate::request::{ApiRequest, Reply, key_of, meta_str, served};
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::Sim;
use crate::store::EventType;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The options a DELETE carries in its query or its `DeleteOptions` body.
fn options(req: &ApiRequest) -> Result<DeletePlan, ApiError> {
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&req.body).unwrap_or_else(|_| json!({}))
    };
    let propagation = req
        .param("propagationPolicy")
        .map(String::from)
        .or_else(|| body["propagationPolicy"].as_str().map(String::from));
    if let Some(policy) = &propagation
        && !["Foreground", "Background", "Orphan"].contains(&policy.as_str())
    {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            &[Cause::new(
                "FieldValueNotSupported",
                "propagationPolicy",
                format!(
                    "Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            )],
        ));
    }
    let orphan = body["orphanDependents"].as_bool() == Some(true) || req.flag("orphanDependents");
    Ok(DeletePlan {
        propagation: propagation.or_else(|| orphan.then(|| "Orphan".to_string())),
        grace_period: req
            .param("gracePeriodSeconds")
            .and_then(|g| g.parse().ok())
            .or_else(|| body["gracePeriodSeconds"].as_i64()),
        precondition_rv: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        precondition_uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
    })
}

/// The `Status` answered when an object is gone at once.
fn success(rt: &ResourceType, object: &Value) -> Value {
    let mut details = Map::new();
    details.insert(
        "name".into(),
        json!(meta_str(object, "name").unwrap_or_default()),
    );
    if !rt.group.is_empty() {
        details.insert("group".into(), json!(rt.group));
    }
    details.insert("kind".into(), json!(rt.plural));
    details.insert(
        "uid".into(),
        json!(meta_str(object, "uid").unwrap_or_default()),
    );
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

/// DELETE of one object.
pub async fn delete(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let opts = options(req)?;
    let rt = &req.rt;
    let key = req.object_key();
    let current = sim
        .store()
        .get(&rt.storage_key(), &key)
        .ok_or_else(|| ApiError::not_found(rt, &key.1))?;
    let warnings =
        admission::review(sim, req, Operation::Delete, &key.1, Some(&current), None).await?;
    let mut reply = delete_object(sim, rt, &key, &opts, req.dry_run())?;
    reply.warnings = warnings;
    Ok(reply)
}

/// What a deletion should do, independent of where the options came from.
#[derive(Clone, Debug, Default)]
pub struct DeletePlan {
    /// Background, Foreground or Orphan.
    pub propagation: Option<String>,
    /// Grace period for pods.
    pub grace_period: Option<i64>,
    /// resourceVersion precondition.
    pub precondition_rv: Option<String>,
    /// uid precondition.
    pub precondition_uid: Option<String>,
}

/// Deletes (or starts deleting) one stored object; shared by DELETE, deletecollection and the
/// garbage collector.
pub fn delete_object(
    sim: &Sim,
    rt: &ResourceType,
    key: &(String, String),
    plan: &DeletePlan,
    dry_run: bool,
) -> Result<Reply, ApiError> {
    let mut store = sim.store();
    let current = store
        .get(&rt.storage_key(), key)
        .ok_or_else(|| ApiError::not_found(rt, &key.1))?;
    let stored_rv = meta_str(&current, "resourceVersion")
        .unwrap_or_default()
        .to_string();
    let stored_uid = meta_str(&current, "uid").unwrap_or_default().to_string();
    if let Some(rv) = &plan.precondition_rv
        && *rv != stored_rv
    {
        return Err(ApiError::precondition_failed(
            rt,
            &key.1,
            &format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({stored_rv}). The object might have been modified"
            ),
        ));
    }
    if let Some(uid) = &plan.precondition_uid
        && *uid != stored_uid
    {
        return Err(ApiError::precondition_failed(
            rt,
            &key.1,
            &format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({stored_uid}). The object might have been deleted and then recreated"
            ),
        ));
    }
    let mut object = (*current).clone();
    let already_deleting = object.pointer("/metadata/deletionTimestamp").is_some();
    let mut finalizers: Vec<Value> = object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let policy_finalizer = match plan.propagation.as_deref() {
        Some("Foreground") => Some("foregroundDeletion"),
        Some("Orphan") => Some("orphan"),
        _ => None,
    };
    if let Some(finalizer) = policy_finalizer
        && !finalizers.contains(&json!(finalizer))
    {
        finalizers.push(json!(finalizer));
    }
    let is_namespace = rt.group.is_empty() && rt.plural == "namespaces";
    let bound_pod = rt.group.is_empty()
        && rt.plural == "pods"
        && object
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty())
        && object
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .is_none_or(|p| p != "Succeeded" && p != "Failed");
    let grace = if bound_pod {
        plan.grace_period
            .or_else(|| {
                object
                    .pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30)
    } else {
        0
    };
    // A zero grace period ends a pod's graceful termination (what the kubelet sends once the
    // containers have stopped): it goes at once, or waits only for its finalizers.
    let grace_ended = already_deleting
        && bound_pod
        && plan.grace_period == Some(0)
        && object.pointer("/metadata/deletionGracePeriodSeconds") != Some(&json!(0));
    if grace_ended && finalizers.is_empty() {
        if dry_run {
            return Ok(Reply::new(200, served(rt, &object)));
        }
        let deleted = store.commit(&rt.storage_key(), key.clone(), EventType::Deleted, object);
        drop(store);
        sim.gc_wake.notify_one();
        return Ok(Reply::new(200, served(rt, &deleted)));
    }
    if grace_ended {
        let meta = object["metadata"]
            .as_object_mut()
            .expect("stored objects have metadata");
        meta.insert("deletionTimestamp".into(), json!(sim.clock.now_rfc3339()));
        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    } else if already_deleting
        && finalizers.len()
            == object
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
    {
        return Ok(Reply::new(200, served(rt, &object)));
    }
    let hold = !finalizers.is_empty() || grace > 0 || is_namespace;
    if !hold {
        if dry_run {
            return Ok(Reply::new(200, success(rt, &object)));
        }
        let deleted = store.commit(&rt.storage_key(), key.clone(), EventType::Deleted, object);
        drop(store);
        crate::lifecycle::after_delete(sim, rt, &deleted);
        sim.gc_wake.notify_one();
        return Ok(Reply::new(200, success(rt, &deleted)));
    }
    {
        let meta = object["metadata"]
            .as_object_mut()
            .expect("stored objects have metadata");
        if !already_deleting {
            meta.insert(
                "deletionTimestamp".into(),
                json!(if grace > 0 {
                    sim.clock.now_plus(grace)
                } else {
                    sim.clock.now_rfc3339()
                }),
            );
            if !is_namespace {
                meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
        }
        if !finalizers.is_empty() {
            meta.insert("finalizers".into(), Value::Array(finalizers));
        }
    }
    if is_namespace {
        object["status"]["phase"] = json!("Terminating");
    }
    if dry_run {
        return Ok(Reply::new(200, served(rt, &object)));
    }
    let stored = store.commit(&rt.storage_key(), key.clone(), EventType::Modified, object);
    drop(store);
    sim.gc_wake.notify_one();
    Ok(Reply::new(200, served(rt, &stored)))
}

/// deletecollection: deletes every selected object and answers with the list of them.
pub async fn delete_collection(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let rt = &req.rt;
    let labels = LabelSelector::parse(req.param("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(&e))?;
    let fields = FieldSelector::parse(
        req.param("fieldSelector").unwrap_or(""),
        &rt.field_selectors,
        rt.custom,
    )
    .map_err(|e| ApiError::bad_request(&e))?;
    let opts = options(req)?;
    let selected: Vec<Arc<Value>> = sim
        .store()
        .list(
            &rt.storage_key(),
            req.namespace.as_deref().filter(|_| rt.namespaced),
        )
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    let mut items = Vec::new();
    for object in selected {
        let key = key_of(&object);
        admission::review(sim, req, Operation::Delete, &key.1, Some(&object), None).await?;
        if delete_object(sim, rt, &key, &opts, req.dry_run()).is_ok() {
            items.push(crate::read::list_item(rt, &object));
        }
    }
    let rv = sim.store().resource_version();
    Ok(Reply::new(
        200,
        json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}
