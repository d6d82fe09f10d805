//! The default ClusterRoles and ClusterRoleBindings of kube-apiserver's bootstrap policy that
//! every user relies on (discovery, health and version, self reviews, issuer discovery), plus
//! `cluster-admin` so tests can bind it. They are evaluated from here rather than stored, so a
//! stored ClusterRole of the same name takes precedence.

use serde_json::{Value, json};

/// A default ClusterRole, by name.
pub fn cluster_role(name: &str) -> Option<Value> {
    let rules = match name {
        "cluster-admin" => json!([
            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
            {"verbs": ["*"], "nonResourceURLs": ["*"]},
        ]),
        "system:basic-user" => json!([
            {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
            {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
                "resources": ["selfsubjectreviews"]},
        ]),
        "system:public-info-viewer" => json!([{"verbs": ["get"],
            "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]}]),
        "system:service-account-issuer-discovery" => json!([{"verbs": ["get"],
            "nonResourceURLs": ["/.well-known/openid-configuration",
                "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"]}]),
        "system:discovery" => json!([{"verbs": ["get"],
            "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]}]),
        _ => return None,
    };
    Some(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
        "rules": rules,
    }))
}

/// The names of the default ClusterRoles.
pub const CLUSTER_ROLES: [&str; 5] = [
    "cluster-admin",
    "system:basic-user",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
    "system:discovery",
];

/// The default ClusterRoleBindings, in the order the recorded kube-apiserver visited them.
pub fn cluster_role_bindings() -> Vec<Value> {
    let binding = |role: &str, groups: &[&str]| {
        let subjects: Vec<Value> = groups
            .iter()
            .map(|g| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}))
            .collect();
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects,
        })
    };
    vec![
        binding("cluster-admin", &["system:masters"]),
        binding("system:basic-user", &["system:authenticated"]),
        binding(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
        binding(
            "system:service-account-issuer-discovery",
            &["system:serviceaccounts"],
        ),
        binding("system:discovery", &["system:authenticated"]),
    ]
}
