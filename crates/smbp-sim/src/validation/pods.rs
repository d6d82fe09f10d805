//! Pod spec rules of `ValidatePodSpec`, in Pods and in every pod template (Deployment,
//! StatefulSet, ReplicaSet, DaemonSet, Job, CronJob): container names (DNS labels, unique across
//! containers and init containers), container ports (range, IANA names, unique names, protocol),
//! tolerations, topology spread constraints, `priorityClassName`, and the template's labels and
//! annotations — with kube-apiserver's field paths and messages.

use super::{meta, names};
use crate::error::Cause;
use crate::resources::ResourceType;
use serde_json::Value;

/// Where the pod specs of a kind are: (JSON pointer, field path).
pub fn pod_specs(rt: &ResourceType) -> Vec<(String, String)> {
    let at = |pointer: &str| vec![(pointer.to_string(), pointer[1..].replace('/', "."))];
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => at("/spec"),
        ("", "PodTemplate") => at("/template/spec"),
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet") | ("batch", "Job") => {
            at("/spec/template/spec")
        }
        ("batch", "CronJob") => at("/spec/jobTemplate/spec/template/spec"),
        _ => Vec::new(),
    }
}

/// The pod spec rules of every pod spec of the object, plus its templates' metadata rules.
pub fn validate(rt: &ResourceType, object: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    for (pointer, field) in pod_specs(rt) {
        let Some(spec) = object.pointer(&pointer) else {
            continue;
        };
        if let Some(template) = pointer.strip_suffix("/spec")
            && !template.is_empty()
            && let Some(metadata) = object.pointer(&format!("{template}/metadata"))
        {
            let template_field = field.trim_end_matches(".spec");
            causes.extend(meta::labels_and_annotations(
                metadata,
                &format!("{template_field}.metadata"),
            ));
        }
        causes.extend(containers(spec, &field));
        causes.extend(tolerations(spec, &field));
        causes.extend(topology_spread(spec, &field));
        if let Some(class) = spec.get("priorityClassName").and_then(Value::as_str)
            && !class.is_empty()
        {
            causes.extend(invalid_each(
                &format!("{field}.priorityClassName"),
                &format!("{class:?}"),
                names::dns1123_subdomain(class),
            ));
        }
    }
    causes
}

/// One `FieldValueInvalid` cause per message.
fn invalid_each(field: &str, shown: &str, messages: Vec<String>) -> Vec<Cause> {
    messages
        .into_iter()
        .map(|m| {
            Cause::new(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {shown}: {m}"),
            )
        })
        .collect()
}

/// `field.NotSupported`: the value and the supported values, quoted, in the given order.
fn not_supported(field: &str, value: &str, supported: &[&str]) -> Cause {
    let listed: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
    Cause::new(
        "FieldValueNotSupported",
        field,
        format!(
            "Unsupported value: {value:?}: supported values: {}",
            listed.join(", ")
        ),
    )
}

fn str_of<'v>(object: &'v Value, key: &str) -> &'v str {
    object.get(key).and_then(Value::as_str).unwrap_or("")
}

fn items<'v>(object: &'v Value, key: &str) -> &'v [Value] {
    object
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Container names (DNS labels, required, unique across containers and init containers) and
/// their ports.
fn containers(spec: &Value, field: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for list in ["containers", "initContainers"] {
        for (i, container) in items(spec, list).iter().enumerate() {
            let path = format!("{field}.{list}[{i}]");
            let name = str_of(container, "name");
            if name.is_empty() {
                causes.push(Cause::new(
                    "FieldValueRequired",
                    format!("{path}.name"),
                    "Required value",
                ));
            } else if seen.contains(&name) {
                causes.push(Cause::new(
                    "FieldValueDuplicate",
                    format!("{path}.name"),
                    format!("Duplicate value: {name:?}"),
                ));
            } else {
                causes.extend(invalid_each(
                    &format!("{path}.name"),
                    &format!("{name:?}"),
                    names::dns1123_label(name),
                ));
            }
            seen.push(name);
            causes.extend(ports(container, &path));
        }
    }
    causes
}

/// `validateContainerPorts`.
fn ports(container: &Value, path: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    let mut names_seen: Vec<&str> = Vec::new();
    for (i, port) in items(container, "ports").iter().enumerate() {
        let at = format!("{path}.ports[{i}]");
        let name = str_of(port, "name");
        if !name.is_empty() {
            causes.extend(invalid_each(
                &format!("{at}.name"),
                &format!("{name:?}"),
                names::port_name(name),
            ));
            if names_seen.contains(&name) {
                causes.push(Cause::new(
                    "FieldValueDuplicate",
                    format!("{at}.name"),
                    format!("Duplicate value: {name:?}"),
                ));
            }
            names_seen.push(name);
        }
        causes.extend(port_number(port, "containerPort", &at, true));
        causes.extend(port_number(port, "hostPort", &at, false));
        let protocol = str_of(port, "protocol");
        if !protocol.is_empty() && !["TCP", "UDP", "SCTP"].contains(&protocol) {
            causes.push(not_supported(
                &format!("{at}.protocol"),
                protocol,
                &["SCTP", "TCP", "UDP"],
            ));
        }
    }
    causes
}

/// `IsValidPortNum` on a port field; `required` ports may not be 0 or absent.
fn port_number(port: &Value, key: &str, at: &str, required: bool) -> Vec<Cause> {
    let number = port.get(key).and_then(Value::as_i64).unwrap_or(0);
    match number {
        0 if required => vec![Cause::new(
            "FieldValueRequired",
            format!("{at}.{key}"),
            "Required value",
        )],
        0 => Vec::new(),
        1..=65535 => Vec::new(),
        _ => vec![Cause::new(
            "FieldValueInvalid",
            format!("{at}.{key}"),
            format!("Invalid value: {number}: must be between 1 and 65535, inclusive"),
        )],
    }
}

/// A toleration printed as Go's `%#v` of `core.Toleration`, as `field.Invalid` shows it.
fn go_toleration(t: &Value) -> String {
    let seconds = match t.get("tolerationSeconds").and_then(Value::as_i64) {
        Some(s) => format!("(*int64)({s})"),
        None => "(*int64)(nil)".to_string(),
    };
    format!(
        "core.Toleration{{Key:{:?}, Operator:{:?}, Value:{:?}, Effect:{:?}, TolerationSeconds:{seconds}}}",
        str_of(t, "key"),
        str_of(t, "operator"),
        str_of(t, "value"),
        str_of(t, "effect")
    )
}

/// `ValidateTolerations`.
fn tolerations(spec: &Value, field: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    for (i, t) in items(spec, "tolerations").iter().enumerate() {
        let at = format!("{field}.tolerations[{i}]");
        let (key, operator, value, effect) = (
            str_of(t, "key"),
            str_of(t, "operator"),
            str_of(t, "value"),
            str_of(t, "effect"),
        );
        if !key.is_empty() {
            causes.extend(invalid_each(
                &format!("{at}.key"),
                &format!("{key:?}"),
                names::qualified_name(key),
            ));
        } else if operator != "Exists" {
            causes.push(Cause::new("FieldValueInvalid", format!("{at}.operator"), format!("Invalid value: {operator:?}: operator must be Exists when `key` is empty, which means \"match all values and all keys\"")));
        }
        if t.get("tolerationSeconds").is_some_and(|s| !s.is_null()) && effect != "NoExecute" {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!("{at}.effect"),
                format!(
                    "Invalid value: {effect:?}: effect must be 'NoExecute' when `tolerationSeconds` is set"
                ),
            ));
        }
        match operator {
            "Equal" | "" => {
                let errors = names::label_value(value);
                if !errors.is_empty() {
                    causes.push(Cause::new(
                        "FieldValueInvalid",
                        format!("{at}.operator"),
                        format!("Invalid value: {value:?}: {}", errors.join(";")),
                    ));
                }
            }
            "Exists" if !value.is_empty() => causes.push(Cause::new(
                "FieldValueInvalid",
                format!("{at}.operator"),
                format!(
                    "Invalid value: {}: value must be empty when `operator` is 'Exists'",
                    go_toleration(t)
                ),
            )),
            "Exists" => {}
            other => causes.push(not_supported(
                &format!("{at}.operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect)
        {
            causes.push(not_supported(
                &format!("{at}.effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
    causes
}

/// `validateTopologySpreadConstraints`: maxSkew, topologyKey, whenUnsatisfiable, no repeated
/// {topologyKey, whenUnsatisfiable}, minDomains.
fn topology_spread(spec: &Value, field: &str) -> Vec<Cause> {
    let constraints = items(spec, "topologySpreadConstraints");
    let mut causes = Vec::new();
    for (i, c) in constraints.iter().enumerate() {
        let at = format!("{field}.topologySpreadConstraints[{i}]");
        let skew = c.get("maxSkew").and_then(Value::as_i64).unwrap_or(0);
        if skew <= 0 {
            causes.push(Cause::new(
                "FieldValueInvalid",
                format!("{at}.maxSkew"),
                format!("Invalid value: {skew}: must be greater than zero"),
            ));
        }
        let (key, action) = (str_of(c, "topologyKey"), str_of(c, "whenUnsatisfiable"));
        if key.is_empty() {
            causes.push(Cause::new(
                "FieldValueRequired",
                format!("{at}.topologyKey"),
                "Required value: can not be empty",
            ));
        }
        if !["DoNotSchedule", "ScheduleAnyway"].contains(&action) {
            causes.push(not_supported(
                &format!("{at}.whenUnsatisfiable"),
                action,
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        let repeated = constraints[i + 1..]
            .iter()
            .any(|o| str_of(o, "topologyKey") == key && str_of(o, "whenUnsatisfiable") == action);
        if repeated {
            causes.push(Cause::new(
                "FieldValueDuplicate",
                format!("{at}.{{topologyKey, whenUnsatisfiable}}"),
                format!("Duplicate value: \"{{{key}, {action}}}\""),
            ));
        }
        causes.extend(min_domains(c, action, &at));
    }
    causes
}

/// `validateMinDomains`.
fn min_domains(constraint: &Value, action: &str, at: &str) -> Vec<Cause> {
    let Some(min) = constraint.get("minDomains").and_then(Value::as_i64) else {
        return Vec::new();
    };
    let mut causes = Vec::new();
    if min <= 0 {
        causes.push(Cause::new(
            "FieldValueInvalid",
            format!("{at}.minDomains"),
            format!("Invalid value: {min}: must be greater than zero"),
        ));
    }
    if action != "DoNotSchedule" {
        causes.push(Cause::new(
            "FieldValueInvalid",
            format!("{at}.minDomains"),
            format!(
                "Invalid value: {min}: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"
            ),
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;
    use serde_json::json;

    fn rt(plural: &str) -> ResourceType {
        builtins().into_iter().find(|r| r.plural == plural).unwrap()
    }

    fn shown(object: &Value, plural: &str) -> Vec<String> {
        validate(&rt(plural), object)
            .iter()
            .map(Cause::display)
            .collect()
    }

    #[test]
    fn containers_and_ports() {
        let pod = json!({"spec": {"containers": [
            {"name": "app", "ports": [{"containerPort": 70000, "name": "HTTP"}]},
            {"name": "app"}]}});
        assert_eq!(
            shown(&pod, "pods"),
            [
                "spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain at least one letter (a-z)",
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[1].name: Duplicate value: \"app\"",
            ]
        );
    }

    #[test]
    fn tolerations_in_templates() {
        let deployment = json!({"spec": {"template": {"metadata": {"labels": {"a": "-"}},
            "spec": {"tolerations": [
            {"key": "k", "operator": "Exists", "value": "v"},
            {"operator": "Equal", "effect": "NoSchedule", "tolerationSeconds": 5},
            {"key": "k", "effect": "Sometimes"}]}}}});
        let causes = shown(&deployment, "deployments");
        assert!(causes[0].starts_with("spec.template.metadata.labels: Invalid value: \"-\""));
        assert_eq!(
            causes[1..],
            [
                "spec.template.spec.tolerations[0].operator: Invalid value: core.Toleration{Key:\"k\", Operator:\"Exists\", Value:\"v\", Effect:\"\", TolerationSeconds:(*int64)(nil)}: value must be empty when `operator` is 'Exists'",
                "spec.template.spec.tolerations[1].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                "spec.template.spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
                "spec.template.spec.tolerations[2].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ]
        );
    }

    #[test]
    fn topology_spread_and_priority_class() {
        let set = json!({"spec": {"template": {"spec": {"priorityClassName": "Not_Valid",
            "topologySpreadConstraints": [
            {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2},
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"},
            {"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "Never"}]}}}});
        let causes = shown(&set, "statefulsets");
        let c = "spec.template.spec.topologySpreadConstraints";
        assert_eq!(
            causes[..6],
            [
                format!("{c}[0].maxSkew: Invalid value: 0: must be greater than zero"),
                format!(
                    "{c}[0].{{topologyKey, whenUnsatisfiable}}: Duplicate value: \"{{zone, ScheduleAnyway}}\""
                ),
                format!(
                    "{c}[0].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"
                ),
                format!("{c}[2].topologyKey: Required value: can not be empty"),
                format!(
                    "{c}[2].whenUnsatisfiable: Unsupported value: \"Never\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""
                ),
                "spec.template.spec.priorityClassName: Invalid value: \"Not_Valid\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string(),
            ]
        );
    }
}
