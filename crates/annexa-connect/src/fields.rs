//! Typed field parsing shared by the importers, with messages that say what was expected.

use crate::error::quote;
use crate::table::{ColumnRef, Row};
use crate::ImportError;
use annexa_core::time::{parse_instant, Instant};

/// An optional date-time (RFC 3339, ISO date, or date-time without offset = UTC).
pub(crate) fn instant(row: &Row<'_>, column: impl ColumnRef) -> Result<Option<Instant>, ImportError> {
    match row.optional(column)? {
        None => Ok(None),
        Some(t) => parse_instant(t).map(Some).ok_or_else(|| {
            row.error(column.name(), format!("{} is not a date: expected RFC 3339 (2024-01-31T09:00:00Z) or YYYY-MM-DD", quote(t)))
        }),
    }
}

/// A boolean written as true/false, yes/no, 1/0 or y/n; empty is `default`.
pub(crate) fn boolean(row: &Row<'_>, column: impl ColumnRef, default: bool) -> Result<bool, ImportError> {
    let t = row.text(column)?;
    let is = |words: &[&str]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if t.is_empty() {
        Ok(default)
    } else if is(&["true", "yes", "y", "1"]) {
        Ok(true)
    } else if is(&["false", "no", "n", "0"]) {
        Ok(false)
    } else {
        Err(row.error(column.name(), format!("{} is not a boolean: expected true or false", quote(t))))
    }
}

/// A value of a closed vocabulary, via its `parse` and `expected` functions.
pub(crate) fn vocab<T>(
    row: &Row<'_>,
    column: impl ColumnRef,
    parse: fn(&str) -> Option<T>,
    expected: fn() -> String,
    default: Option<T>,
) -> Result<T, ImportError> {
    let t = row.text(column)?;
    if t.is_empty() {
        return default.ok_or_else(|| row.error(column.name(), format!("a value is required: one of {}", expected())));
    }
    parse(t).ok_or_else(|| row.error(column.name(), format!("unknown value {}: expected one of {}", quote(t), expected())))
}

/// Emails compare ignoring case and Unicode compatibility forms; store them as their key.
pub(crate) fn email(row: &Row<'_>, column: impl ColumnRef) -> Result<Option<String>, ImportError> {
    match row.optional(column)? {
        None => Ok(None),
        Some(t) if t.contains('@') => Ok(Some(annexa_core::text::email_key(t).into_owned())),
        Some(t) => Err(row.error(column.name(), format!("{} is not an email address", quote(t)))),
    }
}

/// Hands out one shared [`annexa_core::Name`] per distinct string, so a system or group
/// name repeated on a million rows is stored once.
#[derive(Default)]
pub(crate) struct Interner {
    names: rustc_hash::FxHashMap<Box<str>, annexa_core::Name>,
    /// Per column ([`Interner::get_repeated`]), the name it was last given.
    recent: [Option<annexa_core::Name>; 4],
}

/// The columns [`Interner::get_repeated`] remembers a name for.
pub(crate) mod column {
    pub(crate) const SYSTEM: usize = 0;
    pub(crate) const ACCOUNT: usize = 1;
    pub(crate) const GRANTED_BY: usize = 2;
    pub(crate) const CERTIFIED_BY: usize = 3;
}

impl Interner {
    /// [`Interner::get`] for a column whose value is mostly the previous row's (exports
    /// list an account's assignments together, every row names its system): compared with
    /// that first, which costs less than hashing it.
    pub(crate) fn get_repeated(&mut self, column: usize, s: &str) -> annexa_core::Name {
        if let Some(Some(last)) = self.recent.get(column) {
            if **last == *s {
                return last.clone();
            }
        }
        let name = self.get(s);
        if let Some(slot) = self.recent.get_mut(column) {
            *slot = Some(name.clone());
        }
        name
    }

    pub(crate) fn get(&mut self, s: &str) -> annexa_core::Name {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n: annexa_core::Name = s.into();
        self.names.insert(s.into(), n.clone());
        n
    }

    /// The identity of a name this interner handed out: it keeps one allocation per
    /// distinct string for as long as it lives, so two of its names are equal exactly when
    /// their identities are. A key of identities hashes and compares in a few instructions
    /// and takes no reference counts (an assignments file checks millions of keys).
    pub(crate) fn identity(name: &annexa_core::Name) -> usize {
        std::sync::Arc::as_ptr(name) as *const u8 as usize
    }

    /// The name whose [`Interner::identity`] is `identity`: a search of every name, for an
    /// error message.
    pub(crate) fn name_of(&self, identity: usize) -> Option<&annexa_core::Name> {
        self.names.values().find(|n| Interner::identity(n) == identity)
    }
}

/// The system of a CSV row: its `system` column, or `--system` when the column is empty.
/// A row naming another system than `--system` is an error, not a silent override.
pub(crate) fn system(
    row: &Row<'_>,
    column: impl ColumnRef,
    options: &crate::ImportOptions,
    interner: &mut Interner,
) -> Result<annexa_core::Name, ImportError> {
    let given = options.system.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match (row.text(column)?, given) {
        ("", Some(s)) => Ok(interner.get_repeated(column::SYSTEM, s)),
        ("", None) => Err(row.error("system", "a value is required (or name the system with --system)")),
        (t, Some(s)) if t != s => Err(row.error("system", format!("row is for system {} but --system says {}", quote(t), quote(s)))),
        (t, _) => Ok(interner.get_repeated(column::SYSTEM, t)),
    }
}

/// Adds `system` to the batch's list of replaced systems, once.
pub(crate) fn note_system(systems: &mut Vec<String>, system: &str) {
    if !systems.iter().any(|s| s == system) {
        systems.push(system.to_string());
    }
}
