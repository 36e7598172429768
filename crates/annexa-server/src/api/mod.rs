//! The REST API under `/api/v1`: the use cases of [`annexa_app`] over HTTP, as JSON.
//!
//! Every route is declared once, with its OpenAPI description (`utoipa`), so the document at
//! `/api/openapi.json` is generated from the routes themselves. Every route is behind
//! [`authenticate`] (a bearer API token; 401 without one) and the authorization policy
//! ([`crate::authz`]): the route first, then, where the handler loads what the request
//! touches, that resource (a reviewer's items, a system owner's findings). Use cases run on
//! the blocking pool, each as the principal (`token:NAME` in the ledger), with connections
//! from the server's pool.
//!
//! Errors have one shape: `{"error": {"status": 404, "code": "not-found", "message": "…"}}`.
//! An internal error says only that it happened and its request id; the log has the cause.

pub mod cache;
mod campaigns;
mod findings;
mod imports;
mod nonconformities;
mod operations;
mod programme;
mod register;
pub mod session;

use crate::auth::Principal;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Annexa",
        description = "Identity governance and ISO/IEC 27001 Annex A evidence: findings, campaigns, risks, the Statement of Applicability and the evidence ledger."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "session", description = "Who is calling"),
        (name = "findings", description = "What the audits found"),
        (name = "campaigns", description = "Access certification"),
        (name = "programme", description = "Audits, controls, the SoA, risks, the ledger"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("annexa_<id>_<secret>")
                    .description(Some("An API token: `annexa token create NAME --role ROLE`"))
                    .build(),
            ),
        );
    }
}

/// The API's OpenAPI document, generated from its routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_doc().2
}

/// The API's routes (all but signing in and the first admin's setup behind authentication
/// and authorization) and their OpenAPI document.
pub fn routes(state: Arc<AppState>) -> (axum::Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (private, public, doc) = routes_and_doc();
    // Authentication first (the outer layer), then the kept answers of reads.
    let router = private
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), cache::reads))
        .route_layer(axum::middleware::from_fn_with_state(state, authenticate))
        .merge(public);
    // A JSON body past 1 MiB is refused before it is read whole; the API's own headers on
    // every answer.
    let router = router.layer(axum::extract::DefaultBodyLimit::max(1 << 20)).layer(axum::middleware::from_fn(api_headers));
    (router, doc)
}

fn routes_and_doc() -> (axum::Router<Arc<AppState>>, axum::Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (private, mut doc) = declared().split_for_parts();
    let (public, public_doc) = OpenApiRouter::new().routes(routes!(session::sign_in)).routes(routes!(session::setup)).split_for_parts();
    doc.merge(public_doc);
    (private, public, doc)
}

/// The routes anyone may call: what they are is their own check (a password, a setup link).
pub const PUBLIC: &[(&str, &str)] = &[("POST", "/api/v1/sign-in"), ("POST", "/api/v1/setup")];

/// Every route with its description: the one list both the router and the document are
/// made from.
fn declared() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(session::sign_out))
        .routes(routes!(findings::list))
        .routes(routes!(findings::one))
        .routes(routes!(findings::triage))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::items))
        .routes(routes!(campaigns::close))
        .routes(routes!(campaigns::decide))
        .routes({
            // A returned worksheet is a file: its own, larger body limit.
            let (schemas, paths, method) = routes!(campaigns::worksheet, campaigns::return_worksheet);
            (schemas, paths, method.layer(axum::extract::DefaultBodyLimit::max(campaigns::MAX_WORKSHEET)))
        })
        .routes(routes!(programme::audits, programme::run_audit))
        .routes(routes!(programme::controls))
        .routes(routes!(programme::soa))
        .routes(routes!(programme::risks, register::add_risk))
        .routes(routes!(programme::checkpoint))
        .routes(routes!(programme::report))
        .routes({
            // An import is a file: its own, larger body limit.
            let (schemas, paths, method) = routes!(imports::import);
            (schemas, paths, method.layer(axum::extract::DefaultBodyLimit::max(imports::MAX_UPLOAD)))
        })
        .routes(routes!(nonconformities::nonconformities, nonconformities::open_nc))
        .routes(routes!(nonconformities::nonconformity))
        .routes(routes!(register::approve_soa))
        .routes(routes!(register::set_soa))
        .routes(routes!(register::simulate))
        .routes(routes!(operations::ledger_entry))
        .routes(routes!(operations::jml))
        .routes(routes!(nonconformities::add_action))
        .routes(routes!(nonconformities::close_nc))
        .routes(routes!(campaigns::delegate))
        .routes(routes!(operations::tasks))
        .routes(routes!(operations::confirm_task))
        .routes(routes!(programme::tokens))
        .routes(routes!(crate::metrics::metrics))
}

/// What every API answer carries: never cached, never sniffed, never framed.
async fn api_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(axum::http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(axum::http::header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(axum::http::header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    response
}

/// One error body for every refusal and failure.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait before trying again (a 429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), retry_after: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "your role does not allow this")
    }

    /// A failure that is not the caller's: logged with its cause, answered without it.
    pub fn internal(cause: &str) -> ApiError {
        tracing::error!(error = %cause, "request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the server failed; the cause is in its log")
    }
}

impl From<annexa_app::Error> for ApiError {
    fn from(e: annexa_app::Error) -> ApiError {
        use annexa_app::ErrorKind;
        let status = match e.kind {
            ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Internal => return ApiError::internal(&annexa_app::error_chain(&e)),
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match self.status {
            StatusCode::BAD_REQUEST => "invalid",
            StatusCode::UNAUTHORIZED => "unauthenticated",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "too-large",
            StatusCode::TOO_MANY_REQUESTS => "too-many",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => "invalid",
            _ => "internal",
        };
        let body = serde_json::json!({ "error": { "status": self.status.as_u16(), "code": code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"annexa\""));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A use case's value as the JSON answer.
pub fn json(v: impl serde::Serialize) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::to_value(v).map_err(|e| ApiError::internal(&e.to_string()))?))
}

/// A day given as `field` (`2027-01-31`, or an RFC 3339 instant).
pub fn day(field: &str, s: &str) -> ApiResult<annexa_core::time::Instant> {
    annexa_core::time::parse_instant(s.trim())
        .ok_or_else(|| ApiError::bad_request(format!("{field} {s:?}: expected a day such as 2027-01-31 (or RFC 3339)")))
}

/// A word of one of the model's vocabularies (a severity, a status, a treatment) given as
/// `field`: none when absent or blank, a refusal naming what it takes when not one of them.
pub fn word<V: annexa_core::model::Vocabulary>(field: &str, given: Option<&str>) -> ApiResult<Option<V>> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => V::parse(s).map(Some).ok_or_else(|| {
            let expected: Vec<&str> = V::all().iter().map(|v| v.as_str()).collect();
            ApiError::bad_request(format!("{field} {s:?}: expected {}", expected.join(", ")))
        }),
    }
}

/// Several words of a vocabulary given as `field`.
pub fn words<V: annexa_core::model::Vocabulary>(field: &str, given: &[&str]) -> ApiResult<Vec<V>> {
    given.iter().filter_map(|s| word(field, Some(s)).transpose()).collect()
}

/// A JSON request body whose refusals (not JSON, the wrong fields, too large) have the API's
/// error shape, like every other refusal.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// Query parameters whose refusals have the API's error shape.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::new(e.status(), e.body_text())),
        }
    }
}

/// Middleware of every API route: a live API token or a signed-in session (with its CSRF
/// token on a change), and the policy's yes for the role on this route. The principal goes
/// into the request's extensions.
async fn authenticate(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let (method, headers) = (request.method().clone(), request.headers().clone());
    let principal = match principal(&state, &method, &headers).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    if let Err(e) = state.authorize(&principal, request.method(), &route, serde_json::Value::Null) {
        return e.into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// Who calls: the bearer token's principal, else the session cookie's.
async fn principal(state: &Arc<AppState>, method: &Method, headers: &axum::http::HeaderMap) -> ApiResult<Principal> {
    let unauthenticated =
        || ApiError::new(StatusCode::UNAUTHORIZED, "sign in, or send a valid bearer token (Authorization: Bearer annexa_…)");
    match crate::auth::bearer(state, headers).await {
        Ok(Some(p)) if p.scope == annexa_core::model::TokenScope::Api => return Ok(p),
        Ok(Some(_)) => return Err(ApiError::new(StatusCode::FORBIDDEN, "this token's scope does not allow the REST API")),
        Ok(None) => {}
        Err(e) => return Err(ApiError::internal(&e)),
    }
    let Some(id) = session::cookie_session(headers) else { return Err(unauthenticated()) };
    let app = annexa_app::App::new(state.settings.clone(), "server").with_pool(state.store.clone());
    let lookup = id.clone();
    let Some(found) = blocking(move || Ok(app.session(&lookup)?)).await? else { return Err(unauthenticated()) };
    let principal = Principal::of_session(id, found);
    // A cookie comes with every request a browser makes, whoever made the page: a change
    // needs the session's own token and no sign of another site.
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        session::cross_site_refused(state, headers)?;
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let expected = principal.session.as_ref().map(|s| s.csrf_token.as_str()).unwrap_or_default();
        if expected.is_empty() || !annexa_app::tokens::same_secret(sent, expected) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "a change needs the session's CSRF token in X-CSRF-Token"));
        }
    }
    Ok(principal)
}

impl AppState {
    /// Asks the policy whether `principal` may make this call on `resource` (null: the route
    /// alone); a policy that cannot decide refuses.
    pub fn authorize(&self, principal: &Principal, method: &Method, route: &str, resource: serde_json::Value) -> ApiResult<()> {
        let input = serde_json::json!({
            "principal": {
                "name": principal.name,
                "role": principal.role.map(|r| r.as_str()),
                "employee_id": principal.employee_id,
                "systems": principal.system.iter().collect::<Vec<_>>(),
            },
            "request": { "method": method.as_str(), "route": route },
            "resource": resource,
        });
        match self.authorizer.decide(&input) {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::forbidden()),
            Err(e) => Err(ApiError::internal(&format!("the authorization policy {}: {e}", self.authorizer.file))),
        }
    }

    /// The use cases, acting as `principal`, on the server's connections.
    pub fn app_for(&self, principal: &Principal) -> annexa_app::App {
        annexa_app::App::new(self.settings.clone(), &principal.actor()).with_pool(self.store.clone())
    }
}

/// Runs a use case on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(ApiError::internal(&format!("a request's task stopped: {e}"))))
}

/// Who is calling: the token's name, role, the person it acts for and its systems.
#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, description = "The calling principal", body = serde_json::Value)))]
async fn me(axum::Extension(principal): axum::Extension<Principal>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "name": principal.name,
        "kind": if principal.session.is_some() { "user" } else { "token" },
        "role": principal.role.map(|r| r.as_str()),
        "employee_id": principal.employee_id,
        "systems": principal.system.iter().collect::<Vec<_>>(),
    }))
}
