//! Simulated nodes: registered at start (labels for hostname and zone, capacity, addresses), Ready
//! until a test says otherwise. A NotReady node gets the `node.kubernetes.io/unreachable` taint the
//! node lifecycle controller adds; its pods lose readiness (the kubelet module) and no new pod is
//! scheduled there.

use super::api::{Api, gvr};
use super::util::set_condition;
use serde_json::{Value, json};

/// The simulated nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePool {
    /// How many nodes (`sim-node-0`, `sim-node-1`, ...).
    pub count: usize,
    /// Zones, assigned round-robin (`topology.kubernetes.io/zone`).
    pub zones: Vec<String>,
    /// CPU capacity of each node, in cores.
    pub cpu: u32,
    /// Memory capacity of each node, in GiB.
    pub memory_gib: u32,
    /// Pods each node can run.
    pub max_pods: u32,
}

impl Default for NodePool {
    fn default() -> Self {
        NodePool {
            count: 3,
            zones: vec!["zone-a".into(), "zone-b".into(), "zone-c".into()],
            cpu: 8,
            memory_gib: 32,
            max_pods: 110,
        }
    }
}

/// The name of node `index`.
pub fn node_name(index: usize) -> String {
    format!("sim-node-{index}")
}

/// Creates the nodes and their status.
pub async fn register(api: &Api, pool: &NodePool) {
    let now = api.sim().clock.now_rfc3339();
    for index in 0..pool.count {
        let name = node_name(index);
        let zone = pool
            .zones
            .get(index % pool.zones.len().max(1))
            .cloned()
            .unwrap_or_else(|| "zone-a".into());
        let node = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": "sim-region",
                "node.kubernetes.io/instance-type": "sim.standard"}},
            "spec": {"podCIDR": format!("10.244.{index}.0/24")},
        });
        let Ok(mut created) = api.create(gvr::NODES, "", &node).await else {
            continue;
        };
        let resources = json!({"cpu": pool.cpu.to_string(), "memory": format!("{}Gi", pool.memory_gib),
            "pods": pool.max_pods.to_string(), "ephemeral-storage": "100Gi"});
        let mut conditions = Vec::new();
        for (kind, reason, message) in [
            (
                "MemoryPressure",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            (
                "DiskPressure",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            (
                "PIDPressure",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
        ] {
            set_condition(
                &mut conditions,
                kind,
                "False",
                &now,
                &[
                    ("lastHeartbeatTime", json!(now)),
                    ("reason", json!(reason)),
                    ("message", json!(message)),
                ],
            );
        }
        set_condition(
            &mut conditions,
            "Ready",
            "True",
            &now,
            &[
                ("lastHeartbeatTime", json!(now)),
                ("reason", json!("KubeletReady")),
                ("message", json!("kubelet is posting ready status")),
            ],
        );
        created["status"] = json!({
            "capacity": resources, "allocatable": resources, "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", index + 10)},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.36.2", "containerRuntimeVersion": "sim://1.0",
                         "operatingSystem": "linux", "architecture": "amd64",
                         "kernelVersion": "6.8.0-sim", "osImage": "smbp-sim",
                         "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""},
            "phase": "Running",
        });
        let _ = api.replace_status(gvr::NODES, &created).await;
    }
}

/// Marks a node Ready or NotReady (and taints or untaints it), as a kubelet that stops posting
/// status and the node lifecycle controller would.
pub async fn set_ready(api: &Api, name: &str, ready: bool) -> Result<(), crate::error::ApiError> {
    let Some(node) = api.get(gvr::NODES, "", name) else {
        return Err(crate::error::ApiError::status(
            404,
            Some("NotFound"),
            &format!("nodes \"{name}\" not found"),
            None,
        ));
    };
    let now = api.sim().clock.now_rfc3339();
    let mut node = (*node).clone();
    let mut conditions: Vec<Value> = node
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ready {
        set_condition(
            &mut conditions,
            "Ready",
            "True",
            &now,
            &[
                ("lastHeartbeatTime", json!(now)),
                ("reason", json!("KubeletReady")),
                ("message", json!("kubelet is posting ready status")),
            ],
        );
    } else {
        set_condition(
            &mut conditions,
            "Ready",
            "Unknown",
            &now,
            &[
                ("lastHeartbeatTime", json!(now)),
                ("reason", json!("NodeStatusUnknown")),
                ("message", json!("Kubelet stopped posting node status.")),
            ],
        );
    }
    node["status"]["conditions"] = json!(conditions);
    let updated = api.replace_status(gvr::NODES, &node).await?;
    let mut taints: Vec<Value> = updated
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    taints.retain(|t| t["key"] != "node.kubernetes.io/unreachable");
    if !ready {
        taints.push(json!({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": now}));
    }
    api.merge_patch(
        gvr::NODES,
        "",
        name,
        None,
        &json!({"spec": {"taints": if taints.is_empty() { Value::Null } else { json!(taints) }}}),
    )
    .await?;
    Ok(())
}

/// Whether a node is Ready.
pub fn node_ready(node: &Value) -> bool {
    super::util::condition(node, "Ready").is_some_and(|c| c["status"] == "True")
}
