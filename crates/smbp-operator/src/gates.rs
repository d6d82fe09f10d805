//! Fields kube-apiserver accepts and silently drops when their feature gate is off. The
//! operator learns which gates are off from what the server stored (never from a version table),
//! treats a child that differs only by such a field as unchanged — so a dropped field never
//! causes a write loop or a false "updated" Event — and reports once per BigPeer what the user
//! asked for that the cluster cannot do.

use crate::apply::contains;
use serde_json::Value;
use smbp_core::build::ChildKind;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// A field behind a feature gate that is off by default on some supported Kubernetes versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GatedField {
    /// The kind of child that carries it.
    pub kind: ChildKind,
    /// Its JSON pointer in the object.
    pub pointer: &'static str,
    /// The Kubernetes feature gate.
    pub gate: &'static str,
    /// What the user loses when the gate is off.
    pub consequence: &'static str,
}

/// Every gated field the operator sets.
pub const GATED_FIELDS: [GatedField; 1] = [GatedField {
    kind: ChildKind::StatefulSet,
    pointer: "/spec/updateStrategy/rollingUpdate/maxUnavailable",
    gate: "MaxUnavailableStatefulSet",
    consequence: "spec.upgrade.maxUnavailable above 1 has no effect: store pods roll one at a time",
}];

/// The gated fields this cluster dropped, as learned from stored objects.
#[derive(Debug, Default)]
pub struct DroppedFields {
    dropped: Mutex<BTreeSet<GatedField>>,
    reported: Mutex<BTreeSet<(String, &'static str)>>,
}

impl DroppedFields {
    /// Whether `stored` is `desired` as this server keeps it: equal once the gated fields the
    /// server dropped are left out. Records each field found dropped.
    pub fn matches(&self, kind: ChildKind, stored: &Value, desired: &Value) -> bool {
        let mut trimmed = desired.clone();
        let mut dropped = Vec::new();
        for field in GATED_FIELDS.iter().filter(|f| f.kind == kind) {
            let wanted = desired.pointer(field.pointer).is_some();
            if wanted && stored.pointer(field.pointer).is_none() {
                remove(&mut trimmed, field.pointer);
                dropped.push(*field);
            }
        }
        if dropped.is_empty() || !contains(stored, &trimmed) {
            return false;
        }
        let mut known = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        for field in dropped {
            if known.insert(field) {
                tracing::warn!(
                    gate = field.gate,
                    field = field.pointer,
                    "the API server drops this field: its feature gate is off"
                );
            }
        }
        true
    }

    /// What `owner` (a BigPeer key) asks for in `desired` that this cluster drops, not yet
    /// reported for it: one sentence per field, each only once.
    pub fn unreported(&self, owner: &str, kind: ChildKind, desired: &Value) -> Vec<String> {
        let known = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        known
            .iter()
            .filter(|f| f.kind == kind && meaningful(desired.pointer(f.pointer)))
            .filter(|f| reported.insert((owner.to_string(), f.gate)))
            .map(|f| {
                format!(
                    "this cluster's API server drops {} (feature gate {} is off): {}",
                    f.pointer.trim_start_matches('/').replace('/', "."),
                    f.gate,
                    f.consequence
                )
            })
            .collect()
    }

    /// Forgets what was reported for `owner`, a BigPeer that is gone: one that comes back under
    /// the same name is told again, and deleted BigPeers hold no memory.
    pub fn forget(&self, owner: &str) {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        reported.retain(|(reported_for, _)| reported_for != owner);
    }
}

/// Whether a gated value asks for more than Kubernetes does without the gate (a count above 1).
fn meaningful(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n > 1),
        Some(Value::String(s)) => s != "1",
        _ => false,
    }
}

/// Removes the field at `pointer` from `object`.
fn remove(object: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(map) = object.pointer_mut(parent).and_then(Value::as_object_mut) {
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts(max_unavailable: Option<i64>, replicas: i64) -> Value {
        let mut rolling = json!({"partition": 0});
        if let Some(m) = max_unavailable {
            rolling["maxUnavailable"] = json!(m);
        }
        json!({"spec": {"replicas": replicas, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling}}})
    }

    #[test]
    fn a_child_differing_only_by_a_dropped_gated_field_matches_and_is_reported_once() {
        let fields = DroppedFields::default();
        let desired = sts(Some(2), 3);
        assert!(fields.matches(ChildKind::StatefulSet, &sts(None, 3), &desired));
        assert!(
            !fields.matches(ChildKind::StatefulSet, &sts(None, 5), &desired),
            "a real difference is still a difference"
        );
        assert!(
            !fields.matches(ChildKind::StatefulSet, &sts(Some(2), 3), &desired),
            "nothing was dropped"
        );
        let notes = fields.unreported("shop/edge", ChildKind::StatefulSet, &desired);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("MaxUnavailableStatefulSet"),
            "{}",
            notes[0]
        );
        assert!(
            fields
                .unreported("shop/edge", ChildKind::StatefulSet, &desired)
                .is_empty()
        );
        assert!(
            fields
                .unreported("other/bp", ChildKind::StatefulSet, &sts(Some(1), 3))
                .is_empty(),
            "maxUnavailable 1 loses nothing"
        );
    }

    #[test]
    fn a_forgotten_bigpeer_is_told_again_and_the_others_are_not() {
        let fields = DroppedFields::default();
        let desired = sts(Some(2), 3);
        assert!(fields.matches(ChildKind::StatefulSet, &sts(None, 3), &desired));
        for owner in ["shop/edge", "shop/other"] {
            assert_eq!(
                fields
                    .unreported(owner, ChildKind::StatefulSet, &desired)
                    .len(),
                1
            );
        }
        fields.forget("shop/edge");
        assert_eq!(
            fields
                .unreported("shop/edge", ChildKind::StatefulSet, &desired)
                .len(),
            1
        );
        assert!(
            fields
                .unreported("shop/other", ChildKind::StatefulSet, &desired)
                .is_empty()
        );
    }
}
