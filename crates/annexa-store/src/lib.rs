//! Annexa's storage: the only crate that speaks SQL.
//!
//! One code path serves embedded SQLite (the default, in WAL mode, `sqlite://annexa.db`)
//! and PostgreSQL (`postgres://…`, for several server instances). Queries are written once
//! in the SQL both engines share; [`db`] binds parameters and picks each engine's fast bulk
//! path. The schema is created and upgraded by embedded migrations when a store opens.
//!
//! The store keeps the current snapshot of every source: an import replaces that source's
//! previous records in one transaction, so a failed import leaves the database as it was.
//!
//! ```no_run
//! let mut store = annexa_store::Store::open("sqlite://annexa.db")?;
//! let graph = store.load_graph()?;
//! println!("{} people", graph.people.len());
//! # Ok::<(), annexa_store::StoreError>(())
//! ```

mod audit;
pub mod campaign;
pub mod db;
pub mod failures;
mod gate;
mod identity;
pub mod jml;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
mod migrate;
pub mod nonconformity;
pub mod provisioning;
mod rekey;
mod retired_tables;
pub mod risk;
mod run;
pub mod scim;
mod snapshot;
pub mod soa;
#[doc(hidden)]
pub mod testing;
pub mod tokens;
pub mod users;

pub use audit::{FindingFilter, FindingPage, FindingStatus, RunSummary, StoredFinding};
pub use db::Dialect;
pub use identity::{NewImport, RestOfImport, StreamedRecords};
pub use run::{CheckOutcome, Prepared, Preparer, RunEnd, RunInput, RunOutcome, RunStart, RunWriter};

use db::Conn;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database URL {0}")]
    Url(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("I/O: {0}")]
    Io(#[source] std::io::Error),
    /// The stored data is not what this version wrote.
    #[error("the database holds unexpected data: {0}")]
    Corrupt(String),
    /// The request contradicts what is stored (e.g. two source kinds feeding one system).
    #[error("{0}")]
    Conflict(String),
    /// What the request names is not there (a run, a finding).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is not one the store can answer (an unknown kind, a proof of a
    /// position past the end, an ambiguous id prefix).
    #[error("{0}")]
    Invalid(String),
}

/// SQLite's page cache per connection: 64 MiB (a large import or audit writes faster with
/// it), or `ANNEXA_SQLITE_CACHE_MB` megabytes (1 to 4,096) where memory is tight, e.g. a
/// server whose pool holds many connections. The cache is filled as pages are read or
/// written, up to this size, whatever an audit finds. (An audit run widens it for its own
/// transaction on a large database, unless this is set: see `run.rs`.)
pub(crate) fn sqlite_cache_kib() -> u64 {
    std::env::var("ANNEXA_SQLITE_CACHE_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|mb| (1..=4096).contains(mb))
        .unwrap_or(64)
        * 1024
}

/// An open database.
pub struct Store {
    conn: Conn,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    ///
    /// `sqlite://PATH` (relative or, with a third slash, absolute), `sqlite::memory:`, or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        let conn = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            // The gate before the connection, dropped after it (`Conn::Sqlite`'s field order):
            // it must outlive every connection of this process to the file, since the
            // descriptor it keeps for flushing closes with it (see `WriterGate::flush_file`).
            let gate = (path != ":memory:" && !path.is_empty()).then(|| gate::WriterGate::of(Path::new(path)));
            let c = if path == ":memory:" || path.is_empty() {
                rusqlite::Connection::open_in_memory()?
            } else {
                rusqlite::Connection::open(path)?
            };
            // WAL lets readers (the server, an auditor's export) run while an import
            // writes; synchronous=FULL makes every commit durable. `threads` lets SQLite
            // sort on every core when it builds an index (a first audit builds its
            // findings' indexes after writing them, run.rs) or sorts a large result.
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
            c.execute_batch(&format!(
                "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; \
                 PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{}; PRAGMA threads={cores};",
                sqlite_cache_kib()
            ))?;
            // While a command writes in bulk with a rollback journal (`Conn::bulk_transaction`),
            // the mode cannot change: this connection reads in that mode meanwhile (waiting,
            // as any writer would, for the bulk write's commit) and finds WAL once it is done.
            match c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
                other => drop(other?),
            }
            Conn::Sqlite(c, gate)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let client = postgres::Client::connect(url, postgres::NoTls)?;
            Conn::Postgres(Box::new(client))
        } else {
            // Never echo the URL: it may carry a password.
            return Err(StoreError::Url("must start with sqlite:// or postgres:// (e.g. sqlite://annexa.db)".to_string()));
        };
        let mut store = Store { conn };
        migrate::run(&mut store.conn)?;
        Ok(store)
    }

    /// Opens the database with the schema of an earlier version (`version`, at most the
    /// latest): what the tests of upgrades start from. Opening it with [`Store::open`]
    /// then upgrades it.
    #[doc(hidden)]
    pub fn open_at_version(url: &str, version: i64) -> Result<Store, StoreError> {
        let conn = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Conn::Postgres(Box::new(postgres::Client::connect(url, postgres::NoTls)?))
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .ok_or_else(|| StoreError::Url("open_at_version takes sqlite:// or postgres:// URLs".into()))?;
            Conn::Sqlite(rusqlite::Connection::open(path)?, Some(gate::WriterGate::of(Path::new(path))))
        };
        let mut store = Store { conn };
        migrate::run_to(&mut store.conn, version)?;
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }
}

/// An instant from Unix seconds.
pub(crate) fn instant(s: Option<i64>) -> Option<annexa_core::time::Instant> {
    s.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
}

/// Decodes a snapshot blob whole, for the fuzz target of the codec: any bytes decode or are
/// refused as corrupt, never panic.
#[doc(hidden)]
pub fn decode_snapshot(blob: &[u8]) -> Result<IdentityGraphCounts, StoreError> {
    let mut g = annexa_core::graph::IdentityGraph::default();
    snapshot::decode(1, blob, &|_: &str| true, &mut g)?;
    Ok(IdentityGraphCounts { people: g.people.len(), accounts: g.accounts.len(), grants: g.grants.len() })
}

/// What a decoded snapshot held.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityGraphCounts {
    pub people: usize,
    pub accounts: usize,
    pub grants: usize,
}
