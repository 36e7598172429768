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

/// Which findings to list.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// `None` lists every status.
    pub status: Option<FindingStatus>,
    pub check: Option<String>,
    pub min_severity: Option<Severity>,
    pub control: Option<String>,
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
            "CREATE TEMP TABLE IF NOT EXISTS findings_stage (id TEXT, check_id TEXT, severity TEXT, subject_kind TEXT, \
             subject_key TEXT, subject_label TEXT, controls TEXT, message TEXT, evidence TEXT)",
            &[],
        )?;
        tx.execute("DELETE FROM findings_stage", &[])?;
        let encoded: Vec<(&Finding, String, String)> =
            run.findings.iter().map(|f| (f, f.controls.join(" "), json(&f.evidence))).collect();
        tx.bulk_insert(
            "findings_stage",
            &["id", "check_id", "severity", "subject_kind", "subject_key", "subject_label", "controls", "message", "evidence"],
            &encoded,
            |(f, controls, evidence), v| {
                v.extend([
                    Value::from(f.id.as_str()),
                    f.check.as_str().into(),
                    f.severity.as_str().into(),
                    f.subject.kind.as_str().into(),
                    f.subject.key.as_str().into(),
                    f.subject.label.as_str().into(),
                    controls.as_str().into(),
                    f.message.as_str().into(),
                    evidence.as_str().into(),
                ])
            },
        )?;
        tx.execute(
            "INSERT INTO findings (id, check_id, severity, subject_kind, subject_key, subject_label, controls, message, \
             evidence, status, first_run, last_run, resolved_run) \
             SELECT id, check_id, severity, subject_kind, subject_key, subject_label, controls, message, evidence, \
             'open', ?, ?, NULL FROM findings_stage WHERE true \
             ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, subject_label = excluded.subject_label, \
             controls = excluded.controls, message = excluded.message, evidence = excluded.evidence, \
             status = 'open', last_run = excluded.last_run, resolved_run = NULL",
            &[run_id.into(), run_id.into()],
        )?;
        let mut changes: Vec<(&str, &str)> = Vec::with_capacity(run.findings.len() + resolved_ids.len());
        changes.extend(new.iter().map(|id| (id.as_str(), "new")));
        changes.extend(still_open.iter().map(|id| (id.as_str(), "open")));
        changes.extend(resolved_ids.iter().map(|id| (id.as_str(), "resolved")));
        tx.bulk_insert("run_findings", &["run_id", "finding_id", "change"], &changes, |(id, change), v| {
            v.extend([Value::from(run_id), (*id).into(), (*change).into()])
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
        let mut tx = self.conn.transaction()?;
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

    /// Stored findings matching `filter`, most severe first.
    pub fn findings(&mut self, filter: &FindingFilter) -> Result<Vec<StoredFinding>, StoreError> {
        let mut sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE 1 = 1");
        let mut params: Vec<Value<'_>> = Vec::new();
        let status = filter.status.map(|s| match s {
            FindingStatus::Open => "open",
            FindingStatus::Resolved => "resolved",
        });
        if let Some(s) = status {
            sql.push_str(" AND status = ?");
            params.push(s.into());
        }
        if let Some(c) = &filter.check {
            sql.push_str(" AND check_id = ?");
            params.push(c.as_str().into());
        }
        let mut tx = self.conn.transaction()?;
        let mut out = Vec::new();
        tx.query_each(&sql, &params, |r| {
            let f = stored_finding(r)?;
            let severe_enough = filter.min_severity.is_none_or(|min| f.finding.severity >= min);
            let has_control = filter.control.as_ref().is_none_or(|c| f.finding.controls.iter().any(|x| x == c));
            if severe_enough && has_control {
                out.push(f);
            }
            Ok(())
        })?;
        tx.commit()?;
        out.sort_by(|a, b| {
            b.finding
                .severity
                .cmp(&a.finding.severity)
                .then_with(|| a.finding.check.cmp(&b.finding.check))
                .then_with(|| a.finding.subject.key.cmp(&b.finding.subject.key))
        });
        Ok(out)
    }

    /// One finding by id (a unique prefix of at least 6 characters is enough).
    pub fn finding(&mut self, id: &str) -> Result<Option<StoredFinding>, StoreError> {
        let mut tx = self.conn.transaction()?;
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
            return Err(StoreError::Conflict(format!("finding id {id:?} is ambiguous; give more characters")));
        }
        Ok(out.pop())
    }

    /// Counts of open findings per check (for summaries).
    pub fn open_counts(&mut self) -> Result<HashMap<String, i64>, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut out = HashMap::new();
        tx.query_each("SELECT check_id, COUNT(*) FROM findings WHERE status = 'open' GROUP BY check_id", &[], |r| {
            out.insert(r.req_text(0)?.to_string(), r.req_int(1)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }
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
