//! `kubectl smbp status [NAME]`: one BigPeer's state in one screen — versions, phase, conditions
//! with their reason and age, the store and sync pods, volumes, the autoscaler, endpoints, the
//! transaction log, the certificate's expiry, recent Warning Events and the upgrade in progress
//! (step k of n) — or, without NAME, one line per BigPeer. Sections the identity may not read
//! are listed at the end instead of failing the command. The data is in `report.rs`, its table
//! form in `render.rs`.

mod render;
mod report;

pub use render::{bar, pods_table, render};
pub use report::*;

use crate::clock::age;
use crate::error::{Error, Result, is_not_found};
use crate::events::EventInfo;
use crate::output::{self, Cell, Table, Tone, toned};
use crate::session::{Io, Session};
use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};
use serde::Serialize;
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::{COMPONENT_LABEL, ChildKind, Names, VERSION_LABEL};
use smbp_core::upgrade::{observe, steps};

/// Runs `status`.
pub async fn run(session: &Session, io: &mut Io, name: Option<&str>, events: usize) -> Result<()> {
    match name {
        Some(name) => {
            let report = gather(session, name, events).await?;
            let now = io.clock.now();
            match output::structured(session.global.output, &report)? {
                Some(text) => io.print(&text),
                None => {
                    let text = render(&report, now, io.colour);
                    io.print(&text)
                }
            }
        }
        None => list(session, io).await,
    }
}

/// Reads everything about one BigPeer.
pub async fn gather(session: &Session, name: &str, events: usize) -> Result<Report> {
    let ns = session.namespace.as_str();
    let client = &session.client;
    let bigpeer = Api::<BigPeer>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .map_err(|e| Error::kube(format!("BigPeer {ns}/{name}"), e))?;
    let names = Names::new(name);
    let status = bigpeer.status.clone().unwrap_or_default();
    let mut unavailable = Vec::new();

    let pods: Vec<Pod> = section(
        &mut unavailable,
        "pods",
        Api::<Pod>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels(&observe::pod_selector(name))),
    )
    .await
    .map(|l| l.items)
    .unwrap_or_default();
    let claims: Vec<PersistentVolumeClaim> = section(
        &mut unavailable,
        "persistentvolumeclaims",
        Api::<PersistentVolumeClaim>::namespaced(client.clone(), ns).list(&ListParams::default()),
    )
    .await
    .map(|l| l.items)
    .unwrap_or_default();
    let hpa = section(
        &mut unavailable,
        "horizontalpodautoscalers",
        Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), ns).get_opt(&names.sync()),
    )
    .await
    .flatten();
    let all_events = section(&mut unavailable, "events", crate::events::list(client, ns))
        .await
        .unwrap_or_default();
    let certificate = certificate(session, &bigpeer, &names, &mut unavailable).await;

    let claim_prefix = format!("data-{}-", names.store());
    Ok(Report {
        name: name.to_string(),
        namespace: ns.to_string(),
        phase: status.phase.map(|p| format!("{p:?}")),
        version: Versions {
            running: status.version.as_ref().and_then(|v| v.current.clone()),
            desired: bigpeer.spec.version.clone(),
            target: status.version.as_ref().and_then(|v| v.target.clone()),
        },
        conditions: status
            .conditions
            .iter()
            .map(|c| ConditionRow {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                since: Some(c.last_transition_time.0),
            })
            .collect(),
        pods: pod_rows(&pods),
        volumes: claims
            .iter()
            .filter(|c| {
                c.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(&claim_prefix))
            })
            .map(volume_row)
            .collect(),
        autoscaler: hpa.map(|h| Autoscaler {
            min: h.spec.as_ref().and_then(|s| s.min_replicas),
            max: h.spec.as_ref().map_or(0, |s| s.max_replicas),
            current: h.status.as_ref().and_then(|s| s.current_replicas),
            desired: h.status.as_ref().map_or(0, |s| s.desired_replicas),
        }),
        endpoints: endpoints(&status),
        transaction_log: transaction_log(&bigpeer),
        certificate,
        warnings: warnings(&all_events, name, events),
        upgrade: progress(&bigpeer),
        unavailable,
    })
}

/// Awaits one read; a refusal or error is recorded in `unavailable` instead of failing.
pub async fn section<T>(
    unavailable: &mut Vec<String>,
    what: &str,
    read: impl std::future::Future<Output = kube::Result<T>>,
) -> Option<T> {
    match read.await {
        Ok(value) => Some(value),
        Err(kube::Error::Api(status)) => {
            unavailable.push(format!("{what}: {} ({})", status.reason, status.code));
            None
        }
        Err(e) => {
            unavailable.push(format!("{what}: {e}"));
            None
        }
    }
}

/// One row per pod, store first, by name.
pub fn pod_rows(pods: &[Pod]) -> Vec<PodRow> {
    let mut rows: Vec<PodRow> = pods
        .iter()
        .map(|pod| {
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            let status = pod.status.clone().unwrap_or_default();
            let containers = status.container_statuses.clone().unwrap_or_default();
            let ready = containers.iter().filter(|c| c.ready).count();
            let is_ready = status
                .conditions
                .as_ref()
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            PodRow {
                name: pod.metadata.name.clone().unwrap_or_default(),
                role: labels.get(COMPONENT_LABEL).cloned().unwrap_or_default(),
                version: labels.get(VERSION_LABEL).cloned(),
                ready: format!("{ready}/{}", containers.len()),
                is_ready,
                restarts: containers.iter().map(|c| c.restart_count).sum(),
                phase: status.phase.clone().unwrap_or_default(),
                node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                started: status.start_time.as_ref().map(|t| t.0),
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.role, &a.name).cmp(&(&b.role, &b.name)));
    rows
}

fn volume_row(claim: &PersistentVolumeClaim) -> VolumeRow {
    let status = claim.status.clone().unwrap_or_default();
    VolumeRow {
        name: claim.metadata.name.clone().unwrap_or_default(),
        phase: status.phase.unwrap_or_default(),
        capacity: status
            .capacity
            .and_then(|c| c.get("storage").map(|q| q.0.clone())),
    }
}

fn endpoints(status: &smbp_api::v1alpha1::BigPeerStatus) -> Vec<EndpointRow> {
    let Some(endpoints) = &status.endpoints else {
        return Vec::new();
    };
    endpoints
        .service
        .iter()
        .map(|s| EndpointRow {
            source: "Service".into(),
            address: s.clone(),
        })
        .chain(endpoints.external.iter().map(|e| EndpointRow {
            source: e.source.clone(),
            address: e.address.clone(),
        }))
        .collect()
}

fn transaction_log(bigpeer: &BigPeer) -> TransactionLog {
    let spec = &bigpeer.spec.transaction_log;
    let ns = bigpeer.metadata.namespace.clone().unwrap_or_default();
    let backend = match (&spec.strimzi, &spec.external) {
        (Some(strimzi), _) => format!(
            "Strimzi Kafka {}/{}",
            strimzi.cluster_ref.namespace.as_deref().unwrap_or(&ns),
            strimzi.cluster_ref.name
        ),
        (None, Some(external)) => {
            format!("external brokers {}", external.bootstrap_servers.join(","))
        }
        (None, None) => "none".into(),
    };
    let ready = condition(bigpeer, "TransactionLogReady")
        .map(|c| format!("{} {}", c.status, c.reason).trim_end().to_string());
    TransactionLog { backend, ready }
}

fn condition<'a>(
    bigpeer: &'a BigPeer,
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    bigpeer
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

async fn certificate(
    session: &Session,
    bigpeer: &BigPeer,
    names: &Names,
    unavailable: &mut Vec<String>,
) -> Option<Certificate> {
    let tls = bigpeer.spec.tls.as_ref()?;
    if let Some(secret) = &tls.secret_ref {
        return Some(Certificate {
            source: format!(
                "Secret {} (expiry not read: the plugin reads no Secret)",
                secret.name
            ),
            not_after: None,
        });
    }
    let resource = ChildKind::Certificate.api_resource();
    let api: Api<kube::api::DynamicObject> =
        Api::namespaced_with(session.client.clone(), &session.namespace, &resource);
    let found = match api.get(&names.certificate()).await {
        Ok(found) => Some(found),
        Err(e) if is_not_found(&e) => None,
        Err(e) => {
            unavailable.push(format!("certificates.cert-manager.io: {e}"));
            None
        }
    };
    Some(Certificate {
        source: format!("cert-manager Certificate {}", names.certificate()),
        not_after: found.and_then(|c| observe::certificate_not_after(&c.data)),
    })
}

/// The BigPeer's and its children's Warning Events, newest first, at most `limit`.
fn warnings(events: &[EventInfo], name: &str, limit: usize) -> Vec<EventRow> {
    let prefix = format!("{name}-");
    let mut rows: Vec<EventRow> = events
        .iter()
        .filter(|e| e.type_ == "Warning")
        .filter(|e| e.object == name || e.object.starts_with(&prefix))
        .map(|e| EventRow {
            last_seen: e.last_seen,
            reason: e.reason.clone(),
            object: format!("{}/{}", e.kind, e.object),
            count: e.count,
            message: e.message.clone(),
        })
        .collect();
    rows.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.reason.cmp(&b.reason)));
    rows.truncate(limit);
    rows
}

/// The upgrade's progress from `status.upgrade`, with its steps counted as the operator takes
/// them.
pub fn progress(bigpeer: &BigPeer) -> Option<Progress> {
    let upgrade = bigpeer.status.as_ref()?.upgrade.as_ref()?;
    let phase = upgrade.phase?;
    let hops: Vec<String> = upgrade
        .stops
        .iter()
        .chain(upgrade.to.as_ref())
        .cloned()
        .collect();
    let settings = bigpeer.spec.upgrade.clone().unwrap_or_default();
    let planned = steps::planned(&hops, bigpeer.spec.store.replicas, settings.max_unavailable);
    let at = steps::position(&planned, upgrade);
    Some(Progress {
        phase: phase.as_str().to_string(),
        from: upgrade.from.clone(),
        to: upgrade.to.clone(),
        hop: upgrade.hop.clone(),
        hop_index: upgrade
            .hop
            .as_ref()
            .and_then(|h| hops.iter().position(|x| x == h))
            .map(|i| i + 1),
        hops: hops.len(),
        step_index: at.map(|i| i + 1),
        steps: planned.len(),
        step_id: at.map(|i| planned[i].id.clone()),
        step: upgrade.step.clone(),
        awaiting_approval: upgrade.awaiting_approval.clone(),
        paused: settings.paused,
        message: upgrade.message.clone(),
        active: !phase.is_terminal(),
    })
}

/// One line of `status` without a name.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRow {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.version`.
    pub desired: String,
    /// `status.version.current`.
    pub running: Option<String>,
    /// The Ready condition's status.
    pub ready: Option<String>,
    /// The phase.
    pub phase: Option<String>,
    /// The upgrade's phase and step, when one is under way.
    pub upgrade: Option<String>,
    /// Created.
    pub created: Option<Timestamp>,
}

async fn list(session: &Session, io: &mut Io) -> Result<()> {
    let api: Api<BigPeer> = if session.global.all_namespaces {
        Api::all(session.client.clone())
    } else {
        Api::namespaced(session.client.clone(), &session.namespace)
    };
    let bigpeers = api
        .list(&ListParams::default())
        .await
        .map_err(|e| Error::kube("list BigPeers", e))?;
    let rows: Vec<ListRow> = bigpeers
        .items
        .iter()
        .map(|b| ListRow {
            namespace: b.metadata.namespace.clone().unwrap_or_default(),
            name: b.metadata.name.clone().unwrap_or_default(),
            desired: b.spec.version.clone(),
            running: b
                .status
                .as_ref()
                .and_then(|s| s.version.as_ref())
                .and_then(|v| v.current.clone()),
            ready: condition(b, "Ready").map(|c| c.status.clone()),
            phase: b
                .status
                .as_ref()
                .and_then(|s| s.phase)
                .map(|p| format!("{p:?}")),
            upgrade: progress(b)
                .filter(|p| p.active)
                .map(|p| match p.step_index {
                    Some(k) => format!("{} step {k}/{}", p.phase, p.steps),
                    None => p.phase,
                }),
            created: b.metadata.creation_timestamp.as_ref().map(|t| t.0),
        })
        .collect();
    if let Some(text) = output::structured(session.global.output, &rows)? {
        return io.print(&text);
    }
    if rows.is_empty() {
        io.note(&format!(
            "No BigPeers found in {}.",
            if session.global.all_namespaces {
                "any namespace".to_string()
            } else {
                format!("namespace {}", session.namespace)
            }
        ));
        return Ok(());
    }
    let now = io.clock.now();
    let mut table = Table::new(&[
        "NAMESPACE",
        "NAME",
        "VERSION",
        "RUNNING",
        "READY",
        "PHASE",
        "UPGRADE",
        "AGE",
    ]);
    for r in &rows {
        let ready = r.ready.clone().unwrap_or_else(|| "-".into());
        let cells: Vec<Cell> = vec![
            r.namespace.clone().into(),
            r.name.clone().into(),
            r.desired.clone().into(),
            r.running.clone().unwrap_or_else(|| "-".into()).into(),
            toned(ready.clone(), Tone::of(ready == "True")),
            r.phase.clone().unwrap_or_else(|| "-".into()).into(),
            r.upgrade.clone().unwrap_or_else(|| "-".into()).into(),
            r.created.map_or("-".into(), |t| age(t, now)).into(),
        ];
        table.row(cells);
    }
    let text = table.render(io.colour);
    io.print(&text)
}
