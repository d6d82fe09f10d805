//! Properties of specs with arbitrary embedded Kubernetes fields (`support::embedded`): a spec
//! that `validate` admits builds without panics into children whose every quantity parses, and
//! a spec with a known-bad embedded value is refused naming that value's BigPeer field. The
//! generator reaches both verdicts often (checked below), so neither property holds vacuously.

mod support;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use smbp_api::v1alpha1::{BigPeer, BigPeerSpec};
use smbp_core::build::{Observed, Rollout, ValidatedBigPeer, build};
use smbp_core::quantity::Quantity;
use smbp_core::{catalogue, validation};
use support::embedded::spec_with_embedded_fields;
use support::merge;

fn latest() -> String {
    catalogue::builtin().latest().version.to_string()
}

fn stored(name: &str, spec: BigPeerSpec) -> BigPeer {
    let mut bigpeer = BigPeer::new(name, spec);
    bigpeer.metadata.namespace = Some("default".into());
    bigpeer.metadata.uid = Some("6f0c1c1e-0000-4000-8000-00000000beef".into());
    bigpeer
}

/// Every quantity in a built object: the values of `requests` and `limits` maps, wherever they are.
fn quantities(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("requests" | "limits", Value::Object(amounts)) => {
                        found.extend(amounts.values().filter_map(Value::as_str).map(String::from));
                    }
                    _ => quantities(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| quantities(i, found)),
        _ => {}
    }
}

/// Known-bad values: a patch merged into the spec (or a name), and the field that must be named.
fn bad_values() -> Vec<(Option<&'static str>, Value, &'static str)> {
    let none = json!({});
    vec![
        (
            None,
            json!({"store": {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}}}),
            "spec.store.resources.requests.cpu",
        ),
        (
            None,
            json!({"sync": {"resources": {"limits": {"memory": "-1Gi"}}}}),
            "spec.sync.resources.limits.memory",
        ),
        (
            None,
            json!({"store": {"resources": {"limits": {"cpu": "1 core"}}}}),
            "spec.store.resources.limits.cpu",
        ),
        (
            None,
            json!({"store": {"scheduling": {"tolerations": [{"operator": "Equal", "value": "x"}]}}}),
            "spec.store.scheduling.tolerations[0].operator",
        ),
        (
            None,
            json!({"sync": {"scheduling": {"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}}}),
            "spec.sync.scheduling.topologySpreadConstraints[0].maxSkew",
        ),
        (
            None,
            json!({"store": {"scheduling": {"affinity": {"nodeAfinity": {}}}}}),
            "spec.store.scheduling.affinity",
        ),
        (
            None,
            json!({"sync": {"scheduling": {"nodeSelector": {"k": "-v"}}}}),
            "spec.sync.scheduling.nodeSelector[\"k\"]",
        ),
        (
            None,
            json!({"store": {"scheduling": {"priorityClassName": "High"}}}),
            "spec.store.scheduling.priorityClassName",
        ),
        (
            None,
            json!({"network": {"service": {"annotations": {"big": "x".repeat(262_144)}}}}),
            "spec.network.service.annotations",
        ),
        (
            None,
            json!({"sync": {"podOverrides": {"spec": {"containers": [{"name": "sync", "env": [{"name": "A=B"}]}]}}}}),
            "spec.sync.podOverrides.spec.containers[0].env[0].name",
        ),
        (
            None,
            json!({"store": {"podOverrides": {"metadata": {"labels": {"app.kubernetes.io/component": "x"}}}}}),
            "spec.store.podOverrides.metadata.labels[\"app.kubernetes.io/component\"]",
        ),
        (
            None,
            json!({"security": {"containerSecurityContext": {"privileged": true}}}),
            "spec.security.containerSecurityContext.privileged",
        ),
        (Some("9peer"), none, "metadata.name"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn admitted_specs_build_and_every_built_quantity_parses((name, raw) in spec_with_embedded_fields(latest())) {
        let spec: BigPeerSpec = serde_json::from_value(raw).expect("generated specs decode");
        // Admitted: `validate` and the merged pod templates (`ValidatedBigPeer::new`).
        let bigpeer = stored(&name, spec);
        let admitted = ValidatedBigPeer::new(&bigpeer, None);
        prop_assume!(admitted.is_ok());
        let (validated, _) = admitted.expect("admitted");
        let children = build(&validated, &Observed::default(), &Rollout::steady(&validated));
        for child in children.into_objects() {
            let mut found = Vec::new();
            quantities(&child.object, &mut found);
            for amount in found {
                prop_assert!(amount.parse::<Quantity>().is_ok(), "{:?} {}: {:?} is not a quantity", child.kind, child.name, amount);
            }
        }
    }

    #[test]
    fn known_bad_embedded_values_are_refused_naming_their_field(
        (name, raw) in spec_with_embedded_fields(latest()),
        which in 0usize..13,
    ) {
        let (bad_name, patch, field) = bad_values().swap_remove(which);
        let mut raw = raw;
        merge(&mut raw, &patch);
        let spec: BigPeerSpec = serde_json::from_value(raw).expect("patched specs decode");
        let report = validation::validate(bad_name.unwrap_or(&name), &spec, None);
        let errors: Vec<&str> = report.errors().map(|p| p.field.as_str()).collect();
        prop_assert!(errors.contains(&field), "{} not among {:?}", field, errors);
    }
}

#[test]
fn the_generator_reaches_both_verdicts() {
    let mut runner = TestRunner::deterministic();
    let strategy = spec_with_embedded_fields(latest());
    let (mut admitted, mut refused) = (0, 0);
    for _ in 0..300 {
        let (name, raw) = strategy.new_tree(&mut runner).unwrap().current();
        let spec: BigPeerSpec = serde_json::from_value(raw).unwrap();
        if validation::validate(&name, &spec, None).is_valid() {
            admitted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        admitted >= 10 && refused >= 10,
        "admitted {admitted}, refused {refused}"
    );
}

#[test]
fn every_known_bad_value_is_tried() {
    assert_eq!(bad_values().len(), 13, "update the range of `which`");
}
