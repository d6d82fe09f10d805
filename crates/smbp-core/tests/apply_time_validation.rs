//! The CRD's apply-time validation (OpenAPI constraints + CEL rules), evaluated client-side:
//! every sample is admitted, and each bad input is refused with the message that names its field
//! and the fix. Transition rules are checked with the old object, as on an update.

mod support;

use serde_json::{Value, json};
use support::{bigpeer, cel_refusals, merge, refusals, samples};

fn base() -> Value {
    bigpeer(
        "bp",
        json!({"version": "1.5.1", "transactionLog": {"strimzi": {"clusterRef": {"name": "kafka"}}}}),
    )
}

fn with(patch: Value) -> Value {
    let mut object = base();
    merge(&mut object, &json!({ "spec": patch }));
    object
}

/// Asserts that the CEL rules refuse `object` (with `old` as the previous state) with a message
/// containing `expected`, after the OpenAPI constraints admitted it.
fn assert_cel_refuses(object: &Value, old: Option<&Value>, expected: &str) {
    let schema_violations = support::openapi::violations(&support::SCHEMA, object);
    assert!(
        schema_violations.is_empty(),
        "expected a CEL refusal, got schema violations {schema_violations:?}"
    );
    let refused = cel_refusals(object, old);
    assert!(
        refused.iter().any(|m| m.contains(expected)),
        "expected a refusal containing {expected:?}, got {refused:?}"
    );
}

#[test]
fn every_sample_is_admitted() {
    let samples = samples();
    assert!(samples.len() >= 6, "{samples:?}");
    for (file, object) in samples {
        assert_eq!(refusals(&object, None), Vec::<String>::new(), "{file}");
        // Re-applying a sample unchanged passes every transition rule too.
        assert_eq!(
            refusals(&object, Some(&object)),
            Vec::<String>::new(),
            "{file} (update)"
        );
    }
}

#[test]
fn every_cel_rule_compiles_and_fits_the_cost_budget() {
    fn rules(schema: &Value, found: &mut Vec<String>) {
        if let Some(list) = schema
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
        {
            found.extend(list.iter().map(|r| r["rule"].as_str().unwrap().to_string()));
        }
        for key in ["properties", "items", "additionalProperties"] {
            match schema.get(key) {
                Some(Value::Object(map)) if key == "properties" => {
                    map.values().for_each(|s| rules(s, found))
                }
                Some(sub @ Value::Object(_)) => rules(sub, found),
                _ => {}
            }
        }
    }
    let mut all = Vec::new();
    rules(&support::SCHEMA, &mut all);
    assert!(all.len() >= 35, "only {} rules", all.len());
    let compiled = kube_cel::compile_schema(&support::SCHEMA);
    assert!(
        !compiled.has_errors(),
        "{:?}",
        compiled.compilation_errors()
    );
    for rule in &all {
        let warnings = kube_cel::estimate_rule_cost(rule, &compiled);
        let over_budget: Vec<_> = warnings
            .iter()
            .filter(|w| w.kind == kube_cel::WarningKind::CostExceeded)
            .collect();
        assert!(over_budget.is_empty(), "{rule}: {over_budget:?}");
    }
}

/// Bad inputs refused on create, each with the message users see.
#[test]
fn bad_inputs_are_refused_with_a_message_naming_field_and_fix() {
    let long_name = {
        let mut o = base();
        o["metadata"]["name"] = json!("a-name-that-is-far-too-long-for-child-objects");
        o
    };
    let strimzi = json!({"clusterRef": {"name": "k"}});
    let external = json!({"bootstrapServers": ["k:9092"], "topic": "t"});
    let cases: Vec<(Value, &str)> = vec![
        (long_name, "metadata.name must be at most 40 characters"),
        (
            with(json!({"version": "1.6"})),
            "spec.version must be a semantic version",
        ),
        (
            with(json!({"transactionLog": {"strimzi": strimzi, "external": external}})),
            "spec.transactionLog must set exactly one of strimzi or external",
        ),
        (
            with(json!({"transactionLog": {"strimzi": null}})),
            "spec.transactionLog must set exactly one of strimzi or external",
        ),
        (
            with(json!({"tls": {}})),
            "spec.tls must set exactly one of certManager or secretRef",
        ),
        (
            with(
                json!({"tls": {"secretRef": {"name": "s"}, "certManager": {"issuerRef": {"name": "i"}}}}),
            ),
            "spec.tls must set exactly one of certManager or secretRef",
        ),
        (
            with(
                json!({"sync": {"replicas": 2, "autoscaling": {"minReplicas": 1, "maxReplicas": 3}}}),
            ),
            "spec.sync.replicas and spec.sync.autoscaling are mutually exclusive",
        ),
        (
            with(json!({"sync": {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}})),
            "minReplicas must not exceed maxReplicas",
        ),
        (
            with(json!({"store": {"storage": {"size": "0"}}})),
            "spec.store.storage.size must be larger than zero",
        ),
        (
            with(json!({"store": {"storage": {"size": "ten gigs"}}})),
            "must be a Kubernetes quantity",
        ),
        (
            with(json!({"network": {"service": {"loadBalancerClass": "x"}}})),
            "loadBalancerClass applies only to type LoadBalancer",
        ),
        (
            with(
                json!({"network": {"service": {"type": "NodePort", "loadBalancerSourceRanges": ["10.0.0.0/8"]}}}),
            ),
            "loadBalancerSourceRanges applies only to type LoadBalancer",
        ),
        (
            with(
                json!({"network": {"service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0"]}}}),
            ),
            "loadBalancerSourceRanges entries must be CIDRs",
        ),
        (
            with(json!({"network": {"service": {"externalTrafficPolicy": "Local"}}})),
            "externalTrafficPolicy applies only to types NodePort and LoadBalancer",
        ),
        (
            with(json!({"network": {"service": {"nodePort": 30080}}})),
            "nodePort applies only to types NodePort and LoadBalancer",
        ),
        (
            with(json!({"network": {"ingress": {"hosts": ["Sync.Example.com"]}}})),
            "spec.network.ingress.hosts entries must be lower-case DNS names",
        ),
        (
            with(
                json!({"network": {"ingress": {"hosts": ["a.b"], "tls": {"secretName": "s", "useBigPeerCertificate": true}}}, "tls": {"secretRef": {"name": "s"}}}),
            ),
            "must set exactly one of secretName or useBigPeerCertificate",
        ),
        (
            with(
                json!({"network": {"ingress": {"hosts": ["a.b"], "tls": {"useBigPeerCertificate": true}}}}),
            ),
            "useBigPeerCertificate needs spec.tls to be set",
        ),
        (
            with(
                json!({"network": {"gateway": {"parentRefs": [{"name": "g"}], "hostnames": ["under_score.example"]}}}),
            ),
            "spec.network.gateway.hostnames entries must be lower-case DNS names",
        ),
        (
            with(
                json!({"network": {"gateway": {"parentRefs": [{"name": "g"}], "hostnames": ["a.b"], "routeKind": "TLSRoute"}}}),
            ),
            "spec.network.gateway.routeKind TLSRoute passes TLS through to the sync pods, which need a certificate: configure spec.tls",
        ),
        (
            with(
                json!({"network": {"gateway": {"parentRefs": [{"name": "g"}], "routeKind": "TLSRoute"}}, "tls": {"secretRef": {"name": "s"}}}),
            ),
            "spec.network.gateway.hostnames must name at least one host when routeKind is TLSRoute",
        ),
        (
            with(
                json!({"network": {"gateway": {"parentRefs": [{"name": "g"}], "hostnames": ["a.b"], "routeKind": "TCPRoute"}}}),
            ),
            "spec.network.gateway.hostnames does not apply to a TCPRoute",
        ),
        (
            with(
                json!({"network": {"gateway": {"parentRefs": [{"name": "g"}], "backendTLS": true}}}),
            ),
            "spec.network.gateway.backendTLS needs the sync pods to serve TLS: configure spec.tls",
        ),
        (
            with(
                json!({"network": {"gateway": {"parentRefs": [{"name": "g"}], "hostnames": ["a.b"], "routeKind": "TLSRoute", "backendTLS": true}}, "tls": {"secretRef": {"name": "s"}}}),
            ),
            "spec.network.gateway.backendTLS applies to HTTPRoute and GRPCRoute only",
        ),
        (
            with(
                json!({"tls": {"certManager": {"issuerRef": {"name": "i"}, "duration": "24h", "renewBefore": "48h"}}}),
            ),
            "renewBefore must be shorter than duration",
        ),
        (
            with(json!({"tls": {"certManager": {"issuerRef": {"name": "i"}, "duration": "30m"}}})),
            "spec.tls.certManager.duration must be at least 1h",
        ),
        (
            with(
                json!({"tls": {"certManager": {"issuerRef": {"name": "i"}, "renewBefore": "1m"}}}),
            ),
            "spec.tls.certManager.renewBefore must be at least 5m",
        ),
        (
            with(
                json!({"tls": {"certManager": {"issuerRef": {"name": "i"}, "dnsNames": ["bad name"]}}}),
            ),
            "spec.tls.certManager.dnsNames entries must be lower-case DNS names",
        ),
        (
            with(
                json!({"transactionLog": {"strimzi": null, "external": {"bootstrapServers": ["kafka"], "topic": "t"}}}),
            ),
            "bootstrapServers entries must be host:port",
        ),
        (
            with(json!({"transactionLog": {"strimzi": {"topic": {"retention": "30m"}}}})),
            "topic.retention must be at least 1h",
        ),
        (
            with(
                json!({"monitoring": {"serviceMonitor": {"interval": "30s", "scrapeTimeout": "1m"}}}),
            ),
            "scrapeTimeout must not exceed interval",
        ),
        (
            with(json!({"monitoring": {"serviceMonitor": {"interval": "1s"}}})),
            "serviceMonitor.interval must be at least 5s",
        ),
        (
            with(json!({"security": {"serviceAccount": {"create": false}}})),
            "serviceAccount.name is required when create is false",
        ),
        (
            with(json!({"upgrade": {"maxUnavailable": 3}})),
            "spec.upgrade.maxUnavailable must be lower than spec.store.replicas",
        ),
        (
            with(json!({"upgrade": {"migrationTimeout": "48h"}})),
            "spec.upgrade.migrationTimeout must be between 1m and 24h",
        ),
        (
            with(json!({"upgrade": {"podReadyTimeout": "10s"}})),
            "spec.upgrade.podReadyTimeout must be between 30s and 6h",
        ),
        (
            with(json!({"upgrade": {"maintenanceWindow": {"start": "01:00", "duration": "10m"}}})),
            "maintenanceWindow.duration must be between 30m and 168h",
        ),
        (
            with(json!({"workload": {"httpPort": 9090}})),
            "spec.workload ports must differ",
        ),
        (
            with(json!({"image": {"repository": "mirror.local/bigpeer:1.5.1"}})),
            "spec.image.repository must not carry a tag or digest",
        ),
        (
            with(json!({"image": {"repository": "mirror.local/bigpeer@sha256:abc"}})),
            "spec.image.repository must not carry a tag or digest",
        ),
    ];
    assert!(cases.len() >= 25);
    for (object, expected) in &cases {
        assert_cel_refuses(object, None, expected);
    }
}

/// Constraints the OpenAPI schema enforces before CEL runs.
#[test]
fn schema_constraints_refuse_out_of_range_and_unknown_values() {
    let cases: Vec<(Value, &str)> = vec![
        (
            with(json!({"store": {"replicas": 0}})),
            "spec.store.replicas: must be at least 1",
        ),
        (
            with(json!({"store": {"replicas": 16}})),
            "spec.store.replicas: must be at most 15",
        ),
        (
            with(json!({"network": {"service": {"type": "ExternalName"}}})),
            "spec.network.service.type: \"ExternalName\" is not one of",
        ),
        (
            with(json!({"network": {"service": {"type": "NodePort", "nodePort": 80}}})),
            "spec.network.service.nodePort: must be at least 30000",
        ),
        (
            with(json!({"image": {"digest": "sha256:short"}})),
            "spec.image.digest: must match",
        ),
        (
            with(json!({"image": {"pullPolicy": "Sometimes"}})),
            "spec.image.pullPolicy",
        ),
        (
            with(json!({"transactionLog": {"strimzi": {"authentication": "plain"}}})),
            "spec.transactionLog.strimzi.authentication",
        ),
        (
            with(json!({"upgrade": {"maintenanceWindow": {"start": "25:00", "duration": "1h"}}})),
            "spec.upgrade.maintenanceWindow.start: must match",
        ),
        (
            with(json!({"upgrade": {"migrationTimeout": "ten minutes"}})),
            "is not a duration",
        ),
        (
            with(json!({"network": {"gateway": {"parentRefs": []}}})),
            "spec.network.gateway.parentRefs: must have at least 1 items",
        ),
        (
            with(json!({"storeReplicas": 3})),
            "spec.storeReplicas: unknown field",
        ),
        (with(json!({"version": null})), "spec: version is required"),
        (
            with(
                json!({"upgrade": {"maintenanceWindow": {"days": ["Monday", "Monday"], "start": "01:00", "duration": "2h"}}}),
            ),
            "spec.upgrade.maintenanceWindow.days[1]: Duplicate value",
        ),
    ];
    for (object, expected) in cases {
        let refused = refusals(&object, None);
        assert!(
            refused.iter().any(|m| m.contains(expected)),
            "expected {expected:?}, got {refused:?}"
        );
    }
}

/// Transition rules: what may not change, or only in one direction, on an update.
#[test]
fn transition_rules_refuse_forbidden_changes() {
    // (old, new, expected refusal of the update old → new)
    let cases: Vec<(Value, Value, &str)> = vec![
        (
            with(json!({"version": "1.6.1"})),
            with(json!({"version": "1.5.1"})),
            "spec.version cannot be lowered",
        ),
        (
            with(json!({"store": {"storage": {"size": "20Gi"}}})),
            with(json!({"store": {"storage": {"size": "10Gi"}}})),
            "spec.store.storage.size cannot shrink",
        ),
        (
            with(json!({"store": {"storage": {"storageClassName": "fast"}}})),
            with(json!({"store": {"storage": {"storageClassName": "slow"}}})),
            "storageClassName is immutable",
        ),
        (
            with(json!({"store": {"storage": {}}})),
            with(json!({"store": {"storage": {"storageClassName": "slow"}}})),
            "storageClassName is immutable",
        ),
        (
            base(),
            with(json!({"store": {"storage": {"storageClassName": "slow"}}})),
            "storageClassName is immutable",
        ),
        (
            with(json!({"transactionLog": {"strimzi": {"topic": {"partitions": 24}}}})),
            with(json!({"transactionLog": {"strimzi": {"topic": {"partitions": 12}}}})),
            "partitions cannot decrease",
        ),
        (
            with(json!({"transactionLog": {"strimzi": {"topic": {"partitions": 24}}}})),
            base(),
            "partitions cannot decrease",
        ),
        (
            with(
                json!({"transactionLog": {"strimzi": null, "external": {"bootstrapServers": ["k:9092"], "topic": "t"}}}),
            ),
            base(),
            "cannot switch between strimzi and external",
        ),
        (
            with(
                json!({"network": {"service": {"type": "LoadBalancer", "loadBalancerClass": "b"}}}),
            ),
            with(
                json!({"network": {"service": {"type": "LoadBalancer", "loadBalancerClass": "a"}}}),
            ),
            "loadBalancerClass is immutable once set",
        ),
    ];
    for (old, new, expected) in &cases {
        // The direction matters: the old → new update is refused ...
        assert_cel_refuses(new, Some(old), expected);
        // ... and each state alone is valid on create.
        assert_eq!(refusals(new, None), Vec::<String>::new());
    }
}

#[test]
fn transition_rules_allow_the_permitted_direction() {
    // (new, old)
    let allowed: Vec<(Value, Value)> = vec![
        (with(json!({"version": "1.6.1"})), base()),
        (
            with(json!({"store": {"storage": {"size": "20Gi"}}})),
            base(),
        ),
        (
            with(json!({"store": {"storage": {"size": "10240Mi"}}})),
            base(),
        ),
        (
            with(json!({"transactionLog": {"strimzi": {"topic": {"partitions": 24}}}})),
            base(),
        ),
        (
            with(json!({"store": {"replicas": 5}, "sync": {"replicas": 4}})),
            base(),
        ),
    ];
    for (new, old) in &allowed {
        assert_eq!(refusals(new, Some(old)), Vec::<String>::new(), "{new}");
    }
}

#[test]
fn a_minimal_object_is_defaulted_like_the_api_server_does() {
    let defaulted = support::with_defaults(&base());
    let spec = &defaulted["spec"];
    assert_eq!(spec["store"]["replicas"], 3);
    assert_eq!(spec["store"]["storage"]["size"], "10Gi");
    assert_eq!(
        spec["store"]["storage"]["retention"]["whenDeleted"],
        "Retain"
    );
    assert_eq!(spec["security"]["networkPolicy"]["enabled"], true);
    assert_eq!(spec["transactionLog"]["strimzi"]["topic"]["partitions"], 12);
    // The server's defaults and the Rust defaults agree.
    let from_rust: smbp_api::v1alpha1::BigPeerSpec =
        serde_json::from_value(base()["spec"].clone()).unwrap();
    let from_server: smbp_api::v1alpha1::BigPeerSpec =
        serde_json::from_value(spec.clone()).unwrap();
    assert_eq!(from_rust, from_server);
}

#[test]
fn every_sample_decodes_and_passes_semantic_validation() {
    for (file, object) in samples() {
        let bigpeer: smbp_api::v1alpha1::BigPeer =
            serde_json::from_value(object).unwrap_or_else(|e| panic!("{file}: {e}"));
        let name = bigpeer.metadata.name.as_deref().unwrap_or_default();
        let report = smbp_core::validation::validate(name, &bigpeer.spec, None);
        assert_eq!(report.problems, vec![], "{file}");
    }
}
