//! Reconcile triggers from objects a BigPeer refers to but does not own: the TLS Secret. A
//! renewed certificate (cert-manager's, or one the user rotates in `spec.tls.secretRef`) must
//! roll the pods at once, not at the next resync. Only the Secrets' metadata is watched (no
//! certificate data crosses the wire for the watch) and nothing is stored: each change is mapped
//! to the BigPeers of its namespace that mount it, read from the BigPeer cache.

use crate::context::Context;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ApiResource, DynamicObject, PartialObjectMeta};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::Names;

/// The metadata of every Secret in the watched namespaces, as a trigger stream.
pub fn tls_secrets(
    ctx: &Context,
) -> impl Stream<Item = Result<PartialObjectMeta<Secret>, watcher::Error>> + Send + 'static {
    let api = match ctx.settings.namespace.as_deref() {
        Some(ns) => kube::Api::<PartialObjectMeta<Secret>>::namespaced(ctx.client.clone(), ns),
        None => kube::Api::<PartialObjectMeta<Secret>>::all(ctx.client.clone()),
    };
    watcher(api, watcher::Config::default())
        .default_backoff()
        .touched_objects()
        .boxed()
}

/// The BigPeers in `bigpeers` that mount the Secret `secret` as their TLS certificate.
pub fn bigpeers_mounting(
    bigpeers: &Store<DynamicObject>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<DynamicObject>> {
    let namespace = secret.metadata.namespace.as_deref();
    let name = secret.metadata.name.as_deref();
    bigpeers
        .state()
        .iter()
        .filter(|bp| bp.metadata.namespace.as_deref() == namespace)
        .filter(|bp| tls_secret_name(bp).as_deref() == name)
        .map(|bp| {
            ObjectRef::new_with(
                bp.metadata.name.as_deref().unwrap_or_default(),
                ApiResource::erase::<BigPeer>(&()),
            )
            .within(namespace.unwrap_or_default())
        })
        .collect()
}

/// The Secret a BigPeer's pods mount as their certificate: `spec.tls.secretRef.name`, or the
/// Secret of the Certificate the operator makes for `spec.tls.certManager`.
fn tls_secret_name(bigpeer: &DynamicObject) -> Option<String> {
    let tls = bigpeer.data.get("spec")?.get("tls")?;
    if let Some(name) = tls.pointer("/secretRef/name").and_then(|n| n.as_str()) {
        return Some(name.to_string());
    }
    tls.get("certManager")?;
    Some(Names::new(bigpeer.metadata.name.as_deref()?).certificate())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::store::Writer;
    use kube::runtime::watcher::Event;
    use serde_json::json;

    fn bigpeer(namespace: &str, name: &str, tls: serde_json::Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"tls": tls},
        }))
        .unwrap()
    }

    fn secret(namespace: &str, name: &str) -> PartialObjectMeta<Secret> {
        serde_json::from_value(json!({
            "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMeta",
            "metadata": {"name": name, "namespace": namespace},
        }))
        .unwrap()
    }

    #[test]
    fn a_secret_change_reconciles_the_bigpeers_of_its_namespace_that_mount_it() {
        let mut writer = Writer::new(ApiResource::erase::<BigPeer>(&()));
        for bp in [
            bigpeer("shop", "edge", json!({"certManager": {}})),
            bigpeer("shop", "own", json!({"secretRef": {"name": "own-cert"}})),
            bigpeer("other", "edge", json!({"certManager": {}})),
            bigpeer("shop", "plain", serde_json::Value::Null),
        ] {
            writer.apply_watcher_event(&Event::Apply(bp));
        }
        let store = writer.as_reader();
        let names = |secret: PartialObjectMeta<Secret>| -> Vec<String> {
            bigpeers_mounting(&store, &secret)
                .into_iter()
                .map(|r| format!("{}/{}", r.namespace.unwrap_or_default(), r.name))
                .collect()
        };
        assert_eq!(names(secret("shop", "edge-tls")), ["shop/edge"]);
        assert_eq!(names(secret("shop", "own-cert")), ["shop/own"]);
        assert!(names(secret("shop", "unrelated")).is_empty());
    }
}
