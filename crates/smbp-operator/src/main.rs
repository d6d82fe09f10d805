//! The `smbp-operator` binary. `run` starts the operator process (see `smbp_operator::runtime`)
//! against the cluster of the kubeconfig, or the in-cluster configuration, until SIGTERM or
//! Ctrl-C; it exits 0 after a clean shutdown and 1 when a part of it failed. `images` prints
//! every image this version may run, for mirroring (air-gapped installs).

use clap::{Args, Parser, Subcommand, ValueEnum};
use smbp_operator::clock::SystemClock;
use smbp_operator::context::Settings;
use smbp_operator::leader::LeaseSettings;
use smbp_operator::logging::{self, LogFormat};
use smbp_operator::metrics::Metrics;
use smbp_operator::runtime::{self, Options, WebhookOptions};
use smbp_operator::webhook::certs::{CertSource, SelfManaged};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The SMBP operator: deploys and runs Big Peer from BigPeer resources.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the operator: controllers, admission webhook, probes and metrics.
    Run(Box<RunArgs>),
    /// Print every image this operator version may run (itself, then each installable Big Peer
    /// release by tag and digest), one a line, for mirroring into an air-gapped registry.
    Images(ImagesArgs),
}

#[derive(Args)]
struct ImagesArgs {
    /// The operator image as your install pulls it (the chart's default when unset).
    #[arg(long)]
    operator_image: Option<String>,
    /// `text`: one reference a line (what mirroring tools read); `json`: with what uses each.
    #[arg(long, short = 'o', value_enum, default_value_t = ImagesFormat::Text)]
    output: ImagesFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImagesFormat {
    Text,
    Json,
}

#[derive(Args)]
struct RunArgs {
    /// Kubeconfig to use; unset uses the in-cluster service account, `KUBECONFIG` or
    /// ~/.kube/config.
    #[arg(long, env = "SMBP_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Namespaces whose BigPeers are managed, comma-separated; unset manages all namespaces.
    /// With a list the operator needs permissions in those namespaces only.
    #[arg(long, env = "SMBP_NAMESPACES", value_delimiter = ',')]
    namespaces: Vec<String>,
    /// The operator's own namespace (its Lease and webhook CA Secret live there).
    #[arg(long, env = "POD_NAMESPACE", default_value = "smbp-system")]
    operator_namespace: String,
    /// Seconds between reconciles of a Ready BigPeer that did not change.
    #[arg(long, env = "SMBP_RESYNC_SECONDS", default_value_t = 300)]
    resync_seconds: u64,
    /// BigPeers reconciled at once (per watched namespace).
    #[arg(long, env = "SMBP_CONCURRENCY", default_value_t = 16)]
    concurrency: u16,
    /// Address of the plain-HTTP server for /healthz, /readyz and /metrics.
    #[arg(long, env = "SMBP_PROBE_ADDRESS", default_value = "0.0.0.0:8080")]
    probe_address: SocketAddr,

    /// Where the admission webhook's certificate comes from: `self-managed` (the operator's own
    /// CA, patched into the webhook configuration), `files` (a mounted cert-manager Secret in
    /// --webhook-cert-dir) or `none` (no webhook server).
    #[arg(long, env = "SMBP_WEBHOOK_CERT_SOURCE", value_enum, default_value_t = CertChoice::SelfManaged)]
    webhook_cert_source: CertChoice,
    /// Address of the HTTPS admission webhook server.
    #[arg(long, env = "SMBP_WEBHOOK_ADDRESS", default_value = "0.0.0.0:9443")]
    webhook_address: SocketAddr,
    /// Directory holding tls.crt and tls.key (with --webhook-cert-source=files); re-read when
    /// they change.
    #[arg(
        long,
        env = "SMBP_WEBHOOK_CERT_DIR",
        default_value = "/tmp/k8s-webhook-server/serving-certs"
    )]
    webhook_cert_dir: PathBuf,
    /// Secret (in the operator's namespace) holding the self-managed CA.
    #[arg(
        long,
        env = "SMBP_WEBHOOK_CA_SECRET",
        default_value = "smbp-operator-webhook-ca"
    )]
    webhook_ca_secret: String,
    /// DNS names and IPs the self-managed serving certificate covers, comma-separated; unset
    /// means the webhook Service's names in the operator's namespace.
    #[arg(long, env = "SMBP_WEBHOOK_NAMES", value_delimiter = ',')]
    webhook_names: Vec<String>,
    /// The Service in front of the webhook (for the default certificate names).
    #[arg(
        long,
        env = "SMBP_WEBHOOK_SERVICE",
        default_value = "smbp-operator-webhook"
    )]
    webhook_service: String,
    /// The ValidatingWebhookConfiguration whose caBundle the self-managed CA keeps current;
    /// empty leaves it alone.
    #[arg(
        long,
        env = "SMBP_WEBHOOK_CONFIGURATION",
        default_value = "smbp-operator"
    )]
    webhook_configuration: String,
    /// Lifetime of the self-managed CA (Go duration); renewed after two thirds of it.
    #[arg(long, env = "SMBP_WEBHOOK_CA_VALIDITY", default_value = "8760h", value_parser = go_duration)]
    webhook_ca_validity: Duration,
    /// Lifetime of the self-managed serving certificate (Go duration); renewed after two
    /// thirds of it.
    #[arg(long, env = "SMBP_WEBHOOK_CERT_VALIDITY", default_value = "720h", value_parser = go_duration)]
    webhook_cert_validity: Duration,

    /// Log line format.
    #[arg(long, env = "SMBP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
    /// Log level, as a tracing `EnvFilter` (`info`, `debug`, `info,smbp_operator=debug`).
    #[arg(long, env = "SMBP_LOG_LEVEL", default_value = "info")]
    log_level: String,

    /// Elect one leader among the replicas with a Lease; only the leader reconciles.
    #[arg(long, env = "SMBP_LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// Name of the Lease.
    #[arg(long, env = "SMBP_LEASE_NAME", default_value = "smbp-operator")]
    lease_name: String,
    /// Namespace of the Lease; unset uses the operator's namespace.
    #[arg(long, env = "SMBP_LEASE_NAMESPACE")]
    lease_namespace: Option<String>,
    /// How long a Lease is valid after its last renewal (Go duration, whole seconds).
    #[arg(long, env = "SMBP_LEASE_DURATION", default_value = "15s", value_parser = go_duration)]
    lease_duration: Duration,
    /// How long the leader keeps trying to renew before it stops leading (and exits 1).
    #[arg(long, env = "SMBP_LEASE_RENEW_DEADLINE", default_value = "10s", value_parser = go_duration)]
    lease_renew_deadline: Duration,
    /// How often each replica tries to acquire or renew the Lease.
    #[arg(long, env = "SMBP_LEASE_RETRY_PERIOD", default_value = "2s", value_parser = go_duration)]
    lease_retry_period: Duration,
    /// This replica's identity in the Lease; unset uses the pod name (POD_NAME) and a random
    /// suffix.
    #[arg(long, env = "SMBP_LEASE_IDENTITY")]
    lease_identity: Option<String>,
}

/// Where the webhook certificate comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CertChoice {
    /// The operator's own CA.
    SelfManaged,
    /// Files from a mounted Secret (cert-manager).
    Files,
    /// No webhook server.
    None,
}

fn go_duration(text: &str) -> Result<Duration, String> {
    smbp_core::duration::parse(text)
        .ok_or_else(|| format!("{text:?} is not a duration; write it like 15s, 2m or 720h"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Cli::parse().command {
        Command::Run(args) => args,
        Command::Images(args) => return print_images(args),
    };
    if let Err(error) = logging::init(args.log_format, &args.log_level, std::io::stderr) {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    match run(*args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the operator stopped with an error");
            ExitCode::FAILURE
        }
    }
}

fn print_images(args: ImagesArgs) -> ExitCode {
    let operator = args
        .operator_image
        .unwrap_or_else(smbp_operator::images::default_operator_image);
    let images =
        smbp_operator::images::images_to_mirror(smbp_core::catalogue::builtin(), &operator);
    let text = match args.output {
        ImagesFormat::Text => images
            .iter()
            .map(|entry| format!("{}\n", entry.image))
            .collect(),
        ImagesFormat::Json => serde_json::to_string_pretty(&images).unwrap_or_default() + "\n",
    };
    // A closed pipe (`| head`) is not an error for a listing.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

async fn run(args: RunArgs) -> Result<(), String> {
    let metrics = Arc::new(Metrics::new());
    let client = smbp_operator::client::client(args.kubeconfig.as_deref(), &metrics)
        .await
        .map_err(|e| format!("cannot build a Kubernetes client: {e}"))?;
    let needs_namespace =
        args.leader_elect || matches!(args.webhook_cert_source, CertChoice::SelfManaged);
    if needs_namespace {
        operator_namespace_exists(&client, &args.operator_namespace).await?;
    }
    let pod = std::env::var("POD_NAME").ok();
    let options = Options {
        namespaces: args
            .namespaces
            .iter()
            .filter(|n| !n.is_empty())
            .cloned()
            .collect(),
        settings: Settings {
            resync: Duration::from_secs(args.resync_seconds),
            concurrency: args.concurrency,
            instance: pod.clone(),
            ..Settings::default()
        },
        probe_addr: args.probe_address,
        webhook: webhook_options(&args),
        leader_election: args.leader_elect.then(|| LeaseSettings {
            name: args.lease_name.clone(),
            namespace: args
                .lease_namespace
                .clone()
                .unwrap_or_else(|| args.operator_namespace.clone()),
            identity: args.lease_identity.clone().unwrap_or_else(|| {
                let host = pod.clone().unwrap_or_else(|| "smbp-operator".into());
                format!("{host}_{}", uuid::Uuid::new_v4())
            }),
            lease_duration: args.lease_duration,
            renew_deadline: args.lease_renew_deadline,
            retry_period: args.lease_retry_period,
        }),
    };
    tracing::info!(
        namespaces = ?options.namespaces,
        probe = %options.probe_addr,
        webhook = ?options.webhook.as_ref().map(|w| w.addr),
        leader_election = options.leader_election.is_some(),
        "starting"
    );
    let running = runtime::start(
        options,
        client,
        Arc::new(SystemClock),
        metrics,
        shutdown_signal(),
    )
    .await?;
    running
        .supervisor
        .await
        .map_err(|e| format!("the supervisor failed: {e}"))?
}

/// The operator's own namespace holds its Lease and webhook CA Secret: a missing one is refused
/// at start with what to do, instead of failing later in a retry loop.
async fn operator_namespace_exists(client: &kube::Client, namespace: &str) -> Result<(), String> {
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(client.clone());
    match namespaces.get_opt(namespace).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!(
            "the operator namespace {namespace:?} does not exist: create it \
             (kubectl create namespace {namespace}) or pass --operator-namespace with an existing one \
             (in a cluster, POD_NAMESPACE names the pod's own)"
        )),
        // Without permission to read namespaces the Lease and Secret calls will tell.
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(()),
        Err(error) => Err(format!(
            "cannot reach the API server to check namespace {namespace:?}: {error}"
        )),
    }
}

fn webhook_options(args: &RunArgs) -> Option<WebhookOptions> {
    let certificate = match args.webhook_cert_source {
        CertChoice::None => return None,
        CertChoice::Files => CertSource::Files(args.webhook_cert_dir.clone()),
        CertChoice::SelfManaged => {
            let ns = &args.operator_namespace;
            let service = &args.webhook_service;
            let names = if args.webhook_names.is_empty() {
                vec![
                    format!("{service}.{ns}.svc"),
                    format!("{service}.{ns}.svc.cluster.local"),
                ]
            } else {
                args.webhook_names.clone()
            };
            CertSource::SelfManaged(SelfManaged {
                namespace: ns.clone(),
                secret: args.webhook_ca_secret.clone(),
                names,
                configuration: Some(args.webhook_configuration.clone()).filter(|c| !c.is_empty()),
                ca_validity: args.webhook_ca_validity,
                cert_validity: args.webhook_cert_validity,
            })
        }
    };
    Some(WebhookOptions {
        addr: args.webhook_address,
        certificate,
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
