//! The `pods/eviction` subresource, as kube-apiserver serves it: a pod selected by a
//! PodDisruptionBudget is deleted only when the budget (as the disruption controller last
//! computed it) allows a disruption, which the eviction then uses up; otherwise 429 with the
//! `DisruptionBudget` cause. Unready pods may go while the budget is met
//! (`unhealthyPodEvictionPolicy: IfHealthyBudget`, or always with `AlwaysAllow`).

use crate::controllers::util::{pod_ready, selector_matches, set_condition};
use crate::delete::{DeletePlan, delete_object};
use crate::error::ApiError;
use crate::request::{ApiRequest, Reply, meta_str};
use crate::sim::Sim;
use crate::store::EventType;
use serde_json::{Value, json};
use std::sync::Arc;

const VIOLATION: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

fn budget_error(message: String, retry_after: u64) -> ApiError {
    ApiError::too_many_requests(
        VIOLATION,
        retry_after,
        Some(json!({"causes": [{"reason": "DisruptionBudget", "message": message}]})),
    )
}

/// POST `pods/{name}/eviction`.
pub async fn evict(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let body = req.json_body()?;
    let key = req.object_key();
    if body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| n != key.1)
    {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let options = body.get("deleteOptions").cloned().unwrap_or(json!({}));
    let dry_run = options["dryRun"]
        .as_array()
        .is_some_and(|d| d.iter().any(|v| v == "All"))
        || req.dry_run();
    let plan = DeletePlan {
        propagation: options["propagationPolicy"].as_str().map(String::from),
        grace_period: options["gracePeriodSeconds"].as_i64(),
        precondition_rv: options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        precondition_uid: options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
    };
    let pod = sim
        .store()
        .get(&req.rt.storage_key(), &key)
        .ok_or_else(|| ApiError::not_found(&req.rt, &key.1))?;
    let success = || {
        Reply::new(
            201,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
        )
    };
    let ignores_budgets = pod.pointer("/metadata/deletionTimestamp").is_some()
        || matches!(
            pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded") | Some("Failed") | Some("Pending")
        );
    let budgets: Vec<Arc<Value>> = sim
        .store()
        .list("policy/poddisruptionbudgets", Some(&key.0))
        .into_iter()
        .filter(|pdb| selector_matches(&pdb["spec"]["selector"], pod.pointer("/metadata/labels")))
        .collect();
    if budgets.len() > 1 {
        return Err(ApiError::internal(
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        ));
    }
    let Some(pdb) = budgets.into_iter().next().filter(|_| !ignores_budgets) else {
        return delete(sim, req, &key, &plan, dry_run)
            .await
            .map(|_| success());
    };
    let int = |field: &str| {
        pdb.pointer(&format!("/status/{field}"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let name = meta_str(&pdb, "name").unwrap_or_default().to_string();
    let unhealthy_allowed = match pdb
        .pointer("/spec/unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
    {
        Some("AlwaysAllow") => true,
        _ => int("currentHealthy") >= int("desiredHealthy") && int("desiredHealthy") > 0,
    };
    if !pod_ready(&pod) && unhealthy_allowed {
        return delete(sim, req, &key, &plan, dry_run)
            .await
            .map(|_| success());
    }
    if int("observedGeneration")
        < pdb
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    {
        return Err(budget_error(
            format!("The disruption budget {name} is still being processed by the server."),
            10,
        ));
    }
    if int("disruptionsAllowed") <= 0 {
        return Err(budget_error(
            format!(
                "The disruption budget {name} needs {} healthy pods and has {} currently",
                int("desiredHealthy"),
                int("currentHealthy")
            ),
            0,
        ));
    }
    if !dry_run {
        let mut updated = (*pdb).clone();
        let allowed = int("disruptionsAllowed") - 1;
        updated["status"]["disruptionsAllowed"] = json!(allowed);
        updated["status"]["disruptedPods"][&key.1] = json!(sim.clock.now_rfc3339());
        if allowed == 0 {
            let now = sim.clock.now_rfc3339();
            let mut conditions: Vec<Value> = updated
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let generation = updated["metadata"]["generation"].clone();
            set_condition(
                &mut conditions,
                "DisruptionAllowed",
                "False",
                &now,
                &[
                    ("observedGeneration", generation),
                    ("reason", json!("InsufficientPods")),
                    ("message", json!("")),
                ],
            );
            updated["status"]["conditions"] = json!(conditions);
        }
        let pdb_key = crate::request::key_of(&updated);
        sim.store().commit(
            "policy/poddisruptionbudgets",
            pdb_key,
            EventType::Modified,
            updated,
        );
    }
    delete(sim, req, &key, &plan, dry_run)
        .await
        .map(|_| success())
}

/// Marks the pod as a disruption target, then deletes it as a DELETE would.
async fn delete(
    sim: &Arc<Sim>,
    req: &ApiRequest,
    key: &(String, String),
    plan: &DeletePlan,
    dry_run: bool,
) -> Result<Reply, ApiError> {
    if !dry_run {
        let mut store = sim.store();
        if let Some(pod) = store.get(&req.rt.storage_key(), key) {
            let mut pod = (*pod).clone();
            let now = sim.clock.now_rfc3339();
            let mut conditions: Vec<Value> = pod
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            set_condition(
                &mut conditions,
                "DisruptionTarget",
                "True",
                &now,
                &[
                    ("lastProbeTime", Value::Null),
                    ("reason", json!("EvictionByEvictionAPI")),
                    ("message", json!("Eviction API: evicting")),
                ],
            );
            pod["status"]["conditions"] = json!(conditions);
            store.commit(&req.rt.storage_key(), key.clone(), EventType::Modified, pod);
        }
    }
    delete_object(sim, &req.rt, key, plan, dry_run)
}
