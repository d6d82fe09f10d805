//! The checks about the cluster a BigPeer depends on: the CRD, the optional APIs its spec uses,
//! the operator's Deployment and leader Lease, the admission webhook (configuration, endpoints,
//! CA expiry) and the rights of the operator's ServiceAccount (SubjectAccessReview).

use super::{Finding, Runbook};
use crate::session::Session;
use jiff::Timestamp;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use smbp_api::v1alpha1::BigPeer;
use smbp_core::build::OptionalApi;

/// Every cluster check, in order.
pub async fn checks(session: &Session, bigpeer: &BigPeer, now: Timestamp) -> Vec<Finding> {
    let mut findings = vec![crd(session).await];
    findings.extend(optional_apis(session, bigpeer).await);
    let deployment =
        Api::<Deployment>::namespaced(session.client.clone(), &session.global.operator_namespace)
            .get_opt(&session.global.operator_name)
            .await;
    findings.push(operator(session, &deployment));
    findings.push(leader(session, now).await);
    findings.push(webhook(session, now).await);
    findings.push(rbac(session, deployment.ok().flatten().as_ref()).await);
    findings
}

async fn crd(session: &Session) -> Finding {
    let component = crate::version::crd(session).await;
    if component.compatible {
        Finding::pass("CRD", component.detail)
    } else {
        Finding::problem(
            "CRD",
            false,
            component.detail,
            "install or upgrade the BigPeer CRD with the operator's chart (crds.install) or `kubectl apply --server-side -f config/crd/`",
            Runbook::Crd,
        )
    }
}

/// The optional APIs this BigPeer's spec uses.
fn needed(bigpeer: &BigPeer) -> Vec<(OptionalApi, &'static str)> {
    let spec = &bigpeer.spec;
    let mut apis = Vec::new();
    if spec.tls.as_ref().is_some_and(|t| t.cert_manager.is_some()) {
        apis.push((OptionalApi::CertManager, "spec.tls.certManager"));
    }
    if spec.transaction_log.strimzi.is_some() {
        apis.push((OptionalApi::Strimzi, "spec.transactionLog.strimzi"));
    }
    let monitoring = spec.monitoring.as_ref();
    if monitoring.is_some_and(|m| m.service_monitor.is_some() || m.prometheus_rule.is_some()) {
        apis.push((OptionalApi::PrometheusOperator, "spec.monitoring"));
    }
    if spec.network.as_ref().is_some_and(|n| n.gateway.is_some()) {
        apis.push((OptionalApi::GatewayApi, "spec.network.gateway"));
    }
    apis
}

async fn optional_apis(session: &Session, bigpeer: &BigPeer) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (api, field) in needed(bigpeer) {
        let (group, version) = api.group_version();
        let check = format!("API {}", api.product());
        match session
            .client
            .list_api_group_resources(&format!("{group}/{version}"))
            .await
        {
            Ok(_) => findings.push(Finding::pass(
                &check,
                format!("{group}/{version} is served ({field} uses it)"),
            )),
            Err(kube::Error::Api(s)) if s.code == 404 => findings.push(Finding::problem(
                &check,
                false,
                format!("{group}/{version} is not served, and {field} needs it"),
                format!("install {} (its CRDs), or remove {field}", api.product()),
                Runbook::OptionalApis,
            )),
            Err(e) => findings.push(Finding::skipped(&check, format!("discovery failed: {e}"))),
        }
    }
    findings
}

fn operator(session: &Session, deployment: &kube::Result<Option<Deployment>>) -> Finding {
    let g = &session.global;
    let at = format!("{}/{}", g.operator_namespace, g.operator_name);
    match deployment {
        Ok(Some(d)) => {
            let ready = d
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            if ready > 0 {
                Finding::pass("operator", format!("Deployment {at}: {ready} ready"))
            } else {
                Finding::problem(
                    "operator",
                    false,
                    format!("Deployment {at} has no ready replica"),
                    format!(
                        "kubectl -n {} describe deployment {}; read its pods' logs",
                        g.operator_namespace, g.operator_name
                    ),
                    Runbook::OperatorNoLeader,
                )
            }
        }
        Ok(None) => Finding::problem(
            "operator",
            false,
            format!("no Deployment {at}"),
            "install the operator (docs/install.md), or point --operator-namespace/--operator-name at it",
            Runbook::OperatorNoLeader,
        ),
        Err(e) => Finding::skipped("operator", format!("cannot read Deployment {at}: {e}")),
    }
}

async fn leader(session: &Session, now: Timestamp) -> Finding {
    let g = &session.global;
    let lease = Api::<Lease>::namespaced(session.client.clone(), &g.operator_namespace)
        .get_opt(&g.operator_name)
        .await;
    let spec = match lease {
        Ok(Some(lease)) => lease.spec.unwrap_or_default(),
        Ok(None) => {
            return Finding::problem(
                "leader",
                false,
                format!(
                    "no Lease {}/{}: no operator replica has led",
                    g.operator_namespace, g.operator_name
                ),
                "check that the operator runs with leader election on and may write its Lease",
                Runbook::OperatorNoLeader,
            );
        }
        Err(e) => return Finding::skipped("leader", format!("cannot read the Lease: {e}")),
    };
    let holder = spec.holder_identity.unwrap_or_default();
    let expires = spec.renew_time.map(|t| {
        t.0 + jiff::SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(15)))
    });
    match expires {
        Some(until) if !holder.is_empty() && until >= now => {
            Finding::pass("leader", format!("{holder} holds the Lease"))
        }
        _ => Finding::problem(
            "leader",
            false,
            format!(
                "the Lease is not held (holder {holder:?}, renewed {:?})",
                expires
            ),
            "no replica reconciles: check the operator pods' logs and their access to the Lease",
            Runbook::OperatorNoLeader,
        ),
    }
}

async fn webhook(session: &Session, now: Timestamp) -> Finding {
    let list = match Api::<ValidatingWebhookConfiguration>::all(session.client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(list) => list.items,
        Err(e) => {
            return Finding::skipped(
                "webhook",
                format!("cannot list ValidatingWebhookConfigurations: {e}"),
            );
        }
    };
    let hook = list
        .iter()
        .flat_map(|c| c.webhooks.iter().flatten())
        .find(|w| {
            w.rules
                .iter()
                .flatten()
                .any(|r| r.api_groups.iter().flatten().any(|g| g == "smbp.dev"))
        });
    let Some(hook) = hook else {
        return Finding::problem(
            "webhook",
            true,
            "no admission webhook for BigPeers: specs are checked only by the CRD's rules and then by the operator",
            "enable webhook.enabled in the chart (or apply config/webhook/)",
            Runbook::Webhook,
        );
    };
    let Some(service) = hook.client_config.service.as_ref() else {
        return Finding::pass(
            "webhook",
            format!(
                "{} calls {}",
                hook.name,
                hook.client_config.url.clone().unwrap_or_default()
            ),
        );
    };
    let slices = Api::<EndpointSlice>::namespaced(session.client.clone(), &service.namespace)
        .list(
            &ListParams::default().labels(&format!("kubernetes.io/service-name={}", service.name)),
        )
        .await;
    let ready = match slices {
        Ok(list) => list
            .items
            .iter()
            .flat_map(|s| s.endpoints.iter())
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false))
            .count(),
        Err(e) => {
            return Finding::skipped(
                "webhook",
                format!("cannot read the Service's endpoints: {e}"),
            );
        }
    };
    if ready == 0 {
        return Finding::problem(
            "webhook",
            false,
            format!(
                "Service {}/{} has no ready endpoint: the API server cannot reach the webhook",
                service.namespace, service.name
            ),
            "check the operator pods are Ready; with failurePolicy Ignore writes pass unchecked meanwhile",
            Runbook::Webhook,
        );
    }
    match ca_not_after(
        hook.client_config
            .ca_bundle
            .as_ref()
            .map(|b| b.0.as_slice()),
    ) {
        Some(until) if until < now => Finding::problem(
            "webhook",
            false,
            format!("the webhook's CA expired at {until}"),
            "restart the operator (self-managed CA) or renew the cert-manager certificate",
            Runbook::WebhookCertificate,
        ),
        Some(until) => Finding::pass(
            "webhook",
            format!(
                "{} reachable ({ready} endpoint(s)), CA valid until {until}",
                hook.name
            ),
        ),
        None => Finding::problem(
            "webhook",
            true,
            format!("{} has no readable caBundle", hook.name),
            "the operator (self-managed) or cert-manager's CA injector fills it; check the operator's logs",
            Runbook::WebhookCertificate,
        ),
    }
}

/// The expiry of the first certificate of a PEM bundle.
fn ca_not_after(bundle: Option<&[u8]>) -> Option<Timestamp> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(bundle?).ok()?;
    let certificate = pem.parse_x509().ok()?;
    Timestamp::from_second(certificate.validity().not_after.timestamp()).ok()
}

/// What the operator must be allowed to do in a BigPeer's namespace.
const OPERATOR_NEEDS: [(&str, &str, &str, &str); 8] = [
    ("smbp.dev", "bigpeers", "", "watch"),
    ("smbp.dev", "bigpeers", "status", "patch"),
    ("apps", "statefulsets", "", "patch"),
    ("apps", "deployments", "", "patch"),
    ("", "services", "", "patch"),
    ("", "configmaps", "", "patch"),
    ("", "pods", "", "list"),
    ("batch", "jobs", "", "create"),
];

async fn rbac(session: &Session, deployment: Option<&Deployment>) -> Finding {
    let Some(deployment) = deployment else {
        return Finding::skipped("operator RBAC", "the operator's Deployment was not found");
    };
    let account = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    let user = format!(
        "system:serviceaccount:{}:{account}",
        session.global.operator_namespace
    );
    let api: Api<SubjectAccessReview> = Api::all(session.client.clone());
    let mut denied = Vec::new();
    for (group, resource, subresource, verb) in OPERATOR_NEEDS {
        let review: SubjectAccessReview = match serde_json::from_value(json!({
            "spec": {"user": user, "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{}", session.global.operator_namespace), "system:authenticated"],
                     "resourceAttributes": {"namespace": session.namespace, "group": group, "resource": resource,
                                            "subresource": subresource, "verb": verb}}
        })) {
            Ok(review) => review,
            Err(e) => return Finding::skipped("operator RBAC", e.to_string()),
        };
        match api.create(&PostParams::default(), &review).await {
            Ok(answer) if answer.status.as_ref().is_some_and(|s| s.allowed) => {}
            Ok(_) => denied.push(format!(
                "{verb} {resource}{}",
                if subresource.is_empty() {
                    String::new()
                } else {
                    format!("/{subresource}")
                }
            )),
            Err(kube::Error::Api(s)) if s.code == 404 => {
                return Finding::skipped(
                    "operator RBAC",
                    "SubjectAccessReview is not served by this cluster",
                );
            }
            Err(kube::Error::Api(s)) if s.code == 403 => {
                return Finding::skipped(
                    "operator RBAC",
                    format!(
                        "this identity may not create SubjectAccessReviews: {}",
                        s.message
                    ),
                );
            }
            Err(e) => return Finding::skipped("operator RBAC", e.to_string()),
        }
    }
    if denied.is_empty() {
        Finding::pass(
            "operator RBAC",
            format!("{user} may do what it needs in {}", session.namespace),
        )
    } else {
        Finding::problem(
            "operator RBAC",
            false,
            format!(
                "{user} may not: {} in {}",
                denied.join(", "),
                session.namespace
            ),
            "with the chart's watchNamespaces, add this namespace (or bind the operator's ClusterRole)",
            Runbook::OperatorRbac,
        )
    }
}
