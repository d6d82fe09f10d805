//! Small types shared by several spec sections: image overrides and references to other objects.

use k8s_openapi::api::core::v1::LocalObjectReference;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Overrides of the catalogue's image for `spec.version`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageOverride {
    /// Image repository to pull from instead of the catalogue's (for example a mirror in an
    /// air-gapped registry: `registry.internal/smbp/bigpeer`). Without tag or digest; the
    /// catalogue's digest for `spec.version` is still used unless `digest` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("!self.contains('@') && !self.matches(':[^/]*$')")
        .message("spec.image.repository must not carry a tag or digest: remove ':tag' or '@sha256:...' and use spec.version or spec.image.digest"))]
    #[schemars(length(min = 1, max = 255))]
    pub repository: Option<String>,

    /// Pins the image to this digest (`sha256:` followed by 64 hex digits) instead of the
    /// catalogue's digest for `spec.version`. Use only for hotfix images your vendor supplies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^sha256:[a-f0-9]{64}$"))]
    pub digest: Option<String>,

    /// When the kubelet pulls the image. Defaults to `IfNotPresent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,

    /// Secrets in the BigPeer's namespace holding registry credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub pull_secrets: Vec<LocalObjectReference>,
}

/// When the kubelet pulls an image.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull on every pod start.
    Always,
    /// Pull only when the node does not have the image.
    IfNotPresent,
    /// Never pull; the image must be on the node.
    Never,
}

/// A reference to a key in a Secret in the BigPeer's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key within the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// A reference to a Secret in the BigPeer's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}
