//! How every simulated controller runs: level-triggered, like kube-controller-manager. Store
//! changes mark keys dirty (a controller says which keys a change concerns); dirty keys are
//! reconciled one at a time in sorted order, so a run is deterministic given the same inputs; a
//! reconcile may ask to be called again after a simulated delay. A lagging change feed (more
//! changes than the channel holds) makes every key dirty again, so nothing is missed.

use crate::sim::Sim;
use crate::store::Change;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::TryRecvError;

/// What a controller reconciles: a resource's storage key, a namespace and a name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The store's resource key (`group/plural`).
    pub resource: String,
    /// Namespace ("" when cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Key {
    /// The key of a stored object of `resource`.
    pub fn of(resource: &str, object: &serde_json::Value) -> Self {
        let (namespace, name) = crate::request::key_of(object);
        Key {
            resource: resource.to_string(),
            namespace,
            name,
        }
    }
}

/// When to look at a key again, in simulated time.
pub type Requeue = Option<Duration>;

/// A simulated controller.
pub trait Controller: Send + 'static {
    /// The keys a change concerns.
    fn keys_for(&self, change: &Change) -> Vec<Key>;
    /// Every key, for the first pass and after a lagging change feed.
    fn all_keys(&self) -> Vec<Key>;
    /// Brings one key towards its desired state; may ask to be called again.
    fn reconcile(&mut self, key: &Key) -> impl Future<Output = Requeue> + Send;
}

/// Runs a controller until the task is aborted.
pub async fn run<C: Controller>(sim: Arc<Sim>, mut controller: C) {
    let mut changes = sim.store().subscribe();
    let mut dirty: BTreeSet<Key> = controller.all_keys().into_iter().collect();
    let mut timers: BinaryHeap<Reverse<(Instant, Key)>> = BinaryHeap::new();
    loop {
        loop {
            match changes.try_recv() {
                Ok(change) => dirty.extend(controller.keys_for(&change)),
                Err(TryRecvError::Lagged(_)) => dirty.extend(controller.all_keys()),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        let now = Instant::now();
        while let Some(Reverse((due, _))) = timers.peek() {
            if *due > now {
                break;
            }
            if let Some(Reverse((_, key))) = timers.pop() {
                dirty.insert(key);
            }
        }
        if let Some(key) = dirty.pop_first() {
            if let Some(after) = controller.reconcile(&key).await {
                timers.push(Reverse((sim.clock.deadline(after), key)));
            }
            // Let the API server and the other controllers run between keys.
            tokio::task::yield_now().await;
            continue;
        }
        let next_timer = timers.peek().map(|Reverse((due, _))| *due);
        tokio::select! {
            change = changes.recv() => match change {
                Ok(change) => dirty.extend(controller.keys_for(&change)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    dirty.extend(controller.all_keys());
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = sleep_until(next_timer) => {}
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
