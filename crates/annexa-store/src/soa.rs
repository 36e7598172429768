//! The Statement of Applicability as stored: what people recorded per control or clause
//! (each change a `soa-changed` ledger entry with the entry before and after), approved
//! versions kept whole (a `soa-approved` entry holds their SHA-256), and what the rows need
//! from the rest of the store: each check's latest result and the ledger entries that
//! evidence a row, with the checkpoint that covers each.

use crate::db::Tx;
use crate::{instant, Store, StoreError};
use annexa_core::soa::{CheckResult, Implementation, InclusionReason, LedgerReference, SoaEntry};
use annexa_core::time::Instant;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// An approved version of the SoA.
#[derive(Debug, Clone, Serialize)]
pub struct SoaVersion {
    pub version: i64,
    pub approved_at: Instant,
    pub approver: String,
    pub note: Option<String>,
    pub sha256: String,
}

/// What the rows need from the rest of the store.
#[derive(Debug, Clone, Default)]
pub struct SoaEvidence {
    pub checks: BTreeMap<String, CheckResult>,
    pub check_entries: BTreeMap<String, LedgerReference>,
    pub entry_refs: BTreeMap<String, LedgerReference>,
}

fn read_entries(tx: &mut Tx<'_>) -> Result<BTreeMap<String, SoaEntry>, StoreError> {
    let mut out = BTreeMap::new();
    tx.query_each(
        "SELECT control, applicable, reasons, justification, status, implementation, owner, documents, updated_at, updated_by FROM soa_entries",
        &[],
        |r| {
            let control = r.req_text(0)?.to_string();
            let reasons = r
                .req_text(2)?
                .split_whitespace()
                .map(|w| InclusionReason::parse(w).ok_or_else(|| StoreError::Corrupt(format!("SoA reason {w:?}"))))
                .collect::<Result<_, _>>()?;
            let status = match r.text(4)? {
                None => None,
                Some(s) => Some(Implementation::parse(s).ok_or_else(|| StoreError::Corrupt(format!("SoA status {s:?}")))?),
            };
            let documents = serde_json::from_str(r.req_text(7)?).map_err(|e| StoreError::Corrupt(format!("SoA documents: {e}")))?;
            out.insert(
                control.clone(),
                SoaEntry {
                    control,
                    applicable: r.int(1)?.map(|a| a != 0),
                    reasons,
                    justification: r.text(3)?.map(str::to_string),
                    status,
                    implementation: r.text(5)?.map(str::to_string),
                    owner: r.text(6)?.map(str::to_string),
                    documents,
                    updated_at: instant(r.int(8)?),
                    updated_by: r.text(9)?.map(str::to_string),
                },
            );
            Ok(())
        },
    )?;
    Ok(out)
}

/// The data of every ledger entry of `kind`, with its position.
fn entries_of_kind(tx: &mut Tx<'_>, kind: &str) -> Result<Vec<(u64, serde_json::Value)>, StoreError> {
    let mut out = Vec::new();
    tx.query_each("SELECT seq, body FROM ledger_entries WHERE kind = ? ORDER BY seq", &[kind.into()], |r| {
        let body: serde_json::Value =
            serde_json::from_str(r.req_text(1)?).map_err(|e| StoreError::Corrupt(format!("ledger entry: {e}")))?;
        out.push((r.req_int(0)? as u64, body.get("data").cloned().unwrap_or_default()));
        Ok(())
    })?;
    Ok(out)
}

impl Store {
    /// What people recorded, by control or clause.
    pub fn soa_entries(&mut self) -> Result<BTreeMap<String, SoaEntry>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = read_entries(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Records entries (validated by the caller) in one transaction, each a ledger entry.
    pub fn set_soa_entries(&mut self, entries: &[SoaEntry], actor: &str, at: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let before = read_entries(&mut tx)?;
        let mut changes = Vec::new();
        for e in entries {
            let reasons: Vec<&str> = e.reasons.iter().map(|r| r.as_str()).collect();
            let documents = serde_json::to_string(&e.documents).map_err(|e| StoreError::Invalid(e.to_string()))?;
            tx.execute("DELETE FROM soa_entries WHERE control = ?", &[e.control.as_str().into()])?;
            tx.execute(
                "INSERT INTO soa_entries (control, applicable, reasons, justification, status, implementation, owner, documents, updated_at, updated_by) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    e.control.as_str().into(),
                    e.applicable.map(i64::from).into(),
                    reasons.join(" ").as_str().into(),
                    e.justification.as_deref().into(),
                    e.status.map(|s| s.as_str()).into(),
                    e.implementation.as_deref().into(),
                    e.owner.as_deref().into(),
                    documents.as_str().into(),
                    at.timestamp().into(),
                    actor.into(),
                ],
            )?;
            let mut after = e.clone();
            after.updated_at = None;
            after.updated_by = None;
            let old = before.get(&e.control).map(|b| {
                let mut b = b.clone();
                b.updated_at = None;
                b.updated_by = None;
                b
            });
            changes.push(crate::ledger::Change {
                kind: "soa-changed",
                data: serde_json::json!({ "control": e.control, "before": old, "after": after }),
            });
        }
        tx.ledger_append(actor, at, &changes)?;
        tx.commit()
    }

    /// Each check's latest result and run ledger entry, and each row's latest change entry.
    pub fn soa_evidence(&mut self) -> Result<SoaEvidence, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = SoaEvidence::default();
        let mut open: BTreeMap<String, i64> = BTreeMap::new();
        tx.query_each("SELECT check_id, COUNT(*) FROM findings WHERE status = 'open' GROUP BY check_id", &[], |r| {
            open.insert(r.req_text(0)?.to_string(), r.req_int(1)?);
            Ok(())
        })?;
        let mut latest_run: BTreeMap<String, i64> = BTreeMap::new();
        tx.query_each("SELECT id, finished_at, checks, not_evaluated FROM audit_runs ORDER BY id", &[], |r| {
            let run = r.req_int(0)?;
            let at = instant(r.int(1)?);
            let ran: Vec<String> = serde_json::from_str(r.req_text(2)?).map_err(|e| StoreError::Corrupt(format!("run checks: {e}")))?;
            let skipped: Vec<serde_json::Value> = serde_json::from_str(r.req_text(3)?).unwrap_or_default();
            for check in ran {
                let n = *open.get(&check).unwrap_or(&0);
                let result = if n == 0 { "passed" } else { "failed" };
                latest_run.insert(check.clone(), run);
                out.checks.insert(check.clone(), CheckResult { check, result: result.into(), open_findings: n, run: Some(run), at });
            }
            for s in skipped {
                if let Some(check) = s.get("check").and_then(|c| c.as_str()) {
                    latest_run.insert(check.to_string(), run);
                    out.checks.insert(
                        check.to_string(),
                        CheckResult { check: check.to_string(), result: "not evaluated".into(), open_findings: 0, run: Some(run), at },
                    );
                }
            }
            Ok(())
        })?;
        let mut checkpoints: Vec<u64> = Vec::new();
        tx.query_each("SELECT size FROM ledger_checkpoints ORDER BY size", &[], |r| {
            checkpoints.push(r.req_int(0)? as u64);
            Ok(())
        })?;
        let covering = |seq: u64| checkpoints.iter().copied().find(|size| *size > seq);
        let mut run_entries: BTreeMap<i64, u64> = BTreeMap::new();
        for (seq, data) in entries_of_kind(&mut tx, "audit-run")? {
            if let Some(run) = data.get("run_id").and_then(|r| r.as_i64()) {
                run_entries.insert(run, seq);
            }
        }
        for (check, run) in latest_run {
            if let Some(seq) = run_entries.get(&run) {
                out.check_entries.insert(check, LedgerReference { seq: *seq, kind: "audit-run".into(), checkpoint: covering(*seq) });
            }
        }
        for (seq, data) in entries_of_kind(&mut tx, "soa-changed")? {
            if let Some(control) = data.get("control").and_then(|c| c.as_str()) {
                out.entry_refs.insert(control.to_string(), LedgerReference { seq, kind: "soa-changed".into(), checkpoint: covering(seq) });
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Approves the SoA as `rows` (its JSON) shows it: the next version, and its ledger entry.
    pub fn approve_soa(
        &mut self,
        rows: &str,
        approver: &str,
        note: Option<&str>,
        actor: &str,
        at: Instant,
    ) -> Result<SoaVersion, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut version = 1;
        tx.query_each("SELECT COALESCE(MAX(version), 0) + 1 FROM soa_versions", &[], |r| {
            version = r.req_int(0)?;
            Ok(())
        })?;
        let sha256 = annexa_core::to_hex(&Sha256::digest(rows.as_bytes()));
        tx.execute(
            "INSERT INTO soa_versions (version, approved_at, approver, note, rows, sha256) VALUES (?, ?, ?, ?, ?, ?)",
            &[version.into(), at.timestamp().into(), approver.into(), note.into(), rows.into(), sha256.as_str().into()],
        )?;
        let data = serde_json::json!({ "version": version, "approver": approver, "note": note, "rows_sha256": sha256 });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "soa-approved", data }])?;
        tx.commit()?;
        Ok(SoaVersion { version, approved_at: at, approver: approver.to_string(), note: note.map(str::to_string), sha256 })
    }

    /// The approved versions, oldest first.
    pub fn soa_versions(&mut self) -> Result<Vec<SoaVersion>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each("SELECT version, approved_at, approver, note, sha256 FROM soa_versions ORDER BY version", &[], |r| {
            out.push(SoaVersion {
                version: r.req_int(0)?,
                approved_at: instant(r.int(1)?).unwrap_or_default(),
                approver: r.req_text(2)?.to_string(),
                note: r.text(3)?.map(str::to_string),
                sha256: r.req_text(4)?.to_string(),
            });
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// An approved version's rows (JSON), checked against the hash recorded with it.
    pub fn soa_version_rows(&mut self, version: i64) -> Result<String, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each("SELECT rows, sha256 FROM soa_versions WHERE version = ?", &[version.into()], |r| {
            out = Some((r.req_text(0)?.to_string(), r.req_text(1)?.to_string()));
            Ok(())
        })?;
        tx.commit()?;
        let (rows, sha) = out.ok_or_else(|| StoreError::NotFound(format!("there is no approved SoA version {version}")))?;
        if annexa_core::to_hex(&Sha256::digest(rows.as_bytes())) != sha {
            return Err(StoreError::Corrupt(format!("SoA version {version} does not match the hash recorded when it was approved")));
        }
        Ok(rows)
    }
}

impl Store {
    /// The ledger entry that last recorded each finding of `ids` (opened or regraded).
    pub fn finding_ledger_entries(&mut self, ids: &std::collections::HashSet<String>) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = BTreeMap::new();
        for kind in ["findings-opened", "findings-regraded"] {
            for (seq, data) in entries_of_kind(&mut tx, kind)? {
                for item in data.get("findings").and_then(|f| f.as_array()).into_iter().flatten() {
                    let id = item.as_str().or_else(|| item.get("id").and_then(|i| i.as_str()));
                    if let Some(id) = id.filter(|id| ids.contains(*id)) {
                        let slot = out.entry(id.to_string()).or_insert(seq);
                        *slot = (*slot).max(seq);
                    }
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }
}
