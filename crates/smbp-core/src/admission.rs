//! The admission webhook's verdict on a BigPeer write: every check of [`validation`] (so a bad
//! spec is refused when it is applied, not found later by the reconciler), the upgrade path from
//! the release the pods run now spelled out in full, exposure that collides with another
//! BigPeer, the referenced objects that do not exist yet (warnings only, so GitOps tools may
//! apply a BigPeer before its Issuer or Kafka), and the pause annotation (an unknown value is
//! denied; a spec change while paused is warned). Pure: the operator looks the objects up and
//! passes what it found.

use crate::catalogue;
use crate::validation::{self, Severity};
use semver::Version;
use smbp_api::v1alpha1::BigPeerSpec;
use std::collections::BTreeMap;

/// Another BigPeer in the cluster, for the exposure checks.
#[derive(Debug, Clone)]
pub struct Neighbour {
    /// `namespace/name`.
    pub key: String,
    /// Its spec.
    pub spec: BigPeerSpec,
}

/// What the webhook is asked about.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The BigPeer's `metadata.name` (empty when the API server generates it).
    pub name: &'a str,
    /// The annotations being written.
    pub annotations: Option<&'a BTreeMap<String, String>>,
    /// The spec being written.
    pub spec: &'a BigPeerSpec,
    /// The spec before the write (updates only).
    pub old_spec: Option<&'a BigPeerSpec>,
    /// The release the pods run now (`status.version.current`), if any.
    pub running: Option<&'a str>,
    /// Whether the object is being deleted (only finalizers are changing): always allowed.
    pub deleting: bool,
    /// The referenced objects that do not exist, as `(field, what is missing)`.
    pub missing: Vec<(String, String)>,
    /// Every other BigPeer in the cluster.
    pub neighbours: Vec<Neighbour>,
}

/// The webhook's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Why the write is refused; empty when it is allowed.
    pub denials: Vec<String>,
    /// What the client is warned about.
    pub warnings: Vec<String>,
}

impl Verdict {
    /// Whether the write is allowed.
    pub fn allowed(&self) -> bool {
        self.denials.is_empty()
    }
}

/// Reviews one write.
pub fn review(request: &Request<'_>) -> Verdict {
    let mut verdict = Verdict::default();
    if request.deleting {
        return verdict;
    }
    let running = request.running.and_then(|v| Version::parse(v).ok());
    let version_changed = request
        .old_spec
        .is_none_or(|old| old.version != request.spec.version);
    // A version the pods already passed is not checked again on unrelated edits.
    let running_for_path = running.as_ref().filter(|_| version_changed);
    for problem in validation::validate(request.name, request.spec, running_for_path).problems {
        match problem.severity {
            Severity::Error if problem.field == "spec.version" => {
                verdict
                    .denials
                    .push(spell_out_paths(&problem.to_string(), running_for_path));
            }
            Severity::Error => verdict.denials.push(problem.to_string()),
            Severity::Warning => verdict.warnings.push(problem.to_string()),
        }
    }
    check_pause(request, &mut verdict);
    if verdict.denials.is_empty() {
        check_merged_templates(request, running_for_path, &mut verdict);
    }
    check_exposure(request, &mut verdict);
    check_tls_removal(request, &mut verdict);
    for (field, missing) in &request.missing {
        verdict.warnings.push(format!(
            "{field}: {missing}; the BigPeer waits for it (create it, or fix the reference)"
        ));
    }
    verdict
}

/// The pod templates with `podOverrides` merged, as the reconciler will build them (see
/// [`validation::check_pod_templates`]): refused here too, so the apply fails, not the reconcile.
fn check_merged_templates(request: &Request<'_>, running: Option<&Version>, verdict: &mut Verdict) {
    let mut bigpeer = smbp_api::v1alpha1::BigPeer::new(request.name, request.spec.clone());
    // The templates do not depend on the namespace; the request's is not needed.
    bigpeer.metadata.namespace = Some("default".into());
    if let Err(report) = crate::build::ValidatedBigPeer::new(&bigpeer, running) {
        verdict
            .denials
            .extend(report.errors().map(ToString::to_string));
    }
}

/// The pause annotation: an unknown value is denied; a spec change while paused is warned, since
/// nothing of it is rolled out until the pause is lifted.
fn check_pause(request: &Request<'_>, verdict: &mut Verdict) {
    match crate::pause::paused(request.annotations) {
        Err(problem) => verdict.denials.push(problem.to_string()),
        Ok(true) if request.old_spec.is_some_and(|old| old != request.spec) => {
            verdict.warnings.push(format!(
                "metadata.annotations[{}]: reconciliation of this BigPeer is paused; this spec \
                 change is rolled out when the annotation is removed",
                crate::pause::PAUSE_ANNOTATION
            ));
        }
        Ok(_) => {}
    }
}

/// A change that removes `spec.tls` from a BigPeer that had it: allowed (plain-text serving is a
/// valid choice) but warned, because the pods then roll to serve without TLS and devices that
/// pinned HTTPS fail. Server-side apply drops the whole section when a manifest omits it, so
/// this is often an accident.
fn check_tls_removal(request: &Request<'_>, verdict: &mut Verdict) {
    if request.spec.tls.is_none() && request.old_spec.is_some_and(|old| old.tls.is_some()) {
        verdict.warnings.push(
            "spec.tls: this change removes TLS: the pods will roll to serve plain HTTP and \
             clients that connect with TLS will fail; put spec.tls back if this was not intended"
                .to_string(),
        );
    }
}

/// A refused version change with every upgrade that is allowed from the running release.
fn spell_out_paths(problem: &str, running: Option<&Version>) -> String {
    let Some(from) = running else {
        return problem.to_string();
    };
    let targets = catalogue::builtin().upgrade_targets(from);
    if targets.is_empty() {
        return format!("{problem}; {from} is the newest release, no upgrade is available");
    }
    let paths: Vec<String> = targets.iter().map(ToString::to_string).collect();
    format!(
        "{problem}; upgrades allowed from {from}: {}",
        paths.join(", ")
    )
}

/// Exposure that cannot work together: a host or node port another BigPeer already claims
/// (denied), and a host served both by the Ingress and by Gateway routes (warned).
fn check_exposure(request: &Request<'_>, verdict: &mut Verdict) {
    let claims = hosts_and_ports(request.spec);
    for neighbour in &request.neighbours {
        let theirs = hosts_and_ports(&neighbour.spec);
        for (claim, field) in &claims {
            if theirs.contains_key(claim) {
                verdict.denials.push(format!(
                    "{field}: {} is already used by BigPeer {}; two BigPeers cannot share it, choose another",
                    claim.describe(),
                    neighbour.key
                ));
            }
        }
    }
    let Some(network) = &request.spec.network else {
        return;
    };
    if let (Some(ingress), Some(gateway)) = (&network.ingress, &network.gateway) {
        for (i, host) in ingress.hosts.iter().enumerate() {
            if gateway.hostnames.contains(host) {
                verdict.warnings.push(format!(
                    "spec.network.ingress.hosts[{i}]: {host:?} is also in spec.network.gateway.hostnames; DNS can send clients to only one of them, so remove it from one once the move is done"
                ));
            }
        }
    }
}

/// Something only one BigPeer may have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    /// An HTTP host name (Ingress host or route hostname).
    Host(String),
    /// A fixed node port.
    NodePort(i32),
}

impl Claim {
    fn describe(&self) -> String {
        match self {
            Claim::Host(host) => format!("host {host:?}"),
            Claim::NodePort(port) => format!("node port {port}"),
        }
    }
}

/// The hosts and node port a spec claims, each with the field that claims it.
fn hosts_and_ports(spec: &BigPeerSpec) -> BTreeMap<Claim, String> {
    let mut claims = BTreeMap::new();
    let Some(network) = &spec.network else {
        return claims;
    };
    if let Some(port) = network.service.as_ref().and_then(|s| s.node_port) {
        claims.insert(
            Claim::NodePort(port),
            "spec.network.service.nodePort".into(),
        );
    }
    if let Some(ingress) = &network.ingress {
        for (i, host) in ingress.hosts.iter().enumerate() {
            claims.insert(
                Claim::Host(host.clone()),
                format!("spec.network.ingress.hosts[{i}]"),
            );
        }
    }
    if let Some(gateway) = &network.gateway {
        for (i, host) in gateway.hostnames.iter().enumerate() {
            claims
                .entry(Claim::Host(host.clone()))
                .or_insert_with(|| format!("spec.network.gateway.hostnames[{i}]"));
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(extra: serde_json::Value) -> BigPeerSpec {
        let mut base = json!({
            "version": "1.5.1",
            "store": {"replicas": 3, "storage": {"size": "1Gi"}},
            "transactionLog": {"strimzi": {"clusterRef": {"name": "log"}}},
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(base).expect("spec")
    }

    fn request<'a>(
        spec: &'a BigPeerSpec,
        old: Option<&'a BigPeerSpec>,
        running: Option<&'a str>,
    ) -> Request<'a> {
        Request {
            name: "bp",
            annotations: None,
            spec,
            old_spec: old,
            running,
            deleting: false,
            missing: Vec::new(),
            neighbours: Vec::new(),
        }
    }

    #[test]
    fn an_unknown_pause_value_is_denied_and_a_change_while_paused_is_warned() {
        let bp = spec(json!({}));
        let annotations = BTreeMap::from([(
            crate::pause::PAUSE_ANNOTATION.to_string(),
            "yes".to_string(),
        )]);
        let verdict = review(&Request {
            annotations: Some(&annotations),
            ..request(&bp, None, None)
        });
        assert_eq!(
            verdict.denials,
            [
                "metadata.annotations[smbp.dev/reconcile-paused]: must be \"true\" or \"false\", \
                 not \"yes\": set \"true\" to pause reconciliation of this BigPeer; remove the \
                 annotation or set \"false\" to resume"
            ]
        );
        let annotations = BTreeMap::from([(
            crate::pause::PAUSE_ANNOTATION.to_string(),
            "true".to_string(),
        )]);
        let verdict = review(&Request {
            annotations: Some(&annotations),
            ..request(&bp, Some(&bp), Some("1.5.1"))
        });
        assert!(verdict.allowed(), "{verdict:?}");
        assert!(verdict.warnings.is_empty(), "{verdict:?}");
        // A spec change while paused is allowed, with a reminder that it waits for the resume.
        let scaled = spec(json!({"sync": {"replicas": 3}}));
        let verdict = review(&Request {
            annotations: Some(&annotations),
            ..request(&scaled, Some(&bp), Some("1.5.1"))
        });
        assert!(verdict.allowed(), "{verdict:?}");
        assert_eq!(
            verdict.warnings,
            [
                "metadata.annotations[smbp.dev/reconcile-paused]: reconciliation of this BigPeer \
                 is paused; this spec change is rolled out when the annotation is removed"
            ]
        );
    }

    #[test]
    fn removing_tls_from_a_bigpeer_that_had_it_is_warned_not_denied() {
        let tls = json!({"tls": {"secretRef": {"name": "cert"}}});
        let with_tls = spec(tls.clone());
        let without = spec(json!({}));
        let verdict = review(&request(&without, Some(&with_tls), Some("1.5.1")));
        assert!(verdict.allowed(), "{verdict:?}");
        assert!(
            verdict
                .warnings
                .iter()
                .any(|w| w.starts_with("spec.tls: this change removes TLS")),
            "{verdict:?}"
        );
        let kept = review(&request(&with_tls, Some(&with_tls), Some("1.5.1")));
        assert!(
            !kept.warnings.iter().any(|w| w.starts_with("spec.tls")),
            "{kept:?}"
        );
        let created = review(&request(&without, None, None));
        assert!(
            !created.warnings.iter().any(|w| w.starts_with("spec.tls")),
            "{created:?}"
        );
    }

    #[test]
    fn a_downgrade_is_denied_with_every_allowed_path_spelled_out() {
        let old = spec(json!({"version": "1.4.1"}));
        let new = spec(json!({"version": "1.3.0"}));
        let verdict = review(&request(&new, Some(&old), Some("1.4.1")));
        assert!(!verdict.allowed());
        let denial = &verdict.denials[0];
        assert!(
            denial.starts_with("spec.version: downgrade from 1.4.1 to 1.3.0"),
            "{denial}"
        );
        assert!(
            denial.contains("upgrades allowed from 1.4.1: 1.4.1 → 1.4.2"),
            "{denial}"
        );
        assert!(denial.contains("1.4.1 → 1.4.2 → 1.5.1"), "{denial}");
    }

    #[test]
    fn an_upgrade_through_a_required_stop_is_allowed_with_its_path_as_a_warning() {
        let old = spec(json!({"version": "1.4.1"}));
        let new = spec(json!({"version": "1.5.1"}));
        let verdict = review(&request(&new, Some(&old), Some("1.4.1")));
        assert!(verdict.allowed(), "{verdict:?}");
        assert!(
            verdict
                .warnings
                .iter()
                .any(|w| w.contains("1.4.1 → 1.4.2 → 1.5.1")),
            "{verdict:?}"
        );
    }

    #[test]
    fn an_unchanged_version_is_not_checked_as_a_path_again() {
        // The pods still run 1.4.1 while an upgrade to 1.5.1 is under way; editing another
        // field must not be refused or warned about the path once more.
        let old = spec(json!({"version": "1.5.1"}));
        let new = spec(json!({"version": "1.5.1", "sync": {"replicas": 3}}));
        let verdict = review(&request(&new, Some(&old), Some("1.4.1")));
        assert!(verdict.allowed(), "{verdict:?}");
        assert!(
            !verdict.warnings.iter().any(|w| w.contains("→")),
            "{verdict:?}"
        );
    }

    #[test]
    fn invalid_specs_are_denied_with_the_field_and_deletes_never_are() {
        let bad = spec(json!({"version": "9.9.9"}));
        let verdict = review(&request(&bad, None, None));
        assert!(
            verdict.denials[0].starts_with("spec.version: 9.9.9 is not a known"),
            "{verdict:?}"
        );
        let mut deleting = request(&bad, None, None);
        deleting.deleting = true;
        assert_eq!(review(&deleting), Verdict::default());
    }

    #[test]
    fn missing_references_are_warnings_not_denials() {
        let new = spec(json!({}));
        let mut req = request(&new, None, None);
        req.missing = vec![(
            "spec.tls.certManager.issuerRef".into(),
            "Issuer default/ca does not exist".into(),
        )];
        let verdict = review(&req);
        assert!(verdict.allowed());
        assert_eq!(
            verdict.warnings,
            vec![
                "spec.tls.certManager.issuerRef: Issuer default/ca does not exist; the BigPeer waits for it (create it, or fix the reference)"
            ]
        );
    }

    #[test]
    fn hosts_and_node_ports_of_another_bigpeer_are_denied() {
        let network = json!({"network": {
            "service": {"type": "NodePort", "nodePort": 30080},
            "ingress": {"hosts": ["sync.example.com"]},
        }});
        let mine = spec(network.clone());
        let mut req = request(&mine, None, None);
        req.neighbours = vec![Neighbour {
            key: "other/edge".into(),
            spec: spec(json!({"network": {
                "service": {"type": "NodePort", "nodePort": 30080},
                "gateway": {"parentRefs": [{"name": "gw"}], "hostnames": ["sync.example.com"]},
            }})),
        }];
        let verdict = review(&req);
        assert_eq!(verdict.denials.len(), 2, "{verdict:?}");
        assert!(verdict.denials.iter().any(|d| d.starts_with(
            "spec.network.service.nodePort: node port 30080 is already used by BigPeer other/edge"
        )));
        assert!(verdict.denials.iter().any(|d| d.starts_with(
            "spec.network.ingress.hosts[0]: host \"sync.example.com\" is already used by BigPeer other/edge"
        )));
    }

    #[test]
    fn the_same_host_on_ingress_and_gateway_is_a_warning() {
        let both = spec(json!({"network": {
            "ingress": {"hosts": ["sync.example.com"]},
            "gateway": {"parentRefs": [{"name": "gw"}], "hostnames": ["sync.example.com"]},
        }}));
        let verdict = review(&request(&both, None, None));
        assert!(verdict.allowed());
        assert!(
            verdict
                .warnings
                .iter()
                .any(|w| w
                    .starts_with("spec.network.ingress.hosts[0]: \"sync.example.com\" is also in")),
            "{verdict:?}"
        );
    }
}
