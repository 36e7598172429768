//! What the SCIM tests share: a server on a fresh database, driven through the router.
#![allow(dead_code)]

use annexa_server::{app, auth, AppState, ServerConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub fn sample(name: &str) -> Value {
    let path = format!("{}/../../../shared/reference/samples/scim/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub struct Server {
    pub state: Arc<AppState>,
    pub token: String,
}

impl Drop for Server {
    /// The PostgreSQL client must not be dropped on an async thread: its own runtime would
    /// panic. Dropping the state from a blocking section keeps it out of the executor.
    fn drop(&mut self) {
        let state = std::mem::replace(&mut self.state, placeholder());
        if tokio::runtime::Handle::try_current().is_ok() {
            sync(move || drop(state));
        }
    }
}

/// A state on an in-memory SQLite database, to leave behind in a dropped [`Server`].
pub fn placeholder() -> Arc<AppState> {
    AppState::new(annexa_store::Store::open("sqlite::memory:").expect("open"), ServerConfig::new("http://x")).expect("state")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The status, and for errors the scimType, for one-line asserts.
    pub fn outcome(&self) -> (u16, Option<&str>) {
        (self.status.as_u16(), self.body["scimType"].as_str())
    }
}

/// Runs blocking store work (the PostgreSQL client has a runtime of its own) from a test.
pub fn sync<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

pub fn new_token(url: &str, name: &str, system: &str) -> String {
    sync(|| new_token_now(url, name, system))
}

pub fn new_token_now(url: &str, name: &str, system: &str) -> String {
    let mut store = annexa_store::Store::open(url).expect("open");
    let t = auth::new_token().expect("token");
    store
        .create_token(&t.id, name, &annexa_store::tokens::TokenGrant::scim(system), &t.secret_sha256, "test", chrono::Utc::now())
        .expect("store token");
    t.token
}

pub fn server(url: &str) -> Server {
    let token = new_token(url, "okta", "okta");
    Server { state: state(url, "https://annexa.test"), token }
}

pub fn state(url: &str, public: &str) -> Arc<AppState> {
    sync(|| AppState::new(annexa_store::Store::open(url).expect("open"), ServerConfig::new(public)).expect("state"))
}

impl Server {
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Reply {
        self.raw(method, path, body.map(|b| b.to_string().into_bytes()), &self.token.clone(), headers).await
    }

    pub async fn raw(&self, method: &str, path: &str, body: Option<Vec<u8>>, token: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::builder().method(method).uri(format!("/scim/v2{path}"));
        if !token.is_empty() {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            req = req.header("content-type", "application/scim+json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("request");
        let res = app(self.state.clone()).oneshot(req).await.expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {bytes:?}"))
        };
        if !body.is_null() && status != StatusCode::NOT_MODIFIED {
            assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/scim+json"), "{method} {path}");
        }
        Reply { status, headers, body }
    }

    pub async fn create_user(&self, name: &str, extra: Value) -> Value {
        let mut body = json!({ "schemas": [USER], "userName": name });
        if let (Some(o), Some(x)) = (body.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        let r = self.send("POST", "/Users", Some(body), &[]).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    pub async fn ids(&self, path: &str) -> Vec<String> {
        let r = self.send("GET", path, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|u| u["userName"].as_str().or(u["displayName"].as_str()).unwrap_or_default().to_string())
            .collect()
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

pub fn each_database(test: impl Fn(&str)) {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        test(&url);
    }
}
