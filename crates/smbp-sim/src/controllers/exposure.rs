//! How traffic reaches a simulated cluster: a cloud load balancer that gives LoadBalancer
//! Services an address after a delay (Services of another `loadBalancerClass` are left alone, as
//! the cloud controller leaves them), and one ingress/Gateway API implementation that gives every
//! Ingress an address, programs every Gateway, and reports on HTTPRoutes and GRPCRoutes per
//! parent: `Accepted` when the parent Gateway exists, `ResolvedRefs` when every backend Service
//! exists.

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{str_at, terminating};
use crate::store::Change;
use serde_json::{Value, json};
use std::time::Duration;

/// How long a cloud load balancer takes to get an address (simulated).
const PROVISIONING: Duration = Duration::from_secs(2);
/// The `loadBalancerClass` the simulated cloud serves, besides the default (no class).
pub const LOAD_BALANCER_CLASS: &str = "sim.smbp.io/lb";
/// The Gateway API controller name.
pub const GATEWAY_CONTROLLER: &str = "sim.smbp.io/gateway-controller";

/// A stable documentation-range address for an object.
fn address(prefix: &str, object: &Value) -> String {
    let uid = str_at(object, "/metadata/uid").unwrap_or_default();
    let host = uid
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 250
        + 2;
    format!("{prefix}.{host}")
}

/// The cloud load-balancer controller.
pub struct LoadBalancers {
    api: Api,
}

impl LoadBalancers {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        LoadBalancers { api }
    }
}

impl Controller for LoadBalancers {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        (change.resource == "/services")
            .then(|| Key::of("/services", &change.object))
            .into_iter()
            .collect()
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::SERVICES, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let service = self.api.get(gvr::SERVICES, &key.namespace, &key.name)?;
        let class = str_at(&service, "/spec/loadBalancerClass");
        let ours = class.is_none_or(|c| c == LOAD_BALANCER_CLASS);
        let wants = str_at(&service, "/spec/type") == Some("LoadBalancer")
            && ours
            && !terminating(&service);
        let has = service.pointer("/status/loadBalancer/ingress").is_some();
        if wants == has {
            return None;
        }
        let status = if wants {
            let waited = self
                .api
                .sim()
                .clock
                .since(str_at(&service, "/metadata/creationTimestamp").unwrap_or_default());
            if waited < PROVISIONING {
                return Some(PROVISIONING - waited);
            }
            json!({"loadBalancer": {"ingress": [{"ip": address("203.0.113", &service), "ipMode": "VIP"}]}})
        } else {
            json!({"loadBalancer": {}})
        };
        self.api
            .write_status(gvr::SERVICES, &service, status)
            .await
            .err()
            .map(|_| Duration::from_millis(200))
    }
}

/// The ingress and Gateway API implementation.
pub struct Routes {
    api: Api,
}

impl Routes {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        Routes { api }
    }

    fn routes(&self) -> Vec<Key> {
        [gvr::HTTPROUTES, gvr::GRPCROUTES]
            .into_iter()
            .flat_map(|r| self.api.keys(r, None))
            .collect()
    }
}

const ROUTE_RESOURCES: [&str; 2] = [
    "gateway.networking.k8s.io/httproutes",
    "gateway.networking.k8s.io/grpcroutes",
];

impl Controller for Routes {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            "networking.k8s.io/ingresses" | "gateway.networking.k8s.io/gateways" => {
                let mut keys = vec![Key::of(&change.resource, &change.object)];
                if change.resource.ends_with("gateways") {
                    keys.extend(self.routes());
                }
                keys
            }
            r if ROUTE_RESOURCES.contains(&r) => vec![Key::of(r, &change.object)],
            "/services" => self.routes(),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        let mut keys = self.routes();
        for resource in [gvr::INGRESSES, gvr::GATEWAYS] {
            keys.extend(self.api.keys(resource, None));
        }
        keys
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let resource = match key.resource.as_str() {
            "networking.k8s.io/ingresses" => gvr::INGRESSES,
            "gateway.networking.k8s.io/gateways" => gvr::GATEWAYS,
            "gateway.networking.k8s.io/httproutes" => gvr::HTTPROUTES,
            _ => gvr::GRPCROUTES,
        };
        let object = self.api.get(resource, &key.namespace, &key.name)?;
        if terminating(&object) {
            return None;
        }
        let status = match resource {
            r if r == gvr::INGRESSES => {
                json!({"loadBalancer": {"ingress": [{"ip": address("198.51.100", &object)}]}})
            }
            r if r == gvr::GATEWAYS => self.gateway_status(&object),
            _ => self.route_status(&object),
        };
        self.api
            .write_status(resource, &object, status)
            .await
            .err()
            .map(|_| Duration::from_millis(500))
    }
}

impl Routes {
    /// A Gateway API condition; `earlier` is the conditions list it replaces, whose transition
    /// time is kept while the status holds.
    fn condition(
        &self,
        earlier: Option<&Value>,
        generation: &Value,
        kind: &str,
        ok: bool,
        reason: &str,
        message: &str,
    ) -> Value {
        let previous = earlier
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| c["type"] == kind).cloned());
        let status = if ok { "True" } else { "False" };
        let since = previous.filter(|p| p["status"] == status).map_or_else(
            || json!(self.api.sim().clock.now_rfc3339()),
            |p| p["lastTransitionTime"].clone(),
        );
        json!({"type": kind, "status": status, "reason": reason, "message": message,
               "observedGeneration": generation, "lastTransitionTime": since})
    }

    fn gateway_status(&self, gateway: &Value) -> Value {
        let generation = &gateway["metadata"]["generation"];
        let earlier = gateway.pointer("/status/conditions");
        let listeners: Vec<Value> = gateway
            .pointer("/spec/listeners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|listener| {
                let protocol = listener["protocol"].as_str().unwrap_or("HTTP");
                let kinds = if protocol == "HTTPS" || protocol == "HTTP" {
                    json!([{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}, {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}])
                } else {
                    json!([])
                };
                let earlier = gateway
                    .pointer("/status/listeners")
                    .and_then(Value::as_array)
                    .and_then(|l| l.iter().find(|l| l["name"] == listener["name"]))
                    .and_then(|l| l.get("conditions"));
                json!({"name": listener["name"], "supportedKinds": kinds, "attachedRoutes": 0, "conditions": [
                    self.condition(earlier, generation, "Accepted", true, "Accepted", "Listener accepted"),
                    self.condition(earlier, generation, "Programmed", true, "Programmed", "Listener programmed"),
                    self.condition(earlier, generation, "ResolvedRefs", true, "ResolvedRefs", "References resolved"),
                ]})
            })
            .collect();
        json!({"addresses": [{"type": "IPAddress", "value": address("192.0.2", gateway)}],
            "conditions": [self.condition(earlier, generation, "Accepted", true, "Accepted", "Gateway accepted by the simulated controller"),
                           self.condition(earlier, generation, "Programmed", true, "Programmed", "Gateway programmed")],
            "listeners": listeners})
    }

    fn route_status(&self, route: &Value) -> Value {
        let namespace = str_at(route, "/metadata/namespace").unwrap_or_default();
        let missing_backend = route
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|rule| rule["backendRefs"].as_array().cloned().unwrap_or_default())
            .filter(|b| {
                b.get("kind").is_none_or(|k| k == "Service")
                    && b.get("group").is_none_or(|g| g == "")
            })
            .find_map(|b| {
                let backend_namespace = b["namespace"].as_str().unwrap_or(namespace);
                let name = b["name"].as_str().unwrap_or_default();
                self.api
                    .get(gvr::SERVICES, backend_namespace, name)
                    .is_none()
                    .then(|| format!("Service \"{backend_namespace}/{name}\" not found"))
            });
        let parents: Vec<Value> = route
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|parent| {
                let parent_namespace = parent["namespace"].as_str().unwrap_or(namespace);
                let name = parent["name"].as_str().unwrap_or_default();
                let exists = self.api.get(gvr::GATEWAYS, parent_namespace, name).is_some_and(|g| !terminating(&g));
                let generation = &route["metadata"]["generation"];
                let earlier = route
                    .pointer("/status/parents")
                    .and_then(Value::as_array)
                    .and_then(|p| p.iter().find(|p| &p["parentRef"] == parent))
                    .and_then(|p| p.get("conditions"));
                let accepted = if exists {
                    self.condition(earlier, generation, "Accepted", true, "Accepted", "Route is accepted")
                } else {
                    self.condition(earlier, generation, "Accepted", false, "NoMatchingParent", &format!("Gateway \"{parent_namespace}/{name}\" not found"))
                };
                let resolved = match &missing_backend {
                    None => self.condition(earlier, generation, "ResolvedRefs", true, "ResolvedRefs", "All references resolved"),
                    Some(message) => self.condition(earlier, generation, "ResolvedRefs", false, "BackendNotFound", message),
                };
                json!({"parentRef": parent, "controllerName": GATEWAY_CONTROLLER, "conditions": [accepted, resolved]})
            })
            .collect();
        json!({"parents": parents})
    }
}
