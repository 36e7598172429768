//! What operators and load balancers ask, without credentials: `/healthz` (the process
//! answers), `/readyz` (it can reach its database), and the API's OpenAPI document.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<AppState>> {
    axum::Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/api/openapi.json", axum::routing::get(openapi))
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when a connection is at hand and answers a query.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let checked = tokio::task::spawn_blocking(move || state.store.get().and_then(|mut s| s.ledger_size()).map_err(|e| e.to_string())).await;
    match checked {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response(),
    }
}

async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi.clone()).into_response()
}
