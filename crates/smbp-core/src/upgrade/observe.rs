//! What the upgrade state machine sees, read from the objects a cluster returns: the pods of the
//! store and the sync tier, the migration Jobs, the sync Deployment's progress, the store's
//! disruption budget and the certificate's expiry. Pure: the operator and the kubectl plugin list
//! the objects (the selectors are here too) and both turn them into the same [`World`], so the
//! plugin's `upgrade plan` evaluates exactly the pre-flight checks the operator would.

use super::{JobFacts, PodFacts, World};
use crate::build::{COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL, Names, VERSION_LABEL};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use smbp_api::v1alpha1::BigPeer;

/// The objects an upgrade depends on, as listed from the cluster.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observed<'a> {
    /// The BigPeer's pods (selected by [`pod_selector`]).
    pub pods: &'a [Pod],
    /// Its migration Jobs (selected by [`migration_selector`]).
    pub jobs: &'a [Job],
    /// The sync Deployment, when it exists.
    pub sync: Option<&'a Deployment>,
    /// The store's PodDisruptionBudget, when it exists.
    pub store_budget: Option<&'a PodDisruptionBudget>,
    /// The cert-manager Certificate, when TLS is managed and it exists.
    pub certificate: Option<&'a serde_json::Value>,
}

/// The label selector of every pod of the BigPeer `name`.
pub fn pod_selector(name: &str) -> String {
    format!("{NAME_LABEL}=bigpeer,{INSTANCE_LABEL}={name}")
}

/// The label selector of the migration Jobs of the BigPeer `name`.
pub fn migration_selector(name: &str) -> String {
    format!("{},{COMPONENT_LABEL}=migration", pod_selector(name))
}

/// The world of `bigpeer`'s upgrade as seen at `now`.
pub fn world(bigpeer: &BigPeer, observed: &Observed, now: Timestamp) -> World {
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let store_prefix = format!("{}-", Names::new(&name).store());
    let mut world = World::default();
    for pod in observed.pods {
        let component = label(pod, COMPONENT_LABEL);
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let facts = PodFacts {
            ordinal: pod_name
                .strip_prefix(&store_prefix)
                .and_then(|o| o.parse().ok())
                .filter(|_| component == Some("store")),
            name: pod_name,
            version: label(pod, VERSION_LABEL).map(str::to_string),
            // A kubelet clock ahead of the observer's must not stretch minReadySeconds.
            ready_since: ready_since(pod, now).map(|t| t.min(now)),
            terminating: pod.metadata.deletion_timestamp.is_some(),
        };
        match component {
            Some("store") => world.store_pods.push(facts),
            Some("sync") => world.sync_pods.push(facts),
            _ => {}
        }
    }
    for job in observed.jobs {
        world.jobs.insert(
            job.metadata.name.clone().unwrap_or_default(),
            job_facts(job),
        );
    }
    world.sync_replicas = observed
        .sync
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.replicas)
        .unwrap_or_else(|| bigpeer.spec.sync.desired_replicas());
    world.sync_stalled = observed.sync.and_then(stalled);
    world.disruptions_allowed = observed
        .store_budget
        .and_then(|b| b.status.as_ref())
        .map(|s| s.disruptions_allowed);
    world.transaction_log_not_ready = bigpeer
        .status
        .as_ref()
        .and_then(|s| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "TransactionLogReady")
        })
        .filter(|c| c.status != "True")
        .map(|c| format!("{}: {}", c.reason, c.message));
    world.certificate_not_after = observed.certificate.and_then(certificate_not_after);
    world
}

/// A cert-manager Certificate's `status.notAfter`.
pub fn certificate_not_after(certificate: &serde_json::Value) -> Option<Timestamp> {
    certificate
        .pointer("/status/notAfter")
        .and_then(|t| t.as_str())
        .and_then(|t| t.parse::<Timestamp>().ok())
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

/// Since when the pod is Ready, when it is (`now` when the condition has no transition time).
fn ready_since(pod: &Pod, now: Timestamp) -> Option<Timestamp> {
    let ready = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(ready.last_transition_time.as_ref().map_or(now, |t| t.0))
}

/// How a migration Job stands.
pub fn job_facts(job: &Job) -> JobFacts {
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let holds = |type_: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == "True")
    };
    if holds("Complete").is_some() {
        return JobFacts::Succeeded;
    }
    match holds("Failed") {
        Some(failed) => JobFacts::Failed {
            reason: failed.reason.clone().unwrap_or_default(),
            message: failed.message.clone().unwrap_or_default(),
        },
        None => JobFacts::Running,
    }
}

/// The Deployment's `ProgressDeadlineExceeded` message, when its rollout stalled on the latest
/// generation.
fn stalled(deployment: &Deployment) -> Option<String> {
    let status = deployment.status.as_ref()?;
    if status.observed_generation != deployment.metadata.generation {
        return None;
    }
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| {
            c.type_ == "Progressing"
                && c.status == "False"
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        })
        .map(|c| c.message.clone().unwrap_or_default())
}
