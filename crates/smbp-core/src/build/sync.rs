//! The sync tier: a Deployment (a fixed count, or left to the HorizontalPodAutoscaler), the
//! Service devices reach it through (type, annotations, class and source ranges from
//! `spec.network.service`), and the autoscaler.

use super::meta::Context;
use super::pod::{self, PodParts};
use super::rollout::ReleaseImage;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use smbp_api::defaults;
use smbp_api::v1alpha1::{ServiceType, TrafficPolicy};
use std::collections::BTreeMap;

const COMPONENT: &str = "sync";

/// The sync Deployment. With autoscaling the replica count is left out, so the operator never
/// fights the autoscaler over it. Rolls with a surge and no unavailable pod; a rollout that makes
/// no progress for `spec.upgrade.podReadyTimeout` is reported stalled (`ProgressDeadlineExceeded`),
/// which fails an upgrade step.
pub fn deployment(
    ctx: &Context,
    checksums: &BTreeMap<String, String>,
    release: &ReleaseImage,
) -> Deployment {
    let upgrade = ctx.spec().upgrade.clone().unwrap_or_default();
    let progress_deadline = crate::duration::parse(&upgrade.pod_ready_timeout)
        .map_or(600, |d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
    let sync = &ctx.spec().sync;
    let replicas = match (&sync.autoscaling, sync.replicas) {
        (Some(_), _) => None,
        (None, Some(n)) => Some(n),
        (None, None) => Some(defaults::sync_replicas()),
    };
    Deployment {
        metadata: ctx.meta(ctx.names.sync(), COMPONENT),
        spec: Some(DeploymentSpec {
            replicas,
            selector: LabelSelector {
                match_labels: Some(ctx.selector(COMPONENT)),
                ..LabelSelector::default()
            },
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(progress_deadline),
            template: pod::template(
                ctx,
                PodParts {
                    component: COMPONENT,
                    release,
                    resources: sync
                        .resources
                        .clone()
                        .unwrap_or_else(defaults::sync_resources),
                    scheduling: sync.scheduling.as_ref(),
                    overrides: sync.pod_overrides.as_ref(),
                    checksums,
                    extra_mounts: Vec::new(),
                },
            ),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The Service devices connect to. Only the `http` port: metrics are scraped through the
/// separate metrics Service, so a public load balancer never exposes them.
pub fn service(ctx: &Context) -> Service {
    let exposure = ctx
        .spec()
        .network
        .as_ref()
        .and_then(|n| n.service.clone())
        .unwrap_or_default();
    let external = exposure.type_ != ServiceType::ClusterIP;
    let is_lb = exposure.type_ == ServiceType::LoadBalancer;
    let mut meta = ctx.meta(ctx.names.sync(), COMPONENT);
    if !exposure.annotations.is_empty() {
        meta.annotations = Some(exposure.annotations.clone());
    }
    let type_ = match exposure.type_ {
        ServiceType::ClusterIP => "ClusterIP",
        ServiceType::NodePort => "NodePort",
        ServiceType::LoadBalancer => "LoadBalancer",
    };
    Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: Some(type_.into()),
            selector: Some(ctx.selector(COMPONENT)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: ctx.workload.http_port,
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                node_port: exposure.node_port.filter(|_| external),
                ..ServicePort::default()
            }]),
            load_balancer_class: exposure.load_balancer_class.clone().filter(|_| is_lb),
            load_balancer_source_ranges: (is_lb
                && !exposure.load_balancer_source_ranges.is_empty())
            .then(|| exposure.load_balancer_source_ranges.clone()),
            external_traffic_policy: exposure.external_traffic_policy.filter(|_| external).map(
                |p| match p {
                    TrafficPolicy::Cluster => "Cluster".into(),
                    TrafficPolicy::Local => "Local".into(),
                },
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The autoscaler, when `spec.sync.autoscaling` is set: CPU utilisation of the requests.
pub fn autoscaler(ctx: &Context) -> Option<HorizontalPodAutoscaler> {
    let autoscaling = ctx.spec().sync.autoscaling.as_ref()?;
    Some(HorizontalPodAutoscaler {
        metadata: ctx.meta(ctx.names.sync(), COMPONENT),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: ctx.names.sync(),
            },
            min_replicas: Some(autoscaling.min_replicas),
            max_replicas: autoscaling.max_replicas,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(autoscaling.target_cpu_utilization_percentage),
                        ..MetricTarget::default()
                    },
                }),
                ..MetricSpec::default()
            }]),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
}
