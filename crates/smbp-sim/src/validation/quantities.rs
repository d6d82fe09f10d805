//! Resource quantities in built-ins: where they are (container and init-container requests and
//! limits in pods and pod templates, `emptyDir.sizeLimit`, PVC and volume-claim-template
//! requests, ResourceQuota `hard`, LimitRange limits, node and volume capacities), their decoding
//! (an unparsable quantity fails the body's decoding, 400), their canonical stored form, and the
//! rules of `ValidateResourceQuantityValue` and `ValidateResourceRequirements` (non-negative,
//! requests ≤ limits) with kube-apiserver's messages.

use super::pods::pod_specs;
use crate::error::Cause;
use crate::quantity::{self, Quantity};
use crate::resources::ResourceType;
use serde_json::{Map, Value, json};

/// What kube-apiserver checks of a resource map.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// `ValidateResourceQuantityValue`: every entry non-negative.
    NonNegative,
    /// A claim's requests: `storage` required and positive.
    Claim,
    /// Only decoded and stored canonical (status, claim templates, capacities).
    Stored,
}

/// A map of resource name → quantity inside an object: its JSON pointer, field path and rule.
struct Site {
    pointer: String,
    field: String,
    rule: Rule,
}

fn array_len(object: &Value, pointer: &str) -> usize {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// The `resources` objects of every container and init container of the object's pod specs, as
/// (pointer, field path).
fn container_resources(rt: &ResourceType, object: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (pointer, field) in pod_specs(rt) {
        for list in ["containers", "initContainers"] {
            for i in 0..array_len(object, &format!("{pointer}/{list}")) {
                found.push((
                    format!("{pointer}/{list}/{i}/resources"),
                    format!("{field}.{list}[{i}].resources"),
                ));
            }
        }
    }
    found
}

/// The resource maps of kinds other than pods: (pointer, rule) with `{i}` standing for each index
/// of the list at the pointer's prefix.
fn kind_sites(rt: &ResourceType) -> &'static [(&'static str, Rule)] {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "PersistentVolumeClaim") => &[
            ("/spec/resources/requests", Rule::Claim),
            ("/spec/resources/limits", Rule::Stored),
            ("/status/capacity", Rule::Stored),
            ("/status/allocatedResources", Rule::Stored),
        ],
        ("apps", "StatefulSet") => &[
            (
                "/spec/volumeClaimTemplates/{i}/spec/resources/requests",
                Rule::Stored,
            ),
            (
                "/spec/volumeClaimTemplates/{i}/spec/resources/limits",
                Rule::Stored,
            ),
        ],
        ("", "ResourceQuota") => &[
            ("/spec/hard", Rule::NonNegative),
            ("/status/hard", Rule::Stored),
            ("/status/used", Rule::Stored),
        ],
        ("", "LimitRange") => &[
            ("/spec/limits/{i}/max", Rule::NonNegative),
            ("/spec/limits/{i}/min", Rule::NonNegative),
            ("/spec/limits/{i}/default", Rule::NonNegative),
            ("/spec/limits/{i}/defaultRequest", Rule::NonNegative),
            ("/spec/limits/{i}/maxLimitRequestRatio", Rule::NonNegative),
        ],
        ("", "Node") => &[
            ("/status/capacity", Rule::Stored),
            ("/status/allocatable", Rule::Stored),
        ],
        ("", "PersistentVolume") => &[("/spec/capacity", Rule::Stored)],
        _ => &[],
    }
}

/// `/a/b/0/c` → `a.b[0].c`.
fn field_of(pointer: &str) -> String {
    let mut field = String::new();
    for segment in pointer.split('/').skip(1) {
        if segment.parse::<usize>().is_ok() {
            field.push_str(&format!("[{segment}]"));
        } else {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(segment);
        }
    }
    field
}

/// Every resource map of an object of this kind.
fn sites(rt: &ResourceType, object: &Value) -> Vec<Site> {
    let mut sites = Vec::new();
    for (pointer, field) in container_resources(rt, object) {
        for part in ["requests", "limits"] {
            sites.push(Site {
                pointer: format!("{pointer}/{part}"),
                field: format!("{field}.{part}"),
                rule: Rule::NonNegative,
            });
        }
    }
    for (template, rule) in kind_sites(rt) {
        let pointers = match template.split_once("/{i}") {
            Some((list, rest)) => (0..array_len(object, list))
                .map(|i| format!("{list}/{i}{rest}"))
                .collect(),
            None => vec![template.to_string()],
        };
        sites.extend(pointers.into_iter().map(|pointer| Site {
            field: field_of(&pointer),
            pointer,
            rule: *rule,
        }));
    }
    sites
}

/// The single quantities (not in resource maps): each pod spec volume's `emptyDir.sizeLimit`.
fn size_limits(rt: &ResourceType, object: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (pointer, field) in pod_specs(rt) {
        for i in 0..array_len(object, &format!("{pointer}/volumes")) {
            found.push((
                format!("{pointer}/volumes/{i}/emptyDir/sizeLimit"),
                format!("{field}.volumes[{i}].emptyDir.sizeLimit"),
            ));
        }
    }
    found
}

/// A JSON quantity: a string, or a number (Go's `Quantity.UnmarshalJSON` accepts both).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The JSON pointer of every quantity value of the object (resource-map entries and size
/// limits).
fn quantity_pointers(rt: &ResourceType, object: &Value) -> Vec<String> {
    let mut pointers = Vec::new();
    for site in sites(rt, object) {
        if let Some(map) = object.pointer(&site.pointer).and_then(Value::as_object) {
            pointers.extend(map.keys().map(|key| {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                format!("{}/{escaped}", site.pointer)
            }));
        }
    }
    pointers.extend(
        size_limits(rt, object)
            .into_iter()
            .map(|(pointer, _)| pointer),
    );
    pointers
}

/// Rewrites every parsable quantity in its canonical form, as kube-apiserver stores it
/// (`30720Mi` → `30Gi`, `1000m` → `1`, `0.5` → `500m`).
pub fn canonicalize(rt: &ResourceType, object: &mut Value) {
    for pointer in quantity_pointers(rt, object) {
        if let Some(value) = object.pointer_mut(&pointer)
            && let Some(parsed) = text(value).and_then(|t| quantity::parse(&t).ok())
        {
            *value = json!(parsed.to_string());
        }
    }
}

/// The decoding error of the first quantity that does not parse (kube-apiserver fails the whole
/// body with it).
pub fn decode_error(rt: &ResourceType, object: &Value) -> Option<String> {
    quantity_pointers(rt, object).iter().find_map(|pointer| {
        let text = text(object.pointer(pointer)?)?;
        quantity::parse(&text).err().map(|e| e.to_string())
    })
}

/// The parsed entries of a resource map.
fn entries(map: Option<&Map<String, Value>>) -> Vec<(&str, Quantity)> {
    map.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), quantity::parse(&text(v)?).ok()?)))
        .collect()
}

/// `ValidateNonnegativeQuantity` on every entry of a resource map.
fn nonnegative(map: Option<&Map<String, Value>>, field: &str) -> Vec<Cause> {
    entries(map)
        .into_iter()
        .filter(|(_, q)| q.is_negative())
        .map(|(name, q)| {
            Cause::new(
                "FieldValueInvalid",
                format!("{field}[{name}]"),
                format!("Invalid value: \"{q}\": must be greater than or equal to 0"),
            )
        })
        .collect()
}

/// Whether requests may differ from limits (`IsOvercommitAllowed`): native resources that are not
/// huge pages.
fn overcommit_allowed(name: &str) -> bool {
    let native = !name.contains('/') || name.contains("kubernetes.io/");
    native && !name.starts_with("hugepages-")
}

/// Requests against limits of one `resources` object at `field`.
fn requests_within_limits(resources: &Value, field: &str) -> Vec<Cause> {
    let limits = entries(resources.get("limits").and_then(Value::as_object));
    let mut causes = Vec::new();
    for (name, request) in entries(resources.get("requests").and_then(Value::as_object)) {
        let limit = limits.iter().find(|(n, _)| *n == name).map(|(_, q)| q);
        let message = match limit {
            Some(limit) if request != *limit && !overcommit_allowed(name) => {
                format!("must be equal to {name} limit of {limit}")
            }
            Some(limit) if request > *limit => {
                format!("must be less than or equal to {name} limit of {limit}")
            }
            None if !overcommit_allowed(name) => {
                causes.push(Cause::new(
                    "FieldValueRequired",
                    format!("{field}.limits"),
                    "Required value: Limit must be set for non overcommitable resources",
                ));
                continue;
            }
            _ => continue,
        };
        causes.push(Cause::new(
            "FieldValueInvalid",
            format!("{field}.requests"),
            format!("Invalid value: \"{request}\": {message}"),
        ));
    }
    causes
}

/// A claim's `storage` request: required and positive (`ValidatePersistentVolumeClaimSpec`).
fn claim_storage(map: Option<&Map<String, Value>>) -> Vec<Cause> {
    let field = "spec.resources[storage]";
    match entries(map)
        .into_iter()
        .find(|(name, _)| *name == "storage")
    {
        None => vec![Cause::new("FieldValueRequired", field, "Required value")],
        Some((_, q)) if q.is_negative() || q.to_string() == "0" => vec![Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: \"{q}\": must be greater than zero"),
        )],
        Some(_) => Vec::new(),
    }
}

/// The quantity rules of an object of this kind.
pub fn validate(rt: &ResourceType, object: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    for site in sites(rt, object) {
        let map = object.pointer(&site.pointer).and_then(Value::as_object);
        match site.rule {
            Rule::NonNegative => causes.extend(nonnegative(map, &site.field)),
            Rule::Claim => causes.extend(claim_storage(map)),
            Rule::Stored => {}
        }
    }
    for (pointer, field) in container_resources(rt, object) {
        if let Some(resources) = object.pointer(&pointer) {
            causes.extend(requests_within_limits(resources, &field));
        }
    }
    for (pointer, field) in size_limits(rt, object) {
        let negative = object
            .pointer(&pointer)
            .and_then(text)
            .and_then(|t| quantity::parse(&t).ok())
            .is_some_and(|q| q.is_negative());
        if negative {
            causes.push(Cause::new(
                "FieldValueForbidden",
                field,
                "Forbidden: SizeLimit field must be a valid resource quantity",
            ));
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;

    fn rt(plural: &str) -> ResourceType {
        builtins().into_iter().find(|r| r.plural == plural).unwrap()
    }

    fn deployment(resources: Value) -> Value {
        json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "i", "resources": resources}],
            "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "-1Gi"}}]}}}})
    }

    #[test]
    fn quantities_are_stored_canonical() {
        let mut object = deployment(json!({"requests": {"memory": "30720Mi", "cpu": 0.5},
            "limits": {"cpu": "1000m"}}));
        canonicalize(&rt("deployments"), &mut object);
        let resources = &object["spec"]["template"]["spec"]["containers"][0]["resources"];
        assert_eq!(resources["requests"]["memory"], "30Gi");
        assert_eq!(resources["requests"]["cpu"], "500m");
        assert_eq!(resources["limits"]["cpu"], "1");
        assert_eq!(
            object["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"],
            "-1Gi"
        );
    }

    #[test]
    fn bad_negative_and_excessive_quantities_are_refused() {
        let bad = deployment(json!({"requests": {"cpu": "lots"}}));
        assert!(
            decode_error(&rt("deployments"), &bad)
                .unwrap()
                .starts_with("quantities must match the regular expression")
        );
        let object =
            deployment(json!({"requests": {"cpu": "2", "memory": "-1"}, "limits": {"cpu": "1"}}));
        let shown: Vec<String> = validate(&rt("deployments"), &object)
            .iter()
            .map(Cause::display)
            .collect();
        assert_eq!(
            shown,
            [
                "spec.template.spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.template.spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                "spec.template.spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity",
            ]
        );
    }

    #[test]
    fn claims_quotas_and_extended_resources() {
        let claim = json!({"spec": {"resources": {"requests": {"storage": "-1Gi"}}}});
        assert_eq!(
            validate(&rt("persistentvolumeclaims"), &claim)[0].display(),
            "spec.resources[storage]: Invalid value: \"-1Gi\": must be greater than zero"
        );
        let no_size = json!({"spec": {"resources": {}}});
        assert_eq!(
            validate(&rt("persistentvolumeclaims"), &no_size)[0].display(),
            "spec.resources[storage]: Required value"
        );
        let quota = json!({"spec": {"hard": {"pods": "-2"}}});
        assert_eq!(
            validate(&rt("resourcequotas"), &quota)[0].field,
            "spec.hard[pods]"
        );
        let mut gpu = json!({"spec": {"containers": [{"name": "c", "resources": {
            "requests": {"example.com/gpu": "1000m"}}}]}});
        canonicalize(&rt("pods"), &mut gpu);
        assert_eq!(
            gpu["spec"]["containers"][0]["resources"]["requests"]["example.com/gpu"],
            "1"
        );
        assert_eq!(
            validate(&rt("pods"), &gpu)[0].display(),
            "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"
        );
    }
}
