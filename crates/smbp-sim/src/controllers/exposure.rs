//! How traffic reaches a simulated cluster: a cloud load balancer that gives LoadBalancer
//! Services an address after a delay (Services of another `loadBalancerClass` are left alone, as
//! the cloud controller leaves them), and one ingress/Gateway API implementation that gives every
//! Ingress an address, programs every Gateway, and reports on routes of every kind per parent and
//! on BackendTLSPolicies per Gateway (the status itself is computed in `gateway`).

use super::api::{Api, Gvr, gvr};
use super::gateway;
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

    /// Every route and BackendTLSPolicy of the kinds the cluster serves.
    fn routes(&self) -> Vec<Key> {
        ROUTE_RESOURCES
            .into_iter()
            .chain([gvr::BACKEND_TLS_POLICIES])
            .filter(|r| self.api.serves(*r))
            .flat_map(|r| self.api.keys(r, None))
            .collect()
    }

    /// Every BackendTLSPolicy (their status follows routes, Services and ConfigMaps).
    fn policies(&self) -> Vec<Key> {
        if !self.api.serves(gvr::BACKEND_TLS_POLICIES) {
            return Vec::new();
        }
        self.api.keys(gvr::BACKEND_TLS_POLICIES, None)
    }
}

/// The route kinds the Gateway implementation reports on.
const ROUTE_RESOURCES: [Gvr; 4] = [
    gvr::HTTPROUTES,
    gvr::GRPCROUTES,
    gvr::TLSROUTES,
    gvr::TCPROUTES,
];

/// The resource of a reconcile key's storage key.
fn resource_of(key: &str) -> Option<Gvr> {
    ROUTE_RESOURCES
        .into_iter()
        .chain([gvr::INGRESSES, gvr::GATEWAYS, gvr::BACKEND_TLS_POLICIES])
        .find(|r| r.storage_key() == key)
}

impl Controller for Routes {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            "networking.k8s.io/ingresses" => vec![Key::of(&change.resource, &change.object)],
            "gateway.networking.k8s.io/gateways" => {
                let mut keys = vec![Key::of(&change.resource, &change.object)];
                keys.extend(self.routes());
                keys
            }
            "gateway.networking.k8s.io/backendtlspolicies" => {
                vec![Key::of(&change.resource, &change.object)]
            }
            r if resource_of(r).is_some() => {
                let mut keys = vec![Key::of(r, &change.object)];
                keys.extend(self.policies());
                keys
            }
            "/services" | "/namespaces" => self.routes(),
            "/configmaps" => self.policies(),
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
        let resource = resource_of(&key.resource)?;
        let object = self.api.get(resource, &key.namespace, &key.name)?;
        if terminating(&object) {
            return None;
        }
        let status = match resource {
            r if r == gvr::INGRESSES => {
                json!({"loadBalancer": {"ingress": [{"ip": address("198.51.100", &object)}]}})
            }
            r if r == gvr::GATEWAYS => {
                gateway::gateway_status(&self.api, &object, address("192.0.2", &object))
            }
            r if r == gvr::BACKEND_TLS_POLICIES => gateway::policy_status(&self.api, &object),
            _ => gateway::route_status(&self.api, &object),
        };
        self.api
            .write_status(resource, &object, status)
            .await
            .err()
            .map(|_| Duration::from_millis(500))
    }
}
