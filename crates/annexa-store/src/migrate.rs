//! Embedded schema migrations, applied in order when a store opens.

use crate::db::{Conn, Dialect, Tx, Value};
use crate::StoreError;

/// What a migration does to data, beyond its SQL: run in the same transaction, after it.
type DataStep = fn(&mut Tx<'_>) -> Result<(), StoreError>;

/// (version, name, SQL, data step). Append only: a released migration never changes.
const MIGRATIONS: &[(i64, &str, &str, Option<DataStep>)] = &[
    (1, "identity", include_str!("../migrations/0001_identity.sql"), None),
    (2, "ledger", include_str!("../migrations/0002_ledger.sql"), None),
    (3, "jml", include_str!("../migrations/0003_jml.sql"), None),
    (4, "provisioning", include_str!("../migrations/0004_provisioning.sql"), None),
    (5, "manual-tasks", include_str!("../migrations/0005_manual_tasks.sql"), None),
    (6, "scim", include_str!("../migrations/0006_scim.sql"), None),
    (7, "scim-hardening", include_str!("../migrations/0007_scim_hardening.sql"), Some(crate::scim::remove_stored_passwords)),
    (8, "subject-keys", include_str!("../migrations/0008_subject_keys.sql"), Some(crate::rekey::rekey_findings)),
    (9, "finding-queries", include_str!("../migrations/0009_finding_queries.sql"), Some(crate::audit::fill_finding_systems)),
    (10, "compact-findings", include_str!("../migrations/0010_compact_findings.sql"), Some(crate::run::compact_findings)),
    (11, "quarantine", include_str!("../migrations/0011_quarantine.sql"), None),
    (12, "packed-bodies", include_str!("../migrations/0012_packed_bodies.sql"), Some(crate::run::pack_stored_bodies)),
    (13, "findings-lifecycle", include_str!("../migrations/0013_findings_lifecycle.sql"), None),
    (14, "nonconformities", include_str!("../migrations/0014_nonconformities.sql"), None),
    (15, "campaigns", include_str!("../migrations/0015_campaigns.sql"), None),
    (16, "risks", include_str!("../migrations/0016_risks.sql"), None),
    (17, "soa", include_str!("../migrations/0017_soa.sql"), None),
    (18, "api-roles", include_str!("../migrations/0018_api_roles.sql"), None),
    (19, "users", include_str!("../migrations/0019_users.sql"), None),
    (20, "job-leases", include_str!("../migrations/0020_job_leases.sql"), None),
    (21, "campaign-access-by-campaign", include_str!("../migrations/0021_campaign_access_by_campaign.sql"), None),
    (22, "finding-keys", include_str!("../migrations/0022_finding_keys.sql"), None),
    (
        23,
        "current-snapshots",
        include_str!("../migrations/0023_current_snapshots.sql"),
        Some(crate::retired_tables::reencode_old_snapshots),
    ),
    (24, "records-in-snapshots", include_str!("../migrations/0024_records_in_snapshots.sql"), None),
    (25, "snapshot-parts", include_str!("../migrations/0025_snapshot_parts.sql"), None),
    (26, "first-versions-inline", include_str!("../migrations/0026_first_versions_inline.sql"), None),
];

/// The highest schema version this build knows.
pub const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

fn dialect_sql(sql: &str, dialect: Dialect) -> String {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    };
    let blob = match dialect {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    // A table that is only its key is stored once as a B-tree of that key on SQLite.
    let without_rowid = match dialect {
        Dialect::Sqlite => " WITHOUT ROWID",
        Dialect::Postgres => "",
    };
    sql.replace("{{id}}", id).replace("{{blob}}", blob).replace("{{without_rowid}}", without_rowid)
}

pub(crate) fn run(conn: &mut Conn) -> Result<(), StoreError> {
    run_to(conn, LATEST)
}

/// Applies the migrations up to `version` only: a database as an earlier Annexa left it,
/// for the tests of upgrades.
pub(crate) fn run_to(conn: &mut Conn, version_limit: i64) -> Result<(), StoreError> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )?;
    let dialect = conn.dialect();
    let mut tx = conn.transaction()?;
    if dialect == Dialect::Postgres {
        // Several `annexa serve` instances may start at once: one migrates, the others wait.
        tx.execute("SELECT pg_advisory_xact_lock(7216012026)", &[])?;
    }
    let mut applied = Vec::new();
    tx.query_each("SELECT version FROM schema_migrations", &[], |r| {
        applied.push(r.req_int(0)?);
        Ok(())
    })?;
    if let Some(newer) = applied.iter().find(|v| **v > LATEST) {
        return Err(StoreError::Corrupt(format!(
            "the database schema is version {newer}, newer than this annexa ({LATEST}); upgrade annexa"
        )));
    }
    for (version, name, sql, data_step) in MIGRATIONS {
        if applied.contains(version) || *version > version_limit {
            continue;
        }
        match &mut tx {
            crate::db::Tx::Sqlite(t) => t.execute_batch(&dialect_sql(sql, dialect))?,
            crate::db::Tx::Postgres(t) => t.batch_execute(&dialect_sql(sql, dialect))?,
        }
        if let Some(step) = data_step {
            step(&mut tx)?;
        }
        let now = chrono::Utc::now().timestamp();
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            &[Value::from(*version), Value::from(*name), Value::from(now)],
        )?;
    }
    tx.commit()
}
