//! The HTTP surface: `router(state)` wires GraphQL, the playground, the CSV
//! export, health checks and the middleware (request ids, tracing, CORS, body limit, timeout).

pub mod call_log_csv;
pub mod client;
pub mod exports;
pub mod graphql;
pub mod health;
pub mod media;
pub mod metrics;
pub mod persisted;
pub mod playground;
pub mod security;
pub mod subscriptions;

use std::{sync::Arc, time::Duration};

use ipnet::IpNet;

use axum::{
    Router,
    http::{HeaderName, Method, StatusCode, header},
    routing::get,
};
use sea_orm::DatabaseConnection;
use tower_http::{
    LatencyUnit,
    cors::{Any, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

use self::metrics::Metrics;
use crate::graphql::throttle::Throttle;
use crate::{
    auth::tokens::TokenKeys,
    config::Config,
    schema::{self, AppSchema, Services},
};

/// What handlers share (through [`HttpState`]).
pub struct Shared {
    pub schema: AppSchema,
    pub services: Arc<Services>,
    pub keys: TokenKeys,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<[IpNet]>,
    pub db: DatabaseConnection,
    pub metrics: Arc<Metrics>,
    /// Callers' cost buckets: GraphQL requests and CSV exports take from the same.
    pub throttle: Arc<Throttle>,
    /// WebSocket connections open on this instance, and their bounds.
    pub sockets: Arc<subscriptions::Sockets>,
    /// Automatic persisted queries and trusted documents.
    pub persisted: Arc<persisted::PersistedDocuments>,
    /// Becomes `true` when the server starts shutting down: WebSocket
    /// connections then close (1001) so their clients reconnect elsewhere.
    pub shutting_down: Arc<tokio::sync::watch::Sender<bool>>,
}

/// What every handler shares, behind one `Arc`: axum clones the state for
/// every extractor and middleware of every request, and a field-by-field
/// clone (the services, the token keys and their validation rules) showed
/// in the profile as allocations on every request.
#[derive(Clone)]
pub struct HttpState(Arc<Shared>);

impl std::ops::Deref for HttpState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl HttpState {
    pub fn new(services: Services, db: DatabaseConnection, config: &Config) -> anyhow::Result<Self> {
        let options = schema_options(config);
        let throttle = Arc::new(Throttle::new(options.throttle));
        Ok(HttpState(Arc::new(Shared {
            schema: schema::build(services.clone(), &options, throttle.clone()),
            throttle,
            trusted_proxies: config.trusted_proxies.clone().into(),
            sockets: Arc::new(subscriptions::Sockets::new(subscriptions::SocketLimits {
                total: config.ws_max_connections,
                per_user: config.ws_max_connections_per_user,
                operations: config.ws_max_operations,
                init_timeout: config.ws_init_timeout,
            })),
            keys: services.sessions.keys().clone(),
            services: Arc::new(services),
            db,
            metrics: Metrics::new()?,
            persisted: Arc::new(persisted::PersistedDocuments::new(
                config.persisted_queries_cache,
                config.trusted_documents.as_deref(),
                config.trusted_documents_only,
            )?),
            shutting_down: Arc::new(tokio::sync::watch::Sender::new(false)),
        })))
    }
}

/// The schema's limits and switches, from these settings.
fn schema_options(config: &Config) -> schema::Options {
    schema::Options {
        introspection: config.introspection,
        document: crate::graphql::document::DocumentLimits {
            max_selections: config.max_query_selections,
            max_aliases: config.max_query_aliases,
            max_root_fields: config.max_query_root_fields,
            max_directives: config.max_query_directives,
            max_depth: config.max_query_depth,
            max_tokens: config.max_query_tokens,
        },
        max_cost: config.max_query_cost,
        throttle: crate::graphql::throttle::ThrottleRates {
            maximum: config.cost_bucket_size,
            restore_per_second: config.cost_restore_per_second,
        },
    }
}

/// Largest request body accepted (GraphQL documents and variables).
const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Longest a request may take before it is answered with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `/metrics` alone, for `METRICS_LISTEN`.
pub fn metrics_router(state: HttpState) -> Router {
    Router::new().route("/metrics", get(metrics::metrics)).with_state(state)
}

/// The API; `/metrics` too unless it is served apart (`serve_metrics` false).
pub fn router(state: HttpState, serve_metrics: bool) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // Tokens travel in the Authorization header, never in cookies, so any origin may call.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    let routes = Router::new()
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::post)
                .route_layer(axum::middleware::from_fn(security::require_json)),
        )
        .route("/graphql/ws", get(subscriptions::ws))
        .route(exports::EXPORT_PATH, get(exports::call_logs_csv))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(playground::asset_router());
    let routes = if serve_metrics {
        routes.route("/metrics", get(metrics::metrics))
    } else {
        routes
    };
    let routes = routes
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state);
    security::headers()
        .into_iter()
        .fold(routes, |routes, header| routes.layer(header))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                        // Filled in by the GraphQL endpoint once it knows them.
                        operation = tracing::field::Empty,
                        viewer = tracing::field::Empty,
                    )
                })
                // No line as a request starts: it would carry neither operation nor viewer yet.
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
