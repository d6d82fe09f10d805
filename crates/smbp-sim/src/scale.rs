//! The `scale` subresource: an `autoscaling/v1` Scale view of any resource that declares one
//! (Deployments, StatefulSets, ReplicaSets, and CRDs with `subresources.scale`); writes change the
//! object's replica field and go through the normal update path (validation, CEL, generation).

use crate::error::ApiError;
use crate::patch::{self, PatchType};
use crate::request::{ApiRequest, Reply, meta_str};
use crate::sim::Sim;
use serde_json::{Value, json};
use std::sync::Arc;

fn pointer(path: &str) -> String {
    path.replace('.', "/")
}

/// The Scale of an object.
fn scale_of(req: &ApiRequest, object: &Value) -> Value {
    let paths = req
        .rt
        .scale
        .as_ref()
        .expect("only called for scalable resources");
    let mut metadata = json!({});
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(value) = object.pointer(&format!("/metadata/{field}")) {
            metadata[field] = value.clone();
        }
    }
    let mut status = json!({"replicas": object.pointer(&pointer(&paths.status_replicas)).cloned().unwrap_or(json!(0))});
    if let Some(selector) = paths
        .label_selector
        .as_ref()
        .and_then(|p| object.pointer(&pointer(p)))
    {
        status["selector"] = selector.clone();
    }
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
        "spec": {"replicas": object.pointer(&pointer(&paths.spec_replicas)).cloned().unwrap_or(json!(0))},
        "status": status})
}

/// get, update and patch of `/scale`.
pub async fn handle(sim: &Arc<Sim>, req: &ApiRequest, verb: &str) -> Result<Reply, ApiError> {
    let rt = &req.rt;
    if rt.scale.is_none() {
        return Err(ApiError::page_not_found());
    }
    let key = req.object_key();
    let current = sim
        .store()
        .get(&rt.storage_key(), &key)
        .ok_or_else(|| ApiError::not_found(rt, &key.1))?;
    let scale = scale_of(req, &current);
    let wanted = match verb {
        "get" => return Ok(Reply::new(200, scale)),
        "update" => req.json_body()?,
        "patch" => {
            let body = req.json_body()?;
            match PatchType::from_content_type(&req.content_type) {
                Some(PatchType::Merge) | Some(PatchType::Strategic) => {
                    patch::merge_patch(&scale, &body)
                }
                Some(PatchType::Json) => patch::json_patch(&scale, &body)?,
                _ => return Err(patch::not_a_patch()),
            }
        }
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let replicas = wanted
        .pointer("/spec/replicas")
        .cloned()
        .unwrap_or(json!(0));
    let paths = rt.scale.as_ref().expect("checked");
    let mut change = json!({});
    let steps: Vec<&str> = paths
        .spec_replicas
        .trim_start_matches('.')
        .split('.')
        .collect();
    let mut node = &mut change;
    for step in &steps[..steps.len() - 1] {
        node = &mut node[*step];
    }
    node[steps[steps.len() - 1]] = replicas;
    if let Some(rv) = meta_str(&wanted, "resourceVersion") {
        change["metadata"] = json!({"resourceVersion": rv});
    }
    let mut inner = req.clone();
    inner.subresource = None;
    inner.method = hyper::Method::PATCH;
    inner.content_type = "application/merge-patch+json".into();
    inner.body = change.to_string().into();
    let reply = crate::write::patch(sim, &inner).await?;
    Ok(Reply {
        code: 200,
        body: scale_of(req, &reply.body),
        warnings: reply.warnings,
    })
}
