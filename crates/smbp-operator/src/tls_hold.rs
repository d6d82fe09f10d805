//! Rolling pods once for a certificate. Pods mount the TLS Secret, so before a new BigPeer's
//! first certificate is issued they could not start — and creating them without its checksum
//! would roll every pod a second time as soon as it appears (a store that restarts every member
//! on day one). So while the Secret is missing:
//! - a workload that exists keeps the checksum its pods run with (a Secret being re-issued or
//!   deleted by mistake never rolls the pods to a template that cannot mount it);
//! - a workload that does not exist yet is held back until the certificate is there.

use crate::cache::Caches;
use serde_json::Value;
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::{ChildKind, Names, Observed, TLS_CHECKSUM_ANNOTATION};
use std::collections::BTreeSet;

/// The workload kinds whose pods mount the certificate.
const MOUNTING: [ChildKind; 3] = [
    ChildKind::StatefulSet,
    ChildKind::Deployment,
    ChildKind::Job,
];

/// Fills `observed.tls_checksum` from the live workloads when the Secret is missing, and returns
/// the workload kinds to hold back (empty when TLS is off or the certificate is known).
pub fn hold_for_certificate(
    caches: &Caches,
    bigpeer: &BigPeer,
    observed: &mut Observed,
) -> BTreeSet<ChildKind> {
    if bigpeer.spec.tls.is_none() || observed.tls_checksum.is_some() {
        return BTreeSet::new();
    }
    let namespace = bigpeer.metadata.namespace.as_deref().unwrap_or_default();
    let names = Names::new(bigpeer.metadata.name.as_deref().unwrap_or_default());
    let workloads = [
        (ChildKind::StatefulSet, names.store()),
        (ChildKind::Deployment, names.sync()),
    ];
    let running = workloads.iter().find_map(|(kind, name)| {
        let live = caches.get(*kind, namespace, name)??;
        running_checksum(&live)
    });
    match running {
        Some(checksum) => {
            observed.tls_checksum = Some(checksum);
            BTreeSet::new()
        }
        None => MOUNTING.into_iter().collect(),
    }
}

/// The certificate checksum on a workload's pod template.
fn running_checksum(workload: &Value) -> Option<String> {
    let annotations = workload.pointer("/spec/template/metadata/annotations")?;
    Some(
        annotations
            .get(TLS_CHECKSUM_ANNOTATION)?
            .as_str()?
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_checksum_a_workload_runs_with_is_read_from_its_pod_template() {
        let sts = json!({"spec": {"template": {"metadata": {"annotations": {
            TLS_CHECKSUM_ANNOTATION: "abc", "other": "x"}}}}});
        assert_eq!(running_checksum(&sts).as_deref(), Some("abc"));
        assert_eq!(running_checksum(&json!({"spec": {"template": {}}})), None);
    }

    #[test]
    fn nothing_is_held_without_tls_or_with_a_known_certificate() {
        let caches = Caches::default();
        let mut bigpeer: BigPeer = serde_json::from_value(json!({
            "apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
            "metadata": {"name": "edge", "namespace": "shop"},
            "spec": {"version": "1.6.1", "transactionLog": {"external": {"bootstrapServers": ["k:9092"], "topic": "log"}}},
        }))
        .unwrap();
        let mut observed = Observed::default();
        assert!(hold_for_certificate(&caches, &bigpeer, &mut observed).is_empty());
        bigpeer.spec.tls = serde_json::from_value(json!({"secretRef": {"name": "c"}})).unwrap();
        observed.tls_checksum = Some("known".into());
        assert!(hold_for_certificate(&caches, &bigpeer, &mut observed).is_empty());
        observed.tls_checksum = None;
        let held = hold_for_certificate(&caches, &bigpeer, &mut observed);
        assert!(held.contains(&ChildKind::StatefulSet) && held.contains(&ChildKind::Deployment));
    }
}
