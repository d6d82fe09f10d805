//! `spec.security` and the security side of `podOverrides`: the service account, and the Pod
//! Security Standard of the effective pod — the spec's security contexts with the overrides
//! merged over them, sidecars included. What the chosen `podSecurityStandard` forbids is an
//! error; what only a stricter standard (or OpenShift's SCC) forbids is a warning.

use super::Report;
use super::kubernetes::{invalid, meta, names};
use crate::build::APPLIED_HASH_ANNOTATION;
use crate::pss::{self, Violation};
use k8s_openapi::api::core::v1::{PodSecurityContext, PodSpec, SecurityContext};
use serde::Serialize;
use serde::de::DeserializeOwned;
use smbp_api::defaults;
use smbp_api::v1alpha1::{BigPeerSpec, PodSecurityStandard};

/// The bytes of the annotation the operator adds to every child it applies (a 16-digit hash).
pub(super) const OPERATOR_ANNOTATIONS: usize = APPLIED_HASH_ANNOTATION.len() + 16;

/// Checks `spec.security`.
pub(super) fn check(report: &mut Report, spec: &BigPeerSpec) {
    let security = &spec.security;
    let account = &security.service_account;
    let path = "spec.security.serviceAccount";
    meta::annotations(
        report,
        &account.annotations,
        &format!("{path}.annotations"),
        OPERATOR_ANNOTATIONS,
    );
    if !account.create && account.name.is_none() {
        report.error(
            format!("{path}.name"),
            "is required when create is false: name the existing service account to use",
        );
    }
    if let Some(name) = &account.name {
        // The pods' `serviceAccountName` (`ValidateServiceAccountName`, a DNS subdomain).
        for msg in names::dns1123_subdomain(name) {
            report.error(format!("{path}.name"), invalid(name, &msg));
        }
    }
    let (pod, container) = (pod_context(spec), container_context(spec));
    for violation in pss::restricted_violations(&pod, &container) {
        let field = format!("spec.security.{}", violation.field);
        push(report, &violation, field, security.pod_security_standard);
    }
}

/// Checks the pod `overrides` of the component whose main container is `main` (under `path`).
pub(super) fn check_pod_overrides(
    report: &mut Report,
    overrides: &PodSpec,
    path: &str,
    main: &str,
    spec: &BigPeerSpec,
) {
    let level = spec.security.pod_security_standard;
    for (field, set) in [
        ("hostNetwork", overrides.host_network),
        ("hostPID", overrides.host_pid),
        ("hostIPC", overrides.host_ipc),
    ] {
        if set == Some(true) {
            let violation = Violation {
                field: "",
                message: "host namespaces are forbidden by the baseline and restricted Pod Security Standards",
                forbidden_by: Some(PodSecurityStandard::Baseline),
            };
            push(report, &violation, format!("{path}.spec.{field}"), level);
        }
    }
    let pod = merged(&pod_context(spec), overrides.security_context.as_ref());
    let lists = [
        (
            "initContainers",
            overrides.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", &overrides.containers),
    ];
    for (list, containers) in lists {
        for (i, c) in containers.iter().enumerate() {
            let is_main = list == "containers" && c.name == main;
            if is_main && c.security_context.is_none() && overrides.security_context.is_none() {
                continue; // The spec's own contexts, already checked under spec.security.
            }
            // The main container's context is merged over the spec's; a sidecar has only its own.
            let base = if is_main {
                container_context(spec)
            } else {
                SecurityContext::default()
            };
            let container = merged(&base, c.security_context.as_ref());
            for violation in pss::restricted_violations(&pod, &container) {
                let control = violation.field.split_once('.').map_or("", |(_, f)| f);
                let field = format!("{path}.spec.{list}[{i}].securityContext.{control}");
                push(report, &violation, field, level);
            }
        }
    }
}

/// Reports `violation` at `field`: an error when `level` refuses it, else a warning.
fn push(report: &mut Report, violation: &Violation, field: String, level: PodSecurityStandard) {
    if violation.refused_at(level) {
        let message = format!(
            "{}; namespaces enforcing it refuse the pods. Fix it, or set spec.security.podSecurityStandard to a level the namespace enforces (now {level:?})",
            violation.message
        );
        report.error(field, message);
    } else {
        report.warning(field, violation.message);
    }
}

fn pod_context(spec: &BigPeerSpec) -> PodSecurityContext {
    let configured = spec.security.pod_security_context.clone();
    configured.unwrap_or_else(defaults::pod_security_context)
}

fn container_context(spec: &BigPeerSpec) -> SecurityContext {
    let configured = spec.security.container_security_context.clone();
    configured.unwrap_or_else(defaults::container_security_context)
}

/// `base` with `overlay` merged over it key by key, as the build merges the overrides.
fn merged<T: Serialize + DeserializeOwned + Clone>(base: &T, overlay: Option<&T>) -> T {
    let Some(overlay) = overlay else {
        return base.clone();
    };
    let mut value = serde_json::to_value(base).expect("security contexts serialize");
    merge(
        &mut value,
        serde_json::to_value(overlay).expect("security contexts serialize"),
    );
    serde_json::from_value(value).unwrap_or_else(|_| base.clone())
}

fn merge(base: &mut serde_json::Value, overlay: serde_json::Value) {
    match (base, overlay) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overlay)) => {
            for (key, value) in overlay {
                merge(base.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (base, overlay) => *base = overlay,
    }
}
