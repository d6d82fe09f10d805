//! The cert-manager Certificate of the sync endpoint and store replication: every in-cluster name
//! the pods are reached by, plus the user's DNS names, signed by the user's issuer.

use super::meta::Context;
use smbp_api::v1alpha1::IssuerKind;
use smbp_thirdparty::cert_manager::{
    Certificate, CertificateIssuerRef, CertificatePrivateKey, CertificatePrivateKeyAlgorithm,
    CertificatePrivateKeyRotationPolicy, CertificateSecretTemplate, CertificateSpec,
};

/// The Certificate, when `spec.tls.certManager` is set. A new key on every renewal
/// (`rotationPolicy: Always`); the Secret carries the BigPeer's labels so people find it.
pub fn certificate(ctx: &Context) -> Option<Certificate> {
    let cm = ctx.spec().tls.as_ref()?.cert_manager.as_ref()?;
    let ns = ctx.namespace();
    let names = &ctx.names;
    let mut dns_names = Vec::new();
    for service in [names.sync(), names.store()] {
        dns_names.push(service.clone());
        dns_names.push(format!("{service}.{ns}"));
        dns_names.push(format!("{service}.{ns}.svc"));
        dns_names.push(format!("{service}.{ns}.svc.cluster.local"));
    }
    dns_names.push(format!("*.{}.{ns}.svc", names.store_headless()));
    dns_names.push(format!(
        "*.{}.{ns}.svc.cluster.local",
        names.store_headless()
    ));
    for extra in &cm.dns_names {
        if !dns_names.contains(extra) {
            dns_names.push(extra.clone());
        }
    }
    let mut secret_labels = ctx.selector("tls");
    secret_labels.retain(|k, _| k != super::meta::COMPONENT_LABEL);
    let mut certificate = Certificate::new(
        &names.certificate(),
        CertificateSpec {
            secret_name: names.certificate(),
            issuer_ref: CertificateIssuerRef {
                name: cm.issuer_ref.name.clone(),
                kind: Some(
                    match cm.issuer_ref.kind {
                        IssuerKind::Issuer => "Issuer",
                        IssuerKind::ClusterIssuer => "ClusterIssuer",
                    }
                    .into(),
                ),
                group: Some(cm.issuer_ref.group.clone()),
            },
            dns_names: Some(dns_names),
            duration: cm.duration.clone(),
            renew_before: cm.renew_before.clone(),
            private_key: Some(CertificatePrivateKey {
                algorithm: Some(CertificatePrivateKeyAlgorithm::Ecdsa),
                size: Some(256),
                rotation_policy: Some(CertificatePrivateKeyRotationPolicy::Always),
                encoding: None,
            }),
            usages: Some(vec![
                "digital signature".into(),
                "key encipherment".into(),
                "server auth".into(),
                "client auth".into(),
            ]),
            secret_template: Some(CertificateSecretTemplate {
                labels: Some(secret_labels),
                annotations: None,
            }),
            ..CertificateSpec::default()
        },
    );
    certificate.metadata = ctx.meta(names.certificate(), "tls");
    Some(certificate)
}
