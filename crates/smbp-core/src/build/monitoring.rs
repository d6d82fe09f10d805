//! Monitoring: the metrics Service every pod is scraped through, the ServiceMonitor, the
//! PrometheusRule (alerts with runbook links into docs/runbooks.md) and the Grafana dashboard
//! ConfigMap. Each is built only when its part of `spec.monitoring` is enabled; the apply stage
//! skips the Prometheus Operator kinds when their API is not installed.

use super::meta::Context;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use smbp_thirdparty::prometheus::{
    PrometheusRule, PrometheusRuleGroups, PrometheusRuleGroupsRules, PrometheusRuleSpec,
    ServiceMonitor, ServiceMonitorEndpoints, ServiceMonitorSelector, ServiceMonitorSpec,
};
use std::collections::BTreeMap;

const COMPONENT: &str = "monitoring";
/// Where the alerts' runbooks live unless the operator is told otherwise.
pub const RUNBOOK_BASE: &str =
    "https://github.com/smbp-dev/smbp-operator/blob/main/docs/runbooks.md";
const DASHBOARD: &str = include_str!("../../data/dashboards/bigpeer-overview.json");

/// The metrics Service: the `metrics` port of every store and sync pod, cluster-internal only.
pub fn metrics_service(ctx: &Context) -> Service {
    let mut selector = ctx.selector(COMPONENT);
    selector.remove(super::meta::COMPONENT_LABEL);
    Service {
        metadata: ctx.meta(ctx.names.metrics(), COMPONENT),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some("metrics".into()),
                port: ctx.workload.metrics_port,
                target_port: Some(IntOrString::String("metrics".into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The ServiceMonitor, the PrometheusRule and the dashboard ConfigMap, each when enabled.
pub fn children(
    ctx: &Context,
    observed: &super::Observed,
) -> (
    Option<ServiceMonitor>,
    Option<PrometheusRule>,
    Option<ConfigMap>,
) {
    let Some(spec) = &ctx.spec().monitoring else {
        return (None, None, None);
    };
    let runbooks = observed
        .runbook_base_url
        .as_deref()
        .unwrap_or(RUNBOOK_BASE)
        .trim_end_matches('/');
    let service_monitor = spec
        .service_monitor
        .as_ref()
        .filter(|s| s.enabled)
        .map(|s| {
            let mut sm = ServiceMonitor::new(
                &ctx.names.monitoring(),
                ServiceMonitorSpec {
                    selector: ServiceMonitorSelector {
                        match_labels: Some(ctx.selector(COMPONENT)),
                        match_expressions: None,
                    },
                    endpoints: vec![ServiceMonitorEndpoints {
                        port: Some("metrics".into()),
                        path: Some("/metrics".into()),
                        interval: Some(s.interval.clone()),
                        scrape_timeout: s.scrape_timeout.clone(),
                        ..ServiceMonitorEndpoints::default()
                    }],
                    ..ServiceMonitorSpec::default()
                },
            );
            sm.metadata = with_labels(ctx.meta(ctx.names.monitoring(), COMPONENT), &s.labels);
            sm
        });
    let prometheus_rule = spec
        .prometheus_rule
        .as_ref()
        .filter(|r| r.enabled)
        .map(|r| {
            let mut rule = PrometheusRule::new(
                &ctx.names.monitoring(),
                PrometheusRuleSpec {
                    groups: Some(vec![PrometheusRuleGroups {
                        name: format!("bigpeer.{}.{}", ctx.namespace(), ctx.bigpeer.name),
                        rules: Some(alerts(ctx, runbooks)),
                        ..PrometheusRuleGroups::default()
                    }]),
                },
            );
            rule.metadata = with_labels(ctx.meta(ctx.names.monitoring(), COMPONENT), &r.labels);
            rule
        });
    let dashboards = spec
        .grafana_dashboards
        .as_ref()
        .filter(|d| d.enabled)
        .map(|d| ConfigMap {
            metadata: with_labels(ctx.meta(ctx.names.dashboards(), COMPONENT), &d.labels),
            data: Some(BTreeMap::from([(
                "bigpeer-overview.json".to_string(),
                DASHBOARD.to_string(),
            )])),
            ..ConfigMap::default()
        });
    (service_monitor, prometheus_rule, dashboards)
}

fn with_labels(
    mut meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    extra: &BTreeMap<String, String>,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in extra {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    meta
}

/// The alert names, in the order the rule lists them (docs/runbooks.md has a section for each).
pub const ALERTS: [&str; 7] = [
    "BigPeerStoreQuorumLost",
    "BigPeerStoreReplicasUnavailable",
    "BigPeerSyncUnavailable",
    "BigPeerPodRestarting",
    "BigPeerStoreVolumeFillingUp",
    "BigPeerMetricsDown",
    "BigPeerCertificateExpiringSoon",
];

fn alerts(ctx: &Context, runbooks: &str) -> Vec<PrometheusRuleGroupsRules> {
    let ns = ctx.namespace();
    let name = &ctx.bigpeer.name;
    let store = ctx.names.store();
    let sts = format!("namespace=\"{ns}\",statefulset=\"{store}\"");
    let pods = format!("namespace=\"{ns}\",pod=~\"{name}-(store|sync)-.*\"");
    let pvcs = format!("namespace=\"{ns}\",persistentvolumeclaim=~\"data-{store}-.*\"");
    let quorum = ctx.spec().store.replicas / 2 + 1;
    let mut rules = vec![
        (
            ALERTS[0],
            format!("kube_statefulset_status_replicas_ready{{{sts}}} < {quorum}"),
            "2m",
            "critical",
            format!(
                "Fewer than {quorum} store replicas of BigPeer {ns}/{name} are ready: the store has lost its quorum and rejects writes."
            ),
        ),
        (
            ALERTS[1],
            format!(
                "kube_statefulset_status_replicas_ready{{{sts}}} < kube_statefulset_replicas{{{sts}}}"
            ),
            "10m",
            "warning",
            format!("Store replicas of BigPeer {ns}/{name} have been unavailable for 10 minutes."),
        ),
        (
            ALERTS[2],
            format!(
                "kube_deployment_status_replicas_available{{namespace=\"{ns}\",deployment=\"{}\"}} == 0",
                ctx.names.sync()
            ),
            "5m",
            "critical",
            format!("No sync pod of BigPeer {ns}/{name} is available: devices cannot connect."),
        ),
        (
            ALERTS[3],
            format!("increase(kube_pod_container_status_restarts_total{{{pods}}}[15m]) > 3"),
            "0m",
            "warning",
            format!("A pod of BigPeer {ns}/{name} restarted more than 3 times in 15 minutes."),
        ),
        (
            ALERTS[4],
            format!(
                "kubelet_volume_stats_available_bytes{{{pvcs}}} / kubelet_volume_stats_capacity_bytes{{{pvcs}}} < 0.15"
            ),
            "15m",
            "warning",
            format!("A store volume of BigPeer {ns}/{name} has less than 15% free space."),
        ),
        (
            ALERTS[5],
            format!(
                "up{{namespace=\"{ns}\",service=\"{}\"}} == 0",
                ctx.names.metrics()
            ),
            "5m",
            "warning",
            format!("Prometheus cannot scrape a pod of BigPeer {ns}/{name}."),
        ),
    ];
    if ctx
        .spec()
        .tls
        .as_ref()
        .is_some_and(|t| t.cert_manager.is_some())
    {
        rules.push((
            ALERTS[6],
            format!(
                "certmanager_certificate_expiration_timestamp_seconds{{namespace=\"{ns}\",name=\"{}\"}} - time() < 7 * 24 * 3600",
                ctx.names.certificate()
            ),
            "1h",
            "warning",
            format!("The certificate of BigPeer {ns}/{name} expires within 7 days and has not been renewed."),
        ));
    }
    rules
        .into_iter()
        .map(
            |(alert, expr, for_, severity, description)| PrometheusRuleGroupsRules {
                alert: Some(alert.to_string()),
                expr: IntOrString::String(expr),
                r#for: (for_ != "0m").then(|| for_.to_string()),
                labels: Some(BTreeMap::from([
                    ("severity".to_string(), severity.to_string()),
                    ("bigpeer".to_string(), name.clone()),
                ])),
                annotations: Some(BTreeMap::from([
                    ("summary".to_string(), alert_summary(alert).to_string()),
                    ("description".to_string(), description),
                    (
                        "runbook_url".to_string(),
                        format!("{runbooks}#{}", alert.to_lowercase()),
                    ),
                ])),
                ..PrometheusRuleGroupsRules::default()
            },
        )
        .collect()
}

fn alert_summary(alert: &str) -> &'static str {
    match alert {
        "BigPeerStoreQuorumLost" => "Big Peer store has lost quorum",
        "BigPeerStoreReplicasUnavailable" => "Big Peer store replicas unavailable",
        "BigPeerSyncUnavailable" => "Big Peer sync tier unavailable",
        "BigPeerPodRestarting" => "Big Peer pod restarting",
        "BigPeerStoreVolumeFillingUp" => "Big Peer store volume filling up",
        "BigPeerMetricsDown" => "Big Peer metrics cannot be scraped",
        _ => "Big Peer certificate expiring soon",
    }
}
