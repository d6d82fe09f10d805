//! The checks about the BigPeer itself: its Ready condition, the objects it references (Issuer
//! or ClusterIssuer, Strimzi Kafka, Gateways, the TLS Secret), exhausted ResourceQuotas, pods
//! that crash, cannot be scheduled or are not Ready, and volumes that stay Pending.

use super::{Finding, Runbook};
use crate::session::Session;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, ResourceQuota, Secret};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use smbp_api::v1alpha1::{BigPeer, IssuerKind};
use smbp_core::build::Names;
use smbp_core::upgrade::observe;

/// Every workload check, in order.
pub async fn checks(session: &Session, bigpeer: &BigPeer, now: Timestamp) -> Vec<Finding> {
    let mut findings = vec![ready(bigpeer)];
    findings.extend(references(session, bigpeer).await);
    findings.push(quota(session).await);
    findings.extend(pods(session, bigpeer, now).await);
    findings.push(volumes(session, bigpeer).await);
    findings
}

fn ready(bigpeer: &BigPeer) -> Finding {
    let status = bigpeer.status.clone().unwrap_or_default();
    let generation = bigpeer.metadata.generation;
    let Some(ready) = status.conditions.iter().find(|c| c.type_ == "Ready") else {
        return Finding::problem(
            "Ready",
            false,
            "the operator has not reported on this BigPeer yet",
            "check the operator runs and watches this namespace",
            Runbook::OperatorNoLeader,
        );
    };
    if status.observed_generation < generation {
        return Finding::problem(
            "Ready",
            true,
            format!(
                "the status is of generation {:?}, the spec is at {generation:?}: the operator has not caught up",
                status.observed_generation
            ),
            "wait a moment; if it stays behind, check the operator's reconcile errors",
            Runbook::ReconcileErrors,
        );
    }
    if ready.status == "True" {
        Finding::pass("Ready", format!("{}: {}", ready.reason, ready.message))
    } else {
        Finding::problem(
            "Ready",
            false,
            format!("{}: {}", ready.reason, ready.message),
            "the checks below say why; `kubectl smbp status` shows every condition",
            Runbook::NotReady,
        )
    }
}

/// A reference to an object of another kind: whether it exists and, when it has one, whether its
/// Ready condition is True.
async fn referenced(
    session: &Session,
    check: &str,
    gvk: (&str, &str, &str, &str),
    namespace: Option<&str>,
    name: &str,
    fix: &str,
) -> Finding {
    let (group, version, kind, plural) = gvk;
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(session.client.clone(), ns, &resource),
        None => Api::all_with(session.client.clone(), &resource),
    };
    let at = namespace.map_or(name.to_string(), |ns| format!("{ns}/{name}"));
    match api.get_opt(name).await {
        Ok(Some(object)) => {
            let ready = object
                .data
                .pointer("/status/conditions")
                .and_then(|c| c.as_array())
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"));
            match ready {
                Some(c) if c["status"] != "True" => Finding::problem(
                    check,
                    false,
                    format!(
                        "{kind} {at} is not Ready: {}",
                        c["message"].as_str().unwrap_or_default()
                    ),
                    fix,
                    Runbook::References,
                ),
                _ => Finding::pass(
                    check,
                    format!(
                        "{kind} {at} exists{}",
                        if ready.is_some() { " and is Ready" } else { "" }
                    ),
                ),
            }
        }
        Ok(None) => Finding::problem(
            check,
            false,
            format!("{kind} {at} does not exist"),
            fix,
            Runbook::References,
        ),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Finding::skipped(check, format!("{group}/{version} is not served"))
        }
        Err(e) => Finding::skipped(check, format!("cannot read {kind} {at}: {e}")),
    }
}

async fn references(session: &Session, bigpeer: &BigPeer) -> Vec<Finding> {
    let ns = session.namespace.as_str();
    let spec = &bigpeer.spec;
    let mut findings = Vec::new();
    if let Some(cm) = spec.tls.as_ref().and_then(|t| t.cert_manager.as_ref()) {
        let issuer = &cm.issuer_ref;
        let (kind, plural, namespace) = match issuer.kind {
            IssuerKind::Issuer => ("Issuer", "issuers", Some(ns)),
            IssuerKind::ClusterIssuer => ("ClusterIssuer", "clusterissuers", None),
        };
        findings.push(
            referenced(
                session,
                "issuer",
                ("cert-manager.io", "v1", kind, plural),
                namespace,
                &issuer.name,
                "create the issuer named in spec.tls.certManager.issuerRef, or fix the reference",
            )
            .await,
        );
    }
    if let Some(strimzi) = &spec.transaction_log.strimzi {
        let kafka_ns = strimzi.cluster_ref.namespace.as_deref().unwrap_or(ns);
        findings.push(
            referenced(session, "kafka", ("kafka.strimzi.io", "v1", "Kafka", "kafkas"), Some(kafka_ns), &strimzi.cluster_ref.name,
                "create the Kafka named in spec.transactionLog.strimzi.clusterRef (Strimzi), or fix the reference").await,
        );
    }
    for parent in spec
        .network
        .as_ref()
        .and_then(|n| n.gateway.as_ref())
        .map(|g| g.parent_refs.clone())
        .unwrap_or_default()
    {
        let gateway_ns = parent.namespace.as_deref().unwrap_or(ns).to_string();
        let mut finding = referenced(
            session,
            "gateway",
            ("gateway.networking.k8s.io", "v1", "Gateway", "gateways"),
            Some(&gateway_ns),
            &parent.name,
            "create the Gateway named in spec.network.gateway.parentRefs, or fix the reference",
        )
        .await;
        // A Gateway has no Ready condition; Programmed/Accepted are what matter, the route's status says more.
        finding.detail = finding
            .detail
            .replace(" exists", " exists (see the route's status for attachment)");
        findings.push(finding);
    }
    if let Some(secret) = spec.tls.as_ref().and_then(|t| t.secret_ref.as_ref()) {
        let api: Api<Secret> = Api::namespaced(session.client.clone(), ns);
        findings.push(match api.get_metadata_opt(&secret.name).await {
            Ok(Some(_)) => {
                Finding::pass("TLS Secret", format!("Secret {ns}/{} exists", secret.name))
            }
            Ok(None) => Finding::problem(
                "TLS Secret",
                false,
                format!("Secret {ns}/{} does not exist", secret.name),
                "create the kubernetes.io/tls Secret named in spec.tls.secretRef",
                Runbook::References,
            ),
            Err(e) => Finding::skipped("TLS Secret", format!("cannot read Secret metadata: {e}")),
        });
    }
    findings
}

async fn quota(session: &Session) -> Finding {
    let list = match Api::<ResourceQuota>::namespaced(session.client.clone(), &session.namespace)
        .list(&ListParams::default())
        .await
    {
        Ok(list) => list.items,
        Err(e) => return Finding::skipped("quota", format!("cannot list ResourceQuotas: {e}")),
    };
    let mut exhausted = Vec::new();
    for q in &list {
        let status = q.status.clone().unwrap_or_default();
        let (hard, used) = (
            status.hard.unwrap_or_default(),
            status.used.unwrap_or_default(),
        );
        for (resource, limit) in &hard {
            let full = used.get(resource).is_some_and(|u| {
                smbp_core::quantity::compare_quantities(&u.0, &limit.0)
                    .is_some_and(|order| order.is_ge())
            });
            if full {
                exhausted.push(format!(
                    "{} {resource} ({} of {})",
                    q.metadata.name.clone().unwrap_or_default(),
                    used[resource].0,
                    limit.0
                ));
            }
        }
    }
    if exhausted.is_empty() {
        Finding::pass(
            "quota",
            format!("{} ResourceQuota(s), none exhausted", list.len()),
        )
    } else {
        Finding::problem(
            "quota",
            false,
            format!("exhausted: {}", exhausted.join(", ")),
            "raise the quota or lower the BigPeer's requests; new pods (a scale-out, an upgrade's surge) are refused meanwhile",
            Runbook::Quota,
        )
    }
}

async fn pods(session: &Session, bigpeer: &BigPeer, now: Timestamp) -> Vec<Finding> {
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let list = match Api::<Pod>::namespaced(session.client.clone(), &session.namespace)
        .list(&ListParams::default().labels(&observe::pod_selector(&name)))
        .await
    {
        Ok(list) => list.items,
        Err(e) => return vec![Finding::skipped("pods", format!("cannot list pods: {e}"))],
    };
    let mut crashing = Vec::new();
    let mut unschedulable = Vec::new();
    let mut not_ready = Vec::new();
    for pod in &list {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.clone().unwrap_or_default();
        let waiting: Vec<String> = status
            .container_statuses
            .iter()
            .flatten()
            .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
            .filter(|r| {
                matches!(
                    r.as_str(),
                    "CrashLoopBackOff"
                        | "ImagePullBackOff"
                        | "ErrImagePull"
                        | "CreateContainerConfigError"
                )
            })
            .collect();
        if let Some(reason) = waiting.first() {
            crashing.push(format!("{pod_name} ({reason})"));
            continue;
        }
        let conditions = status.conditions.unwrap_or_default();
        if let Some(c) = conditions
            .iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        {
            unschedulable.push(format!(
                "{pod_name}: {}",
                c.message.clone().unwrap_or_default()
            ));
            continue;
        }
        let stuck = conditions
            .iter()
            .find(|c| c.type_ == "Ready" && c.status != "True")
            .and_then(|c| c.last_transition_time.as_ref())
            .is_some_and(|t| now.duration_since(t.0).as_secs() > 300);
        if stuck {
            not_ready.push(pod_name);
        }
    }
    let mut findings = Vec::new();
    if !crashing.is_empty() {
        findings.push(Finding::problem("pods crashing", false, crashing.join(", "),
            "read the logs (`kubectl logs --previous`); during an upgrade the operator rolls back by itself", Runbook::PodRestarting));
    }
    if !unschedulable.is_empty() {
        findings.push(Finding::problem("pods unschedulable", false, unschedulable.join("; "),
            "free capacity, or relax spec.store/sync scheduling (nodeSelector, affinity, topology spread)", Runbook::StoreReplicasUnavailable));
    }
    if !not_ready.is_empty() {
        findings.push(Finding::problem(
            "pods not Ready",
            false,
            format!("not Ready for over 5 minutes: {}", not_ready.join(", ")),
            "check the readiness probe's target (/readyz) and the transaction log",
            Runbook::StoreReplicasUnavailable,
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::pass(
            "pods",
            format!(
                "{} pod(s), none crashing, unschedulable or stuck",
                list.len()
            ),
        ));
    }
    findings
}

async fn volumes(session: &Session, bigpeer: &BigPeer) -> Finding {
    let name = bigpeer.metadata.name.clone().unwrap_or_default();
    let prefix = format!("data-{}-", Names::new(&name).store());
    let list =
        match Api::<PersistentVolumeClaim>::namespaced(session.client.clone(), &session.namespace)
            .list(&ListParams::default())
            .await
        {
            Ok(list) => list.items,
            Err(e) => {
                return Finding::skipped(
                    "volumes",
                    format!("cannot list PersistentVolumeClaims: {e}"),
                );
            }
        };
    let ours: Vec<&PersistentVolumeClaim> = list
        .iter()
        .filter(|c| {
            c.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect();
    let pending: Vec<String> = ours
        .iter()
        .filter(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound"))
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    if pending.is_empty() {
        Finding::pass(
            "volumes",
            format!("{} store volume(s), all Bound", ours.len()),
        )
    } else {
        Finding::problem(
            "volumes",
            false,
            format!("not Bound: {}", pending.join(", ")),
            "check the StorageClass (spec.store.storage.storageClassName) exists and can provision; `kubectl describe pvc` shows the provisioner's Events",
            Runbook::Volumes,
        )
    }
}
