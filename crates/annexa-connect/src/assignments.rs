//! Generic assignments CSV: which account holds which entitlement, since when, and why.

use crate::fields::{boolean, instant, note_system, system, vocab, Interner};
use crate::table::{KeySet, Table};
use crate::{ImportBatch, ImportError, ImportOptions};
use annexa_core::model::{Assignment, Entitlement, GrantSource, Origin};
use std::collections::HashMap;

pub const REQUIRED: &[&str] = &["system", "account_id", "entitlement", "privileged", "granted_at", "granted_by", "source"];
pub const OPTIONAL: &[&str] = &["last_certified_at", "last_certified_by", "entitlement_owner"];

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let mut table = Table::open(file, bytes, REQUIRED, OPTIONAL, &Default::default())?;
    let mut batch = ImportBatch::default();
    let mut interner = Interner::default();
    let mut keys: KeySet<(annexa_core::Name, annexa_core::Name, annexa_core::Name)> = KeySet::new("assignment");
    // (system, entitlement) -> index in batch.entitlements
    let mut entitlements: HashMap<(annexa_core::Name, annexa_core::Name), usize> = HashMap::new();
    while let Some(row) = table.next_row() {
        let row = row?;
        let system = system(&row, options, &mut interner)?;
        let account_id = row.required("account_id")?;
        let entitlement = interner.get(row.required("entitlement")?);
        let account_id = interner.get(account_id);
        keys.insert_with(&row, "entitlement", (system.clone(), account_id.clone(), entitlement.clone()), |(s, a, e)| {
            format!("{s}/{a}/{e}")
        })?;
        note_system(&mut batch.systems, &system);
        let privileged = boolean(&row, "privileged", false)?;
        let owner = row.optional("entitlement_owner")?.map(String::from);
        let line = row.line_u32();
        let slot = *entitlements.entry((system.clone(), entitlement.clone())).or_insert_with(|| {
            batch.entitlements.push(Entitlement {
                system: system.clone(),
                name: entitlement.clone(),
                privileged,
                owner: owner.clone(),
                origin: Origin { import_id: 0, line },
            });
            batch.entitlements.len() - 1
        });
        let ent = &mut batch.entitlements[slot];
        if ent.privileged != privileged {
            return Err(row.error(
                "privileged",
                format!(
                    "entitlement {system}/{entitlement} is privileged={} on line {} but privileged={privileged} here; \
                     an entitlement is privileged or not",
                    ent.privileged, ent.origin.line
                ),
            ));
        }
        if ent.owner.is_none() {
            ent.owner = owner;
        }
        batch.assignments.push(Assignment {
            system,
            account_id,
            entitlement,
            granted_at: instant(&row, "granted_at")?,
            granted_by: row.optional("granted_by")?.map(|g| interner.get(g)),
            source: vocab(&row, "source", GrantSource::parse, GrantSource::expected, Some(GrantSource::Unknown))?,
            last_certified_at: instant(&row, "last_certified_at")?,
            last_certified_by: row.optional("last_certified_by")?.map(|c| interner.get(c)),
            origin: Origin { import_id: 0, line },
        });
    }
    // A file without rows still speaks for the system it was given (`--allow-empty`
    // then retires that system's records).
    if let Some(system) = options.system.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        note_system(&mut batch.systems, system);
    }
    batch.rows = batch.assignments.len() as u64;
    Ok(batch)
}
