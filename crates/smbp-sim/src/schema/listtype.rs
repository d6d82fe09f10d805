//! Uniqueness of `x-kubernetes-list-type: set` items and `map` keys in a custom resource, checked
//! after the OpenAPI pass as apiextensions' `listtype.ValidateListSetsAndMaps` does: a
//! `Duplicate value` cause at the first repeat of each value (a set item, or the key fields of a
//! map item printed as Go prints a `map[string]interface{}`).

use super::gofmt;
use super::structural::join;
use crate::error::Cause;
use serde_json::{Map, Value};

/// Duplicate causes for every list set/map below `value` (a node with schema `schema`).
pub fn duplicates(value: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in fields {
                if let Some(sub) = properties.and_then(|p| p.get(key)).or(additional) {
                    duplicates(child, sub, &join(path, key), causes);
                }
            }
        }
        Value::Array(items) => {
            match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => report(items.to_vec(), path, causes),
                Some("map") => report(map_keys(items, schema), path, causes),
                _ => {}
            }
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    duplicates(item, sub, &format!("{path}[{i}]"), causes);
                }
            }
        }
        _ => {}
    }
}

/// The key of each item of a list map: its key fields (only those present).
fn map_keys(items: &[Value], schema: &Value) -> Vec<Value> {
    let keys: Vec<&str> = schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    items
        .iter()
        .map(|item| {
            let key: Map<String, Value> = keys
                .iter()
                .filter_map(|k| Some((k.to_string(), item.get(*k)?.clone())))
                .collect();
            Value::Object(key)
        })
        .collect()
}

/// A cause at the second occurrence of each repeated value (later repeats are not reported).
fn report(values: Vec<Value>, path: &str, causes: &mut Vec<Cause>) {
    for (i, value) in values.iter().enumerate() {
        if values[..i].iter().filter(|v| *v == value).count() == 1 {
            causes.push(Cause::new(
                "FieldValueDuplicate",
                format!("{path}[{i}]"),
                format!("Duplicate value: {}", gofmt::bad_value(value)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_and_map_keys_report_their_first_repeat() {
        let schema = json!({"type": "object", "properties": {
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object"}}}});
        let object = json!({"tags": ["a", "a", "a"],
            "ports": [{"name": "http", "port": 1}, {"name": "http", "port": 2}]});
        let mut causes = Vec::new();
        duplicates(&object, &schema, "spec", &mut causes);
        let shown: Vec<String> = causes.iter().map(Cause::display).collect();
        assert_eq!(
            shown,
            vec![
                "spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"http\"}",
                "spec.tags[1]: Duplicate value: \"a\""
            ]
        );
    }
}
