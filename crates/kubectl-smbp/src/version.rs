//! `kubectl smbp version`: the plugin's, the operator's and the installed CRD's versions, and
//! whether they work together — the CRD must serve the API version the plugin speaks, and the
//! operator must be of the plugin's release line (same major and minor).

use crate::error::{Error, Result, is_not_found};
use crate::output::{self, Table, Tone, toned};
use crate::session::{Io, Session};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use serde::Serialize;

/// This plugin's release.
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The BigPeer API version the plugin speaks.
pub const API_VERSION: &str = "v1alpha1";

/// What `version` reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Versions {
    /// The plugin's release.
    pub plugin: String,
    /// The operator, when found.
    pub operator: Component,
    /// The CRD, when found.
    pub crd: Component,
    /// Whether all three work together.
    pub compatible: bool,
}

/// One installed component.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Its version, when known.
    pub version: Option<String>,
    /// What was found, or why nothing was.
    pub detail: String,
    /// Whether it works with this plugin.
    pub compatible: bool,
}

/// The plugin's, the operator's and the CRD's versions and their compatibility.
pub async fn report(session: &Session) -> Versions {
    let operator = operator(session).await;
    let crd = crd(session).await;
    Versions {
        plugin: PLUGIN_VERSION.to_string(),
        compatible: operator.compatible && crd.compatible,
        operator,
        crd,
    }
}

/// Runs `version`.
pub async fn run(session: &Session, io: &mut Io) -> Result<()> {
    let report = report(session).await;
    match output::structured(session.global.output, &report)? {
        Some(text) => io.print(&text)?,
        None => {
            let mut table = Table::new(&["COMPONENT", "VERSION", "COMPATIBLE", "DETAIL"]);
            table.row(vec![
                "kubectl-smbp".into(),
                report.plugin.clone().into(),
                toned("yes", Tone::Good),
                format!("speaks smbp.dev/{API_VERSION}").into(),
            ]);
            for (name, c) in [("operator", &report.operator), ("CRD", &report.crd)] {
                table.row(vec![
                    name.into(),
                    c.version.clone().unwrap_or_else(|| "-".into()).into(),
                    toned(
                        if c.compatible { "yes" } else { "no" },
                        Tone::of(c.compatible),
                    ),
                    c.detail.clone().into(),
                ]);
            }
            let text = table.render(io.colour);
            io.print(&text)?;
        }
    }
    if report.compatible {
        Ok(())
    } else {
        Err(Error::ChecksFailed(
            "the plugin, the operator and the CRD are not compatible; see DETAIL".into(),
        ))
    }
}

/// Whether two releases are of the same line (major and minor).
pub fn same_line(a: &str, b: &str) -> bool {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.major == b.major && a.minor == b.minor,
        _ => false,
    }
}

async fn operator(session: &Session) -> Component {
    let g = &session.global;
    let api: Api<Deployment> = Api::namespaced(session.client.clone(), &g.operator_namespace);
    let deployment = match api.get_opt(&g.operator_name).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Component {
                version: None,
                detail: format!(
                    "no Deployment {}/{} (set --operator-namespace / --operator-name)",
                    g.operator_namespace, g.operator_name
                ),
                compatible: false,
            };
        }
        Err(e) => {
            return Component {
                version: None,
                detail: format!("cannot read its Deployment: {e}"),
                compatible: false,
            };
        }
    };
    let version = deployment
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/version"))
        .cloned();
    let ready = deployment
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let leases: Api<Lease> = Api::namespaced(session.client.clone(), &g.operator_namespace);
    let leader = match leases.get_opt(&g.operator_name).await {
        Ok(lease) => lease
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
            .map_or("no leader".into(), |h| format!("leader {h}")),
        Err(e) => format!("Lease not readable: {e}"),
    };
    let compatible = version
        .as_deref()
        .is_some_and(|v| same_line(v, PLUGIN_VERSION));
    let mut detail = format!(
        "{}/{}: {ready} ready, {leader}",
        g.operator_namespace, g.operator_name
    );
    if !compatible {
        detail.push_str(&format!(
            "; use the kubectl-smbp release of the operator's line (this is {PLUGIN_VERSION})"
        ));
    }
    Component {
        version,
        detail,
        compatible,
    }
}

/// The installed BigPeer CRD and whether it serves the plugin's API version.
pub async fn crd(session: &Session) -> Component {
    let api: Api<CustomResourceDefinition> = Api::all(session.client.clone());
    let installed = match api.get("bigpeers.smbp.dev").await {
        Ok(crd) => crd,
        Err(e) => {
            let detail = if is_not_found(&e) {
                "bigpeers.smbp.dev is not installed (install the operator's chart or config/crd/)"
                    .to_string()
            } else {
                format!("cannot read CustomResourceDefinition bigpeers.smbp.dev: {e}")
            };
            return Component {
                version: None,
                detail,
                compatible: false,
            };
        }
    };
    let served: Vec<String> = installed
        .spec
        .versions
        .iter()
        .filter(|v| v.served)
        .map(|v| v.name.clone())
        .collect();
    let storage = installed
        .spec
        .versions
        .iter()
        .find(|v| v.storage)
        .map(|v| v.name.clone());
    let compatible = served.iter().any(|v| v == API_VERSION);
    let ours = smbp_api::crd::bigpeer_crd();
    let schema = |crd: &CustomResourceDefinition| {
        crd.spec
            .versions
            .iter()
            .find(|v| v.name == API_VERSION)
            .and_then(|v| v.schema.clone())
            .map(|s| serde_json::to_value(s).unwrap_or_default())
    };
    let same = schema(&installed) == schema(&ours);
    let mut detail = format!(
        "serves {}, stores {}",
        served.join(", "),
        storage.as_deref().unwrap_or("-")
    );
    detail.push_str(if same {
        "; schema identical to this plugin's"
    } else {
        "; schema differs from this plugin's (another release's CRD)"
    });
    if !compatible {
        detail.push_str(&format!("; smbp.dev/{API_VERSION} is not served"));
    }
    Component {
        version: storage,
        detail,
        compatible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_of_one_line_are_compatible() {
        assert!(same_line("0.1.0", "0.1.7"));
        assert!(!same_line("0.2.0", "0.1.0"));
        assert!(!same_line("latest", "0.1.0"));
    }
}
