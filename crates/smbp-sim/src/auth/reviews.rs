//! The review APIs: SelfSubjectAccessReview (may I do this? with the granting binding as
//! `reason`), SubjectAccessReview (may this user or these groups do this? — what `kubectl auth
//! can-i --as` and tools checking another identity's rights ask; the caller needs `create` on
//! it), SelfSubjectRulesReview (every rule I hold in a namespace) and SelfSubjectReview (who am
//! I, `kubectl auth whoami`). They are create-only and never stored.

use super::attributes::Attributes;
use super::rbac;
use super::user::UserInfo;
use crate::error::ApiError;
use crate::sim::Sim;
use serde_json::{Map, Value, json};

/// Answers a `POST` to a review resource; None when the path names none.
pub fn serve(
    sim: &Sim,
    user: &UserInfo,
    path: &[&str],
    body: &[u8],
    manager: &str,
) -> Option<Result<Value, ApiError>> {
    let review = match path {
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => access_review,
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectrulesreviews",
        ] => rules_review,
        ["apis", "authorization.k8s.io", "v1", "subjectaccessreviews"] => subject_access_review,
        ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"] => who_am_i,
        _ => return None,
    };
    Some(parse(body).and_then(|request| review(sim, user, &request, manager)))
}

fn parse(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(&format!("couldn't get version/kind; json parse error: {e}"))
    })
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The request a SelfSubjectAccessReview asks about.
fn asked(spec: &Value) -> Attributes {
    if let Some(resource) = spec.get("resourceAttributes") {
        return Attributes {
            verb: text(resource, "verb"),
            group: text(resource, "group"),
            resource: text(resource, "resource"),
            subresource: text(resource, "subresource"),
            name: text(resource, "name"),
            namespace: text(resource, "namespace"),
            resource_request: true,
            path: String::new(),
        };
    }
    let path = spec.get("nonResourceAttributes").unwrap_or(&Value::Null);
    Attributes {
        verb: text(path, "verb"),
        path: text(path, "path"),
        ..Attributes::default()
    }
}

fn access_review(
    sim: &Sim,
    user: &UserInfo,
    request: &Value,
    manager: &str,
) -> Result<Value, ApiError> {
    let spec = request.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = match rbac::authorize(sim, user, &asked(&spec)) {
        Ok(reason) if reason.is_empty() => json!({"allowed": true}),
        Ok(reason) => json!({"allowed": true, "reason": reason}),
        Err(()) => json!({"allowed": false}),
    };
    let managed = json!([{
        "manager": manager, "operation": "Update", "apiVersion": "authorization.k8s.io/v1",
        "time": sim.clock.now_rfc3339(), "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": field_set(&spec)},
    }]);
    Ok(json!({
        "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"managedFields": managed}, "spec": spec, "status": status,
    }))
}

/// A SubjectAccessReview: the question asked for `spec.user` with exactly `spec.groups` (no
/// group is added, as kube-apiserver adds none).
fn subject_access_review(
    sim: &Sim,
    _caller: &UserInfo,
    request: &Value,
    manager: &str,
) -> Result<Value, ApiError> {
    let spec = request.get("spec").cloned().unwrap_or_else(|| json!({}));
    let groups: Vec<String> = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let subject = UserInfo {
        name: text(&spec, "user"),
        uid: text(&spec, "uid"),
        groups,
    };
    if subject.name.is_empty() && subject.groups.is_empty() {
        return Err(ApiError::invalid_named(
            "SubjectAccessReview.authorization.k8s.io",
            "authorization.k8s.io",
            "SubjectAccessReview",
            "",
            &[crate::error::Cause::new(
                "FieldValueInvalid",
                "spec.user",
                "Invalid value: \"\": at least one of user or group must be specified",
            )],
        ));
    }
    let mut review = access_review(sim, &subject, request, manager)?;
    review["kind"] = json!("SubjectAccessReview");
    Ok(review)
}

/// The `fieldsV1` of a struct's fields: `f:` per field, `.` for each optional nested struct.
fn field_set(value: &Value) -> Value {
    let fields: Map<String, Value> = value
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, child)| {
                    let mut set = field_set(child);
                    if child.is_object() {
                        set["."] = json!({});
                    }
                    (format!("f:{key}"), set)
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Object(fields)
}

fn rules_review(
    sim: &Sim,
    user: &UserInfo,
    request: &Value,
    _manager: &str,
) -> Result<Value, ApiError> {
    let namespace = request
        .pointer("/spec/namespace")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("no namespace on request"))?;
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for rule in rbac::rules_for(sim, user, namespace) {
        if !rule.resources.is_empty() {
            let mut out = rule.to_json();
            out.as_object_mut().map(|o| o.remove("nonResourceURLs"));
            resource_rules.push(out);
        }
        if !rule.non_resource_urls.is_empty() {
            non_resource_rules
                .push(json!({"verbs": rule.verbs, "nonResourceURLs": rule.non_resource_urls}));
        }
    }
    Ok(json!({
        "kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {}, "spec": {},
        "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
            "incomplete": false},
    }))
}

fn who_am_i(
    _sim: &Sim,
    user: &UserInfo,
    _request: &Value,
    _manager: &str,
) -> Result<Value, ApiError> {
    Ok(json!({
        "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null}, "status": {"userInfo": user.to_json()},
    }))
}
