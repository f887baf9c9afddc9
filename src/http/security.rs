//! Browser-facing protections: CSRF prevention (a POST must carry a JSON content
//! type, which a browser cannot send cross-site without a CORS preflight), the
//! security headers on every response, and the playground's Content-Security-Policy.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::set_header::SetResponseHeaderLayer;

use super::graphql::refuse;
use crate::error::AppError;

/// The media types a GraphQL POST may carry (parameters such as `charset` allowed).
const JSON_TYPES: [&str; 2] = ["application/json", "application/graphql-response+json"];

/// Refuses, before anything parses the body, a POST that is not JSON: forms,
/// multipart and `text/plain` are what a page on another site can make a
/// browser send without asking first (Apollo Server's CSRF prevention).
pub async fn require_json(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let media_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    match media_type {
        Some(media_type) if JSON_TYPES.contains(&media_type.as_str()) => next.run(request).await,
        _ => refuse(
            request.headers(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::bad_input(
                "Content-Type",
                "send GraphQL requests as `Content-Type: application/json`",
            ),
        )
        .into_response(),
    }
}

/// Headers every response carries, unless a handler set its own.
pub fn headers() -> [SetResponseHeaderLayer<HeaderValue>; 3] {
    [
        SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ]
}

/// What the playground page may load: its own scripts and styles (GraphiQL sets
/// inline style attributes, hence `'unsafe-inline'` for styles only), and
/// requests to this origin (HTTP and, by CSP Level 3, its WebSocket). Nothing else.
pub const PLAYGROUND_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The `Content-Security-Policy` header of the playground page.
pub fn playground_policy() -> (HeaderName, HeaderValue) {
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PLAYGROUND_POLICY),
    )
}
