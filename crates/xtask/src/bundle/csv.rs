//! The ClusterServiceVersion: what OLM installs (the Deployment with its permissions and
//! cluster permissions, the webhook), what the operator owns (the BigPeer CRD with its console
//! descriptors and `alm-examples` from config/samples/), where it may run (install modes,
//! `minKubeVersion`), and every image it may run (`relatedImages`: the operator and each Big Peer
//! release of the catalogue compiled into it, by digest), so that disconnected mirrors copy them.

use std::path::Path;

use serde_json::{Value, json};

use super::manifests::{Install, NAME};
use super::{PACKAGE, Result, VERSION, descriptors, yaml};

/// The oldest Kubernetes the operator supports (README "Supported Kubernetes").
pub const MIN_KUBE_VERSION: &str = "1.33.0";
/// The sample shown first (the console's default template).
const FIRST_SAMPLE: &str = "minimal.yaml";
/// What the operator does beyond installing: upgrades with pre-flight checks, migrations,
/// required stops and rollback (level 2 of the Operator Capability Levels). Level 3 (Full
/// Lifecycle) needs backup and restore, which it does not do.
const CAPABILITIES: &str = "Seamless Upgrades";

const DESCRIPTION: &str = "\
The SMBP Operator deploys and runs **Big Peer**, a self-managed, horizontally scaled sync service
for edge devices. One `BigPeer` resource describes one deployment: a replicated store on
StatefulSets, a stateless sync tier, a transaction log on Kafka (a Strimzi `Kafka` or an external
broker), TLS through cert-manager or your own Secret, and exposure through a Service, an Ingress
or Gateway API routes.

The operator validates every BigPeer (CRD rules and a validating webhook), upgrades Big Peer
versions through the required stops of its release catalogue with pre-flight checks, migration
Jobs and an ordered rollout that can roll back, and reports progress in conditions, Events and
Prometheus metrics.

Optional integrations are used when their APIs are installed: cert-manager, Strimzi, Prometheus
Operator and Gateway API. See docs/install.md (\"OLM / OperatorHub\") for the install modes.
";

/// The CSV's name: `smbp-operator.v<version>`.
pub fn name(version: &str) -> String {
    format!("{PACKAGE}.v{version}")
}

/// The upgrade range a release skips: every older version upgrades straight to it.
pub fn skip_range(version: &str) -> String {
    format!("<{version}")
}

/// The BigPeer samples of `dir` (not its subdirectories), minimal first, without namespaces
/// (the console creates them in the namespace it shows).
pub fn samples(dir: &Path) -> Result<Vec<Value>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort_by_key(|path| (!path.ends_with(FIRST_SAMPLE), path.clone()));
    let mut samples = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut sample: Value =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if sample["kind"] != "BigPeer" {
            continue;
        }
        if let Some(metadata) = sample["metadata"].as_object_mut() {
            metadata.remove("namespace");
        }
        samples.push(sample);
    }
    Ok(samples)
}

/// The CSV of this version.
pub fn build(install: &Install, crd: &Value, samples: &[Value]) -> Result<Value> {
    let operator_image = install.deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .ok_or("the rendered Deployment has no image")?
        .to_string();
    let service_account = install.deployment["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .ok_or("the rendered Deployment names no service account")?;
    Ok(json!({
        "apiVersion": "operators.coreos.com/v1alpha1",
        "kind": "ClusterServiceVersion",
        "metadata": {
            "name": name(VERSION),
            "annotations": annotations(&operator_image, samples)?,
            "labels": {
                "operatorframework.io/arch.amd64": "supported",
                "operatorframework.io/os.linux": "supported",
            },
        },
        "spec": {
            "displayName": "SMBP Operator",
            "description": DESCRIPTION,
            "version": VERSION,
            "maturity": "alpha",
            "minKubeVersion": MIN_KUBE_VERSION,
            "keywords": ["bigpeer", "sync", "edge", "kafka"],
            "provider": {"name": "SMBP", "url": "https://github.com/smbp-dev/smbp-operator"},
            "maintainers": [{"name": "SMBP maintainers", "email": "maintainers@smbp.dev"}],
            "links": [
                {"name": "Source", "url": "https://github.com/smbp-dev/smbp-operator"},
                {"name": "Install guide", "url": "https://github.com/smbp-dev/smbp-operator/blob/main/docs/install.md"},
                {"name": "API reference", "url": "https://github.com/smbp-dev/smbp-operator/blob/main/docs/api.md"},
            ],
            "installModes": install_modes(),
            "install": {
                "strategy": "deployment",
                "spec": {
                    "deployments": [{
                        "name": NAME,
                        "label": install.deployment["metadata"]["labels"],
                        "spec": install.deployment["spec"],
                    }],
                    "permissions": [{"serviceAccountName": service_account, "rules": install.namespaced_rules}],
                    "clusterPermissions": [{"serviceAccountName": service_account, "rules": install.cluster_rules}],
                },
            },
            "customresourcedefinitions": {"owned": [owned_crd(crd)?]},
            "webhookdefinitions": [install.webhook],
            "relatedImages": related_images(&operator_image),
        },
    }))
}

/// The CSV's annotations: console metadata, examples, and the skipRange upgrade edge.
fn annotations(operator_image: &str, samples: &[Value]) -> Result<Value> {
    Ok(json!({
        "alm-examples": yaml::to_json(&json!(samples))?,
        "capabilities": CAPABILITIES,
        "categories": "Database",
        "containerImage": operator_image,
        "description": "Deploys and runs Big Peer, the self-managed sync service for edge devices.",
        "repository": "https://github.com/smbp-dev/smbp-operator",
        "support": "SMBP",
        "olm.skipRange": skip_range(VERSION),
        "operatorframework.io/suggested-namespace": "smbp-system",
        // Every image is in relatedImages and the BigPeer image repository can point at a
        // mirror (spec.image.repository); nothing the operator creates reaches the internet.
        "features.operators.openshift.io/disconnected": "true",
        "features.operators.openshift.io/fips-compliant": "false",
        "features.operators.openshift.io/proxy-aware": "false",
        "features.operators.openshift.io/tls-profiles": "false",
        "features.operators.openshift.io/token-auth-aws": "false",
        "features.operators.openshift.io/token-auth-azure": "false",
        "features.operators.openshift.io/token-auth-gcp": "false",
        "features.operators.openshift.io/cnf": "false",
        "features.operators.openshift.io/cni": "false",
        "features.operators.openshift.io/csi": "false",
    }))
}

/// Every mode: the operator manages its own namespace, one other, a list (SMBP_NAMESPACES from
/// the OperatorGroup's targets) or all namespaces (SMBP_NAMESPACES empty).
fn install_modes() -> Value {
    json!(
        [
            "OwnNamespace",
            "SingleNamespace",
            "MultiNamespace",
            "AllNamespaces"
        ]
        .map(|mode| json!({"type": mode, "supported": true}))
    )
}

/// The BigPeer CRD as the CSV owns it.
fn owned_crd(crd: &Value) -> Result<Value> {
    let version = crd["spec"]["versions"]
        .as_array()
        .and_then(|versions| versions.iter().find(|v| v["storage"] == true))
        .ok_or("the CRD has no storage version")?;
    Ok(json!({
        "name": crd["metadata"]["name"],
        "version": version["name"],
        "kind": crd["spec"]["names"]["kind"],
        "displayName": "Big Peer",
        "description": "A Big Peer deployment: replicated store, sync tier, transaction log, TLS and exposure.",
        "specDescriptors": descriptors::spec(crd)?,
        "statusDescriptors": descriptors::status(crd)?,
    }))
}

/// The operator image and every Big Peer release image of the built-in catalogue, by digest.
/// Withdrawn releases are listed too: a BigPeer may still run one until it is upgraded, and its
/// pods must restart from the mirror.
fn related_images(operator_image: &str) -> Value {
    let catalogue = smbp_core::catalogue::builtin();
    let mut images = vec![json!({"name": NAME, "image": operator_image})];
    for release in catalogue.releases() {
        images.push(json!({
            "name": format!("big-peer-{}", release.version.to_string().replace('.', "-")),
            "image": catalogue.image(release, None, None).by_digest(),
        }));
    }
    json!(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ranges() {
        assert_eq!(name("0.1.0"), "smbp-operator.v0.1.0");
        assert_eq!(skip_range("0.2.0"), "<0.2.0");
    }

    #[test]
    fn every_catalogue_release_is_a_related_image_by_digest() {
        let images = related_images("registry.smbp.dev/smbp/smbp-operator:0.1.0");
        let images = images.as_array().unwrap();
        assert_eq!(
            images.len(),
            1 + smbp_core::catalogue::builtin().releases().len()
        );
        assert!(
            images[1..]
                .iter()
                .all(|i| i["image"].as_str().unwrap().contains("@sha256:"))
        );
    }
}
