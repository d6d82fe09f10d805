//! The three non-apply patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! strategic merge patch, the last with the built-in list keys `shape` knows (`$patch: delete`,
//! `$patch: replace`, `$setElementOrder/<list>`, `$retainKeys`).

use crate::error::ApiError;
use crate::shape::{ListKind, Shape, item_key};
use serde_json::{Map, Value};

/// The content types a PATCH may carry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// The patch type of a Content-Type header, ignoring parameters.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// The 415 for a content type a resource does not accept as a patch.
pub fn unsupported(custom: bool) -> ApiError {
    let accepted = if custom {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    } else {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
    };
    ApiError::unsupported_media_type(&format!(
        "the body of the request was in an unknown format - accepted media types include: {accepted}"
    ))
}

/// The 415 for a PATCH whose Content-Type is not a patch type at all (e.g. `application/json`).
pub fn not_a_patch() -> ApiError {
    ApiError::status(
        415,
        Some("UnsupportedMediaType"),
        "415: Unsupported Media Type",
        Some(Value::Object(Map::new())),
    )
}

/// A JSON merge patch applied to `target`.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let mut out = target.clone();
    json_patch::merge(&mut out, patch);
    out
}

/// The generic 422 kube-apiserver answers for a JSON patch that cannot be applied.
fn json_patch_failed() -> ApiError {
    ApiError::status(
        422,
        Some("Invalid"),
        "the server rejected our request due to an error in our request",
        Some(Value::Object(Map::new())),
    )
}

/// A JSON patch applied to `target`.
pub fn json_patch(target: &Value, patch: &Value) -> Result<Value, ApiError> {
    if !patch.is_array() {
        return Err(ApiError::bad_request(
            "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp",
        ));
    }
    let operations: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|_| json_patch_failed())?;
    let mut out = target.clone();
    // `replace` of a missing object key succeeds in kube-apiserver (it behaves as `add`).
    let operations = json_patch::Patch(
        operations
            .0
            .into_iter()
            .map(|op| match op {
                json_patch::PatchOperation::Replace(r)
                    if out.pointer(r.path.as_str()).is_none() =>
                {
                    json_patch::PatchOperation::Add(json_patch::AddOperation {
                        path: r.path,
                        value: r.value,
                    })
                }
                other => other,
            })
            .collect(),
    );
    json_patch::patch(&mut out, &operations).map_err(|_| json_patch_failed())?;
    Ok(out)
}

/// A strategic merge patch applied to `target` (built-in resources only).
pub fn strategic_merge(target: &Value, patch: &Value, shape: Shape) -> Result<Value, ApiError> {
    let mut out = target.clone();
    smp(&mut out, patch, shape)?;
    Ok(out)
}

fn smp(target: &mut Value, patch: &Value, shape: Shape) -> Result<(), ApiError> {
    let Value::Object(patch_fields) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    if patch_fields.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = patch.clone();
        replacement
            .as_object_mut()
            .expect("object")
            .remove("$patch");
        *target = replacement;
        return Ok(());
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let orders: Vec<(String, Vec<Value>)> = patch_fields
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.strip_prefix("$setElementOrder/")?.to_string(),
                v.as_array()?.clone(),
            ))
        })
        .collect();
    let target_fields = target.as_object_mut().expect("made an object");
    if let Some(retain) = patch_fields.get("$retainKeys").and_then(Value::as_array) {
        target_fields.retain(|k, _| retain.iter().any(|r| r.as_str() == Some(k.as_str())));
    }
    for (key, value) in patch_fields {
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            target_fields.remove(key);
            continue;
        }
        let child_shape = shape.field(key);
        match (target_fields.get_mut(key), value) {
            (Some(existing @ Value::Array(_)), Value::Array(items)) => {
                merge_list(existing, items, child_shape)?;
            }
            (Some(existing @ Value::Object(_)), Value::Object(_))
                if !child_shape.atomic_map(value) =>
            {
                smp(existing, value, child_shape)?;
            }
            (_, Value::Array(items)) => {
                let mut fresh = Value::Array(Vec::new());
                merge_list(&mut fresh, items, child_shape)?;
                target_fields.insert(key.clone(), fresh);
            }
            (_, value) => {
                let mut fresh = Value::Object(Map::new());
                if value.is_object() {
                    smp(&mut fresh, value, child_shape)?;
                } else {
                    fresh = value.clone();
                }
                target_fields.insert(key.clone(), fresh);
            }
        }
    }
    for (list, order) in orders {
        if let Some(Value::Array(items)) = target_fields.get_mut(&list) {
            reorder(items, &order, shape.field(&list));
        }
    }
    Ok(())
}

/// A JSON value as Go's `fmt` prints the decoded `interface{}` (`map[image:x port:80]`), for
/// messages kube-apiserver builds with `%v`.
fn go_value(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::String(text) => text.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_value).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{key}:{}", go_value(value)))
                .collect();
            entries.sort();
            format!("map[{}]", entries.join(" "))
        }
        other => other.to_string(),
    }
}

fn merge_list(target: &mut Value, items: &[Value], shape: Shape) -> Result<(), ApiError> {
    let existing = target.as_array().cloned().unwrap_or_default();
    let kind = shape.list_kind(if existing.is_empty() {
        items
    } else {
        &existing
    });
    let merged = match kind {
        ListKind::Map(keys) => {
            let mut merged = existing;
            for item in items {
                let Some(key) = item_key(item, &keys[..1]) else {
                    return Err(ApiError::internal(&format!(
                        "map: {} does not contain declared merge key: {}",
                        go_value(item),
                        keys[0]
                    )));
                };
                let position = merged
                    .iter()
                    .position(|x| item_key(x, &keys[..1]).as_ref() == Some(&key));
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, delete) {
                    (Some(i), true) => {
                        merged.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => smp(&mut merged[i], item, shape.items())?,
                    (None, false) => merged.push(item.clone()),
                }
            }
            merged
        }
        ListKind::Set => {
            let mut merged = existing;
            for item in items {
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            merged
        }
        ListKind::Atomic => items.to_vec(),
    };
    *target = Value::Array(merged);
    Ok(())
}

/// Orders `items` as `order` lists them (by merge key); unlisted items keep their place after.
fn reorder(items: &mut [Value], order: &[Value], shape: Shape) {
    let ListKind::Map(keys) = shape.list_kind(items) else {
        return;
    };
    let rank = |item: &Value| {
        order
            .iter()
            .position(|o| item_key(o, &keys[..1]) == item_key(item, &keys[..1]))
            .unwrap_or(order.len())
    };
    items.sort_by_key(rank);
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_print_as_go_prints_them() {
        let value = serde_json::json!({"name": null, "image": "x:1", "ports": [80, 443], "env": {"a": true}});
        assert_eq!(
            super::go_value(&value),
            "map[env:map[a:true] image:x:1 name:<nil> ports:[80 443]]"
        );
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let deployment = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}]},
            {"name": "side", "image": "s:1"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "2"}]},
            {"name": "side", "$patch": "delete"}
        ]}}}});
        let out = strategic_merge(&deployment, &patch, Shape::root(None)).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}])
        );
        let missing_key = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert_eq!(
            strategic_merge(&deployment, &missing_key, Shape::root(None))
                .unwrap_err()
                .code,
            500
        );
    }

    #[test]
    fn json_patch_failures_are_generic_422s() {
        let object = json!({"data": {"a": "1"}});
        let failing = json!([{"op": "test", "path": "/data/a", "value": "2"}]);
        assert_eq!(json_patch(&object, &failing).unwrap_err().code, 422);
        let replace_missing = json!([{"op": "replace", "path": "/data/b", "value": "2"}]);
        assert_eq!(
            json_patch(&object, &replace_missing).unwrap()["data"]["b"],
            "2"
        );
    }
}
