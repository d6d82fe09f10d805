//! What the API server itself does after certain writes: a CRD becomes served and reports
//! `NamesAccepted` and `Established` (or why not); a deleted CRD stops being served and takes its
//! custom resources with it.

use crate::request::{key_of, meta_str};
use crate::resources::ResourceType;
use crate::sim::Sim;
use crate::store::EventType;
use serde_json::{Value, json};

fn is_crd(rt: &ResourceType) -> bool {
    rt.group == "apiextensions.k8s.io" && rt.plural == "customresourcedefinitions"
}

/// Called after an object was created.
pub fn after_create(sim: &Sim, rt: &ResourceType, stored: &Value) {
    if is_crd(rt) {
        establish(sim, stored);
    }
}

/// Called after an object was updated.
pub fn after_update(sim: &Sim, rt: &ResourceType, stored: &Value) {
    if is_crd(rt) && stored.pointer("/metadata/deletionTimestamp").is_none() {
        establish(sim, stored);
    }
}

/// Called after an object was deleted.
pub fn after_delete(sim: &Sim, rt: &ResourceType, deleted: &Value) {
    if !is_crd(rt) {
        return;
    }
    let name = meta_str(deleted, "name").unwrap_or_default();
    sim.registry_mut().unregister_crd(name);
    let Some(group) = deleted.pointer("/spec/group").and_then(Value::as_str) else {
        return;
    };
    let Some(plural) = deleted
        .pointer("/spec/names/plural")
        .and_then(Value::as_str)
    else {
        return;
    };
    let resource = format!("{group}/{plural}");
    let mut store = sim.store();
    for object in store.list(&resource, None) {
        let key = key_of(&object);
        store.commit(&resource, key, EventType::Deleted, (*object).clone());
    }
}

/// Serves the CRD and writes its status conditions.
fn establish(sim: &Sim, crd: &Value) {
    let outcome = sim.registry_mut().register_crd(crd);
    let time = sim.clock.now_rfc3339();
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let conditions = match &outcome {
        Ok(()) => json!([
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": time},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": time},
        ]),
        Err(problem) => json!([
            {"type": "NamesAccepted", "status": "False", "reason": "Invalid",
             "message": problem, "lastTransitionTime": time},
            {"type": "Established", "status": "False", "reason": "NotAccepted",
             "message": "not all names are accepted", "lastTransitionTime": time},
        ]),
    };
    let stored_versions: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v["storage"] == json!(true))
        .map(|v| v["name"].clone())
        .collect();
    let status = json!({"conditions": conditions, "acceptedNames": names, "storedVersions": stored_versions});
    if crd.get("status") == Some(&status) {
        return;
    }
    let mut updated = crd.clone();
    updated["status"] = status;
    let key = (
        String::new(),
        meta_str(crd, "name").unwrap_or_default().to_string(),
    );
    let mut store = sim.store();
    // Only if nobody changed the CRD since (a later write re-establishes it anyway).
    let current = store.get("apiextensions.k8s.io/customresourcedefinitions", &key);
    if current
        .as_deref()
        .and_then(|c| meta_str(c, "resourceVersion"))
        == meta_str(crd, "resourceVersion")
    {
        store.commit(
            "apiextensions.k8s.io/customresourcedefinitions",
            key,
            EventType::Modified,
            updated,
        );
    }
}
