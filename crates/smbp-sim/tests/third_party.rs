//! The third-party APIs of a simulated cluster: the vendored CRDs install (or stay absent), and
//! the simulated cert-manager, Strimzi, load balancer, EndpointSlice and Gateway API controllers
//! behave as the real ones report.

mod support;

use base64::Engine;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::{Value, json};
use smbp_sim::{SimCluster, SimOptions, ThirdPartyCrds};
use std::sync::Arc;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn secret_bytes(secret: &Value, key: &str) -> Vec<u8> {
    let encoded = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("secret has {key}"));
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64")
}

/// Verifies the certificate for `name` against the CA, at the cluster's time.
fn verify(
    certificate: &[u8],
    ca: &[u8],
    name: &str,
    at: jiff::Timestamp,
) -> Result<(), rustls::Error> {
    let leaf = CertificateDer::from_pem_slice(certificate).expect("tls.crt is PEM");
    let root = CertificateDer::from_pem_slice(ca).expect("ca.crt is PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).expect("CA parses");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("verifier");
    let time = UnixTime::since_unix_epoch(Duration::from_secs(at.as_second() as u64 + 60));
    verifier
        .verify_server_cert(
            &leaf,
            &[],
            &ServerName::try_from(name.to_string()).expect("name"),
            &[],
            time,
        )
        .map(|_| ())
}

#[tokio::test]
async fn a_certificate_yields_a_valid_certificate_for_its_names_and_is_renewed() {
    let cluster = cluster().await;
    namespace(&cluster, "tls").await;
    let issuers = api(
        &cluster,
        "cert-manager.io",
        "v1",
        "Issuer",
        "issuers",
        "tls",
    );
    let certificates = api(
        &cluster,
        "cert-manager.io",
        "v1",
        "Certificate",
        "certificates",
        "tls",
    );
    let secrets = api(&cluster, "", "v1", "Secret", "secrets", "tls");
    create(&certificates, json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "web"},
        "spec": {"secretName": "web-tls", "dnsNames": ["web.tls.svc", "web.example.com"], "duration": "1h", "renewBefore": "59m",
                 "issuerRef": {"name": "selfsigned", "kind": "Issuer"}}})).await;
    // No issuer yet: not Ready, no Secret.
    let waiting = eventually("certificate waiting", WAIT, || async {
        let c = get(&certificates, "web").await?;
        condition(&c, "Ready")
            .filter(|r| r["status"] == "False")
            .cloned()
    })
    .await;
    assert_eq!(waiting["reason"], "DoesNotExist");
    assert!(get(&secrets, "web-tls").await.is_none());
    create(&issuers, json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}})).await;
    let ready = eventually("certificate ready", WAIT, || async {
        let c = get(&certificates, "web").await?;
        condition(&c, "Ready")
            .is_some_and(|r| r["status"] == "True")
            .then_some(c)
    })
    .await;
    assert_eq!(ready["status"]["revision"], 1);
    let secret = get(&secrets, "web-tls").await.expect("the Secret exists");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    assert_eq!(
        secret["metadata"]["annotations"]["cert-manager.io/alt-names"],
        "web.tls.svc,web.example.com"
    );
    let (certificate, ca) = (
        secret_bytes(&secret, "tls.crt"),
        secret_bytes(&secret, "ca.crt"),
    );
    for name in ["web.tls.svc", "web.example.com"] {
        verify(&certificate, &ca, name, cluster.now())
            .unwrap_or_else(|e| panic!("valid for {name}: {e}"));
    }
    assert!(
        verify(&certificate, &ca, "other.example.com", cluster.now()).is_err(),
        "not valid for other names"
    );
    let first_version = secret["metadata"]["resourceVersion"].clone();
    // renewBefore 59m of 1h: renewed a simulated minute later, as a new Secret version.
    let renewed = eventually("renewal", WAIT, || async {
        let c = get(&certificates, "web").await?;
        (c["status"]["revision"] == 2).then_some(c)
    })
    .await;
    assert_ne!(renewed["status"]["notBefore"], ready["status"]["notBefore"]);
    let secret = get(&secrets, "web-tls").await.unwrap();
    assert_ne!(secret["metadata"]["resourceVersion"], first_version);
    cluster.shutdown().await;
}

#[tokio::test]
async fn strimzi_topics_and_users_need_a_ready_cluster_named_by_their_label() {
    let cluster = cluster().await;
    namespace(&cluster, "kafka").await;
    let kafkas = api(
        &cluster,
        "kafka.strimzi.io",
        "v1",
        "Kafka",
        "kafkas",
        "kafka",
    );
    let topics = api(
        &cluster,
        "kafka.strimzi.io",
        "v1",
        "KafkaTopic",
        "kafkatopics",
        "kafka",
    );
    let users = api(
        &cluster,
        "kafka.strimzi.io",
        "v1",
        "KafkaUser",
        "kafkausers",
        "kafka",
    );
    let secrets = api(&cluster, "", "v1", "Secret", "secrets", "kafka");
    create(&kafkas, json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "events"},
        "spec": {"kafka": {"listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": true}]}}})).await;
    create(&topics, json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "orphan", "labels": {"strimzi.io/cluster": "nowhere"}},
        "spec": {"partitions": 3, "replicas": 1}})).await;
    create(&topics, json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "changes", "labels": {"strimzi.io/cluster": "events"}},
        "spec": {"partitions": 3, "replicas": 1}})).await;
    create(&users, json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser", "metadata": {"name": "bigpeer", "labels": {"strimzi.io/cluster": "events"}},
        "spec": {"authentication": {"type": "scram-sha-512"}}})).await;
    let kafka = eventually("kafka ready", WAIT, || async {
        let k = get(&kafkas, "events").await?;
        condition(&k, "Ready")
            .is_some_and(|c| c["status"] == "True")
            .then_some(k)
    })
    .await;
    assert_eq!(
        kafka["status"]["listeners"][0]["bootstrapServers"],
        "events-kafka-bootstrap.kafka.svc:9093"
    );
    eventually("topic ready", WAIT, || async {
        let t = get(&topics, "changes").await?;
        condition(&t, "Ready")
            .is_some_and(|c| c["status"] == "True")
            .then_some(())
    })
    .await;
    let user = eventually("user ready", WAIT, || async {
        let u = get(&users, "bigpeer").await?;
        condition(&u, "Ready")
            .is_some_and(|c| c["status"] == "True")
            .then_some(u)
    })
    .await;
    assert_eq!(user["status"]["secret"], "bigpeer");
    let secret = get(&secrets, "bigpeer").await.expect("credentials");
    assert!(!secret_bytes(&secret, "password").is_empty());
    let orphan = get(&topics, "orphan").await.unwrap();
    let not_ready = condition(&orphan, "Ready").expect("a Ready condition");
    assert_eq!(not_ready["status"], "False");
    assert_eq!(not_ready["reason"], "NoSuchResourceException");
    assert!(
        not_ready["message"].as_str().unwrap().contains("'nowhere'"),
        "{not_ready}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn services_get_endpoints_and_load_balancers_and_routes_report_their_parents() {
    let cluster = cluster().await;
    namespace(&cluster, "net").await;
    let pods = api(&cluster, "", "v1", "Pod", "pods", "net");
    let services = api(&cluster, "", "v1", "Service", "services", "net");
    let slices = api(
        &cluster,
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "net",
    );
    let routes = api(
        &cluster,
        "gateway.networking.k8s.io",
        "v1",
        "HTTPRoute",
        "httproutes",
        "net",
    );
    let gateways = api(
        &cluster,
        "gateway.networking.k8s.io",
        "v1",
        "Gateway",
        "gateways",
        "net",
    );
    for name in ["a", "b"] {
        create(&pods, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "sync"}},
            "spec": {"containers": [{"name": "c", "image": "sync:1", "ports": [{"name": "grpc", "containerPort": 7000}]}]}})).await;
    }
    create(&services, json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sync"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "sync"}, "ports": [{"name": "grpc", "port": 443, "targetPort": "grpc"}]}})).await;
    let slice = eventually("two ready endpoints", WAIT, || async {
        let all = list(&slices).await;
        let slice = all.into_iter().next()?;
        let ready = slice["endpoints"]
            .as_array()?
            .iter()
            .filter(|e| e["conditions"]["ready"] == true)
            .count();
        (ready == 2).then_some(slice)
    })
    .await;
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "sync"
    );
    assert_eq!(
        slice["ports"][0]["port"], 7000,
        "the named target port is resolved"
    );
    eventually("a load balancer address", WAIT, || async {
        get(&services, "sync")
            .await?
            .pointer("/status/loadBalancer/ingress/0/ip")
            .cloned()
    })
    .await;
    create(&routes, json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "sync"},
        "spec": {"parentRefs": [{"name": "edge"}], "rules": [{"backendRefs": [{"name": "sync", "port": 443}]}]}})).await;
    let parent_condition = |kind: &'static str| {
        let routes = routes.clone();
        move || {
            let routes = routes.clone();
            async move {
                let route = get(&routes, "sync").await?;
                route
                    .pointer("/status/parents/0/conditions")?
                    .as_array()?
                    .iter()
                    .find(|c| c["type"] == kind)
                    .cloned()
            }
        }
    };
    let orphaned = eventually(
        "route without its gateway",
        WAIT,
        parent_condition("Accepted"),
    )
    .await;
    assert_eq!(orphaned["status"], "False");
    assert_eq!(orphaned["reason"], "NoMatchingParent");
    create(&gateways, json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "edge"},
        "spec": {"gatewayClassName": "sim", "listeners": [{"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "sync.example.com",
            "tls": {"certificateRefs": [{"name": "edge-tls"}]}}]}})).await;
    eventually("route accepted", WAIT, || async {
        let accepted = parent_condition("Accepted")().await?;
        (accepted["status"] == "True").then_some(())
    })
    .await;
    let resolved = parent_condition("ResolvedRefs")().await.unwrap();
    assert_eq!(resolved["status"], "True");
    cluster.shutdown().await;
}

#[tokio::test]
async fn third_party_apis_are_absent_unless_installed() {
    let cluster = SimCluster::start_with(SimOptions {
        crds: ThirdPartyCrds {
            gateway_api: true,
            ..ThirdPartyCrds::none()
        },
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let client = cluster.client();
    let served = |group: &'static str| {
        let client = client.clone();
        async move {
            kube::discovery::Discovery::new(client)
                .filter(&[group])
                .run()
                .await
                .unwrap()
                .groups()
                .count()
                > 0
        }
    };
    assert!(served("gateway.networking.k8s.io").await);
    assert!(!served("cert-manager.io").await);
    assert!(!served("monitoring.coreos.com").await);
    cluster
        .install_crds(&ThirdPartyCrds {
            prometheus: true,
            ..ThirdPartyCrds::none()
        })
        .await
        .unwrap();
    assert!(served("monitoring.coreos.com").await);
    // Objects are checked against the upstream schema: an HTTPRoute with a bad path type is refused.
    let routes = api(
        &cluster,
        "gateway.networking.k8s.io",
        "v1",
        "HTTPRoute",
        "httproutes",
        "default",
    );
    let bad: kube::api::DynamicObject = serde_json::from_value(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "bad"}, "spec": {"rules": [{"matches": [{"path": {"type": "Sideways", "value": "/"}}]}]}})).unwrap();
    let refused = routes
        .create(&Default::default(), &bad)
        .await
        .expect_err("the upstream schema refuses it");
    let kube::Error::Api(status) = refused else {
        panic!("an API error")
    };
    assert_eq!(status.code, 422);
    assert!(status.message.contains("Sideways"), "{}", status.message);
    cluster.shutdown().await;
}

/// The condition `kind` of the first parent (or ancestor, under `list`) of `name`, once reported.
async fn reported(
    api: &kube::Api<kube::api::DynamicObject>,
    name: &str,
    list: &str,
    kind: &str,
) -> Value {
    eventually(&format!("{name}: {kind} reported"), WAIT, || async {
        get(api, name)
            .await?
            .pointer(&format!("/status/{list}/0/conditions"))?
            .as_array()?
            .iter()
            .find(|c| c["type"] == kind)
            .cloned()
    })
    .await
}

#[tokio::test]
async fn tls_and_tcp_routes_and_backend_tls_policies_are_judged_as_a_gateway_does() {
    let cluster = cluster().await;
    namespace(&cluster, "edge").await;
    let gateway_api = |kind: &str, plural: &str| {
        api(
            &cluster,
            "gateway.networking.k8s.io",
            "v1",
            kind,
            plural,
            "edge",
        )
    };
    let services = api(&cluster, "", "v1", "Service", "services", "edge");
    create(
        &services,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sync"},
        "spec": {"selector": {"app": "sync"}, "ports": [{"name": "http", "port": 8080}]}}),
    )
    .await;
    create(&gateway_api("Gateway", "gateways"), json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "public"}, "spec": {"gatewayClassName": "sim", "listeners": [
            {"name": "http", "port": 80, "protocol": "HTTP"},
            {"name": "tls", "port": 443, "protocol": "TLS", "hostname": "*.example.net", "tls": {"mode": "Passthrough"}},
            {"name": "tcp", "port": 7443, "protocol": "TCP"}]}})).await;
    let route = |kind: &str, name: &str, section: &str, hostnames: Option<Value>, backend: &str| {
        let mut spec = json!({"parentRefs": [{"name": "public", "sectionName": section}],
            "rules": [{"backendRefs": [{"name": backend, "port": 8080}]}]});
        if let Some(hostnames) = hostnames {
            spec["hostnames"] = hostnames;
        }
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "spec": spec})
    };
    let tls_routes = gateway_api("TLSRoute", "tlsroutes");
    let tcp_routes = gateway_api("TCPRoute", "tcproutes");
    let http_routes = gateway_api("HTTPRoute", "httproutes");
    // SNI names the passthrough listener serves: accepted.
    create(
        &tls_routes,
        route(
            "TLSRoute",
            "good",
            "tls",
            Some(json!(["sync.example.net"])),
            "sync",
        ),
    )
    .await;
    // A name outside the listener's wildcard.
    create(
        &tls_routes,
        route(
            "TLSRoute",
            "elsewhere",
            "tls",
            Some(json!(["sync.example.com"])),
            "sync",
        ),
    )
    .await;
    // A TLSRoute on the TCP listener, and a TCPRoute to a Service that does not exist.
    create(
        &tls_routes,
        route(
            "TLSRoute",
            "on-tcp",
            "tcp",
            Some(json!(["sync.example.net"])),
            "sync",
        ),
    )
    .await;
    create(
        &tcp_routes,
        route("TCPRoute", "missing", "tcp", None, "nowhere"),
    )
    .await;
    let expect = |c: &Value, status: &str, reason: &str| {
        assert_eq!(
            (c["status"].as_str(), c["reason"].as_str()),
            (Some(status), Some(reason)),
            "{c}"
        );
    };
    expect(
        &reported(&tls_routes, "good", "parents", "Accepted").await,
        "True",
        "Accepted",
    );
    expect(
        &reported(&tls_routes, "good", "parents", "ResolvedRefs").await,
        "True",
        "ResolvedRefs",
    );
    expect(
        &reported(&tls_routes, "elsewhere", "parents", "Accepted").await,
        "False",
        "NoMatchingListenerHostname",
    );
    expect(
        &reported(&tls_routes, "on-tcp", "parents", "Accepted").await,
        "False",
        "NotAllowedByListeners",
    );
    expect(
        &reported(&tcp_routes, "missing", "parents", "Accepted").await,
        "True",
        "Accepted",
    );
    expect(
        &reported(&tcp_routes, "missing", "parents", "ResolvedRefs").await,
        "False",
        "BackendNotFound",
    );
    let gateway = get(&gateway_api("Gateway", "gateways"), "public")
        .await
        .unwrap();
    assert_eq!(
        gateway.pointer("/status/listeners/1/supportedKinds/0/kind"),
        Some(&json!("TLSRoute")),
        "{gateway}"
    );

    // A BackendTLSPolicy on the Service an accepted HTTPRoute reaches, naming a CA ConfigMap
    // that does not exist yet, then does.
    create(
        &http_routes,
        route("HTTPRoute", "web", "http", None, "sync"),
    )
    .await;
    let policies = gateway_api("BackendTLSPolicy", "backendtlspolicies");
    create(&policies, json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "BackendTLSPolicy", "metadata": {"name": "sync"},
        "spec": {"targetRefs": [{"group": "", "kind": "Service", "name": "sync", "sectionName": "http"}],
            "validation": {"caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": "sync-ca"}], "hostname": "sync.edge.svc"}}})).await;
    expect(
        &reported(&policies, "sync", "ancestors", "Accepted").await,
        "False",
        "NoValidCACertificate",
    );
    expect(
        &reported(&policies, "sync", "ancestors", "ResolvedRefs").await,
        "False",
        "InvalidCACertificateRef",
    );
    let policy = get(&policies, "sync").await.unwrap();
    assert_eq!(
        policy["status"]["ancestors"][0]["ancestorRef"]["name"],
        "public"
    );
    let config_maps = api(&cluster, "", "v1", "ConfigMap", "configmaps", "edge");
    create(
        &config_maps,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sync-ca"},
        "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"}}),
    )
    .await;
    eventually("the policy resolves its CA", WAIT, || async {
        let c = reported(&policies, "sync", "ancestors", "ResolvedRefs").await;
        (c["status"] == "True").then_some(())
    })
    .await;
    cluster.shutdown().await;
}
