//! `spec.tls`: the certificate of the sync endpoint and store replication, issued by cert-manager
//! or supplied as a Secret.

use super::SecretRef;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// TLS for the sync endpoint and store replication. Exactly one of `certManager` or `secretRef`.
/// A changed certificate rolls the pods one at a time.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.certManager) != has(self.secretRef)")
    .message("spec.tls must set exactly one of certManager or secretRef"))]
pub struct TlsSpec {
    /// Have cert-manager issue and renew the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_manager: Option<CertManagerTls>,

    /// Use a Secret of type `kubernetes.io/tls` you manage (keys `tls.crt`, `tls.key`, and
    /// optionally `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretRef>,
}

/// A certificate issued by cert-manager.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.renewBefore) || !has(self.duration) || self.renewBefore < self.duration")
    .message("spec.tls.certManager.renewBefore must be shorter than duration: lower renewBefore (for example a third of duration)")
    .field_path(".renewBefore"))]
pub struct CertManagerTls {
    /// The cert-manager Issuer or ClusterIssuer that signs the certificate.
    pub issuer_ref: IssuerRef,

    /// Extra DNS names for the certificate, such as the public host devices use. The in-cluster
    /// Service names are always included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(max = 253)))]
    #[x_kube(validation = Rule::new("self.all(n, n.matches('^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))")
        .message("spec.tls.certManager.dnsNames entries must be lower-case DNS names (a leading '*.' is allowed), for example sync.example.com"))]
    pub dns_names: Vec<DnsName>,

    /// Requested lifetime of the certificate (for example `2160h`). Unset uses the issuer's
    /// default. At least 1h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('1h')").message("spec.tls.certManager.duration must be at least 1h (cert-manager's minimum)"))]
    pub duration: Option<String>,

    /// How long before expiry cert-manager renews (for example `360h`). Unset uses cert-manager's
    /// default of a third of the duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('5m')").message("spec.tls.certManager.renewBefore must be at least 5m"))]
    pub renew_before: Option<String>,
}

/// One DNS name.
pub type DnsName = String;

/// A reference to a cert-manager issuer.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    /// Name of the Issuer or ClusterIssuer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// `Issuer` (in the BigPeer's namespace) or `ClusterIssuer`. Defaults to `Issuer`.
    #[serde(default)]
    pub kind: IssuerKind,
    /// API group of the issuer. Defaults to `cert-manager.io`; set it for external issuers
    /// (for example `awspca.cert-manager.io`).
    #[serde(default = "crate::defaults::issuer_group")]
    #[schemars(length(min = 1, max = 253))]
    pub group: String,
}

/// The kind of a cert-manager issuer.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum IssuerKind {
    /// A namespaced Issuer in the BigPeer's namespace.
    #[default]
    Issuer,
    /// A cluster-wide ClusterIssuer.
    ClusterIssuer,
}
