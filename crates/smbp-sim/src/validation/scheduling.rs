//! `ValidatePriorityClass` and `ValidatePriorityClassUpdate`: the `system-` prefix is reserved
//! for the built-in classes, user classes stay at or below 1000000000, and the value and
//! preemption policy never change.

use crate::error::Cause;
use crate::priority::SYSTEM_CLASSES;
use serde_json::Value;

/// `HighestUserDefinablePriority`.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

/// The rules of a PriorityClass and, on updates, its immutable fields.
pub fn validate(class: &Value, old: Option<&Value>) -> Vec<Cause> {
    let name = class
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let value = class.get("value").and_then(Value::as_i64).unwrap_or(0);
    let mut causes = Vec::new();
    if name.starts_with("system-") {
        let known = SYSTEM_CLASSES.iter().find(|(n, _, _)| *n == name);
        let error = match known {
            None => Some(format!("{name} is not a known system priority class")),
            Some((_, v, _)) if *v != value => {
                Some(format!("value of {name} PriorityClass must be {v}"))
            }
            Some(_) => None,
        };
        if let Some(error) = error {
            causes.push(Cause::new("FieldValueForbidden", "metadata.name", format!("Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: {error}")));
        }
    } else if value > HIGHEST_USER_PRIORITY {
        causes.push(Cause::new(
            "FieldValueForbidden",
            "value",
            format!(
                "Forbidden: maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"
            ),
        ));
    }
    if let Some(old) = old {
        if old.get("value") != class.get("value") {
            causes.push(Cause::new(
                "FieldValueForbidden",
                "value",
                "Forbidden: may not be changed in an update.",
            ));
        }
        if old.get("preemptionPolicy") != class.get("preemptionPolicy") {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "preemptionPolicy",
                format!(
                    "Invalid value: {}: field is immutable",
                    class.get("preemptionPolicy").unwrap_or(&Value::Null)
                ),
            ));
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reserved_names_high_values_and_updates() {
        let class = |name: &str, value: i64| json!({"metadata": {"name": name}, "value": value});
        assert!(validate(&class("system-node-critical", 2_000_001_000), None).is_empty());
        assert_eq!(
            validate(&class("system-mine", 5), None)[0].display(),
            "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
        );
        assert_eq!(
            validate(&class("high", 1_000_000_001), None)[0].display(),
            "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
        );
        assert_eq!(
            validate(&class("high", 2), Some(&class("high", 1)))[0].display(),
            "value: Forbidden: may not be changed in an update."
        );
    }
}
