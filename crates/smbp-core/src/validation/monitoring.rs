//! `spec.monitoring`: the labels put on the ServiceMonitor, PrometheusRule and dashboard
//! ConfigMap (what Prometheus and Grafana select them by), checked as Kubernetes labels.

use super::Report;
use super::kubernetes::meta;
use smbp_api::v1alpha1::BigPeerSpec;

/// Checks each monitoring child's user labels.
pub(super) fn check(report: &mut Report, spec: &BigPeerSpec) {
    let Some(monitoring) = &spec.monitoring else {
        return;
    };
    if let Some(sm) = &monitoring.service_monitor {
        meta::labels(report, &sm.labels, "spec.monitoring.serviceMonitor.labels");
    }
    if let Some(rule) = &monitoring.prometheus_rule {
        meta::labels(
            report,
            &rule.labels,
            "spec.monitoring.prometheusRule.labels",
        );
    }
    if let Some(dashboards) = &monitoring.grafana_dashboards {
        meta::labels(
            report,
            &dashboards.labels,
            "spec.monitoring.grafanaDashboards.labels",
        );
    }
}
