//! A simulated cert-manager: Issuers and ClusterIssuers become Ready (a CA issuer only when its
//! key pair Secret exists, with cert-manager's `ErrGetKeyPair` otherwise); a Certificate whose
//! issuer is Ready gets a Secret (`kubernetes.io/tls`: `tls.crt`, `tls.key`, `ca.crt`, and the
//! `cert-manager.io/*` annotations) holding a real certificate for its DNS names and IPs, signed
//! by a CA the simulator keeps per issuer, and goes Ready with `notBefore`, `notAfter`,
//! `renewalTime` and `revision`. At the renewal time (simulated clock) it is issued again: a new
//! Secret version. A deleted Secret or changed names are re-issued too. Without a Ready issuer
//! the Certificate stays `Ready=False` (`DoesNotExist`), as cert-manager leaves it.

use super::api::{Api, Gvr, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{int_at, set_condition, str_at};
use crate::store::Change;
use crate::tls::CertificateAuthority;
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

const ISSUERS: &str = "cert-manager.io/issuers";
const CLUSTER_ISSUERS: &str = "cert-manager.io/clusterissuers";
const CERTIFICATES: &str = "cert-manager.io/certificates";
/// Where ClusterIssuers read their Secrets, as cert-manager's `--cluster-resource-namespace`.
const CLUSTER_RESOURCE_NAMESPACE: &str = "cert-manager";

/// The simulated cert-manager controllers.
pub struct CertManager {
    api: Api,
    /// A signing CA per issuer uid.
    authorities: HashMap<String, CertificateAuthority>,
}

impl CertManager {
    /// cert-manager writing through `api`.
    pub fn new(api: Api) -> Self {
        CertManager {
            api,
            authorities: HashMap::new(),
        }
    }

    fn certificates(&self, namespace: Option<&str>) -> Vec<Key> {
        self.api.keys(gvr::CERTIFICATES, namespace)
    }
}

/// A Go duration (`2160h`, `1h30m`, `45s`, `500ms`).
pub fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        total += value
            * match unit.as_str() {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                _ => return None,
            };
    }
    number.is_empty().then(|| Duration::from_secs_f64(total))
}

impl Controller for CertManager {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        let namespace = str_at(&change.object, "/metadata/namespace");
        match change.resource.as_str() {
            ISSUERS => {
                let mut keys = vec![Key::of(ISSUERS, &change.object)];
                keys.extend(self.certificates(namespace));
                keys
            }
            CLUSTER_ISSUERS => {
                let mut keys = vec![Key::of(CLUSTER_ISSUERS, &change.object)];
                keys.extend(self.certificates(None));
                keys
            }
            CERTIFICATES => vec![Key::of(CERTIFICATES, &change.object)],
            "/secrets" => {
                let name = str_at(&change.object, "/metadata/name").unwrap_or_default();
                let mut keys: Vec<Key> = self
                    .api
                    .list(gvr::CERTIFICATES, namespace)
                    .iter()
                    .filter(|c| str_at(c, "/spec/secretName") == Some(name))
                    .map(|c| Key::of(CERTIFICATES, c))
                    .collect();
                for (resource, gvr) in [
                    (ISSUERS, gvr::ISSUERS),
                    (CLUSTER_ISSUERS, gvr::CLUSTER_ISSUERS),
                ] {
                    keys.extend(
                        self.api
                            .list(gvr, None)
                            .iter()
                            .filter(|i| str_at(i, "/spec/ca/secretName") == Some(name))
                            .map(|i| Key::of(resource, i)),
                    );
                }
                keys
            }
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        let mut keys = self.api.keys(gvr::ISSUERS, None);
        keys.extend(self.api.keys(gvr::CLUSTER_ISSUERS, None));
        keys.extend(self.certificates(None));
        keys
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        match key.resource.as_str() {
            ISSUERS => self.issuer(gvr::ISSUERS, key).await,
            CLUSTER_ISSUERS => self.issuer(gvr::CLUSTER_ISSUERS, key).await,
            _ => self.certificate(key).await,
        }
    }
}

impl CertManager {
    async fn issuer(&self, resource: Gvr, key: &Key) -> Requeue {
        let issuer = self.api.get(resource, &key.namespace, &key.name)?;
        let now = self.api.sim().clock.now_rfc3339();
        let spec = &issuer["spec"];
        let (ready, reason, message) = if let Some(secret) =
            spec.pointer("/ca/secretName").and_then(Value::as_str)
        {
            let namespace = if resource == gvr::CLUSTER_ISSUERS {
                CLUSTER_RESOURCE_NAMESPACE
            } else {
                key.namespace.as_str()
            };
            match self.api.get(gvr::SECRETS, namespace, secret) {
                Some(s)
                    if s.pointer("/data/tls.crt").is_some()
                        && s.pointer("/data/tls.key").is_some() =>
                {
                    ("True", "KeyPairVerified", "Signing CA verified".to_string())
                }
                Some(_) => (
                    "False",
                    "ErrInvalidKeyPair",
                    format!(
                        "Error getting keypair for CA issuer: secret \"{secret}\" does not contain tls.crt and tls.key"
                    ),
                ),
                None => (
                    "False",
                    "ErrGetKeyPair",
                    format!("Error getting keypair for CA issuer: secrets \"{secret}\" not found"),
                ),
            }
        } else if spec.get("acme").is_some() {
            (
                "True",
                "ACMEAccountRegistered",
                "The ACME account was registered with the ACME server".to_string(),
            )
        } else {
            ("True", "IsReady", String::new())
        };
        let mut conditions: Vec<Value> = issuer
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        set_condition(
            &mut conditions,
            "Ready",
            ready,
            &now,
            &[
                (
                    "observedGeneration",
                    issuer["metadata"]["generation"].clone(),
                ),
                ("reason", json!(reason)),
                ("message", json!(message)),
            ],
        );
        let mut status = issuer.get("status").cloned().unwrap_or(json!({}));
        status["conditions"] = json!(conditions);
        let _ = self.api.write_status(resource, &issuer, status).await;
        None
    }

    async fn certificate(&mut self, key: &Key) -> Requeue {
        let certificate = self.api.get(gvr::CERTIFICATES, &key.namespace, &key.name)?;
        let clock = &self.api.sim().clock;
        let now = clock.now();
        let now_text = clock.now_rfc3339();
        let generation = certificate["metadata"]["generation"].clone();
        let issuer_kind = str_at(&certificate, "/spec/issuerRef/kind")
            .unwrap_or("Issuer")
            .to_string();
        let issuer_name = str_at(&certificate, "/spec/issuerRef/name")
            .unwrap_or_default()
            .to_string();
        let issuer = if issuer_kind == "ClusterIssuer" {
            self.api.get(gvr::CLUSTER_ISSUERS, "", &issuer_name)
        } else {
            self.api.get(gvr::ISSUERS, &key.namespace, &issuer_name)
        };
        let issuer_ready = issuer.as_ref().is_some_and(|i| {
            super::util::condition(i, "Ready").is_some_and(|c| c["status"] == "True")
        });
        let secret_name = str_at(&certificate, "/spec/secretName")
            .unwrap_or_default()
            .to_string();
        let secret = self.api.get(gvr::SECRETS, &key.namespace, &secret_name);
        let mut names: Vec<String> = certificate
            .pointer("/spec/dnsNames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(String::from))
            .collect();
        let ips: Vec<String> = certificate
            .pointer("/spec/ipAddresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(String::from))
            .collect();
        if names.is_empty()
            && let Some(common_name) = str_at(&certificate, "/spec/commonName")
        {
            names.push(common_name.to_string());
        }
        let alt_names = names.join(",");
        let renewal_due =
            str_at(&certificate, "/status/renewalTime").is_some_and(|t| clock.is_past(t));
        let current = secret.as_ref().is_some_and(|s| {
            str_at(s, "/metadata/annotations/cert-manager.io~1alt-names")
                == Some(alt_names.as_str())
                && str_at(s, "/metadata/annotations/cert-manager.io~1issuer-name")
                    == Some(issuer_name.as_str())
        });
        let mut conditions: Vec<Value> = certificate
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut status = certificate.get("status").cloned().unwrap_or(json!({}));
        if current && !renewal_due {
            let message = "Certificate is up to date and has not expired";
            set_condition(
                &mut conditions,
                "Ready",
                "True",
                &now_text,
                &[
                    ("observedGeneration", generation),
                    ("reason", json!("Ready")),
                    ("message", json!(message)),
                ],
            );
            conditions.retain(|c| c["type"] != "Issuing");
            status["conditions"] = json!(conditions);
            self.write(&certificate, status).await;
            return str_at(&certificate, "/status/renewalTime").map(|t| {
                t.parse::<jiff::Timestamp>()
                    .ok()
                    .and_then(|t| Duration::try_from(t.duration_since(now)).ok())
                    .unwrap_or_default()
            });
        }
        let issuer = match issuer.filter(|_| issuer_ready) {
            Some(issuer) => issuer,
            None => {
                let (reason, message) = if secret.is_none() {
                    (
                        "DoesNotExist",
                        "Issuing certificate as Secret does not exist".to_string(),
                    )
                } else {
                    (
                        "Reissuing",
                        format!("Waiting for {issuer_kind} \"{issuer_name}\" to be ready"),
                    )
                };
                set_condition(
                    &mut conditions,
                    "Issuing",
                    "True",
                    &now_text,
                    &[
                        ("observedGeneration", generation.clone()),
                        ("reason", json!(reason)),
                        ("message", json!(message)),
                    ],
                );
                if secret.is_none() {
                    set_condition(
                        &mut conditions,
                        "Ready",
                        "False",
                        &now_text,
                        &[
                            ("observedGeneration", generation),
                            ("reason", json!(reason)),
                            ("message", json!(message)),
                        ],
                    );
                }
                status["conditions"] = json!(conditions);
                self.write(&certificate, status).await;
                return None;
            }
        };
        let duration = str_at(&certificate, "/spec/duration")
            .and_then(go_duration)
            .unwrap_or(Duration::from_secs(2160 * 3600));
        let renew_before = str_at(&certificate, "/spec/renewBefore")
            .and_then(go_duration)
            .or_else(|| {
                int_at(&certificate, "/spec/renewBeforePercentage")
                    .map(|p| duration.mul_f64(p.clamp(1, 99) as f64 / 100.0))
            })
            .unwrap_or(duration / 3)
            .min(duration);
        let issuer_uid = str_at(&issuer, "/metadata/uid")
            .unwrap_or_default()
            .to_string();
        if !self.authorities.contains_key(&issuer_uid) {
            let Ok(ca) =
                CertificateAuthority::new(&format!("smbp-sim {issuer_kind} {issuer_name}"))
            else {
                return Some(Duration::from_secs(5));
            };
            self.authorities.insert(issuer_uid.clone(), ca);
        }
        let ca = &self.authorities[&issuer_uid];
        let not_before = time::OffsetDateTime::from_unix_timestamp(now.as_second())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let not_after = not_before + duration;
        let mut sans = names.clone();
        sans.extend(ips.iter().cloned());
        let Ok(issued) = ca.issue_between(&sans, not_before, not_after) else {
            return Some(Duration::from_secs(5));
        };
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let template = certificate
            .pointer("/spec/secretTemplate")
            .cloned()
            .unwrap_or(json!({}));
        let mut annotations = template.get("annotations").cloned().unwrap_or(json!({}));
        for (k, v) in [
            ("cert-manager.io/alt-names", alt_names.as_str()),
            ("cert-manager.io/certificate-name", key.name.as_str()),
            (
                "cert-manager.io/common-name",
                str_at(&certificate, "/spec/commonName").unwrap_or_default(),
            ),
            ("cert-manager.io/ip-sans", &ips.join(",")),
            ("cert-manager.io/issuer-group", "cert-manager.io"),
            ("cert-manager.io/issuer-kind", issuer_kind.as_str()),
            ("cert-manager.io/issuer-name", issuer_name.as_str()),
            ("cert-manager.io/uri-sans", ""),
        ] {
            annotations[k] = json!(v);
        }
        let mut labels = template.get("labels").cloned().unwrap_or(json!({}));
        labels["controller.cert-manager.io/fao"] = json!("true");
        let data = json!({"tls.crt": encode(issued.cert_pem.as_bytes()), "tls.key": encode(issued.key_pem.as_bytes()), "ca.crt": encode(ca.cert_pem().as_bytes())});
        let written = match secret {
            Some(existing) => {
                let mut updated = (*existing).clone();
                updated["data"] = data;
                updated["metadata"]["annotations"] = annotations;
                updated["metadata"]["labels"] = labels;
                updated["type"] = json!("kubernetes.io/tls");
                self.api.replace(gvr::SECRETS, &updated).await
            }
            None => {
                let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                    "metadata": {"name": secret_name, "namespace": key.namespace, "annotations": annotations, "labels": labels},
                    "data": data});
                self.api.create(gvr::SECRETS, &key.namespace, &secret).await
            }
        };
        if written.is_err() {
            return Some(Duration::from_secs(1));
        }
        let format = |t: time::OffsetDateTime| {
            crate::clock::format_seconds(
                jiff::Timestamp::from_second(t.unix_timestamp())
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            )
        };
        set_condition(
            &mut conditions,
            "Ready",
            "True",
            &now_text,
            &[
                ("observedGeneration", generation),
                ("reason", json!("Ready")),
                (
                    "message",
                    json!("Certificate is up to date and has not expired"),
                ),
            ],
        );
        conditions.retain(|c| c["type"] != "Issuing");
        status["conditions"] = json!(conditions);
        status["notBefore"] = json!(format(not_before));
        status["notAfter"] = json!(format(not_after));
        status["renewalTime"] = json!(format(not_after - renew_before));
        status["revision"] = json!(int_at(&certificate, "/status/revision").unwrap_or(0) + 1);
        self.write(&certificate, status).await;
        Some(duration - renew_before)
    }

    async fn write(&self, certificate: &Value, status: Value) {
        let _ = self
            .api
            .write_status(gvr::CERTIFICATES, certificate, status)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_cert_manager_reads_them() {
        assert_eq!(go_duration("2160h"), Some(Duration::from_secs(2160 * 3600)));
        assert_eq!(go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("10x"), None);
        assert_eq!(go_duration("10"), None);
    }
}
