//! Validating admission webhooks: every `ValidatingWebhookConfiguration` whose rules, namespace
//! selector and object selector match a write is sent the AdmissionReview v1 kube-apiserver sends,
//! over HTTPS verified against the webhook's `caBundle`. Denials come back with the webhook's code
//! (400 without one) and the `admission webhook "<name>" denied the request: ` prefix; warnings
//! become Warning headers; a failed call is a 500 under `failurePolicy: Fail` and is skipped under
//! `Ignore`. Only `clientConfig.url` is reachable from the sim (there is no service network).

use crate::error::ApiError;
use crate::request::{ApiRequest, meta_str, served};
use crate::selectors::LabelSelector;
use crate::sim::Sim;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The operation under review.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operation {
    /// CREATE.
    Create,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

const CONFIGURATIONS: &str = "admissionregistration.k8s.io/validatingwebhookconfigurations";

/// Sends the write to every matching validating webhook; returns their warnings, or the error
/// the client gets.
pub async fn review(
    sim: &Arc<Sim>,
    req: &ApiRequest,
    operation: Operation,
    name: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<Vec<String>, ApiError> {
    let configurations = sim.store().list(CONFIGURATIONS, None);
    if configurations.is_empty() {
        return Ok(Vec::new());
    }
    let namespace_labels = req.namespace.as_ref().and_then(|ns| {
        sim.store()
            .get("/namespaces", &(String::new(), ns.clone()))
            .map(|n| (*n).clone())
    });
    let mut warnings = Vec::new();
    for configuration in configurations {
        for webhook in configuration["webhooks"].as_array().into_iter().flatten() {
            if !matches(webhook, req, operation, namespace_labels.as_ref(), old, new) {
                continue;
            }
            let hook_name = webhook["name"].as_str().unwrap_or_default();
            let review = review_body(req, operation, name, old, new);
            match call(webhook, &review).await {
                Ok(answer) => {
                    let response = &answer["response"];
                    warnings.extend(
                        response["warnings"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|w| w.as_str().map(String::from)),
                    );
                    if response["allowed"] != json!(true) {
                        let status = &response["status"];
                        let code =
                            status["code"].as_u64().filter(|c| *c != 0).unwrap_or(400) as u16;
                        let message = format!(
                            "admission webhook \"{hook_name}\" denied the request: {}",
                            status["message"].as_str().unwrap_or("without explanation")
                        );
                        let mut error = ApiError::status(
                            code,
                            status["reason"].as_str().filter(|r| !r.is_empty()),
                            &message,
                            None,
                        );
                        error.warnings = warnings;
                        return Err(error);
                    }
                }
                Err(problem) => {
                    if webhook["failurePolicy"].as_str() == Some("Ignore") {
                        continue;
                    }
                    let cause = format!(
                        "failed calling webhook \"{hook_name}\": failed to call webhook: {problem}"
                    );
                    return Err(ApiError::internal_error(&cause));
                }
            }
        }
    }
    Ok(warnings)
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn matches(
    webhook: &Value,
    req: &ApiRequest,
    operation: Operation,
    namespace: Option<&Value>,
    old: Option<&Value>,
    new: Option<&Value>,
) -> bool {
    let rt = &req.rt;
    let resource = match &req.subresource {
        Some(sub) => format!("{}/{sub}", rt.plural),
        None => rt.plural.clone(),
    };
    let rule_matches = webhook["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|rule| {
            let any = |list: Vec<&str>, value: &str| list.iter().any(|x| *x == "*" || *x == value);
            any(strings(&rule["operations"]), operation.as_str())
                && any(strings(&rule["apiGroups"]), &rt.group)
                && any(strings(&rule["apiVersions"]), &rt.version)
                && strings(&rule["resources"]).iter().any(|r| {
                    *r == resource || *r == "*/*" || (*r == "*" && req.subresource.is_none())
                })
                && match rule["scope"].as_str() {
                    Some("Namespaced") => rt.namespaced,
                    Some("Cluster") => !rt.namespaced,
                    _ => true,
                }
        });
    if !rule_matches {
        return false;
    }
    let selector_matches = |selector: &Value, object: Option<&Value>| {
        let Some(selector) = selector.as_object() else {
            return true;
        };
        let mut terms: Vec<String> = selector
            .get("matchLabels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        for expression in selector
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = expression["key"].as_str().unwrap_or_default();
            let values = strings(&expression["values"]).join(",");
            terms.push(match expression["operator"].as_str() {
                Some("In") => format!("{key} in ({values})"),
                Some("NotIn") => format!("{key} notin ({values})"),
                Some("DoesNotExist") => format!("!{key}"),
                _ => key.to_string(),
            });
        }
        LabelSelector::parse(&terms.join(","))
            .is_ok_and(|s| object.is_some_and(|o| s.matches(o)) || (s.is_empty()))
    };
    let namespace_ok = !rt.namespaced || selector_matches(&webhook["namespaceSelector"], namespace);
    let object_ok = selector_matches(&webhook["objectSelector"], new)
        || selector_matches(&webhook["objectSelector"], old);
    namespace_ok && object_ok
}

fn review_body(
    req: &ApiRequest,
    operation: Operation,
    name: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Value {
    let rt = &req.rt;
    let kind = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
    let resource = json!({"group": rt.group, "version": rt.version, "resource": rt.plural});
    let options_kind = match (
        operation,
        crate::patch::PatchType::from_content_type(&req.content_type),
    ) {
        (Operation::Delete, _) => "DeleteOptions",
        (Operation::Create, _) if req.method == hyper::Method::POST => "CreateOptions",
        (_, Some(crate::patch::PatchType::Apply)) => "PatchOptions",
        (_, Some(_)) if req.method == hyper::Method::PATCH => "PatchOptions",
        (Operation::Create, _) => "PatchOptions",
        (Operation::Update, _) => "UpdateOptions",
    };
    let mut options = json!({"kind": options_kind, "apiVersion": "meta.k8s.io/v1"});
    if let Some(manager) = req.param("fieldManager") {
        options["fieldManager"] = json!(manager);
    }
    if req.flag("force") {
        options["force"] = json!(true);
    }
    let mut request = json!({
        "uid": uuid::Uuid::new_v4().to_string(),
        "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
        "name": name,
        "operation": operation.as_str(),
        "userInfo": req.user.to_json(),
        "object": new.map(|o| served(rt, o)),
        "oldObject": old.map(|o| served(rt, o)),
        "dryRun": req.dry_run(),
        "options": options,
    });
    if let Some(sub) = &req.subresource {
        request["subResource"] = json!(sub);
    }
    if rt.namespaced {
        request["namespace"] = json!(req.namespace.clone().unwrap_or_default());
    }
    if let Some(object) = new.or(old)
        && meta_str(object, "name").is_none()
    {
        request["name"] = json!("");
    }
    json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request})
}

/// POSTs the review to the webhook's URL, trusting only its caBundle.
async fn call(webhook: &Value, review: &Value) -> Result<Value, String> {
    let config = &webhook["clientConfig"];
    let url = config["url"]
        .as_str()
        .ok_or("only clientConfig.url webhooks are reachable from smbp-sim")?;
    let timeout = webhook["timeoutSeconds"].as_u64().unwrap_or(10);
    let mut roots = rustls::RootCertStore::empty();
    if let Some(bundle) = config["caBundle"].as_str() {
        use base64::Engine;
        let pem = base64::engine::general_purpose::STANDARD
            .decode(bundle)
            .map_err(|e| format!("caBundle is not base64: {e}"))?;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("caBundle is not PEM: {e}"))?;
            roots.add(cert).map_err(|e| e.to_string())?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<Bytes>>(connector);
    let separator = if url.contains('?') { '&' } else { '?' };
    let request = hyper::Request::post(format!("{url}{separator}timeout={timeout}s"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, */*")
        .body(Full::new(Bytes::from(review.to_string())))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(timeout), client.request(request))
        .await
        .map_err(|_| "context deadline exceeded".to_string())?
        .map_err(|e| format!("Post \"{url}\": {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "an error on the server ({:?}) has prevented the request from succeeding",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    serde_json::from_slice(&body)
        .map_err(|e| format!("the response is not an AdmissionReview: {e}"))
}
