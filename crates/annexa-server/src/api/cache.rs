//! Answers to the API's reads, kept until the data they show changes.
//!
//! Every change Annexa makes to what these routes show (an import, an audit, a triage, a
//! decision, an SoA or risk edit) appends to the evidence ledger, so the ledger's size is a
//! version of the whole dataset: an answer is served again only while the size is the one
//! it was made at, and only to the same principal (their name, role, person and system:
//! whatever the policy or the handler narrowed by). Across instances on one PostgreSQL
//! database the size is the shared one, so no instance serves what another has changed.
//! A minute bounds any staleness nobody foresaw; the cache is bounded in entries and bytes.

use crate::auth::Principal;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The reads whose answers depend only on the data and the caller.
const CACHED: &[&str] = &[
    "/api/v1/findings",
    "/api/v1/findings/{id}",
    "/api/v1/controls",
    "/api/v1/soa",
    "/api/v1/risks",
    "/api/v1/audits",
    "/api/v1/campaigns",
    "/api/v1/campaigns/{id}/items",
];
const MAX_ENTRIES: usize = 1024;
const MAX_BYTES: usize = 64 << 20;
/// An answer larger than this is not kept (a page of a thousand findings).
const MAX_BODY: usize = 4 << 20;
const TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uri: String,
    principal: String,
    version: u64,
}

struct Kept {
    content_type: Option<HeaderValue>,
    body: Bytes,
    at: Instant,
}

#[derive(Default)]
pub struct ReadCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Arc<Kept>>,
    order: VecDeque<Key>,
    bytes: usize,
}

impl ReadCache {
    fn get(&self, key: &Key) -> Option<Arc<Kept>> {
        let inner = self.inner.lock().ok()?;
        inner.map.get(key).filter(|k| k.at.elapsed() < TTL).cloned()
    }

    fn put(&self, key: Key, kept: Kept) {
        let Ok(mut inner) = self.inner.lock() else { return };
        let size = kept.body.len();
        if let Some(old) = inner.map.insert(key.clone(), Arc::new(kept)) {
            inner.bytes -= old.body.len();
        } else {
            inner.order.push_back(key);
        }
        inner.bytes += size;
        while inner.map.len() > MAX_ENTRIES || inner.bytes > MAX_BYTES {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(gone) = inner.map.remove(&oldest) {
                inner.bytes -= gone.body.len();
            }
        }
    }

    /// How many answers are kept (for tests and metrics).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.map.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Middleware inside authentication: serves a kept answer, or keeps the handler's.
pub async fn reads(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    let Some(principal) = request.extensions().get::<Principal>().cloned() else { return next.run(request).await };
    if request.method() != Method::GET || !CACHED.contains(&route.as_str()) {
        return next.run(request).await;
    }
    let store = state.store.clone();
    let version = match tokio::task::spawn_blocking(move || store.get().and_then(|mut s| s.ledger_size()).map_err(|e| e.to_string())).await
    {
        Ok(Ok(v)) => v,
        // Not knowing the version is no reason to fail the read: answer it afresh.
        _ => return next.run(request).await,
    };
    let key = Key {
        uri: request.uri().to_string(),
        principal: format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            principal.name,
            principal.role.map(|r| r.as_str()).unwrap_or_default(),
            principal.employee_id.as_deref().unwrap_or_default(),
            principal.system.as_deref().unwrap_or_default()
        ),
        version,
    };
    if let Some(kept) = state.read_cache.get(&key) {
        let mut r = Body::from(kept.body.clone()).into_response();
        if let Some(t) = &kept.content_type {
            r.headers_mut().insert(header::CONTENT_TYPE, t.clone());
        }
        return r;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    // Only an answer whose whole size is known and small is kept; others go out as they are.
    let small = http_body::Body::size_hint(response.body()).exact().is_some_and(|n| n as usize <= MAX_BODY);
    if !small {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return crate::api::ApiError::internal("an answer's body failed").into_response();
    };
    let bytes = collected.to_bytes();
    state
        .read_cache
        .put(key, Kept { content_type: parts.headers.get(header::CONTENT_TYPE).cloned(), body: bytes.clone(), at: Instant::now() });
    Response::from_parts(parts, Body::from(bytes))
}
