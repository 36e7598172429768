//! Annexa's renderers of values into the files people and auditors open.
//!
//! So far: the reviewer's worksheet of an access certification campaign ([`worksheet`]),
//! for offline review, written as XLSX (protected, every cell locked but the decision and
//! the comment, a drop-down for the decision) or CSV, and read back with a per-row
//! integrity code that tells whether anything but the decision and the comment changed.
//!
//! ```no_run
//! use annexa_report::worksheet::{write, read, WorksheetRow};
//! let key = [7u8; 32];
//! let rows: Vec<WorksheetRow> = Vec::new();
//! write(std::path::Path::new("review.xlsx"), &rows, &key)?;
//! for row in read(std::path::Path::new("review.xlsx"), &key)? {
//!     println!("item {} -> {:?} (intact: {})", row.item, row.decision, row.intact);
//! }
//! # Ok::<(), annexa_report::ReportError>(())
//! ```
//!
//! Architecture invariant: no database and no use case here: values in, files out (and
//! back). The app decides what a returned row means.

pub mod auditor;
pub mod charts;
pub mod oscal;
pub mod soa;
pub mod svg;
pub mod tables;
pub mod worksheet;

/// A file that cannot be written, or read back as what this crate wrote.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {file}: {message}")]
    Write { file: String, message: String },
    #[error("{file}: {message}")]
    Read { file: String, message: String },
}
