//! The `smbp-operator` binary. `run` starts the BigPeer controller against the cluster of the
//! kubeconfig (or in-cluster configuration) until SIGTERM or Ctrl-C.

use clap::{Parser, Subcommand};
use smbp_operator::clock::SystemClock;
use smbp_operator::context::Settings;
use std::path::PathBuf;
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
    /// Run the controller.
    Run {
        /// Kubeconfig to use; unset uses in-cluster configuration, `KUBECONFIG` or ~/.kube/config.
        #[arg(long, env = "SMBP_KUBECONFIG")]
        kubeconfig: Option<PathBuf>,
        /// Watch only this namespace; unset watches all namespaces.
        #[arg(long, env = "SMBP_NAMESPACE")]
        namespace: Option<String>,
        /// Seconds between reconciles of a Ready BigPeer that did not change.
        #[arg(long, env = "SMBP_RESYNC_SECONDS", default_value_t = 300)]
        resync_seconds: u64,
        /// BigPeers reconciled at once.
        #[arg(long, env = "SMBP_CONCURRENCY", default_value_t = 16)]
        concurrency: u16,
        /// Log filter (tracing-subscriber `EnvFilter` syntax).
        #[arg(long, env = "SMBP_LOG", default_value = "info")]
        log: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Command::Run {
        kubeconfig,
        namespace,
        resync_seconds,
        concurrency,
        log,
    } = Cli::parse().command;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(log))
        .init();
    let client = match smbp_operator::client::client(kubeconfig.as_deref()).await {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: cannot build a Kubernetes client: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let settings = Settings {
        namespace,
        resync: Duration::from_secs(resync_seconds),
        concurrency,
        instance: std::env::var("POD_NAME").ok(),
        ..Settings::default()
    };
    tracing::info!(?settings, "starting the BigPeer controller");
    let ctx = smbp_operator::controller::context(client, settings, Arc::new(SystemClock)).await;
    smbp_operator::controller::run(ctx.clone(), shutdown_signal()).await;
    let stats = &ctx.stats;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    tracing::info!(
        reconciles = load(&stats.reconciles),
        errors = load(&stats.errors),
        applies = load(&stats.applies),
        unchanged = load(&stats.unchanged),
        pruned = load(&stats.pruned),
        "stopped"
    );
    std::process::ExitCode::SUCCESS
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
