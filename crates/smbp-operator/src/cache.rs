//! Watch-fed caches of the operator's children, one per kind (label `managed-by=smbp-operator`),
//! as informers are in Go operators: a reconcile reads its children from memory instead of
//! listing each kind from the API server, and the same watch streams trigger the owners'
//! reconciles. The objects the operator applied itself are also remembered for a few seconds,
//! so a reconcile that runs before the watch delivered them does not apply them again.

use crate::metrics::{KindLabel, Metrics};
use futures::{Stream, StreamExt};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{self, ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use smbp_core::build::{ChildKind, INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an applied object is trusted over a cache that has not caught up with it.
const RECENT_TTL: Duration = Duration::from_secs(5);

/// Identifies a child: kind, namespace, name.
pub type ChildKey = (ChildKind, String, String);

/// The caches, and the operator's own recent writes.
#[derive(Default)]
pub struct Caches {
    stores: BTreeMap<ChildKind, Store<DynamicObject>>,
    listed: Vec<Arc<AtomicBool>>,
    recent: Mutex<HashMap<ChildKey, (Instant, Value)>>,
}

/// A watch stream feeding one cache, to be polled by the controller as a trigger.
pub type Feed = std::pin::Pin<Box<dyn Stream<Item = Result<DynamicObject, watcher::Error>> + Send>>;

impl Caches {
    /// Caches for `kinds`, watched in `namespace` (all when `None`). Returns the caches and, per
    /// kind, the stream that fills its cache; the caller must poll the streams (the controller
    /// does, as owner triggers). Watch restarts are counted in `metrics`.
    pub fn new(
        client: &kube::Client,
        namespace: Option<&str>,
        kinds: &[ChildKind],
        metrics: &Arc<Metrics>,
    ) -> (Self, Vec<(ChildKind, Feed)>) {
        let mut stores = BTreeMap::new();
        let mut feeds = Vec::new();
        let mut listed = Vec::new();
        let config = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
        for kind in kinds {
            let resource: ApiResource = kind.api_resource();
            let api = crate::client::dynamic_api(client, namespace, &resource);
            let writer = Writer::new(resource.clone());
            stores.insert(*kind, writer.as_reader());
            // managedFields are often the largest part of an object and never read here.
            let flag = Arc::new(AtomicBool::new(false));
            listed.push(flag.clone());
            let stream = instrumented(watcher(api, config.clone()), &resource.kind, metrics, flag)
                .default_backoff()
                .modify(|object: &mut DynamicObject| object.metadata.managed_fields = None);
            let feed = reflector::reflector(writer, stream)
                .touched_objects()
                .boxed();
            feeds.push((*kind, feed));
        }
        (
            Self {
                stores,
                listed,
                recent: Mutex::new(HashMap::new()),
            },
            feeds,
        )
    }

    /// Whether `kind` is cached.
    pub fn has(&self, kind: ChildKind) -> bool {
        self.stores.contains_key(&kind)
    }

    /// Whether every cache has its first full list.
    pub fn ready(&self) -> bool {
        self.listed.iter().all(|l| l.load(Ordering::Acquire))
    }

    /// The cached children of kind `kind` of BigPeer `instance` in `namespace`, newest of cache
    /// and recent writes. `None` when the kind is not cached.
    pub fn children(
        &self,
        kind: ChildKind,
        namespace: &str,
        instance: &str,
    ) -> Option<Vec<(String, Value)>> {
        let store = self.stores.get(&kind)?;
        let mut found: BTreeMap<String, Value> = BTreeMap::new();
        for object in store.state() {
            let meta = &object.metadata;
            let mine = meta.namespace.as_deref() == Some(namespace)
                && meta
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(INSTANCE_LABEL))
                    .map(String::as_str)
                    == Some(instance);
            if mine && let Ok(value) = serde_json::to_value(object.as_ref()) {
                found.insert(meta.name.clone().unwrap_or_default(), value);
            }
        }
        let recent = self.fresh_recent();
        for ((k, ns, name), (_, applied)) in recent.iter() {
            let same_instance = applied
                .pointer(&format!(
                    "/metadata/labels/{}",
                    INSTANCE_LABEL.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                == Some(instance);
            if *k == kind && ns == namespace && same_instance {
                let cached = found.remove(name);
                if let Some(newest) = newest(cached, Some(applied)) {
                    found.insert(name.clone(), newest);
                }
            }
        }
        Some(found.into_iter().collect())
    }

    /// One cached child by name, newest of cache and recent writes: `None` when the kind is not
    /// cached, `Some(None)` when the child does not exist.
    pub fn get(&self, kind: ChildKind, namespace: &str, name: &str) -> Option<Option<Value>> {
        let store = self.stores.get(&kind)?;
        let reference =
            ObjectRef::<DynamicObject>::new_with(name, kind.api_resource()).within(namespace);
        let cached = store
            .get(&reference)
            .and_then(|o| serde_json::to_value(o.as_ref()).ok());
        let recent = self.fresh_recent();
        let applied = recent
            .get(&(kind, namespace.to_string(), name.to_string()))
            .map(|(_, v)| v);
        Some(newest(cached, applied))
    }

    /// The recent writes, without those older than [`RECENT_TTL`].
    fn fresh_recent(&self) -> std::sync::MutexGuard<'_, HashMap<ChildKey, (Instant, Value)>> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|_, (at, _)| at.elapsed() < RECENT_TTL);
        recent
    }

    /// Remembers an object the operator just applied.
    pub fn applied(&self, key: ChildKey, object: Value) {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), object));
    }

    /// Forgets a child the operator just deleted.
    pub fn deleted(&self, key: &ChildKey) {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// `stream` with every restart counted in `metrics` under `kind` (an error, after which the
/// watcher starts again, or a list after the first, when the watch could not resume), and
/// `listed` set once the first full list is in.
///
/// Readiness is tracked here rather than with `Store::wait_until_ready`: that future keeps only
/// the last waiter's waker, and the controller itself waits on the same store, so a second
/// waiter is never woken.
pub fn instrumented<K, S>(
    stream: S,
    kind: &str,
    metrics: &Arc<Metrics>,
    listed: Arc<AtomicBool>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + use<K, S>
where
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send,
{
    let restarts = metrics.watch_restarts.get_or_create_owned(&KindLabel {
        kind: kind.to_string(),
    });
    let mut started = false;
    stream.inspect(move |event| match event {
        Ok(watcher::Event::Init) if started => {
            restarts.inc();
        }
        Ok(watcher::Event::Init) => started = true,
        Ok(watcher::Event::InitDone) => listed.store(true, Ordering::Release),
        Err(_) => {
            restarts.inc();
        }
        Ok(_) => {}
    })
}

/// The newer of a cached object and one the operator applied (by resourceVersion; the applied
/// one when the cache has none).
fn newest(cached: Option<Value>, applied: Option<&Value>) -> Option<Value> {
    match (cached, applied) {
        (Some(cached), Some(applied)) if version(applied) <= version(&cached) => Some(cached),
        (_, Some(applied)) => Some(applied.clone()),
        (cached, None) => cached,
    }
}

/// An object's resourceVersion as a number (Kubernetes' are decimal; others sort first).
fn version(object: &Value) -> u64 {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
