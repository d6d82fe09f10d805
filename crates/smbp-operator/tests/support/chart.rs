//! The Helm chart as tests use it: helm itself (from `scripts/helm.sh`), the chart rendered into
//! JSON objects, server-side apply of a rendered object whatever its kind, and what the rendered
//! Deployment and webhook configuration say about the operator's pod.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use serde::Deserialize;
use serde_json::Value;
use smbp_sim::SimHandle;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The namespace the chart is rendered into.
pub const RELEASE_NS: &str = "smbp-system";

/// The helm binary, or `None` (after saying why) when the test must be skipped.
pub fn helm() -> Option<PathBuf> {
    let installed = root().join("target/tools/bin/helm");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        let out = Command::new(root().join("scripts/helm.sh"))
            .arg("--install-only")
            .output()
            .expect("run scripts/helm.sh");
        assert!(out.status.success(), "scripts/helm.sh failed: {out:?}");
        return Some(installed);
    }
    if installed.exists() {
        return Some(installed);
    }
    if Command::new("helm").arg("version").output().is_ok() {
        return Some("helm".into());
    }
    eprintln!("skipped: no helm (run scripts/helm.sh --install-only, or set CI=true)");
    None
}

/// The chart rendered with `--set` values `sets`, as JSON objects.
pub fn render(helm: &Path, sets: &[&str]) -> Vec<Value> {
    let mut command = Command::new(helm);
    command
        .args(["template", "smbp-operator"])
        .arg(root().join("charts/smbp-operator"))
        .args(["--namespace", RELEASE_NS]);
    for set in sets {
        command.args(["--set", set]);
    }
    let out = command.output().expect("run helm");
    assert!(out.status.success(), "helm template {sets:?}: {out:?}");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).expect("helm renders YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// Applies `object` by server-side apply with `params`; the API server's refusal as text.
pub async fn apply(
    client: &kube::Client,
    object: &Value,
    params: &PatchParams,
) -> Result<(), String> {
    let (group, version) = match object["apiVersion"].as_str().unwrap_or("").split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", object["apiVersion"].as_str().unwrap_or("")),
    };
    let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap_or(""));
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| format!("discovery: {e}"))?;
    let api: Api<DynamicObject> = match capabilities.scope {
        Scope::Namespaced => {
            let ns = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or(RELEASE_NS);
            Api::namespaced_with(client.clone(), ns, &resource)
        }
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    api.patch(name, params, &Patch::Apply(object))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The container environment of the rendered Deployment, with the pod's fields resolved as the
/// kubelet would for pod `pod` in the release namespace.
pub fn deployment_env(objects: &[Value], pod: &str) -> Vec<(String, String)> {
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    env.iter()
        .map(|var| {
            let value = match var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                Some("metadata.namespace") => RELEASE_NS.to_string(),
                Some("metadata.name") => pod.to_string(),
                Some(other) => panic!("unexpected fieldRef {other}"),
                None => var["value"].as_str().expect("a value").to_string(),
            };
            (var["name"].as_str().expect("a name").to_string(), value)
        })
        .collect()
}

/// The `caBundle` of the release's ValidatingWebhookConfiguration, if set.
pub async fn ca_bundle(sim: &SimHandle) -> Option<String> {
    let configurations = sim.dynamic_api(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        None,
    );
    let configuration =
        serde_json::to_value(configurations.get("smbp-operator").await.ok()?).ok()?;
    configuration["webhooks"][0]["clientConfig"]["caBundle"]
        .as_str()
        .filter(|b| !b.is_empty())
        .map(str::to_string)
}

/// Asserts that the operator (its User-Agent) made at least `least` kinds of resource request
/// on `sim`, each allowed by a rule of `rules` (by resource and verb; accounting records neither
/// the API group nor the object's name).
pub fn assert_allowed(sim: &SimHandle, rules: &[(Vec<String>, Vec<String>)], least: usize) {
    let agent = smbp_operator::client::USER_AGENT;
    let requests = sim.requests().snapshot();
    let made: Vec<_> = requests
        .keys()
        .filter(|k| k.user_agent == agent && !k.resource.starts_with('/'))
        .collect();
    assert!(made.len() >= least, "only {} kinds of request", made.len());
    let missing: Vec<String> = made
        .iter()
        .filter(|k| {
            !rules.iter().any(|(resources, verbs)| {
                resources.contains(&k.resource) && verbs.contains(&k.verb)
            })
        })
        .map(|k| format!("{} {}", k.verb, k.resource))
        .collect();
    assert!(missing.is_empty(), "the rules do not allow: {missing:?}");
}

/// The `(resources, verbs)` of each RBAC rule.
pub fn rule_pairs(rules: impl IntoIterator<Item = Value>) -> Vec<(Vec<String>, Vec<String>)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    rules
        .into_iter()
        .map(|rule| (strings(&rule["resources"]), strings(&rule["verbs"])))
        .collect()
}
