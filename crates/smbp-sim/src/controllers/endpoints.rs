//! The simulated EndpointSlice controller: one slice per selecting Service, named
//! `<service>-<suffix>` and labelled `kubernetes.io/service-name`, listing the selected pods
//! that have an IP with `ready`/`serving`/`terminating` conditions, and the Service's ports
//! (named target ports resolved through each pod's container ports).

use super::api::{Api, gvr};
use super::runtime::{Controller, Key, Requeue};
use super::util::{controller_ref, map_matches, pod_ready, str_at, terminating};
use crate::store::Change;
use serde_json::{Value, json};
use std::time::Duration;

const SERVICES: &str = "/services";
const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

/// The EndpointSlice controller.
pub struct EndpointSlices {
    api: Api,
}

impl EndpointSlices {
    /// A controller writing through `api`.
    pub fn new(api: Api) -> Self {
        EndpointSlices { api }
    }
}

impl Controller for EndpointSlices {
    fn keys_for(&self, change: &Change) -> Vec<Key> {
        match change.resource.as_str() {
            SERVICES => vec![Key::of(SERVICES, &change.object)],
            "/pods" => self
                .api
                .keys_selecting(gvr::SERVICES, change, |service, labels| {
                    map_matches(&service["spec"]["selector"], labels)
                }),
            _ => Vec::new(),
        }
    }

    fn all_keys(&self) -> Vec<Key> {
        self.api.keys(gvr::SERVICES, None)
    }

    async fn reconcile(&mut self, key: &Key) -> Requeue {
        let service = self.api.get(gvr::SERVICES, &key.namespace, &key.name)?;
        let selector = &service["spec"]["selector"];
        if selector.as_object().is_none_or(|s| s.is_empty()) || terminating(&service) {
            return None;
        }
        let pods: Vec<_> = self
            .api
            .list(gvr::PODS, Some(&key.namespace))
            .into_iter()
            .filter(|p| {
                map_matches(selector, p.pointer("/metadata/labels"))
                    && str_at(p, "/status/podIP").is_some()
            })
            .collect();
        let endpoints: Vec<Value> = pods
            .iter()
            .map(|pod| {
                let ready = pod_ready(pod) && !terminating(pod);
                json!({"addresses": [pod["status"]["podIP"]],
                    "conditions": {"ready": ready, "serving": pod_ready(pod), "terminating": terminating(pod)},
                    "targetRef": {"kind": "Pod", "namespace": key.namespace, "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]},
                    "nodeName": pod["spec"]["nodeName"]})
            })
            .collect();
        let ports: Vec<Value> = service
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|port| {
                let target = port.get("targetPort").cloned().unwrap_or_else(|| port["port"].clone());
                let number = target.as_i64().or_else(|| {
                    let wanted = target.as_str()?;
                    pods.iter().find_map(|pod| {
                        pod.pointer("/spec/containers").and_then(Value::as_array)?.iter().find_map(|c| {
                            c["ports"].as_array()?.iter().find(|p| p["name"] == wanted).and_then(|p| p["containerPort"].as_i64())
                        })
                    })
                });
                let mut slice_port = json!({"name": port.get("name").cloned().unwrap_or(json!("")), "protocol": port.get("protocol").cloned().unwrap_or(json!("TCP"))});
                if let Some(number) = number {
                    slice_port["port"] = json!(number);
                }
                slice_port
            })
            .collect();
        let existing = self
            .api
            .list(gvr::ENDPOINT_SLICES, Some(&key.namespace))
            .into_iter()
            .find(|s| {
                str_at(s, "/metadata/labels/kubernetes.io~1service-name") == Some(key.name.as_str())
                    && str_at(
                        s,
                        "/metadata/labels/endpointslice.kubernetes.io~1managed-by",
                    ) == Some(MANAGED_BY)
            });
        match existing {
            Some(slice) => {
                if slice["endpoints"] == json!(endpoints) && slice["ports"] == json!(ports) {
                    return None;
                }
                let mut updated = (*slice).clone();
                updated["endpoints"] = json!(endpoints);
                updated["ports"] = json!(ports);
                self.api
                    .replace(gvr::ENDPOINT_SLICES, &updated)
                    .await
                    .err()
                    .map(|_| Duration::from_millis(200))
            }
            None => {
                let slice = json!({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"generateName": format!("{}-", key.name), "namespace": key.namespace,
                        "labels": {"kubernetes.io/service-name": key.name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY},
                        "ownerReferences": [controller_ref(&service)]},
                    "addressType": "IPv4", "endpoints": endpoints, "ports": ports,
                });
                self.api
                    .create(gvr::ENDPOINT_SLICES, &key.namespace, &slice)
                    .await
                    .err()
                    .map(|_| Duration::from_millis(200))
            }
        }
    }
}
