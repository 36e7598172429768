//! API tokens: how they are made, stored (hashed) and checked on every request.
//!
//! A token reads `annexa_<id>_<secret>`: the id (16 hex digits) finds the stored row, the
//! secret (64 hex digits, 256 random bits) is checked against its SHA-256. The secret has
//! full entropy, so a fast hash is enough; a slow password hash is for human passwords.

use crate::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Who is calling: the token that authenticated the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub name: String,
    pub scope: String,
    /// The system a `scim` token pushes for.
    pub system: Option<String>,
}

/// A new token: its public id, the whole token to hand out once, and the hash to store.
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub secret_sha256: Vec<u8>,
}

/// The scopes a token can have.
pub const SCOPES: &[&str] = &["scim"];

/// Makes a new random token.
pub fn new_token() -> Result<NewToken, getrandom::Error> {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut id)?;
    getrandom::getrandom(&mut secret)?;
    let (id, secret) = (annexa_core::to_hex(&id), annexa_core::to_hex(&secret));
    Ok(NewToken { token: format!("annexa_{id}_{secret}"), secret_sha256: Sha256::digest(secret.as_bytes()).to_vec(), id })
}

/// Splits a presented token into its id and secret.
fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("annexa_")?;
    let (id, secret) = rest.split_once('_')?;
    let hexdigits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexdigits(id, 16) && hexdigits(secret, 64)).then_some((id, secret))
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request is refused: never which part of the token was wrong.
const REFUSED: &str = "a valid bearer token is required (Authorization: Bearer annexa_…)";

/// Middleware: every request needs a live token of the right scope; the principal goes
/// into the request's extensions.
pub async fn require_scim_token(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, t)| t))
        .map(|t| t.trim().to_string());
    let checked = match presented.as_deref().and_then(parse) {
        None => Ok(None),
        Some((id, secret)) => {
            let (id, secret) = (id.to_string(), secret.to_string());
            let state = state.clone();
            tokio::task::spawn_blocking(move || state.authenticate(&id, &secret)).await.unwrap_or_else(|e| Err(e.to_string()))
        }
    };
    match checked {
        Ok(Some(principal)) if principal.scope == "scim" && principal.system.is_some() => {
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
        let mut store = self.store.lock().map_err(|_| "the store lock is poisoned".to_string())?;
        let Some((token, hash)) = store.token(id).map_err(|e| e.to_string())? else { return Ok(None) };
        if token.revoked_at.is_some() || !same(&hash, &Sha256::digest(secret.as_bytes())) {
            return Ok(None);
        }
        let now = chrono::Utc::now();
        if token.last_used_at.is_none_or(|t| now.timestamp() - t >= 60) {
            store.touch_token(id, now).map_err(|e| e.to_string())?;
        }
        Ok(Some(Principal { token_id: token.id, name: token.name, scope: token.scope, system: token.system }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_back_and_nothing_else_does() {
        let t = new_token().expect("randomness");
        let (id, secret) = parse(&t.token).expect("own token parses");
        assert_eq!(id, t.id);
        assert_eq!(Sha256::digest(secret.as_bytes()).to_vec(), t.secret_sha256);
        for bad in ["", "annexa_", "annexa_xyz_abc", &t.token[..t.token.len() - 1], &t.token.replace("annexa_", "other_")] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
