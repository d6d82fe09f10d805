//! Who sent a request: the user name, uid and groups an authenticator produced, as
//! kube-apiserver's `user.Info` carries them into authorization, admission and reviews.

use serde_json::{Value, json};

/// The group whose members may do anything (kube-apiserver's privileged group).
pub const MASTERS: &str = "system:masters";

/// An authenticated (or anonymous) user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name, e.g. `system:serviceaccount:ns:sa`.
    pub name: String,
    /// The uid (a ServiceAccount's uid; empty for anonymous).
    pub uid: String,
    /// The groups.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The cluster's administrator: the kubeconfig token's user and the in-process controllers.
    pub fn admin() -> Self {
        UserInfo {
            name: "smbp-sim-admin".into(),
            uid: "smbp-sim-admin".into(),
            groups: vec![MASTERS.into(), "system:authenticated".into()],
        }
    }

    /// A request without credentials.
    pub fn anonymous() -> Self {
        UserInfo {
            name: "system:anonymous".into(),
            uid: String::new(),
            groups: vec!["system:unauthenticated".into()],
        }
    }

    /// A ServiceAccount's user, with the groups kube-apiserver gives it.
    pub fn service_account(namespace: &str, name: &str, uid: &str) -> Self {
        UserInfo {
            name: service_account_user(namespace, name),
            uid: uid.into(),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }

    /// Whether the user is in `system:masters` (never refused).
    pub fn is_privileged(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// The `userInfo` of an AdmissionReview.
    pub fn to_json(&self) -> Value {
        let mut out = json!({"username": self.name});
        if !self.uid.is_empty() {
            out["uid"] = json!(self.uid);
        }
        out["groups"] = json!(self.groups);
        out
    }
}

/// `system:serviceaccount:<namespace>:<name>`.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}
