//! Kubernetes Events about a BigPeer: every significant step (a child created, changed or
//! removed, a condition changing) and every problem, with reasons a person can search for.
//! kube-runtime's recorder folds repeats into one Event with a count.

use crate::context::Context;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType};

/// A reference to the BigPeer `namespace/name` for Events.
pub fn reference(namespace: &str, name: &str, uid: Option<&str>) -> ObjectReference {
    ObjectReference {
        api_version: Some(format!(
            "{}/{}",
            smbp_api::GROUP,
            smbp_api::v1alpha1::VERSION
        )),
        kind: Some("BigPeer".into()),
        namespace: Some(namespace.into()),
        name: Some(name.into()),
        uid: uid.map(str::to_string),
        ..ObjectReference::default()
    }
}

/// Publishes an Event; a failure to publish is logged, never fails the reconcile.
pub async fn publish(
    ctx: &Context,
    regarding: &ObjectReference,
    warning: bool,
    reason: &str,
    action: &str,
    note: String,
) {
    let event = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.into(),
        note: Some(truncate(note, 1024)),
        action: action.into(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, regarding).await {
        tracing::warn!(%error, reason, "could not publish an Event");
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max - 3;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}
