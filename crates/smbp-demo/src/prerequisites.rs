//! What the production sample refers to and a real cluster would already have: namespaces, the
//! `gp3-encrypted` storage class, the Strimzi `Kafka` cluster `kafka/events`, the
//! `corporate-ca` ClusterIssuer, the shared Gateway `gateway-system/public`, and the
//! `bigpeer-critical` PriorityClass of `config/samples/prerequisites/`.

use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};
use smbp_sim::SimHandle;
use std::time::Instant;

/// The PriorityClass the production sample's store pods name.
const PRIORITY_CLASS: &str =
    include_str!("../../../config/samples/prerequisites/priorityclass.yaml");

async fn create(api: &Api<DynamicObject>, object: Value) -> Result<(), String> {
    let what = format!("{} {}", object["kind"], object["metadata"]["name"]);
    let object: DynamicObject = serde_json::from_value(object).map_err(|e| e.to_string())?;
    api.create(&PostParams::default(), &object)
        .await
        .map(|_| ())
        .map_err(|e| format!("creating {what}: {e}"))
}

/// Creates every prerequisite, reporting each.
pub async fn create_all(sim: &SimHandle, started: Instant) -> Result<(), String> {
    let namespaces = sim.dynamic_api("v1", "Namespace", "namespaces", None);
    for ns in ["bigpeer", "kafka", "gateway-system", "monitoring"] {
        create(
            &namespaces,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    }
    crate::report::step(
        started,
        "created namespaces bigpeer, kafka, gateway-system, monitoring",
    );
    create(&sim.dynamic_api("storage.k8s.io/v1", "StorageClass", "storageclasses", None), json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3-encrypted"},
        "provisioner": "sim.smbp.io/hostpath", "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true})).await?;
    create(&sim.dynamic_api("kafka.strimzi.io/v1", "Kafka", "kafkas", Some("kafka")), json!({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "events"},
        "spec": {"kafka": {"listeners": [{"name": "scram", "port": 9094, "type": "internal", "tls": true,
            "authentication": {"type": "scram-sha-512"}}]}}})).await?;
    create(&sim.dynamic_api("cert-manager.io/v1", "ClusterIssuer", "clusterissuers", None), json!({
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "corporate-ca"},
        "spec": {"selfSigned": {}}})).await?;
    create(&sim.dynamic_api("gateway.networking.k8s.io/v1", "GatewayClass", "gatewayclasses", None), json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "sim"},
        "spec": {"controllerName": "sim.smbp.io/gateway-controller"}})).await?;
    create(&sim.dynamic_api("gateway.networking.k8s.io/v1", "Gateway", "gateways", Some("gateway-system")), json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "public"},
        "spec": {"gatewayClassName": "sim", "listeners": [{"name": "https", "port": 443, "protocol": "HTTPS",
            "hostname": "sync.example.com", "allowedRoutes": {"namespaces": {"from": "All"}},
            "tls": {"certificateRefs": [{"name": "public-tls"}]}}]}})).await?;
    let priority_class: Value = serde_yaml::from_str(PRIORITY_CLASS)
        .map_err(|e| format!("config/samples/prerequisites/priorityclass.yaml: {e}"))?;
    create(
        &sim.dynamic_api(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            "priorityclasses",
            None,
        ),
        priority_class,
    )
    .await?;
    crate::report::step(
        started,
        "created StorageClass gp3-encrypted, Kafka kafka/events, ClusterIssuer corporate-ca, Gateway gateway-system/public, PriorityClass bigpeer-critical",
    );
    Ok(())
}
