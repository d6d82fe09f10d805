//! Semantic validation of a BigPeer: every check that the CRD's OpenAPI and CEL rules cannot
//! express — the release catalogue, the BigPeer's name against the names of its children,
//! embedded Kubernetes objects checked with kube-apiserver's own rules (so a spec the cluster
//! would refuse as a child object is refused when it is applied), cross-section consistency and
//! the Pod Security Standard. Pure: the reconciler, the admission webhook and the kubectl plugin
//! all call [`validate`], which reports every problem with its field path, never just the first.
//!
//! One module per spec section; `kubernetes/` holds the ported apiserver rules.

use semver::Version;
use smbp_api::v1alpha1::BigPeerSpec;
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

/// Checks the BigPeer called `name` (its `metadata.name`; empty when not known yet, as for a
/// `generateName` create, which skips the name check) with `spec`. `running` is the version the
/// pods run now (`status.version.current`), when there is one; a change of `spec.version` is then
/// checked as an upgrade path.
pub fn validate(name: &str, spec: &BigPeerSpec, running: Option<&Version>) -> Report {
    let mut report = Report::default();
    names::check(&mut report, name, spec);
    version::check(&mut report, &spec.version, running);
    workloads::check_store(&mut report, spec);
    workloads::check_sync(&mut report, spec);
    transaction_log::check(&mut report, spec);
    if let Some(network) = &spec.network {
        exposure::check(&mut report, network, spec);
    }
    monitoring::check(&mut report, spec);
    security::check(&mut report, spec);
    upgrade::check(&mut report, spec);
    report
}

mod embedded;
mod exposure;
pub mod kubernetes;
mod merged;
mod monitoring;
mod names;
mod security;
mod transaction_log;
mod upgrade;
mod version;
mod workloads;

pub use merged::check_pod_templates;

#[cfg(test)]
mod tests;
