//! `spec.upgrade`: the maintenance window's time zone, which only the time zone database knows
//! (the CRD's rules check its start and duration).

use super::Report;
use crate::upgrade::window::Window;
use smbp_api::v1alpha1::BigPeerSpec;

/// Checks `spec.upgrade.maintenanceWindow`.
pub fn check(report: &mut Report, spec: &BigPeerSpec) {
    let window = spec
        .upgrade
        .as_ref()
        .and_then(|u| u.maintenance_window.as_ref());
    if let Some(Err(error)) = window.map(Window::parse) {
        report.error(
            format!("spec.upgrade.maintenanceWindow.{}", error.field),
            error.message,
        );
    }
}
