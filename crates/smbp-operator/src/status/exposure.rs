//! `ExposureReady` and the endpoints: how devices reach the sync tier (its Service, load
//! balancer or node port, Ingress, Gateway route), from the objects that exist — a refused or
//! missing object is never an endpoint.

use super::{Cond, RefusedChild, cond, found_condition};
use crate::apply::Live;
use crate::dereference::Found;
use serde_json::Value;
use smbp_api::v1alpha1::{Endpoints, ExternalEndpoint, ServiceType};
use smbp_core::build::{ChildKind, Names, OptionalApi, ValidatedBigPeer};
use std::collections::BTreeSet;

/// `ExposureReady=False ChildRefused` when an object that exposes the sync tier was refused.
pub(super) fn exposure_refused(refused: &[RefusedChild]) -> Option<Cond> {
    let exposing = [
        ChildKind::Service,
        ChildKind::Ingress,
        ChildKind::HttpRoute,
        ChildKind::GrpcRoute,
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
        if !installed.contains(&OptionalApi::GatewayApi) {
            let c = found_condition(
                T,
                &Found::ApiMissing(OptionalApi::GatewayApi),
                "spec.network.gateway",
            )
            .expect("a missing API is a condition");
            return (c, endpoints);
        }
        let kind = match gateway.route_kind {
            smbp_api::v1alpha1::RouteKind::HTTPRoute => ChildKind::HttpRoute,
            smbp_api::v1alpha1::RouteKind::GRPCRoute => ChildKind::GrpcRoute,
        };
        match live.get(kind, ns, &names.sync()).map(route_problem) {
            None => waiting.push(format!("route {} is not created yet", names.sync())),
            Some(Some((reason, message))) => return (cond(T, false, &reason, message), endpoints),
            Some(None) => {
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

/// The first parent that has not accepted the route or cannot resolve its backend.
fn route_problem(route: &Value) -> Option<(String, String)> {
    let parents = route.pointer("/status/parents").and_then(Value::as_array);
    let Some(parents) = parents.filter(|p| !p.is_empty()) else {
        return Some((
            "RoutePending".into(),
            "no Gateway has reported on the route yet".into(),
        ));
    };
    for parent in parents {
        let gateway = parent
            .pointer("/parentRef/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        for c in parent["conditions"].as_array().into_iter().flatten() {
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
