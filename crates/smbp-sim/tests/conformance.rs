//! Conformance against recorded kube-apiserver answers: each non-watch request of a scenario in
//! `../shared/apiserver-reference/` is replayed against smbp-sim, and the status code — and for
//! error answers the reason and message, with resourceVersions and uids masked — must match the
//! recording. Differences the sim knowingly has are listed per step, with the reason; any other
//! difference fails, and so does a listed step that now matches. The helpers are in
//! `support/replay.rs`; 09-12 status sequences are compared in `sequences.rs`, 16 (RBAC) is not
//! replayed here.

mod support;

use support::replay::{Known, check, cluster_with, reference, replay};
use support::webhook::{recorded_webhook, redirect_webhooks};

/// Why steps that act on objects made outside the recorded steps differ.
const UNRECORDED: &str =
    "the objects were made by recorder requests that are not steps (setup not replayable)";

/// Replays one recording on a fresh sim with the given namespaces (and the Widget CRD).
async fn conforms(file: &str, namespaces: &[&str], crd: bool, known: Known<'_>) {
    let scenario = reference(file);
    let cluster = cluster_with(namespaces, crd).await;
    let mismatches = replay(&cluster, &scenario).await;
    cluster.shutdown().await;
    check(mismatches, known);
}

#[tokio::test]
async fn discovery_answers_match_the_recording() {
    conforms("01-discovery.json", &[], true, &[]).await;
}

#[tokio::test]
async fn optimistic_concurrency_answers_match_the_recording() {
    conforms(
        "03-optimistic-concurrency.json",
        &["ref-03"],
        true,
        &[
            (&[18], "serde_json's parse error wording differs from Go's"),
            (
                &[26],
                "an unrecorded write made 3539 stale on kube-apiserver; here it maps to the current version",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn generation_and_status_answers_match_the_recording() {
    conforms("04-generation-status.json", &["ref-04"], true, &[]).await;
}

#[tokio::test]
async fn patch_answers_match_the_recording() {
    conforms(
        "05-patches.json",
        &["ref-05"],
        true,
        &[
            (
                &[12, 24],
                "a patch result of the wrong type is refused by Rust type decoding, not Go's patch decoder (validation area)",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn server_side_apply_answers_match_the_recording() {
    conforms(
        "06-server-side-apply.json",
        &["ref-06"],
        true,
        &[
            (
                &[12, 13, 22],
                "built-in apply bodies are not checked for undeclared fields (validation area)",
            ),
            (
                &[23],
                "a duplicate YAML key is accepted (serde_yaml keeps the last)",
            ),
            (
                &[24],
                "a wrong type in a built-in apply body is a 422 from type decoding, not a 500",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn deletion_answers_match_the_recording() {
    conforms(
        "07-deletion.json",
        &["ref-07", "ref-07-ns"],
        true,
        &[
            (&[18, 19, 22, 28, 29, 33, 34, 38], UNRECORDED),
            (
                &[24, 25],
                "the sim empties and removes a namespace before the next request; kube-apiserver was still Terminating",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn list_answers_match_the_recording() {
    conforms(
        "08-watch-list.json",
        &["ref-08"],
        true,
        &[
            (&[4, 5], UNRECORDED),
            (
                &[21, 22, 50],
                "continue tokens are kube-apiserver's (opaque), not the sim's",
            ),
            (
                &[26],
                "the invalid continue token message differs (read area)",
            ),
            (
                &[33],
                "the `>`/`<` label selector operators are not supported (selectors area)",
            ),
            (
                &[34, 35, 36],
                "label selector parse errors are worded differently (selectors area)",
            ),
            (
                &[51],
                "the sim never compacts: an old exact resourceVersion is still served",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn statefulset_answers_match_the_recording() {
    conforms(
        "09-statefulset.json",
        &["ref-09"],
        false,
        &[
            (&[3, 14], "pods come from the StatefulSet controller, which needs time (see sequences.rs)"),
            (
                &[7],
                "the selector/labels mismatch error is not reported beside the Forbidden one (validation area)",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn deployment_answers_match_the_recording() {
    conforms("10-deployment-rollout.json", &["ref-10"], false, &[]).await;
}

#[tokio::test]
async fn job_answers_match_the_recording() {
    conforms(
        "11-job.json",
        &["ref-11"],
        false,
        &[(
            &[9],
            "an update of a Job's pod template is not refused as immutable (validation area)",
        )],
    )
    .await;
}

#[tokio::test]
async fn event_answers_match_the_recording() {
    conforms(
        "13-events.json",
        &["ref-09", "ref-13"],
        false,
        &[
            (&[1, 2], "scenario 09's kube-controller-manager Events are not here (other run)"),
            (
                &[7, 13],
                "core v1 and events.k8s.io/v1 Events are stored apart: one is not readable through the other",
            ),
            (
                &[9, 10, 11],
                "events.k8s.io/v1 Event validation (eventTime, type, reportingController) is missing (validation area)",
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn admission_webhook_answers_match_the_recording() {
    let mut scenario = reference("14-admission-webhook.json");
    let cluster = cluster_with(&["ref-14"], true).await;
    let (url, bundle) = recorded_webhook(&cluster, &scenario).await;
    redirect_webhooks(&mut scenario, &url, &bundle);
    let mismatches = replay(&cluster, &scenario).await;
    cluster.shutdown().await;
    check(mismatches, &[]);
}

#[tokio::test]
async fn lease_answers_match_the_recording() {
    conforms(
        "15-lease.json",
        &["ref-15"],
        false,
        &[
            (
                &[8, 9, 10, 12],
                "MicroTime accepts any RFC 3339 layout; upstream only 6 fractional digits, and a 400 (validation area)",
            ),
            (&[13], "leaseDurationSeconds 0 is not refused (validation area)"),
            (&[15], "the sim has no kubelet renewing node Leases"),
        ],
    )
    .await;
}
