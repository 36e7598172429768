//! Stored joiner, mover and leaver events, and the HR snapshot they are detected against.

use crate::db::{DbRow, Tx, Value};
use crate::{instant, Store, StoreError};
use annexa_core::model::{JmlEvent, JmlKind, JmlStatus, Person};

/// A recorded event and where it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredJmlEvent {
    #[serde(flatten)]
    pub event: JmlEvent,
    pub import_id: i64,
    /// `pending` until the lifecycle engine acts on it.
    pub status: JmlStatus,
}

const COLUMNS: &str = "id, kind, employee_id, effective_at, detected_at, changes, reason, import_id, status";

fn stored(r: &DbRow<'_>) -> Result<StoredJmlEvent, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("jml event {what}"));
    Ok(StoredJmlEvent {
        event: JmlEvent {
            id: r.req_text(0)?.to_string(),
            kind: JmlKind::parse(r.req_text(1)?).ok_or_else(|| corrupt("kind"))?,
            employee_id: r.req_text(2)?.into(),
            effective_at: instant(Some(r.req_int(3)?)).ok_or_else(|| corrupt("time"))?,
            detected_at: instant(Some(r.req_int(4)?)).ok_or_else(|| corrupt("time"))?,
            changes: serde_json::from_str(r.req_text(5)?).map_err(|e| corrupt(&e.to_string()))?,
            reason: r.req_text(6)?.to_string(),
        },
        import_id: r.req_int(7)?,
        status: JmlStatus::parse(r.req_text(8)?)
            .ok_or_else(|| StoreError::Corrupt(format!("lifecycle event status {:?}", r.req_text(8).unwrap_or_default())))?,
    })
}

impl Tx<'_> {
    pub(crate) fn jml_events(&mut self, kind: Option<JmlKind>) -> Result<Vec<StoredJmlEvent>, StoreError> {
        let mut out = Vec::new();
        let kind_text = kind.map(|k| k.as_str());
        let (sql, params): (String, Vec<Value<'_>>) = match kind_text {
            Some(k) => (format!("SELECT {COLUMNS} FROM jml_events WHERE kind = ? ORDER BY effective_at, id"), vec![k.into()]),
            None => (format!("SELECT {COLUMNS} FROM jml_events ORDER BY effective_at, id"), vec![]),
        };
        self.query_each(&sql, &params, |r| {
            out.push(stored(r)?);
            Ok(())
        })?;
        Ok(out)
    }
}

impl Store {
    /// Recorded events, by effective time (all kinds when `kind` is `None`).
    pub fn jml_events(&mut self, kind: Option<JmlKind>) -> Result<Vec<StoredJmlEvent>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = tx.jml_events(kind)?;
        tx.commit()?;
        Ok(out)
    }

    /// The people of the current HR snapshot (empty before the first HR import): what a new
    /// snapshot is compared with.
    pub fn current_people(&mut self) -> Result<Vec<Person>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut current = None;
        tx.query_each("SELECT import_id FROM sources WHERE kind = 'hr'", &[], |r| {
            current = Some(r.req_int(0)?);
            Ok(())
        })?;
        let blob = match current {
            Some(import_id) => crate::identity::snapshot_of(&mut tx, import_id)?.map(|blob| (import_id, blob)),
            None => None,
        };
        tx.commit()?;
        let Some((import_id, blob)) = blob else { return Ok(Vec::new()) };
        let mut g = annexa_core::graph::IdentityGraph::default();
        crate::snapshot::decode_records(import_id, &blob, &|_| true, &mut g)?;
        Ok(g.people)
    }
}
