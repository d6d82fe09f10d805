//! The resource types the simulated API server serves: the built-in kinds the operator and its tests
//! touch, and every version of every CRD registered at run time. A `ResourceType` is what a request's
//! URL resolves to; it carries the facts the generic handlers need (scope, subresources, whether
//! `metadata.generation` is tracked, the schema of a custom resource).

use serde_json::{Value, json};
use std::sync::Arc;

/// Where the replica count and selector of a `/scale` subresource live in the object.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalePaths {
    /// JSON path (dotted) of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas: String,
    /// JSON path of the label selector string, when the kind publishes one.
    pub label_selector: Option<String>,
}

/// One served resource of one group/version.
#[derive(Clone, Debug)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// API version inside the group.
    pub version: String,
    /// Kind of the objects.
    pub kind: String,
    /// Lower-case plural name used in URLs.
    pub plural: String,
    /// Lower-case singular name.
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: Vec<String>,
    /// kubectl categories (e.g. `all`).
    pub categories: Vec<String>,
    /// Whether the `status` subresource is served (status then only changes through it).
    pub status_subresource: bool,
    /// The `scale` subresource, when served.
    pub scale: Option<ScalePaths>,
    /// Whether `metadata.generation` is maintained.
    pub tracks_generation: bool,
    /// Whether a PUT must carry `metadata.resourceVersion` (custom resources do).
    pub requires_resource_version_on_update: bool,
    /// Field selectors accepted beyond `metadata.name` and `metadata.namespace`.
    pub field_selectors: Vec<String>,
    /// The custom resource's structural schema (`openAPIV3Schema`), for CRDs only.
    pub schema: Option<Arc<Value>>,
    /// Identifies this exact schema (group, plural, version and a hash of the schema), so
    /// compiled CEL rules can be cached and are recompiled when the CRD changes.
    pub schema_key: String,
    /// The CRD's `additionalPrinterColumns`, for tables.
    pub printer_columns: Vec<Value>,
    /// Whether this is served from a CRD (its representation and error messages differ a little).
    pub custom: bool,
}

impl ResourceType {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural` or `plural.group`: how errors name the resource (`widgets.ref.example.com`).
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Kind` or `Kind.group`: how validation errors name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The storage key shared by every version of the resource.
    pub fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    /// The verbs listed in discovery.
    pub fn verbs(&self) -> Vec<&'static str> {
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

/// A builder for the built-in table.
struct Builtin(ResourceType);

impl Builtin {
    fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Builtin(ResourceType {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            namespaced,
            short_names: vec![],
            categories: vec![],
            status_subresource: false,
            scale: None,
            tracks_generation: false,
            requires_resource_version_on_update: false,
            field_selectors: vec![],
            schema: None,
            schema_key: String::new(),
            printer_columns: vec![],
            custom: false,
        })
    }
    fn short(mut self, names: &[&str]) -> Self {
        self.0.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }
    fn all(mut self) -> Self {
        self.0.categories = vec!["all".into()];
        self
    }
    fn status(mut self) -> Self {
        self.0.status_subresource = true;
        self
    }
    fn generation(mut self) -> Self {
        self.0.tracks_generation = true;
        self
    }
    fn scale(mut self, selector: bool) -> Self {
        self.0.scale = Some(ScalePaths {
            spec_replicas: ".spec.replicas".into(),
            status_replicas: ".status.replicas".into(),
            label_selector: selector.then(|| ".status.selector".into()),
        });
        self
    }
    fn fields(mut self, fields: &[&str]) -> Self {
        self.0.field_selectors = fields.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// The built-in resources served by every simulated cluster.
pub fn builtins() -> Vec<ResourceType> {
    let core = |kind, plural, namespaced| Builtin::new("", "v1", kind, plural, namespaced);
    let event_fields = [
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ];
    vec![
        core("Namespace", "namespaces", false)
            .short(&["ns"])
            .status()
            .fields(&["status.phase"]),
        core("Node", "nodes", false).short(&["no"]).status(),
        core("Pod", "pods", true)
            .short(&["po"])
            .all()
            .status()
            .generation()
            .fields(&[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ]),
        core("Service", "services", true)
            .short(&["svc"])
            .all()
            .status(),
        core("Endpoints", "endpoints", true).short(&["ep"]),
        core("ConfigMap", "configmaps", true).short(&["cm"]),
        core("Secret", "secrets", true).fields(&["type"]),
        core("ServiceAccount", "serviceaccounts", true).short(&["sa"]),
        core("PersistentVolumeClaim", "persistentvolumeclaims", true)
            .short(&["pvc"])
            .status(),
        core("PersistentVolume", "persistentvolumes", false)
            .short(&["pv"])
            .status(),
        core("Event", "events", true)
            .short(&["ev"])
            .fields(&event_fields),
        core("ResourceQuota", "resourcequotas", true)
            .short(&["quota"])
            .status(),
        core("LimitRange", "limitranges", true).short(&["limits"]),
        Builtin::new(
            "scheduling.k8s.io",
            "v1",
            "PriorityClass",
            "priorityclasses",
            false,
        )
        .short(&["pc"]),
        Builtin::new("apps", "v1", "Deployment", "deployments", true)
            .short(&["deploy"])
            .all()
            .status()
            .generation()
            .scale(true),
        Builtin::new("apps", "v1", "StatefulSet", "statefulsets", true)
            .short(&["sts"])
            .all()
            .status()
            .generation()
            .scale(true),
        Builtin::new("apps", "v1", "ReplicaSet", "replicasets", true)
            .short(&["rs"])
            .all()
            .status()
            .generation()
            .scale(true),
        Builtin::new("apps", "v1", "DaemonSet", "daemonsets", true)
            .short(&["ds"])
            .all()
            .status()
            .generation(),
        Builtin::new(
            "apps",
            "v1",
            "ControllerRevision",
            "controllerrevisions",
            true,
        ),
        Builtin::new("batch", "v1", "Job", "jobs", true)
            .all()
            .status()
            .generation(),
        Builtin::new("batch", "v1", "CronJob", "cronjobs", true)
            .short(&["cj"])
            .all()
            .status()
            .generation(),
        Builtin::new(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
        )
        .short(&["pdb"])
        .status()
        .generation(),
        Builtin::new("networking.k8s.io", "v1", "Ingress", "ingresses", true)
            .short(&["ing"])
            .status()
            .generation(),
        Builtin::new(
            "networking.k8s.io",
            "v1",
            "IngressClass",
            "ingressclasses",
            false,
        )
        .generation(),
        Builtin::new(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
        )
        .short(&["netpol"])
        .generation(),
        Builtin::new(
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            true,
        ),
        Builtin::new("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        Builtin::new(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
        ),
        Builtin::new(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        Builtin::new(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
        ),
        Builtin::new("coordination.k8s.io", "v1", "Lease", "leases", true),
        Builtin::new("events.k8s.io", "v1", "Event", "events", true)
            .short(&["ev"])
            .fields(&[
                "regarding.kind",
                "regarding.namespace",
                "regarding.name",
                "regarding.uid",
                "reason",
                "reportingController",
                "type",
            ]),
        Builtin::new(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        )
        .short(&["hpa"])
        .all()
        .status()
        .generation(),
        Builtin::new(
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            false,
        )
        .short(&["sc"]),
        Builtin::new(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
        )
        .generation(),
        Builtin::new(
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            false,
        )
        .generation(),
        Builtin::new(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
        )
        .short(&["crd", "crds"])
        .status()
        .generation(),
    ]
    .into_iter()
    .map(|b| b.0)
    .collect()
}

/// The resource types a CRD object serves: one per served version. Errors name what is wrong with
/// the CRD (they become its `NamesAccepted`/`Established` reason).
pub fn from_crd(crd: &Value) -> Result<Vec<ResourceType>, String> {
    let spec = crd.get("spec").ok_or("spec is required")?;
    let group = spec["group"].as_str().ok_or("spec.group is required")?;
    let names = &spec["names"];
    let kind = names["kind"]
        .as_str()
        .ok_or("spec.names.kind is required")?;
    let plural = names["plural"]
        .as_str()
        .ok_or("spec.names.plural is required")?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let mut served = Vec::new();
    for version in spec["versions"].as_array().into_iter().flatten() {
        if version["served"] != json!(true) {
            continue;
        }
        let name = version["name"]
            .as_str()
            .ok_or("spec.versions[].name is required")?;
        let subresources = &version["subresources"];
        let scale = subresources.get("scale").map(|s| ScalePaths {
            spec_replicas: s["specReplicasPath"]
                .as_str()
                .unwrap_or(".spec.replicas")
                .into(),
            status_replicas: s["statusReplicasPath"]
                .as_str()
                .unwrap_or(".status.replicas")
                .into(),
            label_selector: s["labelSelectorPath"].as_str().map(String::from),
        });
        let schema = version.pointer("/schema/openAPIV3Schema").cloned();
        let schema_key = format!(
            "{group}/{plural}/{name}#{:x}",
            schema.as_ref().map_or(0, |s| hash(&s.to_string()))
        );
        served.push(ResourceType {
            group: group.into(),
            version: name.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: names["singular"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| kind.to_lowercase()),
            namespaced,
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            status_subresource: subresources.get("status").is_some(),
            scale,
            tracks_generation: true,
            requires_resource_version_on_update: true,
            field_selectors: vec![],
            schema: schema.map(Arc::new),
            schema_key,
            printer_columns: version["additionalPrinterColumns"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            custom: true,
        });
    }
    Ok(served)
}

fn hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_unique_per_group_version_and_plural() {
        let all = builtins();
        for (i, a) in all.iter().enumerate() {
            for b in &all[..i] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "{} served twice",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn a_crd_serves_its_served_versions_only() {
        let crd = json!({"spec": {"group": "ref.example.com", "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
        "versions": [
            {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}},
            {"name": "v0", "served": false, "storage": false}
        ]}});
        let served = from_crd(&crd).unwrap();
        assert_eq!(served.len(), 1);
        assert_eq!(served[0].qualified_plural(), "widgets.ref.example.com");
        assert!(served[0].status_subresource);
        assert_eq!(served[0].short_names, vec!["wd"]);
    }
}
