//! Generic assignments CSV: which account holds which entitlement, since when, and why.

use crate::error::Refusals;
use crate::fields::{boolean, column, instant, note_system, system, vocab, Interner};
use crate::table::{Column, DeferredKeys, KeySet, Row, Table};
use crate::{ImportBatch, ImportError, ImportOptions};
use annexa_core::model::{Assignment, Entitlement, GrantSource, Origin};

pub const REQUIRED: &[&str] = &["system", "account_id", "entitlement", "privileged", "granted_at", "granted_by", "source"];
pub const OPTIONAL: &[&str] = &["last_certified_at", "last_certified_by", "entitlement_owner"];

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let (mut batch, assignments) = crate::whole(|emit| parse_streamed(file, bytes, options, usize::MAX, emit))?;
    batch.assignments = assignments;
    Ok(batch)
}

/// [`parse`], handing the assignments to `emit` as they are read, `chunk` at a time (with
/// `usize::MAX`, once, in a vector sized for the whole file), so that they can be stored
/// while the rest is read; the batch returned holds everything else. `emit` returns false when
/// its receiver stopped (storing failed): reading stops there.
pub fn parse_streamed(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    chunk: usize,
    emit: &mut dyn FnMut(Vec<Assignment>) -> bool,
) -> Result<ImportBatch, ImportError> {
    let mut table = Table::open(file, bytes, REQUIRED, OPTIONAL, &Default::default())?;
    let rows = table.rows_hint();
    let mut interner = Interner::default();
    let mut keys = if options.lenient {
        AssignmentKeys::Now(KeySet::with_capacity("assignment", rows))
    } else {
        AssignmentKeys::Later(DeferredKeys::with_capacity(rows))
    };
    let read = read_rows(&mut table, options, chunk, emit, &mut interner, &mut keys);
    let AssignmentKeys::Later(later) = keys else { return read.map(|(batch, _)| batch) };
    if matches!(read, Ok((_, Stopped::Early))) {
        return read.map(|(batch, _)| batch);
    }
    // Strict: the file's error is its first problem, a repeated key or another.
    match (later.first_repeat(), read) {
        (Some(repeat), Ok(_)) => Err(repeat_error(&table, &interner, &repeat)),
        (Some(repeat), Err(e)) if repeat.line <= e.line => Err(repeat_error(&table, &interner, &repeat)),
        (_, read) => read.map(|(batch, _)| batch),
    }
}

/// Whether reading went to the end of the file or stopped because `emit` did.
enum Stopped {
    AtTheEnd,
    Early,
}

/// [`parse_streamed`]'s reading of the rows.
fn read_rows(
    table: &mut Table<'_>,
    options: &ImportOptions,
    chunk: usize,
    emit: &mut dyn FnMut(Vec<Assignment>) -> bool,
    interner: &mut Interner,
    keys: &mut AssignmentKeys,
) -> Result<(ImportBatch, Stopped), ImportError> {
    let mut batch = ImportBatch::default();
    let mut pending = Vec::with_capacity(table.rows_hint().min(chunk));
    let mut assignments = 0usize;
    // (system, entitlement), by identity -> index in batch.entitlements
    let mut entitlements: rustc_hash::FxHashMap<(usize, usize), usize> = Default::default();
    let mut refusals = Refusals::new(options);
    let columns = Columns::of(table);
    // The system of the row before, by identity: a file's systems are noted once each.
    let mut last_system = 0usize;
    let read = table.read_ahead(|rows| {
        while let Some(row) = rows.next_good_row(&mut refusals)? {
            // The row is read whole before anything is recorded, so a refused row (lenient)
            // leaves no entitlement behind.
            let read = assignment(&row, &columns, options, interner, keys).and_then(|read| {
                let known =
                    entitlements.get(&(Interner::identity(&read.assignment.system), Interner::identity(&read.assignment.entitlement)));
                match known.and_then(|&slot| batch.entitlements.get(slot)) {
                    Some(ent) if ent.privileged != read.privileged => Err(row.error(
                        "privileged",
                        format!(
                            "entitlement {}/{} is privileged={} on line {} but privileged={} here; \
                         an entitlement is privileged or not",
                            read.assignment.system, read.assignment.entitlement, ent.privileged, ent.origin.line, read.privileged
                        ),
                    )),
                    _ => Ok(read),
                }
            });
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    refusals.refuse(e)?;
                    continue;
                }
            };
            let a = read.assignment;
            if Interner::identity(&a.system) != last_system {
                last_system = Interner::identity(&a.system);
                note_system(&mut batch.systems, &a.system);
            }
            let slot = *entitlements.entry((Interner::identity(&a.system), Interner::identity(&a.entitlement))).or_insert_with(|| {
                batch.entitlements.push(Entitlement {
                    system: a.system.clone(),
                    name: a.entitlement.clone(),
                    privileged: read.privileged,
                    owner: None,
                    origin: a.origin,
                });
                batch.entitlements.len() - 1
            });
            if let Some(ent) = batch.entitlements.get_mut(slot) {
                if ent.owner.is_none() {
                    ent.owner = read.owner;
                }
            }
            pending.push(a);
            assignments += 1;
            if pending.len() >= chunk && !emit(std::mem::replace(&mut pending, Vec::with_capacity(chunk))) {
                return Ok(Stopped::Early);
            }
        }
        Ok(Stopped::AtTheEnd)
    });
    if let Stopped::Early = read? {
        return Ok((batch, Stopped::Early));
    }
    emit(pending);
    // A file without rows still speaks for the system it was given (`--allow-empty`
    // then retires that system's records).
    if let Some(system) = options.system.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        note_system(&mut batch.systems, system);
    }
    batch.rows = (assignments + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok((batch, Stopped::AtTheEnd))
}

/// (system, account, entitlement), each by its identity in the parse's [`Interner`]:
/// checked as each row is read when the import is lenient (a repeated row is set aside),
/// once the file is read when it is strict (see [`DeferredKeys`]).
enum AssignmentKeys {
    Now(KeySet<(usize, usize, usize)>),
    Later(DeferredKeys<(usize, usize, usize)>),
}

/// The error of a strict import whose file holds one assignment twice, as the lenient
/// import words the row it sets aside.
fn repeat_error(table: &Table<'_>, interner: &Interner, repeat: &crate::table::Repeat<(usize, usize, usize)>) -> ImportError {
    let name = |identity| interner.name_of(identity).map(|n| n.to_string()).unwrap_or_default();
    let (system, account_id, entitlement) = (name(repeat.key.0), name(repeat.key.1), name(repeat.key.2));
    table.error_at(
        repeat.line,
        "entitlement",
        &entitlement,
        crate::table::duplicate_message("assignment", &format!("{system}/{account_id}/{entitlement}"), repeat.first),
    )
}

/// A row, read: the assignment and what it says of its entitlement.
struct Read {
    assignment: Assignment,
    privileged: bool,
    owner: Option<String>,
}

/// The columns an assignment is read from, found once per file.
struct Columns {
    system: Column,
    account_id: Column,
    entitlement: Column,
    privileged: Column,
    entitlement_owner: Column,
    granted_at: Column,
    granted_by: Column,
    source: Column,
    last_certified_at: Column,
    last_certified_by: Column,
}

impl Columns {
    fn of(table: &Table<'_>) -> Columns {
        Columns {
            system: table.column("system"),
            account_id: table.column("account_id"),
            entitlement: table.column("entitlement"),
            privileged: table.column("privileged"),
            entitlement_owner: table.column("entitlement_owner"),
            granted_at: table.column("granted_at"),
            granted_by: table.column("granted_by"),
            source: table.column("source"),
            last_certified_at: table.column("last_certified_at"),
            last_certified_by: table.column("last_certified_by"),
        }
    }
}

fn assignment(
    row: &Row<'_>,
    c: &Columns,
    options: &ImportOptions,
    interner: &mut Interner,
    keys: &mut AssignmentKeys,
) -> Result<Read, ImportError> {
    let system = system(row, c.system, options, interner)?;
    let account_id = row.required(c.account_id)?;
    let entitlement = interner.get(row.required(c.entitlement)?);
    let account_id = interner.get_repeated(column::ACCOUNT, account_id);
    let key = (Interner::identity(&system), Interner::identity(&account_id), Interner::identity(&entitlement));
    match keys {
        // A duplicate's names are this row's: equal identities are equal names.
        AssignmentKeys::Now(keys) => keys.insert_with(row, "entitlement", key, |_| format!("{system}/{account_id}/{entitlement}"))?,
        AssignmentKeys::Later(keys) => keys.push(key, row.line_u32()),
    }
    let privileged = boolean(row, c.privileged, false)?;
    let owner = row.optional(c.entitlement_owner)?.map(String::from);
    let assignment = Assignment {
        system,
        account_id,
        entitlement,
        granted_at: instant(row, c.granted_at)?,
        granted_by: row.optional(c.granted_by)?.map(|g| interner.get_repeated(column::GRANTED_BY, g)),
        source: vocab(row, c.source, GrantSource::parse, GrantSource::expected, Some(GrantSource::Unknown))?,
        last_certified_at: instant(row, c.last_certified_at)?,
        last_certified_by: row.optional(c.last_certified_by)?.map(|by| interner.get_repeated(column::CERTIFIED_BY, by)),
        origin: Origin { import_id: 0, line: row.line_u32() },
    };
    Ok(Read { assignment, privileged, owner })
}
