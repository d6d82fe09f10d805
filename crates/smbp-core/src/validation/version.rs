//! `spec.version`: a known, installable release, and an allowed upgrade path from the running one.

use super::Report;
use crate::catalogue;
use semver::Version;

/// Checks `version`, as an upgrade from `running` when the pods run one.
pub(super) fn check(report: &mut Report, version: &str, running: Option<&Version>) {
    let catalogue = catalogue::builtin();
    let target = match Version::parse(version) {
        Ok(v) => v,
        Err(e) => {
            report.error(
                "spec.version",
                format!(
                    "{version:?} is not a semantic version ({e}); use a release such as {}",
                    catalogue.latest().version
                ),
            );
            return;
        }
    };
    match running {
        None => {
            if let Err(e) = catalogue.installable(&target) {
                report.error("spec.version", e.to_string());
            }
        }
        Some(running) => match catalogue.upgrade_path(running, &target) {
            Ok(path) if !path.stops().is_empty() => report.warning(
                "spec.version",
                format!("upgrade {path} passes through required stops; each is rolled out and migrated in turn"),
            ),
            Ok(_) => {}
            Err(e) => report.error("spec.version", e.to_string()),
        },
    }
}
