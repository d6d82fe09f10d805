//! What every reconcile shares: the client, the optional-API probe, the Event recorder, the
//! per-object backoff, the clock, the settings and the counters the benchmark and metrics read.

use crate::backoff::Backoff;
use crate::cache::{Caches, Feed};
use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::probe::ApiProbe;
use crate::refusals::Refusals;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::ChildKind;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tunables of the controller.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The namespace to watch; `None` watches all.
    pub namespace: Option<String>,
    /// How often a Ready BigPeer is reconciled again without any change.
    pub resync: Duration,
    /// How soon a BigPeer that is not Ready yet is looked at again (the issuer and the Kafka
    /// cluster are not watched; this is how their progress is noticed).
    pub not_ready_requeue: Duration,
    /// First and longest delay of the per-object backoff after an error.
    pub backoff: (Duration, Duration),
    /// How long the optional-API probe's answer is trusted.
    pub probe_ttl: Duration,
    /// How many BigPeers are reconciled at once.
    pub concurrency: u16,
    /// This instance's name in Events (`reportingInstance`), usually the pod name.
    pub instance: Option<String>,
    /// Where the runbook links of BigPeers' alerts point (a mirror of docs/runbooks.md for
    /// clusters that cannot reach GitHub); unset: the project's docs on GitHub.
    pub runbook_base_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespace: None,
            resync: Duration::from_secs(300),
            not_ready_requeue: Duration::from_secs(10),
            backoff: (Duration::from_secs(1), Duration::from_secs(300)),
            probe_ttl: Duration::from_secs(30),
            concurrency: 16,
            instance: None,
            runbook_base_url: None,
        }
    }
}

/// Counters of the controller's work.
#[derive(Debug, Default)]
pub struct Stats {
    /// Reconciles that finished without error.
    pub reconciles: AtomicU64,
    /// Reconciles that returned an error.
    pub errors: AtomicU64,
    /// Child objects applied (created or changed).
    pub applies: AtomicU64,
    /// Child objects skipped because the live copy already matched.
    pub unchanged: AtomicU64,
    /// Child objects deleted because no longer desired.
    pub pruned: AtomicU64,
    /// Upgrade phase changes and failures reported (each also an Event).
    pub upgrade_transitions: AtomicU64,
}

impl Stats {
    /// Adds one to `counter`.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The shared state of the controller.
pub struct Context {
    /// The Kubernetes client.
    pub client: kube::Client,
    /// Which optional APIs are installed.
    pub apis: ApiProbe,
    /// Publishes Kubernetes Events (deduplicated into series by kube-runtime).
    pub recorder: Recorder,
    /// Per-object retry delays.
    pub backoff: Backoff,
    /// Children the API server refused, held back for their own backoff.
    pub refusals: Refusals,
    /// The last message reported per `namespace/name` and reason, so a standing problem is one
    /// Event, not one per reconcile.
    pub reported: Mutex<HashMap<(String, &'static str), String>>,
    /// Feature-gated fields this cluster's API server drops.
    pub dropped_fields: crate::gates::DroppedFields,
    /// The BigPeers this process has reconciled (`namespace/name`), to tell a first look.
    pub seen: Mutex<HashSet<String>>,
    /// The clock of condition timestamps.
    pub clock: SharedClock,
    /// The settings.
    pub settings: Settings,
    /// Work counters.
    pub stats: Stats,
    /// Children the API server stores differently from how they are applied (it normalizes a
    /// value): keyed by object and applied hash, so the same desired state is not re-applied on
    /// every reconcile just because the comparison cannot see it is already there.
    pub normalized: Mutex<HashSet<(String, String)>>,
    /// Per BigPeer (`namespace/name`), the generation and installed APIs at which all its
    /// children were last listed and pruned; until either changes, reconciles look up only the
    /// desired children.
    pub pruned: Mutex<HashMap<String, String>>,
    /// Watch-fed caches of the children.
    pub caches: Caches,
    /// The streams that fill the caches, until the controller takes them to poll.
    pub feeds: Mutex<Vec<(ChildKind, Feed)>>,
    /// The watch cache of the BigPeers themselves.
    pub bigpeers: Store<DynamicObject>,
    /// Whether the BigPeer watch has its first full list.
    pub bigpeers_listed: Arc<AtomicBool>,
    /// The stream that fills `bigpeers`, until the controller takes it as its main trigger.
    pub bigpeer_feed: Mutex<Option<Feed>>,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// The context of a controller on `client`, with the optional-API probe `apis` (already
    /// asked once at start), caches of the children of `cached` kinds, and `metrics`.
    pub fn new(
        client: kube::Client,
        settings: Settings,
        clock: SharedClock,
        apis: ApiProbe,
        cached: &[ChildKind],
        metrics: Arc<Metrics>,
    ) -> Self {
        let namespace = settings.namespace.as_deref();
        let (caches, feeds) = Caches::new(&client, namespace, cached, &metrics);
        let resource = ApiResource::erase::<BigPeer>(&());
        let api = crate::client::dynamic_api(&client, namespace, &resource);
        let writer = Writer::new(resource.clone());
        let bigpeers = writer.as_reader();
        let bigpeers_listed = Arc::new(AtomicBool::new(false));
        let stream = crate::cache::instrumented(
            watcher(api, watcher::Config::default()),
            &resource.kind,
            &metrics,
            bigpeers_listed.clone(),
        )
        .default_backoff();
        let bigpeer_feed: Feed = Box::pin(reflector::reflector(writer, stream).applied_objects());
        let reporter = Reporter {
            controller: smbp_core::build::MANAGED_BY.into(),
            instance: settings.instance.clone(),
        };
        Self {
            apis,
            recorder: Recorder::new(client.clone(), reporter),
            backoff: Backoff::new(settings.backoff.0, settings.backoff.1),
            refusals: Refusals::new(settings.backoff.0, settings.backoff.1),
            seen: Mutex::new(HashSet::new()),
            dropped_fields: crate::gates::DroppedFields::default(),
            reported: Mutex::new(HashMap::new()),
            client,
            clock,
            settings,
            stats: Stats::default(),
            normalized: Mutex::new(HashSet::new()),
            pruned: Mutex::new(HashMap::new()),
            caches,
            feeds: Mutex::new(feeds),
            bigpeers,
            bigpeer_feed: Mutex::new(Some(bigpeer_feed)),
            bigpeers_listed,
            metrics,
        }
    }

    /// Whether `message` is news for `owner`'s `reason` (it differs from the last one reported),
    /// remembering it.
    pub fn is_news(&self, owner: &str, reason: &'static str, message: &str) -> bool {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        let key = (owner.to_string(), reason);
        if reported.get(&key).is_some_and(|m| m == message) {
            return false;
        }
        reported.insert(key, message.to_string());
        true
    }

    /// Forgets what this process remembers about BigPeer `key` (`namespace/name`) once it is
    /// gone — its first look, the messages reported for it, its prune mark and the feature gates
    /// reported for it — so that creating and deleting BigPeers does not grow the operator's
    /// memory, and a BigPeer re-created under the same name starts afresh. (Refused children and
    /// normalized hashes are kept by child, not by BigPeer, and are not pruned here yet.)
    pub fn forget(&self, key: &str) {
        self.pruned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        reported.retain(|(owner, _), _| owner != key);
        self.dropped_fields.forget(key);
    }

    /// Whether the BigPeer watch and every child cache have their first full list.
    pub fn watches_ready(&self) -> bool {
        self.bigpeers_listed.load(Ordering::Acquire) && self.caches.ready()
    }
}
