//! RBAC policy rules as kube-apiserver evaluates them: whether a rule allows a request
//! (`rbac.RuleAllows`, with `*`, `*/subresource` and resourceNames), whether one set of rules
//! covers another (`validation.Covers`, used by escalation prevention), and the compact form of
//! the missing rules in an escalation message (`CompactRules` + `CompactString`).

use super::attributes::Attributes;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// One `rbac.authorization.k8s.io/v1` PolicyRule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    /// Verbs (`*` for all).
    pub verbs: Vec<String>,
    /// API groups (`""` is core, `*` all).
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource`, `*` or `*/subresource`.
    pub resources: Vec<String>,
    /// Object names the rule is restricted to (empty: every name).
    pub resource_names: Vec<String>,
    /// Non-resource paths (a trailing `*` is a prefix).
    pub non_resource_urls: Vec<String>,
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

impl PolicyRule {
    /// A rule from its JSON form.
    pub fn from_json(rule: &Value) -> Self {
        PolicyRule {
            verbs: strings(rule, "verbs"),
            api_groups: strings(rule, "apiGroups"),
            resources: strings(rule, "resources"),
            resource_names: strings(rule, "resourceNames"),
            non_resource_urls: strings(rule, "nonResourceURLs"),
        }
    }

    /// Every rule of a Role or ClusterRole object (`rules`).
    pub fn all_of(role: &Value) -> Vec<Self> {
        role.get("rules")
            .and_then(Value::as_array)
            .map(|rules| rules.iter().map(Self::from_json).collect())
            .unwrap_or_default()
    }

    /// The rule in its JSON form, with the key order and omissions of kube-apiserver.
    pub fn to_json(&self) -> Value {
        let mut out = json!({"verbs": self.verbs});
        let mut put = |key: &str, items: &Vec<String>| {
            if !items.is_empty() {
                out[key] = json!(items);
            }
        };
        put("apiGroups", &self.api_groups);
        put("resources", &self.resources);
        put("resourceNames", &self.resource_names);
        put("nonResourceURLs", &self.non_resource_urls);
        out
    }

    /// Whether the rule allows the request (`rbac.RuleAllows`).
    pub fn allows(&self, request: &Attributes) -> bool {
        let verb = has(&self.verbs, "*") || has(&self.verbs, &request.verb);
        if !request.resource_request {
            return verb && self.url_matches(&request.path);
        }
        verb && (has(&self.api_groups, "*") || has(&self.api_groups, &request.group))
            && self.resource_matches(request)
            && (self.resource_names.is_empty() || has(&self.resource_names, &request.name))
    }

    fn resource_matches(&self, request: &Attributes) -> bool {
        let combined = request.combined_resource();
        self.resources.iter().any(|rule| {
            rule == "*"
                || *rule == combined
                || (!request.subresource.is_empty()
                    && rule.strip_prefix("*/") == Some(request.subresource.as_str()))
        })
    }

    fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|rule| {
            rule == "*"
                || rule == path
                || rule
                    .strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    /// Whether this (owner) rule covers every permission of `sub` (`ruleCovers`).
    fn covers(&self, sub: &PolicyRule) -> bool {
        let all = |owner: &[String], wanted: &[String]| {
            has(owner, "*") || wanted.iter().all(|w| has(owner, w))
        };
        let resources = has(&self.resources, "*")
            || sub.resources.iter().all(|r| {
                has(&self.resources, r)
                    || r.split_once('/')
                        .is_some_and(|(_, s)| has(&self.resources, &format!("*/{s}")))
            });
        let urls = sub.non_resource_urls.iter().all(|wanted| {
            self.non_resource_urls.iter().any(|owner| {
                owner == wanted
                    || owner
                        .strip_suffix('*')
                        .is_some_and(|prefix| wanted.starts_with(prefix))
            })
        });
        let names = self.resource_names.is_empty()
            || (!sub.resource_names.is_empty()
                && sub
                    .resource_names
                    .iter()
                    .all(|n| has(&self.resource_names, n)));
        all(&self.verbs, &sub.verbs)
            && all(&self.api_groups, &sub.api_groups)
            && resources
            && urls
            && names
    }

    /// The rule as atomic rules: one verb, group, resource and name each (`BreakdownRule`).
    fn breakdown(&self) -> Vec<PolicyRule> {
        let single = |s: &String| vec![s.clone()];
        let names: Vec<Vec<String>> = if self.resource_names.is_empty() {
            vec![Vec::new()]
        } else {
            self.resource_names.iter().map(single).collect()
        };
        let mut out = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                for verb in &self.verbs {
                    for name in &names {
                        out.push(PolicyRule {
                            verbs: single(verb),
                            api_groups: single(group),
                            resources: single(resource),
                            resource_names: name.clone(),
                            non_resource_urls: Vec::new(),
                        });
                    }
                }
            }
        }
        for url in &self.non_resource_urls {
            for verb in &self.verbs {
                out.push(PolicyRule {
                    verbs: single(verb),
                    non_resource_urls: single(url),
                    ..Default::default()
                });
            }
        }
        out
    }

    /// The rule as `CompactString` writes it: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let parts = [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ];
        let written: Vec<String> = parts
            .iter()
            .filter(|(_, items)| !items.is_empty())
            .map(|(label, items)| format!("{label}:{}", go_quoted_list(items)))
            .collect();
        format!("{{{}}}", written.join(", "))
    }
}

/// A string list as Go's `%q` prints a `[]string`: `["a" "b"]`.
pub fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| json!(s).to_string()).collect();
    format!("[{}]", quoted.join(" "))
}

/// The atomic permissions of `requested` that no rule of `owner` covers (`validation.Covers`).
pub fn uncovered(owner: &[PolicyRule], requested: &[PolicyRule]) -> Vec<PolicyRule> {
    requested
        .iter()
        .flat_map(PolicyRule::breakdown)
        .filter(|atomic| !owner.iter().any(|rule| rule.covers(atomic)))
        .collect()
}

/// Missing rules merged per (group, resource, name) and printed one per line in sorted order,
/// as the escalation message lists them (`CompactRules`, then a sorted set of `CompactString`s).
pub fn describe_missing(missing: &[PolicyRule]) -> String {
    let mut merged: Vec<PolicyRule> = Vec::new();
    for rule in missing {
        let simple = rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1
            && rule.resource_names.len() <= 1;
        let same = |m: &&mut PolicyRule| {
            m.api_groups == rule.api_groups
                && m.resources == rule.resources
                && m.resource_names == rule.resource_names
                && m.non_resource_urls.is_empty()
        };
        match merged.iter_mut().find(|m| simple && same(m)) {
            Some(existing) => existing.verbs.extend(rule.verbs.iter().cloned()),
            None => merged.push(rule.clone()),
        }
    }
    let lines: BTreeSet<String> = merged.iter().map(PolicyRule::compact_string).collect();
    lines.into_iter().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(value: Value) -> PolicyRule {
        PolicyRule::from_json(&value)
    }

    fn resource(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            namespace: "ns".into(),
            resource_request: true,
            path: String::new(),
        }
    }

    #[test]
    fn verbs_groups_and_resources_match_exactly_or_by_star() {
        let r =
            rule(json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}));
        assert!(r.allows(&resource("get", "apps", "deployments", "", "x")));
        assert!(!r.allows(&resource("list", "apps", "deployments", "", "")));
        assert!(!r.allows(&resource("get", "", "deployments", "", "x")));
        assert!(!r.allows(&resource("get", "apps", "deployments", "scale", "x")));
        let star = rule(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}));
        assert!(star.allows(&resource(
            "deletecollection",
            "x.io",
            "things",
            "status",
            ""
        )));
    }

    #[test]
    fn subresources_need_their_own_rule_or_a_star_prefix() {
        let scale = rule(
            json!({"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get"]}),
        );
        assert!(scale.allows(&resource("get", "apps", "deployments", "scale", "web")));
        assert!(!scale.allows(&resource("get", "apps", "deployments", "", "web")));
        let status =
            rule(json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]}));
        assert!(status.allows(&resource("patch", "apps", "deployments", "status", "web")));
        assert!(!status.allows(&resource("patch", "apps", "deployments", "", "web")));
    }

    #[test]
    fn resource_names_never_match_a_request_without_a_name() {
        let named = rule(json!({"apiGroups": [""], "resources": ["configmaps"],
            "resourceNames": ["a"], "verbs": ["*"]}));
        assert!(named.allows(&resource("get", "", "configmaps", "", "a")));
        assert!(!named.allows(&resource("get", "", "configmaps", "", "b")));
        for verb in ["list", "watch", "create", "deletecollection"] {
            assert!(
                !named.allows(&resource(verb, "", "configmaps", "", "")),
                "{verb}"
            );
        }
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_prefix() {
        let r = rule(json!({"nonResourceURLs": ["/healthz", "/apis/*"], "verbs": ["get"]}));
        let path = |verb: &str, p: &str| Attributes {
            verb: verb.into(),
            path: p.into(),
            ..Attributes::default()
        };
        assert!(r.allows(&path("get", "/healthz")));
        assert!(r.allows(&path("get", "/apis/apps/v1")));
        assert!(!r.allows(&path("get", "/apis")));
        assert!(!r.allows(&path("post", "/healthz")));
    }

    #[test]
    fn coverage_breaks_rules_down_and_compacts_the_missing_ones() {
        let owner = [rule(
            json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}),
        )];
        let wanted = [
            rule(
                json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "watch"]}),
            ),
            rule(
                json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"],
                "verbs": ["get", "update"]}),
            ),
        ];
        let missing = uncovered(&owner, &wanted);
        assert_eq!(missing.len(), 3);
        assert_eq!(
            describe_missing(&missing),
            "{APIGroups:[\"\"], Resources:[\"configmaps\"], ResourceNames:[\"a\"], Verbs:[\"get\" \"update\"]}\n\
             {APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"watch\"]}"
        );
        let star_sub = [rule(
            json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["*"]}),
        )];
        let status = [rule(
            json!({"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["get"]}),
        )];
        assert!(uncovered(&star_sub, &status).is_empty());
    }
}
