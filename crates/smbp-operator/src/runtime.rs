//! The operator process: the probe and metrics server, the admission webhook and its
//! certificate, leader election and — while leading — one BigPeer controller per watched
//! namespace (or one for all). Every task is supervised: if one ends before shutdown was asked
//! for, the others are stopped and the process exits non-zero instead of running half-alive.
//! On shutdown the controllers finish their in-flight reconciles first, then the Lease is
//! released (so the next leader starts at once), then the servers stop.

use crate::clock::SharedClock;
use crate::context::{Context, Settings};
use crate::leader::{Elector, Leadership, LeaseSettings};
use crate::metrics::Metrics;
use crate::serve::{self, Answer, Handler, Received, answer, until};
use crate::webhook::{self, certs};
use futures::FutureExt;
use futures::future::BoxFuture;
use hyper::StatusCode;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long the tasks get to stop after shutdown was asked for.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// What the process runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Namespaces to watch; empty watches all.
    pub namespaces: Vec<String>,
    /// The controllers' settings (their `namespace` is set per controller).
    pub settings: Settings,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub probe_addr: SocketAddr,
    /// The admission webhook, when served.
    pub webhook: Option<WebhookOptions>,
    /// Leader election, when on.
    pub leader_election: Option<LeaseSettings>,
}

/// The admission webhook's server.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Where it listens (HTTPS).
    pub addr: SocketAddr,
    /// Where its certificate comes from.
    pub certificate: certs::CertSource,
}

/// What a running process shows its observers (the probes, and tests).
pub struct Shared {
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// What this instance knows about leadership.
    pub leadership: watch::Receiver<Leadership>,
    /// The running controllers' contexts (empty unless leading).
    pub contexts: Mutex<Vec<Arc<Context>>>,
}

impl Shared {
    /// The contexts of the controllers running now.
    pub fn contexts(&self) -> Vec<Arc<Context>> {
        self.contexts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether controllers run and every watch of theirs has its first full list.
    pub fn watches_ready(&self) -> bool {
        let contexts = self.contexts();
        !contexts.is_empty() && contexts.iter().all(|c| c.watches_ready())
    }

    /// Why the process is not ready, if it is not.
    pub fn not_ready(&self) -> Option<&'static str> {
        match &*self.leadership.borrow() {
            Leadership::Unknown => Some("leadership is not known yet"),
            Leadership::Leading if !self.watches_ready() => {
                Some("the watches have not listed everything yet")
            }
            _ => None,
        }
    }
}

/// A started process.
pub struct Running {
    /// Its shared state.
    pub shared: Arc<Shared>,
    /// Where the probes and metrics are served.
    pub probe_addr: SocketAddr,
    /// Where the webhook is served, if it is.
    pub webhook_addr: Option<SocketAddr>,
    /// The supervisor: ends with `Ok` after a clean shutdown, `Err` when a task failed.
    pub supervisor: tokio::task::JoinHandle<Result<(), String>>,
}

type Task = (&'static str, BoxFuture<'static, Result<(), String>>);

/// Binds the servers and starts every task. Returns once listening; the supervisor runs until
/// `shutdown` completes (or a task fails).
pub async fn start(
    options: Options,
    client: kube::Client,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, String> {
    if let Some(lease) = &options.leader_election {
        lease.check()?;
    }
    let (stop_tx, stop) = watch::channel(false);
    let initial = match options.leader_election {
        Some(_) => Leadership::Unknown,
        None => Leadership::Leading,
    };
    let (leadership_tx, leadership) = watch::channel(initial);
    let shared = Arc::new(Shared {
        metrics: metrics.clone(),
        leadership,
        contexts: Mutex::new(Vec::new()),
    });
    let mut tasks: Vec<Task> = Vec::new();

    let probe_listener = TcpListener::bind(options.probe_addr).await.map_err(|e| {
        format!(
            "cannot listen on {} (--probe-address): {e}",
            options.probe_addr
        )
    })?;
    let probe_addr = probe_listener.local_addr().map_err(|e| e.to_string())?;
    tasks.push((
        "probe and metrics server",
        serve::serve(probe_listener, None, probes(shared.clone()), stop.clone()).boxed(),
    ));

    let mut webhook_addr = None;
    if let Some(webhook) = &options.webhook {
        let listener = TcpListener::bind(webhook.addr)
            .await
            .map_err(|e| format!("cannot listen on {} (--webhook-address): {e}", webhook.addr))?;
        webhook_addr = Some(listener.local_addr().map_err(|e| e.to_string())?);
        let current = Arc::new(certs::CurrentCert::default());
        let tls = tokio_rustls::TlsAcceptor::from(certs::server_config(current.clone())?);
        let handler_client = client.clone();
        let handler_metrics = metrics.clone();
        let handler: Handler = Arc::new(move |request: Received| {
            webhook::handle(handler_client.clone(), handler_metrics.clone(), request).boxed()
        });
        tasks.push((
            "webhook certificate",
            certs::maintain(
                webhook.certificate.clone(),
                client.clone(),
                current,
                metrics.clone(),
                stop.clone(),
            )
            .boxed(),
        ));
        tasks.push((
            "webhook server",
            serve::serve(listener, Some(tls), handler, stop.clone()).boxed(),
        ));
    }

    let elector = options
        .leader_election
        .clone()
        .map(|lease| Elector::new(client.clone(), lease));
    tasks.push((
        "leader election and controllers",
        lead(
            elector,
            leadership_tx,
            stop.clone(),
            options,
            client,
            clock,
            shared.clone(),
        )
        .boxed(),
    ));

    let supervisor = tokio::spawn(supervise(tasks, stop_tx, shutdown));
    Ok(Running {
        shared,
        probe_addr,
        webhook_addr,
        supervisor,
    })
}

/// Runs `tasks` until `shutdown` or until one ends; then stops them all.
async fn supervise(
    tasks: Vec<Task>,
    stop: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    let mut set = JoinSet::new();
    for (name, task) in tasks {
        set.spawn(async move {
            let outcome = AssertUnwindSafe(task).catch_unwind().await;
            (name, outcome.unwrap_or_else(|_| Err("panicked".into())))
        });
    }
    let failure = tokio::select! {
        _ = shutdown => {
            tracing::info!("shutting down");
            None
        }
        Some(ended) = set.join_next() => {
            let (name, outcome) = ended.unwrap_or(("a task", Err("aborted".into())));
            let why = outcome.err().unwrap_or_else(|| "stopped on its own".into());
            tracing::error!(task = name, error = %why, "a task ended; stopping the process");
            Some(format!("{name}: {why}"))
        }
    };
    let _ = stop.send(true);
    let drained = tokio::time::timeout(STOP_TIMEOUT, async {
        let mut errors = Vec::new();
        while let Some(ended) = set.join_next().await {
            if let Ok((name, Err(error))) = ended {
                errors.push(format!("{name}: {error}"));
            }
        }
        errors
    })
    .await;
    let mut errors: Vec<String> = failure.into_iter().collect();
    match drained {
        Ok(more) => errors.extend(more),
        Err(_) => errors.push(format!("tasks did not stop within {STOP_TIMEOUT:?}")),
    }
    if errors.is_empty() {
        tracing::info!("stopped");
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Leader election and the controllers it guards. Without election the controllers run at once.
/// With it they start on becoming leader and stop on shutdown or on losing the Lease; the Lease
/// is renewed until they stopped and released afterwards.
async fn lead(
    elector: Option<Elector>,
    leadership: watch::Sender<Leadership>,
    stop: watch::Receiver<bool>,
    options: Options,
    client: kube::Client,
    clock: SharedClock,
    shared: Arc<Shared>,
) -> Result<(), String> {
    let Some(mut elector) = elector else {
        run_controllers(&options, client, clock, &shared, stop).await;
        return Ok(());
    };
    let (lost_tx, lost) = watch::channel(false);
    let (done_tx, done) = watch::channel(false);
    let mut following = leadership.subscribe();
    let controllers = async {
        let became_leader = tokio::select! {
            led = following.wait_for(|l| *l == Leadership::Leading) => led.is_ok(),
            _ = until(stop.clone()) => false,
        };
        if became_leader && !*stop.borrow() {
            let halt = either(stop.clone(), lost.clone());
            run_controllers(&options, client, clock, &shared, halt).await;
        }
        let _ = done_tx.send(true);
    };
    let election = async {
        let result = elector.run(&leadership, done.clone()).await;
        if result.is_err() {
            let _ = lost_tx.send(true);
        }
        result
    };
    let (result, ()) = tokio::join!(election, controllers);
    match result {
        Ok(()) => {
            if let Err(error) = elector.release().await {
                tracing::warn!(%error, "could not release the Lease; it expires on its own");
            }
            let _ = leadership.send(Leadership::Following { holder: None });
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Runs one controller per watched namespace (one for all when none is listed) until `halt`.
async fn run_controllers(
    options: &Options,
    client: kube::Client,
    clock: SharedClock,
    shared: &Arc<Shared>,
    halt: watch::Receiver<bool>,
) {
    let namespaces: Vec<Option<String>> = if options.namespaces.is_empty() {
        vec![None]
    } else {
        options.namespaces.iter().cloned().map(Some).collect()
    };
    let mut contexts = Vec::new();
    for namespace in namespaces {
        let settings = Settings {
            namespace,
            ..options.settings.clone()
        };
        contexts.push(
            crate::controller::context(
                client.clone(),
                settings,
                clock.clone(),
                shared.metrics.clone(),
            )
            .await,
        );
    }
    *shared.contexts.lock().unwrap_or_else(|e| e.into_inner()) = contexts.clone();
    let runs = contexts.iter().map(|ctx| {
        let halt = halt.clone();
        async move {
            tokio::select! {
                _ = crate::controller::run(ctx.clone(), until(halt.clone())) => {}
                // kube-runtime's controller waits for its first full list before it starts, and
                // keeps waiting after a shutdown that cut the list short. Before that list no
                // reconcile can have started, so there is nothing to finish: leave at once.
                _ = async {
                    until(halt).await;
                    if ctx.bigpeers_listed.load(std::sync::atomic::Ordering::Acquire) {
                        std::future::pending::<()>().await;
                    }
                } => {}
            }
        }
    });
    futures::future::join_all(runs).await;
    shared
        .contexts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
}

/// A flag that turns true once either of two does.
fn either(a: watch::Receiver<bool>, b: watch::Receiver<bool>) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = until(a) => {}
            _ = until(b) => {}
        }
        let _ = tx.send(true);
    });
    rx
}

/// `/healthz`, `/readyz` and `/metrics`.
fn probes(shared: Arc<Shared>) -> Handler {
    Arc::new(move |request: Received| {
        let shared = shared.clone();
        async move { probe(&shared, &request) }.boxed()
    })
}

fn probe(shared: &Shared, request: &Received) -> Answer {
    match request.path.as_str() {
        "/healthz" => answer(StatusCode::OK, "text/plain", "ok"),
        "/readyz" => match shared.not_ready() {
            None => answer(StatusCode::OK, "text/plain", "ok"),
            Some(why) => answer(StatusCode::SERVICE_UNAVAILABLE, "text/plain", why),
        },
        "/metrics" => {
            let bigpeers: Vec<serde_json::Value> = shared
                .contexts()
                .iter()
                .flat_map(|ctx| ctx.bigpeers.state())
                .filter_map(|object| serde_json::to_value(object.as_ref()).ok())
                .collect();
            let leading = *shared.leadership.borrow() == Leadership::Leading;
            shared.metrics.leader.set(i64::from(leading));
            answer(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                shared.metrics.render(&bigpeers),
            )
        }
        _ => answer(
            StatusCode::NOT_FOUND,
            "text/plain",
            "served here: /healthz, /readyz, /metrics",
        ),
    }
}
