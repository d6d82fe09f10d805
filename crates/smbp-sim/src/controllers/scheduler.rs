//! The simulated kube-scheduler: binds each unscheduled pod to a Ready, untainted node that fits
//! (nodeSelector, pod capacity, required pod anti-affinity), spreading the pods of one owner over
//! zones and then nodes, as the default spreading scores do. A pod that fits nowhere gets
//! `PodScheduled=False`, reason `Unschedulable`, with the reasons counted per node.

use super::api::{Api, gvr};
use super::nodes::node_ready;
use super::runtime::{Controller, Key, Requeue};
use super::util::{
    controller_uid, pod_finished, selector_matches, set_condition, str_at, terminating,
};
use crate::store::{Change, EventType};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// The scheduler.
pub struct Scheduler {
    api: Api,
}

impl Scheduler {
    /// A scheduler writing through `api`.
    pub fn new(api: Api) -> Self {
        Scheduler { api }
    }

    fn unscheduled(&self) -> Vec<Key> {
        self.api
            .list(gvr::PODS, None)
            .iter()
            .filter(|p| needs_node(p))
            .map(|p| Key::of(&gvr::PODS.storage_key(), p))
            .collect()
    }
}

fn needs_node(pod: &Value) -> bool {
    str_at(pod, "/spec/nodeName").is_none_or(str::is_empty) && !terminating(pod)
}

impl Controller for Scheduler {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            "/pods" if change.event == EventType::Deleted => self.unscheduled(),
            "/pods" if needs_node(&change.object) => vec![Key::of("/pods", &change.object)],
            "/nodes" => self.unscheduled(),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.unscheduled()
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let pod = self.api.get(gvr::PODS, &key.namespace, &key.name)?;
        if !needs_node(&pod) {
            return None;
        }
        let nodes = self.api.list(gvr::NODES, None);
        let pods = self.api.list(gvr::PODS, None);
        let load = Load::of(&pod, &pods);
        let mut reasons: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut best: Option<((usize, usize, String), String)> = None;
        for node in &nodes {
            let name = str_at(node, "/metadata/name")
                .unwrap_or_default()
                .to_string();
            match fits(&pod, node, &nodes, &pods, &load) {
                Err(reason) => *reasons.entry(reason).or_default() += 1,
                Ok(()) => {
                    let score = spread_score(node, &nodes, &load);
                    if best.as_ref().is_none_or(|(b, _)| score < *b) {
                        best = Some((score, name));
                    }
                }
            }
        }
        let now = self.api.sim().clock.now_rfc3339();
        let mut conditions: Vec<Value> = pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some((_, node)) = best else {
            let detail: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            let message = format!(
                "0/{} nodes are available: {}. preemption: not eligible due to preemptionPolicy=Never.",
                nodes.len(),
                if detail.is_empty() {
                    "no nodes registered".to_string()
                } else {
                    detail.join(", ")
                }
            );
            set_condition(
                &mut conditions,
                "PodScheduled",
                "False",
                &now,
                &[
                    ("lastProbeTime", Value::Null),
                    ("reason", json!("Unschedulable")),
                    ("message", json!(message)),
                ],
            );
            let mut updated = (*pod).clone();
            updated["status"]["conditions"] = json!(conditions);
            updated["status"]["phase"] = json!("Pending");
            if updated != *pod {
                let _ = self.api.replace_status(gvr::PODS, &updated).await;
            }
            return Some(Duration::from_secs(10));
        };
        set_condition(
            &mut conditions,
            "PodScheduled",
            "True",
            &now,
            &[("lastProbeTime", Value::Null)],
        );
        let status = self
            .api
            .merge_patch(
                gvr::PODS,
                &key.namespace,
                &key.name,
                Some("status"),
                &json!({"status": {"conditions": conditions}}),
            )
            .await;
        if status.is_err() {
            return Some(Duration::from_secs(1));
        }
        let bound = self
            .api
            .merge_patch(
                gvr::PODS,
                &key.namespace,
                &key.name,
                None,
                &json!({"spec": {"nodeName": node}}),
            )
            .await;
        bound.is_err().then_some(Duration::from_secs(1))
    }
}

/// Pods per node, and the pending pod's siblings (same controller) per node, counted in one pass.
struct Load {
    pods: HashMap<String, usize>,
    siblings: HashMap<String, usize>,
}

impl Load {
    fn of(pod: &Value, pods: &[Arc<Value>]) -> Self {
        let owner = controller_uid(pod);
        let mut load = Load {
            pods: HashMap::new(),
            siblings: HashMap::new(),
        };
        for other in pods {
            let Some(node) = str_at(other, "/spec/nodeName") else {
                continue;
            };
            if pod_finished(other) {
                continue;
            }
            *load.pods.entry(node.to_string()).or_default() += 1;
            if owner.is_some() && controller_uid(other) == owner {
                *load.siblings.entry(node.to_string()).or_default() += 1;
            }
        }
        load
    }
}

/// Whether the pod may run on the node; Err is the reason counted in the Unschedulable message.
fn fits(
    pod: &Value,
    node: &Value,
    nodes: &[Arc<Value>],
    pods: &[Arc<Value>],
    load: &Load,
) -> Result<(), &'static str> {
    if !node_ready(node) {
        return Err("node(s) had untolerated taint {node.kubernetes.io/unreachable: }");
    }
    let tolerations = pod.pointer("/spec/tolerations").and_then(Value::as_array);
    let tolerated = |taint: &Value| {
        tolerations.into_iter().flatten().any(|t| {
            (t["operator"] == "Exists" && t.get("key").is_none_or(|k| k == &taint["key"]))
                || (t["key"] == taint["key"]
                    && t.get("value").unwrap_or(&Value::Null)
                        == taint.get("value").unwrap_or(&Value::Null))
        })
    };
    if node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|t| t["effect"] != "PreferNoSchedule" && !tolerated(t))
    {
        return Err("node(s) had untolerated taint");
    }
    if node.pointer("/spec/unschedulable") == Some(&json!(true)) {
        return Err("node(s) were unschedulable");
    }
    let labels = node.pointer("/metadata/labels");
    if let Some(selector) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object)
        && !selector
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    {
        return Err("node(s) didn't match Pod's node affinity/selector");
    }
    let name = str_at(node, "/metadata/name").unwrap_or_default();
    let capacity: usize = str_at(node, "/status/allocatable/pods")
        .and_then(|p| p.parse().ok())
        .unwrap_or(110);
    if load.pods.get(name).copied().unwrap_or(0) >= capacity {
        return Err("Too many pods");
    }
    let namespace = str_at(pod, "/metadata/namespace").unwrap_or_default();
    for term in pod
        .pointer("/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let topology_key = term["topologyKey"]
            .as_str()
            .unwrap_or("kubernetes.io/hostname");
        let Some(domain) = labels.and_then(|l| l.get(topology_key)) else {
            continue;
        };
        let same_domain = |other: &Value| {
            str_at(other, "/spec/nodeName")
                .and_then(|n| {
                    nodes
                        .iter()
                        .find(|node| str_at(node, "/metadata/name") == Some(n))
                })
                .and_then(|node| {
                    node.pointer(&format!(
                        "/metadata/labels/{}",
                        topology_key.replace('/', "~1")
                    ))
                })
                == Some(domain)
        };
        if pods.iter().any(|other| {
            str_at(other, "/metadata/namespace") == Some(namespace)
                && !terminating(other)
                && selector_matches(&term["labelSelector"], other.pointer("/metadata/labels"))
                && same_domain(other)
        }) {
            return Err("node(s) didn't match pod anti-affinity rules");
        }
    }
    Ok(())
}

/// Lower is better: pods of the same owner in the node's zone, then on the node, then all pods on
/// the node, then the name (so ties break the same way every run).
fn spread_score(node: &Value, nodes: &[Arc<Value>], load: &Load) -> (usize, usize, String) {
    let name = str_at(node, "/metadata/name").unwrap_or_default();
    let zone = node.pointer("/metadata/labels/topology.kubernetes.io~1zone");
    let in_zone: usize = nodes
        .iter()
        .filter(|n| n.pointer("/metadata/labels/topology.kubernetes.io~1zone") == zone)
        .filter_map(|n| str_at(n, "/metadata/name"))
        .map(|n| load.siblings.get(n).copied().unwrap_or(0))
        .sum();
    let on_node = load.siblings.get(name).copied().unwrap_or(0);
    (
        in_zone * 1000 + on_node,
        load.pods.get(name).copied().unwrap_or(0),
        name.to_string(),
    )
}
