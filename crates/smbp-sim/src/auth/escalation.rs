//! RBAC escalation prevention, as kube-apiserver's RBAC storage enforces it: a user may write a
//! Role or ClusterRole only with rules it holds itself (or with the `escalate` verb on it), and
//! bind a role only when it holds every rule of that role (or has the `bind` verb on it; a
//! binding to a missing role is that role's 404), and only a user holding everything may set a
//! ClusterRole's `aggregationRule`.
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

/// The write being checked: who, where, and the object as it would be stored.
struct Write<'a> {
    sim: &'a Sim,
    user: &'a UserInfo,
    namespace: String,
    plural: &'a str,
    name: String,
    object: Value,
}

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
    let name = meta_str(&object, "name")
        .or(req.name.as_deref())
        .unwrap_or_default()
        .to_string();
    let write = Write {
        sim,
        user: &req.user,
        namespace: req.object_key().0,
        plural: req.rt.plural.as_str(),
        name,
        object,
    };
    match write.plural {
        "roles" | "clusterroles" => write.check_role(),
        _ => write.check_binding(),
    }
}

impl Write<'_> {
    /// Whether RBAC lets the user `verb` the role `plural/name` in the write's namespace.
    fn may(&self, verb: &str, plural: &str, name: &str) -> bool {
        let permission = Attributes {
            verb: verb.into(),
            group: GROUP.into(),
            resource: plural.into(),
            name: name.into(),
            namespace: self.namespace.clone(),
            resource_request: true,
            ..Attributes::default()
        };
        rbac::authorize(self.sim, self.user, &permission).is_ok()
    }

    /// A role's rules must be held, unless the user may `escalate`; an aggregation rule (on the
    /// new or the stored object) needs full authority.
    fn check_role(&self) -> Result<(), ApiError> {
        if self.may("escalate", self.plural, &self.name) {
            return Ok(());
        }
        self.confirm_held(&PolicyRule::all_of(&self.object))?;
        let key = (self.namespace.clone(), self.name.clone());
        let stored = self
            .sim
            .store()
            .get(&format!("{GROUP}/{}", self.plural), &key);
        let aggregates = |role: &Value| role.get("aggregationRule").is_some_and(|a| !a.is_null());
        if !aggregates(&self.object) && !stored.is_some_and(|old| aggregates(&old)) {
            return Ok(());
        }
        self.confirm_held(&full_authority()).map_err(|_| {
            let message = "must have cluster-admin privileges to use the aggregationRule";
            forbidden_object(GROUP, self.plural, &self.name, message)
        })
    }

    /// A binding needs the `bind` verb on its role, or every rule of that role held; a binding
    /// to a missing role is that role's 404, as the rule resolver's lookup answers it.
    fn check_binding(&self) -> Result<(), ApiError> {
        let role_ref = self.object.get("roleRef").cloned().unwrap_or(Value::Null);
        let role_plural = if role_ref["kind"] == "Role" {
            "roles"
        } else {
            "clusterroles"
        };
        let role_name = role_ref["name"].as_str().unwrap_or_default();
        if self.may("bind", role_plural, role_name) {
            return Ok(());
        }
        let rules =
            rbac::role_ref_rules(self.sim, &role_ref, &self.namespace).ok_or_else(|| {
                let role_type = self.sim.registry().lookup(GROUP, "v1", role_plural);
                role_type.map_or_else(ApiError::page_not_found, |rt| {
                    ApiError::not_found(&rt, role_name)
                })
            })?;
        self.confirm_held(&rules)
    }

    /// 403 unless the user holds every rule of `rules` (`ConfirmNoEscalation`).
    fn confirm_held(&self, rules: &[PolicyRule]) -> Result<(), ApiError> {
        let held = rbac::rules_for(self.sim, self.user, &self.namespace);
        let missing = uncovered(&held, rules);
        if missing.is_empty() {
            return Ok(());
        }
        let message = not_held(self.user, &missing);
        Err(forbidden_object(GROUP, self.plural, &self.name, &message))
    }
}

/// Everything: `*` on `*.*` and on every non-resource URL.
fn full_authority() -> Vec<PolicyRule> {
    let all = || vec!["*".to_string()];
    vec![
        PolicyRule {
            verbs: all(),
            api_groups: all(),
            resources: all(),
            ..PolicyRule::default()
        },
        PolicyRule {
            verbs: all(),
            non_resource_urls: all(),
            ..PolicyRule::default()
        },
    ]
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
