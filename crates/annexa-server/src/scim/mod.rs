//! The SCIM 2.0 service provider under `/scim/v2` (RFC 7643, RFC 7644), so an identity
//! provider can push its Users and Groups into Annexa as a source.
//!
//! Each `scim` token belongs to one system (`okta`, `entra`, …) and sees only that system's
//! resources. Reads are answered from the in-memory [`cache`] after pulling what changed
//! in the database; writes go through [`write`], which checks them against the schema,
//! stores them with a ledger entry, and answers with what the cache then holds. The
//! protocol's pure parts (filters, PATCH, schemas, queries, Bulk, ETags) are
//! `annexa_scim`'s; this module is the HTTP around them.

pub mod cache;
mod read;
mod write;

use crate::auth::Principal;
use crate::AppState;
use annexa_scim::discovery;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;

pub use cache::Kind;

/// The content type SCIM answers with (RFC 7644 §8.1).
pub const CONTENT_TYPE: &str = "application/scim+json";

/// An error answered with the SCIM error schema (RFC 7644 §3.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> ScimError {
        ScimError { status, scim_type, detail: detail.into() }
    }
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some(scim_type), detail)
    }
    pub fn not_found(kind: Kind, id: &str) -> ScimError {
        ScimError::new(404, None, format!("{} {id} not found", kind.as_str()))
    }
    /// A failure of ours: the detail goes to the log, the client learns only that it failed.
    pub fn internal(detail: &str) -> ScimError {
        tracing::error!(detail, "internal error");
        ScimError::new(500, None, "internal error; the server log has the details")
    }
    pub fn body(&self) -> Value {
        discovery::error(self.status, self.scim_type, &self.detail)
    }
}

impl From<annexa_store::StoreError> for ScimError {
    fn from(e: annexa_store::StoreError) -> Self {
        ScimError::internal(&e.to_string())
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, &self.body(), None, None)
    }
}

/// A SCIM answer: status, body, and the `ETag` / `Location` headers of a resource.
pub struct Answer {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match &self.body {
            Some(b) => json_response(self.status, b, self.etag.as_deref(), self.location.as_deref()),
            None => {
                let mut r = self.status.into_response();
                if let Some(e) = self.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
                    r.headers_mut().insert(header::ETAG, e);
                }
                r
            }
        }
    }
}

fn json_response(status: StatusCode, body: &Value, etag: Option<&str>, location: Option<&str>) -> Response {
    let mut r = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Some(e) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        h.insert(header::ETAG, e);
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        h.insert(header::LOCATION, l);
    }
    r
}

/// Reads a request body as JSON: `application/scim+json` or `application/json` (RFC 7644
/// §3.1 lets clients send either).
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ScimError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        let mime = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if mime != "application/scim+json" && mime != "application/json" {
            return Err(ScimError::new(415, None, format!("Content-Type {mime:?}: expected application/scim+json")));
        }
    }
    serde_json::from_slice(body).map_err(|e| ScimError::bad("invalidSyntax", format!("the request body is not valid JSON: {e}")))
}

/// The principal the auth middleware put on the request, and its system.
pub fn system_of(principal: &Principal) -> Result<String, ScimError> {
    principal.system.clone().ok_or_else(|| ScimError::new(403, None, "this token pushes for no system"))
}

/// Runs blocking store work off the async executor.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ScimError> + Send + 'static) -> Result<T, ScimError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(ScimError::internal(&format!("a request handler failed: {e}"))))
}

async fn not_found(request: Request) -> ScimError {
    ScimError::new(404, None, format!("no SCIM endpoint {}", request.uri().path()))
}

async fn method_not_allowed(request: Request) -> ScimError {
    ScimError::new(405, None, format!("{} does not take {}", request.uri().path(), request.method()))
}

async fn me() -> ScimError {
    ScimError::new(501, None, "/Me is not supported: tokens belong to systems, not users")
}

/// The routes under `/scim/v2`, each behind the bearer-token check.
pub fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let limit = state.config.limits.max_payload_size as usize;
    Router::new()
        .route("/ServiceProviderConfig", get(read::service_provider_config))
        .route("/ResourceTypes", get(read::resource_types))
        .route("/ResourceTypes/{name}", get(read::resource_type))
        .route("/Schemas", get(read::schemas))
        .route("/Schemas/{id}", get(read::schema))
        .route("/Users", get(read::list_users).post(write::create_user))
        .route("/Users/.search", post(read::search_users))
        .route("/Users/{id}", get(read::get_user).put(write::replace_user).patch(write::patch_user).delete(write::delete_user))
        .route("/Groups", get(read::list_groups).post(write::create_group))
        .route("/Groups/.search", post(read::search_groups))
        .route("/Groups/{id}", get(read::get_group).put(write::replace_group).patch(write::patch_group).delete(write::delete_group))
        .route("/.search", post(read::search_all))
        .route("/Bulk", post(write::bulk))
        .route("/Me", axum::routing::any(me))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state((state.config.http.clone(), state.config.limits.max_payload_size), crate::http::read_body))
        .route_layer(axum::middleware::from_fn_with_state(state, crate::auth::require_scim_token))
}
