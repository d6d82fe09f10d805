//! The object store: every object by resource, namespace and name, one global resourceVersion
//! counter, and the retained history of changes that watches replay from (older resourceVersions
//! answer 410 Gone). Objects are kept as JSON; a write is atomic under one lock.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Deleted; the object is its last state at the deletion's resourceVersion.
    Deleted,
}

impl EventType {
    /// The watch event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Clone, Debug)]
pub struct Change {
    /// The resourceVersion the change produced.
    pub rv: u64,
    /// The resource's storage key (`group/plural`).
    pub resource: String,
    /// Created, modified or deleted.
    pub event: EventType,
    /// The object after the change (before, for deletions, with the new resourceVersion).
    pub object: Arc<Value>,
    /// The object before the change, so a watch can tell a selector match that ended.
    pub previous: Option<Arc<Value>>,
}

/// The retained changes after a resourceVersion, and a receiver for the ones to come.
pub type Replay = (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>);

/// (namespace, name); the namespace is empty for cluster-scoped objects.
pub type ObjectKey = (String, String);

/// The state behind the lock.
pub struct Store {
    rv: u64,
    objects: HashMap<String, BTreeMap<ObjectKey, Arc<Value>>>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Watches from a resourceVersion below this cannot be served (410).
    oldest_servable: u64,
    sender: broadcast::Sender<Arc<Change>>,
}

impl Store {
    /// An empty store retaining `history_limit` changes.
    pub fn new(history_limit: usize) -> Self {
        let (sender, _) = broadcast::channel(65_536);
        Store {
            rv: 1,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_limit,
            oldest_servable: 1,
            sender,
        }
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// The oldest resourceVersion a watch may start from.
    pub fn oldest_servable(&self) -> u64 {
        self.oldest_servable
    }

    /// Forgets all history: any watch from an older resourceVersion now gets 410.
    pub fn expire_history(&mut self) {
        self.history.clear();
        self.oldest_servable = self.rv;
    }

    /// One object.
    pub fn get(&self, resource: &str, key: &ObjectKey) -> Option<Arc<Value>> {
        self.objects.get(resource)?.get(key).cloned()
    }

    /// Every object of a resource, optionally in one namespace, ordered by namespace and name.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(objects) = self.objects.get(resource) else {
            return Vec::new();
        };
        match namespace {
            Some(ns) => objects
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => objects.values().cloned().collect(),
        }
    }

    /// Every resource key that holds objects.
    pub fn resources(&self) -> Vec<String> {
        self.objects.keys().cloned().collect()
    }

    /// Stores a change: assigns the next resourceVersion, records history, notifies watches.
    pub fn commit(
        &mut self,
        resource: &str,
        key: ObjectKey,
        event: EventType,
        mut object: Value,
    ) -> Arc<Value> {
        self.rv += 1;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        }
        let object = Arc::new(object);
        let objects = self.objects.entry(resource.to_string()).or_default();
        let previous = match event {
            EventType::Deleted => objects.remove(&key),
            _ => objects.insert(key, object.clone()),
        };
        let change = Arc::new(Change {
            rv: self.rv,
            resource: resource.to_string(),
            event,
            object: object.clone(),
            previous,
        });
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.oldest_servable = dropped.rv;
            }
        }
        let _ = self.sender.send(change);
        object
    }

    /// The retained changes after `rv`, and a receiver for the ones to come (taken under the same
    /// lock, so nothing falls between them). None when `rv` is older than the history.
    pub fn changes_since(&self, rv: u64) -> Option<Replay> {
        if rv < self.oldest_servable {
            return None;
        }
        let replay = self.history.iter().filter(|c| c.rv > rv).cloned().collect();
        Some((replay, self.sender.subscribe()))
    }

    /// A receiver for changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn history_bounds_the_servable_resource_versions() {
        let mut store = Store::new(2);
        for i in 0..4 {
            store.commit(
                "/configmaps",
                ("ns".into(), format!("c{i}")),
                EventType::Added,
                json!({"metadata": {}}),
            );
        }
        assert_eq!(store.resource_version(), 5);
        assert!(store.changes_since(2).is_none());
        let (replay, _) = store.changes_since(3).unwrap();
        assert_eq!(replay.iter().map(|c| c.rv).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(store.list("/configmaps", Some("ns")).len(), 4);
        store.expire_history();
        assert!(store.changes_since(4).is_none());
    }
}
