//! Paused reconciliation, as CloudNativePG (`cnpg.io/reconciliationLoop`) and Strimzi
//! (`strimzi.io/pause-reconciliation`) offer it: the annotation `smbp.dev/reconcile-paused:
//! "true"` on a BigPeer stops every write the operator makes for it — children, upgrade steps,
//! finalizer, status — except the `ReconcilePaused` condition, which says since when and why.
//! Removing the annotation (or setting `"false"`) resumes from what is observed then. Deleting a
//! paused BigPeer is not held: deletion is an explicit instruction, so its finalizer runs.
//! docs/runbooks.md is the user's guide.

use crate::validation::{Problem, Severity};
use std::collections::BTreeMap;

/// The annotation that pauses reconciliation.
pub const PAUSE_ANNOTATION: &str = "smbp.dev/reconcile-paused";
/// The condition that reports a pause.
pub const PAUSED_CONDITION: &str = "ReconcilePaused";
/// The reason of the `ReconcilePaused` condition.
pub const PAUSED_REASON: &str = "PausedByAnnotation";

/// Whether `annotations` pause reconciliation: `"true"` pauses, `"false"` or no annotation does
/// not; any other value is a problem naming the annotation and the values it takes.
pub fn paused(annotations: Option<&BTreeMap<String, String>>) -> Result<bool, Problem> {
    match annotations
        .and_then(|a| a.get(PAUSE_ANNOTATION))
        .map(String::as_str)
    {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Problem {
            severity: Severity::Error,
            field: format!("metadata.annotations[{PAUSE_ANNOTATION}]"),
            message: format!(
                "must be \"true\" or \"false\", not {other:?}: set \"true\" to pause \
                 reconciliation of this BigPeer; remove the annotation or set \"false\" to resume"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(PAUSE_ANNOTATION.to_string(), value.to_string())])
    }

    #[test]
    fn only_true_pauses_and_an_unknown_value_names_the_annotation_and_the_values() {
        assert_eq!(paused(None), Ok(false));
        assert_eq!(paused(Some(&BTreeMap::new())), Ok(false));
        assert_eq!(paused(Some(&with("false"))), Ok(false));
        assert_eq!(paused(Some(&with("true"))), Ok(true));
        for bad in ["yes", "True", "", "1"] {
            let problem = paused(Some(&with(bad))).unwrap_err();
            assert_eq!(
                problem.field,
                "metadata.annotations[smbp.dev/reconcile-paused]"
            );
            assert!(
                problem
                    .message
                    .starts_with("must be \"true\" or \"false\", not"),
                "{problem}"
            );
            assert!(problem.message.contains(&format!("{bad:?}")), "{problem}");
        }
    }
}
