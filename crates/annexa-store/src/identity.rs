//! Writing imports and reading the identity graph back.

use crate::db::{Tx, Value};
use crate::{instant, Store, StoreError};
use annexa_core::graph::IdentityGraph;
use annexa_core::model::*;
use annexa_core::time::Instant;
use annexa_core::Name;
use std::collections::HashMap;

/// The kinds of record an import of `kind` brings (two kinds of import may not bring the
/// same kind of record for one system: see `check_no_other_feed`).
fn records_of(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Hr => &["people"],
        ImportKind::Accounts => &["accounts"],
        ImportKind::Assignments => &["entitlements", "assignments"],
        ImportKind::Ldif | ImportKind::Scim | ImportKind::Okta | ImportKind::Entra | ImportKind::GoogleWorkspace | ImportKind::Github => {
            &["accounts", "entitlements", "assignments"]
        }
        ImportKind::AwsCredentialReport => &["accounts"],
        ImportKind::Badges => &["badges"],
    }
}

/// One parsed file, to be stored as the new snapshot of its source(s).
pub struct NewImport<'a> {
    /// Who imported it (recorded in the ledger).
    pub actor: &'a str,
    pub kind: ImportKind,
    pub file: &'a str,
    pub sha256: &'a str,
    pub rows: u64,
    pub at: Instant,
    /// The systems the file covers; their previous rows of this kind are replaced.
    pub systems: &'a [String],
    pub people: &'a [Person],
    pub accounts: &'a [Account],
    pub entitlements: &'a [Entitlement],
    pub assignments: &'a [Assignment],
    pub badges: &'a [Badge],
    /// Joiner, mover and leaver events this snapshot brings (HR imports); each is recorded
    /// once, with the import, in its transaction.
    pub jml_events: &'a [JmlEvent],
    /// The rows a lenient import refused, listed in a quarantine report.
    pub quarantine: Option<&'a Quarantine>,
}

/// A chunk of a streamed import's records ([`Store::import_streamed`]).
pub enum StreamedRecords {
    Accounts(Vec<Account>),
    Assignments(Vec<Assignment>),
}

/// What a streamed import ([`Store::import_streamed`]) learns only once its file is read
/// whole.
pub struct RestOfImport {
    pub file: String,
    pub sha256: String,
    pub rows: u64,
    pub systems: Vec<String>,
    pub entitlements: Vec<Entitlement>,
    pub quarantine: Option<Quarantine>,
}

fn date_text(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(annexa_core::time::iso_date)
}

impl Store {
    /// Stores `new` as the current snapshot of its source, in one transaction: the previous
    /// records of the same kind and systems are replaced, and the file's hash is recorded.
    /// People are also written as rows (campaigns and tokens look them up one by one);
    /// every other record is kept in the snapshot only.
    pub fn import(&mut self, new: &NewImport<'_>) -> Result<ImportRecord, StoreError> {
        // A million people go to random places in their key's index (see
        // `widen_cache_for_write`); the cache is put back whether the import succeeds or not.
        let usual = self.widen_cache_for_write()?;
        let imported = self.import_in_one_transaction(new);
        self.restore_cache(usual)?;
        imported
    }

    fn import_in_one_transaction(&mut self, new: &NewImport<'_>) -> Result<ImportRecord, StoreError> {
        // An import replaces a source's rows whole: see `Conn::bulk_transaction`.
        refuse_duplicates(new)?;
        let mut tx = self.conn.bulk_transaction()?;
        let import_id = begin_import(&mut tx, new.kind)?;
        for system in &import_systems(new.kind, new.systems) {
            retire_source(&mut tx, new.kind, system)?;
        }
        // The snapshot is encoded on a second core while the people's rows are written.
        let blob = std::thread::scope(|scope| {
            let encoding = scope.spawn(|| {
                crate::snapshot::encode(&crate::snapshot::Records {
                    people: new.people,
                    accounts: new.accounts,
                    entitlements: new.entitlements,
                    assignments: new.assignments,
                    badges: new.badges,
                })
            });
            let written = write_people(&mut tx, new.people, import_id);
            let blob = encoding.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            written.map(|()| blob)
        })?;
        let records = [new.people.len(), new.accounts.len(), new.entitlements.len(), new.assignments.len(), new.badges.len()];
        complete_import(&mut tx, new, import_id, &blob, records)?;
        tx.commit()?;
        Ok(import_record(new, import_id))
    }

    /// Stores an accounts or assignments file while it is still being read: `chunks` yields
    /// its records as the parser reads them, and each chunk is encoded into the snapshot at
    /// once (a system's earlier records are retired when its first record arrives), so that
    /// parsing and storing overlap. Once `chunks` ends, `rest` is given how many records came and says
    /// the rest of the import (known only when the whole file is read), or `None` to
    /// abandon it (the file was refused): the transaction then rolls back and nothing is
    /// kept. One transaction, as [`Store::import`].
    pub fn import_streamed(
        &mut self,
        kind: ImportKind,
        actor: &str,
        at: Instant,
        chunks: &mut dyn Iterator<Item = StreamedRecords>,
        rest: &mut dyn FnMut(usize) -> Option<RestOfImport>,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let usual = self.widen_cache_for_write()?;
        let imported = self.import_streamed_in_one_transaction(kind, actor, at, chunks, rest);
        self.restore_cache(usual)?;
        imported
    }

    fn import_streamed_in_one_transaction(
        &mut self,
        kind: ImportKind,
        actor: &str,
        at: Instant,
        chunks: &mut dyn Iterator<Item = StreamedRecords>,
        rest: &mut dyn FnMut(usize) -> Option<RestOfImport>,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let mut tx = self.conn.bulk_transaction()?;
        let import_id = begin_import(&mut tx, kind)?;
        let mut retired: Vec<Name> = Vec::new();
        let mut retire = |tx: &mut Tx<'_>, system: &Name| -> Result<(), StoreError> {
            if !retired.contains(system) {
                retire_source(tx, kind, system)?;
                retired.push(system.clone());
            }
            Ok(())
        };
        // Each chunk is encoded into the snapshot and dropped.
        let mut snapshot = crate::snapshot::StreamEncoder::new(kind == ImportKind::Accounts);
        // Full chunks are written while the file is still read: see `StreamEncoder`.
        let mut parts_stored = 0i64;
        let (mut accounts, mut assignments) = (0, 0);
        for chunk in chunks {
            // The snapshot's sections follow the kind: records of another kind would be
            // encoded where they do not belong.
            let expected = matches!(
                (&chunk, kind),
                (StreamedRecords::Accounts(_), ImportKind::Accounts) | (StreamedRecords::Assignments(_), ImportKind::Assignments)
            );
            if !expected {
                return Err(StoreError::Invalid(format!("a {} import streamed records of another kind", kind.as_str())));
            }
            match chunk {
                StreamedRecords::Accounts(chunk) => {
                    for a in &chunk {
                        retire(&mut tx, &a.system)?;
                    }
                    snapshot.accounts(&chunk);
                    accounts += chunk.len();
                    store_parts(&mut tx, import_id, &mut parts_stored, snapshot.take_parts())?;
                }
                StreamedRecords::Assignments(chunk) => {
                    for a in &chunk {
                        retire(&mut tx, &a.system)?;
                    }
                    snapshot.assignments(&chunk);
                    assignments += chunk.len();
                    store_parts(&mut tx, import_id, &mut parts_stored, snapshot.take_parts())?;
                }
            }
        }
        let Some(rest) = rest(accounts + assignments) else { return Ok(None) };
        // A system given but without records (`--allow-empty`) is retired all the same.
        for system in &rest.systems {
            retire(&mut tx, &Name::from(system.as_str()))?;
        }
        let new = NewImport {
            actor,
            kind,
            file: &rest.file,
            sha256: &rest.sha256,
            rows: rest.rows,
            at,
            systems: &rest.systems,
            people: &[],
            accounts: &[],
            entitlements: &rest.entitlements,
            assignments: &[],
            badges: &[],
            jml_events: &[],
            quarantine: rest.quarantine.as_ref(),
        };
        refuse_duplicates(&new)?;
        let parted = snapshot.finish(&rest.entitlements);
        store_parts(&mut tx, import_id, &mut parts_stored, parted.parts)?;
        complete_import(&mut tx, &new, import_id, &parted.head, [0, accounts, rest.entitlements.len(), assignments, 0])?;
        tx.commit()?;
        Ok(Some(import_record(&new, import_id)))
    }

    /// The imports whose rows are current (the latest of each source), oldest first.
    pub fn current_imports(&mut self) -> Result<Vec<ImportRecord>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = current_imports(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Reads the whole identity graph: every current record of every source, decoded from
    /// the snapshots of the current imports.
    pub fn load_graph(&mut self) -> Result<IdentityGraph, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut g = IdentityGraph { imports: current_imports(&mut tx)?, ..Default::default() };
        // (kind, system) -> the import whose records are current for it.
        let mut current: HashMap<(String, String), i64> = HashMap::new();
        tx.query_each("SELECT kind, system, import_id FROM sources", &[], |r| {
            current.insert((r.req_text(0)?.to_string(), r.req_text(1)?.to_string()), r.req_int(2)?);
            Ok(())
        })?;
        let mut blobs: Vec<(ImportRecord, Vec<u8>)> = Vec::with_capacity(g.imports.len());
        for import in &g.imports {
            let blob =
                snapshot_of(&mut tx, import.id)?.ok_or_else(|| StoreError::Corrupt(format!("import #{} has no snapshot", import.id)))?;
            blobs.push((import.clone(), blob));
        }
        let mut total = [0usize; 5];
        for (_, blob) in &blobs {
            for (t, n) in total.iter_mut().zip(crate::snapshot::counts(blob)?) {
                *t += n;
            }
        }
        g.people.reserve(total[0]);
        g.accounts.reserve(total[1]);
        g.entitlements.reserve(total[2]);
        g.badges.reserve(total[4]);
        // Every snapshot's records first; then the assignments, resolved against all
        // accounts and entitlements. Import order keeps the graph's order stable.
        let current = &current;
        let keeps: Vec<_> = blobs
            .iter()
            .map(|(import, _)| {
                move |system: &str| import.kind == "hr" || current.get(&(import.kind.clone(), system.to_string())) == Some(&import.id)
            })
            .collect();
        let mut pending = Vec::with_capacity(blobs.len());
        for ((import, blob), keep) in blobs.iter().zip(&keeps) {
            pending.push(crate::snapshot::decode_records(import.id, blob, keep, &mut g)?);
        }
        let (grants, added, unattached) = {
            let mut resolver = crate::snapshot::Resolver::new(&g.accounts, &g.entitlements, total[3]);
            for (p, keep) in pending.iter().zip(&keeps) {
                crate::snapshot::decode_grants(p, keep, &mut resolver)?;
            }
            resolver.into_parts()
        };
        g.grants = grants;
        g.entitlements.extend(added);
        g.unattached_assignments = unattached;
        g.movers = tx.jml_events(Some(JmlKind::Mover))?.into_iter().map(|e| e.event).collect();
        apply_certifications(&mut tx, &mut g)?;
        tx.commit()?;
        Ok(g)
    }
}

/// A system is fed by one source kind per table: two kinds replacing each other's rows
/// would silently lose data, so the second one is refused with a way out.
/// The systems whose records an import of `kind` replaces (HR: the one feed, `""`).
fn import_systems(kind: ImportKind, systems: &[String]) -> Vec<&str> {
    if kind == ImportKind::Hr {
        vec![""]
    } else {
        systems.iter().map(String::as_str).collect()
    }
}

/// Starts an import: its row, completed by [`complete_import`] once the file is read.
fn begin_import(tx: &mut Tx<'_>, kind: ImportKind) -> Result<i64, StoreError> {
    tx.insert_returning_id(
        "INSERT INTO imports (kind, systems, file, sha256, rows_read, imported_at, refused) VALUES (?, '[]', '', '', 0, 0, 0)",
        &[kind.as_str().into()],
    )
}

/// Removes the records `system` had from earlier imports of `kind`, before the new ones
/// are written (refused when another kind of import brings the same kind of record for
/// that system). Only people are rows; a snapshot stops counting for a system when
/// `complete_import` makes the new import that system's current one.
fn retire_source(tx: &mut Tx<'_>, kind: ImportKind, system: &str) -> Result<(), StoreError> {
    let records = records_of(kind);
    let kind = kind.as_str();
    check_no_other_feed(tx, kind, records, &[system])?;
    if records.contains(&"people") {
        tx.execute("DELETE FROM people", &[])?;
    }
    // The source imports again: its earlier failure is over.
    tx.execute("DELETE FROM import_failures WHERE kind = ? AND system = ?", &[kind.into(), system.into()])?;
    Ok(())
}

/// Completes an import whose rows are written: its row, its snapshot, its ledger entries
/// (the import and the JML events it brings) and its systems' current import. `records`:
/// how many people, accounts, entitlements, assignments and badges it holds.
fn complete_import(tx: &mut Tx<'_>, new: &NewImport<'_>, import_id: i64, blob: &[u8], records: [usize; 5]) -> Result<(), StoreError> {
    let kind = new.kind.as_str();
    let systems_json = serde_json::to_string(&new.systems).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "UPDATE imports SET systems = ?, file = ?, sha256 = ?, rows_read = ?, imported_at = ?, refused = ?, quarantine_file = ?, \
         quarantine_sha256 = ? WHERE id = ?",
        &[
            systems_json.as_str().into(),
            new.file.into(),
            new.sha256.into(),
            (new.rows as i64).into(),
            new.at.timestamp().into(),
            (new.quarantine.map_or(0, |q| q.refused) as i64).into(),
            new.quarantine.map(|q| q.file.as_str()).into(),
            new.quarantine.map(|q| q.sha256.as_str()).into(),
            import_id.into(),
        ],
    )?;
    tx.execute(
        "INSERT INTO snapshots (import_id, format, data) VALUES (?, ?, ?)",
        &[import_id.into(), (crate::snapshot::FORMAT as i64).into(), Value::Blob(blob)],
    )?;
    let mut data = serde_json::json!({
                "import_id": import_id,
                "kind": kind,
                "file": new.file,
                "sha256": new.sha256,
                "rows": new.rows,
                "systems": new.systems,
                "records": {
                    "people": records[0],
                    "accounts": records[1],
                    "entitlements": records[2],
                    "assignments": records[3],
                    "badges": records[4],
                },
    });
    // Only a lenient import that refused rows says so: other entries read as before.
    if let (Some(q), Some(fields)) = (new.quarantine, data.as_object_mut()) {
        fields.insert("refused".into(), q.refused.into());
        fields.insert("quarantine".into(), serde_json::json!({ "file": q.file, "sha256": q.sha256 }));
    }
    tx.ledger_append(new.actor, new.at, &[crate::ledger::Change { kind: "import", data }])?;
    let mut recorded = Vec::new();
    for e in new.jml_events {
        let changes = serde_json::to_string(&e.changes).map_err(|x| StoreError::Corrupt(x.to_string()))?;
        let inserted = tx.execute(
            "INSERT INTO jml_events (id, kind, employee_id, effective_at, detected_at, import_id, changes, reason, status) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (id) DO NOTHING",
            &[
                e.id.as_str().into(),
                e.kind.as_str().into(),
                (&*e.employee_id).into(),
                e.effective_at.timestamp().into(),
                e.detected_at.timestamp().into(),
                import_id.into(),
                changes.as_str().into(),
                e.reason.as_str().into(),
            ],
        )?;
        if inserted > 0 {
            recorded.push(crate::ledger::Change {
                kind: "jml-event",
                data: serde_json::json!({
                    "event_id": e.id, "kind": e.kind, "employee_id": &*e.employee_id,
                    "effective_at": e.effective_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "reason": e.reason, "changes": e.changes, "import_id": import_id,
                }),
            });
        }
    }
    tx.ledger_append(new.actor, new.at, &recorded)?;
    for system in &import_systems(new.kind, new.systems) {
        tx.execute("DELETE FROM sources WHERE kind = ? AND system = ?", &[kind.into(), (*system).into()])?;
        tx.execute("INSERT INTO sources (kind, system, import_id) VALUES (?, ?, ?)", &[kind.into(), (*system).into(), import_id.into()])?;
    }
    Ok(())
}

fn import_record(new: &NewImport<'_>, id: i64) -> ImportRecord {
    ImportRecord {
        id,
        kind: new.kind.as_str().to_string(),
        systems: new.systems.to_vec(),
        file: new.file.to_string(),
        sha256: new.sha256.to_string(),
        rows: new.rows,
        imported_at: new.at,
        quarantine: new.quarantine.cloned(),
    }
}

fn check_no_other_feed(tx: &mut Tx<'_>, kind: &str, records: &[&str], systems: &[&str]) -> Result<(), StoreError> {
    for system in systems {
        let mut other: Option<String> = None;
        tx.query_each("SELECT kind FROM sources WHERE system = ? AND kind <> ?", &[(*system).into(), kind.into()], |r| {
            let k = r.req_text(0)?;
            if ImportKind::parse(k).is_some_and(|k| records_of(k).iter().any(|x| records.contains(x))) {
                other = Some(k.to_string());
            }
            Ok(())
        })?;
        if let Some(other) = other {
            return Err(StoreError::Conflict(format!(
                "system {system:?} is already fed by imports of kind {other}; name this source differently with --system"
            )));
        }
    }
    Ok(())
}

pub(crate) fn current_imports(tx: &mut Tx<'_>) -> Result<Vec<ImportRecord>, StoreError> {
    let mut out = Vec::new();
    tx.query_each(
        "SELECT id, kind, systems, file, sha256, rows_read, imported_at, refused, quarantine_file, quarantine_sha256 FROM imports \
         WHERE id IN (SELECT import_id FROM sources) ORDER BY id",
        &[],
        |r| {
            out.push(ImportRecord {
                id: r.req_int(0)?,
                kind: r.req_text(1)?.to_string(),
                systems: serde_json::from_str(r.req_text(2)?).map_err(|e| StoreError::Corrupt(format!("systems: {e}")))?,
                file: r.req_text(3)?.to_string(),
                sha256: r.req_text(4)?.to_string(),
                rows: r.req_int(5)? as u64,
                imported_at: instant(Some(r.req_int(6)?)).unwrap_or_default(),
                quarantine: match (r.req_int(7)?, r.text(8)?, r.text(9)?) {
                    (refused, Some(file), Some(sha256)) if refused > 0 => {
                        Some(Quarantine { refused: refused as u64, file: file.to_string(), sha256: sha256.to_string() })
                    }
                    _ => None,
                },
            });
            Ok(())
        },
    )?;
    Ok(out)
}

/// An HR import's people as rows, beside the snapshot: looked up one by one (a reviewer's
/// manager, a token's owner), by their key.
fn write_people(tx: &mut Tx<'_>, people: &[Person], import_id: i64) -> Result<(), StoreError> {
    let dates: Vec<[Option<String>; 3]> =
        people.iter().map(|p| [date_text(p.start_date), date_text(p.end_date), date_text(p.screening_date)]).collect();
    let people: Vec<(&Person, &[Option<String>; 3])> = people.iter().zip(dates.iter()).collect();
    tx.bulk_insert_keyed(
        "people",
        &[
            "employee_id",
            "email",
            "given_name",
            "family_name",
            "department",
            "title",
            "manager_id",
            "location",
            "worker_type",
            "status",
            "start_date",
            "end_date",
            "screening_date",
            "import_id",
            "line",
        ],
        &people,
        |(p, dates), v| {
            v.extend([
                Value::from(&*p.employee_id),
                p.email.as_deref().into(),
                p.given_name.as_str().into(),
                p.family_name.as_str().into(),
                p.department.as_str().into(),
                p.title.as_str().into(),
                p.manager_id.as_deref().into(),
                p.location.as_str().into(),
                p.worker_type.as_str().into(),
                p.status.as_str().into(),
                dates[0].as_deref().into(),
                dates[1].as_deref().into(),
                dates[2].as_deref().into(),
                import_id.into(),
                i64::from(p.origin.line).into(),
            ])
        },
    )?;
    Ok(())
}

/// Refuses an import that holds one account, entitlement or badge twice: the snapshot
/// would hold both and the graph would see two records with one key. Importers refuse
/// duplicates with the file's line; this is the store's own guard for whole imports,
/// whoever calls it. (A streamed import's accounts come from the CSV parser, which checks
/// every key as it reads; checking them again here took a third of the writer's time at
/// 1,000,000 people.)
fn refuse_duplicates(new: &NewImport<'_>) -> Result<(), StoreError> {
    let mut seen = rustc_hash::FxHashSet::default();
    for a in new.accounts {
        if !seen.insert((&*a.system, &*a.account_id)) {
            return Err(duplicate("account", &a.system, &a.account_id));
        }
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for e in new.entitlements {
        if !seen.insert((&*e.system, &*e.name)) {
            return Err(duplicate("entitlement", &e.system, &e.name));
        }
    }
    let mut seen = rustc_hash::FxHashSet::default();
    for b in new.badges {
        if !seen.insert((&*b.system, &*b.badge_id)) {
            return Err(duplicate("badge", &b.system, &b.badge_id));
        }
    }
    Ok(())
}

fn duplicate(record: &str, system: &str, key: &str) -> StoreError {
    StoreError::Invalid(format!("the import holds {record} {system}/{key} twice; each {record} of a system is one record"))
}

/// Certifications recorded by Annexa's own campaigns (`certifications`): a grant takes the
/// later of its source's last-certified date and Annexa's, so a closed campaign lowers the
/// next audit's `certification-overdue` count whatever the source exports.
fn apply_certifications(tx: &mut crate::db::Tx<'_>, g: &mut IdentityGraph) -> Result<(), StoreError> {
    let mut recorded: HashMap<(String, String, String), (i64, String)> = HashMap::new();
    tx.query_each("SELECT system, account_id, entitlement, certified_at, certified_by FROM certifications", &[], |r| {
        recorded.insert(
            (r.req_text(0)?.to_string(), r.req_text(1)?.to_string(), r.req_text(2)?.to_string()),
            (r.req_int(3)?, r.req_text(4)?.to_string()),
        );
        Ok(())
    })?;
    if recorded.is_empty() {
        return Ok(());
    }
    for grant in &mut g.grants {
        let account = &g.accounts[grant.account as usize];
        let entitlement = &g.entitlements[grant.entitlement as usize];
        let key = (account.system.to_string(), account.account_id.to_string(), entitlement.name.to_string());
        if let Some((at, by)) = recorded.get(&key) {
            let at = crate::instant(Some(*at));
            if at > grant.last_certified_at {
                grant.last_certified_at = at;
                grant.last_certified_by = Some(by.as_str().into());
            }
        }
    }
    Ok(())
}

/// Stores `parts` of import `import_id`'s snapshot after the `stored` ones (see
/// `snapshot_parts` in migration 25).
fn store_parts(tx: &mut Tx<'_>, import_id: i64, stored: &mut i64, parts: Vec<Vec<u8>>) -> Result<(), StoreError> {
    for part in parts {
        tx.execute(
            "INSERT INTO snapshot_parts (import_id, seq, data) VALUES (?, ?, ?)",
            &[import_id.into(), (*stored).into(), Value::Blob(&part)],
        )?;
        *stored += 1;
    }
    Ok(())
}

/// Import `import_id`'s snapshot: its head and, for a streamed import, its parts joined in
/// order; `None` when it has none.
pub(crate) fn snapshot_of(tx: &mut Tx<'_>, import_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let mut size = 0i64;
    tx.query_each("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM snapshot_parts WHERE import_id = ?", &[import_id.into()], |r| {
        size = r.req_int(0)?;
        Ok(())
    })?;
    let mut blob = None;
    tx.query_each("SELECT data FROM snapshots WHERE import_id = ?", &[import_id.into()], |r| {
        let head = r.blob(0)?;
        let mut joined = Vec::with_capacity(head.len() + usize::try_from(size).unwrap_or(0));
        joined.extend_from_slice(head);
        blob = Some(joined);
        Ok(())
    })?;
    let Some(mut blob) = blob else { return Ok(None) };
    if size > 0 {
        tx.query_each("SELECT data FROM snapshot_parts WHERE import_id = ? ORDER BY seq", &[import_id.into()], |r| {
            blob.extend_from_slice(r.blob(0)?);
            Ok(())
        })?;
    }
    Ok(Some(blob))
}
