//! `GET /metrics`: Prometheus counters and latencies of HTTP requests and of
//! GraphQL errors by code, kept per instance (scrape every instance).

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

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
        }))
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
    let mut body = Vec::new();
    match TextEncoder::new().encode(&state.metrics.registry.gather(), &mut body) {
        Ok(()) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "encoding metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
