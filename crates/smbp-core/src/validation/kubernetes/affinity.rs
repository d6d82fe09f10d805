//! Affinity (`validateAffinity` of `pkg/apis/core/validation`: node selector terms and
//! requirements, weights, pod (anti-)affinity terms) and label selectors
//! (`ValidateLabelSelector` of apimachinery's metav1 validation).

use super::names::{dns1123_label, label_value};
use super::scheduling::label_name;
use super::{forbidden, invalid, invalid_number, required, unsupported};
use crate::validation::Report;
use k8s_openapi::api::core::v1::{
    Affinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodAffinityTerm,
    WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

const WEIGHT_RANGE: &str = "must be in the range 1-100";
const VALUES_NEEDED: &str = "must be specified when `operator` is 'In' or 'NotIn'";
const VALUES_FORBIDDEN: &str = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'";

/// `validateAffinity`.
pub fn affinity(report: &mut Report, affinity: &Affinity, path: &str) {
    if let Some(node) = &affinity.node_affinity {
        let path = format!("{path}.nodeAffinity");
        if let Some(required) = &node.required_during_scheduling_ignored_during_execution {
            node_selector(
                report,
                required,
                &format!("{path}.requiredDuringSchedulingIgnoredDuringExecution"),
            );
        }
        let preferred = node
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten();
        for (i, term) in preferred.enumerate() {
            let at = format!("{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            weight(report, term.weight, &format!("{at}.weight"));
            node_selector_term(report, &term.preference, &format!("{at}.preference"));
        }
    }
    let pod_terms = [
        (
            "podAffinity",
            affinity.pod_affinity.as_ref().map(|a| {
                (
                    &a.required_during_scheduling_ignored_during_execution,
                    &a.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
        (
            "podAntiAffinity",
            affinity.pod_anti_affinity.as_ref().map(|a| {
                (
                    &a.required_during_scheduling_ignored_during_execution,
                    &a.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
    ];
    for (name, terms) in pod_terms {
        if let Some((required, preferred)) = terms {
            pod_affinity(
                report,
                required.as_deref(),
                preferred.as_deref(),
                &format!("{path}.{name}"),
            );
        }
    }
}

/// `validatePodAffinity` / `validatePodAntiAffinity`.
fn pod_affinity(
    report: &mut Report,
    required: Option<&[PodAffinityTerm]>,
    preferred: Option<&[WeightedPodAffinityTerm]>,
    path: &str,
) {
    for (i, term) in required.unwrap_or_default().iter().enumerate() {
        pod_affinity_term(
            report,
            term,
            &format!("{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
        );
    }
    for (i, term) in preferred.unwrap_or_default().iter().enumerate() {
        let at = format!("{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        weight(report, term.weight, &format!("{at}.weight"));
        pod_affinity_term(
            report,
            &term.pod_affinity_term,
            &format!("{at}.podAffinityTerm"),
        );
    }
}

fn weight(report: &mut Report, weight: i32, field: &str) {
    if !(1..=100).contains(&weight) {
        report.error(field, invalid_number(weight, WEIGHT_RANGE));
    }
}

/// `validatePodAffinityTerm`.
fn pod_affinity_term(report: &mut Report, term: &PodAffinityTerm, path: &str) {
    if let Some(selector) = &term.label_selector {
        label_selector(report, selector, &format!("{path}.labelSelector"));
    }
    if let Some(selector) = &term.namespace_selector {
        label_selector(report, selector, &format!("{path}.namespaceSelector"));
    }
    for name in term.namespaces.iter().flatten() {
        for msg in dns1123_label(name) {
            report.error(format!("{path}.namespace"), invalid(name, &msg));
        }
    }
    let topology = format!("{path}.topologyKey");
    if term.topology_key.is_empty() {
        report.error(&topology, required("can not be empty"));
    }
    label_name(report, &term.topology_key, &topology);
}

/// `ValidateNodeSelector` (required node affinity).
fn node_selector(report: &mut Report, selector: &NodeSelector, path: &str) {
    if selector.node_selector_terms.is_empty() {
        report.error(
            format!("{path}.nodeSelectorTerms"),
            required("must have at least one node selector term"),
        );
    }
    for (i, term) in selector.node_selector_terms.iter().enumerate() {
        node_selector_term(report, term, &format!("{path}.nodeSelectorTerms[{i}]"));
    }
}

/// `ValidateNodeSelectorTerm`.
fn node_selector_term(report: &mut Report, term: &NodeSelectorTerm, path: &str) {
    for (i, req) in term.match_expressions.iter().flatten().enumerate() {
        node_selector_requirement(report, req, &format!("{path}.matchExpressions[{i}]"));
    }
    for (i, req) in term.match_fields.iter().flatten().enumerate() {
        node_field_selector_requirement(report, req, &format!("{path}.matchFields[{i}]"));
    }
}

/// `ValidateNodeSelectorRequirement`.
fn node_selector_requirement(report: &mut Report, req: &NodeSelectorRequirement, path: &str) {
    let values = req.values.as_deref().unwrap_or_default();
    let values_field = format!("{path}.values");
    match req.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => report.error(values_field, required(VALUES_NEEDED)),
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            report.error(values_field, forbidden(VALUES_FORBIDDEN))
        }
        "Gt" | "Lt" if values.len() != 1 => report.error(
            values_field,
            required("must be specified single value when `operator` is 'Lt' or 'Gt'"),
        ),
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        other => report.error(
            format!("{path}.operator"),
            unsupported(
                other,
                &["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"],
            ),
        ),
    }
    label_name(report, &req.key, &format!("{path}.key"));
}

/// `ValidateNodeFieldSelectorRequirement`: only `metadata.name`, with one value.
fn node_field_selector_requirement(report: &mut Report, req: &NodeSelectorRequirement, path: &str) {
    match req.operator.as_str() {
        "In" | "NotIn" if req.values.as_ref().is_none_or(|v| v.len() != 1) => report.error(
            format!("{path}.values"),
            required(
                "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
            ),
        ),
        "In" | "NotIn" => {}
        other => report.error(
            format!("{path}.operator"),
            invalid(other, "not a valid selector operator"),
        ),
    }
    if req.key != "metadata.name" {
        report.error(
            format!("{path}.key"),
            unsupported(&req.key, &["metadata.name"]),
        );
    }
}

/// `ValidateLabelSelector` (label values checked, as for new objects).
pub fn label_selector(report: &mut Report, selector: &LabelSelector, path: &str) {
    for (i, req) in selector.match_expressions.iter().flatten().enumerate() {
        label_selector_requirement(report, req, &format!("{path}.matchExpressions[{i}]"));
    }
    if let Some(labels) = &selector.match_labels {
        super::meta::labels(report, labels, &format!("{path}.matchLabels"));
    }
}

/// `ValidateLabelSelectorRequirement`.
fn label_selector_requirement(report: &mut Report, req: &LabelSelectorRequirement, path: &str) {
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" | "NotIn" if values.is_empty() => {
            report.error(format!("{path}.values"), required(VALUES_NEEDED))
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            report.error(format!("{path}.values"), forbidden(VALUES_FORBIDDEN))
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        other => report.error(
            format!("{path}.operator"),
            invalid(other, "not a valid selector operator"),
        ),
    }
    label_name(report, &req.key, &format!("{path}.key"));
    for (i, value) in values.iter().enumerate() {
        for msg in label_value(value) {
            report.error(format!("{path}.values[{i}]"), invalid(value, &msg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Vec<String> {
        let parsed: Affinity = serde_yaml::from_str(yaml).unwrap();
        let mut report = Report::default();
        affinity(&mut report, &parsed, "a");
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn validate_affinity_node_selector_rules() {
        let ok = "{nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}], matchFields: [{key: metadata.name, operator: In, values: [n]}]}]}}}";
        assert!(check(ok).is_empty(), "{:?}", check(ok));
        assert_eq!(
            check(
                "{nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}"
            ),
            [
                "a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term"
            ]
        );
        let req = |expr: &str| {
            check(&format!(
                "{{nodeAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 1, preference: {{matchExpressions: [{expr}]}}}}]}}}}"
            ))
        };
        let at = "a.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0]";
        assert_eq!(
            req("{key: k, operator: In}"),
            [format!(
                "{at}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
            )]
        );
        assert_eq!(
            req("{key: k, operator: Exists, values: [x]}"),
            [format!(
                "{at}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            )]
        );
        assert_eq!(
            req("{key: k, operator: Gt, values: ['1', '2']}"),
            [format!(
                "{at}.values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"
            )]
        );
        assert_eq!(
            req("{key: k, operator: Near}"),
            [format!(
                "{at}.operator: Unsupported value: \"Near\": supported values: \"DoesNotExist\", \"Exists\", \"Gt\", \"In\", \"Lt\", \"NotIn\""
            )]
        );
        assert_eq!(
            check(
                "{nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, preference: {}}]}}"
            ),
            [
                "a.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"
            ]
        );
    }

    #[test]
    fn validate_pod_affinity_term_rules() {
        let term = |t: &str| {
            check(&format!(
                "{{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{t}]}}}}"
            ))
        };
        assert!(
            term("{topologyKey: zone, labelSelector: {matchLabels: {a: b}}, namespaces: [ns]}")
                .is_empty()
        );
        let at = "a.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]";
        let empty = term("{topologyKey: ''}");
        assert_eq!(
            empty[0],
            format!("{at}.topologyKey: Required value: can not be empty")
        );
        assert_eq!(term("{topologyKey: z, namespaces: [Bad]}").len(), 1);
        assert_eq!(
            term("{topologyKey: z, labelSelector: {matchExpressions: [{key: a, operator: Near}]}}"),
            [format!(
                "{at}.labelSelector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator"
            )]
        );
    }
}
