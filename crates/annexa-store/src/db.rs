//! The dialect layer: one API over SQLite and PostgreSQL.
//!
//! Every query in the store is written once, in the portable subset both engines share,
//! with `?` placeholders; this module rewrites placeholders for PostgreSQL, binds values,
//! streams rows, and picks each engine's fastest bulk path (a reused prepared statement in
//! SQLite, `COPY ... FROM STDIN` in PostgreSQL).
//!
//! INVARIANT: every value reaches the database as a bound parameter (or, for COPY, as a
//! CSV-escaped field); no value is ever spliced into SQL text.

use crate::StoreError;
use std::io::Write;

/// A bound value. Integers are 64-bit everywhere (PostgreSQL `BIGINT`), booleans are 0/1,
/// instants are Unix seconds; NULLs are typed because PostgreSQL checks types.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Blob(&'a [u8]),
}

impl<'a> From<i64> for Value<'a> {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl<'a> From<Option<i64>> for Value<'a> {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl<'a> From<bool> for Value<'a> {
    fn from(v: bool) -> Self {
        Value::Int(Some(v as i64))
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Some(v))
    }
}
impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::Text(v)
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(Some(v))
    }
}

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub(crate) enum Conn {
    /// With the process's gate of its file (none for an in-memory database).
    Sqlite(rusqlite::Connection, Option<std::sync::Arc<crate::gate::WriterGate>>),
    Postgres(Box<postgres::Client>),
}

/// An open transaction: everything the store writes goes through one.
pub(crate) enum Tx<'c> {
    Sqlite(SqliteTx<'c>),
    Postgres(postgres::Transaction<'c>),
}

/// A SQLite transaction with the writer's turn it holds (a write transaction); the
/// transaction ends (commit or rollback) before the turn is handed on.
pub(crate) struct SqliteTx<'c> {
    tx: rusqlite::Transaction<'c>,
    /// Stopped before the commit: see [`Flusher`].
    flusher: Option<Flusher>,
    /// Dropped after `tx` (fields drop in order): puts the write-ahead log back once the
    /// transaction has ended, for a [`Conn::bulk_transaction`] that left it.
    _wal_again: Option<WalAgain<'c>>,
    _turn: Option<crate::gate::Turn>,
}

/// Asks the kernel, a few times a second, to write to disk what a bulk transaction has
/// written to its database file so far ([`Conn::bulk_transaction`]). Such a transaction
/// writes hundreds of megabytes (a first audit at 100,000 people about 270 MB), most of
/// them while the checks or the parser keep both cores busy and the disk idle; left to
/// the commit, the disk then had them all to write at once, with nothing else to do
/// meanwhile (0.7 s of a 7 s first audit). Flushed as they come, the commit waits for
/// the last ones only. What reaches the disk early is only what SQLite already handed to
/// the kernel, which may write it at any time anyway: durability and the journal's order
/// are SQLite's as before.
struct Flusher {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How often a [`Flusher`] flushes.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

impl Flusher {
    /// A flusher of the database file through `file`, which the file's gate keeps open
    /// ([`crate::gate::WriterGate::flush_file`] says why); `None` without one (then the
    /// commit writes everything, as without a flusher).
    fn start(file: Option<std::sync::Arc<std::fs::File>>) -> Option<Flusher> {
        let file = file?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("annexa-flush".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(FLUSH_EVERY) {
                    // A failure here only leaves the writing to the commit, which reports its own.
                    let _ = file.sync_data();
                }
            })
            .ok()?;
        Some(Flusher { stop, thread: Some(thread) })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Puts a connection back in WAL mode when dropped ([`Conn::bulk_transaction`]). Should
/// that fail (another connection opened the file meanwhile), the database stays in rollback
/// mode until a connection opens it again: [`crate::Store::open`] asks for WAL every time.
struct WalAgain<'c>(&'c rusqlite::Connection);

impl Drop for WalAgain<'_> {
    fn drop(&mut self) {
        let _ = self.0.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0));
    }
}

impl<'c> std::ops::Deref for SqliteTx<'c> {
    type Target = rusqlite::Transaction<'c>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for SqliteTx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A row being read.
pub(crate) enum DbRow<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

/// Rewrites `?` placeholders as `$1, $2, ...` for PostgreSQL.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_params<'v>(params: &'v [Value<'v>]) -> impl rusqlite::Params + 'v {
    rusqlite::params_from_iter(params.iter().map(|v| match v {
        Value::Int(i) => rusqlite::types::ToSqlOutput::Owned(match i {
            Some(i) => rusqlite::types::Value::Integer(*i),
            None => rusqlite::types::Value::Null,
        }),
        Value::Text(t) => match t {
            Some(t) => rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(t.as_bytes())),
            None => rusqlite::types::ToSqlOutput::Owned(rusqlite::types::Value::Null),
        },
        Value::Blob(b) => rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Blob(b)),
    }))
}

fn pg_params<'v>(params: &'v [Value<'v>]) -> Vec<&'v (dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|v| match v {
            Value::Int(i) => i as &(dyn postgres::types::ToSql + Sync),
            Value::Text(t) => t as &(dyn postgres::types::ToSql + Sync),
            Value::Blob(b) => b as &(dyn postgres::types::ToSql + Sync),
        })
        .collect()
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(..) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    pub(crate) fn transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c, gate) => {
                // The turn first: waiting for it costs no polling (see gate.rs).
                let turn = gate.as_ref().and_then(|g| g.enter());
                Tx::Sqlite(SqliteTx {
                    tx: c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
                    flusher: None,
                    _wal_again: None,
                    _turn: turn,
                })
            }
            Conn::Postgres(c) => Tx::Postgres(c.transaction()?),
        })
    }

    /// A write transaction for writing far more than it changes: a first audit (hundreds of
    /// thousands of findings into empty tables) or a large import. In WAL mode SQLite writes
    /// every page twice, to the log at the commit and into the database at the checkpoint
    /// that follows; with a rollback journal, a page the transaction appends beyond the end
    /// of the file (or takes from the free list) needs no copy in the journal, so it is
    /// written once. Leaving WAL needs the file to itself: when another connection has it
    /// open (a server's readers), this is an ordinary transaction. The log comes back when
    /// the transaction ends, committed or not. `ANNEXA_BULK_JOURNAL=0` keeps the log always
    /// (to compare, or should a file system mishandle the switch).
    pub(crate) fn bulk_transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        if std::env::var_os("ANNEXA_BULK_JOURNAL").is_some_and(|v| v == "0") {
            return self.transaction();
        }
        self.journalled_transaction()
    }

    /// A write transaction with a rollback journal when this connection has the file to
    /// itself ([`Conn::bulk_transaction`]); otherwise an ordinary one.
    fn journalled_transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        let Conn::Sqlite(c, Some(gate)) = self else { return self.transaction() };
        let turn = gate.enter();
        // Another connection of this process to the file (each holds its gate: this
        // connection and this turn make two): the log stays, decided here rather than left
        // to SQLite's refusal of the switch.
        if turn.is_none() || std::sync::Arc::strong_count(gate) > 2 {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            return Ok(Tx::Sqlite(SqliteTx { tx, flusher: None, _wal_again: None, _turn: turn }));
        }
        // Leaving WAL, SQLite keeps the pages this connection has cached and, as in rollback
        // mode, trusts them while the header's change counter is unchanged; but a WAL commit
        // that leaves the first page alone leaves the counter alone. Pages that another
        // connection changed since this one last read were then taken from the cache, and
        // the bulk write built on them overwrote those commits (the loss `tests/concurrency.rs`
        // showed in 3 % of runs under load). Emptied here, the cache is read afresh once the
        // switch has checkpointed the log into the file.
        c.release_memory()?;
        // Refused at once (busy) while another process has the file open.
        let mode = match c.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get::<_, String>(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => "wal".to_string(),
            other => other?,
        };
        let conn: &rusqlite::Connection = c;
        let wal_again = (!mode.eq_ignore_ascii_case("wal")).then_some(WalAgain(conn));
        // `new_unchecked` borrows the connection shared, as `WalAgain` does; nothing else
        // uses it while the transaction lives (this borrows `self` mutably).
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        // With the log, the pages go to it and the database only at the checkpoint.
        let flusher = if wal_again.is_some() { Flusher::start(gate.flush_file()) } else { None };
        Ok(Tx::Sqlite(SqliteTx { tx, flusher, _wal_again: wal_again, _turn: turn }))
    }

    /// A transaction that only reads, from one consistent snapshot: in SQLite (WAL) it
    /// takes no write lock, so it does not wait for an import running in another process;
    /// on PostgreSQL it is `REPEATABLE READ, READ ONLY`, so a read of several statements
    /// (the whole identity graph) never mixes two commits.
    pub(crate) fn read_transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c, _) => Tx::Sqlite(SqliteTx {
                tx: c.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?,
                flusher: None,
                _wal_again: None,
                _turn: None,
            }),
            Conn::Postgres(c) => {
                Tx::Postgres(c.build_transaction().isolation_level(postgres::IsolationLevel::RepeatableRead).read_only(true).start()?)
            }
        })
    }

    /// Runs several statements separated by `;` (schema migrations).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c, _) => c.execute_batch(sql)?,
            Conn::Postgres(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }
}

impl Tx<'_> {
    pub(crate) fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(SqliteTx { tx, flusher, _wal_again, _turn }) => {
                drop(flusher);
                tx.commit()?;
                // The log back before the turn is handed on.
                drop(_wal_again);
            }
            Tx::Postgres(t) => t.commit()?,
        }
        Ok(())
    }

    /// Executes one statement; returns the number of rows changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => t.prepare_cached(sql)?.execute(sqlite_params(params))? as u64,
            Tx::Postgres(t) => t.execute(numbered(sql).as_str(), &pg_params(params))?,
        })
    }

    /// Inserts a row and returns the id the database assigned (`RETURNING id`).
    pub(crate) fn insert_returning_id(&mut self, sql: &str, params: &[Value<'_>]) -> Result<i64, StoreError> {
        let sql = format!("{sql} RETURNING id");
        let mut id = None;
        self.query_each(&sql, params, |row| {
            id = row.int(0)?;
            Ok(())
        })?;
        id.ok_or_else(|| StoreError::Corrupt("INSERT returned no id".into()))
    }

    /// The rowid of the latest row inserted on SQLite; `None` on PostgreSQL.
    pub(crate) fn last_insert_id(&self) -> Option<i64> {
        match self {
            Tx::Sqlite(t) => Some(t.last_insert_rowid()),
            Tx::Postgres(_) => None,
        }
    }

    /// Calls `f` for every row of a query, streaming (rows are not collected first).
    pub(crate) fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&DbRow<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => {
                let mut stmt = t.prepare_cached(sql)?;
                let mut rows = stmt.query(sqlite_params(params))?;
                while let Some(row) = rows.next()? {
                    f(&DbRow::Sqlite(row))?;
                }
            }
            Tx::Postgres(t) => {
                use postgres::fallible_iterator::FallibleIterator;
                let sql = numbered(sql);
                let mut rows = t.query_raw(sql.as_str(), pg_params(params))?;
                while let Some(row) = rows.next()? {
                    f(&DbRow::Postgres(&row))?;
                }
            }
        }
        Ok(())
    }

    /// Inserts every item of `items` into `table` whose keys land all over an index (a
    /// primary key in the order of a file, hashed ids): one row per statement on SQLite
    /// (see [`Tx::insert_rows`]), COPY on PostgreSQL.
    pub(crate) fn bulk_insert_keyed<'v, T>(
        &mut self,
        table: &str,
        columns: &[&str],
        items: &'v [T],
        fill: impl FnMut(&'v T, &mut Vec<Value<'v>>),
    ) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(_) => self.insert_rows(table, columns, items, fill, ""),
            Tx::Postgres(_) => self.bulk_insert(table, columns, items, fill),
        }
    }

    /// Inserts every item of `items` into `table`, rows that go to the end of their table
    /// and its indexes (a table without keys, the ledger): many rows per statement on
    /// SQLite, COPY on PostgreSQL. `fill` puts one item's values, in `columns` order, into
    /// the buffer it is given.
    pub(crate) fn bulk_insert<'v, T>(
        &mut self,
        table: &str,
        columns: &[&str],
        items: &'v [T],
        mut fill: impl FnMut(&'v T, &mut Vec<Value<'v>>),
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Sqlite(t) => {
                // Many rows per statement: one VM run inserts a whole chunk, faster than a
                // statement per row when the rows append. SQLite allows 32,766 parameters.
                let per_chunk = (32_000 / columns.len()).clamp(1, 256);
                let row = format!("({})", vec!["?"; columns.len()].join(","));
                let sql_for =
                    |rows: usize| format!("INSERT INTO {table} ({}) VALUES {}", columns.join(","), vec![row.as_str(); rows].join(","));
                let mut values: Vec<Value<'v>> = Vec::with_capacity(per_chunk * columns.len());
                // Held for every chunk: a statement goes back to the cache with its bindings
                // cleared, which frees the buffer of every bound text, and each chunk then
                // allocated them all again (a tenth of an import's writer).
                let mut full = if items.len() >= per_chunk { Some(t.prepare_cached(&sql_for(per_chunk))?) } else { None };
                for chunk in items.chunks(per_chunk) {
                    values.clear();
                    for item in chunk {
                        fill(item, &mut values);
                    }
                    match &mut full {
                        Some(statement) if chunk.len() == per_chunk => statement.execute(sqlite_params(&values))?,
                        _ => t.prepare(&sql_for(chunk.len()))?.execute(sqlite_params(&values))?,
                    };
                }
            }
            Tx::Postgres(t) => {
                let sql = format!("COPY {table} ({}) FROM STDIN (FORMAT csv)", columns.join(","));
                let mut writer = t.copy_in(sql.as_str())?;
                let mut buf = Vec::with_capacity(1 << 20);
                for item in items {
                    let mut values = Vec::with_capacity(columns.len());
                    fill(item, &mut values);
                    write_csv_row(&mut buf, &values);
                    if buf.len() > (1 << 20) {
                        writer.write_all(&buf).map_err(StoreError::Io)?;
                        buf.clear();
                    }
                }
                writer.write_all(&buf).map_err(StoreError::Io)?;
                writer.finish()?;
            }
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// Inserts every item of `items` into `table` with `INSERT … VALUES …` statements ending
    /// in `suffix` (an `ON CONFLICT` clause, which COPY cannot have), on both engines: `fill`
    /// puts one item's values, in `columns` order, into the buffer.
    ///
    /// SQLite gets one row per statement, prepared once: a statement of many rows must be
    /// able to undo itself alone, so SQLite copies every page it changes into a statement
    /// journal first, and rows whose keys land all over an index (finding ids are hashes)
    /// change a page each. That copying was half the cost of storing a first audit.
    /// PostgreSQL gets many rows per statement (one round trip each).
    pub(crate) fn insert_rows<'v, T>(
        &mut self,
        table: &str,
        columns: &[&str],
        items: &'v [T],
        mut fill: impl FnMut(&'v T, &mut Vec<Value<'v>>),
        suffix: &str,
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        // SQLite allows 32,766 parameters, PostgreSQL 65,535.
        let per_chunk = (32_000 / columns.len()).clamp(1, 256);
        let row = format!("({})", vec!["?"; columns.len()].join(","));
        let sql_for =
            |rows: usize| format!("INSERT INTO {table} ({}) VALUES {} {suffix}", columns.join(","), vec![row.as_str(); rows].join(","));
        let mut values: Vec<Value<'v>> = Vec::with_capacity(per_chunk * columns.len());
        if let Tx::Sqlite(t) = self {
            let mut statement = t.prepare_cached(&sql_for(1))?;
            for item in items {
                values.clear();
                fill(item, &mut values);
                statement.execute(sqlite_params(&values))?;
            }
            return Ok(());
        }
        for chunk in items.chunks(per_chunk) {
            values.clear();
            for item in chunk {
                fill(item, &mut values);
            }
            let sql = sql_for(chunk.len());
            match self {
                Tx::Sqlite(t) => {
                    t.prepare_cached(&sql)?.execute(sqlite_params(&values))?;
                }
                Tx::Postgres(t) => {
                    let sql = numbered(&sql);
                    t.execute(sql.as_str(), &pg_params(&values))?;
                }
            }
        }
        Ok(())
    }
}

/// One row in PostgreSQL's COPY CSV form: unquoted empty = NULL, text always quoted.
fn write_csv_row(buf: &mut Vec<u8>, values: &[Value<'_>]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        match v {
            Value::Int(Some(n)) => buf.extend_from_slice(n.to_string().as_bytes()),
            Value::Int(None) | Value::Text(None) => {}
            // bytea's hex input form; a backslash is an ordinary character in COPY's CSV.
            Value::Blob(b) => {
                buf.extend_from_slice(b"\\x");
                for byte in *b {
                    buf.extend_from_slice(format!("{byte:02x}").as_bytes());
                }
            }
            Value::Text(Some(s)) => {
                buf.push(b'"');
                for b in s.bytes() {
                    if b == b'"' {
                        buf.push(b'"');
                    }
                    buf.push(b);
                }
                buf.push(b'"');
            }
        }
    }
    buf.push(b'\n');
}

impl DbRow<'_> {
    pub(crate) fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.get::<_, Option<i64>>(i)?,
            DbRow::Postgres(r) => r.try_get::<_, Option<i64>>(i)?,
        })
    }

    pub(crate) fn text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Text(t) => {
                    Some(std::str::from_utf8(t).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))?)
                }
                other => return Err(StoreError::Corrupt(format!("column {i}: expected text, found {:?}", other.data_type()))),
            },
            DbRow::Postgres(r) => r.try_get::<_, Option<&str>>(i)?,
        })
    }

    pub(crate) fn blob(&self, i: usize) -> Result<&[u8], StoreError> {
        self.opt_blob(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }

    pub(crate) fn opt_blob(&self, i: usize) -> Result<Option<&[u8]>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => match r.get_ref(i)? {
                rusqlite::types::ValueRef::Blob(b) => Some(b),
                rusqlite::types::ValueRef::Null => None,
                other => return Err(StoreError::Corrupt(format!("column {i}: expected a blob, found {:?}", other.data_type()))),
            },
            DbRow::Postgres(r) => r.try_get::<_, Option<&[u8]>>(i)?,
        })
    }

    pub(crate) fn req_int(&self, i: usize) -> Result<i64, StoreError> {
        self.int(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }

    pub(crate) fn req_text(&self, i: usize) -> Result<&str, StoreError> {
        self.text(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The switch out of WAL once lost commits that another connection had made through the
    /// log since this one last read, when they left the first page alone: the pages in this
    /// connection's cache were trusted and the bulk write built on them.
    #[test]
    fn a_journalled_write_keeps_what_another_connection_committed_through_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("annexa-ÅSA/ledger.db");
        std::fs::create_dir_all(db.parent().expect("parent")).expect("dir");
        let url = format!("sqlite://{}", db.display());
        let mut bulk = crate::Store::open(&url).expect("open");
        bulk.conn
            .batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); INSERT INTO t VALUES (1, 'a'), (2, 'b');")
            .expect("table");
        for round in 0..3 {
            // Read: the table's page is now in this connection's cache.
            let mut tx = bulk.conn.read_transaction().expect("read");
            let mut seen = Vec::new();
            tx.query_each("SELECT v FROM t ORDER BY id", &[], |r| {
                seen.push(r.req_text(0)?.to_string());
                Ok(())
            })
            .expect("select");
            tx.commit().expect("end read");
            assert_eq!(seen.len(), 2 + round, "round {round}: {seen:?}");
            // Another connection changes that page in place (the first page stays as it
            // was), through the log, and closes.
            let mut other = crate::Store::open(&url).expect("other");
            let mut tx = other.conn.transaction().expect("other tx");
            tx.execute("UPDATE t SET v = ? WHERE id = 1", &[Value::Text(Some(&format!("other-{round}")))]).expect("update");
            tx.commit().expect("other commit");
            drop(other);
            // Alone now, this connection leaves the log for its write.
            let mut tx = bulk.conn.journalled_transaction().expect("bulk");
            tx.execute("INSERT INTO t (v) VALUES (?)", &[Value::Text(Some("bulk"))]).expect("insert");
            assert!(db.with_extension("db-journal").exists(), "round {round}: the write went through a rollback journal");
            tx.commit().expect("bulk commit");
            let check = rusqlite::Connection::open(&db).expect("check");
            let v: String = check.query_row("SELECT v FROM t WHERE id = 1", [], |r| r.get(0)).expect("v");
            assert_eq!(v, format!("other-{round}"), "round {round}: the other connection's commit was lost");
            let mode: String = check.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("mode");
            assert_eq!(mode, "wal");
        }
    }

    /// Whether this process holds a POSIX lock on the file at `path` (`/proc/locks`).
    fn locked_by_this_process(path: &std::path::Path) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        let inode = format!(":{}", std::fs::metadata(path).expect("metadata").ino());
        let pid = std::process::id().to_string();
        std::fs::read_to_string("/proc/locks").expect("/proc/locks").lines().any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&"POSIX") && fields.get(4) == Some(&pid.as_str()) && fields.get(5).is_some_and(|f| f.ends_with(&inode))
        })
    }

    /// A descriptor of the database file closed while SQLite holds its locks would drop them
    /// (POSIX locks belong to the process): the flusher's stays open with the connection.
    #[test]
    fn a_journalled_write_keeps_its_locks_when_its_flusher_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("flush/them all.db");
        std::fs::create_dir_all(db.parent().expect("parent")).expect("dir");
        let mut store = crate::Store::open(&format!("sqlite://{}", db.display())).expect("open");
        let mut tx = store.conn.journalled_transaction().expect("bulk");
        tx.execute("CREATE TABLE t (v TEXT)", &[]).expect("write");
        let Tx::Sqlite(inner) = &mut tx else { panic!("a SQLite transaction") };
        assert!(inner.flusher.is_some(), "a write alone leaves the log and flushes as it goes");
        assert!(locked_by_this_process(&db), "the writer holds its lock");
        // As the commit does first.
        drop(inner.flusher.take());
        assert!(locked_by_this_process(&db), "the writer still holds its lock once the flusher has stopped");
        tx.commit().expect("commit");
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(numbered("SELECT a FROM t WHERE b = ? AND c = ?"), "SELECT a FROM t WHERE b = $1 AND c = $2");
    }

    #[test]
    fn copy_rows_quote_text_and_leave_nulls_bare() {
        let mut buf = Vec::new();
        write_csv_row(&mut buf, &[Value::Int(Some(7)), Value::Text(None), Value::Text(Some("a \"q\",b")), Value::Text(Some(""))]);
        assert_eq!(String::from_utf8(buf).expect("utf8"), "7,,\"a \"\"q\"\",b\",\"\"\n");
    }
}
