//! The dereference stage: reads the objects a BigPeer refers to but does not own — the TLS Secret
//! (its digest rolls the pods on a new certificate; its CA is what a Gateway verifies the pods
//! with), the cert-manager issuer, the Strimzi Kafka
//! cluster (existence, readiness, bootstrap address) and, when the cluster is in another
//! namespace, the Secret Strimzi made for the KafkaUser. Reads only; absence is a finding, not an
//! error.

use crate::context::Context;
use crate::error::{Error, Result, is_not_found};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, GroupVersionKind};
use serde_json::Value;
use smbp_api::v1alpha1::{BigPeer, IssuerKind, KafkaAuthentication};
use smbp_core::build::{Names, Observed, OptionalApi};
use std::collections::BTreeSet;

/// What was found about a referenced object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Not referenced by the spec.
    NotUsed,
    /// Its API is not installed.
    ApiMissing(OptionalApi),
    /// It does not exist.
    Missing(String),
    /// It exists but is not ready (reason, message).
    NotReady(String, String),
    /// It exists and is ready.
    Ready,
}

/// Everything the dereference stage found.
#[derive(Debug, Clone)]
pub struct Dereferenced {
    /// Facts the build stage uses.
    pub observed: Observed,
    /// The cert-manager issuer.
    pub issuer: Found,
    /// The user's TLS Secret (`spec.tls.secretRef`).
    pub tls_secret: Found,
    /// The Strimzi Kafka cluster.
    pub kafka: Found,
}

/// Reads what `bigpeer` refers to.
pub async fn dereference(
    ctx: &Context,
    bigpeer: &BigPeer,
    installed: &BTreeSet<OptionalApi>,
) -> Result<Dereferenced> {
    let ns = bigpeer.metadata.namespace.clone().unwrap_or_default();
    let names = Names::new(bigpeer.metadata.name.as_deref().unwrap_or_default());
    let mut observed = Observed::default();
    let mut issuer = Found::NotUsed;
    let mut tls_secret = Found::NotUsed;
    if let Some(tls) = &bigpeer.spec.tls {
        let secret_name = match &tls.secret_ref {
            Some(r) => r.name.clone(),
            None => names.certificate(),
        };
        let secret = get_secret(ctx, &ns, &secret_name).await?;
        observed.tls_checksum = secret.as_ref().and_then(tls_digest);
        observed.tls_ca = secret.as_ref().and_then(ca_certificate);
        if tls.secret_ref.is_some() {
            tls_secret = match &secret {
                None => Found::Missing(format!("Secret {ns}/{secret_name} does not exist")),
                Some(_) if observed.tls_checksum.is_none() => Found::NotReady(
                    "SecretIncomplete".into(),
                    format!("Secret {ns}/{secret_name} lacks tls.crt or tls.key"),
                ),
                Some(_) => Found::Ready,
            };
        }
        if let Some(cm) = &tls.cert_manager {
            issuer = if !installed.contains(&OptionalApi::CertManager) {
                Found::ApiMissing(OptionalApi::CertManager)
            } else if cm.issuer_ref.group != "cert-manager.io" {
                // An external issuer (its own API group): cert-manager reports on it through the
                // Certificate's conditions.
                Found::Ready
            } else {
                let (kind, namespace) = match cm.issuer_ref.kind {
                    IssuerKind::Issuer => ("Issuer", Some(ns.as_str())),
                    IssuerKind::ClusterIssuer => ("ClusterIssuer", None),
                };
                let object = get_dynamic(
                    ctx,
                    "cert-manager.io",
                    "v1",
                    kind,
                    namespace,
                    &cm.issuer_ref.name,
                )
                .await?;
                match object {
                    None => Found::Missing(format!(
                        "{kind} {} does not exist; create it or fix spec.tls.certManager.issuerRef",
                        cm.issuer_ref.name
                    )),
                    Some(object) => readiness(&object, kind, &cm.issuer_ref.name),
                }
            };
        }
    }
    let mut kafka = Found::NotUsed;
    if let Some(strimzi) = &bigpeer.spec.transaction_log.strimzi {
        kafka = if !installed.contains(&OptionalApi::Strimzi) {
            Found::ApiMissing(OptionalApi::Strimzi)
        } else {
            let kafka_ns = strimzi
                .cluster_ref
                .namespace
                .clone()
                .unwrap_or_else(|| ns.clone());
            let name = &strimzi.cluster_ref.name;
            match get_dynamic(
                ctx,
                "kafka.strimzi.io",
                "v1",
                "Kafka",
                Some(&kafka_ns),
                name,
            )
            .await?
            {
                None => Found::Missing(format!(
                    "Kafka {kafka_ns}/{name} does not exist; create it or fix spec.transactionLog.strimzi.clusterRef"
                )),
                Some(object) => {
                    observed.kafka_bootstrap = bootstrap(&object, strimzi.authentication);
                    if kafka_ns != ns {
                        let user = names.transaction_log(&ns, Some(&kafka_ns));
                        observed.kafka_user_secret = get_secret(ctx, &kafka_ns, &user)
                            .await?
                            .and_then(|s| s.data)
                            .filter(|d| !d.is_empty());
                    }
                    readiness(&object, "Kafka", name)
                }
            }
        };
    }
    Ok(Dereferenced {
        observed,
        issuer,
        tls_secret,
        kafka,
    })
}

/// A digest of a TLS Secret's certificate, key and CA (the keys pods mount).
/// The CA certificate in a TLS Secret's `ca.crt`, when it holds a non-empty UTF-8 one.
fn ca_certificate(secret: &Secret) -> Option<String> {
    let ca = secret.data.as_ref()?.get("ca.crt")?;
    String::from_utf8(ca.0.clone())
        .ok()
        .filter(|pem| !pem.trim().is_empty())
}

fn tls_digest(secret: &Secret) -> Option<String> {
    let data = secret.data.as_ref()?;
    let (crt, key) = (data.get("tls.crt")?, data.get("tls.key")?);
    let mut bytes = Vec::new();
    for part in [Some(crt), Some(key), data.get("ca.crt")]
        .into_iter()
        .flatten()
    {
        bytes.extend_from_slice(&part.0);
        bytes.push(0);
    }
    use sha2::Digest;
    let hash = sha2::Sha256::digest(&bytes);
    Some(hash.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// The `Ready` condition of a third-party object as [`Found`].
pub fn readiness(object: &Value, kind: &str, name: &str) -> Found {
    let ready = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"));
    match ready {
        Some(c) if c["status"] == "True" => Found::Ready,
        Some(c) => Found::NotReady(
            c["reason"].as_str().unwrap_or("NotReady").to_string(),
            format!(
                "{kind} {name}: {}",
                c["message"].as_str().unwrap_or("not ready")
            ),
        ),
        None => Found::NotReady(
            "Pending".into(),
            format!("{kind} {name} has no Ready condition yet"),
        ),
    }
}

/// The bootstrap address of the listener matching the authentication: a listener named `tls`
/// for TLS client certificates, else the first TLS-capable one, else the first.
fn bootstrap(kafka: &Value, authentication: KafkaAuthentication) -> Option<String> {
    let listeners = kafka.pointer("/status/listeners")?.as_array()?;
    let wanted = match authentication {
        KafkaAuthentication::Tls => "tls",
        KafkaAuthentication::ScramSha512 => "scram",
    };
    listeners
        .iter()
        .find(|l| l["name"].as_str().is_some_and(|n| n.contains(wanted)))
        .or_else(|| listeners.iter().find(|l| l["name"] == "tls"))
        .or_else(|| listeners.first())
        .and_then(|l| l["bootstrapServers"].as_str())
        .map(str::to_string)
}

async fn get_secret(ctx: &Context, namespace: &str, name: &str) -> Result<Option<Secret>> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    api.get_opt(name)
        .await
        .map_err(|e| Error::kube(format!("read Secret {namespace}/{name}"), e))
}

/// Reads a third-party object as JSON; `None` when it does not exist.
pub async fn get_dynamic(
    ctx: &Context,
    group: &str,
    version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    let api = crate::client::dynamic_api(&ctx.client, namespace, &resource);
    match api.get(name).await {
        Ok(object) => serde_json::to_value(object)
            .map(Some)
            .map_err(|source| Error::Serde {
                action: format!("read {kind} {name}"),
                source,
            }),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(Error::kube(format!("read {kind} {name}"), e)),
    }
}
