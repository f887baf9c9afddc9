//! `GET /metrics`: Prometheus counters and latencies of HTTP requests and of
//! GraphQL errors by code, kept per instance (scrape every instance).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseConnection, DbBackend};

use super::HttpState;

/// The instance's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    graphql_errors: IntCounterVec,
    /// Open WebSocket connections.
    pub sockets: IntGauge,
    /// Operations (subscriptions, mostly) running over WebSockets.
    pub subscriptions: IntGauge,
    /// `next` messages sent to WebSocket clients.
    pub events_delivered: IntCounter,
    /// WebSocket clients closed because they could not keep up.
    pub subscribers_dropped: IntCounter,
    operations: IntCounterVec,
    operation_latency: HistogramVec,
    /// The operation names seen so far (bounded: see `operation_label`).
    operation_names: Mutex<HashSet<String>>,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
}

/// Distinct operation names given a label of their own; later ones count as `other`,
/// so a client inventing names cannot grow `/metrics` without bound.
const MAX_OPERATION_NAMES: usize = 500;

/// How a GraphQL request ended, for `graphql_operations_total`.
#[derive(Clone, Copy, Debug)]
pub enum OperationOutcome {
    /// Ran without errors.
    Ok,
    /// Ran, with errors in some fields.
    FieldErrors,
    /// Refused before it ran (syntax, validation, limits, credentials).
    Refused,
    /// Refused by the cost throttle.
    Throttled,
}

impl OperationOutcome {
    fn label(self) -> &'static str {
        match self {
            OperationOutcome::Ok => "ok",
            OperationOutcome::FieldErrors => "field_errors",
            OperationOutcome::Refused => "refused",
            OperationOutcome::Throttled => "throttled",
        }
    }
}

impl Metrics {
    pub fn new() -> Result<Arc<Metrics>, prometheus::Error> {
        let registry = Registry::new_custom(Some("switchboard".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route, method and status."),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route and method.",
            ),
            &["route", "method"],
        )?;
        let graphql_errors = IntCounterVec::new(
            Opts::new(
                "graphql_errors_total",
                "GraphQL errors returned to clients, by extensions.code.",
            ),
            &["code"],
        )?;
        let sockets = IntGauge::new("websocket_connections", "Open WebSocket connections.")?;
        let subscriptions = IntGauge::new("websocket_operations", "Operations running over WebSockets.")?;
        let events_delivered = IntCounter::new("websocket_events_total", "Results sent to WebSocket clients.")?;
        let subscribers_dropped = IntCounter::new(
            "websocket_dropped_total",
            "WebSocket clients closed because they could not keep up.",
        )?;
        let operations = IntCounterVec::new(
            Opts::new(
                "graphql_operations_total",
                "GraphQL requests over HTTP by operation name and outcome (ok, field_errors, refused, throttled).",
            ),
            &["operation", "outcome"],
        )?;
        let operation_latency = HistogramVec::new(
            HistogramOpts::new(
                "graphql_operation_duration_seconds",
                "GraphQL request latency over HTTP by operation name.",
            ),
            &["operation"],
        )?;
        let pool_connections = IntGauge::new("db_pool_connections", "Database connections open in the pool.")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Open database connections doing nothing.")?;
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "Always 1; the labels say which build is running."),
            &["version"],
        )?;
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for collector in [
            Box::new(operations.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(operation_latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(build_info),
        ] {
            registry.register(collector)?;
        }
        registry.register(Box::new(sockets.clone()))?;
        registry.register(Box::new(subscriptions.clone()))?;
        registry.register(Box::new(events_delivered.clone()))?;
        registry.register(Box::new(subscribers_dropped.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(graphql_errors.clone()))?;
        Ok(Arc::new(Metrics {
            registry,
            requests,
            latency,
            graphql_errors,
            sockets,
            subscriptions,
            events_delivered,
            subscribers_dropped,
            operations,
            operation_latency,
            operation_names: Mutex::new(HashSet::new()),
            pool_connections,
            pool_idle,
        }))
    }

    /// Counts one GraphQL request by its operation name and outcome, and times it.
    pub fn graphql_operation(&self, name: Option<&str>, outcome: OperationOutcome, took: Duration) {
        let label = self.operation_label(name);
        self.operations
            .with_label_values(&[label.as_str(), outcome.label()])
            .inc();
        self.operation_latency
            .with_label_values(&[label.as_str()])
            .observe(took.as_secs_f64());
    }

    /// A GraphQL name as its own label, up to `MAX_OPERATION_NAMES` of them;
    /// `anonymous` without one, `other` past the bound or for what is no name.
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        let is_name = name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            return "other".to_owned();
        }
        let mut seen = self
            .operation_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.contains(name) || (seen.len() < MAX_OPERATION_NAMES && seen.insert(name.to_owned())) {
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// Reads the pool's size and idle connections (at scrape time).
    fn observe_pool(&self, db: &DatabaseConnection) {
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => return,
        };
        self.pool_connections.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
    }

    pub fn graphql_error(&self, code: &str) {
        self.graphql_errors.with_label_values(&[code]).inc();
    }
}

/// Middleware: counts and times every request by its route pattern (never the raw path).
pub async fn track(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .latency
        .with_label_values(&[&route, &method])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[&route, &method, response.status().as_str()])
        .inc();
    response
}

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics(State(state): State<HttpState>) -> Response {
    state.metrics.observe_pool(&state.db);
    let mut body = Vec::new();
    match TextEncoder::new().encode(&state.metrics.registry.gather(), &mut body) {
        Ok(()) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "encoding metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
