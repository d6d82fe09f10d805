//! The upgrade stage's I/O around the pure state machine (`smbp_core::upgrade`): it observes what
//! an upgrade depends on — the store and sync pods, the migration Jobs, the sync Deployment's
//! progress, the certificate's expiry and the disruption budget — and carries out what the
//! machine decides beyond the children it builds: deleting broken pods on a rollback, removing
//! the retry annotation, and publishing the Events. Only BigPeers with an upgrade to run or
//! under way pay for the extra reads.

use crate::context::{Context, Stats};
use crate::error::{Error, Result, is_not_found};
use crate::events;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use smbp_api::v1alpha1::{BigPeer, UpgradeStatus};
use smbp_core::build::{Names, OptionalApi};
use smbp_core::upgrade::{Decision, RETRY_ANNOTATION, World, observe};
use std::collections::BTreeSet;

/// Whether the machine needs to see the world: a version to move to, or an upgrade under way.
pub fn needs_world(bigpeer: &BigPeer) -> bool {
    let status = bigpeer.status.as_ref();
    let current = status
        .and_then(|s| s.version.as_ref())
        .and_then(|v| v.current.as_deref());
    let active = status
        .and_then(|s| s.upgrade.as_ref())
        .and_then(|u| u.phase)
        .is_some_and(|p| !p.is_terminal());
    current.is_some_and(|c| c != bigpeer.spec.version) || active
}

/// Reads the world of `bigpeer`'s upgrade (the objects; `smbp_core::upgrade::observe` reads them).
pub async fn observe(
    ctx: &Context,
    bigpeer: &BigPeer,
    installed: &BTreeSet<OptionalApi>,
) -> Result<World> {
    let ns = bigpeer.metadata.namespace.clone().unwrap_or_default();
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let names = Names::new(&name);
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let pods = pods
        .list(&ListParams::default().labels(&observe::pod_selector(&name)))
        .await
        .map_err(|e| Error::kube(format!("list the pods of BigPeer {ns}/{name}"), e))?;
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    let jobs = jobs
        .list(&ListParams::default().labels(&observe::migration_selector(&name)))
        .await
        .map_err(|e| Error::kube(format!("list the migration Jobs of BigPeer {ns}/{name}"), e))?;
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ns);
    let deployment = deployments
        .get_opt(&names.sync())
        .await
        .map_err(|e| Error::kube(format!("read Deployment {ns}/{}", names.sync()), e))?;
    let budgets: Api<PodDisruptionBudget> = Api::namespaced(ctx.client.clone(), &ns);
    let budget = budgets.get_opt(&names.store()).await.map_err(|e| {
        Error::kube(
            format!("read PodDisruptionBudget {ns}/{}", names.store()),
            e,
        )
    })?;
    let managed_certificate = bigpeer
        .spec
        .tls
        .as_ref()
        .is_some_and(|t| t.cert_manager.is_some());
    let mut certificate = None;
    if managed_certificate && installed.contains(&OptionalApi::CertManager) {
        let api = crate::apply::dynamic_api(ctx, smbp_core::build::ChildKind::Certificate, &ns);
        match api.get_opt(&names.certificate()).await {
            Ok(found) => certificate = found.map(|c| c.data),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::kube("read the Certificate", e)),
        }
    }
    let observed = observe::Observed {
        pods: &pods.items,
        jobs: &jobs.items,
        sync: deployment.as_ref(),
        store_budget: budget.as_ref(),
        certificate: certificate.as_ref(),
    };
    Ok(observe::world(bigpeer, &observed, ctx.clock.now()))
}

/// Carries out what the decision asks beyond building children, and publishes its Events.
pub async fn act(
    ctx: &Context,
    bigpeer: &BigPeer,
    decision: &Decision,
    reference: &ObjectReference,
) -> Result<()> {
    let ns = bigpeer.metadata.namespace.clone().unwrap_or_default();
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    for pod in &decision.delete_pods {
        match pods.delete(pod, &DeleteParams::default()).await {
            Ok(_) => tracing::info!(pod, "deleted a pod that is not Ready, to roll it back"),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::kube(format!("delete pod {ns}/{pod}"), e)),
        }
    }
    if decision.consume_retry {
        let api: Api<BigPeer> = Api::namespaced(ctx.client.clone(), &ns);
        let patch = json!({"metadata": {"annotations": {RETRY_ANNOTATION: null}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| Error::kube(format!("remove {RETRY_ANNOTATION} from {ns}/{name}"), e))?;
    }
    record_finished(ctx, bigpeer, decision);
    announce_resumed(ctx, bigpeer, reference).await;
    for event in &decision.events {
        Stats::count(&ctx.stats.upgrade_transitions);
        events::publish(
            ctx,
            reference,
            event.warning,
            event.reason,
            "Upgrade",
            event.message.clone(),
        )
        .await;
    }
    Ok(())
}

/// `UpgradeResumed` on this process's first look at a BigPeer whose stored upgrade is under way:
/// an operator restart (or a new leader) picks the upgrade up where the status says it was.
async fn announce_resumed(ctx: &Context, bigpeer: &BigPeer, reference: &ObjectReference) {
    let key = format!(
        "{}/{}",
        bigpeer.metadata.namespace.as_deref().unwrap_or_default(),
        bigpeer.metadata.name.as_deref().unwrap_or_default()
    );
    let first_look = ctx
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key);
    let stored = bigpeer.status.as_ref().and_then(|s| s.upgrade.as_ref());
    let Some((phase, upgrade)) = stored.and_then(|u| Some((u.phase?, u))) else {
        return;
    };
    if !first_look || phase.is_terminal() {
        return;
    }
    let note = format!(
        "resuming the upgrade from {} to {} at {} after an operator restart",
        upgrade.from.as_deref().unwrap_or("?"),
        upgrade.to.as_deref().unwrap_or("?"),
        phase.as_str()
    );
    events::publish(ctx, reference, false, "UpgradeResumed", "Upgrade", note).await;
}

/// Observes the duration of an upgrade this decision finished (a new entry in its history).
fn record_finished(ctx: &Context, bigpeer: &BigPeer, decision: &Decision) {
    let finished = |status: Option<&UpgradeStatus>| status.map_or(0, |s| s.finished_upgrades);
    let stored = bigpeer.status.as_ref().and_then(|s| s.upgrade.as_ref());
    let Some(now) = decision.status.as_ref() else {
        return;
    };
    if finished(Some(now)) <= finished(stored) {
        return;
    }
    let Some(record) = now.history.last() else {
        return;
    };
    if let (Some(start), Some(end)) = (&record.started_at, &record.finished_at) {
        let took = end.0.duration_since(start.0).as_secs_f64().max(0.0);
        let outcome = crate::metrics::OutcomeLabel {
            outcome: record.outcome.as_str().to_string(),
        };
        ctx.metrics
            .upgrade_duration
            .get_or_create(&outcome)
            .observe(took);
    }
}
