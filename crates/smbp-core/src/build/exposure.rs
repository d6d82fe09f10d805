//! Exposure beyond the sync Service: an Ingress for any ingress controller (class and annotations
//! from the spec, none of the operator's own) and Gateway API routes attached to the user's
//! Gateways — HTTPRoute, GRPCRoute, TLSRoute (passthrough: the sync pods terminate TLS) or
//! TCPRoute — with, for end-to-end TLS, a BackendTLSPolicy and the CA ConfigMap it names. Each is
//! built only when its section of `spec.network` is set.

use super::Observed;
use super::meta::Context;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use smbp_api::v1alpha1::{GatewayExposure, GatewayParentRef, RouteKind};
use smbp_thirdparty::gateway::{
    BackendTlsPolicy, BackendTlsPolicySpec, BackendTlsPolicyTargetRefs, BackendTlsPolicyValidation,
    BackendTlsPolicyValidationCaCertificateRefs, GrpcRoute, GrpcRouteRules,
    GrpcRouteRulesBackendRefs, GrpcRouteSpec, HttpRoute, HttpRouteRules, HttpRouteRulesBackendRefs,
    HttpRouteSpec, TcpRoute, TcpRouteRules, TcpRouteRulesBackendRefs, TcpRouteSpec, TlsRoute,
    TlsRouteRules, TlsRouteRulesBackendRefs, TlsRouteSpec,
};
use std::collections::BTreeMap;

const COMPONENT: &str = "exposure";
const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// The Ingress, when `spec.network.ingress` is set: every host routes `/` to the sync Service.
pub fn ingress(ctx: &Context) -> Option<Ingress> {
    let spec = ctx.spec().network.as_ref()?.ingress.as_ref()?;
    let mut meta = ctx.meta(ctx.names.sync(), COMPONENT);
    if !spec.annotations.is_empty() {
        meta.annotations = Some(spec.annotations.clone());
    }
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: ctx.names.sync(),
            port: Some(ServiceBackendPort {
                name: Some("http".into()),
                number: None,
            }),
        }),
        ..IngressBackend::default()
    };
    let rules = spec
        .hosts
        .iter()
        .map(|host| IngressRule {
            host: Some(host.clone()),
            http: Some(HTTPIngressRuleValue {
                paths: vec![HTTPIngressPath {
                    path: Some("/".into()),
                    path_type: "Prefix".into(),
                    backend: backend.clone(),
                }],
            }),
        })
        .collect();
    let tls = spec.tls.as_ref().and_then(|tls| {
        let secret = match (&tls.secret_name, tls.use_big_peer_certificate) {
            (Some(name), _) => Some(name.clone()),
            (None, true) => ctx.spec().tls.as_ref().map(|t| match &t.secret_ref {
                Some(r) => r.name.clone(),
                None => ctx.names.certificate(),
            }),
            (None, false) => None,
        };
        secret.map(|secret_name| {
            vec![IngressTLS {
                hosts: Some(spec.hosts.clone()),
                secret_name: Some(secret_name),
            }]
        })
    });
    Some(Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: spec.ingress_class_name.clone(),
            rules: Some(rules),
            tls,
            ..IngressSpec::default()
        }),
        status: None,
    })
}

fn gateway<'a>(ctx: &Context<'a>, kind: RouteKind) -> Option<&'a GatewayExposure> {
    ctx.bigpeer
        .spec
        .network
        .as_ref()?
        .gateway
        .as_ref()
        .filter(|g| g.route_kind == kind)
}

fn hostnames(spec: &GatewayExposure) -> Option<Vec<String>> {
    (!spec.hostnames.is_empty()).then(|| spec.hostnames.clone())
}

/// The route's parent references, typed as `T` (each route kind has its own, identical type).
fn parent_refs<T: serde::de::DeserializeOwned>(spec: &GatewayExposure) -> Vec<T> {
    spec.parent_refs
        .iter()
        .map(|parent: &GatewayParentRef| {
            let mut value = serde_json::to_value(parent).expect("parent references serialize");
            value["group"] = GATEWAY_GROUP.into();
            value["kind"] = "Gateway".into();
            serde_json::from_value(value).expect("a Gateway API parentRef has these fields")
        })
        .collect()
}

/// The sync Service's HTTP port as the one backend reference of a route, typed as `T` (each
/// route kind has its own type with these fields).
fn sync_backend<T: serde::de::DeserializeOwned>(ctx: &Context) -> Vec<T> {
    let backend = serde_json::json!({
        "group": "",
        "kind": "Service",
        "name": ctx.names.sync(),
        "port": ctx.workload.http_port,
        "weight": 1,
    });
    vec![serde_json::from_value(backend).expect("a Gateway API backendRef has these fields")]
}

/// The HTTPRoute, when the gateway section asks for one: all paths to the sync Service.
pub fn http_route(ctx: &Context) -> Option<HttpRoute> {
    let spec = gateway(ctx, RouteKind::HTTPRoute)?;
    let mut route = HttpRoute::new(
        &ctx.names.sync(),
        HttpRouteSpec {
            parent_refs: Some(parent_refs(spec)),
            hostnames: hostnames(spec),
            rules: Some(vec![HttpRouteRules {
                backend_refs: Some(sync_backend::<HttpRouteRulesBackendRefs>(ctx)),
                ..HttpRouteRules::default()
            }]),
        },
    );
    route.metadata = ctx.meta(ctx.names.sync(), COMPONENT);
    Some(route)
}

/// The GRPCRoute, when the gateway section asks for one: every service and method to the sync
/// Service.
pub fn grpc_route(ctx: &Context) -> Option<GrpcRoute> {
    let spec = gateway(ctx, RouteKind::GRPCRoute)?;
    let mut route = GrpcRoute::new(
        &ctx.names.sync(),
        GrpcRouteSpec {
            parent_refs: Some(parent_refs(spec)),
            hostnames: hostnames(spec),
            rules: Some(vec![GrpcRouteRules {
                backend_refs: Some(sync_backend::<GrpcRouteRulesBackendRefs>(ctx)),
                filters: None,
                matches: None,
                name: None,
            }]),
        },
    );
    route.metadata = ctx.meta(ctx.names.sync(), COMPONENT);
    Some(route)
}

/// The TLSRoute, when the gateway section asks for one: connections whose SNI is one of the
/// host names pass through, still encrypted, to the sync Service, whose pods terminate TLS with
/// the BigPeer's certificate.
pub fn tls_route(ctx: &Context) -> Option<TlsRoute> {
    let spec = gateway(ctx, RouteKind::TLSRoute)?;
    let mut route = TlsRoute::new(
        &ctx.names.sync(),
        TlsRouteSpec {
            parent_refs: Some(parent_refs(spec)),
            hostnames: spec.hostnames.clone(),
            rules: vec![TlsRouteRules {
                backend_refs: sync_backend::<TlsRouteRulesBackendRefs>(ctx),
                name: None,
            }],
        },
    );
    route.metadata = ctx.meta(ctx.names.sync(), COMPONENT);
    Some(route)
}

/// The TCPRoute, when the gateway section asks for one: every connection to the listener goes
/// to the sync Service as a TCP stream (TLS to the pods when `spec.tls` is set).
pub fn tcp_route(ctx: &Context) -> Option<TcpRoute> {
    let spec = gateway(ctx, RouteKind::TCPRoute)?;
    let mut route = TcpRoute::new(
        &ctx.names.sync(),
        TcpRouteSpec {
            parent_refs: Some(parent_refs(spec)),
            rules: vec![TcpRouteRules {
                backend_refs: sync_backend::<TcpRouteRulesBackendRefs>(ctx),
                name: None,
            }],
        },
    );
    route.metadata = ctx.meta(ctx.names.sync(), COMPONENT);
    Some(route)
}

/// The CA the sync pods' certificate chains to, from the TLS Secret's `ca.crt`, when end-to-end
/// TLS is asked for and the Secret has one.
fn backend_ca_pem<'a>(ctx: &Context, observed: &'a Observed) -> Option<&'a String> {
    let gateway = ctx.spec().network.as_ref()?.gateway.as_ref()?;
    (gateway.backend_tls && ctx.spec().tls.is_some())
        .then_some(observed.tls_ca.as_ref())
        .flatten()
}

/// The ConfigMap holding the CA (`ca.crt`, the key BackendTLSPolicy's core support reads) that
/// the Gateway verifies the sync pods with, when `spec.network.gateway.backendTLS` is set.
pub fn backend_ca(ctx: &Context, observed: &Observed) -> Option<ConfigMap> {
    let pem = backend_ca_pem(ctx, observed)?;
    Some(ConfigMap {
        metadata: ctx.meta(ctx.names.backend_ca(), COMPONENT),
        data: Some(BTreeMap::from([("ca.crt".to_string(), pem.clone())])),
        ..ConfigMap::default()
    })
}

/// The BackendTLSPolicy on the sync Service's HTTP port, when `spec.network.gateway.backendTLS`
/// is set: the Gateway connects with TLS, sends the Service's DNS name as SNI and checks the
/// pods' certificate (whose names include it) against the CA ConfigMap. Built together with
/// that ConfigMap, so it never names a CA that is not there.
pub fn backend_tls_policy(ctx: &Context, observed: &Observed) -> Option<BackendTlsPolicy> {
    backend_ca_pem(ctx, observed)?;
    let mut policy = BackendTlsPolicy::new(
        &ctx.names.sync(),
        BackendTlsPolicySpec {
            target_refs: vec![BackendTlsPolicyTargetRefs {
                group: String::new(),
                kind: "Service".into(),
                name: ctx.names.sync(),
                section_name: Some("http".into()),
            }],
            validation: BackendTlsPolicyValidation {
                ca_certificate_refs: Some(vec![BackendTlsPolicyValidationCaCertificateRefs {
                    group: String::new(),
                    kind: "ConfigMap".into(),
                    name: ctx.names.backend_ca(),
                }]),
                hostname: format!("{}.{}.svc", ctx.names.sync(), ctx.namespace()),
                ..BackendTlsPolicyValidation::default()
            },
            options: None,
        },
    );
    policy.metadata = ctx.meta(ctx.names.sync(), COMPONENT);
    Some(policy)
}
