//! How long 1,000 StatefulSets of 3 replicas (each with a volume claim) take to become Ready on a
//! simulated cluster running at full speed (no simulated delays), and the memory it used.
//! Prints figures; asserts nothing about time. Run: `cargo bench -p smbp-sim --bench statefulsets`
//! (`-- N` for another count).

use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use smbp_sim::{KubeletTiming, NodePool, SimCluster, SimOptions};
use std::time::{Duration, Instant};

/// Peak and current resident memory of this process, in MiB (Linux), from /proc.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1000);
    let (_, baseline) = memory_mib();
    let options = SimOptions {
        nodes: NodePool {
            count: 10,
            max_pods: 1000,
            ..NodePool::default()
        },
        kubelet: KubeletTiming {
            start: Duration::ZERO,
            ready: Duration::ZERO,
            stop: Duration::ZERO,
            ..KubeletTiming::default()
        },
        watch_history: 10_000,
        ..SimOptions::full_cluster()
    };
    let cluster = SimCluster::start_with(options)
        .await
        .expect("cluster starts");
    let sets: Api<k8s_openapi::api::apps::v1::StatefulSet> =
        Api::namespaced(cluster.client(), "default");
    let started = Instant::now();
    for i in 0..count {
        let set = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": format!("store-{i}")},
            "spec": {"replicas": 3, "serviceName": format!("store-{i}"), "selector": {"matchLabels": {"app": format!("store-{i}")}},
                "template": {"metadata": {"labels": {"app": format!("store-{i}")}},
                    "spec": {"containers": [{"name": "store", "image": "registry.example/bigpeer-store:1.0"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}]}
        }))
        .expect("statefulset");
        sets.create(&PostParams::default(), &set)
            .await
            .expect("create");
    }
    let created = started.elapsed();
    loop {
        let ready = sets
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .iter()
            .filter(|s| s.status.as_ref().and_then(|st| st.ready_replicas) == Some(3))
            .count();
        if ready == count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let all_ready = started.elapsed();
    let (peak, current) = memory_mib();
    let writes = cluster.resource_version();
    println!("statefulsets: {count} × 3 replicas, each with a PVC, at full speed");
    println!("  created in            {:>8.2} s", created.as_secs_f64());
    println!(
        "  all Ready after       {:>8.2} s  ({:.0} pods Ready per second)",
        all_ready.as_secs_f64(),
        (count * 3) as f64 / all_ready.as_secs_f64()
    );
    println!(
        "  cluster writes        {:>8}    ({:.1} per pod)",
        writes,
        writes as f64 / (count * 3) as f64
    );
    println!(
        "  memory: peak RSS {:.0} MiB, now {:.0} MiB, {:.0} MiB above the start ({:.1} KiB per pod incl. its PVC and PV)",
        peak,
        current,
        current - baseline,
        (current - baseline) * 1024.0 / (count * 3) as f64
    );
    cluster.shutdown().await;
}
