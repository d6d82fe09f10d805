//! Error answers in the exact shape kube-apiserver sends: a `meta/v1` `Status` with `reason`,
//! `details` (plural resource for lookups, Kind for validation) and `causes`, and the status code.
//! The message strings are copied from the recorded answers in `apiserver-reference/`.

use crate::resources::ResourceType;
use serde_json::{Map, Value, json};

/// One entry of `details.causes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    /// Machine-readable reason, e.g. `FieldValueRequired`.
    pub reason: String,
    /// The message without the field path.
    pub message: String,
    /// The field path, e.g. `spec.size`, or `<nil>`.
    pub field: String,
}

impl Cause {
    /// A cause from its parts.
    pub fn new(reason: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Cause {
            reason: reason.into(),
            message: message.into(),
            field: field.into(),
        }
    }

    /// `field: message`, as it appears inside the aggregated message.
    pub fn display(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// An answer that is not a success: status code, `Status` body, and optional `Retry-After`.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// The body: a `Status` object, or plain text for `404 page not found`.
    pub body: Value,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// Whether the body is `text/plain` (unknown paths).
    pub plain_text: bool,
    /// `Warning` headers sent with the error (admission webhooks warn on denials too).
    pub warnings: Vec<String>,
}

impl ApiError {
    /// A `Status` failure with the given parts.
    pub fn status(code: u16, reason: Option<&str>, message: &str, details: Option<Value>) -> Self {
        let mut body = Map::new();
        body.insert("kind".into(), json!("Status"));
        body.insert("apiVersion".into(), json!("v1"));
        body.insert("metadata".into(), json!({}));
        body.insert("status".into(), json!("Failure"));
        body.insert("message".into(), json!(message));
        if let Some(reason) = reason {
            body.insert("reason".into(), json!(reason));
        }
        if let Some(details) = details {
            body.insert("details".into(), details);
        }
        body.insert("code".into(), json!(code));
        ApiError {
            code,
            body: Value::Object(body),
            retry_after: None,
            plain_text: false,
            warnings: Vec::new(),
        }
    }

    /// `details` naming an object by plural resource (lookups, conflicts).
    fn lookup_details(rt: &ResourceType, name: &str) -> Value {
        let mut details = Map::new();
        details.insert("name".into(), json!(name));
        if !rt.group.is_empty() {
            details.insert("group".into(), json!(rt.group));
        }
        details.insert("kind".into(), json!(rt.plural));
        Value::Object(details)
    }

    /// 404 for a missing object.
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::status(
            404,
            Some("NotFound"),
            &format!("{} \"{name}\" not found", rt.qualified_plural()),
            Some(Self::lookup_details(rt, name)),
        )
    }

    /// 404 for a missing namespace.
    pub fn namespace_not_found(namespace: &str) -> Self {
        Self::status(
            404,
            Some("NotFound"),
            &format!("namespaces \"{namespace}\" not found"),
            Some(json!({"name": namespace, "kind": "namespaces"})),
        )
    }

    /// 409 AlreadyExists.
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::status(
            409,
            Some("AlreadyExists"),
            &format!("{} \"{name}\" already exists", rt.qualified_plural()),
            Some(Self::lookup_details(rt, name)),
        )
    }

    /// 409 for a stale resourceVersion.
    pub fn conflict_modified(rt: &ResourceType, name: &str) -> Self {
        Self::status(
            409,
            Some("Conflict"),
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.qualified_plural()
            ),
            Some(Self::lookup_details(rt, name)),
        )
    }

    /// 409 for a failed delete precondition (these name the Kind, as kube-apiserver does).
    pub fn precondition_failed(rt: &ResourceType, name: &str, what: &str) -> Self {
        Self::status(
            409,
            Some("Conflict"),
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": {what}",
                rt.kind
            ),
            Some(json!({"name": name, "kind": rt.kind})),
        )
    }

    /// 422 naming `qualified` (`Kind.group` or `plural.group`), with causes.
    pub fn invalid_named(
        qualified: &str,
        group: &str,
        kind: &str,
        name: &str,
        causes: &[Cause],
    ) -> Self {
        let joined = if causes.len() == 1 {
            causes[0].display()
        } else {
            format!(
                "[{}]",
                causes
                    .iter()
                    .map(Cause::display)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            details.insert("group".into(), json!(group));
        }
        details.insert("kind".into(), json!(kind));
        details.insert(
            "causes".into(),
            Value::Array(
                causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect(),
            ),
        );
        Self::status(
            422,
            Some("Invalid"),
            &format!("{qualified} \"{name}\" is invalid: {joined}"),
            Some(Value::Object(details)),
        )
    }

    /// 422 for an object of `rt`, named by Kind (`Widget.ref.example.com "x" is invalid: ...`).
    pub fn invalid(rt: &ResourceType, name: &str, causes: &[Cause]) -> Self {
        Self::invalid_named(&rt.qualified_kind(), &rt.group, &rt.kind, name, causes)
    }

    /// 422 for request options (`PatchOptions.meta.k8s.io "" is invalid: ...`).
    pub fn invalid_options(options_kind: &str, causes: &[Cause]) -> Self {
        Self::invalid_named(
            &format!("{options_kind}.meta.k8s.io"),
            "meta.k8s.io",
            options_kind,
            "",
            causes,
        )
    }

    /// 400 BadRequest.
    pub fn bad_request(message: &str) -> Self {
        Self::status(400, Some("BadRequest"), message, None)
    }

    /// 500 with no reason (what kube-apiserver sends for several odd requests).
    pub fn internal(message: &str) -> Self {
        Self::status(500, None, message, None)
    }

    /// 500 InternalError with a reason, e.g. for a failed webhook call.
    pub fn internal_error(cause: &str) -> Self {
        Self::status(
            500,
            Some("InternalError"),
            &format!("Internal error occurred: {cause}"),
            Some(json!({"causes": [{"message": cause}]})),
        )
    }

    /// 403 Forbidden.
    pub fn forbidden(message: &str, details: Option<Value>) -> Self {
        Self::status(403, Some("Forbidden"), message, details)
    }

    /// 405 for a verb a resource does not support.
    pub fn method_not_allowed(message: &str) -> Self {
        Self::status(405, Some("MethodNotAllowed"), message, None)
    }

    /// 415 for an unsupported patch or body content type.
    pub fn unsupported_media_type(message: &str) -> Self {
        Self::status(415, Some("UnsupportedMediaType"), message, None)
    }

    /// 410 Gone/Expired.
    pub fn expired(message: &str) -> Self {
        Self::status(410, Some("Expired"), message, None)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(message: &str, retry_after: u64, details: Option<Value>) -> Self {
        let mut error = Self::status(429, Some("TooManyRequests"), message, details);
        // kube-apiserver sends no Retry-After for a zero delay.
        error.retry_after = (retry_after > 0).then_some(retry_after);
        error
    }

    /// 504 Timeout, with `retryAfterSeconds`; the message is prefixed `Timeout: ` as
    /// apimachinery's `NewTimeoutError` does.
    pub fn timeout(message: &str, retry_after: u64) -> Self {
        let mut error = Self::status(
            504,
            Some("Timeout"),
            &format!("Timeout: {message}"),
            Some(json!({"retryAfterSeconds": retry_after})),
        );
        error.retry_after = Some(retry_after);
        error
    }

    /// The plain-text `404 page not found` of an unknown path.
    pub fn page_not_found() -> Self {
        ApiError {
            code: 404,
            body: json!("404 page not found\n"),
            retry_after: None,
            plain_text: true,
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;

    fn configmaps() -> ResourceType {
        builtins()
            .into_iter()
            .find(|r| r.plural == "configmaps")
            .unwrap()
    }

    #[test]
    fn not_found_matches_the_recorded_body() {
        let error = ApiError::not_found(&configmaps(), "missing");
        assert_eq!(
            error.body,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "configmaps \"missing\" not found", "reason": "NotFound",
                "details": {"name": "missing", "kind": "configmaps"}, "code": 404})
        );
    }

    #[test]
    fn several_causes_are_bracketed() {
        let causes = [
            Cause::new("FieldValueRequired", "spec.a", "Required value"),
            Cause::new("FieldValueInvalid", "spec.b", "Invalid value: 1: bad"),
        ];
        let error = ApiError::invalid(&configmaps(), "x", &causes);
        assert_eq!(
            error.body["message"],
            "ConfigMap \"x\" is invalid: [spec.a: Required value, spec.b: Invalid value: 1: bad]"
        );
    }
}
