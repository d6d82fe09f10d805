//! Pod placement fields (`pkg/apis/core/validation`): `ValidateTolerations`,
//! `validateTopologySpreadConstraints`, the pod's `nodeSelector` (`ValidateLabels`) and
//! `priorityClassName` (`ValidatePriorityClassName`, a DNS subdomain).

use super::affinity::label_selector;
use super::names::{dns1123_subdomain, label_value, qualified_name};
use super::{duplicate, forbidden, invalid, invalid_number, required, unsupported};
use crate::validation::Report;
use k8s_openapi::api::core::v1::{Toleration, TopologySpreadConstraint};
use std::collections::BTreeSet;

const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
/// `isNotPositiveErrorMsg`.
const NOT_POSITIVE: &str = "must be greater than zero";

/// `ValidateLabelName`: a label key, reported as `Invalid value`.
pub fn label_name(report: &mut Report, key: &str, field: &str) {
    for msg in qualified_name(key) {
        report.error(field, invalid(key, &msg));
    }
}

/// `ValidatePriorityClassName` (`NameIsDNSSubdomain`).
pub fn priority_class_name(report: &mut Report, name: &str, field: &str) {
    for msg in dns1123_subdomain(name) {
        report.error(field, invalid(name, &msg));
    }
}

/// `ValidateTolerations` as of Kubernetes 1.33 (operators `Equal` and `Exists`).
pub fn tolerations(report: &mut Report, tolerations: &[Toleration], path: &str) {
    for (i, t) in tolerations.iter().enumerate() {
        let at = |child: &str| format!("{path}[{i}].{child}");
        let key = t.key.as_deref().unwrap_or_default();
        let operator = t.operator.as_deref().unwrap_or_default();
        let value = t.value.as_deref().unwrap_or_default();
        let effect = t.effect.as_deref().unwrap_or_default();
        if !key.is_empty() {
            label_name(report, key, &at("key"));
        }
        if key.is_empty() && operator != "Exists" {
            report.error(at("operator"), invalid(operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            report.error(
                at("effect"),
                invalid(
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                ),
            );
        }
        match operator {
            "" | "Equal" => {
                let errs = label_value(value);
                if !errs.is_empty() {
                    report.error(at("operator"), invalid(value, &errs.join(";")));
                }
            }
            "Exists" if !value.is_empty() => {
                report.error(
                    at("operator"),
                    invalid(value, "value must be empty when `operator` is 'Exists'"),
                );
            }
            "Exists" => {}
            other => report.error(at("operator"), unsupported(other, &["Equal", "Exists"])),
        }
        if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
            report.error(at("effect"), unsupported(effect, &TAINT_EFFECTS));
        }
    }
}

/// `validateTopologySpreadConstraints` as of Kubernetes 1.33.
pub fn topology_spread_constraints(
    report: &mut Report,
    constraints: &[TopologySpreadConstraint],
    path: &str,
) {
    let mut seen = BTreeSet::new();
    for (i, c) in constraints.iter().enumerate() {
        let at = |child: &str| format!("{path}[{i}].{child}");
        if c.max_skew <= 0 {
            report.error(at("maxSkew"), invalid_number(c.max_skew, NOT_POSITIVE));
        }
        if c.topology_key.is_empty() {
            report.error(at("topologyKey"), required("can not be empty"));
        } else {
            label_name(report, &c.topology_key, &at("topologyKey"));
        }
        let when = c.when_unsatisfiable.as_str();
        if !matches!(when, "DoNotSchedule" | "ScheduleAnyway") {
            report.error(
                at("whenUnsatisfiable"),
                unsupported(when, &["DoNotSchedule", "ScheduleAnyway"]),
            );
        }
        let pair = format!("{{{}, {when}}}", c.topology_key);
        if !seen.insert(pair.clone()) {
            report.error(at("{topologyKey, whenUnsatisfiable}"), duplicate(&pair));
        }
        if let Some(min) = c.min_domains {
            if min <= 0 {
                report.error(at("minDomains"), invalid_number(min, NOT_POSITIVE));
            }
            if when != "DoNotSchedule" {
                let detail = format!(
                    "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {when}"
                );
                report.error(at("minDomains"), invalid_number(min, &detail));
            }
        }
        for (field, policy) in [
            ("nodeAffinityPolicy", &c.node_affinity_policy),
            ("nodeTaintsPolicy", &c.node_taints_policy),
        ] {
            if let Some(policy) = policy
                .as_deref()
                .filter(|p| !matches!(*p, "Honor" | "Ignore"))
            {
                report.error(at(field), unsupported(policy, &["Honor", "Ignore"]));
            }
        }
        match_label_keys(report, c, &at("matchLabelKeys"));
        if let Some(selector) = &c.label_selector {
            label_selector(report, selector, &at("labelSelector"));
        }
    }
}

/// `validateMatchLabelKeysInTopologySpread`.
fn match_label_keys(report: &mut Report, c: &TopologySpreadConstraint, path: &str) {
    let keys = c.match_label_keys.as_deref().unwrap_or_default();
    if keys.is_empty() {
        return;
    }
    let Some(selector) = &c.label_selector else {
        report.error(
            path,
            forbidden("must not be specified when labelSelector is not set"),
        );
        return;
    };
    let mut selected: BTreeSet<&str> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    selected.extend(
        selector
            .match_expressions
            .iter()
            .flatten()
            .map(|e| e.key.as_str()),
    );
    for (i, key) in keys.iter().enumerate() {
        let field = format!("{path}[{i}]");
        label_name(report, key, &field);
        if selected.contains(key.as_str()) {
            report.error(
                field,
                invalid(key, "exists in both matchLabelKeys and labelSelector"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(report: &Report) -> Vec<String> {
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    fn tolerate(yaml: &str) -> Vec<String> {
        let list: Vec<Toleration> = serde_yaml::from_str(yaml).unwrap();
        let mut report = Report::default();
        tolerations(&mut report, &list, "t");
        messages(&report)
    }

    fn spread(yaml: &str) -> Vec<String> {
        let list: Vec<TopologySpreadConstraint> = serde_yaml::from_str(yaml).unwrap();
        let mut report = Report::default();
        topology_spread_constraints(&mut report, &list, "s");
        messages(&report)
    }

    #[test]
    fn validate_tolerations_ports_every_rule() {
        assert!(
            tolerate(
                "[{operator: Exists}, {key: a, value: b, effect: NoExecute, tolerationSeconds: 5}]"
            )
            .is_empty()
        );
        assert_eq!(
            tolerate("[{value: b}]"),
            [
                "t[0].operator: Invalid value: \"\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""
            ]
        );
        assert_eq!(
            tolerate("[{key: a, tolerationSeconds: 1, effect: NoSchedule}]"),
            [
                "t[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"
            ]
        );
        assert_eq!(
            tolerate("[{key: a, operator: Exists, value: b}]"),
            [
                "t[0].operator: Invalid value: \"b\": value must be empty when `operator` is 'Exists'"
            ]
        );
        assert_eq!(
            tolerate("[{key: a, operator: Gt}]"),
            ["t[0].operator: Unsupported value: \"Gt\": supported values: \"Equal\", \"Exists\""]
        );
        assert_eq!(
            tolerate("[{key: a, effect: Sometimes}]"),
            [
                "t[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
            ]
        );
        assert_eq!(tolerate("[{key: 'a b'}]").len(), 1);
        assert!(
            tolerate("[{key: a, value: '-x'}]")[0]
                .starts_with("t[0].operator: Invalid value: \"-x\": a valid label must be")
        );
    }

    #[test]
    fn validate_topology_spread_constraints_ports_every_rule() {
        let ok = "[{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 2, labelSelector: {matchLabels: {a: b}}, matchLabelKeys: [pod-template-hash]}]";
        assert!(spread(ok).is_empty(), "{:?}", spread(ok));
        assert_eq!(
            spread("[{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]"),
            ["s[0].maxSkew: Invalid value: 0: must be greater than zero"]
        );
        assert_eq!(
            spread("[{maxSkew: 1, topologyKey: '', whenUnsatisfiable: DoNotSchedule}]"),
            ["s[0].topologyKey: Required value: can not be empty"]
        );
        assert_eq!(
            spread("[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: Never}]"),
            [
                "s[0].whenUnsatisfiable: Unsupported value: \"Never\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""
            ]
        );
        assert_eq!(
            spread(
                "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: ScheduleAnyway, minDomains: 0}]"
            ),
            [
                "s[0].minDomains: Invalid value: 0: must be greater than zero",
                "s[0].minDomains: Invalid value: 0: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"
            ]
        );
        assert_eq!(
            spread(
                "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule}, {maxSkew: 2, topologyKey: z, whenUnsatisfiable: DoNotSchedule}]"
            ),
            ["s[1].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{z, DoNotSchedule}\""]
        );
        assert_eq!(
            spread(
                "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Maybe}]"
            ),
            [
                "s[0].nodeTaintsPolicy: Unsupported value: \"Maybe\": supported values: \"Honor\", \"Ignore\""
            ]
        );
        assert_eq!(
            spread(
                "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, matchLabelKeys: [a]}]"
            ),
            ["s[0].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"]
        );
        assert_eq!(
            spread(
                "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, matchLabelKeys: [a], labelSelector: {matchLabels: {a: b}}}]"
            ),
            [
                "s[0].matchLabelKeys[0]: Invalid value: \"a\": exists in both matchLabelKeys and labelSelector"
            ]
        );
    }

    #[test]
    fn validate_priority_class_name_is_a_dns_subdomain() {
        let mut report = Report::default();
        priority_class_name(&mut report, "high.priority", "p");
        assert!(report.problems.is_empty());
        priority_class_name(&mut report, "High", "p");
        assert!(
            messages(&report)[0]
                .starts_with("p: Invalid value: \"High\": a lowercase RFC 1123 subdomain")
        );
    }
}
