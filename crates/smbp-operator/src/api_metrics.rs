//! A tower layer on the operator's Kubernetes client that counts every API request by verb,
//! resource and HTTP status code (`smbp_operator_api_requests_total`), as client-go's
//! `rest_client_requests_total` does for Go operators.

use crate::metrics::{Metrics, RequestLabels};
use http::{Method, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The layer: wraps the client's service.
#[derive(Clone)]
pub struct ApiMetricsLayer {
    metrics: Arc<Metrics>,
}

impl ApiMetricsLayer {
    /// A layer counting into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for ApiMetricsLayer {
    type Service = ApiMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiMetrics {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service the layer makes.
#[derive(Clone)]
pub struct ApiMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, RB> tower::Service<Request<B>> for ApiMetrics<S>
where
    S: tower::Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (verb, resource) = classify(request.method(), request.uri());
        let metrics = self.metrics.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            let code = match &result {
                Ok(response) => response.status().as_u16().to_string(),
                Err(_) => "error".to_string(),
            };
            metrics
                .api_requests
                .get_or_create(&RequestLabels {
                    verb,
                    resource,
                    code,
                })
                .inc();
            result
        })
    }
}

/// The Kubernetes verb and resource of a request, from its method and path
/// (`/api/v1/namespaces/ns/pods/name`, `/apis/group/version/kind-plural/name/status`).
pub fn classify(method: &Method, uri: &http::Uri) -> (&'static str, String) {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let rest: &[&str] = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => &[],
    };
    // `namespaces/<ns>/<resource>...` addresses a namespaced resource; `namespaces[/<ns>]` alone
    // is the Namespace resource itself.
    let rest = match rest {
        ["namespaces", _ns, resource @ ..] if !resource.is_empty() => resource,
        other => other,
    };
    let (resource, named) = match rest {
        // Discovery and other non-resource paths (`/version`, `/apis/group/version`).
        [] => (String::from("discovery"), true),
        [resource] => ((*resource).to_string(), false),
        [resource, _name] => ((*resource).to_string(), true),
        [resource, _name, sub, ..] => (format!("{resource}/{sub}"), true),
    };
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
    let verb = match *method {
        Method::GET if watch => "watch",
        Method::GET if named => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "other",
    };
    (verb, resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(method: Method, uri: &str) -> (&'static str, String) {
        classify(&method, &uri.parse().unwrap())
    }

    #[test]
    fn verbs_and_resources_follow_the_kubernetes_path_layout() {
        assert_eq!(
            case(Method::GET, "/api/v1/namespaces/a/pods"),
            ("list", "pods".into())
        );
        assert_eq!(
            case(Method::GET, "/api/v1/pods?watch=true&resourceVersion=5"),
            ("watch", "pods".into())
        );
        assert_eq!(
            case(Method::GET, "/api/v1/namespaces/a/pods/p"),
            ("get", "pods".into())
        );
        assert_eq!(
            case(Method::GET, "/api/v1/namespaces"),
            ("list", "namespaces".into())
        );
        assert_eq!(
            case(Method::GET, "/api/v1/namespaces/a"),
            ("get", "namespaces".into())
        );
        assert_eq!(
            case(
                Method::PATCH,
                "/apis/smbp.dev/v1alpha1/namespaces/a/bigpeers/b/status?fieldManager=x"
            ),
            ("patch", "bigpeers/status".into())
        );
        assert_eq!(
            case(Method::POST, "/apis/apps/v1/namespaces/a/statefulsets"),
            ("create", "statefulsets".into())
        );
        assert_eq!(
            case(Method::DELETE, "/apis/batch/v1/namespaces/a/jobs/j"),
            ("delete", "jobs".into())
        );
        assert_eq!(
            case(Method::DELETE, "/apis/batch/v1/namespaces/a/jobs"),
            ("deletecollection", "jobs".into())
        );
        assert_eq!(
            case(
                Method::PUT,
                "/apis/coordination.k8s.io/v1/namespaces/a/leases/l"
            ),
            ("update", "leases".into())
        );
        assert_eq!(case(Method::GET, "/version"), ("get", "discovery".into()));
        assert_eq!(
            case(Method::GET, "/apis/cert-manager.io/v1"),
            ("get", "discovery".into())
        );
    }
}
