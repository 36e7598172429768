//! Nonconformities and corrective actions (ISO/IEC 27001 clause 10.2): the findings of one
//! control grouped under a root cause, or a manual audit observation, with actions (owner,
//! due date, status). One closes only when its actions are done, its findings are
//! remediated, and a later audit of their checks confirmed it (see [`Store::close_nc`]).
//! Every change is a ledger entry in the transaction that makes it.

use crate::db::Tx;
use crate::{instant, Store, StoreError};
use annexa_core::finding::{ActionStatus, FindingState, NcStatus};
use annexa_core::time::Instant;
use serde::Serialize;
use std::collections::HashMap;

/// A nonconformity to open.
#[derive(Debug, Clone, Default)]
pub struct NewNonconformity {
    pub title: String,
    /// The Annex A control (2022 id) its findings evidence; for an observation, optional.
    pub control: Option<String>,
    pub description: String,
    pub root_cause: Option<String>,
    /// Findings (ids or unique prefixes): each must evidence `control`.
    pub findings: Vec<String>,
}

/// A nonconformity as stored, with its findings and actions, and what still keeps it open.
#[derive(Debug, Clone, Serialize)]
pub struct Nonconformity {
    pub id: i64,
    pub title: String,
    pub control: Option<String>,
    pub description: String,
    pub root_cause: Option<String>,
    pub status: NcStatus,
    pub opened_at: Instant,
    pub opened_by: String,
    pub closed_at: Option<Instant>,
    pub closed_by: Option<String>,
    /// The latest audit run when it closed: the one whose results it closed on.
    pub closed_run: Option<i64>,
    pub effectiveness: Option<String>,
    pub findings: Vec<NcFinding>,
    pub actions: Vec<CorrectiveAction>,
    /// Why it cannot close yet (empty when it can, or is closed).
    pub blockers: Vec<String>,
}

/// A finding of a nonconformity, with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct NcFinding {
    pub id: String,
    pub check: String,
    pub state: FindingState,
    /// The audit run that remediated it.
    pub resolved_run: Option<i64>,
    /// A later run of its check still did not see it: the remediation held.
    pub confirmed: bool,
}

/// A corrective action.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectiveAction {
    pub seq: i64,
    pub description: String,
    pub owner: String,
    pub due: Instant,
    pub status: ActionStatus,
    pub updated_at: Instant,
    pub updated_by: String,
}

/// A nonconformity as listed.
#[derive(Debug, Clone, Serialize)]
pub struct NcSummary {
    pub id: i64,
    pub title: String,
    pub control: Option<String>,
    pub status: NcStatus,
    pub opened_at: Instant,
    pub findings: u64,
    pub findings_remediated: u64,
    pub actions: u64,
    pub actions_done: u64,
}

fn required(what: &str, text: &str) -> Result<(), StoreError> {
    if text.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what} is required")));
    }
    Ok(())
}

impl Store {
    /// Opens a nonconformity, as `actor` at `at`. Refused whole if a finding is unknown,
    /// ambiguous, or does not evidence the control.
    pub fn open_nc(&mut self, new: &NewNonconformity, actor: &str, at: Instant) -> Result<Nonconformity, StoreError> {
        required("a title", &new.title)?;
        required("a description", &new.description)?;
        if !new.findings.is_empty() && new.control.is_none() {
            return Err(StoreError::Invalid("a nonconformity of findings names the control they evidence (--control)".into()));
        }
        let mut tx = self.conn.transaction()?;
        let mut ids = Vec::with_capacity(new.findings.len());
        for given in &new.findings {
            let (id, controls) = finding_controls(&mut tx, given)?;
            let control = new.control.as_deref().unwrap_or_default();
            if !controls.split(' ').any(|c| c == control) {
                return Err(StoreError::Invalid(format!("finding {id} evidences {}, not {control}", controls.replace(' ', ", "))));
            }
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        let id = tx.insert_returning_id(
            "INSERT INTO nonconformities (title, control, description, root_cause, status, opened_at, opened_by) VALUES (?, ?, ?, ?, 'open', ?, ?)",
            &[
                new.title.as_str().into(),
                new.control.as_deref().into(),
                new.description.as_str().into(),
                new.root_cause.as_deref().into(),
                at.timestamp().into(),
                actor.into(),
            ],
        )?;
        for f in &ids {
            tx.execute("INSERT INTO nc_findings (nc_id, finding_id) VALUES (?, ?)", &[id.into(), f.as_str().into()])?;
        }
        let data = serde_json::json!({
            "nc": id, "title": new.title, "control": new.control, "description": new.description,
            "root_cause": new.root_cause, "findings": ids,
        });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "nc-opened", data }])?;
        let nc = read_nc(&mut tx, id)?;
        tx.commit()?;
        Ok(nc)
    }

    /// Adds a corrective action; returns its number within the nonconformity.
    pub fn add_nc_action(
        &mut self,
        nc: i64,
        description: &str,
        owner: &str,
        due: Instant,
        actor: &str,
        at: Instant,
    ) -> Result<i64, StoreError> {
        required("a description of the action", description)?;
        required("an owner", owner)?;
        let mut tx = self.conn.transaction()?;
        still_open(&mut tx, nc)?;
        let mut seq = 1;
        tx.query_each("SELECT COALESCE(MAX(seq), 0) + 1 FROM nc_actions WHERE nc_id = ?", &[nc.into()], |r| {
            seq = r.req_int(0)?;
            Ok(())
        })?;
        tx.execute(
            "INSERT INTO nc_actions (nc_id, seq, description, owner, due_at, status, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 'planned', ?, ?)",
            &[nc.into(), seq.into(), description.into(), owner.into(), due.timestamp().into(), at.timestamp().into(), actor.into()],
        )?;
        let data = serde_json::json!({ "nc": nc, "action": seq, "description": description, "owner": owner, "due": due.format("%Y-%m-%d").to_string() });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "nc-action-added", data }])?;
        tx.commit()?;
        Ok(seq)
    }

    /// Sets a corrective action's status.
    pub fn set_nc_action(&mut self, nc: i64, seq: i64, status: ActionStatus, actor: &str, at: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        still_open(&mut tx, nc)?;
        let changed = tx.execute(
            "UPDATE nc_actions SET status = ?, updated_at = ?, updated_by = ? WHERE nc_id = ? AND seq = ?",
            &[status.as_str().into(), at.timestamp().into(), actor.into(), nc.into(), seq.into()],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("NC-{nc} has no action {seq}")));
        }
        let data = serde_json::json!({ "nc": nc, "action": seq, "status": status });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "nc-action-updated", data }])?;
        tx.commit()
    }

    /// Records the root cause found.
    pub fn set_nc_root_cause(&mut self, nc: i64, root_cause: &str, actor: &str, at: Instant) -> Result<(), StoreError> {
        required("a root cause", root_cause)?;
        let mut tx = self.conn.transaction()?;
        still_open(&mut tx, nc)?;
        tx.execute("UPDATE nonconformities SET root_cause = ? WHERE id = ?", &[root_cause.into(), nc.into()])?;
        let data = serde_json::json!({ "nc": nc, "root_cause": root_cause });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "nc-root-cause", data }])?;
        tx.commit()
    }

    /// Closes a nonconformity after its effectiveness check: every corrective action done
    /// (there must be at least one), every finding remediated and confirmed by a later run
    /// of its check, and the effectiveness review written down. Otherwise refused, with
    /// every reason.
    pub fn close_nc(&mut self, nc: i64, effectiveness: &str, actor: &str, at: Instant) -> Result<Nonconformity, StoreError> {
        required("the effectiveness review (what shows the correction worked)", effectiveness)?;
        let mut tx = self.conn.transaction()?;
        still_open(&mut tx, nc)?;
        let current = read_nc(&mut tx, nc)?;
        if !current.blockers.is_empty() {
            return Err(StoreError::Conflict(format!("NC-{nc} cannot close yet: {}", current.blockers.join("; "))));
        }
        let mut latest = None;
        tx.query_each("SELECT MAX(id) FROM audit_runs", &[], |r| {
            latest = r.int(0)?;
            Ok(())
        })?;
        tx.execute(
            "UPDATE nonconformities SET status = 'closed', closed_at = ?, closed_by = ?, closed_run = ?, effectiveness = ? WHERE id = ?",
            &[at.timestamp().into(), actor.into(), latest.into(), effectiveness.into(), nc.into()],
        )?;
        let confirmed: Vec<serde_json::Value> =
            current.findings.iter().map(|f| serde_json::json!({ "id": f.id, "resolved_run": f.resolved_run })).collect();
        let data = serde_json::json!({ "nc": nc, "effectiveness": effectiveness, "audit_run": latest, "findings": confirmed });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "nc-closed", data }])?;
        let closed = read_nc(&mut tx, nc)?;
        tx.commit()?;
        Ok(closed)
    }

    /// One nonconformity, whole.
    pub fn nc(&mut self, nc: i64) -> Result<Nonconformity, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = read_nc(&mut tx, nc)?;
        tx.commit()?;
        Ok(out)
    }

    /// The nonconformities, newest first; only those in `status` when given.
    pub fn ncs(&mut self, status: Option<NcStatus>) -> Result<Vec<NcSummary>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        let only = if status.is_some() { "WHERE n.status = ?" } else { "" };
        let params: Vec<crate::db::Value<'_>> = status.iter().map(|s| s.as_str().into()).collect();
        tx.query_each(
            &format!(
                "SELECT n.id, n.title, n.control, n.status, n.opened_at, \
             (SELECT COUNT(*) FROM nc_findings x WHERE x.nc_id = n.id), \
             (SELECT COUNT(*) FROM nc_findings x JOIN findings f ON f.id = x.finding_id WHERE x.nc_id = n.id AND f.status = 'resolved'), \
             (SELECT COUNT(*) FROM nc_actions a WHERE a.nc_id = n.id), \
             (SELECT COUNT(*) FROM nc_actions a WHERE a.nc_id = n.id AND a.status = 'done') \
             FROM nonconformities n {only} ORDER BY n.id DESC"
            ),
            &params,
            |r| {
                out.push(NcSummary {
                    id: r.req_int(0)?,
                    title: r.req_text(1)?.to_string(),
                    control: r.text(2)?.map(str::to_string),
                    status: nc_status(r.req_text(3)?)?,
                    opened_at: instant(r.int(4)?).unwrap_or_default(),
                    findings: r.req_int(5)? as u64,
                    findings_remediated: r.req_int(6)? as u64,
                    actions: r.req_int(7)? as u64,
                    actions_done: r.req_int(8)? as u64,
                });
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }
}

fn nc_status(s: &str) -> Result<NcStatus, StoreError> {
    NcStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("nonconformity status {s:?}")))
}

/// The finding `given` names (exactly, or as a unique prefix) and the controls it evidences.
fn finding_controls(tx: &mut Tx<'_>, given: &str) -> Result<(String, String), StoreError> {
    let mut found = Vec::new();
    // A prefix only when long enough to mean one finding, and without LIKE's wildcards.
    let pattern = if given.len() >= 6 && !given.contains(['%', '_']) { format!("{given}%") } else { given.to_string() };
    tx.query_each(
        "SELECT id, controls FROM findings WHERE id = ? OR id LIKE ? ORDER BY id LIMIT 3",
        &[given.into(), pattern.as_str().into()],
        |r| {
            found.push((r.req_text(0)?.to_string(), r.req_text(1)?.to_string()));
            Ok(())
        },
    )?;
    if let Some(exact) = found.iter().position(|(id, _)| id == given) {
        return Ok(found.swap_remove(exact));
    }
    match found.len() {
        0 => Err(StoreError::NotFound(format!("no finding {given:?}"))),
        1 => Ok(found.remove(0)),
        _ => Err(StoreError::Invalid(format!("finding id {given:?} is ambiguous; give more characters"))),
    }
}

/// Refuses a change to a nonconformity that does not exist or is closed.
fn still_open(tx: &mut Tx<'_>, nc: i64) -> Result<(), StoreError> {
    let mut status = None;
    tx.query_each("SELECT status FROM nonconformities WHERE id = ?", &[nc.into()], |r| {
        status = Some(r.req_text(0)?.to_string());
        Ok(())
    })?;
    match status.as_deref() {
        None => Err(StoreError::NotFound(format!("no nonconformity NC-{nc}"))),
        Some("closed") => Err(StoreError::Conflict(format!("NC-{nc} is closed; open a new nonconformity if the problem came back"))),
        Some(_) => Ok(()),
    }
}

/// A nonconformity with its findings (and whether later audits confirmed them remediated),
/// its actions, and what keeps it open.
fn read_nc(tx: &mut Tx<'_>, nc: i64) -> Result<Nonconformity, StoreError> {
    let mut found = None;
    tx.query_each(
        "SELECT id, title, control, description, root_cause, status, opened_at, opened_by, closed_at, closed_by, closed_run, effectiveness \
         FROM nonconformities WHERE id = ?",
        &[nc.into()],
        |r| {
            let text = |i: usize| -> Result<Option<String>, StoreError> { Ok(r.text(i)?.map(str::to_string)) };
            found = Some(Nonconformity {
                id: r.req_int(0)?,
                title: r.req_text(1)?.to_string(),
                control: text(2)?,
                description: r.req_text(3)?.to_string(),
                root_cause: text(4)?,
                status: nc_status(r.req_text(5)?)?,
                opened_at: instant(r.int(6)?).unwrap_or_default(),
                opened_by: r.req_text(7)?.to_string(),
                closed_at: instant(r.int(8)?),
                closed_by: text(9)?,
                closed_run: r.int(10)?,
                effectiveness: text(11)?,
                findings: Vec::new(),
                actions: Vec::new(),
                blockers: Vec::new(),
            });
            Ok(())
        },
    )?;
    let mut nc = found.ok_or_else(|| StoreError::NotFound(format!("no nonconformity NC-{nc}")))?;
    // Which runs ran which checks: a remediation is confirmed by a later run of its check.
    let mut runs: Vec<(i64, Vec<String>)> = Vec::new();
    tx.query_each("SELECT id, checks FROM audit_runs ORDER BY id", &[], |r| {
        runs.push((r.req_int(0)?, serde_json::from_str(r.req_text(1)?).unwrap_or_default()));
        Ok(())
    })?;
    let mut findings = Vec::new();
    tx.query_each(
        "SELECT f.id, f.check_id, f.status, w.state, f.resolved_run FROM nc_findings x JOIN findings f ON f.id = x.finding_id \
         LEFT JOIN finding_workflow w ON w.finding_id = f.id WHERE x.nc_id = ? ORDER BY f.id",
        &[nc.id.into()],
        |r| {
            let open = r.req_text(2)? == "open";
            let state = match (open, r.text(3)?) {
                (false, _) => FindingState::Remediated,
                (true, None) => FindingState::Open,
                (true, Some(s)) => FindingState::parse(s).unwrap_or(FindingState::Open),
            };
            let check = r.req_text(1)?.to_string();
            let resolved_run = if open { None } else { r.int(4)? };
            let confirmed = resolved_run.is_some_and(|by| runs.iter().any(|(id, checks)| *id > by && checks.contains(&check)));
            findings.push(NcFinding { id: r.req_text(0)?.to_string(), check, state, resolved_run, confirmed });
            Ok(())
        },
    )?;
    nc.findings = findings;
    let mut actions = Vec::new();
    tx.query_each(
        "SELECT seq, description, owner, due_at, status, updated_at, updated_by FROM nc_actions WHERE nc_id = ? ORDER BY seq",
        &[nc.id.into()],
        |r| {
            let status = r.req_text(4)?;
            actions.push(CorrectiveAction {
                seq: r.req_int(0)?,
                description: r.req_text(1)?.to_string(),
                owner: r.req_text(2)?.to_string(),
                due: instant(r.int(3)?).unwrap_or_default(),
                status: ActionStatus::parse(status).ok_or_else(|| StoreError::Corrupt(format!("action status {status:?}")))?,
                updated_at: instant(r.int(5)?).unwrap_or_default(),
                updated_by: r.req_text(6)?.to_string(),
            });
            Ok(())
        },
    )?;
    nc.actions = actions;
    if nc.status == NcStatus::Open {
        nc.blockers = blockers(&nc);
    }
    Ok(nc)
}

/// What keeps an open nonconformity from closing, each in words.
fn blockers(nc: &Nonconformity) -> Vec<String> {
    let mut out = Vec::new();
    if nc.actions.is_empty() {
        out.push("no corrective action is recorded (`annexa nc action`)".to_string());
    }
    for a in nc.actions.iter().filter(|a| a.status != ActionStatus::Done) {
        out.push(format!("action {} ({}) is {}", a.seq, a.owner, a.status));
    }
    // Findings grouped by why they hold it open: their state, or an unconfirmed remediation.
    let mut by_state: HashMap<Option<&'static str>, Vec<&str>> = HashMap::new();
    for f in &nc.findings {
        if f.state != FindingState::Remediated {
            by_state.entry(Some(f.state.as_str())).or_default().push(&f.id);
        } else if !f.confirmed {
            by_state.entry(None).or_default().push(&f.id);
        }
    }
    let mut states: Vec<_> = by_state.into_iter().collect();
    states.sort();
    for (state, ids) in states {
        let shown: Vec<&str> = ids.iter().take(5).copied().collect();
        let more = if ids.len() > 5 { format!(" and {} more", ids.len() - 5) } else { String::new() };
        let (noun, is, was) = if ids.len() == 1 { ("finding", "is", "was") } else { ("findings", "are", "were") };
        out.push(match state {
            Some(state) => format!("{noun} {}{more} {is} still {state}", shown.join(", ")),
            None => format!("{noun} {}{more} {was} remediated, and no later audit has confirmed it yet", shown.join(", ")),
        });
    }
    out
}
