//! One reconcile of one BigPeer, stage by stage: pause check → decode → finalizer → validate →
//! dereference → build → apply and prune → status. Every write is skipped when it would change
//! nothing, so a BigPeer whose children and status are as desired costs reads only; a paused one
//! (`smbp.dev/reconcile-paused: "true"`) stops at the first stage and writes nothing.

use crate::apply::{self, ChildKey, Outcome};
use crate::context::{Context, Stats};
use crate::dereference;
use crate::diagnose;
use crate::error::{Error, Result};
use crate::events;
use crate::finalizer;
use crate::pause;
use crate::status::{self, Inputs, STATUS_MANAGER};
use crate::tls_hold;
use crate::upgrade;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use semver::Version;
use serde_json::{Value, json};
use smbp_api::v1alpha1::{BigPeer, BigPeerStatus};
use smbp_core::build::{self as builder, ChildKind, ValidatedBigPeer};
use smbp_core::upgrade::{self as upgrade_plan, World};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Reconciles one BigPeer (watched as a dynamic object, so one that does not decode is reported
/// on instead of stopping the watch).
pub async fn reconcile(object: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action> {
    if !ctx.caches.ready() {
        // Right after a start the BigPeers arrive before the children's first lists: a reconcile
        // now would see no children and apply every one again (false `ChildrenCreated` Events
        // and writes for BigPeers that are as desired). Wait for the caches; nothing is written.
        return Ok(Action::requeue(CACHES_FILLING_RETRY));
    }
    let key = object_key(&object);
    let span = tracing::info_span!("reconcile", bigpeer = %key);
    let metrics = &ctx.metrics;
    metrics.scheduled(&key, None);
    metrics.reconciles_in_flight.inc();
    let started = std::time::Instant::now();
    let result = reconcile_object(&object, &ctx)
        .instrument(span.clone())
        .await;
    metrics.reconciles_in_flight.dec();
    let outcome = result.as_ref().map(|_| ()).map_err(Error::category);
    let took = started.elapsed();
    metrics.reconciled(outcome, took);
    span.in_scope(|| match &result {
        Ok(next) => tracing::debug!(
            took_ms = took.as_millis() as u64,
            requeue_s = next.map(|d| d.as_secs()),
            "reconciled"
        ),
        Err(error) => {
            tracing::debug!(took_ms = took.as_millis() as u64, %error, "reconcile failed")
        }
    });
    match result {
        Ok(next) => {
            ctx.backoff.succeeded(&key);
            Stats::count(&ctx.stats.reconciles);
            metrics.scheduled(&key, next.map(|after| std::time::Instant::now() + after));
            Ok(next.map_or_else(Action::await_change, Action::requeue))
        }
        Err(error) => {
            Stats::count(&ctx.stats.errors);
            Err(error)
        }
    }
}

/// `namespace/name` of an object.
pub fn object_key(object: &DynamicObject) -> String {
    format!(
        "{}/{}",
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default()
    )
}

fn bigpeer_api(ctx: &Context, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        ctx.client.clone(),
        namespace,
        &ApiResource::erase::<BigPeer>(&()),
    )
}

/// How soon a reconcile that found the child caches still filling looks again.
const CACHES_FILLING_RETRY: Duration = Duration::from_millis(200);

/// Reconciles one BigPeer; returns when to look again (`None`: on the next change only).
async fn reconcile_object(object: &DynamicObject, ctx: &Context) -> Result<Option<Duration>> {
    let ns = object.metadata.namespace.clone().unwrap_or_default();
    let name = object.metadata.name.clone().unwrap_or_default();
    let reference = events::reference(&ns, &name, object.metadata.uid.as_deref());
    let api = bigpeer_api(ctx, &ns);

    if object.metadata.deletion_timestamp.is_some() {
        if finalizer::has_finalizer(object) {
            let deleted = finalizer::cleanup(ctx, &ns, &name).await?;
            finalizer::set_finalizer(&api, object, false).await?;
            tracing::info!(deleted, "cleanup done, finalizer removed");
            ctx.forget(&format!("{ns}/{name}"));
        }
        return Ok(None);
    }

    let resumed = match pause::gate(ctx, &api, object, &reference).await? {
        pause::Gate::Paused => return Ok(None),
        pause::Gate::Run { resumed } => resumed,
    };

    let mut bigpeer: BigPeer = match serde_json::to_value(object).and_then(serde_json::from_value) {
        Ok(bigpeer) => bigpeer,
        Err(error) => {
            let message = format!(
                "the stored object does not decode as a BigPeer ({error}); fix or delete it"
            );
            tracing::warn!(%error, "undecodable BigPeer");
            write_undecodable(ctx, &api, object, &message).await?;
            events::publish(ctx, &reference, true, "InvalidObject", "Decode", message).await;
            return Ok(None);
        }
    };

    if resumed {
        pause::forget(&mut bigpeer);
    }
    if !finalizer::has_finalizer(object) {
        finalizer::set_finalizer(&api, object, true).await?;
    }

    let running = bigpeer
        .status
        .as_ref()
        .and_then(|s| s.version.as_ref())
        .and_then(|v| v.current.as_deref())
        .and_then(|v| Version::parse(v).ok());
    let new_generation =
        bigpeer.status.as_ref().and_then(|s| s.observed_generation) != bigpeer.metadata.generation;
    let validated = match ValidatedBigPeer::new(&bigpeer, running.as_ref()) {
        Ok((validated, report)) => {
            if new_generation {
                for warning in report.warnings() {
                    events::publish(
                        ctx,
                        &reference,
                        true,
                        "SpecWarning",
                        "Validate",
                        warning.to_string(),
                    )
                    .await;
                }
            }
            validated
        }
        Err(report) => {
            let message = report
                .errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let live = apply::Live::default();
            let computed = status::compute(&Inputs {
                bigpeer: &bigpeer,
                validated: Err(message),
                live: &live,
                dereferenced: None,
                installed: &BTreeSet::new(),
                recreating: false,
                refused: &[],
                missing: &[],
                pod_problems: &[],
                upgrade: None,
                now: ctx.clock.now(),
            });
            write_status(ctx, &api, &bigpeer, computed, &reference).await?;
            return Ok(None);
        }
    };

    let installed = ctx
        .apis
        .installed()
        .await
        .map_err(|e| Error::kube("probe optional APIs", e))?;
    let mut dereferenced = dereference::dereference(ctx, &bigpeer, &installed).await?;
    let held = tls_hold::hold_for_certificate(&ctx.caches, &bigpeer, &mut dereferenced.observed);
    let world = if upgrade::needs_world(&bigpeer) {
        upgrade::observe(ctx, &bigpeer, &installed).await?
    } else {
        World::default()
    };
    let stored = bigpeer.status.as_ref();
    let annotations = bigpeer.metadata.annotations.clone().unwrap_or_default();
    let version = stored.and_then(|s| s.version.as_ref());
    let decision = upgrade_plan::plan(&upgrade_plan::Inputs {
        name: &name,
        spec: &validated.spec,
        annotations: &annotations,
        current: version.and_then(|v| v.current.as_deref()),
        current_image: version.and_then(|v| v.image.as_deref()),
        status: stored.and_then(|s| s.upgrade.as_ref()),
        world: &world,
        now: ctx.clock.now(),
    });
    let children =
        builder::build(&validated, &dereferenced.observed, &decision.rollout).into_objects();
    let extra_namespaces: Vec<String> = bigpeer
        .spec
        .transaction_log
        .strimzi
        .as_ref()
        .and_then(|s| s.cluster_ref.namespace.clone())
        .into_iter()
        .collect();
    let desired: BTreeSet<ChildKey> = children
        .iter()
        .map(|c| (c.kind, c.namespace.clone(), c.name.clone()))
        .collect();
    // Children stop being desired only when the spec (a new generation), the installed APIs or
    // the operator itself change: all children are listed for pruning then, and by name otherwise.
    let prune_key = format!("{}@{installed:?}", bigpeer.metadata.generation.unwrap_or(0));
    let full = ctx
        .pruned
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&format!("{ns}/{name}"))
        != Some(&prune_key);
    let only = (!full).then_some(&desired);
    let mut live = apply::list_live(ctx, &ns, &name, &extra_namespaces, &installed, only).await?;

    // Workloads held for their first certificate are not applied, and not missing either.
    let held_back = |c: &builder::Child| {
        held.contains(&c.kind) && live.get(c.kind, &c.namespace, &c.name).is_none()
    };
    let (waiting, to_apply): (Vec<_>, Vec<_>) = children.iter().cloned().partition(held_back);
    let applied = apply_all(ctx, &to_apply, &mut live, &installed).await;
    let (changes, recreating) = (&applied.changes, applied.recreating);
    // A size change is a new generation; the status only moves to it once this succeeded, so a
    // failed expansion is retried. Otherwise the claims are not listed at all.
    let store_changed = changes
        .iter()
        .any(|(_, what)| what.starts_with("StatefulSet "));
    if new_generation || store_changed {
        let store_selector = BTreeMap::from([
            (builder::NAME_LABEL.to_string(), "bigpeer".to_string()),
            (builder::INSTANCE_LABEL.to_string(), name.clone()),
            (builder::COMPONENT_LABEL.to_string(), "store".to_string()),
        ]);
        let size = &validated.spec.store.storage.size;
        let grown = apply::expand_volumes(ctx, &ns, &store_selector, size).await?;
        if !grown.is_empty() {
            let note = format!("requested {size} for {}", grown.join(", "));
            events::publish(ctx, &reference, false, "VolumesExpanded", "Apply", note).await;
        }
    }
    let uid = bigpeer.metadata.uid.clone().unwrap_or_default();
    let pruned = if full {
        let pruned = apply::prune(ctx, &live, &desired, &ns, &uid).await?;
        if applied.first_error.is_none() {
            ctx.pruned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(format!("{ns}/{name}"), prune_key);
        }
        pruned
    } else {
        Vec::new()
    };
    report_changes(ctx, &reference, changes, &pruned).await;
    for refusal in &applied.new_refusals {
        let note = format!("the API server refused {refusal}");
        events::publish(ctx, &reference, true, "ChildRefused", "Apply", note).await;
    }
    for child in &to_apply {
        let owner = format!("{ns}/{name}");
        for note in ctx
            .dropped_fields
            .unreported(&owner, child.kind, &child.object)
        {
            events::publish(ctx, &reference, true, "FeatureUnavailable", "Apply", note).await;
        }
    }
    let missing = missing_children(&to_apply, &live, &installed);
    let names = builder::Names::new(&name);
    let pod_problems = diagnose::pod_problems(
        ctx,
        &ns,
        &name,
        live.get(ChildKind::StatefulSet, &ns, &names.store()),
        live.get(ChildKind::Deployment, &ns, &names.sync()),
    )
    .await?;
    let pods_note = pod_problems.join("; ");
    if !pods_note.is_empty() && ctx.is_news(&format!("{ns}/{name}"), "PodsNotRunning", &pods_note) {
        events::publish(
            ctx,
            &reference,
            true,
            "PodsNotRunning",
            "Diagnose",
            pods_note,
        )
        .await;
    }
    if !waiting.is_empty() {
        tracing::debug!(
            held = waiting.len(),
            "workloads wait for the first certificate"
        );
    }

    let computed = status::compute(&Inputs {
        bigpeer: &bigpeer,
        validated: Ok(&validated),
        live: &live,
        dereferenced: Some(&dereferenced),
        installed: &installed,
        recreating,
        refused: &applied.refused,
        missing: &missing,
        pod_problems: &pod_problems,
        upgrade: Some(&decision),
        now: ctx.clock.now(),
    });
    let ready = computed
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    write_status(ctx, &api, &bigpeer, computed, &reference).await?;
    // Only once the status holds the decision: its Events, and the retry annotation's removal.
    upgrade::act(ctx, &bigpeer, &decision, &reference).await?;
    if let Some(error) = applied.first_error {
        return Err(error);
    }
    let settled = if ready && !recreating {
        ctx.settings.resync
    } else {
        ctx.settings.not_ready_requeue
    };
    // A refused child is tried again when its own backoff ends, not before.
    let retry = ctx
        .refusals
        .next_retry(&applied.refused_keys)
        .map(|at| at.saturating_duration_since(std::time::Instant::now()));
    let next = [decision.requeue, retry]
        .into_iter()
        .flatten()
        .fold(settled, Duration::min);
    Ok(Some(next))
}

/// What applying every child did.
#[derive(Default)]
struct Applied {
    /// The children created, updated or being recreated, as `Kind name`.
    changes: Vec<(Outcome, String)>,
    /// Whether the StatefulSet is being recreated.
    recreating: bool,
    /// The children the API server refused.
    refused: Vec<status::RefusedChild>,
    /// Refusals not reported before.
    new_refusals: Vec<String>,
    /// The keys of the refused children (for the retry time).
    refused_keys: Vec<ChildKey>,
    /// The first error that is worth a retry.
    first_error: Option<Error>,
}

/// Applies every child. An error on one child does not stop the others (one broken part never
/// blocks the independent ones); the first error is returned after all were tried.
async fn apply_all(
    ctx: &Context,
    children: &[builder::Child],
    live: &mut apply::Live,
    installed: &BTreeSet<smbp_core::build::OptionalApi>,
) -> Applied {
    let mut applied = Applied::default();
    for child in children {
        let what = format!("{} {}", kind_name(child.kind), child.name);
        match apply::apply(ctx, child, live, installed).await {
            Ok(Outcome::Unchanged | Outcome::ApiMissing(_)) => {}
            Ok(Outcome::Refused { news }) => {
                let key = (child.kind, child.namespace.clone(), child.name.clone());
                let message = ctx.refusals.message(&key).unwrap_or_default();
                if news {
                    applied.new_refusals.push(format!("{what}: {message}"));
                }
                applied.refused.push(status::RefusedChild {
                    kind: child.kind,
                    name: child.name.clone(),
                    message,
                });
                applied.refused_keys.push(key);
            }
            Ok(outcome) => {
                applied.recreating |= outcome == Outcome::Recreating;
                applied.changes.push((outcome, what));
            }
            Err(error) => {
                tracing::warn!(%error, "apply failed");
                applied.first_error.get_or_insert(error);
            }
        }
    }
    applied
}

/// The desired children that do not exist, as `Kind name` (children of APIs that are not
/// installed excepted: their conditions say so).
fn missing_children(
    children: &[builder::Child],
    live: &apply::Live,
    installed: &BTreeSet<smbp_core::build::OptionalApi>,
) -> Vec<String> {
    children
        .iter()
        .filter(|c| {
            c.kind
                .optional_api()
                .is_none_or(|api| installed.contains(&api))
        })
        .filter(|c| live.get(c.kind, &c.namespace, &c.name).is_none())
        .map(|c| format!("{} {}", kind_name(c.kind), c.name))
        .collect()
}

fn kind_name(kind: ChildKind) -> String {
    kind.api_resource().kind
}

/// One Event per kind of change in this reconcile, naming the children.
async fn report_changes(
    ctx: &Context,
    reference: &ObjectReference,
    changes: &[(Outcome, String)],
    pruned: &[ChildKey],
) {
    for (outcome, reason, verb) in [
        (Outcome::Created, "ChildrenCreated", "created"),
        (Outcome::Updated, "ChildrenUpdated", "updated"),
        (
            Outcome::Recreating,
            "RecreatingStatefulSet",
            "deleted with orphaned pods and volumes, to be recreated with changed immutable fields:",
        ),
    ] {
        let names: Vec<_> = changes
            .iter()
            .filter(|(o, _)| *o == outcome)
            .map(|(_, n)| n.as_str())
            .collect();
        if !names.is_empty() {
            events::publish(
                ctx,
                reference,
                false,
                reason,
                "Apply",
                format!("{verb} {}", names.join(", ")),
            )
            .await;
        }
    }
    if !pruned.is_empty() {
        let names: Vec<_> = pruned
            .iter()
            .map(|(k, ns, n)| format!("{} {ns}/{n}", kind_name(*k)))
            .collect();
        events::publish(
            ctx,
            reference,
            false,
            "ChildrenDeleted",
            "Prune",
            format!("deleted children no longer desired: {}", names.join(", ")),
        )
        .await;
    }
}

/// Writes `computed` as the status (server-side apply under its own manager) unless the stored
/// status already equals it, and reports condition changes worth an Event.
async fn write_status(
    ctx: &Context,
    api: &Api<DynamicObject>,
    bigpeer: &BigPeer,
    computed: BigPeerStatus,
    reference: &ObjectReference,
) -> Result<()> {
    let previous = bigpeer.status.clone().unwrap_or_default();
    if previous == computed {
        return Ok(());
    }
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let body = json!({
        "apiVersion": format!("{}/{}", smbp_api::GROUP, smbp_api::v1alpha1::VERSION),
        "kind": "BigPeer",
        "status": computed,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(STATUS_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await
    .map_err(|e| Error::kube(format!("write the status of BigPeer {name}"), e))?;
    let provisioning = computed.phase == Some(smbp_api::v1alpha1::Phase::Provisioning);
    for condition in status::transitions(&previous.conditions, &computed.conditions) {
        let problem = condition.status
            == if condition.type_ == "Degraded" {
                "True"
            } else {
                "False"
            };
        let summary = matches!(condition.type_.as_str(), "Ready" | "Available" | "Degraded");
        // While first provisioning, "not ready yet" is expected: only real problems (a missing
        // dependency, a refused route) are reported, not the waiting.
        let waiting = provisioning
            && (summary || status::WAITING_REASONS.contains(&condition.reason.as_str()));
        let recovered_from = |t: &str| {
            previous
                .conditions
                .iter()
                .any(|p| p.type_ == t && p.status == "True")
        };
        let quiet_degraded =
            condition.type_ == "Degraded" && !problem && !recovered_from("Degraded");
        let noteworthy = (summary || problem) && !(problem && waiting) && !quiet_degraded;
        if noteworthy && !matches!(condition.type_.as_str(), "Progressing" | "Upgrading") {
            let note = format!(
                "{} is {}: {}",
                condition.type_, condition.status, condition.message
            );
            events::publish(
                ctx,
                reference,
                problem,
                &condition.reason,
                "UpdateStatus",
                note,
            )
            .await;
        }
    }
    Ok(())
}

/// Marks an undecodable BigPeer Failed (a merge patch: its status may not decode either).
async fn write_undecodable(
    ctx: &Context,
    api: &Api<DynamicObject>,
    object: &DynamicObject,
    message: &str,
) -> Result<()> {
    let current = object
        .data
        .get("status")
        .and_then(|s| s.get("conditions"))
        .cloned()
        .unwrap_or(Value::Null);
    let already = current.as_array().is_some_and(|c| {
        c.iter().any(|c| {
            c["type"] == "Ready" && c["reason"] == "InvalidObject" && c["message"] == message
        })
    });
    if already {
        return Ok(());
    }
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(ctx.clock.now());
    let patch = json!({"status": {
        "observedGeneration": object.metadata.generation,
        "phase": "Failed",
        "conditions": [{"type": "Ready", "status": "False", "reason": "InvalidObject", "message": message,
            "observedGeneration": object.metadata.generation, "lastTransitionTime": now}],
    }});
    let name = object.metadata.name.clone().unwrap_or_default();
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        // The status itself may be what does not fit the schema; the Event still reports it.
        Err(kube::Error::Api(status)) if status.code == 422 => Ok(()),
        Err(e) => Err(Error::kube(format!("mark BigPeer {name} Failed"), e)),
    }
}
