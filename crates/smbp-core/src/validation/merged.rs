//! The pod templates as they will be applied: the generated template with `podOverrides` merged
//! over it. Each part can be valid on its own and the merge not — a container's memory request
//! from the overrides above the default limit is refused by kube-apiserver (`requests ≤
//! limits`) though neither the overrides nor the defaults break a rule. So, once the spec is
//! valid, the built templates are checked with the same ported apiserver rules.

use super::Report;
use super::kubernetes::pod;
use crate::build::{Observed, Rollout, ValidatedBigPeer, build};

/// Checks the store's and the sync tier's merged pod templates; a problem names the overrides
/// it comes from.
pub fn check_pod_templates(report: &mut Report, validated: &ValidatedBigPeer) {
    let children = build(validated, &Observed::default(), &Rollout::steady(validated));
    let templates = [
        (
            "spec.store.podOverrides",
            children.store.spec.map(|s| s.template),
        ),
        (
            "spec.sync.podOverrides",
            children.sync.spec.map(|s| s.template),
        ),
    ];
    for (overrides, template) in templates {
        if let Some(template) = template {
            let mut found = Report::default();
            pod::template(&mut found, &template, "(merged pod template)");
            for mut problem in found.problems {
                problem.message = format!(
                    "{}: {} (the pod template with {overrides} merged over the generated one)",
                    problem.field, problem.message
                );
                problem.field = overrides.to_string();
                report.problems.push(problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smbp_api::v1alpha1::BigPeer;

    fn validated(overrides: serde_json::Value) -> ValidatedBigPeer {
        let bigpeer: BigPeer = serde_json::from_value(serde_json::json!({
            "apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
            "metadata": {"name": "edge", "namespace": "shop", "uid": "u"},
            "spec": {"version": "1.6.1", "store": {"podOverrides": overrides},
                     "transactionLog": {"strimzi": {"clusterRef": {"name": "kafka"}}}},
        }))
        .unwrap();
        ValidatedBigPeer::new(&bigpeer, None)
            .map(|(v, _)| v)
            .unwrap_or_else(|report| panic!("{report:?}"))
    }

    #[test]
    fn a_request_from_the_overrides_above_the_default_limit_is_refused() {
        let fine = validated(serde_json::json!({}));
        let mut report = Report::default();
        check_pod_templates(&mut report, &fine);
        assert!(report.is_valid(), "{report:?}");
        let bigpeer: BigPeer = serde_json::from_value(serde_json::json!({
            "apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
            "metadata": {"name": "edge", "namespace": "shop", "uid": "u"},
            "spec": {"version": "1.6.1", "store": {"podOverrides": {"spec": {"containers": [
                {"name": "store", "resources": {"requests": {"memory": "0.1Ti"}}}]}}},
                     "transactionLog": {"strimzi": {"clusterRef": {"name": "kafka"}}}},
        }))
        .unwrap();
        let report = ValidatedBigPeer::new(&bigpeer, None).expect_err("refused");
        let problem = report.errors().next().expect("an error");
        assert_eq!(problem.field, "spec.store.podOverrides");
        assert!(
            problem
                .message
                .contains("must be less than or equal to memory limit"),
            "{problem}"
        );
    }
}
