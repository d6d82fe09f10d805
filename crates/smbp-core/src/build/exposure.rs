//! Exposure beyond the sync Service: an Ingress for any ingress controller (class and annotations
//! from the spec, none of the operator's own) and Gateway API routes attached to the user's
//! Gateways. Each is built only when its section of `spec.network` is set.

use super::meta::Context;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use smbp_api::v1alpha1::{GatewayExposure, GatewayParentRef, RouteKind};
use smbp_thirdparty::gateway::{
    GrpcRoute, GrpcRouteRules, GrpcRouteRulesBackendRefs, GrpcRouteSpec, HttpRoute, HttpRouteRules,
    HttpRouteRulesBackendRefs, HttpRouteSpec,
};

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

/// The HTTPRoute, when the gateway section asks for one: all paths to the sync Service.
pub fn http_route(ctx: &Context) -> Option<HttpRoute> {
    let spec = gateway(ctx, RouteKind::HTTPRoute)?;
    let mut route = HttpRoute::new(
        &ctx.names.sync(),
        HttpRouteSpec {
            parent_refs: Some(parent_refs(spec)),
            hostnames: hostnames(spec),
            rules: Some(vec![HttpRouteRules {
                backend_refs: Some(vec![HttpRouteRulesBackendRefs {
                    group: Some(String::new()),
                    kind: Some("Service".into()),
                    name: ctx.names.sync(),
                    port: Some(ctx.workload.http_port),
                    weight: Some(1),
                    ..HttpRouteRulesBackendRefs::default()
                }]),
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
                backend_refs: Some(vec![GrpcRouteRulesBackendRefs {
                    group: Some(String::new()),
                    kind: Some("Service".into()),
                    name: ctx.names.sync(),
                    namespace: None,
                    port: Some(ctx.workload.http_port),
                    weight: Some(1),
                    filters: None,
                }]),
                filters: None,
                matches: None,
                name: None,
            }]),
        },
    );
    route.metadata = ctx.meta(ctx.names.sync(), COMPONENT);
    Some(route)
}
