//! `metadata.managedFields` bookkeeping and server-side apply. An Update (create, PUT, any
//! non-apply patch) gives its manager the fields it changed and takes them from everyone else; an
//! Apply declares the whole set its manager owns: applied values conflict with other owners unless
//! forced, and fields the manager applied before and no longer applies are removed when nobody
//! else owns them — with the struct sections above them that nobody owns any more, defaults and
//! all, as structured-merge-diff prunes.

use crate::error::{ApiError, Cause};
use crate::fields::{
    FieldSet, Granularity, Path, Step, display_path, field_set, from_fields_v1, is_leaf, ownable,
    remove_at, to_fields_v1, value_at,
};
use crate::shape::{ListKind, Shape, item_key};
use serde_json::{Map, Value, json};

/// Who is writing, and through which subresource.
#[derive(Clone, Debug)]
pub struct Writer<'a> {
    /// The field manager (from `fieldManager`, else the User-Agent's program name).
    pub manager: &'a str,
    /// `status` for writes through the status subresource.
    pub subresource: Option<&'a str>,
    /// The API version the request used.
    pub api_version: &'a str,
    /// The current time, RFC 3339 to the second.
    pub time: &'a str,
    /// Whether the resource has a status subresource (status is then not owned by main writes).
    pub has_status_subresource: bool,
}

impl Writer<'_> {
    fn status_only(&self) -> bool {
        self.subresource == Some("status")
    }
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: Option<String>,
    set: FieldSet,
}

impl Entry {
    fn is(&self, writer: &Writer, operation: &str) -> bool {
        self.manager == writer.manager
            && self.operation == operation
            && self.subresource.as_deref() == writer.subresource
    }

    /// How a conflict names this manager: `"A"`, or `"editor" using v1` for Update entries.
    fn label(&self) -> String {
        if self.operation == "Apply" {
            format!("\"{}\"", self.manager)
        } else {
            format!("\"{}\" using {}", self.manager, self.api_version)
        }
    }
}

fn read_entries(object: &Value) -> Vec<Entry> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation: e.get("operation")?.as_str()?.to_string(),
                api_version: e
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                time: e.get("time").and_then(Value::as_str).map(String::from),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(String::from),
                set: e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
            })
        })
        .collect()
}

fn write_entries(object: &mut Value, entries: Vec<Entry>) {
    let encoded: Vec<Value> = entries
        .into_iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut entry = Map::new();
            entry.insert("manager".into(), json!(e.manager));
            entry.insert("operation".into(), json!(e.operation));
            entry.insert("apiVersion".into(), json!(e.api_version));
            if let Some(time) = e.time {
                entry.insert("time".into(), json!(time));
            }
            entry.insert("fieldsType".into(), json!("FieldsV1"));
            entry.insert("fieldsV1".into(), to_fields_v1(&e.set));
            if let Some(sub) = e.subresource {
                entry.insert("subresource".into(), json!(sub));
            }
            Value::Object(entry)
        })
        .collect();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if encoded.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(encoded));
        }
    }
}

fn upsert<'e>(entries: &'e mut Vec<Entry>, writer: &Writer, operation: &str) -> &'e mut Entry {
    if let Some(i) = entries.iter().position(|e| e.is(writer, operation)) {
        return &mut entries[i];
    }
    entries.push(Entry {
        manager: writer.manager.to_string(),
        operation: operation.to_string(),
        api_version: writer.api_version.to_string(),
        time: None,
        subresource: writer.subresource.map(String::from),
        set: FieldSet::new(),
    });
    entries.last_mut().expect("just pushed")
}

/// Records an Update by `writer` that turned `old` (None on create) into `new`: the writer takes
/// the fields it changed, and fields that disappeared leave every entry. The entries are based on
/// the stored object's, whatever the request body carried.
pub fn record_update(old: Option<&Value>, new: &mut Value, writer: &Writer, shape: Shape) {
    let status_only = writer.status_only();
    let new_own = ownable(new, status_only, writer.has_status_subresource);
    let old_own = old
        .map(|o| ownable(o, status_only, writer.has_status_subresource))
        .unwrap_or_else(|| json!({}));
    let new_set = field_set(&new_own, shape, Granularity::AllNodes);
    let old_set = field_set(&old_own, shape, Granularity::AllNodes);
    let changed: FieldSet = new_set
        .iter()
        .filter(|p| {
            !old_set.contains(*p)
                || (is_leaf(&new_set, p)
                    && value_at(&new_own, p, shape) != value_at(&old_own, p, shape))
        })
        .cloned()
        .collect();
    let removed: FieldSet = old_set.difference(&new_set).cloned().collect();
    let mut entries = old.map(read_entries).unwrap_or_default();
    for entry in &mut entries {
        if !entry.is(writer, "Update") {
            entry.set.retain(|p| !changed.contains(p));
        }
        entry.set.retain(|p| !removed.contains(p));
    }
    if !changed.is_empty() {
        let entry = upsert(&mut entries, writer, "Update");
        entry.set.extend(changed);
        entry.time = Some(writer.time.to_string());
    }
    write_entries(new, entries);
}

/// Server-side apply of `applied` by `writer` onto `live` (an empty object when creating).
/// Returns the merged object with its managedFields, or the 409 listing the conflicts.
pub fn apply(
    live: &Value,
    applied: &Value,
    writer: &Writer,
    force: bool,
    shape: Shape,
) -> Result<Value, ApiError> {
    let status_only = writer.status_only();
    let applied_own = ownable(applied, status_only, writer.has_status_subresource);
    let live_own = ownable(live, status_only, writer.has_status_subresource);
    let declared = field_set(&applied_own, shape, Granularity::Leaves);
    let mut entries = read_entries(live);

    let mut conflicts: Vec<(usize, Path)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if entry.manager == writer.manager {
            continue;
        }
        for path in declared.intersection(&entry.set) {
            let live_value = value_at(&live_own, path, shape);
            if is_leaf(&declared, path)
                && live_value.is_some()
                && live_value != value_at(&applied_own, path, shape)
            {
                conflicts.push((i, path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(&entries, &conflicts));
    }
    for (i, path) in &conflicts {
        entries[*i].set.remove(path);
    }

    let previous = entries
        .iter()
        .find(|e| e.is(writer, "Apply"))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let mut merged = live.clone();
    let mut owned = declared.clone();
    for entry in entries.iter().filter(|e| !e.is(writer, "Apply")) {
        owned.extend(entry.set.iter().cloned());
    }
    let owned = with_struct_ancestors(&owned, shape);
    let candidates = with_struct_ancestors(&previous, shape);
    let mut dropped: Vec<&Path> = candidates.difference(&owned).collect();
    dropped.sort_by_key(|p| p.len());
    for path in dropped {
        remove_at(&mut merged, path, shape);
    }
    merge(&mut merged, &applied_own, shape);
    let entry = upsert(&mut entries, writer, "Apply");
    entry.set = declared;
    entry.time = Some(writer.time.to_string());
    write_entries(&mut merged, entries);
    Ok(merged)
}

/// Built-in fields that are maps (`map[string]…` in the Kubernetes types): their keys are not
/// struct fields.
const BUILTIN_MAPS: &[&str] = &[
    "labels",
    "annotations",
    "data",
    "binaryData",
    "stringData",
    "matchLabels",
    "nodeSelector",
    "selector",
    "limits",
    "requests",
    "capacity",
    "allocatable",
    "parameters",
    "volumeAttributes",
];

/// Whether field `name` of an object at `parent` is a struct field (a schema `properties`
/// entry), not a map key.
fn is_struct_field(parent: Shape, name: &str) -> bool {
    match parent {
        Shape::SchemaRoot(_) => true,
        Shape::Schema(node) => node
            .and_then(|n| n.get("properties"))
            .is_some_and(|p| p.get(name).is_some()),
        Shape::Builtin(parent) => !BUILTIN_MAPS.contains(&parent),
    }
}

/// The set plus every struct-field and keyed-list-item ancestor of its paths, as
/// structured-merge-diff's `EnsureNamedFieldsAreMembers` makes them: a manager that owned
/// `spec.tls.mode` owned the `spec.tls` struct (and `spec`), so dropping all of it removes the
/// whole section; one that owned a container's fields owned the container.
fn with_struct_ancestors(set: &FieldSet, shape: Shape) -> FieldSet {
    let mut out = set.clone();
    for path in set {
        let mut at = shape;
        for (i, step) in path.iter().enumerate() {
            match step {
                Step::Field(name) => {
                    // Applied bodies always carry metadata.name: metadata stays owned.
                    let identity = i == 0 && name == "metadata";
                    if i + 1 < path.len() && !identity && is_struct_field(at, name) {
                        out.insert(path[..=i].to_vec());
                    }
                    at = at.field(name);
                }
                Step::Key(_) => {
                    // A manager that owned fields of a keyed list item owned the item (`.` in
                    // managedFields): dropping all of them removes the item, not its key alone.
                    if i + 1 < path.len() {
                        out.insert(path[..=i].to_vec());
                    }
                    at = at.items();
                }
                Step::Value(_) => at = at.items(),
            }
        }
    }
    out
}

fn conflict_error(entries: &[Entry], conflicts: &[(usize, Path)]) -> ApiError {
    let causes: Vec<Cause> = conflicts
        .iter()
        .map(|(i, path)| {
            Cause::new(
                "FieldManagerConflict",
                display_path(path),
                format!("conflict with {}", entries[*i].label()),
            )
        })
        .collect();
    let listed: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.message, c.field))
        .collect();
    let plural = if causes.len() == 1 { "" } else { "s" };
    let message = format!(
        "Apply failed with {} conflict{plural}: {}",
        causes.len(),
        listed.join("\n")
    );
    let mut error = ApiError::status(409, Some("Conflict"), &message, None);
    error.body["details"] = json!({"causes": causes.iter().map(|c| json!({
        "reason": c.reason, "message": c.message, "field": c.field})).collect::<Vec<_>>()});
    error
}

/// Merges an applied configuration into a live object: maps by key, keyed lists by item key,
/// sets by value, everything else replaced.
fn merge(live: &mut Value, applied: &Value, shape: Shape) {
    match applied {
        Value::Object(fields) if live.is_object() && !shape.atomic_map(applied) => {
            let live = live.as_object_mut().expect("checked");
            for (key, value) in fields {
                match live.get_mut(key) {
                    Some(existing) => merge(existing, value, shape.field(key)),
                    None => {
                        live.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        Value::Array(items) if live.is_array() => {
            let kind = shape.list_kind(items);
            let live_items = live.as_array_mut().expect("checked");
            match kind {
                ListKind::Map(keys) => {
                    for item in items {
                        let key = item_key(item, &keys);
                        match live_items.iter().position(|x| item_key(x, &keys) == key) {
                            Some(i) => merge(&mut live_items[i], item, shape.items()),
                            None => live_items.push(item.clone()),
                        }
                    }
                }
                ListKind::Set => {
                    for item in items {
                        if !live_items.contains(item) {
                            live_items.push(item.clone());
                        }
                    }
                }
                ListKind::Atomic => *live = applied.clone(),
            }
        }
        _ => *live = applied.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            subresource: None,
            api_version: "v1",
            time: "2026-11-21T00:00:00Z",
            has_status_subresource: false,
        }
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data})
    }

    #[test]
    fn the_recorded_apply_sequence() {
        let shape = Shape::root(None);
        let live = apply(
            &json!({"metadata": {}}),
            &cm(json!({"a": "1", "b": "2"})),
            &writer("A"),
            false,
            shape,
        )
        .unwrap();
        let error = apply(&live, &cm(json!({"b": "3"})), &writer("B"), false, shape).unwrap_err();
        assert_eq!(
            error.body["message"],
            "Apply failed with 1 conflict: conflict with \"A\": .data.b"
        );
        let shared = apply(&live, &cm(json!({"b": "2"})), &writer("B"), false, shape).unwrap();
        let forced = apply(&shared, &cm(json!({"b": "3"})), &writer("B"), true, shape).unwrap();
        assert_eq!(forced["data"], json!({"a": "1", "b": "3"}));
        let dropped = apply(&forced, &cm(json!({"c": "4"})), &writer("A"), false, shape).unwrap();
        assert_eq!(dropped["data"], json!({"b": "3", "c": "4"}));
        let managers: Vec<_> = dropped["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["manager"].clone(), e["fieldsV1"].clone()))
            .collect();
        assert_eq!(
            managers,
            vec![
                (json!("A"), json!({"f:data": {"f:c": {}}})),
                (json!("B"), json!({"f:data": {"f:b": {}}}))
            ]
        );

        let mut edited = dropped.clone();
        edited["data"]["c"] = json!("5");
        record_update(Some(&dropped), &mut edited, &writer("editor"), shape);
        let error = apply(&edited, &cm(json!({"c": "4"})), &writer("A"), false, shape).unwrap_err();
        assert_eq!(
            error.body["message"],
            "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.c"
        );
    }

    #[test]
    fn a_dropped_section_goes_with_its_defaults_unless_someone_else_owns_part_of_it() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"replicas": {"type": "integer"},
                "tls": {"type": "object", "properties": {"mode": {"type": "string"},
                    "secretName": {"type": "string"}, "issuer": {"type": "string"}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}}});
        let shape = Shape::root(Some(&schema));
        let body = |spec: Value| json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "w"}, "spec": spec});
        let mut live = apply(
            &json!({"metadata": {}}),
            &body(json!({"replicas": 1, "tls": {"secretName": "s"}, "labels": {"a": "1"}})),
            &writer("A"),
            false,
            shape,
        )
        .unwrap();
        live["spec"]["tls"]["mode"] = json!("auto"); // a default nobody owns
        let dropped = apply(
            &live,
            &body(json!({"replicas": 1})),
            &writer("A"),
            false,
            shape,
        )
        .unwrap();
        assert_eq!(dropped["spec"], json!({"replicas": 1}));

        let shared = apply(
            &live,
            &body(json!({"tls": {"issuer": "i"}})),
            &writer("B"),
            false,
            shape,
        )
        .unwrap();
        let kept = apply(
            &shared,
            &body(json!({"replicas": 1})),
            &writer("A"),
            false,
            shape,
        )
        .unwrap();
        assert_eq!(
            kept["spec"],
            json!({"replicas": 1, "tls": {"issuer": "i", "mode": "auto"}})
        );
    }
}
