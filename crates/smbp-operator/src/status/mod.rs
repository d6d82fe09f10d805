//! The status stage: conditions, phase, versions, replica counts and endpoints, computed only
//! from the objects the apply stage applied and observed and what the dereference stage found —
//! never from what the operator merely intended. Pure; the reconciler writes the result with its
//! own field manager when, and only when, it differs from the stored status.

use crate::apply::Live;
use crate::dereference::{Dereferenced, Found};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::Value;
use smbp_api::v1alpha1::{BigPeer, BigPeerStatus, ComponentStatus, Phase, VersionStatus};
use smbp_core::build::{ChildKind, Names, OptionalApi, ValidatedBigPeer};
use smbp_core::upgrade::Decision;
use std::collections::BTreeSet;

mod exposure;
use exposure::{exposure, exposure_refused};

/// The field manager of status writes.
pub const STATUS_MANAGER: &str = "smbp-operator-status";

/// Condition reasons that mean "not there yet" rather than "something is wrong".
pub const WAITING_REASONS: [&str; 6] = [
    "Pending",
    "RoutePending",
    "AddressPending",
    "CertificateNotCreated",
    "SecretPending",
    "RollingOut",
];

/// A child the API server refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedChild {
    /// Its kind.
    pub kind: ChildKind,
    /// Its name.
    pub name: String,
    /// The API server's message.
    pub message: String,
}

impl RefusedChild {
    /// `the API server refused Kind name: message`.
    fn describe(&self) -> String {
        format!(
            "the API server refused {} {}: {}",
            self.kind.api_resource().kind,
            self.name,
            self.message
        )
    }
}

/// Everything the status is computed from.
pub struct Inputs<'a> {
    /// The BigPeer as read.
    pub bigpeer: &'a BigPeer,
    /// The validated BigPeer, or the validation errors (joined) when the spec is invalid.
    pub validated: Result<&'a ValidatedBigPeer, String>,
    /// The live children, after applying.
    pub live: &'a Live,
    /// What the referenced objects look like.
    pub dereferenced: Option<&'a Dereferenced>,
    /// The optional APIs installed.
    pub installed: &'a BTreeSet<OptionalApi>,
    /// Whether the store StatefulSet is being recreated (an immutable field changed).
    pub recreating: bool,
    /// The children the API server refused.
    pub refused: &'a [RefusedChild],
    /// The desired children that do not exist (`Kind name`).
    pub missing: &'a [String],
    /// Why pods of the workloads are missing or not running (see `diagnose`).
    pub pod_problems: &'a [String],
    /// What the upgrade state machine decided (unset when the spec is invalid).
    pub upgrade: Option<&'a Decision>,
    /// Now, for transition times.
    pub now: Timestamp,
}

/// One computed condition before transition times are settled.
struct Cond {
    type_: &'static str,
    ok: bool,
    reason: String,
    message: String,
}

fn cond(type_: &'static str, ok: bool, reason: &str, message: impl Into<String>) -> Cond {
    Cond {
        type_,
        ok,
        reason: reason.into(),
        message: message.into(),
    }
}

/// Computes the status.
pub fn compute(inputs: &Inputs) -> BigPeerStatus {
    let bigpeer = inputs.bigpeer;
    let previous = bigpeer.status.clone().unwrap_or_default();
    let generation = bigpeer.metadata.generation;
    let validated = match &inputs.validated {
        Ok(v) => *v,
        Err(message) => {
            let conds = vec![
                cond("Ready", false, "InvalidSpec", message.clone()),
                cond(
                    "Progressing",
                    false,
                    "InvalidSpec",
                    "waiting for the spec to be fixed",
                ),
            ];
            return BigPeerStatus {
                observed_generation: generation,
                phase: Some(Phase::Failed),
                conditions: settle(conds, &previous.conditions, generation, inputs.now),
                ..previous
            };
        }
    };
    let ns = validated.namespace.as_str();
    let names = Names::new(&validated.name);
    let live = inputs.live;
    let sts = live.get(ChildKind::StatefulSet, ns, &names.store());
    let deployment = live.get(ChildKind::Deployment, ns, &names.sync());
    let store = component(sts, "readyReplicas", validated.spec.store.replicas);
    let desired_sync = validated.spec.sync.desired_replicas();
    let mut sync = component(deployment, "availableReplicas", desired_sync);
    if let Some(autoscaling) = &validated.spec.sync.autoscaling {
        // Until the autoscaler has acted, the Deployment's count is the API default of 1.
        sync.replicas = sync.replicas.max(autoscaling.min_replicas);
    }
    let store_rolled = sts
        .is_some_and(|s| rolled_out(s, "updatedReplicas", &["currentRevision", "updateRevision"]));
    let sync_rolled = deployment.is_some_and(|d| rolled_out(d, "updatedReplicas", &[]));
    let quorum = validated.spec.store.replicas / 2 + 1;

    let mut conds = Vec::new();
    let available = store.ready_replicas >= quorum && sync.ready_replicas >= 1;
    conds.push(cond(
        "Available",
        available,
        if available {
            "QuorumAvailable"
        } else {
            "Unavailable"
        },
        format!(
            "store {}/{} ready (quorum {quorum}), sync {}/{} available",
            store.ready_replicas, store.replicas, sync.ready_replicas, sync.replicas
        ),
    ));
    let complete = store_rolled
        && sync_rolled
        && store.ready_replicas == store.replicas
        && sync.ready_replicas >= sync.replicas.min(desired_sync);
    conds.push(if inputs.recreating {
        cond("Progressing", true, "RecreatingStatefulSet", "an immutable field of the store changed: the StatefulSet is recreated, keeping its pods and volumes")
    } else if complete {
        cond("Progressing", false, "RolloutComplete", "every pod runs the current spec")
    } else {
        cond("Progressing", true, "RollingOut", format!(
            "{}, {}",
            progress("store", &store, existing_pods(sts), "updated and ready"),
            progress("sync", &sync, existing_pods(deployment), "updated and available"),
        ))
    });
    let deref = inputs.dereferenced;
    conds.push(transaction_log(validated, deref, live, inputs.installed));
    conds.push(certificate(validated, deref, live));
    let (exposure, endpoints) = exposure(validated, live, inputs.installed);
    conds.push(exposure_refused(inputs.refused).unwrap_or(exposure));
    conds.push(monitoring(validated, inputs.installed));
    let current = previous.version.as_ref().and_then(|v| v.current.clone());
    let decided = inputs.upgrade;
    let upgrading = decided.is_some_and(|d| d.condition.upgrading);
    conds.push(match decided {
        Some(d) => cond(
            "Upgrading",
            d.condition.upgrading,
            &d.condition.reason,
            d.condition.message.clone(),
        ),
        None => cond(
            "Upgrading",
            false,
            "NoUpgrade",
            "no version change in progress",
        ),
    });
    let children_problem = children_problem(inputs.refused, inputs.missing);
    let pods_problem = (!inputs.pod_problems.is_empty()).then(|| {
        let message = inputs.pod_problems.join("; ");
        cond("Ready", false, "PodsNotRunning", message)
    });
    let all_ready = available
        && complete
        && children_problem.is_none()
        && conds
            .iter()
            .filter(|c| {
                matches!(
                    c.type_,
                    "TransactionLogReady"
                        | "CertificateReady"
                        | "ExposureReady"
                        | "MonitoringReady"
                )
            })
            .all(|c| c.ok);
    // An upgrade explains the state best while it runs; then a failing part; then the rollout.
    let first_failure = conds
        .iter()
        .find(|c| c.type_ == "Upgrading" && c.ok)
        .or_else(|| {
            conds
                .iter()
                .find(|c| !c.ok && c.type_ != "Upgrading" && c.type_ != "Progressing")
        })
        .or_else(|| conds.iter().find(|c| c.type_ == "Progressing" && c.ok))
        .map(|c| format!("{}: {}", c.type_, c.message));
    // Degraded means "was running this spec, is now serving with less than it should": not the
    // first provisioning nor a spec change rolling out (a scale-out), which Progressing describes.
    let degraded = available
        && !all_ready
        && current.is_some()
        && !upgrading
        && was_ready_at(&previous.conditions, generation);
    conds.push(if degraded {
        cond(
            "Degraded",
            true,
            "ComponentNotReady",
            first_failure.clone().unwrap_or_default(),
        )
    } else if current.is_none() && !all_ready {
        cond(
            "Degraded",
            false,
            "Provisioning",
            "first rollout in progress",
        )
    } else {
        cond("Degraded", false, "AsExpected", "nothing is degraded")
    });
    conds.push(if all_ready {
        cond(
            "Ready",
            true,
            "AllComponentsReady",
            "every component is ready",
        )
    } else if let Some(problem) = children_problem.or(pods_problem) {
        problem
    } else {
        cond(
            "Ready",
            false,
            "ComponentsNotReady",
            first_failure.unwrap_or_else(|| "rolling out".into()),
        )
    });
    // The first rollout settles the version; after that only the upgrade moves it.
    let moved = decided.and_then(|d| d.current.clone());
    let version = match (&moved, &current) {
        (Some(release), _) => Some(release.version.clone()),
        (None, Some(current)) => Some(current.clone()),
        (None, None) => complete.then(|| validated.spec.version.clone()),
    };
    let phase = if all_ready {
        Phase::Running
    } else if upgrading {
        Phase::Upgrading
    } else if current.is_none() && !complete {
        Phase::Provisioning
    } else {
        Phase::Degraded
    };
    BigPeerStatus {
        observed_generation: generation,
        phase: Some(phase),
        conditions: settle(conds, &previous.conditions, generation, inputs.now),
        version: Some(VersionStatus {
            image: moved.map(|r| r.image).or_else(|| {
                version
                    .as_ref()
                    .filter(|v| *v == &validated.spec.version)
                    .map(|_| validated.image.by_digest())
                    .or(previous
                        .version
                        .as_ref()
                        .and_then(|v| v.image.clone())
                        .filter(|_| version.is_some()))
            }),
            current: version,
            target: Some(validated.spec.version.clone()),
        }),
        store: Some(store),
        sync: Some(sync),
        endpoints: Some(endpoints),
        upgrade: decided.map_or(previous.upgrade, |d| d.status.clone()),
    }
}

/// `Ready=False` for children that the API server refused (`ChildRefused`, naming the first and
/// its message) or that do not exist (`ChildMissing`); `None` when every child exists.
fn children_problem(refused: &[RefusedChild], missing: &[String]) -> Option<Cond> {
    let more = |n: usize| match n {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    if let Some(first) = refused.first() {
        let message = format!("{}{}", first.describe(), more(refused.len()));
        return Some(cond("Ready", false, "ChildRefused", message));
    }
    let first = missing.first()?;
    let message = format!("{first} does not exist yet{}", more(missing.len()));
    Some(cond("Ready", false, "ChildMissing", message))
}

/// Whether the stored conditions say this generation of the spec was already Ready (or already
/// Degraded from Ready).
fn was_ready_at(conditions: &[Condition], generation: Option<i64>) -> bool {
    conditions.iter().any(|c| {
        c.observed_generation == generation
            && c.status == "True"
            && (c.type_ == "Ready" || c.type_ == "Degraded")
    })
}

/// The pods a workload has now (`status.replicas`), which differ from its desired count while it
/// scales.
fn existing_pods(workload: Option<&Value>) -> Option<i32> {
    let replicas = workload?.pointer("/status/replicas")?.as_i64()?;
    Some(replicas as i32)
}

/// One component's part of the rollout message: how many pods of the desired count are done, or
/// the scaling under way.
fn progress(name: &str, component: &ComponentStatus, existing: Option<i32>, done: &str) -> String {
    let desired = component.replicas;
    match existing {
        Some(existing) if existing != desired => format!(
            "{name} scaling from {existing} to {desired} pods ({} ready)",
            component.ready_replicas
        ),
        _ => {
            let finished = component
                .updated_replicas
                .min(component.ready_replicas)
                .min(desired);
            format!("{name} {finished}/{desired} {done}")
        }
    }
}

/// Replica counts from a workload's status.
fn component(workload: Option<&Value>, ready_field: &str, desired: i32) -> ComponentStatus {
    let count = |field: &str| {
        workload
            .and_then(|w| w.pointer(&format!("/status/{field}")))
            .and_then(Value::as_i64)
            .unwrap_or(0) as i32
    };
    let replicas = workload
        .and_then(|w| w.pointer("/spec/replicas"))
        .and_then(Value::as_i64)
        .map(|r| r as i32)
        .unwrap_or(desired);
    ComponentStatus {
        replicas,
        ready_replicas: count(ready_field),
        updated_replicas: count("updatedReplicas"),
    }
}

/// Whether a workload's controller has seen its latest spec and updated every replica.
fn rolled_out(workload: &Value, updated: &str, same_revisions: &[&str]) -> bool {
    let generation = workload
        .pointer("/metadata/generation")
        .and_then(Value::as_i64);
    let observed = workload
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    let replicas = workload
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let updated = workload
        .pointer(&format!("/status/{updated}"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let revisions_match = match same_revisions {
        [a, b] => {
            workload.pointer(&format!("/status/{a}")) == workload.pointer(&format!("/status/{b}"))
        }
        _ => true,
    };
    generation.is_some() && generation == observed && updated >= replicas && revisions_match
}

fn found_condition(type_: &'static str, found: &Found, what: &str) -> Option<Cond> {
    match found {
        Found::NotUsed | Found::Ready => None,
        Found::ApiMissing(api) => Some(cond(
            type_,
            false,
            &format!("{}NotInstalled", api.product().replace([' ', '-'], "")),
            format!(
                "{what} needs {} ({}/{}; releases {}), which the cluster does not serve; install or \
                 upgrade it, or change the spec",
                api.product(),
                api.group_version().0,
                api.group_version().1,
                api.serving_releases()
            ),
        )),
        Found::Missing(message) => Some(cond(
            type_,
            false,
            &format!("{what}NotFound"),
            message.clone(),
        )),
        Found::NotReady(reason, message) => Some(cond(type_, false, reason, message.clone())),
    }
}

fn transaction_log(
    v: &ValidatedBigPeer,
    deref: Option<&Dereferenced>,
    live: &Live,
    installed: &BTreeSet<OptionalApi>,
) -> Cond {
    const T: &str = "TransactionLogReady";
    let Some(strimzi) = &v.spec.transaction_log.strimzi else {
        return cond(
            T,
            true,
            "ExternalBroker",
            "an external broker is configured; the operator does not connect to it",
        );
    };
    if let Some(c) = deref.and_then(|d| found_condition(T, &d.kafka, "Kafka")) {
        return c;
    }
    if !installed.contains(&OptionalApi::Strimzi) {
        return found_condition(T, &Found::ApiMissing(OptionalApi::Strimzi), "Kafka")
            .expect("a missing API is a condition");
    }
    let kafka_ns = strimzi
        .cluster_ref
        .namespace
        .clone()
        .unwrap_or_else(|| v.namespace.clone());
    let name =
        Names::new(&v.name).transaction_log(&v.namespace, strimzi.cluster_ref.namespace.as_deref());
    for (kind, label) in [
        (ChildKind::KafkaTopic, "KafkaTopic"),
        (ChildKind::KafkaUser, "KafkaUser"),
    ] {
        let found = match live.get(kind, &kafka_ns, &name) {
            Some(object) => crate::dereference::readiness(object, label, &name),
            None => Found::Missing(format!("{label} {kafka_ns}/{name} is not created yet")),
        };
        if let Some(c) = found_condition(T, &found, label) {
            return c;
        }
    }
    cond(
        T,
        true,
        "TopicAndUserReady",
        format!("topic and user {kafka_ns}/{name} are ready"),
    )
}

fn certificate(v: &ValidatedBigPeer, deref: Option<&Dereferenced>, live: &Live) -> Cond {
    const T: &str = "CertificateReady";
    let Some(tls) = &v.spec.tls else {
        return cond(
            T,
            true,
            "TLSNotConfigured",
            "spec.tls is not set: pods serve plain HTTP inside the cluster",
        );
    };
    if tls.secret_ref.is_some() {
        return deref
            .and_then(|d| found_condition(T, &d.tls_secret, "Secret"))
            .unwrap_or_else(|| {
                cond(
                    T,
                    true,
                    "SecretPresent",
                    "the referenced TLS Secret holds a certificate and key",
                )
            });
    }
    if let Some(c) = deref.and_then(|d| found_condition(T, &d.issuer, "Issuer")) {
        return c;
    }
    let name = Names::new(&v.name).certificate();
    match live.get(ChildKind::Certificate, &v.namespace, &name) {
        None => cond(
            T,
            false,
            "CertificateNotCreated",
            format!("Certificate {name} is not created yet"),
        ),
        Some(object) => match crate::dereference::readiness(object, "Certificate", &name) {
            Found::Ready if deref.is_some_and(|d| d.observed.tls_checksum.is_some()) => {
                cond(T, true, "Issued", format!("Certificate {name} is issued"))
            }
            Found::Ready => cond(
                T,
                false,
                "SecretPending",
                format!("Certificate {name} is Ready but its Secret is not readable yet"),
            ),
            other => found_condition(T, &other, "Certificate").expect("not ready is a condition"),
        },
    }
}

fn monitoring(v: &ValidatedBigPeer, installed: &BTreeSet<OptionalApi>) -> Cond {
    const T: &str = "MonitoringReady";
    let Some(m) = &v.spec.monitoring else {
        return cond(T, true, "NotRequested", "spec.monitoring is not set");
    };
    let wants_prometheus = m.service_monitor.as_ref().is_some_and(|s| s.enabled)
        || m.prometheus_rule.as_ref().is_some_and(|r| r.enabled);
    if wants_prometheus && !installed.contains(&OptionalApi::PrometheusOperator) {
        return found_condition(
            T,
            &Found::ApiMissing(OptionalApi::PrometheusOperator),
            "spec.monitoring",
        )
        .expect("a missing API is a condition");
    }
    cond(
        T,
        true,
        "Configured",
        "the requested monitoring objects are applied",
    )
}

/// Turns computed conditions into Kubernetes conditions, keeping the previous transition time
/// of every condition whose status did not change.
fn settle(
    conds: Vec<Cond>,
    previous: &[Condition],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    conds
        .into_iter()
        .map(|c| {
            let status = if c.ok { "True" } else { "False" };
            let since = previous
                .iter()
                .find(|p| p.type_ == c.type_ && p.status == status)
                .map(|p| p.last_transition_time.clone())
                .unwrap_or(Time(now));
            Condition {
                type_: c.type_.into(),
                status: status.into(),
                reason: c.reason,
                message: c.message,
                observed_generation: generation,
                last_transition_time: since,
            }
        })
        .collect()
}

/// The conditions whose status or reason differ between `before` and `after`: what Events report.
pub fn transitions<'a>(before: &[Condition], after: &'a [Condition]) -> Vec<&'a Condition> {
    after
        .iter()
        .filter(|c| {
            !before
                .iter()
                .any(|b| b.type_ == c.type_ && b.status == c.status && b.reason == c.reason)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use smbp_core::catalogue::ImageRef;

    fn bigpeer() -> BigPeer {
        let mut bigpeer: BigPeer = serde_json::from_value(json!({
            "apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
            "metadata": {"name": "edge", "namespace": "shop", "generation": 2, "uid": "u"},
            "spec": {"version": "1.6.1", "transactionLog": {"external": {"bootstrapServers": ["k:9092"], "topic": "t"}}},
        }))
        .unwrap();
        bigpeer.status = None;
        bigpeer
    }

    fn validated(bigpeer: &BigPeer) -> ValidatedBigPeer {
        ValidatedBigPeer {
            name: "edge".into(),
            namespace: "shop".into(),
            uid: "u".into(),
            spec: bigpeer.spec.clone(),
            image: ImageRef {
                repository: "r".into(),
                tag: "1.6.1".into(),
                digest: "sha256:x".into(),
            },
        }
    }

    fn workload(replicas: i64, ready_field: &str, ready: i64) -> Value {
        json!({"metadata": {"generation": 1}, "spec": {"replicas": replicas},
               "status": {"observedGeneration": 1, ready_field: ready, "updatedReplicas": replicas,
                          "currentRevision": "a", "updateRevision": "a"}})
    }

    fn compute_with(bigpeer: &BigPeer, store_ready: i64, now: Timestamp) -> BigPeerStatus {
        let mut live = Live::default();
        live.insert(
            ChildKind::StatefulSet,
            "shop",
            "edge-store",
            workload(3, "readyReplicas", store_ready),
        );
        live.insert(
            ChildKind::Deployment,
            "shop",
            "edge-sync",
            workload(2, "availableReplicas", 2),
        );
        let v = validated(bigpeer);
        compute(&Inputs {
            bigpeer,
            validated: Ok(&v),
            live: &live,
            dereferenced: None,
            installed: &BTreeSet::new(),
            recreating: false,
            refused: &[],
            missing: &[],
            pod_problems: &[],
            upgrade: None,
            now,
        })
    }

    fn get<'a>(status: &'a BigPeerStatus, type_: &str) -> &'a Condition {
        status.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn conditions_follow_the_observed_workloads_and_keep_their_transition_times() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let mut bigpeer = bigpeer();
        let provisioning = compute_with(&bigpeer, 1, t0);
        assert_eq!(get(&provisioning, "Available").status, "False");
        assert_eq!(get(&provisioning, "Ready").status, "False");
        assert_eq!(provisioning.phase, Some(Phase::Provisioning));
        assert_eq!(get(&provisioning, "Ready").observed_generation, Some(2));

        bigpeer.status = Some(provisioning.clone());
        let running = compute_with(&bigpeer, 3, t1);
        assert_eq!(get(&running, "Ready").status, "True");
        assert_eq!(get(&running, "Ready").last_transition_time, Time(t1));
        assert_eq!(running.phase, Some(Phase::Running));
        assert_eq!(
            running.version.as_ref().unwrap().current.as_deref(),
            Some("1.6.1")
        );
        // A condition that did not change keeps the time it last changed.
        assert_eq!(
            get(&running, "TransactionLogReady").last_transition_time,
            Time(t0)
        );

        bigpeer.status = Some(running);
        let degraded = compute_with(&bigpeer, 2, t1);
        assert_eq!(
            get(&degraded, "Degraded").status,
            "True",
            "{:?}",
            degraded.conditions
        );
        assert_eq!(get(&degraded, "Available").status, "True");
        assert_eq!(degraded.phase, Some(Phase::Degraded));
    }

    #[test]
    fn a_spec_change_rolling_out_is_progress_not_degradation() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut bigpeer = bigpeer();
        bigpeer.status = Some(compute_with(&bigpeer, 3, t));
        let ready = compute_with(&bigpeer, 3, t);
        bigpeer.status = Some(ready);
        // A new generation (a scale-out, say) with a pod not ready yet: Progressing, not Degraded.
        bigpeer.metadata.generation = Some(3);
        let scaling = compute_with(&bigpeer, 2, t);
        assert_eq!(get(&scaling, "Degraded").status, "False");
        assert_eq!(get(&scaling, "Progressing").status, "True");
        assert_eq!(get(&scaling, "Ready").status, "False");
        // Once this generation was Ready, losing a pod is Degraded, and stays so.
        bigpeer.status = Some(scaling);
        bigpeer.status = Some(compute_with(&bigpeer, 3, t));
        let lost = compute_with(&bigpeer, 2, t);
        assert_eq!(get(&lost, "Degraded").status, "True");
        bigpeer.status = Some(lost);
        assert_eq!(
            get(&compute_with(&bigpeer, 2, t), "Degraded").status,
            "True"
        );
    }

    #[test]
    fn rollout_messages_never_count_more_pods_than_desired() {
        let three = ComponentStatus {
            replicas: 3,
            ready_replicas: 5,
            updated_replicas: 5,
        };
        assert_eq!(
            progress("store", &three, Some(5), "updated and ready"),
            "store scaling from 5 to 3 pods (5 ready)"
        );
        assert_eq!(
            progress("store", &three, Some(3), "updated and ready"),
            "store 3/3 updated and ready"
        );
    }

    #[test]
    fn transitions_are_changes_of_status_or_reason() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let status = compute_with(&bigpeer(), 3, t);
        assert!(transitions(&status.conditions, &status.conditions).is_empty());
        assert_eq!(
            transitions(&[], &status.conditions).len(),
            status.conditions.len()
        );
    }
}
