//! API tokens checked on every request (`annexa_app::tokens` makes them and says their
//! form): the id finds the stored row, the secret is compared with its stored SHA-256; a
//! revoked or expired token is no token.

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Who is calling: the token that authenticated the request, or the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub scope: annexa_core::model::TokenScope,
    /// The system a `scim` token pushes for, or a system owner's system.
    pub system: Option<String>,
    /// The role of an `api` token.
    pub role: Option<annexa_core::model::Role>,
    /// The person an `api` token acts for.
    pub employee_id: Option<String>,
    /// Set when a signed-in user calls (by cookie), not a token.
    pub session: Option<SessionRef>,
}

/// The session a browser's request came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    /// The id from the cookie (to end it at sign-out).
    pub id: String,
    /// What the browser must send back with a change.
    pub csrf_token: String,
}

impl Principal {
    /// A signed-in user, as the session says.
    pub fn of_session(id: String, s: annexa_store::users::Session) -> Principal {
        Principal {
            name: s.user.username,
            scope: annexa_core::model::TokenScope::Api,
            system: s.user.system,
            role: Some(s.user.role),
            employee_id: s.user.employee_id,
            session: Some(SessionRef { id, csrf_token: s.csrf_token }),
        }
    }

    /// Who the ledger says acted: `token:NAME` or `user:NAME`.
    pub fn actor(&self) -> String {
        match self.session {
            Some(_) => format!("user:{}", self.name),
            None => format!("token:{}", self.name),
        }
    }
}

use annexa_app::tokens::{matches, parse};
pub use annexa_app::tokens::{new_token, NewToken};

/// Why a request is refused: never which part of the token was wrong.
const REFUSED: &str = "a valid bearer token is required (Authorization: Bearer annexa_…)";

/// The principal of the bearer token a request presents, if it is a live one.
pub async fn bearer(state: &Arc<AppState>, headers: &axum::http::HeaderMap) -> Result<Option<Principal>, String> {
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, t)| t))
        .map(|t| t.trim().to_string());
    match presented.as_deref().and_then(parse) {
        None => Ok(None),
        Some((id, secret)) => {
            let (id, secret) = (id.to_string(), secret.to_string());
            let state = state.clone();
            tokio::task::spawn_blocking(move || state.authenticate(&id, &secret)).await.unwrap_or_else(|e| Err(e.to_string()))
        }
    }
}

/// Middleware: every request needs a live token of the right scope; the principal goes
/// into the request's extensions.
pub async fn require_scim_token(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let checked = bearer(&state, request.headers()).await;
    match checked {
        Ok(Some(principal)) if principal.scope == annexa_core::model::TokenScope::Scim && principal.system.is_some() => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Ok(Some(_)) => crate::scim::ScimError::new(403, None, "this token's scope does not allow SCIM").into_response(),
        Ok(None) => {
            let mut r = crate::scim::ScimError::new(401, None, REFUSED).into_response();
            r.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer realm=\"annexa\""));
            r
        }
        Err(e) => crate::scim::ScimError::internal(&e).into_response(),
    }
}

impl AppState {
    /// The principal of a live token whose secret matches; records its use once a minute.
    fn authenticate(&self, id: &str, secret: &str) -> Result<Option<Principal>, String> {
        let mut store = self.store.get().map_err(|e| e.to_string())?;
        let Some((token, hash)) = store.token(id).map_err(|e| e.to_string())? else { return Ok(None) };
        let now = chrono::Utc::now();
        if !token.live_at(now.timestamp()) || !matches(secret, &hash) {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|t| now.timestamp() - t >= 60) {
            store.touch_token(id, now).map_err(|e| e.to_string())?;
        }
        Ok(Some(Principal {
            name: token.name,
            scope: token.scope,
            system: token.system,
            role: token.role,
            employee_id: token.employee_id,
            session: None,
        }))
    }
}
