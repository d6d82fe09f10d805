//! `kubectl smbp must-gather`: a support bundle (tar.gz) a customer can send without giving
//! cluster access. It holds, per namespace in scope, the BigPeers and every child (found by the
//! `app.kubernetes.io/name=bigpeer` label), their pods and volumes, Events, pod logs (a tail,
//! and the previous container's when it restarted); cluster-wide, the operator's Deployment,
//! pods, logs, Lease, webhook configuration and `/metrics` (through its metrics Service), node and CRD summaries, the release
//! catalogue and the `version` report; and `manifest.json`, which lists every file and every
//! item that could not be collected with the reason (permission denied is recorded, never
//! fatal). Secrets are never collected: only their names, types and keys. Everything is
//! redacted (`redact.rs`); `--redact-names` also hashes namespace and object names.

mod bundle;
mod cluster;
pub mod redact;

use crate::cli::MustGatherArgs;
use crate::error::{Error, Result, is_not_found};
use crate::session::{Io, Session};
use bundle::{Bundle, Manifest};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, LogParams};
use serde_json::{Value, json};
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::ChildKind;
use std::path::PathBuf;

/// The label every child of every BigPeer carries.
const CHILDREN: &str = "app.kubernetes.io/name=bigpeer";
/// The label of the operator's own objects (the chart's).
const OPERATOR: &str = "app.kubernetes.io/name=smbp-operator";

/// Runs `must-gather`.
pub async fn run(session: &Session, io: &mut Io, args: &MustGatherArgs) -> Result<()> {
    let since = smbp_core::duration::parse(&args.since).ok_or_else(|| {
        Error::Usage(format!(
            "--since {:?} is not a duration; use Go's form, for example 30m, 6h or 2h30m",
            args.since
        ))
    })?;
    let now = io.clock.now();
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let root = format!("smbp-must-gather-{stamp}");
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{root}.tar.gz")));
    let namespaces = scope(session).await?;
    let manifest = Manifest {
        created_at: now.to_string(),
        plugin: crate::version::PLUGIN_VERSION.to_string(),
        scope: namespaces.clone(),
        since: args.since.clone(),
        redacted_names: args.redact_names,
        redaction: "Secrets: names, types and keys only. Values under secret-looking keys, secret env vars, \
secret-looking annotations, private keys, tokens and URL credentials: <redacted>, in objects, Events and logs."
            .into(),
        ..Manifest::default()
    };
    let mut bundle = Bundle::new(&root, manifest, args.redact_names);
    let gather = Gather {
        session,
        now,
        since_seconds: since.as_secs().max(1) as i64,
        cutoff: now - jiff::SignedDuration::try_from(since).unwrap_or_default(),
        tail: args.tail,
    };
    for ns in &namespaces {
        bundle.sensitive_name(ns);
        gather.namespace(&mut bundle, ns).await;
    }
    gather.operator(&mut bundle).await;
    gather.cluster(&mut bundle).await;
    let missing = bundle.manifest.missing.len();
    bundle.write(&path)?;
    io.print(&format!("{}\n", path.display()))?;
    io.note(&format!(
        "Wrote {} ({} item(s) could not be collected; see manifest.json). Secrets were not collected; values that look secret are redacted.",
        path.display(),
        missing
    ));
    Ok(())
}

/// The namespaces to gather: `-n` (or the context's), or with `-A` every namespace that has a
/// BigPeer.
async fn scope(session: &Session) -> Result<Vec<String>> {
    if !session.global.all_namespaces {
        return Ok(vec![session.namespace.clone()]);
    }
    let all = Api::<BigPeer>::all(session.client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| Error::kube("list BigPeers in all namespaces", e))?;
    let mut namespaces: Vec<String> = all
        .items
        .iter()
        .filter_map(|b| b.metadata.namespace.clone())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    Ok(namespaces)
}

/// Why an API request failed, in the manifest's words.
fn reason(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(s) if s.code == 403 => format!("forbidden: {}", s.message),
        kube::Error::Api(s) if s.code == 404 => "not found".into(),
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => other.to_string(),
    }
}

/// What a 404 of the `pods/log` subresource means: a NotFound naming the pod says it was
/// deleted since it was listed; any other 404 says the cluster does not serve the subresource.
fn log_not_found(error: &kube::Error, pod: &str) -> &'static str {
    let names_the_pod = matches!(error, kube::Error::Api(s)
        if s.details.as_ref().is_some_and(|d| d.kind == "pods" && d.name == pod));
    if names_the_pod {
        "not found (the pod was deleted while gathering)"
    } else {
        "not served by this cluster (the pods/log subresource answered 404)"
    }
}

struct Gather<'a> {
    session: &'a Session,
    now: jiff::Timestamp,
    since_seconds: i64,
    cutoff: jiff::Timestamp,
    tail: i64,
}

impl Gather<'_> {
    async fn namespace(&self, bundle: &mut Bundle, ns: &str) {
        let dir = format!("namespaces/{ns}");
        let client = &self.session.client;
        match Api::<BigPeer>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
        {
            Ok(list) => {
                for bigpeer in list.items {
                    let name = bigpeer.metadata.name.clone().unwrap_or_default();
                    bundle.sensitive_name(&name);
                    let value = serde_json::to_value(&bigpeer).unwrap_or_default();
                    bundle.yaml(&format!("{dir}/bigpeers/{name}.yaml"), value);
                }
            }
            Err(e) => bundle.missing(format!("BigPeers in {ns}"), reason(&e)),
        }
        for kind in ChildKind::ALL
            .into_iter()
            .filter(|k| *k != ChildKind::Secret)
        {
            self.objects(bundle, ns, &kind.api_resource(), &dir).await;
        }
        for extra in [
            ApiResource::erase::<Pod>(&()),
            ApiResource::erase::<k8s_openapi::api::core::v1::PersistentVolumeClaim>(&()),
            ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&()),
        ] {
            self.objects(bundle, ns, &extra, &dir).await;
        }
        self.secrets(bundle, ns, &dir).await;
        self.events(bundle, ns, &dir).await;
        self.logs(bundle, ns, CHILDREN, &dir).await;
    }

    /// Every object of `resource` in `ns` with the BigPeer children's label, one YAML file each.
    async fn objects(&self, bundle: &mut Bundle, ns: &str, resource: &ApiResource, dir: &str) {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.session.client.clone(), ns, resource);
        match api.list(&ListParams::default().labels(CHILDREN)).await {
            Ok(list) => {
                for mut object in list.items {
                    let name = object.metadata.name.clone().unwrap_or_default();
                    object.types = Some(kube::api::TypeMeta {
                        api_version: resource.api_version.clone(),
                        kind: resource.kind.clone(),
                    });
                    let value = serde_json::to_value(&object).unwrap_or_default();
                    let kind = resource.plural.clone();
                    bundle.yaml(&format!("{dir}/{kind}/{name}.yaml"), value);
                }
            }
            // An optional API that is not installed: nothing to collect, and nothing missing.
            Err(e) if is_not_found(&e) => {}
            Err(e) => bundle.missing(format!("{} in {ns}", resource.plural), reason(&e)),
        }
    }

    /// Secrets: names, types and keys; never a value.
    async fn secrets(&self, bundle: &mut Bundle, ns: &str, dir: &str) {
        let api: Api<Secret> = Api::namespaced(self.session.client.clone(), ns);
        match api.list(&ListParams::default()).await {
            Ok(list) => {
                let summary: Vec<Value> = list
                    .items
                    .iter()
                    .map(|s| {
                        let keys: Vec<&String> = s
                            .data
                            .iter()
                            .flat_map(|d| d.keys())
                            .chain(s.string_data.iter().flat_map(|d| d.keys()))
                            .collect();
                        json!({"name": s.metadata.name, "type": s.type_, "keys": keys})
                    })
                    .collect();
                bundle.yaml(&format!("{dir}/secrets.yaml"), Value::Array(summary));
            }
            Err(e) => bundle.missing(format!("Secret names and keys in {ns}"), reason(&e)),
        }
    }

    /// Every Event of the namespace seen within `--since`, from both Event APIs.
    async fn events(&self, bundle: &mut Bundle, ns: &str, dir: &str) {
        match crate::events::list(&self.session.client, ns).await {
            Ok(events) => {
                let recent: Vec<Value> = events
                    .into_iter()
                    .filter(|e| e.last_seen.is_none_or(|t| t >= self.cutoff))
                    .map(|e| e.raw)
                    .collect();
                bundle.yaml(&format!("{dir}/events.yaml"), Value::Array(recent));
            }
            Err(e) => bundle.missing(format!("Events in {ns}"), reason(&e)),
        }
    }

    /// A summary of the pods selected by `selector` in `ns` (`<dir>/pods.txt`), and a log tail
    /// of each of their containers, and of the previous container of those that restarted
    /// (`<dir>/logs/`).
    async fn logs(&self, bundle: &mut Bundle, ns: &str, selector: &str, dir: &str) {
        let api: Api<Pod> = Api::namespaced(self.session.client.clone(), ns);
        let pods = match api.list(&ListParams::default().labels(selector)).await {
            Ok(list) => list.items,
            Err(e) => {
                bundle.missing(format!("pods (summary and logs) in {ns}"), reason(&e));
                return;
            }
        };
        let summary = crate::status::pods_table(&crate::status::pod_rows(&pods), self.now);
        bundle.text(&format!("{dir}/pods.txt"), &summary.render(false));
        for pod in pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let statuses = pod
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.clone())
                .unwrap_or_default();
            for status in statuses {
                let mut runs = vec![false];
                // Only a container that restarted has a previous log (asking otherwise fails).
                if status.restart_count > 0 {
                    runs.push(true);
                }
                for previous in runs {
                    let params = LogParams {
                        container: Some(status.name.clone()),
                        previous,
                        since_seconds: Some(self.since_seconds),
                        tail_lines: Some(self.tail),
                        timestamps: true,
                        ..LogParams::default()
                    };
                    let file = format!(
                        "{dir}/logs/{name}/{}{}.log",
                        status.name,
                        if previous { ".previous" } else { "" }
                    );
                    match api.logs(&name, &params).await {
                        Ok(text) => bundle.text(&file, &text),
                        Err(e) if is_not_found(&e) => bundle.missing(
                            format!("logs of {ns}/{name} container {}", status.name),
                            log_not_found(&e, &name),
                        ),
                        Err(e) => bundle.missing(
                            format!("logs of {ns}/{name} container {}", status.name),
                            reason(&e),
                        ),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: Value) -> kube::Error {
        kube::Error::Api(Box::new(serde_json::from_value(status).expect("a Status")))
    }

    #[test]
    fn a_log_404_naming_the_pod_is_a_deleted_pod_and_any_other_is_not_served() {
        let deleted = api_error(json!({"code": 404, "reason": "NotFound",
            "message": "pods \"edge-store-0\" not found",
            "details": {"name": "edge-store-0", "kind": "pods"}}));
        assert_eq!(
            log_not_found(&deleted, "edge-store-0"),
            "not found (the pod was deleted while gathering)"
        );
        let unserved = api_error(json!({"code": 404, "reason": "NotFound",
            "message": "the server could not find the requested resource", "details": {}}));
        assert!(log_not_found(&unserved, "edge-store-0").starts_with("not served by this cluster"));
    }
}
