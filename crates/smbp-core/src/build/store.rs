//! The store: a StatefulSet with one volume per replica, its headless Service (stable per-pod DNS
//! for replication), its client Service and its PodDisruptionBudget.

use super::config::DATA_DIR;
use super::meta::Context;
use super::pod::{self, PodParts};
use super::rollout::Rollout;
use k8s_openapi::api::apps::v1::{
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy,
    StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, Service, ServicePort, ServiceSpec,
    VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use smbp_api::defaults;
use smbp_api::v1alpha1::RetentionPolicy;
use std::collections::BTreeMap;

const COMPONENT: &str = "store";

/// The store StatefulSet. Pods start in parallel (replicas find each other through the headless
/// Service); the volume retention maps `spec.store.storage.retention` one to one. The template
/// runs `rollout.store`; pods below `rollout.store_partition` keep their revision, and an updated
/// pod counts as available only after `spec.upgrade.minReadySeconds`.
pub fn stateful_set(
    ctx: &Context,
    checksums: &BTreeMap<String, String>,
    rollout: &Rollout,
) -> StatefulSet {
    let store = &ctx.spec().store;
    let upgrade = ctx.spec().upgrade.clone().unwrap_or_default();
    let retention = |policy: RetentionPolicy| match policy {
        RetentionPolicy::Retain => "Retain".to_string(),
        RetentionPolicy::Delete => "Delete".to_string(),
    };
    let template = pod::template(
        ctx,
        PodParts {
            component: COMPONENT,
            release: &rollout.store,
            resources: store
                .resources
                .clone()
                .unwrap_or_else(defaults::store_resources),
            scheduling: store.scheduling.as_ref(),
            overrides: store.pod_overrides.as_ref(),
            checksums,
            extra_mounts: vec![pod::mount("data", DATA_DIR)],
        },
    );
    StatefulSet {
        metadata: ctx.meta(ctx.names.store(), COMPONENT),
        spec: Some(StatefulSetSpec {
            replicas: Some(store.replicas),
            service_name: Some(ctx.names.store_headless()),
            selector: LabelSelector {
                match_labels: Some(ctx.selector(COMPONENT)),
                ..LabelSelector::default()
            },
            pod_management_policy: Some("Parallel".into()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateStatefulSetStrategy {
                    partition: Some(rollout.store_partition),
                    max_unavailable: Some(IntOrString::Int(upgrade.max_unavailable)),
                }),
            }),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some(retention(store.storage.retention.when_deleted)),
                    when_scaled: Some(retention(store.storage.retention.when_scaled)),
                },
            ),
            revision_history_limit: Some(10),
            min_ready_seconds: Some(upgrade.min_ready_seconds),
            template,
            volume_claim_templates: Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".into()),
                    labels: Some(ctx.selector(COMPONENT)),
                    ..ObjectMeta::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    storage_class_name: store.storage.storage_class_name.clone(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            Quantity(store.storage.size.clone()),
                        )])),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                ..PersistentVolumeClaim::default()
            }]),
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

fn service_port(name: &str, port: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port,
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    }
}

/// The headless Service: per-pod DNS names, published before pods are ready so replicas can find
/// each other while they start.
pub fn headless_service(ctx: &Context) -> Service {
    Service {
        metadata: ctx.meta(ctx.names.store_headless(), COMPONENT),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(ctx.selector(COMPONENT)),
            ports: Some(vec![
                service_port("peer", ctx.workload.peer_port),
                service_port("http", ctx.workload.http_port),
            ]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The store's client Service, used by the sync tier.
pub fn client_service(ctx: &Context) -> Service {
    Service {
        metadata: ctx.meta(ctx.names.store(), COMPONENT),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(ctx.selector(COMPONENT)),
            ports: Some(vec![service_port("http", ctx.workload.http_port)]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The disruption budget: voluntary disruptions (node drains) may take down as many store pods
/// as an upgrade may (`spec.upgrade.maxUnavailable`, default 1).
pub fn disruption_budget(ctx: &Context) -> PodDisruptionBudget {
    let max_unavailable = ctx
        .spec()
        .upgrade
        .as_ref()
        .map(|u| u.max_unavailable)
        .unwrap_or_else(defaults::max_unavailable);
    PodDisruptionBudget {
        metadata: ctx.meta(ctx.names.store(), COMPONENT),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(max_unavailable)),
            selector: Some(LabelSelector {
                match_labels: Some(ctx.selector(COMPONENT)),
                ..LabelSelector::default()
            }),
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}
