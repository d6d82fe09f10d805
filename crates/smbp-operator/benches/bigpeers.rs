//! N BigPeers created at once on the simulated cluster, reconciled by the `smbp-operator` binary
//! running as its own process (so its memory is its own). Prints, for each N: time until every
//! BigPeer is Ready, the operator's API writes per BigPeer beside the number of children (the
//! least a first reconcile must write), its reconciles per second, and its peak RSS.
//!
//! BigPeers are spread over namespaces of 10, each with its own Kafka cluster.
//!
//! `cargo bench -p smbp-operator --bench bigpeers` (N = 10, 100, 1000);
//! `cargo bench -p smbp-operator --bench bigpeers -- 10 100` for other sizes.

use futures::{StreamExt, stream};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};
use smbp_sim::{NodePool, SimCluster, SimOptions};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// BigPeers per namespace, as tenants or teams would spread them.
const PER_NAMESPACE: usize = 10;
const TIME_SCALE: f64 = 20.0;

fn spec() -> Value {
    json!({
        "version": "1.6.1",
        "store": {"replicas": 3, "storage": {"size": "1Gi"}},
        "sync": {"replicas": 2},
        "transactionLog": {"strimzi": {"clusterRef": {"name": "events"}}},
    })
}

/// Children a BigPeer with [`spec`] has: ServiceAccount, ConfigMap, 4 Services, StatefulSet,
/// PodDisruptionBudget, Deployment, 2 NetworkPolicies, KafkaTopic, KafkaUser.
const CHILDREN: u64 = 13;

async fn create(api: &Api<DynamicObject>, object: Value) {
    let object: DynamicObject = serde_json::from_value(object).expect("object");
    api.create(&PostParams::default(), &object)
        .await
        .expect("create");
}

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(
                (after.get(11)?.parse::<f64>().ok()? + after.get(12)?.parse::<f64>().ok()?) / ticks,
            )
        })
        .unwrap_or(0.0)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn run(n: usize) -> Result<(), String> {
    let nodes = (n * 5 / 100 + 3).max(3);
    let options = SimOptions {
        nodes: NodePool {
            count: nodes,
            ..NodePool::default()
        },
        ..SimOptions::full_cluster().with_time_scale(TIME_SCALE)
    };
    let sim = SimCluster::start_with(options).await.expect("cluster");
    let client = sim.client();
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &smbp_api::crd::bigpeer_crd())
        .await
        .expect("crd");
    let namespaces: Vec<String> = (0..n.div_ceil(PER_NAMESPACE))
        .map(|i| format!("bench-{i:03}"))
        .collect();
    for ns in &namespaces {
        create(
            &sim.dynamic_api("v1", "Namespace", "namespaces", None),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await;
        create(&sim.dynamic_api("kafka.strimzi.io/v1", "Kafka", "kafkas", Some(ns)), json!({
            "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "events"},
            "spec": {"kafka": {"listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": true}]}}})).await;
    }

    let probe_port = free_port();
    let mut operator = Command::new(env!("CARGO_BIN_EXE_smbp-operator"))
        .args(["run", "--kubeconfig"])
        .arg(sim.kubeconfig_path())
        .args([
            "--log-level=warn",
            "--webhook-cert-source=none",
            "--leader-elect=false",
            &format!("--probe-address=127.0.0.1:{probe_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the operator starts");
    let pid = operator.id();
    sim.requests().reset();

    let bigpeer_resource = ApiResource::erase::<smbp_api::v1alpha1::BigPeer>(&());
    let bigpeers = Api::<DynamicObject>::all_with(client.clone(), &bigpeer_resource);
    let started = Instant::now();
    stream::iter(0..n)
        .for_each_concurrent(32, |i| {
            let api = Api::<DynamicObject>::namespaced_with(client.clone(), &namespaces[i / PER_NAMESPACE], &bigpeer_resource);
            async move {
                create(&api, json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer", "metadata": {"name": format!("bp-{i:04}")}, "spec": spec()})).await;
            }
        })
        .await;
    let created = started.elapsed();
    let timeout = Duration::from_secs(120 + n as u64 / 2);
    let ready_after = loop {
        let list = bigpeers.list(&ListParams::default()).await.expect("list");
        let ready = list
            .items
            .iter()
            .filter(|bp| {
                bp.data
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .count();
        if ready == n {
            break Some(started.elapsed());
        }
        if started.elapsed() > timeout {
            eprintln!("N={n}: only {ready} of {n} Ready after {timeout:?}");
            break None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let ready_elapsed = started.elapsed();
    let mut writes: BTreeMap<String, u64> = BTreeMap::new();
    for (key, count) in sim.requests().snapshot() {
        if key.user_agent.starts_with("smbp-operator") && smbp_sim::is_write(&key.verb) {
            *writes
                .entry(format!("{} {}", key.verb, key.resource))
                .or_default() += count;
        }
    }
    let rss = peak_rss_kib(pid);
    let operator_cpu = cpu_seconds(pid);
    let sim_cpu = cpu_seconds(std::process::id());
    let reconciles = reconciles_from_metrics(probe_port).await;
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exited = operator.wait().expect("operator exit");
    let total: u64 = writes.values().sum();
    println!(
        "N = {n} BigPeers in {} namespaces ({nodes} nodes, clock {TIME_SCALE}x, operator concurrency 16)",
        namespaces.len()
    );
    println!("  created in               {:.2} s", created.as_secs_f64());
    match ready_after {
        Some(t) => println!(
            "  all Ready after           {:.2} s (real time)",
            t.as_secs_f64()
        ),
        None => println!("  NOT all Ready within      {:.0} s", timeout.as_secs_f64()),
    }
    println!(
        "  API writes per BigPeer    {:.1} (children: {CHILDREN}; a first reconcile needs at least {} = children + finalizer + status)",
        total as f64 / n as f64,
        CHILDREN + 2
    );
    for (what, count) in &writes {
        println!("    {what:<32} {:.2} per BigPeer", *count as f64 / n as f64);
    }
    println!(
        "  reconciles                {reconciles} ({:.1} per BigPeer, {:.1} per second)",
        reconciles as f64 / n as f64,
        reconciles as f64 / ready_elapsed.as_secs_f64()
    );
    println!("  operator peak RSS         {:.1} MiB", rss as f64 / 1024.0);
    println!(
        "  CPU used                  operator {operator_cpu:.0} s, simulated cluster (this process, cumulative) {sim_cpu:.0} s, over {:.0} s on this machine",
        ready_elapsed.as_secs_f64()
    );
    sim.shutdown().await;
    // A benchmark that measured nothing is a failure, so it cannot rot unnoticed.
    let mut failures = Vec::new();
    if ready_after.is_none() {
        failures.push("not every BigPeer became Ready".to_string());
    }
    if total == 0 || reconciles == 0 {
        failures.push(format!(
            "{total} writes and {reconciles} reconciles were measured"
        ));
    }
    if !exited.success() {
        failures.push(format!("the operator exited with {exited}"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("N={n}: {}", failures.join("; ")))
    }
}

/// A TCP port free on loopback now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The operator's finished reconciles, from `smbp_operator_reconciles_total` on its `/metrics`.
async fn reconciles_from_metrics(port: u16) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return 0;
    };
    let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body).await;
    body.lines()
        .filter(|l| l.starts_with("smbp_operator_reconciles_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn main() -> std::process::ExitCode {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 1000]
    } else {
        sizes
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut failed = false;
    for n in sizes {
        if let Err(error) = runtime.block_on(run(n)) {
            eprintln!("benchmark failed: {error}");
            failed = true;
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
