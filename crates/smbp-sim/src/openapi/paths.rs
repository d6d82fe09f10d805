//! The `paths` of an OpenAPI document for one served resource, as kube-apiserver publishes
//! them: the collection (list, create), the object (read, replace, patch, delete) and the
//! `status` subresource, each operation tagged with `x-kubernetes-action` and
//! `x-kubernetes-group-version-kind`. kubectl relies on these: it looks for the PATCH operation
//! of a kind and its `fieldValidation` parameter to decide that the server validates fields
//! (client-go `QueryParamVerifierV3`), and `kubectl explain` finds a resource's kind through
//! the GET operation of its object path.

use super::crd::gvk;
use crate::resources::ResourceType;
use serde_json::{Map, Value, json};

const FIELD_VALIDATION: &str = "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.";

/// The content types a PATCH accepts (strategic merge patch only for built-in kinds).
fn patch_types(rt: &ResourceType) -> Vec<&'static str> {
    let mut types = vec![
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    if !rt.custom {
        types.push("application/strategic-merge-patch+json");
    }
    types.push("application/apply-patch+yaml");
    types
}

/// One parameter, in the layout of the document's OpenAPI version.
fn parameter(name: &str, place: &str, description: &str, v3: bool) -> Value {
    let mut parameter = json!({"name": name, "in": place, "description": description});
    let schema = json!({"type": "string", "uniqueItems": true});
    if v3 {
        parameter["schema"] = schema;
    } else {
        parameter
            .as_object_mut()
            .unwrap()
            .extend(schema.as_object().unwrap().clone());
    }
    if place == "path" {
        parameter["required"] = json!(true);
    }
    parameter
}

/// The query parameters of a write (`force` only for PATCH).
fn write_parameters(action: &str, v3: bool) -> Vec<Value> {
    let mut parameters = vec![
        parameter(
            "dryRun",
            "query",
            "When present, indicates that modifications should not be persisted.",
            v3,
        ),
        parameter(
            "fieldManager",
            "query",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
            v3,
        ),
        parameter("fieldValidation", "query", FIELD_VALIDATION, v3),
    ];
    if action == "patch" {
        parameters.push(parameter(
            "force",
            "query",
            "Force is going to \"force\" Apply requests.",
            v3,
        ));
    }
    parameters
}

/// What an operation answers and (for writes) takes: a reference to `target`.
struct Shape<'a> {
    target: &'a str,
    body_types: Vec<&'static str>,
}

/// One operation of a path.
fn operation(rt: &ResourceType, action: &str, id: String, shape: &Shape, v3: bool) -> Value {
    let reference = json!({"$ref": shape.target});
    let mut op = json!({
        "operationId": id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(&rt.group, &rt.version, &rt.kind)[0],
    });
    let writes = matches!(action, "post" | "put" | "patch");
    let mut parameters = if writes {
        write_parameters(action, v3)
    } else {
        vec![]
    };
    if v3 {
        op["responses"] = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}});
        if writes {
            let body = if action == "patch" {
                json!({"type": "object"})
            } else {
                reference
            };
            let content: Map<String, Value> = shape
                .body_types
                .iter()
                .map(|t| (t.to_string(), json!({"schema": body})))
                .collect();
            op["requestBody"] = json!({"content": content, "required": true});
        }
    } else {
        op["responses"] = json!({"200": {"description": "OK", "schema": reference}});
        if writes {
            op["consumes"] = json!(shape.body_types);
            let body = if action == "patch" {
                json!({"type": "object"})
            } else {
                reference
            };
            parameters
                .push(json!({"name": "body", "in": "body", "required": true, "schema": body}));
        }
    }
    op["parameters"] = json!(parameters);
    op
}

/// `AppsV1`, `CoreV1`, `ComExampleSmbpV1alpha1`: the group/version part of operation ids.
fn id_part(rt: &ResourceType) -> String {
    let group = if rt.group.is_empty() {
        "core"
    } else {
        &rt.group
    };
    group
        .split('.')
        .chain([rt.version.as_str()])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
        })
        .collect()
}

/// The paths of one resource; `target` is the `$ref` target of its kind's definition.
pub fn resource_paths(rt: &ResourceType, target: &str, v3: bool) -> Map<String, Value> {
    let prefix = if rt.group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    let scope = if rt.namespaced {
        "namespaces/{namespace}/"
    } else {
        ""
    };
    let collection = format!("{prefix}/{scope}{}", rt.plural);
    let object = format!("{collection}/{{name}}");
    let ids = format!(
        "{}{}{}",
        id_part(rt),
        if rt.namespaced { "Namespaced" } else { "" },
        rt.kind
    );
    let json_only = Shape {
        target,
        body_types: vec!["*/*"],
    };
    let patch = Shape {
        target,
        body_types: patch_types(rt),
    };
    let path_parameters = |with_name: bool| -> Vec<Value> {
        let mut list = vec![];
        if with_name {
            list.push(parameter(
                "name",
                "path",
                &format!("name of the {}", rt.kind),
                v3,
            ));
        }
        if rt.namespaced {
            list.push(parameter(
                "namespace",
                "path",
                "object name and auth scope, such as for teams and projects",
                v3,
            ));
        }
        list
    };
    let op = |action: &str, verb: &str, suffix: &str, shape: &Shape| {
        operation(rt, action, format!("{verb}{ids}{suffix}"), shape, v3)
    };
    let mut paths = Map::new();
    paths.insert(
        collection,
        json!({
            "get": op("list", "list", "", &json_only),
            "post": op("post", "create", "", &json_only),
            "parameters": path_parameters(false),
        }),
    );
    paths.insert(
        object.clone(),
        json!({
            "get": op("get", "read", "", &json_only),
            "put": op("put", "replace", "", &json_only),
            "patch": op("patch", "patch", "", &patch),
            "delete": op("delete", "delete", "", &json_only),
            "parameters": path_parameters(true),
        }),
    );
    if rt.status_subresource {
        paths.insert(
            format!("{object}/status"),
            json!({
                "get": op("get", "read", "Status", &json_only),
                "put": op("put", "replace", "Status", &json_only),
                "patch": op("patch", "patch", "Status", &patch),
                "parameters": path_parameters(true),
            }),
        );
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_of_a_statefulset_declares_field_validation_and_its_kind() {
        let rt = crate::resources::builtins()
            .into_iter()
            .find(|t| t.kind == "StatefulSet")
            .unwrap();
        let paths = resource_paths(&rt, "#/components/schemas/x", true);
        let patch = &paths["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"];
        assert_eq!(patch["operationId"], "patchAppsV1NamespacedStatefulSet");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "StatefulSet"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(
            paths.contains_key("/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/status")
        );
    }
}
