//! A simulated Strimzi: a Kafka cluster goes Ready a few (simulated) seconds after it is created,
//! with its listeners' bootstrap addresses; KafkaTopics and KafkaUsers labelled
//! `strimzi.io/cluster` with a Ready Kafka in their namespace go Ready (a user also gets its
//! credentials Secret: a SCRAM-SHA-512 password, or a TLS client certificate signed by the
//! cluster's clients CA). A missing or unknown cluster label leaves them `Ready=False` with
//! Strimzi's `NoSuchResourceException` reason and message.

use super::api::{Api, Gvr, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{set_condition, str_at};
use crate::store::Change;
use crate::tls::CertificateAuthority;
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

const KAFKAS: &str = "kafka.strimzi.io/kafkas";
const TOPICS: &str = "kafka.strimzi.io/kafkatopics";
const USERS: &str = "kafka.strimzi.io/kafkausers";
/// How long a Kafka cluster takes to become Ready (simulated).
const KAFKA_STARTUP: Duration = Duration::from_secs(5);
const CLUSTER_LABEL: &str = "/metadata/labels/strimzi.io~1cluster";

/// The simulated Strimzi cluster, topic and user operators.
pub struct Strimzi {
    api: Api,
    /// The clients CA of each Kafka cluster, by uid.
    clients_ca: HashMap<String, CertificateAuthority>,
}

impl Strimzi {
    /// Strimzi writing through `api`.
    pub fn new(api: Api) -> Self {
        Strimzi {
            api,
            clients_ca: HashMap::new(),
        }
    }

    fn dependents(&self, namespace: &str) -> Vec<Key> {
        let mut keys = self.api.keys(gvr::KAFKA_TOPICS, Some(namespace));
        keys.extend(self.api.keys(gvr::KAFKA_USERS, Some(namespace)));
        keys
    }
}

impl Controller for Strimzi {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            KAFKAS => {
                let mut keys = vec![Key::of(KAFKAS, &change.object)];
                keys.extend(
                    self.dependents(
                        str_at(&change.object, "/metadata/namespace").unwrap_or_default(),
                    ),
                );
                keys
            }
            TOPICS | USERS => vec![Key::of(&change.resource, &change.object)],
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        let mut keys = self.api.keys(gvr::KAFKAS, None);
        keys.extend(self.api.keys(gvr::KAFKA_TOPICS, None));
        keys.extend(self.api.keys(gvr::KAFKA_USERS, None));
        keys
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        match key.resource.as_str() {
            KAFKAS => self.kafka(key).await,
            TOPICS => self.topic(key).await,
            _ => self.user(key).await,
        }
    }
}

fn ready_condition(
    object: &Value,
    ready: bool,
    now: &str,
    reason: Option<(&str, String)>,
) -> Vec<Value> {
    let mut conditions: Vec<Value> = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut fields = Vec::new();
    if let Some((reason, message)) = reason {
        fields.push(("reason", json!(reason)));
        fields.push(("message", json!(message)));
    }
    set_condition(
        &mut conditions,
        "Ready",
        if ready { "True" } else { "False" },
        now,
        &fields,
    );
    conditions.retain(|c| c["type"] == "Ready");
    conditions
}

impl Strimzi {
    async fn write(&self, resource: Gvr, object: &Value, status: Value) {
        let _ = self.api.write_status(resource, object, status).await;
    }

    async fn kafka(&self, key: &Key) -> Requeue {
        let kafka = self.api.get(gvr::KAFKAS, &key.namespace, &key.name)?;
        let clock = &self.api.sim().clock;
        let age = clock.since(str_at(&kafka, "/metadata/creationTimestamp").unwrap_or_default());
        if age < KAFKA_STARTUP {
            return Some(KAFKA_STARTUP - age);
        }
        let now = clock.now_rfc3339();
        let listeners: Vec<Value> = kafka
            .pointer("/spec/kafka/listeners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|l| {
                let host = format!("{}-kafka-bootstrap.{}.svc", key.name, key.namespace);
                let port = l["port"].as_i64().unwrap_or(9092);
                json!({"name": l["name"], "addresses": [{"host": host, "port": port}], "bootstrapServers": format!("{host}:{port}")})
            })
            .collect();
        let status = json!({
            "conditions": ready_condition(&kafka, true, &now, None),
            "observedGeneration": kafka["metadata"]["generation"],
            "listeners": listeners,
            "clusterId": str_at(&kafka, "/metadata/uid").unwrap_or_default().replace('-', "").chars().take(22).collect::<String>(),
            "kafkaVersion": str_at(&kafka, "/spec/kafka/version").unwrap_or("4.1.0"),
            "kafkaMetadataState": "KRaft",
            "operatorLastSuccessfulVersion": "0.49.0",
        });
        self.write(gvr::KAFKAS, &kafka, status).await;
        None
    }

    /// The Ready Kafka cluster an object's label names, or Strimzi's reason why not.
    fn cluster_of(
        &self,
        object: &Value,
        namespace: &str,
    ) -> Result<std::sync::Arc<Value>, (&'static str, String)> {
        let Some(cluster) = str_at(object, CLUSTER_LABEL) else {
            return Err(("InvalidResourceException", "Resource lacks label 'strimzi.io/cluster': No cluster related to a possible topic.".into()));
        };
        match self.api.get(gvr::KAFKAS, namespace, cluster) {
            Some(kafka)
                if super::util::condition(&kafka, "Ready")
                    .is_some_and(|c| c["status"] == "True") =>
            {
                Ok(kafka)
            }
            Some(_) => Err((
                "KafkaNotReady",
                format!("Kafka cluster '{cluster}' in namespace {namespace} is not ready"),
            )),
            None => Err((
                "NoSuchResourceException",
                format!(
                    "Kafka resource '{cluster}' identified by label 'strimzi.io/cluster' does not exist in namespace {namespace}."
                ),
            )),
        }
    }

    async fn topic(&self, key: &Key) -> Requeue {
        let topic = self.api.get(gvr::KAFKA_TOPICS, &key.namespace, &key.name)?;
        let now = self.api.sim().clock.now_rfc3339();
        let status = match self.cluster_of(&topic, &key.namespace) {
            Ok(_) => json!({
                "conditions": ready_condition(&topic, true, &now, None),
                "observedGeneration": topic["metadata"]["generation"],
                "topicName": str_at(&topic, "/spec/topicName").unwrap_or(&key.name),
                "topicId": str_at(&topic, "/metadata/uid").unwrap_or_default().replace('-', "").chars().take(22).collect::<String>(),
            }),
            Err(reason) => {
                json!({"conditions": ready_condition(&topic, false, &now, Some(reason)), "observedGeneration": topic["metadata"]["generation"]})
            }
        };
        self.write(gvr::KAFKA_TOPICS, &topic, status).await;
        None
    }

    async fn user(&mut self, key: &Key) -> Requeue {
        let user = self.api.get(gvr::KAFKA_USERS, &key.namespace, &key.name)?;
        let now = self.api.sim().clock.now_rfc3339();
        let kafka = match self.cluster_of(&user, &key.namespace) {
            Ok(kafka) => kafka,
            Err(reason) => {
                let status = json!({"conditions": ready_condition(&user, false, &now, Some(reason)), "observedGeneration": user["metadata"]["generation"]});
                self.write(gvr::KAFKA_USERS, &user, status).await;
                return None;
            }
        };
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let tls = str_at(&user, "/spec/authentication/type")
            .is_some_and(|t| t == "tls" || t == "tls-external");
        let username = if tls {
            format!("CN={}", key.name)
        } else {
            key.name.clone()
        };
        if self
            .api
            .get(gvr::SECRETS, &key.namespace, &key.name)
            .is_none()
        {
            let data = if tls {
                let kafka_uid = str_at(&kafka, "/metadata/uid")
                    .unwrap_or_default()
                    .to_string();
                if !self.clients_ca.contains_key(&kafka_uid) {
                    let Ok(ca) = CertificateAuthority::new(&format!(
                        "clients-ca-{}",
                        str_at(&kafka, "/metadata/name").unwrap_or_default()
                    )) else {
                        return Some(Duration::from_secs(5));
                    };
                    self.clients_ca.insert(kafka_uid.clone(), ca);
                }
                let ca = &self.clients_ca[&kafka_uid];
                let Ok(issued) = ca.issue(std::slice::from_ref(&key.name), 365) else {
                    return Some(Duration::from_secs(5));
                };
                json!({"ca.crt": encode(ca.cert_pem().as_bytes()), "user.crt": encode(issued.cert_pem.as_bytes()), "user.key": encode(issued.key_pem.as_bytes())})
            } else {
                let password = uuid::Uuid::new_v4().simple().to_string();
                let jaas = format!(
                    "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{password}\";",
                    key.name
                );
                json!({"password": encode(password.as_bytes()), "sasl.jaas.config": encode(jaas.as_bytes())})
            };
            let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": key.name, "namespace": key.namespace,
                    "labels": {"app.kubernetes.io/instance": key.name, "app.kubernetes.io/managed-by": "strimzi-user-operator",
                               "app.kubernetes.io/name": "strimzi-user-operator", "app.kubernetes.io/part-of": format!("strimzi-{}", str_at(&kafka, "/metadata/name").unwrap_or_default()),
                               "strimzi.io/cluster": str_at(&kafka, "/metadata/name").unwrap_or_default(), "strimzi.io/kind": "KafkaUser"},
                    "ownerReferences": [super::util::controller_ref(&user)]},
                "data": data});
            if self
                .api
                .create(gvr::SECRETS, &key.namespace, &secret)
                .await
                .is_err()
            {
                return Some(Duration::from_secs(1));
            }
        }
        let status = json!({"conditions": ready_condition(&user, true, &now, None), "observedGeneration": user["metadata"]["generation"],
            "username": username, "secret": key.name});
        self.write(gvr::KAFKA_USERS, &user, status).await;
        None
    }
}
