//! Replaying kube-apiserver recordings (`<clone>/../shared/apiserver-reference/`) against
//! smbp-sim: loading a scenario (a missing folder is a failure, never a silent skip), sending
//! each recorded request as recorded (method, path, Content-Type, Accept, body), comparing the
//! status code — and for error answers the reason and message, with numbers and uids masked —
//! and checking the differences against a per-step list of known ones with their reasons.

use kube::discovery::ApiResource;
use regex::Regex;
use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimHandle};
use std::collections::HashMap;
use std::path::PathBuf;

/// The folder of recordings, beside the clone (`<clone>/../shared/apiserver-reference`).
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/apiserver-reference")
}

/// One recorded scenario, parsed. Panics with the path when the recording is missing: the
/// folder is always laid beside the clone, so its absence is a broken setup, not a skip.
pub fn reference(file: &str) -> Value {
    let path = reference_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "the kube-apiserver recording {} cannot be read ({error}): \
             ../shared/apiserver-reference must lie beside the clone",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} parses: {e}", path.display()))
}

/// A step that differs from the recording: its index and a readable line.
pub type Mismatch = (usize, String);

/// Steps known to differ, each group with the reason it differs.
pub type Known<'a> = &'a [(&'a [usize], &'a str)];

/// Masks what differs between runs: numbers (resourceVersions, times) and uids.
pub fn mask(text: &str) -> String {
    let uid = Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let number = Regex::new(r"\d+").unwrap();
    number
        .replace_all(&uid.replace_all(text, "UID"), "N")
        .into_owned()
}

/// Recorded resourceVersions and the ones the sim gave the same states, so that a recorded
/// request naming a version (a PUT's `metadata.resourceVersion`) names the sim's equivalent —
/// stale stays stale, current stays current.
#[derive(Default)]
struct Versions(HashMap<String, String>);

impl Versions {
    /// Learns the pair of versions of one answer.
    fn learn(&mut self, recorded: &Value, answer: &Value) {
        let version = |body: &Value| {
            body.pointer("/metadata/resourceVersion")?
                .as_str()
                .map(String::from)
        };
        if let (Some(recorded), Some(sim)) = (version(recorded), version(answer)) {
            self.0.insert(recorded, sim);
        }
    }

    /// The request path with a known recorded `resourceVersion=` query value replaced.
    fn translate_path(&self, path: &str) -> String {
        let Some((head, tail)) = path.split_once("resourceVersion=") else {
            return path.to_string();
        };
        let end = tail.find('&').unwrap_or(tail.len());
        match self.0.get(&tail[..end]) {
            Some(sim) => format!("{head}resourceVersion={sim}{}", &tail[end..]),
            None => path.to_string(),
        }
    }

    /// The request body with a known recorded version replaced by the sim's: the object's
    /// `metadata.resourceVersion`, or the value of a JSON patch operation on that path.
    fn translate(&self, body: &Value) -> Value {
        let mut body = body.clone();
        let on_version = |op: &&mut Value| op["path"] == "/metadata/resourceVersion";
        let targets: Vec<&mut Value> = match &mut body {
            Value::Array(ops) => ops
                .iter_mut()
                .filter(on_version)
                .filter_map(|op| op.get_mut("value"))
                .collect(),
            object => object
                .pointer_mut("/metadata/resourceVersion")
                .into_iter()
                .collect(),
        };
        for version in targets {
            if let Some(sim) = version.as_str().and_then(|v| self.0.get(v)) {
                *version = Value::String(sim.clone());
            }
        }
        body
    }
}

/// The recorded request of a step as an HTTP request, with its own Content-Type and Accept.
fn request_of(step: &Value, versions: &Versions) -> http::Request<kube::client::Body> {
    let request = &step["request"];
    let header = |name: &str, default: &str| {
        request["headers"][name]
            .as_str()
            .unwrap_or(default)
            .to_string()
    };
    let body = match &request["body"] {
        Value::Null => Vec::new(),
        Value::String(text) => text.clone().into_bytes(),
        other => versions.translate(other).to_string().into_bytes(),
    };
    http::Request::builder()
        .method(request["method"].as_str().unwrap())
        .uri(versions.translate_path(request["path"].as_str().unwrap()))
        .header("Content-Type", header("Content-Type", "application/json"))
        .header("Accept", header("Accept", "application/json"))
        .body(kube::client::Body::from(body))
        .unwrap()
}

/// How long a replayed request may go unanswered before it counts as a difference (status 0).
const NO_ANSWER: std::time::Duration = std::time::Duration::from_secs(10);

/// Sends one step; returns the status code and the body (JSON, or a string when it is not).
async fn send(
    client: &kube::Client,
    index: usize,
    step: &Value,
    versions: &Versions,
) -> (u16, Value) {
    let sent = tokio::time::timeout(NO_ANSWER, client.send(request_of(step, versions))).await;
    let Ok(response) = sent else {
        return (0, Value::String(format!("no answer within {NO_ANSWER:?}")));
    };
    let response = response.unwrap_or_else(|error| panic!("step {index}: transport error {error}"));
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body = serde_json::from_slice::<Value>(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

/// How one answer differs from the recorded one: the status code, or for a Failure Status its
/// reason and message.
fn compare(index: usize, step: &Value, status: u16, answer: &Value) -> Vec<Mismatch> {
    let expected = &step["response"];
    let expected_status = expected["status"].as_u64().unwrap() as u16;
    let comment = step["comment"].as_str().unwrap_or_default();
    if status != expected_status {
        let answer = answer.to_string();
        let answer = answer.get(..400).unwrap_or(&answer);
        return vec![(
            index,
            format!(
                "step {index} ({comment}): status {status}, recorded {expected_status}: {answer}"
            ),
        )];
    }
    if expected["body"]["kind"] != "Status" || expected["body"]["status"] != "Failure" {
        return Vec::new();
    }
    ["reason", "message"]
        .iter()
        .filter_map(|key| {
            let got = mask(&answer[key].to_string());
            let want = mask(&expected["body"][key].to_string());
            (got != want).then(|| {
                (
                    index,
                    format!("step {index} ({comment}): {key} {got} != recorded {want}"),
                )
            })
        })
        .collect()
}

/// Whether a step is a watch: its answer is a stream with timing, not replayed here.
fn is_watch(step: &Value) -> bool {
    let path = step["request"]["path"].as_str().unwrap_or_default();
    path.contains("watch=1") || path.contains("watch=true") || path.contains("/watch/")
}

/// Replays the non-watch steps of a scenario in order; returns the steps that differ.
pub async fn replay(cluster: &SimHandle, scenario: &Value) -> Vec<Mismatch> {
    // kube-rs retries 504/429 answers: a replayed request must be sent once, as recorded.
    let client = super::client_without_retries(cluster).await;
    let mut mismatches = Vec::new();
    let mut versions = Versions::default();
    for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        if is_watch(step) {
            continue;
        }
        let (status, answer) = send(&client, index, step, &versions).await;
        versions.learn(&step["response"]["body"], &answer);
        mismatches.extend(compare(index, step, status, &answer));
    }
    mismatches
}

/// Every mismatch must be a known difference, and every known difference must still differ (so
/// the list shrinks as the sim improves).
pub fn check(mismatches: Vec<Mismatch>, known: Known) {
    let is_known = |i: &usize| known.iter().any(|(steps, _)| steps.contains(i));
    let unexpected: Vec<&str> = mismatches
        .iter()
        .filter(|(i, _)| !is_known(i))
        .map(|(_, m)| m.as_str())
        .collect();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    let fixed: Vec<(usize, &str)> = known
        .iter()
        .flat_map(|(steps, why)| steps.iter().map(move |s| (*s, *why)))
        .filter(|(k, _)| !mismatches.iter().any(|(i, _)| i == k))
        .collect();
    assert!(
        fixed.is_empty(),
        "steps {fixed:?} now match the recording: remove them from the known differences"
    );
}

/// The Widget CustomResourceDefinition the recordings use (`widgets.ref.example.com`, from 02).
pub fn widget_definition() -> Value {
    reference("02-crd-lifecycle.json")["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["request"]["body"].clone())
        .find(|b| b["kind"] == "CustomResourceDefinition")
        .expect("02 creates the Widget CRD")
}

/// A fresh sim with the given namespaces, and the Widget CRD when `crd` is set.
pub async fn cluster_with(namespaces: &[&str], crd: bool) -> SimHandle {
    let cluster = SimCluster::start().await.unwrap();
    let namespace = ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&());
    for name in namespaces {
        create(&cluster, &namespace, json!({"metadata": {"name": name}})).await;
    }
    if crd {
        let definition = ApiResource::erase::<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        >(&());
        create(&cluster, &definition, widget_definition()).await;
    }
    cluster
}

/// Creates a cluster-scoped object of the given resource.
async fn create(cluster: &SimHandle, resource: &ApiResource, object: Value) {
    let api: kube::Api<kube::core::DynamicObject> = kube::Api::all_with(cluster.client(), resource);
    api.create(
        &Default::default(),
        &serde_json::from_value(object).unwrap(),
    )
    .await
    .unwrap();
}
