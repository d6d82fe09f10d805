//! The pod template shared by the store and the sync tier: the container contract (ports, probes,
//! configuration and TLS mounts), the transaction-log credentials, security contexts, default
//! spreading, and the user's `podOverrides` merged on top.

use super::config::{CONFIG_DIR, DATA_DIR, TLS_DIR};
use super::meta::Context;
use super::rollout::ReleaseImage;
use k8s_openapi::api::core::v1::{
    Affinity, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, HTTPGetAction, PodAffinityTerm, PodAntiAffinity, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SecretKeySelector, SecretVolumeSource, TopologySpreadConstraint, Volume,
    VolumeMount, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use smbp_api::defaults;
use smbp_api::v1alpha1::{Embedded, KafkaAuthentication, PodOverrides, PullPolicy, Scheduling};
use std::collections::BTreeMap;

/// What differs between the store's and the sync tier's pods.
pub struct PodParts<'a> {
    /// `store`, `sync` or `migration`: the component label and the container name.
    pub component: &'static str,
    /// The release the pods run: the image and the `app.kubernetes.io/version` label.
    pub release: &'a ReleaseImage,
    /// The container's resources when the spec sets none.
    pub resources: ResourceRequirements,
    /// The spec's scheduling section.
    pub scheduling: Option<&'a Scheduling>,
    /// The spec's pod overrides.
    pub overrides: Option<&'a PodOverrides>,
    /// Annotations that roll the pods on a change (configuration and certificate checksums).
    pub checksums: &'a BTreeMap<String, String>,
    /// Extra mounts (the store's data volume).
    pub extra_mounts: Vec<VolumeMount>,
}

/// The pod template of a component.
pub fn template(ctx: &Context, parts: PodParts) -> PodTemplateSpec {
    let spec = ctx.spec();
    let w = &ctx.workload;
    let mut labels = ctx.selector(parts.component);
    labels.insert(
        super::meta::VERSION_LABEL.into(),
        parts.release.version.clone(),
    );
    let (env, mut volumes, mut mounts) = transaction_log(ctx);
    volumes.push(Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: ctx.names.config(),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    });
    mounts.push(mount("config", CONFIG_DIR));
    volumes.push(Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    mounts.push(mount("tmp", "/tmp"));
    if let Some(tls) = &spec.tls {
        let secret = match &tls.secret_ref {
            Some(r) => r.name.clone(),
            None => ctx.names.certificate(),
        };
        volumes.push(secret_volume("tls", secret));
        mounts.push(mount("tls", TLS_DIR));
    }
    mounts.extend(parts.extra_mounts);
    let probe = |path: &str, period: i32, failures: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::String("http".into()),
            scheme: Some(if spec.tls.is_some() { "HTTPS" } else { "HTTP" }.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        ..Probe::default()
    };
    let container = Container {
        name: parts.component.into(),
        image: Some(parts.release.image.clone()),
        image_pull_policy: Some(pull_policy(spec.image.as_ref().and_then(|i| i.pull_policy))),
        args: Some(vec![
            parts.component.into(),
            format!("--config={CONFIG_DIR}/{}", super::CONFIG_FILE),
        ]),
        ports: Some(vec![
            port("http", w.http_port),
            port("metrics", w.metrics_port),
            port("peer", w.peer_port),
        ]),
        env: Some(env),
        resources: Some(parts.resources),
        startup_probe: Some(probe(&w.readiness_path, 5, 60)),
        liveness_probe: Some(probe(&w.liveness_path, 10, 3)),
        readiness_probe: Some(probe(&w.readiness_path, 5, 3)),
        security_context: Some(
            spec.security
                .container_security_context
                .clone()
                .unwrap_or_else(defaults::container_security_context),
        ),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let scheduling = parts.scheduling.cloned().unwrap_or_default();
    let pull_secrets = spec
        .image
        .as_ref()
        .map(|i| i.pull_secrets.clone())
        .filter(|s| !s.is_empty());
    let (affinity, spread) = placement(ctx, parts.component, &scheduling);
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: Some(parts.checksums.clone()),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(ctx.service_account_name()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(
                spec.security
                    .pod_security_context
                    .clone()
                    .unwrap_or_else(defaults::pod_security_context),
            ),
            containers: vec![container],
            volumes: Some(volumes),
            image_pull_secrets: pull_secrets,
            node_selector: (!scheduling.node_selector.is_empty())
                .then(|| scheduling.node_selector.clone()),
            tolerations: (!scheduling.tolerations.is_empty())
                .then(|| scheduling.tolerations.clone()),
            priority_class_name: scheduling.priority_class_name.clone(),
            affinity,
            topology_spread_constraints: spread,
            termination_grace_period_seconds: Some(if parts.component == "store" {
                60
            } else {
                30
            }),
            ..PodSpec::default()
        }),
    };
    match parts.overrides {
        Some(overrides) => apply_overrides(template, overrides),
        None => template,
    }
}

/// The user's affinity and spread constraints, or the defaults: prefer one pod per node and
/// spread evenly over zones, both soft so small clusters still schedule every pod.
fn placement(
    ctx: &Context,
    component: &str,
    scheduling: &Scheduling,
) -> (Option<Affinity>, Option<Vec<TopologySpreadConstraint>>) {
    let user_affinity = scheduling.affinity.as_ref().and_then(|a| a.parse().ok());
    if user_affinity.is_some() || !scheduling.topology_spread_constraints.is_empty() {
        let spread = (!scheduling.topology_spread_constraints.is_empty())
            .then(|| scheduling.topology_spread_constraints.clone());
        return (user_affinity, spread);
    }
    let selector = LabelSelector {
        match_labels: Some(ctx.selector(component)),
        ..LabelSelector::default()
    };
    let affinity = Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        label_selector: Some(selector.clone()),
                        topology_key: "kubernetes.io/hostname".into(),
                        ..PodAffinityTerm::default()
                    },
                },
            ]),
            ..PodAntiAffinity::default()
        }),
        ..Affinity::default()
    };
    let spread = TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "topology.kubernetes.io/zone".into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(selector),
        ..TopologySpreadConstraint::default()
    };
    (Some(affinity), Some(vec![spread]))
}

/// Environment and mounts for the transaction log's credentials.
fn transaction_log(ctx: &Context) -> (Vec<EnvVar>, Vec<Volume>, Vec<VolumeMount>) {
    let log = &ctx.spec().transaction_log;
    let (mut env, mut volumes, mut mounts) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(strimzi) = &log.strimzi {
        let kafka_ns = strimzi.cluster_ref.namespace.as_deref();
        let user = ctx.names.transaction_log(ctx.namespace(), kafka_ns);
        let secret = if kafka_ns.is_some_and(|k| k != ctx.namespace()) {
            ctx.names.kafka_credentials()
        } else {
            user.clone()
        };
        match strimzi.authentication {
            KafkaAuthentication::ScramSha512 => {
                env.push(plain_env("KAFKA_USERNAME", &user));
                env.push(secret_env("KAFKA_PASSWORD", &secret, "password"));
            }
            KafkaAuthentication::Tls => {
                volumes.push(secret_volume("kafka-client", secret));
                mounts.push(mount("kafka-client", "/etc/bigpeer/kafka-client"));
            }
        }
    }
    if let Some(external) = &log.external {
        if let Some(sasl) = &external.sasl {
            env.push(secret_env(
                "KAFKA_USERNAME",
                &sasl.secret_ref.name,
                "username",
            ));
            env.push(secret_env(
                "KAFKA_PASSWORD",
                &sasl.secret_ref.name,
                "password",
            ));
        }
        if let Some(tls) = &external.tls {
            if let Some(ca) = &tls.ca_secret_ref {
                volumes.push(secret_volume("kafka-ca", ca.name.clone()));
                mounts.push(mount("kafka-ca", "/etc/bigpeer/kafka-ca"));
                env.push(plain_env(
                    "KAFKA_CA_FILE",
                    &format!("/etc/bigpeer/kafka-ca/{}", ca.key),
                ));
            }
            if let Some(client) = &tls.client_certificate_secret_ref {
                volumes.push(secret_volume("kafka-client", client.name.clone()));
                mounts.push(mount("kafka-client", "/etc/bigpeer/kafka-client"));
            }
        }
    }
    (env, volumes, mounts)
}

/// A volume mount.
pub fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: (path != DATA_DIR && path != "/tmp").then_some(true),
        ..VolumeMount::default()
    }
}

fn secret_volume(name: &str, secret: String) -> Volume {
    Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: number,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

fn pull_policy(policy: Option<PullPolicy>) -> String {
    match policy.unwrap_or(PullPolicy::IfNotPresent) {
        PullPolicy::Always => "Always",
        PullPolicy::IfNotPresent => "IfNotPresent",
        PullPolicy::Never => "Never",
    }
    .into()
}

/// Merges the user's partial template over the generated one: objects merge key by key, lists
/// whose items all carry a `name` (containers, volumes, env, ports) merge item by item by name,
/// other lists and scalars are replaced. Validation already checked that the overrides parse as a
/// pod template, and the merged template is generated from typed parts, so it parses too.
fn apply_overrides(
    template: PodTemplateSpec,
    overrides: &Embedded<PodTemplateSpec>,
) -> PodTemplateSpec {
    let mut merged = serde_json::to_value(&template).expect("pod templates serialize");
    merge(&mut merged, &Value::Object(overrides.raw().clone()));
    serde_json::from_value(merged).unwrap_or(template)
}

fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(key) {
                    Some(existing) if !value.is_null() => merge(existing, value),
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(overlay)) if all_named(base) && all_named(overlay) => {
            for item in overlay {
                match base.iter_mut().find(|b| b.get("name") == item.get("name")) {
                    Some(existing) => merge(existing, item),
                    None => base.push(item.clone()),
                }
            }
        }
        (base, overlay) => *base = overlay.clone(),
    }
}

fn all_named(items: &[Value]) -> bool {
    items
        .iter()
        .all(|i| i.get("name").is_some_and(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_merge_containers_by_name_and_replace_scalars() {
        let mut base = json!({"spec": {"containers": [
            {"name": "store", "image": "a", "env": [{"name": "A", "value": "1"}]},
        ], "priorityClassName": "x"}});
        merge(
            &mut base,
            &json!({"spec": {"containers": [
                {"name": "store", "env": [{"name": "B", "value": "2"}]},
                {"name": "sidecar", "image": "s"},
            ], "priorityClassName": "y"}}),
        );
        assert_eq!(base["spec"]["containers"][0]["image"], "a");
        assert_eq!(
            base["spec"]["containers"][0]["env"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(base["spec"]["containers"][1]["name"], "sidecar");
        assert_eq!(base["spec"]["priorityClassName"], "y");
    }
}
