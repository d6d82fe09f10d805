//! The SMBP operator: the BigPeer controller and what it needs to run.
//!
//! A reconcile flows through the stages of `../shared/DESIGN.md`: [`dereference`] reads what the
//! BigPeer refers to, `smbp_core::validation` and `smbp_core::build` (pure) validate it and build
//! every child, [`apply`] server-side-applies the children and prunes the ones no longer wanted,
//! and [`status`] computes conditions from what was observed. [`reconcile`] strings them together;
//! [`controller`] runs it under kube-runtime.

pub mod api_metrics;
pub mod apply;
pub mod backoff;
pub mod cache;
pub mod client;
pub mod clock;
pub mod context;
pub mod controller;
pub mod dereference;
pub mod diagnose;
pub mod error;
pub mod events;
pub mod finalizer;
pub mod gates;
pub mod images;
pub mod leader;
pub mod logging;
pub mod metrics;
pub mod pause;
pub mod probe;
pub mod reconcile;
pub mod refusals;
pub mod runtime;
pub mod serve;
pub mod status;
pub mod tls_hold;
pub mod triggers;
pub mod upgrade;
pub mod webhook;
