//! The demo, the README's main command: starts the simulated cluster with every integration the
//! production sample uses (cert-manager, Strimzi, Prometheus Operator, Gateway API), installs the
//! BigPeer CRD, creates what the sample refers to (namespaces, a storage class, a Kafka cluster,
//! a ClusterIssuer, a shared Gateway), runs the operator in-process against the cluster's HTTPS
//! endpoint exactly as it would run against a real one, applies `config/samples/production.yaml`,
//! and shows the BigPeer's progress until it is Ready. `--keep` leaves the cluster running with a
//! kubeconfig for `kubectl get bigpeers -A`.

mod prerequisites;
mod report;

use clap::Parser;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use smbp_operator::clock::FnClock;
use smbp_operator::context::Settings;
use smbp_sim::{NodePool, SimCluster, SimOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The production sample, compiled in so the demo runs from any directory.
const SAMPLE: &str = include_str!("../../../config/samples/production.yaml");

/// Runs the SMBP operator demo on a simulated cluster.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Keep the cluster and the operator running after the BigPeer is Ready, until Ctrl-C, so
    /// `kubectl --kubeconfig <file> get bigpeers -A` can look at it.
    #[arg(long)]
    keep: bool,
    /// Where to write the cluster's kubeconfig.
    #[arg(long, default_value = "smbp-demo.kubeconfig")]
    kubeconfig: PathBuf,
    /// How many times faster than real time the simulated cluster runs.
    #[arg(long, default_value_t = 10.0)]
    time_scale: f64,
    /// How long to wait for the BigPeer to become Ready, in seconds of real time.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let started = Instant::now();
    let kubeconfig = std::path::absolute(&args.kubeconfig).map_err(|e| e.to_string())?;
    report::step(
        started,
        &format!(
            "starting the simulated cluster (6 nodes in 3 zones, clock {}x, cert-manager, Strimzi, Prometheus Operator and Gateway API CRDs)",
            args.time_scale
        ),
    );
    let options = SimOptions {
        kubeconfig: Some(kubeconfig.clone()),
        nodes: NodePool {
            count: 6,
            ..NodePool::default()
        },
        ..SimOptions::full_cluster().with_time_scale(args.time_scale)
    };
    let sim = SimCluster::start_with(options)
        .await
        .map_err(|e| e.to_string())?;
    report::step(
        started,
        &format!(
            "API server at {}, kubeconfig {}",
            sim.base_url(),
            kubeconfig.display()
        ),
    );

    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(sim.client());
    crds.create(&PostParams::default(), &smbp_api::crd::bigpeer_crd())
        .await
        .map_err(|e| format!("installing the BigPeer CRD: {e}"))?;
    report::step(started, "installed the BigPeer CRD (bigpeers.smbp.dev)");
    prerequisites::create_all(&sim, started).await?;

    let metrics = Arc::new(smbp_operator::metrics::Metrics::new());
    let client = smbp_operator::client::client(Some(&kubeconfig), &metrics).await?;
    let settings = Settings {
        not_ready_requeue: Duration::from_millis(500),
        probe_ttl: Duration::from_secs(2),
        ..Settings::default()
    };
    // The operator shares the cluster's (faster) clock, as it shares the wall clock with a real one.
    let clock = Arc::new(FnClock(sim.clock_reader()));
    let operator = smbp_operator::controller::context(client, settings, clock, metrics).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator_task = tokio::spawn(smbp_operator::controller::run(
        operator.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    report::step(
        started,
        "the operator is running (field manager smbp-operator, User-Agent smbp-operator)",
    );

    let sample: serde_json::Value = serde_yaml::from_str(SAMPLE).map_err(|e| e.to_string())?;
    let namespace = sample["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let name = sample["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bigpeers: Api<DynamicObject> = Api::namespaced_with(
        sim.client(),
        &namespace,
        &kube::api::ApiResource::erase::<smbp_api::v1alpha1::BigPeer>(&()),
    );
    bigpeers
        .patch(
            &name,
            &PatchParams::apply("smbp-demo"),
            &Patch::Apply(&sample),
        )
        .await
        .map_err(|e| format!("applying config/samples/production.yaml: {e}"))?;
    report::step(
        started,
        &format!("applied config/samples/production.yaml: BigPeer {namespace}/{name}"),
    );

    let ready = report::follow(
        &sim,
        &bigpeers,
        &name,
        started,
        Duration::from_secs(args.timeout),
    )
    .await;
    report::summary(&sim, &bigpeers, &name, &namespace).await?;
    let stats = &operator.stats;
    println!(
        "\noperator: {} reconciles, {} children applied, {} unchanged skips, {} errors",
        stats.reconciles.load(std::sync::atomic::Ordering::Relaxed),
        stats.applies.load(std::sync::atomic::Ordering::Relaxed),
        stats.unchanged.load(std::sync::atomic::Ordering::Relaxed),
        stats.errors.load(std::sync::atomic::Ordering::Relaxed),
    );
    ready?;

    if args.keep {
        println!("\nThe cluster keeps running. Try:");
        println!(
            "  kubectl --kubeconfig {} get bigpeers -A",
            kubeconfig.display()
        );
        println!(
            "  kubectl --kubeconfig {} -n {namespace} describe bigpeer {name}",
            kubeconfig.display()
        );
        println!(
            "  kubectl --kubeconfig {} -n {namespace} get all,pvc,certificates,httproutes",
            kubeconfig.display()
        );
        println!("Press Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop.send(());
    let _ = operator_task.await;
    sim.shutdown().await;
    if !args.keep {
        let _ = std::fs::remove_file(&kubeconfig);
    }
    Ok(())
}
