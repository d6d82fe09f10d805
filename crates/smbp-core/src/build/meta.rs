//! What every child shares: the standard `app.kubernetes.io/*` labels, the owner reference to the
//! BigPeer, object metadata, the applied-hash annotation, and the service account.

use super::{Names, ValidatedBigPeer};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use sha2::{Digest, Sha256};
use smbp_api::v1alpha1::{BigPeerSpec, WorkloadContract};
use std::collections::BTreeMap;

/// `app.kubernetes.io/name`: always [`PART_OF`]'s product, `bigpeer`.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/instance`: the BigPeer's name.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// `app.kubernetes.io/component`: store, sync, config, exposure, tls, transaction-log,
/// monitoring or security.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// `app.kubernetes.io/managed-by`.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] and the operator's field manager.
pub const MANAGED_BY: &str = "smbp-operator";
/// The value of `app.kubernetes.io/part-of`.
pub const PART_OF: &str = "smbp";
/// On children in another namespace than their BigPeer (Strimzi objects next to their Kafka),
/// which cannot carry an owner reference: the BigPeer's namespace.
pub const OWNER_NAMESPACE_LABEL: &str = "smbp.dev/owner-namespace";
/// A digest of everything the operator applies to an object. The apply stage skips an object
/// whose live copy carries the same digest and still holds every applied value.
pub const APPLIED_HASH_ANNOTATION: &str = "smbp.dev/applied-hash";
/// The release an object belongs to; on pods, the release they run (the upgrade reads it).
pub const VERSION_LABEL: &str = "app.kubernetes.io/version";
const PRODUCT: &str = "bigpeer";

/// The label selector of every child of the BigPeer `instance` (the prune stage lists by it).
pub fn instance_selector(instance: &str) -> String {
    format!("{NAME_LABEL}={PRODUCT},{INSTANCE_LABEL}={instance},{MANAGED_BY_LABEL}={MANAGED_BY}")
}

/// The BigPeer being built, with the helpers every builder uses.
pub struct Context<'a> {
    /// The BigPeer.
    pub bigpeer: &'a ValidatedBigPeer,
    /// Its children's names.
    pub names: Names,
    /// The container contract (defaults unless `spec.workload` overrides them).
    pub workload: WorkloadContract,
}

impl<'a> Context<'a> {
    /// The context of `bigpeer`.
    pub fn new(bigpeer: &'a ValidatedBigPeer) -> Self {
        Self {
            bigpeer,
            names: Names::new(&bigpeer.name),
            workload: bigpeer.spec.workload.clone().unwrap_or_default(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &BigPeerSpec {
        &self.bigpeer.spec
    }

    /// The BigPeer's namespace.
    pub fn namespace(&self) -> &str {
        &self.bigpeer.namespace
    }

    /// The labels that select `component`'s pods (stable across versions: selectors are
    /// immutable).
    pub fn selector(&self, component: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (NAME_LABEL.to_string(), PRODUCT.to_string()),
            (INSTANCE_LABEL.to_string(), self.bigpeer.name.clone()),
            (COMPONENT_LABEL.to_string(), component.to_string()),
        ])
    }

    /// Every standard label of a `component` object. [`VERSION_LABEL`] is only on pods (the
    /// release each one runs): on the other children it would name the desired version while
    /// the old one still runs, and an upgrade's start would rewrite every child for it.
    pub fn labels(&self, component: &str) -> BTreeMap<String, String> {
        let mut labels = self.selector(component);
        labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
        labels.insert("app.kubernetes.io/part-of".into(), PART_OF.into());
        labels
    }

    /// The controller owner reference to the BigPeer.
    pub fn owner(&self) -> OwnerReference {
        OwnerReference {
            api_version: format!("{}/{}", smbp_api::GROUP, smbp_api::v1alpha1::VERSION),
            kind: "BigPeer".into(),
            name: self.bigpeer.name.clone(),
            uid: self.bigpeer.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// Metadata of a child named `name` in the BigPeer's namespace.
    pub fn meta(&self, name: String, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.bigpeer.namespace.clone()),
            labels: Some(self.labels(component)),
            owner_references: Some(vec![self.owner()]),
            ..ObjectMeta::default()
        }
    }

    /// Metadata of a child in `namespace`, which may differ from the BigPeer's: then it carries
    /// [`OWNER_NAMESPACE_LABEL`] instead of an owner reference (Kubernetes forbids
    /// cross-namespace owners) and the finalizer deletes it.
    pub fn meta_in(&self, namespace: &str, name: String, component: &str) -> ObjectMeta {
        if namespace == self.namespace() {
            return self.meta(name, component);
        }
        let mut labels = self.labels(component);
        labels.insert(OWNER_NAMESPACE_LABEL.into(), self.namespace().to_string());
        ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            ..ObjectMeta::default()
        }
    }

    /// The service account the pods run as.
    pub fn service_account_name(&self) -> String {
        self.spec()
            .security
            .service_account
            .name
            .clone()
            .unwrap_or_else(|| self.names.service_account())
    }
}

/// The service account, unless the user brings their own. No token is mounted: Big Peer does not
/// call the Kubernetes API.
pub fn service_account(ctx: &Context) -> Option<ServiceAccount> {
    let spec = &ctx.spec().security.service_account;
    spec.create.then(|| {
        let mut meta = ctx.meta(ctx.service_account_name(), "security");
        if !spec.annotations.is_empty() {
            meta.annotations = Some(spec.annotations.clone());
        }
        ServiceAccount {
            metadata: meta,
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        }
    })
}

/// A hex SHA-256 digest of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds [`APPLIED_HASH_ANNOTATION`], a digest of the object as it will be applied.
pub fn stamp_applied_hash(object: &mut serde_json::Value) {
    let hash = digest(object.to_string().as_bytes());
    let annotations = &mut object["metadata"]["annotations"];
    if !annotations.is_object() {
        *annotations = serde_json::json!({});
    }
    annotations[APPLIED_HASH_ANNOTATION] = hash[..16].into();
}
