//! The validating admission webhook for BigPeers, served over HTTPS on `/validate-bigpeer` by
//! every replica (leader or not). It decodes the AdmissionReview, looks up what the BigPeer refers
//! to and the other BigPeers ([`lookups`]), and answers with `smbp_core::admission`'s verdict.
//! Its certificate comes from [`certs`]. The configuration it is registered with
//! (`config/webhook/`) matches CREATE and UPDATE only, with `failurePolicy: Ignore`, so neither a
//! denial nor an outage can keep a BigPeer from being deleted.

pub mod certs;
pub mod lookups;

use crate::metrics::{Metrics, PhaseLabel};
use crate::serve::{Answer, Received, answer};
use hyper::StatusCode;
use kube::api::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use smbp_api::v1alpha1::BigPeer;
use smbp_core::admission::{self, Request, Verdict};
use std::sync::Arc;

/// The path the webhook is served on.
pub const PATH: &str = "/validate-bigpeer";

/// Answers one HTTP request to the webhook server.
pub async fn handle(client: kube::Client, metrics: Arc<Metrics>, request: Received) -> Answer {
    if request.path != PATH || request.method != hyper::Method::POST {
        return answer(
            StatusCode::NOT_FOUND,
            "text/plain",
            format!("the webhook is served as POST {PATH}"),
        );
    }
    let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(&request.body) {
        Ok(review) => review,
        Err(error) => {
            count(&metrics, "error");
            return answer(
                StatusCode::BAD_REQUEST,
                "text/plain",
                format!("the body is not an AdmissionReview: {error}"),
            );
        }
    };
    let request: Result<AdmissionRequest<DynamicObject>, _> = review.try_into();
    let response = match request {
        Ok(request) => {
            let response = respond(&client, &request).await;
            count(
                &metrics,
                match (&response.allowed, &response.warnings) {
                    (false, _) => "denied",
                    (true, Some(w)) if !w.is_empty() => "warned",
                    _ => "allowed",
                },
            );
            response
        }
        Err(error) => {
            count(&metrics, "error");
            AdmissionResponse::invalid(error.to_string())
        }
    };
    match serde_json::to_vec(&response.into_review()) {
        Ok(body) => answer(StatusCode::OK, "application/json", body),
        Err(error) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            error.to_string(),
        ),
    }
}

fn count(metrics: &Metrics, result: &str) {
    metrics
        .admission_reviews
        .get_or_create(&PhaseLabel {
            phase: result.to_string(),
        })
        .inc();
}

/// The response to one admission request.
async fn respond(
    client: &kube::Client,
    request: &AdmissionRequest<DynamicObject>,
) -> AdmissionResponse {
    let response = AdmissionResponse::from(request);
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return response;
    }
    let Some(object) = &request.object else {
        return response;
    };
    let bigpeer = match decode(object) {
        Ok(bigpeer) => bigpeer,
        Err(message) => return deny(response, vec![message]),
    };
    let old = request.old_object.as_ref().and_then(|o| decode(o).ok());
    let namespace = request.namespace.clone().unwrap_or_default();
    let name = bigpeer
        .metadata
        .name
        .clone()
        .unwrap_or_else(|| request.name.clone());
    let deleting = bigpeer.metadata.deletion_timestamp.is_some();
    let (missing, neighbours, lookup_warnings) = if deleting {
        Default::default()
    } else {
        lookups::find(client, &namespace, &name, &bigpeer.spec).await
    };
    // The status is not part of a spec write; the old object carries the release running now.
    let running = old
        .as_ref()
        .and_then(|o| o.status.as_ref())
        .and_then(|s| s.version.as_ref())
        .and_then(|v| v.current.clone());
    let mut verdict = admission::review(&Request {
        name: &name,
        annotations: bigpeer.metadata.annotations.as_ref(),
        spec: &bigpeer.spec,
        old_spec: old.as_ref().map(|o| &o.spec),
        running: running.as_deref(),
        deleting,
        missing,
        neighbours,
    });
    verdict.warnings.extend(lookup_warnings);
    tracing::debug!(bigpeer = %format!("{namespace}/{name}"), ?verdict, "admission review");
    finish(response, verdict)
}

fn decode(object: &DynamicObject) -> Result<BigPeer, String> {
    serde_json::to_value(object)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("the object does not decode as a BigPeer: {e}"))
}

fn finish(response: AdmissionResponse, verdict: Verdict) -> AdmissionResponse {
    let mut response = if verdict.allowed() {
        response
    } else {
        deny(response, verdict.denials)
    };
    if !verdict.warnings.is_empty() {
        response.warnings = Some(verdict.warnings);
    }
    response
}

fn deny(response: AdmissionResponse, denials: Vec<String>) -> AdmissionResponse {
    let mut response = response.deny(denials.join("; "));
    response.result.code = 422;
    response.result.reason = "Invalid".into();
    response
}
