//! `kubectl smbp diagnose NAME`: a checklist of what commonly stops a BigPeer — the CRD and the
//! optional APIs it needs, the operator running and leading, the admission webhook reachable
//! with a valid CA, the operator's ServiceAccount rights (SubjectAccessReview), the objects the
//! BigPeer references (Issuer, Kafka, Gateway, TLS Secret), quotas, stuck pods and pending
//! volumes — each finding with what to do and a link to its runbook section
//! (docs/runbooks.md). Exit 6 when a check fails.

mod cluster;
mod workload;

use crate::error::{Error, Result};
use crate::output::{self, Table, Tone, toned};
use crate::session::{Io, Session};
use serde::Serialize;
use smbp_core::build::RUNBOOK_BASE;

/// The runbook section a finding links to (docs/runbooks.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runbook {
    /// Diagnose: not Ready.
    NotReady,
    /// Diagnose: CRD.
    Crd,
    /// Diagnose: optional APIs.
    OptionalApis,
    /// Diagnose: webhook.
    Webhook,
    /// Diagnose: operator RBAC.
    OperatorRbac,
    /// Diagnose: references.
    References,
    /// Diagnose: quota.
    Quota,
    /// Diagnose: volumes.
    Volumes,
    /// The SmbpOperatorNoLeader alert.
    OperatorNoLeader,
    /// The SmbpOperatorReconcileErrors alert.
    ReconcileErrors,
    /// The SmbpOperatorWebhookCertificateExpiring alert.
    WebhookCertificate,
    /// The BigPeerPodRestarting alert.
    PodRestarting,
    /// The BigPeerStoreReplicasUnavailable alert.
    StoreReplicasUnavailable,
}

impl Runbook {
    /// Every section.
    pub const ALL: [Runbook; 13] = [
        Runbook::NotReady,
        Runbook::Crd,
        Runbook::OptionalApis,
        Runbook::Webhook,
        Runbook::OperatorRbac,
        Runbook::References,
        Runbook::Quota,
        Runbook::Volumes,
        Runbook::OperatorNoLeader,
        Runbook::ReconcileErrors,
        Runbook::WebhookCertificate,
        Runbook::PodRestarting,
        Runbook::StoreReplicasUnavailable,
    ];

    /// The section's anchor.
    pub fn anchor(self) -> &'static str {
        match self {
            Runbook::NotReady => "diagnose-not-ready",
            Runbook::Crd => "diagnose-crd",
            Runbook::OptionalApis => "diagnose-optional-apis",
            Runbook::Webhook => "diagnose-webhook",
            Runbook::OperatorRbac => "diagnose-operator-rbac",
            Runbook::References => "diagnose-references",
            Runbook::Quota => "diagnose-quota",
            Runbook::Volumes => "diagnose-volumes",
            Runbook::OperatorNoLeader => "smbpoperatornoleader",
            Runbook::ReconcileErrors => "smbpoperatorreconcileerrors",
            Runbook::WebhookCertificate => "smbpoperatorwebhookcertificateexpiring",
            Runbook::PodRestarting => "bigpeerpodrestarting",
            Runbook::StoreReplicasUnavailable => "bigpeerstorereplicasunavailable",
        }
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Nothing wrong.
    Pass,
    /// Works, but needs attention.
    Warn,
    /// Broken: the BigPeer cannot be (or stay) Ready because of it.
    Fail,
    /// Could not be checked (permission, API not served); says why.
    Skipped,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What was checked.
    pub check: String,
    /// The outcome.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do, when something is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The runbook section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
}

impl Finding {
    /// A passing check.
    pub fn pass(check: &str, detail: impl Into<String>) -> Self {
        Finding {
            check: check.into(),
            outcome: Outcome::Pass,
            detail: detail.into(),
            fix: None,
            runbook: None,
        }
    }

    /// A check that could not run.
    pub fn skipped(check: &str, detail: impl Into<String>) -> Self {
        Finding {
            outcome: Outcome::Skipped,
            ..Finding::pass(check, detail)
        }
    }

    /// A failing (or, with `warn`, attention-needing) check, with the fix and runbook `anchor`.
    pub fn problem(
        check: &str,
        warn: bool,
        detail: impl Into<String>,
        fix: impl Into<String>,
        runbook: Runbook,
    ) -> Self {
        Finding {
            check: check.into(),
            outcome: if warn { Outcome::Warn } else { Outcome::Fail },
            detail: detail.into(),
            fix: Some(fix.into()),
            runbook: Some(format!("{RUNBOOK_BASE}#{}", runbook.anchor())),
        }
    }
}

/// What `diagnose` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The BigPeer.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Every finding, in the order checked.
    pub findings: Vec<Finding>,
}

/// Runs `diagnose`.
pub async fn run(session: &Session, io: &mut Io, name: &str) -> Result<()> {
    let bigpeer = crate::upgrade::bigpeer(session, name).await?;
    let now = io.clock.now();
    let mut findings = Vec::new();
    findings.extend(cluster::checks(session, &bigpeer, now).await);
    findings.extend(workload::checks(session, &bigpeer, now).await);
    let diagnosis = Diagnosis {
        name: name.to_string(),
        namespace: session.namespace.clone(),
        findings,
    };
    match output::structured(session.global.output, &diagnosis)? {
        Some(text) => io.print(&text)?,
        None => {
            let text = render(&diagnosis, io.colour);
            io.print(&text)?;
        }
    }
    let failed: Vec<&str> = diagnosis
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Fail)
        .map(|f| f.check.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::ChecksFailed(format!(
            "{} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

/// The checklist as text.
pub fn render(diagnosis: &Diagnosis, colour: bool) -> String {
    let mut table = Table::new(&["CHECK", "RESULT", "DETAIL"]);
    for f in &diagnosis.findings {
        let (text, tone) = match f.outcome {
            Outcome::Pass => ("ok", Tone::Good),
            Outcome::Warn => ("WARN", Tone::Warn),
            Outcome::Fail => ("FAIL", Tone::Bad),
            Outcome::Skipped => ("skipped", Tone::Plain),
        };
        table.row(vec![
            f.check.clone().into(),
            toned(text, tone),
            f.detail.clone().into(),
        ]);
    }
    let mut out = format!(
        "Diagnosis of BigPeer {}/{}:\n",
        diagnosis.namespace, diagnosis.name
    );
    out.push_str(&table.render(colour));
    let problems: Vec<&Finding> = diagnosis
        .findings
        .iter()
        .filter(|f| f.fix.is_some())
        .collect();
    if !problems.is_empty() {
        out.push_str("\nWhat to do:\n");
        for f in problems {
            out.push_str(&format!(
                "- {}: {}\n  runbook: {}\n",
                f.check,
                f.fix.as_deref().unwrap_or_default(),
                f.runbook.as_deref().unwrap_or_default()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Runbook;

    /// Every runbook section a finding can link to exists in docs/runbooks.md.
    #[test]
    fn every_runbook_link_has_its_section() {
        let runbooks = include_str!("../../../../docs/runbooks.md");
        let anchors: Vec<String> = runbooks
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(|h| {
                h.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                    .collect::<String>()
                    .replace(' ', "-")
            })
            .collect();
        for runbook in Runbook::ALL {
            assert!(
                anchors.iter().any(|a| a == runbook.anchor()),
                "no section for #{}: {anchors:?}",
                runbook.anchor()
            );
        }
    }
}
