//! The apply stage: every built child goes to the API server by server-side apply (field manager
//! `smbp-operator`, forced), unless its live copy already carries the same applied hash and every
//! applied value — so a reconcile with nothing to change writes nothing. Children no longer
//! desired are deleted (found by label, confirmed by owner). A StatefulSet whose immutable fields
//! must change is deleted with `propagationPolicy: Orphan` (pods and volumes stay) and created
//! again on the next pass.

use crate::context::{Context, Stats};
use crate::error::{Error, Result};
use crate::refusals;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy,
};
use serde_json::Value;
use smbp_core::build::{
    APPLIED_HASH_ANNOTATION, Child, ChildKind, MANAGED_BY, OWNER_NAMESPACE_LABEL, OptionalApi,
    instance_selector,
};
use smbp_core::quantity::{compare_quantities, same_quantity};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::cache::ChildKey;

/// The children that exist, as listed before applying and updated by each apply.
#[derive(Debug, Default)]
pub struct Live {
    objects: BTreeMap<ChildKey, Value>,
}

impl Live {
    /// Records the live copy of a child.
    pub fn insert(&mut self, kind: ChildKind, namespace: &str, name: &str, object: Value) {
        self.objects
            .insert((kind, namespace.to_string(), name.to_string()), object);
    }

    /// The live copy of a child.
    pub fn get(&self, kind: ChildKind, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&(kind, namespace.to_string(), name.to_string()))
    }
}

/// What the apply stage did to one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The live copy already matched.
    Unchanged,
    /// It did not exist and was created.
    Created,
    /// It existed and was changed.
    Updated,
    /// An immutable field changed: the old object was deleted (orphaning its pods) and is
    /// recreated on the next reconcile.
    Recreating,
    /// Its API is not installed; not applied.
    ApiMissing(OptionalApi),
    /// The API server refused it (now, or earlier and its backoff has not passed), with its
    /// message; `news` when this refusal was not reported before.
    Refused {
        /// Whether this refusal (or its message) is new.
        news: bool,
    },
}

/// Lists the live children of the BigPeer `namespace/instance`: every kind in its namespace, and
/// the Strimzi kinds also in `extra_namespaces` (next to the Kafka cluster). Kinds whose
/// optional API is missing are skipped. With `only`, cached kinds are looked up by name for just
/// those children (constant time; enough when nothing needs pruning); without, every child of
/// the instance is found (what pruning needs).
pub async fn list_live(
    ctx: &Context,
    namespace: &str,
    instance: &str,
    extra_namespaces: &[String],
    installed: &BTreeSet<OptionalApi>,
    only: Option<&BTreeSet<ChildKey>>,
) -> Result<Live> {
    let mut live = Live::default();
    let selector = instance_selector(instance);
    for kind in ChildKind::ALL {
        if kind
            .optional_api()
            .is_some_and(|api| !installed.contains(&api))
        {
            continue;
        }
        let mut namespaces = vec![namespace.to_string()];
        if matches!(kind, ChildKind::KafkaTopic | ChildKind::KafkaUser) {
            namespaces.extend(extra_namespaces.iter().filter(|n| *n != namespace).cloned());
        }
        for ns in namespaces {
            let found: Vec<(String, Value)> =
                if let Some(wanted) = only.filter(|_| ctx.caches.has(kind)) {
                    wanted
                        .iter()
                        .filter(|(k, n, _)| *k == kind && *n == ns)
                        .filter_map(|(_, _, name)| {
                            let value = ctx.caches.get(kind, &ns, name).flatten()?;
                            Some((name.clone(), value))
                        })
                        .collect()
                } else if let Some(cached) = ctx.caches.children(kind, &ns, instance) {
                    cached
                } else {
                    let list = dynamic_api(ctx, kind, &ns)
                        .list(&ListParams::default().labels(&selector))
                        .await
                        .map_err(|e| Error::kube(format!("list {kind:?} in {ns}"), e))?;
                    list.items
                        .iter()
                        .map(|o| Ok((o.metadata.name.clone().unwrap_or_default(), to_value(o)?)))
                        .collect::<Result<_>>()?
                };
            // Items of a list (and objects from a watch's first list) carry no apiVersion and
            // kind; the applied objects do.
            let resource = kind.api_resource();
            for (name, mut value) in found {
                value["apiVersion"] = resource.api_version.clone().into();
                value["kind"] = resource.kind.clone().into();
                live.objects.insert((kind, ns.clone(), name), value);
            }
        }
    }
    Ok(live)
}

/// Applies `child` unless the live copy already holds it. Updates `live` with the result.
pub async fn apply(
    ctx: &Context,
    child: &Child,
    live: &mut Live,
    installed: &BTreeSet<OptionalApi>,
) -> Result<Outcome> {
    if let Some(api) = child.kind.optional_api()
        && !installed.contains(&api)
    {
        return Ok(Outcome::ApiMissing(api));
    }
    let key = (child.kind, child.namespace.clone(), child.name.clone());
    let hash = applied_hash(&child.object);
    let existing = live.objects.get(&key);
    if let Some(existing) = existing {
        if existing.pointer("/metadata/deletionTimestamp").is_some() {
            // Being deleted (an orphaning StatefulSet delete in progress): wait for it to go.
            return Ok(Outcome::Recreating);
        }
        if child.kind == ChildKind::Job {
            // A Job's template is immutable and a migration runs once: an existing Job is left
            // as it is (the upgrade names a new one when it needs another run).
            return Ok(Outcome::Unchanged);
        }
        let same_hash = applied_hash(existing) == hash;
        let normalized = ctx
            .normalized
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(object_id(&key), hash.clone()));
        let as_stored = normalized
            || contains(existing, &child.object)
            || ctx
                .dropped_fields
                .matches(child.kind, existing, &child.object);
        if same_hash && as_stored {
            ctx.refusals.accepted(&key);
            Stats::count(&ctx.stats.unchanged);
            return Ok(Outcome::Unchanged);
        }
        if child.kind == ChildKind::StatefulSet && !immutable_fields_match(existing, &child.object)
        {
            orphan_delete(ctx, child).await?;
            live.objects.remove(&key);
            return Ok(Outcome::Recreating);
        }
    }
    let created = existing.is_none();
    let now = std::time::Instant::now();
    if ctx.refusals.holding(&key, &hash, now).is_some() {
        return Ok(Outcome::Refused { news: false });
    }
    let api = dynamic_api(ctx, child.kind, &child.namespace);
    let params = PatchParams::apply(MANAGED_BY).force();
    let applied = match api
        .patch(&child.name, &params, &Patch::Apply(&child.object))
        .await
    {
        Ok(applied) => applied,
        Err(e) if refusals::is_refusal(&e) => {
            let message = refusals::message(&e);
            tracing::warn!(kind = ?child.kind, name = %child.name, %message, "child refused");
            let news = ctx.refusals.refused(key, &hash, message, now);
            return Ok(Outcome::Refused { news });
        }
        Err(e) => {
            return Err(Error::kube(
                format!("apply {:?} {}/{}", child.kind, child.namespace, child.name),
                e,
            ));
        }
    };
    ctx.refusals.accepted(&key);
    let applied = to_value(&applied)?;
    ctx.dropped_fields
        .matches(child.kind, &applied, &child.object);
    if !contains(&applied, &child.object) {
        // The server stores some value in another form than it was sent; remember that this
        // desired state is applied so it is not sent again on every reconcile.
        ctx.normalized
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((object_id(&key), hash));
    }
    ctx.caches.applied(key.clone(), applied.clone());
    live.objects.insert(key, applied);
    Stats::count(&ctx.stats.applies);
    Ok(if created {
        Outcome::Created
    } else {
        Outcome::Updated
    })
}

/// Deletes every live child that is not in `desired` and belongs to the BigPeer with `uid` in
/// `namespace` (by owner reference, or by the owner-namespace label for children elsewhere).
/// Returns what it deleted.
pub async fn prune(
    ctx: &Context,
    live: &Live,
    desired: &BTreeSet<ChildKey>,
    namespace: &str,
    uid: &str,
) -> Result<Vec<ChildKey>> {
    let mut deleted = Vec::new();
    for (key, object) in &live.objects {
        if desired.contains(key) || !owned_by(object, namespace, uid) {
            continue;
        }
        let (kind, ns, name) = key;
        let api = dynamic_api(ctx, *kind, ns);
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(e) if crate::error::is_not_found(&e) => {}
            Err(e) => return Err(Error::kube(format!("delete {kind:?} {ns}/{name}"), e)),
        }
        ctx.caches.deleted(key);
        Stats::count(&ctx.stats.pruned);
        deleted.push(key.clone());
    }
    Ok(deleted)
}

/// Grows the store's volumes to `size` (a changed `spec.store.storage.size`): the StatefulSet's
/// template only applies to new claims, so existing claims are patched one by one; the storage
/// class must allow expansion. Returns the claims changed.
pub async fn expand_volumes(
    ctx: &Context,
    namespace: &str,
    selector: &BTreeMap<String, String>,
    size: &str,
) -> Result<Vec<String>> {
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(ctx.client.clone(), namespace);
    let labels = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let list = claims
        .list(&ListParams::default().labels(&labels))
        .await
        .map_err(|e| Error::kube(format!("list the store's volumes in {namespace}"), e))?;
    let mut grown = Vec::new();
    for claim in list.items {
        let name = claim.metadata.name.clone().unwrap_or_default();
        let requested = claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(|q| q.0.as_str());
        // Quantities compare by value (the API server stores `30720Mi` as `30Gi`); a claim that
        // is already as large (or larger: volumes never shrink) is left alone.
        let large_enough = requested.is_some_and(|r| {
            compare_quantities(r, size).is_some_and(|o| o != std::cmp::Ordering::Less)
        });
        if large_enough || claim.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let patch = serde_json::json!({"spec": {"resources": {"requests": {"storage": size}}}});
        claims
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| {
                Error::kube(
                    format!("expand PersistentVolumeClaim {namespace}/{name}"),
                    e,
                )
            })?;
        grown.push(name);
    }
    Ok(grown)
}

/// Whether `object` is a child of the BigPeer `namespace`/`uid`.
fn owned_by(object: &Value, namespace: &str, uid: &str) -> bool {
    let owners = object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array);
    match owners {
        Some(owners) if !owners.is_empty() => owners
            .iter()
            .any(|o| o["uid"] == uid && o["controller"] == true),
        _ => {
            let label = object
                .pointer(&format!(
                    "/metadata/labels/{}",
                    OWNER_NAMESPACE_LABEL.replace('/', "~1")
                ))
                .and_then(Value::as_str);
            label == Some(namespace)
        }
    }
}

/// Deletes a StatefulSet but not its pods or volumes: they are adopted by the new one.
async fn orphan_delete(ctx: &Context, child: &Child) -> Result<()> {
    let api = dynamic_api(ctx, child.kind, &child.namespace);
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        ..DeleteParams::default()
    };
    match api.delete(&child.name, &params).await {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_not_found(&e) => Ok(()),
        Err(e) => Err(Error::kube(
            format!("orphan-delete StatefulSet {}", child.name),
            e,
        )),
    }
}

/// Whether the StatefulSet fields Kubernetes refuses to change already hold the desired values.
fn immutable_fields_match(live: &Value, desired: &Value) -> bool {
    [
        "volumeClaimTemplates",
        "serviceName",
        "selector",
        "podManagementPolicy",
    ]
    .iter()
    .all(|field| match desired["spec"].get(*field) {
        Some(want) => live["spec"]
            .get(*field)
            .is_some_and(|have| contains(have, want)),
        None => true,
    })
}

/// Whether `live` holds every value of `desired`: maps may have more keys (server defaults,
/// other managers' fields), lists must match item by item, an empty desired map may be absent,
/// and quantities (resource requests and limits, sizes) compare by value, as the API server
/// stores them in canonical form (`1000m` as `1`, `30720Mi` as `30Gi`).
pub fn contains(live: &Value, desired: &Value) -> bool {
    contains_in(live, desired, false)
}

/// The maps whose values are quantities, and the fields that are one.
const QUANTITY_MAPS: [&str; 4] = ["requests", "limits", "capacity", "hard"];
const QUANTITY_FIELDS: [&str; 2] = ["sizeLimit", "storage"];

fn contains_in(live: &Value, desired: &Value, quantity: bool) -> bool {
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => {
            desired.iter().all(|(k, want)| match live.get(k) {
                Some(have) => {
                    let quantities = QUANTITY_MAPS.contains(&k.as_str());
                    let is_quantity = quantity || QUANTITY_FIELDS.contains(&k.as_str());
                    match (have, want) {
                        (Value::String(h), Value::String(w)) if is_quantity => {
                            h == w || same_quantity(h, w)
                        }
                        _ => contains_in(have, want, quantities),
                    }
                }
                None => is_empty(want),
            })
        }
        (Value::Array(live), Value::Array(desired)) => {
            live.len() == desired.len()
                && live
                    .iter()
                    .zip(desired)
                    .all(|(h, w)| contains_in(h, w, false))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (live, desired) => live == desired,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

fn applied_hash(object: &Value) -> String {
    object
        .pointer(&format!(
            "/metadata/annotations/{}",
            APPLIED_HASH_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn object_id((kind, ns, name): &ChildKey) -> String {
    format!("{kind:?}/{ns}/{name}")
}

/// A dynamic API for `kind` in `namespace`.
pub fn dynamic_api(ctx: &Context, kind: ChildKind, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(ctx.client.clone(), namespace, &kind.api_resource())
}

fn to_value(object: &DynamicObject) -> Result<Value> {
    serde_json::to_value(object).map_err(|source| Error::Serde {
        action: "serialize a live object".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn live_objects_contain_what_was_applied_plus_server_fields() {
        let desired = json!({"spec": {"ports": [{"name": "http", "port": 80}], "emptyDir": {}}});
        let live = json!({"spec": {"ports": [{"name": "http", "port": 80.0, "protocol": "TCP"}], "clusterIP": "10.0.0.1"}});
        assert!(contains(&live, &desired));
        let drifted = json!({"spec": {"ports": [{"name": "http", "port": 81}]}});
        assert!(!contains(&drifted, &desired));
        let extra_item =
            json!({"spec": {"ports": [{"name": "http", "port": 80}, {"name": "x", "port": 1}]}});
        assert!(!contains(&extra_item, &desired));
    }

    #[test]
    fn ownership_is_by_controller_uid_or_by_owner_namespace_label() {
        let owned = json!({"metadata": {"ownerReferences": [{"uid": "u1", "controller": true}]}});
        assert!(owned_by(&owned, "ns", "u1"));
        assert!(!owned_by(&owned, "ns", "u2"));
        let elsewhere = json!({"metadata": {"labels": {"smbp.dev/owner-namespace": "ns"}}});
        assert!(owned_by(&elsewhere, "ns", "u1"));
        assert!(!owned_by(&elsewhere, "other", "u1"));
    }

    #[test]
    fn a_changed_volume_claim_template_is_an_immutable_change() {
        let sts = |size: &str| {
            json!({"spec": {"serviceName": "s", "replicas": 3,
            "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": size}}}}]}})
        };
        assert!(immutable_fields_match(&sts("1Gi"), &sts("1Gi")));
        let mut scaled = sts("1Gi");
        scaled["spec"]["replicas"] = json!(5);
        assert!(immutable_fields_match(&sts("1Gi"), &scaled));
        assert!(!immutable_fields_match(&sts("1Gi"), &sts("2Gi")));
        // The API server stores quantities in canonical form: the same size is no change.
        assert!(immutable_fields_match(&sts("30Gi"), &sts("30720Mi")));
    }

    #[test]
    fn quantities_compare_by_value_and_only_where_they_are_quantities() {
        let desired = json!({"resources": {"requests": {"cpu": "1000m", "memory": "30720Mi"}}});
        let stored = json!({"resources": {"requests": {"cpu": "1", "memory": "30Gi"}}});
        assert!(contains(&stored, &desired));
        let other = json!({"resources": {"requests": {"cpu": "2", "memory": "30Gi"}}});
        assert!(!contains(&other, &desired));
        // A label that looks like a quantity is still text.
        let label = json!({"labels": {"tier": "1000m"}});
        assert!(!contains(&json!({"labels": {"tier": "1"}}), &label));
    }
}
