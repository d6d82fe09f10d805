//! `smbp-sim serve --port N --kubeconfig PATH [--api-only] [--time-scale X [--allow-clock-skew]]
//! [--feature-gates Name=true,...]`: runs a simulated cluster (by default with every simulated
//! controller and third-party CRD) until interrupted, for kubectl sessions, the operator binary,
//! and manual exploration.
//!
//! A clock faster than real time is refused unless `--allow-clock-skew` says the clients can live
//! with it: every timestamp the cluster writes (pod readiness, conditions, Events) runs ahead of
//! the wall clock an external process reads, so a client that compares them with its own clock
//! (the operator's upgrade timeouts and minReadySeconds) stalls. In-process clients share the
//! cluster's clock instead (`SimHandle::clock_reader`).

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
        /// How many times faster than real time the cluster's clock runs (above 1 needs
        /// --allow-clock-skew).
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Accept a --time-scale above 1 although clients read the wall clock: the cluster's
        /// timestamps then run ahead of theirs.
        #[arg(long)]
        allow_clock_skew: bool,
        /// Feature gates, as kube-apiserver takes them: `MaxUnavailableStatefulSet=true,...`.
        #[arg(long, value_parser = smbp_sim::FeatureGates::parse, default_value = "")]
        feature_gates: smbp_sim::FeatureGates,
    },
}

/// Refuses a clock faster than real time unless the clients are known to cope with it.
fn check_time_scale(scale: f64, allow_clock_skew: bool) -> Result<(), String> {
    if scale <= 1.0 || allow_clock_skew {
        return Ok(());
    }
    Err(format!(
        "--time-scale {scale} makes the cluster's timestamps run {scale} times faster than the wall \
         clock that external clients (kubectl, the operator binary) read: an operator comparing pod \
         readiness or condition times with its own clock stalls. Use --time-scale 1 for external \
         clients, or pass --allow-clock-skew if yours never compare the cluster's timestamps with \
         their clock."
    ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Command::Serve {
        port,
        kubeconfig,
        watch_history,
        api_only,
        time_scale,
        allow_clock_skew,
        feature_gates,
    } = Cli::parse().command;
    if let Err(refusal) = check_time_scale(time_scale, allow_clock_skew) {
        eprintln!("smbp-sim: {refusal}");
        return std::process::ExitCode::from(2);
    }
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

#[cfg(test)]
mod tests {
    use super::check_time_scale;

    #[test]
    fn a_fast_clock_needs_the_clients_consent() {
        assert!(check_time_scale(1.0, false).is_ok());
        assert!(check_time_scale(10.0, true).is_ok());
        let refusal = check_time_scale(10.0, false).unwrap_err();
        assert!(refusal.contains("--allow-clock-skew"), "{refusal}");
    }
}
