//! The RBAC authorizer: the rules a user holds (ClusterRoleBindings first, then the RoleBindings
//! of the request's namespace, as kube-apiserver's `VisitRulesFor` walks them), each with the
//! binding that grants it, and the decision for one request with kube-apiserver's `reason`.

use super::attributes::Attributes;
use super::bootstrap;
use super::rules::PolicyRule;
use super::user::{UserInfo, service_account_user};
use crate::controllers::util::selector_matches;
use crate::sim::Sim;
use serde_json::Value;
use std::sync::Arc;

const GROUP: &str = "rbac.authorization.k8s.io";

/// Rules granted to a user by one binding.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The binding, as the authorizer's reason names it
    /// (`RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"`).
    pub source: String,
    /// The rules of the role it binds.
    pub rules: Vec<PolicyRule>,
}

fn stored(sim: &Sim, plural: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
    sim.store().list(&format!("{GROUP}/{plural}"), namespace)
}

fn text<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Every ClusterRole, stored ones first, then the defaults not overridden.
fn cluster_roles(sim: &Sim) -> Vec<Value> {
    let mut roles: Vec<Value> = stored(sim, "clusterroles", None)
        .iter()
        .map(|r| (**r).clone())
        .collect();
    for name in bootstrap::CLUSTER_ROLES {
        if !roles.iter().any(|r| text(r, "/metadata/name") == name) {
            roles.extend(bootstrap::cluster_role(name));
        }
    }
    roles
}

/// The rules of a ClusterRole: its `rules`, or for an aggregated one the rules of every
/// ClusterRole its `aggregationRule` selects (what the aggregation controller writes).
fn cluster_role_rules(all: &[Value], role: &Value) -> Vec<PolicyRule> {
    let Some(selectors) = role
        .pointer("/aggregationRule/clusterRoleSelectors")
        .and_then(Value::as_array)
    else {
        return PolicyRule::all_of(role);
    };
    all.iter()
        .filter(|other| text(other, "/metadata/name") != text(role, "/metadata/name"))
        .filter(|other| {
            let labels = other.pointer("/metadata/labels");
            selectors.iter().any(|s| selector_matches(s, labels))
        })
        .flat_map(PolicyRule::all_of)
        .collect()
}

/// The rules a `roleRef` names (a Role in `namespace`, or a ClusterRole); None when it is missing.
pub fn role_ref_rules(sim: &Sim, role_ref: &Value, namespace: &str) -> Option<Vec<PolicyRule>> {
    let name = text(role_ref, "/name");
    if text(role_ref, "/kind") == "Role" {
        let key = (namespace.to_string(), name.to_string());
        let role = sim.store().get(&format!("{GROUP}/roles"), &key)?;
        return Some(PolicyRule::all_of(&role));
    }
    let all = cluster_roles(sim);
    let role = all.iter().find(|r| text(r, "/metadata/name") == name)?;
    Some(cluster_role_rules(&all, role))
}

/// The first subject of a binding that is this user, described as the reason names it.
fn matching_subject(binding: &Value, user: &UserInfo, namespace: &str) -> Option<String> {
    let subjects = binding.get("subjects")?.as_array()?;
    subjects.iter().find_map(|subject| {
        let name = text(subject, "/name");
        match text(subject, "/kind") {
            "User" => (user.name == name).then(|| format!("User {name:?}")),
            "Group" => user
                .groups
                .iter()
                .any(|g| g == name)
                .then(|| format!("Group {name:?}")),
            "ServiceAccount" => {
                let ns = Some(text(subject, "/namespace"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or(namespace);
                (!ns.is_empty() && user.name == service_account_user(ns, name))
                    .then(|| format!("ServiceAccount {:?}", format!("{name}/{ns}")))
            }
            _ => None,
        }
    })
}

/// The grants of every binding that names the user: cluster-wide ones, then (when `namespace` is
/// not empty) those of the namespace's RoleBindings. Bindings to missing roles grant nothing.
pub fn grants(sim: &Sim, user: &UserInfo, namespace: &str) -> Vec<Grant> {
    let mut cluster_bindings = bootstrap::cluster_role_bindings();
    for binding in stored(sim, "clusterrolebindings", None) {
        let name = text(&binding, "/metadata/name");
        cluster_bindings.retain(|b| text(b, "/metadata/name") != name);
        cluster_bindings.push((*binding).clone());
    }
    let mut out = Vec::new();
    for binding in &cluster_bindings {
        let Some(subject) = matching_subject(binding, user, "") else {
            continue;
        };
        let role = text(binding, "/roleRef/name");
        let source = format!(
            "ClusterRoleBinding {:?} of ClusterRole {role:?} to {subject}",
            text(binding, "/metadata/name")
        );
        let rules = role_ref_rules(sim, &binding["roleRef"], "").unwrap_or_default();
        out.push(Grant { source, rules });
    }
    if namespace.is_empty() {
        return out;
    }
    for binding in stored(sim, "rolebindings", Some(namespace)) {
        let Some(subject) = matching_subject(&binding, user, namespace) else {
            continue;
        };
        let source = format!(
            "RoleBinding {:?} of {} {:?} to {subject}",
            format!("{}/{namespace}", text(&binding, "/metadata/name")),
            text(&binding, "/roleRef/kind"),
            text(&binding, "/roleRef/name"),
        );
        let rules = role_ref_rules(sim, &binding["roleRef"], namespace).unwrap_or_default();
        out.push(Grant { source, rules });
    }
    out
}

/// Whether the user may do what `request` asks; `Ok(reason)` when allowed, naming the grant.
/// Members of `system:masters` are always allowed (with an empty reason, as upstream).
pub fn authorize(sim: &Sim, user: &UserInfo, request: &Attributes) -> Result<String, ()> {
    if user.is_privileged() {
        return Ok(String::new());
    }
    grants(sim, user, &request.namespace)
        .into_iter()
        .find(|grant| grant.rules.iter().any(|rule| rule.allows(request)))
        .map(|grant| format!("RBAC: allowed by {}", grant.source))
        .ok_or(())
}

/// Every rule the user holds in `namespace` (cluster-wide ones included).
pub fn rules_for(sim: &Sim, user: &UserInfo, namespace: &str) -> Vec<PolicyRule> {
    grants(sim, user, namespace)
        .into_iter()
        .flat_map(|g| g.rules)
        .collect()
}
