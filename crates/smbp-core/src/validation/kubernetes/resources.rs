//! Container resource requirements (`ValidateContainerResourceRequirements`,
//! `validateContainerResourceName` and `ValidateResourceQuantityValue` of
//! `pkg/apis/core/validation`): every amount a quantity, none negative, extended resources whole
//! and requested exactly as limited, hugepages only beside cpu or memory, and requests at most
//! the limits — compared exactly ([`crate::quantity`]), so `1Gi` ≤ `1024Mi`.

use super::names::qualified_name;
use super::{forbidden, invalid, required};
use crate::quantity::Quantity;
use crate::validation::Report;
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Amount;
use std::collections::BTreeMap;

/// `isNegativeErrorMsg`.
const IS_NEGATIVE: &str = "must be greater than or equal to 0";

/// The whole check of one container's `resources`, reported under `path`.
pub fn requirements(report: &mut Report, resources: &ResourceRequirements, path: &str) {
    let empty = BTreeMap::new();
    let limits = resources.limits.as_ref().unwrap_or(&empty);
    let requests = resources.requests.as_ref().unwrap_or(&empty);
    let parsed_limits = amounts(report, limits, &format!("{path}.limits"));
    let parsed_requests = amounts(report, requests, &format!("{path}.requests"));
    for (name, request) in &parsed_requests {
        let field = format!("{path}.requests.{name}");
        match parsed_limits.get(name) {
            Some(limit) if request != limit && !overcommit_allowed(name) => report.error(
                field,
                invalid(
                    &request.to_string(),
                    &format!("must be equal to {name} limit of {limit}"),
                ),
            ),
            Some(limit) if request > limit => report.error(
                field,
                invalid(
                    &request.to_string(),
                    &format!("must be less than or equal to {name} limit of {limit}"),
                ),
            ),
            None if !overcommit_allowed(name) && !limits.contains_key(name) => report.error(
                format!("{path}.limits"),
                required("Limit must be set for non overcommitable resources"),
            ),
            _ => {}
        }
    }
    let names = || limits.keys().chain(requests.keys());
    if names().any(|n| n.starts_with(HUGEPAGES)) && !names().any(|n| n == "cpu" || n == "memory") {
        report.error(path, forbidden("HugePages require cpu or memory"));
    }
}

const HUGEPAGES: &str = "hugepages-";

/// Checks each name and amount of one map; returns the amounts that parse.
fn amounts(
    report: &mut Report,
    map: &BTreeMap<String, Amount>,
    path: &str,
) -> BTreeMap<String, Quantity> {
    let mut parsed = BTreeMap::new();
    for (name, amount) in map {
        let field = format!("{path}.{name}");
        for msg in container_resource_name(name) {
            report.error(&field, invalid(name, &msg));
        }
        match amount.0.parse::<Quantity>() {
            Err(e) => report.error(&field, invalid(&amount.0, &e.to_string())),
            Ok(q) => {
                if q.is_negative() {
                    report.error(&field, invalid(&q.to_string(), IS_NEGATIVE));
                } else if integer_resource(name) && !q.is_integer() {
                    report.error(&field, invalid(&q.to_string(), "must be an integer"));
                }
                parsed.insert(name.clone(), q);
            }
        }
    }
    parsed
}

/// `validateContainerResourceName` (with `validateResourceName`): the messages for `name`.
fn container_resource_name(name: &str) -> Vec<String> {
    let qualified = qualified_name(name);
    if !qualified.is_empty() {
        return qualified;
    }
    let mut errs = Vec::new();
    if !name.contains('/') {
        if !standard_resource(name) {
            errs.push("must be a standard resource type or fully qualified".to_string());
        }
        if !standard_container_resource(name) {
            errs.push("must be a standard resource for containers".to_string());
        }
    } else if !native(name) && !extended(name) {
        errs.push("doesn't follow extended resource name standard".to_string());
    }
    errs
}

/// `IsStandardContainerResourceName`.
fn standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with(HUGEPAGES)
}

/// `IsStandardResourceName`: container resources, quota-only names and `requests.*`/`limits.*`.
fn standard_resource(name: &str) -> bool {
    const QUOTA: [&str; 14] = [
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "services.nodeports",
        "services.loadbalancers",
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    ];
    standard_container_resource(name)
        || QUOTA.contains(&name)
        || ["requests.", "limits."].iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(standard_container_resource)
        })
}

/// `IsNativeResource`: unprefixed, or in the `kubernetes.io` domain.
fn native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `IsExtendedResourceName`.
fn extended(name: &str) -> bool {
    !native(name)
        && !name.starts_with("requests.")
        && qualified_name(&format!("requests.{name}")).is_empty()
}

/// `IsIntegerResourceName` as far as containers go: extended resources.
fn integer_resource(name: &str) -> bool {
    extended(name)
}

/// `IsOvercommitAllowed`: native resources other than hugepages.
fn overcommit_allowed(name: &str) -> bool {
    native(name) && !name.starts_with(HUGEPAGES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Vec<String> {
        let resources: ResourceRequirements = serde_yaml::from_str(yaml).unwrap();
        let mut report = Report::default();
        requirements(&mut report, &resources, "spec.store.resources");
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn validate_resource_requirements_compares_requests_with_limits_exactly() {
        assert_eq!(
            check("{requests: {memory: 1Gi}, limits: {memory: 1024Mi}}"),
            Vec::<String>::new()
        );
        assert_eq!(
            check("{requests: {cpu: 1000m}, limits: {cpu: '1'}}"),
            Vec::<String>::new()
        );
        assert_eq!(
            check("{requests: {cpu: '2'}, limits: {cpu: 1500m}}"),
            [
                "spec.store.resources.requests.cpu: Invalid value: \"2\": must be less than or equal to cpu limit of 1500m"
            ]
        );
    }

    #[test]
    fn validate_resource_quantity_value_refuses_negative_and_malformed_amounts() {
        assert_eq!(
            check("{limits: {memory: -1Gi}}"),
            [
                "spec.store.resources.limits.memory: Invalid value: \"-1Gi\": must be greater than or equal to 0"
            ]
        );
        assert_eq!(
            check("{requests: {cpu: 1 core}}"),
            [
                "spec.store.resources.requests.cpu: Invalid value: \"1 core\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            ]
        );
    }

    #[test]
    fn validate_container_resource_name_refuses_unknown_resources() {
        assert_eq!(
            check("{limits: {gpu: '1'}}"),
            [
                "spec.store.resources.limits.gpu: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
                "spec.store.resources.limits.gpu: Invalid value: \"gpu\": must be a standard resource for containers",
            ]
        );
        assert_eq!(
            check("{limits: {example.com/gpu: '1'}, requests: {example.com/gpu: '1'}}"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn extended_resources_are_whole_and_requested_as_limited() {
        assert_eq!(
            check("{limits: {example.com/gpu: 500m}, requests: {example.com/gpu: 500m}}").len(),
            2,
            "limit and request must be integers"
        );
        assert_eq!(
            check("{requests: {example.com/gpu: '1'}}"),
            [
                "spec.store.resources.limits: Required value: Limit must be set for non overcommitable resources"
            ]
        );
        assert_eq!(
            check("{requests: {example.com/gpu: '1'}, limits: {example.com/gpu: '2'}}"),
            [
                "spec.store.resources.requests.example.com/gpu: Invalid value: \"1\": must be equal to example.com/gpu limit of 2"
            ]
        );
    }

    #[test]
    fn hugepages_require_cpu_or_memory() {
        assert_eq!(
            check("{limits: {hugepages-2Mi: 2Mi}, requests: {hugepages-2Mi: 2Mi}}"),
            ["spec.store.resources: Forbidden: HugePages require cpu or memory"]
        );
    }
}
