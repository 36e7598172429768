//! Audit runs and findings, read back: listed, paged and filtered in SQL, streamed. (Storing
//! a run is `run.rs`.)

use crate::db::{DbRow, Value};
use crate::lifecycle::{handling_columns, overdue_sql, read_handling, state_sql, DueDays, Handling, HANDLING_JOINS};
use crate::{instant, Store, StoreError};
use annexa_core::finding::{Evidence, Finding, FindingState, Severity, Subject, SubjectKind};
use annexa_core::time::Instant;
use serde::Serialize;
use std::collections::HashMap;

/// A stored run, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub started_at: Instant,
    /// When it finished (none while it runs).
    pub finished_at: Option<Instant>,
    pub as_of: Instant,
    pub checks: Vec<String>,
    pub total: i64,
    pub new: i64,
    pub still_open: i64,
    pub resolved: i64,
    /// The checks that could not judge, with why: `[{"check", "reason"}]`.
    pub not_evaluated: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Resolved,
}

/// A finding with its history.
#[derive(Debug, Clone, Serialize)]
pub struct StoredFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub status: FindingStatus,
    pub first_run: i64,
    pub last_run: i64,
    pub resolved_run: Option<i64>,
    /// Where it is in its lifecycle (open, acknowledged, accepted, ...): `status` is what
    /// the audits see, this what people decided too.
    pub state: FindingState,
    #[serde(flatten)]
    pub handling: Handling,
}

/// Which findings to list, and which page of them. Everything is decided in SQL: the
/// rows of other pages are never read.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// `None` lists every status (ignored with `run`: a run reported open findings).
    pub status: Option<FindingStatus>,
    pub check: Option<String>,
    pub min_severity: Option<Severity>,
    /// Findings that evidence any of these 2022 controls (the caller maps 2013 ids).
    pub controls: Vec<String>,
    /// Findings about subjects of this system.
    pub system: Option<String>,
    /// Findings about this subject key, or about subjects under it (`corp-ad/jdoe` also
    /// finds the assignments `corp-ad/jdoe/…`).
    pub subject: Option<String>,
    /// The findings audit run `run` reported, as it reported them, instead of the latest.
    pub run: Option<i64>,
    /// Only findings in this lifecycle state (the latest findings only, not with `run`).
    pub state: Option<FindingState>,
    /// Only findings someone still has to act on that are past their due date at this
    /// instant (the latest findings only).
    pub overdue_at: Option<Instant>,
    /// Days to a finding's due date by severity, from the configuration (none: only the
    /// due dates people set).
    pub due_days: DueDays,
    /// At most this many (all when `None`), after skipping `offset`.
    pub limit: Option<u64>,
    pub offset: u64,
}

/// One page of findings, and how many match in all.
#[derive(Debug, Clone, Serialize)]
pub struct FindingPage {
    pub total: u64,
    pub offset: u64,
    pub findings: Vec<StoredFinding>,
}

/// A finding's latest state, with its latest body (message, label, evidence), then its
/// handling (`lifecycle.rs`). The body is in the finding's own row while it has only its
/// first version, kept there by a run that appended it (`run.rs`, `append_rows`).
fn finding_columns(days: &DueDays) -> String {
    format!("f.id, f.check_id, COALESCE(f.packed, v.packed), f.status, f.first_run, f.last_run, f.resolved_run, {}", handling_columns(days))
}
const LATEST: &str = "findings f LEFT JOIN finding_versions v ON v.finding_id = f.id AND v.sha256 = f.version \
    LEFT JOIN finding_workflow w ON w.finding_id = f.id LEFT JOIN audit_runs o ON o.id = COALESCE(f.reopened_run, f.first_run)";
/// The findings run `?` (three times) reported, as it reported them: each finding's latest
/// change up to the run, unless it was its resolution, with that change's version; and the
/// findings first reported by then that have not changed since (their first version still
/// in their own row, `run.rs`, `append_rows`). Which of them the run reported is then a
/// matter of the checks it ran (`listing`).
const OF_RUN: &str = "(SELECT rf.finding_id AS finding_id, v.check_id AS check_id, v.severity_rank AS severity_rank, \
    v.system AS system, v.subject_key AS subject_key, v.controls AS controls, v.packed AS packed \
    FROM run_findings rf JOIN finding_versions v ON v.finding_id = rf.finding_id AND v.sha256 = rf.version \
    WHERE rf.run_id <= ? AND rf.change <> 'resolved' \
    AND rf.run_id = (SELECT MAX(x.run_id) FROM run_findings x WHERE x.finding_id = rf.finding_id AND x.run_id <= ?) \
    UNION ALL SELECT i.id, i.check_id, i.severity_rank, i.system, i.subject_key, i.controls, i.packed \
    FROM findings i WHERE i.packed IS NOT NULL AND i.first_run <= ?) v";

impl Store {
    /// The most recent runs, newest first.
    pub fn runs(&mut self, limit: i64) -> Result<Vec<RunSummary>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            "SELECT id, started_at, as_of, checks, total, new_count, still_open_count, resolved_count, not_evaluated, finished_at \
             FROM audit_runs ORDER BY id DESC LIMIT ?",
            &[limit.into()],
            |r| {
                let json = |i: usize| -> Result<serde_json::Value, StoreError> {
                    serde_json::from_str(r.req_text(i)?).map_err(|e| StoreError::Corrupt(e.to_string()))
                };
                out.push(RunSummary {
                    id: r.req_int(0)?,
                    started_at: instant(r.int(1)?).unwrap_or_default(),
                    as_of: instant(r.int(2)?).unwrap_or_default(),
                    checks: serde_json::from_value(json(3)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    total: r.req_int(4)?,
                    new: r.req_int(5)?,
                    still_open: r.req_int(6)?,
                    resolved: r.req_int(7)?,
                    not_evaluated: json(8)?,
                    finished_at: instant(r.int(9)?),
                });
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Stored findings matching `filter`, most severe first (then by check, subject and
    /// id): every page of them, as [`Store::findings_page`] reads one.
    pub fn findings(&mut self, filter: &FindingFilter) -> Result<Vec<StoredFinding>, StoreError> {
        Ok(self.findings_page(filter)?.findings)
    }

    /// One page of the findings matching `filter`, in listing order (most severe first,
    /// then by check, subject and id), with how many match in all. Filtering, sorting and
    /// paging happen in SQL, so a page costs what it holds, not what the database holds.
    pub fn findings_page(&mut self, filter: &FindingFilter) -> Result<FindingPage, StoreError> {
        let mut findings = Vec::new();
        let total = self.findings_each(filter, true, |f| {
            findings.push(f);
            Ok(())
        })?;
        Ok(FindingPage { total: total.unwrap_or_default(), offset: filter.offset, findings })
    }

    /// How many findings are open, by severity (for monitoring).
    pub fn open_findings_by_severity(&mut self) -> Result<Vec<(Severity, u64)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each("SELECT severity_rank, count(*) FROM findings WHERE status = 'open' GROUP BY severity_rank", &[], |r| {
            let rank = r.req_int(0)?;
            let severity = Severity::ALL.iter().copied().find(|s| s.rank() == rank);
            out.push((severity.ok_or_else(|| StoreError::Corrupt(format!("finding severity rank {rank}")))?, r.req_int(1)? as u64));
            Ok(())
        })?;
        tx.commit()?;
        out.sort();
        Ok(out)
    }

    /// Calls `each` for every finding matching `filter`, in listing order, streaming: rows
    /// are read and handed on one at a time, never collected. With `count`, first counts
    /// them all (the total a page is part of).
    pub fn findings_each(
        &mut self,
        filter: &FindingFilter,
        count: bool,
        mut each: impl FnMut(StoredFinding) -> Result<(), StoreError>,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        if let Some(run) = filter.run {
            if filter.state.is_some() || filter.overdue_at.is_some() {
                return Err(StoreError::Invalid(format!(
                    "the findings of audit run #{run} are listed as it reported them; lifecycle states and due dates are the latest findings'"
                )));
            }
            let mut exists = false;
            tx.query_each("SELECT id FROM audit_runs WHERE id = ?", &[run.into()], |_| {
                exists = true;
                Ok(())
            })?;
            if !exists {
                return Err(StoreError::NotFound(format!("no audit run #{run}")));
            }
        }
        let mut shared = Shared::load(&mut tx)?;
        // What the latest run reported is what is open now of the checks it ran: read from
        // the findings' latest state. An earlier run's report is rebuilt from the changes.
        let mut filter = filter.clone();
        let mut only_checks = None;
        if let Some(run) = filter.run {
            only_checks = Some(shared.checks_of(run));
            if Some(run) == shared.latest_run() {
                filter.run = None;
                filter.status = Some(FindingStatus::Open);
            } else {
                refuse_unversioned(&mut tx, run)?;
            }
        }
        let filter = &filter;
        let (from, alias, where_sql, mut params) = listing(filter, only_checks.as_deref());
        let mut total = None;
        if count {
            let from = count_from(filter, from);
            tx.query_each(&format!("SELECT COUNT(*) FROM {from} WHERE {where_sql}"), &bind(&params), |r| {
                total = Some(r.req_int(0)? as u64);
                Ok(())
            })?;
        }
        params.push(Param::Int(filter.limit.map_or(i64::MAX, |l| l.min(i64::MAX as u64) as i64)));
        params.push(Param::Int(filter.offset.min(i64::MAX as u64) as i64));
        let page_params = bind(&params);
        let order = format!(
            "{alias}.severity_rank DESC, {alias}.check_id, {alias}.subject_key, {alias}.{id}",
            id = if filter.run.is_some() { "finding_id" } else { "id" }
        );
        if let Some(run) = filter.run {
            let sql = format!(
                "SELECT v.packed, f.status, f.first_run, f.last_run, f.resolved_run, {} FROM {from} \
                 LEFT JOIN findings f ON f.id = v.finding_id {HANDLING_JOINS} WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?",
                handling_columns(&filter.due_days)
            );
            tx.query_each(&sql, &page_params, |r| {
                let mut finding = crate::run::finding_of_body(&crate::run::unpack(r.blob(0)?)?)?;
                shared.complete(&mut finding.evidence, &finding.check, run);
                let last_run = match r.text(1)? {
                    Some("open") => shared.last_run_of(&finding.check),
                    _ => r.int(3)?.unwrap_or_default(),
                };
                let (state, handling) = read_handling(r, 5, r.text(1)? != Some("resolved"))?;
                each(StoredFinding {
                    finding,
                    status: if r.text(1)? == Some("resolved") { FindingStatus::Resolved } else { FindingStatus::Open },
                    first_run: r.int(2)?.unwrap_or_default(),
                    last_run,
                    resolved_run: r.int(4)?,
                    state,
                    handling,
                })
            })?;
        } else {
            let sql =
                format!("SELECT {} FROM {from} WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?", finding_columns(&filter.due_days));
            tx.query_each(&sql, &page_params, |r| each(stored_finding(r, &mut shared)?))?;
        }
        tx.commit()?;
        Ok(total)
    }

    /// The ids of the latest findings `filter` selects (its `run`, `limit` and `offset`
    /// aside), in id order: what a decision about "these findings" applies to.
    pub fn finding_ids(&mut self, filter: &FindingFilter) -> Result<Vec<String>, StoreError> {
        let filter = FindingFilter { run: None, limit: None, offset: 0, ..filter.clone() };
        let (from, _, where_sql, params) = listing(&filter, None);
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(&format!("SELECT f.id FROM {from} WHERE {where_sql} ORDER BY f.id"), &bind(&params), |r| {
            out.push(r.req_text(0)?.to_string());
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// The ids of the findings run `run` recorded with `change` (`new`, `open` or
    /// `resolved`), in id order, streaming.
    pub fn run_finding_ids(
        &mut self,
        run: i64,
        change: &str,
        mut each: impl FnMut(&str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut tx = self.conn.read_transaction()?;
        // A run's new findings are rows of `run_findings`, or those whose first version is
        // still in their own row (`OF_RUN`), which only a search of every finding finds
        // (no index names them: a first audit would build it for nothing). So the rows are
        // counted first, by their key, and the search made only when they are not all of the
        // run's new findings: on a large organisation's daily run, never.
        let mut in_rows = change != "new";
        if !in_rows {
            let mut counts = (0, 0);
            tx.query_each(
                "SELECT (SELECT new_count FROM audit_runs WHERE id = ?), \
                 (SELECT COUNT(*) FROM run_findings WHERE run_id = ? AND change = 'new')",
                &[run.into(), run.into()],
                |r| {
                    counts = (r.int(0)?.unwrap_or_default(), r.req_int(1)?);
                    Ok(())
                },
            )?;
            in_rows = counts.1 >= counts.0;
        }
        if !in_rows {
            tx.query_each(
                "SELECT finding_id FROM run_findings WHERE run_id = ? AND change = 'new' \
                 UNION ALL SELECT id FROM findings WHERE first_run = ? AND packed IS NOT NULL ORDER BY 1",
                &[run.into(), run.into()],
                |r| each(r.req_text(0)?),
            )?;
        } else {
            tx.query_each(
                "SELECT finding_id FROM run_findings WHERE run_id = ? AND change = ? ORDER BY finding_id",
                &[run.into(), change.into()],
                |r| each(r.req_text(0)?),
            )?;
        }
        tx.commit()
    }

    /// The ids of the open findings, streaming: what an evidence pack holds, without
    /// reading each finding's evidence.
    pub fn open_finding_ids(&mut self, mut each: impl FnMut(&str) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut tx = self.conn.read_transaction()?;
        tx.query_each("SELECT id FROM findings WHERE status = 'open'", &[], |r| each(r.req_text(0)?))?;
        tx.commit()
    }

    /// One finding by id (a unique prefix of at least 6 characters is enough).
    pub fn finding(&mut self, id: &str) -> Result<Option<StoredFinding>, StoreError> {
        self.finding_due(id, &DueDays::default())
    }

    /// One finding by id, its due date from `days` when nobody set one.
    pub fn finding_due(&mut self, id: &str, days: &DueDays) -> Result<Option<StoredFinding>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut shared = Shared::load(&mut tx)?;
        let mut out = Vec::new();
        let pattern = format!("{id}%");
        if id.len() >= 6 {
            tx.query_each(
                &format!("SELECT {} FROM {LATEST} WHERE f.id LIKE ? ORDER BY f.id LIMIT 2", finding_columns(days)),
                &[pattern.as_str().into()],
                |r| {
                    out.push(stored_finding(r, &mut shared)?);
                    Ok(())
                },
            )?;
        }
        tx.commit()?;
        if out.len() > 1 {
            return Err(StoreError::Invalid(format!("finding id {id:?} is ambiguous; give more characters")));
        }
        Ok(out.pop())
    }

    /// Open findings someone still has to act on (not accepted or dismissed), counted per
    /// subject key: the context a review item shows. The findings that only ask for a
    /// review (`certification-overdue`, `mover-access-review`) are what a campaign answers,
    /// not a problem of the access, so they are not counted.
    pub fn open_findings_by_subject(&mut self) -> Result<HashMap<String, u32>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = HashMap::new();
        tx.query_each(
            "SELECT f.subject_key, COUNT(*) FROM findings f LEFT JOIN finding_workflow w ON w.finding_id = f.id \
             WHERE f.status = 'open' AND (w.state IS NULL OR w.state IN ('acknowledged', 'reopened')) \
             AND f.check_id NOT IN ('certification-overdue', 'mover-access-review') GROUP BY f.subject_key",
            &[],
            |r| {
                out.insert(r.req_text(0)?.to_string(), r.req_int(1)?.clamp(0, i64::from(u32::MAX)) as u32);
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Counts of open findings per check (for summaries).
    pub fn open_counts(&mut self) -> Result<HashMap<String, i64>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = HashMap::new();
        tx.query_each("SELECT check_id, COUNT(*) FROM findings WHERE status = 'open' GROUP BY check_id", &[], |r| {
            out.insert(r.req_text(0)?.to_string(), r.req_int(1)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }
}

/// What stored findings share and their bodies leave out (see `run.rs`): each import's file
/// and SHA-256, each run's as-of instant and check parameters. Read once per query.
struct Shared {
    imports: HashMap<i64, (String, String)>,
    /// Per run: the as-of instant, and the parameters (as stored, parsed when first needed).
    runs: HashMap<i64, (Option<Instant>, String)>,
    parameters: HashMap<i64, serde_json::Map<String, serde_json::Value>>,
    /// Per run, the checks it ran (as stored); per check, the latest run that ran it.
    checks: HashMap<i64, String>,
    last_run: HashMap<String, i64>,
}

impl Shared {
    fn load(tx: &mut crate::db::Tx<'_>) -> Result<Shared, StoreError> {
        let mut imports = HashMap::new();
        tx.query_each("SELECT id, file, sha256 FROM imports", &[], |r| {
            imports.insert(r.req_int(0)?, (r.req_text(1)?.to_string(), r.req_text(2)?.to_string()));
            Ok(())
        })?;
        let mut runs = HashMap::new();
        let mut checks = HashMap::new();
        let mut last_run: HashMap<String, i64> = HashMap::new();
        tx.query_each("SELECT id, as_of, parameters, checks FROM audit_runs", &[], |r| {
            let id = r.req_int(0)?;
            runs.insert(id, (instant(r.int(1)?), r.req_text(2)?.to_string()));
            let ran: Vec<String> = serde_json::from_str(r.req_text(3)?).unwrap_or_default();
            for c in ran {
                let latest = last_run.entry(c).or_insert(id);
                *latest = (*latest).max(id);
            }
            checks.insert(id, r.req_text(3)?.to_string());
            Ok(())
        })?;
        Ok(Shared { imports, runs, parameters: HashMap::new(), checks, last_run })
    }

    /// The newest run.
    fn latest_run(&self) -> Option<i64> {
        self.runs.keys().max().copied()
    }

    /// The checks run `run` ran.
    fn checks_of(&self, run: i64) -> Vec<String> {
        self.checks.get(&run).and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default()
    }

    /// The last run that saw an open finding of `check`: the latest that ran the check (an
    /// open finding not seen by a run of its check would have been resolved by it).
    fn last_run_of(&self, check: &str) -> i64 {
        self.last_run.get(check).copied().unwrap_or_default()
    }

    /// Fills in what the body of a finding of `check` reported by `run` left out: the
    /// records' files and hashes (bodies stored before they were made compact have them),
    /// and the run's as-of instant and parameters.
    fn complete(&mut self, evidence: &mut Evidence, check: &str, run: i64) {
        for r in &mut evidence.records {
            if r.file.is_empty() {
                if let Some((file, sha256)) = self.imports.get(&r.import_id) {
                    r.file.clone_from(file);
                    r.sha256.clone_from(sha256);
                }
            }
        }
        // The run reporting it says as of when, and with which parameters.
        let Some((as_of, parameters)) = self.runs.get(&run) else { return };
        evidence.as_of = *as_of;
        let all = self.parameters.entry(run).or_insert_with(|| serde_json::from_str(parameters).unwrap_or_default());
        if let Some(serde_json::Value::Object(mine)) = all.get(check) {
            evidence.parameters = mine.clone();
        }
    }
}

/// A parameter of a listing query, owned until the query binds it.
#[derive(Debug, Clone)]
enum Param {
    Int(i64),
    Text(String),
}

fn bind(params: &[Param]) -> Vec<Value<'_>> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(i) => Value::from(*i),
            Param::Text(t) => Value::from(t.as_str()),
        })
        .collect()
}

/// The `FROM`, the alias the columns are read through, the `WHERE` and its parameters of
/// a findings listing: the latest findings, or those a run reported as it reported them;
/// of `only_checks` when given.
fn listing(filter: &FindingFilter, only_checks: Option<&[String]>) -> (&'static str, &'static str, String, Vec<Param>) {
    let (from, a) = match filter.run {
        Some(_) => (OF_RUN, "v"),
        None => (LATEST, "f"),
    };
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    match (filter.run, filter.status) {
        (Some(run), _) => {
            // The run's place in `OF_RUN`, which comes before the `WHERE`.
            params.extend([Param::Int(run), Param::Int(run), Param::Int(run)]);
        }
        (None, Some(s)) => {
            clauses.push("f.status = ?".into());
            params.push(Param::Text(match s {
                FindingStatus::Open => "open".into(),
                FindingStatus::Resolved => "resolved".into(),
            }));
        }
        (None, None) => {}
    }
    if filter.run.is_none() {
        if let Some(state) = filter.state {
            clauses.push(state_sql(state));
        }
        if let Some(at) = filter.overdue_at {
            clauses.push(overdue_sql(&filter.due_days));
            params.push(Param::Int(at.timestamp()));
        }
    }
    if let Some(c) = &filter.check {
        clauses.push(format!("{a}.check_id = ?"));
        params.push(Param::Text(c.clone()));
    }
    if let Some(only) = only_checks {
        if only.is_empty() {
            clauses.push("1 = 0".into());
        } else {
            clauses.push(format!("{a}.check_id IN ({})", vec!["?"; only.len()].join(", ")));
            params.extend(only.iter().map(|c| Param::Text(c.clone())));
        }
    }
    if let Some(min) = filter.min_severity {
        clauses.push(format!("{a}.severity_rank >= ?"));
        params.push(Param::Int(min.rank()));
    }
    if !filter.controls.is_empty() {
        // Controls are stored space-separated; padded, each is a whole word.
        let any: Vec<String> = filter.controls.iter().map(|_| format!("(' ' || {a}.controls || ' ') LIKE ?")).collect();
        clauses.push(format!("({})", any.join(" OR ")));
        for c in &filter.controls {
            params.push(Param::Text(format!("% {} %", c.replace(['%', '_'], ""))));
        }
    }
    if let Some(system) = &filter.system {
        clauses.push(format!("{a}.system = ?"));
        params.push(Param::Text(system.clone()));
    }
    if let Some(subject) = &filter.subject {
        // The subject itself, or one under it (its key and a '/' begin theirs).
        // (The length comes from the text itself: PostgreSQL's substr takes a 32-bit one.)
        clauses.push(format!("({a}.subject_key = ? OR substr({a}.subject_key, 1, length(?)) = ?)"));
        let prefix = format!("{subject}/");
        params.push(Param::Text(subject.clone()));
        params.push(Param::Text(prefix.clone()));
        params.push(Param::Text(prefix));
    }
    let where_sql = if clauses.is_empty() { "1 = 1".to_string() } else { clauses.join(" AND ") };
    (from, a, where_sql, params)
}

/// Refuses to list run `run` as it reported when it was recorded before each run's
/// findings were kept with their versions (migration 9; migration 10 gave each finding's
/// latest change its version, so such a run may be partly versioned). The latest run is
/// never asked: it is listed from the findings' latest state, and its every change is some
/// finding's latest, so it has them all. (Counting a first audit's quarter of a million
/// rows for this took a lookup each, on every audit's summary.)
fn refuse_unversioned(tx: &mut crate::db::Tx<'_>, run: i64) -> Result<(), StoreError> {
    let mut unversioned = 0;
    tx.query_each("SELECT COUNT(*) FROM run_findings WHERE run_id = ? AND change <> 'resolved' AND version IS NULL", &[run.into()], |r| {
        unversioned = r.req_int(0)?;
        Ok(())
    })?;
    if unversioned > 0 {
        return Err(StoreError::Conflict(format!(
            "audit run #{run} was recorded before Annexa kept each run's findings as reported; only runs since can be listed"
        )));
    }
    Ok(())
}

/// What a count of `listing`'s rows reads: the latest findings' table alone, unless the
/// filter asks for a lifecycle state or a due date. The other joins find at most one row
/// each (by unique keys), so they change no count, and each would cost a lookup per
/// finding: counting a first audit's quarter of a million findings through them took seconds.
fn count_from(filter: &FindingFilter, from: &'static str) -> &'static str {
    if from != LATEST || filter.state.is_some() || filter.overdue_at.is_some() {
        from
    } else {
        "findings f"
    }
}

fn stored_finding(r: &DbRow<'_>, shared: &mut Shared) -> Result<StoredFinding, StoreError> {
    let id = r.req_text(0)?;
    let packed = r.opt_blob(2)?.ok_or_else(|| StoreError::Corrupt(format!("finding {id} has no stored version")))?;
    let mut finding = crate::run::finding_of_body(&crate::run::unpack(packed)?)?;
    let open = r.req_text(3)? == "open";
    let last_run = if open { shared.last_run_of(&finding.check) } else { r.req_int(5)? };
    shared.complete(&mut finding.evidence, &finding.check, last_run);
    finding.id = id.to_string();
    finding.check = r.req_text(1)?.to_string();
    let (state, handling) = read_handling(r, 7, open)?;
    Ok(StoredFinding {
        finding,
        status: if open { FindingStatus::Open } else { FindingStatus::Resolved },
        first_run: r.req_int(4)?,
        last_run,
        resolved_run: r.int(6)?,
        state,
        handling,
    })
}

/// Migration 9: the `system` column of the findings stored before it, from their subjects.
pub(crate) fn fill_finding_systems(tx: &mut crate::db::Tx<'_>) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    tx.query_each("SELECT id, subject_kind, subject_key FROM findings", &[], |r| {
        let subject = Subject {
            kind: SubjectKind::parse(r.req_text(1)?).ok_or_else(|| StoreError::Corrupt("finding subject kind".into()))?,
            key: r.req_text(2)?.to_string(),
            label: String::new(),
        };
        if let Some(system) = subject.system() {
            rows.push((r.req_text(0)?.to_string(), system));
        }
        Ok(())
    })?;
    for (id, system) in &rows {
        tx.execute("UPDATE findings SET system = ? WHERE id = ?", &[system.as_str().into(), id.as_str().into()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing is answered by walking `findings_listing` in order: a page reads its own
    /// rows (and those it skips), never the whole table, and no sort happens outside it.
    #[test]
    fn the_default_listing_walks_the_index_in_order() {
        let mut store = Store::open("sqlite::memory:").expect("open");
        for filter in [
            FindingFilter { status: Some(FindingStatus::Open), limit: Some(50), offset: 1000, ..Default::default() },
            FindingFilter {
                status: Some(FindingStatus::Resolved),
                min_severity: Some(Severity::High),
                limit: Some(50),
                ..Default::default()
            },
        ] {
            let (from, alias, where_sql, params) = listing(&filter, None);
            let order = format!("{alias}.severity_rank DESC, {alias}.check_id, {alias}.subject_key, {alias}.id");
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT {} FROM {from} WHERE {where_sql} ORDER BY {order} LIMIT 50 OFFSET 1000",
                finding_columns(&[None, Some(180), Some(90), Some(30), Some(7)])
            );
            let mut tx = store.conn.read_transaction().expect("tx");
            let mut plan = String::new();
            tx.query_each(&sql, &bind(&params), |r| {
                plan.push_str(r.req_text(3)?);
                plan.push('\n');
                Ok(())
            })
            .expect("plan");
            assert!(plan.contains("USING INDEX findings_listing"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "sorted outside the index: {plan}");
        }
    }
}
