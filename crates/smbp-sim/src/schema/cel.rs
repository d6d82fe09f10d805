//! `x-kubernetes-validations` CEL rules through kube-cel, with kube-apiserver's messages: a rule
//! that evaluates to false gives `Invalid value: <message>` (or `Forbidden: …`, `Required value:
//! …` by its `reason`; `Duplicate value` alone, since a Duplicate field error prints no detail);
//! a rule whose evaluation fails gives `Invalid value: "<node type>": <CEL error> evaluating
//! rule: <message or rule>` at the rule's node.

use super::structural::{join, under};
use crate::error::Cause;
use kube_cel::{ErrorKind, ValidationError, cel::ExecutionError};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A CRD schema's rules, compiled once (without its defaults: see [`rules`]).
struct Compiled {
    schema: kube_cel::CompiledSchema,
    /// Whether the schema has any rule (kube-apiserver has no CEL validator otherwise).
    any: bool,
}

thread_local! {
    static COMPILED: RefCell<HashMap<String, Rc<Compiled>>> = RefCell::new(HashMap::new());
}

/// The compiled rules of a CRD schema, cached per thread under `cache_key` (which changes
/// whenever the CRD does).
fn compiled(schema: &Value, cache_key: &str) -> Rc<Compiled> {
    COMPILED.with(|cache| {
        cache
            .borrow_mut()
            .entry(cache_key.to_string())
            .or_insert_with(|| {
                Rc::new(Compiled {
                    schema: kube_cel::compile_schema(&without_defaults(schema)),
                    any: has_rules(schema),
                })
            })
            .clone()
    })
}

/// Whether a CRD schema has any `x-kubernetes-validations` rule.
pub fn present(schema: &Value, cache_key: &str) -> bool {
    compiled(schema, cache_key).any
}

/// What CEL rules see of an object: everything, but of metadata only `name` and `generateName`.
fn cel_view(object: &Value) -> Value {
    let mut view = object.clone();
    if let Some(meta) = view.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.retain(|k, _| k == "name" || k == "generateName");
    }
    view
}

/// The CEL rules a custom resource breaks, on the object as given: defaulting is the caller's
/// (kube-cel would default it again, also where kube-apiserver does not, e.g. a body of the
/// wrong kind).
pub fn rules(object: &Value, old: Option<&Value>, schema: &Value, cache_key: &str) -> Vec<Cause> {
    let compiled = compiled(schema, cache_key);
    let object = cel_view(object);
    let old = old.map(cel_view);
    match kube_cel::validate_compiled(&compiled.schema, &object, old.as_ref()) {
        Ok(()) => Vec::new(),
        Err(errors) => causes(errors.into_vec(), schema, ""),
    }
}

/// The rules of `schema` (a node and everything below it) that `value` breaks, evaluated with
/// `oldSelf` equal to `self`, as kube-apiserver checks a `default`; causes are placed under
/// `prefix`.
pub fn rules_on_value(value: &Value, schema: &Value, prefix: &str) -> Vec<Cause> {
    if !has_rules(schema) {
        return Vec::new();
    }
    let compiled = kube_cel::compile_schema(&without_defaults(schema));
    match kube_cel::validate_compiled(&compiled, value, Some(value)) {
        Ok(()) => Vec::new(),
        Err(errors) => causes(errors.into_vec(), schema, prefix),
    }
}

/// A schema with every `default` removed.
fn without_defaults(schema: &Value) -> Value {
    match schema {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(k, _)| *k != "default")
                .map(|(k, v)| (k.clone(), without_defaults(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a schema node or anything below it has `x-kubernetes-validations`.
fn has_rules(schema: &Value) -> bool {
    match schema {
        Value::Object(fields) => {
            fields.contains_key("x-kubernetes-validations") || fields.values().any(has_rules)
        }
        Value::Array(items) => items.iter().any(has_rules),
        _ => false,
    }
}

/// `path` below `prefix` (`<nil>` when both are empty).
fn field(prefix: &str, path: &str) -> String {
    if prefix.is_empty() && path.is_empty() {
        "<nil>".to_string()
    } else {
        under(prefix, path)
    }
}

fn causes(errors: Vec<ValidationError>, schema: &Value, prefix: &str) -> Vec<Cause> {
    errors
        .into_iter()
        .map(|e| match e.kind {
            ErrorKind::EvaluationError => evaluation_failure(&e, schema, prefix),
            _ => rule_failure(e, prefix),
        })
        .collect()
}

fn rule_failure(e: ValidationError, prefix: &str) -> Cause {
    let reason = e.reason.unwrap_or_else(|| "FieldValueInvalid".into());
    let message = match reason.as_str() {
        "FieldValueForbidden" => format!("Forbidden: {}", e.message),
        "FieldValueRequired" => format!("Required value: {}", e.message),
        "FieldValueDuplicate" => "Duplicate value".to_string(),
        _ => format!("Invalid value: {}", e.message),
    };
    Cause::new(&reason, field(prefix, &e.field_path), message)
}

fn evaluation_failure(e: &ValidationError, schema: &Value, prefix: &str) -> Cause {
    let cel_error = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<ExecutionError>())
        .map(go_error_text)
        .unwrap_or_else(|| e.message.clone());
    let (node_path, node, rule) = rule_node(schema, &e.field_path, &e.rule).unwrap_or((
        e.field_path.clone(),
        schema,
        &Value::Null,
    ));
    let shown = rule
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(&e.rule)
        .trim();
    let node_type = node.get("type").and_then(Value::as_str).unwrap_or_default();
    Cause::new(
        "FieldValueInvalid",
        field(prefix, &node_path),
        format!("Invalid value: \"{node_type}\": {cel_error} evaluating rule: {shown}"),
    )
}

/// cel-go's wording of an evaluation error.
fn go_error_text(error: &ExecutionError) -> String {
    match error {
        ExecutionError::NoSuchKey(key) => format!("no such key: {key}"),
        ExecutionError::DivisionByZero(_) => "division by zero".to_string(),
        other => other.to_string(),
    }
}

/// The schema node of the rule `rule` that failed at `path` (the node's path plus the rule's
/// `fieldPath`): its path, the node, and the rule object.
fn rule_node<'s>(
    schema: &'s Value,
    path: &str,
    rule: &str,
) -> Option<(String, &'s Value, &'s Value)> {
    let mut ends: Vec<usize> = path
        .char_indices()
        .filter(|(_, c)| *c == '.' || *c == '[')
        .map(|(i, _)| i)
        .collect();
    ends.push(path.len());
    ends.insert(0, 0);
    ends.into_iter().rev().find_map(|end| {
        let node = node_at(schema, &path[..end])?;
        let found = node
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)?
            .iter()
            .find(|r| {
                let field_path = r.get("fieldPath").and_then(Value::as_str).unwrap_or("");
                r.get("rule").and_then(Value::as_str) == Some(rule)
                    && under_rule(&path[..end], field_path) == path
            })?;
        Some((path[..end].to_string(), node, found))
    })
}

/// Where kube-cel reports a rule with `field_path` at `node_path`.
fn under_rule(node_path: &str, field_path: &str) -> String {
    match field_path.strip_prefix('.') {
        _ if field_path.is_empty() => node_path.to_string(),
        Some(rest) if node_path.is_empty() => rest.to_string(),
        Some(_) => format!("{node_path}{field_path}"),
        None => join(node_path, field_path),
    }
}

/// The schema node at a dotted path (`spec.items[0].name`, `spec.labels[key]`).
fn node_at<'s>(schema: &'s Value, path: &str) -> Option<&'s Value> {
    let mut node = schema;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        let name = pieces.next().unwrap_or_default();
        if !name.is_empty() {
            node = node
                .pointer(&format!(
                    "/properties/{}",
                    name.replace('~', "~0").replace('/', "~1")
                ))
                .or_else(|| node.get("additionalProperties"))?;
        }
        for _ in pieces {
            node = node
                .get("items")
                .or_else(|| node.get("additionalProperties"))?;
        }
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn account_schema() -> Value {
        json!({"type": "object", "properties": {"serviceAccount": {
            "type": "object", "default": {},
            "x-kubernetes-validations": [{"rule": "self.create || has(self.name)",
                "message": "name is required when create is false"}],
            "properties": {"create": {"type": "boolean", "default": true}, "name": {"type": "string"}}
        }}})
    }

    #[test]
    fn an_evaluation_error_names_the_node_type_and_the_rule_message() {
        let schema = account_schema();
        let node = &schema["properties"]["serviceAccount"];
        let causes = rules_on_value(&json!({}), node, "x.default");
        assert_eq!(
            causes[0].display(),
            "x.default: Invalid value: \"object\": no such key: create evaluating rule: name is required when create is false"
        );
        let causes = rules(
            &json!({"serviceAccount": {"create": false}}),
            None,
            &schema,
            "cel-test-1",
        );
        assert_eq!(
            causes[0].display(),
            "serviceAccount: Invalid value: name is required when create is false"
        );
    }

    #[test]
    fn a_duplicate_reason_loses_its_message() {
        let schema = json!({"type": "object", "properties": {"workload": {"type": "object",
            "x-kubernetes-validations": [{"rule": "false", "message": "ports must differ",
                "reason": "FieldValueDuplicate"}]}}});
        let causes = rules(&json!({"workload": {}}), None, &schema, "cel-test-2");
        assert_eq!(causes[0].display(), "workload: Duplicate value");
        assert_eq!(causes[0].reason, "FieldValueDuplicate");
    }
}
