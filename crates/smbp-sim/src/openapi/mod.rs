//! OpenAPI documents of what the sim serves, so that kubectl works as users type it:
//! `kubectl apply` (its field-validation check reads the v3 PATCH operations), `kubectl explain`
//! (reads the v3 document of the resource's group/version). Built-in kinds are described from
//! k8s-openapi's types, custom resources from their CRD's `openAPIV3Schema`.
//!
//! Content negotiation follows kube-openapi: JSON is served; protobuf (what client-go asks
//! `/openapi/v2` for) is answered 406, as any other media type the handler does not speak.

mod builtin;
mod crd;
mod documents;
mod paths;

use crate::sim::Registry;

/// An answer: status code, Content-Type and body.
pub type Answer = (u16, &'static str, String);

/// Whether an Accept header allows JSON (an empty one does).
fn accepts_json(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|clause| {
            let media = clause.split(';').next().unwrap_or_default().trim();
            matches!(media, "*/*" | "application/*" | "application/json")
        })
}

/// Answers a request under `/openapi/`; `rest` are the path segments after `openapi`.
pub fn serve(registry: &Registry, rest: &[&str], accept: &str) -> Answer {
    let document = match rest {
        ["v2"] => Some(documents::v2(registry)),
        ["v3"] => Some(documents::v3_index(registry)),
        ["v3", key @ ..] => documents::v3(registry, &key.join("/")),
        _ => None,
    };
    match document {
        None => (
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        ),
        Some(_) if !accepts_json(accept) => (406, "text/plain; charset=utf-8", String::new()),
        Some(body) => (200, "application/json", body.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::with_builtins()
    }

    #[test]
    fn protobuf_only_is_not_acceptable_and_json_is_served() {
        let proto = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
        assert_eq!(serve(&registry(), &["v2"], proto).0, 406);
        let (code, kind, body) = serve(&registry(), &["v2"], "application/json");
        assert_eq!((code, kind), (200, "application/json"));
        assert!(body.contains("\"io.k8s.api.apps.v1.StatefulSet\""));
    }

    #[test]
    fn the_v3_index_points_at_each_group_version_document() {
        let (_, _, body) = serve(&registry(), &["v3"], "application/json");
        let index: serde_json::Value = serde_json::from_str(&body).unwrap();
        let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
        let (code, _, body) = serve(
            &registry(),
            &["v3", "apis", "apps", "v1"],
            "application/json",
        );
        assert_eq!(code, 200);
        let document: serde_json::Value = serde_json::from_str(&body).unwrap();
        let statefulset = &document["components"]["schemas"]["io.k8s.api.apps.v1.StatefulSet"];
        assert_eq!(
            statefulset["x-kubernetes-group-version-kind"][0]["kind"],
            "StatefulSet"
        );
        assert_eq!(serve(&registry(), &["v3", "apis", "nope", "v1"], "").0, 404);
    }
}
