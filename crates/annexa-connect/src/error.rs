//! The one error every importer returns: where in the file, and what was expected.

use thiserror::Error;

/// At most this many characters of an input value are quoted in a message or a quarantine
/// report: a refusal names the offending value, it never echoes a 10 MB line back.
pub const EXCERPT_CHARS: usize = 80;

/// A message never grows past this, whatever it quotes (a last guard: quoting sites cut
/// their values to [`EXCERPT_CHARS`] already).
const MAX_MESSAGE_CHARS: usize = 1000;

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
    /// The offending input, cut to [`EXCERPT_CHARS`] (see [`excerpt`]), when one value is
    /// to blame: what a quarantine report shows beside the message.
    pub value: Option<String>,
}

impl ImportError {
    pub fn new(file: &str, line: u64, column: Option<&str>, message: impl Into<String>) -> ImportError {
        let mut message = message.into();
        if message.chars().count() > MAX_MESSAGE_CHARS {
            message = format!("{}…", message.chars().take(MAX_MESSAGE_CHARS).collect::<String>());
        }
        ImportError { file: file.to_string(), line, column: column.map(String::from), message, value: None }
    }

    /// The same error, naming `value` as the offending input.
    pub fn with_value(mut self, value: &str) -> ImportError {
        self.value = Some(excerpt(value));
        self
    }
}

/// A row (a CSV line, an LDIF entry, a SCIM resource) that a lenient import set aside, and
/// why: a line of the quarantine report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefusedRow {
    /// Where the row starts (as in [`ImportError::line`]).
    pub line: u64,
    pub column: Option<String>,
    /// The offending value (an [`excerpt`]), or "" when no one value is to blame.
    pub value: String,
    pub reason: String,
    /// The key of the record the row was about, when it could be read (HR: the
    /// `employee_id`), so that the caller can keep that record's previous state.
    #[serde(skip)]
    pub key: Option<String>,
}

impl From<ImportError> for RefusedRow {
    fn from(e: ImportError) -> RefusedRow {
        RefusedRow { line: e.line, column: e.column, value: e.value.unwrap_or_default(), reason: e.message, key: None }
    }
}

/// Where a row's refusal goes: back to the caller, failing the whole file (strict, the
/// default), or into the batch's quarantine while the other rows import (lenient).
pub(crate) struct Refusals {
    lenient: bool,
    rows: Vec<RefusedRow>,
}

impl Refusals {
    pub(crate) fn new(options: &crate::ImportOptions) -> Refusals {
        Refusals { lenient: options.lenient, rows: Vec::new() }
    }

    /// A row-level problem: the import's error when strict; the row set aside when lenient.
    pub(crate) fn refuse(&mut self, e: ImportError) -> Result<(), ImportError> {
        if !self.lenient {
            return Err(e);
        }
        self.rows.push(e.into());
        Ok(())
    }

    /// [`Refusals::refuse`], naming the key of the record the row was about.
    pub(crate) fn refuse_keyed(&mut self, e: ImportError, key: Option<&str>) -> Result<(), ImportError> {
        self.refuse(e)?;
        if let Some(row) = self.rows.last_mut() {
            row.key = key.filter(|k| !k.is_empty()).map(String::from);
        }
        Ok(())
    }

    pub(crate) fn is_lenient(&self) -> bool {
        self.lenient
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The refused rows, in file order.
    pub(crate) fn into_rows(mut self) -> Vec<RefusedRow> {
        self.rows.sort_by_key(|r| r.line);
        self.rows
    }
}

/// `value` cut after [`EXCERPT_CHARS`] characters, with `…` where it was cut.
pub fn excerpt(value: &str) -> String {
    match value.char_indices().nth(EXCERPT_CHARS) {
        None => value.to_string(),
        Some((end, _)) => format!("{}…", &value[..end]),
    }
}

/// `value` as a message quotes it: an [`excerpt`], in double quotes, escaped (`{:?}`), so
/// that a control character or a line break in the input cannot forge a line of output.
pub fn quote(value: &str) -> String {
    format!("{:?}", excerpt(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_short_excerpts() {
        assert_eq!(quote("ada"), "\"ada\"");
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
        let long = "é".repeat(10_000);
        let q = quote(&long);
        assert_eq!(q.chars().count(), EXCERPT_CHARS + 3, "{q}");
        assert!(q.ends_with("…\""), "{q}");
        let e = ImportError::new("f", 1, None, "x".repeat(1_000_000));
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
