//! The chart rendered for OLM: `scripts/helm.sh template` with the values an OLM install needs,
//! parsed into objects. OLM creates the webhook's certificate, Service and configuration itself
//! (`webhook.certificates=olm`), the bundle carries the CRD file of config/crd/
//! (`crds.install=false`), and the RBAC is rendered in its per-namespace form
//! (`watchNamespaces`) so that the namespaced rules and the cluster-wide ones come apart into the
//! CSV's `permissions` and `clusterPermissions`. The two namespaces are placeholders that the
//! conversion removes; a placeholder left in the bundle is an error.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use super::Result;

/// The release namespace the chart is rendered into (OLM installs into the OperatorGroup's).
pub const OPERATOR_NAMESPACE: &str = "olm-operator-namespace";
/// The one watched namespace the chart is rendered with (OLM's target namespaces replace it).
pub const TARGET_NAMESPACE: &str = "olm-target-namespace";
/// The Helm release name: the objects are named `smbp-operator`, as the binary's defaults.
const RELEASE: &str = "smbp-operator";

/// The chart's objects, in the order helm printed them.
pub struct Rendered {
    /// Every object of the rendering.
    pub objects: Vec<Value>,
}

impl Rendered {
    /// The objects of `kind`.
    pub fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    /// The one object of `kind` named `name`; an error when the chart rendered none.
    pub fn one(&self, kind: &str, name: &str) -> Result<&Value> {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .ok_or_else(|| format!("the rendered chart has no {kind} {name}"))
    }

    /// The one object of `kind` in `namespace`.
    pub fn in_namespace(&self, kind: &str, namespace: &str) -> Result<&Value> {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["namespace"] == namespace)
            .ok_or_else(|| format!("the rendered chart has no {kind} in {namespace}"))
    }
}

/// Renders charts/smbp-operator for OLM, with the operator image pinned to `digest` when given.
pub fn render_chart(workspace: &Path, digest: Option<&str>) -> Result<Rendered> {
    let mut command = Command::new(workspace.join("scripts/helm.sh"));
    command
        .current_dir(workspace)
        .args(["template", RELEASE, "charts/smbp-operator"])
        .args(["--namespace", OPERATOR_NAMESPACE])
        .args(["--set", "webhook.certificates=olm"])
        .args(["--set", "crds.install=false"])
        .args(["--set", &format!("watchNamespaces={{{TARGET_NAMESPACE}}}")]);
    if let Some(digest) = digest {
        check_digest(digest)?;
        command.args(["--set", &format!("image.digest={digest}")]);
    }
    let output = command
        .output()
        .map_err(|e| format!("scripts/helm.sh: {e} (it needs bash, npm and python3)"))?;
    if !output.status.success() {
        return Err(format!(
            "helm template failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse(&String::from_utf8_lossy(&output.stdout))
}

/// The objects of a multi-document YAML stream (empty documents skipped).
pub fn parse(text: &str) -> Result<Rendered> {
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| format!("rendered chart: {e}"))?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(Rendered { objects })
}

/// `sha256:` and 64 lower-case hex digits, or an error saying so.
fn check_digest(digest: &str) -> Result<()> {
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "--operator-digest {digest:?}: expected sha256: and 64 lower-case hex digits"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_must_be_sha256_hex() {
        assert!(check_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        let error = check_digest("sha256:abc").unwrap_err();
        assert!(error.contains("--operator-digest"), "{error}");
        assert!(check_digest(&format!("sha512:{}", "a".repeat(64))).is_err());
    }

    #[test]
    fn documents_parse_and_empty_ones_are_skipped() {
        let rendered = parse("---\n# only a comment\n---\nkind: A\nmetadata: {name: x}\n").unwrap();
        assert_eq!(rendered.objects.len(), 1);
        assert!(rendered.one("A", "x").is_ok());
        assert!(rendered.one("A", "y").unwrap_err().contains("no A y"));
    }
}
