//! Storing an audit run as its findings arrive: a [`RunWriter`] takes them in batches while
//! the checks still run, writes each batch in the run's transaction, and keeps per finding
//! only what tells new, changed and resolved apart (its id, version and severity), so an
//! audit that finds hundreds of thousands of things costs memory in proportion to them by
//! a few dozen bytes each, not by their evidence.
//!
//! A finding is stored as its *body*: its JSON without what it shares with every other
//! finding of the run (the as-of instant and the check's parameters, kept with the run)
//! and without the file name and SHA-256 of each source record (kept with the import the
//! record names), each record a short array, and packed ([`Packer`]). The SHA-256 of the
//! body (unpacked) is the finding's *version*. A run writes only what changed: new
//! findings, findings whose version changed, and resolved ones (`run_findings`); an unchanged finding costs nothing, and what run N
//! reported is, for each finding, its latest change up to N (if not a resolution) among
//! the checks N ran. A daily audit of an organisation with many open findings therefore
//! grows the database by what changed that day. A finding new in a run whose keys are
//! dropped (a first audit) is written as one row only, its first version inside it, until a
//! run changes it ([`append_rows`]).

use crate::db::{Tx, Value};
use crate::lifecycle::Suppression;
use crate::{Store, StoreError};
use annexa_core::finding::{Finding, Severity, Subject, SubjectKind};
use annexa_core::model::ImportRecord;
use annexa_core::time::Instant;
use serde::Serialize;
use sha2::Digest as _;
use std::collections::HashMap;
use std::sync::Arc;

/// Findings written at a time.
const BATCH: usize = 512;
/// The schema version that lets a finding keep its first version in its own row.
const FIRST_VERSIONS_INLINE: i64 = 26;
/// Findings named in one ledger entry: the entry binds each by id and version.
const LEDGER_BATCH: usize = 1_000;
/// Below this many stored findings, a run on SQLite builds the findings' indexes, keys
/// included, after writing instead of while (see [`defer_indexes`]).
const DEFER_INDEXES_BELOW: i64 = 100_000;

/// How a run begins.
pub struct RunStart<'a> {
    /// Who runs it (recorded in the ledger).
    pub actor: &'a str,
    pub started_at: Instant,
    pub as_of: Instant,
    /// The checks selected to run: their open findings are the ones this run may resolve
    /// (those of them that turn out not evaluated are left as they are).
    pub checks: &'a [String],
}

/// How a run ends.
pub struct RunEnd<'a> {
    pub finished_at: Instant,
    /// The checks that ran, in registry order: only their open findings not seen resolve.
    pub checks_run: &'a [String],
    /// The checks that could not judge, and why.
    pub not_evaluated: &'a [(String, String)],
    pub imports: &'a [ImportRecord],
    /// The effective check parameters, by check id, as a JSON object.
    pub parameters: &'a str,
    /// The authentication posture the run measured, as JSON.
    pub posture: Option<&'a serde_json::Value>,
}

/// What a stored run found, per check and in all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunOutcome {
    pub run_id: i64,
    /// Findings the run reported (all open now).
    pub total: u64,
    pub new: u64,
    pub still_open: u64,
    /// Of the still open ones, those whose evidence or message changed.
    pub changed: u64,
    /// Of those reported, the ones accepted as risks or dismissed as false positives.
    pub suppressed: u64,
    /// Findings the run reopened: seen again, acceptance expired, a dismissed finding's records changed.
    pub reopened: u64,
    pub resolved: u64,
    /// Per check that ran, in the order of [`RunEnd::checks_run`].
    pub checks: Vec<CheckOutcome>,
}

/// One check's part of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckOutcome {
    pub check: String,
    /// Findings someone has to act on (reported, and not accepted or dismissed).
    pub open: u64,
    /// Findings reported but accepted as risks or dismissed as false positives.
    pub suppressed: u64,
    pub new: u64,
    pub resolved: u64,
    /// The severity of its most severe finding.
    pub most_severe: Option<Severity>,
}

/// A finding as stored before this run: what deciding new, changed or resolved needs.
struct Known {
    version: [u8; 32],
    rank: u8,
    check: u16,
    /// Its place in [`RunWriter::seen`].
    slot: u32,
}

/// The open findings of the selected checks as stored before the run, by id: read-only
/// while the run is written, so that findings can be prepared on any thread.
type KnownFindings = Arc<HashMap<Box<str>, Known>>;

/// Prepares findings for a run on any thread ([`RunWriter::preparer`]): each one's body and
/// version, and the packed body of those the run will write (new or changed), which is most
/// of the work of storing a first audit and none of a rerun's.
#[derive(Clone)]
pub struct Preparer {
    known: KnownFindings,
    /// The findings dismissed as false positives: only theirs is what they rest on worked out.
    dismissed: Arc<std::collections::HashSet<Box<str>>>,
}

/// A finding ready to be stored ([`Preparer::prepare`]): what the run records of it. Its
/// evidence is dropped where it was prepared (freeing it costs as much as encoding it).
pub struct Prepared {
    id: String,
    check: String,
    severity: Severity,
    subject_kind: SubjectKind,
    subject_key: String,
    hash: [u8; 32],
    /// For a dismissed finding, which records it rests on (`records_fingerprint`): what
    /// keeps its dismissal.
    rests_on: Option<[u8; 32]>,
    /// What the run writes, when it writes it: new, or a version the store does not have.
    write: Option<Written>,
    /// What the ledger says of it ([`ledger_item`]), when the run opens it or changes its
    /// severity: written here, so that the one thread that writes only joins them.
    ledger: Option<String>,
}

/// The columns of a finding's new version.
struct Written {
    system: String,
    controls: String,
    version: String,
    packed: Vec<u8>,
}

impl Preparer {
    /// Bodies, versions and (for what will be written) packed bodies of `findings`.
    pub fn prepare(&self, findings: Vec<Finding>) -> Result<Vec<Prepared>, StoreError> {
        PACKER.with_borrow_mut(|packer| self.prepare_with(findings, packer))
    }

    fn prepare_with(&self, findings: Vec<Finding>, packer: &mut Option<Packer>) -> Result<Vec<Prepared>, StoreError> {
        let mut out = Vec::with_capacity(findings.len());
        for f in findings {
            let body = body_of(&f);
            let hash: [u8; 32] = sha2::Sha256::digest(body.as_bytes()).into();
            let unchanged = self.known.get(f.id.as_str()).is_some_and(|k| k.version == hash);
            let write = if unchanged {
                None
            } else {
                let packer = match packer {
                    Some(p) => p,
                    None => packer.insert(Packer::new()?),
                };
                Some(Written {
                    system: f.subject.system().unwrap_or_default(),
                    controls: f.controls.join(" "),
                    version: annexa_core::to_hex(&hash),
                    packed: packer.pack(&body)?,
                })
            };
            let rests_on = self.dismissed.contains(f.id.as_str()).then(|| annexa_core::finding::records_fingerprint(&f.evidence.records));
            let Finding { id, check, severity, subject, .. } = f;
            let mut p =
                Prepared { id, check, severity, subject_kind: subject.kind, subject_key: subject.key, hash, rests_on, write, ledger: None };
            // Opened, or regraded: as `RunWriter::flush` decides.
            if !matches!(self.known.get(p.id.as_str()), Some(k) if i64::from(k.rank) == p.severity.rank()) {
                p.ledger = Some(ledger_item(&p));
            }
            out.push(p);
        }
        Ok(out)
    }
}

/// The columns of a finding's latest state, as a run writes it ([`finding_row`]).
const FINDING_COLUMNS: [&str; 11] =
    ["id", "check_id", "severity_rank", "system", "subject_kind", "subject_key", "controls", "version", "first_run", "last_run", "status"];

/// The columns of a finding's place in a run ([`run_finding_row`]).
const RUN_FINDING_COLUMNS: [&str; 4] = ["run_id", "finding_id", "change", "version"];

/// An audit run being stored: [`Store::begin_run`], [`RunWriter::add`] as findings arrive,
/// [`RunWriter::finish`]. Dropped unfinished, the run is rolled back.
pub struct RunWriter<'s> {
    tx: Tx<'s>,
    /// The page cache's usual size (KiB), when the run widened it.
    cache_restore: Option<u64>,
    /// Indexes dropped for the run, keys included, rebuilt by [`RunWriter::finish`]: `CREATE` SQL.
    deferred_indexes: Vec<String>,
    /// While the keys are dropped: every finding id stored before the run. Their rows are
    /// updated, not appended, so they wait in `late` until the keys are back.
    stored: Option<std::collections::HashSet<Box<str>>>,
    late: Vec<(Prepared, Written, &'static str)>,
    /// Whether the schema has the column a finding's first version can be kept in (all but
    /// the tests' older ones), on SQLite: then a new finding appended by this run keeps it
    /// there ([`append_rows`]), and a finding so kept is written out before it changes.
    inline_column: bool,
    run_id: i64,
    actor: String,
    started_at: Instant,
    as_of: Instant,
    /// Open findings of the selected checks before this run; `seen` says which of them this
    /// run reported (the others it may resolve).
    known: KnownFindings,
    seen: Vec<bool>,
    check_names: Vec<String>,
    /// Per selected check, the run before this one that ran it: the last to see what this
    /// one resolves.
    previous_run: Vec<Option<i64>>,
    per_check: HashMap<String, CheckOutcome>,
    batch: Vec<Prepared>,
    opened: Vec<String>,
    /// Still open findings whose severity changed: the ledger says so.
    regraded: Vec<String>,
    /// Accepted and dismissed findings: suppressed while the acceptance lasts or the
    /// finding rests on the records it was dismissed with (`lifecycle.rs`).
    suppressions: HashMap<Box<str>, crate::lifecycle::Suppression>,
    dismissed: Arc<std::collections::HashSet<Box<str>>>,
    /// Findings the run reopens, with why.
    reopened: Vec<(String, String)>,
    outcome: RunOutcome,
    /// Time spent writing batches so far (what `ANNEXA_TIMINGS` reports: when it is close
    /// to the whole of the checks' time, the store is what the audit waits for).
    writing: std::time::Duration,
}

impl Store {
    /// Begins storing an audit run, in one transaction that [`RunWriter::finish`] commits.
    pub fn begin_run(&mut self, start: &RunStart<'_>) -> Result<RunWriter<'_>, StoreError> {
        let cache_restore = self.widen_cache_for_write()?;
        // A first audit writes far more than it changes: see `Conn::bulk_transaction`.
        let first = stored_findings_below(self, DEFER_INDEXES_BELOW)?;
        let mut tx = if first { self.conn.bulk_transaction()? } else { self.conn.transaction()? };
        let deferred_indexes = defer_indexes(&mut tx, &["findings", "finding_versions", "run_findings"], DEFER_INDEXES_BELOW)?;
        // Only a first audit on SQLite appends (`defer_indexes`), so only SQLite can hold
        // findings kept in one row: PostgreSQL has nothing to write out before a change.
        let mut inline_column = false;
        if matches!(tx, Tx::Sqlite(_)) {
            tx.query_each("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", &[FIRST_VERSIONS_INLINE.into()], |r| {
                inline_column = r.req_int(0)? > 0;
                Ok(())
            })?;
        }
        let mut stored = None;
        if !deferred_indexes.is_empty() {
            // Fewer than DEFER_INDEXES_BELOW: the ids fit in memory.
            let mut ids = std::collections::HashSet::new();
            tx.query_each("SELECT id FROM findings", &[], |r| {
                ids.insert(Box::<str>::from(r.req_text(0)?));
                Ok(())
            })?;
            stored = Some(ids);
        }
        let check_names: Vec<String> = start.checks.to_vec();
        let index: HashMap<&str, u16> = check_names.iter().enumerate().map(|(i, c)| (c.as_str(), i as u16)).collect();
        let mut known = HashMap::new();
        tx.query_each("SELECT id, check_id, version, severity_rank FROM findings WHERE status = 'open'", &[], |r| {
            if let Some(&check) = index.get(r.req_text(1)?) {
                // A finding stored before versions were kept has none: it counts as changed.
                let version = r.text(2)?.and_then(unhex).unwrap_or([0; 32]);
                let rank = r.req_int(3)?.clamp(0, 255) as u8;
                let slot = known.len() as u32;
                known.insert(r.req_text(0)?.into(), Known { version, rank, check, slot });
            }
            Ok(())
        })?;
        let mut previous_run: Vec<Option<i64>> = vec![None; check_names.len()];
        let mut missing = check_names.len();
        tx.query_each("SELECT id, checks FROM audit_runs ORDER BY id DESC", &[], |r| {
            if missing == 0 {
                return Ok(());
            }
            let ran: Vec<String> = serde_json::from_str(r.req_text(1)?).unwrap_or_default();
            for c in ran {
                if let Some(&i) = index.get(c.as_str()) {
                    if previous_run[usize::from(i)].is_none() {
                        previous_run[usize::from(i)] = Some(r.req_int(0)?);
                        missing -= 1;
                    }
                }
            }
            Ok(())
        })?;
        let suppressions = crate::lifecycle::suppressions(&mut tx)?;
        let run_id = tx.insert_returning_id(
            "INSERT INTO audit_runs (started_at, finished_at, as_of, checks, imports, parameters, total, new_count, \
             still_open_count, resolved_count) VALUES (?, ?, ?, '[]', '[]', '{}', 0, 0, 0, 0)",
            &[start.started_at.timestamp().into(), start.started_at.timestamp().into(), start.as_of.timestamp().into()],
        )?;
        Ok(RunWriter {
            tx,
            cache_restore,
            deferred_indexes,
            stored,
            late: Vec::new(),
            inline_column,
            run_id,
            actor: start.actor.to_string(),
            started_at: start.started_at,
            as_of: start.as_of,
            seen: vec![false; known.len()],
            known: Arc::new(known),
            check_names,
            previous_run,
            per_check: HashMap::new(),
            batch: Vec::with_capacity(BATCH),
            opened: Vec::new(),
            regraded: Vec::new(),
            dismissed: Arc::new(
                suppressions.iter().filter(|(_, s)| matches!(s, Suppression::DismissedAt(_))).map(|(id, _)| id.clone()).collect(),
            ),
            suppressions,
            reopened: Vec::new(),
            outcome: RunOutcome { run_id, ..RunOutcome::default() },
            writing: std::time::Duration::ZERO,
        })
    }

    /// A first audit of a large organisation inserts millions of findings at random places
    /// in indexes that grow with the organisation (and an import of millions of accounts
    /// does the same to their key); once those indexes outgrow SQLite's page cache, every
    /// insert reads and rewrites pages (at 1,000,000 people: 542 s instead of 303 s with a
    /// 1 GiB cache, BENCHMARKS.md). So such a transaction gets a cache of a quarter of the
    /// database, 64 MiB to 1 GiB, unless `ANNEXA_SQLITE_CACHE_MB` says otherwise; the
    /// caller puts the usual size back ([`Store::restore_cache`]). Returns that size (KiB)
    /// when it widened the cache.
    pub(crate) fn widen_cache_for_write(&mut self) -> Result<Option<u64>, StoreError> {
        let crate::db::Conn::Sqlite(c, _) = &self.conn else { return Ok(None) };
        if std::env::var_os("ANNEXA_SQLITE_CACHE_MB").is_some() {
            return Ok(None);
        }
        let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let usual = crate::sqlite_cache_kib();
        let Some(want) = run_cache_kib(u64::try_from(pages.saturating_mul(page_size)).unwrap_or(0), usual) else { return Ok(None) };
        c.execute_batch(&format!("PRAGMA cache_size=-{want}"))?;
        Ok(Some(usual))
    }

    /// Puts back the page cache's usual size (KiB) after [`Store::widen_cache_for_write`].
    pub(crate) fn restore_cache(&mut self, usual: Option<u64>) -> Result<(), StoreError> {
        if let (Some(kib), crate::db::Conn::Sqlite(c, _)) = (usual, &self.conn) {
            c.execute_batch(&format!("PRAGMA cache_size=-{kib}"))?;
        }
        Ok(())
    }

    /// Stores a run whose findings are all at hand, in one go.
    pub fn record_run(&mut self, run: &RunInput<'_>) -> Result<RunOutcome, StoreError> {
        let mut writer =
            self.begin_run(&RunStart { actor: run.actor, started_at: run.started_at, as_of: run.as_of, checks: run.checks })?;
        writer.add(run.findings.to_vec())?;
        writer.finish(&RunEnd {
            finished_at: run.finished_at,
            checks_run: run.checks,
            not_evaluated: &[],
            imports: run.imports,
            parameters: run.parameters,
            posture: None,
        })
    }
}

/// A first audit writes hundreds of thousands of findings into empty tables, each row
/// going to a random place in every index (ids are hashes): building an index afterwards,
/// from sorted keys, costs a fraction of that. So when few findings are stored yet, a run
/// on SQLite drops every index of the findings' tables inside its transaction, their keys
/// too (unique indexes of their own since migration 22), and [`RunWriter::finish`] creates
/// them again, from the SQL SQLite kept for them (so they come back exactly as the
/// migrations made them); a rollback restores them. Runs on an organisation with many
/// findings write few rows and keep their indexes. Returns the `CREATE INDEX` statements
/// to run.
fn defer_indexes(tx: &mut Tx<'_>, tables: &[&str], below: i64) -> Result<Vec<String>, StoreError> {
    if !matches!(tx, Tx::Sqlite(_)) {
        return Ok(Vec::new());
    }
    // The first table is the one whose size decides.
    if count_up_to(tx, tables.first().copied().unwrap_or_default(), below)? >= below {
        return Ok(Vec::new());
    }
    let mut indexes = Vec::new();
    let names: Vec<Value<'_>> = tables.iter().map(|t| Value::from(*t)).collect();
    tx.query_each(
        &format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({}) ORDER BY name",
            vec!["?"; tables.len()].join(", ")
        ),
        &names,
        |r| {
            indexes.push((r.req_text(0)?.to_string(), r.req_text(1)?.to_string()));
            Ok(())
        },
    )?;
    for (name, _) in &indexes {
        tx.execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")), &[])?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// Runs the `CREATE INDEX` statements of [`defer_indexes`]. Building an index is mostly
/// sorting its entries, which SQLite does on worker threads (`PRAGMA threads`) only when
/// its temporary files are files and its page cache is small enough for the entries to be
/// sorted in several runs: one sort of all of them in memory took 2.06 s for a 100,000-person
/// first audit's indexes and 12.9 s for two of them at 1,000,000 people, against 1.53 s and
/// 6.2 s sorted in runs of 16 MiB on two cores (`sqlite3 .timer`, BENCHMARKS.md). Both
/// settings are put back afterwards. SQLite refuses to change where temporary files go
/// inside a transaction once the connection's temporary database is open (a connection
/// that has just migrated a new database): then the indexes are built in memory, as
/// before, and so they are should a temporary file fail to open.
fn build_indexes(tx: &mut Tx<'_>, statements: &[String]) -> Result<(), StoreError> {
    let Tx::Sqlite(t) = tx else {
        for sql in statements {
            tx.execute(sql, &[])?;
        }
        return Ok(());
    };
    let in_runs = !statements.is_empty() && t.execute_batch("PRAGMA temp_store=FILE").is_ok();
    let mut cache = 0i64;
    if in_runs {
        cache = t.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        t.execute_batch(&format!("PRAGMA cache_size=-{SORT_RUN_KIB}"))?;
    }
    let mut built = Ok(());
    for sql in statements {
        // A failed statement undoes itself; in memory it needs no temporary directory (a
        // refusal such as a duplicate key fails again, and that is the error returned).
        built = t.execute_batch(sql).or_else(|e| match in_runs {
            true => t.execute_batch("PRAGMA temp_store=MEMORY").and_then(|()| t.execute_batch(sql)),
            false => Err(e),
        });
        if built.is_err() {
            break;
        }
    }
    if in_runs {
        t.execute_batch(&format!("PRAGMA temp_store=MEMORY; PRAGMA cache_size={cache}"))?;
    }
    Ok(built?)
}

/// The page cache (KiB) while indexes are built: the size of each sorted run.
const SORT_RUN_KIB: u64 = 16 * 1024;

/// Whether fewer than `below` findings are stored (counted only up to `below`).
fn stored_findings_below(store: &mut Store, below: i64) -> Result<bool, StoreError> {
    let mut tx = store.conn.read_transaction()?;
    let stored = count_up_to(&mut tx, "findings", below)?;
    tx.commit()?;
    Ok(stored < below)
}

/// The rows of `table` (a name of ours, not input), counted only up to `limit`: a large
/// table is not scanned for it.
fn count_up_to(tx: &mut Tx<'_>, table: &str, limit: i64) -> Result<i64, StoreError> {
    let mut n = 0;
    tx.query_each(&format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT ?) AS f"), &[limit.into()], |r| {
        n = r.req_int(0)?;
        Ok(())
    })?;
    Ok(n)
}

/// The page cache (KiB) an audit run's transaction gets on a database of `db_bytes`: a
/// quarter of it, at most 1 GiB; `None` when that is no more than the `usual` size.
fn run_cache_kib(db_bytes: u64, usual: u64) -> Option<u64> {
    let want = (db_bytes / 4 / 1024).min(1024 * 1024);
    (want > usual).then_some(want)
}

/// A run whose findings are all at hand ([`Store::record_run`]).
pub struct RunInput<'a> {
    pub actor: &'a str,
    pub started_at: Instant,
    pub finished_at: Instant,
    pub as_of: Instant,
    /// The checks that ran: only their earlier findings can be resolved by this run.
    pub checks: &'a [String],
    pub imports: &'a [ImportRecord],
    /// The effective check parameters, as JSON.
    pub parameters: &'a str,
    pub findings: &'a [Finding],
}

impl RunWriter<'_> {
    /// The run's id.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// How long this run has spent writing batches so far.
    pub fn writing(&self) -> std::time::Duration {
        self.writing
    }

    /// What prepares findings for this run on other threads ([`RunWriter::add_prepared`]).
    pub fn preparer(&self) -> Preparer {
        Preparer { known: Arc::clone(&self.known), dismissed: Arc::clone(&self.dismissed) }
    }

    /// Takes findings as the checks hand them on; writes them a batch at a time.
    pub fn add(&mut self, findings: Vec<Finding>) -> Result<(), StoreError> {
        let prepared = self.preparer().prepare(findings)?;
        self.add_prepared(prepared)
    }

    /// Takes findings prepared by [`RunWriter::preparer`]; writes them a batch at a time.
    pub fn add_prepared(&mut self, findings: Vec<Prepared>) -> Result<(), StoreError> {
        for f in findings {
            self.batch.push(f);
            if self.batch.len() >= BATCH {
                let started = std::time::Instant::now();
                self.flush()?;
                self.writing += started.elapsed();
            }
        }
        Ok(())
    }

    /// Writes the pending batch: new and changed findings with their versions, and every
    /// finding's place in the run.
    fn flush(&mut self) -> Result<(), StoreError> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let mut written: Vec<(Prepared, Written, &'static str)> = Vec::with_capacity(batch.len());
        for mut p in batch {
            let rank = p.severity.rank();
            let (change, write) = match self.known.get(p.id.as_str()) {
                None => ("new", true),
                Some(k) => {
                    if let Some(seen) = self.seen.get_mut(k.slot as usize) {
                        *seen = true;
                    }
                    if i64::from(k.rank) != rank {
                        let item = p.ledger.take().unwrap_or_else(|| ledger_item(&p));
                        self.regraded.push(item);
                    }
                    ("open", k.version != p.hash)
                }
            };
            let counts = match self.per_check.get_mut(&p.check) {
                Some(c) => c,
                None => {
                    self.per_check.entry(p.check.clone()).or_insert_with(|| CheckOutcome { check: p.check.clone(), ..Default::default() })
                }
            };
            // Accepted and dismissed findings are still seen, but nobody has to act on them
            // (nor does --fail-on): unless the acceptance expired or the dismissed finding rests on other records.
            let suppressed = match self.suppressions.get(p.id.as_str()) {
                None => false,
                Some(Suppression::AcceptedUntil(t)) if *t > self.as_of.timestamp() => true,
                Some(Suppression::DismissedAt(v)) if Some(*v) == p.rests_on => true,
                Some(Suppression::AcceptedUntil(t)) => {
                    let day = crate::instant(Some(*t)).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default();
                    self.reopened.push((p.id.clone(), format!("its risk acceptance expired on {day}")));
                    false
                }
                Some(Suppression::DismissedAt(_)) => {
                    self.reopened.push((p.id.clone(), "the records it rests on changed since it was dismissed as a false positive".into()));
                    false
                }
            };
            if suppressed {
                counts.suppressed += 1;
                self.outcome.suppressed += 1;
            } else {
                counts.open += 1;
                counts.most_severe = counts.most_severe.max(Some(p.severity));
            }
            self.outcome.total += 1;
            if change == "new" {
                counts.new += 1;
                self.outcome.new += 1;
                let item = p.ledger.take().unwrap_or_else(|| ledger_item(&p));
                self.opened.push(item);
            } else {
                self.outcome.still_open += 1;
                self.outcome.changed += u64::from(write);
            }
            if !write {
                continue; // unchanged: nothing to write
            }
            let Some(w) = p.write.take() else {
                return Err(StoreError::Invalid(format!("finding {} was prepared for another run", p.id)));
            };
            written.push((p, w, change));
        }
        if let Some(stored) = &self.stored {
            // The keys are dropped: what is new appends, what was stored waits for them.
            let (late, fresh): (Vec<_>, Vec<_>) = written.into_iter().partition(|(p, _, _)| stored.contains(p.id.as_str()));
            self.late.extend(late);
            append_rows(&mut self.tx, self.run_id, &fresh, self.inline_column)?;
        } else {
            write_keyed(&mut self.tx, self.run_id, &written, self.inline_column)?;
        }
        if self.opened.len() >= LEDGER_BATCH {
            self.log("findings-opened", false)?;
        }
        Ok(())
    }

    /// Appends the findings collected for the ledger under `kind` (all of them when `all`,
    /// else whole entries only).
    fn log(&mut self, kind: &'static str, all: bool) -> Result<(), StoreError> {
        let run_id = self.run_id;
        let items = match kind {
            "findings-opened" => &mut self.opened,
            _ => &mut self.regraded,
        };
        let mut entries = Vec::new();
        while items.len() >= LEDGER_BATCH || (all && !items.is_empty()) {
            let rest = items.split_off(items.len().min(LEDGER_BATCH));
            let entry = std::mem::replace(items, rest);
            entries.push(findings_entry_text(run_id, &entry));
        }
        self.tx.ledger_append_canonical(&self.actor, self.started_at, kind, &entries)?;
        Ok(())
    }

    /// Resolves the open findings of the checks that ran and were not seen, records the
    /// run's totals, appends its ledger entries and commits.
    pub fn finish(mut self, end: &RunEnd<'_>) -> Result<RunOutcome, StoreError> {
        self.flush()?;
        let deferred = std::mem::take(&mut self.deferred_indexes);
        build_indexes(&mut self.tx, &deferred)?;
        // The keys are back: findings stored before the run are updated through them.
        self.stored = None;
        let late = std::mem::take(&mut self.late);
        write_keyed(&mut self.tx, self.run_id, &late, self.inline_column)?;
        self.log("findings-opened", true)?;
        self.log("findings-regraded", true)?;
        let ran: Vec<bool> = self.check_names.iter().map(|c| end.checks_run.contains(c)).collect();
        let seen = std::mem::take(&mut self.seen);
        let mut resolved: Vec<(Box<str>, u16)> = self
            .known
            .iter()
            .filter(|(_, k)| !seen.get(k.slot as usize).copied().unwrap_or(true))
            .filter(|(_, k)| ran.get(usize::from(k.check)).copied().unwrap_or(false))
            .map(|(id, k)| (id.clone(), k.check))
            .collect();
        resolved.sort();
        let run_id = self.run_id;
        for chunk in resolved.chunks(LEDGER_BATCH) {
            if self.inline_column {
                let ids: Vec<&str> = chunk.iter().map(|(id, _)| &**id).collect();
                write_out_first_versions(&mut self.tx, &ids)?;
            }
            self.tx.bulk_insert("run_findings", &["run_id", "finding_id", "change"], chunk, |(id, _), v| {
                v.extend([Value::from(run_id), Value::from(&**id), "resolved".into()])
            })?;
            let items: Vec<String> = chunk.iter().map(|(id, c)| resolved_item(id, &self.check_names[usize::from(*c)])).collect();
            self.tx.ledger_append_canonical(&self.actor, end.finished_at, "findings-resolved", &[findings_entry_text(run_id, &items)])?;
        }
        let mut resolved_checks: Vec<u16> = resolved.iter().map(|(_, c)| *c).collect();
        resolved_checks.sort_unstable();
        resolved_checks.dedup();
        for (_, c) in &resolved {
            let check = &self.check_names[usize::from(*c)];
            self.per_check.entry(check.clone()).or_insert_with(|| CheckOutcome { check: check.clone(), ..Default::default() }).resolved +=
                1;
        }
        self.outcome.resolved = resolved.len() as u64;
        // A resolved finding was last seen by the run before this one that ran its check.
        for c in resolved_checks {
            let last_seen = self.previous_run[usize::from(c)].unwrap_or(run_id);
            self.tx.execute(
                "UPDATE findings SET status = 'resolved', resolved_run = ?, last_run = ? \
                 WHERE check_id = ? AND id IN (SELECT finding_id FROM run_findings WHERE run_id = ? AND change = 'resolved')",
                &[run_id.into(), last_seen.into(), self.check_names[usize::from(c)].as_str().into(), run_id.into()],
            )?;
        }
        self.lifecycle(!resolved.is_empty(), end.finished_at)?;
        let json = |v: &dyn erased::Json| v.to_json();
        let not_evaluated: Vec<serde_json::Value> =
            end.not_evaluated.iter().map(|(check, reason)| serde_json::json!({ "check": check, "reason": reason })).collect();
        let o = &self.outcome;
        self.tx.execute(
            "UPDATE audit_runs SET finished_at = ?, checks = ?, imports = ?, parameters = ?, not_evaluated = ?, total = ?, \
             new_count = ?, still_open_count = ?, resolved_count = ?, posture = ? WHERE id = ?",
            &[
                end.finished_at.timestamp().into(),
                json(&end.checks_run).as_str().into(),
                json(&end.imports).as_str().into(),
                end.parameters.into(),
                json(&not_evaluated).as_str().into(),
                (o.total as i64).into(),
                (o.new as i64).into(),
                (o.still_open as i64).into(),
                (o.resolved as i64).into(),
                end.posture.map(|p| p.to_string()).as_deref().into(),
                run_id.into(),
            ],
        )?;
        let mut run = crate::ledger::Change {
            kind: "audit-run",
            data: serde_json::json!({
                "run_id": run_id,
                "as_of": self.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "checks": end.checks_run,
                "not_evaluated": not_evaluated,
                "imports": end.imports.iter().map(|i| serde_json::json!({"import_id": i.id, "sha256": i.sha256})).collect::<Vec<_>>(),
                "findings": o.total,
                "new": o.new,
                "still_open": o.still_open,
                "resolved": o.resolved,
            }),
        };
        if let (Some(posture), Some(data)) = (end.posture, run.data.as_object_mut()) {
            data.insert("posture".into(), posture.clone());
        }
        self.tx.ledger_append(&self.actor, end.finished_at, &[run])?;
        let mut per_check = std::mem::take(&mut self.per_check);
        self.outcome.checks = end
            .checks_run
            .iter()
            .map(|c| per_check.remove(c).unwrap_or_else(|| CheckOutcome { check: c.clone(), ..Default::default() }))
            .collect();
        // Before the commit, which writes what is left in the cache whatever its size.
        if let Some(kib) = self.cache_restore {
            self.tx.execute(&format!("PRAGMA cache_size=-{kib}"), &[])?;
        }
        self.tx.commit()?;
        Ok(self.outcome)
    }
}

impl RunWriter<'_> {
    /// The lifecycle's part of a run: a remediated finding's handling is over (its
    /// history is in the ledger); findings seen again after remediation, accepted past
    /// their expiry, or dismissed with evidence that has since changed are reopened.
    fn lifecycle(&mut self, any_resolved: bool, at: Instant) -> Result<(), StoreError> {
        let run_id = self.run_id;
        if any_resolved {
            self.tx.execute(
                "DELETE FROM finding_workflow WHERE finding_id IN (SELECT finding_id FROM run_findings WHERE run_id = ? AND change = 'resolved')",
                &[run_id.into()],
            )?;
        }
        let mut again = Vec::new();
        self.tx.query_each("SELECT id FROM findings WHERE reopened_run = ? ORDER BY id", &[run_id.into()], |r| {
            again.push((r.req_text(0)?.to_string(), "seen again after it was remediated".to_string()));
            Ok(())
        })?;
        let mut reopened = std::mem::take(&mut self.reopened);
        reopened.extend(again);
        self.outcome.reopened = reopened.len() as u64;
        let actor = format!("audit run #{run_id}");
        crate::lifecycle::reopen(&mut self.tx, run_id, &reopened, &actor, at)
    }
}

/// Writes findings' rows where their keys decide: a new finding inserted, a stored one
/// updated, a version stored once.
fn write_keyed(tx: &mut Tx<'_>, run_id: i64, written: &[(Prepared, Written, &'static str)], inline_column: bool) -> Result<(), StoreError> {
    if inline_column {
        let ids: Vec<&str> = written.iter().map(|(p, _, _)| p.id.as_str()).collect();
        write_out_first_versions(tx, &ids)?;
    }
    tx.insert_rows(
        "findings",
        &FINDING_COLUMNS,
        written,
        |(p, w, _), v| finding_row(p, w, run_id, v),
        "ON CONFLICT (id) DO UPDATE SET severity_rank = excluded.severity_rank, controls = excluded.controls, \
         version = excluded.version, status = 'open', last_run = excluded.last_run, resolved_run = NULL, \
         reopened_run = CASE WHEN findings.status = 'resolved' THEN excluded.last_run ELSE findings.reopened_run END",
    )?;
    tx.insert_rows(
        "finding_versions",
        &VERSION_COLUMNS,
        written,
        |(p, w, _), v| version_row(p, w, v),
        "ON CONFLICT (finding_id, sha256) DO NOTHING",
    )?;
    tx.bulk_insert_keyed("run_findings", &RUN_FINDING_COLUMNS, written, |row, v| run_finding_row(row, run_id, v))
}

/// A finding's place in run `run_id`, in [`RUN_FINDING_COLUMNS`] order.
fn run_finding_row<'v>((p, w, change): &'v (Prepared, Written, &'static str), run_id: i64, v: &mut Vec<Value<'v>>) {
    v.extend([Value::from(run_id), p.id.as_str().into(), (*change).into(), w.version.as_str().into()])
}

/// A finding's row in `findings`, in [`FINDING_COLUMNS`] order.
fn finding_row<'v>(p: &'v Prepared, w: &'v Written, run_id: i64, v: &mut Vec<Value<'v>>) {
    v.extend([
        Value::from(p.id.as_str()),
        p.check.as_str().into(),
        p.severity.rank().into(),
        w.system.as_str().into(),
        p.subject_kind.as_str().into(),
        p.subject_key.as_str().into(),
        w.controls.as_str().into(),
        w.version.as_str().into(),
        run_id.into(),
        run_id.into(),
        "open".into(),
    ])
}

/// The columns of a finding's version.
const VERSION_COLUMNS: [&str; 8] = ["finding_id", "sha256", "check_id", "severity_rank", "system", "subject_key", "controls", "packed"];

/// A finding's row in `finding_versions`, in [`VERSION_COLUMNS`] order.
fn version_row<'v>(p: &'v Prepared, w: &'v Written, v: &mut Vec<Value<'v>>) {
    v.extend([
        Value::from(p.id.as_str()),
        w.version.as_str().into(),
        p.check.as_str().into(),
        p.severity.rank().into(),
        w.system.as_str().into(),
        p.subject_key.as_str().into(),
        w.controls.as_str().into(),
        Value::Blob(&w.packed),
    ])
}

/// Writes new findings' rows at the ends of their tables, for a run whose keys are dropped
/// ([`defer_indexes`]): none of them is stored yet, so none can conflict (a check that
/// reported one id twice fails when the keys are built again).
///
/// With `inline`, a new finding is one row: its first version's body rides in its
/// `findings` row (`packed`), and that it was new in this run is its `first_run`, instead
/// of a row in `finding_versions` and one in `run_findings`, each with its keys: a first
/// audit is hundreds of thousands of new findings, and those rows and keys were a third of
/// what storing it wrote and most of the indexes it built at the end. The first change to
/// such a finding (a new version, its resolution) writes them out as they would have been
/// ([`write_out_first_versions`]); readers take a finding's body from either place
/// (`audit.rs`).
fn append_rows(tx: &mut Tx<'_>, run_id: i64, fresh: &[(Prepared, Written, &'static str)], inline: bool) -> Result<(), StoreError> {
    if inline {
        return tx.bulk_insert("findings", &INLINE_FINDING_COLUMNS, fresh, |(p, w, _), v| {
            finding_row(p, w, run_id, v);
            v.push(Value::Blob(&w.packed));
        });
    }
    tx.bulk_insert("findings", &FINDING_COLUMNS, fresh, |(p, w, _), v| finding_row(p, w, run_id, v))?;
    tx.bulk_insert("finding_versions", &VERSION_COLUMNS, fresh, |(p, w, _), v| version_row(p, w, v))?;
    tx.bulk_insert("run_findings", &RUN_FINDING_COLUMNS, fresh, |row, v| run_finding_row(row, run_id, v))
}

/// [`FINDING_COLUMNS`] and the first version's packed body ([`append_rows`]).
const INLINE_FINDING_COLUMNS: [&str; 12] = [
    "id",
    "check_id",
    "severity_rank",
    "system",
    "subject_kind",
    "subject_key",
    "controls",
    "version",
    "first_run",
    "last_run",
    "status",
    "packed",
];

/// Before a run changes any of the findings `ids` (a new version, its resolution): those
/// whose first version is still in their own row ([`append_rows`]) get the rows they
/// would have had, the version in `finding_versions` and their first run's report of it
/// in `run_findings`, and their own copy goes. From then on they are stored as every
/// other finding. Ids not stored, or stored in full already, are left as they are.
fn write_out_first_versions(tx: &mut Tx<'_>, ids: &[&str]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Value<'_>> = chunk.iter().map(|id| Value::from(*id)).collect();
        let inline = format!("FROM findings WHERE packed IS NOT NULL AND id IN ({marks})");
        tx.execute(
            &format!(
                "INSERT INTO finding_versions (finding_id, sha256, check_id, severity_rank, system, subject_key, controls, packed) \
                 SELECT id, version, check_id, severity_rank, system, subject_key, controls, packed {inline} \
                 ON CONFLICT (finding_id, sha256) DO NOTHING"
            ),
            &params,
        )?;
        tx.execute(
            &format!("INSERT INTO run_findings (run_id, finding_id, change, version) SELECT first_run, id, 'new', version {inline}"),
            &params,
        )?;
        tx.execute(&format!("UPDATE findings SET packed = NULL WHERE packed IS NOT NULL AND id IN ({marks})"), &params)?;
    }
    Ok(())
}

/// The canonical JSON of a ledger entry's data naming a run's findings, from their items
/// ([`ledger_item`], [`resolved_item`]), each canonical JSON itself.
fn findings_entry_text(run_id: i64, items: &[String]) -> String {
    format!("{{\"findings\":[{}],\"run_id\":{run_id}}}", items.join(","))
}

/// What the ledger says of a finding a run resolved. Canonical JSON, as [`ledger_item`].
fn resolved_item(id: &str, check: &str) -> String {
    #[derive(Serialize)]
    struct Item<'i> {
        check: &'i str,
        id: &'i str,
    }
    // INVARIANT: plain strings always serialise.
    serde_json::to_string(&Item { check, id }).unwrap_or_default()
}

/// What the ledger says of a finding opened (or regraded) by a run: enough to find it, its
/// version binding the rest. Canonical JSON: the members in key order, serde_json's escaping.
fn ledger_item(p: &Prepared) -> String {
    #[derive(Serialize)]
    struct Item<'p> {
        check: &'p str,
        id: &'p str,
        severity: Severity,
        subject: &'p str,
        version: &'p str,
    }
    let version = annexa_core::to_hex(&p.hash);
    let item = Item { check: &p.check, id: &p.id, severity: p.severity, subject: &p.subject_key, version: &version };
    // INVARIANT: plain strings always serialise.
    serde_json::to_string(&item).unwrap_or_default()
}

/// A finding's stored body (see the module's note): its JSON, written as `serde_json`
/// writes the same members ([`body_by_serde`], which a test holds it to), but without it
/// for the parts a first audit writes millions of (`annexa_core::json`): nearly a fifth of
/// preparing a body went to `serde_json` looking at each byte of each string on its own.
pub(crate) fn body_of(f: &Finding) -> String {
    use annexa_core::json::{push_int, push_str};
    let mut out = Vec::with_capacity(256 + 64 * f.evidence.records.len() + 96 * f.evidence.assignments.len());
    out.extend_from_slice(b"{\"id\":");
    push_str(&mut out, &f.id);
    out.extend_from_slice(b",\"check\":");
    push_str(&mut out, &f.check);
    out.extend_from_slice(b",\"severity\":");
    push_str(&mut out, f.severity.as_str());
    out.extend_from_slice(b",\"subject\":{\"kind\":");
    push_str(&mut out, f.subject.kind.as_str());
    out.extend_from_slice(b",\"key\":");
    push_str(&mut out, &f.subject.key);
    out.extend_from_slice(b",\"label\":");
    push_str(&mut out, &f.subject.label);
    out.extend_from_slice(b"},\"controls\":[");
    for (i, c) in f.controls.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(&mut out, c);
    }
    out.extend_from_slice(b"],\"message\":");
    push_str(&mut out, &f.message);
    out.extend_from_slice(b",\"evidence\":{\"records\":[");
    // `[record, key, import_id, line]` each.
    for (i, r) in f.evidence.records.iter().enumerate() {
        out.extend_from_slice(if i > 0 { b",[" } else { b"[" });
        push_str(&mut out, &r.record);
        out.push(b',');
        push_str(&mut out, &r.key);
        out.push(b',');
        push_int(&mut out, r.import_id);
        out.push(b',');
        push_int(&mut out, i64::from(r.line));
        out.push(b']');
    }
    out.extend_from_slice(b"],\"values\":");
    f.evidence.values_with_assignments().write_json(&mut out);
    out.extend_from_slice(b"}}");
    // INVARIANT: only `str`s and ASCII were written.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A finding's stored body by `serde_json`: what [`body_of`] writes.
#[cfg(test)]
fn body_by_serde(f: &Finding) -> String {
    #[derive(Serialize)]
    struct Body<'f> {
        id: &'f str,
        check: &'f str,
        severity: Severity,
        subject: &'f Subject,
        controls: &'f [String],
        message: &'f str,
        evidence: Evidence<'f>,
    }
    #[derive(Serialize)]
    struct Evidence<'f> {
        /// `[record, key, import_id, line]`.
        records: Vec<(&'f str, &'f str, i64, u32)>,
        values: annexa_core::finding::ValuesWithAssignments<'f>,
    }
    let body = Body {
        id: &f.id,
        check: &f.check,
        severity: f.severity,
        subject: &f.subject,
        controls: &f.controls,
        message: &f.message,
        evidence: Evidence {
            records: f.evidence.records.iter().map(|r| (&*r.record, r.key.as_str(), r.import_id, r.line)).collect(),
            values: f.evidence.values_with_assignments(),
        },
    };
    erased::Json::to_json(&body)
}

/// A stored body is packed: a format byte, then the body's JSON compressed with zstd.
/// Format 1, the first: zstd alone. A body is short, so alone it packs only to about a
/// third (450 bytes of 1,500 in a first audit).
const PACKED_ZSTD: u8 = 1;
/// Format 2, what is written now: zstd with [`BODY_DICTIONARY`], which holds what bodies
/// share (field names, the checks' wording, record kinds), so a body packs to what is its
/// own: about 180 bytes of 1,500, and faster, since the dictionary brings the tables zstd
/// would otherwise build for every body. Fewer bytes is less to write, to build indexes
/// past and to copy at the checkpoint: a first audit at 1,000,000 people writes 2.5 million.
const PACKED_ZSTD_DICTIONARY_1: u8 = 2;
/// The dictionary of format 2, trained on the stored bodies of the demo organisations by
/// `bench/train-body-dictionary`. It never changes: bodies packed with it must unpack for
/// as long as the database lives; a better one would come beside it as format 3.
static BODY_DICTIONARY: &[u8] = include_bytes!("finding-bodies.dict");
/// zstd's fastest regular level: it takes most of the gain, and packing is paid per finding.
const PACK_LEVEL: i32 = 1;
/// A body never unpacks to more than this (a damaged row must not allocate without end).
const MAX_BODY: usize = 64 << 20;

/// The dictionary of format 2, digested once per process for packing.
fn encoder_dictionary() -> &'static zstd::dict::EncoderDictionary<'static> {
    static DICTIONARY: std::sync::OnceLock<zstd::dict::EncoderDictionary<'static>> = std::sync::OnceLock::new();
    DICTIONARY.get_or_init(|| zstd::dict::EncoderDictionary::copy(BODY_DICTIONARY, PACK_LEVEL))
}

/// The dictionary of format 2, digested once per process for unpacking.
fn decoder_dictionary() -> &'static zstd::dict::DecoderDictionary<'static> {
    static DICTIONARY: std::sync::OnceLock<zstd::dict::DecoderDictionary<'static>> = std::sync::OnceLock::new();
    DICTIONARY.get_or_init(|| zstd::dict::DecoderDictionary::copy(BODY_DICTIONARY))
}

/// Packs bodies, reusing one compression context.
pub(crate) struct Packer(zstd::bulk::Compressor<'static>);

thread_local! {
    /// The packer of each thread that prepares findings, made at its first new finding and
    /// kept: a context made per batch allocated and cleared its tables each time.
    static PACKER: std::cell::RefCell<Option<Packer>> = const { std::cell::RefCell::new(None) };
}

impl Packer {
    pub(crate) fn new() -> Result<Packer, StoreError> {
        let mut compressor = zstd::bulk::Compressor::with_prepared_dictionary(encoder_dictionary()).map_err(StoreError::Io)?;
        // Each body carries a checksum of itself: a damaged row fails to unpack.
        compressor.include_checksum(true).map_err(StoreError::Io)?;
        Ok(Packer(compressor))
    }

    pub(crate) fn pack(&mut self, body: &str) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::with_capacity(body.len() / 6 + 16);
        out.push(PACKED_ZSTD_DICTIONARY_1);
        out.extend_from_slice(&self.0.compress(body.as_bytes()).map_err(StoreError::Io)?);
        Ok(out)
    }
}

/// One decompression context per format.
#[derive(Default)]
struct Unpackers {
    plain: Option<zstd::bulk::Decompressor<'static>>,
    dictionary_1: Option<zstd::bulk::Decompressor<'static>>,
}

thread_local! {
    /// Decompression contexts per thread, reused: making one per body cost more than
    /// unpacking it (a page of findings unpacks fifty).
    static UNPACKERS: std::cell::RefCell<Unpackers> = std::cell::RefCell::new(Unpackers::default());
}

/// A packed body's JSON.
pub(crate) fn unpack(packed: &[u8]) -> Result<String, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt(format!("finding body: {why}"));
    let (format, data) = packed.split_first().ok_or_else(|| corrupt("empty".into()))?;
    if *format != PACKED_ZSTD && *format != PACKED_ZSTD_DICTIONARY_1 {
        return Err(corrupt(format!("unknown format {format}")));
    }
    // The frame says how large the body is: allocate that, not the limit.
    let capacity = match zstd::zstd_safe::get_frame_content_size(data) {
        Ok(Some(n)) if n <= MAX_BODY as u64 => n as usize,
        Ok(Some(n)) => return Err(corrupt(format!("{n} bytes unpacked, over the limit"))),
        _ => MAX_BODY,
    };
    let json = UNPACKERS.with(|cell| {
        let mut unpackers = cell.borrow_mut();
        let slot = if *format == PACKED_ZSTD { &mut unpackers.plain } else { &mut unpackers.dictionary_1 };
        let unpacker = match slot {
            Some(u) => u,
            None => slot.insert(
                if *format == PACKED_ZSTD {
                    zstd::bulk::Decompressor::new()
                } else {
                    zstd::bulk::Decompressor::with_prepared_dictionary(decoder_dictionary())
                }
                .map_err(|e| corrupt(e.to_string()))?,
            ),
        };
        unpacker.decompress(data, capacity).map_err(|e| corrupt(e.to_string()))
    })?;
    String::from_utf8(json).map_err(|_| corrupt("not UTF-8".into()))
}

/// Migration 12: the bodies stored before it, packed; the column that held them goes.
pub(crate) fn pack_stored_bodies(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    let mut packer = Packer::new()?;
    // In key order, a thousand at a time from where the last ended: a pass that looked for
    // the rows not packed yet would read every body again each time.
    let (mut after_id, mut after_sha) = (String::new(), String::new());
    loop {
        let mut rows: Vec<(String, String, Vec<u8>)> = Vec::new();
        tx.query_each(
            "SELECT finding_id, sha256, body FROM finding_versions WHERE (finding_id, sha256) > (?, ?) \
             ORDER BY finding_id, sha256 LIMIT 1000",
            &[after_id.as_str().into(), after_sha.as_str().into()],
            |r| {
                let packed = packer.pack(r.req_text(2)?)?;
                rows.push((r.req_text(0)?.to_string(), r.req_text(1)?.to_string(), packed));
                Ok(())
            },
        )?;
        let Some((id, sha256, _)) = rows.last() else { break };
        (after_id, after_sha) = (id.clone(), sha256.clone());
        for (id, sha256, packed) in &rows {
            tx.execute(
                "UPDATE finding_versions SET packed = ? WHERE finding_id = ? AND sha256 = ?",
                &[Value::Blob(packed), id.as_str().into(), sha256.as_str().into()],
            )?;
        }
    }
    tx.execute("ALTER TABLE finding_versions DROP COLUMN body", &[])?;
    Ok(())
}

/// Migration 10: each finding stored before it gets its version (its compact body, stored
/// once in `finding_versions`), and the `evidence` column that held it goes.
pub(crate) fn compact_findings(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("finding {what}"));
    let mut after = String::new();
    loop {
        let mut rows: Vec<(Finding, i64, String)> = Vec::new();
        tx.query_each(
            "SELECT id, check_id, severity, subject_kind, subject_key, subject_label, controls, message, evidence, severity_rank, system \
             FROM findings WHERE id > ? ORDER BY id LIMIT 2000",
            &[after.as_str().into()],
            |r| {
                let finding = Finding {
                    id: r.req_text(0)?.to_string(),
                    check: r.req_text(1)?.to_string(),
                    severity: Severity::parse(r.req_text(2)?).ok_or_else(|| corrupt("severity".into()))?,
                    subject: Subject {
                        kind: annexa_core::finding::SubjectKind::parse(r.req_text(3)?).ok_or_else(|| corrupt("subject kind".into()))?,
                        key: r.req_text(4)?.to_string(),
                        label: r.req_text(5)?.to_string(),
                    },
                    controls: r.req_text(6)?.split(' ').filter(|c| !c.is_empty()).map(String::from).collect(),
                    message: r.req_text(7)?.to_string(),
                    evidence: serde_json::from_str(r.req_text(8)?).map_err(|e| corrupt(format!("evidence: {e}")))?,
                };
                rows.push((finding, r.req_int(9)?, r.req_text(10)?.to_string()));
                Ok(())
            },
        )?;
        let Some(last) = rows.last() else { break };
        after = last.0.id.clone();
        for (f, rank, system) in &rows {
            let body = body_of(f);
            let version = annexa_core::to_hex(&sha2::Sha256::digest(body.as_bytes()));
            tx.execute(
                "INSERT INTO finding_versions (finding_id, sha256, check_id, severity_rank, system, subject_key, controls, body) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (finding_id, sha256) DO NOTHING",
                &[
                    f.id.as_str().into(),
                    version.as_str().into(),
                    f.check.as_str().into(),
                    (*rank).into(),
                    system.as_str().into(),
                    f.subject.key.as_str().into(),
                    f.controls.join(" ").as_str().into(),
                    body.as_str().into(),
                ],
            )?;
            tx.execute("UPDATE findings SET version = ? WHERE id = ?", &[version.as_str().into(), f.id.as_str().into()])?;
            // Runs now record changes only: the finding's latest change must say what it is,
            // which the state stored with it was.
            tx.execute(
                "UPDATE run_findings SET version = ? WHERE finding_id = ? AND version IS NULL AND change <> 'resolved' \
                 AND run_id = (SELECT MAX(x.run_id) FROM run_findings x WHERE x.finding_id = ?)",
                &[version.as_str().into(), f.id.as_str().into(), f.id.as_str().into()],
            )?;
        }
    }
    // What the body holds is not kept twice.
    for column in ["evidence", "message", "subject_label", "severity"] {
        tx.execute(&format!("ALTER TABLE findings DROP COLUMN {column}"), &[])?;
    }
    Ok(())
}

/// A stored body, read back into a finding: its records short arrays (or, in bodies stored
/// before they were made compact, whole records).
pub(crate) fn finding_of_body(body: &str) -> Result<Finding, StoreError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Record {
        Short(String, String, i64, u32),
        Whole(annexa_core::finding::SourceRecord),
    }
    #[derive(serde::Deserialize)]
    struct Evidence {
        records: Vec<Record>,
        #[serde(default)]
        values: serde_json::Map<String, serde_json::Value>,
        #[serde(default)]
        parameters: serde_json::Map<String, serde_json::Value>,
        #[serde(default)]
        as_of: Option<Instant>,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        id: String,
        check: String,
        severity: Severity,
        subject: Subject,
        controls: Vec<String>,
        message: String,
        evidence: Evidence,
    }
    let b: Body = serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("finding body: {e}")))?;
    let records = b
        .evidence
        .records
        .into_iter()
        .map(|r| match r {
            Record::Short(record, key, import_id, line) => annexa_core::finding::SourceRecord {
                record: record.into(),
                key,
                import_id,
                file: String::new(),
                sha256: String::new(),
                line,
            },
            Record::Whole(r) => r,
        })
        .collect();
    Ok(Finding {
        id: b.id,
        check: b.check,
        severity: b.severity,
        subject: b.subject,
        controls: b.controls,
        message: b.message,
        evidence: annexa_core::finding::Evidence {
            records,
            values: b.evidence.values,
            assignments: Vec::new(),
            parameters: b.evidence.parameters,
            as_of: b.evidence.as_of,
        },
    })
}

pub(crate) fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Serialising plain data without a fallible path at every call.
pub(crate) mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize + ?Sized> Json for T {
        fn to_json(&self) -> String {
            // INVARIANT: these values are plain data (strings, numbers, maps with string
            // keys), which serde_json always serialises.
            serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    /// A run's ledger entries are written from items already serialised (opened findings'
    /// where they were prepared, resolved ones at the end); the leaf hash covers their bytes, which must be what the canonical form of
    /// the same data as JSON values is (how entries were written before, and how anyone
    /// checking an entry writes it).
    #[test]
    fn a_runs_ledger_entry_written_from_its_items_is_canonical_json() {
        use annexa_core::finding::{Severity, SubjectKind};
        let prepared = |id: &str, subject: &str, severity: Severity, fill: u8| super::Prepared {
            id: id.into(),
            check: "certification-overdue".into(),
            severity,
            subject_kind: SubjectKind::Account,
            subject_key: subject.into(),
            hash: [fill; 32],
            rests_on: None,
            write: None,
            ledger: None,
        };
        let findings = [
            prepared("F-0001", "jira/Åsa.Berg@example.com", Severity::High, 0xab),
            prepared("F-0002", "ad/cn=\"Ærø\", ou=a/b\tc\u{1}", Severity::Critical, 0x01),
            prepared("F-0003", "github/😀", Severity::Low, 0x00),
        ];
        let mut items: Vec<String> = findings.iter().map(super::ledger_item).collect();
        items.push(super::resolved_item("F-0004", "orphaned-account"));
        let values: Vec<serde_json::Value> = findings
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id, "check": p.check, "severity": p.severity, "subject": p.subject_key,
                    "version": annexa_core::to_hex(&p.hash),
                })
            })
            .chain([serde_json::json!({ "id": "F-0004", "check": "orphaned-account" })])
            .collect();
        let text = super::findings_entry_text(-7, &items);
        assert_eq!(text, annexa_ledger::entry::canonical(&serde_json::json!({ "run_id": -7, "findings": values })));
        assert_eq!(super::findings_entry_text(3, &[]), r#"{"findings":[],"run_id":3}"#);
    }

    #[test]
    fn a_packed_body_unpacks_to_itself_and_damage_is_an_error_not_a_panic() {
        let mut packer = super::Packer::new().expect("packer");
        let body = r#"{"id":"F-1","message":"Åsa's account","records":[["assignment","jira/åsa/x",6,2]]}"#.repeat(40);
        let packed = packer.pack(&body).expect("pack");
        assert!(packed.len() < body.len() / 4, "{} bytes for {}", packed.len(), body.len());
        assert_eq!(super::unpack(&packed).expect("unpack"), body);
        assert!(super::unpack(&[]).is_err(), "empty");
        assert!(super::unpack(&[9, 1, 2]).is_err(), "unknown format");
        assert!(super::unpack(&packed[..packed.len() / 2]).is_err(), "truncated");
        for at in [1, packed.len() / 2, packed.len() - 1] {
            let mut flipped = packed.clone();
            flipped[at] ^= 0x55;
            assert!(super::unpack(&flipped).is_err(), "a changed byte at {at} is found (the frame's checksum)");
        }
    }

    /// A body of a real shape: an account's overdue assignments, as a first audit stores
    /// a quarter of a million of them.
    fn overdue_body(n: usize) -> String {
        let records: Vec<String> =
            (0..n).map(|i| format!(r#"["assignment","salesforce/E04{i:04}/Sales Role {i}",6,{}]"#, 699_000 + i)).collect();
        let assignments: Vec<String> =
            (0..n).map(|i| format!(r#"{{"entitlement":"Sales Role {i}","granted_at":"2024-07-0{}T09:00:00Z"}}"#, 1 + i % 9)).collect();
        format!(
            r#"{{"id":"F-2d6368363ebb2181","check":"certification-overdue","severity":"medium","subject":{{"kind":"account","key":"salesforce/E041068","label":"E041068 (Selin Pires)"}},"controls":["A.5.18"],"message":"{n} entitlements on salesforce account E041068 are overdue for certification","evidence":{{"records":[{}],"values":{{"assignments":[{}],"count":{n}}}}}}}"#,
            records.join(","),
            assignments.join(",")
        )
    }

    /// A body is written by hand for speed: byte for byte what `serde_json` writes of it,
    /// or every finding stored before would change version at the next run.
    #[test]
    fn a_body_is_written_as_serde_json_writes_it() {
        use annexa_core::finding::{AssignmentEvidence, Evidence, Finding, Severity, SourceRecord, Subject, SubjectKind};
        use annexa_core::model::GrantSource;
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&chrono::Utc)).expect("instant");
        let record = |record: &str, key: &str, import_id: i64, line: u32| SourceRecord {
            record: record.to_string().into(),
            key: key.into(),
            import_id,
            file: "ignored.csv".into(),
            sha256: "ab".repeat(32),
            line,
        };
        let awkward = "Åsa \"Berg\"\\ \u{1}\u{1f}\t\n\r\u{8}\u{c} \u{7f} \u{2028} Ärzte/Station ✓ and a name long enough to span blocks";
        let grouped = Finding {
            id: "F-0123456789abcdef".into(),
            check: "certification-overdue".into(),
            severity: Severity::High,
            subject: Subject { kind: SubjectKind::Account, key: "git%2Fhub/åsa.berg@example.com".into(), label: awkward.into() },
            controls: vec!["A.5.18".into(), "A.8.2".into()],
            message: awkward.into(),
            evidence: Evidence {
                records: vec![
                    record("assignment", "git%2Fhub/åsa.berg@example.com/Ärzte%2FStation", 6, 870_449),
                    record("person", "E\"1", -1, 0),
                ],
                values: serde_json::json!({ "changes": [{"attribute": "department", "before": awkward}], "title": null, "days": 2.5 })
                    .as_object()
                    .cloned()
                    .expect("object"),
                assignments: vec![
                    AssignmentEvidence {
                        entitlement: awkward.into(),
                        granted_at: Some(at("2025-12-05T09:00:00Z")),
                        granted_by: Some("åsa.berg@example.com".into()),
                        source: Some(GrantSource::Birthright),
                        ..Default::default()
                    },
                    AssignmentEvidence {
                        entitlement: "VPN".into(),
                        last_certified_at: Some(at("2025-03-31T12:30:00.5Z")),
                        last_certified_by: Some("reviewer".into()),
                        privileged: true,
                        ..Default::default()
                    },
                    AssignmentEvidence { entitlement: String::new(), ..Default::default() },
                ],
                parameters: serde_json::json!({ "days": 90 }).as_object().cloned().expect("object"),
                as_of: Some(at("2026-10-01T00:00:00Z")),
            },
        };
        let mut plain = grouped.clone();
        plain.evidence.assignments.clear();
        plain.subject.kind = SubjectKind::Person;
        plain.severity = Severity::Info;
        let mut bare = plain.clone();
        bare.evidence = Evidence::default();
        bare.controls.clear();
        bare.subject.label.clear();
        for f in [&grouped, &plain, &bare] {
            let body = super::body_of(f);
            assert_eq!(body, super::body_by_serde(f));
            // And it reads back as the finding (records by their import, assignments among the values).
            let back = super::finding_of_body(&body).expect("reads back");
            assert_eq!(back.evidence.values, f.evidence.all_values());
            assert_eq!(back.message, f.message);
        }
    }

    #[test]
    fn bodies_pack_with_the_dictionary_and_those_packed_without_it_still_unpack() {
        let body = overdue_body(4);
        let packed = super::Packer::new().expect("packer").pack(&body).expect("pack");
        assert_eq!(packed[0], super::PACKED_ZSTD_DICTIONARY_1);
        assert_eq!(super::unpack(&packed).expect("unpack"), body);
        // Format 1, as stored before the dictionary: zstd alone, with its checksum.
        let mut plain = zstd::bulk::Compressor::new(super::PACK_LEVEL).expect("compressor");
        plain.include_checksum(true).expect("checksum");
        let mut old = vec![super::PACKED_ZSTD];
        old.extend(plain.compress(body.as_bytes()).expect("compress"));
        assert_eq!(super::unpack(&old).expect("unpack format 1"), body);
        assert!(packed.len() * 2 < old.len(), "the dictionary halves a body at least: {} against {} bytes", packed.len(), old.len());
        // One format's frame read as the other's is refused, not misread.
        let mut swapped = packed.clone();
        swapped[0] = super::PACKED_ZSTD;
        assert!(super::unpack(&swapped).is_err());
    }

    /// A first run builds its findings' indexes after its rows, sorting in runs on worker
    /// threads with temporary files (`build_indexes`): the indexes come back exactly as the
    /// migrations made them, and the connection's settings as they were.
    #[test]
    fn a_first_run_builds_its_indexes_and_puts_the_sort_settings_back() {
        use annexa_core::finding::{Evidence, Finding, Severity, Subject, SubjectKind};
        let dir = tempfile::tempdir().expect("tempdir");
        let pragmas = |store: &mut crate::Store| {
            let crate::db::Conn::Sqlite(c, _) = &store.conn else { panic!("sqlite") };
            let indexes: Vec<(String, String)> = c
                .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
                .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .expect("indexes");
            let temp_store: i64 = c.query_row("PRAGMA temp_store", [], |r| r.get(0)).expect("temp_store");
            let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0)).expect("cache_size");
            (indexes, temp_store, cache)
        };
        let findings: Vec<Finding> = (0..3_000)
            .map(|n| {
                let key = format!("jira/Åsa.Berg{n}@example.com");
                Finding {
                    id: annexa_core::finding::finding_id("certification-overdue", &key),
                    check: "certification-overdue".into(),
                    severity: if n % 7 == 0 { Severity::High } else { Severity::Medium },
                    subject: Subject { kind: SubjectKind::Account, key, label: format!("Åsa Berg {n}") },
                    controls: vec!["A.5.18".into()],
                    message: "overdue".into(),
                    evidence: Evidence::default(),
                }
            })
            .collect();
        let checks = vec!["certification-overdue".to_string()];
        let at = chrono::Utc::now();
        let run = super::RunInput {
            actor: "test",
            started_at: at,
            finished_at: at,
            as_of: at,
            checks: &checks,
            imports: &[],
            parameters: "{}",
            findings: &findings,
        };
        // A connection that has just migrated the database has its temporary database open
        // (the indexes are then sorted in memory); one opened on it afterwards has not.
        for (name, reopen) in [("fresh", false), ("reopened", true)] {
            let url = format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
            let mut store = crate::Store::open(&url).expect("open");
            if reopen {
                drop(store);
                store = crate::Store::open(&url).expect("reopen");
            }
            let before = pragmas(&mut store);
            assert_eq!(before.1, 2, "{name}: temporary storage in memory outside index builds");
            let outcome = store.record_run(&run).expect("first run");
            assert_eq!(outcome.new, 3_000, "{name}");
            assert_eq!(pragmas(&mut store), before, "{name}: the same indexes, temp_store and cache size as before the run");
            let crate::db::Conn::Sqlite(c, _) = &store.conn else { panic!("sqlite") };
            let listed: i64 = c
                .query_row("SELECT COUNT(*) FROM findings INDEXED BY findings_listing WHERE status = 'open'", [], |r| r.get(0))
                .expect("listing index");
            assert_eq!(listed, 3_000, "{name}");
        }
    }

    #[test]
    fn a_large_database_widens_the_cache_for_the_run() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(super::run_cache_kib(100 * MIB, 64 * 1024), None, "a small database keeps the usual 64 MiB");
        assert_eq!(super::run_cache_kib(400 * MIB, 64 * 1024), Some(100 * 1024));
        assert_eq!(super::run_cache_kib(10_000 * MIB, 64 * 1024), Some(1024 * 1024), "at most 1 GiB");
    }
}
