//! Annexa's use cases, for every front end: the `annexa` command line, the scheduler and
//! (soon) the REST API of `annexa serve`, and `annexa demo`.
//!
//! Each use case is a method of [`App`] that takes plain values and returns plain values
//! or one typed [`Error`]; nothing here parses arguments or prints. What a use case needs
//! from its surroundings is passed in: where the database and files are ([`Settings`]),
//! who acts (recorded in the ledger), the clock, and how to report progress. A use case
//! that changes state signs a ledger checkpoint itself, so no front end can forget to.
//!
//! ```no_run
//! use annexa_app::{App, Settings};
//! let app = App::new(Settings::beside("sqlite://annexa.db"), "os:alice");
//! let outcome = app.import_file(annexa_connect::ImportKind::Hr, "hr.csv", &std::fs::read("hr.csv")?, &Default::default(), false)?;
//! println!("{}", outcome.summary);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod audit;
pub mod campaign;
pub mod config;
pub mod demo;
mod error;
pub mod evidence;
pub mod import;
pub mod input;
pub mod keys;
pub mod ledger;
pub mod lifecycle;
pub mod nonconformity;
pub mod oscal;
pub mod policy;
pub mod pool;
pub mod provision;
pub mod pushed;
pub mod queries;
pub mod report;
pub mod risk;
pub mod soa;
pub mod tokens;
pub mod users;

pub use error::{chain as error_chain, Error, ErrorKind, Result};

use annexa_core::time::Instant;
use annexa_engine::config::Config;
use annexa_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// Where Annexa keeps what it keeps, and its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database URL (`sqlite://annexa.db`, `postgres://…`).
    pub db: String,
    /// The ledger's signing key (created, mode 0600, on first use).
    pub ledger_key: PathBuf,
    /// Where snapshots of what identity providers pushed are written.
    pub pushed_dir: PathBuf,
    /// The effective `annexa.toml`.
    pub config: Config,
}

impl Settings {
    /// The defaults for a database: files kept beside a SQLite database
    /// (`annexa.db.ledger-key`, `annexa.db.scim-pushed/`), or in the working directory for
    /// PostgreSQL; the built-in configuration.
    pub fn beside(db: &str) -> Settings {
        Settings {
            db: db.to_string(),
            ledger_key: beside_db(db, ".ledger-key", "annexa-ledger.key"),
            pushed_dir: beside_db(db, ".scim-pushed", "annexa-scim-pushed"),
            config: Config::default(),
        }
    }
}

/// A file kept beside the SQLite database (`annexa.db` + `suffix`), or `fallback` in the
/// working directory when the database is not a file (PostgreSQL, `:memory:`).
pub fn beside_db(db: &str, suffix: &str, fallback: &str) -> PathBuf {
    match db.strip_prefix("sqlite://") {
        Some(path) if path != ":memory:" && !path.is_empty() => PathBuf::from(format!("{path}{suffix}")),
        _ => PathBuf::from(fallback),
    }
}

/// What reports how a long use case is getting on (a spinner on a terminal).
pub trait Progress: Send + Sync {
    /// What is being done now.
    fn step(&self, message: &str);
    /// Done: the report may disappear.
    fn finish(&self) {}
    /// Something the person running Annexa should know that is not the result (a key was
    /// created, a system's push failed to import).
    fn note(&self, _message: &str) {}
}

/// No progress reporting.
pub struct Quiet;

impl Progress for Quiet {
    fn step(&self, _: &str) {}
}

/// What tells the time: the system clock, or a fixed one in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        chrono::Utc::now()
    }
}

/// The use cases, with what they need from their surroundings.
#[derive(Clone)]
pub struct App {
    pub settings: Settings,
    /// Who acts, as the ledger records it (`os:alice`, `token:okta-push`, `scheduler`).
    pub actor: String,
    pub clock: Arc<dyn Clock>,
    pub progress: Arc<dyn Progress>,
    /// Connections to share (a server's); without, each use case opens its own.
    pub pool: Option<Arc<pool::StorePool>>,
}

impl App {
    /// An app acting as `actor`, on the system clock, without progress reports.
    pub fn new(settings: Settings, actor: &str) -> App {
        App { settings, actor: actor.to_string(), clock: Arc::new(SystemClock), progress: Arc::new(Quiet), pool: None }
    }

    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> App {
        self.progress = progress;
        self
    }

    /// Takes connections from `pool` instead of opening one per use case.
    pub fn with_pool(mut self, pool: Arc<pool::StorePool>) -> App {
        self.pool = Some(pool);
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> App {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The identity graph as imported, with the systems' inventory of the configuration
    /// (owners, tiers, classifications) that no import carries.
    pub(crate) fn load_graph(&self, store: &mut Store) -> Result<annexa_core::graph::IdentityGraph> {
        let mut graph = store.load_graph()?;
        graph.systems = self.settings.config.systems();
        Ok(graph)
    }

    /// A connection to the database, its schema brought up to date. Each use case opens
    /// its own, so that several run at once (the server's requests, its jobs).
    pub fn store(&self) -> Result<pool::Connection<'_>> {
        // The URL may carry a password: name only its scheme.
        let scheme = self.settings.db.split("://").next().unwrap_or("");
        let opened = match &self.pool {
            Some(pool) => pool.get().map(pool::Connection::Lent),
            None => Store::open(&self.settings.db).map(pool::Connection::Own),
        };
        opened.map_err(|e| match e {
            annexa_store::StoreError::Url(_) => Error::from(e),
            e => Error::caused(ErrorKind::Internal, format!("cannot open the {scheme} database"), e),
        })
    }

    /// Signs a checkpoint of the ledger as it now is: every use case that changed state
    /// ends with it.
    pub fn checkpoint(&self, store: &mut Store) -> Result<annexa_store::ledger::StoredCheckpoint> {
        let signer = self.signer()?;
        Ok(store.ledger_checkpoint(&signer, self.now())?)
    }

    /// The ledger's signing key, created on first use.
    pub fn signer(&self) -> Result<annexa_ledger::note::NoteSigner> {
        let path = &self.settings.ledger_key;
        let (signer, created) = keys::signer_created(path, true)?;
        if created {
            self.progress.note(&format!("created the ledger signing key {} (verifier key: `annexa ledger key show`)", path.display()));
        }
        Ok(signer)
    }
}
