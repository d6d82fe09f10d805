//! How kube-apiserver prints values inside its messages, which comes from Go's `fmt`: a field
//! error's bad value (`field.Error.ErrorBody`: numbers and booleans bare, strings `%q`, maps and
//! lists `%#v` of their unstructured Go form), and structured-merge-diff's `%T` / `%#v` / `%v` of
//! a `value.Value`.

use serde_json::Value;

/// A string as Go's `%q` prints it (close enough to JSON for the texts Kubernetes carries).
pub fn quote(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// A bad value as `field.Error.ErrorBody` prints it: `1`, `true`, `"a"`, `null`, or `%#v` of a
/// map or list (`map[string]interface {}{"name":"a"}`).
pub fn bad_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::String(text) => quote(text),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(_) | Value::Object(_) => sharp_v(value),
    }
}

/// Go's `%#v` of an unstructured value (`map[string]interface{}`, `[]interface{}`, ...); map
/// keys sorted, as Go prints them.
pub fn sharp_v(value: &Value) -> String {
    match value {
        Value::Null => "interface {}(nil)".to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(sharp_v).collect();
            format!("[]interface {{}}{{{}}}", parts.join(", "))
        }
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", quote(k), sharp_v(&fields[k])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", parts.join(", "))
        }
        other => bad_value(other),
    }
}

/// Go's `%T` of an unstructured value.
pub fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%v` of an unstructured value (`map[a:1]`, `[a b]`, bare strings).
pub fn plain_v(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(plain_v).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", plain_v(&fields[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_print_as_go_prints_them() {
        assert_eq!(bad_value(&json!("a")), "\"a\"");
        assert_eq!(bad_value(&json!(3)), "3");
        assert_eq!(
            bad_value(&json!({"name": "x", "a": [1, true]})),
            "map[string]interface {}{\"a\":[]interface {}{1, true}, \"name\":\"x\"}"
        );
        assert_eq!(type_of(&json!("two")), "string");
        assert_eq!(plain_v(&json!({"b": "x", "a": [1, 2]})), "map[a:[1 2] b:x]");
    }
}
