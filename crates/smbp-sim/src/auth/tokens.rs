//! Bearer tokens: the administrator's (from the kubeconfig) and ServiceAccount tokens issued by
//! the TokenRequest API (`POST .../serviceaccounts/{name}/token`, what `kubectl create token`
//! calls). A ServiceAccount token is bound to the account's uid and expiry, so it stops working
//! once the account is deleted (or recreated) or the token expires.

use super::user::UserInfo;
use crate::error::{ApiError, Cause};
use crate::request::{ApiRequest, Reply, meta_str};
use crate::sim::Sim;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// What a token stands for.
#[derive(Clone, Debug)]
enum Credential {
    Admin,
    ServiceAccount {
        namespace: String,
        name: String,
        uid: String,
        expires: Timestamp,
    },
}

/// The tokens the cluster accepts.
#[derive(Debug, Default)]
pub struct Tokens {
    tokens: Mutex<HashMap<String, Credential>>,
}

/// The audience kube-apiserver puts into ServiceAccount tokens by default.
const DEFAULT_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

impl Tokens {
    /// Accepts `token` as the administrator's (`system:masters`).
    pub fn add_admin(&self, token: &str) {
        self.lock().insert(token.to_string(), Credential::Admin);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Credential>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new token for a ServiceAccount object, valid for `seconds`; returns it and its expiry.
    pub fn issue(&self, sim: &Sim, account: &Value, seconds: i64) -> (String, Timestamp) {
        let expires = sim.clock.now() + jiff::SignedDuration::from_secs(seconds);
        let token = format!(
            "smbp-sim-sa.{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let credential = Credential::ServiceAccount {
            namespace: meta_str(account, "namespace").unwrap_or_default().into(),
            name: meta_str(account, "name").unwrap_or_default().into(),
            uid: meta_str(account, "uid").unwrap_or_default().into(),
            expires,
        };
        self.lock().insert(token.clone(), credential);
        (token, expires)
    }

    /// The user a bearer token identifies; None for an unknown, expired or orphaned token.
    pub fn user(&self, sim: &Sim, token: &str) -> Option<UserInfo> {
        let credential = self.lock().get(token).cloned()?;
        match credential {
            Credential::Admin => Some(UserInfo::admin()),
            Credential::ServiceAccount {
                namespace,
                name,
                uid,
                expires,
            } => {
                let account = sim
                    .store()
                    .get("/serviceaccounts", &(namespace.clone(), name.clone()));
                let alive = account.is_some_and(|a| meta_str(&a, "uid") == Some(uid.as_str()));
                (alive && sim.clock.now() < expires)
                    .then(|| UserInfo::service_account(&namespace, &name, &uid))
            }
        }
    }
}

/// `create` on `serviceaccounts/token`: a TokenRequest answered with a new token.
pub fn request_token(sim: &Sim, req: &ApiRequest) -> Result<Reply, ApiError> {
    let (namespace, name) = req.object_key();
    let account = sim
        .store()
        .get("/serviceaccounts", &(namespace.clone(), name.clone()))
        .ok_or_else(|| ApiError::not_found(&req.rt, &name))?;
    let body = if req.body.is_empty() {
        json!({})
    } else {
        req.json_body()?
    };
    let spec = body.get("spec").cloned().unwrap_or_else(|| json!({}));
    let seconds = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    check_expiration(&name, seconds)?;
    let audiences = match spec.get("audiences").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => Value::Array(list.clone()),
        _ => json!([DEFAULT_AUDIENCE]),
    };
    let (token, expires) = sim.tokens.issue(sim, &account, seconds);
    let answer = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": null},
        "spec": {
            "audiences": audiences,
            "expirationSeconds": seconds,
            "boundObjectRef": spec.get("boundObjectRef").cloned().unwrap_or(Value::Null),
        },
        "status": {"token": token, "expirationTimestamp": crate::clock::format_seconds(expires)},
    });
    Ok(Reply::new(201, answer))
}

/// kube-apiserver's bounds on `spec.expirationSeconds` (at least 10 minutes, at most 2^32 s).
fn check_expiration(name: &str, seconds: i64) -> Result<(), ApiError> {
    let problem = if seconds < 600 {
        "may not specify a duration less than 10 minutes"
    } else if seconds > 1 << 32 {
        "may not specify a duration larger than 2^32 seconds"
    } else {
        return Ok(());
    };
    Err(ApiError::invalid_named(
        "TokenRequest.authentication.k8s.io",
        "authentication.k8s.io",
        "TokenRequest",
        name,
        &[Cause::new(
            "FieldValueInvalid",
            "spec.expirationSeconds",
            format!("Invalid value: {seconds}: {problem}"),
        )],
    ))
}
