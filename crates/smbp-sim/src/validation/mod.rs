//! Validation and defaulting of built-in objects and of every object's metadata, as
//! kube-apiserver does it: names and metadata ([`meta`]), decoding (the type check and
//! quantities, refused with 400 as a failed decoding), the REST strategies' mutations
//! ([`strategy`]), quantity rules ([`quantities`]), pod spec rules ([`pods`]), update rules
//! ([`immutable`]), Service ports ([`services`]), PriorityClasses ([`scheduling`]) and the server
//! defaults the simulated controllers and SSA keys rely on ([`defaults`]).

mod defaults;
mod immutable;
mod meta;
mod names;
mod pods;
mod quantities;
mod scheduling;
mod services;
mod strategy;
mod typecheck;

use crate::error::Cause;
use crate::features::FeatureGates;
use crate::resources::ResourceType;
use serde_json::Value;

pub use defaults::{default_builtin, default_status_on_create};
pub use strategy::prepare;

/// Metadata rules every object obeys (name or generateName of its kind, labels, annotations).
pub fn metadata(rt: &ResourceType, object: &Value, gates: &FeatureGates) -> Vec<Cause> {
    meta::object_meta(rt, object, gates)
}

/// Decodes a built-in as kube-apiserver decodes it into its Go type: Err is the decoding error
/// (a field of the wrong type, a quantity that does not parse).
pub fn decode(rt: &ResourceType, object: &Value) -> Result<(), String> {
    match quantities::decode_error(rt, object) {
        Some(error) => Err(error),
        None => typecheck::type_check(rt, object),
    }
}

/// The field rules of a built-in object and, on updates, its immutability rules.
pub fn builtin(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = pods::validate(rt, object);
    causes.extend(quantities::validate(rt, object));
    if let Some(old) = old {
        causes.extend(immutable::validate(rt, object, old));
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("scheduling.k8s.io", "PriorityClass") => causes.extend(scheduling::validate(object, old)),
        ("", "Service") => causes.extend(services::validate(object)),
        _ => {}
    }
    causes
}
