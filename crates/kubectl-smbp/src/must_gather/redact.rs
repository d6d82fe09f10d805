//! Redaction of everything a support bundle holds, before it is written: values under keys that
//! name a secret (passwords, tokens, API keys, credentials, private keys), env var values whose
//! name or content looks secret, annotations (kubectl's last-applied configuration, which can
//! carry a whole Secret, is replaced), and in any text — ConfigMap values, Event messages, logs
//! — PEM private keys, JWTs, bearer tokens, `key=value` / `key: value` secrets and credentials in
//! URLs. Redacted values become `<redacted>` so the structure stays readable; a webhook's
//! `caBundle` becomes a placeholder (empty would mean "system roots").

use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// The kubectl annotation that holds a copy of the last applied object.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Words that make a key, an env var name or an annotation name secret.
const SECRET_WORDS: [&str; 12] = [
    "password",
    "passwd",
    "pwd",
    "token",
    "secret",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "privatekey",
    "private_key",
    "private-key",
];

/// Keys whose values are names or references to secrets, not secrets: kept.
const REFERENCE_SUFFIXES: [&str; 5] = ["name", "ref", "refs", "secretname", "keyref"];

/// Whether a key (JSON field, env var, annotation, ConfigMap key) names a secret value.
pub fn secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let last = lower.rsplit(['/', '.']).next().unwrap_or(&lower);
    let reference = REFERENCE_SUFFIXES.iter().any(|s| last.ends_with(s));
    !reference && SECRET_WORDS.iter().any(|w| lower.contains(w))
}

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("redaction pattern");
    vec![
        // PEM private keys (any kind), whole block.
        (
            re(r"(?s)-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\z)"),
            "<redacted private key>",
        ),
        // The end of a block whose start was cut off (a log tail beginning inside a key): every
        // whole block is gone by now, so the text up to an END line is key material.
        (
            re(r"(?s)\A.*?-----END ([A-Z ]*)PRIVATE KEY-----"),
            "<redacted private key>",
        ),
        // JSON Web Tokens (ServiceAccount tokens among them).
        (
            re(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
            REDACTED,
        ),
        // Authorization headers.
        (
            re(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
            "$1 <redacted>",
        ),
        // Credentials in URLs.
        (
            re(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"),
            "$1<redacted>@",
        ),
        // key=value, key: value, "key": "value" where the key names a secret.
        (
            re(
                r#"(?i)("?[a-z0-9_.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|credential|private[_-]?key)[a-z0-9_.-]*"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}]+)"#,
            ),
            "$1<redacted>",
        ),
        // AWS access key ids.
        (re(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    ]
});

/// `text` with every secret-looking value replaced.
pub fn text(text: &str) -> String {
    let mut out = text.to_string();
    for (pattern, replacement) in PATTERNS.iter() {
        if pattern.is_match(&out) {
            out = pattern.replace_all(&out, *replacement).into_owned();
        }
    }
    out
}

/// Redacts a Kubernetes object (or any JSON) in place.
pub fn object(value: &mut Value) {
    if let Some(annotations) = value
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for (key, v) in annotations.iter_mut() {
            if key == LAST_APPLIED {
                *v = Value::String(format!("{REDACTED} (a copy of the applied object)"));
            } else if secret_key(key) {
                *v = Value::String(REDACTED.into());
            }
        }
    }
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    walk(value);
}

/// Redacts every value under a secret key, every secret env var, every `caBundle`, and every
/// secret-looking string.
fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("name").and_then(Value::as_str) {
                // An env var: `{name, value}`.
                if secret_key(name)
                    && let Some(v) = map.get_mut("value").filter(|v| v.is_string())
                {
                    *v = Value::String(REDACTED.into());
                }
            }
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "caBundle" => {
                        *s = format!("<CA bundle, {} bytes>", s.len());
                    }
                    Value::String(_) if secret_key(key) => *v = Value::String(REDACTED.into()),
                    _ => walk(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        Value::String(s) => {
            let redacted = text(s);
            if redacted != *s {
                *s = redacted;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_go_and_references_stay() {
        let mut pod = json!({
            "metadata": {"name": "p", "annotations": {
                "example.com/api-token": "t0ken",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"k\":\"v\"}}",
                "note": "password=hunter2 in a note"}},
            "spec": {"containers": [{"env": [
                {"name": "DB_PASSWORD", "value": "hunter2"},
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "TLS", "valueFrom": {"secretKeyRef": {"name": "tls", "key": "tls.key"}}}]}],
                "volumes": [{"secret": {"secretName": "edge-tls"}}]},
            "webhooks": [{"clientConfig": {"caBundle": "LS0tLS1CRUdJTg=="}}]
        });
        object(&mut pod);
        let text = pod.to_string();
        assert!(
            !text.contains("t0ken") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(text.contains("\"value\":\"info\""), "{text}");
        assert!(text.contains("\"secretName\":\"edge-tls\""), "{text}");
        assert!(text.contains("\"key\":\"tls.key\""), "{text}");
        assert!(text.contains("<CA bundle, 16 bytes>"), "{text}");
    }

    #[test]
    fn text_loses_keys_tokens_and_url_credentials() {
        let log = "connecting to kafka://svc:pa55@broker:9093 with Authorization: Bearer abcdefghijkl\n\
token: \"s3cr3t\"\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n\
jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl ok";
        let out = text(log);
        for gone in [
            "pa55",
            "abcdefghijkl",
            "s3cr3t",
            "MIIE",
            "eyJhbGciOiJSUzI1NiJ9",
        ] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        assert!(out.contains("broker:9093") && out.ends_with("ok"), "{out}");
    }

    #[test]
    fn a_log_tail_starting_inside_a_private_key_loses_the_rest_of_it() {
        let tail = "2026-01-02T03:04:05Z c2VjcmV0a2V5Ym9keQ==\n\
2026-01-02T03:04:05Z -----END PRIVATE KEY-----\n2026-01-02T03:04:06Z listening on :8080\n";
        let out = text(tail);
        assert!(!out.contains("c2VjcmV0a2V5Ym9keQ"), "{out}");
        assert!(out.contains("listening on :8080"), "{out}");
    }
}
