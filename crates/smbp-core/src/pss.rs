//! The Kubernetes Pod Security Standards (baseline and restricted), as far as a pod's security
//! contexts reach: checks the effective pod and container security contexts and names every
//! control a context breaks, with the lowest standard that forbids it. OpenShift's
//! `restricted-v2` SCC additionally refuses fixed UIDs/GIDs outside the namespace's range, so
//! fixed IDs are reported too.

use k8s_openapi::api::core::v1::{PodSecurityContext, SecurityContext};
use smbp_api::v1alpha1::PodSecurityStandard;

/// One broken control: the field (relative to `spec.security`), what to do, and who forbids it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field, relative to `spec.security`, e.g. `containerSecurityContext.privileged`.
    pub field: &'static str,
    /// What the standard requires, and the fix.
    pub message: &'static str,
    /// The lowest level that forbids it; `None` for OpenShift's SCC rule, which no Pod Security
    /// Standard has.
    pub forbidden_by: Option<PodSecurityStandard>,
}

impl Violation {
    /// Whether a namespace enforcing `level` refuses the pod.
    pub fn refused_at(&self, level: PodSecurityStandard) -> bool {
        use PodSecurityStandard::{Baseline, Privileged, Restricted};
        match (self.forbidden_by, level) {
            (None, _) | (_, Privileged) => false,
            (Some(Baseline), _) => true,
            (Some(Restricted), Restricted) => true,
            (Some(Restricted), Baseline) | (Some(Privileged), _) => false,
        }
    }
}

/// The capabilities the baseline standard lets a container add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Every restricted-PSS control (and OpenShift SCC rule) that `pod` and `container` break.
pub fn restricted_violations(
    pod: &PodSecurityContext,
    container: &SecurityContext,
) -> Vec<Violation> {
    let mut found = Vec::new();
    use PodSecurityStandard::{Baseline, Restricted};
    let mut check = |broken: bool, level, field: &'static str, message: &'static str| {
        if broken {
            found.push(Violation {
                field,
                message,
                forbidden_by: level,
            });
        }
    };
    check(
        container.privileged == Some(true),
        Some(Baseline),
        "containerSecurityContext.privileged",
        "privileged containers are forbidden by the baseline and restricted Pod Security Standards; remove privileged",
    );
    check(
        container.allow_privilege_escalation != Some(false),
        Some(Restricted),
        "containerSecurityContext.allowPrivilegeEscalation",
        "the restricted Pod Security Standard requires allowPrivilegeEscalation: false",
    );
    let capabilities = container.capabilities.as_ref();
    let drops_all = capabilities
        .and_then(|c| c.drop.as_ref())
        .is_some_and(|d| d.iter().any(|c| c == "ALL"));
    check(
        !drops_all,
        Some(Restricted),
        "containerSecurityContext.capabilities.drop",
        "the restricted Pod Security Standard requires capabilities.drop to include ALL",
    );
    let added = capabilities
        .and_then(|c| c.add.as_deref())
        .unwrap_or_default();
    let adds_more = added.iter().any(|c| c != "NET_BIND_SERVICE");
    let capability_level = if added
        .iter()
        .any(|c| !BASELINE_CAPABILITIES.contains(&c.as_str()))
    {
        Some(Baseline)
    } else {
        Some(Restricted)
    };
    check(
        adds_more,
        capability_level,
        "containerSecurityContext.capabilities.add",
        "the restricted Pod Security Standard allows adding only NET_BIND_SERVICE; remove the others",
    );
    let non_root = container.run_as_non_root.or(pod.run_as_non_root);
    check(
        non_root != Some(true),
        Some(Restricted),
        "podSecurityContext.runAsNonRoot",
        "the restricted Pod Security Standard requires runAsNonRoot: true (on the pod or the container)",
    );
    check(
        container.run_as_user == Some(0) || pod.run_as_user == Some(0),
        Some(Restricted),
        "podSecurityContext.runAsUser",
        "the restricted Pod Security Standard forbids running as UID 0; remove runAsUser",
    );
    let seccomp = container
        .seccomp_profile
        .as_ref()
        .or(pod.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    let seccomp_level = if seccomp == Some("Unconfined") {
        Some(Baseline)
    } else {
        Some(Restricted)
    };
    check(
        !matches!(seccomp, Some("RuntimeDefault" | "Localhost")),
        seccomp_level,
        "podSecurityContext.seccompProfile",
        "the restricted Pod Security Standard requires seccompProfile.type RuntimeDefault or Localhost",
    );
    let fixed_ids = [
        pod.run_as_user,
        pod.run_as_group,
        pod.fs_group,
        container.run_as_user,
        container.run_as_group,
    ]
    .iter()
    .any(|id| id.is_some_and(|id| id != 0));
    check(
        fixed_ids,
        None,
        "podSecurityContext.runAsUser",
        "fixed UIDs/GIDs are refused by OpenShift's restricted-v2 SCC unless they fall in the namespace's range; leave runAsUser, runAsGroup and fsGroup unset so the platform assigns them",
    );
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Capabilities, SeccompProfile};
    use smbp_api::defaults::{container_security_context, pod_security_context};

    #[test]
    fn defaults_meet_the_restricted_standard_without_fixed_ids() {
        assert_eq!(
            restricted_violations(&pod_security_context(), &container_security_context()),
            vec![]
        );
        let pod = pod_security_context();
        assert!(pod.run_as_user.is_none() && pod.run_as_group.is_none() && pod.fs_group.is_none());
    }

    #[test]
    fn empty_contexts_break_the_controls_that_need_explicit_settings() {
        let fields: Vec<_> =
            restricted_violations(&PodSecurityContext::default(), &SecurityContext::default())
                .into_iter()
                .map(|v| v.field)
                .collect();
        assert_eq!(
            fields,
            [
                "containerSecurityContext.allowPrivilegeEscalation",
                "containerSecurityContext.capabilities.drop",
                "podSecurityContext.runAsNonRoot",
                "podSecurityContext.seccompProfile",
            ]
        );
    }

    #[test]
    fn each_relaxation_is_named() {
        let pod = pod_security_context();
        let cases: Vec<(SecurityContext, &str)> = vec![
            (
                SecurityContext {
                    privileged: Some(true),
                    ..container_security_context()
                },
                "containerSecurityContext.privileged",
            ),
            (
                SecurityContext {
                    capabilities: Some(Capabilities {
                        drop: Some(vec!["ALL".into()]),
                        add: Some(vec!["NET_ADMIN".into()]),
                    }),
                    ..container_security_context()
                },
                "containerSecurityContext.capabilities.add",
            ),
            (
                SecurityContext {
                    run_as_user: Some(0),
                    ..container_security_context()
                },
                "podSecurityContext.runAsUser",
            ),
            (
                SecurityContext {
                    seccomp_profile: Some(SeccompProfile {
                        type_: "Unconfined".into(),
                        localhost_profile: None,
                    }),
                    ..container_security_context()
                },
                "podSecurityContext.seccompProfile",
            ),
        ];
        for (container, field) in cases {
            let found = restricted_violations(&pod, &container);
            assert_eq!(found.len(), 1, "{field}: {found:?}");
            assert_eq!(found[0].field, field);
        }
    }

    #[test]
    fn each_violation_names_the_lowest_standard_that_refuses_it() {
        use PodSecurityStandard::{Baseline, Privileged, Restricted};
        let pod = pod_security_context();
        let level = |container: SecurityContext| {
            let found = restricted_violations(&pod, &container);
            assert_eq!(found.len(), 1, "{found:?}");
            let v = &found[0];
            (
                v.refused_at(Restricted),
                v.refused_at(Baseline),
                v.refused_at(Privileged),
            )
        };
        let privileged = SecurityContext {
            privileged: Some(true),
            ..container_security_context()
        };
        assert_eq!(level(privileged), (true, true, false));
        let caps = |add: &str| SecurityContext {
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: Some(vec![add.into()]),
            }),
            ..container_security_context()
        };
        assert_eq!(level(caps("CHOWN")), (true, false, false));
        assert_eq!(level(caps("SYS_ADMIN")), (true, true, false));
        let escalation = SecurityContext {
            allow_privilege_escalation: Some(true),
            ..container_security_context()
        };
        assert_eq!(level(escalation), (true, false, false));
    }

    #[test]
    fn fixed_uids_are_reported_for_openshift() {
        let pod = PodSecurityContext {
            run_as_user: Some(1000),
            ..pod_security_context()
        };
        let found = restricted_violations(&pod, &container_security_context());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("restricted-v2"));
        assert!(!found[0].refused_at(PodSecurityStandard::Restricted));
    }
}
