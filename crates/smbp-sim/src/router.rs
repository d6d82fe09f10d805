//! The HTTP front of the API server: parses a URL into a resource request (or a discovery or
//! health request), counts it, applies injected faults, dispatches it to the verb's handler and
//! writes the answer (JSON, plain text, or a watch stream) with kube-apiserver's headers.

use crate::auth;
use crate::discovery;
use crate::error::ApiError;
use crate::request::{ApiRequest, Reply};
use crate::sim::Sim;
use crate::{delete, read, scale, watch, write};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

/// The body type of every answer.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

fn respond(
    code: u16,
    content_type: &str,
    body: Body,
    warnings: &[String],
    retry_after: Option<u64>,
) -> Response<Body> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", content_type)
        .header("Cache-Control", "no-cache, private");
    for warning in warnings {
        builder = builder.header("Warning", format!("299 - {}", json!(warning)));
    }
    if let Some(seconds) = retry_after {
        builder = builder.header("Retry-After", seconds.to_string());
    }
    builder.body(body).expect("valid response parts")
}

fn json_response(code: u16, body: &Value) -> Response<Body> {
    respond(code, "application/json", full(body.to_string()), &[], None)
}

fn reply_response(reply: Reply) -> Response<Body> {
    respond(
        reply.code,
        "application/json",
        full(reply.body.to_string()),
        &reply.warnings,
        None,
    )
}

fn error_response(error: ApiError) -> Response<Body> {
    if error.plain_text {
        let text = error.body.as_str().unwrap_or_default().to_string();
        return respond(
            error.code,
            "text/plain; charset=utf-8",
            full(text),
            &[],
            None,
        );
    }
    respond(
        error.code,
        "application/json",
        full(error.body.to_string()),
        &error.warnings,
        error.retry_after,
    )
}

fn text(body: &str) -> Response<Body> {
    respond(
        200,
        "text/plain; charset=utf-8",
        full(body.to_string()),
        &[],
        None,
    )
}

fn query(uri: &hyper::Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Answers one HTTP request: authenticates and authorizes it (counting 403s), then serves it.
pub async fn handle(
    sim: Arc<Sim>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let query = query(&parts.uri);
    let attributes = auth::Attributes::resolve(parts.method.as_str(), parts.uri.path(), &query);
    let user = match auth::authenticate(&sim, &parts.headers, &attributes) {
        Ok(user) => user,
        Err(error) => return Ok(error_response(error)),
    };
    let response = match auth::authorize(&sim, &user, &attributes) {
        Ok(()) => answer(sim.clone(), parts, body, query, user.clone()).await,
        Err(error) => error_response(error),
    };
    if response.status() == StatusCode::FORBIDDEN {
        let target = attributes.target();
        sim.accounting
            .record_forbidden(&user.name, &attributes.verb, &target);
    }
    Ok(response)
}

/// Serves an admitted request.
async fn answer(
    sim: Arc<Sim>,
    parts: hyper::http::request::Parts,
    body: Incoming,
    query: HashMap<String, String>,
    user: auth::UserInfo,
) -> Response<Body> {
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let accept = header("accept");
    let user_agent = header("user-agent");
    let path = parts.uri.path().trim_end_matches('/').to_string();
    let latency = sim.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let registry_answer = {
        let registry = sim.registry();
        let aggregated = discovery::wants_aggregated(&accept);
        let refused = !discovery::acceptable(&accept);
        match segments.as_slice() {
            ["api"] | ["api", "v1"] | ["apis"] | ["apis", _] | ["apis", _, _] if refused => {
                Some(json_response(406, &discovery::not_acceptable()))
            }
            ["openapi", rest @ ..] => {
                let (code, content_type, body) = crate::openapi::serve(&registry, rest, &accept);
                Some(respond(code, content_type, full(body), &[], None))
            }
            ["version"] => Some(json_response(200, &discovery::version())),
            ["healthz"] | ["livez"] | ["readyz"] => Some(text("ok")),
            ["api"] if aggregated => Some(respond(
                200,
                discovery::AGGREGATED,
                full(discovery::aggregated(&registry, true).to_string()),
                &[],
                None,
            )),
            ["api"] => Some(json_response(200, &discovery::core_versions())),
            ["apis"] if aggregated => Some(respond(
                200,
                discovery::AGGREGATED,
                full(discovery::aggregated(&registry, false).to_string()),
                &[],
                None,
            )),
            ["apis"] => Some(json_response(200, &discovery::group_list(&registry))),
            ["apis", group] => Some(match discovery::group(&registry, group) {
                Some(body) => json_response(200, &body),
                None => error_response(ApiError::page_not_found()),
            }),
            ["api", "v1"] => {
                discovery::resource_list(&registry, "", "v1").map(|b| json_response(200, &b))
            }
            ["apis", group, version] => {
                Some(match discovery::resource_list(&registry, group, version) {
                    Some(body) => json_response(200, &body),
                    None => error_response(ApiError::page_not_found()),
                })
            }
            _ => None,
        }
    };
    if let Some(answer) = registry_answer {
        sim.accounting.record("get", &path, &user_agent);
        return answer;
    }
    if parts.method == Method::POST
        && let Some(review) = auth::reviews::serve(
            &sim,
            &user,
            &segments,
            &body,
            &crate::request::manager_of(query.get("fieldManager"), &user_agent),
        )
    {
        sim.accounting.record("create", &path, &user_agent);
        let review = unsupported_body(&header("content-type")).map_or(review, Err);
        return review.map_or_else(error_response, |body| json_response(201, &body));
    }
    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return error_response(ApiError::page_not_found()),
    };
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let namespaced_prefix = rest.len() >= 3
        && rest[0] == "namespaces"
        && !(group.is_empty() && rest.len() == 3 && (rest[2] == "status" || rest[2] == "finalize"));
    let (namespace, rest) = if namespaced_prefix {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let Some(plural) = rest.first() else {
        return error_response(ApiError::page_not_found());
    };
    let Some(rt) = sim.registry().lookup(group, version, plural) else {
        let served = sim.registry().serves(group, version);
        return if served {
            json_response(
                404,
                &ApiError::status(
                    404,
                    Some("NotFound"),
                    "the server could not find the requested resource",
                    Some(json!({})),
                )
                .body,
            )
        } else {
            error_response(ApiError::page_not_found())
        };
    };
    let name = rest.get(1).map(|s| s.to_string());
    let subresource = rest.get(2).map(|s| s.to_string());
    let watching = watch_path
        || matches!(
            query.get("watch").map(String::as_str),
            Some("true") | Some("1")
        );
    let verb = match (&parts.method, name.is_some()) {
        (&Method::GET, _) if watching => "watch",
        (&Method::GET, true) => "get",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => {
            return error_response(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let counted = match &subresource {
        Some(sub) => format!("{}/{sub}", rt.plural),
        None => rt.plural.clone(),
    };
    sim.accounting.record(verb, &counted, &user_agent);
    if let Some(code) = sim.faults.take(verb, &rt.plural) {
        return error_response(injected(code, &rt, name.as_deref().unwrap_or_default()));
    }
    let content_type = header("content-type");
    if let Some(refusal) = unsupported_body(&content_type) {
        return error_response(refusal);
    }
    let request = ApiRequest {
        method: parts.method.clone(),
        rt,
        namespace,
        name,
        subresource,
        query,
        content_type,
        accept,
        user_agent,
        body,
        user,
    };
    if verb == "get" && crate::logs::is_log_request(&request) {
        return match crate::logs::serve(&sim, &request) {
            Ok(log) => respond(200, "text/plain", full(log), &[], None),
            Err(error) => error_response(error),
        };
    }
    if verb == "watch" {
        return match watch::watch(&sim, &request) {
            Ok(receiver) => {
                let stream = futures::stream::unfold(receiver, |mut rx| async move {
                    rx.recv()
                        .await
                        .map(|line| (Ok::<_, Infallible>(Frame::data(line)), rx))
                });
                respond(
                    200,
                    "application/json",
                    StreamBody::new(stream.boxed()).boxed_unsync(),
                    &[],
                    None,
                )
            }
            Err(error) => error_response(error),
        };
    }
    match dispatch(&sim, &request, verb).await {
        Ok(reply) => reply_response(reply),
        Err(error) => error_response(error),
    }
}

/// The 415 for a protobuf or CBOR body: only JSON is spoken (client-go falls back to JSON).
fn unsupported_body(content_type: &str) -> Option<ApiError> {
    let binary = content_type.starts_with("application/vnd.kubernetes.protobuf")
        || content_type.starts_with("application/cbor");
    binary.then(|| {
        ApiError::unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
        )
    })
}

/// Serves one non-watch request; the HTTP front end and the in-process controllers share it.
pub async fn dispatch(sim: &Arc<Sim>, request: &ApiRequest, verb: &str) -> Result<Reply, ApiError> {
    auth::escalation::check(sim, request, verb).await?;
    match (verb, request.subresource.as_deref()) {
        (_, Some("scale")) => scale::handle(sim, request, verb).await,
        ("create", Some("token"))
            if request.rt.group.is_empty() && request.rt.plural == "serviceaccounts" =>
        {
            auth::tokens::request_token(sim, request)
        }
        ("create", Some("eviction"))
            if request.rt.group.is_empty() && request.rt.plural == "pods" =>
        {
            crate::eviction::evict(sim, request).await
        }
        (_, Some(sub)) if sub != "status" => Err(ApiError::page_not_found()),
        ("get", _) => read::get(sim, request),
        ("list", _) => read::list(sim, request),
        ("create", _) => write::create(sim, request).await,
        ("update", _) => write::update(sim, request).await,
        ("patch", _) => write::patch(sim, request).await,
        ("delete", _) => delete::delete(sim, request).await,
        _ => delete::delete_collection(sim, request).await,
    }
}

/// The answer of an injected fault.
fn injected(code: u16, rt: &crate::resources::ResourceType, name: &str) -> ApiError {
    match code {
        429 => ApiError::too_many_requests(
            "injected by smbp-sim: the server has received too many requests and has asked us to try again later",
            1,
            Some(json!({"retryAfterSeconds": 1})),
        ),
        409 => ApiError::conflict_modified(rt, name),
        422 => ApiError::invalid(
            rt,
            name,
            &[crate::error::Cause::new(
                "FieldValueInvalid",
                "metadata.name",
                "Invalid value: \"injected\": injected by smbp-sim: the object is refused",
            )],
        ),
        code => ApiError::status(
            code,
            Some("InternalError"),
            "injected by smbp-sim: an error on the server has prevented the request from succeeding",
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_are_decoded() {
        assert_eq!(decode("grp%3Dfin"), "grp=fin");
        assert_eq!(decode("a+in+%28x%2Cy%29"), "a in (x,y)");
        assert_eq!(decode("100%"), "100%");
    }
}
