//! `spec.transactionLog`: durability and credential risks, reported as warnings.

use super::Report;
use smbp_api::v1alpha1::{BigPeerSpec, ExternalLog, SaslMechanism};

/// Warns about too few topic replicas and SASL PLAIN without TLS.
pub(super) fn check(report: &mut Report, spec: &BigPeerSpec) {
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
