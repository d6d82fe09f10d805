//! A validating webhook that answers as the recorded one did (`admission_webhook_calls` of a
//! scenario): each AdmissionReview is matched to a recorded call by operation, object name and
//! dryRun, and gets that call's HTTP status and body (with the review's own uid). Served over
//! HTTPS with a certificate of the cluster CA, so a recorded webhook configuration can be
//! replayed by pointing its `clientConfig` here.

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use smbp_sim::SimHandle;
use std::sync::Arc;

/// What identifies a call: operation, name and dryRun of the review.
fn call_key(review: &Value) -> (Value, Value, Value) {
    let request = &review["request"];
    (
        request["operation"].clone(),
        request["name"].clone(),
        request["dryRun"].clone(),
    )
}

/// The recorded answer to a review: status code and body.
fn answer(calls: &[Value], review: &Value) -> (u16, String) {
    let Some(call) = calls
        .iter()
        .find(|c| call_key(&c["request"]["body"]) == call_key(review))
    else {
        return (
            500,
            format!("no recorded call matches {:?}", call_key(review)),
        );
    };
    let status = call["response"]["status"].as_u64().unwrap_or(500) as u16;
    match &call["response"]["body"] {
        Value::String(text) => (status, text.clone()),
        body => {
            let mut body = body.clone();
            body["response"]["uid"] = review["request"]["uid"].clone();
            (status, body.to_string())
        }
    }
}

/// Serves one connection with the recorded answers.
async fn serve(
    stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    calls: Arc<Vec<Value>>,
) {
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let calls = calls.clone();
            async move {
                let body = request.into_body().collect().await.unwrap().to_bytes();
                let review: Value = serde_json::from_slice(&body).unwrap_or_default();
                let (status, text) = answer(&calls, &review);
                let response = hyper::Response::builder()
                    .status(status)
                    .header("Content-Type", "application/json")
                    .body(Full::new(Bytes::from(text)))
                    .unwrap();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Starts the recorded webhook of `scenario`; returns its URL and the caBundle to trust it.
pub async fn recorded_webhook(cluster: &SimHandle, scenario: &Value) -> (String, String) {
    let calls: Vec<Value> = scenario["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["admission_webhook_calls"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let calls = Arc::new(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cert = cluster.ca().issue(&["127.0.0.1".into()], 1).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(cert.server_config().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, calls) = (acceptor.clone(), calls.clone());
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(stream).await {
                    serve(stream, calls).await;
                }
            });
        }
    });
    let bundle = base64::engine::general_purpose::STANDARD.encode(cluster.ca().cert_pem());
    (format!("https://127.0.0.1:{port}/validate"), bundle)
}

/// Points every webhook of the scenario's configurations at `url`, trusting `bundle`.
pub fn redirect_webhooks(scenario: &mut Value, url: &str, bundle: &str) {
    for step in scenario["steps"].as_array_mut().unwrap() {
        let webhooks = step
            .pointer_mut("/request/body/webhooks")
            .and_then(Value::as_array_mut);
        for webhook in webhooks.into_iter().flatten() {
            webhook["clientConfig"]["url"] = Value::String(url.into());
            webhook["clientConfig"]["caBundle"] = Value::String(bundle.into());
        }
    }
}
