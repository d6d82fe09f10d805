//! The third-party CRDs the simulated cluster can serve (vendored in `crates/smbp-sim/crds/`, see
//! its README for provenance): cert-manager, Strimzi, Prometheus Operator and Gateway API. Each
//! group is installed or not per cluster, so tests can check how the operator behaves when an
//! optional API is absent. They are created through the API server like any CRD, so their
//! objects are validated against the upstream schemas and CEL rules.

use crate::controllers::api::Api;
use serde_json::Value;
use std::sync::OnceLock;

/// Which third-party CRD groups a cluster serves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThirdPartyCrds {
    /// cert-manager: Certificate, Issuer, ClusterIssuer.
    pub cert_manager: bool,
    /// Strimzi: Kafka, KafkaNodePool, KafkaTopic, KafkaUser.
    pub strimzi: bool,
    /// Prometheus Operator: ServiceMonitor, PodMonitor, PrometheusRule.
    pub prometheus: bool,
    /// Gateway API (standard channel): GatewayClass, Gateway, HTTPRoute, GRPCRoute, TLSRoute,
    /// TCPRoute, BackendTLSPolicy, ReferenceGrant.
    pub gateway_api: bool,
}

impl ThirdPartyCrds {
    /// Every group.
    pub fn all() -> Self {
        ThirdPartyCrds {
            cert_manager: true,
            strimzi: true,
            prometheus: true,
            gateway_api: true,
        }
    }

    /// None.
    pub fn none() -> Self {
        Self::default()
    }
}

macro_rules! vendored {
    ($($path:literal),* $(,)?) => {
        [$(($path, include_str!(concat!("../crds/", $path)))),*]
    };
}

const CERT_MANAGER: [(&str, &str); 3] = vendored!(
    "cert-manager/cert-manager.io_certificates.yaml",
    "cert-manager/cert-manager.io_clusterissuers.yaml",
    "cert-manager/cert-manager.io_issuers.yaml",
);
const STRIMZI: [(&str, &str); 4] = vendored!(
    "strimzi/040-Crd-kafka.yaml",
    "strimzi/043-Crd-kafkatopic.yaml",
    "strimzi/044-Crd-kafkauser.yaml",
    "strimzi/045-Crd-kafkanodepool.yaml",
);
const PROMETHEUS: [(&str, &str); 3] = vendored!(
    "prometheus-operator/monitoring.coreos.com_podmonitors.yaml",
    "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
    "prometheus-operator/monitoring.coreos.com_servicemonitors.yaml",
);
const GATEWAY_API: [(&str, &str); 8] = vendored!(
    "gateway-api/gateway.networking.k8s.io_backendtlspolicies.yaml",
    "gateway-api/gateway.networking.k8s.io_gatewayclasses.yaml",
    "gateway-api/gateway.networking.k8s.io_gateways.yaml",
    "gateway-api/gateway.networking.k8s.io_grpcroutes.yaml",
    "gateway-api/gateway.networking.k8s.io_httproutes.yaml",
    "gateway-api/gateway.networking.k8s.io_referencegrants.yaml",
    "gateway-api/gateway.networking.k8s.io_tcproutes.yaml",
    "gateway-api/gateway.networking.k8s.io_tlsroutes.yaml",
);

/// The parsed CRDs of one group (parsed once per process).
fn parsed(
    files: &'static [(&'static str, &'static str)],
    cell: &'static OnceLock<Vec<Value>>,
) -> &'static [Value] {
    cell.get_or_init(|| {
        files
            .iter()
            .map(|(path, text)| {
                serde_yaml::from_str(text)
                    .unwrap_or_else(|e| panic!("vendored CRD {path} does not parse: {e}"))
            })
            .collect()
    })
}

/// The CRD objects of the chosen groups.
pub fn definitions(crds: &ThirdPartyCrds) -> Vec<&'static Value> {
    static CM: OnceLock<Vec<Value>> = OnceLock::new();
    static ST: OnceLock<Vec<Value>> = OnceLock::new();
    static PR: OnceLock<Vec<Value>> = OnceLock::new();
    static GW: OnceLock<Vec<Value>> = OnceLock::new();
    let mut out = Vec::new();
    if crds.cert_manager {
        out.extend(parsed(&CERT_MANAGER, &CM));
    }
    if crds.strimzi {
        out.extend(parsed(&STRIMZI, &ST));
    }
    if crds.prometheus {
        out.extend(parsed(&PROMETHEUS, &PR));
    }
    if crds.gateway_api {
        out.extend(parsed(&GATEWAY_API, &GW));
    }
    out
}

/// Creates the chosen CRDs; Err names the first one the API server refused.
pub async fn install(api: &Api, crds: &ThirdPartyCrds) -> Result<(), String> {
    for crd in definitions(crds) {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match api
            .create(
                crate::controllers::api::Gvr(
                    "apiextensions.k8s.io",
                    "v1",
                    "customresourcedefinitions",
                ),
                "",
                crd,
            )
            .await
        {
            Ok(_) => {}
            Err(error) if error.code == 409 => {}
            Err(error) => {
                return Err(format!(
                    "{name}: {}",
                    error.body["message"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}
