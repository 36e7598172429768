//! The durable provisioning queue.
//!
//! A task is claimed with a lease: a worker that dies mid-batch leaves its tasks `running`
//! with a lease that runs out, and the next worker takes them again. Target operations are
//! idempotent (disabling a disabled account, removing an absent membership change
//! nothing), so a task retried after a crash has its effect once; its idempotency key
//! keeps it from ever being queued twice.

use crate::db::{DbRow, Value};
use crate::ledger::Change;
use crate::{instant, Store, StoreError};
use annexa_core::model::{JmlStatus, TaskAction, TaskStatus};
use annexa_core::time::Instant;
use serde::Serialize;

/// A change to make on a target system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTask {
    pub idempotency_key: String,
    pub event_id: Option<String>,
    pub employee_id: Option<String>,
    pub system: String,
    pub action: TaskAction,
    pub account_id: String,
    pub entitlement: Option<String>,
    /// Not before this time (a mover's old access waits for the grace period).
    pub not_before: Instant,
    /// Carried out by a person, not a worker (a system with a manual connector).
    #[serde(default)]
    pub manual: bool,
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: i64,
    #[serde(flatten)]
    pub task: NewTask,
    pub status: TaskStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub next_attempt_at: Instant,
    pub last_error: Option<String>,
    /// Manual tasks: who confirmed it was done, and what they said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

const COLUMNS: &str = "id, idempotency_key, event_id, employee_id, system, action, account_id, entitlement, status, \
                       attempts, max_attempts, next_attempt_at, last_error, manual, confirmed_by, note";

fn task(r: &DbRow<'_>) -> Result<Task, StoreError> {
    let next = instant(Some(r.req_int(11)?)).unwrap_or_default();
    Ok(Task {
        id: r.req_int(0)?,
        task: NewTask {
            idempotency_key: r.req_text(1)?.to_string(),
            event_id: r.text(2)?.map(String::from),
            employee_id: r.text(3)?.map(String::from),
            system: r.req_text(4)?.to_string(),
            action: TaskAction::parse(r.req_text(5)?)
                .ok_or_else(|| StoreError::Corrupt(format!("task action {:?}", r.req_text(5).unwrap_or_default())))?,
            account_id: r.req_text(6)?.to_string(),
            entitlement: r.text(7)?.map(String::from),
            not_before: next,
            manual: r.req_int(13)? != 0,
        },
        status: TaskStatus::parse(r.req_text(8)?)
            .ok_or_else(|| StoreError::Corrupt(format!("task status {:?}", r.req_text(8).unwrap_or_default())))?,
        attempts: r.req_int(9)?,
        max_attempts: r.req_int(10)?,
        next_attempt_at: next,
        last_error: r.text(12)?.map(String::from),
        confirmed_by: r.text(14)?.map(String::from),
        note: r.text(15)?.map(String::from),
    })
}

/// Queues one task in `tx` unless its idempotency key is queued already; 1 if it was new.
pub(crate) fn insert_task(tx: &mut crate::db::Tx<'_>, t: &NewTask, max_attempts: i64, now: Instant) -> Result<u64, StoreError> {
    tx.execute(
        "INSERT INTO provisioning_tasks (idempotency_key, event_id, employee_id, system, action, account_id, \
         entitlement, status, attempts, max_attempts, next_attempt_at, created_at, manual) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
        &[
            t.idempotency_key.as_str().into(),
            t.event_id.as_deref().into(),
            t.employee_id.as_deref().into(),
            t.system.as_str().into(),
            t.action.as_str().into(),
            t.account_id.as_str().into(),
            t.entitlement.as_deref().into(),
            (if t.manual { "manual" } else { "pending" }).into(),
            max_attempts.into(),
            t.not_before.timestamp().into(),
            now.timestamp().into(),
            i64::from(t.manual).into(),
        ],
    )
}

/// Seconds to wait before attempt `n + 1` after `n` failures: 30 s doubling, at most a day.
pub fn backoff_secs(failures: i64) -> i64 {
    (30i64 << failures.clamp(0, 12)).min(86_400)
}

impl Store {
    /// Queues tasks; a task whose idempotency key is already queued is skipped. Marks the
    /// events they came from as planned. Returns how many were new.
    pub fn queue_tasks(
        &mut self,
        tasks: &[NewTask],
        planned_events: &[String],
        max_attempts: i64,
        actor: &str,
        now: Instant,
    ) -> Result<usize, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut changes = Vec::new();
        for t in tasks {
            let n = insert_task(&mut tx, t, max_attempts, now)?;
            if n > 0 {
                changes.push(Change { kind: "task-queued", data: serde_json::to_value(t).unwrap_or_default() });
            }
        }
        for e in planned_events {
            tx.execute("UPDATE jml_events SET status = 'planned' WHERE id = ? AND status = 'pending'", &[e.as_str().into()])?;
        }
        let queued = changes.len();
        tx.ledger_append(actor, now, &changes)?;
        tx.commit()?;
        Ok(queued)
    }

    /// Claims up to `limit` due tasks for `owner` until `now + lease_secs`: pending tasks
    /// whose time has come, and running tasks whose lease ran out (their worker died).
    pub fn lease_tasks(&mut self, owner: &str, now: Instant, lease_secs: i64, limit: i64) -> Result<Vec<Task>, StoreError> {
        // Several workers on PostgreSQL each take rows the others have not locked; SQLite
        // serialises writers anyway.
        let lock = if self.dialect() == crate::Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let mut tx = self.conn.transaction()?;
        let mut ids = Vec::new();
        tx.query_each(
            &format!(
                "SELECT id FROM provisioning_tasks WHERE (status = 'pending' AND next_attempt_at <= ?) \
                 OR (status = 'running' AND lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?{lock}"
            ),
            &[now.timestamp().into(), now.timestamp().into(), limit.into()],
            |r| {
                ids.push(r.req_int(0)?);
                Ok(())
            },
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            tx.execute(
                "UPDATE provisioning_tasks SET status = 'running', lease_owner = ?, lease_until = ? WHERE id = ?",
                &[owner.into(), (now.timestamp() + lease_secs).into(), id.into()],
            )?;
            tx.query_each(&format!("SELECT {COLUMNS} FROM provisioning_tasks WHERE id = ?"), &[id.into()], |r| {
                out.push(task(r)?);
                Ok(())
            })?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Records the outcome of an attempt: done, retry later with backoff, or failed for
    /// good after the last attempt. The outcome is a ledger entry of the same transaction.
    pub fn finish_task(&mut self, task: &Task, outcome: Result<String, String>, actor: &str, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let attempts = task.attempts + 1;
        let (status, error, next, kind) = match &outcome {
            Ok(_) => ("done", None, now.timestamp(), "task-done"),
            Err(e) if attempts >= task.max_attempts => ("failed", Some(e.as_str()), now.timestamp(), "task-failed"),
            Err(e) => ("pending", Some(e.as_str()), now.timestamp() + backoff_secs(attempts - 1), "task-retry"),
        };
        tx.execute(
            "UPDATE provisioning_tasks SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?, \
             lease_owner = NULL, lease_until = NULL, finished_at = ? WHERE id = ?",
            &[
                status.into(),
                attempts.into(),
                Value::Text(error),
                next.into(),
                Value::Int((status != "pending").then_some(now.timestamp())),
                task.id.into(),
            ],
        )?;
        let detail = match &outcome {
            Ok(what) => serde_json::json!({ "result": what }),
            Err(e) => serde_json::json!({ "error": e }),
        };
        tx.ledger_append(
            actor,
            now,
            &[Change {
                kind,
                data: serde_json::json!({
                    "task_id": task.id, "idempotency_key": task.task.idempotency_key, "system": task.task.system,
                    "action": task.task.action, "account_id": task.task.account_id, "entitlement": task.task.entitlement,
                    "attempt": attempts, "outcome": detail,
                }),
            }],
        )?;
        tx.commit()
    }

    /// How many tasks are in each status (the queue's depth, for monitoring).
    pub fn task_counts(&mut self) -> Result<Vec<(TaskStatus, u64)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each("SELECT status, count(*) FROM provisioning_tasks GROUP BY status ORDER BY status", &[], |r| {
            let status = r.req_text(0)?;
            let status = TaskStatus::parse(status).ok_or_else(|| StoreError::Corrupt(format!("task status {status:?}")))?;
            out.push((status, r.req_int(1)? as u64));
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Tasks, newest first; only those with `status` when given.
    pub fn tasks(&mut self, status: Option<TaskStatus>) -> Result<Vec<Task>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        let (sql, params): (String, Vec<Value<'_>>) = match status {
            Some(s) => (format!("SELECT {COLUMNS} FROM provisioning_tasks WHERE status = ? ORDER BY id"), vec![s.as_str().into()]),
            None => (format!("SELECT {COLUMNS} FROM provisioning_tasks ORDER BY id"), vec![]),
        };
        tx.query_each(&sql, &params, |r| {
            out.push(task(r)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Records that a person carried out manual task `id`: done, with who confirmed it and
    /// their note, as a ledger entry. False when `id` is not a manual task waiting.
    pub fn confirm_manual_task(&mut self, id: i64, note: &str, actor: &str, now: Instant) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE provisioning_tasks SET status = 'done', attempts = attempts + 1, confirmed_by = ?, note = ?, \
             finished_at = ? WHERE id = ? AND status = 'manual'",
            &[actor.into(), note.into(), now.timestamp().into(), id.into()],
        )?;
        if n > 0 {
            let mut data = serde_json::Value::Null;
            tx.query_each(&format!("SELECT {COLUMNS} FROM provisioning_tasks WHERE id = ?"), &[id.into()], |r| {
                let t = task(r)?;
                data = serde_json::json!({
                    "task_id": t.id, "idempotency_key": t.task.idempotency_key, "system": t.task.system,
                    "action": t.task.action, "account_id": t.task.account_id, "entitlement": t.task.entitlement,
                    "attempt": t.attempts, "outcome": { "result": note, "confirmed_by": actor },
                });
                Ok(())
            })?;
            tx.ledger_append(actor, now, &[Change { kind: "task-done", data }])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Puts a failed task back in the queue, due now, with its attempts reset.
    pub fn retry_task(&mut self, id: i64, actor: &str, now: Instant) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE provisioning_tasks SET status = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL \
             WHERE id = ? AND status = 'failed'",
            &[now.timestamp().into(), id.into()],
        )?;
        if n > 0 {
            tx.ledger_append(actor, now, &[Change { kind: "task-retried", data: serde_json::json!({ "task_id": id }) }])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// JML events due by `now` and not yet planned.
    pub fn due_jml_events(&mut self, now: Instant) -> Result<Vec<annexa_core::model::JmlEvent>, StoreError> {
        Ok(self
            .jml_events(None)?
            .into_iter()
            .filter(|e| e.status == JmlStatus::Pending && e.event.effective_at <= now)
            .map(|e| e.event)
            .collect())
    }
}
