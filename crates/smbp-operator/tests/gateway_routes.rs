//! Gateway API exposure of every route kind against the simulated cluster and its Gateway
//! implementation: a TLSRoute without `spec.tls` is refused at apply time; what the Gateway
//! reports on a route (Accepted, ResolvedRefs per parent) becomes `ExposureReady`; switching the
//! route kind prunes the route of the old kind; end-to-end TLS builds a BackendTLSPolicy with the
//! certificate's CA and reports the Gateway's verdict on it.

mod support;

use serde_json::{Value, json};
use smbp_sim::ThirdPartyCrds;
use support::{Env, WAIT, eventually, spec};

const NS: &str = "shop";
const HOST: &str = "sync.example.com";

async fn env() -> Env {
    let env = Env::start(ThirdPartyCrds::all()).await;
    env.namespace(NS).await;
    env.kafka(NS, "events").await;
    env.issuer(NS, "selfsigned").await;
    env
}

fn gateways(env: &Env) -> kube::Api<kube::api::DynamicObject> {
    env.api("gateway.networking.k8s.io/v1", "Gateway", "gateways", NS)
}

fn routes(env: &Env, kind: &str) -> kube::Api<kube::api::DynamicObject> {
    let plural = format!("{}s", kind.to_lowercase());
    env.api("gateway.networking.k8s.io/v1", kind, &plural, NS)
}

/// A Gateway `public` with the given listeners.
async fn create_gateway(env: &Env, listeners: Value) {
    support::create(&gateways(env), json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "public"},
        "spec": {"gatewayClassName": "sim", "listeners": listeners}})).await;
}

fn http_listener() -> Value {
    json!({"name": "http", "port": 80, "protocol": "HTTP"})
}

fn passthrough_listener() -> Value {
    json!({"name": "tls", "port": 443, "protocol": "TLS", "hostname": "*.example.com", "tls": {"mode": "Passthrough"}})
}

fn tcp_listener() -> Value {
    json!({"name": "tcp", "port": 7443, "protocol": "TCP"})
}

/// The spec of BigPeer `edge`: cert-manager TLS covering [`HOST`], exposed through `gateway`.
fn exposed(gateway: Value) -> Value {
    spec(
        "events",
        Some("selfsigned"),
        json!({"tls": {"certManager": {"dnsNames": [HOST]}}, "network": {"gateway": gateway}}),
    )
}

fn tls_route() -> Value {
    json!({"parentRefs": [{"name": "public", "sectionName": "tls"}], "hostnames": [HOST], "routeKind": "TLSRoute"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_route_without_spec_tls_is_refused_at_apply_time() {
    let env = Env::start(ThirdPartyCrds::all()).await;
    env.namespace(NS).await;
    let mut without_tls = exposed(tls_route());
    without_tls.as_object_mut().unwrap().remove("tls");
    let object = json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer",
        "metadata": {"name": "edge"}, "spec": without_tls});
    let object = serde_json::from_value(object).unwrap();
    let error = env
        .bigpeers(NS)
        .create(&Default::default(), &object)
        .await
        .expect_err("a TLSRoute without spec.tls is refused");
    let kube::Error::Api(status) = error else {
        panic!("not an API refusal: {error}");
    };
    assert_eq!(status.code, 422, "{status:?}");
    assert!(
        status.message.contains("spec.network.gateway.routeKind")
            && status.message.contains("configure spec.tls"),
        "{}",
        status.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_gateway_reports_on_the_route_is_exposure_ready() {
    let env = env().await;
    // The listener the route names terminates HTTPS: a TLSRoute is not allowed by it.
    let https = json!({"name": "tls", "port": 443, "protocol": "HTTPS", "hostname": "*.example.com",
        "tls": {"mode": "Terminate", "certificateRefs": [{"name": "gateway-tls"}]}});
    create_gateway(&env, json!([http_listener(), https])).await;
    env.create_bigpeer(NS, "edge", exposed(tls_route())).await;
    let refused = exposure_reason(&env, "NotAllowedByListeners").await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("Gateway public:"),
        "{refused}"
    );
    let route = env.get(&routes(&env, "TLSRoute"), "edge-sync").await;
    let route = route.expect("the TLSRoute exists while refused");
    assert_eq!(route["spec"]["hostnames"], json!([HOST]));
    assert_eq!(route["spec"]["rules"][0]["backendRefs"][0]["port"], 8080);

    // The Gateway gains a TLS passthrough listener: the route is accepted.
    let mut gateway = env.get(&gateways(&env), "public").await.unwrap();
    gateway["spec"]["listeners"] = json!([http_listener(), passthrough_listener()]);
    let gateway = serde_json::from_value(gateway).unwrap();
    gateways(&env)
        .replace("public", &Default::default(), &gateway)
        .await
        .expect("replace the Gateway");
    env.condition(NS, "edge", "ExposureReady", "True").await;
    env.condition(NS, "edge", "Ready", "True").await;
    let bigpeer = env.get(&env.bigpeers(NS), "edge").await.unwrap();
    let external = &bigpeer["status"]["endpoints"]["external"];
    assert!(
        external
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["source"] == "Gateway" && e["address"] == HOST),
        "{external}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_route_kinds_prunes_the_old_route() {
    let env = env().await;
    create_gateway(
        &env,
        json!([http_listener(), passthrough_listener(), tcp_listener()]),
    )
    .await;
    env.create_bigpeer(
        NS,
        "edge",
        exposed(json!({"parentRefs": [{"name": "public", "sectionName": "http"}]})),
    )
    .await;
    env.condition(NS, "edge", "Ready", "True").await;
    let steps = [
        ("HTTPRoute", json!(null)),
        ("TLSRoute", tls_route()),
        (
            "TCPRoute",
            json!({"parentRefs": [{"name": "public", "sectionName": "tcp"}], "hostnames": null, "routeKind": "TCPRoute"}),
        ),
    ];
    for pair in steps.windows(2) {
        let [(old, _), (new, gateway)] = pair else {
            unreachable!()
        };
        env.patch_spec(NS, "edge", json!({"network": {"gateway": gateway}}))
            .await;
        env.condition(NS, "edge", "ExposureReady", "True").await;
        env.condition(NS, "edge", "Ready", "True").await;
        let route = env.get(&routes(&env, new), "edge-sync").await;
        assert!(route.is_some(), "the {new} is created");
        eventually(&format!("the {old} is pruned"), WAIT, || async {
            env.get(&routes(&env, old), "edge-sync")
                .await
                .is_none()
                .then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_tls_re_encrypts_with_the_certificates_ca() {
    let env = env().await;
    create_gateway(&env, json!([http_listener()])).await;
    env.create_bigpeer(
        NS,
        "edge",
        exposed(
            json!({"parentRefs": [{"name": "public"}], "hostnames": [HOST], "backendTLS": true}),
        ),
    )
    .await;
    env.condition(NS, "edge", "ExposureReady", "True").await;
    env.condition(NS, "edge", "Ready", "True").await;
    let secret = env
        .get(&env.api("v1", "Secret", "secrets", NS), "edge-tls")
        .await
        .expect("the certificate's Secret");
    let config_map = env
        .get(
            &env.api("v1", "ConfigMap", "configmaps", NS),
            "edge-sync-ca",
        )
        .await
        .expect("the CA ConfigMap");
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["ca.crt"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        config_map["data"]["ca.crt"].as_str().unwrap().as_bytes(),
        ca
    );
    let policies = env.api(
        "gateway.networking.k8s.io/v1",
        "BackendTLSPolicy",
        "backendtlspolicies",
        NS,
    );
    let policy = env.get(&policies, "edge-sync").await.expect("the policy");
    assert_eq!(
        policy["spec"]["validation"]["hostname"],
        format!("edge-sync.{NS}.svc")
    );
    let ancestor = &policy["status"]["ancestors"][0];
    assert_eq!(ancestor["ancestorRef"]["name"], "public", "{policy:#}");
    for type_ in ["Accepted", "ResolvedRefs"] {
        let condition = ancestor["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap_or_else(|| panic!("no {type_} in {policy:#}"));
        assert_eq!(condition["status"], "True", "{policy:#}");
    }
}

/// Waits until `ExposureReady` is False with `reason` for the current generation; returns it.
async fn exposure_reason(env: &Env, reason: &str) -> Value {
    eventually(&format!("ExposureReady {reason}"), WAIT, || async {
        let bigpeer = env.get(&env.bigpeers(NS), "edge").await?;
        let generation = bigpeer.pointer("/metadata/generation").cloned();
        bigpeer
            .pointer("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| {
                c["type"] == "ExposureReady"
                    && c["reason"] == reason
                    && c.get("observedGeneration") == generation.as_ref()
            })
            .cloned()
    })
    .await
}
