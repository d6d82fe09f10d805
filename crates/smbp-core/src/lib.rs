//! The pure domain of the SMBP operator: semantic validation of a BigPeer, the release catalogue
//! and its upgrade paths, the Pod Security Standard checks, the upgrade state machine, and the builders of every child
//! object. No I/O: everything here is called by the reconciler, the admission webhook and the
//! kubectl plugin, and tested without a cluster.

pub mod admission;
pub mod build;
pub mod catalogue;
pub mod clock;
pub mod duration;
pub mod pause;
pub mod pss;
pub mod quantity;
pub mod upgrade;
pub mod validation;
