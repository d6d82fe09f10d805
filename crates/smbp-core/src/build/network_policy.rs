//! NetworkPolicies: store pods accept replication and API traffic only from the BigPeer's own
//! pods; sync pods accept device traffic from `syncFrom` (everyone when unset); the metrics port
//! of both only from `metricsFrom` (namespace `monitoring` when unset). Egress is not restricted:
//! DNS, Kafka and cloud endpoints differ per cluster.

use super::meta::{Context, INSTANCE_LABEL, NAME_LABEL};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The policies, unless `spec.security.networkPolicy.enabled` is false.
pub fn policies(ctx: &Context) -> Vec<NetworkPolicy> {
    let spec = &ctx.spec().security.network_policy;
    if !spec.enabled {
        return Vec::new();
    }
    let metrics_from = vec![NetworkPolicyPeer {
        namespace_selector: Some(spec.metrics_from.clone().unwrap_or_else(|| LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                "monitoring".to_string(),
            )])),
            ..LabelSelector::default()
        })),
        ..NetworkPolicyPeer::default()
    }];
    let metrics_rule = NetworkPolicyIngressRule {
        from: Some(metrics_from),
        ports: Some(vec![port(ctx.workload.metrics_port)]),
    };
    let own_pods = vec![NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([
                (NAME_LABEL.to_string(), "bigpeer".to_string()),
                (INSTANCE_LABEL.to_string(), ctx.bigpeer.name.clone()),
            ])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }];
    let store = NetworkPolicyIngressRule {
        from: Some(own_pods),
        ports: Some(vec![
            port(ctx.workload.peer_port),
            port(ctx.workload.http_port),
        ]),
    };
    let sync = NetworkPolicyIngressRule {
        from: (!spec.sync_from.is_empty()).then(|| spec.sync_from.clone()),
        ports: Some(vec![port(ctx.workload.http_port)]),
    };
    vec![
        policy(
            ctx,
            ctx.names.store_network_policy(),
            "store",
            vec![store, metrics_rule.clone()],
        ),
        policy(
            ctx,
            ctx.names.sync_network_policy(),
            "sync",
            vec![sync, metrics_rule],
        ),
    ]
}

fn policy(
    ctx: &Context,
    name: String,
    component: &str,
    ingress: Vec<NetworkPolicyIngressRule>,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ctx.meta(name, "security"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(ctx.selector(component)),
                ..LabelSelector::default()
            }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(ingress),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn port(number: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(number)),
        protocol: Some("TCP".into()),
        ..NetworkPolicyPort::default()
    }
}
