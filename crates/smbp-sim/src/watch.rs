//! Watches: one JSON event per line over a chunked response. Starts from a resourceVersion
//! (replaying retained history; 410 as an ERROR event when it is too old), or with synthetic ADDED
//! events of the current state (`resourceVersion` 0/absent, or `sendInitialEvents`). Objects moving
//! out of the selector arrive as DELETED; BOOKMARKs when asked; ends at `timeoutSeconds` or when a
//! test drops every watch.

use crate::error::ApiError;
use crate::read::selectors;
use crate::request::{ApiRequest, meta_str, served};
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::Sim;
use crate::store::{Change, EventType};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// The default and longest watch, when the client gives no `timeoutSeconds`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often a watch that asked for bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);

/// What a watch filters on.
struct Filter {
    resource: String,
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta_str(object, "namespace") == Some(ns))
            && self
                .name
                .as_deref()
                .is_none_or(|n| meta_str(object, "name") == Some(n))
            && self.labels.matches(object)
            && self.fields.matches(object)
    }

    /// The event a change produces for this watch, if any.
    fn event(&self, change: &Change) -> Option<EventType> {
        if change.resource != self.resource {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.previous.as_deref().is_some_and(|p| self.matches(p));
        match change.event {
            EventType::Deleted => now.then_some(EventType::Deleted),
            EventType::Added => now.then_some(EventType::Added),
            EventType::Modified => match (before, now) {
                (true, true) => Some(EventType::Modified),
                (false, true) => Some(EventType::Added),
                (true, false) => Some(EventType::Deleted),
                (false, false) => None,
            },
        }
    }
}

fn line(event: &str, object: Value) -> Bytes {
    let mut text = json!({"type": event, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": metadata})
}

/// Starts a watch; the receiver yields the stream's lines until it ends.
pub fn watch(sim: &Arc<Sim>, req: &ApiRequest) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let rt = req.rt.clone();
    let (labels, fields) = selectors(req)?;
    let send_initial = req.flag("sendInitialEvents");
    if send_initial && req.param("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(ApiError::invalid_options(
            "ListOptions",
            &[crate::error::Cause::new(
                "FieldValueForbidden",
                "resourceVersionMatch",
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )],
        ));
    }
    let filter = Filter {
        resource: rt.storage_key(),
        namespace: req.namespace.clone().filter(|_| rt.namespaced),
        name: req.name.clone(),
        labels,
        fields,
    };
    let bookmarks = req.flag("allowWatchBookmarks");
    let timeout = req
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
        .min(DEFAULT_TIMEOUT);
    let from = req.param("resourceVersion").unwrap_or("");
    let (tx, rx) = mpsc::channel(1024);
    let mut initial: Vec<Bytes> = Vec::new();
    let (mut last_rv, receiver) = {
        let store = sim.store();
        let current = store.resource_version();
        match from.parse::<u64>() {
            Ok(rv) if rv > 0 && !send_initial => match store.changes_since(rv.min(current)) {
                Some((replay, receiver)) => {
                    for change in replay {
                        if let Some(event) = filter.event(&change) {
                            initial.push(line(event.as_str(), served(&rt, &change.object)));
                        }
                    }
                    (current.max(rv), receiver)
                }
                None => {
                    let status = ApiError::expired(&format!(
                        "too old resource version: {rv} ({})",
                        store.oldest_servable()
                    ));
                    let _ = tx.try_send(line("ERROR", status.body));
                    return Ok(rx);
                }
            },
            _ => {
                let namespace = filter.namespace.as_deref();
                for object in store.list(&filter.resource, namespace) {
                    if filter.matches(&object) {
                        initial.push(line("ADDED", served(&rt, &object)));
                    }
                }
                if send_initial && bookmarks {
                    initial.push(line("BOOKMARK", bookmark(&rt, current, true)));
                }
                (current, store.subscribe())
            }
        }
    };
    let mut dropped = sim.faults.drop_watches.subscribe();
    tokio::spawn(async move {
        for event in initial {
            if tx.send(event).await.is_err() {
                return;
            }
        }
        let deadline = Instant::now() + timeout;
        let mut receiver: broadcast::Receiver<Arc<Change>> = receiver;
        let mut next_bookmark = Instant::now() + BOOKMARK_EVERY;
        // The last bookmark comes shortly before the deadline, as kube-apiserver sends it.
        let final_bookmark = deadline.checked_sub(Duration::from_millis(1500));
        loop {
            let wake = if bookmarks {
                final_bookmark
                    .filter(|f| *f > Instant::now())
                    .map_or(next_bookmark, |f| f.min(next_bookmark))
                    .min(deadline)
            } else {
                deadline
            };
            tokio::select! {
                change = receiver.recv() => match change {
                    Ok(change) => {
                        if change.rv <= last_rv {
                            continue;
                        }
                        last_rv = change.rv;
                        if let Some(event) = filter.event(&change)
                            && tx.send(line(event.as_str(), served(&rt, &change.object))).await.is_err()
                        {
                            return;
                        }
                    }
                    // Lagging behind the broadcast: end the stream; the client re-watches.
                    Err(_) => return,
                },
                _ = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= deadline {
                        return;
                    }
                    if bookmarks {
                        // Every change reaches this loop in order, so last_rv is a safe point.
                        if tx.send(line("BOOKMARK", bookmark(&rt, last_rv, false))).await.is_err() {
                            return;
                        }
                        next_bookmark = Instant::now() + BOOKMARK_EVERY;
                    }
                }
                _ = dropped.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(rx)
}
