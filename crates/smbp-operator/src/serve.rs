//! A small HTTP(S) server on hyper for the operator's own endpoints: the probes and metrics
//! (plain HTTP) and the admission webhook (HTTPS). It stops accepting when told to and lets the
//! connections it already has finish their request.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A request as the handlers see it: method, path and the whole body.
pub struct Received {
    /// The method.
    pub method: hyper::Method,
    /// The path, without the query.
    pub path: String,
    /// The body.
    pub body: Bytes,
}

/// A handler's answer.
pub type Answer = Response<Full<Bytes>>;

/// What serves the requests.
pub type Handler =
    Arc<dyn Fn(Received) -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// The largest request body read (an AdmissionReview of a BigPeer is a few KiB).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// An answer with `status`, `content_type` and `body`.
pub fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

/// Serves `handler` on `listener` (over TLS when `tls` is given) until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handler: Handler,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = until(stop.clone()) => return Ok(()),
        };
        let handler = handler.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let handler = handler.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(request, &handler).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    Err(error) => {
                        tracing::debug!(%error, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

async fn handle(request: Request<Incoming>, handler: &Handler) -> Answer {
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let body = match limited.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                format!("cannot read the request body: {error}"),
            );
        }
    };
    handler(Received {
        method: parts.method,
        path: parts.uri.path().to_string(),
        body,
    })
    .await
}

/// Completes once `flag` turns true (or its sender is gone).
pub async fn until(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await;
}
