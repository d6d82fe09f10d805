//! What a user may put into a pod template through `podOverrides`, checked with
//! `ValidatePodTemplateSpec`'s rules for those fields: labels and annotations, containers and
//! init containers (`validateContainers`: names, images, `ValidateEnv`, resources), volumes
//! (`ValidateVolumes`: names, duplicates) and the placement fields of `ValidatePodSpec`.

use super::names::{dns1123_label, port_name, port_number, relaxed_env_var_name};
use super::{
    affinity, duplicate, invalid, invalid_number, meta, required, resources, scheduling,
    unsupported,
};
use crate::validation::Report;
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use std::collections::BTreeSet;

/// Room left in the pod template's annotations for the checksum annotations the operator adds
/// (a few keys with 64-character digests).
pub const OPERATOR_POD_ANNOTATIONS: usize = 1024;

/// Checks the overrides' metadata and spec under `path` (`spec.store.podOverrides`).
pub fn template(report: &mut Report, template: &PodTemplateSpec, path: &str) {
    if let Some(metadata) = &template.metadata {
        if let Some(labels) = &metadata.labels {
            meta::labels(report, labels, &format!("{path}.metadata.labels"));
        }
        if let Some(annotations) = &metadata.annotations {
            let field = format!("{path}.metadata.annotations");
            meta::annotations(report, annotations, &field, OPERATOR_POD_ANNOTATIONS);
        }
    }
    if let Some(spec) = &template.spec {
        pod_spec(report, spec, &format!("{path}.spec"));
    }
}

fn pod_spec(report: &mut Report, spec: &PodSpec, path: &str) {
    let mut names = BTreeSet::new();
    for (list, items) in [
        ("initContainers", spec.init_containers.as_deref()),
        ("containers", Some(spec.containers.as_slice())),
    ] {
        for (i, container) in items.unwrap_or_default().iter().enumerate() {
            let at = format!("{path}.{list}[{i}]");
            if !container.name.is_empty() && !names.insert(container.name.as_str()) {
                report.error(format!("{at}.name"), duplicate(&container.name));
            }
            self::container(report, container, &at);
        }
    }
    volumes(report, spec, path);
    if let Some(selector) = &spec.node_selector {
        meta::labels(report, selector, &format!("{path}.nodeSelector"));
    }
    if let Some(tolerations) = &spec.tolerations {
        scheduling::tolerations(report, tolerations, &format!("{path}.tolerations"));
    }
    if let Some(constraints) = &spec.topology_spread_constraints {
        let field = format!("{path}.topologySpreadConstraints");
        scheduling::topology_spread_constraints(report, constraints, &field);
    }
    if let Some(affinity) = &spec.affinity {
        affinity::affinity(report, affinity, &format!("{path}.affinity"));
    }
    if let Some(name) = spec
        .priority_class_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        scheduling::priority_class_name(report, name, &format!("{path}.priorityClassName"));
    }
}

/// One container of `validateContainers` (and `validateContainersOnlyForPod`'s image rule, since
/// the pods made from the template are checked by it).
fn container(report: &mut Report, container: &Container, path: &str) {
    if container.name.is_empty() {
        report.error(format!("{path}.name"), required(""));
    }
    for msg in dns1123_label(&container.name)
        .into_iter()
        .filter(|_| !container.name.is_empty())
    {
        report.error(format!("{path}.name"), invalid(&container.name, &msg));
    }
    if let Some(image) = &container.image
        && image.trim() != image
    {
        report.error(
            format!("{path}.image"),
            invalid(image, "must not have leading or trailing whitespace"),
        );
    }
    for (i, var) in container.env.iter().flatten().enumerate() {
        for msg in relaxed_env_var_name(&var.name) {
            report.error(format!("{path}.env[{i}].name"), invalid(&var.name, &msg));
        }
    }
    for (i, source) in container.env_from.iter().flatten().enumerate() {
        let prefix = source.prefix.as_deref().unwrap_or_default();
        for msg in relaxed_env_var_name(prefix)
            .into_iter()
            .filter(|_| !prefix.is_empty())
        {
            report.error(format!("{path}.envFrom[{i}].prefix"), invalid(prefix, &msg));
        }
    }
    if let Some(requirements) = &container.resources {
        resources::requirements(report, requirements, &format!("{path}.resources"));
    }
    ports(report, container, path);
}

/// `validateContainerPorts` (an unset protocol is defaulted to TCP before validation).
fn ports(report: &mut Report, container: &Container, path: &str) {
    let mut names = BTreeSet::new();
    for (i, port) in container.ports.iter().flatten().enumerate() {
        let at = |child: &str| format!("{path}.ports[{i}].{child}");
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let errs = port_name(name);
            for msg in &errs {
                report.error(at("name"), invalid(name, msg));
            }
            if errs.is_empty() && !names.insert(name) {
                report.error(at("name"), duplicate(name));
            }
        }
        if port.container_port == 0 {
            report.error(at("containerPort"), required(""));
        }
        let numbers = [
            ("containerPort", port.container_port),
            ("hostPort", port.host_port.unwrap_or_default()),
        ];
        for (field, number) in numbers.into_iter().filter(|(_, n)| *n != 0) {
            for msg in port_number(number) {
                report.error(at(field), invalid_number(number, &msg));
            }
        }
        if let Some(protocol) = port
            .protocol
            .as_deref()
            .filter(|p| !matches!(*p, "TCP" | "UDP" | "SCTP"))
        {
            report.error(
                at("protocol"),
                unsupported(protocol, &["SCTP", "TCP", "UDP"]),
            );
        }
    }
}

/// `ValidateVolumes`: each name a DNS-1123 label, no name twice.
fn volumes(report: &mut Report, spec: &PodSpec, path: &str) {
    let mut names = BTreeSet::new();
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        let field = format!("{path}.volumes[{i}].name");
        if volume.name.is_empty() {
            report.error(&field, required(""));
        } else {
            for msg in dns1123_label(&volume.name) {
                report.error(&field, invalid(&volume.name, &msg));
            }
        }
        if !names.insert(volume.name.as_str()) {
            report.error(&field, duplicate(&volume.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Vec<String> {
        let parsed: PodTemplateSpec = serde_yaml::from_str(yaml).unwrap();
        let mut report = Report::default();
        template(&mut report, &parsed, "o");
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn validate_containers_names_images_env_and_resources() {
        assert!(check("{spec: {containers: [{name: store, env: [{name: A_B, value: x}]}, {name: side, image: busybox}]}}").is_empty());
        assert_eq!(
            check("{spec: {containers: [{name: Side, image: x}]}}").len(),
            1
        );
        assert_eq!(
            check("{spec: {containers: [{name: a, image: x}, {name: a, image: y}]}}"),
            ["o.spec.containers[1].name: Duplicate value: \"a\""]
        );
        assert_eq!(
            check("{spec: {containers: [{name: a, image: ' x'}]}}"),
            [
                "o.spec.containers[0].image: Invalid value: \" x\": must not have leading or trailing whitespace"
            ]
        );
        assert_eq!(
            check("{spec: {containers: [{name: a, env: [{name: 'A=B'}]}]}}"),
            [
                "o.spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"
            ]
        );
        assert_eq!(
            check("{spec: {containers: [{name: a, resources: {limits: {cpu: x}}}]}}").len(),
            1
        );
        assert_eq!(
            check("{spec: {initContainers: [{name: a, image: x}], containers: [{name: a}]}}"),
            ["o.spec.containers[0].name: Duplicate value: \"a\""]
        );
    }

    #[test]
    fn validate_container_ports_names_numbers_and_protocols() {
        assert!(
            check("{spec: {containers: [{name: a, ports: [{name: admin, containerPort: 9000}]}]}}")
                .is_empty()
        );
        assert_eq!(
            check(
                "{spec: {containers: [{name: a, ports: [{name: Admin_Port, containerPort: 0, protocol: HTTP}, {name: x, containerPort: 65536}, {name: x, containerPort: 2}]}]}}"
            ),
            [
                "o.spec.containers[0].ports[0].name: Invalid value: \"Admin_Port\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "o.spec.containers[0].ports[0].containerPort: Required value",
                "o.spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "o.spec.containers[0].ports[1].containerPort: Invalid value: 65536: must be between 1 and 65535, inclusive",
                "o.spec.containers[0].ports[2].name: Duplicate value: \"x\"",
            ]
        );
    }

    #[test]
    fn validate_volumes_names_and_duplicates() {
        assert_eq!(
            check(
                "{spec: {containers: [], volumes: [{name: cache, emptyDir: {}}, {name: cache, emptyDir: {}}]}}"
            ),
            ["o.spec.volumes[1].name: Duplicate value: \"cache\""]
        );
        assert_eq!(
            check("{spec: {containers: [], volumes: [{name: my_cache, emptyDir: {}}]}}").len(),
            1
        );
    }

    #[test]
    fn validate_pod_spec_placement_and_metadata() {
        let found = check(
            "{metadata: {labels: {'a b': c}, annotations: {'x/y/z': v}}, spec: {containers: [], nodeSelector: {k: '-v'}, priorityClassName: High, tolerations: [{operator: Equal}]}}",
        );
        let fields: Vec<&str> = found
            .iter()
            .map(|m| m.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "o.metadata.labels[\"a b\"]",
                "o.metadata.annotations[\"x/y/z\"]",
                "o.spec.nodeSelector[\"k\"]",
                "o.spec.tolerations[0].operator",
                "o.spec.priorityClassName"
            ]
        );
    }
}
