//! What kube-apiserver does with a custom resource's structural schema on every write: drop nulls
//! of non-nullable fields, prune unknown fields (reporting them for `fieldValidation`), apply
//! defaults recursively, validate the OpenAPI constraints (`structural`, `formats`), list set/map
//! uniqueness (`listtype`) and the `x-kubernetes-validations` CEL rules (`cel`, with `oldSelf` on
//! updates) with kube-apiserver's messages. `defaults` checks a CRD's own schema defaults when the
//! CRD is written; `typed` checks server-side apply bodies as structured-merge-diff does.

mod cel;
pub mod defaults;
mod formats;
mod gofmt;
mod listtype;
mod structural;
pub mod typed;

use crate::error::Cause;
use serde_json::Value;

/// Removes nulls of non-nullable fields and fields the schema does not declare; returns the
/// dotted paths of the unknown fields it removed.
pub fn prune(value: &mut Value, schema: &Value) -> Vec<String> {
    let mut pruned = Vec::new();
    if let Value::Object(fields) = value {
        for (key, child) in fields.iter_mut() {
            if key == "metadata" || key == "apiVersion" || key == "kind" {
                continue;
            }
            if let Some(sub) = schema.pointer(&format!("/properties/{}", escape(key))) {
                prune_node(child, sub, key, &mut pruned);
            }
        }
        let declared = schema.get("properties").and_then(Value::as_object);
        fields.retain(|key, _| {
            let keep = ["metadata", "apiVersion", "kind"].contains(&key.as_str())
                || declared.is_some_and(|d| d.contains_key(key))
                || preserves(schema);
            if !keep {
                pruned.push(key.clone());
            }
            keep
        });
    }
    pruned
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn preserves(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

/// Prunes a value at a schema node (not a resource root), collecting the removed paths.
pub(crate) fn prune_node(value: &mut Value, schema: &Value, path: &str, pruned: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            let mut unknown = Vec::new();
            for (key, child) in fields.iter_mut() {
                let child_path = format!("{path}.{key}");
                if let Some(sub) = properties.and_then(|p| p.get(key)).or(additional) {
                    if !(child.is_null() && sub.get("nullable") != Some(&Value::Bool(true))) {
                        prune_node(child, sub, &child_path, pruned);
                    }
                } else if !preserves(schema)
                    && schema.get("additionalProperties") != Some(&Value::Bool(true))
                {
                    unknown.push(key.clone());
                    pruned.push(child_path);
                }
            }
            for key in unknown {
                fields.remove(&key);
            }
            let non_nullable: Vec<String> = fields
                .iter()
                .filter(|(k, v)| {
                    v.is_null()
                        && properties
                            .and_then(|p| p.get(*k))
                            .is_some_and(|s| s.get("nullable") != Some(&Value::Bool(true)))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for key in non_nullable {
                fields.remove(&key);
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_node(item, sub, &format!("{path}[{i}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

/// Applies `default`s recursively, including inside objects that were themselves defaulted.
pub fn apply_defaults(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(fields) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in properties {
                    if !fields.contains_key(key)
                        && let Some(default) = sub.get("default")
                    {
                        fields.insert(key.clone(), default.clone());
                    }
                }
                for (key, child) in fields.iter_mut() {
                    if let Some(sub) = properties.get(key) {
                        apply_defaults(child, sub);
                    }
                }
            } else if let Some(sub) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for child in fields.values_mut() {
                    apply_defaults(child, sub);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for item in items {
                    apply_defaults(item, sub);
                }
            }
        }
        _ => {}
    }
}

/// The reasons that stop CEL evaluation, as kube-apiserver's recorded answers show.
const BLOCKING: &[&str] = &[
    "FieldValueTypeInvalid",
    "FieldValueRequired",
    "FieldValueNotSupported",
    "FieldValueTooLong",
    "FieldValueTooMany",
];

/// Validates a custom resource: OpenAPI constraints, list set/map uniqueness, then the CEL rules
/// (when the schema has any) unless a type-level error makes them unevaluable — then the `<nil>`
/// cause kube-apiserver appends instead.
pub fn validate(
    object: &Value,
    old: Option<&Value>,
    schema: &Value,
    cache_key: &str,
    status_only: bool,
) -> Vec<Cause> {
    let mut causes = if status_only {
        status_causes(object, schema)
    } else {
        let mut causes = Vec::new();
        let content = without_type_and_metadata(object);
        structural::walk(&content, schema, "", &mut causes);
        listtype::duplicates(&content, schema, "", &mut causes);
        // kube-apiserver validates the whole object: a root `required: [metadata, …]` (OLM's
        // CRDs have one) is met by the fields set aside above.
        causes.retain(|c| {
            !(c.reason == "FieldValueRequired"
                && ["apiVersion", "kind", "metadata"].contains(&c.field.as_str())
                && object.get(&c.field).is_some())
        });
        causes
    };
    if !cel::present(schema, cache_key) {
        return causes;
    }
    if causes.iter().any(|c| BLOCKING.contains(&c.reason.as_str())) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "<nil>",
            "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
        ));
        return causes;
    }
    causes.extend(cel::rules(object, old, schema, cache_key));
    causes
}

/// The OpenAPI causes of a write through `/status`: kube-apiserver validates the status alone
/// with a validator rooted there, so kube-openapi's messages name paths relative to `status`
/// (`phase in body must be of type string`) while the causes' fields start with `status.`.
fn status_causes(object: &Value, schema: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let (Some(status), Some(status_schema)) =
        (object.get("status"), schema.pointer("/properties/status"))
    else {
        return causes;
    };
    structural::walk(status, status_schema, "", &mut causes);
    listtype::duplicates(status, status_schema, "", &mut causes);
    for cause in &mut causes {
        cause.field = if cause.field.is_empty() {
            "status".into()
        } else {
            format!("status.{}", cause.field)
        };
    }
    causes
}

/// The object without `apiVersion`, `kind` and `metadata` (validated elsewhere).
fn without_type_and_metadata(object: &Value) -> Value {
    let mut content = object.clone();
    if let Some(fields) = content.as_object_mut() {
        for key in ["apiVersion", "kind", "metadata"] {
            fields.remove(key);
        }
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn widget_schema() -> Value {
        json!({"type": "object", "required": ["spec"], "properties": {
        "spec": {"type": "object", "required": ["color"],
            "x-kubernetes-validations": [{"rule": "self.replicas <= self.size", "message": "replicas must not exceed size"}],
            "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            "replicas": {"type": "integer", "default": 1},
            "color": {"type": "string", "enum": ["red", "green", "blue"]},
            "nested": {"type": "object", "default": {}, "properties": {"level": {"type": "integer", "default": 3}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }}}})
    }

    #[test]
    fn a_root_requirement_of_metadata_is_met_by_the_objects_metadata() {
        let schema = json!({"type": "object", "required": ["metadata", "spec"],
            "properties": {"spec": {"type": "object"}}});
        let object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"}});
        let causes = validate(&object, None, &schema, "root-required", false);
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["spec"]);
    }

    #[test]
    fn defaults_reach_into_defaulted_objects_and_unknown_fields_are_pruned() {
        let schema = widget_schema();
        let mut object =
            json!({"spec": {"color": "red", "bogus": 1, "free": {"x": 1}}, "extra": true});
        let pruned = prune(&mut object, &schema);
        assert_eq!(pruned, vec!["spec.bogus", "extra"]);
        apply_defaults(&mut object, &schema);
        assert_eq!(object["spec"]["nested"]["level"], 3);
        assert_eq!(object["spec"]["free"]["x"], 1);
    }

    #[test]
    fn messages_match_the_recorded_ones() {
        let schema = widget_schema();
        let causes = validate(
            &json!({"spec": {"size": "big", "color": "red"}}),
            None,
            &schema,
            "t1",
            false,
        );
        assert_eq!(
            causes[0].display(),
            "spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""
        );
        assert_eq!(causes[1].field, "<nil>");
        let causes = validate(
            &json!({"spec": {"size": 11, "color": "red", "replicas": 1}}),
            None,
            &schema,
            "t1",
            false,
        );
        assert_eq!(
            causes[0].display(),
            "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"
        );
        let causes = validate(
            &json!({"spec": {"size": 2, "color": "red", "replicas": 5}}),
            None,
            &schema,
            "t1",
            false,
        );
        assert_eq!(
            causes[0].display(),
            "spec: Invalid value: replicas must not exceed size"
        );
        let causes = validate(
            &json!({"spec": {"size": 2, "color": "purple", "replicas": 1}}),
            None,
            &schema,
            "t1",
            false,
        );
        assert_eq!(
            causes[0].display(),
            "spec.color: Unsupported value: \"purple\": supported values: \"red\", \"green\", \"blue\""
        );
    }

    #[test]
    fn status_writes_name_paths_relative_to_status_in_messages() {
        let schema = json!({"type": "object", "properties": {"status": {"type": "object",
            "properties": {"phase": {"type": "string"}}}}});
        let object = json!({"status": {"phase": 3}});
        let causes = validate(&object, None, &schema, "t2", true);
        assert_eq!(
            causes[0].display(),
            "status.phase: Invalid value: \"integer\": phase in body must be of type string: \"integer\""
        );
    }
}
