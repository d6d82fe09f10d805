//! The simulated Gateway API implementation's status, as a real one reports it: Gateways
//! Accepted/Programmed with each listener's supported route kinds; routes of every kind
//! (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute) get `Accepted` and `ResolvedRefs` per parent after
//! listener matching — section name and port, the route kind the listener's protocol (and TLS
//! mode) carries, the namespaces it allows, host-name intersection — and BackendTLSPolicies get
//! per-Gateway ancestors with their CA references resolved.

use super::api::{Api, gvr};
use super::exposure::GATEWAY_CONTROLLER;
use super::util::{selector_matches, str_at, terminating};
use serde_json::{Value, json};

const GROUP: &str = "gateway.networking.k8s.io";

/// A Gateway API condition; `earlier` is the conditions list it replaces, whose transition time
/// is kept while the status holds.
fn condition(
    api: &Api,
    earlier: Option<&Value>,
    generation: &Value,
    kind: &str,
    verdict: Result<&str, (&str, &str)>,
    message_ok: &str,
) -> Value {
    let previous = earlier
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == kind).cloned());
    let (status, reason, message) = match verdict {
        Ok(reason) => ("True", reason, message_ok),
        Err((reason, message)) => ("False", reason, message),
    };
    let since = previous.filter(|p| p["status"] == status).map_or_else(
        || json!(api.sim().clock.now_rfc3339()),
        |p| p["lastTransitionTime"].clone(),
    );
    json!({"type": kind, "status": status, "reason": reason, "message": message,
           "observedGeneration": generation, "lastTransitionTime": since})
}

/// The route kinds a listener carries: those its protocol (and TLS mode) supports, narrowed to
/// `allowedRoutes.kinds` when that is set. TLS in Passthrough mode carries only TLSRoutes; TLS
/// terminated at the Gateway carries TLSRoutes and TCPRoutes.
fn listener_kinds(listener: &Value) -> Vec<&'static str> {
    let protocol = listener["protocol"].as_str().unwrap_or_default();
    let mode = str_at(listener, "/tls/mode").unwrap_or("Terminate");
    let supported: &[&'static str] = match (protocol, mode) {
        ("HTTP" | "HTTPS", _) => &["HTTPRoute", "GRPCRoute"],
        ("TLS", "Passthrough") => &["TLSRoute"],
        ("TLS", _) => &["TLSRoute", "TCPRoute"],
        ("TCP", _) => &["TCPRoute"],
        _ => &[],
    };
    let allowed = listener
        .pointer("/allowedRoutes/kinds")
        .and_then(Value::as_array)
        .filter(|k| !k.is_empty());
    supported
        .iter()
        .copied()
        .filter(|kind| {
            allowed.is_none_or(|allowed| {
                allowed
                    .iter()
                    .any(|a| a["kind"] == *kind && a.get("group").is_none_or(|g| g == GROUP))
            })
        })
        .collect()
}

/// A Gateway's status: Accepted and Programmed, an address, each listener's supported kinds.
pub(super) fn gateway_status(api: &Api, gateway: &Value, address: String) -> Value {
    let generation = &gateway["metadata"]["generation"];
    let earlier = gateway.pointer("/status/conditions");
    let listeners: Vec<Value> = gateway
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|listener| {
            let kinds: Vec<Value> = listener_kinds(listener)
                .into_iter()
                .map(|kind| json!({"group": GROUP, "kind": kind}))
                .collect();
            let earlier = gateway
                .pointer("/status/listeners")
                .and_then(Value::as_array)
                .and_then(|l| l.iter().find(|l| l["name"] == listener["name"]))
                .and_then(|l| l.get("conditions"));
            let c = |kind, reason, message| {
                condition(api, earlier, generation, kind, Ok(reason), message)
            };
            json!({"name": listener["name"], "supportedKinds": kinds, "attachedRoutes": 0, "conditions": [
                c("Accepted", "Accepted", "Listener accepted"),
                c("Programmed", "Programmed", "Listener programmed"),
                c("ResolvedRefs", "ResolvedRefs", "References resolved"),
            ]})
        })
        .collect();
    let c = |kind, reason, message| condition(api, earlier, generation, kind, Ok(reason), message);
    json!({"addresses": [{"type": "IPAddress", "value": address}],
        "conditions": [c("Accepted", "Accepted", "Gateway accepted by the simulated controller"),
                       c("Programmed", "Programmed", "Gateway programmed")],
        "listeners": listeners})
}

/// Whether two host names (either may be a `*.` wildcard, which matches any number of labels
/// in Gateway API) have a name in common.
fn hostnames_intersect(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        _ if a == b => true,
        (Some(sa), Some(sb)) => sa.ends_with(sb) || sb.ends_with(sa),
        (Some(sa), None) => b.ends_with(sa),
        (None, Some(sb)) => a.ends_with(sb),
        (None, None) => false,
    }
}

/// Whether a listener of a Gateway in `gateway_ns` lets routes of `route_ns` attach
/// (`allowedRoutes.namespaces.from`: Same by default, All, or Selector on namespace labels).
fn namespace_allowed(api: &Api, listener: &Value, gateway_ns: &str, route_ns: &str) -> bool {
    let namespaces = listener.pointer("/allowedRoutes/namespaces");
    match namespaces
        .and_then(|n| n["from"].as_str())
        .unwrap_or("Same")
    {
        "All" => true,
        "Selector" => {
            let namespace = api.get(gvr::NAMESPACES, "", route_ns);
            let labels = namespace
                .as_deref()
                .and_then(|n| n.pointer("/metadata/labels"));
            namespaces
                .and_then(|n| n.get("selector"))
                .is_some_and(|selector| selector_matches(selector, labels))
        }
        _ => gateway_ns == route_ns,
    }
}

/// A route of `kind` in `route_ns` with `hostnames`, as one parent Gateway judges it.
struct RouteAtParent<'a> {
    kind: &'a str,
    namespace: &'a str,
    hostnames: Vec<&'a str>,
}

/// `Accepted` of a route at one parent: Ok, or the reason and message of a refusal.
fn accepted(api: &Api, route: &RouteAtParent, parent: &Value) -> Result<(), (String, String)> {
    let parent_ns = parent["namespace"].as_str().unwrap_or(route.namespace);
    let name = parent["name"].as_str().unwrap_or_default();
    let gateway = api
        .get(gvr::GATEWAYS, parent_ns, name)
        .filter(|g| !terminating(g))
        .ok_or_else(|| {
            let message = format!("Gateway \"{parent_ns}/{name}\" not found");
            ("NoMatchingParent".to_string(), message)
        })?;
    let listeners: Vec<&Value> = gateway
        .pointer("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| parent.get("sectionName").is_none_or(|s| l["name"] == *s))
        .filter(|l| parent.get("port").is_none_or(|p| l["port"] == *p))
        .collect();
    if listeners.is_empty() {
        let message = "no listener of the Gateway matches the parentRef's sectionName and port";
        return Err(("NoMatchingParent".into(), message.into()));
    }
    let allowed: Vec<&Value> = listeners
        .into_iter()
        .filter(|l| listener_kinds(l).contains(&route.kind))
        .filter(|l| namespace_allowed(api, l, parent_ns, route.namespace))
        .collect();
    if allowed.is_empty() {
        let message = format!(
            "no listener of Gateway \"{parent_ns}/{name}\" allows a {} from namespace {} (TLSRoute needs a TLS listener in Passthrough mode, TCPRoute a TCP listener)",
            route.kind, route.namespace
        );
        return Err(("NotAllowedByListeners".into(), message));
    }
    let host_match = allowed.iter().any(|l| match l["hostname"].as_str() {
        None => true,
        Some(listener) => {
            route.hostnames.is_empty()
                || route
                    .hostnames
                    .iter()
                    .any(|h| hostnames_intersect(listener, h))
        }
    });
    if !host_match {
        let message = "no listener host name matches the route's hostnames";
        return Err(("NoMatchingListenerHostname".into(), message.into()));
    }
    Ok(())
}

/// The first backend Service of a route that does not exist, as a message.
fn missing_backend(api: &Api, route: &Value, namespace: &str) -> Option<String> {
    route
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|rule| rule["backendRefs"].as_array().cloned().unwrap_or_default())
        .filter(|b| {
            b.get("kind").is_none_or(|k| k == "Service") && b.get("group").is_none_or(|g| g == "")
        })
        .find_map(|b| {
            let backend_namespace = b["namespace"].as_str().unwrap_or(namespace);
            let name = b["name"].as_str().unwrap_or_default();
            api.get(gvr::SERVICES, backend_namespace, name)
                .is_none()
                .then(|| format!("Service \"{backend_namespace}/{name}\" not found"))
        })
}

/// A route's status: per parent, `Accepted` and `ResolvedRefs`.
pub(super) fn route_status(api: &Api, route: &Value) -> Value {
    let namespace = str_at(route, "/metadata/namespace").unwrap_or_default();
    let hostnames = route
        .pointer("/spec/hostnames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let at_parent = RouteAtParent {
        kind: route["kind"].as_str().unwrap_or_default(),
        namespace,
        hostnames,
    };
    let missing = missing_backend(api, route, namespace);
    let generation = &route["metadata"]["generation"];
    let parents: Vec<Value> = route
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|parent| {
            let earlier = route
                .pointer("/status/parents")
                .and_then(Value::as_array)
                .and_then(|p| p.iter().find(|p| &p["parentRef"] == parent))
                .and_then(|p| p.get("conditions"));
            let verdict = accepted(api, &at_parent, parent);
            let accepted = condition(
                api,
                earlier,
                generation,
                "Accepted",
                verdict
                    .as_ref()
                    .map(|()| "Accepted")
                    .map_err(|(r, m)| (r.as_str(), m.as_str())),
                "Route is accepted",
            );
            let resolved = condition(
                api,
                earlier,
                generation,
                "ResolvedRefs",
                missing
                    .as_deref()
                    .map_or(Ok("ResolvedRefs"), |m| Err(("BackendNotFound", m))),
                "All references resolved",
            );
            json!({"parentRef": parent, "controllerName": GATEWAY_CONTROLLER, "conditions": [accepted, resolved]})
        })
        .collect();
    json!({"parents": parents})
}

/// The Gateways (as ancestor references) through which a policy's target Services are reached:
/// the parents of every HTTPRoute and GRPCRoute in the policy's namespace that routes to one of
/// them and that the parent accepted.
fn policy_ancestors(api: &Api, policy: &Value, namespace: &str) -> Vec<Value> {
    let targets: Vec<&str> = policy
        .pointer("/spec/targetRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t["kind"] == "Service" && t["group"] == "")
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut ancestors: Vec<Value> = Vec::new();
    for route in [gvr::HTTPROUTES, gvr::GRPCROUTES]
        .into_iter()
        .filter(|r| api.serves(*r))
        .flat_map(|r| api.list(r, Some(namespace)))
    {
        let routes_to_target = route
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|rule| rule["backendRefs"].as_array().cloned().unwrap_or_default())
            .any(|b| {
                b.get("namespace").is_none_or(|n| n == namespace)
                    && b["name"].as_str().is_some_and(|n| targets.contains(&n))
            });
        let parents = route.pointer("/status/parents").and_then(Value::as_array);
        for parent in parents.into_iter().flatten().filter(|_| routes_to_target) {
            let accepted = parent["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Accepted" && c["status"] == "True");
            let reference = &parent["parentRef"];
            let ancestor = json!({"group": GROUP, "kind": "Gateway",
                "name": reference["name"],
                "namespace": reference["namespace"].as_str().unwrap_or(namespace)});
            if accepted && !ancestors.contains(&ancestor) {
                ancestors.push(ancestor);
            }
        }
    }
    ancestors
}

/// Why a CA certificate reference of a policy is invalid, if it is.
fn invalid_ca_ref(api: &Api, reference: &Value, namespace: &str) -> Option<(&'static str, String)> {
    let name = reference["name"].as_str().unwrap_or_default();
    if reference["kind"] != "ConfigMap" || reference["group"] != "" {
        let kind = reference["kind"].as_str().unwrap_or_default();
        return Some((
            "InvalidKind",
            format!("unsupported kind {kind} of caCertificateRef {name}"),
        ));
    }
    let config_map = api.get(gvr::CONFIG_MAPS, namespace, name);
    match config_map.as_deref().map(|c| c.pointer("/data/ca.crt")) {
        None => Some((
            "InvalidCACertificateRef",
            format!("ConfigMap \"{namespace}/{name}\" not found"),
        )),
        Some(None) => Some((
            "InvalidCACertificateRef",
            format!("ConfigMap \"{namespace}/{name}\" has no key ca.crt"),
        )),
        Some(Some(_)) => None,
    }
}

/// A BackendTLSPolicy's status: per Gateway ancestor, `Accepted` (False NoValidCACertificate
/// when every CA reference is invalid) and `ResolvedRefs` (False with the first invalid
/// reference's reason).
pub(super) fn policy_status(api: &Api, policy: &Value) -> Value {
    let namespace = str_at(policy, "/metadata/namespace").unwrap_or_default();
    let refs: Vec<&Value> = policy
        .pointer("/spec/validation/caCertificateRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let invalid: Vec<(&str, String)> = refs
        .iter()
        .filter_map(|r| invalid_ca_ref(api, r, namespace))
        .collect();
    let generation = &policy["metadata"]["generation"];
    let ancestors: Vec<Value> = policy_ancestors(api, policy, namespace)
        .into_iter()
        .map(|ancestor| {
            let earlier = policy
                .pointer("/status/ancestors")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|a| a["ancestorRef"] == ancestor))
                .and_then(|a| a.get("conditions"));
            let all_invalid = !refs.is_empty() && invalid.len() == refs.len();
            let accepted = if all_invalid {
                Err(("NoValidCACertificate", "no caCertificateRef is valid"))
            } else {
                Ok("Accepted")
            };
            let resolved = invalid
                .first()
                .map_or(Ok("ResolvedRefs"), |(reason, message)| Err((*reason, message.as_str())));
            json!({"ancestorRef": ancestor, "controllerName": GATEWAY_CONTROLLER, "conditions": [
                condition(api, earlier, generation, "Accepted", accepted, "Policy accepted"),
                condition(api, earlier, generation, "ResolvedRefs", resolved, "All references resolved"),
            ]})
        })
        .collect();
    json!({"ancestors": ancestors})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_any_number_of_labels() {
        assert!(hostnames_intersect("*.example.com", "sync.example.com"));
        assert!(hostnames_intersect("a.b.example.com", "*.example.com"));
        assert!(hostnames_intersect("*.example.com", "*.b.example.com"));
        assert!(!hostnames_intersect("*.example.com", "example.com"));
        assert!(!hostnames_intersect("a.example.com", "b.example.com"));
    }

    #[test]
    fn listener_protocols_carry_their_route_kinds() {
        let passthrough = json!({"protocol": "TLS", "tls": {"mode": "Passthrough"}});
        assert_eq!(listener_kinds(&passthrough), ["TLSRoute"]);
        assert_eq!(listener_kinds(&json!({"protocol": "TCP"})), ["TCPRoute"]);
        assert_eq!(
            listener_kinds(&json!({"protocol": "HTTPS"})),
            ["HTTPRoute", "GRPCRoute"]
        );
        let narrowed =
            json!({"protocol": "HTTP", "allowedRoutes": {"kinds": [{"kind": "GRPCRoute"}]}});
        assert_eq!(listener_kinds(&narrowed), ["GRPCRoute"]);
    }
}
