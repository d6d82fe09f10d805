//! The OpenAPI part of custom-resource validation, as kube-openapi's validator and
//! apiextensions' `kubeOpenAPIResultToFieldErrors` report it: type, enum, required, ranges,
//! lengths, item counts, pattern and `format`, each with kube-apiserver's message and cause
//! reason. Paths start at the validated value (`""` for its root, then `spec.size`, `tags[1]`).

use super::formats;
use super::gofmt;
use crate::error::Cause;
use regex::Regex;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;

/// The path of field `key` below `path` (no leading dot at the root).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `path` (relative to a value) placed under `prefix`: `prefix`, `prefix.a.b` or `prefix[0]`.
pub fn under(prefix: &str, path: &str) -> String {
    if path.is_empty() {
        prefix.to_string()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        join(prefix, path)
    }
}

/// The JSON type kube-openapi names for `value`.
pub fn type_name(value: &Value) -> &'static str {
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

/// A `Required value` cause for every required field missing from `fields`.
pub fn required(schema: &Value, fields: &Map<String, Value>, path: &str, causes: &mut Vec<Cause>) {
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !fields.contains_key(name) {
            causes.push(Cause::new(
                "FieldValueRequired",
                join(path, name),
                "Required value",
            ));
        }
    }
}

/// The `must be of type` cause kube-openapi gives a value of the wrong type (or format).
fn type_invalid(path: &str, shown: &str, expected: &str) -> Cause {
    Cause::new(
        "FieldValueTypeInvalid",
        path,
        format!(
            "Invalid value: \"{shown}\": {path} in body must be of type {expected}: \"{shown}\""
        ),
    )
}

/// Whether `value` has the schema node's declared type; reports it when not.
fn type_fits(value: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) -> bool {
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        let fits = value.is_string() || value.is_i64() || value.is_u64();
        if !fits {
            causes.push(type_invalid(path, type_name(value), "int-or-string"));
        }
        return fits;
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
        causes.push(type_invalid(
            path,
            type_name(value),
            expected.unwrap_or_default(),
        ));
    }
    fits
}

/// Validates `value` against the schema node `schema`, at `path`.
pub fn walk(value: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    if value.is_null() || !type_fits(value, schema, path, causes) {
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
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
        Value::Object(fields) => object(fields, schema, path, causes),
        Value::Array(items) => array(items, schema, path, causes),
        Value::String(text) => string(text, schema, path, causes),
        Value::Number(number) => numeric(number, schema, path, causes),
        _ => {}
    }
}

fn object(fields: &Map<String, Value>, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let properties = schema.get("properties").and_then(Value::as_object);
    required(schema, fields, path, causes);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (key, child) in fields {
        if let Some(sub) = properties.and_then(|p| p.get(key)).or(additional) {
            walk(child, sub, &join(path, key), causes);
        }
    }
}

fn array(items: &[Value], schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let count = items.len() as u64;
    if let Some(max) = limit(schema, "maxItems").filter(|&m| count > m) {
        causes.push(Cause::new(
            "FieldValueTooMany",
            path,
            format!("Too many: {count}: must have at most {max} items"),
        ));
    }
    if let Some(min) = limit(schema, "minItems").filter(|&m| count < m) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            path,
            format!("Invalid value: {count}: {path} in body should have at least {min} items"),
        ));
    }
    if let Some(sub) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            walk(item, sub, &format!("{path}[{i}]"), causes);
        }
    }
}

fn limit(schema: &Value, key: &str) -> Option<u64> {
    schema.get(key).and_then(Value::as_u64)
}

fn string(text: &str, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let length = text.chars().count() as u64;
    let quoted = gofmt::quote(text);
    if let Some(max) = limit(schema, "maxLength").filter(|&m| length > m) {
        causes.push(Cause::new(
            "FieldValueTooLong",
            path,
            format!("Too long: may not be more than {max} bytes"),
        ));
    }
    if let Some(min) = limit(schema, "minLength").filter(|&m| length < m) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            path,
            format!("Invalid value: {quoted}: {path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && compiled(pattern).is_some_and(|re| !re.is_match(text))
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            path,
            format!("Invalid value: {quoted}: {path} in body should match '{pattern}'"),
        ));
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str)
        && !formats::valid(format, text)
    {
        causes.push(Cause::new(
            "FieldValueTypeInvalid",
            path,
            format!("Invalid value: {quoted}: {path} in body must be of type {format}: {quoted}"),
        ));
    }
}

fn numeric(number: &serde_json::Number, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let n = number.as_f64().unwrap_or_default();
    if let Some(max) = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .filter(|&m| n > m)
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            path,
            format!(
                "Invalid value: {number}: {path} in body should be less than or equal to {max}"
            ),
        ));
    }
    if let Some(min) = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .filter(|&m| n < m)
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            path,
            format!(
                "Invalid value: {number}: {path} in body should be greater than or equal to {min}"
            ),
        ));
    }
}

thread_local! {
    static PATTERNS: RefCell<HashMap<String, Option<Regex>>> = RefCell::new(HashMap::new());
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn causes(value: Value, schema: Value) -> Vec<String> {
        let mut out = Vec::new();
        walk(&value, &schema, "spec.x", &mut out);
        out.iter().map(Cause::display).collect()
    }

    #[test]
    fn a_bad_format_is_a_type_error_with_the_value_quoted() {
        let schema = json!({"type": "string", "format": "duration"});
        assert_eq!(
            causes(json!("abc"), schema.clone()),
            vec![
                "spec.x: Invalid value: \"abc\": spec.x in body must be of type duration: \"abc\""
            ]
        );
        assert!(causes(json!("1h30m"), schema).is_empty());
        let unsupported = json!({"type": "string", "format": "int32"});
        assert!(causes(json!("abc"), unsupported).is_empty());
    }

    #[test]
    fn paths_start_without_a_dot_at_the_root() {
        let schema = json!({"type": "object", "required": ["name"],
            "properties": {"size": {"type": "integer"}}});
        let mut out = Vec::new();
        walk(&json!({"size": "big"}), &schema, "", &mut out);
        let shown: Vec<String> = out.iter().map(Cause::display).collect();
        assert_eq!(
            shown,
            vec![
                "name: Required value",
                "size: Invalid value: \"string\": size in body must be of type integer: \"string\""
            ]
        );
    }
}
