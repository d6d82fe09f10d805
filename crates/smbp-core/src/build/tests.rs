//! Unit tests of the build stage's behaviours that golden files do not make obvious: what each
//! spec switch adds or removes, and what rolls the pods.

use super::golden_tests::{observed, sample};
use super::*;

fn children_of(bigpeer: &BigPeer, observed: &Observed) -> Children {
    let (validated, _) = ValidatedBigPeer::new(bigpeer, None).unwrap();
    build(&validated, observed, &Rollout::steady(&validated))
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

#[test]
fn alerts_link_to_the_runbook_base_the_operator_is_given() {
    let bigpeer = sample("production.yaml");
    let urls = |observed: &Observed| -> Vec<String> {
        let rule = children_of(&bigpeer, observed).prometheus_rule.unwrap();
        let rules = rule.spec.groups.unwrap()[0].rules.clone().unwrap();
        rules
            .iter()
            .map(|rule| rule.annotations.as_ref().unwrap()["runbook_url"].clone())
            .collect()
    };
    let mirrored = Observed {
        runbook_base_url: Some("https://wiki.internal/smbp/runbooks/".into()),
        ..Observed::default()
    };
    for url in urls(&mirrored) {
        assert!(
            url.starts_with("https://wiki.internal/smbp/runbooks#"),
            "{url}"
        );
    }
    for url in urls(&Observed::default()) {
        assert!(
            url.starts_with(&format!("{}#", monitoring::RUNBOOK_BASE)),
            "{url}"
        );
    }
}

#[test]
fn a_rollout_holds_each_component_on_its_release_and_adds_the_migration_job() {
    let bigpeer = sample("minimal.yaml");
    let (validated, _) = ValidatedBigPeer::new(&bigpeer, None).unwrap();
    let old = ReleaseImage::of("1.5.1", &validated.spec).unwrap();
    let new = ReleaseImage::of(&validated.spec.version, &validated.spec).unwrap();
    let rollout = Rollout {
        store: new.clone(),
        store_partition: 2,
        sync: old.clone(),
        migrations: vec![Migration {
            phase: MigrationPhase::Pre,
            release: new.clone(),
            attempt: 0,
        }],
    };
    let children = build(&validated, &observed(&bigpeer), &rollout);
    let store = children.store.spec.as_ref().unwrap();
    let image = |t: &k8s_openapi::api::core::v1::PodTemplateSpec| {
        t.spec.as_ref().unwrap().containers[0]
            .image
            .clone()
            .unwrap()
    };
    let version = |t: &k8s_openapi::api::core::v1::PodTemplateSpec| {
        t.metadata.as_ref().unwrap().labels.as_ref().unwrap()["app.kubernetes.io/version"].clone()
    };
    assert_eq!(image(&store.template), new.image);
    assert_eq!(version(&store.template), new.version);
    let strategy = store.update_strategy.as_ref().unwrap();
    assert_eq!(strategy.rolling_update.as_ref().unwrap().partition, Some(2));
    let sync = &children.sync.spec.as_ref().unwrap().template;
    assert_eq!(image(sync), old.image);
    assert_eq!(version(sync), "1.5.1");

    let [job] = children.migrations.as_slice() else {
        panic!("one migration Job expected");
    };
    let name = job.metadata.name.clone().unwrap();
    assert_eq!(
        name,
        format!("minimal-migrate-pre-{}", new.version.replace('.', "-"))
    );
    let spec = job.spec.as_ref().unwrap();
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let args = pod.containers[0].args.clone().unwrap();
    assert_eq!(args[..3], ["migrate", "--phase", "pre"]);
    assert!(pod.containers[0].readiness_probe.is_none());
    assert_eq!(spec.active_deadline_seconds, Some(1800));
    // Built again, the Job is identical: a restart never makes a second one.
    assert_eq!(
        build(&validated, &observed(&bigpeer), &rollout).migrations,
        children.migrations
    );
}

#[test]
fn migration_job_names_fit_a_dns_label_for_any_name_and_version() {
    let names = Names::new(&"n".repeat(40));
    let name = names.migration("post", "10.200.3000-rc.1+build.5", 3);
    assert!(name.len() <= 63, "{name}");
    assert_ne!(name, names.migration("post", "10.200.3000-rc.1+build.6", 3));
    assert_ne!(name, names.migration("post", "10.200.3000-rc.1+build.5", 4));
    assert_eq!(
        names.migration("pre", "1.5.1", 1),
        format!("{}-migrate-pre-1-5-1-r1", "n".repeat(40))
    );
    assert!(
        name.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    );
}
