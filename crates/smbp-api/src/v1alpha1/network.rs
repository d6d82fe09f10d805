//! `spec.network`: how devices reach the sync tier — a Service of any type, an Ingress, Gateway API
//! routes, or any combination. Nothing controller-specific is assumed or hardcoded.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Exposure of the sync tier. Every part is optional and they combine freely.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSpec {
    /// The client Service in front of the sync pods. Unset means a ClusterIP Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceExposure>,

    /// An Ingress routing to the client Service, for any ingress controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressExposure>,

    /// A Gateway API route attached to a Gateway you already run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayExposure>,
}

/// The client Service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.loadBalancerClass) || self.type == 'LoadBalancer'")
        .message("spec.network.service.loadBalancerClass applies only to type LoadBalancer: set type to LoadBalancer or remove loadBalancerClass")
        .field_path(".loadBalancerClass"),
    validation = Rule::new("!has(self.loadBalancerSourceRanges) || size(self.loadBalancerSourceRanges) == 0 || self.type == 'LoadBalancer'")
        .message("spec.network.service.loadBalancerSourceRanges applies only to type LoadBalancer: set type to LoadBalancer or remove the ranges")
        .field_path(".loadBalancerSourceRanges"),
    validation = Rule::new("!has(self.externalTrafficPolicy) || self.type != 'ClusterIP'")
        .message("spec.network.service.externalTrafficPolicy applies only to types NodePort and LoadBalancer: change type or remove externalTrafficPolicy")
        .field_path(".externalTrafficPolicy"),
    validation = Rule::new("!has(self.nodePort) || self.type != 'ClusterIP'")
        .message("spec.network.service.nodePort applies only to types NodePort and LoadBalancer: change type or remove nodePort")
        .field_path(".nodePort"),
    validation = Rule::new("!has(oldSelf.loadBalancerClass) || (has(self.loadBalancerClass) && self.loadBalancerClass == oldSelf.loadBalancerClass)")
        .message("spec.network.service.loadBalancerClass is immutable once set (Kubernetes forbids changing it on a Service): keep the current value")
        .field_path(".loadBalancerClass")
        .reason(Reason::FieldValueForbidden),
)]
pub struct ServiceExposure {
    /// Service type: `ClusterIP` (default), `NodePort` or `LoadBalancer`.
    #[serde(default, rename = "type")]
    pub type_: ServiceType,

    /// Annotations for the Service, for example those your cloud's load balancer controller
    /// reads. Passed through unchanged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,

    /// The load balancer implementation to use (type LoadBalancer only), for example
    /// `service.k8s.aws/nlb`. Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub load_balancer_class: Option<String>,

    /// Client CIDRs allowed through the load balancer (type LoadBalancer only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(max = 43)))]
    #[x_kube(validation = Rule::new("self.all(r, isCIDR(r))")
        .message("spec.network.service.loadBalancerSourceRanges entries must be CIDRs such as 203.0.113.0/24"))]
    pub load_balancer_source_ranges: Vec<Cidr>,

    /// `Cluster` or `Local` (keeps client source addresses; NodePort and LoadBalancer only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<TrafficPolicy>,

    /// A fixed node port for the sync port (NodePort and LoadBalancer only). Unset lets
    /// Kubernetes choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30000, max = 32767))]
    pub node_port: Option<i32>,
}

/// One CIDR.
pub type Cidr = String;

/// A Kubernetes Service type the sync tier can be exposed through.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum ServiceType {
    /// Reachable inside the cluster only.
    #[default]
    ClusterIP,
    /// Also reachable on a port of every node.
    NodePort,
    /// Also reachable through a cloud or bare-metal load balancer.
    LoadBalancer,
}

/// An external traffic policy.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficPolicy {
    /// Balance across all nodes (client addresses are masqueraded).
    Cluster,
    /// Deliver only to pods on the receiving node (client addresses are kept).
    Local,
}

/// An Ingress in front of the client Service.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressExposure {
    /// IngressClass to use. Unset uses the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub ingress_class_name: Option<String>,

    /// Annotations for the Ingress (for example your controller's WebSocket or timeout settings).
    /// Passed through unchanged; the operator sets none of its own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,

    /// Host names the Ingress serves.
    #[schemars(length(min = 1, max = 16), inner(length(max = 253)))]
    #[x_kube(validation = Rule::new("self.all(h, h.matches('^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))")
        .message("spec.network.ingress.hosts entries must be lower-case DNS names, for example sync.example.com"))]
    pub hosts: Vec<DnsHost>,

    /// TLS at the Ingress. Unset means the Ingress serves plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<IngressTls>,
}

/// One host name.
pub type DnsHost = String;

/// TLS termination at the Ingress.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretName) != self.useBigPeerCertificate")
    .message("spec.network.ingress.tls must set exactly one of secretName or useBigPeerCertificate: true"))]
pub struct IngressTls {
    /// A TLS Secret for the Ingress hosts (for example one your controller or cert-manager's
    /// ingress-shim fills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,

    /// Serve the BigPeer's own certificate (from `spec.tls`); its DNS names must then include
    /// the Ingress hosts.
    #[serde(default)]
    pub use_big_peer_certificate: bool,
}

/// Gateway API routes attached to an existing Gateway.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.routeKind) || self.routeKind != 'TLSRoute' || (has(self.hostnames) && size(self.hostnames) > 0)")
        .message("spec.network.gateway.hostnames must name at least one host when routeKind is TLSRoute: a TLSRoute routes by the TLS server name (SNI) devices connect with, for example sync.example.com")
        .field_path(".hostnames"),
    validation = Rule::new("!has(self.routeKind) || self.routeKind != 'TCPRoute' || !has(self.hostnames) || size(self.hostnames) == 0")
        .message("spec.network.gateway.hostnames does not apply to a TCPRoute (TCP carries no host name): remove hostnames, or use routeKind TLSRoute to route by SNI")
        .field_path(".hostnames"),
    validation = Rule::new("!has(self.backendTLS) || !self.backendTLS || !has(self.routeKind) || self.routeKind == 'HTTPRoute' || self.routeKind == 'GRPCRoute'")
        .message("spec.network.gateway.backendTLS applies to HTTPRoute and GRPCRoute only (a TLSRoute passes TLS through to the pods, a TCPRoute passes bytes): remove backendTLS or change routeKind")
        .field_path(".backendTLS"),
)]
pub struct GatewayExposure {
    /// The Gateways (or listeners of them) to attach to. The listener must fit the route kind:
    /// `HTTP`/`HTTPS` for HTTPRoute and GRPCRoute, `TLS` with `tls.mode: Passthrough` for
    /// TLSRoute, `TCP` for TCPRoute.
    #[schemars(length(min = 1, max = 8))]
    pub parent_refs: Vec<GatewayParentRef>,

    /// Host names the route matches. Unset matches the listener's host names (HTTPRoute,
    /// GRPCRoute). Required for a TLSRoute, which routes by the TLS server name (SNI): the
    /// BigPeer's certificate must cover them. Not allowed for a TCPRoute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16), inner(length(max = 253)))]
    #[x_kube(validation = Rule::new("self.all(h, h.matches('^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))")
        .message("spec.network.gateway.hostnames entries must be lower-case DNS names, for example sync.example.com"))]
    pub hostnames: Vec<DnsHost>,

    /// The route kind: `HTTPRoute` (HTTP and WebSocket, the default), `GRPCRoute`, `TLSRoute`
    /// (TLS passthrough: the sync pods terminate TLS with the BigPeer's certificate; needs
    /// `spec.tls` and `hostnames`) or `TCPRoute` (the sync port as plain TCP). Changing it
    /// replaces the route: the route of the old kind is deleted.
    #[serde(default)]
    pub route_kind: RouteKind,

    /// End-to-end TLS for HTTPRoute and GRPCRoute: the Gateway re-encrypts to the sync pods and
    /// verifies their certificate (from `spec.tls`, which must be set) against its CA, through a
    /// BackendTLSPolicy on the sync Service and a ConfigMap holding the CA. The certificate's CA
    /// must be in the TLS Secret's `ca.crt`, and a `spec.tls.secretRef` certificate must name
    /// the sync Service (`<name>-sync.<namespace>.svc`). Needs a Gateway that supports
    /// BackendTLSPolicy. Default false: the Gateway speaks plain HTTP to the pods.
    #[serde(default, rename = "backendTLS")]
    pub backend_tls: bool,
}

/// A Gateway (or one of its listeners) a route attaches to.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GatewayParentRef {
    /// Name of the Gateway.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the Gateway, when not the BigPeer's. The Gateway's listener must allow routes
    /// from the BigPeer's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
    /// A listener of the Gateway to attach to. Unset attaches to every listener that allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub section_name: Option<String>,
    /// A port of the Gateway to attach to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

/// A Gateway API route kind.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum RouteKind {
    /// An HTTPRoute (HTTP/1.1, HTTP/2 and WebSocket).
    #[default]
    HTTPRoute,
    /// A GRPCRoute.
    GRPCRoute,
    /// A TLSRoute: TLS passthrough by SNI to the sync pods, which terminate it.
    TLSRoute,
    /// A TCPRoute: the sync port as a TCP stream.
    TCPRoute,
}
