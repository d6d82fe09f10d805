//! What the webhook looks up for one BigPeer: the objects its spec refers to (cert-manager
//! Issuer or ClusterIssuer, TLS Secret, Strimzi Kafka, Gateways), reported when missing, and every
//! other BigPeer, for the exposure checks. A lookup that fails for another reason (no permission,
//! API server busy) becomes a warning: the webhook never refuses a write because it could not
//! look.

use kube::api::{Api, ApiResource, GroupVersionKind, ListParams};
use smbp_api::v1alpha1::{BigPeer, BigPeerSpec, IssuerKind};
use smbp_core::admission::Neighbour;

/// The missing references as `(field, what)`, the other BigPeers, and warnings about lookups
/// that failed.
pub type Found = (Vec<(String, String)>, Vec<Neighbour>, Vec<String>);

/// One referenced object: field, group, version, kind, namespace (`None`: cluster-scoped), name.
struct Reference {
    field: String,
    gvk: GroupVersionKind,
    namespace: Option<String>,
    name: String,
}

/// Looks up what BigPeer `namespace/name` with `spec` refers to, and the other BigPeers.
pub async fn find(client: &kube::Client, namespace: &str, name: &str, spec: &BigPeerSpec) -> Found {
    let mut missing = Vec::new();
    let mut warnings = Vec::new();
    for reference in references(namespace, spec) {
        let resource = ApiResource::from_gvk(&reference.gvk);
        let api = crate::client::dynamic_api(client, reference.namespace.as_deref(), &resource);
        let what = match &reference.namespace {
            Some(ns) => format!("{} {ns}/{}", reference.gvk.kind, reference.name),
            None => format!("{} {}", reference.gvk.kind, reference.name),
        };
        match api.get_opt(&reference.name).await {
            Ok(Some(_)) => {}
            Ok(None) => missing.push((reference.field, format!("{what} does not exist"))),
            // An API that is not installed answers 404 for the whole resource.
            Err(kube::Error::Api(status)) if status.code == 404 => missing.push((
                reference.field,
                format!(
                    "{what} does not exist ({} is not installed)",
                    reference.gvk.group
                ),
            )),
            Err(error) => warnings.push(format!(
                "{}: could not check that {what} exists: {error}",
                reference.field
            )),
        }
    }
    let bigpeers: Api<BigPeer> = Api::all(client.clone());
    let neighbours = match bigpeers.list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter(|b| {
                !(b.metadata.namespace.as_deref() == Some(namespace)
                    && b.metadata.name.as_deref() == Some(name))
            })
            .map(|b| Neighbour {
                key: format!(
                    "{}/{}",
                    b.metadata.namespace.unwrap_or_default(),
                    b.metadata.name.unwrap_or_default()
                ),
                spec: b.spec,
            })
            .collect(),
        Err(error) => {
            warnings.push(format!(
                "spec.network: could not check for hosts or node ports other BigPeers use: {error}"
            ));
            Vec::new()
        }
    };
    (missing, neighbours, warnings)
}

fn references(namespace: &str, spec: &BigPeerSpec) -> Vec<Reference> {
    let mut found = Vec::new();
    if let Some(tls) = &spec.tls {
        if let Some(cm) = tls
            .cert_manager
            .as_ref()
            .filter(|cm| cm.issuer_ref.group == "cert-manager.io")
        {
            let (kind, ns) = match cm.issuer_ref.kind {
                IssuerKind::Issuer => ("Issuer", Some(namespace.to_string())),
                IssuerKind::ClusterIssuer => ("ClusterIssuer", None),
            };
            found.push(Reference {
                field: "spec.tls.certManager.issuerRef".into(),
                gvk: GroupVersionKind::gvk("cert-manager.io", "v1", kind),
                namespace: ns,
                name: cm.issuer_ref.name.clone(),
            });
        }
        if let Some(secret) = &tls.secret_ref {
            found.push(Reference {
                field: "spec.tls.secretRef".into(),
                gvk: GroupVersionKind::gvk("", "v1", "Secret"),
                namespace: Some(namespace.to_string()),
                name: secret.name.clone(),
            });
        }
    }
    if let Some(strimzi) = &spec.transaction_log.strimzi {
        found.push(Reference {
            field: "spec.transactionLog.strimzi.clusterRef".into(),
            gvk: GroupVersionKind::gvk("kafka.strimzi.io", "v1", "Kafka"),
            namespace: Some(
                strimzi
                    .cluster_ref
                    .namespace
                    .clone()
                    .unwrap_or_else(|| namespace.to_string()),
            ),
            name: strimzi.cluster_ref.name.clone(),
        });
    }
    let gateways = spec.network.as_ref().and_then(|n| n.gateway.as_ref());
    for (i, parent) in gateways
        .into_iter()
        .flat_map(|g| g.parent_refs.iter())
        .enumerate()
    {
        found.push(Reference {
            field: format!("spec.network.gateway.parentRefs[{i}]"),
            gvk: GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "Gateway"),
            namespace: Some(
                parent
                    .namespace
                    .clone()
                    .unwrap_or_else(|| namespace.to_string()),
            ),
            name: parent.name.clone(),
        });
    }
    found
}
