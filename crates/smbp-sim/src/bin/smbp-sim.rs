//! `smbp-sim serve --port N --kubeconfig PATH [--api-only] [--time-scale X]
//! [--feature-gates Name=true,...]`: runs a simulated
//! cluster (by default with every simulated controller and third-party CRD) until interrupted, for
//! kubectl sessions, the operator binary, and manual exploration.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "smbp-sim",
    version,
    about = "An in-process Kubernetes API server for tests and demos"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a simulated cluster over HTTPS until interrupted (Ctrl-C or SIGTERM).
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 6443)]
        port: u16,
        /// Where to write the kubeconfig (CA and bearer token included).
        #[arg(long, default_value = "smbp-sim.kubeconfig")]
        kubeconfig: PathBuf,
        /// How many changes watches can replay before answering 410 Gone.
        #[arg(long, default_value_t = 100_000)]
        watch_history: usize,
        /// Serve only the API (no nodes, kubelets, workload controllers, cert-manager, Strimzi,
        /// and no third-party CRDs), like envtest.
        #[arg(long)]
        api_only: bool,
        /// How many times faster than real time the cluster's clock runs.
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Feature gates, as kube-apiserver takes them: `MaxUnavailableStatefulSet=true,...`.
        #[arg(long, value_parser = smbp_sim::FeatureGates::parse, default_value = "")]
        feature_gates: smbp_sim::FeatureGates,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Command::Serve {
        port,
        kubeconfig,
        watch_history,
        api_only,
        time_scale,
        feature_gates,
    } = Cli::parse().command;
    let base = if api_only {
        smbp_sim::SimOptions::default()
    } else {
        smbp_sim::SimOptions::full_cluster()
    };
    let options = smbp_sim::SimOptions {
        port,
        kubeconfig: Some(kubeconfig.clone()),
        watch_history,
        time_scale,
        feature_gates,
        ..base
    };
    let cluster = match smbp_sim::SimCluster::start_with(options).await {
        Ok(cluster) => cluster,
        Err(error) => {
            eprintln!("smbp-sim: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "smbp-sim serving {} (kubeconfig: {})",
        cluster.base_url(),
        kubeconfig.display()
    );
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                eprintln!("smbp-sim: cannot listen for SIGTERM: {error}");
                return std::process::ExitCode::FAILURE;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    cluster.shutdown().await;
    std::process::ExitCode::SUCCESS
}
