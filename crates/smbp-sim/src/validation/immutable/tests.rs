//! The update rules against hand-made old/new pairs.

use super::*;
use crate::resources::builtins;

fn rt(plural: &str) -> ResourceType {
    builtins().into_iter().find(|r| r.plural == plural).unwrap()
}

fn shown(plural: &str, new: &Value, old: &Value) -> Vec<String> {
    validate(&rt(plural), new, old)
        .iter()
        .map(Cause::display)
        .collect()
}

#[test]
fn statefulset_updates_outside_the_mutable_fields_are_forbidden() {
    let sts = |replicas: i32, storage: &str| {
        json!({"metadata": {"name": "web"}, "spec": {
            "replicas": replicas, "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"resources": {"requests": {"storage": storage}}}}]}})
    };
    let old = sts(3, "1Gi");
    assert!(shown("statefulsets", &sts(5, "1Gi"), &old).is_empty());
    let causes = validate(&rt("statefulsets"), &sts(3, "2Gi"), &old);
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldValueForbidden");
    assert!(
        causes[0]
            .message
            .contains("'persistentVolumeClaimRetentionPolicy'")
    );
}

fn job(image: &str, completions: i64, suspend: bool) -> Value {
    json!({"spec": {"completions": completions, "parallelism": 1, "suspend": suspend,
        "completionMode": "NonIndexed",
        "selector": {"matchLabels": {"job": "j"}},
        "template": {"metadata": {"labels": {"job": "j"}},
            "spec": {"containers": [{"name": "c", "image": image}]}}}})
}

#[test]
fn job_template_and_completions_are_immutable() {
    let old = job("a", 1, false);
    assert!(shown("jobs", &job("a", 1, true), &old).is_empty());
    assert_eq!(
        shown("jobs", &job("b", 2, false), &old),
        [
            "spec.template: Invalid value: {\"metadata\":{\"labels\":{\"job\":\"j\"}},\"spec\":{\"containers\":[{\"image\":\"b\",\"name\":\"c\"}]}}: field is immutable",
            "spec.completions: Invalid value: 2: field is immutable",
        ]
    );
    let mut indexed = job("a", 1, false);
    indexed["spec"]["completionMode"] = json!("Indexed");
    let mut grown = indexed.clone();
    grown["spec"]["completions"] = json!(3);
    grown["spec"]["parallelism"] = json!(3);
    assert!(shown("jobs", &grown, &indexed).is_empty());
}

#[test]
fn suspended_jobs_may_change_scheduling_directives() {
    let old = job("a", 1, true);
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "a"});
    assert!(shown("jobs", &new, &old).is_empty());
    let mut started = old.clone();
    started["status"] = json!({"startTime": "2026-01-01T00:00:00Z"});
    assert_eq!(shown("jobs", &new, &started).len(), 1);
}

#[test]
fn service_cluster_ips_may_not_change_once_set() {
    let svc = |ip: Option<&str>, kind: &str| match ip {
        Some(ip) => json!({"spec": {"type": kind, "clusterIP": ip}}),
        None => json!({"spec": {"type": kind}}),
    };
    let old = svc(Some("None"), "ClusterIP");
    assert!(shown("services", &svc(Some("None"), "NodePort"), &old).is_empty());
    assert_eq!(
        shown("services", &svc(Some("10.96.0.7"), "ClusterIP"), &old),
        ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.7\"}: may not change once set"]
    );
    assert!(shown("services", &svc(Some("x"), "ExternalName"), &old).is_empty());
    let mut omitted = svc(None, "ClusterIP");
    keep_cluster_ips(&mut omitted, Some(&old));
    assert_eq!(omitted["spec"]["clusterIPs"], json!(["None"]));
    assert!(shown("services", &omitted, &old).is_empty());
}

fn claim(storage: &str, phase: &str, capacity: &str) -> Value {
    json!({"spec": {"accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": storage}}},
        "status": {"phase": phase, "capacity": {"storage": capacity}}})
}

#[test]
fn claims_grow_only_when_bound_and_never_below_capacity() {
    let bound = claim("10Gi", "Bound", "10Gi");
    assert!(
        shown(
            "persistentvolumeclaims",
            &claim("20Gi", "Bound", "10Gi"),
            &bound
        )
        .is_empty()
    );
    assert_eq!(
        shown(
            "persistentvolumeclaims",
            &claim("5Gi", "Bound", "10Gi"),
            &bound
        ),
        ["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"]
    );
    let pending = claim("10Gi", "Pending", "0");
    assert_eq!(
        shown(
            "persistentvolumeclaims",
            &claim("20Gi", "Pending", "0"),
            &pending
        ),
        [
            "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
        ]
    );
    let mut named = bound.clone();
    named["spec"]["volumeName"] = json!("pv-1");
    named["spec"]["storageClassName"] = json!("standard");
    assert!(shown("persistentvolumeclaims", &named, &bound).is_empty());
    let mut reclassed = named.clone();
    reclassed["spec"]["storageClassName"] = json!("fast");
    assert_eq!(shown("persistentvolumeclaims", &reclassed, &named).len(), 1);
}

#[test]
fn selectors_are_immutable_and_shown_as_go_prints_them() {
    let deployment = |labels: Value| json!({"spec": {"selector": {"matchLabels": labels}}});
    let old = deployment(json!({"app": "web"}));
    assert!(shown("deployments", &deployment(json!({"app": "web"})), &old).is_empty());
    assert_eq!(
        shown(
            "deployments",
            &deployment(json!({"b": "2", "a": "1"})),
            &old
        ),
        [
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"1\", \"b\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        ]
    );
    let expressions = json!({"spec": {"selector": {"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["web"]}]}}});
    assert_eq!(
        shown("jobs", &expressions, &old)[0],
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", Operator:\"In\", Values:[]string{\"web\"}}}}: field is immutable"
    );
}
