//! Badge (physical access) exports: `badge_id,employee_id,status,last_used_at,zones`.

use crate::error::Refusals;
use crate::fields::{instant, note_system, vocab, Interner};
use crate::table::{KeySet, Row, Table};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Badge, BadgeStatus, Origin};

pub const REQUIRED: &[&str] = &["badge_id", "employee_id", "status", "last_used_at", "zones"];

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let mut table = Table::open(file, bytes, REQUIRED, &[], &Default::default())?;
    let system_name = options.system.clone().unwrap_or_else(|| crate::default_system(ImportKind::Badges).to_string());
    let mut interner = Interner::default();
    let system = interner.get(&system_name);
    let mut batch = ImportBatch::default();
    note_system(&mut batch.systems, &system_name);
    // Sized once: a set and a list of a million grown step by step rehash and copy each time.
    let rows = table.rows_hint();
    batch.badges.reserve(rows);
    let mut ids = KeySet::with_capacity("badge_id", rows);
    let mut refusals = Refusals::new(options);
    // Split into records on another thread while the rows before become badges.
    table.read_ahead(|rows| -> Result<(), ImportError> {
        while let Some(row) = rows.next_good_row(&mut refusals)? {
            match badge(&row, &system, &mut ids) {
                Ok(badge) => batch.badges.push(badge),
                Err(e) => refusals.refuse(e)?,
            }
        }
        Ok(())
    })?;
    batch.rows = (batch.badges.len() + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok(batch)
}

fn badge(row: &Row<'_>, system: &annexa_core::Name, ids: &mut KeySet) -> Result<Badge, ImportError> {
    let badge_id = row.required("badge_id")?;
    ids.insert(row, "badge_id", badge_id.to_string())?;
    Ok(Badge {
        system: system.clone(),
        badge_id: badge_id.into(),
        employee_id: row.optional("employee_id")?.map(Into::into),
        status: vocab(row, "status", BadgeStatus::parse, BadgeStatus::expected, None)?,
        last_used_at: instant(row, "last_used_at")?,
        zones: row.text("zones")?.split(['|', ';']).map(str::trim).filter(|z| !z.is_empty()).map(String::from).collect(),
        origin: Origin { import_id: 0, line: row.line_u32() },
    })
}
