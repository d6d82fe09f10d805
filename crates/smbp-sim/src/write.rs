//! Create, update (PUT), patch (merge, JSON, strategic, apply) of objects and of their `status`
//! subresource: the object semantics of kube-apiserver — server-set metadata, resourceVersion
//! preconditions, generation bumps only for spec changes, status separation, finalizer rules,
//! schema pruning/defaulting/validation for custom resources, admission webhooks, dry runs.

use crate::admission::{self, Operation};
use crate::error::{ApiError, Cause};
use crate::managed::{self, Writer};
use crate::patch::{self, PatchType};
use crate::request::{ApiRequest, Reply, meta_str, served};
use crate::resources::ResourceType;
use crate::schema;
use crate::shape::Shape;
use crate::sim::Sim;
use crate::store::EventType;
use crate::validation;
use serde_json::{Map, Value, json};
use std::sync::Arc;

fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"].as_object_mut().expect("made an object")
}

fn shape(rt: &ResourceType) -> Shape<'_> {
    Shape::root(rt.schema.as_deref())
}

fn writer<'a>(req: &'a ApiRequest, manager: &'a str, time: &'a str) -> Writer<'a> {
    Writer {
        manager,
        subresource: req.subresource.as_deref(),
        api_version: req.rt.version.as_str(),
        time,
        has_status_subresource: req.rt.status_subresource,
    }
}

/// Checks `apiVersion`/`kind` of a body against the URL's resource. A custom resource of the
/// wrong kind is refused with its content's validation causes too when `with_content` (creates
/// and updates, as recorded).
fn check_type(rt: &ResourceType, object: &Value, with_content: bool) -> Result<(), ApiError> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if rt.custom && !kind.is_empty() && kind != rt.kind {
        let name = meta_str(object, "name").unwrap_or_default();
        let mut causes = vec![Cause::new(
            "FieldValueInvalid",
            "kind",
            format!("Invalid value: \"{kind}\": must be {}", rt.kind),
        )];
        // Still validated, but not defaulted: the defaulter is chosen by the body's kind.
        if let Some(schema) = rt.schema.as_deref().filter(|_| with_content) {
            let mut content = object.clone();
            schema::prune(&mut content, schema);
            causes.extend(schema::validate(
                &content,
                None,
                schema,
                &rt.schema_key,
                false,
            ));
        }
        return Err(ApiError::invalid_named(
            &format!("{kind}.{}", rt.group),
            &rt.group,
            kind,
            name,
            &causes,
        ));
    }
    if !api_version.is_empty() && api_version != rt.api_version() {
        return Err(ApiError::bad_request(&format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    if !kind.is_empty() && kind != rt.kind {
        return Err(ApiError::bad_request(&format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    Ok(())
}

/// The part of an object that bumps `metadata.generation` when it changes.
fn generation_content(rt: &ResourceType, object: &Value) -> Value {
    let mut content = object.clone();
    if let Some(fields) = content.as_object_mut() {
        fields.remove("metadata");
        if rt.status_subresource {
            fields.remove("status");
        }
    }
    content
}

/// Schema work on a custom resource (prune, default, validate) and metadata validation for all
/// resources. Returns the unknown-field warnings.
fn normalize(
    sim: &Sim,
    req: &ApiRequest,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<Vec<String>, ApiError> {
    let rt = &req.rt;
    let name = meta_str(object, "name").unwrap_or_default().to_string();
    let mut warnings = Vec::new();
    let mut causes = validation::metadata(rt, object, &sim.gates);
    if let Some(schema) = rt.schema.as_deref() {
        let pruned = schema::prune(object, schema);
        match req.param("fieldValidation") {
            Some("Strict") if !pruned.is_empty() => {
                return Err(ApiError::bad_request(&format!(
                    "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
                    pruned
                        .iter()
                        .map(|p| format!("unknown field \"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    kind = rt.kind,
                    version = rt.version
                )));
            }
            Some("Ignore") => {}
            _ => warnings.extend(pruned.iter().map(|p| format!("unknown field \"{p}\""))),
        }
        schema::apply_defaults(object, schema);
        let status_only = req.subresource.as_deref() == Some("status");
        causes.extend(schema::validate(
            object,
            old,
            schema,
            &rt.schema_key,
            status_only,
        ));
    } else {
        validation::prepare(rt, object, old, &sim.gates);
        validation::decode(rt, object).map_err(|error| {
            ApiError::bad_request(&format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: {error}",
                kind = rt.kind,
                version = rt.version
            ))
        })?;
        causes.extend(validation::builtin(rt, object, old));
        if (rt.group.as_str(), rt.kind.as_str())
            == ("apiextensions.k8s.io", "CustomResourceDefinition")
        {
            causes.extend(schema::defaults::validate_crd(object));
        }
    }
    if causes.is_empty() {
        Ok(warnings)
    } else {
        Err(ApiError::invalid(rt, &name, &causes))
    }
}

/// POST: creates an object.
pub async fn create(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let body = req.json_body()?;
    check_type(&req.rt, &body, true)?;
    let manager = req.manager();
    let time = sim.clock.now_rfc3339();
    let mut object = body;
    managed::record_update(
        None,
        &mut object,
        &writer(req, &manager, &time),
        shape(&req.rt),
    );
    create_object(sim, req, object).await
}

/// Stores a new object whose managedFields are already recorded.
async fn create_object(
    sim: &Arc<Sim>,
    req: &ApiRequest,
    mut object: Value,
) -> Result<Reply, ApiError> {
    let rt = &req.rt;
    crate::priority::admit_create(sim, rt, &mut object)?;
    {
        let meta = metadata_mut(&mut object);
        if meta.contains_key("resourceVersion") && meta["resourceVersion"] != json!("") {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        if rt.namespaced {
            let namespace = req.namespace.clone().unwrap_or_default();
            match meta.get("namespace").and_then(Value::as_str) {
                Some(given) if !given.is_empty() && given != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    meta.insert("namespace".into(), json!(namespace));
                }
            }
        } else {
            meta.remove("namespace");
        }
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            match meta.get("generateName").and_then(Value::as_str) {
                Some(prefix) if !prefix.is_empty() => {
                    let suffix: String = uuid::Uuid::new_v4()
                        .simple()
                        .to_string()
                        .chars()
                        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                        .take(5)
                        .collect();
                    meta.insert("name".into(), json!(format!("{prefix}{suffix}")));
                }
                _ => {
                    return Err(ApiError::invalid_named(
                        &rt.qualified_kind(),
                        &rt.group,
                        &rt.kind,
                        "",
                        &[Cause::new(
                            "FieldValueRequired",
                            "metadata.name",
                            "Required value: name or generateName is required",
                        )],
                    ));
                }
            }
        }
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(sim.clock.now_rfc3339()));
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        if rt.tracks_generation {
            meta.insert("generation".into(), json!(1));
        }
    }
    if rt.status_subresource
        && let Some(fields) = object.as_object_mut()
    {
        fields.remove("status");
    }
    validation::default_builtin(rt, &mut object);
    validation::default_status_on_create(rt, &mut object);
    drop_empty_metadata(&mut object);
    let warnings = normalize(sim, req, &mut object, None)?;
    let name = meta_str(&object, "name").unwrap_or_default().to_string();
    let namespace = meta_str(&object, "namespace")
        .unwrap_or_default()
        .to_string();
    let mut warnings = warnings;
    warnings
        .extend(admission::review(sim, req, Operation::Create, &name, None, Some(&object)).await?);
    if req.dry_run() {
        return Ok(Reply {
            code: 201,
            body: served(rt, &object),
            warnings,
        });
    }
    let stored = {
        let mut store = sim.store();
        if rt.namespaced {
            match store.get("/namespaces", &(String::new(), namespace.clone())) {
                None => return Err(ApiError::namespace_not_found(&namespace)),
                Some(ns) if ns.pointer("/metadata/deletionTimestamp").is_some() => {
                    return Err(ApiError::forbidden(
                        &format!(
                            "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                            rt.plural
                        ),
                        Some(json!({"name": name, "kind": rt.plural, "causes": [{
                            "reason": "NamespaceTerminating",
                            "message": format!("namespace {namespace} is being terminated"),
                            "field": "metadata.namespace"}]})),
                    ));
                }
                Some(_) => {}
            }
        }
        let key = (namespace.clone(), name.clone());
        if store.get(&rt.storage_key(), &key).is_some() {
            return Err(ApiError::already_exists(rt, &name));
        }
        store.commit(&rt.storage_key(), key, EventType::Added, object)
    };
    crate::lifecycle::after_create(sim, rt, &stored);
    Ok(Reply {
        code: 201,
        body: served(rt, &stored),
        warnings,
    })
}

/// PUT: replaces an object (or its status).
pub async fn update(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let body = req.json_body()?;
    check_type(&req.rt, &body, true)?;
    let name = req.name.clone().unwrap_or_default();
    let body_name = meta_str(&body, "name").unwrap_or_default();
    if body_name != name {
        return Err(ApiError::bad_request(&format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let precondition = meta_str(&body, "resourceVersion").unwrap_or("").to_string();
    if precondition.is_empty() && req.rt.requires_resource_version_on_update {
        return Err(ApiError::invalid_named(
            &req.rt.qualified_plural(),
            &req.rt.group,
            &req.rt.plural,
            &name,
            &[Cause::new(
                "FieldValueInvalid",
                "metadata.resourceVersion",
                "Invalid value: 0: must be specified for an update",
            )],
        ));
    }
    let requested = requests_precondition(&body);
    modify(
        sim,
        req,
        |_current| Ok(body.clone()),
        Mutation::Update,
        requested,
    )
    .await
}

/// What produced the new object, for managedFields.
#[derive(Clone, Copy, PartialEq)]
enum Mutation {
    /// An Update operation: record the fields it changed.
    Update,
    /// An Apply: managedFields were computed by the apply itself.
    Apply,
}

/// PATCH: every patch type, on the object or its status.
pub async fn patch(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    let Some(kind) = PatchType::from_content_type(&req.content_type) else {
        return Err(patch::not_a_patch());
    };
    if kind == PatchType::Strategic && req.rt.custom {
        return Err(patch::unsupported(true));
    }
    if kind == PatchType::Apply {
        return apply(sim, req).await;
    }
    let body = req.json_body()?;
    let rt = req.rt.clone();
    let requested = requests_precondition(&body);
    modify(
        sim,
        req,
        move |current| {
            let patched = match kind {
                PatchType::Merge => patch::merge_patch(current, &body),
                PatchType::Json => patch::json_patch(current, &body)?,
                PatchType::Strategic => patch::strategic_merge(current, &body, shape(&rt))?,
                PatchType::Apply => unreachable!("handled above"),
            };
            Ok(patched)
        },
        Mutation::Update,
        requested,
    )
    .await
}

/// Server-side apply: creates the object when missing.
async fn apply(sim: &Arc<Sim>, req: &ApiRequest) -> Result<Reply, ApiError> {
    if req.param("fieldManager").is_none_or(str::is_empty) {
        return Err(ApiError::invalid_options(
            "PatchOptions",
            &[Cause::new(
                "FieldValueRequired",
                "fieldManager",
                "Required value: is required for apply patch",
            )],
        ));
    }
    let applied: Value = serde_yaml::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(&format!("error decoding YAML: {e}")))?;
    let api_version = applied
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = applied.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version.is_empty() || kind.is_empty() {
        // Go prints a GroupVersionKind as `group/version, Kind=kind`.
        let group_version = if api_version.contains('/') {
            api_version.to_string()
        } else {
            format!("/{api_version}")
        };
        return Err(ApiError::bad_request(&format!(
            "invalid object type: {group_version}, Kind={kind}"
        )));
    }
    check_type(&req.rt, &applied, false)?;
    let name = req.name.clone().unwrap_or_default();
    if let Some(schema) = req.rt.schema.as_deref() {
        let errors = schema::typed::errors(&applied, schema);
        if !errors.is_empty() {
            return Err(ApiError::internal(&format!(
                "failed to create typed patch object (/{name}; {}, Kind={}): {}",
                req.rt.api_version(),
                req.rt.kind,
                schema::typed::joined(&errors)
            )));
        }
    }
    let manager = req.manager();
    let force = req.flag("force");
    let exists = {
        let store = sim.store();
        store
            .get(&req.rt.storage_key(), &req.object_key())
            .is_some()
    };
    if !exists {
        if req.subresource.is_some() {
            return Err(ApiError::not_found(&req.rt, &name));
        }
        crate::auth::authorize_create_on_patch(
            sim,
            &req.user,
            &req.authorization_attributes("create"),
        )?;
        let time = sim.clock.now_rfc3339();
        let mut merged = managed::apply(
            &json!({"metadata": {}}),
            &applied,
            &writer(req, &manager, &time),
            force,
            shape(&req.rt),
        )?;
        metadata_mut(&mut merged).insert("name".into(), json!(name));
        // Stored objects always carry their type, as the in-process controllers read them.
        merged["apiVersion"] = json!(req.rt.api_version());
        merged["kind"] = json!(req.rt.kind);
        return create_object(sim, req, merged).await;
    }
    let rt = req.rt.clone();
    let req_for_apply = req.clone();
    let requested = requests_precondition(&applied);
    modify(
        sim,
        req,
        move |current| {
            let time = sim.clock.now_rfc3339();
            managed::apply(
                current,
                &applied,
                &writer(&req_for_apply, &manager, &time),
                force,
                shape(&rt),
            )
        },
        Mutation::Apply,
        requested,
    )
    .await
}

/// Whether a write asks for a resourceVersion precondition: its object names one, or one of its
/// JSON patch operations touches `/metadata/resourceVersion` (a `test` is the usual lock). A merge
/// result always carries the stored resourceVersion, so it cannot tell.
fn requests_precondition(body: &Value) -> bool {
    match body {
        Value::Array(operations) => operations
            .iter()
            .any(|op| op["path"] == "/metadata/resourceVersion"),
        _ => body
            .pointer("/metadata/resourceVersion")
            .is_some_and(|rv| !rv.is_null()),
    }
}

/// The shared update path: read the current object, compute the new one with `change`, apply
/// kube-apiserver's rules, admit it, and commit if nobody changed the object meanwhile. A write
/// without a resourceVersion precondition is recomputed on the latest object for as long as others
/// keep changing it, as kube-apiserver's `GuaranteedUpdate` does: a patch never answers 409 for a
/// race the client did not ask to lose.
async fn modify(
    sim: &Arc<Sim>,
    req: &ApiRequest,
    change: impl Fn(&Value) -> Result<Value, ApiError>,
    mutation: Mutation,
    precondition_requested: bool,
) -> Result<Reply, ApiError> {
    let rt = &req.rt;
    let key = req.object_key();
    let name = key.1.clone();
    loop {
        let current = sim
            .store()
            .get(&rt.storage_key(), &key)
            .ok_or_else(|| ApiError::not_found(rt, &name))?;
        let current_rv = meta_str(&current, "resourceVersion")
            .unwrap_or("")
            .to_string();
        let mut proposed = change(&current)?;
        let body_name = meta_str(&proposed, "name").unwrap_or_default().to_string();
        if body_name != name {
            return Err(ApiError::bad_request(&format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let precondition = meta_str(&proposed, "resourceVersion")
            .filter(|_| precondition_requested)
            .unwrap_or("")
            .to_string();
        if !precondition.is_empty() {
            if precondition.parse::<u64>().is_err() {
                return Err(ApiError::internal(&format!(
                    "strconv.ParseUint: parsing \"{precondition}\": invalid syntax"
                )));
            }
            if precondition != current_rv {
                return Err(ApiError::conflict_modified(rt, &name));
            }
        }
        let mut new = merge_subresource(req, &current, &mut proposed);
        protect_metadata(&current, &mut new);
        crate::priority::keep_on_update(rt, &mut new, &current);
        validation::default_builtin(rt, &mut new);
        if mutation == Mutation::Update {
            let manager = req.manager();
            let time = sim.clock.now_rfc3339();
            managed::record_update(
                Some(&current),
                &mut new,
                &writer(req, &manager, &time),
                shape(rt),
            );
        }
        if let Some(error) = finalizer_violation(rt, &current, &new) {
            return Err(error);
        }
        let mut warnings = normalize(sim, req, &mut new, Some(&current))?;
        if rt.tracks_generation && generation_content(rt, &new) != generation_content(rt, &current)
        {
            let generation = current
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            metadata_mut(&mut new).insert("generation".into(), json!(generation + 1));
        }
        if unchanged(&current, &new) {
            return Ok(Reply {
                code: 200,
                body: served(rt, &current),
                warnings,
            });
        }
        warnings.extend(
            admission::review(
                sim,
                req,
                Operation::Update,
                &name,
                Some(&current),
                Some(&new),
            )
            .await?,
        );
        if req.dry_run() {
            return Ok(Reply {
                code: 200,
                body: served(rt, &new),
                warnings,
            });
        }
        let finished = new.pointer("/metadata/deletionTimestamp").is_some()
            && new
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        let stored = {
            let mut store = sim.store();
            let latest = store.get(&rt.storage_key(), &key);
            if latest.as_ref().and_then(|l| meta_str(l, "resourceVersion"))
                != Some(current_rv.as_str())
            {
                if latest.is_none() {
                    return Err(ApiError::not_found(rt, &name));
                }
                if !precondition.is_empty() {
                    return Err(ApiError::conflict_modified(rt, &name));
                }
                continue;
            }
            if finished {
                // The update that removes the last finalizer deletes the object; watches see the
                // last stored state (with its old finalizers) as DELETED.
                let response = new.clone();
                store.commit(
                    &rt.storage_key(),
                    key.clone(),
                    EventType::Deleted,
                    (*current).clone(),
                );
                sim.gc_wake.notify_one();
                let mut response = response;
                metadata_mut(&mut response).insert("resourceVersion".into(), json!(current_rv));
                return Ok(Reply {
                    code: 200,
                    body: served(rt, &response),
                    warnings,
                });
            }
            store.commit(&rt.storage_key(), key.clone(), EventType::Modified, new)
        };
        crate::lifecycle::after_update(sim, rt, &stored);
        return Ok(Reply {
            code: 200,
            body: served(rt, &stored),
            warnings,
        });
    }
}

/// For the main resource, status stays as stored; through `/status`, only status changes.
fn merge_subresource(req: &ApiRequest, current: &Value, proposed: &mut Value) -> Value {
    let rt = &req.rt;
    match req.subresource.as_deref() {
        Some("status") => {
            let mut new = current.clone();
            match proposed.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    if let Some(fields) = new.as_object_mut() {
                        fields.remove("status");
                    }
                }
            }
            if let Some(entries) = proposed.pointer("/metadata/managedFields") {
                metadata_mut(&mut new).insert("managedFields".into(), entries.clone());
            }
            new
        }
        _ if rt.status_subresource => {
            let mut new = proposed.clone();
            match current.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    if let Some(fields) = new.as_object_mut() {
                        fields.remove("status");
                    }
                }
            }
            new
        }
        _ => proposed.clone(),
    }
}

/// Server-owned metadata keeps its stored value whatever the body says.
fn protect_metadata(current: &Value, new: &mut Value) {
    let meta = metadata_mut(new);
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "namespace",
        "resourceVersion",
    ] {
        match current.pointer(&format!("/metadata/{field}")) {
            Some(value) => {
                meta.insert(field.into(), value.clone());
            }
            None => {
                meta.remove(field);
            }
        }
    }
    if meta.get("managedFields").is_none()
        && let Some(entries) = current.pointer("/metadata/managedFields")
    {
        meta.insert("managedFields".into(), entries.clone());
    }
    drop_empty_metadata(new);
}

/// Empty metadata lists and maps are not stored (Go's `omitempty`), in the object's metadata and
/// in embedded templates' (`spec.template.metadata`): removing the last finalizer leaves no
/// `finalizers` key, removing the last annotation no `annotations` key.
fn drop_empty_metadata(object: &mut Value) {
    let Some(fields) = object.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(meta)) = fields.get_mut("metadata") {
        meta.retain(|field, value| {
            let metadata_list = matches!(
                field.as_str(),
                "finalizers" | "ownerReferences" | "labels" | "annotations"
            );
            !(metadata_list
                && match value {
                    Value::Array(items) => items.is_empty(),
                    Value::Object(entries) => entries.is_empty(),
                    _ => false,
                })
        });
    }
    for key in ["spec", "template", "jobTemplate"] {
        if let Some(child) = fields.get_mut(key) {
            drop_empty_metadata(child);
        }
    }
}

/// No new finalizers on an object being deleted.
fn finalizer_violation(rt: &ResourceType, current: &Value, new: &Value) -> Option<ApiError> {
    current.pointer("/metadata/deletionTimestamp")?;
    let list = |o: &Value| -> Vec<String> {
        o.pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(String::from))
            .collect()
    };
    let old = list(current);
    let added: Vec<String> = list(new).into_iter().filter(|f| !old.contains(f)).collect();
    if added.is_empty() {
        return None;
    }
    let name = meta_str(current, "name").unwrap_or_default();
    let quoted: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
    Some(ApiError::invalid(
        rt,
        name,
        &[Cause::new(
            "FieldValueForbidden",
            "metadata.finalizers",
            format!(
                "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                quoted.join(", ")
            ),
        )],
    ))
}

/// Whether an update changes nothing (then kube-apiserver keeps the resourceVersion).
fn unchanged(current: &Value, new: &Value) -> bool {
    let strip = |o: &Value| {
        let mut o = o.clone();
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            if let Some(Value::Array(entries)) = meta.get_mut("managedFields") {
                for entry in entries {
                    if let Some(e) = entry.as_object_mut() {
                        e.remove("time");
                    }
                }
            }
        }
        if let Some(fields) = o.as_object_mut() {
            fields.remove("apiVersion");
            fields.remove("kind");
        }
        o
    };
    strip(current) == strip(new)
}
