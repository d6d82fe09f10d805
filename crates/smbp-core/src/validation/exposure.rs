//! `spec.network`: the annotations put on the Service and the Ingress, Ingress hosts listed once
//! and covered by the BigPeer's certificate, and the SNI names of a TLSRoute covered by it too
//! (the sync pods terminate that TLS with the BigPeer's certificate).

use super::Report;
use super::kubernetes::{invalid, meta, names};
use super::security::OPERATOR_ANNOTATIONS;
use smbp_api::v1alpha1::{BigPeerSpec, NetworkSpec, RouteKind};
use std::collections::BTreeSet;

/// Checks `network`, part of `spec`.
pub(super) fn check(report: &mut Report, network: &NetworkSpec, spec: &BigPeerSpec) {
    if let Some(service) = &network.service {
        let path = "spec.network.service.annotations";
        meta::annotations(report, &service.annotations, path, OPERATOR_ANNOTATIONS);
        if let Some(class) = &service.load_balancer_class {
            // `ValidateService`: `ValidateQualifiedName` of the load balancer class.
            for msg in names::qualified_name(class) {
                report.error(
                    "spec.network.service.loadBalancerClass",
                    invalid(class, &msg),
                );
            }
        }
    }
    gateway(report, network, spec);
    let Some(ingress) = &network.ingress else {
        return;
    };
    if let Some(class) = &ingress.ingress_class_name {
        // `ValidateIngressSpec`: `ValidateIngressClassName`, a DNS subdomain.
        for msg in names::dns1123_subdomain(class) {
            report.error(
                "spec.network.ingress.ingressClassName",
                invalid(class, &msg),
            );
        }
    }
    let path = "spec.network.ingress.annotations";
    meta::annotations(report, &ingress.annotations, path, OPERATOR_ANNOTATIONS);
    let mut seen = BTreeSet::new();
    for (i, host) in ingress.hosts.iter().enumerate() {
        if !seen.insert(host) {
            report.error(
                format!("spec.network.ingress.hosts[{i}]"),
                format!("{host:?} is listed twice; remove the repeat"),
            );
        }
    }
    if let (Some(tls), Some(dns_names)) = (&ingress.tls, certificate_names(spec))
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

/// The extra DNS names of a cert-manager certificate (the in-cluster names are always there).
fn certificate_names(spec: &BigPeerSpec) -> Option<&Vec<String>> {
    spec.tls
        .as_ref()
        .and_then(|t| t.cert_manager.as_ref())
        .map(|c| &c.dns_names)
}

/// A TLSRoute's host names are the SNI names devices connect with, and the sync pods answer
/// them with the BigPeer's certificate: a cert-manager certificate must cover each.
fn gateway(report: &mut Report, network: &NetworkSpec, spec: &BigPeerSpec) {
    let Some(gateway) = network
        .gateway
        .as_ref()
        .filter(|g| g.route_kind == RouteKind::TLSRoute)
    else {
        return;
    };
    let Some(dns_names) = certificate_names(spec) else {
        return;
    };
    for (i, host) in gateway.hostnames.iter().enumerate() {
        if !dns_names.iter().any(|name| dns_name_covers(name, host)) {
            report.error(
                format!("spec.network.gateway.hostnames[{i}]"),
                format!("{host:?} is not among spec.tls.certManager.dnsNames, and the sync pods terminate the TLSRoute's TLS with that certificate, so devices would reject it; add it to dnsNames"),
            );
        }
    }
}

/// Whether certificate name `name` (possibly `*.zone`) matches `host`.
pub(super) fn dns_name_covers(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(zone) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == zone),
        None => name == host,
    }
}
