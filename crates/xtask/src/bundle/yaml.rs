//! YAML output with a stable key order (sorted, whatever serde_json's map keeps), so that the
//! generated files do not depend on the features the build enabled.

use serde_json::Value;

use super::Result;

/// `value` as a YAML document, keys sorted at every level.
pub fn to_yaml(value: &Value) -> Result<String> {
    serde_yaml::to_string(&sorted(value)).map_err(|e| format!("YAML: {e}"))
}

/// `value` as pretty JSON, keys sorted at every level.
pub fn to_json(value: &Value) -> Result<String> {
    serde_json::to_string_pretty(&SortedJson(value)).map_err(|e| format!("JSON: {e}"))
}

fn sorted(value: &Value) -> serde_yaml::Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_yaml::Value::Mapping(
                keys.into_iter()
                    .map(|k| (serde_yaml::Value::String(k.clone()), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => serde_yaml::Value::Sequence(items.iter().map(sorted).collect()),
        Value::String(s) => serde_yaml::Value::String(s.clone()),
        Value::Bool(b) => serde_yaml::Value::Bool(*b),
        Value::Null => serde_yaml::Value::Null,
        Value::Number(n) => serde_yaml::to_value(n).unwrap_or(serde_yaml::Value::Null),
    }
}

/// A JSON value that serializes its objects' keys in sorted order.
struct SortedJson<'a>(&'a Value);

impl serde::Serialize for SortedJson<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let sorted: std::collections::BTreeMap<&String, SortedJson<'_>> =
                    map.iter().map(|(k, v)| (k, SortedJson(v))).collect();
                sorted.serialize(serializer)
            }
            Value::Array(items) => {
                let items: Vec<SortedJson<'_>> = items.iter().map(SortedJson).collect();
                items.serialize(serializer)
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_come_out_sorted() {
        let value = json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        assert_eq!(
            to_yaml(&value).unwrap(),
            "a:\n  c: x\n  d:\n  - true\n  - null\nb: 1\n"
        );
        assert_eq!(
            to_json(&value).unwrap(),
            "{\n  \"a\": {\n    \"c\": \"x\",\n    \"d\": [\n      true,\n      null\n    ]\n  },\n  \"b\": 1\n}"
        );
    }
}
