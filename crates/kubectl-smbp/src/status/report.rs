//! What `status` reports about one BigPeer: the data `-o json|yaml` prints as is and the table
//! form renders.

use jiff::Timestamp;
use serde::Serialize;

/// Everything `status NAME` shows; `-o json|yaml` prints it as is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The BigPeer.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `status.phase`.
    pub phase: Option<String>,
    /// Versions.
    pub version: Versions,
    /// Every condition.
    pub conditions: Vec<ConditionRow>,
    /// Store and sync pods.
    pub pods: Vec<PodRow>,
    /// The store's volumes.
    pub volumes: Vec<VolumeRow>,
    /// The sync tier's autoscaler.
    pub autoscaler: Option<Autoscaler>,
    /// Where clients connect.
    pub endpoints: Vec<EndpointRow>,
    /// The transaction log.
    pub transaction_log: TransactionLog,
    /// The serving certificate.
    pub certificate: Option<Certificate>,
    /// Recent Warning Events of the BigPeer and its children, newest first.
    pub warnings: Vec<EventRow>,
    /// The upgrade in progress or the last one.
    pub upgrade: Option<Progress>,
    /// What could not be read (permission denied, API missing).
    pub unavailable: Vec<String>,
}

/// Running, desired and target versions.
#[derive(Debug, Clone, Serialize)]
pub struct Versions {
    /// `status.version.current`: what every pod ran when last settled.
    pub running: Option<String>,
    /// `spec.version`.
    pub desired: String,
    /// `status.version.target`: what is being rolled out.
    pub target: Option<String>,
}

/// One condition.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionRow {
    /// Type.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    /// CamelCase reason.
    pub reason: String,
    /// Message.
    pub message: String,
    /// Since when it holds.
    pub since: Option<Timestamp>,
}

/// One pod.
#[derive(Debug, Clone, Serialize)]
pub struct PodRow {
    /// Name.
    pub name: String,
    /// `store`, `sync` or `migration`.
    pub role: String,
    /// The release it runs.
    pub version: Option<String>,
    /// Ready containers / containers.
    pub ready: String,
    /// Whether the pod is Ready.
    pub is_ready: bool,
    /// Container restarts.
    pub restarts: i32,
    /// `status.phase`.
    pub phase: String,
    /// The node.
    pub node: Option<String>,
    /// When it started.
    pub started: Option<Timestamp>,
}

/// One store volume.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeRow {
    /// The PersistentVolumeClaim.
    pub name: String,
    /// Bound, Pending, Lost.
    pub phase: String,
    /// The provisioned capacity.
    pub capacity: Option<String>,
}

/// The sync autoscaler.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaler {
    /// Minimum replicas.
    pub min: Option<i32>,
    /// Maximum replicas.
    pub max: i32,
    /// Current replicas.
    pub current: Option<i32>,
    /// Desired replicas.
    pub desired: i32,
}

/// One endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointRow {
    /// `Service`, `LoadBalancer`, `NodePort`, `Ingress`, `Gateway`.
    pub source: String,
    /// Address.
    pub address: String,
}

/// The transaction log.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionLog {
    /// Where it is: `Strimzi Kafka ns/name` or the external bootstrap servers.
    pub backend: String,
    /// The TransactionLogReady condition's status and reason.
    pub ready: Option<String>,
}

/// The serving certificate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// `cert-manager Certificate <name>` or `Secret <name>`.
    pub source: String,
    /// When it expires, when known.
    pub not_after: Option<Timestamp>,
}

/// One Warning Event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    /// When it was last seen.
    pub last_seen: Option<Timestamp>,
    /// Reason.
    pub reason: String,
    /// `Kind/name`.
    pub object: String,
    /// How many times.
    pub count: i32,
    /// Message.
    pub message: String,
}

/// The upgrade's progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The phase.
    pub phase: String,
    /// From.
    pub from: Option<String>,
    /// To.
    pub to: Option<String>,
    /// The release being rolled out.
    pub hop: Option<String>,
    /// Its place on the path (1-based) and the path's length.
    pub hop_index: Option<usize>,
    /// The number of hops.
    pub hops: usize,
    /// The step running or awaited (1-based), when the upgrade is inside its steps.
    pub step_index: Option<usize>,
    /// How many steps the upgrade takes.
    pub steps: usize,
    /// The step's name, as approvals name it.
    pub step_id: Option<String>,
    /// What the operator says it is doing or waiting for.
    pub step: Option<String>,
    /// The step awaiting a Manual approval.
    pub awaiting_approval: Option<String>,
    /// Whether spec.upgrade.paused is set.
    pub paused: bool,
    /// Why it rolled back or failed.
    pub message: Option<String>,
    /// Whether it is under way.
    pub active: bool,
}
