//! The definition of a custom resource in the OpenAPI documents, built the way
//! apiextensions-apiserver builds it: the version's `openAPIV3Schema`, with `apiVersion`, `kind`
//! and `metadata` (a reference to ObjectMeta) declared, tagged `x-kubernetes-group-version-kind`,
//! and named by the reversed group (`com.example.smbp.v1alpha1.BigPeer`).

use crate::resources::ResourceType;
use serde_json::{Value, json};

const API_VERSION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The definition name upstream gives a kind of a group: `com.example.smbp.v1alpha1.BigPeer`.
pub fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// A reference to another definition carrying its own description: OpenAPI v3 wraps it in
/// `allOf` (siblings of `$ref` are ignored there), v2 puts them side by side, as upstream does.
pub fn described_ref(target: &str, description: &str, v3: bool) -> Value {
    if v3 {
        json!({"allOf": [{"$ref": target}], "description": description})
    } else {
        json!({"$ref": target, "description": description})
    }
}

/// The `x-kubernetes-group-version-kind` extension naming one kind.
pub fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!([{"group": group, "kind": kind, "version": version}])
}

/// The definition of a served custom resource version; `object_meta` is the `$ref` target of
/// ObjectMeta in the document being built.
pub fn definition(rt: &ResourceType, object_meta: &str, v3: bool) -> Value {
    let mut schema =
        rt.schema.as_deref().cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    let mut properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    properties.insert(
        "apiVersion".into(),
        json!({"description": API_VERSION, "type": "string"}),
    );
    properties.insert(
        "kind".into(),
        json!({"description": KIND, "type": "string"}),
    );
    properties.insert("metadata".into(), described_ref(object_meta, METADATA, v3));
    schema["properties"] = Value::Object(properties);
    if schema.get("type").is_none() {
        schema["type"] = json!("object");
    }
    schema["x-kubernetes-group-version-kind"] = gvk(&rt.group, &rt.version, &rt.kind);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reverse_the_group() {
        assert_eq!(
            definition_name("smbp.example.com", "v1alpha1", "BigPeer"),
            "com.example.smbp.v1alpha1.BigPeer"
        );
    }

    #[test]
    fn a_crd_schema_gets_metadata_and_its_kind() {
        let crd = json!({"spec": {"group": "ref.example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema":
                {"type": "object", "properties": {"metadata": {"type": "object"},
                 "spec": {"type": "object", "description": "the spec"}}}}}]}});
        let rt = crate::resources::from_crd(&crd).unwrap().remove(0);
        let definition = definition(&rt, "#/components/schemas/meta", true);
        assert_eq!(definition["properties"]["spec"]["description"], "the spec");
        assert_eq!(
            definition["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/meta"
        );
        assert_eq!(
            definition["x-kubernetes-group-version-kind"][0]["kind"],
            "Widget"
        );
    }
}
