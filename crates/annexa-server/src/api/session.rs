//! Signing in and out with a password, and creating a fresh server's first admin.
//!
//! A session travels in the `annexa_session` cookie (HttpOnly, SameSite=Strict, Secure when
//! the server's public URL is https); a browser's change is accepted only with the session's
//! CSRF token in `X-CSRF-Token` and without signs of coming from another site
//! (`Sec-Fetch-Site`, `Origin`). Failed sign-ins are limited per username and per client
//! address (the connection's, or the one a trusted proxy forwards), and Argon2
//! verifications run a few at a time, so guessing is slow and cannot starve the server.

use super::{blocking, ApiError, ApiResult};
use crate::auth::Principal;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const COOKIE: &str = "annexa_session";

/// Failed sign-ins allowed per username within [`WINDOW`].
const FAILURES: usize = 5;
/// Failed sign-ins allowed from one client address within [`WINDOW`], whatever the names
/// (one guesser trying many usernames).
const CLIENT_FAILURES: usize = 30;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password verifications at once (each costs about 19 MiB and tens of milliseconds).
const VERIFYING: usize = 4;

/// The sign-in limits a server keeps in memory.
pub struct SignInGuard {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    verifying: tokio::sync::Semaphore,
}

impl Default for SignInGuard {
    fn default() -> Self {
        SignInGuard { failures: Mutex::new(HashMap::new()), verifying: tokio::sync::Semaphore::new(VERIFYING) }
    }
}

impl SignInGuard {
    /// Seconds until `username` (from `client`) may try again, if it may not now.
    fn wait(&self, username: &str, client: Option<std::net::IpAddr>) -> Option<u64> {
        let by_name = self.wait_for(&format!("user:{}", username.to_lowercase()), FAILURES);
        let by_client = client.and_then(|c| self.wait_for(&format!("client:{c}"), CLIENT_FAILURES));
        by_name.max(by_client)
    }

    fn wait_for(&self, key: &str, limit: usize) -> Option<u64> {
        let mut failures = self.failures.lock().ok()?;
        let now = Instant::now();
        let list = failures.entry(key.to_string()).or_default();
        list.retain(|t| now.duration_since(*t) < WINDOW);
        (list.len() >= limit).then(|| list.first().map_or(1, |t| (WINDOW - now.duration_since(*t)).as_secs().max(1)))
    }

    fn failed(&self, username: &str, client: Option<std::net::IpAddr>) {
        if let Ok(mut failures) = self.failures.lock() {
            // Bounded: forget the oldest names when too many are tracked.
            if failures.len() > 100_000 {
                failures.clear();
            }
            failures.entry(format!("user:{}", username.to_lowercase())).or_default().push(Instant::now());
            if let Some(c) = client {
                failures.entry(format!("client:{c}")).or_default().push(Instant::now());
            }
        }
    }

    /// A good password clears its username's failures (not its client's: one right
    /// password must not reset a guesser's count for every other name).
    fn succeeded(&self, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&format!("user:{}", username.to_lowercase()));
        }
    }
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    username: String,
    password: String,
}

/// Signs in with a username and password; sets the session cookie and returns the CSRF
/// token the browser sends back with every change.
#[utoipa::path(
    post, path = "/api/v1/sign-in", tag = "session", request_body = SignIn, security(()),
    responses(
        (status = 200, description = "`{username, role, employee_id, csrf_token, expires_at}`, and the cookie", body = serde_json::Value),
        (status = 401, description = "Not a username with that password"),
        (status = 429, description = "Too many failures for this username: wait Retry-After seconds"),
    )
)]
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    client: Option<Extension<crate::http::ClientAddr>>,
    super::Body(body): super::Body<SignIn>,
) -> ApiResult<Response> {
    cross_site_refused(&state, &headers)?;
    let client = crate::http::client_ip(&state, client.map(|Extension(c)| c), &headers);
    let started = start_session(&state, body.username, body.password, client).await?;
    let s = started.signed;
    let body = serde_json::json!({
        "username": s.user.username, "role": s.user.role.as_str(), "employee_id": s.user.employee_id,
        "csrf_token": s.csrf_token, "expires_at": s.expires_at,
    });
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::SET_COOKIE, started.cookie);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// A session just started, and the cookie that carries it.
pub struct Started {
    pub signed: annexa_app::users::SignedIn,
    pub cookie: HeaderValue,
}

/// Checks a password, under the sign-in limits, and starts a session (the API's sign-in and
/// the sign-in page share it).
pub async fn start_session(
    state: &Arc<AppState>,
    username: String,
    password: String,
    client: Option<std::net::IpAddr>,
) -> ApiResult<Started> {
    if let Some(wait) = state.sign_in.wait(&username, client) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins for this username or from this address: wait and try again",
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let permit = state.sign_in.verifying.acquire().await.map_err(|_| ApiError::internal("the sign-in semaphore is closed"))?;
    let app = annexa_app::App::new(state.settings.clone(), "server").with_pool(state.store.clone());
    let name = username.clone();
    let signed = blocking(move || Ok(app.sign_in(&name, &password)?)).await?;
    drop(permit);
    let Some(s) = signed else {
        state.sign_in.failed(&username, client);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong username or password"));
    };
    state.sign_in.succeeded(&username);
    let cookie = session_cookie(state, &s)?;
    Ok(Started { signed: s, cookie })
}

/// The cookie that carries a new session (Secure when the server is reached over https).
pub fn session_cookie(state: &AppState, s: &annexa_app::users::SignedIn) -> ApiResult<HeaderValue> {
    let secure = if state.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    let max_age = (s.expires_at - chrono::Utc::now()).num_seconds().max(0);
    let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}", s.session_id);
    HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(&e.to_string()))
}

/// Ends the caller's session and clears its cookie.
#[utoipa::path(
    post, path = "/api/v1/sign-out", tag = "session",
    responses((status = 200, description = "Signed out"), (status = 400, description = "A token, not a session: revoke it instead"))
)]
pub async fn sign_out(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> ApiResult<Response> {
    let Some(session) = principal.session.clone() else {
        return Err(ApiError::bad_request("this request carries a token, not a session: `annexa token revoke NAME` ends a token"));
    };
    let app = state.app_for(&principal);
    blocking(move || Ok(app.sign_out(&session.id)?)).await?;
    let mut r = Json(serde_json::json!({ "signed_out": principal.name })).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static("annexa_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    Ok(r)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstAdmin {
    /// The token of the link `annexa serve` printed.
    token: String,
    username: String,
    password: String,
    /// The admin's employee id, if they are in HR.
    employee_id: Option<String>,
}

/// Creates the first admin of a fresh server with the one-time link `annexa serve` printed.
#[utoipa::path(
    post, path = "/api/v1/setup", tag = "session", request_body = FirstAdmin, security(()),
    responses(
        (status = 201, description = "The admin was created: sign in", body = serde_json::Value),
        (status = 400, description = "The link is unknown, used or expired, or the password too short"),
        (status = 409, description = "An admin exists already"),
    )
)]
pub async fn setup(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    super::Body(body): super::Body<FirstAdmin>,
) -> ApiResult<Response> {
    cross_site_refused(&state, &headers)?;
    let admin = create_first_admin(&state, body.token, body.username, body.password, body.employee_id).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "username": admin.username, "role": "admin" }))).into_response())
}

pub(crate) async fn create_first_admin(
    state: &Arc<AppState>,
    token: String,
    username: String,
    password: String,
    employee_id: Option<String>,
) -> ApiResult<annexa_store::users::User> {
    let _permit = state.sign_in.verifying.acquire().await.map_err(|_| ApiError::internal("the sign-in semaphore is closed"))?;
    let app = annexa_app::App::new(state.settings.clone(), "setup-link").with_pool(state.store.clone());
    blocking(move || Ok(app.create_first_admin(&token, &username, &password, employee_id.as_deref())?)).await
}

/// The session id a request's cookie carries.
pub fn cookie_session(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE).filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The value of the request's cookie `name`, if it sent one.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_string())
}

/// Refuses a request a browser says comes from another site: `Sec-Fetch-Site` other than
/// same-origin or none (typed, bookmarked), or an `Origin` that is not the server's.
pub fn cross_site_refused(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let refused = || ApiError::new(StatusCode::FORBIDDEN, "a cross-site request is refused");
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Err(refused());
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        if origin.trim_end_matches('/') != origin_of(&state.config.public_url) {
            return Err(refused());
        }
    }
    Ok(())
}

/// `https://host:port` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_and_cookies_are_read_strictly() {
        assert_eq!(super::origin_of("https://annexa.example.com/base"), "https://annexa.example.com");
        assert_eq!(super::origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        let id = "a".repeat(64);
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", format!("x=1; annexa_session={id}; y=2").parse().expect("header"));
        assert_eq!(super::cookie_session(&h).as_deref(), Some(id.as_str()));
        h.insert("cookie", "annexa_session=../../etc".parse().expect("header"));
        assert_eq!(super::cookie_session(&h), None);
    }
}
