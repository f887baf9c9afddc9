//! The GraphQL endpoint: reads the bearer token once into a `Viewer`, runs the
//! request, gives every error a code, and answers with a fitting HTTP status.

use async_graphql::{ErrorExtensionValues, ParseRequestError, parser::types::OperationType};
use async_graphql_axum::{GraphQLRequest, rejection::GraphQLRejection};
use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{HttpState, client::client_address, media::MediaType, metrics::OperationOutcome, playground};
use crate::{
    accounts::api_keys::KeyDigest,
    auth::{UserAgent, Viewer, tokens::TokenClaims},
    error::AppError,
};

/// What a bearer value turned out to be, for callers that check it again later.
#[derive(Debug, Clone, Copy)]
pub enum Credential {
    /// An access token, with its claims (its expiry among them).
    Token(TokenClaims),
    /// An API key, by its digest (the key itself is not kept).
    ApiKey(KeyDigest),
}

/// `POST /graphql`: queries and mutations as JSON.
pub async fn post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let Some(media) = MediaType::negotiate(&headers) else {
        return not_acceptable();
    };
    match request {
        Ok(request) => execute(&state, peer, &headers, media, request.into_inner(), false).await,
        Err(GraphQLRejection(ParseRequestError::PayloadTooLarge)) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        // A body that is not a GraphQL request still gets a GraphQL error with a code.
        Err(GraphQLRejection(rejection)) => refuse_as(media, StatusCode::BAD_REQUEST, malformed(&rejection)),
    }
}

/// `GET /graphql`: the playground for a browser, otherwise a query (never a mutation).
pub async fn get(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return playground::playground().await.into_response();
    }
    let Some(media) = MediaType::negotiate(&headers) else {
        return not_acceptable();
    };
    match request {
        Ok(request) => execute(&state, peer, &headers, media, request.into_inner(), true).await,
        Err(GraphQLRejection(rejection)) => refuse_as(media, StatusCode::BAD_REQUEST, malformed(&rejection)),
    }
}

/// What was wrong with a request that is not a GraphQL request at all.
fn malformed(rejection: &ParseRequestError) -> AppError {
    // A missing `query` parses (as ""): `execute` refuses it with its own message.
    let message = match rejection {
        ParseRequestError::InvalidRequest(_) => {
            "the body is not a GraphQL request: send JSON such as {\"query\": \"{ me { id } }\", \"variables\": {}} \
             (`query` a string, `operationName` a string or null, `variables` and `extensions` objects or null)"
        }
        _ => "the request could not be read: send JSON such as {\"query\": \"{ me { id } }\", \"variables\": {}}",
    };
    AppError::bad_input("body", message)
}

fn not_acceptable() -> Response {
    refuse_as(
        MediaType::Json,
        StatusCode::NOT_ACCEPTABLE,
        AppError::bad_input(
            "Accept",
            "GraphQL responses are sent as application/graphql-response+json or application/json; accept one of them",
        ),
    )
}

async fn execute(
    state: &HttpState,
    peer: SocketAddr,
    headers: &HeaderMap,
    media: MediaType,
    request: async_graphql::Request,
    queries_only: bool,
) -> Response {
    let started = std::time::Instant::now();
    let span = tracing::Span::current();
    let operation = request.operation_name.clone();
    if let Some(name) = &operation {
        span.record("operation", name.chars().take(64).collect::<String>());
    }
    let viewer = match viewer_from(headers, state).await {
        Ok(viewer) => viewer,
        Err(error) => {
            state
                .metrics
                .graphql_operation(operation.as_deref(), OperationOutcome::Refused, started.elapsed());
            return refuse_credential(media, error);
        }
    };
    if let Some(viewer) = &viewer {
        span.record("viewer", tracing::field::display(viewer.user_id));
    }
    let mut request = request;
    if let Err(error) = state.persisted.resolve(&mut request) {
        let miss = matches!(error, AppError::PersistedQueryNotFound);
        let mut http = refuse_as(media, media.status_when_refused(), error);
        if miss {
            // A CDN must not keep the miss: the client is about to register the document.
            http.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache, must-revalidate"),
            );
        }
        return http;
    }
    // Not a well-formed GraphQL-over-HTTP request (whatever the media type): 400.
    if request.query.trim().is_empty() {
        return refuse_as(
            media,
            StatusCode::BAD_REQUEST,
            AppError::bad_input(
                "query",
                "the request has no `query`: send {\"query\": \"{ me { id } }\", \"variables\": {}}",
            ),
        );
    }
    if queries_only && !is_query(&request) {
        let mut http = refuse_as(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            AppError::bad_input("query", "GET runs queries only; send mutations with POST"),
        );
        http.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return http;
    }
    // Loaders are made per request: each answers only what this request's viewer may see.
    let address = client_address(peer, headers, &state.trusted_proxies);
    request.data = state.services.request_data(viewer, address, user_agent(headers));
    let mut response = state.schema.execute(request).await;
    let outcome = label_errors(&mut response);
    for error in &response.errors {
        if let Some(async_graphql::Value::String(code)) = error.extensions.as_ref().and_then(|e| e.get("code")) {
            state.metrics.graphql_error(code);
        }
    }
    let counted = match outcome {
        Outcome::Ran if response.errors.is_empty() => OperationOutcome::Ok,
        Outcome::Ran => OperationOutcome::FieldErrors,
        Outcome::NeverRan => OperationOutcome::Refused,
        Outcome::Throttled { .. } => OperationOutcome::Throttled,
    };
    state
        .metrics
        .graphql_operation(operation.as_deref(), counted, started.elapsed());
    let status = match outcome {
        Outcome::Ran => StatusCode::OK,
        Outcome::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        Outcome::NeverRan => media.status_when_refused(),
    };
    let mut http = respond(status, media, &response, outcome != Outcome::Ran);
    if let Outcome::Throttled { retry_after } = outcome {
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    http
}

/// The response as `media`, without a `data` entry when the request never ran
/// (the GraphQL specification: no `data` when execution did not start).
fn respond(status: StatusCode, media: MediaType, response: &async_graphql::Response, never_ran: bool) -> Response {
    // Serialised straight to bytes; only a refusal (small) goes through a `Value` to lose `data`.
    let body = if never_ran {
        serde_json::to_value(response).and_then(|mut body| {
            if let Some(object) = body.as_object_mut() {
                object.remove("data");
            }
            serde_json::to_vec(&body)
        })
    } else {
        serde_json::to_vec(response)
    };
    match body {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "encoding a GraphQL response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The request's `User-Agent`, if it is text.
pub fn user_agent(headers: &HeaderMap) -> UserAgent {
    UserAgent(
        headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(256).collect()),
    )
}

/// The viewer named by `Authorization: Bearer …`: none without the header; a
/// present but bad token fails the request rather than silently going anonymous.
async fn viewer_from(headers: &HeaderMap, state: &HttpState) -> Result<Option<Viewer>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    bearer_viewer(value.to_str().ok(), state)
        .await
        .map(|(viewer, _)| Some(viewer))
}

/// Reads `Bearer <token>` (any case of "Bearer") into the viewer it stands for
/// now: an access token must be valid and its user and session must still
/// stand; an API key (`sb_live_…`) must be known, live, and its owner active.
/// What was presented comes back too, for callers that check it again later.
pub async fn bearer_viewer(value: Option<&str>, state: &HttpState) -> Result<(Viewer, Credential), AppError> {
    let token = value
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(AppError::Unauthenticated(
            "the Authorization header must be `Bearer <accessToken or API key>`",
        ))?;
    if KeyDigest::is_api_key(token) {
        let digest = KeyDigest::of(token)?;
        let viewer = state.services.authority.key_viewer(digest).await?;
        return Ok((viewer, Credential::ApiKey(digest)));
    }
    let claims = state.keys.verify(token)?;
    let viewer = state.services.authority.viewer(&claims).await?;
    Ok((viewer, Credential::Token(claims)))
}

fn is_query(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return true; // let execution report the syntax error
    };
    let operation_type = |name: Option<&str>| match (&document.operations, name) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => Some(op.node.ty),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| op.node.ty)
        }
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    };
    operation_type(request.operation_name.as_deref()).is_none_or(|ty| ty == OperationType::Query)
}

/// A GraphQL error response with this status (and `WWW-Authenticate` on 401),
/// in the media type the request's `Accept` asks for.
pub fn refuse(headers: &HeaderMap, status: StatusCode, error: AppError) -> Response {
    refuse_as(MediaType::negotiate(headers).unwrap_or(MediaType::Json), status, error)
}

/// A request whose credential could not be taken: 401 when it is not valid, but
/// 503 with `Retry-After` when its standing could not be read (the database is
/// unreachable or its pool exhausted), so a client keeps its tokens and retries
/// instead of signing its user out.
fn refuse_credential(media: MediaType, error: AppError) -> Response {
    if matches!(error, AppError::Internal(_)) {
        let mut http = refuse_as(media, StatusCode::SERVICE_UNAVAILABLE, error);
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return http;
    }
    refuse_as(media, StatusCode::UNAUTHORIZED, error)
}

fn refuse_as(media: MediaType, status: StatusCode, error: AppError) -> Response {
    let error: async_graphql::Error = error.into();
    let mut error = error.into_server_error(async_graphql::Pos::default());
    error.locations.clear();
    let response = async_graphql::Response::from_errors(vec![error]);
    let mut http = respond(status, media, &response, true);
    if status == StatusCode::UNAUTHORIZED {
        http.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    http
}

/// Longest error message sent back: a syntax error quotes the offending line,
/// which can be a megabyte long.
const MAX_MESSAGE_CHARS: usize = 500;

/// Gives a code to an error async-graphql raised itself (syntax, validation:
/// `BAD_USER_INPUT`), and shortens a message that quotes huge input.
pub fn label(error: &mut async_graphql::ServerError) {
    if let Some((cut, _)) = error.message.char_indices().nth(MAX_MESSAGE_CHARS) {
        error.message.truncate(cut);
        error.message.push('…');
    }
    let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "BAD_USER_INPUT");
    }
}

/// Whether a request ran, from its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Execution started (its errors, if any, are field errors).
    Ran,
    /// Refused before execution: a syntax, validation or variable error, a limit.
    NeverRan,
    /// Refused before execution by the cost throttle: 429 with `Retry-After`.
    Throttled { retry_after: u64 },
}

/// Gives a code to the errors async-graphql raises itself (syntax, validation),
/// shortens messages that quote huge input, and tells whether the request ran.
fn label_errors(response: &mut async_graphql::Response) -> Outcome {
    let mut never_ran = false;
    let mut retry_after = None;
    for error in &mut response.errors {
        label(error);
        never_ran |= error.path.is_empty();
        if let Some(extensions) = &error.extensions
            && matches!(extensions.get("code"), Some(async_graphql::Value::String(code)) if code == "RATE_LIMITED")
            && let Some(async_graphql::Value::Number(seconds)) = extensions.get("retryAfter")
        {
            retry_after = seconds.as_u64();
        }
    }
    if !never_ran || response.data != async_graphql::Value::Null {
        return Outcome::Ran;
    }
    match retry_after {
        Some(retry_after) => Outcome::Throttled { retry_after },
        None => Outcome::NeverRan,
    }
}
