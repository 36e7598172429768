//! The one error every importer returns: where in the file, and what was expected.

use thiserror::Error;

/// A rejected input. Displayed as `FILE:LINE: column COL: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}{}: {message}", column.as_ref().map(|c| format!(": column `{c}`")).unwrap_or_default())]
pub struct ImportError {
    pub file: String,
    /// 1-based line (CSV; the header is line 1) or the line an LDIF entry starts on;
    /// 0 when the problem is the file as a whole.
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl ImportError {
    pub fn new(file: &str, line: u64, column: Option<&str>, message: impl Into<String>) -> ImportError {
        ImportError { file: file.to_string(), line, column: column.map(String::from), message: message.into() }
    }
}
