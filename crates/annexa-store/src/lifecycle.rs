//! The findings lifecycle: what people decide about open findings (acknowledge with an
//! owner and a due date, accept as a risk until an expiry, dismiss as a false positive,
//! reopen, comment), each decision a ledger entry in the transaction that makes it.
//!
//! An audit owns the rest (`run.rs`): it remediates a finding by no longer seeing it, and
//! reopens one that is seen again, whose risk acceptance expired, or whose records changed
//! since it was dismissed. `findings.status` is what the audits see; `finding_workflow`
//! holds a row only for the findings someone acted on (see migration 13), so a first audit
//! of a quarter of a million findings writes nothing here.

use crate::db::Tx;
use crate::{instant, Store, StoreError};
use annexa_core::finding::{FindingState, Severity};
use annexa_core::time::Instant;
use serde::Serialize;
use std::collections::HashMap;

/// What someone decided about a finding, as stored; all `None` for a finding nobody acted
/// on (its due date then comes from the configuration alone).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Handling {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When it is due: set by whoever acknowledged it, else the configured days for its
    /// severity from when it was first seen (or seen again).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "date")]
    pub due: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "date")]
    pub expires: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Instant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// Dates of the lifecycle are days: written as `YYYY-MM-DD`.
fn date<S: serde::Serializer>(t: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.format("%Y-%m-%d").to_string()),
        None => s.serialize_none(),
    }
}

/// A comment on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub at: Instant,
    pub actor: String,
    pub text: String,
}

/// A decision about findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    /// Acknowledged: someone owns the fix, by a due date (the finding's own when `None`).
    Assign { owner: String, due: Option<Instant> },
    /// Risk accepted by `approver` for `reason`, until `expires` (then it reopens).
    Accept { approver: String, reason: String, expires: Instant },
    /// A false positive: suppressed while the records it rests on stay the same.
    Dismiss { reason: String },
    /// Back to work: an acknowledgement, acceptance or dismissal withdrawn.
    Reopen { reason: String },
    /// A note; changes nothing else (allowed on remediated findings too).
    Comment { text: String },
}

impl Triage {
    /// The ledger entry's kind.
    fn kind(&self) -> &'static str {
        match self {
            Triage::Assign { .. } => "findings-acknowledged",
            Triage::Accept { .. } => "findings-accepted",
            Triage::Dismiss { .. } => "findings-dismissed",
            Triage::Reopen { .. } => "findings-reopened",
            Triage::Comment { .. } => "findings-commented",
        }
    }

    /// The state it leaves a finding in (`None`: unchanged).
    fn state(&self) -> Option<FindingState> {
        match self {
            Triage::Assign { .. } => Some(FindingState::Acknowledged),
            Triage::Accept { .. } => Some(FindingState::Accepted),
            Triage::Dismiss { .. } => Some(FindingState::FalsePositive),
            Triage::Reopen { .. } => Some(FindingState::Reopened),
            Triage::Comment { .. } => None,
        }
    }
}

/// What a decision changed.
#[derive(Debug, Clone, Serialize)]
pub struct Triaged {
    /// The findings it applied to, in id order.
    pub findings: Vec<String>,
    /// The state they are in now (`None` for a comment).
    pub state: Option<FindingState>,
    /// The ledger entries that record it.
    pub ledger_entries: Vec<u64>,
}

/// A decision's columns of a workflow row: owner, due, approver, reason, expiry, and what a
/// dismissed finding rests on.
type Decided<'a> = (Option<&'a str>, Option<i64>, Option<&'a str>, Option<&'a str>, Option<i64>, Option<&'a str>);

/// At most this many findings per ledger entry of a decision.
const LEDGER_BATCH: usize = 1000;

/// Days by severity rank (info 0 .. critical 4) to a finding's due date, from the
/// configuration.
pub type DueDays = [Option<u32>; 5];

/// The SQL of a finding's due date (Unix seconds, or NULL): the one someone set, else its
/// severity's days from the as-of instant of the run that opened (or reopened) it. `f` is
/// the finding, `w` its workflow row, `o` that run. Days are integers from the
/// configuration, written into the SQL as numbers.
pub(crate) fn due_sql(days: &DueDays) -> String {
    let arms: String = days
        .iter()
        .enumerate()
        .filter_map(|(rank, d)| d.map(|d| format!(" WHEN {rank} THEN o.as_of + {}", i64::from(d) * 86_400)))
        .collect();
    if arms.is_empty() {
        "w.due_at".to_string()
    } else {
        format!("COALESCE(w.due_at, CASE f.severity_rank{arms} ELSE NULL END)")
    }
}

/// What a latest-findings query joins to know each finding's handling and due date.
pub(crate) const HANDLING_JOINS: &str =
    "LEFT JOIN finding_workflow w ON w.finding_id = f.id LEFT JOIN audit_runs o ON o.id = COALESCE(f.reopened_run, f.first_run)";

/// The columns of a finding's handling, after the finding's own (see `read_handling`).
pub(crate) fn handling_columns(days: &DueDays) -> String {
    format!("w.state, w.owner, {}, w.approver, w.reason, w.expires_at, w.updated_at, w.updated_by", due_sql(days))
}

/// A finding's state and handling from the columns [`handling_columns`] names, starting
/// at `at`; `open` is whether the audits still see it.
pub(crate) fn read_handling(r: &crate::db::DbRow<'_>, at: usize, open: bool) -> Result<(FindingState, Handling), StoreError> {
    let state = match (open, r.text(at)?) {
        (false, _) => FindingState::Remediated,
        (true, None) => FindingState::Open,
        (true, Some(s)) => FindingState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("finding state {s:?}")))?,
    };
    let text = |i: usize| -> Result<Option<String>, StoreError> { Ok(r.text(at + i)?.map(str::to_string)) };
    let handling = Handling {
        owner: text(1)?,
        // Only what someone still has to act on is due.
        due: if state.actionable() { instant(r.int(at + 2)?) } else { None },
        approver: text(3)?,
        reason: text(4)?,
        expires: instant(r.int(at + 5)?),
        updated_at: instant(r.int(at + 6)?),
        updated_by: text(7)?,
    };
    Ok((state, handling))
}

/// The SQL condition for findings in `state` (over `f` and `w`).
pub(crate) fn state_sql(state: FindingState) -> String {
    match state {
        FindingState::Remediated => "f.status = 'resolved'".to_string(),
        FindingState::Open => "f.status = 'open' AND w.state IS NULL".to_string(),
        s => format!("f.status = 'open' AND w.state = '{}'", s.as_str()),
    }
}

/// The SQL condition for findings someone still has to act on that are past their due date
/// at the instant bound as its one parameter.
pub(crate) fn overdue_sql(days: &DueDays) -> String {
    format!("f.status = 'open' AND (w.state IS NULL OR w.state IN ('acknowledged', 'reopened')) AND {} < ?", due_sql(days))
}

/// Overdue findings by severity, most severe first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overdue {
    pub total: u64,
    pub by_severity: Vec<(Severity, u64)>,
}

/// A finding as a decision finds it.
struct Target {
    id: String,
    open: bool,
    version: Option<String>,
    rank: i64,
    opened_run: i64,
    resolved_run: Option<i64>,
}

impl Store {
    /// Applies `triage` to the findings `ids` (full ids, or unique prefixes of at least 6
    /// characters), as `actor` at `at`, in one transaction with its ledger entries. Every id
    /// is checked first: an unknown or ambiguous one, or a remediated finding for anything
    /// but a comment, refuses the whole decision, naming it.
    pub fn triage(&mut self, ids: &[String], triage: &Triage, days: &DueDays, actor: &str, at: Instant) -> Result<Triaged, StoreError> {
        if ids.is_empty() {
            return Err(StoreError::Invalid("no findings to decide on".into()));
        }
        match triage {
            Triage::Accept { expires, .. } if *expires <= at => {
                return Err(StoreError::Invalid(format!(
                    "the risk acceptance expires on {}, which is not in the future",
                    expires.format("%Y-%m-%d")
                )));
            }
            Triage::Assign { owner, .. } if owner.trim().is_empty() => return Err(StoreError::Invalid("an owner is required".into())),
            Triage::Accept { approver, reason, .. } if approver.trim().is_empty() || reason.trim().is_empty() => {
                return Err(StoreError::Invalid("accepting a risk needs an approver and a reason".into()));
            }
            Triage::Dismiss { reason } | Triage::Reopen { reason } if reason.trim().is_empty() => {
                return Err(StoreError::Invalid("a reason is required".into()));
            }
            Triage::Comment { text } if text.trim().is_empty() => return Err(StoreError::Invalid("the comment is empty".into())),
            _ => {}
        }
        let mut tx = self.conn.transaction()?;
        let mut targets: Vec<Target> = Vec::with_capacity(ids.len());
        for id in ids {
            let t = target(&mut tx, id)?;
            if !t.open && !matches!(triage, Triage::Comment { .. }) {
                let when = t.resolved_run.map(|r| format!(" by audit run #{r}")).unwrap_or_default();
                return Err(StoreError::Conflict(format!("finding {} was remediated{when}: there is nothing left to decide", t.id)));
            }
            targets.push(t);
        }
        targets.sort_by(|a, b| a.id.cmp(&b.id));
        targets.dedup_by(|a, b| a.id == b.id);
        let opened_at = run_instants(&mut tx)?;
        let now = at.timestamp();
        for t in &targets {
            let fingerprint = if matches!(triage, Triage::Dismiss { .. }) { Some(rests_on(&mut tx, t)?) } else { None };
            let (owner, due, approver, reason, expires, rests): Decided<'_> = match triage {
                Triage::Assign { owner, due } => {
                    // Without a date of its own, the finding keeps the due date it had.
                    let due = due.map(|d| d.timestamp()).or_else(|| {
                        let days = days.get(t.rank.clamp(0, 4) as usize).copied().flatten()?;
                        Some(opened_at.get(&t.opened_run)? + i64::from(days) * 86_400)
                    });
                    (Some(owner), due, None, None, None, None)
                }
                Triage::Accept { approver, reason, expires } => (None, None, Some(approver), Some(reason), Some(expires.timestamp()), None),
                Triage::Dismiss { reason } => (None, None, None, Some(reason), None, fingerprint.as_deref()),
                Triage::Reopen { reason } => (None, None, None, Some(reason), None, None),
                Triage::Comment { text } => {
                    tx.execute(
                        "INSERT INTO finding_comments (finding_id, at, actor, text) VALUES (?, ?, ?, ?)",
                        &[t.id.as_str().into(), now.into(), actor.into(), text.as_str().into()],
                    )?;
                    continue;
                }
            };
            let state = triage.state().map_or("open", FindingState::as_str);
            set_workflow(&mut tx, &t.id, state, [owner, approver, reason, rests], [due, expires], actor, now)?;
        }
        let mut entries = Vec::new();
        for chunk in targets.chunks(LEDGER_BATCH) {
            let ids: Vec<&str> = chunk.iter().map(|t| t.id.as_str()).collect();
            let day = |t: &Instant| t.format("%Y-%m-%d").to_string();
            let data = match triage {
                Triage::Assign { owner, due } => serde_json::json!({ "findings": ids, "owner": owner, "due": due.as_ref().map(day) }),
                Triage::Accept { approver, reason, expires } => {
                    serde_json::json!({ "findings": ids, "approver": approver, "reason": reason, "expires": day(expires) })
                }
                Triage::Dismiss { reason } | Triage::Reopen { reason } => serde_json::json!({ "findings": ids, "reason": reason }),
                Triage::Comment { text } => serde_json::json!({ "findings": ids, "comment": text }),
            };
            entries.push(tx.ledger_append(actor, at, &[crate::ledger::Change { kind: triage.kind(), data }])?);
        }
        tx.commit()?;
        Ok(Triaged { findings: targets.into_iter().map(|t| t.id).collect(), state: triage.state(), ledger_entries: entries })
    }

    /// The comments on a finding, oldest first.
    pub fn finding_comments(&mut self, id: &str) -> Result<Vec<Comment>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each("SELECT at, actor, text FROM finding_comments WHERE finding_id = ? ORDER BY id", &[id.into()], |r| {
            out.push(Comment {
                at: instant(r.int(0)?).unwrap_or_default(),
                actor: r.req_text(1)?.to_string(),
                text: r.req_text(2)?.to_string(),
            });
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// The findings someone still has to act on that are past their due date at `at`.
    ///
    /// Every audit's summary asks, so it must not cost a lookup per open finding. A finding
    /// without a due date of its own is due some days after the as-of time of the run that
    /// opened it: while no run is that old (a first audit), only findings someone handled
    /// can be overdue, and they are read from their side. Otherwise the findings are read
    /// in table order on SQLite (by status through `findings_listing`, each open finding
    /// would cost a random read of its row: seconds for a quarter of a million).
    pub fn overdue(&mut self, days: &DueDays, at: Instant) -> Result<Overdue, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Overdue::default();
        let mut old_runs = 0;
        if let Some(shortest) = days.iter().flatten().min() {
            tx.query_each(
                "SELECT COUNT(*) FROM audit_runs WHERE as_of + ? < ?",
                &[(i64::from(*shortest) * 86_400).into(), at.timestamp().into()],
                |r| {
                    old_runs = r.req_int(0)?;
                    Ok(())
                },
            )?;
        }
        let from = if old_runs == 0 {
            "finding_workflow w JOIN findings f ON f.id = w.finding_id LEFT JOIN audit_runs o ON o.id = COALESCE(f.reopened_run, f.first_run)".to_string()
        } else if matches!(tx, crate::db::Tx::Sqlite(_)) {
            format!("findings f NOT INDEXED {HANDLING_JOINS}")
        } else {
            format!("findings f {HANDLING_JOINS}")
        };
        tx.query_each(
            &format!(
                "SELECT f.severity_rank, COUNT(*) FROM {from} WHERE {} GROUP BY f.severity_rank ORDER BY f.severity_rank DESC",
                overdue_sql(days)
            ),
            &[at.timestamp().into()],
            |r| {
                let n = r.req_int(1)? as u64;
                let rank = r.req_int(0)?;
                let severity = Severity::ALL.iter().copied().find(|s| s.rank() == rank).unwrap_or(Severity::Info);
                out.total += n;
                out.by_severity.push((severity, n));
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }
}

/// Writes a finding's workflow row: its state and the handling that goes with it (owner,
/// approver, reason, what a dismissal rests on; due, expiry), replacing what was there.
#[allow(clippy::too_many_arguments)]
pub(crate) fn set_workflow(
    tx: &mut Tx<'_>,
    id: &str,
    state: &str,
    [owner, approver, reason, rests_on]: [Option<&str>; 4],
    [due, expires]: [Option<i64>; 2],
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO finding_workflow (finding_id, state, owner, due_at, approver, reason, expires_at, rests_on, updated_at, updated_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (finding_id) DO UPDATE SET state = excluded.state, owner = excluded.owner, \
         due_at = excluded.due_at, approver = excluded.approver, reason = excluded.reason, expires_at = excluded.expires_at, \
         rests_on = excluded.rests_on, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        &[
            id.into(),
            state.into(),
            owner.into(),
            due.into(),
            approver.into(),
            reason.into(),
            expires.into(),
            rests_on.into(),
            now.into(),
            actor.into(),
        ],
    )?;
    Ok(())
}

/// The finding `id` names: exactly, or as the one finding whose id begins with it.
fn target(tx: &mut Tx<'_>, id: &str) -> Result<Target, StoreError> {
    let columns = "id, status, version, severity_rank, COALESCE(reopened_run, first_run), resolved_run";
    let read = |r: &crate::db::DbRow<'_>| -> Result<Target, StoreError> {
        Ok(Target {
            id: r.req_text(0)?.to_string(),
            open: r.req_text(1)? == "open",
            version: r.text(2)?.map(str::to_string),
            rank: r.req_int(3)?,
            opened_run: r.req_int(4)?,
            resolved_run: r.int(5)?,
        })
    };
    let mut found: Vec<Target> = Vec::new();
    tx.query_each(&format!("SELECT {columns} FROM findings WHERE id = ?"), &[id.into()], |r| {
        found.push(read(r)?);
        Ok(())
    })?;
    if found.is_empty() && id.len() >= 6 && !id.contains(['%', '_']) {
        tx.query_each(
            &format!("SELECT {columns} FROM findings WHERE id LIKE ? ORDER BY id LIMIT 2"),
            &[format!("{id}%").as_str().into()],
            |r| {
                found.push(read(r)?);
                Ok(())
            },
        )?;
    }
    match found.len() {
        0 => Err(StoreError::NotFound(format!("no finding {id:?}"))),
        1 => Ok(found.remove(0)),
        _ => Err(StoreError::Invalid(format!("finding id {id:?} is ambiguous; give more characters"))),
    }
}

/// Each run's as-of instant (Unix seconds), by id.
fn run_instants(tx: &mut Tx<'_>) -> Result<HashMap<i64, i64>, StoreError> {
    let mut out = HashMap::new();
    tx.query_each("SELECT id, as_of FROM audit_runs", &[], |r| {
        out.insert(r.req_int(0)?, r.req_int(1)?);
        Ok(())
    })?;
    Ok(out)
}

/// What stands for a suppressed finding while a run is written: accepted until an instant,
/// or dismissed while it rests on the same records (their fingerprint).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Suppression {
    AcceptedUntil(i64),
    DismissedAt([u8; 32]),
}

/// The accepted and dismissed findings, for a run to tell which of what it sees are still
/// suppressed (few: people decided each).
pub(crate) fn suppressions(tx: &mut Tx<'_>) -> Result<HashMap<Box<str>, Suppression>, StoreError> {
    let mut out = HashMap::new();
    tx.query_each(
        "SELECT finding_id, state, expires_at, rests_on FROM finding_workflow WHERE state IN ('accepted', 'false-positive')",
        &[],
        |r| {
            let s = match r.req_text(1)? {
                "accepted" => Suppression::AcceptedUntil(r.int(2)?.unwrap_or(i64::MIN)),
                _ => Suppression::DismissedAt(r.text(3)?.and_then(crate::run::unhex).unwrap_or([0; 32])),
            };
            out.insert(r.req_text(0)?.into(), s);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Reopens findings an audit run decided must be looked at again (`why` per finding), as
/// `actor`, with one ledger entry per batch.
pub(crate) fn reopen(tx: &mut Tx<'_>, run_id: i64, reopened: &[(String, String)], actor: &str, at: Instant) -> Result<(), StoreError> {
    let now = at.timestamp();
    for (id, why) in reopened {
        set_workflow(tx, id, FindingState::Reopened.as_str(), [None, None, Some(why), None], [None, None], actor, now)?;
    }
    for chunk in reopened.chunks(LEDGER_BATCH) {
        let items: Vec<serde_json::Value> = chunk.iter().map(|(id, why)| serde_json::json!({ "id": id, "reason": why })).collect();
        let data = serde_json::json!({ "run_id": run_id, "findings": items });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "findings-reopened", data }])?;
    }
    Ok(())
}

/// Which records finding `t`'s latest version rests on, hex (`records_fingerprint`): kept
/// with a dismissal, which holds while they stay the same.
fn rests_on(tx: &mut Tx<'_>, t: &Target) -> Result<String, StoreError> {
    let mut body = None;
    // Its first version may still be in its own row (`run.rs`, `append_rows`).
    for sql in [
        "SELECT packed FROM findings WHERE id = ? AND version = ? AND packed IS NOT NULL",
        "SELECT packed FROM finding_versions WHERE finding_id = ? AND sha256 = ?",
    ] {
        if body.is_none() {
            tx.query_each(sql, &[t.id.as_str().into(), t.version.as_deref().unwrap_or_default().into()], |r| {
                body = r.opt_blob(0)?.map(<[u8]>::to_vec);
                Ok(())
            })?;
        }
    }
    let body = body.ok_or_else(|| StoreError::Corrupt(format!("finding {} has no stored version", t.id)))?;
    let finding = crate::run::finding_of_body(&crate::run::unpack(&body)?)?;
    Ok(annexa_core::to_hex(&annexa_core::finding::records_fingerprint(&finding.evidence.records)))
}
