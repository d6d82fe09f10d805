//! Rust types of the third-party kinds the SMBP operator creates, generated with kopium from the
//! upstream CRDs (see `generate.sh`; never edited by hand, never guessed field names). The
//! `gateway-api` crate is not used: its newest release (0.22) is built on kube 4 and
//! k8s-openapi 0.28, which cannot share a build with this workspace's kube 5 / k8s-openapi 0.29.
//!
//! Only the spec side is used to build objects; statuses are read as JSON by the operator, since
//! several projects' conditions lack fields the Kubernetes `Condition` type requires.

#![allow(missing_docs, clippy::all)]

#[path = "generated/backend_tls_policy.rs"]
mod backend_tls_policy;
#[path = "generated/certificate.rs"]
mod certificate;
#[path = "generated/grpc_route.rs"]
mod grpc_route;
#[path = "generated/http_route.rs"]
mod http_route;
#[path = "generated/kafka_topic.rs"]
mod kafka_topic;
#[path = "generated/kafka_user.rs"]
mod kafka_user;
#[path = "generated/prometheus_rule.rs"]
mod prometheus_rule;
#[path = "generated/service_monitor.rs"]
mod service_monitor;
#[path = "generated/tcp_route.rs"]
mod tcp_route;
#[path = "generated/tls_route.rs"]
mod tls_route;

/// cert-manager (`cert-manager.io/v1`).
pub mod cert_manager {
    pub use crate::certificate::*;
}

/// Gateway API (`gateway.networking.k8s.io/v1`).
pub mod gateway {
    pub use crate::backend_tls_policy::*;
    pub use crate::grpc_route::*;
    pub use crate::http_route::*;
    pub use crate::tcp_route::*;
    pub use crate::tls_route::*;
}

/// Strimzi (`kafka.strimzi.io/v1`).
pub mod strimzi {
    pub use crate::kafka_topic::*;
    pub use crate::kafka_user::*;
}

/// Prometheus Operator (`monitoring.coreos.com/v1`).
pub mod prometheus {
    pub use crate::prometheus_rule::*;
    pub use crate::service_monitor::*;
}
