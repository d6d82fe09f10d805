//! The simulated disruption controller: keeps each PodDisruptionBudget's status (expected,
//! healthy and desired pods, disruptions allowed, the `DisruptionAllowed` condition) as
//! kube-controller-manager does; the eviction subresource decides against that status.

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{
    pod_finished, pod_ready, scaled_value, selector_matches, set_condition, str_at, terminating,
};
use crate::store::Change;
use serde_json::{Value, json};

const PDBS: &str = "policy/poddisruptionbudgets";

/// The disruption controller.
pub struct Disruption {
    api: Api,
}

impl Disruption {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        Disruption { api }
    }
}

impl Controller for Disruption {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            PDBS => vec![Key::of(PDBS, &change.object)],
            "/pods" => self.api.keys_selecting(gvr::PDBS, change, |pdb, labels| {
                selector_matches(&pdb["spec"]["selector"], labels)
            }),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::PDBS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let pdb = self.api.get(gvr::PDBS, &key.namespace, &key.name)?;
        let pods: Vec<_> = self
            .api
            .list(gvr::PODS, Some(&key.namespace))
            .into_iter()
            .filter(|p| selector_matches(&pdb["spec"]["selector"], p.pointer("/metadata/labels")))
            .filter(|p| !pod_finished(p))
            .collect();
        let expected = pods.len() as i64;
        let healthy = pods
            .iter()
            .filter(|p| pod_ready(p) && !terminating(p))
            .count() as i64;
        let desired = if pdb.pointer("/spec/minAvailable").is_some() {
            scaled_value(pdb.pointer("/spec/minAvailable"), expected, "0", true)
        } else {
            (expected - scaled_value(pdb.pointer("/spec/maxUnavailable"), expected, "0", true))
                .max(0)
        };
        let allowed = (healthy - desired).max(0);
        let now = self.api.sim().clock.now_rfc3339();
        let generation = pdb["metadata"]["generation"].clone();
        let mut conditions: Vec<Value> = pdb
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (status, reason) = if allowed > 0 {
            ("True", "SufficientPods")
        } else {
            ("False", "InsufficientPods")
        };
        set_condition(
            &mut conditions,
            "DisruptionAllowed",
            status,
            &now,
            &[
                ("observedGeneration", generation.clone()),
                ("reason", json!(reason)),
                ("message", json!("")),
            ],
        );
        let mut next = json!({"observedGeneration": generation, "disruptionsAllowed": allowed,
            "currentHealthy": healthy, "desiredHealthy": desired, "expectedPods": expected, "conditions": conditions});
        // Evictions the API server recorded stay until the pod is gone.
        if let Some(disrupted) = pdb
            .pointer("/status/disruptedPods")
            .and_then(Value::as_object)
        {
            let still: serde_json::Map<String, Value> = disrupted
                .iter()
                .filter(|(name, _)| {
                    pods.iter().any(|p| {
                        str_at(p, "/metadata/name") == Some(name.as_str()) && !terminating(p)
                    })
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !still.is_empty() {
                next["disruptionsAllowed"] = json!((allowed - still.len() as i64).max(0));
                next["disruptedPods"] = Value::Object(still);
            }
        }
        let _ = self.api.write_status(gvr::PDBS, &pdb, next).await;
        None
    }
}
