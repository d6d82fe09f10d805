//! Discovery: `/version`, `/api`, `/apis`, `/apis/{group}`, per-group-version resource lists, and
//! aggregated discovery v2 (`Accept: ...;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`),
//! built from the registry so CRDs appear as soon as they are established.

use crate::resources::ResourceType;
use crate::sim::Registry;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The Kubernetes version the sim reports (the reference recordings' version).
pub fn version() -> Value {
    json!({"major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "35",
        "gitVersion": "v1.36.2-smbp-sim", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-11-21T00:00:00Z",
        "goVersion": "n/a (smbp-sim, Rust)", "compiler": "rustc", "platform": "linux/amd64"})
}

/// The `Accept` value that asks for aggregated discovery v2.
pub fn wants_aggregated(accept: &str) -> bool {
    let first = accept.split(',').next().unwrap_or_default();
    let parameters: Vec<&str> = first.split(';').map(str::trim).collect();
    ["g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"]
        .iter()
        .all(|wanted| parameters.contains(wanted))
}

/// Whether an Accept header names a representation discovery is served in (JSON, YAML,
/// protobuf or a wildcard); kube-apiserver answers 406 otherwise.
pub fn acceptable(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|clause| {
            let media = clause.split(';').next().unwrap_or_default().trim();
            matches!(
                media,
                "*/*"
                    | "application/*"
                    | "application/json"
                    | "application/yaml"
                    | "application/vnd.kubernetes.protobuf"
            )
        })
}

/// The 406 Status of a discovery request whose Accept names nothing discovery is served in.
pub fn not_acceptable() -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        "reason": "NotAcceptable",
        "code": 406
    })
}

/// The Content-Type of aggregated discovery answers.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Groups (non-core) with their versions, in first-registration order of versions.
fn groups(registry: &Registry) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rt in registry.all().iter().filter(|t| !t.group.is_empty()) {
        let versions = groups.entry(rt.group.clone()).or_default();
        if !versions.contains(&rt.version) {
            versions.push(rt.version.clone());
        }
    }
    groups
}

/// `/api`.
pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})
}

fn group_entry(name: &str, versions: &[String]) -> Value {
    let listed: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": listed, "preferredVersion": listed[0]})
}

/// `/apis`.
pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = groups(registry)
        .iter()
        .map(|(name, versions)| group_entry(name, versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let groups = groups(registry);
    let versions = groups.get(name)?;
    let mut entry = group_entry(name, versions);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    Some(entry)
}

fn subresources(rt: &ResourceType) -> Vec<(&'static str, String, Vec<&'static str>)> {
    let mut out = Vec::new();
    if rt.status_subresource {
        out.push(("status", rt.kind.clone(), vec!["get", "patch", "update"]));
    }
    if rt.scale.is_some() {
        out.push(("scale", "Scale".to_string(), vec!["get", "patch", "update"]));
    }
    if rt.group.is_empty() && rt.plural == "pods" {
        out.push(("eviction", "Eviction".to_string(), vec!["create"]));
        out.push(("log", "Pod".to_string(), vec!["get"]));
    }
    out
}

/// `/api/v1` or `/apis/{group}/{version}`: the APIResourceList.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = registry
        .all()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for rt in &types {
        let mut entry = json!({"name": rt.plural, "singularName": rt.singular,
            "namespaced": rt.namespaced, "kind": rt.kind, "verbs": rt.verbs()});
        if !rt.short_names.is_empty() {
            entry["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            entry["categories"] = json!(rt.categories);
        }
        resources.push(entry);
        for (sub, kind, verbs) in subresources(rt) {
            let mut entry = json!({"name": format!("{}/{sub}", rt.plural), "singularName": "",
                "namespaced": rt.namespaced, "kind": kind, "verbs": verbs});
            if sub == "scale" {
                entry["group"] = json!("autoscaling");
                entry["version"] = json!("v1");
            }
            resources.push(entry);
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut list =
        json!({"kind": "APIResourceList", "groupVersion": group_version, "resources": resources});
    if !group.is_empty() {
        list["apiVersion"] = json!("v1");
    }
    Some(list)
}

/// Aggregated discovery v2 for the core group (`core = true`) or every other group.
pub fn aggregated(registry: &Registry, core: bool) -> Value {
    let mut by_group: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for rt in registry.all().iter().filter(|t| t.group.is_empty() == core) {
        let mut entry = json!({"resource": rt.plural,
            "responseKind": {"group": "", "version": "", "kind": rt.kind},
            "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
            "singularResource": rt.singular, "verbs": rt.verbs()});
        if !rt.short_names.is_empty() {
            entry["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            entry["categories"] = json!(rt.categories);
        }
        let subs: Vec<Value> = subresources(rt)
            .into_iter()
            .map(|(sub, kind, verbs)| {
                let group = if sub == "scale" { "autoscaling" } else { "" };
                let version = if sub == "scale" { "v1" } else { "" };
                json!({"subresource": sub, "responseKind": {"group": group, "version": version, "kind": kind}, "verbs": verbs})
            })
            .collect();
        if !subs.is_empty() {
            entry["subresources"] = json!(subs);
        }
        by_group
            .entry(rt.group.clone())
            .or_default()
            .entry(rt.version.clone())
            .or_default()
            .push(entry);
    }
    let items: Vec<Value> = by_group
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .into_iter()
                .map(|(version, resources)| json!({"version": version, "resources": resources, "freshness": "Current"}))
                .collect();
            let metadata = if group.is_empty() { json!({}) } else { json!({"name": group}) };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_v1_lists_statefulsets_with_status_and_scale() {
        let registry = Registry::with_builtins();
        let list = resource_list(&registry, "apps", "v1").unwrap();
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"statefulsets/status"));
        assert!(names.contains(&"statefulsets/scale"));
        assert!(resource_list(&registry, "nonexistent.example.com", "v1").is_none());
    }

    #[test]
    fn aggregated_discovery_is_recognised_from_client_go_accept() {
        assert!(wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json"));
    }
}
