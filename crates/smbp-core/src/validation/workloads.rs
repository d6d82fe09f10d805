//! `spec.store` and `spec.sync`: replica counts, resources, scheduling and pod overrides — each
//! embedded Kubernetes value checked with the apiserver's rules for the StatefulSet or
//! Deployment pod template it ends up in.

use super::kubernetes::{affinity, invalid, meta, names, pod, resources, scheduling};
use super::{Report, STORE_CONTAINER, SYNC_CONTAINER, embedded, security};
use crate::build::{COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL};
use smbp_api::defaults;
use smbp_api::v1alpha1::{BigPeerSpec, PodOverrides, Scheduling, SyncSpec};

/// Checks `spec.store` (and the quorum risk of `spec.upgrade.maxUnavailable`).
pub(super) fn check_store(report: &mut Report, spec: &BigPeerSpec) {
    let store = &spec.store;
    if store.replicas > 1 && store.replicas % 2 == 0 {
        report.warning(
            "spec.store.replicas",
            format!(
                "{} replicas tolerate no more failures than {}; use an odd count",
                store.replicas,
                store.replicas - 1
            ),
        );
    }
    let max_unavailable = spec
        .upgrade
        .as_ref()
        .map_or(defaults::max_unavailable(), |u| u.max_unavailable);
    let quorum_loss_at = store.replicas / 2 + 1;
    if store.replicas > 1 && max_unavailable >= quorum_loss_at {
        report.warning(
            "spec.upgrade.maxUnavailable",
            format!("{max_unavailable} of {} store pods down at once loses the store's quorum during upgrades; use at most {}", store.replicas, quorum_loss_at - 1),
        );
    }
    if let Some(class) = &store.storage.storage_class_name {
        // The volume claims' `storageClassName` (`ValidateClassName`, a DNS subdomain).
        let field = "spec.store.storage.storageClassName";
        for msg in names::dns1123_subdomain(class) {
            report.error(field, invalid(class, &msg));
        }
    }
    if let Some(r) = &store.resources {
        resources::requirements(report, r, "spec.store.resources");
    }
    check_scheduling(report, store.scheduling.as_ref(), "spec.store.scheduling");
    let overrides = store.pod_overrides.as_ref();
    check_pod_overrides(
        report,
        overrides,
        "spec.store.podOverrides",
        STORE_CONTAINER,
        spec,
    );
}

/// Checks `spec.sync`; `spec` is the whole spec (the security level of the overrides).
pub(super) fn check_sync(report: &mut Report, spec: &BigPeerSpec) {
    let sync: &SyncSpec = &spec.sync;
    if let Some(r) = &sync.resources {
        resources::requirements(report, r, "spec.sync.resources");
    }
    check_scheduling(report, sync.scheduling.as_ref(), "spec.sync.scheduling");
    let overrides = sync.pod_overrides.as_ref();
    check_pod_overrides(
        report,
        overrides,
        "spec.sync.podOverrides",
        SYNC_CONTAINER,
        spec,
    );
    if sync.autoscaling.is_some()
        && let Some(resources) = &sync.resources
        && !resources
            .requests
            .as_ref()
            .is_some_and(|r| r.contains_key("cpu"))
    {
        report.error(
            "spec.sync.resources.requests.cpu",
            "autoscaling on CPU utilisation needs a CPU request: set spec.sync.resources.requests.cpu or remove spec.sync.resources to use the default",
        );
    }
}

fn check_scheduling(report: &mut Report, scheduling: Option<&Scheduling>, path: &str) {
    let Some(scheduling) = scheduling else { return };
    meta::labels(
        report,
        &scheduling.node_selector,
        &format!("{path}.nodeSelector"),
    );
    scheduling::tolerations(
        report,
        &scheduling.tolerations,
        &format!("{path}.tolerations"),
    );
    let spread = format!("{path}.topologySpreadConstraints");
    scheduling::topology_spread_constraints(
        report,
        &scheduling.topology_spread_constraints,
        &spread,
    );
    if let Some(name) = &scheduling.priority_class_name {
        scheduling::priority_class_name(report, name, &format!("{path}.priorityClassName"));
    }
    if let Some(raw) = &scheduling.affinity {
        let path = format!("{path}.affinity");
        if let Some(parsed) = embedded::decode(report, raw, &path, "Affinity") {
            affinity::affinity(report, &parsed, &path);
        }
    }
}

/// The pod labels the workload's selector matches: an override may not change them, or the
/// apiserver refuses the StatefulSet or Deployment (`selector` does not match template labels).
const SELECTOR_LABELS: [&str; 3] = [NAME_LABEL, INSTANCE_LABEL, COMPONENT_LABEL];

fn check_pod_overrides(
    report: &mut Report,
    overrides: Option<&PodOverrides>,
    path: &str,
    main_container: &str,
    spec: &BigPeerSpec,
) {
    let Some(overrides) = overrides else { return };
    let Some(template) = embedded::decode(report, overrides, path, "PodTemplateSpec") else {
        return;
    };
    pod::template(report, &template, path);
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
    for key in labels.into_iter().flat_map(|l| l.keys()) {
        if SELECTOR_LABELS.contains(&key.as_str()) {
            report.error(
                format!("{path}.metadata.labels[{key:?}]"),
                "is set by the operator and selects the pods; the workload's selector would no longer match its pod template (the apiserver refuses that): remove it",
            );
        }
    }
    let Some(pod) = template.spec else { return };
    for (i, container) in pod.containers.iter().enumerate() {
        if container.name != main_container && container.image.is_none() {
            report.error(
                format!("{path}.spec.containers[{i}].image"),
                format!("container {:?} matches no generated container (the main one is {main_container:?}), so it is added as a sidecar and needs an image", container.name),
            );
        }
    }
    security::check_pod_overrides(report, &pod, path, main_container, spec);
}
