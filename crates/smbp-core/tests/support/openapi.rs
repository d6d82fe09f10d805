//! The OpenAPI part of a CRD's structural-schema validation, as kube-apiserver applies it before
//! CEL: types, required fields, enums, numeric ranges, lengths, item counts, patterns and the
//! `duration` format and `x-kubernetes-list-type: set` uniqueness. Unknown fields are reported instead of silently pruned, because in a test a
//! misspelt field is a mistake to see. (Defaulting is kube-cel's; nullable values are accepted.)

use regex::Regex;
use serde_json::Value;

/// Every constraint of `schema` that `value` breaks, as `path: message`.
pub fn violations(schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(schema, value, "", &mut found);
    found
}

fn walk(schema: &Value, value: &Value, path: &str, found: &mut Vec<String>) {
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) && !path.is_empty() {
            found.push(format!("{path}: must not be null"));
        }
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            found.push(format!("{path}: must be an integer or a string"));
        }
        return;
    }
    let mut fail = |message: String| found.push(format!("{path}: {message}"));
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let Some(object) = value.as_object() else {
                return fail("must be an object".into());
            };
            let properties = schema.get("properties").and_then(Value::as_object);
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = required.as_str().unwrap();
                if !object.contains_key(name) {
                    fail(format!("{name} is required"));
                }
            }
            let preserve =
                schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            for (key, child) in object {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    walk(sub, child, &child_path, found);
                } else if let Some(sub) =
                    schema.get("additionalProperties").filter(|s| s.is_object())
                {
                    walk(sub, child, &child_path, found);
                } else if properties.is_some()
                    && !preserve
                    && !(path.is_empty()
                        && ["apiVersion", "kind", "metadata"].contains(&key.as_str()))
                {
                    found.push(format!("{child_path}: unknown field"));
                }
            }
            return;
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return fail("must be an array".into());
            };
            if let Some(message) = size_violation(schema, "Items", items.len(), "have", "items") {
                fail(message);
            }
            if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        found.push(format!("{path}[{i}]: Duplicate value: {item}"));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item_schema, item, &format!("{path}[{i}]"), found);
                }
            }
            return;
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                return fail("must be a string".into());
            };
            if let Some(message) =
                size_violation(schema, "Length", text.chars().count(), "be", "characters")
            {
                fail(message);
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && !Regex::new(pattern).unwrap().is_match(text)
            {
                fail(format!("must match {pattern}"));
            }
            if schema.get("format").and_then(Value::as_str) == Some("duration")
                && !is_duration(text)
            {
                fail(format!("{text:?} is not a duration such as 30s or 2h"));
            }
        }
        Some("integer") => {
            let Some(number) = value.as_i64() else {
                return fail("must be an integer".into());
            };
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && (number as f64) < min
            {
                fail(format!("must be at least {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && (number as f64) > max
            {
                fail(format!("must be at most {max}"));
            }
        }
        Some("boolean") if !value.is_boolean() => fail("must be a boolean".into()),
        Some("number") if !value.is_number() => fail("must be a number".into()),
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        fail(format!(
            "{value} is not one of {}",
            Value::Array(allowed.clone())
        ));
    }
}

/// The message for a `size` outside the schema's `min{bound}`/`max{bound}` (`Items` or
/// `Length`), such as "must have at most 8 items".
fn size_violation(
    schema: &Value,
    bound: &str,
    size: usize,
    verb: &str,
    noun: &str,
) -> Option<String> {
    let limit = |key: String| schema.get(key).and_then(Value::as_u64);
    let size = size as u64;
    if let Some(min) = limit(format!("min{bound}")).filter(|&min| size < min) {
        return Some(format!("must {verb} at least {min} {noun}"));
    }
    limit(format!("max{bound}"))
        .filter(|&max| size > max)
        .map(|max| format!("must {verb} at most {max} {noun}"))
}

/// Go's `time.ParseDuration` syntax, which the API server's `duration` format accepts.
fn is_duration(text: &str) -> bool {
    static DURATION: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$").unwrap()
    });
    DURATION.is_match(text)
}
