//! The Strimzi transaction log: a KafkaTopic and a KafkaUser (least-privilege ACLs on that topic
//! and the BigPeer's consumer groups) next to the user's Kafka cluster, and, when that cluster is in
//! another namespace, a copy of the user's credentials where the pods can mount it. An external
//! broker needs no child: its settings go into the configuration and pod environment.

use super::Observed;
use super::meta::Context;
use crate::duration;
use k8s_openapi::api::core::v1::Secret;
use smbp_api::v1alpha1::KafkaAuthentication;
use smbp_thirdparty::strimzi::{
    KafkaTopic, KafkaTopicSpec, KafkaUser, KafkaUserAuthentication, KafkaUserAuthenticationType,
    KafkaUserAuthorization, KafkaUserAuthorizationAcls, KafkaUserAuthorizationAclsResource,
    KafkaUserAuthorizationAclsResourcePatternType, KafkaUserAuthorizationAclsResourceType,
    KafkaUserAuthorizationAclsType, KafkaUserAuthorizationType, KafkaUserSpec,
};
use std::collections::BTreeMap;

const COMPONENT: &str = "transaction-log";
/// The label Strimzi's entity operator selects topics and users by.
const STRIMZI_CLUSTER_LABEL: &str = "strimzi.io/cluster";

/// The topic, the user, and the credentials copy.
pub fn children(
    ctx: &Context,
    observed: &Observed,
) -> (Option<KafkaTopic>, Option<KafkaUser>, Option<Secret>) {
    let Some(strimzi) = &ctx.spec().transaction_log.strimzi else {
        return (None, None, None);
    };
    let kafka_ns = strimzi
        .cluster_ref
        .namespace
        .clone()
        .unwrap_or_else(|| ctx.namespace().to_string());
    let name = ctx
        .names
        .transaction_log(ctx.namespace(), strimzi.cluster_ref.namespace.as_deref());
    let meta = || {
        let mut meta = ctx.meta_in(&kafka_ns, name.clone(), COMPONENT);
        meta.labels.get_or_insert_with(BTreeMap::new).insert(
            STRIMZI_CLUSTER_LABEL.into(),
            strimzi.cluster_ref.name.clone(),
        );
        meta
    };
    let topic_name = ctx.names.kafka_topic(ctx.namespace());
    let retention_ms = duration::parse(&strimzi.topic.retention)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(7 * 24 * 3600 * 1000);
    let topic = KafkaTopic {
        metadata: meta(),
        spec: KafkaTopicSpec {
            topic_name: Some(topic_name.clone()),
            partitions: Some(strimzi.topic.partitions.into()),
            replicas: Some(strimzi.topic.replicas.into()),
            config: Some(BTreeMap::from([
                ("retention.ms".to_string(), retention_ms.into()),
                (
                    "min.insync.replicas".to_string(),
                    strimzi.topic.replicas.clamp(1, 2).into(),
                ),
                ("cleanup.policy".to_string(), "delete".into()),
            ])),
        },
        status: None,
    };
    let acl = |resource_type, resource_name: &str, pattern, operations: &[&str]| {
        KafkaUserAuthorizationAcls {
            host: None,
            operations: operations.iter().map(|o| o.to_string()).collect(),
            resource: KafkaUserAuthorizationAclsResource {
                name: Some(resource_name.to_string()),
                pattern_type: Some(pattern),
                r#type: resource_type,
            },
            r#type: Some(KafkaUserAuthorizationAclsType::Allow),
        }
    };
    let user = KafkaUser {
        metadata: meta(),
        spec: KafkaUserSpec {
            authentication: Some(KafkaUserAuthentication {
                r#type: match strimzi.authentication {
                    KafkaAuthentication::ScramSha512 => KafkaUserAuthenticationType::ScramSha512,
                    KafkaAuthentication::Tls => KafkaUserAuthenticationType::Tls,
                },
                password: None,
                renewal_days: None,
                validity_days: None,
            }),
            authorization: Some(KafkaUserAuthorization {
                r#type: KafkaUserAuthorizationType::Simple,
                acls: vec![
                    acl(
                        KafkaUserAuthorizationAclsResourceType::Topic,
                        &topic_name,
                        KafkaUserAuthorizationAclsResourcePatternType::Literal,
                        &["Read", "Write", "Describe", "DescribeConfigs"],
                    ),
                    acl(
                        KafkaUserAuthorizationAclsResourceType::Group,
                        &topic_name,
                        KafkaUserAuthorizationAclsResourcePatternType::Prefix,
                        &["Read", "Describe"],
                    ),
                ],
            }),
            quotas: None,
            template: None,
        },
        status: None,
    };
    let copy = (kafka_ns != ctx.namespace())
        .then_some(observed.kafka_user_secret.as_ref())
        .flatten()
        .map(|data| Secret {
            metadata: ctx.meta(ctx.names.kafka_credentials(), COMPONENT),
            data: Some(data.clone()),
            type_: Some("Opaque".into()),
            ..Secret::default()
        });
    (Some(topic), Some(user), copy)
}
