//! `annexa serve`: Annexa's HTTP server.
//!
//! Today it serves the SCIM 2.0 endpoint under `/scim/v2` ([`scim`]), so an identity
//! provider (Okta, Entra ID, …) can push Users and Groups into Annexa, and it runs the
//! recurring jobs the binary hands it ([`Job`]: due joiner/mover/leaver events, the
//! provisioning queue, ledger checkpoints). The REST API and the web pages will join the
//! same [`app`] router.
//!
//! [`app`] builds the whole router from an [`AppState`] without opening a socket, so tests
//! drive it with `tower::ServiceExt::oneshot`; [`serve`] binds it to an address. Every
//! route is behind a bearer token ([`auth`]): tokens are stored as SHA-256 hashes and
//! belong to one system.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = annexa_store::Store::open("sqlite://annexa.db")?;
//! let state = annexa_server::AppState::new(store, annexa_server::ServerConfig::new("http://127.0.0.1:8080"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! annexa_server::serve(listener, state, Vec::new()).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod authz;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod oidc;
pub mod ops;
pub mod scim;
pub mod setup;
pub mod tls;
pub mod web;

/// The connection pool lives with the use cases that share it.
pub use annexa_app::pool;

use annexa_scim::discovery::Limits;
use annexa_scim::schema::ResourceSchema;
use annexa_store::Store;
use scim::cache::{Cache, Kind};
use scim::ScimError;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

/// How the server presents itself.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The URL clients reach the server at (`https://annexa.example.com`), for
    /// `meta.location` and `Location` headers.
    pub public_url: String,
    /// The SCIM limits a client is told of (`/ServiceProviderConfig`).
    pub limits: Limits,
    /// Time, size and connection limits of HTTP itself.
    pub http: http::HttpLimits,
    /// Where the use cases find their files and configuration; by default those beside
    /// the database (see [`annexa_app::Settings::beside`]).
    pub settings: Option<annexa_app::Settings>,
    /// The authorization policy (file name, text); the shipped one when `None`.
    pub authorization: Option<(String, String)>,
    /// Sign-in through the organisation's OpenID Connect provider, when configured.
    pub oidc: Option<oidc::OidcConfig>,
    /// HTTPS served by Annexa itself, when configured.
    pub tls: Option<tls::TlsFiles>,
}

impl ServerConfig {
    pub fn new(public_url: &str) -> ServerConfig {
        ServerConfig {
            public_url: public_url.trim_end_matches('/').to_string(),
            limits: Limits { max_operations: 1000, max_payload_size: 2 * 1024 * 1024, max_results: 1000 },
            http: http::HttpLimits::default(),
            settings: None,
            authorization: None,
            oidc: None,
            tls: None,
        }
    }
}

/// What every request shares: the database connections, the SCIM resources in memory,
/// the configuration.
pub struct AppState {
    pub store: Arc<pool::StorePool>,
    /// Held by each SCIM write: writes are serialised by the database anyway (SQLite's
    /// write lock, the SCIM sequence row on PostgreSQL), and waiting here is cheaper than
    /// waiting in SQLite's busy handler, which sleeps.
    pub(crate) writing: std::sync::Mutex<()>,
    pub cache: RwLock<Cache>,
    pub config: ServerConfig,
    user_schema: ResourceSchema,
    group_schema: ResourceSchema,
    /// What the REST API's use cases are given.
    pub settings: annexa_app::Settings,
    pub authorizer: authz::Authorizer,
    /// The OpenAPI document, as served.
    pub openapi: String,
    /// Failed sign-ins per username, and how many passwords are being verified.
    pub sign_in: api::session::SignInGuard,
    /// Requests answered, for `/metrics`.
    pub requests: metrics::Requests,
    /// The OIDC provider's metadata and keys, once read.
    pub oidc_provider: std::sync::Mutex<Option<oidc::Provider>>,
    /// The API's read answers, kept while the ledger's size stays the same.
    pub read_cache: api::cache::ReadCache,
}

impl AppState {
    /// Loads the pushed resources into memory; requests share the one connection given.
    pub fn new(store: Store, config: ServerConfig) -> Result<Arc<AppState>, String> {
        AppState::with_pool(Arc::new(pool::StorePool::single(store)), "sqlite://:memory:", config)
    }

    /// Opens the database at `url`, with a connection per request running at once.
    pub fn open(url: &str, config: ServerConfig) -> Result<Arc<AppState>, String> {
        AppState::with_pool(Arc::new(pool::StorePool::open(url, 32).map_err(|e| e.to_string())?), url, config)
    }

    fn with_pool(store: Arc<pool::StorePool>, url: &str, mut config: ServerConfig) -> Result<Arc<AppState>, String> {
        let settings = config.settings.take().unwrap_or_else(|| annexa_app::Settings::beside(url));
        if let Some(o) = &config.oidc {
            o.check()?;
        }
        let authorizer = match &config.authorization {
            None => authz::Authorizer::builtin()?,
            Some((file, text)) => authz::Authorizer::compile(file, text)?,
        };
        let openapi = api::openapi().to_pretty_json().map_err(|e| format!("the OpenAPI document: {e}"))?;
        let mut cache = Cache::new(&format!("{}/scim/v2", config.public_url));
        let mut rows = Vec::new();
        let last = store.get().and_then(|mut s| s.scim_changes(0, |r| rows.push(r))).map_err(|e| e.to_string())?;
        for r in rows {
            cache.apply(r)?;
        }
        cache.seq = last;
        Ok(Arc::new(AppState {
            store,
            writing: std::sync::Mutex::new(()),
            cache: RwLock::new(cache),
            config,
            user_schema: ResourceSchema::user(),
            group_schema: ResourceSchema::group(),
            settings,
            authorizer,
            openapi,
            sign_in: Default::default(),
            requests: Default::default(),
            oidc_provider: std::sync::Mutex::new(None),
            read_cache: Default::default(),
        }))
    }

    /// `…/scim/v2`.
    pub fn base(&self) -> String {
        format!("{}/scim/v2", self.config.public_url)
    }

    pub fn schema(&self, kind: Kind) -> &ResourceSchema {
        match kind {
            Kind::User => &self.user_schema,
            Kind::Group => &self.group_schema,
        }
    }

    /// Pulls into the cache what changed in the database since it last looked (writes of
    /// this instance and of others sharing a PostgreSQL database).
    pub(crate) fn sync(&self, store: &mut Store) -> Result<(), ScimError> {
        let seq = self.cache.read().map_err(|_| ScimError::internal("the cache lock is poisoned"))?.seq;
        let mut rows = Vec::new();
        let last = store.scim_changes(seq, |r| rows.push(r))?;
        self.absorb(rows, last)
    }

    /// Applies pulled rows, in `seq` order, and remembers how far the cache now is. Rows
    /// the cache has already seen are skipped: requests on several connections pull at
    /// once, and a late pull must not bring back an older version.
    pub(crate) fn absorb(&self, rows: Vec<annexa_store::scim::ScimRow>, last: i64) -> Result<(), ScimError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut cache = self.cache.write().map_err(|_| ScimError::internal("the cache lock is poisoned"))?;
        let seen = cache.seq;
        for r in rows.into_iter().filter(|r| r.seq > seen) {
            cache.apply(r).map_err(|e| ScimError::internal(&e))?;
        }
        cache.seq = cache.seq.max(last);
        Ok(())
    }

    /// The cache, brought up to date.
    pub(crate) fn fresh(&self) -> Result<RwLockReadGuard<'_, Cache>, ScimError> {
        {
            let mut store = self.store.get()?;
            self.sync(&mut store)?;
        }
        self.cache.read().map_err(|_| ScimError::internal("the cache lock is poisoned"))
    }
}

/// The whole router.
pub fn app(state: Arc<AppState>) -> axum::Router {
    let limits = state.config.http.clone();
    let state_https = state.config.public_url.starts_with("https://");
    let (api, _) = api::routes(state.clone());
    axum::Router::new()
        .nest("/scim/v2", scim::routes(state.clone()))
        .merge(api)
        .merge(ops::routes())
        .merge(setup::routes())
        .merge(web::routes())
        // After routing, so that requests are counted under the route they matched.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::observe))
        .with_state(state)
        .layer(axum::middleware::from_fn(http::request_id))
        .layer(axum::middleware::from_fn_with_state(state_https, http::strict_transport))
        .layer(axum::middleware::from_fn_with_state(limits, http::check_head))
}

pub use jobs::Job;

/// Serves `state` on `listener` until Ctrl-C or SIGTERM, running `jobs` on their intervals,
/// within the connection limits of [`http::HttpLimits`]. On shutdown it stops accepting,
/// lets requests under way finish (up to 10 s), and returns.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>, jobs: Vec<Job>) -> std::io::Result<()> {
    let tls = match &state.config.tls {
        Some(files) => Some(tls::acceptor(files).map_err(std::io::Error::other)?),
        None => None,
    };
    let scheduler = jobs::spawn(state.clone(), jobs, jobs::instance_id());
    let limits = state.config.http.clone();
    let router = app(state);
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    // Refusals are written by tasks of their own, at most this many at once; past that a
    // connection is just closed.
    let refusals = Arc::new(tokio::sync::Semaphore::new(64));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown());
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to be freed rather than stop.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if let Ok(slot) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    let mut stream = stream;
                    let answer = http::busy_response();
                    let _ = tokio::time::timeout(Duration::from_secs(1), tokio::io::AsyncWriteExt::write_all(&mut stream, &answer)).await;
                    drop(slot);
                });
            }
            continue;
        };
        let service =
            hyper_util::service::TowerToHyperService::new(http::WithClient { inner: router.clone(), client: http::ClientAddr(peer.ip()) });
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_head_buffer());
        let watcher = graceful.watcher();
        let (acceptor, handshake_time) = (tls.clone(), limits.header_read_timeout);
        tokio::spawn(async move {
            match acceptor {
                None => {
                    let io = hyper_util::rt::TokioIo::new(http::ParseErrorBodies::new(stream));
                    let _ = watcher.watch(http1.serve_connection(io, service)).await;
                }
                // The handshake under the same limit as a head: a client that never
                // finishes it holds its connection no longer than a slow head would.
                Some(acceptor) => {
                    if let Ok(Ok(stream)) = tokio::time::timeout(handshake_time, acceptor.accept(stream)).await {
                        let io = hyper_util::rt::TokioIo::new(http::ParseErrorBodies::new(stream));
                        let _ = watcher.watch(http1.serve_connection(io, service)).await;
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    for job in scheduler {
        job.abort();
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("requests still running after 10 s were cut off"),
    }
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
