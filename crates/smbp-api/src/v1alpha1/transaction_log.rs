//! `spec.transactionLog`: where Big Peer orders every write — a topic on a Strimzi-managed Kafka
//! cluster, or an external Kafka-compatible broker.

use super::{SecretKeyRef, SecretRef};
use crate::defaults;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The transaction log. Exactly one of `strimzi` or `external`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.strimzi) != has(self.external)")
        .message("spec.transactionLog must set exactly one of strimzi or external"),
    validation = Rule::new("has(self.strimzi) == has(oldSelf.strimzi)")
        .message("spec.transactionLog cannot switch between strimzi and external on an existing BigPeer: the log holds unreplicated writes; create a new BigPeer to move to another log")
        .reason(Reason::FieldValueForbidden),
)]
pub struct TransactionLogSpec {
    /// A topic and user on an existing Strimzi `Kafka` cluster; the operator creates the
    /// `KafkaTopic` and `KafkaUser`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strimzi: Option<StrimziLog>,

    /// An external Kafka-compatible broker the operator does not manage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalLog>,
}

/// A transaction log on a Strimzi-managed Kafka cluster.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StrimziLog {
    /// The Strimzi `Kafka` cluster to use.
    pub cluster_ref: KafkaClusterRef,

    /// The topic the operator creates for this BigPeer.
    #[serde(default)]
    #[schemars(extend("default" = {}))]
    pub topic: TopicSpec,

    /// How Big Peer authenticates to Kafka. Defaults to `scram-sha-512`.
    #[serde(default)]
    pub authentication: KafkaAuthentication,
}

/// A reference to a Strimzi `Kafka` cluster.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KafkaClusterRef {
    /// Name of the `Kafka` resource.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Namespace of the `Kafka` resource, when it is not the BigPeer's namespace. The topic and
    /// user are created there, so the Strimzi entity operator watching it picks them up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// The Kafka topic that holds the transaction log.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TopicSpec {
    /// Number of partitions. Can grow, never shrink (Kafka cannot reduce partitions).
    #[serde(default = "defaults::topic_partitions")]
    #[schemars(range(min = 1, max = 1024))]
    #[x_kube(validation = Rule::new("self >= oldSelf")
        .message("spec.transactionLog.strimzi.topic.partitions cannot decrease (Kafka cannot remove partitions): keep the current count or raise it")
        .reason(Reason::FieldValueForbidden))]
    pub partitions: i32,

    /// Replication factor of the topic. Must not exceed the Kafka cluster's broker count.
    #[serde(default = "defaults::topic_replicas")]
    #[schemars(range(min = 1, max = 10))]
    pub replicas: i32,

    /// How long Kafka keeps log segments (a duration such as `168h`). Defaults to 168h (7 days).
    #[serde(default = "defaults::topic_retention")]
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('1h')")
        .message("spec.transactionLog.strimzi.topic.retention must be at least 1h so a lagging store replica can catch up"))]
    pub retention: String,
}

impl Default for TopicSpec {
    fn default() -> Self {
        Self {
            partitions: defaults::topic_partitions(),
            replicas: defaults::topic_replicas(),
            retention: defaults::topic_retention(),
        }
    }
}

/// How Big Peer authenticates to a Strimzi Kafka listener.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum KafkaAuthentication {
    /// SASL SCRAM-SHA-512 with a password the Strimzi user operator generates.
    #[default]
    #[serde(rename = "scram-sha-512")]
    ScramSha512,
    /// Mutual TLS with a client certificate the Strimzi user operator issues.
    #[serde(rename = "tls")]
    Tls,
}

/// An external Kafka-compatible broker.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalLog {
    /// Bootstrap servers as `host:port`.
    #[schemars(length(min = 1, max = 16), inner(length(max = 261)))]
    #[x_kube(validation = Rule::new("self.all(s, s.matches('^[A-Za-z0-9.-]+:[0-9]{1,5}$'))")
        .message("spec.transactionLog.external.bootstrapServers entries must be host:port, for example kafka-0.example.com:9093"))]
    pub bootstrap_servers: Vec<BootstrapServer>,

    /// Name of the topic to use; it must already exist.
    #[schemars(length(min = 1, max = 249), regex(pattern = r"^[a-zA-Z0-9._-]+$"))]
    pub topic: String,

    /// TLS to the brokers. Unset means plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ExternalLogTls>,

    /// SASL authentication. Unset means no authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sasl: Option<SaslAuthentication>,
}

/// One bootstrap server, `host:port`.
pub type BootstrapServer = String;

/// TLS to an external broker.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalLogTls {
    /// CA bundle that signs the brokers' certificates. Unset trusts the image's system CAs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<SecretKeyRef>,
    /// A Secret of type `kubernetes.io/tls` with a client certificate, for mutual TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_secret_ref: Option<SecretRef>,
}

/// SASL authentication to an external broker.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SaslAuthentication {
    /// The SASL mechanism.
    pub mechanism: SaslMechanism,
    /// A Secret holding the credentials under the keys `username` and `password`.
    pub secret_ref: SecretRef,
}

/// A SASL mechanism.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum SaslMechanism {
    /// SCRAM with SHA-512.
    #[default]
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
    /// SCRAM with SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// Plain user name and password; use only over TLS.
    #[serde(rename = "PLAIN")]
    Plain,
}
