//! The authorization attributes of a request, resolved from its method, path and query the way
//! kube-apiserver's `RequestInfoFactory` does — before the resource type is looked up, so an
//! unknown resource is authorized (and refused) like any other.

use std::collections::HashMap;

/// What a request asks to do: a verb on a resource, or on a non-resource path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, ... (the lower-cased method for non-resource paths).
    pub verb: String,
    /// The API group (`""` for core).
    pub group: String,
    /// The plural resource.
    pub resource: String,
    /// The subresource (`status`, `scale`, ...), or empty.
    pub subresource: String,
    /// The object name, or empty (lists, creates).
    pub name: String,
    /// The namespace, or empty (cluster scope).
    pub namespace: String,
    /// Whether this is a resource request (else `path` is what is asked for).
    pub resource_request: bool,
    /// The URL path.
    pub path: String,
}

impl Attributes {
    /// Resolves a request (`path` without the query).
    pub fn resolve(method: &str, path: &str, query: &HashMap<String, String>) -> Self {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let non_resource = Attributes {
            verb: method.to_ascii_lowercase(),
            path: path.to_string(),
            ..Attributes::default()
        };
        let (group, rest) = match parts.as_slice() {
            ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
            ["apis", group, _version, rest @ ..] if !rest.is_empty() => (*group, rest),
            _ => return non_resource,
        };
        let (watch_path, rest) = match rest {
            ["watch", rest @ ..] if !rest.is_empty() => (true, rest),
            rest => (false, rest),
        };
        let (namespace, rest) = match rest {
            ["namespaces", ns, tail @ ..] if !tail.is_empty() && !is_namespace_sub(tail[0]) => {
                (ns.to_string(), tail)
            }
            ["namespaces", ns, ..] => (ns.to_string(), rest),
            rest => (String::new(), rest),
        };
        let mut attributes = Attributes {
            verb: method_verb(method).to_string(),
            group: group.to_string(),
            resource: rest[0].to_string(),
            name: rest.get(1).map(|s| s.to_string()).unwrap_or_default(),
            subresource: rest.get(2).map(|s| s.to_string()).unwrap_or_default(),
            namespace,
            resource_request: true,
            path: path.to_string(),
        };
        attributes.refine_collection_verbs(watch_path, query);
        attributes
    }

    /// `get` without a name is `list` or `watch` (and a `metadata.name=` field selector names
    /// the object); `delete` without a name is `deletecollection`.
    fn refine_collection_verbs(&mut self, watch_path: bool, query: &HashMap<String, String>) {
        if watch_path {
            self.verb = "watch".into();
        } else if self.verb == "get" && self.name.is_empty() {
            // Any `watch` value but `false` or `0` is a watch (Convert_Slice_string_To_bool).
            let watching = query
                .get("watch")
                .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "false" | "0"));
            self.verb = if watching { "watch" } else { "list" }.into();
        }
        if matches!(self.verb.as_str(), "list" | "watch") && self.name.is_empty() {
            self.name = exact_name(query.get("fieldSelector").map(String::as_str));
        }
        if self.verb == "delete" && self.name.is_empty() {
            self.verb = "deletecollection".into();
        }
    }

    /// What the request is counted under: `resource/subresource`, or the path.
    pub fn target(&self) -> String {
        if self.resource_request {
            self.combined_resource()
        } else {
            self.path.clone()
        }
    }

    /// `resource/subresource`, or the resource alone.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// Namespace subresources that keep `namespaces` as the resource (`/namespaces/x/status`).
fn is_namespace_sub(part: &str) -> bool {
    matches!(part, "status" | "finalize")
}

fn method_verb(method: &str) -> &'static str {
    match method {
        "POST" => "create",
        "GET" | "HEAD" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "",
    }
}

/// The name a field selector requires exactly (`metadata.name=x` or `metadata.name==x`).
fn exact_name(selector: Option<&str>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let exact = selector.split(',').find_map(|term| {
        let (key, value) = term
            .split_once("==")
            .or_else(|| term.split_once('=').filter(|(k, _)| !k.ends_with('!')))?;
        (key.trim() == "metadata.name").then(|| value.trim().to_string())
    });
    exact
        .filter(|name| !name.is_empty() && !name.contains('/') && name != "." && name != "..")
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(method: &str, path: &str, query: &[(&str, &str)]) -> Attributes {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Attributes::resolve(method, path, &query)
    }

    #[test]
    fn verbs_come_from_the_method_the_name_and_the_query() {
        let list = resolve("GET", "/api/v1/namespaces/ns/pods", &[]);
        assert_eq!(
            (
                list.verb.as_str(),
                list.namespace.as_str(),
                list.resource.as_str()
            ),
            ("list", "ns", "pods")
        );
        let watch = resolve("GET", "/api/v1/namespaces/ns/pods", &[("watch", "true")]);
        assert_eq!(watch.verb, "watch");
        let not_watch = resolve("GET", "/api/v1/namespaces/ns/pods", &[("watch", "0")]);
        assert_eq!(not_watch.verb, "list");
        let watch_path = resolve("GET", "/api/v1/watch/namespaces/ns/pods", &[]);
        assert_eq!(
            (watch_path.verb.as_str(), watch_path.namespace.as_str()),
            ("watch", "ns")
        );
        let one = resolve(
            "GET",
            "/api/v1/pods",
            &[("fieldSelector", "metadata.name=a")],
        );
        assert_eq!((one.verb.as_str(), one.name.as_str()), ("list", "a"));
        assert_eq!(
            resolve("DELETE", "/api/v1/namespaces/ns/pods", &[]).verb,
            "deletecollection"
        );
        assert_eq!(
            resolve("PATCH", "/api/v1/namespaces/ns/pods/a", &[]).verb,
            "patch"
        );
    }

    #[test]
    fn subresources_groups_and_namespaces_resolve() {
        let scale = resolve(
            "GET",
            "/apis/apps/v1/namespaces/ns/deployments/web/scale",
            &[],
        );
        assert_eq!(scale.combined_resource(), "deployments/scale");
        assert_eq!((scale.group.as_str(), scale.name.as_str()), ("apps", "web"));
        let namespace = resolve("GET", "/api/v1/namespaces/ns", &[]);
        assert_eq!(
            (
                namespace.resource.as_str(),
                namespace.name.as_str(),
                namespace.namespace.as_str()
            ),
            ("namespaces", "ns", "ns")
        );
        let finalize = resolve("PUT", "/api/v1/namespaces/ns/finalize", &[]);
        assert_eq!(finalize.combined_resource(), "namespaces/finalize");
        let nodes = resolve("GET", "/api/v1/nodes", &[]);
        assert_eq!(
            (nodes.verb.as_str(), nodes.namespace.as_str()),
            ("list", "")
        );
    }

    #[test]
    fn discovery_and_health_are_non_resource_paths() {
        for path in [
            "/version",
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps",
            "/apis/apps/v1",
            "/healthz",
        ] {
            let attributes = resolve("GET", path, &[]);
            assert!(!attributes.resource_request, "{path}");
            assert_eq!(attributes.verb, "get");
        }
    }
}
