//! Once everything is settled, the simulated controllers stop writing: a cluster at rest makes no
//! changes, so a controller that loops on its own writes fails here.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn a_settled_cluster_makes_no_more_writes() {
    let cluster = cluster().await;
    namespace(&cluster, "quiet").await;
    let ns = "quiet";
    create(&api(&cluster, "apps", "v1", "StatefulSet", "statefulsets", ns), json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "db:1", "ports": [{"name": "http", "containerPort": 8080}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}})).await;
    create(&api(&cluster, "apps", "v1", "Deployment", "deployments", ns), json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "web:1"}]}}}})).await;
    create(&api(&cluster, "", "v1", "Service", "services", ns), json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})).await;
    create(&api(&cluster, "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", ns), json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "db"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "db"}}}})).await;
    create(
        &api(&cluster, "cert-manager.io", "v1", "Issuer", "issuers", ns),
        json!({"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}}),
    )
    .await;
    create(&api(&cluster, "cert-manager.io", "v1", "Certificate", "certificates", ns), json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "tls"}, "spec": {"secretName": "tls", "dnsNames": ["web.quiet.svc"], "issuerRef": {"name": "selfsigned"}}})).await;
    create(&api(&cluster, "gateway.networking.k8s.io", "v1", "Gateway", "gateways", ns), json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "gw"}, "spec": {"gatewayClassName": "sim", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}})).await;
    create(&api(&cluster, "gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", ns), json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}})).await;
    let services = api(&cluster, "", "v1", "Service", "services", ns);
    eventually("everything settled", Duration::from_secs(30), || async {
        let service = get(&services, "web").await?;
        service
            .pointer("/status/loadBalancer/ingress")
            .is_some()
            .then_some(())
    })
    .await;
    // Give the controllers time to finish, then watch for a quiet period.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = cluster.resource_version();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = cluster.resource_version();
    assert_eq!(
        after,
        before,
        "a settled cluster kept writing ({} changes in 30 simulated seconds)",
        after - before
    );
    cluster.shutdown().await;
}
