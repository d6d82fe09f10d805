//! Validating admission webhooks over HTTPS: the sim sends an AdmissionReview to a webhook whose
//! certificate the cluster CA signed, honours denials (code and message prefix) and warnings, and
//! `failurePolicy` when the webhook is unreachable.

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use smbp_sim::SimCluster;

/// Serves a webhook that denies ConfigMaps named `deny-*` with 403 and warns on everything.
async fn webhook(cert: smbp_sim::tls::IssuedCertificate) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(cert.server_config().unwrap());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    |request: hyper::Request<hyper::body::Incoming>| async move {
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let review: Value = serde_json::from_slice(&body).unwrap();
                        let request = &review["request"];
                        let name = request["name"].as_str().unwrap_or_default();
                        let denied = name.starts_with("deny-");
                        let mut response = json!({"uid": request["uid"], "allowed": !denied,
                        "warnings": [format!("saw {} {}", request["operation"].as_str().unwrap(), name)]});
                        if denied {
                            response["status"] = json!({"code": 403, "reason": "Forbidden", "message": "names starting with deny- are not allowed"});
                        }
                        let answer = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response});
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(answer.to_string()),
                        )))
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

fn configuration(url: &str, ca_pem: &str, failure_policy: &str) -> ValidatingWebhookConfiguration {
    serde_json::from_value(json!({"metadata": {"name": "cm-webhook"}, "webhooks": [{
        "name": "configmaps.example.com",
        "clientConfig": {"url": url, "caBundle": base64::engine::general_purpose::STANDARD.encode(ca_pem)},
        "rules": [{"operations": ["CREATE", "UPDATE", "DELETE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
        "failurePolicy": failure_policy, "sideEffects": "None", "admissionReviewVersions": ["v1"],
        "namespaceSelector": {"matchLabels": {"webhooks": "on"}}}]}))
    .unwrap()
}

/// Swaps the webhook configuration for one calling `url` with `failure_policy`.
async fn replace_configuration(
    configurations: &Api<ValidatingWebhookConfiguration>,
    url: &str,
    ca_pem: &str,
    failure_policy: &str,
) {
    configurations
        .delete("cm-webhook", &DeleteParams::default())
        .await
        .unwrap();
    configurations
        .create(
            &PostParams::default(),
            &configuration(url, ca_pem, failure_policy),
        )
        .await
        .unwrap();
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn webhooks_deny_warn_and_follow_their_failure_policy() {
    let cluster = SimCluster::start().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    for (name, label) in [("hooked", "on"), ("plain", "off")] {
        let ns = serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"webhooks": label}}}),
        )
        .unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
    }
    let port = webhook(cluster.ca().issue(&["127.0.0.1".into()], 1).unwrap()).await;
    let configurations: Api<ValidatingWebhookConfiguration> = Api::all(cluster.client());
    configurations
        .create(
            &PostParams::default(),
            &configuration(
                &format!("https://127.0.0.1:{port}/validate"),
                &cluster.ca().cert_pem(),
                "Fail",
            ),
        )
        .await
        .unwrap();

    let hooked: Api<ConfigMap> = Api::namespaced(cluster.client(), "hooked");
    hooked
        .create(&PostParams::default(), &config_map("fine"))
        .await
        .unwrap();
    let error = hooked
        .create(&PostParams::default(), &config_map("deny-me"))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("an API error")
    };
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "admission webhook \"configmaps.example.com\" denied the request: names starting with deny- are not allowed"
    );
    let plain: Api<ConfigMap> = Api::namespaced(cluster.client(), "plain");
    plain
        .create(&PostParams::default(), &config_map("deny-me"))
        .await
        .expect("the namespace selector leaves this namespace alone");

    // An unreachable webhook: Fail blocks writes, Ignore lets them (and deletions) through.
    replace_configuration(
        &configurations,
        "https://127.0.0.1:1/validate",
        &cluster.ca().cert_pem(),
        "Fail",
    )
    .await;
    let error = hooked
        .delete("fine", &DeleteParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 500 && s.message.contains("failed calling webhook")),
        "{error:?}"
    );
    replace_configuration(
        &configurations,
        "https://127.0.0.1:1/validate",
        &cluster.ca().cert_pem(),
        "Ignore",
    )
    .await;
    hooked
        .delete("fine", &DeleteParams::default())
        .await
        .unwrap();
    cluster.shutdown().await;
}
