//! The garbage collector and the namespace controller, as kube-controller-manager runs them:
//! dependents whose owners are gone are deleted (Background); owners deleted in Foreground wait
//! for their dependents, then lose the `foregroundDeletion` finalizer; owners deleted with Orphan
//! have their dependents' ownerReferences stripped, then lose the `orphan` finalizer; a terminating
//! namespace is emptied, then removed; pods past their grace period are removed.

use crate::delete::{DeletePlan, delete_object};
use crate::request::{key_of, meta_str};
use crate::sim::Sim;
use crate::store::EventType;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How often the collector runs without being woken.
const PERIOD: Duration = Duration::from_millis(500);

/// Runs until the process ends.
pub async fn run(sim: Arc<Sim>) {
    loop {
        tokio::select! {
            _ = sim.gc_wake.notified() => {}
            _ = tokio::time::sleep(PERIOD) => {}
        }
        // Repeat while a pass changed something: one deletion may free the next.
        for _ in 0..32 {
            if !collect(&sim) {
                break;
            }
        }
    }
}

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(String::from))
        .collect()
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(String::from))
        .collect()
}

/// One pass; true when it changed something.
fn collect(sim: &Sim) -> bool {
    let registry_types = sim.registry().all().to_vec();
    let by_key: HashMap<String, crate::resources::ResourceType> = registry_types
        .into_iter()
        .map(|t| (t.storage_key(), t))
        .collect();
    let snapshot: Vec<(String, Arc<Value>)> = {
        let store = sim.store();
        store
            .resources()
            .into_iter()
            .flat_map(|r| {
                store
                    .list(&r, None)
                    .into_iter()
                    .map(move |o| (r.clone(), o))
            })
            .collect()
    };
    let uids: HashMap<String, &Value> = snapshot
        .iter()
        .filter_map(|(_, o)| Some((meta_str(o, "uid")?.to_string(), o.as_ref())))
        .collect();
    let mut dependents: HashMap<String, Vec<(String, &Value)>> = HashMap::new();
    for (resource, object) in &snapshot {
        for uid in owner_uids(object) {
            dependents
                .entry(uid)
                .or_default()
                .push((resource.clone(), object.as_ref()));
        }
    }
    let terminating_namespaces: HashSet<String> = snapshot
        .iter()
        .filter(|(r, o)| r == "/namespaces" && o.pointer("/metadata/deletionTimestamp").is_some())
        .map(|(_, o)| key_of(o).1)
        .collect();
    let mut changed = false;
    let background = DeletePlan::default();
    for (resource, object) in &snapshot {
        let Some(rt) = by_key.get(resource) else {
            continue;
        };
        let key = key_of(object);
        let deleting = object.pointer("/metadata/deletionTimestamp").is_some();
        let owners = owner_uids(object);
        // Owners all gone: delete the dependent.
        if !deleting && !owners.is_empty() && owners.iter().all(|uid| !uids.contains_key(uid)) {
            changed |= delete_object(sim, rt, &key, &background, false).is_ok();
            continue;
        }
        // A dependent of an owner being deleted in the foreground goes first.
        if !deleting
            && owners.iter().any(|uid| {
                uids.get(uid).is_some_and(|o| {
                    o.pointer("/metadata/deletionTimestamp").is_some()
                        && finalizers(o).contains(&"foregroundDeletion".to_string())
                })
            })
        {
            changed |= delete_object(sim, rt, &key, &background, false).is_ok();
            continue;
        }
        if !key.0.is_empty() && terminating_namespaces.contains(&key.0) && !deleting {
            changed |= delete_object(sim, rt, &key, &background, false).is_ok();
            continue;
        }
        if !deleting {
            continue;
        }
        let uid = meta_str(object, "uid").unwrap_or_default().to_string();
        let mut held = finalizers(object);
        let children = dependents.get(&uid).map(Vec::as_slice).unwrap_or_default();
        if held.contains(&"orphan".to_string()) {
            for (child_resource, child) in children {
                let mut stripped = (*child).clone();
                if let Some(refs) = stripped
                    .pointer_mut("/metadata/ownerReferences")
                    .and_then(Value::as_array_mut)
                {
                    refs.retain(|r| r["uid"].as_str() != Some(uid.as_str()));
                    if refs.is_empty() {
                        stripped["metadata"]
                            .as_object_mut()
                            .expect("metadata")
                            .remove("ownerReferences");
                    }
                }
                sim.store()
                    .commit(child_resource, key_of(child), EventType::Modified, stripped);
            }
            held.retain(|f| f != "orphan");
            changed |= finish(sim, resource, object, held);
            continue;
        }
        if held.contains(&"foregroundDeletion".to_string()) && children.is_empty() {
            held.retain(|f| f != "foregroundDeletion");
            changed |= finish(sim, resource, object, held);
            continue;
        }
        // A namespace goes once empty; anything else (pods, when no kubelet is simulated) once
        // its grace period is over.
        let done = if resource == "/namespaces" {
            snapshot
                .iter()
                .all(|(_, o)| meta_str(o, "namespace") != Some(key.1.as_str()))
        } else if resource == "/pods"
            && sim
                .kubelet_running
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            // The kubelet ends the pod's termination.
            false
        } else {
            object
                .pointer("/metadata/deletionTimestamp")
                .and_then(Value::as_str)
                .is_some_and(|t| sim.clock.is_past(t))
        };
        if held.is_empty() && done {
            sim.store().commit(
                resource,
                key.clone(),
                EventType::Deleted,
                (**object).clone(),
            );
            changed = true;
        }
    }
    changed
}

/// Writes the remaining finalizers; with none left the object is deleted.
fn finish(sim: &Sim, resource: &str, object: &Value, remaining: Vec<String>) -> bool {
    let mut store = sim.store();
    let key = key_of(object);
    // Only act on the state this pass saw.
    let current = store.get(resource, &key);
    if current
        .as_deref()
        .and_then(|c| meta_str(c, "resourceVersion"))
        != meta_str(object, "resourceVersion")
    {
        return false;
    }
    if remaining.is_empty() {
        store.commit(resource, key, EventType::Deleted, object.clone());
    } else {
        let mut updated = object.clone();
        updated["metadata"]["finalizers"] = json!(remaining);
        store.commit(resource, key, EventType::Modified, updated);
    }
    true
}
