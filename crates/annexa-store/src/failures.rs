//! Sources that failed to import by themselves: what an identity provider pushed, which
//! the scheduler of `annexa serve` imports on its own. A failure is kept (one row per
//! source, the latest attempt) so that an operator sees it in `annexa imports`, and so the
//! scheduler knows not to try the same snapshot again; the next import of the source
//! removes it (in [`Store::import`]'s transaction).

use crate::{Store, StoreError};
use annexa_core::time::Instant;

/// The latest failed import of one source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportFailure {
    /// The import kind (`scim`).
    pub kind: String,
    pub system: String,
    /// SHA-256 of the snapshot that failed.
    pub sha256: String,
    /// Where that snapshot was written.
    pub file: String,
    /// Why it failed, as the importer said it.
    pub error: String,
    pub first_failed_at: Instant,
    pub last_failed_at: Instant,
    /// How many times in a row this source failed (any snapshot).
    pub attempts: u64,
}

impl Store {
    /// Records that importing `system`'s snapshot `sha256` (written to `file`) failed.
    pub fn record_import_failure(&mut self, kind: &str, system: &str, sha256: &str, file: &str, error: &str, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE import_failures SET sha256 = ?, file = ?, error = ?, last_failed_at = ?, attempts = attempts + 1 WHERE kind = ? AND system = ?",
            &[sha256.into(), file.into(), error.into(), now.timestamp().into(), kind.into(), system.into()],
        )?;
        if n == 0 {
            tx.execute(
                "INSERT INTO import_failures (kind, system, sha256, file, error, first_failed_at, last_failed_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                &[kind.into(), system.into(), sha256.into(), file.into(), error.into(), now.timestamp().into(), now.timestamp().into()],
            )?;
        }
        tx.commit()
    }

    /// Every source whose latest automatic import failed, by kind and system.
    pub fn import_failures(&mut self) -> Result<Vec<ImportFailure>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            "SELECT kind, system, sha256, file, error, first_failed_at, last_failed_at, attempts FROM import_failures ORDER BY kind, system",
            &[],
            |r| {
                out.push(ImportFailure {
                    kind: r.req_text(0)?.to_string(),
                    system: r.req_text(1)?.to_string(),
                    sha256: r.req_text(2)?.to_string(),
                    file: r.req_text(3)?.to_string(),
                    error: r.req_text(4)?.to_string(),
                    first_failed_at: crate::instant(Some(r.req_int(5)?)).unwrap_or_default(),
                    last_failed_at: crate::instant(Some(r.req_int(6)?)).unwrap_or_default(),
                    attempts: r.req_int(7)? as u64,
                });
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }
}
