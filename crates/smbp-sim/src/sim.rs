//! The shared state of one simulated cluster: the store, the registry of served resources (built-in
//! plus CRDs), fault switches, request accounting, and the wake-up of the garbage collector.

use crate::clock::Clock;
use crate::faults::Faults;
use crate::resources::{ResourceType, builtins, from_crd};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock};
use tokio::sync::Notify;

/// The served resources, by (group, version, plural).
#[derive(Debug, Default)]
pub struct Registry {
    types: Vec<ResourceType>,
    /// CRD name → the resource types it serves.
    from_crds: HashMap<String, Vec<(String, String, String)>>,
}

impl Registry {
    /// The built-in resources.
    pub fn with_builtins() -> Self {
        Registry {
            types: builtins(),
            from_crds: HashMap::new(),
        }
    }

    /// The type a URL names.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    /// Whether any resource is served under this group/version.
    pub fn serves(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// Every served type.
    pub fn all(&self) -> &[ResourceType] {
        &self.types
    }

    /// Serves (or re-serves) what a CRD object declares; Err names the problem.
    pub fn register_crd(&mut self, crd: &serde_json::Value) -> Result<(), String> {
        let name = crd
            .pointer("/metadata/name")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_string();
        let served = from_crd(crd)?;
        self.unregister_crd(&name);
        let keys = served
            .iter()
            .map(|t| (t.group.clone(), t.version.clone(), t.plural.clone()))
            .collect();
        self.types.extend(served);
        self.from_crds.insert(name, keys);
        Ok(())
    }

    /// Stops serving what a CRD declared.
    pub fn unregister_crd(&mut self, name: &str) {
        if let Some(keys) = self.from_crds.remove(name) {
            self.types.retain(|t| {
                !keys
                    .iter()
                    .any(|(g, v, p)| &t.group == g && &t.version == v && &t.plural == p)
            });
        }
    }
}

/// One simulated cluster's state.
pub struct Sim {
    store: Mutex<Store>,
    registry: RwLock<Registry>,
    /// Fault-injection switches.
    pub faults: Faults,
    /// Requests served, by verb, resource and user agent.
    pub accounting: crate::accounting::Accounting,
    /// The bearer tokens the server accepts.
    pub tokens: crate::auth::tokens::Tokens,
    /// Wakes the garbage collector after deletions.
    pub gc_wake: Notify,
    /// The simulated clock every timestamp and controller delay reads.
    pub clock: Clock,
    /// The switches tests turn to steer the simulated controllers.
    pub controls: crate::controllers::Controls,
    /// Whether the simulated kubelet runs; without it the garbage collector removes pods once
    /// their grace period is over.
    pub kubelet_running: std::sync::atomic::AtomicBool,
    /// The feature gates of the simulated control plane.
    pub gates: crate::features::FeatureGates,
    /// The container logs the simulated kubelets keep.
    pub logs: crate::logs::LogBuffers,
}

impl Sim {
    /// A cluster with only built-in resources, retaining `history` changes for watches, its clock running
    /// `time_scale` times faster than real time.
    pub fn new(history: usize, time_scale: f64) -> Self {
        Sim {
            store: Mutex::new(Store::new(history)),
            registry: RwLock::new(Registry::with_builtins()),
            faults: Faults::default(),
            accounting: Default::default(),
            tokens: Default::default(),
            gc_wake: Notify::new(),
            clock: Clock::new(time_scale),
            controls: Default::default(),
            kubelet_running: Default::default(),
            gates: Default::default(),
            logs: Default::default(),
        }
    }

    /// The store, locked. Never held across an await.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The registry, for reading.
    pub fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The registry, for changing.
    pub fn registry_mut(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }
}
