//! The BigPeer controller against the simulated cluster: the whole life of a BigPeer — created
//! and Ready with every child, scaled, re-exposed, degraded by missing dependencies, fought over
//! by another field manager, changed in an immutable field, deleted — and the promise that a
//! reconcile with nothing to do writes nothing.

mod support;

use serde_json::{Value, json};
use smbp_sim::ThirdPartyCrds;
use support::{Env, WAIT, eventually, spec};

const NS: &str = "shop";

async fn env_with_dependencies(crds: ThirdPartyCrds) -> Env {
    let strimzi = crds.strimzi;
    let env = Env::start(crds).await;
    env.namespace(NS).await;
    if strimzi {
        env.kafka(NS, "events").await;
    }
    env
}

fn owned_by_bigpeer(object: &Value, uid: &Value) -> bool {
    object.pointer("/metadata/ownerReferences/0/uid") == Some(uid)
        && object.pointer("/metadata/labels/app.kubernetes.io~1managed-by")
            == Some(&json!("smbp-operator"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bigpeer_gets_ready_with_every_child_and_a_quiet_reconcile_writes_nothing() {
    let mut env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.issuer(NS, "selfsigned").await;
    create_gateway(&env).await;
    env.create_bigpeer(NS, "edge", spec("events", Some("selfsigned"), json!({
        "tls": {"certManager": {"dnsNames": ["sync.example.com"]}},
        "network": {
            "service": {"type": "LoadBalancer", "loadBalancerClass": "sim.smbp.io/lb"},
            "ingress": {"ingressClassName": "sim", "hosts": ["sync.example.com"], "tls": {"useBigPeerCertificate": true}},
            "gateway": {"parentRefs": [{"name": "public"}], "hostnames": ["sync.example.com"]},
        },
        "monitoring": {"serviceMonitor": {}, "prometheusRule": {}, "grafanaDashboards": {}},
    }))).await;
    env.condition(NS, "edge", "Ready", "True").await;

    let bigpeer = env.get(&env.bigpeers(NS), "edge").await.unwrap();
    let uid = bigpeer["metadata"]["uid"].clone();
    let children = [
        ("v1", "ServiceAccount", "serviceaccounts", "edge"),
        ("v1", "ConfigMap", "configmaps", "edge-config"),
        ("v1", "ConfigMap", "configmaps", "edge-dashboards"),
        ("apps/v1", "StatefulSet", "statefulsets", "edge-store"),
        ("v1", "Service", "services", "edge-store-headless"),
        ("v1", "Service", "services", "edge-store"),
        ("v1", "Service", "services", "edge-sync"),
        ("v1", "Service", "services", "edge-metrics"),
        (
            "policy/v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            "edge-store",
        ),
        ("apps/v1", "Deployment", "deployments", "edge-sync"),
        ("networking.k8s.io/v1", "Ingress", "ingresses", "edge-sync"),
        (
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "networkpolicies",
            "edge-store",
        ),
        (
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "networkpolicies",
            "edge-sync",
        ),
        (
            "gateway.networking.k8s.io/v1",
            "HTTPRoute",
            "httproutes",
            "edge-sync",
        ),
        (
            "cert-manager.io/v1",
            "Certificate",
            "certificates",
            "edge-tls",
        ),
        (
            "kafka.strimzi.io/v1",
            "KafkaTopic",
            "kafkatopics",
            "edge-txlog",
        ),
        (
            "kafka.strimzi.io/v1",
            "KafkaUser",
            "kafkausers",
            "edge-txlog",
        ),
        (
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            "servicemonitors",
            "edge",
        ),
        (
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            "prometheusrules",
            "edge",
        ),
    ];
    for (api_version, kind, plural, name) in children {
        let object = env.get(&env.api(api_version, kind, plural, NS), name).await;
        let object = object.unwrap_or_else(|| panic!("{kind} {name} is missing"));
        assert!(
            owned_by_bigpeer(&object, &uid),
            "{kind} {name} is not owned and labelled: {object}"
        );
    }
    let status = &bigpeer["status"];
    assert_eq!(status["phase"], "Running", "{status}");
    assert_eq!(status["store"]["readyReplicas"], 3);
    assert_eq!(status["version"]["current"], "1.6.1");
    assert_eq!(status["endpoints"]["service"], "edge-sync.shop.svc:8080");
    let sources: Vec<_> = status["endpoints"]["external"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&"LoadBalancer")
            && sources.contains(&"Ingress")
            && sources.contains(&"Gateway"),
        "{status}"
    );

    // Settled: further reconciles (the resync is 2 s here) read but never write.
    env.reconciles(1).await;
    assert_quiet(&env, "a reconcile with nothing to change").await;

    // A restarted operator (no caches, no memory) writes nothing either: no child re-applied,
    // no Event, no status.
    // Its StatefulSet cache fills late (the first lists fail), as at scale on a busy apiserver.
    env.stop_operator().await;
    env.sim.faults().inject(smbp_sim::FaultRule {
        verb: Some("list".into()),
        resource: Some("statefulsets".into()),
        code: 500,
        count: Some(2),
    });
    env.start_operator().await;
    assert_quiet(&env, "an operator restart").await;
}

/// Asserts that three more reconciles make no write at all.
async fn assert_quiet(env: &Env, what: &str) {
    let before = env.operator_writes();
    let snapshot = env.operator_writes_by_resource();
    env.reconciles(3).await;
    assert_eq!(
        env.operator_writes(),
        before,
        "{what} wrote: before {snapshot:?}, after {:?}",
        env.operator_writes_by_resource()
    );
}

async fn create_gateway(env: &Env) {
    support::create(&env.api("gateway.networking.k8s.io/v1", "Gateway", "gateways", NS), json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "public"},
        "spec": {"gatewayClassName": "sim", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_and_switching_exposure_change_and_remove_children() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    create_gateway(&env).await;
    env.create_bigpeer(
        NS,
        "edge",
        spec(
            "events",
            None,
            json!({
                "network": {"ingress": {"hosts": ["sync.example.com"]}},
                "monitoring": {"serviceMonitor": {}},
            }),
        ),
    )
    .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    let checksum = |sts: &Value| {
        sts.pointer("/spec/template/metadata/annotations/smbp.dev~1config-checksum")
            .cloned()
    };
    let before = checksum(&env.get(&statefulsets, "edge-store").await.unwrap());

    env.patch_spec(
        NS,
        "edge",
        json!({
            "store": {"replicas": 5},
            "sync": {"replicas": 3},
            "network": {"ingress": null, "gateway": {"parentRefs": [{"name": "public"}]}},
            "monitoring": null,
        }),
    )
    .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let sts = env.get(&statefulsets, "edge-store").await.unwrap();
    assert_eq!(sts["spec"]["replicas"], 5);
    assert_eq!(sts["status"]["readyReplicas"], 5);
    assert_ne!(
        checksum(&sts),
        before,
        "the rendered peer list changed, so the pods roll"
    );
    let deployment = env
        .get(
            &env.api("apps/v1", "Deployment", "deployments", NS),
            "edge-sync",
        )
        .await
        .unwrap();
    assert_eq!(deployment["spec"]["replicas"], 3);
    let bigpeer = env.get(&env.bigpeers(NS), "edge").await.unwrap();
    assert_eq!(bigpeer["status"]["store"]["replicas"], 5);

    assert!(
        env.get(
            &env.api("networking.k8s.io/v1", "Ingress", "ingresses", NS),
            "edge-sync"
        )
        .await
        .is_none(),
        "the Ingress is removed"
    );
    assert!(
        env.get(
            &env.api(
                "monitoring.coreos.com/v1",
                "ServiceMonitor",
                "servicemonitors",
                NS
            ),
            "edge"
        )
        .await
        .is_none(),
        "the ServiceMonitor is removed"
    );
    assert!(
        env.get(
            &env.api(
                "gateway.networking.k8s.io/v1",
                "HTTPRoute",
                "httproutes",
                NS
            ),
            "edge-sync"
        )
        .await
        .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_optional_api_is_a_condition_while_everything_else_gets_ready() {
    let crds = ThirdPartyCrds {
        prometheus: false,
        ..ThirdPartyCrds::all()
    };
    let env = env_with_dependencies(crds).await;
    env.create_bigpeer(
        NS,
        "edge",
        spec(
            "events",
            None,
            json!({"monitoring": {"serviceMonitor": {}}}),
        ),
    )
    .await;
    let monitoring = env.condition(NS, "edge", "MonitoringReady", "False").await;
    assert_eq!(
        monitoring["reason"], "PrometheusOperatorNotInstalled",
        "{monitoring}"
    );
    assert!(
        monitoring["message"]
            .as_str()
            .unwrap()
            .contains("monitoring.coreos.com/v1")
    );
    env.condition(NS, "edge", "Available", "True").await;
    env.condition(NS, "edge", "TransactionLogReady", "True")
        .await;
    let ready = env.condition(NS, "edge", "Ready", "False").await;
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("MonitoringReady"),
        "{ready}"
    );

    // Installing the Prometheus Operator's CRDs later is noticed without a restart.
    env.sim
        .install_crds(&ThirdPartyCrds {
            prometheus: true,
            ..ThirdPartyCrds::none()
        })
        .await
        .unwrap();
    env.condition(NS, "edge", "Ready", "True").await;
    assert!(
        env.get(
            &env.api(
                "monitoring.coreos.com/v1",
                "ServiceMonitor",
                "servicemonitors",
                NS
            ),
            "edge"
        )
        .await
        .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_issuer_or_kafka_is_reported_by_name_and_blocks_nothing_else() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.create_bigpeer(
        NS,
        "edge",
        spec("absent-kafka", Some("absent-issuer"), json!({})),
    )
    .await;
    let certificate = env.condition(NS, "edge", "CertificateReady", "False").await;
    assert_eq!(certificate["reason"], "IssuerNotFound", "{certificate}");
    assert!(
        certificate["message"]
            .as_str()
            .unwrap()
            .contains("Issuer absent-issuer does not exist")
    );
    let log = env
        .condition(NS, "edge", "TransactionLogReady", "False")
        .await;
    assert_eq!(log["reason"], "KafkaNotFound", "{log}");
    // Everything but the pods is created; the workloads wait for their certificate (their pods
    // mount it), so they start once, with it.
    let services = env.api("v1", "Service", "services", NS);
    eventually("the sync Service is created anyway", WAIT, || async {
        env.get(&services, "edge-sync").await
    })
    .await;
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    assert!(env.get(&statefulsets, "edge-store").await.is_none());

    env.issuer(NS, "absent-issuer").await;
    env.kafka(NS, "absent-kafka").await;
    env.condition(NS, "edge", "CertificateReady", "True").await;
    env.condition(NS, "edge", "Ready", "True").await;
    let sts = env.get(&statefulsets, "edge-store").await.unwrap();
    assert!(
        sts.pointer("/spec/template/metadata/annotations/smbp.dev~1tls-checksum")
            .is_some(),
        "the issued certificate's digest is on the pods"
    );
    assert_eq!(pod_template_revisions(&env).await, (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_field_manager_taking_a_field_is_overruled_once_without_a_loop() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.create_bigpeer(NS, "edge", spec("events", None, json!({})))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
    env.reconciles(1).await;
    let configmaps = env.api("v1", "ConfigMap", "configmaps", NS);
    let original = env.get(&configmaps, "edge-config").await.unwrap()["data"].clone();
    let intruder = kube::api::PatchParams::apply("intruder").force();
    let apply = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "edge-config"}, "data": {"bigpeer.yaml": "hijacked"}});
    configmaps
        .patch("edge-config", &intruder, &kube::api::Patch::Apply(&apply))
        .await
        .unwrap();
    eventually("the operator takes the field back", WAIT, || async {
        let data = env.get(&configmaps, "edge-config").await?["data"].clone();
        (data == original).then_some(())
    })
    .await;
    env.reconciles(2).await;
    let writes = env.operator_writes();
    env.reconciles(3).await;
    assert_eq!(
        env.operator_writes(),
        writes,
        "no fight: once the field is back, nothing more is written"
    );
    let managers: Vec<String> =
        env.get(&configmaps, "edge-config").await.unwrap()["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m.pointer("/fieldsV1/f:data").is_some())
            .map(|m| m["manager"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(
        managers,
        ["smbp-operator"],
        "the operator owns the data again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_template_change_recreates_the_statefulset_keeping_pods_and_volumes() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.create_bigpeer(NS, "edge", spec("events", None, json!({})))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    let claims = env.api("v1", "PersistentVolumeClaim", "persistentvolumeclaims", NS);
    let old_uid = env.get(&statefulsets, "edge-store").await.unwrap()["metadata"]["uid"].clone();
    let claim_uid = env.get(&claims, "data-edge-store-0").await.unwrap()["metadata"]["uid"].clone();
    let errors = env
        .operator
        .stats
        .errors
        .load(std::sync::atomic::Ordering::Relaxed);

    env.patch_spec(NS, "edge", json!({"store": {"storage": {"size": "2Gi"}}}))
        .await;
    let sts = eventually("the StatefulSet is recreated", WAIT, || async {
        let sts = env.get(&statefulsets, "edge-store").await?;
        (sts["metadata"]["uid"] != old_uid).then_some(sts)
    })
    .await;
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "2Gi"
    );
    env.condition(NS, "edge", "Ready", "True").await;
    let claim = env.get(&claims, "data-edge-store-0").await.unwrap();
    assert_eq!(claim["metadata"]["uid"], claim_uid, "the volume is kept");
    assert_eq!(
        claim["spec"]["resources"]["requests"]["storage"], "2Gi",
        "and grown"
    );
    let errors_after = env
        .operator
        .stats
        .errors
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        errors_after, errors,
        "no reconcile failed on the immutable field"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_bigpeer_removes_its_children_everywhere_and_keeps_its_volumes() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.namespace("kafka").await;
    env.kafka("kafka", "shared").await;
    env.create_bigpeer(
        NS,
        "edge",
        json!({
            "version": "1.6.1",
            "store": {"replicas": 3, "storage": {"size": "1Gi"}},
            "transactionLog": {"strimzi": {"clusterRef": {"name": "shared", "namespace": "kafka"}}},
        }),
    )
    .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let topics = env.api("kafka.strimzi.io/v1", "KafkaTopic", "kafkatopics", "kafka");
    assert!(
        env.get(&topics, "shop.edge-txlog").await.is_some(),
        "the topic sits next to its Kafka"
    );
    let credentials = env
        .get(
            &env.api("v1", "Secret", "secrets", NS),
            "edge-txlog-credentials",
        )
        .await;
    assert!(
        credentials.is_some(),
        "the user's credentials are copied to the BigPeer's namespace"
    );

    env.bigpeers(NS)
        .delete("edge", &Default::default())
        .await
        .unwrap();
    let bigpeers = env.bigpeers(NS);
    eventually("the BigPeer is gone", WAIT, || async {
        env.get(&bigpeers, "edge").await.is_none().then_some(())
    })
    .await;
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    eventually("the store is gone", WAIT, || async {
        env.get(&statefulsets, "edge-store")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    eventually("the topic is gone", WAIT, || async {
        env.get(&topics, "shop.edge-txlog")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    let claims = env.api("v1", "PersistentVolumeClaim", "persistentvolumeclaims", NS);
    for ordinal in 0..3 {
        assert!(
            env.get(&claims, &format!("data-edge-store-{ordinal}"))
                .await
                .is_some(),
            "volume {ordinal} is retained"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_spec_is_a_condition_and_the_operator_waits_for_a_change() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    // The CRD keeps affinity free-form (its schema is huge); the operator's validation parses it.
    let bad_affinity = json!({"store": {"scheduling": {"affinity": {"nodeAffinity": 3}}}});
    env.create_bigpeer(NS, "edge", spec("events", None, bad_affinity))
        .await;
    let ready = env.condition(NS, "edge", "Ready", "False").await;
    assert_eq!(ready["reason"], "InvalidSpec");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("spec.store.scheduling.affinity"),
        "{ready}"
    );
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    assert!(
        env.get(&statefulsets, "edge-store").await.is_none(),
        "nothing is built from an invalid spec"
    );
    env.patch_spec(NS, "edge", json!({"store": {"scheduling": null}}))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_bigpeer_is_reported_and_does_not_stop_the_others() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.create_bigpeer(NS, "broken", spec("events", None, json!({})))
        .await;
    // Ready first, so that no status write of the operator's own is in flight: its next one would
    // apply `status.store` over the value below and make the object decodable again.
    env.condition(NS, "broken", "Ready", "True").await;
    // A status the schema admits (an integer: the API server does not enforce `format: int32`)
    // but no BigPeer decodes (beyond i32): what an older or foreign writer could leave behind.
    env.bigpeers(NS)
        .patch_status(
            "broken",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"status": {"store": {
                "replicas": 3_000_000_000_i64, "readyReplicas": 0, "updatedReplicas": 0}}})),
        )
        .await
        .expect("the API server stores it");
    env.create_bigpeer(NS, "healthy", spec("events", None, json!({})))
        .await;
    env.condition(NS, "healthy", "Ready", "True").await;
    let bigpeers = env.bigpeers(NS);
    let ready = eventually("the broken BigPeer is reported", WAIT, || async {
        let broken = env.get(&bigpeers, "broken").await?;
        broken["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Ready" && c["reason"] == "InvalidObject")
            .cloned()
    })
    .await;
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("does not decode as a BigPeer"),
        "{ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_child_is_the_users_problem_reported_without_an_endpoint_or_a_write_storm() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    // Every Service is refused (as an admission policy or a quota would refuse it).
    env.sim.faults().inject(smbp_sim::FaultRule {
        verb: Some("patch".into()),
        resource: Some("services".into()),
        code: 422,
        count: None,
    });
    env.create_bigpeer(NS, "edge", spec("events", None, json!({})))
        .await;
    let ready = eventually("the refusal in Ready", WAIT, || async {
        let bigpeer = env.get(&env.bigpeers(NS), "edge").await?;
        let ready = bigpeer["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Ready" && c["reason"] == "ChildRefused")?
            .clone();
        Some((ready, bigpeer))
    })
    .await;
    let (ready, bigpeer) = ready;
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.starts_with("the API server refused Service edge-")
            && message.contains("injected by smbp-sim"),
        "{message}"
    );
    let status = &bigpeer["status"];
    assert!(status["endpoints"].get("service").is_none(), "{status}");
    let exposure = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ExposureReady")
        .unwrap();
    assert_eq!(exposure["reason"], "ChildRefused", "{exposure}");

    // Pods becoming ready trigger reconciles, but each refused Service is sent again only when
    // its own backoff (200 ms doubling, test settings) ends: at most 4 more tries each in 5 s.
    let service_patches = || {
        env.sim
            .requests()
            .total(|k| k.verb == "patch" && k.resource == "services")
    };
    let before = service_patches();
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let tries = service_patches() - before;
    assert!(tries <= 4 * 4, "{tries} Service patches in 5 s");

    // Once the cluster accepts Services, the BigPeer becomes Ready with its endpoint.
    env.sim.faults().clear();
    env.condition(NS, "edge", "Ready", "True").await;
    let bigpeer = env.get(&env.bigpeers(NS), "edge").await.unwrap();
    assert_eq!(
        bigpeer["status"]["endpoints"]["service"],
        "edge-sync.shop.svc:8080"
    );
}

/// The ControllerRevisions of the store and the ReplicaSets of the sync tier: one each when
/// every pod was created once for its template.
async fn pod_template_revisions(env: &Env) -> (usize, usize) {
    let selector = "app.kubernetes.io/instance=edge";
    let count = |api: kube::Api<kube::api::DynamicObject>| async move {
        api.list(&kube::api::ListParams::default().labels(selector))
            .await
            .unwrap()
            .items
            .len()
    };
    let revisions = env.api("apps/v1", "ControllerRevision", "controllerrevisions", NS);
    let replicasets = env.api("apps/v1", "ReplicaSet", "replicasets", NS);
    (count(revisions).await, count(replicasets).await)
}

/// A cluster whose operator resyncs only every 10 minutes: only watches can trigger it in a test.
async fn env_without_resync() -> Env {
    let env = Env::start_with(ThirdPartyCrds::all(), |s| {
        s.resync = std::time::Duration::from_secs(600);
        s.not_ready_requeue = std::time::Duration::from_secs(600);
    })
    .await;
    env.namespace(NS).await;
    env.kafka(NS, "events").await;
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_start_once_with_their_first_certificate() {
    let env = env_without_resync().await;
    env.issuer(NS, "selfsigned").await;
    let tls = json!({"tls": {"certManager": {"dnsNames": ["sync.example.com"]}}});
    env.create_bigpeer(NS, "edge", spec("events", Some("selfsigned"), tls))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
    assert_eq!(
        pod_template_revisions(&env).await,
        (1, 1),
        "the pods were created for one certificate and not rolled when it was issued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_certificate_in_the_users_secret_rolls_the_pods_promptly() {
    let env = env_without_resync().await;
    let secrets = env.api("v1", "Secret", "secrets", NS);
    let secret = |crt: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "own-cert"},
            "type": "kubernetes.io/tls", "data": {"tls.crt": crt, "tls.key": "a2V5"}})
    };
    support::create(&secrets, secret("Zmlyc3Q=")).await;
    let tls = json!({"tls": {"secretRef": {"name": "own-cert"}}});
    env.create_bigpeer(NS, "edge", spec("events", None, tls))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
    assert_eq!(pod_template_revisions(&env).await, (1, 1));

    // The user rotates the certificate: the pods roll without waiting for a resync.
    let rotated = json!({"data": {"tls.crt": "cm90YXRlZA=="}});
    let params = kube::api::PatchParams::default();
    secrets
        .patch("own-cert", &params, &kube::api::Patch::Merge(&rotated))
        .await
        .unwrap();
    eventually(
        "the pods to roll for the rotated certificate",
        std::time::Duration::from_secs(20),
        || async { (pod_template_revisions(&env).await == (2, 2)).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_bigpeer_becomes_ready_once_without_flapping_or_degrading() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    env.issuer(NS, "selfsigned").await;
    create_gateway(&env).await;
    env.create_bigpeer(NS, "edge", spec("events", Some("selfsigned"), json!({
        "tls": {"certManager": {"dnsNames": ["sync.example.com"]}},
        "sync": {"replicas": null, "autoscaling": {"minReplicas": 2, "maxReplicas": 4}},
        "network": {
            "service": {"type": "LoadBalancer", "loadBalancerClass": "sim.smbp.io/lb"},
            "gateway": {"parentRefs": [{"name": "public"}], "hostnames": ["sync.example.com"]},
        },
    }))).await;
    // Every distinct (Ready, Degraded) seen from creation until well after the first Ready.
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut ready_since: Option<std::time::Instant> = None;
    let start = std::time::Instant::now();
    while ready_since.is_none_or(|t| t.elapsed() < std::time::Duration::from_secs(3)) {
        assert!(start.elapsed() < WAIT, "never Ready: {seen:?}");
        let bigpeer = env.get(&env.bigpeers(NS), "edge").await.unwrap();
        let status_of = |t: &str| {
            bigpeer["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == t))
                .map(|c| c["status"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        };
        let now = (status_of("Ready"), status_of("Degraded"));
        if now.0 == "True" && ready_since.is_none() {
            ready_since = Some(std::time::Instant::now());
        }
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let after_ready: Vec<_> = seen.iter().skip_while(|(r, _)| r != "True").collect();
    assert!(
        after_ready.iter().all(|(r, _)| r == "True"),
        "Ready flapped: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, d)| d != "True"),
        "Degraded while provisioning: {seen:?}"
    );
}

/// The reasons of the Events about BigPeer `name`.
async fn event_reasons(env: &Env, name: &str) -> Vec<String> {
    let events = env.api("events.k8s.io/v1", "Event", "events", NS);
    let list = events.list(&Default::default()).await.unwrap();
    list.items
        .into_iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e["regarding"]["name"] == name)
        .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quantities_the_api_server_canonicalises_cause_no_recreate_and_no_volume_patch() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    // Stored by the API server as 30Gi and 1 (cpu): the operator must see them as the same.
    let quantities = json!({"store": {"storage": {"size": "30720Mi"},
        "resources": {"requests": {"cpu": "1000m", "memory": "1024Mi"}, "limits": {"memory": "1Gi"}}}});
    env.create_bigpeer(NS, "edge", spec("events", None, quantities))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let statefulsets = env.api("apps/v1", "StatefulSet", "statefulsets", NS);
    let sts = env.get(&statefulsets, "edge-store").await.unwrap();
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "30Gi",
        "the simulated API server canonicalises as kube-apiserver does"
    );
    let claim_patches = || {
        env.sim
            .requests()
            .total(|k| k.verb == "patch" && k.resource == "persistentvolumeclaims")
    };
    let patches_before = claim_patches();

    // Any later spec change re-applies the StatefulSet: no recreate, no volume expansion.
    env.patch_spec(NS, "edge", json!({"store": {"replicas": 5}}))
        .await;
    eventually("the store scaled", WAIT, || async {
        let sts = env.get(&statefulsets, "edge-store").await?;
        (sts["status"]["readyReplicas"] == 5).then_some(())
    })
    .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let after = env.get(&statefulsets, "edge-store").await.unwrap();
    assert_eq!(
        after["metadata"]["uid"], sts["metadata"]["uid"],
        "not recreated"
    );
    assert_eq!(claim_patches(), patches_before, "no volume was patched");
    let reasons = event_reasons(&env, "edge").await;
    assert!(
        !reasons
            .iter()
            .any(|r| r == "VolumesExpanded" || r == "RecreatingStatefulSet"),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_refused_for_a_missing_priority_class_are_named_in_the_status() {
    let env = env_with_dependencies(ThirdPartyCrds::all()).await;
    let scheduling = json!({"store": {"scheduling": {"priorityClassName": "gold"}}});
    env.create_bigpeer(NS, "edge", spec("events", None, scheduling))
        .await;
    let ready = eventually("the missing class in Ready", WAIT, || async {
        let bigpeer = env.get(&env.bigpeers(NS), "edge").await?;
        bigpeer["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Ready" && c["reason"] == "PodsNotRunning")
            .cloned()
    })
    .await;
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.starts_with("store: ") && message.contains("no PriorityClass with name gold"),
        "{message}"
    );
    eventually("a PodsNotRunning Warning Event", WAIT, || async {
        let reasons = event_reasons(&env, "edge").await;
        reasons.iter().any(|r| r == "PodsNotRunning").then_some(())
    })
    .await;

    // Once the class exists the pods are created and the BigPeer becomes Ready.
    let classes = env.api(
        "scheduling.k8s.io/v1",
        "PriorityClass",
        "priorityclasses",
        "",
    );
    support::create(
        &classes,
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
        "metadata": {"name": "gold"}, "value": 1000}),
    )
    .await;
    env.condition(NS, "edge", "Ready", "True").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_field_the_api_server_drops_is_reported_once_and_never_reapplied() {
    let mut env = env_with_dependencies(ThirdPartyCrds::all()).await;
    // Kubernetes up to 1.36 drops StatefulSet maxUnavailable (gate MaxUnavailableStatefulSet off).
    let upgrade = json!({"store": {"replicas": 5}, "upgrade": {"maxUnavailable": 2}});
    env.create_bigpeer(NS, "edge", spec("events", None, upgrade))
        .await;
    env.condition(NS, "edge", "Ready", "True").await;
    eventually("a FeatureUnavailable Warning", WAIT, || async {
        let reasons = event_reasons(&env, "edge").await;
        reasons
            .iter()
            .any(|r| r == "FeatureUnavailable")
            .then_some(())
    })
    .await;
    let before = statefulset_patches(&env);
    env.reconciles(3).await;
    assert_eq!(statefulset_patches(&env), before, "re-applied");
    env.stop_operator().await;
    env.start_operator().await;
    env.reconciles(1).await;
    let before = statefulset_patches(&env);
    env.reconciles(3).await;
    assert_eq!(
        statefulset_patches(&env),
        before,
        "re-applied after a restart"
    );
}

/// StatefulSet patches anyone sent so far.
fn statefulset_patches(env: &Env) -> u64 {
    env.sim
        .requests()
        .total(|k| k.verb == "patch" && k.resource == "statefulsets")
}
