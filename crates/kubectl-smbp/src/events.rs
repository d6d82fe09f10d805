//! Events of a namespace from both APIs that serve them: `v1` Events and `events.k8s.io/v1`
//! Events (what kube-runtime's recorder, and so the operator, writes). kube-apiserver serves one
//! store through both, so the same Event (same uid) is kept once; a cluster that keeps them apart
//! still shows every Event.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use serde_json::Value;
use std::collections::BTreeSet;

/// One Event, whichever API served it.
#[derive(Debug, Clone)]
pub struct EventInfo {
    /// `Normal` or `Warning`.
    pub type_: String,
    /// Reason.
    pub reason: String,
    /// The kind of the object it is about.
    pub kind: String,
    /// The name of the object it is about.
    pub object: String,
    /// How many times it happened.
    pub count: i32,
    /// Message.
    pub message: String,
    /// When it was last seen.
    pub last_seen: Option<Timestamp>,
    /// The object as served.
    pub raw: Value,
}

/// Every Event of `namespace`.
pub async fn list(client: &kube::Client, namespace: &str) -> kube::Result<Vec<EventInfo>> {
    let core = Api::<CoreEvent>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await?;
    let mut seen = BTreeSet::new();
    let mut events: Vec<EventInfo> = Vec::new();
    for e in core.items {
        seen.insert(e.metadata.uid.clone().unwrap_or_default());
        events.push(EventInfo {
            type_: e.type_.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
            kind: e.involved_object.kind.clone().unwrap_or_default(),
            object: e.involved_object.name.clone().unwrap_or_default(),
            count: e.count.unwrap_or(1),
            message: e.message.clone().unwrap_or_default(),
            last_seen: e
                .last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| e.event_time.as_ref().map(|t| t.0))
                .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0)),
            raw: serde_json::to_value(&e).unwrap_or_default(),
        });
    }
    let modern = match Api::<Event>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await
    {
        Ok(list) => list.items,
        Err(kube::Error::Api(s)) if s.code == 404 => Vec::new(),
        Err(e) => return Err(e),
    };
    for e in modern {
        if !seen.insert(e.metadata.uid.clone().unwrap_or_default()) {
            continue;
        }
        let regarding = e.regarding.clone().unwrap_or_default();
        events.push(EventInfo {
            type_: e.type_.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
            kind: regarding.kind.unwrap_or_default(),
            object: regarding.name.unwrap_or_default(),
            count: e
                .series
                .as_ref()
                .map(|s| s.count)
                .or(e.deprecated_count)
                .unwrap_or(1),
            message: e.note.clone().unwrap_or_default(),
            last_seen: e
                .series
                .as_ref()
                .map(|s| s.last_observed_time.0)
                .or_else(|| e.deprecated_last_timestamp.as_ref().map(|t| t.0))
                .or_else(|| e.event_time.as_ref().map(|t| t.0))
                .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0)),
            raw: serde_json::to_value(&e).unwrap_or_default(),
        });
    }
    Ok(events)
}
