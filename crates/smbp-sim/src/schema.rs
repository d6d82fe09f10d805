//! What kube-apiserver does with a custom resource's structural schema on every write: drop nulls
//! of non-nullable fields, prune unknown fields (reporting them for `fieldValidation`), apply
//! defaults recursively, validate the OpenAPI constraints with kube-apiserver's messages, and run
//! the `x-kubernetes-validations` CEL rules (with `oldSelf` on updates) through kube-cel.

use crate::error::Cause;
use regex::Regex;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

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

fn prune_node(value: &mut Value, schema: &Value, path: &str, pruned: &mut Vec<String>) {
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

/// Validates a custom resource: OpenAPI constraints, then CEL rules unless a type-level error
/// makes them unevaluable (then the `<nil>` cause kube-apiserver appends).
pub fn validate(
    object: &Value,
    old: Option<&Value>,
    schema: &Value,
    cache_key: &str,
) -> Vec<Cause> {
    let mut causes = Vec::new();
    if let Value::Object(fields) = object {
        for (key, child) in fields {
            if ["metadata", "apiVersion", "kind"].contains(&key.as_str()) {
                continue;
            }
            if let Some(sub) = schema.pointer(&format!("/properties/{}", escape(key))) {
                walk(child, sub, key, &mut causes);
            }
        }
        required(schema, fields, "", &mut causes);
    }
    if causes.iter().any(|c| BLOCKING.contains(&c.reason.as_str())) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "<nil>",
            "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
        ));
        return causes;
    }
    causes.extend(cel(object, old, schema, cache_key));
    causes
}

/// A `Required value` cause for every required field missing from `fields` (at `path`, empty at
/// the root).
fn required(
    schema: &Value,
    fields: &serde_json::Map<String, Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !fields.contains_key(name) {
            let field = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            causes.push(Cause::new("FieldValueRequired", field, "Required value"));
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn walk(value: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    if value.is_null() {
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            causes.push(Cause::new(
                "FieldValueTypeInvalid",
                path,
                format!(
                    "Invalid value: \"{}\": {path} in body must be of type int-or-string: \"{}\"",
                    type_name(value),
                    type_name(value)
                ),
            ));
        }
        return;
    }
    let expected = schema.get("type").and_then(Value::as_str);
    let fits = match expected {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !fits {
        let actual = type_name(value);
        causes.push(Cause::new(
            "FieldValueTypeInvalid",
            path,
            format!(
                "Invalid value: \"{actual}\": {path} in body must be of type {}: \"{actual}\"",
                expected.unwrap_or_default()
            ),
        ));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        causes.push(Cause::new(
            "FieldValueNotSupported",
            path,
            format!(
                "Unsupported value: {value}: supported values: {}",
                listed.join(", ")
            ),
        ));
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            required(schema, fields, path, causes);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in fields {
                if let Some(sub) = properties.and_then(|p| p.get(key)).or(additional) {
                    walk(child, sub, &format!("{path}.{key}"), causes);
                }
            }
        }
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(max) = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .filter(|&m| count > m)
            {
                causes.push(Cause::new(
                    "FieldValueTooMany",
                    path,
                    format!("Too many: {count}: must have at most {max} items"),
                ));
            }
            if let Some(min) = schema
                .get("minItems")
                .and_then(Value::as_u64)
                .filter(|&m| count < m)
            {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    path,
                    format!(
                        "Invalid value: {count}: {path} in body should have at least {min} items"
                    ),
                ));
            }
            let list_type = schema.get("x-kubernetes-list-type").and_then(Value::as_str);
            if list_type == Some("set") {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        causes.push(Cause::new(
                            "FieldValueDuplicate",
                            format!("{path}[{i}]"),
                            format!("Duplicate value: {item}"),
                        ));
                    }
                }
            }
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item, sub, &format!("{path}[{i}]"), causes);
                }
            }
        }
        Value::String(text) => {
            let length = text.len() as u64;
            if let Some(max) = schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .filter(|&m| length > m)
            {
                causes.push(Cause::new(
                    "FieldValueTooLong",
                    path,
                    format!("Too long: may not be more than {max} bytes"),
                ));
            }
            if let Some(min) = schema
                .get("minLength")
                .and_then(Value::as_u64)
                .filter(|&m| length < m)
            {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    path,
                    format!(
                        "Invalid value: {value}: {path} in body should be at least {min} chars long"
                    ),
                ));
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && compiled(pattern).is_some_and(|re| !re.is_match(text))
            {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    path,
                    format!("Invalid value: {value}: {path} in body should match '{pattern}'"),
                ));
            }
        }
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or_default();
            if let Some(max) = schema
                .get("maximum")
                .and_then(Value::as_f64)
                .filter(|&m| n > m)
            {
                causes.push(Cause::new("FieldValueInvalid", path, format!("Invalid value: {value}: {path} in body should be less than or equal to {max}")));
            }
            if let Some(min) = schema
                .get("minimum")
                .and_then(Value::as_f64)
                .filter(|&m| n < m)
            {
                causes.push(Cause::new("FieldValueInvalid", path, format!("Invalid value: {value}: {path} in body should be greater than or equal to {min}")));
            }
        }
        _ => {}
    }
}

thread_local! {
    static PATTERNS: RefCell<HashMap<String, Option<Regex>>> = RefCell::new(HashMap::new());
    static COMPILED: RefCell<HashMap<String, Rc<kube_cel::CompiledSchema>>> = RefCell::new(HashMap::new());
}

fn compiled(pattern: &str) -> Option<Regex> {
    PATTERNS.with(|cache| {
        cache
            .borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).ok())
            .clone()
    })
}

/// What CEL rules see of an object: everything, but of metadata only `name` and `generateName`.
fn cel_view(object: &Value) -> Value {
    let mut view = object.clone();
    if let Some(meta) = view.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.retain(|k, _| k == "name" || k == "generateName");
    }
    view
}

/// The CEL rules `object` breaks. Compiled schemas are cached per thread under `cache_key`
/// (which changes whenever the CRD does).
fn cel(object: &Value, old: Option<&Value>, schema: &Value, cache_key: &str) -> Vec<Cause> {
    let compiled = COMPILED.with(|cache| {
        cache
            .borrow_mut()
            .entry(cache_key.to_string())
            .or_insert_with(|| Rc::new(kube_cel::compile_schema(schema)))
            .clone()
    });
    let object = cel_view(object);
    let old = old.map(cel_view);
    match kube_cel::validate_compiled(&compiled, &object, old.as_ref()) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|e| {
                let reason = e.reason.unwrap_or_else(|| "FieldValueInvalid".into());
                let prefix = match reason.as_str() {
                    "FieldValueForbidden" => "Forbidden",
                    "FieldValueRequired" => "Required value",
                    "FieldValueDuplicate" => "Duplicate value",
                    _ => "Invalid value",
                };
                let field = if e.field_path.is_empty() {
                    "<nil>".to_string()
                } else {
                    e.field_path
                };
                Cause::new(&reason, field, format!("{prefix}: {}", e.message))
            })
            .collect(),
    }
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
        );
        assert_eq!(
            causes[0].display(),
            "spec.color: Unsupported value: \"purple\": supported values: \"red\", \"green\", \"blue\""
        );
    }
}
