//! `ExposureReady` and the endpoints: how devices reach the sync tier (its Service, load
//! balancer or node port, Ingress, Gateway route of any kind and its BackendTLSPolicy), from the
//! objects that exist and what their controllers report — a refused or missing object is never
//! an endpoint.

use super::{Cond, RefusedChild, cond, found_condition};
use crate::apply::Live;
use crate::dereference::Found;
use serde_json::Value;
use smbp_api::v1alpha1::{Endpoints, ExternalEndpoint, GatewayExposure, RouteKind, ServiceType};
use smbp_core::build::{ChildKind, Names, OptionalApi, ValidatedBigPeer};
use std::collections::BTreeSet;

/// `ExposureReady=False ChildRefused` when an object that exposes the sync tier was refused.
pub(super) fn exposure_refused(refused: &[RefusedChild]) -> Option<Cond> {
    let exposing = [
        ChildKind::Service,
        ChildKind::Ingress,
        ChildKind::HttpRoute,
        ChildKind::GrpcRoute,
        ChildKind::TlsRoute,
        ChildKind::TcpRoute,
        ChildKind::BackendTlsPolicy,
    ];
    let first = refused.iter().find(|r| exposing.contains(&r.kind))?;
    Some(cond(
        "ExposureReady",
        false,
        "ChildRefused",
        first.describe(),
    ))
}

pub(super) fn exposure(
    v: &ValidatedBigPeer,
    live: &Live,
    installed: &BTreeSet<OptionalApi>,
) -> (Cond, Endpoints) {
    const T: &str = "ExposureReady";
    let names = Names::new(&v.name);
    let ns = v.namespace.as_str();
    let port = v
        .spec
        .workload
        .as_ref()
        .map(|w| w.http_port)
        .unwrap_or(8080);
    let service = live.get(ChildKind::Service, ns, &names.sync());
    // Only objects that exist are endpoints.
    let mut endpoints = Endpoints {
        service: service.map(|_| format!("{}.{ns}.svc:{port}", names.sync())),
        external: Vec::new(),
    };
    let mut waiting = Vec::new();
    let network = v.spec.network.clone().unwrap_or_default();
    let service_type = network
        .service
        .as_ref()
        .map(|s| s.type_)
        .unwrap_or_default();
    match service_type {
        ServiceType::LoadBalancer => {
            let addresses = lb_addresses(service);
            if addresses.is_empty() {
                waiting.push(format!(
                    "Service {} has no load balancer address yet",
                    names.sync()
                ));
            }
            endpoints
                .external
                .extend(addresses.into_iter().map(|a| ExternalEndpoint {
                    source: "LoadBalancer".into(),
                    address: format!("{a}:{port}"),
                }));
        }
        ServiceType::NodePort => {
            if let Some(node_port) = service
                .and_then(|s| s.pointer("/spec/ports/0/nodePort"))
                .and_then(Value::as_i64)
            {
                endpoints.external.push(ExternalEndpoint {
                    source: "NodePort".into(),
                    address: format!("<any node>:{node_port}"),
                });
            }
        }
        ServiceType::ClusterIP => {}
    }
    if let Some(ingress) = &network.ingress {
        let object = live.get(ChildKind::Ingress, ns, &names.sync());
        if lb_addresses(object).is_empty() {
            waiting.push(format!(
                "Ingress {} has no address from its ingress controller yet",
                names.sync()
            ));
        }
        let hosts = if object.is_some() {
            ingress.hosts.as_slice()
        } else {
            &[]
        };
        let scheme = if ingress.tls.is_some() {
            "https"
        } else {
            "http"
        };
        endpoints
            .external
            .extend(hosts.iter().map(|h| ExternalEndpoint {
                source: "Ingress".into(),
                address: format!("{scheme}://{h}"),
            }));
    }
    if let Some(gateway) = &network.gateway {
        let route = gateway_exposure(gateway, live, installed, ns, &names);
        match route {
            GatewayState::Problem(c) => return (c, endpoints),
            GatewayState::Waiting(message) => waiting.push(message),
            GatewayState::Ready => {
                endpoints
                    .external
                    .extend(gateway.hostnames.iter().map(|h| ExternalEndpoint {
                        source: "Gateway".into(),
                        address: h.clone(),
                    }))
            }
        }
    }
    let c = if waiting.is_empty() {
        cond(T, true, "Exposed", "every configured exposure is ready")
    } else {
        cond(T, false, "AddressPending", waiting.join("; "))
    };
    (c, endpoints)
}

/// Where the Gateway API part of the exposure stands.
enum GatewayState {
    /// A Gateway refused the route or policy, or their API is missing: the condition says so.
    Problem(Cond),
    /// Not there or not reported on yet.
    Waiting(String),
    /// Every parent accepted the route and resolved its references (and the policy's).
    Ready,
}

/// The child kind of a route kind.
fn route_child(kind: RouteKind) -> ChildKind {
    match kind {
        RouteKind::HTTPRoute => ChildKind::HttpRoute,
        RouteKind::GRPCRoute => ChildKind::GrpcRoute,
        RouteKind::TLSRoute => ChildKind::TlsRoute,
        RouteKind::TCPRoute => ChildKind::TcpRoute,
    }
}

/// The route of `gateway.routeKind` and, with `backendTLS`, its BackendTLSPolicy: their APIs
/// installed, the objects there, and every parent (ancestor) reporting Accepted and
/// ResolvedRefs.
fn gateway_exposure(
    gateway: &GatewayExposure,
    live: &Live,
    installed: &BTreeSet<OptionalApi>,
    ns: &str,
    names: &Names,
) -> GatewayState {
    const T: &str = "ExposureReady";
    let route = route_child(gateway.route_kind);
    let mut kinds = vec![route];
    if gateway.backend_tls {
        kinds.push(ChildKind::BackendTlsPolicy);
    }
    for kind in &kinds {
        let api = kind.optional_api().expect("Gateway API kinds are optional");
        if !installed.contains(&api) {
            let what = match kind {
                ChildKind::BackendTlsPolicy => "spec.network.gateway.backendTLS",
                _ => "spec.network.gateway.routeKind",
            };
            let c = found_condition(T, &Found::ApiMissing(api), what)
                .expect("a missing API is a condition");
            return GatewayState::Problem(c);
        }
    }
    let Some(object) = live.get(route, ns, &names.sync()) else {
        return GatewayState::Waiting(format!(
            "{:?} {} is not created yet",
            gateway.route_kind,
            names.sync()
        ));
    };
    if let Some((reason, message)) = attachment_problem(object, "parents", "parentRef") {
        return GatewayState::Problem(cond(T, false, &reason, message));
    }
    if !gateway.backend_tls {
        return GatewayState::Ready;
    }
    let Some(policy) = live.get(ChildKind::BackendTlsPolicy, ns, &names.sync()) else {
        return GatewayState::Waiting(format!(
            "BackendTLSPolicy {} is not created yet: it is made once the TLS Secret holds the CA of the pods' certificate in ca.crt",
            names.sync()
        ));
    };
    match attachment_problem(policy, "ancestors", "ancestorRef") {
        Some((reason, message)) => GatewayState::Problem(cond(
            T,
            false,
            &reason,
            format!("BackendTLSPolicy {}: {message}", names.sync()),
        )),
        None => GatewayState::Ready,
    }
}

/// The first parent (of a route, under `status.parents[].parentRef`) or ancestor (of a policy,
/// under `status.ancestors[].ancestorRef`) whose Gateway has not accepted the object or cannot
/// resolve its references; a pending report when no Gateway has reported yet.
fn attachment_problem(object: &Value, list: &str, reference: &str) -> Option<(String, String)> {
    let entries = object
        .pointer(&format!("/status/{list}"))
        .and_then(Value::as_array);
    let Some(entries) = entries.filter(|p| !p.is_empty()) else {
        return Some((
            "RoutePending".into(),
            "no Gateway has reported on the route yet".into(),
        ));
    };
    for entry in entries {
        let gateway = entry
            .pointer(&format!("/{reference}/name"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        for c in entry["conditions"].as_array().into_iter().flatten() {
            if (c["type"] == "Accepted" || c["type"] == "ResolvedRefs") && c["status"] != "True" {
                let reason = c["reason"]
                    .as_str()
                    .unwrap_or("RouteNotAccepted")
                    .to_string();
                return Some((
                    reason,
                    format!("Gateway {gateway}: {}", c["message"].as_str().unwrap_or("")),
                ));
            }
        }
    }
    None
}

fn lb_addresses(object: Option<&Value>) -> Vec<String> {
    object
        .and_then(|o| o.pointer("/status/loadBalancer/ingress"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i["hostname"]
                .as_str()
                .or(i["ip"].as_str())
                .map(str::to_string)
        })
        .collect()
}
