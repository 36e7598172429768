//! Leases on the server's recurring jobs (see migration 20): what lets several instances on
//! one database run each job once per interval. Times are milliseconds since the epoch, so
//! that intervals of a second lease correctly.

use crate::{Store, StoreError};

impl Store {
    /// Takes the lease on job `name` for `holder` until `now + ttl_ms` when the job is due
    /// and nobody else holds it; true when taken.
    pub fn lease_job(&mut self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO job_leases (name, holder, leased_until, next_due_at, runs) VALUES (?, NULL, 0, 0, 0) ON CONFLICT (name) DO NOTHING",
            &[name.into()],
        )?;
        let n = tx.execute(
            "UPDATE job_leases SET holder = ?, leased_until = ? WHERE name = ? AND next_due_at <= ? AND (holder IS NULL OR leased_until <= ?)",
            &[holder.into(), (now_ms + ttl_ms).into(), name.into(), now_ms.into(), now_ms.into()],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// Extends `holder`'s lease on `name` while the job runs; false when it lost it.
    pub fn renew_job(&mut self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE job_leases SET leased_until = ? WHERE name = ? AND holder = ?",
            &[(now_ms + ttl_ms).into(), name.into(), holder.into()],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// Records that `holder` finished job `name`: due again at `next_due_ms`, lease released.
    pub fn finish_job(&mut self, name: &str, holder: &str, next_due_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE job_leases SET holder = NULL, leased_until = 0, next_due_at = ?, runs = runs + 1 WHERE name = ? AND holder = ?",
            &[next_due_ms.into(), name.into(), holder.into()],
        )?;
        tx.commit()
    }

    /// How many times job `name` has finished, on any instance.
    pub fn job_runs(&mut self, name: &str) -> Result<u64, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut runs = 0;
        tx.query_each("SELECT runs FROM job_leases WHERE name = ?", &[name.into()], |r| {
            runs = r.req_int(0)? as u64;
            Ok(())
        })?;
        tx.commit()?;
        Ok(runs)
    }
}
