//! The server's pages: sign-in, the dashboard, findings, campaigns, the SoA, risks, the
//! ledger, downloads for the auditor, and the reviewer's page. Rendered on the server
//! (askama templates, compile-time checked and escaped), working without JavaScript: every
//! action is a form. Every page needs a session (else it sends the browser to sign in) and
//! goes through the authorization policy like the API; every form carries the session's
//! CSRF token and is refused from another site.

// A page's refusal is the page the browser shows, a `Response`: made once per request.
#![allow(clippy::result_large_err)]

mod campaigns;
mod dashboard;
pub(crate) mod downloads;
mod federated;
mod findings;
mod ledger;
mod review;
mod risks;
mod soa;

use crate::api::session::{cookie_session, cross_site_refused, COOKIE};
use crate::api::{blocking, day, ApiError};
use crate::auth::Principal;
use crate::setup::page;
use crate::AppState;
use annexa_core::model::Role;
use askama::Template;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/audits", post(dashboard::run_audit))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-in/oidc", get(federated::start))
        .route("/sign-in/oidc/callback", get(federated::callback))
        .route("/sign-out", post(sign_out))
        .route("/review", get(review::review))
        .route("/review/bulk", post(review::bulk))
        .route("/review/{id}", post(review::decide))
        .route("/findings", get(findings::list))
        .route("/findings/{id}", get(findings::one))
        .route("/findings/{id}/triage", post(findings::triage))
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/campaigns/{id}", get(campaigns::one))
        .route("/campaigns/{id}/close", post(campaigns::close))
        .route("/campaigns/{id}/report.xlsx", get(campaigns::report))
        .route("/soa", get(soa::table))
        .route("/soa/approve", post(soa::approve))
        .route("/soa/{control}", get(soa::control).post(soa::set))
        .route("/risks", get(risks::register).post(risks::add))
        .route("/ledger", get(ledger::overview))
        .route("/ledger/{seq}", get(ledger::entry))
        .route("/downloads/{file}", get(downloads::download))
        .route("/assets/annexa.css", get(css))
        .route("/assets/htmx.min.js", get(htmx))
}

async fn css() -> Response {
    let mut r = include_str!("../../assets/annexa.css").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// htmx, vendored (see assets/README.md): it only enhances; every page works without it.
async fn htmx() -> Response {
    let mut r = include_str!("../../assets/htmx.min.js").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// Who is signed in, as the layout shows them.
pub struct SignedIn {
    pub name: String,
    pub role: String,
    pub csrf_token: String,
    /// Sees the programme's dashboard.
    pub programme: bool,
    /// Has review items of their own.
    pub reviews: bool,
    /// Sees every finding, campaign, the SoA, the risks and the ledger (not a system owner).
    pub everything: bool,
    /// May change the programme: the forms are shown (the policy decides in any case).
    pub manages: bool,
}

impl SignedIn {
    fn of(p: &Principal) -> SignedIn {
        let role = p.role.map(|r| r.as_str()).unwrap_or_default().to_string();
        SignedIn {
            name: p.name.clone(),
            programme: matches!(p.role, Some(Role::Admin | Role::ComplianceManager | Role::Auditor | Role::SystemOwner)),
            reviews: p.employee_id.is_some(),
            everything: matches!(p.role, Some(Role::Admin | Role::ComplianceManager | Role::Auditor)),
            manages: matches!(p.role, Some(Role::Admin | Role::ComplianceManager)),
            csrf_token: p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
            role,
        }
    }
}

/// A page's answer: the HTML with the pages' security headers, or a redirect.
fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => page(status, html),
        Err(e) => ApiError::internal(&format!("a page failed to render: {e}")).into_response(),
    }
}

/// The signed-in principal of a page request, or where to send the browser instead.
async fn session(state: &Arc<AppState>, headers: &HeaderMap) -> Result<Principal, Response> {
    let to_sign_in = || Redirect::to("/sign-in").into_response();
    let Some(id) = cookie_session(headers) else { return Err(to_sign_in()) };
    let app = annexa_app::App::new(state.settings.clone(), "server").with_pool(state.store.clone());
    let lookup = id.clone();
    match blocking(move || Ok(app.session(&lookup)?)).await {
        Ok(Some(s)) => Ok(Principal::of_session(id, s)),
        Ok(None) => Err(to_sign_in()),
        Err(e) => Err(e.into_response()),
    }
}

/// A form's CSRF token must be the session's, and the request must not come from elsewhere.
fn form_allowed(state: &AppState, headers: &HeaderMap, p: &Principal, sent: &str) -> Result<(), Response> {
    let refused = |m: &str| page(StatusCode::FORBIDDEN, format!("<!doctype html><title>Refused</title><p>{}</p>", crate::setup::escape(m)));
    cross_site_refused(state, headers).map_err(|e| refused(&e.message))?;
    let expected = p.session.as_ref().map(|s| s.csrf_token.as_str()).unwrap_or_default();
    if expected.is_empty() || !annexa_app::tokens::same_secret(sent, expected) {
        return Err(refused("this form is out of date or not this session's: reload the page and try again"));
    }
    Ok(())
}

fn authorized(state: &AppState, p: &Principal, method: &Method, route: &str, resource: serde_json::Value) -> Result<(), Response> {
    state.authorize(p, method, route, resource).map_err(|e| {
        if e.status == StatusCode::FORBIDDEN {
            page(
                StatusCode::FORBIDDEN,
                "<!doctype html><title>Forbidden</title><h1>Forbidden</h1><p>Your role does not allow this page.</p>".into(),
            )
        } else {
            e.into_response()
        }
    })
}

/// The signed-in principal of a page, allowed by the policy on the page's declared route;
/// else the answer that replaces the page (to sign in, forbidden).
pub(super) struct Viewer(pub Principal);

impl axum::extract::FromRequestParts<Arc<AppState>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &Arc<AppState>) -> Result<Viewer, Response> {
        let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
        let p = session(state, &parts.headers).await?;
        authorized(state, &p, &parts.method, &route, serde_json::Value::Null)?;
        Ok(Viewer(p))
    }
}

/// The signed-in principal of a form: the session's CSRF token, from this site, and the
/// policy's yes on the route.
async fn poster(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    method: &Method,
    route: &MatchedPath,
    csrf: &str,
) -> Result<Principal, Response> {
    let p = session(state, headers).await?;
    form_allowed(state, headers, &p, csrf)?;
    authorized(state, &p, method, route.as_str(), serde_json::Value::Null)?;
    Ok(p)
}

/// Runs a use case for a page: its value, or the page that says it failed.
async fn read<T: Send + 'static>(f: impl FnOnce() -> crate::api::ApiResult<T> + Send + 'static) -> Result<T, Response> {
    blocking(f).await.map_err(failure)
}

/// A failure as a page: what the user can mend is said, a server failure only named.
fn failure(e: ApiError) -> Response {
    let title = match e.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::INTERNAL_SERVER_ERROR => "Failed",
        _ => "Refused",
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Annexa</title><link rel=\"stylesheet\" href=\"/assets/annexa.css\"></head><body><main><h1>{title}</h1><p>{}</p><p><a href=\"/\">Back to the dashboard</a></p></main></body></html>",
        crate::setup::escape(&e.message)
    );
    page(e.status, body)
}

/// After a form, back to the page at `to` with what happened: a notice, or the refusal
/// the user can mend (a server failure is its own page).
fn back(to: &str, outcome: Result<String, ApiError>) -> Response {
    let (key, text) = match outcome {
        Ok(notice) => ("notice", notice),
        Err(e) if e.status.is_client_error() => ("error", e.message),
        Err(e) => return failure(e),
    };
    let text: String = text.chars().filter(|c| !c.is_control()).take(400).collect();
    let value = percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC);
    let (path, fragment) = to.split_once('#').map_or((to, String::new()), |(p, f)| (p, format!("#{f}")));
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{key}={value}{fragment}")).into_response()
}

/// What a page says after a form sent the browser back to it.
#[derive(Debug, Default, serde::Deserialize)]
struct Flash {
    notice: Option<String>,
    error: Option<String>,
}

/// An optional form field: absent when empty.
fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    signed_in: Option<SignedIn>,
    username: String,
    error: Option<String>,
    /// Offers sign-in through the organisation's identity provider.
    oidc: bool,
}

async fn sign_in_page(State(state): State<Arc<AppState>>) -> Response {
    render(StatusCode::OK, &SignInPage { signed_in: None, username: String::new(), error: None, oidc: state.config.oidc.is_some() })
}

#[derive(Debug, serde::Deserialize)]
struct SignInForm {
    username: String,
    password: String,
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    client: Option<axum::Extension<crate::http::ClientAddr>>,
    Form(f): Form<SignInForm>,
) -> Response {
    let again = |status, error: &str, username: &str| {
        render(
            status,
            &SignInPage {
                signed_in: None,
                username: username.to_string(),
                error: Some(error.to_string()),
                oidc: state.config.oidc.is_some(),
            },
        )
    };
    if let Err(e) = cross_site_refused(&state, &headers) {
        return again(StatusCode::FORBIDDEN, &e.message, &f.username);
    }
    let client = crate::http::client_ip(&state, client.map(|axum::Extension(c)| c), &headers);
    match crate::api::session::start_session(&state, f.username.clone(), f.password, client).await {
        Ok(started) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().insert(header::SET_COOKIE, started.cookie);
            r
        }
        Err(e) => again(e.status, &e.message, &f.username),
    }
}

#[derive(Debug, serde::Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = form_allowed(&state, &headers, &p, &f.csrf_token) {
        return r;
    }
    let Some(s) = p.session.clone() else { return Redirect::to("/sign-in").into_response() };
    let app = state.app_for(&p);
    if let Err(e) = blocking(move || Ok(app.sign_out(&s.id)?)).await {
        return e.into_response();
    }
    let mut r = Redirect::to("/sign-in").into_response();
    if let Ok(clear) = HeaderValue::from_str(&format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")) {
        r.headers_mut().insert(header::SET_COOKIE, clear);
    }
    r
}
