//! Labels and annotations of the children that carry the user's (`ValidateLabels`,
//! `ValidateAnnotations` and `ValidateAnnotationsSize` of apimachinery's metav1 and
//! core validation).

use super::names::{label_value, qualified_name};
use super::{invalid, names};
use crate::validation::Report;
use std::collections::BTreeMap;

/// `TotalAnnotationSizeLimitB`: the most bytes of keys and values one object's annotations take.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// `ValidateLabels`: keys are qualified names, values label values.
pub fn labels(report: &mut Report, labels: &BTreeMap<String, String>, path: &str) {
    for (key, value) in labels {
        let field = format!("{path}[{key:?}]");
        for msg in qualified_name(key) {
            report.error(&field, invalid(key, &msg));
        }
        for msg in label_value(value) {
            report.error(&field, invalid(value, &msg));
        }
    }
}

/// `ValidateAnnotations`: keys are qualified names (case aside), and keys plus values take at
/// most [`TOTAL_ANNOTATION_SIZE_LIMIT`] bytes together with `reserved`, the bytes of the
/// annotations the operator adds to the same object.
pub fn annotations(
    report: &mut Report,
    annotations: &BTreeMap<String, String>,
    path: &str,
    reserved: usize,
) {
    for key in annotations.keys() {
        for msg in names::qualified_name(&key.to_lowercase()) {
            report.error(format!("{path}[{key:?}]"), invalid(key, &msg));
        }
    }
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size + reserved > TOTAL_ANNOTATION_SIZE_LIMIT {
        report.error(
            path,
            format!(
                "Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes (these take {size}, and the operator's own annotations {reserved})"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(report: &Report) -> Vec<String> {
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn validate_labels_checks_keys_and_values() {
        let mut report = Report::default();
        let map = BTreeMap::from([
            ("ok/key".to_string(), "value".to_string()),
            ("bad key".to_string(), "-bad".to_string()),
        ]);
        labels(&mut report, &map, "spec.x.labels");
        let found = fields(&report);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with(
            "spec.x.labels[\"bad key\"]: Invalid value: \"bad key\": name part must consist of"
        ));
        assert!(
            found[1].contains("Invalid value: \"-bad\": a valid label must be an empty string")
        );
    }

    #[test]
    fn validate_annotations_ignores_case_and_counts_bytes_like_upstream() {
        let mut report = Report::default();
        let map = BTreeMap::from([("Example.com/Key".to_string(), "v".to_string())]);
        annotations(&mut report, &map, "a", 0);
        assert!(report.problems.is_empty(), "{report:?}");
        let big = BTreeMap::from([("k".to_string(), "v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1))]);
        annotations(&mut report, &big, "a", 0);
        assert!(
            report.problems.is_empty(),
            "exactly at the limit: {report:?}"
        );
        annotations(&mut report, &big, "a", 1);
        assert_eq!(
            fields(&report),
            [
                "a: Too long: may not be more than 262144 bytes (these take 262144, and the operator's own annotations 1)"
            ]
        );
    }
}
