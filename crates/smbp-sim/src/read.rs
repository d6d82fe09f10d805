//! get and list: selectors, `limit`/`continue` paging, resourceVersion semantics of lists, and the
//! alternative representations kubectl and kube-rs ask for through `Accept` (Table,
//! PartialObjectMetadata).

use crate::error::ApiError;
use crate::request::{ApiRequest, Reply, meta_str, served};
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::Sim;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// GET of one object.
pub fn get(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let rt = &req.rt;
    let key = req.object_key();
    let object = sim
        .store()
        .get(&rt.storage_key(), &key)
        .ok_or_else(|| ApiError::not_found(rt, &key.1))?;
    let object = served(rt, &object);
    let body = if wants(req, "Table") {
        table(
            rt,
            &[object],
            &sim.store().resource_version().to_string(),
            req,
        )
    } else if wants(req, "PartialObjectMetadata") {
        partial(&object)
    } else {
        object
    };
    Ok(Reply::new(200, body))
}

/// Whether the Accept header asks for representation `kind` (`as=Table`, ...).
pub fn wants(req: &ApiRequest, kind: &str) -> bool {
    req.accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains(&format!("as={kind}")))
}

/// An object as a list item: built-in lists carry no kind/apiVersion on their items.
pub fn list_item(rt: &ResourceType, object: &Value) -> Value {
    let mut item = served(rt, object);
    if !rt.custom
        && let Some(fields) = item.as_object_mut()
    {
        fields.remove("kind");
        fields.remove("apiVersion");
    }
    item
}

fn partial(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or(json!({}))})
}

/// A continue token: where the next page starts, and the list's resourceVersion.
fn encode_continue(rv: u64, after: &str) -> String {
    BASE64.encode(json!({"rv": rv, "start": after}).to_string())
}

fn decode_continue(token: &str) -> Option<(u64, String)> {
    let bytes = BASE64.decode(token).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    Some((value["rv"].as_u64()?, value["start"].as_str()?.to_string()))
}

/// The selectors of a list or watch request.
pub fn selectors(req: &ApiRequest) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(req.param("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(&e))?;
    let fields = FieldSelector::parse(
        req.param("fieldSelector").unwrap_or(""),
        &req.rt.field_selectors,
        req.rt.custom,
    )
    .map_err(|e| ApiError::bad_request(&e))?;
    Ok((labels, fields))
}

/// LIST.
pub fn list(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let rt = &req.rt;
    let (labels, fields) = selectors(req)?;
    let resource_version = req.param("resourceVersion").unwrap_or("");
    let token = req.param("continue").filter(|c| !c.is_empty());
    if req
        .param("resourceVersionMatch")
        .is_some_and(|m| !m.is_empty())
        && resource_version.is_empty()
    {
        return Err(ApiError::invalid_options(
            "ListOptions",
            &[crate::error::Cause::new(
                "FieldValueForbidden",
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            )],
        ));
    }
    if token.is_some() && !resource_version.is_empty() {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    let store = sim.store();
    let current = store.resource_version();
    if let Ok(asked) = resource_version.parse::<u64>() {
        if asked > current {
            return Err(ApiError::timeout(
                &format!("Too large resource version: {asked}, current: {current}"),
                1,
            ));
        }
        if req.param("resourceVersionMatch") == Some("Exact") && asked != current {
            return Err(ApiError::expired(&format!(
                "The resourceVersion for the provided list is too old. Requested: {asked}, current: {current}"
            )));
        }
    }
    let start_after = match token {
        Some(token) => {
            let (rv, start) = decode_continue(token)
                .ok_or_else(|| ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
            if rv < store.oldest_servable() {
                let mut error = ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                );
                error.body["metadata"] = json!({"continue": encode_continue(current, &start)});
                return Err(error);
            }
            Some(start)
        }
        None => None,
    };
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|&l| l > 0 && resource_version != "0");
    let namespace = req.namespace.as_deref().filter(|_| rt.namespaced);
    let selected: Vec<Arc<Value>> = store
        .list(&rt.storage_key(), namespace)
        .into_iter()
        .filter(|o| {
            start_after
                .as_ref()
                .is_none_or(|after| position(o).as_str() > after.as_str())
        })
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    drop(store);
    let total = selected.len();
    let page: Vec<Arc<Value>> = match limit {
        Some(limit) => selected.into_iter().take(limit).collect(),
        None => selected,
    };
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".into(), json!(current.to_string()));
    if total > page.len() {
        let last = page.last().map(|o| position(o)).unwrap_or_default();
        metadata.insert("continue".into(), json!(encode_continue(current, &last)));
        if labels.is_empty() && fields.is_empty() {
            metadata.insert("remainingItemCount".into(), json!(total - page.len()));
        }
    } else if rt.custom {
        metadata.insert("continue".into(), json!(""));
    }
    let body = if wants(req, "Table") {
        let objects: Vec<Value> = page.iter().map(|o| served(rt, o)).collect();
        table(rt, &objects, &current.to_string(), req)
    } else if wants(req, "PartialObjectMetadataList") {
        json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata, "items": page.iter().map(|o| partial(o)).collect::<Vec<_>>()})
    } else {
        json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(),
            "metadata": metadata, "items": page.iter().map(|o| list_item(rt, o)).collect::<Vec<_>>()})
    };
    Ok(Reply::new(200, body))
}

/// The sort position of an object: `namespace/name`.
fn position(object: &Value) -> String {
    format!(
        "{}/{}",
        meta_str(object, "namespace").unwrap_or_default(),
        meta_str(object, "name").unwrap_or_default()
    )
}

/// A `meta.k8s.io/v1` Table: Name, the CRD's printer columns, Age.
fn table(rt: &ResourceType, objects: &[Value], rv: &str, req: &ApiRequest) -> Value {
    let mut columns = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": "Name must be unique within a namespace.", "priority": 0})];
    for column in &rt.printer_columns {
        columns.push(json!({"name": column["name"], "type": column["type"],
            "format": column.get("format").cloned().unwrap_or(json!("")),
            "description": column.get("description").cloned().unwrap_or(json!("")),
            "priority": column.get("priority").cloned().unwrap_or(json!(0))}));
    }
    let age_in_columns = rt
        .printer_columns
        .iter()
        .any(|c| c["jsonPath"] == ".metadata.creationTimestamp");
    if !age_in_columns {
        columns.push(json!({"name": "Age", "type": "date", "format": "",
            "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0}));
    }
    let include = req.param("includeObject").unwrap_or("Metadata");
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut cells = vec![json!(meta_str(object, "name").unwrap_or_default())];
            for column in &rt.printer_columns {
                let path = column["jsonPath"].as_str().unwrap_or("");
                let value = json_path(object, path).unwrap_or(Value::Null);
                cells.push(if column["type"] == "date" {
                    json!(value.as_str().map(age).unwrap_or_default())
                } else {
                    value
                });
            }
            if !age_in_columns {
                cells.push(json!(
                    meta_str(object, "creationTimestamp")
                        .map(age)
                        .unwrap_or_default()
                ));
            }
            let mut row = json!({"cells": cells});
            match include {
                "None" => {}
                "Object" => row["object"] = object.clone(),
                _ => row["object"] = partial(object),
            }
            row
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns, "rows": rows})
}

/// The two JSONPath forms printer columns use: `.a.b` and `.a[?(@.k=="v")].b`.
fn json_path(object: &Value, path: &str) -> Option<Value> {
    let mut current = object.clone();
    let mut rest = path.strip_prefix('.')?;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (field, tail) = rest.split_at(end);
        if !field.is_empty() {
            current = current.get(field)?.clone();
        }
        rest = tail;
        if let Some(filter) = rest.strip_prefix("[?(@.") {
            let close = filter.find(")]")?;
            let (key, wanted) = filter[..close].split_once("==")?;
            let wanted = wanted.trim_matches(|c| c == '"' || c == '\'');
            current = current
                .as_array()?
                .iter()
                .find(|item| item.get(key).and_then(Value::as_str) == Some(wanted))?
                .clone();
            rest = &filter[close + 2..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Some(current)
}

/// kubectl's short age: `45s`, `3m`, `5h`, `2d`.
fn age(timestamp: &str) -> String {
    let Ok(then) = timestamp.parse::<jiff::Timestamp>() else {
        return String::new();
    };
    let seconds = (jiff::Timestamp::now().as_second() - then.as_second()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_column_paths() {
        let object = json!({"status": {"phase": "Ready", "conditions": [
            {"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(json_path(&object, ".status.phase"), Some(json!("Ready")));
        assert_eq!(
            json_path(&object, ".status.conditions[?(@.type==\"Ready\")].status"),
            Some(json!("True"))
        );
        assert_eq!(json_path(&object, ".spec.missing"), None);
    }

    #[test]
    fn continue_tokens_round_trip() {
        let token = encode_continue(42, "ns/name");
        assert_eq!(decode_continue(&token), Some((42, "ns/name".into())));
        assert_eq!(decode_continue("not base64!"), None);
    }
}
