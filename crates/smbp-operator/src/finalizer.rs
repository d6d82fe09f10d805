//! The BigPeer finalizer: added before the first child is applied, removed after cleanup. Cleanup
//! deletes what garbage collection cannot reach — Strimzi objects next to a Kafka cluster in
//! another namespace, which cannot carry an owner reference. It lists by label, so it is
//! idempotent and works even if apply never ran. Volumes are never touched here: the
//! StatefulSet's retention policy (from `spec.store.storage.retention.whenDeleted`) decides.

use crate::apply::dynamic_api;
use crate::context::Context;
use crate::error::{Error, Result, is_not_found};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::json;
use smbp_core::build::{ChildKind, OWNER_NAMESPACE_LABEL, OptionalApi, instance_selector};

/// The finalizer's name.
pub const FINALIZER: &str = "smbp.dev/cleanup";

/// Whether the object carries the finalizer.
pub fn has_finalizer(object: &DynamicObject) -> bool {
    object
        .metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|f| f == FINALIZER))
}

/// Adds or removes the finalizer, guarded by the object's resourceVersion (a concurrent change of
/// the list is a conflict and retried, never overwritten).
pub async fn set_finalizer(
    api: &Api<DynamicObject>,
    object: &DynamicObject,
    present: bool,
) -> Result<()> {
    let mut finalizers: Vec<String> = object
        .metadata
        .finalizers
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f != FINALIZER)
        .collect();
    if present {
        finalizers.push(FINALIZER.into());
    }
    let name = object.metadata.name.clone().unwrap_or_default();
    let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": object.metadata.resource_version}});
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if !present && is_not_found(&e) => Ok(()),
        Err(e) => Err(Error::kube(
            format!("update the finalizer of BigPeer {name}"),
            e,
        )),
    }
}

/// Deletes the children of BigPeer `namespace/name` that live in other namespaces.
pub async fn cleanup(ctx: &Context, namespace: &str, name: &str) -> Result<usize> {
    if !ctx
        .apis
        .installed()
        .await
        .map_err(|e| Error::kube("probe optional APIs", e))?
        .contains(&OptionalApi::Strimzi)
    {
        return Ok(0);
    }
    let selector = format!(
        "{},{OWNER_NAMESPACE_LABEL}={namespace}",
        instance_selector(name)
    );
    let mut deleted = 0;
    for kind in [ChildKind::KafkaTopic, ChildKind::KafkaUser] {
        let all: Api<DynamicObject> = Api::all_with(ctx.client.clone(), &kind.api_resource());
        let list = all
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| Error::kube(format!("list {kind:?} of {namespace}/{name}"), e))?;
        for object in list.items {
            let (Some(ns), Some(child)) = (object.metadata.namespace, object.metadata.name) else {
                continue;
            };
            match dynamic_api(ctx, kind, &ns)
                .delete(&child, &DeleteParams::background())
                .await
            {
                Ok(_) => deleted += 1,
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(Error::kube(format!("delete {kind:?} {ns}/{child}"), e)),
            }
        }
    }
    Ok(deleted)
}
