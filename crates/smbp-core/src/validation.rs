//! Semantic validation of a BigPeer: every check that the CRD's OpenAPI and CEL rules cannot
//! express — the release catalogue, embedded Kubernetes objects, label syntax, cross-section
//! consistency and the security posture. Pure: the reconciler, the admission webhook and the
//! kubectl plugin all call [`validate`], which reports every problem with its field path, never
//! just the first.

use crate::catalogue;
use crate::pss;
use semver::Version;
use serde::de::DeserializeOwned;
use smbp_api::defaults;
use smbp_api::v1alpha1::{
    BigPeerSpec, Embedded, ExternalLog, NetworkSpec, SaslMechanism, Scheduling, SyncSpec,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The spec cannot be reconciled; the operator waits for a change.
    Error,
    /// The spec works but is risky or surprising; reported, not blocking.
    Warning,
}

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Whether it blocks reconciling.
    pub severity: Severity,
    /// The field, as a path from the object root (`spec.store.replicas`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything [`validate`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every problem, in the order of the spec's sections.
    pub problems: Vec<Problem>,
}

impl Report {
    /// The problems that block reconciling.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The problems that are only reported.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    /// Whether nothing blocks reconciling.
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, field, message);
    }

    fn warning(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, field, message);
    }

    fn push(&mut self, severity: Severity, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            severity,
            field: field.into(),
            message: message.into(),
        });
    }
}

/// The name of the store's main container, which `podOverrides` match by name.
pub const STORE_CONTAINER: &str = "store";
/// The name of the sync tier's main container, which `podOverrides` match by name.
pub const SYNC_CONTAINER: &str = "sync";

/// Checks `spec` as a whole. `running` is the version the pods run now (`status.version.current`),
/// when there is one; a change of `spec.version` is then checked as an upgrade path.
pub fn validate(spec: &BigPeerSpec, running: Option<&Version>) -> Report {
    let mut report = Report::default();
    check_version(&mut report, &spec.version, running);
    check_store(&mut report, spec);
    check_sync(&mut report, &spec.sync);
    check_transaction_log(&mut report, spec);
    if let Some(network) = &spec.network {
        check_network(&mut report, network, spec);
    }
    check_monitoring_labels(&mut report, spec);
    check_security(&mut report, spec);
    report
}

fn check_version(report: &mut Report, version: &str, running: Option<&Version>) {
    let catalogue = catalogue::builtin();
    let target = match Version::parse(version) {
        Ok(v) => v,
        Err(e) => {
            report.error(
                "spec.version",
                format!(
                    "{version:?} is not a semantic version ({e}); use a release such as {}",
                    catalogue.latest().version
                ),
            );
            return;
        }
    };
    match running {
        None => {
            if let Err(e) = catalogue.installable(&target) {
                report.error("spec.version", e.to_string());
            }
        }
        Some(running) => match catalogue.upgrade_path(running, &target) {
            Ok(path) if !path.stops().is_empty() => report.warning(
                "spec.version",
                format!("upgrade {path} passes through required stops; each is rolled out and migrated in turn"),
            ),
            Ok(_) => {}
            Err(e) => report.error("spec.version", e.to_string()),
        },
    }
}

fn check_store(report: &mut Report, spec: &BigPeerSpec) {
    let store = &spec.store;
    if store.replicas > 1 && store.replicas % 2 == 0 {
        report.warning(
            "spec.store.replicas",
            format!(
                "{} replicas tolerate no more failures than {}; use an odd count",
                store.replicas,
                store.replicas - 1
            ),
        );
    }
    let max_unavailable = spec
        .upgrade
        .as_ref()
        .map_or(defaults::max_unavailable(), |u| u.max_unavailable);
    let quorum_loss_at = store.replicas / 2 + 1;
    if store.replicas > 1 && max_unavailable >= quorum_loss_at {
        report.warning(
            "spec.upgrade.maxUnavailable",
            format!("{max_unavailable} of {} store pods down at once loses the store's quorum during upgrades; use at most {}", store.replicas, quorum_loss_at - 1),
        );
    }
    check_scheduling(report, store.scheduling.as_ref(), "spec.store.scheduling");
    check_pod_overrides(
        report,
        store.pod_overrides.as_ref(),
        "spec.store.podOverrides",
        STORE_CONTAINER,
    );
}

fn check_sync(report: &mut Report, sync: &SyncSpec) {
    check_scheduling(report, sync.scheduling.as_ref(), "spec.sync.scheduling");
    check_pod_overrides(
        report,
        sync.pod_overrides.as_ref(),
        "spec.sync.podOverrides",
        SYNC_CONTAINER,
    );
    if sync.autoscaling.is_some()
        && let Some(resources) = &sync.resources
        && !resources
            .requests
            .as_ref()
            .is_some_and(|r| r.contains_key("cpu"))
    {
        report.error(
            "spec.sync.resources.requests.cpu",
            "autoscaling on CPU utilisation needs a CPU request: set spec.sync.resources.requests.cpu or remove spec.sync.resources to use the default",
        );
    }
}

fn check_scheduling(report: &mut Report, scheduling: Option<&Scheduling>, path: &str) {
    let Some(scheduling) = scheduling else { return };
    check_labels(
        report,
        &scheduling.node_selector,
        &format!("{path}.nodeSelector"),
    );
    if let Some(affinity) = &scheduling.affinity {
        check_embedded(report, affinity, &format!("{path}.affinity"), "Affinity");
    }
}

fn check_pod_overrides(
    report: &mut Report,
    overrides: Option<&Embedded<k8s_openapi::api::core::v1::PodTemplateSpec>>,
    path: &str,
    main_container: &str,
) {
    let Some(overrides) = overrides else { return };
    let Some(template) = check_embedded(report, overrides, path, "PodTemplateSpec") else {
        return;
    };
    let Some(pod) = template.spec else { return };
    for (i, container) in pod.containers.iter().enumerate() {
        if container.name != main_container && container.image.is_none() {
            report.error(
                format!("{path}.spec.containers[{i}].image"),
                format!("container {:?} matches no generated container (the main one is {main_container:?}), so it is added as a sidecar and needs an image", container.name),
            );
        }
    }
    for (field, set) in [
        ("hostNetwork", pod.host_network),
        ("hostPID", pod.host_pid),
        ("hostIPC", pod.host_ipc),
    ] {
        if set == Some(true) {
            report.warning(
                format!("{path}.spec.{field}"),
                "host namespaces are forbidden by the baseline and restricted Pod Security Standards; namespaces enforcing them will reject the pods",
            );
        }
    }
}

/// Parses an embedded object, reporting the exact field that does not fit.
fn check_embedded<T: DeserializeOwned>(
    report: &mut Report,
    embedded: &Embedded<T>,
    path: &str,
    kind: &str,
) -> Option<T> {
    let value = serde_json::Value::Object(embedded.raw().clone());
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            let inner = e.path().to_string();
            let field = if inner == "." {
                path.to_string()
            } else {
                format!("{path}.{inner}")
            };
            report.error(
                field,
                format!("does not fit a Kubernetes {kind}: {}", e.inner()),
            );
            None
        }
    }
}

fn check_transaction_log(report: &mut Report, spec: &BigPeerSpec) {
    let log = &spec.transaction_log;
    if let Some(strimzi) = &log.strimzi
        && strimzi.topic.replicas < 3
    {
        report.warning(
            "spec.transactionLog.strimzi.topic.replicas",
            format!("{} topic replica(s) can lose acknowledged writes when a broker fails; use 3 in production", strimzi.topic.replicas),
        );
    }
    if let Some(ExternalLog {
        sasl: Some(sasl),
        tls: None,
        ..
    }) = &log.external
        && sasl.mechanism == SaslMechanism::Plain
    {
        report.warning(
            "spec.transactionLog.external.sasl.mechanism",
            "SASL PLAIN without spec.transactionLog.external.tls sends the password in clear text; enable tls or use SCRAM",
        );
    }
}

fn check_network(report: &mut Report, network: &NetworkSpec, spec: &BigPeerSpec) {
    if let Some(service) = &network.service {
        check_annotations(
            report,
            &service.annotations,
            "spec.network.service.annotations",
        );
    }
    if let Some(ingress) = &network.ingress {
        check_annotations(
            report,
            &ingress.annotations,
            "spec.network.ingress.annotations",
        );
        let mut seen = BTreeSet::new();
        for (i, host) in ingress.hosts.iter().enumerate() {
            if !seen.insert(host) {
                report.error(
                    format!("spec.network.ingress.hosts[{i}]"),
                    format!("{host:?} is listed twice; remove the repeat"),
                );
            }
        }
        let dns_names = spec
            .tls
            .as_ref()
            .and_then(|t| t.cert_manager.as_ref())
            .map(|c| &c.dns_names);
        if let (Some(tls), Some(dns_names)) = (&ingress.tls, dns_names)
            && tls.use_big_peer_certificate
        {
            for (i, host) in ingress.hosts.iter().enumerate() {
                if !dns_names.iter().any(|name| dns_name_covers(name, host)) {
                    report.error(
                        format!("spec.network.ingress.hosts[{i}]"),
                        format!("{host:?} is not among spec.tls.certManager.dnsNames, so clients would reject the certificate; add it to dnsNames"),
                    );
                }
            }
        }
    }
}

fn check_monitoring_labels(report: &mut Report, spec: &BigPeerSpec) {
    let Some(monitoring) = &spec.monitoring else {
        return;
    };
    if let Some(sm) = &monitoring.service_monitor {
        check_labels(report, &sm.labels, "spec.monitoring.serviceMonitor.labels");
    }
    if let Some(rule) = &monitoring.prometheus_rule {
        check_labels(
            report,
            &rule.labels,
            "spec.monitoring.prometheusRule.labels",
        );
    }
    if let Some(dashboards) = &monitoring.grafana_dashboards {
        check_labels(
            report,
            &dashboards.labels,
            "spec.monitoring.grafanaDashboards.labels",
        );
    }
}

fn check_security(report: &mut Report, spec: &BigPeerSpec) {
    let security = &spec.security;
    check_annotations(
        report,
        &security.service_account.annotations,
        "spec.security.serviceAccount.annotations",
    );
    if !security.service_account.create && security.service_account.name.is_none() {
        report.error(
            "spec.security.serviceAccount.name",
            "is required when create is false: name the existing service account to use",
        );
    }
    if security.pod_security_context.is_none() && security.container_security_context.is_none() {
        return;
    }
    let pod = security
        .pod_security_context
        .clone()
        .unwrap_or_else(defaults::pod_security_context);
    let container = security
        .container_security_context
        .clone()
        .unwrap_or_else(defaults::container_security_context);
    for violation in pss::restricted_violations(&pod, &container) {
        report.warning(
            format!("spec.security.{}", violation.field),
            violation.message,
        );
    }
}

/// Whether certificate name `name` (possibly `*.zone`) matches `host`.
fn dns_name_covers(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(zone) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == zone),
        None => name == host,
    }
}

fn check_labels(report: &mut Report, labels: &BTreeMap<String, String>, path: &str) {
    for (key, value) in labels {
        if let Err(why) = qualified_name(key) {
            report.error(format!("{path}[{key:?}]"), format!("label key {why}"));
        }
        if !value.is_empty() && !is_name_segment(value) {
            report.error(
                format!("{path}[{key:?}]"),
                format!("label value {value:?} must be at most 63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"),
            );
        }
    }
}

fn check_annotations(report: &mut Report, annotations: &BTreeMap<String, String>, path: &str) {
    for key in annotations.keys() {
        if let Err(why) = qualified_name(key) {
            report.error(format!("{path}[{key:?}]"), format!("annotation key {why}"));
        }
    }
}

/// Checks a Kubernetes qualified name (`[prefix/]name`), as label and annotation keys are.
fn qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !is_dns_subdomain(prefix)
    {
        return Err(format!(
            "{key:?} has prefix {prefix:?}, which must be a lower-case DNS subdomain such as example.com"
        ));
    }
    if !is_name_segment(name) {
        return Err(format!(
            "{key:?} must end in a name of at most 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn is_name_segment(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let bytes = label.as_bytes();
            !label.is_empty()
                && label.len() <= 63
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
