//! Property tests of the API as a whole: arbitrary valid specs round-trip through serde (JSON and
//! YAML) unchanged and pass both apply-time (OpenAPI + CEL) and semantic validation; arbitrary
//! rule-breaking mutations of them are refused by at least one of those layers; and the children
//! built from any of them are owned, labelled, short enough, *restricted*, distinct and
//! deterministic.

mod support;

use proptest::prelude::*;
use serde_json::{Value, json};
use smbp_api::v1alpha1::{BigPeer, BigPeerSpec};
use smbp_core::build::{Child, ChildKind, Observed, Rollout, ValidatedBigPeer, build};
use smbp_core::{catalogue, pss, validation};
use support::{bigpeer, merge, refusals};

/// Turns a vector of random numbers ("knobs") into a valid spec. Every choice is made so the
/// result satisfies every rule; proptest shrinks the knobs toward the simplest spec.
fn valid_spec(k: &[u16]) -> Value {
    let installable: Vec<_> = catalogue::builtin()
        .releases()
        .iter()
        .filter(|r| r.withdrawn.is_none())
        .collect();
    let version = installable[k[0] as usize % installable.len()]
        .version
        .to_string();
    let store_replicas = 1 + 2 * (k[1] % 3) as i64; // 1, 3 or 5: odd, as validation recommends
    let mut spec = json!({
        "version": version,
        "store": {
            "replicas": store_replicas,
            "storage": {
                "size": format!("{}Gi", 1 + k[2] % 2000),
                "retention": {
                    "whenDeleted": pick(&["Retain", "Delete"], k[3] as usize % 2),
                    "whenScaled": pick(&["Retain", "Delete"], k[4] as usize % 2),
                },
            },
        },
    });
    if k[5] % 2 == 1 {
        spec["store"]["storage"]["storageClassName"] = json!(format!("class-{}", k[5] % 7));
    }
    spec["sync"] = if k[6].is_multiple_of(2) {
        json!({"replicas": 1 + k[7] % 50})
    } else {
        let min = 1 + k[7] % 10;
        json!({"autoscaling": {"minReplicas": min, "maxReplicas": min + k[8] % 20, "targetCPUUtilizationPercentage": 10 + k[8] % 91}})
    };
    spec["transactionLog"] = if k[9].is_multiple_of(2) {
        let mut log = json!({"strimzi": {
            "clusterRef": {"name": "kafka"},
            "topic": {"partitions": 1 + k[10] % 200, "replicas": 3, "retention": format!("{}h", 1 + k[10] % 1000)},
            "authentication": pick(&["scram-sha-512", "tls"], k[11] as usize % 2),
        }});
        if k[11].is_multiple_of(3) {
            log["strimzi"]["clusterRef"]["namespace"] = json!("kafka-system");
        }
        log
    } else {
        let servers: Vec<_> = (0..=k[10] % 4)
            .map(|i| format!("kafka-{i}.example.com:9093"))
            .collect();
        let mut log = json!({"external": {"bootstrapServers": servers, "topic": format!("txlog-{}", k[11] % 9)}});
        if k[11].is_multiple_of(2) {
            log["external"]["tls"] = json!({"caSecretRef": {"name": "ca", "key": "ca.crt"}});
            log["external"]["sasl"] = json!({"mechanism": pick(&["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"], k[12] as usize % 3), "secretRef": {"name": "creds"}});
        }
        log
    };
    let hosts: Vec<_> = (0..=k[13] % 3)
        .map(|i| format!("h{i}.example.com"))
        .collect();
    match k[14] % 3 {
        1 => {
            let duration = 24 + k[15] % 5000;
            spec["tls"] = json!({"certManager": {
                "issuerRef": {"name": "ca", "kind": pick(&["Issuer", "ClusterIssuer"], k[15] as usize % 2)},
                "dnsNames": ["*.example.com"],
                "duration": format!("{duration}h"),
                "renewBefore": format!("{}h", 1 + k[16] % (duration - 1)),
            }});
        }
        2 => spec["tls"] = json!({"secretRef": {"name": "my-tls"}}),
        _ => {}
    }
    let mut network = json!({});
    match k[17] % 4 {
        1 => {
            network["service"] = json!({"type": "NodePort", "nodePort": 30000 + k[18] % 2768, "externalTrafficPolicy": "Local"})
        }
        2 => {
            network["service"] = json!({"type": "LoadBalancer", "loadBalancerClass": "lb.example/x", "loadBalancerSourceRanges": ["10.0.0.0/8"], "annotations": {"example.com/a": "b"}})
        }
        3 => network["service"] = json!({"type": "ClusterIP"}),
        _ => {}
    }
    if k[19] % 2 == 1 {
        network["ingress"] = json!({"ingressClassName": "any", "hosts": hosts});
        network["ingress"]["tls"] = if spec.get("tls").is_some() && k[19] % 4 == 1 {
            json!({"useBigPeerCertificate": true})
        } else {
            json!({"secretName": "ingress-tls"})
        };
        if spec["tls"].get("secretRef").is_some() {
            network["ingress"]["tls"] = json!({"secretName": "ingress-tls"});
        }
    }
    if k[20] % 2 == 1 {
        // TLSRoute needs spec.tls; TCPRoute has no host names; backendTLS needs spec.tls and an
        // HTTPRoute or GRPCRoute.
        let has_tls = spec.get("tls").is_some();
        let kinds: &[&str] = if has_tls {
            &["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"]
        } else {
            &["HTTPRoute", "GRPCRoute", "TCPRoute"]
        };
        let kind = kinds[(k[20] / 2) as usize % kinds.len()];
        let mut gateway =
            json!({"parentRefs": [{"name": "gw", "namespace": "infra"}], "routeKind": kind});
        if kind != "TCPRoute" {
            gateway["hostnames"] = json!(hosts);
        }
        if has_tls && ["HTTPRoute", "GRPCRoute"].contains(&kind) && k[20] % 4 == 3 {
            gateway["backendTLS"] = json!(true);
        }
        network["gateway"] = gateway;
    }
    spec["network"] = network;
    if k[21] % 2 == 1 {
        spec["monitoring"] = json!({
            "serviceMonitor": {"interval": format!("{}s", 5 + k[21] % 120), "labels": {"release": "prom"}},
            "prometheusRule": {"enabled": k[21] % 4 == 1},
            "grafanaDashboards": {},
        });
    }
    if k[22] % 2 == 1 {
        spec["upgrade"] = json!({
            "strategy": pick(&["RollingUpdate", "Manual"], k[22] as usize % 4 / 2),
            "maxUnavailable": 1 + (k[23] as i64 % store_replicas.max(1)) / 2,
            "migrationTimeout": format!("{}m", 1 + k[23] % 600),
            "paused": k[23].is_multiple_of(5),
            "maintenanceWindow": {"days": ["Saturday", "Sunday"], "start": "02:30", "duration": "4h"},
        });
    }
    spec
}

/// One of `choices`, by a knob.
fn pick(choices: &[&str], knob: usize) -> String {
    choices[knob % choices.len()].to_string()
}

/// A change that breaks exactly one rule of one layer.
fn break_rule(spec: &mut Value, which: u8) {
    let patch = match which % 18 {
        0 => json!({"store": {"replicas": 0}}),
        1 => json!({"version": format!("v{}", spec["version"].as_str().unwrap())}),
        2 => {
            json!({"tls": {"secretRef": {"name": "a"}, "certManager": {"issuerRef": {"name": "b"}}}})
        }
        3 => json!({"sync": {"replicas": 2, "autoscaling": {"minReplicas": 1, "maxReplicas": 2}}}),
        4 => {
            json!({"sync": {"replicas": null, "autoscaling": {"minReplicas": 9, "maxReplicas": 2}}})
        }
        5 => {
            json!({"network": {"service": {"type": "ClusterIP", "nodePort": 30001, "externalTrafficPolicy": null, "loadBalancerClass": null, "loadBalancerSourceRanges": null}}})
        }
        6 => json!({"store": {"storage": {"size": "-1Gi"}}}),
        7 => json!({"network": {"ingress": {"hosts": ["UPPER.example.com"], "tls": null}}}),
        8 => {
            json!({"transactionLog": {"strimzi": {"clusterRef": {"name": "k"}, "topic": {"partitions": 0}}, "external": null}})
        }
        9 => {
            json!({"transactionLog": {"strimzi": null, "external": {"bootstrapServers": ["no-port"], "topic": "t"}}})
        }
        10 => {
            json!({"tls": {"secretRef": null, "certManager": {"issuerRef": {"name": "b"}, "duration": "2h", "renewBefore": "3h"}}})
        }
        11 => json!({"workload": {"httpPort": 7000}}),
        12 => json!({"version": "7.7.7"}),
        13 => json!({"monitoring": {"serviceMonitor": {"labels": {"-bad": "x"}}}}),
        14 => json!({"store": {"replicas": 3}, "upgrade": {"maxUnavailable": 3}}),
        15 => json!({"upgrade": {"migrationTimeout": "0s"}}),
        16 => json!({"store": {"podOverrides": {"spec": {"containers": "not-a-list"}}}}),
        _ => json!({"security": {"serviceAccount": {"create": false, "name": null}}}),
    };
    merge(spec, &patch);
}

fn knobs() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(any::<u16>(), 24)
}

/// The BigPeer a valid spec belongs to, as the API server would store it: a name of `name_len`
/// characters (the CRD allows 40) in a namespace of `ns_len` (Kubernetes allows 63).
fn stored(spec: BigPeerSpec, name_len: usize, ns_len: usize) -> BigPeer {
    let mut bigpeer = BigPeer::new(&"b".repeat(name_len), spec);
    bigpeer.metadata.namespace = Some("n".repeat(ns_len));
    bigpeer.metadata.uid = Some("6f0c1c1e-0000-4000-8000-00000000beef".into());
    bigpeer
}

/// Checks one built child against the invariants every child must meet.
fn check_child(child: &Child, bigpeer: &BigPeer) -> Result<(), TestCaseError> {
    let meta = &child.object["metadata"];
    let labels = &meta["labels"];
    for label in [
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/part-of",
    ] {
        prop_assert!(
            labels.get(label).is_some_and(Value::is_string),
            "{} lacks {}",
            child.name,
            label
        );
    }
    // The version is a pod's (the release it runs), never a child's: an upgrade's start must not
    // rewrite every child.
    prop_assert!(
        labels.get("app.kubernetes.io/version").is_none(),
        "{} carries a version label",
        child.name
    );
    let own_namespace = bigpeer.metadata.namespace.as_deref() == Some(child.namespace.as_str());
    if own_namespace {
        let owner = &meta["ownerReferences"][0];
        prop_assert_eq!(
            &owner["uid"],
            &json!(bigpeer.metadata.uid),
            "{}",
            child.name
        );
        prop_assert_eq!(&owner["controller"], &json!(true));
        prop_assert!(child.name.len() <= 63, "{} is too long", child.name);
    } else {
        prop_assert_eq!(
            &labels["smbp.dev/owner-namespace"],
            &json!(bigpeer.metadata.namespace)
        );
        prop_assert!(child.name.len() <= 253);
    }
    if child.kind == ChildKind::StatefulSet {
        // Pod names (<name>-<ordinal>) and revision labels (<name>-<10-char hash>) must fit 63.
        prop_assert!(child.name.len() + "-".len() + 10 <= 63, "{}", child.name);
    }
    if matches!(child.kind, ChildKind::StatefulSet | ChildKind::Deployment) {
        let pod = &child.object["spec"]["template"]["spec"];
        let pod_sc = serde_json::from_value(pod["securityContext"].clone()).unwrap();
        for container in pod["containers"].as_array().unwrap() {
            let sc = serde_json::from_value(container["securityContext"].clone()).unwrap();
            prop_assert_eq!(
                pss::restricted_violations(&pod_sc, &sc),
                vec![],
                "{}",
                child.name
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn built_children_are_owned_labelled_short_restricted_distinct_and_deterministic(
        k in knobs(), name_len in 1usize..=40, ns_len in 1usize..=63,
    ) {
        let spec: BigPeerSpec = serde_json::from_value(valid_spec(&k)).unwrap();
        let bigpeer = stored(spec, name_len, ns_len);
        let (validated, _) = ValidatedBigPeer::new(&bigpeer, None).map_err(|r| TestCaseError::fail(format!("{r:?}")))?;
        let observed = Observed {
            tls_checksum: Some("abc".into()),
            kafka_bootstrap: None,
            kafka_user_secret: Some(Default::default()),
            tls_ca: Some("-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n".into()),
        };
        let children = build(&validated, &observed, &Rollout::steady(&validated));
        prop_assert_eq!(&children, &build(&validated, &observed, &Rollout::steady(&validated)), "building is not deterministic");
        let objects = children.into_objects();
        let mut seen = std::collections::BTreeSet::new();
        for child in &objects {
            check_child(child, &bigpeer)?;
            prop_assert!(seen.insert((child.kind, child.namespace.clone(), child.name.clone())), "two children are {:?} {}/{}", child.kind, child.namespace, child.name);
        }
    }

    #[test]
    fn valid_specs_round_trip_and_pass_every_layer(k in knobs()) {
        let raw = valid_spec(&k);
        let spec: BigPeerSpec = serde_json::from_value(raw.clone()).map_err(|e| TestCaseError::fail(format!("{e}: {raw}")))?;

        let json = serde_json::to_value(&spec).unwrap();
        prop_assert_eq!(&serde_json::from_value::<BigPeerSpec>(json.clone()).unwrap(), &spec);
        let yaml = serde_yaml::to_string(&spec).unwrap();
        prop_assert_eq!(&serde_yaml::from_str::<BigPeerSpec>(&yaml).unwrap(), &spec);

        // Both what the user wrote and what the operator re-serializes are admitted.
        prop_assert_eq!(refusals(&bigpeer("bp", raw.clone()), None), Vec::<String>::new(), "{}", raw);
        prop_assert_eq!(refusals(&bigpeer("bp", json.clone()), None), Vec::<String>::new(), "{}", json);
        let report = validation::validate("bp", &spec, None);
        prop_assert!(report.is_valid(), "{:?}", report);
    }

    #[test]
    fn rule_breaking_mutations_are_refused_by_some_layer(k in knobs(), which in any::<u8>()) {
        let mut raw = valid_spec(&k);
        break_rule(&mut raw, which);
        let object = bigpeer("bp", raw.clone());
        let apply_time = refusals(&object, None);
        let semantic = serde_json::from_value::<BigPeer>(object)
            .map(|bp| validation::validate("bp", &bp.spec, None).errors().count())
            .unwrap_or(1);
        prop_assert!(!apply_time.is_empty() || semantic > 0, "mutation {} admitted: {}", which % 18, raw);
    }
}
