//! `/healthz` (the process is up) and `/readyz` (the database answers).

use axum::{extract::State, http::StatusCode};

use super::HttpState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
