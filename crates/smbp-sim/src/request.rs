//! A parsed API request (resource, namespace, name, subresource, query, headers, body) and the
//! reply of a non-streaming handler.

use crate::error::ApiError;
use crate::resources::ResourceType;
use bytes::Bytes;
use hyper::Method;
use serde_json::Value;
use std::collections::HashMap;

/// One request for a resource.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    /// HTTP method.
    pub method: Method,
    /// The resource the URL names.
    pub rt: ResourceType,
    /// The namespace in the URL.
    pub namespace: Option<String>,
    /// The object name in the URL.
    pub name: Option<String>,
    /// `status`, `scale`, `eviction`, ...
    pub subresource: Option<String>,
    /// Query parameters.
    pub query: HashMap<String, String>,
    /// The Content-Type header.
    pub content_type: String,
    /// The Accept header.
    pub accept: String,
    /// The User-Agent header.
    pub user_agent: String,
    /// The request body.
    pub body: Bytes,
    /// Who sent it.
    pub user: crate::auth::UserInfo,
}

impl ApiRequest {
    /// The authorization attributes of `verb` on this request's object (or collection).
    pub fn authorization_attributes(&self, verb: &str) -> crate::auth::Attributes {
        crate::auth::Attributes {
            verb: verb.to_string(),
            group: self.rt.group.clone(),
            resource: self.rt.plural.clone(),
            subresource: self.subresource.clone().unwrap_or_default(),
            name: self.name.clone().unwrap_or_default(),
            namespace: self.namespace.clone().unwrap_or_default(),
            resource_request: true,
            path: String::new(),
        }
    }

    /// A query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    /// A boolean query parameter (`true` or `1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("true") | Some("1"))
    }

    /// Whether the request is a dry run (`dryRun=All`).
    pub fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }

    /// The field manager: `fieldManager`, else the User-Agent's program name, else `unknown`.
    pub fn manager(&self) -> String {
        manager_of(self.query.get("fieldManager"), &self.user_agent)
    }

    /// The store key of the object the URL names (no namespace for cluster-scoped resources).
    pub fn object_key(&self) -> (String, String) {
        let namespace = if self.rt.namespaced {
            self.namespace.clone().unwrap_or_default()
        } else {
            String::new()
        };
        (namespace, self.name.clone().unwrap_or_default())
    }

    /// The body as JSON, or the 400 kube-apiserver sends for bytes that are not.
    pub fn json_body(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::bad_request(&format!(
                "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: {e} ({})",
                self.rt.kind,
                String::from_utf8_lossy(&self.body)
            ))
        })
    }
}

/// The field manager of a request: `fieldManager`, else the User-Agent's program name, else
/// `unknown`.
pub fn manager_of(field_manager: Option<&String>, user_agent: &str) -> String {
    if let Some(manager) = field_manager.filter(|m| !m.is_empty()) {
        return manager.clone();
    }
    let program = user_agent.split('/').next().unwrap_or_default().trim();
    if program.is_empty() {
        "unknown".into()
    } else {
        program.into()
    }
}

/// A handler's answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status code.
    pub code: u16,
    /// The JSON body.
    pub body: Value,
    /// `Warning` headers, without the `299 - ` prefix.
    pub warnings: Vec<String>,
}

impl Reply {
    /// A reply without warnings.
    pub fn new(code: u16, body: Value) -> Self {
        Reply {
            code,
            body,
            warnings: Vec::new(),
        }
    }
}

/// The object as served through `rt`: the version the URL asked for.
pub fn served(rt: &ResourceType, object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(fields) = out.as_object_mut() {
        fields.insert("apiVersion".into(), Value::String(rt.api_version()));
        fields.insert("kind".into(), Value::String(rt.kind.clone()));
    }
    out
}

/// The store key of a stored object: (namespace, name).
pub fn key_of(object: &Value) -> (String, String) {
    (
        meta_str(object, "namespace")
            .unwrap_or_default()
            .to_string(),
        meta_str(object, "name").unwrap_or_default().to_string(),
    )
}

/// A metadata string field.
pub fn meta_str<'v>(object: &'v Value, field: &str) -> Option<&'v str> {
    object.get("metadata")?.get(field)?.as_str()
}
