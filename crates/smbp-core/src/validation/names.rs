//! `metadata.name`: every child name derived from it ([`crate::build::Names`]) must be valid on
//! the oldest supported Kubernetes, 1.33 — Services are DNS-1035 labels (start with a letter, no
//! dots, ≤ 63), StatefulSet pods `<statefulset>-<ordinal>` are pod host names (DNS-1123 labels),
//! the `controller-revision-hash` label `<statefulset>-<hash>` is a label value (≤ 63, with a
//! hash of up to 10 characters), the `app.kubernetes.io/instance` label is the name itself, a
//! migration Job's name is its pods' `job-name` label, and every other child (volume claims
//! `data-<pod>` included) is a DNS-1123 subdomain.

use super::Report;
use super::kubernetes::names::{
    DNS_LABEL_MAX, DNS_SUBDOMAIN_MAX, LABEL_VALUE_MAX, dns1035_label, dns1123_label,
    dns1123_subdomain, label_value,
};
use crate::build::Names;
use smbp_api::v1alpha1::BigPeerSpec;

/// The longest `controller-revision-hash` suffix: `rand.SafeEncodeString` of a 32-bit FNV hash.
const REVISION_HASH_MAX: usize = 10;

/// The rule a derived name must meet.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Dns1035Label,
    Dns1123Label,
    Dns1123Subdomain,
    LabelValue,
}

impl Rule {
    fn problems(self, value: &str) -> Vec<String> {
        match self {
            Rule::Dns1035Label => dns1035_label(value),
            Rule::Dns1123Label => dns1123_label(value),
            Rule::Dns1123Subdomain => dns1123_subdomain(value),
            Rule::LabelValue => label_value(value),
        }
    }

    fn max_len(self) -> usize {
        match self {
            Rule::Dns1035Label | Rule::Dns1123Label => DNS_LABEL_MAX,
            Rule::Dns1123Subdomain => DNS_SUBDOMAIN_MAX,
            Rule::LabelValue => LABEL_VALUE_MAX,
        }
    }
}

/// Every name derived from the BigPeer's, what it names and its rule.
fn derived(name: &str, spec: &BigPeerSpec) -> Vec<(String, &'static str, Rule)> {
    let n = Names::new(name);
    let last_pod = format!("{}-{}", n.store(), spec.store.replicas.max(1) - 1);
    // The volume claim template is called `data`; claims are `<template>-<pod>`.
    let revision = format!("{}-{}", n.store(), "x".repeat(REVISION_HASH_MAX));
    vec![
        (n.store(), "the store's client Service", Rule::Dns1035Label),
        (
            n.store_headless(),
            "the store's headless Service",
            Rule::Dns1035Label,
        ),
        (n.sync(), "the sync Service", Rule::Dns1035Label),
        (n.metrics(), "the metrics Service", Rule::Dns1035Label),
        (
            format!("data-{last_pod}"),
            "the last store volume claim",
            Rule::Dns1123Subdomain,
        ),
        (
            n.migration("post", &spec.version, 0),
            "the migration Job (its pods' job-name label)",
            Rule::LabelValue,
        ),
        (
            last_pod,
            "the last store pod (its host name)",
            Rule::Dns1123Label,
        ),
        (
            revision,
            "the store pods' controller-revision-hash label",
            Rule::LabelValue,
        ),
        (
            name.to_string(),
            "the app.kubernetes.io/instance label",
            Rule::LabelValue,
        ),
        (
            n.config(),
            "the configuration ConfigMap",
            Rule::Dns1123Subdomain,
        ),
        (
            n.dashboards(),
            "the dashboards ConfigMap",
            Rule::Dns1123Subdomain,
        ),
        (
            n.certificate(),
            "the Certificate and its Secret",
            Rule::Dns1123Subdomain,
        ),
        (
            n.kafka_credentials(),
            "the copied Kafka credentials Secret",
            Rule::Dns1123Subdomain,
        ),
        (
            n.service_account(),
            "the service account",
            Rule::Dns1123Subdomain,
        ),
    ]
}

/// Checks the BigPeer's `name` (skipped when empty: not known yet).
pub(super) fn check(report: &mut Report, name: &str, spec: &BigPeerSpec) {
    if name.is_empty() {
        return;
    }
    let children = derived(name, spec);
    let longest = children
        .iter()
        .map(|(child, _, rule)| rule.max_len().saturating_sub(child.len() - name.len()))
        .min()
        .unwrap_or(0);
    let failing: Vec<_> = children
        .iter()
        .filter_map(|(child, what, rule)| {
            let problems = rule.problems(child);
            (!problems.is_empty()).then(|| {
                format!(
                    "{what} {child:?} ({} characters): {}",
                    child.len(),
                    problems.join("; ")
                )
            })
        })
        .collect();
    if let Some(first) = failing.first() {
        let more = match failing.len() {
            1 => String::new(),
            n => format!(" (and {} more children)", n - 1),
        };
        report.error(
            "metadata.name",
            format!("would make child names Kubernetes 1.33 refuses: {first}{more}; choose a name of at most {longest} characters of lower-case letters, digits and '-', starting with a letter"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BigPeerSpec {
        serde_yaml::from_str(
            "version: 1.6.1\ntransactionLog: {strimzi: {clusterRef: {name: kafka}}}",
        )
        .unwrap()
    }

    fn problems(name: &str) -> Vec<String> {
        let mut report = Report::default();
        check(&mut report, name, &spec());
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_longest_name_follows_from_the_revision_hash_label() {
        let longest = "a".repeat(46);
        assert_eq!(problems(&longest), Vec::<String>::new());
        let found = problems(&format!("{longest}b"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("metadata.name: would make child names Kubernetes 1.33 refuses: the store pods' controller-revision-hash label"), "{}", found[0]);
        assert!(found[0].contains("must be no more than 63 characters"));
        assert!(found[0].ends_with("choose a name of at most 46 characters of lower-case letters, digits and '-', starting with a letter"));
    }

    #[test]
    fn service_names_must_be_dns_1035_labels() {
        let found = problems("1peer");
        assert!(
            found[0].contains("the store's client Service \"1peer-store\""),
            "{found:?}"
        );
        assert!(found[0].contains("a DNS-1035 label must consist"));
        let dotted = problems("my.peer");
        assert!(dotted[0].contains("(and "), "{dotted:?}");
    }

    #[test]
    fn generate_name_creates_are_not_checked() {
        assert_eq!(problems(""), Vec::<String>::new());
    }
}
