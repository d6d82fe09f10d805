//! Paused reconciliation (see `smbp_core::pause`): before anything else, a reconcile checks the
//! annotation `smbp.dev/reconcile-paused`. While it is `"true"`, the reconcile writes nothing but
//! the `ReconcilePaused` condition — once, when the pause is first seen, under its own field
//! manager so the rest of the status stays as the status manager wrote it — and one Event. When
//! the annotation goes, the condition is removed (the same manager applies a status without it)
//! and the reconcile carries on from what it observes. The watches are not touched, so a paused
//! BigPeer is still seen and resumes at once.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::events;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use smbp_api::v1alpha1::BigPeer;
use smbp_core::pause::{PAUSE_ANNOTATION, PAUSED_CONDITION, PAUSED_REASON, paused};

/// The field manager of the `ReconcilePaused` condition.
pub const PAUSE_MANAGER: &str = "smbp-operator-pause";

/// What the reconcile does about the pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Paused: stop here, writing nothing more.
    Paused,
    /// Not paused; `resumed` when a pause was just lifted (its condition removed).
    Run {
        /// Whether the `ReconcilePaused` condition was removed by this reconcile.
        resumed: bool,
    },
}

/// Checks the annotation and shows or removes the condition as needed. An annotation value other
/// than `"true"` or `"false"` does not pause: validation reports it (`InvalidSpec`), and the
/// admission webhook refuses it in the first place.
pub async fn gate(
    ctx: &Context,
    api: &Api<DynamicObject>,
    object: &DynamicObject,
    reference: &ObjectReference,
) -> Result<Gate> {
    let wanted = paused(object.metadata.annotations.as_ref()).unwrap_or(false);
    let shown = shown(object);
    let name = object.metadata.name.clone().unwrap_or_default();
    match (wanted, shown) {
        (true, true) => Ok(Gate::Paused),
        (true, false) => {
            let now = ctx.clock.now();
            let message = format!(
                "reconciliation paused at {now} by the annotation {PAUSE_ANNOTATION}: \"true\": \
                 the operator writes nothing for this BigPeer (children, upgrade steps, status) \
                 until the annotation is removed"
            );
            let condition = json!({
                "type": PAUSED_CONDITION, "status": "True", "reason": PAUSED_REASON,
                "message": message, "observedGeneration": object.metadata.generation,
                "lastTransitionTime": Time(now),
            });
            apply(api, &name, json!({"conditions": [condition]})).await?;
            tracing::info!("reconciliation paused by annotation");
            events::publish(ctx, reference, false, PAUSED_CONDITION, "Pause", message).await;
            Ok(Gate::Paused)
        }
        (false, true) => {
            apply(api, &name, json!({})).await?;
            tracing::info!("reconciliation resumed");
            let note = format!(
                "reconciliation resumed: the annotation {PAUSE_ANNOTATION} is no longer \"true\""
            );
            events::publish(ctx, reference, false, "ReconcileResumed", "Pause", note).await;
            Ok(Gate::Run { resumed: true })
        }
        (false, false) => Ok(Gate::Run { resumed: false }),
    }
}

/// Removes the `ReconcilePaused` condition from a status as read (after [`gate`] removed it from
/// the stored one), so the status stage compares with what is stored now.
pub fn forget(bigpeer: &mut BigPeer) {
    if let Some(status) = bigpeer.status.as_mut() {
        status.conditions.retain(|c| c.type_ != PAUSED_CONDITION);
    }
}

/// Whether the stored status shows the pause.
fn shown(object: &DynamicObject) -> bool {
    object.data["status"]["conditions"]
        .as_array()
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == PAUSED_CONDITION && c["status"] == "True")
        })
}

/// Server-side-applies `status` under the pause manager: what it applied before and no longer
/// applies is removed.
async fn apply(api: &Api<DynamicObject>, name: &str, status: Value) -> Result<()> {
    let body = json!({
        "apiVersion": format!("{}/{}", smbp_api::GROUP, smbp_api::v1alpha1::VERSION),
        "kind": "BigPeer",
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(PAUSE_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|e| {
        Error::kube(
            format!("write the ReconcilePaused condition of BigPeer {name}"),
            e,
        )
    })?;
    Ok(())
}
