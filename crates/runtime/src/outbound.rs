//! The one outbound HTTP client: every call has a connect and a total timeout and a bounded
//! response size, and its result is turned into an [`HttpOutcome`] the engine understands.

use crate::{Error, Result, triggers::body_value};
use hookflow_engine::{HttpOutcome, HttpRequest};
use serde_json::{Map, Value};
use std::time::Duration;

pub(crate) fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        // Redirects are not followed: a workflow sees the 3xx and decides (no surprise egress).
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hookflow/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("building the HTTP client failed: {e}")))
}

pub(crate) async fn send(
    client: &reqwest::Client,
    request: &HttpRequest,
    max_bytes: usize,
) -> HttpOutcome {
    match try_send(client, request, max_bytes).await {
        Ok(outcome) => outcome,
        Err((code, message)) => HttpOutcome::Error {
            code: code.into(),
            message,
        },
    }
}

async fn try_send(
    client: &reqwest::Client,
    request: &HttpRequest,
    max_bytes: usize,
) -> Result<HttpOutcome, (&'static str, String)> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| {
        (
            "InvalidRequest",
            format!("'{}' is not an HTTP method", request.method),
        )
    })?;
    let mut builder = client.request(method, &request.uri);
    if let Some(ms) = request.timeout_ms {
        builder = builder.timeout(Duration::from_millis(ms));
    }
    let has_header = |name: &str| {
        request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !has_header("idempotency-key") {
        builder = builder.header("Idempotency-Key", &request.idempotency_key);
    }
    match &request.body {
        None => {}
        Some(Value::String(text)) => {
            if !has_header("content-type") {
                builder = builder.header("Content-Type", "text/plain; charset=utf-8");
            }
            builder = builder.body(text.clone());
        }
        Some(json) => {
            if !has_header("content-type") {
                builder = builder.header("Content-Type", "application/json");
            }
            builder = builder.body(serde_json::to_vec(json).expect("JSON values serialize"));
        }
    }
    let mut response = builder.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(canonical_header(name.as_str()), Value::String(value));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > max_bytes {
            return Err((
                "ResponseTooLarge",
                format!("the response body exceeds {max_bytes} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let content_type = headers.get("Content-Type").and_then(Value::as_str);
    // A body that claims JSON but isn't stays text rather than failing the call.
    let body = body_value(content_type, &body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    Ok(HttpOutcome::Response {
        status,
        headers,
        body,
    })
}

fn describe(error: reqwest::Error) -> (&'static str, String) {
    if error.is_timeout() {
        ("RequestTimeout", format!("the request timed out: {error}"))
    } else if error.is_connect() {
        ("ConnectionFailed", format!("could not connect: {error}"))
    } else if error.is_builder() {
        ("InvalidRequest", format!("the request is invalid: {error}"))
    } else {
        ("BadGateway", format!("the request failed: {error}"))
    }
}

/// `content-type` → `Content-Type`, as Logic Apps shows header names.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}
