//! What kube-apiserver's REST strategies do to a built-in before validating it
//! (`PrepareForCreate` / `PrepareForUpdate`): drop fields of disabled feature gates
//! (`dropDisabledFields`), keep a Service's allocated cluster IPs, and store quantities in their
//! canonical form.

use super::{immutable, quantities};
use crate::features::{FeatureGates, MAX_UNAVAILABLE_STATEFULSET};
use crate::resources::ResourceType;
use serde_json::Value;

/// The mutations of one write; `old` is the stored object on updates.
pub fn prepare(rt: &ResourceType, object: &mut Value, old: Option<&Value>, gates: &FeatureGates) {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "StatefulSet") => drop_max_unavailable(object, old, gates),
        ("", "Service") => immutable::keep_cluster_ips(object, old),
        _ => {}
    }
    quantities::canonicalize(rt, object);
}

const MAX_UNAVAILABLE: &str = "/spec/updateStrategy/rollingUpdate/maxUnavailable";

/// `dropStatefulSetDisabledFields`: without `MaxUnavailableStatefulSet`,
/// `rollingUpdate.maxUnavailable` is dropped unless the stored object already uses it.
fn drop_max_unavailable(object: &mut Value, old: Option<&Value>, gates: &FeatureGates) {
    let in_use = old.is_some_and(|o| o.pointer(MAX_UNAVAILABLE).is_some_and(|v| !v.is_null()));
    if gates.enabled(MAX_UNAVAILABLE_STATEFULSET) || in_use {
        return;
    }
    if let Some(rolling) = object
        .pointer_mut("/spec/updateStrategy/rollingUpdate")
        .and_then(Value::as_object_mut)
    {
        rolling.remove("maxUnavailable");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;
    use serde_json::json;

    fn set(max_unavailable: Option<i64>) -> Value {
        let mut rolling = json!({"partition": 0});
        if let Some(n) = max_unavailable {
            rolling["maxUnavailable"] = json!(n);
        }
        json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling}}})
    }

    #[test]
    fn max_unavailable_is_dropped_unless_enabled_or_in_use() {
        let rt = builtins()
            .into_iter()
            .find(|r| r.plural == "statefulsets")
            .unwrap();
        let off = FeatureGates::default();
        let mut created = set(Some(2));
        prepare(&rt, &mut created, None, &off);
        assert_eq!(created, set(None));
        let mut updated = set(Some(3));
        prepare(&rt, &mut updated, Some(&set(Some(2))), &off);
        assert_eq!(updated, set(Some(3)));
        let mut on = FeatureGates::default();
        on.set(MAX_UNAVAILABLE_STATEFULSET, true);
        let mut created = set(Some(2));
        prepare(&rt, &mut created, None, &on);
        assert_eq!(created, set(Some(2)));
    }
}
