//! Annexa's importers: turn the files organisations already have into domain records.
//!
//! Each importer reads one file kind ([`ImportKind`]) and returns an [`ImportBatch`]: the
//! people, accounts, entitlements, assignments and badges it holds, each tagged with the
//! line (or LDIF entry) it came from. Parsing is all-or-nothing: the first bad record stops
//! the import with an [`ImportError`] naming the file, the line, the column and what was
//! expected, so nothing half-read ever reaches the store. Only when asked
//! ([`ImportOptions::lenient`]) is a bad row set aside in [`ImportBatch::refused`] instead,
//! whole, while the file's own problems (encoding, header) still fail it.
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
mod json;
mod table;

pub mod accounts;
pub mod assignments;
pub mod aws;
pub mod badges;
pub mod connector;
pub mod entra;
pub mod github;
pub mod google_workspace;
pub mod hr;
pub mod ldap;
pub mod ldif;
pub mod notify;
pub mod okta;
pub mod scim_client;
pub mod scim_snapshot;
pub mod tls;

pub use error::{excerpt, ImportError, RefusedRow};

use annexa_core::model::{Account, Assignment, Badge, Entitlement, Person};

pub use annexa_core::model::ImportKind;

/// The system name used when the user gives none and the file has no system column.
pub fn default_system(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Ldif => "ldap",
        ImportKind::AwsCredentialReport => "aws",
        ImportKind::Badges => "badges",
        ImportKind::Scim => "scim",
        ImportKind::Okta => "okta",
        ImportKind::Entra => "entra",
        ImportKind::GoogleWorkspace => "google-workspace",
        ImportKind::Github => "github",
        _ => "",
    }
}

/// Whether an import of `kind` may be several files (the pages and per-group lists of an
/// identity provider's API), passed as [`ImportOptions::parts`].
pub fn takes_parts(kind: ImportKind) -> bool {
    matches!(kind, ImportKind::Okta | ImportKind::Entra | ImportKind::GoogleWorkspace | ImportKind::Github)
}

/// What the user told the importer beyond the file itself.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `--system`: the system of every record (a CSV's `system` column may be empty or equal).
    pub system: Option<String>,
    /// How an HR export that is not in the canonical form reads as one (`--mapping`).
    pub hr_mapping: hr::Mapping,
    /// Extra entitlement names to treat as privileged in LDIF imports (case-insensitive),
    /// on top of Active Directory's built-in privileged groups.
    pub privileged_groups: Vec<String>,
    /// The files the bytes were concatenated from, in order: each one's name (for messages
    /// and, where the content cannot tell, what the file holds: `groups/{id}/users.json`)
    /// and the byte offset where it starts. Empty: one file, the one `parse` names. Read by
    /// the identity providers' kinds (okta, entra, google-workspace, github) only.
    pub parts: Vec<(String, usize)>,
    /// `--lenient`: a bad row (CSV line, LDIF entry, SCIM resource) is set aside in
    /// [`ImportBatch::refused`] instead of failing the file; problems of the file as a whole
    /// (its encoding, its header, no data) still fail it.
    pub lenient: bool,
    /// `--quarantine FILE`: where a lenient import writes the report of the rows it
    /// refused (read by the caller that stores the batch; the parsers never write).
    pub quarantine: Option<std::path::PathBuf>,
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
    /// Data rows (CSV) or entries (LDIF) read, refused ones included.
    pub rows: u64,
    /// The rows a lenient import set aside (always empty when strict), in file order.
    pub refused: Vec<RefusedRow>,
    /// What was imported all the same but deserves a look (e.g. an HR end date before the
    /// start date of an active person, ignored); displayed like errors.
    pub warnings: Vec<ImportError>,
}

/// A streamed parser's output taken whole: what it emitted, in one vector (the parser's
/// first chunk, sized for the file, when it emitted once), with the rest of its batch.
pub(crate) fn whole<T>(
    parse: impl FnOnce(&mut dyn FnMut(Vec<T>) -> bool) -> Result<ImportBatch, ImportError>,
) -> Result<(ImportBatch, Vec<T>), ImportError> {
    let mut all = Vec::new();
    let batch = parse(&mut |chunk| {
        if all.is_empty() {
            all = chunk;
        } else {
            all.extend(chunk);
        }
        true
    })?;
    Ok((batch, all))
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
        ImportKind::Okta => okta::parse(file, bytes, options),
        ImportKind::Entra => entra::parse(file, bytes, options),
        ImportKind::GoogleWorkspace => google_workspace::parse(file, bytes, options),
        ImportKind::Github => github::parse(file, bytes, options),
    }
}
