//! The controllers' client: reads come straight from the store (cheap shared JSON), writes go
//! through the same request path as HTTP clients (validation, defaulting, managedFields under the
//! controller's own manager name, admission webhooks, watch events), without HTTP or accounting.

use super::runtime::Key;
use crate::error::ApiError;
use crate::request::{ApiRequest, Reply};
use crate::resources::ResourceType;
use crate::router::dispatch;
use crate::sim::Sim;
use crate::store::Change;
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// A resource, as (group, version, plural).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvr(pub &'static str, pub &'static str, pub &'static str);

impl Gvr {
    /// The store's key for the resource (`group/plural`).
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.0, self.2)
    }
}

/// Resources the controllers use.
pub mod gvr {
    use super::Gvr;
    /// Namespaces.
    pub const NAMESPACES: Gvr = Gvr("", "v1", "namespaces");
    /// Nodes.
    pub const NODES: Gvr = Gvr("", "v1", "nodes");
    /// Pods.
    pub const PODS: Gvr = Gvr("", "v1", "pods");
    /// Services.
    pub const SERVICES: Gvr = Gvr("", "v1", "services");
    /// Secrets.
    pub const SECRETS: Gvr = Gvr("", "v1", "secrets");
    /// PersistentVolumeClaims.
    pub const PVCS: Gvr = Gvr("", "v1", "persistentvolumeclaims");
    /// PersistentVolumes.
    pub const PVS: Gvr = Gvr("", "v1", "persistentvolumes");
    /// StorageClasses.
    pub const STORAGE_CLASSES: Gvr = Gvr("storage.k8s.io", "v1", "storageclasses");
    /// StatefulSets.
    pub const STATEFULSETS: Gvr = Gvr("apps", "v1", "statefulsets");
    /// Deployments.
    pub const DEPLOYMENTS: Gvr = Gvr("apps", "v1", "deployments");
    /// ReplicaSets.
    pub const REPLICASETS: Gvr = Gvr("apps", "v1", "replicasets");
    /// ControllerRevisions.
    pub const REVISIONS: Gvr = Gvr("apps", "v1", "controllerrevisions");
    /// Jobs.
    pub const JOBS: Gvr = Gvr("batch", "v1", "jobs");
    /// HorizontalPodAutoscalers.
    pub const HPAS: Gvr = Gvr("autoscaling", "v2", "horizontalpodautoscalers");
    /// PodDisruptionBudgets.
    pub const PDBS: Gvr = Gvr("policy", "v1", "poddisruptionbudgets");
    /// EndpointSlices.
    pub const ENDPOINT_SLICES: Gvr = Gvr("discovery.k8s.io", "v1", "endpointslices");
    /// Ingresses.
    pub const INGRESSES: Gvr = Gvr("networking.k8s.io", "v1", "ingresses");
    /// Gateway API Gateways.
    pub const GATEWAYS: Gvr = Gvr("gateway.networking.k8s.io", "v1", "gateways");
    /// Gateway API HTTPRoutes.
    pub const HTTPROUTES: Gvr = Gvr("gateway.networking.k8s.io", "v1", "httproutes");
    /// Gateway API GRPCRoutes.
    pub const GRPCROUTES: Gvr = Gvr("gateway.networking.k8s.io", "v1", "grpcroutes");
    /// Gateway API TLSRoutes.
    pub const TLSROUTES: Gvr = Gvr("gateway.networking.k8s.io", "v1", "tlsroutes");
    /// Gateway API TCPRoutes.
    pub const TCPROUTES: Gvr = Gvr("gateway.networking.k8s.io", "v1", "tcproutes");
    /// Gateway API BackendTLSPolicies.
    pub const BACKEND_TLS_POLICIES: Gvr =
        Gvr("gateway.networking.k8s.io", "v1", "backendtlspolicies");
    /// ConfigMaps.
    pub const CONFIG_MAPS: Gvr = Gvr("", "v1", "configmaps");
    /// cert-manager Issuers.
    pub const ISSUERS: Gvr = Gvr("cert-manager.io", "v1", "issuers");
    /// cert-manager ClusterIssuers.
    pub const CLUSTER_ISSUERS: Gvr = Gvr("cert-manager.io", "v1", "clusterissuers");
    /// cert-manager Certificates.
    pub const CERTIFICATES: Gvr = Gvr("cert-manager.io", "v1", "certificates");
    /// Strimzi Kafka clusters.
    pub const KAFKAS: Gvr = Gvr("kafka.strimzi.io", "v1", "kafkas");
    /// Strimzi KafkaTopics.
    pub const KAFKA_TOPICS: Gvr = Gvr("kafka.strimzi.io", "v1", "kafkatopics");
    /// Strimzi KafkaUsers.
    pub const KAFKA_USERS: Gvr = Gvr("kafka.strimzi.io", "v1", "kafkausers");
}

/// One request a controller makes.
struct Call<'a> {
    verb: &'static str,
    method: Method,
    resource: Gvr,
    namespace: &'a str,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
    content_type: &'static str,
    body: Option<&'a Value>,
}

/// One controller's connection to the cluster.
#[derive(Clone)]
pub struct Api {
    sim: Arc<Sim>,
    /// The User-Agent, whose program name becomes the field manager.
    agent: &'static str,
}

impl Api {
    /// A client writing as `agent` (e.g. `kube-controller-manager/v1.36.2`).
    pub fn new(sim: Arc<Sim>, agent: &'static str) -> Self {
        Api { sim, agent }
    }

    /// The cluster.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// One stored object.
    pub fn get(&self, resource: Gvr, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.sim.store().get(
            &resource.storage_key(),
            &(namespace.to_string(), name.to_string()),
        )
    }

    /// Every stored object of a resource, in one namespace or all.
    pub fn list(&self, resource: Gvr, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.sim.store().list(&resource.storage_key(), namespace)
    }

    /// The reconcile keys of every stored object of a resource, in one namespace or all.
    pub fn keys(&self, resource: Gvr, namespace: Option<&str>) -> Vec<Key> {
        let storage_key = resource.storage_key();
        self.list(resource, namespace)
            .iter()
            .map(|object| Key::of(&storage_key, object))
            .collect()
    }

    /// The keys of the objects of `resource` in a changed pod's namespace that select the pod,
    /// by its labels before or after the change (`selects(object, labels)`).
    pub fn keys_selecting(
        &self,
        resource: Gvr,
        change: &Change,
        selects: fn(&Value, Option<&Value>) -> bool,
    ) -> Vec<Key> {
        let namespace = crate::request::meta_str(&change.object, "namespace").unwrap_or_default();
        let labels = change.object.pointer("/metadata/labels");
        let before = change
            .previous
            .as_ref()
            .and_then(|p| p.pointer("/metadata/labels"));
        let storage_key = resource.storage_key();
        self.list(resource, Some(namespace))
            .iter()
            .filter(|object| selects(object, labels) || selects(object, before))
            .map(|object| Key::of(&storage_key, object))
            .collect()
    }

    /// Writes an object's status through its status subresource, unless it is unchanged.
    pub async fn write_status(
        &self,
        resource: Gvr,
        object: &Value,
        status: Value,
    ) -> Result<(), ApiError> {
        if object.get("status") == Some(&status) {
            return Ok(());
        }
        let mut updated = object.clone();
        updated["status"] = status;
        self.replace_status(resource, &updated).await.map(|_| ())
    }

    /// Whether the resource is served (a CRD may be absent).
    pub fn serves(&self, resource: Gvr) -> bool {
        self.resource_type(resource).is_some()
    }

    fn resource_type(&self, resource: Gvr) -> Option<ResourceType> {
        self.sim
            .registry()
            .lookup(resource.0, resource.1, resource.2)
    }

    async fn send(&self, call: Call<'_>) -> Result<Reply, ApiError> {
        let rt = self.resource_type(call.resource).ok_or_else(|| {
            ApiError::status(
                404,
                Some("NotFound"),
                "the server could not find the requested resource",
                None,
            )
        })?;
        let request = ApiRequest {
            method: call.method,
            rt,
            namespace: (!call.namespace.is_empty()).then(|| call.namespace.to_string()),
            name: call.name.map(String::from),
            subresource: call.subresource.map(String::from),
            query: HashMap::new(),
            content_type: call.content_type.to_string(),
            accept: "application/json".into(),
            user_agent: self.agent.to_string(),
            body: call
                .body
                .map_or_else(Bytes::new, |b| Bytes::from(b.to_string())),
            user: crate::auth::UserInfo::admin(),
        };
        dispatch(&self.sim, &request, call.verb).await
    }

    /// Creates an object in `namespace` ("" for cluster-scoped ones).
    pub async fn create(
        &self,
        resource: Gvr,
        namespace: &str,
        object: &Value,
    ) -> Result<Value, ApiError> {
        self.send(Call {
            verb: "create",
            method: Method::POST,
            resource,
            namespace,
            name: None,
            subresource: None,
            content_type: "application/json",
            body: Some(object),
        })
        .await
        .map(|r| r.body)
    }

    /// Replaces an object (its resourceVersion is the precondition).
    pub async fn replace(&self, resource: Gvr, object: &Value) -> Result<Value, ApiError> {
        self.put(resource, object, None).await
    }

    /// Replaces an object's status (its resourceVersion is the precondition).
    pub async fn replace_status(&self, resource: Gvr, object: &Value) -> Result<Value, ApiError> {
        self.put(resource, object, Some("status")).await
    }

    async fn put(
        &self,
        resource: Gvr,
        object: &Value,
        subresource: Option<&str>,
    ) -> Result<Value, ApiError> {
        let (namespace, name) = crate::request::key_of(object);
        self.send(Call {
            verb: "update",
            method: Method::PUT,
            resource,
            namespace: &namespace,
            name: Some(&name),
            subresource,
            content_type: "application/json",
            body: Some(object),
        })
        .await
        .map(|r| r.body)
    }

    /// A JSON merge patch of the object or of one of its subresources.
    pub async fn merge_patch(
        &self,
        resource: Gvr,
        namespace: &str,
        name: &str,
        subresource: Option<&str>,
        patch: &Value,
    ) -> Result<Value, ApiError> {
        self.send(Call {
            verb: "patch",
            method: Method::PATCH,
            resource,
            namespace,
            name: Some(name),
            subresource,
            content_type: "application/merge-patch+json",
            body: Some(patch),
        })
        .await
        .map(|r| r.body)
    }

    /// Deletes an object; `grace` overrides a pod's grace period; the uid is a precondition.
    pub async fn delete(
        &self,
        resource: Gvr,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
        grace: Option<i64>,
    ) -> Result<(), ApiError> {
        let mut options = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
        if let Some(uid) = uid {
            options["preconditions"] = json!({"uid": uid});
        }
        if let Some(grace) = grace {
            options["gracePeriodSeconds"] = json!(grace);
        }
        self.send(Call {
            verb: "delete",
            method: Method::DELETE,
            resource,
            namespace,
            name: Some(name),
            subresource: None,
            content_type: "application/json",
            body: Some(&options),
        })
        .await
        .map(|_| ())
    }
}
