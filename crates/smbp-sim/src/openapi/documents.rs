//! The OpenAPI documents themselves: `/openapi/v2` (Swagger 2.0, every kind), one OpenAPI 3.0
//! document per served group/version (`/openapi/v3/apis/<group>/<version>`, `/openapi/v3/api/v1`)
//! and the `/openapi/v3` index that client-go's `openapi3` root reads (`paths` →
//! `serverRelativeURL` carrying a content hash).

use super::{builtin, crd, paths};
use crate::resources::ResourceType;
use crate::sim::Registry;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};
use std::collections::BTreeSet;

/// The served group/versions as OpenAPI v3 path keys (`api/v1`, `apis/apps/v1`).
fn group_versions(registry: &Registry) -> BTreeSet<String> {
    registry.all().iter().map(path_key).collect()
}

/// The v3 index key of a resource's group/version.
fn path_key(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        format!("api/{}", rt.version)
    } else {
        format!("apis/{}/{}", rt.group, rt.version)
    }
}

/// A document holding `types`: their definitions (and all they reference) and their paths.
fn document<'a>(
    types: impl Iterator<Item = &'a ResourceType>,
    v3: bool,
) -> (Map<String, Value>, Map<String, Value>) {
    let (settings, prefix) = if v3 {
        (SchemaSettings::openapi3(), "#/components/schemas/")
    } else {
        (
            SchemaSettings::draft07().with(|s| s.definitions_path = "/definitions".into()),
            "#/definitions/",
        )
    };
    let mut generator = settings.into_generator();
    let (object_meta, _) = builtin::add_metadata(&mut generator);
    let mut custom = Map::new();
    let mut builtins = Vec::new();
    let mut all_paths = Map::new();
    for rt in types {
        let name = if rt.custom {
            let name = crd::definition_name(&rt.group, &rt.version, &rt.kind);
            let meta = format!("{prefix}{object_meta}");
            custom.insert(name.clone(), crd::definition(rt, &meta, v3));
            name
        } else {
            let Some(name) = builtin::add(&mut generator, &rt.group, &rt.version, &rt.kind) else {
                continue;
            };
            builtins.push((name.clone(), crd::gvk(&rt.group, &rt.version, &rt.kind)));
            name
        };
        all_paths.extend(paths::resource_paths(rt, &format!("{prefix}{name}"), v3));
    }
    let mut definitions = generator.take_definitions(true);
    for (name, gvk) in builtins {
        if let Some(definition) = definitions.get_mut(&name) {
            definition["x-kubernetes-group-version-kind"] = gvk;
        }
    }
    definitions.extend(custom);
    (definitions, all_paths)
}

/// The OpenAPI 3.0 document of one group/version (`api/v1`, `apis/apps/v1`), if served.
pub fn v3(registry: &Registry, key: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = registry
        .all()
        .iter()
        .filter(|rt| path_key(rt) == key)
        .collect();
    if types.is_empty() {
        return None;
    }
    let (schemas, paths) = document(types.into_iter(), true);
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::discovery::version()["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// The `/openapi/v3` index: every served group/version with the URL of its document.
pub fn v3_index(registry: &Registry) -> Value {
    let paths: Map<String, Value> = group_versions(registry)
        .into_iter()
        .filter_map(|key| {
            let hash = hex_upper(&Sha512::digest(v3(registry, &key)?.to_string().as_bytes()));
            let url = format!("/openapi/v3/{key}?hash={hash}");
            Some((key, json!({"serverRelativeURL": url})))
        })
        .collect();
    json!({"paths": paths})
}

/// The Swagger 2.0 document of everything served.
pub fn v2(registry: &Registry) -> Value {
    let (definitions, paths) = document(registry.all().iter(), false);
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": crate::discovery::version()["gitVersion"]},
        "paths": paths,
        "definitions": definitions,
    })
}

/// Upper-case hex, as kube-openapi writes its ETags and hashes.
fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
