//! The operator's Kubernetes client: the usual kubeconfig or in-cluster configuration, with a
//! User-Agent naming the operator (API server audit logs and request accounting tell its
//! requests apart from everyone else's), and every request counted in the operator's metrics.

use crate::api_metrics::ApiMetricsLayer;
use crate::metrics::Metrics;
use std::path::Path;
use std::sync::Arc;

/// The User-Agent of every request the operator makes.
pub const USER_AGENT: &str = concat!("smbp-operator/", env!("CARGO_PKG_VERSION"));

/// A client from the kubeconfig at `path`, or, with `None`, from the environment (in-cluster
/// service account, `KUBECONFIG`, `~/.kube/config`). Its requests are counted in `metrics`.
pub async fn client(path: Option<&Path>, metrics: &Arc<Metrics>) -> Result<kube::Client, String> {
    let mut config = match path {
        Some(path) => {
            let kubeconfig =
                kube::config::Kubeconfig::read_from(path).map_err(|e| e.to_string())?;
            kube::Config::from_custom_kubeconfig(
                kubeconfig,
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .map_err(|e| e.to_string())?
        }
        None => kube::Config::infer().await.map_err(|e| e.to_string())?,
    };
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| e.to_string())?;
    Ok(builder
        .with_layer(&ApiMetricsLayer::new(metrics.clone()))
        .build())
}

/// A dynamic API for `resource` in `namespace`, or across all namespaces (and for
/// cluster-scoped kinds) with `None`.
pub fn dynamic_api(
    client: &kube::Client,
    namespace: Option<&str>,
    resource: &kube::api::ApiResource,
) -> kube::api::Api<kube::api::DynamicObject> {
    match namespace {
        Some(ns) => kube::api::Api::namespaced_with(client.clone(), ns, resource),
        None => kube::api::Api::all_with(client.clone(), resource),
    }
}
