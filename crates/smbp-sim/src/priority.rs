//! PriorityClasses (`scheduling.k8s.io/v1`) and kube-apiserver's `Priority` admission plugin: the
//! two built-in classes exist from the start (the apiserver's bootstrap hook), a Pod naming a
//! missing class is refused 403, and an admitted Pod gets `spec.priority` (and
//! `preemptionPolicy`) resolved from its class, or from the global default class, or 0.

use crate::controllers::api::{Api, Gvr};
use crate::error::ApiError;
use crate::resources::ResourceType;
use crate::sim::Sim;
use serde_json::{Value, json};

/// The PriorityClass resource.
pub const PRIORITY_CLASSES: Gvr = Gvr("scheduling.k8s.io", "v1", "priorityclasses");

/// The classes kube-apiserver creates at start: (name, value, description).
pub const SYSTEM_CLASSES: [(&str, i64, &str); 2] = [
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// Creates the built-in classes, as the apiserver's `scheduling/bootstrap-system-priority-classes`
/// hook does.
pub async fn install(api: &Api) -> Result<(), ApiError> {
    for (name, value, description) in SYSTEM_CLASSES {
        let class = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, "description": description,
            "preemptionPolicy": "PreemptLowerPriority"});
        api.create(PRIORITY_CLASSES, "", &class).await?;
    }
    Ok(())
}

/// Whether a request writes a Pod.
fn is_pod(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.plural == "pods"
}

/// `admission.NewForbidden` for a pod: named by its name, or its `generateName` prefix when the
/// name is not generated yet.
fn forbidden(pod: &Value, reason: &str) -> ApiError {
    let meta = &pod["metadata"];
    let name = meta["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .or_else(|| meta["generateName"].as_str())
        .unwrap_or("Unknown");
    ApiError::forbidden(
        &format!("pods \"{name}\" is forbidden: {reason}"),
        Some(json!({"name": name, "kind": "pods"})),
    )
}

/// The class a pod gets: its named class, or the highest global default, as (name, value,
/// preemption policy); Err when the named class does not exist.
fn resolve(sim: &Sim, pod: &Value) -> Result<(String, i64, Value), String> {
    let named = pod
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let store = sim.store();
    let policy = |class: &Value| {
        class
            .get("preemptionPolicy")
            .cloned()
            .unwrap_or(json!("PreemptLowerPriority"))
    };
    if !named.is_empty() {
        let class = store
            .get(
                &PRIORITY_CLASSES.storage_key(),
                &(String::new(), named.to_string()),
            )
            .ok_or_else(|| format!("no PriorityClass with name {named} was found"))?;
        return Ok((
            named.to_string(),
            class["value"].as_i64().unwrap_or(0),
            policy(&class),
        ));
    }
    let default = store
        .list(&PRIORITY_CLASSES.storage_key(), None)
        .into_iter()
        .filter(|c| c["globalDefault"] == json!(true))
        .max_by_key(|c| c["value"].as_i64().unwrap_or(0));
    Ok(match default {
        Some(class) => (
            class["metadata"]["name"].as_str().unwrap_or("").to_string(),
            class["value"].as_i64().unwrap_or(0),
            policy(&class),
        ),
        None => (String::new(), 0, json!("PreemptLowerPriority")),
    })
}

/// The plugin on a Pod create: resolves the class and sets `priorityClassName`, `priority` and
/// `preemptionPolicy`, refusing a missing class or a conflicting integer priority or policy.
pub fn admit_create(sim: &Sim, rt: &ResourceType, pod: &mut Value) -> Result<(), ApiError> {
    if !is_pod(rt) {
        return Ok(());
    }
    let (class, priority, policy) = resolve(sim, pod).map_err(|e| forbidden(pod, &e))?;
    let spec = &pod["spec"];
    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != priority
    {
        return Err(forbidden(
            pod,
            &format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
            ),
        ));
    }
    if let Some(given) = spec.get("preemptionPolicy").and_then(Value::as_str)
        && Some(given) != policy.as_str()
    {
        return Err(forbidden(
            pod,
            &format!(
                "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                policy.as_str().unwrap_or("")
            ),
        ));
    }
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        if !class.is_empty() {
            spec.insert("priorityClassName".into(), json!(class));
        }
        spec.insert("priority".into(), json!(priority));
        spec.insert("preemptionPolicy".into(), policy);
    }
    Ok(())
}

/// The plugin on a Pod update: a body without `priority`/`preemptionPolicy` keeps the stored ones.
pub fn keep_on_update(rt: &ResourceType, pod: &mut Value, old: &Value) {
    if !is_pod(rt) {
        return;
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for field in ["priority", "preemptionPolicy"] {
        if let Some(stored) = old["spec"].get(field)
            && spec.get(field).is_none_or(Value::is_null)
        {
            spec.insert(field.into(), stored.clone());
        }
    }
}
