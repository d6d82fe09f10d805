//! The structural checks `operator-sdk bundle validate` makes (operator-framework/api's CSV and
//! bundle validators, operator-registry's bundle format checks, and the good-practices optional
//! validator), plus the install-time checks OLM makes on webhook definitions and `opm validate`'s
//! channel checks. Every failure is collected and reported at once, naming the field.
//! docs/install.md lists what is and is not checked.

use std::collections::BTreeSet;
use std::io::Write;

use serde_json::Value;

use super::catalog::{Catalog, blob_version};
use super::manifests::{Bundle, MEDIA_TYPE};
use super::{CHANNEL, PACKAGE, Result, csv, yaml};

/// Kinds a registry+v1 bundle may hold (operator-registry `supported_resources.go`).
const SUPPORTED_KINDS: &[&str] = &[
    "ClusterServiceVersion",
    "CustomResourceDefinition",
    "Secret",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "ServiceAccount",
    "Service",
    "Role",
    "RoleBinding",
    "PrometheusRule",
    "ServiceMonitor",
    "PodDisruptionBudget",
    "PriorityClass",
    "VerticalPodAutoscaler",
    "ConsoleYAMLSample",
    "ConsoleQuickStart",
    "ConsoleCLIDownload",
    "ConsoleLink",
    "ConsolePlugin",
    "NetworkPolicy",
    "PodMonitor",
];
/// Install modes OLM knows.
const INSTALL_MODES: &[&str] = &[
    "OwnNamespace",
    "SingleNamespace",
    "MultiNamespace",
    "AllNamespaces",
];
/// Annotation keys OLM reads case-sensitively (operator-framework/api `annotations.go`).
const CASE_SENSITIVE_ANNOTATIONS: &[&str] = &[
    "olm.operatorGroup",
    "olm.operatorNamespace",
    "olm.targetNamespaces",
    "olm.providedAPIs",
    "olm.skipRange",
];
/// A bundle must fit a ConfigMap once compressed (operator-framework/api `bundle.go`).
const MAX_COMPRESSED_SIZE: usize = 1 << 20;

/// Runs every check on the bundle and the catalog; the number that passed, or all failures.
pub fn validate(bundle: &Bundle, catalog: &Catalog) -> Result<usize> {
    let mut checks = Checks::default();
    csv_checks(&mut checks, &bundle.csv);
    bundle_checks(&mut checks, bundle);
    webhook_checks(&mut checks, &bundle.csv);
    good_practices(&mut checks, &bundle.csv);
    catalog_checks(&mut checks, catalog);
    checks.check("catalog olm.gvk", bundle_gvk(bundle, catalog));
    checks.finish()
}

/// This version's bundle blob provides exactly the kinds the bundle's CRD serves.
fn bundle_gvk(bundle: &Bundle, catalog: &Catalog) -> std::result::Result<(), String> {
    let name = string(&bundle.csv, "/metadata/name");
    let blob = catalog
        .bundles
        .iter()
        .find(|b| b["name"] == name)
        .ok_or_else(|| format!("no olm.bundle named {name}"))?;
    let provided: BTreeSet<String> = array(blob, "/properties")
        .iter()
        .filter(|p| p["type"] == "olm.gvk")
        .map(|p| {
            format!(
                "{}/{}/{}",
                string(p, "/value/group"),
                string(p, "/value/version"),
                string(p, "/value/kind")
            )
        })
        .collect();
    let served: BTreeSet<String> = array(&bundle.crd, "/spec/versions")
        .iter()
        .map(|v| {
            format!(
                "{}/{}/{}",
                string(&bundle.crd, "/spec/group"),
                string(v, "/name"),
                string(&bundle.crd, "/spec/names/kind")
            )
        })
        .collect();
    ensure(provided == served, || {
        format!("the bundle blob provides {provided:?}, the CRD serves {served:?}")
    })
}

/// Counts checks and collects failures.
#[derive(Default)]
struct Checks {
    passed: usize,
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, what: &str, result: std::result::Result<(), String>) {
        match result {
            Ok(()) => self.passed += 1,
            Err(why) => self.failures.push(format!("{what}: {why}")),
        }
    }

    fn finish(self) -> Result<usize> {
        if self.failures.is_empty() {
            Ok(self.passed)
        } else {
            Err(format!(
                "bundle validation failed:\n  {}",
                self.failures.join("\n  ")
            ))
        }
    }
}

fn ensure(ok: bool, why: impl FnOnce() -> String) -> std::result::Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

fn string<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The CSV validator: name format, replaces, examples, install modes, minKubeVersion, required
/// fields, annotation case.
fn csv_checks(checks: &mut Checks, csv: &Value) {
    checks.check(
        "metadata.name",
        csv_name_format(string(csv, "/metadata/name")),
    );
    if let Some(replaces) = csv.pointer("/spec/replaces").and_then(Value::as_str) {
        checks.check("spec.replaces", csv_name_format(replaces));
    }
    checks.check(
        "apiVersion and kind",
        ensure(
            csv["apiVersion"] == "operators.coreos.com/v1alpha1"
                && csv["kind"] == "ClusterServiceVersion",
            || format!("{} {}", csv["apiVersion"], csv["kind"]),
        ),
    );
    checks.check("metadata.annotations.alm-examples", examples(csv));
    checks.check("spec.installModes", install_modes(csv));
    checks.check(
        "spec.minKubeVersion",
        semver::Version::parse(string(csv, "/spec/minKubeVersion"))
            .map(drop)
            .map_err(|e| {
                format!(
                    "{:?} is not a semantic version: {e}",
                    string(csv, "/spec/minKubeVersion")
                )
            }),
    );
    checks.check(
        "spec.version",
        semver::Version::parse(string(csv, "/spec/version"))
            .map(drop)
            .map_err(|e| format!("not a semantic version: {e}")),
    );
    checks.check("required fields", required_fields(csv));
    checks.check("metadata.annotations (case)", annotation_case(csv));
}

/// A DNS-1123 subdomain that is also a valid label value (the CSV name is used as a label).
fn csv_name_format(name: &str) -> std::result::Result<(), String> {
    let subdomain = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    ensure(subdomain && name.len() <= 63, || {
        format!(
            "{name:?} must be a DNS-1123 subdomain of at most 63 characters (it is used as a label value)"
        )
    })
}

/// `alm-examples` is a JSON list whose kinds are exactly the owned APIs.
fn examples(csv: &Value) -> std::result::Result<(), String> {
    let text = string(csv, "/metadata/annotations/alm-examples");
    let examples: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON list: {e}"))?;
    let owned = owned_apis(csv);
    let shown: BTreeSet<(String, String)> = examples
        .iter()
        .map(|e| {
            (
                string(e, "/apiVersion").to_string(),
                string(e, "/kind").to_string(),
            )
        })
        .collect();
    if let Some(stray) = shown.difference(&owned).next() {
        return Err(format!("example {stray:?} is not an owned API"));
    }
    if let Some(missing) = owned.difference(&shown).next() {
        return Err(format!("owned API {missing:?} has no example"));
    }
    Ok(())
}

/// Known modes, none twice, at least one supported; a conversion webhook needs AllNamespaces only.
fn install_modes(csv: &Value) -> std::result::Result<(), String> {
    let modes = array(csv, "/spec/installModes");
    let mut seen = BTreeSet::new();
    for mode in modes {
        let name = string(mode, "/type");
        ensure(INSTALL_MODES.contains(&name), || {
            format!("unknown install mode {name:?}")
        })?;
        ensure(seen.insert(name), || format!("install mode {name} twice"))?;
    }
    ensure(modes.iter().any(|m| m["supported"] == true), || {
        "no install mode is supported".into()
    })?;
    let conversion = array(csv, "/spec/webhookdefinitions")
        .iter()
        .any(|w| !array(w, "/conversionCRDs").is_empty());
    let only_all = modes
        .iter()
        .all(|m| (m["type"] == "AllNamespaces") == (m["supported"] == true));
    ensure(!conversion || only_all, || {
        "a conversion webhook needs AllNamespaces as the only install mode".into()
    })
}

/// The fields the CSV types have without `omitempty` (checkEmptyFields), non-empty.
fn required_fields(csv: &Value) -> std::result::Result<(), String> {
    let mut missing = Vec::new();
    let mut need = |value: &Value, path: String| {
        let empty = value.is_null() || value == "" || value.as_array().is_some_and(Vec::is_empty);
        if empty {
            missing.push(path);
        }
    };
    need(&csv["spec"]["displayName"], "spec.displayName".into());
    need(
        &csv["spec"]["install"]["strategy"],
        "spec.install.strategy".into(),
    );
    need(
        &csv["spec"]["install"]["spec"]["deployments"],
        "spec.install.spec.deployments".into(),
    );
    for (i, d) in array(csv, "/spec/install/spec/deployments")
        .iter()
        .enumerate()
    {
        need(&d["name"], format!("deployments[{i}].name"));
        need(&d["spec"], format!("deployments[{i}].spec"));
    }
    for kind in ["permissions", "clusterPermissions"] {
        for (i, p) in array(csv, &format!("/spec/install/spec/{kind}"))
            .iter()
            .enumerate()
        {
            need(
                &p["serviceAccountName"],
                format!("{kind}[{i}].serviceAccountName"),
            );
            need(&p["rules"], format!("{kind}[{i}].rules"));
        }
    }
    for (i, o) in array(csv, "/spec/customresourcedefinitions/owned")
        .iter()
        .enumerate()
    {
        for field in ["name", "version", "kind"] {
            need(
                &o[field],
                format!("customresourcedefinitions.owned[{i}].{field}"),
            );
        }
        for list in ["specDescriptors", "statusDescriptors"] {
            for (j, d) in array(o, &format!("/{list}")).iter().enumerate() {
                need(
                    &d["path"],
                    format!("customresourcedefinitions.owned[{i}].{list}[{j}].path"),
                );
            }
        }
    }
    for (i, w) in array(csv, "/spec/webhookdefinitions").iter().enumerate() {
        for field in [
            "generateName",
            "type",
            "sideEffects",
            "admissionReviewVersions",
        ] {
            need(&w[field], format!("webhookdefinitions[{i}].{field}"));
        }
    }
    for (i, r) in array(csv, "/spec/relatedImages").iter().enumerate() {
        need(&r["name"], format!("relatedImages[{i}].name"));
        need(&r["image"], format!("relatedImages[{i}].image"));
    }
    ensure(missing.is_empty(), || {
        format!("required fields missing: {}", missing.join(", "))
    })
}

/// Keys OLM reads case-sensitively are spelled exactly.
fn annotation_case(csv: &Value) -> std::result::Result<(), String> {
    let keys = csv["metadata"]["annotations"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for key in keys {
        if let Some(right) = CASE_SENSITIVE_ANNOTATIONS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&key))
        {
            ensure(key == *right, || {
                format!("annotation {key} must be spelled {right}")
            })?;
        }
    }
    Ok(())
}

/// The bundle validator and the registry format checks: owned CRDs present (and no CRD that is
/// not owned), no ServiceAccount object the CSV creates, supported kinds, compressed size,
/// related image references, annotations.yaml.
fn bundle_checks(checks: &mut Checks, bundle: &Bundle) {
    checks.check(
        "owned CRDs are in the bundle",
        owned_crds(&bundle.csv, &bundle.crd),
    );
    checks.check(
        "manifests kinds",
        bundle.extras.iter().try_for_each(|o| {
            let kind = string(o, "/kind");
            ensure(SUPPORTED_KINDS.contains(&kind), || {
                format!("{kind} is not supported in a {MEDIA_TYPE} bundle")
            })?;
            ensure(kind != "ServiceAccount", || {
                "a ServiceAccount object clashes with the CSV's (OLM creates it)".into()
            })
        }),
    );
    checks.check("bundle size", bundle_size(bundle));
    checks.check(
        "spec.relatedImages",
        array(&bundle.csv, "/spec/relatedImages")
            .iter()
            .try_for_each(|r| image_reference(string(r, "/image"))),
    );
    checks.check(
        "metadata/annotations.yaml",
        bundle_annotations(&bundle.annotations),
    );
}

/// The `(group/version, kind)` of every CRD the CSV owns (the group from the CRD's name).
fn owned_apis(csv: &Value) -> BTreeSet<(String, String)> {
    array(csv, "/spec/customresourcedefinitions/owned")
        .iter()
        .map(|o| {
            let group = string(o, "/name")
                .split_once('.')
                .map(|(_, g)| g)
                .unwrap_or_default();
            (
                format!("{group}/{}", string(o, "/version")),
                string(o, "/kind").to_string(),
            )
        })
        .collect()
}

fn owned_crds(csv: &Value, crd: &Value) -> std::result::Result<(), String> {
    let in_bundle: BTreeSet<String> = array(crd, "/spec/versions")
        .iter()
        .map(|v| {
            format!(
                "{}/{}/{}",
                string(crd, "/spec/group"),
                string(v, "/name"),
                string(crd, "/spec/names/kind")
            )
        })
        .collect();
    let owned: BTreeSet<String> = owned_apis(csv)
        .into_iter()
        .map(|(api_version, kind)| format!("{api_version}/{kind}"))
        .collect();
    if let Some(missing) = owned.difference(&in_bundle).next() {
        return Err(format!("owned CRD {missing} is not in the bundle"));
    }
    ensure(owned.len() == in_bundle.len(), || {
        format!("the bundle's CRD serves {in_bundle:?} but the CSV owns {owned:?}")
    })
}

/// Every manifest, gzip-compressed, under 1 MiB.
fn bundle_size(bundle: &Bundle) -> std::result::Result<(), String> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let csv = yaml::to_yaml(&bundle.csv)?;
    let mut texts = vec![csv, bundle.crd_text.clone()];
    for object in &bundle.extras {
        texts.push(yaml::to_yaml(object)?);
    }
    for text in texts {
        gzip.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    let size = gzip.finish().map_err(|e| e.to_string())?.len();
    ensure(size < MAX_COMPRESSED_SIZE, || {
        format!("{size} bytes compressed, the limit is {MAX_COMPRESSED_SIZE}")
    })
}

/// `host[:port]/path[:tag][@sha256:<64 hex>]`, lower-case path, as a registry reference.
fn image_reference(image: &str) -> std::result::Result<(), String> {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let hex = digest.strip_prefix("sha256:").unwrap_or_default();
        ensure(
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            || format!("{image:?}: the digest must be sha256: and 64 lower-case hex digits"),
        )?;
    }
    let (path, tag) = match name.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (name, None),
    };
    ensure(tag.is_some() || digest.is_some(), || {
        format!("{image:?} has neither a tag nor a digest")
    })?;
    if let Some(tag) = tag {
        ensure(
            !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            || format!("{image:?}: invalid tag {tag:?}"),
        )?;
    }
    let components: Vec<&str> = path.split('/').collect();
    ensure(
        components.len() >= 2
            && components.iter().skip(1).all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            }),
        || format!("{image:?}: expected registry/repository with lower-case path components"),
    )
}

/// The registry format: media type, directories, package, channels (the default among them).
fn bundle_annotations(annotations: &Value) -> std::result::Result<(), String> {
    let get = |key: &str| {
        string(
            annotations,
            &format!("/operators.operatorframework.io.bundle.{key}"),
        )
        .to_string()
    };
    ensure(get("mediatype.v1") == MEDIA_TYPE, || {
        format!(
            "mediatype is {:?}, expected {MEDIA_TYPE}",
            get("mediatype.v1")
        )
    })?;
    ensure(get("manifests.v1") == "manifests/", || {
        "manifests.v1 must be manifests/".into()
    })?;
    ensure(get("metadata.v1") == "metadata/", || {
        "metadata.v1 must be metadata/".into()
    })?;
    ensure(get("package.v1") == PACKAGE, || {
        format!("package.v1 must be {PACKAGE}")
    })?;
    let channels = get("channels.v1");
    ensure(!channels.is_empty(), || "channels.v1 is empty".into())?;
    let default = get("channel.default.v1");
    ensure(channels.split(',').any(|c| c == default), || {
        format!("the default channel {default:?} is not among {channels:?}")
    })
}

/// What OLM checks before it creates a webhook (install/webhook.go) and what the CSV's
/// webhookdefinitions must match in the install strategy.
fn webhook_checks(checks: &mut Checks, csv: &Value) {
    let deployments = array(csv, "/spec/install/spec/deployments");
    let owned_groups: BTreeSet<&str> = array(csv, "/spec/customresourcedefinitions/owned")
        .iter()
        .filter_map(|o| string(o, "/name").split_once('.').map(|(_, g)| g))
        .collect();
    for (i, webhook) in array(csv, "/spec/webhookdefinitions").iter().enumerate() {
        let what = format!("webhookdefinitions[{i}]");
        checks.check(
            &format!("{what}.deploymentName"),
            webhook_deployment(webhook, deployments),
        );
        checks.check(
            &format!("{what}.generateName"),
            webhook_name(string(webhook, "/generateName")),
        );
        checks.check(
            &format!("{what}.rules"),
            array(webhook, "/rules").iter().try_for_each(|rule| {
                let groups: Vec<&str> = array(rule, "/apiGroups")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                ensure(!groups.contains(&"*"), || {
                    "rules cannot include all groups".into()
                })?;
                ensure(!groups.contains(&"operators.coreos.com"), || {
                    "rules cannot include the OLM group".into()
                })?;
                ensure(!groups.contains(&"admissionregistration.k8s.io"), || {
                    "rules cannot include webhook configurations".into()
                })?;
                ensure(groups.iter().all(|g| owned_groups.contains(g)), || {
                    format!("rules name {groups:?}, not only the owned API groups {owned_groups:?}")
                })
            }),
        );
    }
}

/// The deployment exists, and its first container listens on the webhook's target port.
fn webhook_deployment(webhook: &Value, deployments: &[Value]) -> std::result::Result<(), String> {
    let name = string(webhook, "/deploymentName");
    let deployment = deployments
        .iter()
        .find(|d| d["name"] == name)
        .ok_or_else(|| format!("{name:?} is not a deployment of the install strategy"))?;
    let port = webhook["containerPort"].as_u64().unwrap_or(443);
    ensure((1..=65535).contains(&port), || {
        format!("containerPort {port} is out of range")
    })?;
    let target = webhook
        .get("targetPort")
        .cloned()
        .unwrap_or(Value::from(port));
    let listens = array(deployment, "/spec/template/spec/containers")
        .iter()
        .flat_map(|c| array(c, "/ports"))
        .any(|p| p["containerPort"] == target || p["name"] == target);
    ensure(listens, || {
        format!("no container of {name} listens on targetPort {target}")
    })
}

/// A webhook name: a DNS subdomain of at least three labels.
fn webhook_name(name: &str) -> std::result::Result<(), String> {
    csv_name_format(name).map_err(|_| format!("{name:?} is not a DNS subdomain"))?;
    ensure(name.split('.').count() >= 3, || {
        format!("{name:?} needs at least three dot-separated labels")
    })
}

/// The good-practices validator: resource requests, channel names, no CRD-creating
/// permissions, `<package>.v<semver>` naming.
fn good_practices(checks: &mut Checks, csv: &Value) {
    checks.check(
        "resource requests",
        array(csv, "/spec/install/spec/deployments")
            .iter()
            .flat_map(|d| array(d, "/spec/template/spec/containers"))
            .try_for_each(|c| {
                ensure(
                    c.pointer("/resources/requests/cpu").is_some()
                        && c.pointer("/resources/requests/memory").is_some(),
                    || format!("container {} has no CPU and memory requests", c["name"]),
                )
            }),
    );
    checks.check(
        "channel name",
        ensure(
            ["candidate", "stable", "fast"]
                .iter()
                .any(|p| CHANNEL.starts_with(p)),
            || format!("channel {CHANNEL} does not follow candidate/fast/stable naming"),
        ),
    );
    checks.check(
        "no CRD-creating permissions",
        ["permissions", "clusterPermissions"]
            .iter()
            .flat_map(|kind| array(csv, &format!("/spec/install/spec/{kind}")))
            .flat_map(|p| array(p, "/rules"))
            .try_for_each(|rule| {
                let crds = array(rule, "/apiGroups")
                    .iter()
                    .any(|g| g == "apiextensions.k8s.io");
                let writes = array(rule, "/verbs")
                    .iter()
                    .any(|v| v == "create" || v == "patch" || v == "*");
                ensure(!(crds && writes), || {
                    "the operator may create CRDs; OLM owns them".into()
                })
            }),
    );
    let name = string(csv, "/metadata/name");
    checks.check(
        "CSV naming",
        ensure(
            name.split_once(".v").is_some_and(|(package, version)| {
                package == PACKAGE && semver::Version::parse(version).is_ok()
            }) && name == csv::name(string(csv, "/spec/version")),
            || format!("{name} is not {PACKAGE}.v<spec.version>"),
        ),
    );
}

/// What `opm validate` checks of a package: its default channel exists, every channel entry
/// has a bundle of its package and version, `replaces` names an entry of the channel, the
/// channel has one head, and `skipRange` is a version range.
fn catalog_checks(checks: &mut Checks, catalog: &Catalog) {
    checks.check(
        "catalog defaultChannel",
        ensure(
            catalog.package["defaultChannel"] == catalog.channel["name"],
            || {
                format!(
                    "defaultChannel {} is not a channel of the package",
                    catalog.package["defaultChannel"]
                )
            },
        ),
    );
    let entries = array(&catalog.channel, "/entries");
    let names: BTreeSet<&str> = entries.iter().map(|e| string(e, "/name")).collect();
    checks.check(
        "catalog channel entries",
        entries.iter().try_for_each(|entry| {
            let name = string(entry, "/name");
            let blob = catalog
                .bundles
                .iter()
                .find(|b| b["name"] == name)
                .ok_or_else(|| format!("entry {name} has no olm.bundle"))?;
            let version = blob_version(blob).unwrap_or_default();
            ensure(
                blob["package"] == PACKAGE && name == csv::name(version),
                || {
                    format!(
                        "bundle {name} has package {} and version {version}",
                        blob["package"]
                    )
                },
            )?;
            if let Some(replaces) = entry["replaces"].as_str() {
                ensure(names.contains(replaces), || {
                    format!("{name} replaces {replaces}, which is not in the channel")
                })?;
            }
            let range = string(entry, "/skipRange")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(", ");
            semver::VersionReq::parse(&range)
                .map(drop)
                .map_err(|e| format!("{name}: skipRange {range:?}: {e}"))
        }),
    );
    let replaced: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e["replaces"].as_str())
        .collect();
    let heads: Vec<&&str> = names.iter().filter(|n| !replaced.contains(**n)).collect();
    checks.check(
        "catalog channel head",
        ensure(heads.len() == 1, || {
            format!("the channel has heads {heads:?}, not one")
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csv() -> Value {
        json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": "smbp-operator.v0.1.0", "annotations": {
                "alm-examples": "[{\"apiVersion\": \"smbp.dev/v1alpha1\", \"kind\": \"BigPeer\"}]"}},
            "spec": {
                "displayName": "x", "version": "0.1.0", "minKubeVersion": "1.33.0",
                "installModes": [{"type": "OwnNamespace", "supported": true}],
                "install": {"strategy": "deployment", "spec": {"deployments": [{"name": "op", "spec": {"template": {"spec": {
                    "containers": [{"name": "c", "ports": [{"name": "webhook", "containerPort": 9443}],
                        "resources": {"requests": {"cpu": "1", "memory": "1Mi"}}}]}}}}]}},
                "customresourcedefinitions": {"owned": [{"name": "bigpeers.smbp.dev", "version": "v1alpha1", "kind": "BigPeer"}]},
                "webhookdefinitions": [{"generateName": "validate.bigpeers.smbp.dev", "type": "ValidatingAdmissionWebhook",
                    "deploymentName": "op", "containerPort": 443, "targetPort": 9443, "sideEffects": "None",
                    "admissionReviewVersions": ["v1"], "rules": [{"apiGroups": ["smbp.dev"]}]}],
            },
        })
    }

    fn run(csv: &Value) -> Result<usize> {
        let mut checks = Checks::default();
        csv_checks(&mut checks, csv);
        webhook_checks(&mut checks, csv);
        good_practices(&mut checks, csv);
        checks.finish()
    }

    #[test]
    fn a_well_formed_csv_passes() {
        assert!(run(&csv()).unwrap() > 10);
    }

    /// A change that breaks one field of the CSV.
    type Breakage = fn(&mut Value);

    #[test]
    fn each_broken_field_is_named() {
        let cases: Vec<(&str, Breakage)> = vec![
            ("metadata.name", |c| {
                c["metadata"]["name"] = json!("Bad_Name")
            }),
            ("alm-examples", |c| {
                c["metadata"]["annotations"]["alm-examples"] =
                    json!("[{\"apiVersion\": \"x/v1\", \"kind\": \"Y\"}]")
            }),
            ("alm-examples", |c| {
                c["metadata"]["annotations"]["alm-examples"] = json!("{not json")
            }),
            ("spec.installModes", |c| {
                c["spec"]["installModes"] = json!([{"type": "OwnNamespace", "supported": false}])
            }),
            ("spec.minKubeVersion", |c| {
                c["spec"]["minKubeVersion"] = json!("1.33")
            }),
            ("required fields", |c| c["spec"]["displayName"] = json!("")),
            ("(case)", |c| {
                c["metadata"]["annotations"]["olm.skiprange"] = json!("<1.0.0")
            }),
            ("deploymentName", |c| {
                c["spec"]["webhookdefinitions"][0]["deploymentName"] = json!("other")
            }),
            ("deploymentName", |c| {
                c["spec"]["webhookdefinitions"][0]["targetPort"] = json!(8443)
            }),
            ("rules", |c| {
                c["spec"]["webhookdefinitions"][0]["rules"][0]["apiGroups"] = json!(["*"])
            }),
            ("generateName", |c| {
                c["spec"]["webhookdefinitions"][0]["generateName"] = json!("validate")
            }),
            ("resource requests", |c| {
                c["spec"]["install"]["spec"]["deployments"][0]["spec"]["template"]["spec"]["containers"]
                    [0]["resources"] = json!({})
            }),
            ("CSV naming", |c| c["spec"]["version"] = json!("0.2.0")),
        ];
        for (field, break_it) in cases {
            let mut broken = csv();
            break_it(&mut broken);
            let error = run(&broken).unwrap_err();
            assert!(error.contains(field), "{field}: {error}");
        }
    }

    #[test]
    fn image_references() {
        let digest = format!("sha256:{}", "0".repeat(64));
        assert!(image_reference("registry.smbp.dev/smbp/smbp-operator:0.1.0").is_ok());
        assert!(image_reference(&format!("registry.smbp.dev/bigpeer/big-peer@{digest}")).is_ok());
        assert!(image_reference("localhost:5000/a/b:1").is_ok());
        assert!(image_reference("registry.smbp.dev/Smbp/op:1").is_err());
        assert!(image_reference("registry.smbp.dev/smbp/op").is_err());
        assert!(image_reference("registry.smbp.dev/smbp/op@sha256:abc").is_err());
    }

    #[test]
    fn annotations_need_the_default_channel_among_the_channels() {
        let good = json!({
            "operators.operatorframework.io.bundle.mediatype.v1": "registry+v1",
            "operators.operatorframework.io.bundle.manifests.v1": "manifests/",
            "operators.operatorframework.io.bundle.metadata.v1": "metadata/",
            "operators.operatorframework.io.bundle.package.v1": "smbp-operator",
            "operators.operatorframework.io.bundle.channels.v1": "stable",
            "operators.operatorframework.io.bundle.channel.default.v1": "stable",
        });
        assert!(bundle_annotations(&good).is_ok());
        let mut bad = good.clone();
        bad["operators.operatorframework.io.bundle.channel.default.v1"] = json!("fast");
        assert!(
            bundle_annotations(&bad)
                .unwrap_err()
                .contains("default channel")
        );
        let mut bad = good;
        bad["operators.operatorframework.io.bundle.mediatype.v1"] = json!("plain+v0");
        assert!(bundle_annotations(&bad).unwrap_err().contains("mediatype"));
    }

    #[test]
    fn catalog_entries_need_bundles_and_edges_inside_the_channel() {
        let blob = |version: &str| {
            json!({"schema": "olm.bundle", "package": "smbp-operator",
            "name": format!("smbp-operator.v{version}"),
            "properties": [{"type": "olm.package", "value": {"packageName": "smbp-operator", "version": version}}]})
        };
        let catalog = |entries: Value, bundles: Vec<Value>| Catalog {
            package: json!({"defaultChannel": "stable"}),
            channel: json!({"name": "stable", "entries": entries}),
            bundles,
            artefacts: Vec::new(),
        };
        let run = |catalog: &Catalog| {
            let mut checks = Checks::default();
            catalog_checks(&mut checks, catalog);
            checks.finish()
        };
        let good = catalog(
            json!([{"name": "smbp-operator.v0.1.0", "skipRange": "<0.1.0"},
                   {"name": "smbp-operator.v0.2.0", "replaces": "smbp-operator.v0.1.0", "skipRange": ">=0.1.0 <0.2.0"}]),
            vec![blob("0.1.0"), blob("0.2.0")],
        );
        assert_eq!(run(&good).unwrap(), 3);
        let missing_bundle = catalog(
            json!([{"name": "smbp-operator.v0.1.0", "skipRange": "<0.1.0"}]),
            vec![],
        );
        assert!(
            run(&missing_bundle)
                .unwrap_err()
                .contains("has no olm.bundle")
        );
        let dangling = catalog(
            json!([{"name": "smbp-operator.v0.2.0", "replaces": "smbp-operator.v0.1.0", "skipRange": "<0.2.0"}]),
            vec![blob("0.2.0")],
        );
        assert!(run(&dangling).unwrap_err().contains("not in the channel"));
        let two_heads = catalog(
            json!([{"name": "smbp-operator.v0.1.0", "skipRange": "<0.1.0"}, {"name": "smbp-operator.v0.2.0", "skipRange": "<0.2.0"}]),
            vec![blob("0.1.0"), blob("0.2.0")],
        );
        assert!(run(&two_heads).unwrap_err().contains("heads"));
    }

    #[test]
    fn owned_crds_must_match_the_bundle_crd() {
        let crd = json!({"spec": {"group": "smbp.dev", "names": {"kind": "BigPeer"}, "versions": [{"name": "v1alpha1"}]}});
        assert!(owned_crds(&csv(), &crd).is_ok());
        let other = json!({"spec": {"group": "smbp.dev", "names": {"kind": "BigPeer"}, "versions": [{"name": "v1"}]}});
        assert!(
            owned_crds(&csv(), &other)
                .unwrap_err()
                .contains("not in the bundle")
        );
    }
}
