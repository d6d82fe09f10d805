//! Field sets and `managedFields`: which manager owns which fields, in the `FieldsV1` encoding
//! (`f:name`, `k:{"name":"x"}`, `v:"a"`, `.`), and the two ways ownership changes — an Update takes
//! the fields it changed, an Apply declares the full set it owns (see `apply`).

use crate::shape::{ListKind, Shape, item_key};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// A field of an object.
    Field(String),
    /// An item of a keyed list, by its key object (canonical JSON).
    Key(String),
    /// An item of a set, by its value (canonical JSON).
    Value(String),
}

/// A path from the object root.
pub type Path = Vec<Step>;

/// A set of owned paths.
pub type FieldSet = BTreeSet<Path>;

/// Whether a field set records every map node (what Update entries hold) or only what was
/// applied: leaves, list items and empty maps (what Apply entries hold).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Granularity {
    /// Every node of the object.
    AllNodes,
    /// Leaves and list items.
    Leaves,
}

/// The top-level fields a field set never covers: identity, and what the server owns.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The part of `object` that field ownership covers, for the main resource or for `status`.
pub fn ownable(object: &Value, status_only: bool, has_status_subresource: bool) -> Value {
    let mut out = Map::new();
    let Some(fields) = object.as_object() else {
        return Value::Object(out);
    };
    for (key, value) in fields {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" if !status_only => {
                let mut meta = value.as_object().cloned().unwrap_or_default();
                meta.retain(|k, _| !SERVER_METADATA.contains(&k.as_str()));
                if !meta.is_empty() {
                    out.insert(key.clone(), Value::Object(meta));
                }
            }
            "metadata" => {}
            "status" if status_only || !has_status_subresource => {
                out.insert(key.clone(), value.clone());
            }
            _ if status_only => {}
            "status" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// The paths present in `value` (an `ownable` object).
pub fn field_set(value: &Value, shape: Shape, granularity: Granularity) -> FieldSet {
    let mut set = FieldSet::new();
    collect(value, shape, &mut Vec::new(), granularity, &mut set);
    set
}

fn collect(value: &Value, shape: Shape, path: &mut Path, g: Granularity, set: &mut FieldSet) {
    match value {
        Value::Object(map) if path.is_empty() || !shape.atomic_map(value) => {
            let top_metadata = path.len() == 1 && path[0] == Step::Field("metadata".into());
            if !path.is_empty() && (map.is_empty() || (g == Granularity::AllNodes && !top_metadata))
            {
                set.insert(path.clone());
            }
            for (key, child) in map {
                path.push(Step::Field(key.clone()));
                collect(child, shape.field(key), path, g, set);
                path.pop();
            }
        }
        Value::Array(items) => match shape.list_kind(items) {
            ListKind::Atomic => {
                set.insert(path.clone());
            }
            ListKind::Set => {
                if g == Granularity::AllNodes {
                    set.insert(path.clone());
                }
                for item in items {
                    path.push(Step::Value(item.to_string()));
                    set.insert(path.clone());
                    path.pop();
                }
            }
            ListKind::Map(keys) => {
                if g == Granularity::AllNodes {
                    set.insert(path.clone());
                }
                for item in items {
                    let Some(key) = item_key(item, &keys) else {
                        continue;
                    };
                    path.push(Step::Key(key.to_string()));
                    set.insert(path.clone());
                    if let Value::Object(fields) = item {
                        for (name, child) in fields {
                            path.push(Step::Field(name.clone()));
                            collect(child, shape.items().field(name), path, g, set);
                            path.pop();
                        }
                    }
                    path.pop();
                }
            }
        },
        _ => {
            if !path.is_empty() {
                set.insert(path.clone());
            }
        }
    }
}

/// The value at `path` in `object`, if present.
pub fn value_at<'v>(object: &'v Value, path: &[Step], shape: Shape) -> Option<&'v Value> {
    let mut current = object;
    let mut shape = shape;
    for step in path {
        match step {
            Step::Field(name) => {
                current = current.get(name)?;
                shape = shape.field(name);
            }
            Step::Key(key) | Step::Value(key) => {
                let items = current.as_array()?;
                current = find_item(items, step, key, shape)?.1;
                shape = shape.items();
            }
        }
    }
    Some(current)
}

fn find_item<'v>(
    items: &'v [Value],
    step: &Step,
    key: &str,
    shape: Shape,
) -> Option<(usize, &'v Value)> {
    match (step, shape.list_kind(items)) {
        (Step::Key(_), ListKind::Map(keys)) => items
            .iter()
            .enumerate()
            .find(|(_, item)| item_key(item, &keys).is_some_and(|k| k.to_string().as_str() == key)),
        (Step::Value(_), _) => items
            .iter()
            .enumerate()
            .find(|(_, item)| item.to_string().as_str() == key),
        _ => None,
    }
}

/// Removes the value at `path`; removing a list item removes it from its list.
pub fn remove_at(object: &mut Value, path: &[Step], shape: Shape) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = object;
    let mut shape = shape;
    for step in parents {
        let next = match step {
            Step::Field(name) => {
                shape = shape.field(name);
                current.get_mut(name)
            }
            Step::Key(key) | Step::Value(key) => {
                let index = current
                    .as_array()
                    .and_then(|items| find_item(items, step, key, shape))
                    .map(|(i, _)| i);
                shape = shape.items();
                index.and_then(|i| current.get_mut(i))
            }
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    match last {
        Step::Field(name) => {
            if let Some(map) = current.as_object_mut() {
                map.remove(name);
            }
        }
        Step::Key(key) | Step::Value(key) => {
            let index = current
                .as_array()
                .and_then(|items| find_item(items, last, key, shape))
                .map(|(i, _)| i);
            if let (Some(i), Some(items)) = (index, current.as_array_mut()) {
                items.remove(i);
            }
        }
    }
}

/// How a path reads in a conflict message: `.spec.template.spec.containers[name="app"].image`.
pub fn display_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Key(key) => {
                let key: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
                let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            Step::Value(value) => out.push_str(&format!("[={value}]")),
        }
    }
    out
}

/// The `fieldsV1` encoding of a set.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for step in path {
            let key = match step {
                Step::Field(name) => format!("f:{name}"),
                Step::Key(key) => format!("k:{key}"),
                Step::Value(value) => format!("v:{value}"),
            };
            node = node
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("field set nodes are objects");
        }
    }
    mark_members(&mut root, set, &mut Vec::new());
    Value::Object(root)
}

fn mark_members(node: &mut Map<String, Value>, set: &FieldSet, path: &mut Path) {
    for (key, child) in node.iter_mut() {
        let Some(step) = parse_step(key) else {
            continue;
        };
        path.push(step);
        if let Value::Object(child) = child {
            let has_children = child.keys().any(|k| k != ".");
            if set.contains(path) && has_children {
                child.insert(".".into(), Value::Object(Map::new()));
            }
            mark_members(child, set, path);
        }
        path.pop();
    }
}

fn parse_step(key: &str) -> Option<Step> {
    if let Some(name) = key.strip_prefix("f:") {
        Some(Step::Field(name.into()))
    } else if let Some(k) = key.strip_prefix("k:") {
        Some(Step::Key(canonical(k)))
    } else {
        key.strip_prefix("v:").map(|v| Step::Value(canonical(v)))
    }
}

/// Re-serialises JSON so keys are sorted and spacing is uniform.
fn canonical(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| text.to_string())
}

/// The set encoded by a `fieldsV1` value.
pub fn from_fields_v1(value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    decode(value, &mut Vec::new(), &mut set);
    set
}

fn decode(value: &Value, path: &mut Path, set: &mut FieldSet) {
    let Some(map) = value.as_object() else {
        return;
    };
    let children: Vec<_> = map.iter().filter(|(k, _)| *k != ".").collect();
    if !path.is_empty() && (children.is_empty() || map.contains_key(".")) {
        set.insert(path.clone());
    }
    for (key, child) in children {
        if let Some(step) = parse_step(key) {
            path.push(step);
            decode(child, path, set);
            path.pop();
        }
    }
}

/// Whether `path` holds a scalar or atomic value in `object` (the only paths whose values conflict).
pub fn is_leaf(set: &FieldSet, path: &Path) -> bool {
    !set.range(path.clone()..)
        .nth(1)
        .is_some_and(|next| next.starts_with(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn update_sets_mark_maps_and_apply_sets_do_not() {
        let object = json!({"metadata": {"labels": {"app": "x"}}, "data": {"k": "v"}});
        let update = field_set(&object, Shape::root(None), Granularity::AllNodes);
        assert_eq!(
            to_fields_v1(&update),
            json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}})
        );
        let apply = field_set(&object, Shape::root(None), Granularity::Leaves);
        assert_eq!(
            to_fields_v1(&apply),
            json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
        );
        assert_eq!(from_fields_v1(&to_fields_v1(&update)), update);
        assert_eq!(from_fields_v1(&to_fields_v1(&apply)), apply);
    }

    #[test]
    fn keyed_list_items_are_members_with_children() {
        let object = json!({"spec": {"containers": [
            {"name": "app", "image": "a:1", "ports": [{"containerPort": 8080, "name": "http"}]}
        ], "selector": {"matchLabels": {"app": "x"}}}});
        let set = field_set(&object, Shape::root(None), Granularity::Leaves);
        assert_eq!(
            to_fields_v1(&set),
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {},
                "f:name": {}, "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":
                {".": {}, "f:containerPort": {}, "f:name": {}}}}}, "f:selector": {}}})
        );
        let image = vec![
            Step::Field("spec".into()),
            Step::Field("containers".into()),
            Step::Key(json!({"name": "app"}).to_string()),
            Step::Field("image".into()),
        ];
        assert_eq!(
            value_at(&object, &image, Shape::root(None)),
            Some(&json!("a:1"))
        );
        assert_eq!(display_path(&image), ".spec.containers[name=\"app\"].image");
        let mut removed = object.clone();
        remove_at(&mut removed, &image[..3], Shape::root(None));
        assert_eq!(removed["spec"]["containers"], json!([]));
    }
}
