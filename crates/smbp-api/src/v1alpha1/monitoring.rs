//! `spec.monitoring`: Prometheus Operator objects and Grafana dashboards, each created only when
//! enabled and only when its API is installed.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Monitoring integration.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSpec {
    /// A ServiceMonitor scraping the `metrics` port of store and sync pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_monitor: Option<ServiceMonitorSpec>,

    /// A PrometheusRule with Big Peer's alerts (each with a runbook link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_rule: Option<PrometheusRuleSpec>,

    /// ConfigMaps holding Grafana dashboards, for Grafana's dashboard sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grafana_dashboards: Option<GrafanaDashboardsSpec>,
}

/// The ServiceMonitor.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.scrapeTimeout) || self.scrapeTimeout <= self.interval")
    .message("spec.monitoring.serviceMonitor.scrapeTimeout must not exceed interval: lower scrapeTimeout or raise interval")
    .field_path(".scrapeTimeout"))]
pub struct ServiceMonitorSpec {
    /// Create the ServiceMonitor. Defaults to true when the section is present.
    #[serde(default = "crate::defaults::enabled")]
    pub enabled: bool,
    /// Scrape interval. Defaults to 30s.
    #[serde(default = "crate::defaults::scrape_interval")]
    #[schemars(schema_with = "crate::schema::duration")]
    #[x_kube(validation = Rule::new("self >= duration('5s')").message("spec.monitoring.serviceMonitor.interval must be at least 5s"))]
    pub interval: String,
    /// Scrape timeout. Unset uses Prometheus' default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::duration")]
    pub scrape_timeout: Option<String>,
    /// Labels for the ServiceMonitor, so your Prometheus' `serviceMonitorSelector` selects it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// The PrometheusRule.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRuleSpec {
    /// Create the PrometheusRule. Defaults to true when the section is present.
    #[serde(default = "crate::defaults::enabled")]
    pub enabled: bool,
    /// Labels for the PrometheusRule, so your Prometheus' `ruleSelector` selects it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Grafana dashboard ConfigMaps.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaDashboardsSpec {
    /// Create the dashboard ConfigMaps. Defaults to true when the section is present.
    #[serde(default = "crate::defaults::enabled")]
    pub enabled: bool,
    /// Labels Grafana's sidecar looks for. Defaults to `grafana_dashboard: "1"`.
    #[serde(default = "crate::defaults::grafana_dashboard_labels")]
    pub labels: BTreeMap<String, String>,
}
