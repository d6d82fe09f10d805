//! The build stage: a validated BigPeer and what the operator observed (certificate and Kafka
//! facts) become every child object the operator applies. Pure and infallible: no I/O, no error
//! path, the same input always gives the same objects (golden and property tests hold it to that).
//!
//! [`Children`] names every child kind as a field; [`Children::into_objects`] destructures it
//! without `..`, so a child that is built but never handed to the apply stage does not compile.

mod config;
mod exposure;
mod meta;
mod migration;
mod monitoring;
mod names;
mod network_policy;
mod pod;
mod rollout;
mod store;
mod sync;
mod tls;
mod transaction_log;

pub use config::{CONFIG_CHECKSUM_ANNOTATION, CONFIG_FILE, TLS_CHECKSUM_ANNOTATION};
pub use meta::{
    APPLIED_HASH_ANNOTATION, COMPONENT_LABEL, INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL,
    NAME_LABEL, OWNER_NAMESPACE_LABEL, PART_OF, VERSION_LABEL, instance_selector,
};
pub use migration::MIGRATION_PHASE_LABEL;
pub use monitoring::RUNBOOK_BASE;
pub use names::Names;
pub use rollout::{Migration, MigrationPhase, ReleaseImage, Rollout};

use crate::catalogue::{self, ImageRef};
use crate::validation::{self, Report};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Resource;
use kube::core::ApiResource;
use semver::Version;
use serde::Serialize;
use smbp_api::v1alpha1::BigPeer;
use smbp_api::v1alpha1::BigPeerSpec;
use smbp_thirdparty::cert_manager::Certificate;
use smbp_thirdparty::gateway::{BackendTlsPolicy, GrpcRoute, HttpRoute, TcpRoute, TlsRoute};
use smbp_thirdparty::prometheus::{PrometheusRule, ServiceMonitor};
use smbp_thirdparty::strimzi::{KafkaTopic, KafkaUser};
use std::collections::BTreeMap;

/// A BigPeer whose spec passed validation, with the image its version resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedBigPeer {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`, for owner references.
    pub uid: String,
    /// The spec, as stored (the API server applied the CRD defaults).
    pub spec: BigPeerSpec,
    /// The image `spec.version` resolves to through the catalogue and `spec.image`.
    pub image: ImageRef,
}

impl ValidatedBigPeer {
    /// Validates `bigpeer` (see [`crate::validation::validate`]) and resolves its image.
    /// `running` is the version its pods run now, when known. On success the report holds only
    /// warnings; on failure it holds at least one error.
    pub fn new(bigpeer: &BigPeer, running: Option<&Version>) -> Result<(Self, Report), Report> {
        let name = bigpeer.metadata.name.as_deref().unwrap_or_default();
        let mut report = validation::validate(name, &bigpeer.spec, running);
        if let Err(problem) = crate::pause::paused(bigpeer.metadata.annotations.as_ref()) {
            report.problems.push(problem);
        }
        if !report.is_valid() {
            return Err(report);
        }
        let catalogue = catalogue::builtin();
        let release = Version::parse(&bigpeer.spec.version)
            .ok()
            .and_then(|v| catalogue.installable(&v).ok());
        let Some(release) = release else {
            // validate() checks the version against the catalogue; this is only reached if the
            // two ever disagree, and then the version is what the user must change.
            report.problems.push(validation::Problem {
                severity: validation::Severity::Error,
                field: "spec.version".into(),
                message: "is not an installable release of the catalogue".into(),
            });
            return Err(report);
        };
        let overrides = bigpeer.spec.image.as_ref();
        let image = catalogue.image(
            release,
            overrides.and_then(|i| i.repository.as_deref()),
            overrides.and_then(|i| i.digest.as_deref()),
        );
        let validated = ValidatedBigPeer {
            name: bigpeer.metadata.name.clone().unwrap_or_default(),
            namespace: bigpeer.metadata.namespace.clone().unwrap_or_default(),
            uid: bigpeer.metadata.uid.clone().unwrap_or_default(),
            spec: bigpeer.spec.clone(),
            image,
        };
        validation::check_pod_templates(&mut report, &validated);
        if !report.is_valid() {
            return Err(report);
        }
        Ok((validated, report))
    }
}

/// What the dereference stage read from other objects and the build needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// A digest of the TLS Secret's data; a change rolls the pods.
    pub tls_checksum: Option<String>,
    /// The bootstrap address of the Strimzi cluster's listener matching the authentication, from
    /// the Kafka's status. Unset until Strimzi reports it; the conventional address is used.
    pub kafka_bootstrap: Option<String>,
    /// The data of the Secret Strimzi created for the KafkaUser, when the Kafka cluster is in
    /// another namespace and the pods need a copy in theirs.
    pub kafka_user_secret: Option<BTreeMap<String, ByteString>>,
    /// The CA certificate (PEM) in the TLS Secret's `ca.crt`, for the Gateway to verify the sync
    /// pods with (`spec.network.gateway.backendTLS`). Unset when the Secret has none.
    pub tls_ca: Option<String>,
    /// Where the alerts' runbook links point (the operator's `--runbook-base-url`, for clusters
    /// that cannot reach GitHub); unset: the project's docs/runbooks.md on GitHub.
    pub runbook_base_url: Option<String>,
}

/// Everything the build stage produces for one BigPeer: each child kind is a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Children {
    /// The pods' service account, unless `spec.security.serviceAccount.create` is false.
    pub service_account: Option<ServiceAccount>,
    /// The rendered configuration file.
    pub config: ConfigMap,
    /// The store.
    pub store: StatefulSet,
    /// The store's headless Service (per-pod DNS for replication).
    pub store_headless: Service,
    /// The store's client Service.
    pub store_service: Service,
    /// The store's disruption budget.
    pub store_pdb: PodDisruptionBudget,
    /// The sync tier.
    pub sync: Deployment,
    /// The migration Jobs the upgrade in progress runs or still needs to read.
    pub migrations: Vec<Job>,
    /// The Service devices reach the sync tier through (type and annotations from the spec).
    pub sync_service: Service,
    /// The sync tier's autoscaler, when autoscaling is set.
    pub sync_hpa: Option<HorizontalPodAutoscaler>,
    /// The Service the metrics of every pod are scraped through.
    pub metrics_service: Service,
    /// The Ingress, when `spec.network.ingress` is set.
    pub ingress: Option<Ingress>,
    /// The HTTPRoute, when `spec.network.gateway` asks for one.
    pub http_route: Option<HttpRoute>,
    /// The GRPCRoute, when `spec.network.gateway` asks for one.
    pub grpc_route: Option<GrpcRoute>,
    /// The TLSRoute, when `spec.network.gateway` asks for one.
    pub tls_route: Option<TlsRoute>,
    /// The TCPRoute, when `spec.network.gateway` asks for one.
    pub tcp_route: Option<TcpRoute>,
    /// The ConfigMap with the CA the Gateway verifies the sync pods with, when
    /// `spec.network.gateway.backendTLS` is set and the TLS Secret has a CA.
    pub backend_ca: Option<ConfigMap>,
    /// The BackendTLSPolicy on the sync Service, built with `backend_ca`.
    pub backend_tls_policy: Option<BackendTlsPolicy>,
    /// The cert-manager Certificate, when `spec.tls.certManager` is set.
    pub certificate: Option<Certificate>,
    /// The Strimzi topic, when `spec.transactionLog.strimzi` is set.
    pub kafka_topic: Option<KafkaTopic>,
    /// The Strimzi user, when `spec.transactionLog.strimzi` is set.
    pub kafka_user: Option<KafkaUser>,
    /// A copy of the Strimzi user's Secret, when the Kafka cluster is in another namespace.
    pub kafka_credentials: Option<Secret>,
    /// The ServiceMonitor, when enabled.
    pub service_monitor: Option<ServiceMonitor>,
    /// The PrometheusRule, when enabled.
    pub prometheus_rule: Option<PrometheusRule>,
    /// The Grafana dashboards, when enabled.
    pub dashboards: Option<ConfigMap>,
    /// The NetworkPolicies, unless disabled.
    pub network_policies: Vec<NetworkPolicy>,
}

/// An API the operator uses only when it is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OptionalApi {
    /// cert-manager (`cert-manager.io/v1`).
    CertManager,
    /// Strimzi (`kafka.strimzi.io/v1`).
    Strimzi,
    /// Prometheus Operator (`monitoring.coreos.com/v1`).
    PrometheusOperator,
    /// Gateway API (`gateway.networking.k8s.io/v1`): HTTPRoute and GRPCRoute.
    GatewayApi,
    /// Gateway API's TLSRoute at `v1` (older Gateway API releases serve it only as an alpha).
    GatewayTlsRoute,
    /// Gateway API's TCPRoute at `v1` (older Gateway API releases serve it only as an alpha).
    GatewayTcpRoute,
    /// Gateway API's BackendTLSPolicy at `v1` (Gateway API 1.4 and newer).
    GatewayBackendTls,
}

impl OptionalApi {
    /// Every optional API.
    pub const ALL: [OptionalApi; 7] = [
        OptionalApi::CertManager,
        OptionalApi::Strimzi,
        OptionalApi::PrometheusOperator,
        OptionalApi::GatewayApi,
        OptionalApi::GatewayTlsRoute,
        OptionalApi::GatewayTcpRoute,
        OptionalApi::GatewayBackendTls,
    ];

    /// The API group and version the operator needs.
    pub fn group_version(self) -> (&'static str, &'static str) {
        match self {
            OptionalApi::CertManager => ("cert-manager.io", "v1"),
            OptionalApi::Strimzi => ("kafka.strimzi.io", "v1"),
            OptionalApi::PrometheusOperator => ("monitoring.coreos.com", "v1"),
            OptionalApi::GatewayApi
            | OptionalApi::GatewayTlsRoute
            | OptionalApi::GatewayTcpRoute
            | OptionalApi::GatewayBackendTls => ("gateway.networking.k8s.io", "v1"),
        }
    }

    /// The resource (plural) the group version must serve for the API to count as installed,
    /// when one kind of it is needed; `None` when any resource of the group version will do.
    /// A Gateway API release serves some kinds at `v1` and others not yet.
    pub fn resource(self) -> Option<&'static str> {
        match self {
            OptionalApi::GatewayTlsRoute => Some("tlsroutes"),
            OptionalApi::GatewayTcpRoute => Some("tcproutes"),
            OptionalApi::GatewayBackendTls => Some("backendtlspolicies"),
            _ => None,
        }
    }

    /// Which releases of the product serve what the operator needs, for docs/compatibility.md.
    pub fn serving_releases(self) -> &'static str {
        match self {
            OptionalApi::CertManager => "1.0 and newer",
            OptionalApi::Strimzi => "0.49 and newer (0.48 and older serve only `v1beta2`)",
            OptionalApi::PrometheusOperator => {
                "any serving ServiceMonitor and PrometheusRule at `v1` (CRDs of 0.93.0 tested)"
            }
            OptionalApi::GatewayApi => "1.1 and newer (GRPCRoute `v1`; HTTPRoute `v1` since 1.0)",
            OptionalApi::GatewayTlsRoute | OptionalApi::GatewayTcpRoute => {
                "those whose standard channel serves it at `v1` (older ones serve only alphas)"
            }
            OptionalApi::GatewayBackendTls => "1.4 and newer",
        }
    }

    /// The product name, for conditions and Events.
    pub fn product(self) -> &'static str {
        match self {
            OptionalApi::CertManager => "cert-manager",
            OptionalApi::Strimzi => "Strimzi",
            OptionalApi::PrometheusOperator => "Prometheus Operator",
            OptionalApi::GatewayApi => "Gateway API",
            OptionalApi::GatewayTlsRoute => "Gateway API TLSRoute",
            OptionalApi::GatewayTcpRoute => "Gateway API TCPRoute",
            OptionalApi::GatewayBackendTls => "Gateway API BackendTLSPolicy",
        }
    }
}

/// The kind of a child object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChildKind {
    /// `v1 ServiceAccount`.
    ServiceAccount,
    /// `v1 ConfigMap`.
    ConfigMap,
    /// `v1 Secret`.
    Secret,
    /// `apps/v1 StatefulSet`.
    StatefulSet,
    /// `v1 Service`.
    Service,
    /// `policy/v1 PodDisruptionBudget`.
    PodDisruptionBudget,
    /// `apps/v1 Deployment`.
    Deployment,
    /// `autoscaling/v2 HorizontalPodAutoscaler`.
    HorizontalPodAutoscaler,
    /// `batch/v1 Job` (migrations).
    Job,
    /// `networking.k8s.io/v1 Ingress`.
    Ingress,
    /// `networking.k8s.io/v1 NetworkPolicy`.
    NetworkPolicy,
    /// `gateway.networking.k8s.io/v1 HTTPRoute`.
    HttpRoute,
    /// `gateway.networking.k8s.io/v1 GRPCRoute`.
    GrpcRoute,
    /// `gateway.networking.k8s.io/v1 TLSRoute`.
    TlsRoute,
    /// `gateway.networking.k8s.io/v1 TCPRoute`.
    TcpRoute,
    /// `gateway.networking.k8s.io/v1 BackendTLSPolicy`.
    BackendTlsPolicy,
    /// `cert-manager.io/v1 Certificate`.
    Certificate,
    /// `kafka.strimzi.io/v1 KafkaTopic`.
    KafkaTopic,
    /// `kafka.strimzi.io/v1 KafkaUser`.
    KafkaUser,
    /// `monitoring.coreos.com/v1 ServiceMonitor`.
    ServiceMonitor,
    /// `monitoring.coreos.com/v1 PrometheusRule`.
    PrometheusRule,
}

impl ChildKind {
    /// Every kind, in apply order: identity and configuration first, then the workloads, then
    /// what points at them.
    pub const ALL: [ChildKind; 21] = [
        ChildKind::ServiceAccount,
        ChildKind::ConfigMap,
        ChildKind::Secret,
        ChildKind::Certificate,
        ChildKind::KafkaTopic,
        ChildKind::KafkaUser,
        ChildKind::Service,
        ChildKind::StatefulSet,
        ChildKind::PodDisruptionBudget,
        ChildKind::Deployment,
        ChildKind::HorizontalPodAutoscaler,
        ChildKind::Job,
        ChildKind::NetworkPolicy,
        ChildKind::Ingress,
        ChildKind::HttpRoute,
        ChildKind::GrpcRoute,
        ChildKind::TlsRoute,
        ChildKind::TcpRoute,
        ChildKind::BackendTlsPolicy,
        ChildKind::ServiceMonitor,
        ChildKind::PrometheusRule,
    ];

    /// Group, version, kind and plural of the kind.
    pub fn api_resource(self) -> ApiResource {
        fn of<K: Resource<DynamicType = ()>>() -> ApiResource {
            ApiResource::erase::<K>(&())
        }
        match self {
            ChildKind::ServiceAccount => of::<ServiceAccount>(),
            ChildKind::ConfigMap => of::<ConfigMap>(),
            ChildKind::Secret => of::<Secret>(),
            ChildKind::StatefulSet => of::<StatefulSet>(),
            ChildKind::Service => of::<Service>(),
            ChildKind::PodDisruptionBudget => of::<PodDisruptionBudget>(),
            ChildKind::Deployment => of::<Deployment>(),
            ChildKind::HorizontalPodAutoscaler => of::<HorizontalPodAutoscaler>(),
            ChildKind::Job => of::<Job>(),
            ChildKind::Ingress => of::<Ingress>(),
            ChildKind::NetworkPolicy => of::<NetworkPolicy>(),
            ChildKind::HttpRoute => of::<HttpRoute>(),
            ChildKind::GrpcRoute => of::<GrpcRoute>(),
            ChildKind::TlsRoute => of::<TlsRoute>(),
            ChildKind::TcpRoute => of::<TcpRoute>(),
            ChildKind::BackendTlsPolicy => of::<BackendTlsPolicy>(),
            ChildKind::Certificate => of::<Certificate>(),
            ChildKind::KafkaTopic => of::<KafkaTopic>(),
            ChildKind::KafkaUser => of::<KafkaUser>(),
            ChildKind::ServiceMonitor => of::<ServiceMonitor>(),
            ChildKind::PrometheusRule => of::<PrometheusRule>(),
        }
    }

    /// The optional API the kind belongs to, if any.
    pub fn optional_api(self) -> Option<OptionalApi> {
        match self {
            ChildKind::HttpRoute | ChildKind::GrpcRoute => Some(OptionalApi::GatewayApi),
            ChildKind::TlsRoute => Some(OptionalApi::GatewayTlsRoute),
            ChildKind::TcpRoute => Some(OptionalApi::GatewayTcpRoute),
            ChildKind::BackendTlsPolicy => Some(OptionalApi::GatewayBackendTls),
            ChildKind::Certificate => Some(OptionalApi::CertManager),
            ChildKind::KafkaTopic | ChildKind::KafkaUser => Some(OptionalApi::Strimzi),
            ChildKind::ServiceMonitor | ChildKind::PrometheusRule => {
                Some(OptionalApi::PrometheusOperator)
            }
            _ => None,
        }
    }
}

/// One child object, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    /// Its kind.
    pub kind: ChildKind,
    /// Its namespace (the BigPeer's, or the Kafka cluster's for Strimzi objects).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The object, with apiVersion and kind, as it is applied.
    pub object: serde_json::Value,
}

impl Children {
    /// Every child object, in [`ChildKind::ALL`] order. Destructures `self` completely: a new
    /// field must be handed on here, or this does not compile.
    pub fn into_objects(self) -> Vec<Child> {
        let Children {
            service_account,
            config,
            store,
            store_headless,
            store_service,
            store_pdb,
            sync,
            migrations,
            sync_service,
            sync_hpa,
            metrics_service,
            ingress,
            http_route,
            grpc_route,
            tls_route,
            tcp_route,
            backend_ca,
            backend_tls_policy,
            certificate,
            kafka_topic,
            kafka_user,
            kafka_credentials,
            service_monitor,
            prometheus_rule,
            dashboards,
            network_policies,
        } = self;
        let mut out = Vec::new();
        push_all(&mut out, ChildKind::ServiceAccount, service_account);
        push_all(&mut out, ChildKind::ConfigMap, Some(config));
        push_all(&mut out, ChildKind::ConfigMap, dashboards);
        push_all(&mut out, ChildKind::ConfigMap, backend_ca);
        push_all(&mut out, ChildKind::Secret, kafka_credentials);
        push_all(&mut out, ChildKind::Certificate, certificate);
        push_all(&mut out, ChildKind::KafkaTopic, kafka_topic);
        push_all(&mut out, ChildKind::KafkaUser, kafka_user);
        push_all(
            &mut out,
            ChildKind::Service,
            [store_headless, store_service, sync_service, metrics_service],
        );
        push_all(&mut out, ChildKind::StatefulSet, Some(store));
        push_all(&mut out, ChildKind::PodDisruptionBudget, Some(store_pdb));
        push_all(&mut out, ChildKind::Deployment, Some(sync));
        push_all(&mut out, ChildKind::HorizontalPodAutoscaler, sync_hpa);
        push_all(&mut out, ChildKind::Job, migrations);
        push_all(&mut out, ChildKind::NetworkPolicy, network_policies);
        push_all(&mut out, ChildKind::Ingress, ingress);
        push_all(&mut out, ChildKind::HttpRoute, http_route);
        push_all(&mut out, ChildKind::GrpcRoute, grpc_route);
        push_all(&mut out, ChildKind::TlsRoute, tls_route);
        push_all(&mut out, ChildKind::TcpRoute, tcp_route);
        push_all(&mut out, ChildKind::BackendTlsPolicy, backend_tls_policy);
        push_all(&mut out, ChildKind::ServiceMonitor, service_monitor);
        push_all(&mut out, ChildKind::PrometheusRule, prometheus_rule);
        out
    }
}

fn push_all<K, I>(out: &mut Vec<Child>, kind: ChildKind, objects: I)
where
    K: Resource<DynamicType = ()> + Serialize,
    I: IntoIterator<Item = K>,
{
    for object in objects {
        let meta = object.meta();
        let (namespace, name) = (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        );
        let mut value = serde_json::to_value(&object).expect("Kubernetes objects serialize");
        value["apiVersion"] = K::api_version(&()).into();
        value["kind"] = K::kind(&()).into();
        meta::stamp_applied_hash(&mut value);
        out.push(Child {
            kind,
            namespace,
            name,
            object: value,
        });
    }
}

/// Builds every child of `bigpeer`, its workloads running what `rollout` says.
pub fn build(bigpeer: &ValidatedBigPeer, observed: &Observed, rollout: &Rollout) -> Children {
    let ctx = meta::Context::new(bigpeer);
    let config = config::config_map(&ctx, observed);
    let checksums = config::pod_checksums(&config, observed);
    let (kafka_topic, kafka_user, kafka_credentials) = transaction_log::children(&ctx, observed);
    let (service_monitor, prometheus_rule, dashboards) = monitoring::children(&ctx, observed);
    Children {
        service_account: meta::service_account(&ctx),
        store: store::stateful_set(&ctx, &checksums, rollout),
        store_headless: store::headless_service(&ctx),
        store_service: store::client_service(&ctx),
        store_pdb: store::disruption_budget(&ctx),
        sync: sync::deployment(&ctx, &checksums, &rollout.sync),
        migrations: migration::jobs(&ctx, &checksums, &rollout.migrations),
        sync_service: sync::service(&ctx),
        sync_hpa: sync::autoscaler(&ctx),
        metrics_service: monitoring::metrics_service(&ctx),
        ingress: exposure::ingress(&ctx),
        http_route: exposure::http_route(&ctx),
        grpc_route: exposure::grpc_route(&ctx),
        tls_route: exposure::tls_route(&ctx),
        tcp_route: exposure::tcp_route(&ctx),
        backend_ca: exposure::backend_ca(&ctx, observed),
        backend_tls_policy: exposure::backend_tls_policy(&ctx, observed),
        certificate: tls::certificate(&ctx),
        kafka_topic,
        kafka_user,
        kafka_credentials,
        service_monitor,
        prometheus_rule,
        dashboards,
        network_policies: network_policy::policies(&ctx),
        config,
    }
}

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod tests;
