//! Audit runs and findings: storing a run, telling new / still open / resolved, reading back.

use crate::db::{DbRow, Value};
use crate::{instant, Store, StoreError};
use annexa_core::finding::{Evidence, Finding, Severity, Subject, SubjectKind};
use annexa_core::model::ImportRecord;
use annexa_core::time::Instant;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One evaluation, to be stored with its findings.
pub struct RunInput<'a> {
    /// Who ran it (recorded in the ledger).
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

/// What a stored run changed.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub run_id: i64,
    pub new: Vec<String>,
    pub still_open: Vec<String>,
    pub resolved: Vec<StoredFinding>,
}

/// A stored run, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub started_at: Instant,
    pub as_of: Instant,
    pub checks: Vec<String>,
    pub total: i64,
    pub new: i64,
    pub still_open: i64,
    pub resolved: i64,
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
}

/// A finding as a run stores it: the columns it is listed by, and its version.
struct Encoded<'f> {
    f: &'f Finding,
    controls: String,
    evidence: String,
    system: String,
    version: String,
    body: String,
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

const FINDING_COLUMNS: &str = "id, check_id, severity, subject_kind, subject_key, subject_label, controls, message, \
                               evidence, status, first_run, last_run, resolved_run";

impl Store {
    /// Stores a run and its findings in one transaction and returns what changed since
    /// the previous run: new findings, still open ones, and resolved ones.
    pub fn record_run(&mut self, run: &RunInput<'_>) -> Result<RunOutcome, StoreError> {
        let mut tx = self.conn.transaction()?;
        let ran: HashSet<&str> = run.checks.iter().map(String::as_str).collect();
        let mut open_before: HashSet<String> = HashSet::new();
        tx.query_each("SELECT id, check_id FROM findings WHERE status = 'open'", &[], |r| {
            if ran.contains(r.req_text(1)?) {
                open_before.insert(r.req_text(0)?.to_string());
            }
            Ok(())
        })?;
        let current: HashSet<&str> = run.findings.iter().map(|f| f.id.as_str()).collect();
        let new: Vec<String> = run.findings.iter().filter(|f| !open_before.contains(&f.id)).map(|f| f.id.clone()).collect();
        let still_open: Vec<String> =
            run.findings.iter().filter(|f| open_before.contains(&f.id)).map(|f| f.id.clone()).collect();
        let mut resolved_ids: Vec<String> = open_before.iter().filter(|id| !current.contains(id.as_str())).cloned().collect();
        resolved_ids.sort();

        let json = |v: &dyn erased::Json| v.to_json();
        let checks_json = json(&run.checks);
        let imports_json = json(&run.imports);
        let run_id = tx.insert_returning_id(
            "INSERT INTO audit_runs (started_at, finished_at, as_of, checks, imports, parameters, total, new_count, \
             still_open_count, resolved_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                run.started_at.timestamp().into(),
                run.finished_at.timestamp().into(),
                run.as_of.timestamp().into(),
                checks_json.as_str().into(),
                imports_json.as_str().into(),
                run.parameters.into(),
                (run.findings.len() as i64).into(),
                (new.len() as i64).into(),
                (still_open.len() as i64).into(),
                (resolved_ids.len() as i64).into(),
            ],
        )?;

        // Stage this run's findings, then merge them in one statement: fast on both engines.
        tx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS findings_stage_v9 (id TEXT, check_id TEXT, severity TEXT, severity_rank BIGINT, \
             system TEXT, subject_kind TEXT, subject_key TEXT, subject_label TEXT, controls TEXT, message TEXT, evidence TEXT, \
             version TEXT, body TEXT)",
            &[],
        )?;
        tx.execute("DELETE FROM findings_stage_v9", &[])?;
        // Each finding as this run reports it, and its version (the SHA-256 of that JSON).
        let encoded: Vec<Encoded<'_>> = run
            .findings
            .iter()
            .map(|f| {
                let body = json(f);
                let version = {
                    use sha2::Digest as _;
                    annexa_core::to_hex(&sha2::Sha256::digest(body.as_bytes()))
                };
                Encoded { f, controls: f.controls.join(" "), evidence: json(&f.evidence), system: f.subject.system().unwrap_or_default(), version, body }
            })
            .collect();
        tx.bulk_insert(
            "findings_stage_v9",
            &["id", "check_id", "severity", "severity_rank", "system", "subject_kind", "subject_key", "subject_label", "controls", "message", "evidence", "version", "body"],
            &encoded,
            |e, v| {
                v.extend([
                    Value::from(e.f.id.as_str()),
                    e.f.check.as_str().into(),
                    e.f.severity.as_str().into(),
                    e.f.severity.rank().into(),
                    e.system.as_str().into(),
                    e.f.subject.kind.as_str().into(),
                    e.f.subject.key.as_str().into(),
                    e.f.subject.label.as_str().into(),
                    e.controls.as_str().into(),
                    e.f.message.as_str().into(),
                    e.evidence.as_str().into(),
                    e.version.as_str().into(),
                    e.body.as_str().into(),
                ])
            },
        )?;
        tx.execute(
            "INSERT INTO findings (id, check_id, severity, severity_rank, system, subject_kind, subject_key, subject_label, \
             controls, message, evidence, status, first_run, last_run, resolved_run) \
             SELECT id, check_id, severity, severity_rank, system, subject_kind, subject_key, subject_label, controls, message, \
             evidence, 'open', ?, ?, NULL FROM findings_stage_v9 WHERE true \
             ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, severity_rank = excluded.severity_rank, \
             subject_label = excluded.subject_label, controls = excluded.controls, message = excluded.message, \
             evidence = excluded.evidence, status = 'open', last_run = excluded.last_run, resolved_run = NULL",
            &[run_id.into(), run_id.into()],
        )?;
        tx.execute(
            "INSERT INTO finding_versions (finding_id, sha256, check_id, severity_rank, system, subject_key, controls, body) \
             SELECT id, version, check_id, severity_rank, system, subject_key, controls, body FROM findings_stage_v9 WHERE true \
             ON CONFLICT (finding_id, sha256) DO NOTHING",
            &[],
        )?;
        let version_of: HashMap<&str, &str> = encoded.iter().map(|e| (e.f.id.as_str(), e.version.as_str())).collect();
        let mut changes: Vec<(&str, &str, Option<&str>)> = Vec::with_capacity(run.findings.len() + resolved_ids.len());
        changes.extend(new.iter().map(|id| (id.as_str(), "new", version_of.get(id.as_str()).copied())));
        changes.extend(still_open.iter().map(|id| (id.as_str(), "open", version_of.get(id.as_str()).copied())));
        changes.extend(resolved_ids.iter().map(|id| (id.as_str(), "resolved", None)));
        tx.bulk_insert("run_findings", &["run_id", "finding_id", "change", "version"], &changes, |(id, change, version), v| {
            v.extend([Value::from(run_id), (*id).into(), (*change).into(), (*version).into()])
        })?;
        tx.execute(
            "UPDATE findings SET status = 'resolved', resolved_run = ? \
             WHERE id IN (SELECT finding_id FROM run_findings WHERE run_id = ? AND change = 'resolved')",
            &[run_id.into(), run_id.into()],
        )?;
        let mut resolved = Vec::new();
        tx.query_each(
            &format!(
                "SELECT {FINDING_COLUMNS} FROM findings WHERE id IN \
                 (SELECT finding_id FROM run_findings WHERE run_id = ? AND change = 'resolved') ORDER BY id"
            ),
            &[run_id.into()],
            |r| {
                resolved.push(stored_finding(r)?);
                Ok(())
            },
        )?;
        // The run, every finding it opened and every finding it resolved, in the ledger.
        let by_id: HashMap<&str, &Finding> = run.findings.iter().map(|f| (f.id.as_str(), f)).collect();
        let mut changes = vec![crate::ledger::Change {
            kind: "audit-run",
            data: serde_json::json!({
                "run_id": run_id,
                "as_of": run.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "checks": run.checks,
                "imports": run.imports.iter().map(|i| serde_json::json!({"import_id": i.id, "sha256": i.sha256})).collect::<Vec<_>>(),
                "findings": run.findings.len(),
                "new": new.len(),
                "still_open": still_open.len(),
                "resolved": resolved.len(),
            }),
        }];
        for id in &new {
            if let Some(f) = by_id.get(id.as_str()) {
                changes.push(crate::ledger::Change {
                    kind: "finding-opened",
                    data: serde_json::json!({
                        "run_id": run_id, "finding_id": f.id, "check": f.check, "severity": f.severity,
                        "subject": f.subject.key, "controls": f.controls, "message": f.message,
                    }),
                });
            }
        }
        for r in &resolved {
            changes.push(crate::ledger::Change {
                kind: "finding-resolved",
                data: serde_json::json!({
                    "run_id": run_id, "finding_id": r.finding.id, "check": r.finding.check, "subject": r.finding.subject.key,
                }),
            });
        }
        tx.ledger_append(run.actor, run.finished_at, &changes)?;
        tx.commit()?;
        Ok(RunOutcome { run_id, new, still_open, resolved })
    }

    /// The most recent runs, newest first.
    pub fn runs(&mut self, limit: i64) -> Result<Vec<RunSummary>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            "SELECT id, started_at, as_of, checks, total, new_count, still_open_count, resolved_count \
             FROM audit_runs ORDER BY id DESC LIMIT ?",
            &[limit.into()],
            |r| {
                out.push(RunSummary {
                    id: r.req_int(0)?,
                    started_at: instant(r.int(1)?).unwrap_or_default(),
                    as_of: instant(r.int(2)?).unwrap_or_default(),
                    checks: serde_json::from_str(r.req_text(3)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    total: r.req_int(4)?,
                    new: r.req_int(5)?,
                    still_open: r.req_int(6)?,
                    resolved: r.req_int(7)?,
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
        let mut tx = self.conn.read_transaction()?;
        if let Some(run) = filter.run {
            let mut exists = false;
            let mut unversioned = 0;
            tx.query_each("SELECT id FROM audit_runs WHERE id = ?", &[run.into()], |_| {
                exists = true;
                Ok(())
            })?;
            if !exists {
                return Err(StoreError::NotFound(format!("no audit run #{run}")));
            }
            tx.query_each("SELECT COUNT(*) FROM run_findings WHERE run_id = ? AND change <> 'resolved' AND version IS NULL", &[run.into()], |r| {
                unversioned = r.req_int(0)?;
                Ok(())
            })?;
            if unversioned > 0 {
                return Err(StoreError::Conflict(format!(
                    "audit run #{run} was recorded before Annexa kept each run's findings as reported; only runs since can be listed"
                )));
            }
        }
        let (from, alias, where_sql, mut params) = listing(filter);
        let mut total = 0u64;
        tx.query_each(&format!("SELECT COUNT(*) FROM {from} WHERE {where_sql}"), &bind(&params), |r| {
            total = r.req_int(0)? as u64;
            Ok(())
        })?;
        params.push(Param::Int(filter.limit.map_or(i64::MAX, |l| l.min(i64::MAX as u64) as i64)));
        params.push(Param::Int(filter.offset.min(i64::MAX as u64) as i64));
        let page_params = bind(&params);
        let order = format!("{alias}.severity_rank DESC, {alias}.check_id, {alias}.subject_key, {alias}.{id}", id = if filter.run.is_some() { "finding_id" } else { "id" });
        let mut findings = Vec::new();
        if filter.run.is_some() {
            let sql = format!(
                "SELECT v.body, f.status, f.first_run, f.last_run, f.resolved_run FROM {from} \
                 LEFT JOIN findings f ON f.id = v.finding_id WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?"
            );
            tx.query_each(&sql, &page_params, |r| {
                let finding: Finding = serde_json::from_str(r.req_text(0)?).map_err(|e| StoreError::Corrupt(format!("finding version: {e}")))?;
                findings.push(StoredFinding {
                    finding,
                    status: if r.text(1)? == Some("resolved") { FindingStatus::Resolved } else { FindingStatus::Open },
                    first_run: r.int(2)?.unwrap_or_default(),
                    last_run: r.int(3)?.unwrap_or_default(),
                    resolved_run: r.int(4)?,
                });
                Ok(())
            })?;
        } else {
            let sql = format!("SELECT {FINDING_COLUMNS} FROM {from} WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?");
            tx.query_each(&sql, &page_params, |r| {
                findings.push(stored_finding(r)?);
                Ok(())
            })?;
        }
        tx.commit()?;
        Ok(FindingPage { total, offset: filter.offset, findings })
    }

    /// One finding by id (a unique prefix of at least 6 characters is enough).
    pub fn finding(&mut self, id: &str) -> Result<Option<StoredFinding>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        let pattern = format!("{id}%");
        if id.len() >= 6 {
            tx.query_each(
                &format!("SELECT {FINDING_COLUMNS} FROM findings WHERE id LIKE ? ORDER BY id LIMIT 2"),
                &[pattern.as_str().into()],
                |r| {
                    out.push(stored_finding(r)?);
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
/// a findings listing: the latest findings, or those a run reported as it reported them.
fn listing(filter: &FindingFilter) -> (&'static str, &'static str, String, Vec<Param>) {
    let (from, a) = match filter.run {
        Some(_) => ("run_findings rf JOIN finding_versions v ON v.finding_id = rf.finding_id AND v.sha256 = rf.version", "v"),
        None => ("findings f", "f"),
    };
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    match (filter.run, filter.status) {
        (Some(run), _) => {
            clauses.push("rf.run_id = ? AND rf.change <> 'resolved'".into());
            params.push(Param::Int(run));
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
    if let Some(c) = &filter.check {
        clauses.push(format!("{a}.check_id = ?"));
        params.push(Param::Text(c.clone()));
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

fn stored_finding(r: &DbRow<'_>) -> Result<StoredFinding, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("finding {what}"));
    let evidence: Evidence = serde_json::from_str(r.req_text(8)?).map_err(|e| corrupt(&format!("evidence: {e}")))?;
    Ok(StoredFinding {
        finding: Finding {
            id: r.req_text(0)?.to_string(),
            check: r.req_text(1)?.to_string(),
            severity: Severity::parse(r.req_text(2)?).ok_or_else(|| corrupt("severity"))?,
            subject: Subject {
                kind: SubjectKind::parse(r.req_text(3)?).ok_or_else(|| corrupt("subject kind"))?,
                key: r.req_text(4)?.to_string(),
                label: r.req_text(5)?.to_string(),
            },
            controls: r.req_text(6)?.split(' ').filter(|c| !c.is_empty()).map(String::from).collect(),
            message: r.req_text(7)?.to_string(),
            evidence,
        },
        status: if r.req_text(9)? == "open" { FindingStatus::Open } else { FindingStatus::Resolved },
        first_run: r.req_int(10)?,
        last_run: r.req_int(11)?,
        resolved_run: r.int(12)?,
    })
}

/// Serialising the few JSON columns without a fallible path at every call.
mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            // INVARIANT: these values are plain data (strings, numbers, maps with string
            // keys), which serde_json always serialises.
            serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
        }
    }
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
            FindingFilter { status: Some(FindingStatus::Resolved), min_severity: Some(Severity::High), limit: Some(50), ..Default::default() },
        ] {
            let (from, alias, where_sql, params) = listing(&filter);
            let order = format!("{alias}.severity_rank DESC, {alias}.check_id, {alias}.subject_key, {alias}.id");
            let sql = format!("EXPLAIN QUERY PLAN SELECT {FINDING_COLUMNS} FROM {from} WHERE {where_sql} ORDER BY {order} LIMIT 50 OFFSET 1000");
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
