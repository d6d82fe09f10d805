//! The cluster-wide part of a support bundle: the operator (Deployment, Lease, webhook
//! configuration, pods, `/metrics`, logs), the node summary, the CRD versions, the release
//! catalogue and the `version` report.

use super::{Bundle, Gather, OPERATOR, reason};
use crate::error::is_not_found;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

impl Gather<'_> {
    /// The operator: Deployment, pods, logs, Lease, webhook configuration, `/metrics`.
    pub(super) async fn operator(&self, bundle: &mut Bundle) {
        let g = &self.session.global;
        let ns = g.operator_namespace.as_str();
        let dir = "operator";
        let client = &self.session.client;
        let deployment = Api::<Deployment>::namespaced(client.clone(), ns)
            .get(&g.operator_name)
            .await;
        self.one(
            bundle,
            &format!("{dir}/deployment.yaml"),
            &format!("operator Deployment {ns}/{}", g.operator_name),
            deployment,
        );
        let lease = Api::<Lease>::namespaced(client.clone(), ns)
            .get(&g.operator_name)
            .await;
        self.one(
            bundle,
            &format!("{dir}/lease.yaml"),
            &format!("operator Lease {ns}/{}", g.operator_name),
            lease,
        );
        match Api::<ValidatingWebhookConfiguration>::all(client.clone())
            .list(&ListParams::default())
            .await
        {
            Ok(list) => {
                let ours: Vec<Value> = list
                    .items
                    .iter()
                    .filter(|w| serves_bigpeers(w))
                    .map(|w| serde_json::to_value(w).unwrap_or_default())
                    .collect();
                if ours.is_empty() {
                    bundle.missing("the BigPeer ValidatingWebhookConfiguration", "not found");
                }
                bundle.yaml(&format!("{dir}/webhooks.yaml"), Value::Array(ours));
            }
            Err(e) => bundle.missing("ValidatingWebhookConfigurations", reason(&e)),
        }
        match Api::<Pod>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels(OPERATOR))
            .await
        {
            Ok(list) => {
                let pods: Vec<Value> = list
                    .items
                    .iter()
                    .map(|p| serde_json::to_value(p).unwrap_or_default())
                    .collect();
                bundle.yaml(&format!("{dir}/pods.yaml"), Value::Array(pods));
            }
            Err(e) => bundle.missing(format!("operator pods in {ns}"), reason(&e)),
        }
        self.metrics(bundle, ns, dir).await;
        self.logs(bundle, ns, OPERATOR, dir).await;
    }

    fn one<T: serde::Serialize>(
        &self,
        bundle: &mut Bundle,
        path: &str,
        what: &str,
        read: kube::Result<T>,
    ) {
        match read {
            Ok(object) => bundle.yaml(path, serde_json::to_value(object).unwrap_or_default()),
            Err(e) => bundle.missing(what, reason(&e)),
        }
    }

    /// The operator's `/metrics`, through its metrics Service and the API server's proxy (one
    /// replica answers).
    async fn metrics(&self, bundle: &mut Bundle, ns: &str, dir: &str) {
        let service = format!("{}-metrics", self.session.global.operator_name);
        let url = format!("/api/v1/namespaces/{ns}/services/{service}:http/proxy/metrics");
        let Ok(request) = http::Request::get(&url).body(Vec::new()) else {
            return;
        };
        match self.session.client.request_text(request).await {
            Ok(text) => bundle.text(&format!("{dir}/metrics.txt"), &text),
            Err(e) if is_not_found(&e) => bundle.missing(
                "the operator's /metrics",
                format!(
                    "not served by this cluster (services/proxy of {ns}/{service} answered 404)"
                ),
            ),
            Err(e) => bundle.missing("the operator's /metrics", reason(&e)),
        }
    }

    /// Nodes, CRDs, the release catalogue and the versions.
    pub(super) async fn cluster(&self, bundle: &mut Bundle) {
        let client = &self.session.client;
        match Api::<Node>::all(client.clone())
            .list(&ListParams::default())
            .await
        {
            Ok(list) => {
                let nodes: Vec<Value> = list.items.iter().map(node_summary).collect();
                bundle.yaml("cluster/nodes.yaml", Value::Array(nodes));
            }
            Err(e) => bundle.missing("nodes", reason(&e)),
        }
        match Api::<CustomResourceDefinition>::all(client.clone())
            .list(&ListParams::default())
            .await
        {
            Ok(list) => {
                let crds: Vec<Value> = list
                    .items
                    .iter()
                    .filter(|c| relevant_crd(&c.spec.group))
                    .map(|c| {
                        let served: Vec<&str> = c.spec.versions.iter().filter(|v| v.served).map(|v| v.name.as_str()).collect();
                        let storage = c.spec.versions.iter().find(|v| v.storage).map(|v| v.name.as_str());
                        json!({"name": c.metadata.name, "served": served, "storage": storage,
                               "storedVersions": c.status.as_ref().and_then(|s| s.stored_versions.clone())})
                    })
                    .collect();
                bundle.yaml("cluster/crds.yaml", Value::Array(crds));
            }
            Err(e) => bundle.missing("CustomResourceDefinitions", reason(&e)),
        }
        let releases: Vec<Value> = smbp_core::catalogue::builtin()
            .releases()
            .iter()
            .map(|r| {
                json!({"version": r.version.to_string(), "tag": r.tag, "digest": r.digest,
                       "requiredStop": r.required_stop, "withdrawn": r.withdrawn})
            })
            .collect();
        bundle.yaml("catalogue.yaml", Value::Array(releases));
        let versions = crate::version::report(self.session).await;
        bundle.yaml(
            "versions.yaml",
            serde_json::to_value(versions).unwrap_or_default(),
        );
    }
}

/// Whether a webhook configuration has a webhook for BigPeers.
fn serves_bigpeers(configuration: &ValidatingWebhookConfiguration) -> bool {
    configuration.webhooks.iter().flatten().any(|w| {
        w.rules.iter().flatten().any(|r| {
            r.api_groups.iter().flatten().any(|g| g == "smbp.dev")
                && r.resources
                    .iter()
                    .flatten()
                    .any(|p| p == "bigpeers" || p == "*")
        })
    })
}

/// Whether a CRD's group is ours or one of the optional APIs the operator uses.
fn relevant_crd(group: &str) -> bool {
    group == "smbp.dev"
        || smbp_core::build::OptionalApi::ALL
            .iter()
            .any(|api| api.group_version().0 == group)
}

/// What support needs of a node: readiness, versions, capacity, taints.
fn node_summary(node: &Node) -> Value {
    let status = node.status.clone().unwrap_or_default();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone());
    json!({
        "name": node.metadata.name,
        "labels": node.metadata.labels.as_ref().map(|l| l.iter()
            .filter(|(k, _)| k.starts_with("topology.kubernetes.io/") || k.starts_with("kubernetes.io/") || k.starts_with("node.kubernetes.io/"))
            .collect::<std::collections::BTreeMap<_, _>>()),
        "ready": ready,
        "unschedulable": node.spec.as_ref().and_then(|s| s.unschedulable),
        "taints": node.spec.as_ref().and_then(|s| s.taints.clone()),
        "kubelet": status.node_info.as_ref().map(|i| i.kubelet_version.clone()),
        "allocatable": status.allocatable,
    })
}
