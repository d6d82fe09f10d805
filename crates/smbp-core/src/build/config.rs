//! The rendered configuration file (a ConfigMap mounted into every pod) and the checksums that
//! roll the pods when it or the certificate changes.

use super::Observed;
use super::meta::{Context, digest};
use k8s_openapi::api::core::v1::ConfigMap;
use smbp_api::v1alpha1::{KafkaAuthentication, SaslMechanism};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The file name of the configuration inside the ConfigMap and the mounted directory.
pub const CONFIG_FILE: &str = "bigpeer.yaml";
/// Pod template annotation holding a digest of the configuration.
pub const CONFIG_CHECKSUM_ANNOTATION: &str = "smbp.dev/config-checksum";
/// Pod template annotation holding a digest of the TLS Secret.
pub const TLS_CHECKSUM_ANNOTATION: &str = "smbp.dev/tls-checksum";
/// Where the configuration is mounted.
pub const CONFIG_DIR: &str = "/etc/bigpeer/config";
/// Where the TLS Secret is mounted.
pub const TLS_DIR: &str = "/etc/bigpeer/tls";
/// Where store pods keep their data.
pub const DATA_DIR: &str = "/var/lib/bigpeer";

/// The configuration ConfigMap. Rendered by hand rather than through a YAML serializer so the
/// file keeps a stable order and a header a person recognises.
pub fn config_map(ctx: &Context, observed: &Observed) -> ConfigMap {
    let spec = ctx.spec();
    let names = &ctx.names;
    let ns = ctx.namespace();
    let w = &ctx.workload;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Rendered by the SMBP operator from BigPeer {ns}/{}; edits are overwritten.",
        ctx.bigpeer.name
    );
    let _ = writeln!(out, "instance: {}", ctx.bigpeer.name);
    let _ = writeln!(out, "http:\n  port: {}", w.http_port);
    let _ = writeln!(out, "metrics:\n  port: {}", w.metrics_port);
    let _ = writeln!(out, "store:");
    let _ = writeln!(out, "  dataDir: {DATA_DIR}");
    let _ = writeln!(out, "  peerPort: {}", w.peer_port);
    let _ = writeln!(out, "  replicas: {}", spec.store.replicas);
    let _ = writeln!(out, "  peers:");
    for ordinal in 0..spec.store.replicas {
        let _ = writeln!(
            out,
            "    - {}-{ordinal}.{}.{ns}.svc:{}",
            names.store(),
            names.store_headless(),
            w.peer_port
        );
    }
    let _ = writeln!(out, "  service: {}.{ns}.svc:{}", names.store(), w.http_port);
    let _ = writeln!(out, "transactionLog:");
    let log = &spec.transaction_log;
    if let Some(strimzi) = &log.strimzi {
        let kafka_ns = strimzi.cluster_ref.namespace.as_deref().unwrap_or(ns);
        let bootstrap = observed.kafka_bootstrap.clone().unwrap_or_else(|| {
            format!(
                "{}-kafka-bootstrap.{kafka_ns}.svc:9093",
                strimzi.cluster_ref.name
            )
        });
        let _ = writeln!(out, "  bootstrapServers:\n    - {bootstrap}");
        let _ = writeln!(out, "  topic: {}", names.kafka_topic(ns));
        let _ = writeln!(out, "  tls: true");
        let mechanism = match strimzi.authentication {
            KafkaAuthentication::ScramSha512 => "SCRAM-SHA-512",
            KafkaAuthentication::Tls => "TLS",
        };
        let _ = writeln!(out, "  authentication: {mechanism}");
    }
    if let Some(external) = &log.external {
        let _ = writeln!(out, "  bootstrapServers:");
        for server in &external.bootstrap_servers {
            let _ = writeln!(out, "    - {server}");
        }
        let _ = writeln!(out, "  topic: {}", external.topic);
        let _ = writeln!(out, "  tls: {}", external.tls.is_some());
        let mechanism = match external.sasl.as_ref().map(|s| s.mechanism) {
            None => "NONE",
            Some(SaslMechanism::ScramSha512) => "SCRAM-SHA-512",
            Some(SaslMechanism::ScramSha256) => "SCRAM-SHA-256",
            Some(SaslMechanism::Plain) => "PLAIN",
        };
        let _ = writeln!(out, "  authentication: {mechanism}");
    }
    let _ = writeln!(out, "tls:");
    if spec.tls.is_some() {
        let _ = writeln!(out, "  enabled: true");
        let _ = writeln!(out, "  certFile: {TLS_DIR}/tls.crt");
        let _ = writeln!(out, "  keyFile: {TLS_DIR}/tls.key");
        let _ = writeln!(out, "  caFile: {TLS_DIR}/ca.crt");
    } else {
        let _ = writeln!(out, "  enabled: false");
    }
    ConfigMap {
        metadata: ctx.meta(names.config(), "config"),
        data: Some(BTreeMap::from([(CONFIG_FILE.to_string(), out)])),
        ..ConfigMap::default()
    }
}

/// The pod template annotations that roll the pods when the configuration or the certificate
/// changes.
pub fn pod_checksums(config: &ConfigMap, observed: &Observed) -> BTreeMap<String, String> {
    let rendered = config
        .data
        .as_ref()
        .and_then(|d| d.get(CONFIG_FILE))
        .map(String::as_str)
        .unwrap_or("");
    let mut annotations = BTreeMap::from([(
        CONFIG_CHECKSUM_ANNOTATION.to_string(),
        digest(rendered.as_bytes())[..16].to_string(),
    )]);
    if let Some(tls) = &observed.tls_checksum {
        annotations.insert(TLS_CHECKSUM_ANNOTATION.to_string(), tls.clone());
    }
    annotations
}
