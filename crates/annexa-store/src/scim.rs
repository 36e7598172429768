//! The resources an identity provider pushes to Annexa's SCIM server.
//!
//! The server keeps the resources in memory for queries; this table is their durable copy.
//! Every write takes the next number of one sequence, so a server instance catches up with
//! the writes of the others by pulling the rows whose `seq` is higher than the last it saw
//! ([`Store::scim_changes`]). A change is planned and stored in one transaction that holds
//! the sequence row ([`Store::scim_change`]), so no other writer commits in between. Every
//! write is a ledger entry in the same transaction.

use crate::ledger::Change;
use crate::{Store, StoreError};
use annexa_core::time::Instant;

/// One stored SCIM resource (or the tombstone of a deleted one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRow {
    pub id: String,
    pub system: String,
    pub resource_type: String,
    pub version: i64,
    pub seq: i64,
    pub deleted: bool,
    /// The resource's JSON; `{}` for a tombstone.
    pub body: String,
}

/// A change to one resource.
#[derive(Debug, Clone)]
pub struct ScimWrite {
    pub id: String,
    pub system: String,
    pub resource_type: &'static str,
    /// What must be unique among the system's resources of this type (a User's `userName`
    /// as `annexa_core::text::login_key` compares it); `None` when nothing is.
    pub unique_key: Option<String>,
    /// The version the writer read (`None`: the resource is new). A different stored
    /// version means someone else changed it since: the write is refused.
    pub expected_version: Option<i64>,
    /// The new JSON, or `None` to delete.
    pub body: Option<String>,
    /// The ledger entry's kind: `scim-created`, `scim-replaced`, `scim-patched`, `scim-deleted`.
    pub kind: &'static str,
}

/// What became of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimWritten {
    Done {
        version: i64,
        seq: i64,
    },
    /// The plan wrote nothing (the change would leave the resource as it is): nothing was
    /// stored and nothing recorded.
    Unchanged,
    /// The stored version is not the expected one (or the resource is gone).
    VersionMismatch,
    /// Another resource holds the unique key; its id.
    NotUnique(String),
}

impl Store {
    /// Calls `f` with every resource row changed after `after_seq`, in `seq` order; returns
    /// the highest `seq` seen (or `after_seq`).
    pub fn scim_changes(&mut self, after_seq: i64, mut f: impl FnMut(ScimRow)) -> Result<i64, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let last = changes_after(&mut tx, after_seq, &mut f)?;
        tx.commit()?;
        Ok(last)
    }

    /// The live resources of `system` as stored: Users, then Groups, each ordered by id.
    pub fn scim_resources(&mut self, system: &str) -> Result<Vec<ScimRow>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            "SELECT id, system, resource_type, version, seq, deleted, body FROM scim_resources \
             WHERE system = ? AND deleted = 0 ORDER BY resource_type DESC, id",
            &[system.into()],
            |r| {
                out.push(scim_row(r)?);
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// The systems pushed to: those of live `scim` tokens and those with stored resources.
    pub fn scim_systems(&mut self) -> Result<Vec<String>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = std::collections::BTreeSet::new();
        tx.query_each(
            "SELECT system FROM api_tokens WHERE scope = 'scim' AND revoked_at IS NULL AND system IS NOT NULL \
             UNION SELECT DISTINCT system FROM scim_resources",
            &[],
            |r| {
                out.insert(r.req_text(0)?.to_string());
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out.into_iter().collect())
    }

    /// The highest `seq` given out so far.
    pub fn scim_last_seq(&mut self) -> Result<i64, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut seq = 0;
        tx.query_each("SELECT seq FROM scim_sequence WHERE one = 1", &[], |r| {
            seq = r.req_int(0)?;
            Ok(())
        })?;
        tx.commit()?;
        Ok(seq)
    }

    /// Changes resources with nobody else writing in between: locks the SCIM sequence,
    /// hands `catch_up` every change committed after `after_seq` (by this instance or
    /// another), asks `plan` what to write on that state, and writes it in the same
    /// transaction, each write checked against its expected version and unique key, with a
    /// ledger entry each. Nothing is written unless every write can be: the first refused
    /// one is the answer. `Done` reports the first write's new version; a plan of no
    /// writes is `Unchanged`.
    pub fn scim_change<E: From<StoreError>>(
        &mut self,
        after_seq: i64,
        catch_up: impl FnOnce(Vec<ScimRow>, i64) -> Result<(), E>,
        plan: impl FnOnce() -> Result<Vec<ScimWrite>, E>,
        actor: &str,
        now: Instant,
    ) -> Result<ScimWritten, E> {
        let mut tx = self.conn.transaction()?;
        // SQLite's write transaction is exclusive already; on PostgreSQL this row lock makes
        // every other writer wait until this one commits.
        tx.execute("UPDATE scim_sequence SET seq = seq WHERE one = 1", &[])?;
        let mut rows = Vec::new();
        let last = changes_after(&mut tx, after_seq, &mut |row| rows.push(row))?;
        catch_up(rows, last)?;
        let writes = plan()?;
        if writes.is_empty() {
            return Ok(ScimWritten::Unchanged);
        }
        let mut first = None;
        let mut changes = Vec::with_capacity(writes.len());
        for w in &writes {
            match write_one(&mut tx, w)? {
                ScimWritten::Done { version, seq } => {
                    first.get_or_insert(ScimWritten::Done { version, seq });
                    let digest = {
                        use sha2::Digest as _;
                        annexa_core::to_hex(&sha2::Sha256::digest(w.body.as_deref().unwrap_or("{}").as_bytes()))
                    };
                    let data = serde_json::json!({
                        "system": w.system, "resource_type": w.resource_type, "id": w.id, "version": version, "sha256": digest,
                    });
                    changes.push(Change { kind: w.kind, data });
                }
                refused => return Ok(refused),
            }
        }
        tx.ledger_append(actor, now, &changes)?;
        tx.commit()?;
        Ok(first.unwrap_or(ScimWritten::VersionMismatch))
    }
}

/// Calls `f` with every row changed after `after_seq`, in `seq` order; the highest `seq`.
fn changes_after(tx: &mut crate::db::Tx<'_>, after_seq: i64, f: &mut dyn FnMut(ScimRow)) -> Result<i64, StoreError> {
    let mut last = after_seq;
    tx.query_each(
        "SELECT id, system, resource_type, version, seq, deleted, body FROM scim_resources WHERE seq > ? ORDER BY seq",
        &[after_seq.into()],
        |r| {
            let row = scim_row(r)?;
            last = row.seq;
            f(row);
            Ok(())
        },
    )?;
    Ok(last)
}

fn scim_row(r: &crate::db::DbRow<'_>) -> Result<ScimRow, StoreError> {
    Ok(ScimRow {
        id: r.req_text(0)?.to_string(),
        system: r.req_text(1)?.to_string(),
        resource_type: r.req_text(2)?.to_string(),
        version: r.req_int(3)?,
        seq: r.req_int(4)?,
        deleted: r.req_int(5)? != 0,
        body: r.req_text(6)?.to_string(),
    })
}

fn write_one(tx: &mut crate::db::Tx<'_>, w: &ScimWrite) -> Result<ScimWritten, StoreError> {
    // Taking the next seq first locks the sequence row for the rest of the transaction.
    let mut seq = 0;
    tx.query_each("UPDATE scim_sequence SET seq = seq + 1 WHERE one = 1 RETURNING seq", &[], |r| {
        seq = r.req_int(0)?;
        Ok(())
    })?;
    let mut stored: Option<(i64, bool)> = None;
    tx.query_each("SELECT version, deleted FROM scim_resources WHERE id = ?", &[w.id.as_str().into()], |r| {
        stored = Some((r.req_int(0)?, r.req_int(1)? != 0));
        Ok(())
    })?;
    let live_version = stored.filter(|(_, deleted)| !deleted).map(|(v, _)| v);
    if live_version != w.expected_version {
        return Ok(ScimWritten::VersionMismatch);
    }
    if let (Some(key), Some(_)) = (w.unique_key.as_deref(), w.body.as_deref()) {
        let mut holder = None;
        tx.query_each(
            "SELECT id FROM scim_resources WHERE system = ? AND resource_type = ? AND unique_key = ? AND id <> ?",
            &[w.system.as_str().into(), w.resource_type.into(), key.into(), w.id.as_str().into()],
            |r| {
                holder = Some(r.req_text(0)?.to_string());
                Ok(())
            },
        )?;
        if let Some(id) = holder {
            return Ok(ScimWritten::NotUnique(id));
        }
    }
    let version = stored.map_or(1, |(v, _)| v + 1);
    let (body, deleted, unique) = match w.body.as_deref() {
        Some(b) => (b, 0i64, w.unique_key.as_deref()),
        None => ("{}", 1, None),
    };
    if stored.is_some() {
        tx.execute(
            "UPDATE scim_resources SET unique_key = ?, version = ?, seq = ?, deleted = ?, body = ? WHERE id = ?",
            &[unique.into(), version.into(), seq.into(), deleted.into(), body.into(), w.id.as_str().into()],
        )?;
    } else {
        tx.execute(
            "INSERT INTO scim_resources (id, system, resource_type, unique_key, version, seq, deleted, body) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                w.id.as_str().into(),
                w.system.as_str().into(),
                w.resource_type.into(),
                unique.into(),
                version.into(),
                seq.into(),
                deleted.into(),
                body.into(),
            ],
        )?;
    }
    Ok(ScimWritten::Done { version, seq })
}

/// Migration 7: pushed Users were stored with the `password` an identity provider sent.
/// Annexa has no use for one (the server now drops it unread), so every stored one is
/// removed, each removal a ledger entry (`scim-password-removed`, with the SHA-256 of the
/// JSON that remains), and the row takes a new `seq` so that running servers pull it. The
/// `userName` uniqueness key is recomputed as the server now compares names (case,
/// Unicode encoding, surrounding white space); where two stored names now collide, the
/// later keeps its old key rather than fail the upgrade.
pub(crate) fn remove_stored_passwords(tx: &mut crate::db::Tx<'_>) -> Result<(), StoreError> {
    struct Stored {
        id: String,
        system: String,
        key: Option<String>,
        body: String,
    }
    let mut users = Vec::new();
    tx.query_each(
        "SELECT id, system, unique_key, body FROM scim_resources WHERE resource_type = 'User' AND deleted = 0 ORDER BY seq",
        &[],
        |r| {
            users.push(Stored {
                id: r.req_text(0)?.to_string(),
                system: r.req_text(1)?.to_string(),
                key: r.text(2)?.map(String::from),
                body: r.req_text(3)?.to_string(),
            });
            Ok(())
        },
    )?;
    let new_key = |u: &Stored| -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&u.body).ok()?;
        v.get("userName").and_then(serde_json::Value::as_str).map(annexa_core::text::login_key)
    };
    // Keys that stay as they are are claimed first, so no update meets a key still held.
    let mut claimed: std::collections::HashSet<(String, String)> =
        users.iter().filter(|u| u.key.is_some() && new_key(u) == u.key).filter_map(|u| Some((u.system.clone(), u.key.clone()?))).collect();
    let now = chrono::Utc::now();
    let mut changes = Vec::new();
    for u in &users {
        let mut key = u.key.clone();
        if let Some(k) = new_key(u).filter(|k| Some(k) != u.key.as_ref()) {
            if claimed.insert((u.system.clone(), k.clone())) {
                key = Some(k);
            }
        }
        let mut body = u.body.clone();
        let mut removed = false;
        if let Ok(serde_json::Value::Object(mut o)) = serde_json::from_str::<serde_json::Value>(&u.body) {
            let before = o.len();
            o.retain(|k, _| !k.eq_ignore_ascii_case("password"));
            if o.len() != before {
                removed = true;
                body = serde_json::Value::Object(o).to_string();
            }
        }
        if !removed && key == u.key {
            continue;
        }
        let mut seq = 0;
        tx.query_each("UPDATE scim_sequence SET seq = seq + 1 WHERE one = 1 RETURNING seq", &[], |r| {
            seq = r.req_int(0)?;
            Ok(())
        })?;
        tx.execute(
            "UPDATE scim_resources SET body = ?, unique_key = ?, seq = ? WHERE id = ?",
            &[body.as_str().into(), key.as_deref().into(), seq.into(), u.id.as_str().into()],
        )?;
        if removed {
            use sha2::Digest as _;
            let sha256 = annexa_core::to_hex(&sha2::Sha256::digest(body.as_bytes()));
            let data = serde_json::json!({ "system": u.system, "resource_type": "User", "id": u.id, "sha256": sha256 });
            changes.push(Change { kind: "scim-password-removed", data });
        }
    }
    if !changes.is_empty() {
        tx.ledger_append("annexa (upgrade: schema version 7)", now, &changes)?;
    }
    Ok(())
}
