//! kube-apiserver's own validation rules, ported from `pkg/apis/core/validation`,
//! `pkg/apis/apps/validation` and apimachinery, for the Kubernetes objects a BigPeer's embedded
//! fields become (pod templates, resources, scheduling, labels and annotations). Each rule reports
//! on the BigPeer field the value came from, with upstream's message (`Invalid value: "x": …`,
//! `Unsupported value: …`, `Required value: …`) so what the user reads matches what a cluster
//! would have said about the child object.

pub mod affinity;
pub mod meta;
pub mod names;
pub mod pod;
pub mod resources;
pub mod scheduling;

/// `field.Invalid`'s body for a string value.
pub fn invalid(value: &str, detail: &str) -> String {
    format!("Invalid value: {value:?}: {detail}")
}

/// `field.Invalid`'s body for a number.
pub fn invalid_number(value: impl Into<i64>, detail: &str) -> String {
    format!("Invalid value: {}: {detail}", value.into())
}

/// `field.NotSupported`'s body.
pub fn unsupported(value: &str, supported: &[&str]) -> String {
    let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "Unsupported value: {value:?}: supported values: {}",
        quoted.join(", ")
    )
}

/// `field.Required`'s body.
pub fn required(detail: &str) -> String {
    if detail.is_empty() {
        "Required value".into()
    } else {
        format!("Required value: {detail}")
    }
}

/// `field.Forbidden`'s body.
pub fn forbidden(detail: &str) -> String {
    format!("Forbidden: {detail}")
}

/// `field.Duplicate`'s body.
pub fn duplicate(value: &str) -> String {
    format!("Duplicate value: {value:?}")
}
