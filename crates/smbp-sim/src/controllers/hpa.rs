//! The simulated horizontal pod autoscaler (autoscaling/v2, CPU utilisation): every 15 s
//! (simulated) it reads the CPU figure a test set for the scale target through [`super::Controls`],
//! computes `ceil(replicas × current / target)` outside a 10 % tolerance, clamps it to
//! `minReplicas`..`maxReplicas`, scales the Deployment or StatefulSet, and reports the
//! conditions Kubernetes does (AbleToScale, ScalingActive, ScalingLimited).

use super::api::{Api, Gvr, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{int_at, set_condition, str_at};
use crate::store::Change;
use serde_json::{Value, json};
use std::time::Duration;

const HPAS: &str = "autoscaling/horizontalpodautoscalers";
/// How often the autoscaler looks again.
const SYNC_PERIOD: Duration = Duration::from_secs(15);

/// The HPA controller.
pub struct Autoscalers {
    api: Api,
}

impl Autoscalers {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        Autoscalers { api }
    }
}

fn target_resource(kind: &str) -> Option<Gvr> {
    match kind {
        "Deployment" => Some(gvr::DEPLOYMENTS),
        "StatefulSet" => Some(gvr::STATEFULSETS),
        "ReplicaSet" => Some(gvr::REPLICASETS),
        _ => None,
    }
}

impl Controller for Autoscalers {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        (change.resource == HPAS)
            .then(|| Key::of(HPAS, &change.object))
            .into_iter()
            .collect()
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::HPAS, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let hpa = self.api.get(gvr::HPAS, &key.namespace, &key.name)?;
        let now = self.api.sim().clock.now_rfc3339();
        let kind = str_at(&hpa, "/spec/scaleTargetRef/kind")
            .unwrap_or_default()
            .to_string();
        let target_name = str_at(&hpa, "/spec/scaleTargetRef/name")
            .unwrap_or_default()
            .to_string();
        let mut conditions: Vec<Value> = hpa
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut status = hpa.get("status").cloned().unwrap_or(json!({}));
        let target = target_resource(&kind).and_then(|r| {
            self.api
                .get(r, &key.namespace, &target_name)
                .map(|t| (r, t))
        });
        let Some((resource, target)) = target else {
            set_condition(
                &mut conditions,
                "AbleToScale",
                "False",
                &now,
                &[
                    ("reason", json!("FailedGetScale")),
                    (
                        "message",
                        json!(format!(
                            "the HPA controller was unable to get the target's current scale: {} \"{target_name}\" not found",
                            kind.to_lowercase()
                        )),
                    ),
                ],
            );
            status["conditions"] = json!(conditions);
            self.write(&hpa, status).await;
            return Some(SYNC_PERIOD);
        };
        let current = int_at(&target, "/spec/replicas").unwrap_or(1);
        let min = int_at(&hpa, "/spec/minReplicas").unwrap_or(1);
        let max = int_at(&hpa, "/spec/maxReplicas").unwrap_or(min);
        let wanted_utilisation = hpa
            .pointer("/spec/metrics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| m["type"] == "Resource" && m.pointer("/resource/name") == Some(&json!("cpu")))
            .and_then(|m| {
                m.pointer("/resource/target/averageUtilization")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(80)
            .max(1);
        set_condition(
            &mut conditions,
            "AbleToScale",
            "True",
            &now,
            &[
                ("reason", json!("ReadyForNewScale")),
                ("message", json!("recommended size matches current size")),
            ],
        );
        let utilisation =
            self.api
                .sim()
                .controls
                .cpu_utilisation(&key.namespace, &kind, &target_name);
        // Like the real controller, the bounds hold even without metrics: a target below
        // minReplicas (or above maxReplicas) is scaled into range.
        let desired = match utilisation {
            None => {
                set_condition(
                    &mut conditions,
                    "ScalingActive",
                    "False",
                    &now,
                    &[
                        ("reason", json!("FailedGetResourceMetric")),
                        (
                            "message",
                            json!(
                                "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
                            ),
                        ),
                    ],
                );
                current.clamp(min, max)
            }
            Some(utilisation) => {
                let ratio = f64::from(utilisation) / wanted_utilisation as f64;
                let proposed = if (ratio - 1.0).abs() <= 0.1 {
                    current
                } else {
                    (current as f64 * ratio).ceil() as i64
                };
                set_condition(
                    &mut conditions,
                    "ScalingActive",
                    "True",
                    &now,
                    &[
                        ("reason", json!("ValidMetricFound")),
                        (
                            "message",
                            json!(
                                "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
                            ),
                        ),
                    ],
                );
                let (limited, reason, message) = if proposed > max {
                    (
                        "True",
                        "TooManyReplicas",
                        "the desired replica count is more than the maximum replica count",
                    )
                } else if proposed < min {
                    (
                        "True",
                        "TooFewReplicas",
                        "the desired replica count is less than the minimum replica count",
                    )
                } else {
                    (
                        "False",
                        "DesiredWithinRange",
                        "the desired count is within the acceptable range",
                    )
                };
                set_condition(
                    &mut conditions,
                    "ScalingLimited",
                    limited,
                    &now,
                    &[("reason", json!(reason)), ("message", json!(message))],
                );
                proposed.clamp(min, max)
            }
        };
        if desired != current {
            if self
                .api
                .merge_patch(
                    resource,
                    &key.namespace,
                    &target_name,
                    None,
                    &json!({"spec": {"replicas": desired}}),
                )
                .await
                .is_err()
            {
                return Some(Duration::from_secs(1));
            }
            set_condition(
                &mut conditions,
                "AbleToScale",
                "True",
                &now,
                &[
                    ("reason", json!("SucceededRescale")),
                    (
                        "message",
                        json!(format!(
                            "the HPA controller was able to update the target scale to {desired}"
                        )),
                    ),
                ],
            );
            status["lastScaleTime"] = json!(now);
        }
        status["currentReplicas"] = json!(current);
        status["desiredReplicas"] = json!(desired);
        if let Some(utilisation) = utilisation {
            status["currentMetrics"] = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": utilisation}}}]);
            status["observedGeneration"] = hpa["metadata"]["generation"].clone();
        }
        status["conditions"] = json!(conditions);
        self.write(&hpa, status).await;
        Some(SYNC_PERIOD)
    }
}

impl Autoscalers {
    async fn write(&self, hpa: &Value, status: Value) {
        let _ = self.api.write_status(gvr::HPAS, hpa, status).await;
    }
}
