//! Unit tests of semantic validation: one test per check, each with a spec that breaks it.

use super::*;
use smbp_api::v1alpha1::Scheduling;
use smbp_api::v1alpha1::{BigPeerSpec, KafkaClusterRef, StrimziLog, TransactionLogSpec};
use std::collections::BTreeMap;

fn minimal() -> BigPeerSpec {
    serde_yaml::from_str("version: 1.6.1\ntransactionLog: {strimzi: {clusterRef: {name: kafka}}}")
        .unwrap()
}

fn with(yaml: &str) -> BigPeerSpec {
    let mut base = serde_json::to_value(minimal()).unwrap();
    let patch: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    merge(&mut base, patch);
    serde_json::from_value(base).unwrap()
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

fn fields<'a>(problems: impl Iterator<Item = &'a Problem>) -> Vec<String> {
    problems.map(|p| p.field.clone()).collect()
}

#[test]
fn minimal_spec_is_valid_without_warnings() {
    let report = validate("bp", &minimal(), None);
    assert_eq!(report.problems, vec![]);
    assert!(report.is_valid());
}

#[test]
fn minimal_spec_is_fully_defaulted() {
    let spec = minimal();
    assert_eq!(spec.store.replicas, 3);
    assert_eq!(spec.store.storage.size, "10Gi");
    assert_eq!(spec.transaction_log.strimzi.unwrap().topic.partitions, 12);
    assert!(spec.security.network_policy.enabled && spec.security.service_account.create);
}

#[test]
fn unknown_and_withdrawn_versions_are_errors() {
    let report = validate("bp", &with("version: 9.0.0"), None);
    assert_eq!(fields(report.errors()), ["spec.version"]);
    assert!(
        report.problems[0]
            .message
            .contains("not a known Big Peer release")
    );
    let report = validate("bp", &with("version: 1.4.0"), None);
    assert!(
        report.problems[0].message.contains("withdrawn"),
        "{report:?}"
    );
}

#[test]
fn a_version_that_is_not_semver_is_an_error_naming_a_release() {
    let report = validate("bp", &with("version: latest"), None);
    assert_eq!(fields(report.errors()), ["spec.version"]);
    assert!(report.problems[0].message.contains("1.6.1"));
}

#[test]
fn upgrades_are_checked_against_the_running_version() {
    let running = Version::new(1, 5, 0);
    let report = validate("bp", &with("version: 1.4.2"), Some(&running));
    assert_eq!(fields(report.errors()), ["spec.version"]);
    assert!(
        report.problems[0]
            .message
            .contains("downgrade from 1.5.0 to 1.4.2")
    );

    let running = Version::new(1, 3, 1);
    let report = validate("bp", &with("version: 1.5.1"), Some(&running));
    assert!(report.is_valid());
    assert_eq!(
        report.problems[0].message,
        "upgrade 1.3.1 → 1.4.2 → 1.5.1 passes through required stops; each is rolled out and migrated in turn"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let spec = with(
        r#"
version: "9.9.9"
store: {replicas: 4}
monitoring: {serviceMonitor: {labels: {"bad key!": x}}}
security: {serviceAccount: {annotations: {"UPPER.example.com/x": y, "a/b/c": z}}}
"#,
    );
    let report = validate("bp", &spec, None);
    assert_eq!(
        fields(report.errors()),
        [
            "spec.version",
            "spec.monitoring.serviceMonitor.labels[\"bad key!\"]",
            "spec.security.serviceAccount.annotations[\"a/b/c\"]",
        ]
    );
    assert_eq!(fields(report.warnings()), ["spec.store.replicas"]);
    // Annotation keys are checked case-insensitively, as the apiserver does.
}

#[test]
fn pod_overrides_that_do_not_fit_name_the_exact_field() {
    let spec = with(
        "store: {podOverrides: {spec: {containers: [{name: store, ports: [{containerPort: http}]}]}}}",
    );
    let report = validate("bp", &spec, None);
    assert_eq!(
        fields(report.errors()),
        ["spec.store.podOverrides.spec.containers[0].ports[0].containerPort"]
    );
    assert!(
        report.problems[0]
            .message
            .contains("does not fit a Kubernetes PodTemplateSpec")
    );
}

#[test]
fn a_sidecar_in_pod_overrides_needs_an_image() {
    let spec = with(
        "sync: {podOverrides: {spec: {containers: [{name: sync, env: [{name: A, value: b}]}, {name: proxy, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}}",
    );
    let report = validate("bp", &spec, None);
    assert_eq!(
        fields(report.errors()),
        ["spec.sync.podOverrides.spec.containers[1].image"]
    );
}

#[test]
fn sidecars_must_meet_the_restricted_standard_on_their_own() {
    let spec = with(
        "sync: {podOverrides: {spec: {containers: [{name: proxy, image: envoy}], securityContext: {runAsNonRoot: false}}}}",
    );
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        [
            "spec.sync.podOverrides.spec.containers[0].securityContext.allowPrivilegeEscalation",
            "spec.sync.podOverrides.spec.containers[0].securityContext.capabilities.drop",
            "spec.sync.podOverrides.spec.containers[0].securityContext.runAsNonRoot",
        ]
    );
    let main = with(
        "store: {podOverrides: {spec: {containers: [{name: store, securityContext: {capabilities: {add: [NET_ADMIN]}}}]}}}",
    );
    assert_eq!(
        fields(validate("bp", &main, None).errors()),
        ["spec.store.podOverrides.spec.containers[0].securityContext.capabilities.add"],
        "the main container's override merges over the spec's context (drop ALL kept)"
    );
}

#[test]
fn host_namespaces_in_overrides_are_refused_unless_privileged() {
    let spec = with("store: {podOverrides: {spec: {containers: [], hostNetwork: true}}}");
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        ["spec.store.podOverrides.spec.hostNetwork"]
    );
    let privileged = with(
        "store: {podOverrides: {spec: {containers: [], hostNetwork: true}}}\nsecurity: {podSecurityStandard: Privileged}",
    );
    let report = validate("bp", &privileged, None);
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(
        fields(report.warnings()),
        ["spec.store.podOverrides.spec.hostNetwork"]
    );
}

#[test]
fn affinity_that_does_not_fit_is_an_error() {
    let spec = with(
        "sync: {scheduling: {affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}}}}}",
    );
    let report = validate("bp", &spec, None);
    assert_eq!(
        fields(report.errors()),
        [
            "spec.sync.scheduling.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ]
    );
}

#[test]
fn autoscaling_needs_a_cpu_request() {
    let spec = with(
        "sync: {autoscaling: {minReplicas: 2, maxReplicas: 4}, resources: {requests: {memory: 1Gi}}}",
    );
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        ["spec.sync.resources.requests.cpu"]
    );
}

#[test]
fn ingress_hosts_must_be_covered_by_the_certificate_and_unique() {
    let spec = with(
        r#"
tls: {certManager: {issuerRef: {name: ca}, dnsNames: ["*.example.com"]}}
network: {ingress: {hosts: [a.example.com, a.example.com, b.example.org, deep.a.example.com], tls: {useBigPeerCertificate: true}}}
"#,
    );
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        [
            "spec.network.ingress.hosts[1]",
            "spec.network.ingress.hosts[2]",
            "spec.network.ingress.hosts[3]"
        ]
    );
}

#[test]
fn tls_route_hostnames_must_be_covered_by_the_certificate() {
    let spec = with(
        r#"
tls: {certManager: {issuerRef: {name: ca}, dnsNames: ["*.example.com"]}}
network: {gateway: {parentRefs: [{name: edge}], routeKind: TLSRoute, hostnames: [a.example.com, b.example.org]}}
"#,
    );
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        ["spec.network.gateway.hostnames[1]"]
    );
}

#[test]
fn quorum_risks_are_warnings() {
    let spec = with("store: {replicas: 3}\nupgrade: {maxUnavailable: 2}");
    let report = validate("bp", &spec, None);
    assert!(report.is_valid());
    assert_eq!(fields(report.warnings()), ["spec.upgrade.maxUnavailable"]);
}

#[test]
fn weak_transaction_logs_are_warnings() {
    let spec = with("transactionLog: {strimzi: {clusterRef: {name: k}, topic: {replicas: 1}}}");
    assert_eq!(
        fields(validate("bp", &spec, None).warnings()),
        ["spec.transactionLog.strimzi.topic.replicas"]
    );
    let mut spec = minimal();
    spec.transaction_log = serde_yaml::from_str(
        "external: {bootstrapServers: ['k:9092'], topic: t, sasl: {mechanism: PLAIN, secretRef: {name: s}}}",
    )
    .unwrap();
    assert_eq!(
        fields(validate("bp", &spec, None).warnings()),
        ["spec.transactionLog.external.sasl.mechanism"]
    );
}

#[test]
fn relaxed_security_contexts_are_refused_by_level() {
    let relaxed =
        "security: {containerSecurityContext: {privileged: true, allowPrivilegeEscalation: true}";
    let spec = with(&format!("{relaxed}}}"));
    let report = validate("bp", &spec, None);
    assert_eq!(fields(report.warnings()), Vec::<String>::new());
    assert_eq!(
        fields(report.errors()),
        [
            "spec.security.containerSecurityContext.privileged",
            "spec.security.containerSecurityContext.allowPrivilegeEscalation",
            "spec.security.containerSecurityContext.capabilities.drop",
        ]
    );
    assert!(
        report.problems[0]
            .message
            .contains("spec.security.podSecurityStandard")
    );
    let baseline = validate(
        "bp",
        &with(&format!("{relaxed}, podSecurityStandard: Baseline}}")),
        None,
    );
    assert_eq!(
        fields(baseline.errors()),
        ["spec.security.containerSecurityContext.privileged"]
    );
    let spec = with(&format!("{relaxed}, podSecurityStandard: Privileged}}"));
    let report = validate("bp", &spec, None);
    assert!(report.is_valid());
    assert_eq!(
        fields(report.warnings()),
        [
            "spec.security.containerSecurityContext.privileged",
            "spec.security.containerSecurityContext.allowPrivilegeEscalation",
            "spec.security.containerSecurityContext.capabilities.drop",
        ]
    );
}

#[test]
fn label_and_annotation_keys_follow_kubernetes_syntax() {
    for good in ["a", "app.kubernetes.io/name", "example.com/x_y.z", "A-b"] {
        assert!(kubernetes::names::qualified_name(good).is_empty(), "{good}");
    }
    for bad in [
        "",
        "-a",
        "a-",
        "Example.com/x",
        "a/b/c",
        &"x".repeat(64),
        "sp ace",
    ] {
        assert!(!kubernetes::names::qualified_name(bad).is_empty(), "{bad}");
    }
}

#[test]
fn wildcard_names_cover_exactly_one_label() {
    assert!(exposure::dns_name_covers("*.example.com", "a.example.com"));
    assert!(!exposure::dns_name_covers("*.example.com", "example.com"));
    assert!(!exposure::dns_name_covers(
        "*.example.com",
        "a.b.example.com"
    ));
    assert!(exposure::dns_name_covers("a.example.com", "a.example.com"));
}

#[test]
fn node_selectors_are_checked_as_labels() {
    let mut spec = minimal();
    spec.transaction_log = TransactionLogSpec {
        strimzi: Some(StrimziLog {
            cluster_ref: KafkaClusterRef {
                name: "k".into(),
                namespace: None,
            },
            ..StrimziLog::default()
        }),
        external: None,
    };
    spec.store.scheduling = Some(Scheduling {
        node_selector: BTreeMap::from([("zone".into(), "bad value".into())]),
        ..Scheduling::default()
    });
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        ["spec.store.scheduling.nodeSelector[\"zone\"]"]
    );
}

#[test]
fn an_existing_service_account_must_be_named() {
    let mut spec = minimal();
    spec.security.service_account.create = false;
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        ["spec.security.serviceAccount.name"]
    );
}

#[test]
fn class_names_follow_the_apiserver_rules_of_their_objects() {
    let spec = with(
        "store: {storage: {storageClassName: Fast_SSD}}\nnetwork: {service: {type: LoadBalancer, loadBalancerClass: 'a/b/c'}, ingress: {ingressClassName: Nginx, hosts: [a.example.com]}}",
    );
    assert_eq!(
        fields(validate("bp", &spec, None).errors()),
        [
            "spec.store.storage.storageClassName",
            "spec.network.service.loadBalancerClass",
            "spec.network.ingress.ingressClassName",
        ]
    );
    let fine = with(
        "store: {storage: {storageClassName: fast-ssd}}\nnetwork: {service: {type: LoadBalancer, loadBalancerClass: service.k8s.aws/nlb}, ingress: {ingressClassName: nginx, hosts: [a.example.com]}}",
    );
    assert!(validate("bp", &fine, None).is_valid());
}

#[test]
fn a_maintenance_window_needs_a_known_time_zone() {
    let spec = with(
        "upgrade: {maintenanceWindow: {start: '02:00', duration: 2h, timeZone: Europe/Berln}}",
    );
    let report = validate("bp", &spec, None);
    assert_eq!(
        fields(report.errors()),
        ["spec.upgrade.maintenanceWindow.timeZone"]
    );
    let message = report.errors().next().unwrap().to_string();
    assert!(
        message.contains("unknown time zone \"Europe/Berln\"") && message.contains("Europe/Berlin"),
        "{message}"
    );
    for zone in ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kathmandu"] {
        let spec = with(&format!(
            "upgrade: {{maintenanceWindow: {{start: '02:00', duration: 2h, timeZone: {zone}}}}}"
        ));
        assert!(validate("bp", &spec, None).is_valid(), "{zone}");
    }
    // Unset means UTC, as before the field existed.
    let spec = with("upgrade: {maintenanceWindow: {start: '02:00', duration: 2h}}");
    let window = spec.upgrade.unwrap().maintenance_window.unwrap();
    assert_eq!(window.time_zone, "UTC");
}
