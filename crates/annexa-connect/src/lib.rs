//! Annexa's importers: turn the files organisations already have into domain records.
//!
//! Each importer reads one file kind ([`ImportKind`]) and returns an [`ImportBatch`]: the
//! people, accounts, entitlements, assignments and badges it holds, each tagged with the
//! line (or LDIF entry) it came from. Parsing is all-or-nothing: the first bad record stops
//! the import with an [`ImportError`] naming the file, the line, the column and what was
//! expected, so nothing half-read ever reaches the store.
//!
//! Importers never touch the database; the caller hashes the file, hands the bytes here,
//! and stores the batch in one transaction.
//!
//! ```
//! use annexa_connect::{parse, ImportKind, ImportOptions};
//! let csv = "badge_id,employee_id,status,last_used_at,zones\nB1,E1,active,2026-01-02,hq|lab\n";
//! let batch = parse(ImportKind::Badges, "badges.csv", csv.as_bytes(), &ImportOptions::default()).unwrap();
//! assert_eq!(batch.badges.len(), 1);
//! assert_eq!(batch.badges[0].zones, ["hq", "lab"]);
//! ```

mod error;
mod fields;
mod table;

pub mod accounts;
pub mod assignments;
pub mod aws;
pub mod badges;
pub mod connector;
pub mod hr;
pub mod ldap;
pub mod ldif;
pub mod scim_client;
pub mod scim_snapshot;
pub mod tls;

pub use error::ImportError;

use annexa_core::model::{Account, Assignment, Badge, Entitlement, Person};
use std::collections::BTreeMap;

pub use annexa_core::model::ImportKind;

/// The system name used when the user gives none and the file has no system column.
pub fn default_system(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Ldif => "ldap",
        ImportKind::AwsCredentialReport => "aws",
        ImportKind::Badges => "badges",
        ImportKind::Scim => "scim",
        _ => "",
    }
}

/// What the user told the importer beyond the file itself.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `--system`: the system of every record (a CSV's `system` column may be empty or equal).
    pub system: Option<String>,
    /// HR column mapping: canonical column -> the export's column name.
    pub hr_columns: BTreeMap<String, String>,
    /// Extra entitlement names to treat as privileged in LDIF imports (case-insensitive),
    /// on top of Active Directory's built-in privileged groups.
    pub privileged_groups: Vec<String>,
}

/// Everything one file holds, ready to replace its source's previous snapshot.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// The systems whose records this batch replaces (empty for HR, which is one source).
    pub systems: Vec<String>,
    pub people: Vec<Person>,
    pub accounts: Vec<Account>,
    pub entitlements: Vec<Entitlement>,
    pub assignments: Vec<Assignment>,
    pub badges: Vec<Badge>,
    /// Data rows (CSV) or entries (LDIF) read.
    pub rows: u64,
}

/// Parses `bytes` (the content of `file`) as `kind`. `file` is only used in messages.
pub fn parse(kind: ImportKind, file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    match kind {
        ImportKind::Hr => hr::parse(file, bytes, options),
        ImportKind::Accounts => accounts::parse(file, bytes, options),
        ImportKind::Assignments => assignments::parse(file, bytes, options),
        ImportKind::Ldif => ldif::parse(file, bytes, options),
        ImportKind::AwsCredentialReport => aws::parse(file, bytes, options),
        ImportKind::Badges => badges::parse(file, bytes, options),
        ImportKind::Scim => scim_snapshot::parse(file, bytes, options),
    }
}
