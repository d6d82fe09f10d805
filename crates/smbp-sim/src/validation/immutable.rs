//! Update rules of built-ins with immutable parts, as kube-apiserver's `Validate*Update`
//! functions check them: StatefulSet spec beyond its mutable fields, the selector of apps/v1
//! Deployments, ReplicaSets and DaemonSets, Job selector / template /
//! completions (with the suspended-job and elastic-Indexed-job exceptions), Service cluster IPs
//! once set, PersistentVolumeClaim spec except storage requests of bound claims (never below
//! `status.capacity`). Also the Service's `patchAllocatedValues`: an update that omits the
//! allocated cluster IPs keeps them.

use crate::error::Cause;
use crate::quantity;
use crate::resources::ResourceType;
use serde_json::{Value, json};

/// `apivalidation.FieldImmutableErrorMsg`.
const IMMUTABLE: &str = "field is immutable";

/// The update causes of an object of this kind.
pub fn validate(rt: &ResourceType, new: &Value, old: &Value) -> Vec<Cause> {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "StatefulSet") => statefulset(new, old),
        ("batch", "Job") => job(new, old),
        ("", "Service") => service(new, old),
        ("", "PersistentVolumeClaim") => claim(new, old),
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => apps_selector(new, old),
        _ => Vec::new(),
    }
}

/// A copy of `spec` with `fields` removed.
fn spec_without(object: &Value, fields: &[&str]) -> Value {
    let mut spec = object.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(map) = spec.as_object_mut() {
        for field in fields {
            map.remove(*field);
        }
    }
    spec
}

/// The spec fields of a StatefulSet an update may change.
const STATEFULSET_MUTABLE: [&str; 7] = [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// `ValidateStatefulSetUpdate`.
fn statefulset(new: &Value, old: &Value) -> Vec<Cause> {
    if spec_without(new, &STATEFULSET_MUTABLE) == spec_without(old, &STATEFULSET_MUTABLE) {
        return Vec::new();
    }
    vec![Cause::new(
        "FieldValueForbidden",
        "spec",
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

/// `ValidateImmutableField` at `spec.{field}`: the new value as `field.Invalid` prints it — Go's
/// `%#v` for a label selector, JSON for other structs (a pod template), plain for scalars.
fn immutable(new: &Value, old: &Value, field: &str) -> Option<Cause> {
    let (a, b) = (&new["spec"][field], &old["spec"][field]);
    (a != b).then(|| {
        let shown = match (field, a) {
            (_, Value::Null) => "null".to_string(),
            ("selector", selector) => go_label_selector(selector),
            (_, other) => other.to_string(),
        };
        Cause::new(
            "FieldValueInvalid",
            format!("spec.{field}"),
            format!("Invalid value: {shown}: {IMMUTABLE}"),
        )
    })
}

/// Go's `%#v` of a `[]string`, `nil` when absent.
fn go_strings(values: &Value) -> String {
    match values.as_array() {
        Some(items) => format!(
            "[]string{{{}}}",
            items
                .iter()
                .map(|v| format!("{:?}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "[]string(nil)".to_string(),
    }
}

/// Go's `%#v` of a `v1.LabelSelector` (map keys sorted, as `fmt` prints maps).
fn go_label_selector(selector: &Value) -> String {
    let labels = match selector["matchLabels"].as_object() {
        Some(map) => format!(
            "map[string]string{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "map[string]string(nil)".to_string(),
    };
    let expressions = match selector["matchExpressions"].as_array() {
        Some(items) => format!(
            "[]v1.LabelSelectorRequirement{{{}}}",
            items
                .iter()
                .map(|e| format!(
                    "v1.LabelSelectorRequirement{{Key:{:?}, Operator:{:?}, Values:{}}}",
                    e["key"].as_str().unwrap_or(""),
                    e["operator"].as_str().unwrap_or(""),
                    go_strings(&e["values"])
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
}

/// `ValidateDeploymentUpdate` / `ValidateReplicaSetUpdate` / `ValidateDaemonSetUpdate` (apps/v1):
/// the selector is immutable.
fn apps_selector(new: &Value, old: &Value) -> Vec<Cause> {
    immutable(new, old, "selector").into_iter().collect()
}

/// The pod template fields a suspended, never-started Job may change (mutable scheduling
/// directives).
fn without_scheduling_directives(template: &Value) -> Value {
    let mut template = template.clone();
    for (parent, field) in [
        ("metadata", "labels"),
        ("metadata", "annotations"),
        ("spec", "nodeSelector"),
        ("spec", "tolerations"),
        ("spec", "affinity"),
        ("spec", "schedulingGates"),
    ] {
        if let Some(map) = template.get_mut(parent).and_then(Value::as_object_mut) {
            map.remove(field);
        }
    }
    template
}

/// `ValidateJobSpecUpdate`: selector, template, completionMode and completions.
fn job(new: &Value, old: &Value) -> Vec<Cause> {
    let mut causes: Vec<Cause> = [
        "selector",
        "completionMode",
        "podFailurePolicy",
        "managedBy",
    ]
    .iter()
    .filter_map(|f| immutable(new, old, f))
    .collect();
    let suspended_unstarted = old.pointer("/spec/suspend") == Some(&json!(true))
        && old.pointer("/status/startTime").is_none_or(Value::is_null);
    let template_changed = if suspended_unstarted {
        without_scheduling_directives(&new["spec"]["template"])
            != without_scheduling_directives(&old["spec"]["template"])
    } else {
        new["spec"]["template"] != old["spec"]["template"]
    };
    if template_changed {
        causes.extend(immutable(new, &json!({}), "template"));
    }
    let elastic = new.pointer("/spec/completionMode") == Some(&json!("Indexed"))
        && new.pointer("/spec/completions") == new.pointer("/spec/parallelism");
    if !elastic {
        causes.extend(immutable(new, old, "completions"));
    }
    causes
}

/// A Service's cluster IPs: `clusterIPs`, or `[clusterIP]` when only that is set.
fn cluster_ips(service: &Value) -> Vec<String> {
    let listed: Vec<String> = service
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    match service.pointer("/spec/clusterIP").and_then(Value::as_str) {
        Some(ip) if listed.is_empty() && !ip.is_empty() => vec![ip.to_string()],
        _ => listed,
    }
}

fn service_type(service: &Value) -> &str {
    service
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

/// `patchAllocatedValues` and the create-time `clusterIPs` default: an update that omits the
/// cluster IPs keeps the stored ones (both sides need one, i.e. neither is ExternalName), and
/// `clusterIPs` mirrors `clusterIP`.
pub fn keep_cluster_ips(new: &mut Value, old: Option<&Value>) {
    let carried = match old {
        Some(old)
            if service_type(old) != "ExternalName"
                && service_type(new) != "ExternalName"
                && cluster_ips(new).is_empty() =>
        {
            cluster_ips(old)
        }
        _ => cluster_ips(new),
    };
    if carried.is_empty() || service_type(new) == "ExternalName" {
        return;
    }
    if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("clusterIP".into(), json!(carried[0]));
        spec.insert("clusterIPs".into(), json!(carried));
    }
}

/// `validateUpgradeDowngradeClusterIPs`: the primary cluster IP may not change once set (except
/// to or from ExternalName, or between headless forms).
fn service(new: &Value, old: &Value) -> Vec<Cause> {
    if service_type(new) == "ExternalName" || service_type(old) == "ExternalName" {
        return Vec::new();
    }
    let (new_ips, old_ips) = (cluster_ips(new), cluster_ips(old));
    let headless = |ips: &[String]| ips.first().is_some_and(|ip| ip == "None");
    if headless(&new_ips) && headless(&old_ips) {
        return Vec::new();
    }
    let shown = format!(
        "[]string{{{}}}",
        new_ips
            .iter()
            .map(|ip| format!("{ip:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let invalid = |i: usize, message: &str| {
        Cause::new(
            "FieldValueInvalid",
            format!("spec.clusterIPs[{i}]"),
            format!("Invalid value: {shown}: {message}"),
        )
    };
    if new_ips.len() == old_ips.len() {
        return (0..old_ips.len())
            .filter(|i| old_ips[*i] != new_ips[*i])
            .map(|i| invalid(i, "may not change once set"))
            .collect();
    }
    match (old_ips.first(), new_ips.first()) {
        (Some(_), None) => vec![invalid(0, "primary clusterIP can not be unset")],
        (Some(o), Some(n)) if o != n => vec![invalid(0, "may not change once set")],
        _ => Vec::new(),
    }
}

/// A claim's storage request, parsed.
fn storage(claim: &Value, pointer: &str) -> Option<quantity::Quantity> {
    let text = claim.pointer(pointer)?.as_str()?;
    quantity::parse(text).ok()
}

/// `ValidatePersistentVolumeClaimUpdate` (with `RecoverVolumeExpansionFailure`, GA since 1.34):
/// the spec is immutable except `volumeName` once and, for bound claims, the storage request,
/// which may not go down to `status.capacity` or below; a claim without a class may get one.
fn claim(new: &Value, old: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let mut frozen_new = spec_without(new, &[]);
    let mut frozen_old = spec_without(old, &[]);
    if old.pointer("/spec/volumeName").is_none_or(|v| v == "")
        && let (Some(name), Some(spec)) =
            (new.pointer("/spec/volumeName"), frozen_old.as_object_mut())
    {
        spec.insert("volumeName".into(), name.clone());
    }
    let beta_class = "/metadata/annotations/volume.beta.kubernetes.io~1storage-class";
    if old
        .pointer("/spec/storageClassName")
        .is_none_or(Value::is_null)
        && old.pointer(beta_class).is_none()
        && let Some(spec) = frozen_new.as_object_mut()
    {
        // validateStorageClassUpgradeFromNil: a class may be set once on a claim without one.
        spec.remove("storageClassName");
    }
    if new.pointer("/status/phase") == Some(&json!("Bound")) {
        for frozen in [&mut frozen_new, &mut frozen_old] {
            if let Some(requests) = frozen
                .pointer_mut("/resources/requests")
                .and_then(Value::as_object_mut)
            {
                requests.remove("storage");
            }
        }
    }
    if frozen_new != frozen_old {
        causes.push(Cause::new(
            "FieldValueForbidden",
            "spec",
            "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
    let requested = "/spec/resources/requests/storage";
    if let (Some(new_size), Some(old_size)) = (storage(new, requested), storage(old, requested)) {
        let capacity = storage(old, "/status/capacity/storage")
            .unwrap_or_else(|| quantity::parse("0").expect("0 is a quantity"));
        if new_size < old_size && new_size <= capacity {
            causes.push(Cause::new(
                "FieldValueForbidden",
                "spec.resources.requests.storage",
                "Forbidden: field can not be less than status.capacity",
            ));
        }
    }
    causes
}

#[cfg(test)]
mod tests;
