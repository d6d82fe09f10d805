//! `smbp.dev/v1alpha1`: the `BigPeer` kind and every section of its spec and status.
//!
//! One module per spec section keeps each small enough to read in one sitting; this module holds
//! the root (`BigPeerSpec`) and the rules that span sections.

mod common;
mod monitoring;
mod network;
mod scheduling;
mod security;
mod status;
mod store;
mod sync;
mod tls;
mod transaction_log;
mod upgrade;
mod workload;

pub use common::*;
pub use monitoring::*;
pub use network::*;
pub use scheduling::*;
pub use security::*;
pub use status::*;
pub use store::*;
pub use sync::*;
pub use tls::*;
pub use transaction_log::*;
pub use upgrade::*;
pub use workload::*;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

/// The API version of this module's kinds.
pub const VERSION: &str = "v1alpha1";

/// The desired state of a BigPeer deployment.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "smbp.dev",
    version = "v1alpha1",
    kind = "BigPeer",
    plural = "bigpeers",
    singular = "bigpeer",
    shortname = "bp",
    category = "smbp",
    namespaced,
    status = "BigPeerStatus",
    derive = "PartialEq",
    doc = "A BigPeer deployment: the replicated store, the sync tier devices connect to, its transaction log, TLS, exposure, monitoring and security, kept healthy and upgraded by the SMBP operator.",
    printcolumn(name = "Version", type_ = "string", json_path = ".status.version.current", description = "Product version the pods run"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status", description = "Whether every component is ready"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase", description = "Lifecycle phase"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("size(self.metadata.name) <= 40").message("metadata.name must be at most 40 characters: child objects (for example <name>-store-headless and pod names) must fit Kubernetes' 63-character limit; choose a shorter name"),
)]
#[x_kube(
    validation = Rule::new("!has(self.upgrade) || self.upgrade.maxUnavailable == 1 || self.upgrade.maxUnavailable < self.store.replicas")
        .message("spec.upgrade.maxUnavailable must be lower than spec.store.replicas so at least one store pod serves during an upgrade; lower maxUnavailable or add store replicas")
        .field_path(".upgrade.maxUnavailable"),
    validation = Rule::new("!has(self.network) || !has(self.network.ingress) || !has(self.network.ingress.tls) || !self.network.ingress.tls.useBigPeerCertificate || has(self.tls)")
        .message("spec.network.ingress.tls.useBigPeerCertificate needs spec.tls to be set; configure spec.tls or name a secret in spec.network.ingress.tls.secretName")
        .field_path(".network.ingress.tls.useBigPeerCertificate"),
    validation = Rule::new("!has(self.network) || !has(self.network.gateway) || !has(self.network.gateway.routeKind) || self.network.gateway.routeKind != 'TLSRoute' || has(self.tls)")
        .message("spec.network.gateway.routeKind TLSRoute passes TLS through to the sync pods, which need a certificate: configure spec.tls (certManager or secretRef), or use routeKind HTTPRoute with TLS at the Gateway")
        .field_path(".network.gateway.routeKind"),
    validation = Rule::new("!has(self.network) || !has(self.network.gateway) || !has(self.network.gateway.backendTLS) || !self.network.gateway.backendTLS || has(self.tls)")
        .message("spec.network.gateway.backendTLS needs the sync pods to serve TLS: configure spec.tls (certManager or secretRef), or set backendTLS to false")
        .field_path(".network.gateway.backendTLS"),
)]
#[serde(rename_all = "camelCase")]
pub struct BigPeerSpec {
    /// The Big Peer product version to run, as a semantic version (for example `1.5.1`). The
    /// operator maps it to an image through its release catalogue. To upgrade, change this field;
    /// the operator runs pre-flight checks, migrations and an ordered rollout. Downgrades are
    /// rejected.
    #[x_kube(
        validation = Rule::new("isSemver(self)").message("spec.version must be a semantic version such as 1.5.1"),
        validation = Rule::new("!isSemver(self) || !isSemver(oldSelf) || semver(self).compareTo(semver(oldSelf)) >= 0")
            .message("spec.version cannot be lowered (downgrades are not supported): set it back to the running version or higher; to return to an older release, restore from backup into a new BigPeer")
            .reason(Reason::FieldValueForbidden),
    )]
    #[schemars(length(min = 1, max = 64))]
    pub version: String,

    /// Overrides of the image the release catalogue selects, for mirrors and air-gapped
    /// registries. Leave unset to use the catalogue's image for `spec.version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageOverride>,

    /// The replicated document store (a StatefulSet with one volume per replica).
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub store: StoreSpec,

    /// The stateless sync tier that devices connect to (a Deployment, optionally autoscaled).
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub sync: SyncSpec,

    /// The transaction log that orders every write: a topic on a Strimzi-managed Kafka cluster or
    /// an external Kafka-compatible broker. Exactly one of `strimzi` or `external` must be set.
    pub transaction_log: TransactionLogSpec,

    /// TLS for the sync endpoint and store replication. Unset means plaintext inside the cluster
    /// (exposure may still terminate TLS at an Ingress or Gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,

    /// How devices reach the sync tier: a Service of any type, an Ingress, Gateway API routes, or
    /// any combination. No ingress controller is assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkSpec>,

    /// Prometheus Operator and Grafana integration; each part is created only when enabled here
    /// and only when its CRD is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSpec>,

    /// Pod and container security contexts, NetworkPolicies and the service account.
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub security: SecuritySpec,

    /// How version upgrades are rolled out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeSpec>,

    /// Overrides of the workload contract (ports, probe paths, migration command) for images that
    /// differ from the documented defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadContract>,
}
