//! The check kube-apiserver makes when it turns a server-side apply body into a typed value
//! (structured-merge-diff's `ObjectToTyped`, without `AllowDuplicates`): fields the schema does
//! not declare (the first of each object), values of the wrong type, and repeated keys of
//! `x-kubernetes-list-type: map`/`set` lists — each as `.path: message`, with SMD's wording.
//! kube-apiserver answers 500 `failed to create typed patch object (…): <errors>`.

use super::gofmt;
use serde_json::{Map, Value};

/// The errors of an applied custom resource (its `apiVersion`, `kind` and `metadata` are not
/// covered by `schema`).
pub fn errors(applied: &Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(fields) = applied {
        let mut content = fields.clone();
        for key in ["apiVersion", "kind", "metadata"] {
            content.remove(key);
        }
        map(&content, schema, "", &mut out);
    }
    out
}

/// SMD's rendering of several errors: one alone, else `errors:` and one indented line each.
pub fn joined(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    }
}

fn push(out: &mut Vec<String>, path: &str, message: String) {
    out.push(if path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    });
}

/// `%v` of an SMD `value.Value` (a pointer to a struct holding the Go value).
fn value_v(value: &Value) -> String {
    format!("&{{{}}}", gofmt::plain_v(value))
}

fn node(value: &Value, schema: &Value, path: &str, out: &mut Vec<String>) {
    if value.is_null() {
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    match schema.get("type").and_then(Value::as_str) {
        _ if int_or_string && (value.is_object() || value.is_array()) => push(
            out,
            path,
            format!("expected any scalar, got {}", value_v(value)),
        ),
        Some("object") => match value {
            Value::Object(fields) => map(fields, schema, path, out),
            other => push(out, path, format!("expected map, got {}", value_v(other))),
        },
        Some("array") => match value {
            Value::Array(items) => list(items, schema, path, out),
            other => push(out, path, format!("expected list, got {}", value_v(other))),
        },
        Some("string") if !value.is_string() => push(
            out,
            path,
            format!(
                "expected string, got &value.valueUnstructured{{Value:{}}}",
                gofmt::sharp_v(value)
            ),
        ),
        Some("integer" | "number") if !value.is_number() => push(
            out,
            path,
            format!(
                "expected numeric (int or float), got {}",
                gofmt::type_of(value)
            ),
        ),
        Some("boolean") if !value.is_boolean() => push(
            out,
            path,
            format!("expected boolean, got {}", value_v(value)),
        ),
        _ => {}
    }
}

/// An object: declared fields are descended into; the first undeclared one ends the walk of
/// this object, as SMD stops iterating there.
fn map(fields: &Map<String, Value>, schema: &Value, path: &str, out: &mut Vec<String>) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    let open = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        || schema.get("additionalProperties") == Some(&Value::Bool(true));
    for (key, child) in fields {
        let child_path = format!("{path}.{key}");
        match properties.and_then(|p| p.get(key)).or(additional) {
            Some(sub) => node(child, sub, &child_path, out),
            None if open => {}
            None => {
                push(out, &child_path, "field not declared in schema".into());
                return;
            }
        }
    }
}

fn list(items: &[Value], schema: &Value, path: &str, out: &mut Vec<String>) {
    let sub = schema.get("items").unwrap_or(&Value::Null);
    let associative = matches!(
        schema.get("x-kubernetes-list-type").and_then(Value::as_str),
        Some("map" | "set")
    );
    let mut seen: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let element = match element(item, schema, i) {
            Ok(element) => element,
            Err(message) => {
                push(out, path, format!("element {i}: {message}"));
                return;
            }
        };
        if associative && seen.contains(&element) {
            push(out, path, format!("duplicate entries for key {element}"));
        }
        seen.push(element.clone());
        node(item, sub, &format!("{path}{element}"), out);
    }
}

/// The path element of a list item: `[name="a"]` (list map), `[="a"]` (set) or `[0]`.
fn element(item: &Value, schema: &Value, index: usize) -> Result<String, String> {
    match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("map") => {
            let mut keys: Vec<&str> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let Value::Object(fields) = item else {
                return Err("associative list with keys may not have non-map elements".into());
            };
            let all = format!("{:?}", keys).replace(", ", " ");
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .filter_map(|k| Some(format!("{k}={}", smd_string(fields.get(*k)?))))
                .collect();
            if parts.is_empty() {
                return Err(format!(
                    "associative list with keys has an element that omits all key fields {all} (and doesn't have default values for any key fields)"
                ));
            }
            Ok(format!("[{}]", parts.join(",")))
        }
        Some("set") => Ok(format!("[={}]", smd_string(item))),
        _ => Ok(format!("[{index}]")),
    }
}

/// SMD's `value.ToString`: strings `%q`, lists `[a,b]`, scalars bare.
fn smd_string(value: &Value) -> String {
    match value {
        Value::String(text) => gofmt::quote(text),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(smd_string).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "size": {"type": "integer"},
            "name": {"type": "string"},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"},
                    "port": {"type": "integer"}}}}}}}})
    }

    #[test]
    fn type_errors_and_duplicates_use_smd_wording() {
        let applied = json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "w"},
            "spec": {"size": "two", "name": 3, "tags": ["a", "a"],
                "ports": [{"name": "x", "port": 1}, {"name": "x", "port": "p"}]}});
        assert_eq!(
            errors(&applied, &schema()),
            vec![
                ".spec.name: expected string, got &value.valueUnstructured{Value:3}",
                ".spec.ports: duplicate entries for key [name=\"x\"]",
                ".spec.ports[name=\"x\"].port: expected numeric (int or float), got string",
                ".spec.size: expected numeric (int or float), got string",
                ".spec.tags: duplicate entries for key [=\"a\"]",
            ]
        );
        assert_eq!(
            joined(&errors(&json!({"spec": {"bogus": 1}}), &schema())),
            ".spec.bogus: field not declared in schema"
        );
    }
}
