//! The simulated kubelets (one module for every node): a bound pod waits for its volumes, shows
//! `ContainerCreating`, runs, and becomes Ready once its readiness probe passes; containers that
//! crash are restarted with a doubling back-off (`CrashLoopBackOff`, restart counts);
//! run-to-completion pods end Succeeded or Failed; a deleted pod's containers stop within its
//! grace period, then the pod is removed. Containers behave as [`ImageBehaviour`] rules say, or
//! as the reference recordings' fake kubelet annotations say (`fake-kubelet.realk8s/ready`,
//! `exit-code`, `run-seconds`). On a NotReady node pods lose readiness and nothing progresses.

use super::api::{Api, gvr};
use super::nodes::node_ready;
use super::runtime::{Controller, Key, Requeue};
use super::util::{pod_finished, set_condition, str_at, terminating};
use super::{ImageBehaviour, KubeletTiming};
use crate::store::Change;
use serde_json::{Value, json};
use std::time::Duration;

/// Back-off between crash-loop restarts never exceeds this.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The kubelets of every simulated node.
pub struct Kubelet {
    api: Api,
    timing: KubeletTiming,
}

impl Kubelet {
    /// Kubelets writing through `api`, waiting as `timing` says.
    pub fn new(api: Api, timing: KubeletTiming) -> Self {
        Kubelet { api, timing }
    }

    fn pods_on_node(&self, node: &str) -> Vec<Key> {
        self.api
            .list(gvr::PODS, None)
            .iter()
            .filter(|p| str_at(p, "/spec/nodeName") == Some(node))
            .map(|p| Key::of("/pods", p))
            .collect()
    }
}

/// What a container does, once decided.
#[derive(Clone, Debug, PartialEq)]
struct Behaviour {
    /// When readiness passes after start; None: never.
    ready_after: Option<Duration>,
    /// When it exits after start, and with which code; None: runs until stopped.
    exits: Option<(Duration, i32)>,
}

impl Kubelet {
    fn behaviour(&self, pod: &Value, container: &Value, run_to_completion: bool) -> Behaviour {
        let annotation = |name: &str| {
            str_at(
                pod,
                &format!("/metadata/annotations/fake-kubelet.realk8s~1{name}"),
            )
        };
        let probe_delay = container
            .pointer("/readinessProbe/initialDelaySeconds")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .unwrap_or_default();
        let mut behaviour = Behaviour {
            ready_after: Some(probe_delay + self.timing.ready),
            exits: run_to_completion.then_some((self.timing.run, 0)),
        };
        let image = container["image"].as_str().unwrap_or_default();
        match self
            .api
            .sim()
            .controls
            .image_behaviour(image, run_to_completion)
        {
            Some(ImageBehaviour::CrashLoop) => {
                behaviour.exits = Some((Duration::from_millis(200), 1))
            }
            Some(ImageBehaviour::NeverReady) => behaviour.ready_after = None,
            Some(ImageBehaviour::ReadyAfter(after)) => behaviour.ready_after = Some(after),
            Some(ImageBehaviour::Exit { code, after }) => behaviour.exits = Some((after, code)),
            None => {}
        }
        if annotation("ready") == Some("false") {
            behaviour.ready_after = None;
        }
        let seconds = annotation("run-seconds").and_then(|s| s.parse::<f64>().ok());
        let code = annotation("exit-code").and_then(|s| s.parse::<i32>().ok());
        if seconds.is_some() || code.is_some() {
            let (after, previous) = behaviour.exits.unwrap_or((self.timing.run, 0));
            behaviour.exits = Some((
                seconds.map_or(after, Duration::from_secs_f64),
                code.unwrap_or(previous),
            ));
        }
        behaviour
    }
}

impl Controller for Kubelet {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            "/pods" if str_at(&change.object, "/spec/nodeName").is_some() => {
                vec![Key::of("/pods", &change.object)]
            }
            "/nodes" => {
                self.pods_on_node(str_at(&change.object, "/metadata/name").unwrap_or_default())
            }
            "/persistentvolumeclaims" => {
                let namespace = str_at(&change.object, "/metadata/namespace").unwrap_or_default();
                let claim = str_at(&change.object, "/metadata/name").unwrap_or_default();
                self.api
                    .list(gvr::PODS, Some(namespace))
                    .iter()
                    .filter(|p| claims(p).any(|c| c == claim))
                    .map(|p| Key::of("/pods", p))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api
            .list(gvr::PODS, None)
            .iter()
            .filter(|p| str_at(p, "/spec/nodeName").is_some())
            .map(|p| Key::of("/pods", p))
            .collect()
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let pod = self.api.get(gvr::PODS, &key.namespace, &key.name)?;
        let node_name = str_at(&pod, "/spec/nodeName")?.to_string();
        let node = self.api.get(gvr::NODES, "", &node_name)?;
        if terminating(&pod) {
            return self.terminate(&pod).await;
        }
        if pod_finished(&pod) {
            return None;
        }
        let clock = &self.api.sim().clock;
        let now = clock.now_rfc3339();
        let mut status = pod.get("status").cloned().unwrap_or_else(|| json!({}));
        if !node_ready(&node) {
            // The node controller marks the pods of an unreachable node not ready.
            let mut conditions = conditions_of(&status);
            set_condition(
                &mut conditions,
                "Ready",
                "False",
                &now,
                &[("lastProbeTime", Value::Null)],
            );
            status["conditions"] = json!(conditions);
            self.write(&pod, status).await;
            return None;
        }
        let containers: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let names: Vec<String> = containers
            .iter()
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect();
        let restart_policy = str_at(&pod, "/spec/restartPolicy").unwrap_or("Always");
        let run_to_completion = restart_policy != "Always";
        if status.get("startTime").is_none() {
            let mut conditions = conditions_of(&status);
            set_condition(
                &mut conditions,
                "PodReadyToStartContainers",
                "False",
                &now,
                &[("lastProbeTime", Value::Null)],
            );
            set_condition(
                &mut conditions,
                "Initialized",
                "True",
                &now,
                &[("lastProbeTime", Value::Null)],
            );
            let unready = format!("containers with unready status: [{}]", names.join(" "));
            set_condition(
                &mut conditions,
                "Ready",
                "False",
                &now,
                &[
                    ("lastProbeTime", Value::Null),
                    ("reason", json!("ContainersNotReady")),
                    ("message", json!(unready)),
                ],
            );
            set_condition(
                &mut conditions,
                "ContainersReady",
                "False",
                &now,
                &[
                    ("lastProbeTime", Value::Null),
                    ("reason", json!("ContainersNotReady")),
                    ("message", json!(unready)),
                ],
            );
            let host_ip = node
                .pointer("/status/addresses/0/address")
                .cloned()
                .unwrap_or(json!("10.0.0.10"));
            status["phase"] = json!("Pending");
            status["conditions"] = json!(conditions);
            status["hostIP"] = host_ip.clone();
            status["hostIPs"] = json!([{"ip": host_ip}]);
            status["startTime"] = json!(now);
            status["containerStatuses"] = json!(
                containers
                    .iter()
                    .map(|c| json!({
                "name": c["name"], "state": {"waiting": {"reason": "ContainerCreating"}},
                "lastState": {}, "ready": false, "restartCount": 0, "image": c["image"],
                "imageID": "", "started": false}))
                    .collect::<Vec<_>>()
            );
            status["qosClass"] = json!(qos_class(&containers));
            self.write(&pod, status).await;
            return Some(self.timing.start);
        }
        if str_at(&status, "/phase") == Some("Pending") {
            if let Some(claim) = claims(&pod).find(|c| {
                self.api
                    .get(gvr::PVCS, &key.namespace, c)
                    .is_none_or(|pvc| str_at(&pvc, "/status/phase") != Some("Bound"))
            }) {
                // Volumes first: the pod waits in ContainerCreating.
                let _ = claim;
                return Some(Duration::from_millis(500));
            }
            let waited = clock.since(str_at(&status, "/startTime").unwrap_or_default());
            if waited < self.timing.start {
                return Some(self.timing.start - waited);
            }
            let mut conditions = conditions_of(&status);
            set_condition(
                &mut conditions,
                "PodReadyToStartContainers",
                "True",
                &now,
                &[("lastProbeTime", Value::Null)],
            );
            status["conditions"] = json!(conditions);
            status["phase"] = json!("Running");
            status["podIP"] = json!(pod_ip(&node, &pod));
            status["podIPs"] = json!([{"ip": status["podIP"]}]);
            status["containerStatuses"] = json!(containers.iter().map(|c| json!({
                "name": c["name"], "state": {"running": {"startedAt": now}},
                "lastState": {}, "ready": false, "restartCount": 0, "image": c["image"],
                "imageID": format!("sim://{}", c["image"].as_str().unwrap_or_default()),
                "containerID": format!("sim://{}-{}", str_at(&pod, "/metadata/uid").unwrap_or_default(), c["name"].as_str().unwrap_or_default()),
                "started": true})).collect::<Vec<_>>());
            self.write(&pod, status).await;
            return Some(Duration::ZERO);
        }
        // Running: advance every container.
        let mut next: Option<Duration> = None;
        let mut soonest = |d: Duration| next = Some(next.map_or(d, |n: Duration| n.min(d)));
        let mut statuses: Vec<Value> = status["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut exited_codes = Vec::new();
        for (container, cs) in containers.iter().zip(statuses.iter_mut()) {
            let behaviour = self.behaviour(&pod, container, run_to_completion);
            if let Some(started) = cs
                .pointer("/state/running/startedAt")
                .and_then(Value::as_str)
                .map(String::from)
            {
                let running_for = clock.since(&started);
                if let Some((after, code)) = behaviour.exits
                    && running_for >= after
                {
                    let terminated = json!({"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" },
                        "startedAt": started, "finishedAt": now, "containerID": cs["containerID"]});
                    cs["ready"] = json!(false);
                    cs["started"] = json!(false);
                    let restarts =
                        restart_policy == "Always" || (restart_policy == "OnFailure" && code != 0);
                    if restarts {
                        self.api.sim().logs.restart(
                            str_at(&pod, "/metadata/uid").unwrap_or_default(),
                            container["name"].as_str().unwrap_or_default(),
                        );
                        let count = cs["restartCount"].as_u64().unwrap_or(0);
                        let backoff = self.backoff(count);
                        cs["lastState"] = json!({"terminated": terminated});
                        cs["restartCount"] = json!(count + 1);
                        cs["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                            "message": format!("back-off {}s restarting failed container={} pod={}_{}({})",
                                backoff.as_secs(), container["name"].as_str().unwrap_or_default(), key.name, key.namespace,
                                str_at(&pod, "/metadata/uid").unwrap_or_default())}});
                        soonest(backoff);
                    } else {
                        cs["state"] = json!({"terminated": terminated});
                        exited_codes.push(code);
                    }
                    continue;
                }
                if let Some((after, _)) = behaviour.exits {
                    soonest(after - running_for);
                }
                let ready = behaviour
                    .ready_after
                    .is_some_and(|after| running_for >= after);
                if !ready && let Some(after) = behaviour.ready_after {
                    soonest(after - running_for);
                }
                cs["ready"] = json!(ready);
            } else if let Some(finished) = cs
                .pointer("/lastState/terminated/finishedAt")
                .and_then(Value::as_str)
                .map(String::from)
                && cs.pointer("/state/waiting").is_some()
            {
                let backoff =
                    self.backoff(cs["restartCount"].as_u64().unwrap_or(1).saturating_sub(1));
                let waited = clock.since(&finished);
                if waited >= backoff {
                    cs["state"] = json!({"running": {"startedAt": now}});
                    cs["started"] = json!(true);
                    soonest(Duration::ZERO);
                } else {
                    soonest(backoff - waited);
                }
            } else if cs.pointer("/state/terminated").is_some() {
                exited_codes.push(
                    cs.pointer("/state/terminated/exitCode")
                        .and_then(Value::as_i64)
                        .unwrap_or(0) as i32,
                );
            }
        }
        let all_ready = !statuses.is_empty() && statuses.iter().all(|cs| cs["ready"] == true);
        let mut conditions = conditions_of(&status);
        if run_to_completion && exited_codes.len() == statuses.len() && !statuses.is_empty() {
            let failed = exited_codes.iter().any(|c| *c != 0);
            status["phase"] = json!(if failed { "Failed" } else { "Succeeded" });
            for kind in ["Ready", "ContainersReady"] {
                set_condition(
                    &mut conditions,
                    kind,
                    "False",
                    &now,
                    &[
                        ("lastProbeTime", Value::Null),
                        ("reason", json!("PodCompleted")),
                    ],
                );
            }
            set_condition(
                &mut conditions,
                "PodReadyToStartContainers",
                "False",
                &now,
                &[("lastProbeTime", Value::Null)],
            );
        } else if all_ready {
            for kind in ["ContainersReady", "Ready"] {
                set_condition(
                    &mut conditions,
                    kind,
                    "True",
                    &now,
                    &[("lastProbeTime", Value::Null)],
                );
            }
        } else {
            let unready: Vec<&str> = statuses
                .iter()
                .filter(|cs| cs["ready"] != true)
                .filter_map(|cs| cs["name"].as_str())
                .collect();
            let message = format!("containers with unready status: [{}]", unready.join(" "));
            for kind in ["ContainersReady", "Ready"] {
                set_condition(
                    &mut conditions,
                    kind,
                    "False",
                    &now,
                    &[
                        ("lastProbeTime", Value::Null),
                        ("reason", json!("ContainersNotReady")),
                        ("message", json!(message)),
                    ],
                );
            }
        }
        status["conditions"] = json!(conditions);
        status["containerStatuses"] = json!(statuses);
        self.write(&pod, status).await;
        next
    }
}

impl Kubelet {
    /// The crash-loop back-off after `restarts` earlier restarts: doubling, capped.
    fn backoff(&self, restarts: u64) -> Duration {
        self.timing
            .crash_backoff
            .saturating_mul(1 << restarts.min(10))
            .min(MAX_BACKOFF)
    }

    /// Stops a deleted pod's containers (within its grace period), then removes the pod.
    async fn terminate(&self, pod: &Value) -> Requeue {
        let clock = &self.api.sim().clock;
        let grace = pod
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if grace == 0 && pod.pointer("/metadata/finalizers").is_some() {
            // Already released; only finalizers hold it.
            return None;
        }
        let deadline = str_at(pod, "/metadata/deletionTimestamp").unwrap_or_default();
        let grace = Duration::from_secs(grace.max(0) as u64);
        // The deletion started `grace` before its deadline.
        let started = grace.saturating_sub(clock.until(deadline));
        let stops_after = self.timing.stop.min(grace);
        let finished = pod_finished(pod);
        if !finished && started < stops_after {
            return Some(stops_after - started);
        }
        let (namespace, name) = crate::request::key_of(pod);
        let uid = str_at(pod, "/metadata/uid");
        match self
            .api
            .delete(gvr::PODS, &namespace, &name, uid, Some(0))
            .await
        {
            Ok(()) => None,
            Err(error) if error.code == 404 || error.code == 409 => None,
            Err(_) => Some(Duration::from_millis(500)),
        }
    }

    /// Writes a pod's status when it changed.
    async fn write(&self, pod: &Value, status: Value) {
        let _ = self.api.write_status(gvr::PODS, pod, status).await;
    }
}

fn conditions_of(status: &Value) -> Vec<Value> {
    status["conditions"].as_array().cloned().unwrap_or_default()
}

/// The claim names a pod's volumes use.
fn claims(pod: &Value) -> impl Iterator<Item = &str> {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
        })
}

/// BestEffort without requests or limits, Guaranteed when every limit equals its request.
fn qos_class(containers: &[Value]) -> &'static str {
    let resources: Vec<&Value> = containers.iter().map(|c| &c["resources"]).collect();
    let empty = |v: &Value| v.as_object().is_none_or(|m| m.is_empty());
    if resources
        .iter()
        .all(|r| empty(&r["requests"]) && empty(&r["limits"]))
    {
        return "BestEffort";
    }
    let guaranteed = resources.iter().all(|r| {
        ["cpu", "memory"].iter().all(|k| {
            !r["limits"][k].is_null()
                && (r["requests"][k].is_null() || r["requests"][k] == r["limits"][k])
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// A pod IP from the node's pod CIDR, stable for the pod (derived from its uid).
fn pod_ip(node: &Value, pod: &Value) -> String {
    let prefix = str_at(node, "/spec/podCIDR")
        .and_then(|c| c.strip_suffix(".0/24"))
        .unwrap_or("10.244.0");
    let uid = str_at(pod, "/metadata/uid").unwrap_or_default();
    let host = uid
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 250
        + 2;
    format!("{prefix}.{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes_follow_requests_and_limits() {
        assert_eq!(qos_class(&[json!({"name": "a"})]), "BestEffort");
        let guaranteed = json!({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}});
        assert_eq!(qos_class(&[guaranteed]), "Guaranteed");
        let burstable = json!({"resources": {"requests": {"cpu": "100m"}}});
        assert_eq!(qos_class(&[burstable]), "Burstable");
    }

    #[test]
    fn the_condition_helper_sees_pod_readiness() {
        let pod = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(super::super::util::condition(&pod, "Ready").is_some());
        assert!(super::super::util::pod_ready(&pod));
    }
}
