//! Reusable proptest strategies for BigPeer specs with arbitrary embedded Kubernetes fields:
//! names, resources (any quantity spelling, well-formed or not), tolerations, topology spread
//! constraints, affinity (unknown fields included), node selectors, priority class names, pod
//! overrides, labels and annotations (up to past the 256 KiB limit). Every generated spec decodes
//! as a `BigPeerSpec` — the values are arbitrary, the types are not — so `validate` decides, and
//! a test can compare its verdict with what is built or with what a cluster would say.

use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// `valid` nineteen times in twenty, else `any`: a spec has a few dozen such values, so about
/// a third of the generated specs are wholly valid and the rest break one or more rules.
pub fn mostly<T: std::fmt::Debug + 'static>(
    valid: impl Strategy<Value = T> + 'static,
    any: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![19 => valid, 1 => any].boxed()
}

/// A BigPeer name: mostly DNS-1035 labels of any length that fits (46), sometimes anything a
/// Kubernetes object name may be (digits first, dots, too long).
pub fn bigpeer_name() -> impl Strategy<Value = String> {
    mostly(
        "[a-z]([a-z0-9-]{0,44}[a-z0-9])?",
        "[a-z0-9]([a-z0-9.-]{0,48}[a-z0-9])?",
    )
}

/// A quantity string: well-formed ones with every suffix kind, and junk from its alphabet.
pub fn quantity() -> impl Strategy<Value = String> {
    let suffixes = vec![
        "", "m", "k", "M", "G", "Ki", "Mi", "Gi", "Ti", "n", "u", "e3", "E-2", "e+1",
    ];
    let signs = || select(vec!["", "", "", "-", "+"]);
    let well_formed = |sign: BoxedStrategy<&'static str>| {
        (sign, 0u32..5000, of(0u32..1000), select(suffixes.clone())).prop_map(
            |(sign, whole, fraction, suffix)| match fraction {
                Some(f) => format!("{sign}{whole}.{f}{suffix}"),
                None => format!("{sign}{whole}{suffix}"),
            },
        )
    };
    let any = prop_oneof![well_formed(signs().boxed()), "[-+0-9.eEinumkKMGTP x]{0,6}"];
    mostly(well_formed(Just("").boxed()), any)
}

/// `resources` of a container: mostly requests or limits of cpu and memory, sometimes both of
/// standard, extended and unknown resources in any relation.
pub fn resources() -> impl Strategy<Value = Value> {
    let one_side = (
        select(vec!["requests", "limits"]),
        btree_map(select(vec!["cpu", "memory"]), quantity(), 1..3),
    )
        .prop_map(|(side, amounts)| json!({ side: amounts }));
    mostly(one_side, any_resources())
}

fn any_resources() -> impl Strategy<Value = Value> {
    let names = select(vec![
        "cpu",
        "memory",
        "ephemeral-storage",
        "example.com/gpu",
        "hugepages-2Mi",
        "gpu",
    ]);
    let map = || btree_map(names.clone(), quantity(), 0..3);
    (map(), map()).prop_map(|(requests, limits)| json!({"requests": requests, "limits": limits}))
}

/// A label or annotation key: simple, prefixed, or anything short.
pub fn label_key() -> impl Strategy<Value = String> {
    let valid = prop_oneof![
        "[a-z]{1,8}",
        "[a-z]{1,5}\\.[a-z]{2,3}/[a-zA-Z0-9]([a-zA-Z0-9._-]{0,6}[a-zA-Z0-9])?",
    ];
    mostly(valid, "[a-zA-Z0-9._/ -]{0,10}")
}

/// A label value: valid ones, the empty one, or anything short.
pub fn label_value() -> impl Strategy<Value = String> {
    let valid =
        prop_oneof![3 => "[a-zA-Z0-9]([a-zA-Z0-9._-]{0,6}[a-zA-Z0-9])?", 1 => Just(String::new())];
    mostly(valid, "[a-zA-Z0-9._ -]{0,8}")
}

/// A label map.
pub fn labels() -> impl Strategy<Value = Value> {
    btree_map(label_key(), label_value(), 0..3).prop_map(|m| json!(m))
}

/// An annotation map, now and then past the 256 KiB total.
pub fn annotations() -> impl Strategy<Value = Value> {
    let value = mostly("[ -~]{0,12}", Just("x".repeat(262_140)));
    btree_map(label_key(), value, 0..3).prop_map(|m| json!(m))
}

/// A toleration: mostly a valid one, sometimes any operator, effect and key.
pub fn toleration() -> impl Strategy<Value = Value> {
    let valid = (label_key(), label_value(), select(vec!["NoSchedule", "PreferNoSchedule", "NoExecute"]))
        .prop_map(|(key, value, effect)| json!({"key": key, "operator": "Equal", "value": value, "effect": effect}));
    mostly(valid, any_toleration())
}

fn any_toleration() -> impl Strategy<Value = Value> {
    (
        of(label_key()),
        select(vec!["", "Equal", "Exists", "Gt"]),
        label_value(),
        select(vec!["", "NoSchedule", "PreferNoSchedule", "NoExecute", "Sometimes"]),
        of(0i64..600),
    )
        .prop_map(|(key, operator, value, effect, seconds)| {
            json!({"key": key, "operator": operator, "value": value, "effect": effect, "tolerationSeconds": seconds})
        })
}

/// A topology spread constraint: mostly a valid one, sometimes any skew, key, action and minimum.
pub fn topology_spread_constraint() -> impl Strategy<Value = Value> {
    let valid = (1i32..3, labels()).prop_map(|(skew, labels)| {
        json!({"maxSkew": skew, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": labels}})
    });
    mostly(valid, any_topology_spread_constraint())
}

fn any_topology_spread_constraint() -> impl Strategy<Value = Value> {
    (
        -1i32..3,
        select(vec![
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
            "",
            "Bad Key",
        ]),
        select(vec!["DoNotSchedule", "ScheduleAnyway", "Never"]),
        of(-1i32..3),
        of(labels()),
    )
        .prop_map(|(skew, key, when, min, selector)| {
            let mut c = json!({"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when});
            if let Some(min) = min {
                c["minDomains"] = json!(min);
            }
            if let Some(labels) = selector {
                c["labelSelector"] = json!({"matchLabels": labels});
            }
            c
        })
}

/// An `Affinity` as users write it: node affinity expressions, weighted pod anti-affinity, or a
/// misspelt field.
pub fn affinity() -> impl Strategy<Value = Value> {
    let operator = select(vec!["In", "NotIn", "Exists", "Gt", "Near"]);
    let node = (label_key(), operator, vec(label_value(), 0..2)).prop_map(|(key, op, values)| {
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": op, "values": values}]}]}}})
    });
    let pods = (-1i32..102, select(vec!["kubernetes.io/hostname", ""]), labels()).prop_map(
        |(weight, key, labels)| {
            json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": weight, "podAffinityTerm": {"topologyKey": key, "labelSelector": {"matchLabels": labels}}}]}})
        },
    );
    let valid = (label_key(), 1i32..=100).prop_map(|(key, weight)| {
        json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": weight, "preference": {"matchExpressions": [{"key": key, "operator": "Exists"}]}}]}})
    });
    mostly(
        valid,
        prop_oneof![node, pods, Just(json!({"nodeAfinity": {}}))],
    )
}

/// A priority class name: valid DNS subdomains or anything short.
pub fn priority_class_name() -> impl Strategy<Value = String> {
    mostly("[a-z]([a-z0-9-]{0,10}[a-z0-9])?", "[a-zA-Z0-9._-]{1,12}")
}

/// A `scheduling` section.
pub fn scheduling() -> impl Strategy<Value = Value> {
    (
        labels(),
        vec(toleration(), 0..3),
        of(affinity()),
        vec(topology_spread_constraint(), 0..2),
        of(priority_class_name()),
    )
        .prop_map(|(node_selector, tolerations, affinity, spread, priority)| {
            let mut s = json!({"nodeSelector": node_selector, "tolerations": tolerations, "topologySpreadConstraints": spread});
            if let Some(a) = affinity {
                s["affinity"] = a;
            }
            if let Some(p) = priority {
                s["priorityClassName"] = json!(p);
            }
            s
        })
}

/// A restricted container security context, or none (a sidecar without one breaks the standard).
fn container_security_context() -> impl Strategy<Value = Option<Value>> {
    of(Just(
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}),
    ))
}

/// A container of `podOverrides`: mostly the main one (`main`) with env and resources, sometimes
/// a sidecar (with or without image and security context) or a badly named one.
fn override_container(main: &'static str) -> impl Strategy<Value = Value> {
    let valid = (
        vec(select(vec!["A", "my.var", "PATH"]), 0..2),
        of(resources()),
    )
        .prop_map(move |(env, resources)| {
            let env: Vec<Value> = env
                .iter()
                .map(|n| json!({"name": n, "value": "x"}))
                .collect();
            let mut c = json!({"name": main, "env": env});
            if let Some(r) = resources {
                c["resources"] = r;
            }
            c
        });
    mostly(valid, any_override_container(main))
}

fn any_override_container(main: &'static str) -> impl Strategy<Value = Value> {
    (
        select(vec![main, main, "proxy", "Bad_Name"]),
        of(select(vec!["busybox:1", " busybox"])),
        vec(select(vec!["A", "my.var", "A=B", "PATH"]), 0..2),
        of(resources()),
        container_security_context(),
    )
        .prop_map(|(name, image, env, resources, security)| {
            let env: Vec<Value> = env
                .iter()
                .map(|n| json!({"name": n, "value": "x"}))
                .collect();
            let mut c = json!({"name": name, "env": env});
            for (field, value) in [
                ("image", image.map(|i| json!(i))),
                ("resources", resources),
                ("securityContext", security),
            ] {
                if let Some(v) = value {
                    c[field] = v;
                }
            }
            c
        })
}

/// `podOverrides` for the component whose main container is `main`.
pub fn pod_overrides(main: &'static str) -> impl Strategy<Value = Value> {
    (
        labels(),
        annotations(),
        vec(override_container(main), 0..3),
        labels(),
        of(priority_class_name()),
    )
        .prop_map(
            |(labels, annotations, containers, node_selector, priority)| {
                let mut spec = json!({"containers": containers, "nodeSelector": node_selector});
                if let Some(p) = priority {
                    spec["priorityClassName"] = json!(p);
                }
                json!({"metadata": {"labels": labels, "annotations": annotations}, "spec": spec})
            },
        )
}

/// One component's (`store` or `sync`) embedded fields.
fn component(main: &'static str) -> impl Strategy<Value = Value> {
    (of(resources()), of(scheduling()), of(pod_overrides(main))).prop_map(|(r, s, o)| {
        let mut c = Map::new();
        for (field, value) in [("resources", r), ("scheduling", s), ("podOverrides", o)] {
            if let Some(v) = value {
                c.insert(field.into(), v);
            }
        }
        Value::Object(c)
    })
}

/// A BigPeer name and a spec (JSON, decodable as `BigPeerSpec`) of release `version` whose
/// embedded Kubernetes fields are arbitrary.
pub fn spec_with_embedded_fields(version: String) -> impl Strategy<Value = (String, Value)> {
    (
        bigpeer_name(),
        component("store"),
        component("sync"),
        annotations(),
        labels(),
        annotations(),
    )
        .prop_map(move |(name, store, sync, service, monitoring, account)| {
            let spec = json!({
                "version": version,
                "transactionLog": {"strimzi": {"clusterRef": {"name": "kafka"}}},
                "store": store,
                "sync": sync,
                "network": {"service": {"annotations": service}},
                "monitoring": {"serviceMonitor": {"labels": monitoring}},
                "security": {"serviceAccount": {"annotations": account}},
            });
            (name, spec)
        })
}
