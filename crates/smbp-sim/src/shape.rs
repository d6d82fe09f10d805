//! What the server knows about the shape of an object beyond its JSON: which lists are sets or maps
//! keyed by some fields (for server-side apply, strategic merge patch and managedFields), and which
//! maps are atomic. Custom resources take it from their schema (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`); built-ins from a table of the list keys the
//! Kubernetes types declare (`+listType=map`, `patchMergeKey`), since the sim carries no OpenAPI for them.

use serde_json::Value;

/// How a list merges.
#[derive(Clone, Debug, PartialEq)]
pub enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// A set of scalars, merged by value.
    Set,
    /// A list of objects merged by these key fields.
    Map(Vec<String>),
}

/// A position in an object's shape: a node of a CRD schema, or a built-in field name.
#[derive(Clone, Copy, Debug)]
pub enum Shape<'a> {
    /// The root of a custom resource with this schema (its `metadata` is a built-in ObjectMeta).
    SchemaRoot(&'a Value),
    /// Inside a custom resource, at this schema node (None once the schema says nothing).
    Schema(Option<&'a Value>),
    /// Inside a built-in object, at a field with this name.
    Builtin(&'a str),
}

impl<'a> Shape<'a> {
    /// The shape of the root of an object of a resource with this schema (None for built-ins).
    pub fn root(schema: Option<&'a Value>) -> Self {
        match schema {
            Some(schema) => Shape::SchemaRoot(schema),
            None => Shape::Builtin(""),
        }
    }

    /// The shape of field `name` of an object at this shape.
    pub fn field(self, name: &'a str) -> Self {
        match self {
            Shape::SchemaRoot(_) if name == "metadata" => Shape::Builtin(name),
            Shape::SchemaRoot(node) => Shape::Schema(Some(node)).field(name),
            Shape::Schema(node) => Shape::Schema(node.and_then(|n| {
                n.get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| n.get("additionalProperties").filter(|a| a.is_object()))
            })),
            Shape::Builtin(_) => Shape::Builtin(name),
        }
    }

    /// The shape of the items of a list at this shape.
    pub fn items(self) -> Self {
        match self {
            Shape::Schema(node) => Shape::Schema(node.and_then(|n| n.get("items"))),
            Shape::SchemaRoot(_) => Shape::Schema(None),
            Shape::Builtin(name) => Shape::Builtin(name),
        }
    }

    /// How a list at this shape merges; `sample` is its value, used to tell built-in lists apart.
    pub fn list_kind(self, sample: &[Value]) -> ListKind {
        match self {
            Shape::Schema(Some(node)) => {
                match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListKind::Set,
                    Some("map") => ListKind::Map(
                        node.get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|k| k.as_str().map(String::from))
                            .collect(),
                    ),
                    _ => ListKind::Atomic,
                }
            }
            Shape::Schema(None) | Shape::SchemaRoot(_) => ListKind::Atomic,
            Shape::Builtin(name) => builtin_list_kind(name, sample),
        }
    }

    /// Whether a map at this shape is owned and replaced as a whole.
    pub fn atomic_map(self, value: &Value) -> bool {
        match self {
            Shape::Schema(Some(node)) => {
                node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
            }
            Shape::Schema(None) | Shape::SchemaRoot(_) => false,
            Shape::Builtin(name) => {
                // A metav1.LabelSelector is atomic wherever it appears as `selector`.
                name == "selector"
                    && (value.get("matchLabels").is_some()
                        || value.get("matchExpressions").is_some())
            }
        }
    }
}

/// The merge keys of the built-in lists the operator and kubectl touch (from the Kubernetes types'
/// `+listType=map` / `patchMergeKey` markers). Everything else is atomic.
fn builtin_list_kind(name: &str, sample: &[Value]) -> ListKind {
    let keys = |k: &[&str]| ListKind::Map(k.iter().map(|s| s.to_string()).collect());
    match name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "volumeClaimTemplates" => keys(&["name"]),
        "ports" => {
            if sample.iter().any(|p| p.get("containerPort").is_some()) {
                keys(&["containerPort", "protocol"])
            } else {
                keys(&["port", "protocol"])
            }
        }
        "volumeMounts" => keys(&["mountPath"]),
        "volumeDevices" => keys(&["devicePath"]),
        "conditions" => keys(&["type"]),
        "ownerReferences" => keys(&["uid"]),
        "topologySpreadConstraints" => keys(&["topologyKey", "whenUnsatisfiable"]),
        "hostAliases" => keys(&["ip"]),
        "finalizers" => ListKind::Set,
        _ => ListKind::Atomic,
    }
}

/// The default a key field takes when an item omits it (`protocol` is defaulted to TCP first).
pub fn key_default(key: &str) -> Option<Value> {
    (key == "protocol").then(|| Value::String("TCP".into()))
}

/// The key of a list item under `keys`, as a JSON object with sorted keys; None when the item
/// lacks a key field that has no default.
pub fn item_key(item: &Value, keys: &[String]) -> Option<Value> {
    let mut key = serde_json::Map::new();
    for k in keys {
        let value = item.get(k).cloned().or_else(|| key_default(k))?;
        key.insert(k.clone(), value);
    }
    Some(Value::Object(key))
}
