//! The operator's Prometheus metrics (prometheus-client, served as OpenMetrics text on
//! `/metrics`). Counters and histograms are updated where the work happens; the gauges about
//! BigPeers (by phase, by condition, upgrades under way) are computed from the watch cache at
//! every scrape, so they can never drift from what the cluster holds. docs/observability.md lists
//! every family; a test keeps that list current.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use serde_json::Value;
use smbp_api::v1alpha1::UpgradePhase;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Labels of a reconcile's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    /// `success` or `error`.
    pub result: &'static str,
    /// For errors, `transient` or `bug`; `none` for successes.
    pub error_category: &'static str,
}

/// Labels of one API request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: &'static str,
    /// The resource (plural, with `/subresource`), e.g. `bigpeers/status`.
    pub resource: String,
    /// The HTTP status code, or `error` when no response came back.
    pub code: String,
}

/// A label naming a kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// The watched kind, e.g. `BigPeer` or `StatefulSet`.
    pub kind: String,
}

/// A label naming a phase.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabel {
    /// The phase.
    pub phase: String,
}

/// Labels of a condition's status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    /// The condition type (`Ready`, `Degraded`, ...).
    pub condition: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
}

/// Labels of one BigPeer's upgrade.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpgradeLabels {
    /// The BigPeer's namespace.
    pub namespace: String,
    /// The BigPeer's name.
    pub name: String,
    /// The upgrade phase.
    pub phase: String,
}

/// Labels naming one BigPeer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BigPeerLabels {
    /// The BigPeer's namespace.
    pub namespace: String,
    /// The BigPeer's name.
    pub name: String,
}

/// The outcome of a finished upgrade.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `Completed`, `RolledBack` or `Failed`.
    pub outcome: String,
}

/// Build information.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    git_commit: &'static str,
}

/// Upgrade durations by outcome (buckets from 30 s to about 17 h).
pub type UpgradeDurations = Family<OutcomeLabel, Histogram, fn() -> Histogram>;

/// Every metric the operator exports.
pub struct Metrics {
    registry: Registry,
    /// Reconciles by result and error category.
    pub reconciles: Family<ReconcileLabels, Counter>,
    /// How long reconciles take.
    pub reconcile_duration: Histogram,
    /// Reconciles running now.
    pub reconciles_in_flight: Gauge,
    /// BigPeers whose next reconcile is due but has not started.
    pub queue_depth: Gauge,
    /// BigPeers by phase (from the cache at scrape time).
    pub bigpeers_by_phase: Family<PhaseLabel, Gauge>,
    /// BigPeers by condition type and status (from the cache at scrape time).
    pub bigpeers_by_condition: Family<ConditionLabels, Gauge>,
    /// 1 for every BigPeer with an upgrade under way, labelled with its phase.
    pub upgrade_phase: Family<UpgradeLabels, Gauge>,
    /// 1 for every BigPeer whose reconciliation is paused by its annotation.
    pub reconcile_paused: Family<BigPeerLabels, Gauge>,
    /// How long finished upgrades took, by outcome.
    pub upgrade_duration: UpgradeDurations,
    /// API requests by verb, resource and code.
    pub api_requests: Family<RequestLabels, Counter>,
    /// Watches that ended and were started again (errors and re-lists), by kind.
    pub watch_restarts: Family<KindLabel, Counter>,
    /// 1 while this instance holds the leader lease (or leader election is off).
    pub leader: Gauge,
    /// When the webhook's serving certificate expires (Unix seconds).
    pub webhook_cert_expiry: Gauge,
    /// Admission reviews answered, by result.
    pub admission_reviews: Family<PhaseLabel, Counter>,
    /// Due times of scheduled reconciles, by BigPeer; feeds `queue_depth`.
    due: Mutex<BTreeMap<String, std::time::Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every family, registered under the `smbp_operator` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("smbp_operator");
        let reconciles = Family::default();
        registry.register(
            "reconciles",
            "BigPeer reconciles by result and error category",
            reconciles.clone(),
        );
        let reconcile_duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        // The unit is in the name, without a `# UNIT` line, which some OpenMetrics parsers
        // refuse on histograms.
        registry.register(
            "reconcile_duration_seconds",
            "How long one BigPeer reconcile took",
            reconcile_duration.clone(),
        );
        let reconciles_in_flight = Gauge::default();
        registry.register(
            "reconciles_in_flight",
            "BigPeer reconciles running now",
            reconciles_in_flight.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "BigPeers whose scheduled reconcile is due but has not started",
            queue_depth.clone(),
        );
        let bigpeers_by_phase = Family::default();
        registry.register(
            "bigpeers",
            "BigPeers by status.phase",
            bigpeers_by_phase.clone(),
        );
        let bigpeers_by_condition = Family::default();
        registry.register(
            "bigpeer_conditions",
            "BigPeers by condition type and status",
            bigpeers_by_condition.clone(),
        );
        let upgrade_phase = Family::default();
        registry.register(
            "upgrade_phase",
            "1 for each BigPeer with an upgrade under way, labelled with its phase",
            upgrade_phase.clone(),
        );
        let reconcile_paused = Family::default();
        registry.register(
            "reconcile_paused",
            "1 for each BigPeer whose reconciliation is paused by the smbp.dev/reconcile-paused annotation",
            reconcile_paused.clone(),
        );
        let upgrade_duration: UpgradeDurations =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(30.0, 2.0, 12)));
        registry.register(
            "upgrade_duration_seconds",
            "How long finished upgrades took, from start to their outcome",
            upgrade_duration.clone(),
        );
        let api_requests = Family::default();
        registry.register(
            "api_requests",
            "Kubernetes API requests by verb, resource and HTTP code",
            api_requests.clone(),
        );
        let watch_restarts = Family::default();
        registry.register(
            "watch_restarts",
            "Watches that ended with an error or had to list again, by kind",
            watch_restarts.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this instance is the leader (always 1 with leader election off)",
            leader.clone(),
        );
        let admission_reviews = Family::default();
        registry.register(
            "admission_reviews",
            "Admission reviews answered by the webhook, by result (allowed, warned, denied, error)",
            admission_reviews.clone(),
        );
        let webhook_cert_expiry = Gauge::default();
        registry.register(
            "webhook_certificate_expiry_timestamp_seconds",
            "When the admission webhook's serving certificate expires, in Unix seconds",
            webhook_cert_expiry.clone(),
        );
        registry.register(
            "build",
            "The operator's version and commit",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                git_commit: option_env!("SMBP_GIT_COMMIT").unwrap_or("unknown"),
            }),
        );
        Self {
            registry,
            reconciles,
            reconcile_duration,
            reconciles_in_flight,
            queue_depth,
            bigpeers_by_phase,
            bigpeers_by_condition,
            upgrade_phase,
            reconcile_paused,
            upgrade_duration,
            api_requests,
            watch_restarts,
            leader,
            admission_reviews,
            webhook_cert_expiry,
            due: Mutex::new(BTreeMap::new()),
        }
    }

    /// Counts one reconcile and its duration.
    pub fn reconciled(&self, result: Result<(), crate::error::Category>, took: Duration) {
        let labels = match result {
            Ok(()) => ReconcileLabels {
                result: "success",
                error_category: "none",
            },
            Err(category) => ReconcileLabels {
                result: "error",
                error_category: category.as_str(),
            },
        };
        self.reconciles.get_or_create(&labels).inc();
        self.reconcile_duration.observe(took.as_secs_f64());
    }

    /// Records when `key`'s next reconcile is due (`None`: it started, or waits for a change).
    pub fn scheduled(&self, key: &str, due: Option<std::time::Instant>) {
        let mut scheduled = self.due.lock().unwrap_or_else(|e| e.into_inner());
        match due {
            Some(at) => scheduled.insert(key.to_string(), at),
            None => scheduled.remove(key),
        };
    }

    /// Sets the BigPeer gauges from `bigpeers` (the watch cache) and returns the OpenMetrics
    /// text of every family.
    pub fn render<'a>(&self, bigpeers: impl IntoIterator<Item = &'a Value>) -> String {
        self.observe_bigpeers(bigpeers);
        let now = std::time::Instant::now();
        let due = self
            .due
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|at| **at <= now)
            .count();
        self.queue_depth.set(due as i64);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    fn observe_bigpeers<'a>(&self, bigpeers: impl IntoIterator<Item = &'a Value>) {
        self.bigpeers_by_phase.clear();
        self.bigpeers_by_condition.clear();
        self.upgrade_phase.clear();
        self.reconcile_paused.clear();
        for bigpeer in bigpeers {
            let named = || BigPeerLabels {
                namespace: bigpeer["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                name: bigpeer["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            };
            let annotations = &bigpeer["metadata"]["annotations"];
            if annotations[smbp_core::pause::PAUSE_ANNOTATION] == "true" {
                self.reconcile_paused.get_or_create(&named()).set(1);
            }
            let status = &bigpeer["status"];
            let phase = status["phase"].as_str().unwrap_or("Pending").to_string();
            self.bigpeers_by_phase
                .get_or_create(&PhaseLabel { phase })
                .inc();
            for condition in status["conditions"].as_array().into_iter().flatten() {
                let labels = ConditionLabels {
                    condition: condition["type"].as_str().unwrap_or_default().to_string(),
                    status: condition["status"]
                        .as_str()
                        .unwrap_or("Unknown")
                        .to_string(),
                };
                self.bigpeers_by_condition.get_or_create(&labels).inc();
            }
            let upgrade_phase =
                serde_json::from_value::<UpgradePhase>(status["upgrade"]["phase"].clone()).ok();
            if let Some(phase) = upgrade_phase.filter(|p| !p.is_terminal()) {
                let BigPeerLabels { namespace, name } = named();
                let labels = UpgradeLabels {
                    namespace,
                    name,
                    phase: phase.as_str().to_string(),
                };
                self.upgrade_phase.get_or_create(&labels).set(1);
            }
        }
    }
}
