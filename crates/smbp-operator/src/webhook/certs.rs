//! The webhook's serving certificate, from one of two sources:
//!
//! - **cert-manager** (`--webhook-cert-source=files`): a Certificate's Secret mounted as files
//!   (`tls.crt`, `tls.key`), read again whenever they change; cert-manager's CA injector fills the
//!   configuration's `caBundle` (annotation `cert-manager.io/inject-ca-from`).
//! - **self-managed** (`--webhook-cert-source=self-managed`): the operator's own CA, kept in a
//!   Secret all replicas share, signs each replica's serving certificate (its key never leaves
//!   the process). The CA bundle is patched into the ValidatingWebhookConfiguration. Both are
//!   renewed once two thirds of their lifetime have passed; a renewed CA is added to the bundle
//!   beside the old one, so certificates the old one signed stay trusted until they expire.
//!
//! Either way the certificate is swapped into the running TLS server without a restart.

use crate::metrics::Metrics;
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub enum CertSource {
    /// Files in a directory (a mounted cert-manager Secret).
    Files(PathBuf),
    /// The operator's own CA.
    SelfManaged(SelfManaged),
}

/// Settings of the self-managed CA.
#[derive(Debug, Clone)]
pub struct SelfManaged {
    /// Namespace of the CA Secret (the operator's).
    pub namespace: String,
    /// Name of the CA Secret.
    pub secret: String,
    /// DNS names and IP addresses the serving certificate covers (the webhook Service's).
    pub names: Vec<String>,
    /// The ValidatingWebhookConfiguration whose `caBundle` is kept current, if any.
    pub configuration: Option<String>,
    /// How long the CA is valid.
    pub ca_validity: Duration,
    /// How long a serving certificate is valid.
    pub cert_validity: Duration,
}

/// Annotations on the CA Secret: the CA's subject and expiry.
const CA_NAME_ANNOTATION: &str = "smbp.dev/ca-common-name";
const CA_NOT_AFTER_ANNOTATION: &str = "smbp.dev/ca-not-after";

/// The certificate the TLS server presents, swapped in place on renewal.
#[derive(Debug, Default)]
pub struct CurrentCert {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl CurrentCert {
    /// Whether a certificate is loaded.
    pub fn loaded(&self) -> bool {
        self.current.read().map(|c| c.is_some()).unwrap_or(false)
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        if let Ok(mut current) = self.current.write() {
            *current = Some(key);
        }
    }
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().and_then(|c| c.clone())
    }
}

/// A rustls server configuration presenting `cert`.
pub fn server_config(cert: Arc<CurrentCert>) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Keeps `cert` current from `source` until `stop` turns true. The first certificate is loaded
/// before this returns control to the caller's select (an error then ends the process).
pub async fn maintain(
    source: CertSource,
    client: kube::Client,
    cert: Arc<CurrentCert>,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut manager = match &source {
        CertSource::Files(_) => None,
        CertSource::SelfManaged(settings) => Some(CaManager::new(client, settings.clone())),
    };
    let mut loaded_files: Option<(Vec<u8>, Vec<u8>)> = None;
    loop {
        let outcome = match (&source, manager.as_mut()) {
            (CertSource::Files(dir), _) => reload_files(dir, &mut loaded_files, &cert, &metrics),
            (CertSource::SelfManaged(_), Some(manager)) => manager.round(&cert, &metrics).await,
            (CertSource::SelfManaged(_), None) => Err("no CA manager".into()),
        };
        if let Err(error) = outcome {
            if !cert.loaded() {
                return Err(format!("cannot load the webhook certificate: {error}"));
            }
            tracing::warn!(%error, "could not renew the webhook certificate; retrying");
        }
        let every = match &source {
            CertSource::Files(_) => Duration::from_secs(10),
            CertSource::SelfManaged(s) => {
                (s.cert_validity / 6).clamp(Duration::from_millis(200), Duration::from_secs(60))
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = crate::serve::until(stop.clone()) => return Ok(()),
        }
    }
}

fn reload_files(
    dir: &std::path::Path,
    loaded: &mut Option<(Vec<u8>, Vec<u8>)>,
    cert: &CurrentCert,
    metrics: &Metrics,
) -> Result<(), String> {
    let read = |file: &str| {
        std::fs::read(dir.join(file)).map_err(|e| format!("read {}: {e}", dir.join(file).display()))
    };
    let pair = (read("tls.crt")?, read("tls.key")?);
    if loaded.as_ref() == Some(&pair) {
        return Ok(());
    }
    let key = certified_key(&pair.0, &pair.1)?;
    if let Some(not_after) = not_after_of(&key) {
        metrics.webhook_cert_expiry.set(not_after);
    }
    cert.set(Arc::new(key));
    tracing::info!(dir = %dir.display(), "loaded the webhook certificate");
    *loaded = Some(pair);
    Ok(())
}

fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls.crt is not PEM: {e}"))?;
    if chain.is_empty() {
        return Err("tls.crt holds no certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("tls.key is not a PEM private key: {e}"))?;
    let signing = any_supported_type(&key).map_err(|e| format!("tls.key: {e}"))?;
    Ok(CertifiedKey::new(chain, signing))
}

/// The leaf's expiry as Unix seconds.
fn not_after_of(key: &CertifiedKey) -> Option<i64> {
    key.cert.first().and_then(|c| der_not_after(c.as_ref()))
}

/// The `notAfter` of a DER certificate as Unix seconds.
fn der_not_after(der: &[u8]) -> Option<i64> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(certificate.validity().not_after.timestamp())
}

/// The self-managed CA and this replica's serving certificate.
struct CaManager {
    secrets: Api<Secret>,
    configurations: Api<ValidatingWebhookConfiguration>,
    settings: SelfManaged,
    /// The CA that signed the serving certificate, and when that certificate must be renewed.
    issued: Option<(String, OffsetDateTime)>,
}

/// The CA as stored in its Secret.
struct StoredCa {
    common_name: String,
    key_pem: String,
    not_after: OffsetDateTime,
    bundle_pem: String,
}

impl CaManager {
    fn new(client: kube::Client, settings: SelfManaged) -> Self {
        Self {
            secrets: Api::namespaced(client.clone(), &settings.namespace),
            configurations: Api::all(client),
            settings,
            issued: None,
        }
    }

    /// One round: the CA exists and is not due for renewal, the serving certificate is signed
    /// by it and not due, and the webhook configuration trusts the bundle.
    async fn round(&mut self, cert: &CurrentCert, metrics: &Metrics) -> Result<(), String> {
        let ca = self.ensure_ca().await?;
        let now = OffsetDateTime::now_utc();
        let due = match &self.issued {
            Some((signer, renew_at)) => *signer != ca.common_name || now >= *renew_at,
            None => true,
        };
        if due {
            let (key, not_after) = issue_with(&self.settings, &ca, now)?;
            cert.set(Arc::new(key));
            metrics.webhook_cert_expiry.set(not_after.unix_timestamp());
            let renew_at = now + self.settings.cert_validity * 2 / 3;
            self.issued = Some((ca.common_name.clone(), renew_at));
            tracing::info!(ca = %ca.common_name, %not_after, "issued the webhook serving certificate");
        }
        if let Some(name) = &self.settings.configuration {
            self.patch_bundle(name, &ca.bundle_pem).await?;
        }
        Ok(())
    }

    /// The CA from its Secret; created when absent, renewed once two thirds of its life passed.
    async fn ensure_ca(&self) -> Result<StoredCa, String> {
        let name = &self.settings.secret;
        let now = OffsetDateTime::now_utc();
        let existing = self
            .secrets
            .get_opt(name)
            .await
            .map_err(|e| format!("read Secret {name}: {e}"))?;
        if let Some(secret) = &existing
            && let Some(stored) = read_ca(secret)
            && now < stored.not_after - self.settings.ca_validity / 3
        {
            return Ok(stored);
        }
        let (ca_pem, key_pem, common_name, not_after) = new_ca(now, self.settings.ca_validity)?;
        // Keep the previous CAs that are still valid, so certificates they signed stay trusted.
        let previous = existing
            .as_ref()
            .and_then(read_ca)
            .map(|ca| ca.bundle_pem)
            .unwrap_or_default();
        let bundle_pem = format!("{ca_pem}{}", still_valid(&previous, now));
        let data = BTreeMap::from([
            (
                "ca.crt".to_string(),
                ByteString(bundle_pem.clone().into_bytes()),
            ),
            (
                "ca.key".to_string(),
                ByteString(key_pem.clone().into_bytes()),
            ),
        ]);
        let annotations = BTreeMap::from([
            (CA_NAME_ANNOTATION.to_string(), common_name.clone()),
            (
                CA_NOT_AFTER_ANNOTATION.to_string(),
                not_after.unix_timestamp().to_string(),
            ),
        ]);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.settings.namespace.clone()),
                annotations: Some(annotations),
                resource_version: existing
                    .as_ref()
                    .and_then(|s| s.metadata.resource_version.clone()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_string(),
                    smbp_core::build::MANAGED_BY.to_string(),
                )])),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".into()),
            data: Some(data),
            ..Secret::default()
        };
        let written = match &existing {
            None => self.secrets.create(&PostParams::default(), &secret).await,
            Some(_) => {
                self.secrets
                    .replace(name, &PostParams::default(), &secret)
                    .await
            }
        };
        match written {
            Ok(_) => {
                tracing::info!(secret = %name, ca = %common_name, "created the webhook CA");
                Ok(StoredCa {
                    common_name,
                    key_pem,
                    not_after,
                    bundle_pem,
                })
            }
            // Another replica wrote it first: use theirs.
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let secret = self
                    .secrets
                    .get(name)
                    .await
                    .map_err(|e| format!("read Secret {name}: {e}"))?;
                read_ca(&secret).ok_or_else(|| format!("Secret {name} does not hold a CA"))
            }
            Err(error) => Err(format!("write Secret {name}: {error}")),
        }
    }

    /// Writes the bundle into every webhook of the configuration, when it differs.
    async fn patch_bundle(&self, name: &str, bundle_pem: &str) -> Result<(), String> {
        let Some(mut configuration) = self
            .configurations
            .get_opt(name)
            .await
            .map_err(|e| format!("read ValidatingWebhookConfiguration {name}: {e}"))?
        else {
            return Err(format!(
                "ValidatingWebhookConfiguration {name} does not exist; install config/webhook or unset --webhook-configuration"
            ));
        };
        let mut changed = false;
        for webhook in configuration.webhooks.iter_mut().flatten() {
            let current = webhook
                .client_config
                .ca_bundle
                .as_ref()
                .map(|b| b.0.as_slice());
            if current != Some(bundle_pem.as_bytes()) {
                webhook.client_config.ca_bundle = Some(ByteString(bundle_pem.as_bytes().to_vec()));
                changed = true;
            }
        }
        if changed {
            match self
                .configurations
                .replace(name, &PostParams::default(), &configuration)
                .await
            {
                Ok(_) => {
                    tracing::info!(
                        configuration = name,
                        bundle_bytes = bundle_pem.len(),
                        "patched the webhook caBundle"
                    )
                }
                // Another replica patched it meanwhile; the next round compares again.
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(error) => {
                    return Err(format!(
                        "write ValidatingWebhookConfiguration {name}: {error}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A serving certificate for the webhook's names, signed by `ca`.
fn issue_with(
    settings: &SelfManaged,
    ca: &StoredCa,
    now: OffsetDateTime,
) -> Result<(CertifiedKey, OffsetDateTime), String> {
    let ca_key = KeyPair::from_pem(&ca.key_pem).map_err(|e| format!("CA key: {e}"))?;
    let issuer = Issuer::new(ca_params(&ca.common_name)?, ca_key);
    let mut params = CertificateParams::new(settings.names.clone()).map_err(|e| e.to_string())?;
    if let Some(first) = settings.names.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    params.not_before = now - Duration::from_secs(60);
    params.not_after = (now + settings.cert_validity).min(ca.not_after);
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let leaf = params.signed_by(&key, &issuer).map_err(|e| e.to_string())?;
    let certified = certified_key(leaf.pem().as_bytes(), key.serialize_pem().as_bytes())?;
    Ok((certified, params.not_after))
}

fn ca_params(common_name: &str) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// A new CA: its certificate and key (PEM), common name and expiry.
fn new_ca(
    now: OffsetDateTime,
    validity: Duration,
) -> Result<(String, String, String, OffsetDateTime), String> {
    let common_name = format!("smbp-operator webhook CA {}", now.unix_timestamp_nanos());
    let mut params = ca_params(&common_name)?;
    params.not_before = now - Duration::from_secs(60);
    params.not_after = now + validity;
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((
        cert.pem(),
        key.serialize_pem(),
        common_name,
        params.not_after,
    ))
}

fn read_ca(secret: &Secret) -> Option<StoredCa> {
    let annotations = secret.metadata.annotations.as_ref()?;
    let data = secret.data.as_ref()?;
    let text = |key: &str| {
        data.get(key)
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
    };
    let not_after: i64 = annotations.get(CA_NOT_AFTER_ANNOTATION)?.parse().ok()?;
    Some(StoredCa {
        common_name: annotations.get(CA_NAME_ANNOTATION)?.clone(),
        key_pem: text("ca.key")?,
        not_after: OffsetDateTime::from_unix_timestamp(not_after).ok()?,
        bundle_pem: text("ca.crt")?,
    })
}

/// The certificates of a PEM bundle that have not expired at `now`.
fn still_valid(bundle_pem: &str, now: OffsetDateTime) -> String {
    let mut kept = String::new();
    for block in bundle_pem.split_inclusive("-----END CERTIFICATE-----\n") {
        let Ok(der) = CertificateDer::from_pem_slice(block.as_bytes()) else {
            continue;
        };
        if der_not_after(der.as_ref()).is_some_and(|t| t > now.unix_timestamp()) {
            kept.push_str(block);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;

    #[test]
    fn the_expiry_is_read_from_the_certificate_itself() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let (pem, _, _, not_after) = new_ca(now, Duration::from_secs(86_400)).unwrap();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(
            der_not_after(der.as_ref()),
            Some(not_after.unix_timestamp())
        );
        assert_eq!(not_after.unix_timestamp(), 1_800_086_400);
    }

    #[test]
    fn expired_cas_leave_the_bundle_and_valid_ones_stay() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let (old, ..) =
            new_ca(now - Duration::from_secs(7_200), Duration::from_secs(3_600)).unwrap();
        let (current, ..) = new_ca(now, Duration::from_secs(3_600)).unwrap();
        let bundle = format!("{current}{old}");
        assert_eq!(still_valid(&bundle, now), current);
    }

    #[test]
    fn a_serving_certificate_signed_by_the_stored_ca_verifies_against_the_bundle() {
        let now = OffsetDateTime::now_utc();
        let (ca_pem, key_pem, common_name, not_after) =
            new_ca(now, Duration::from_secs(3_600)).unwrap();
        let manager_settings = SelfManaged {
            namespace: "smbp-system".into(),
            secret: "ca".into(),
            names: vec!["smbp-webhook.smbp-system.svc".into(), "127.0.0.1".into()],
            configuration: None,
            ca_validity: Duration::from_secs(3_600),
            cert_validity: Duration::from_secs(600),
        };
        let stored = StoredCa {
            common_name,
            key_pem,
            not_after,
            bundle_pem: ca_pem.clone(),
        };
        let (key, leaf_not_after) = issue_with(&manager_settings, &stored, now).unwrap();
        assert!(leaf_not_after <= not_after);
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
            .unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        let name = rustls::pki_types::ServerName::try_from("smbp-webhook.smbp-system.svc").unwrap();
        verifier
            .verify_server_cert(
                &key.cert[0],
                &[],
                &name,
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .expect("the leaf chains to the CA");
    }
}
