//! Authentication and authorization, with kube-apiserver's semantics: bearer tokens (the
//! administrator's and ServiceAccount tokens from the TokenRequest API; no credentials is
//! `system:anonymous`, an unknown token 401), impersonation, RBAC on every request (403 with
//! kube-apiserver's `Forbidden` body), escalation prevention on RBAC writes, and the
//! SelfSubjectAccessReview / SelfSubjectRulesReview APIs.

mod attributes;
mod bootstrap;
pub mod escalation;
mod rbac;
pub mod reviews;
mod rules;
pub mod tokens;
mod user;

pub use attributes::Attributes;
pub use user::UserInfo;

use crate::error::ApiError;
use crate::sim::Sim;
use hyper::HeaderMap;
use serde_json::{Map, Value, json};

/// The user who sent a request, impersonation applied; 401 for an unknown or expired token,
/// 403 when the sender may not impersonate.
pub fn authenticate(
    sim: &Sim,
    headers: &HeaderMap,
    attributes: &Attributes,
) -> Result<UserInfo, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sender = match header("authorization").and_then(bearer_token) {
        None => UserInfo::anonymous(),
        Some(token) => sim.tokens.user(sim, token).ok_or_else(unauthorized)?,
    };
    let Some(target) = header("impersonate-user") else {
        return Ok(sender);
    };
    let groups = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect();
    impersonate(sim, sender, target, groups, attributes)
}

/// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive);
/// None for other schemes or an empty token, which leave the request anonymous.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The user `sender` acts as, when RBAC lets it impersonate `target` (`impersonate` on `users`,
/// or on the `serviceaccounts` object for a ServiceAccount user).
fn impersonate(
    sim: &Sim,
    sender: UserInfo,
    target: &str,
    groups: Vec<String>,
    request: &Attributes,
) -> Result<UserInfo, ApiError> {
    let account = target
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'));
    let check = match account {
        Some((namespace, name)) => Attributes {
            verb: "impersonate".into(),
            resource: "serviceaccounts".into(),
            name: name.into(),
            namespace: namespace.into(),
            resource_request: true,
            ..Attributes::default()
        },
        None => Attributes {
            verb: "impersonate".into(),
            resource: "users".into(),
            name: target.into(),
            resource_request: true,
            ..Attributes::default()
        },
    };
    if rbac::authorize(sim, &sender, &check).is_err() {
        let mode = if account.is_some() {
            "serviceaccount"
        } else {
            "user-info"
        };
        let refused = Attributes {
            verb: format!("impersonate-on:{mode}:{}", request.verb),
            ..request.clone()
        };
        sim.accounting
            .record_forbidden(&sender.name, &refused.verb, &refused.target());
        return Err(forbidden(&sender, &refused));
    }
    let mut user = match account {
        Some((namespace, name)) => UserInfo::service_account(namespace, name, ""),
        None => UserInfo {
            name: target.into(),
            uid: String::new(),
            groups: Vec::new(),
        },
    };
    if !groups.is_empty() || account.is_none() {
        user.groups = groups;
        user.groups.push("system:authenticated".into());
    }
    Ok(user)
}

/// RBAC's decision on one request: Ok, or the 403 kube-apiserver answers.
pub fn authorize(sim: &Sim, user: &UserInfo, request: &Attributes) -> Result<(), ApiError> {
    rbac::authorize(sim, user, request)
        .map(|_| ())
        .map_err(|()| forbidden(user, request))
}

/// kube-apiserver's `withAuthorization` when a patch (server-side apply) would create the object:
/// the user needs `create` too. The refusal names the object and carries the authorizers' reason,
/// which RBAC leaves empty (`configmaps "x" is forbidden: `).
pub fn authorize_create_on_patch(
    sim: &Sim,
    user: &UserInfo,
    create: &Attributes,
) -> Result<(), ApiError> {
    rbac::authorize(sim, user, create)
        .map(|_| ())
        .map_err(|()| forbidden_object(&create.group, &create.resource, &create.name, ""))
}

/// 401 `Unauthorized`.
fn unauthorized() -> ApiError {
    ApiError::status(401, Some("Unauthorized"), "Unauthorized", None)
}

/// kube-apiserver's refusal message (`forbiddenMessage`).
fn refusal(user: &UserInfo, request: &Attributes) -> String {
    let who = &user.name;
    if !request.resource_request {
        return format!(
            "User {who:?} cannot {} path {:?}",
            request.verb, request.path
        );
    }
    let what = format!(
        "User {who:?} cannot {} resource {:?} in API group {:?}",
        request.verb,
        request.combined_resource(),
        request.group
    );
    if request.namespace.is_empty() {
        format!("{what} at the cluster scope")
    } else {
        format!("{what} in the namespace {:?}", request.namespace)
    }
}

/// The 403 for a refused request.
pub fn forbidden(user: &UserInfo, request: &Attributes) -> ApiError {
    let message = refusal(user, request);
    if !request.resource_request {
        return ApiError::forbidden(&format!("forbidden: {message}"), Some(json!({})));
    }
    forbidden_object(&request.group, &request.resource, &request.name, &message)
}

/// 403 `Forbidden` for an object (`errors.NewForbidden`): `pods "x" is forbidden: <message>`.
pub fn forbidden_object(group: &str, resource: &str, name: &str, message: &str) -> ApiError {
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let mut details = Map::new();
    let subject = if name.is_empty() {
        qualified
    } else {
        details.insert("name".into(), json!(name));
        format!("{qualified} {name:?}")
    };
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    details.insert("kind".into(), json!(resource));
    ApiError::forbidden(
        &format!("{subject} is forbidden: {message}"),
        Some(Value::Object(details)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_empty_bearer_tokens_authenticate() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Basic dXNlcjpwdw=="), None);
    }

    #[test]
    fn refusals_name_the_resource_scope_and_path() {
        let user = UserInfo::service_account("ns", "sa", "u");
        let mut request = Attributes {
            verb: "get".into(),
            group: "apps".into(),
            resource: "deployments".into(),
            subresource: "scale".into(),
            name: "web".into(),
            namespace: "ns".into(),
            resource_request: true,
            path: String::new(),
        };
        let error = forbidden(&user, &request);
        assert_eq!(
            error.body["message"],
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ns:sa\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"ns\""
        );
        assert_eq!(
            error.body["details"],
            json!({"name": "web", "group": "apps", "kind": "deployments"})
        );
        request.namespace.clear();
        assert!(refusal(&user, &request).ends_with("at the cluster scope"));
        let path = Attributes {
            verb: "get".into(),
            path: "/metrics".into(),
            ..Attributes::default()
        };
        assert_eq!(
            forbidden(&user, &path).body["message"],
            "forbidden: User \"system:serviceaccount:ns:sa\" cannot get path \"/metrics\""
        );
    }
}
