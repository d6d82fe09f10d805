//! Simulated storage: a default StorageClass `standard` (WaitForFirstConsumer, expandable,
//! reclaim Delete), a provisioner that creates a PersistentVolume for each claim once a pod using
//! it is scheduled (at once for Immediate classes) and binds both, volume expansion that grows
//! the volume and the claim's reported capacity, and reclaiming: a deleted claim's volume is
//! deleted or, under `Retain`, kept as `Released`.

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::str_at;
use crate::store::{Change, EventType};
use serde_json::{Value, json};
use std::time::Duration;

/// The provisioner name the default class uses.
const PROVISIONER: &str = "sim.smbp.io/hostpath";

/// Creates the default StorageClass.
pub async fn install_default_class(api: &Api) {
    let class = json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": PROVISIONER, "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
    });
    let _ = api.create(gvr::STORAGE_CLASSES, "", &class).await;
}

/// The PV controller and provisioner.
pub struct Storage {
    api: Api,
}

impl Storage {
    /// Storage writing through `api`.
    pub fn new(api: Api) -> Self {
        Storage { api }
    }

    fn class(&self, claim: &Value) -> Option<std::sync::Arc<Value>> {
        match str_at(claim, "/spec/storageClassName") {
            Some(name) => self.api.get(gvr::STORAGE_CLASSES, "", name),
            None => self
                .api
                .list(gvr::STORAGE_CLASSES, None)
                .into_iter()
                .find(|c| {
                    str_at(
                        c,
                        "/metadata/annotations/storageclass.kubernetes.io~1is-default-class",
                    ) == Some("true")
                }),
        }
    }
}

impl Controller for Storage {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            "/persistentvolumeclaims" => vec![Key::of("/persistentvolumeclaims", &change.object)],
            "/pods"
                if change.event != EventType::Deleted
                    && str_at(&change.object, "/spec/nodeName").is_some() =>
            {
                let namespace = str_at(&change.object, "/metadata/namespace").unwrap_or_default();
                change
                    .object
                    .pointer("/spec/volumes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| {
                        v.pointer("/persistentVolumeClaim/claimName")
                            .and_then(Value::as_str)
                    })
                    .map(|claim| Key {
                        resource: "/persistentvolumeclaims".into(),
                        namespace: namespace.into(),
                        name: claim.into(),
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::PVCS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let Some(claim) = self.api.get(gvr::PVCS, &key.namespace, &key.name) else {
            return self.reclaim(key).await;
        };
        match str_at(&claim, "/status/phase") {
            Some("Bound") => self.expand(&claim).await,
            _ => self.provision(&claim).await,
        }
    }
}

impl Storage {
    async fn provision(&self, claim: &Value) -> Requeue {
        let (namespace, name) = crate::request::key_of(claim);
        let class = self.class(claim)?;
        if str_at(&class, "/volumeBindingMode") == Some("WaitForFirstConsumer") {
            let consumer_scheduled = self
                .api
                .list(gvr::PODS, Some(&namespace))
                .iter()
                .any(|pod| {
                    str_at(pod, "/spec/nodeName").is_some()
                        && pod
                            .pointer("/spec/volumes")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .any(|v| {
                                v.pointer("/persistentVolumeClaim/claimName")
                                    .and_then(Value::as_str)
                                    == Some(name.as_str())
                            })
                });
            if !consumer_scheduled {
                return None;
            }
        }
        let uid = str_at(claim, "/metadata/uid").unwrap_or_default();
        let volume_name = format!("pvc-{uid}");
        let size = claim
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or(json!("1Gi"));
        let access_modes = claim
            .pointer("/spec/accessModes")
            .cloned()
            .unwrap_or(json!(["ReadWriteOnce"]));
        let class_name = str_at(&class, "/metadata/name").unwrap_or("standard");
        if self.api.get(gvr::PVS, "", &volume_name).is_none() {
            let volume = json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": volume_name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
                             "finalizers": ["kubernetes.io/pv-protection"]},
                "spec": {"capacity": {"storage": size}, "accessModes": access_modes,
                         "claimRef": {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": name,
                                      "uid": uid, "apiVersion": "v1", "resourceVersion": str_at(claim, "/metadata/resourceVersion")},
                         "persistentVolumeReclaimPolicy": str_at(&class, "/reclaimPolicy").unwrap_or("Delete"),
                         "storageClassName": class_name, "volumeMode": "Filesystem",
                         "csi": {"driver": PROVISIONER, "volumeHandle": volume_name}},
            });
            let Ok(mut created) = self.api.create(gvr::PVS, "", &volume).await else {
                return Some(Duration::from_secs(1));
            };
            created["status"] = json!({"phase": "Bound"});
            let _ = self.api.replace_status(gvr::PVS, &created).await;
        }
        let bind = json!({"metadata": {"annotations": {
            "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
            "volume.kubernetes.io/storage-provisioner": PROVISIONER}},
            "spec": {"volumeName": volume_name, "storageClassName": class_name}});
        if self
            .api
            .merge_patch(gvr::PVCS, &namespace, &name, None, &bind)
            .await
            .is_err()
        {
            return Some(Duration::from_secs(1));
        }
        let status = json!({"status": {"phase": "Bound", "accessModes": access_modes, "capacity": {"storage": size}}});
        self.api
            .merge_patch(gvr::PVCS, &namespace, &name, Some("status"), &status)
            .await
            .err()
            .map(|_| Duration::from_secs(1))
    }

    /// Grows the volume when the claim asks for more than it has, if the class allows it.
    async fn expand(&self, claim: &Value) -> Requeue {
        let wanted = str_at(claim, "/spec/resources/requests/storage")?;
        let has = str_at(claim, "/status/capacity/storage")?;
        if quantity_bytes(wanted)? <= quantity_bytes(has)? {
            return None;
        }
        let class = self.class(claim)?;
        if class.get("allowVolumeExpansion") != Some(&json!(true)) {
            return None;
        }
        let (namespace, name) = crate::request::key_of(claim);
        if let Some(volume) = str_at(claim, "/spec/volumeName") {
            let _ = self
                .api
                .merge_patch(
                    gvr::PVS,
                    "",
                    volume,
                    None,
                    &json!({"spec": {"capacity": {"storage": wanted}}}),
                )
                .await;
        }
        let status = json!({"status": {"capacity": {"storage": wanted}, "allocatedResources": {"storage": wanted}}});
        self.api
            .merge_patch(gvr::PVCS, &namespace, &name, Some("status"), &status)
            .await
            .err()
            .map(|_| Duration::from_secs(1))
    }

    /// A claim is gone: its volume is deleted, or kept as Released under Retain.
    async fn reclaim(&self, key: &Key) -> Requeue {
        for volume in self.api.list(gvr::PVS, None) {
            let bound_here = str_at(&volume, "/spec/claimRef/namespace")
                == Some(key.namespace.as_str())
                && str_at(&volume, "/spec/claimRef/name") == Some(key.name.as_str());
            if !bound_here {
                continue;
            }
            let name = str_at(&volume, "/metadata/name")
                .unwrap_or_default()
                .to_string();
            if str_at(&volume, "/spec/persistentVolumeReclaimPolicy") == Some("Retain") {
                let _ = self
                    .api
                    .merge_patch(
                        gvr::PVS,
                        "",
                        &name,
                        Some("status"),
                        &json!({"status": {"phase": "Released"}}),
                    )
                    .await;
            } else {
                let _ = self
                    .api
                    .merge_patch(
                        gvr::PVS,
                        "",
                        &name,
                        None,
                        &json!({"metadata": {"finalizers": null}}),
                    )
                    .await;
                let _ = self.api.delete(gvr::PVS, "", &name, None, None).await;
            }
        }
        None
    }
}

/// Bytes in a storage quantity (`10Gi`, `500M`, `1073741824`), rounded up as Go's `Value()`;
/// None for what is not a non-negative quantity.
pub fn quantity_bytes(quantity: &str) -> Option<u128> {
    let parsed = crate::quantity::parse(quantity).ok()?;
    u128::try_from(parsed.value_ceil()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_quantities_compare_across_units() {
        assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
        assert!(quantity_bytes("2Gi") > quantity_bytes("2G"));
        assert_eq!(quantity_bytes("512"), Some(512));
        assert_eq!(quantity_bytes("1Xi"), None);
    }
}
