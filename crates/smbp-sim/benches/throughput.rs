//! Throughput of smbp-sim through kube-rs over HTTPS: creates per second, lists per second of
//! 10,000 ConfigMaps, and the time for one change to reach 100 concurrent watchers.
//! Run with `cargo bench -p smbp-sim --bench throughput`; it prints figures, it asserts nothing.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::time::Instant;

const OBJECTS: usize = 10_000;
const LISTS: usize = 20;
const WATCHERS: usize = 100;

#[tokio::main]
async fn main() {
    let cluster = smbp_sim::SimCluster::start().await.expect("the sim starts");
    let client = cluster.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "bench"}})).unwrap(),
        )
        .await
        .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "bench");

    let start = Instant::now();
    let creates = futures::stream::iter(0..OBJECTS)
        .map(|i| {
            let api = api.clone();
            async move {
                let cm: ConfigMap = serde_json::from_value(
                    json!({"metadata": {"name": format!("cm-{i}")}, "data": {"i": i.to_string()}}),
                )
                .unwrap();
                api.create(&PostParams::default(), &cm).await.unwrap();
            }
        })
        .buffer_unordered(16)
        .count()
        .await;
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "creates: {creates} in {elapsed:.2}s = {:.0} creates/s (16 in flight)",
        creates as f64 / elapsed
    );

    let start = Instant::now();
    for _ in 0..LISTS {
        let list = api.list(&ListParams::default()).await.unwrap();
        assert_eq!(list.items.len(), OBJECTS);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "lists of {OBJECTS} objects: {LISTS} in {elapsed:.2}s = {:.2} lists/s",
        LISTS as f64 / elapsed
    );

    let rv = api
        .list_metadata(&ListParams::default().limit(1))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut streams = Vec::new();
    for _ in 0..WATCHERS {
        streams.push(
            api.watch(&WatchParams::default().fields("metadata.name=cm-0"), &rv)
                .await
                .unwrap()
                .boxed(),
        );
    }
    let start = Instant::now();
    api.patch(
        "cm-0",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"i": "changed"}})),
    )
    .await
    .unwrap();
    let delivered = futures::future::join_all(
        streams
            .iter_mut()
            .map(|s| async move { matches!(s.next().await, Some(Ok(WatchEvent::Modified(_)))) }),
    )
    .await
    .into_iter()
    .filter(|d| *d)
    .count();
    println!(
        "watch fan-out: 1 change reached {delivered}/{WATCHERS} watchers in {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    cluster.shutdown().await;
}
