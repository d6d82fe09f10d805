//! smbp-sim: an in-process Kubernetes API server that speaks the real REST protocol (JSON over
//! HTTPS), so kube-rs clients, the operator binary and kubectl work against it unchanged. It is the
//! project's test cluster, in the role envtest and KWOK play for Go operators. See its README for
//! what is modelled and how it differs from kube-apiserver.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let cluster = smbp_sim::SimCluster::start().await?;
//! let client = cluster.client();
//! # let _ = client;
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```

mod accounting;
mod admission;
mod auth;
mod clock;
mod cluster;
pub mod controllers;
mod crds;
mod delete;
mod discovery;
mod error;
mod eviction;
mod faults;
pub mod features;
mod fields;
mod gc;
mod lifecycle;
mod logs;
mod managed;
mod openapi;
mod patch;
mod priority;
mod quantity;
mod read;
mod request;
mod resources;
mod router;
mod scale;
mod schema;
mod selectors;
mod shape;
mod sim;
mod store;
pub mod tls;
mod validation;
mod watch;
mod write;

pub use accounting::{Accounting, Denial, RequestKey, is_write};
pub use auth::UserInfo;
pub use cluster::{SimCluster, SimHandle, SimOptions, StartError};
pub use controllers::{Controllers, Controls, ImageBehaviour, ImageScope, KubeletTiming, NodePool};
pub use crds::ThirdPartyCrds;
pub use faults::{FaultRule, Faults};
pub use features::FeatureGates;
pub use logs::PodLogs;
