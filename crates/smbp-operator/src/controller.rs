//! The BigPeer controller: kube-runtime's `Controller` over BigPeers (as dynamic objects, so an
//! undecodable one is reported on instead of breaking the watch), the kinds it owns and the TLS
//! Secrets its BigPeers mount, with the per-object backoff as error policy.

use crate::clock::SharedClock;
use crate::context::{Context, Settings};
use crate::error::{Category, Error};
use crate::events;
use crate::metrics::Metrics;
use crate::reconcile::{object_key, reconcile};
use crate::triggers;
use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::controller::{Action, Config, Controller};
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::ChildKind;
use std::future::Future;
use std::sync::Arc;

/// The shared context of a controller on `client`; its counters can be read while it runs.
/// The children of every built-in kind, and of every optional kind installed now, are cached;
/// an optional API installed later is read by listing.
pub async fn context(
    client: kube::Client,
    settings: Settings,
    clock: SharedClock,
    metrics: Arc<Metrics>,
) -> Arc<Context> {
    let probe = crate::probe::ApiProbe::new(client.clone(), settings.probe_ttl);
    let installed = probe.installed().await.unwrap_or_default();
    let cached: Vec<ChildKind> = ChildKind::ALL
        .into_iter()
        .filter(|k| k.optional_api().is_none_or(|api| installed.contains(&api)))
        .collect();
    Arc::new(Context::new(
        client, settings, clock, probe, &cached, metrics,
    ))
}

/// Runs the controller until `shutdown` completes, then lets in-flight reconciles finish.
pub async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()> + Send + Sync + 'static) {
    controller(&ctx)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "controller event");
            }
        })
        .await;
}

fn controller(ctx: &Context) -> Controller<DynamicObject> {
    let bigpeers = ApiResource::erase::<BigPeer>(&());
    let main_feed = ctx
        .bigpeer_feed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .expect("a context's controller runs once");
    let mut controller = Controller::for_stream_with(main_feed, ctx.bigpeers.clone(), bigpeers);
    // The cache feeds are the owner triggers: a child changing (a pod becoming ready changes its
    // StatefulSet's status) reconciles its BigPeer.
    let feeds = std::mem::take(&mut *ctx.feeds.lock().unwrap_or_else(|e| e.into_inner()));
    for (kind, feed) in feeds {
        controller = controller.owns_stream_with(feed, kind.api_resource());
    }
    let bigpeer_store = ctx.bigpeers.clone();
    controller = controller.watches_stream(triggers::tls_secrets(ctx), move |secret| {
        triggers::bigpeers_mounting(&bigpeer_store, &secret)
    });
    controller.with_config(Config::default().concurrency(ctx.settings.concurrency))
}

/// What happens after a failed reconcile: the object's own exponential backoff, and a Warning
/// Event naming the error.
fn error_policy(object: Arc<DynamicObject>, error: &Error, ctx: Arc<Context>) -> Action {
    let key = object_key(&object);
    let delay = ctx.backoff.failed(&key);
    ctx.metrics
        .scheduled(&key, Some(std::time::Instant::now() + delay));
    match error.category() {
        Category::Bug => {
            tracing::error!(bigpeer = %key, %error, ?delay, "reconcile failed (a bug: please report it)")
        }
        Category::Transient => {
            tracing::warn!(bigpeer = %key, %error, ?delay, "reconcile failed; retrying")
        }
    }
    let reference = events::reference(
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default(),
        object.metadata.uid.as_deref(),
    );
    let note = format!("{error}; retrying in {}s", delay.as_secs());
    tokio::spawn(async move {
        events::publish(&ctx, &reference, true, "ReconcileError", "Reconcile", note).await;
    });
    Action::requeue(delay)
}
