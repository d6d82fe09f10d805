//! The `BigPeer` custom resource API (`smbp.dev`), its defaults and CRD generation.
//!
//! Every Rust type here is also the OpenAPI schema users meet in `kubectl explain`: the doc comment
//! on each field becomes its description, and the CEL rules declared with `#[x_kube(validation)]`
//! become the CRD's `x-kubernetes-validations`, enforced by the API server at apply time.
//! Checks that need more than one object, or the release catalogue, live in `smbp-core`.

pub mod apidoc;
pub mod crd;
pub mod defaults;
pub mod schema;
pub mod v1alpha1;

/// The API group of every kind this project defines.
pub const GROUP: &str = "smbp.dev";
