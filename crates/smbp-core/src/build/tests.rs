//! Unit tests of the build stage's behaviours that golden files do not make obvious: what each
//! spec switch adds or removes, and what rolls the pods.

use super::golden_tests::{observed, sample};
use super::*;

fn children_of(bigpeer: &BigPeer, observed: &Observed) -> Children {
    let (validated, _) = ValidatedBigPeer::new(bigpeer, None).unwrap();
    build(&validated, observed)
}

fn pod_annotations(children: &Children) -> BTreeMap<String, String> {
    children
        .store
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap()
        .annotations
        .clone()
        .unwrap()
}

#[test]
fn a_configuration_or_certificate_change_changes_the_pod_template_checksums() {
    let bigpeer = sample("exposure-ingress.yaml");
    let base = children_of(&bigpeer, &observed(&bigpeer));
    let before = pod_annotations(&base);

    let mut scaled = bigpeer.clone();
    scaled.spec.store.replicas = 5;
    let after_config = pod_annotations(&children_of(&scaled, &observed(&scaled)));
    assert_ne!(
        before[CONFIG_CHECKSUM_ANNOTATION],
        after_config[CONFIG_CHECKSUM_ANNOTATION]
    );

    let renewed = Observed {
        tls_checksum: Some("another".into()),
        ..observed(&bigpeer)
    };
    let after_tls = pod_annotations(&children_of(&bigpeer, &renewed));
    assert_eq!(
        before[CONFIG_CHECKSUM_ANNOTATION],
        after_tls[CONFIG_CHECKSUM_ANNOTATION]
    );
    assert_eq!(after_tls[TLS_CHECKSUM_ANNOTATION], "another");
    let sync_annotations = children_of(&bigpeer, &renewed)
        .sync
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap();
    assert_eq!(sync_annotations[TLS_CHECKSUM_ANNOTATION], "another");
}

#[test]
fn exposure_modes_build_only_their_own_objects() {
    let ingress = children_of(&sample("exposure-ingress.yaml"), &Observed::default());
    assert!(
        ingress.ingress.is_some() && ingress.http_route.is_none() && ingress.grpc_route.is_none()
    );
    let http = children_of(&sample("production.yaml"), &Observed::default());
    assert!(http.ingress.is_none() && http.http_route.is_some() && http.grpc_route.is_none());
    let grpc = children_of(&sample("exposure-gateway.yaml"), &Observed::default());
    assert!(grpc.grpc_route.is_some() && grpc.http_route.is_none());
    let lb = children_of(&sample("exposure-loadbalancer.yaml"), &Observed::default());
    assert_eq!(
        lb.sync_service.spec.unwrap().type_.as_deref(),
        Some("LoadBalancer")
    );
}

#[test]
fn autoscaling_leaves_the_replica_count_to_the_autoscaler() {
    let production = children_of(&sample("production.yaml"), &Observed::default());
    assert!(production.sync_hpa.is_some());
    assert_eq!(production.sync.spec.unwrap().replicas, None);
    let minimal = children_of(&sample("minimal.yaml"), &Observed::default());
    assert!(minimal.sync_hpa.is_none());
    assert_eq!(minimal.sync.spec.unwrap().replicas, Some(2));
}

#[test]
fn strimzi_objects_next_to_a_kafka_elsewhere_carry_the_owner_namespace_instead_of_an_owner() {
    let bigpeer = sample("production.yaml");
    let children = children_of(&bigpeer, &observed(&bigpeer));
    let topic = children.kafka_topic.unwrap();
    assert_eq!(topic.metadata.namespace.as_deref(), Some("kafka"));
    assert_eq!(
        topic.metadata.name.as_deref(),
        Some("bigpeer.edge-sync-txlog")
    );
    assert!(topic.metadata.owner_references.is_none());
    assert_eq!(
        topic.metadata.labels.as_ref().unwrap()[OWNER_NAMESPACE_LABEL],
        "bigpeer"
    );
    assert_eq!(
        topic.metadata.labels.as_ref().unwrap()["strimzi.io/cluster"],
        "events"
    );
    assert_eq!(
        topic.spec.config.unwrap()["retention.ms"],
        336 * 3600 * 1000
    );
    let copy = children.kafka_credentials.unwrap();
    assert_eq!(copy.metadata.namespace.as_deref(), Some("bigpeer"));
}

#[test]
fn switching_things_off_removes_their_children() {
    let mut bigpeer = sample("production.yaml");
    let on = children_of(&bigpeer, &Observed::default());
    assert!(
        on.service_monitor.is_some() && on.prometheus_rule.is_some() && on.dashboards.is_some()
    );
    assert_eq!(on.network_policies.len(), 2);
    bigpeer.spec.monitoring = None;
    bigpeer.spec.security.network_policy.enabled = false;
    let off = children_of(&bigpeer, &Observed::default());
    assert!(
        off.service_monitor.is_none() && off.prometheus_rule.is_none() && off.dashboards.is_none()
    );
    assert!(off.network_policies.is_empty());
}

#[test]
fn pod_overrides_reach_the_template() {
    let children = children_of(&sample("external-kafka-grpc.yaml"), &Observed::default());
    let template = children.sync.spec.unwrap().template;
    let container = &template.spec.as_ref().unwrap().containers[0];
    let env = container.env.as_ref().unwrap();
    assert!(env.iter().any(|e| e.name == "LOG_LEVEL"));
    assert!(env.iter().any(|e| e.name == "KAFKA_PASSWORD"));
    assert_eq!(
        template.metadata.unwrap().annotations.unwrap()["example.com/team"],
        "edge"
    );
    assert_eq!(
        container
            .image
            .as_deref()
            .map(|i| i.starts_with("registry.internal/mirror/bigpeer@sha256:")),
        Some(true)
    );
}

#[test]
fn the_applied_hash_changes_with_the_object() {
    let bigpeer = sample("minimal.yaml");
    let hash = |b: &BigPeer| {
        children_of(b, &Observed::default()).into_objects()[1].object["metadata"]["annotations"]
            [APPLIED_HASH_ANNOTATION]
            .clone()
    };
    let mut other = bigpeer.clone();
    other.spec.store.replicas = 5;
    assert_ne!(hash(&bigpeer), hash(&other));
    assert_eq!(hash(&bigpeer), hash(&bigpeer.clone()));
}

#[test]
fn every_alert_has_a_runbook_section() {
    let runbooks = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/runbooks.md"
    ))
    .unwrap();
    for alert in monitoring::ALERTS {
        assert!(
            runbooks.contains(&format!("\n## {alert}\n")),
            "docs/runbooks.md has no section for {alert}"
        );
    }
    let bigpeer = sample("production.yaml");
    let rule = children_of(&bigpeer, &Observed::default())
        .prometheus_rule
        .unwrap();
    for rule in rule.spec.groups.unwrap()[0].rules.as_ref().unwrap() {
        let url = &rule.annotations.as_ref().unwrap()["runbook_url"];
        let anchor = url.rsplit('#').next().unwrap();
        assert_eq!(anchor, rule.alert.as_ref().unwrap().to_lowercase());
    }
}
