//! `ValidateService`'s port rules: ports required unless headless or ExternalName, names
//! required when there are several (DNS labels, unique), port numbers in range, protocols, and
//! `targetPort` a valid number or IANA name.

use super::names;
use crate::error::Cause;
use serde_json::Value;

/// The port causes of a Service.
pub fn validate(service: &Value) -> Vec<Cause> {
    let spec = &service["spec"];
    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
    let headless = spec["clusterIP"] == "None";
    let ports = spec["ports"].as_array().map_or(&[][..], Vec::as_slice);
    let mut causes = Vec::new();
    if ports.is_empty() && kind != "ExternalName" && !headless {
        causes.push(Cause::new(
            "FieldValueRequired",
            "spec.ports",
            "Required value",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let at = format!("spec.ports[{i}]");
        let name = port["name"].as_str().unwrap_or("");
        if name.is_empty() && ports.len() > 1 {
            causes.push(Cause::new(
                "FieldValueRequired",
                format!("{at}.name"),
                "Required value",
            ));
        } else if !name.is_empty() {
            causes.extend(names::dns1123_label(name).into_iter().map(|m| {
                Cause::new(
                    "FieldValueInvalid",
                    format!("{at}.name"),
                    format!("Invalid value: {name:?}: {m}"),
                )
            }));
            if seen.contains(&name) {
                causes.push(Cause::new(
                    "FieldValueDuplicate",
                    format!("{at}.name"),
                    format!("Duplicate value: {name:?}"),
                ));
            }
            seen.push(name);
        }
        causes.extend(port_number(&port["port"], &format!("{at}.port")));
        causes.extend(target_port(
            &port["targetPort"],
            &format!("{at}.targetPort"),
        ));
    }
    causes
}

/// `IsValidPortNum` on a required port number.
fn port_number(value: &Value, field: &str) -> Option<Cause> {
    let number = value.as_i64().unwrap_or(0);
    (!(1..=65535).contains(&number)).then(|| {
        Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {number}: must be between 1 and 65535, inclusive"),
        )
    })
}

/// `ValidatePortNumOrName`; an absent target port defaults to the port.
fn target_port(value: &Value, field: &str) -> Vec<Cause> {
    match value {
        Value::Number(_) => port_number(value, field).into_iter().collect(),
        Value::String(name) => names::port_name(name)
            .into_iter()
            .map(|m| {
                Cause::new(
                    "FieldValueInvalid",
                    field,
                    format!("Invalid value: {name:?}: {m}"),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_ports() {
        let service = json!({"spec": {"ports": [
            {"name": "http", "port": 80, "targetPort": "web"},
            {"port": 70000, "targetPort": 0}]}});
        let shown: Vec<String> = validate(&service).iter().map(Cause::display).collect();
        assert_eq!(
            shown,
            [
                "spec.ports[1].name: Required value",
                "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
            ]
        );
        assert!(validate(&json!({"spec": {"clusterIP": "None"}})).is_empty());
        assert_eq!(
            validate(&json!({"spec": {}}))[0].display(),
            "spec.ports: Required value"
        );
    }
}
