//! RBAC escalation prevention, as kube-apiserver's RBAC storage enforces it: a user may write a
//! Role or ClusterRole only with rules it holds itself (or with the `escalate` verb on it), and
//! bind a role only when it holds every rule of that role (or has the `bind` verb on it; a
//! binding to a missing role is that role's 404).
//! `system:masters` is exempt.

use super::attributes::Attributes;
use super::rbac;
use super::rules::{PolicyRule, describe_missing, go_quoted_list, uncovered};
use super::{UserInfo, forbidden_object};
use crate::error::ApiError;
use crate::request::{ApiRequest, meta_str};
use crate::sim::Sim;
use serde_json::Value;
use std::sync::Arc;

const GROUP: &str = "rbac.authorization.k8s.io";

/// Refuses a create, update or patch of an RBAC object that would grant more than the user
/// holds. A patch is checked on its result (computed as a dry run first).
pub async fn check(sim: &Arc<Sim>, req: &ApiRequest, verb: &str) -> Result<(), ApiError> {
    let applies = req.rt.group == GROUP
        && req.subresource.is_none()
        && matches!(verb, "create" | "update" | "patch")
        && !req.user.is_privileged();
    if !applies {
        return Ok(());
    }
    let object = if verb == "patch" {
        patched(sim, req).await?
    } else {
        req.json_body()?
    };
    let namespace = if req.rt.namespaced {
        req.namespace.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let name = meta_str(&object, "name")
        .or(req.name.as_deref())
        .unwrap_or_default();
    let permission = |verb: &str, plural: &str, object_name: &str| Attributes {
        verb: verb.into(),
        group: GROUP.into(),
        resource: plural.into(),
        name: object_name.into(),
        namespace: namespace.clone(),
        resource_request: true,
        ..Attributes::default()
    };
    let plural = req.rt.plural.as_str();
    let granted = if matches!(plural, "roles" | "clusterroles") {
        if rbac::authorize(sim, &req.user, &permission("escalate", plural, name)).is_ok() {
            return Ok(());
        }
        PolicyRule::all_of(&object)
    } else {
        let role_ref = object.get("roleRef").cloned().unwrap_or(Value::Null);
        let role_plural = if role_ref["kind"] == "Role" {
            "roles"
        } else {
            "clusterroles"
        };
        let role_name = role_ref["name"].as_str().unwrap_or_default();
        if rbac::authorize(sim, &req.user, &permission("bind", role_plural, role_name)).is_ok() {
            return Ok(());
        }
        // A missing role is the role's own 404, as the rule resolver's lookup answers it.
        rbac::role_ref_rules(sim, &role_ref, &namespace).ok_or_else(|| {
            let role_type = sim.registry().lookup(GROUP, "v1", role_plural);
            role_type.map_or_else(ApiError::page_not_found, |rt| {
                ApiError::not_found(&rt, role_name)
            })
        })?
    };
    let held = rbac::rules_for(sim, &req.user, &namespace);
    let missing = uncovered(&held, &granted);
    if missing.is_empty() {
        return Ok(());
    }
    Err(forbidden_object(
        GROUP,
        plural,
        name,
        &not_held(&req.user, &missing),
    ))
}

/// `user "u" (groups=["a" "b"]) is attempting to grant RBAC permissions not currently held:\n...`
fn not_held(user: &UserInfo, missing: &[PolicyRule]) -> String {
    format!(
        "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        go_quoted_list(&user.groups),
        describe_missing(missing)
    )
}

/// The object a patch would produce, from a dry run of it.
async fn patched(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Value, ApiError> {
    let mut dry = req.clone();
    dry.query.insert("dryRun".into(), "All".into());
    crate::write::patch(sim, &dry).await.map(|reply| reply.body)
}
