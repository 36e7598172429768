//! RFC 2849 syntax: turns the bytes of an LDIF file into entries of raw attribute values.
//!
//! Kept apart from the mapping to accounts and groups because the syntax (folding,
//! comments, base64, change records) is where hostile or broken files are stopped; the
//! mapper then only ever sees well-formed entries with line numbers.

use crate::error::Refusals;
use crate::ImportError;
use base64::Engine as _;
use std::borrow::Cow;

/// No directory attribute we read comes near this; a longer value is a broken or hostile file.
pub(super) const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// One `attr: value` line, options (`;binary`) stripped from the name.
pub(super) struct Attr {
    pub name: String,
    pub line: u64,
    /// Raw bytes: a base64 value may be binary (`objectSid::`), so UTF-8 is only
    /// required of the values the importer reads as text.
    pub value: Vec<u8>,
}

impl Attr {
    /// The value as trimmed text; `name` is the spelling used in the error.
    fn text(&self, file: &str, name: &str) -> Result<&str, ImportError> {
        let text = std::str::from_utf8(&self.value).map(str::trim).map_err(|e| {
            ImportError::new(
                file,
                self.line,
                Some(name),
                format!("the base64 value is not valid UTF-8 text (byte {})", e.valid_up_to() + 1),
            )
        })?;
        // A binary value (`objectSid::`) may hold NUL bytes; text read as a name or an
        // identifier may not (PostgreSQL refuses them, and nothing legitimate has one).
        if let Some(at) = text.find('\0') {
            return Err(
                ImportError::new(file, self.line, Some(name), format!("the value contains a NUL byte (byte {})", at + 1)).with_value(text)
            );
        }
        Ok(text)
    }
}

pub(super) struct Entry {
    /// The line of the entry's `dn:`.
    pub line: u64,
    pub dn: String,
    pub attrs: Vec<Attr>,
}

impl Entry {
    /// Every non-empty value of `name`, trimmed, as text.
    pub(super) fn texts<'e>(&'e self, file: &str, name: &str) -> Result<Vec<&'e str>, ImportError> {
        let mut out = Vec::new();
        for attr in self.attrs.iter().filter(|a| a.name.eq_ignore_ascii_case(name)) {
            let text = attr.text(file, name)?;
            if !text.is_empty() {
                out.push(text);
            }
        }
        Ok(out)
    }

    /// The first non-empty value of `name`, with the line it is on.
    pub(super) fn first(&self, file: &str, name: &str) -> Result<Option<(&str, u64)>, ImportError> {
        for attr in self.attrs.iter().filter(|a| a.name.eq_ignore_ascii_case(name)) {
            let text = attr.text(file, name)?;
            if !text.is_empty() {
                return Ok(Some((text, attr.line)));
            }
        }
        Ok(None)
    }

    pub(super) fn first_text(&self, file: &str, name: &str) -> Result<Option<&str>, ImportError> {
        Ok(self.first(file, name)?.map(|(t, _)| t))
    }
}

/// A logical line (folded lines joined) or an entry separator.
enum Item<'a> {
    Content { line: u64, text: Cow<'a, [u8]> },
    Blank,
}

/// Reads every entry of `bytes`. Errors name the line the offending line or entry starts on.
/// A problem of one entry is that entry's (set aside when lenient, with the rest of its
/// lines); a change record, a version other than 1 or UTF-16 are the whole file's.
pub(super) fn read(file: &str, bytes: &[u8], refusals: &mut Refusals) -> Result<Vec<Entry>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // `ldifde -u` writes UTF-16, which would otherwise surface as a puzzling syntax error.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ImportError::new(file, 1, None, "the file is UTF-16 (ldifde -u?): export without -u or convert it to UTF-8"));
    }
    let items = unfold(file, bytes)?;
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    let mut first_content = true;
    // Lenient: the rest of an entry set aside, up to the next empty line.
    let mut skipping = false;
    for item in items {
        let (line, text) = match item {
            Item::Blank => {
                skipping = false;
                entries.extend(current.take());
                continue;
            }
            Item::Content { line, text } => (line, text),
        };
        if skipping {
            continue;
        }
        match step(file, line, &text, &mut current, &mut first_content) {
            Ok(()) => {}
            Err(Problem::File(e)) => return Err(e),
            Err(Problem::Entry(e)) => {
                refusals.refuse(e)?;
                current = None;
                skipping = true;
            }
        }
    }
    entries.extend(current);
    if entries.is_empty() {
        return Err(ImportError::new(file, 0, None, "the file is empty: expected LDIF entries"));
    }
    Ok(entries)
}

/// Whose problem a syntax error is.
enum Problem {
    /// The entry's: a lenient import sets it aside.
    Entry(ImportError),
    /// The file's.
    File(ImportError),
}

/// One logical line of an entry, added to `current`.
fn step(file: &str, line: u64, text: &[u8], current: &mut Option<Entry>, first_content: &mut bool) -> Result<(), Problem> {
    let (name, value) = attribute(file, line, text).map_err(Problem::Entry)?;
    if std::mem::take(first_content) && name.eq_ignore_ascii_case("version") {
        let version = String::from_utf8_lossy(&value);
        if version.trim() != "1" {
            return Err(Problem::File(ImportError::new(
                file,
                line,
                Some("version"),
                format!("unsupported LDIF version {}: only `version: 1` (RFC 2849) is supported", crate::error::quote(version.trim())),
            )));
        }
        return Ok(());
    }
    match current.as_mut() {
        None if name.eq_ignore_ascii_case("dn") => {
            let dn = String::from_utf8(value).map_err(|e| {
                Problem::Entry(ImportError::new(
                    file,
                    line,
                    Some("dn"),
                    format!("the DN is not valid UTF-8 text (byte {})", e.utf8_error().valid_up_to() + 1),
                ))
            })?;
            if dn.contains('\0') {
                return Err(Problem::Entry(ImportError::new(file, line, Some("dn"), "the DN contains a NUL byte").with_value(&dn)));
            }
            *current = Some(Entry { line, dn: dn.trim().to_string(), attrs: Vec::new() });
        }
        None => {
            return Err(Problem::Entry(ImportError::new(
                file,
                line,
                Some("dn"),
                format!("entry without dn: an entry must start with a `dn:` line, found `{name}:`"),
            )));
        }
        Some(_) if name.eq_ignore_ascii_case("dn") => {
            return Err(Problem::Entry(ImportError::new(
                file,
                line,
                Some("dn"),
                "a `dn:` line inside an entry: separate entries with an empty line",
            )));
        }
        Some(entry) if name.eq_ignore_ascii_case("changetype") => {
            let change = String::from_utf8_lossy(&value);
            // `ldifde` writes every entry as an `add` record: the entry's content,
            // exactly what a content export holds. The line follows the dn (RFC 2849).
            if change.trim().eq_ignore_ascii_case("add") {
                if entry.attrs.is_empty() {
                    return Ok(());
                }
                return Err(Problem::Entry(ImportError::new(
                    file,
                    line,
                    Some("changetype"),
                    "`changetype: add` must directly follow the entry's dn line (RFC 2849)",
                )));
            }
            // A change log is not a picture of the directory: the whole file is refused.
            return Err(Problem::File(ImportError::new(
                file,
                entry.line,
                Some("changetype"),
                format!(
                    "LDIF change records (changetype: {}) are not supported: export the directory content \
                     (ldapsearch) instead; only `changetype: add` records (as ldifde writes them) are read, as \
                     entries",
                    crate::error::excerpt(change.trim())
                ),
            )));
        }
        Some(entry) => entry.attrs.push(Attr { name, line, value }),
    }
    Ok(())
}

/// Joins folded lines and drops comments (a folded comment stays a comment).
fn unfold<'a>(file: &str, bytes: &'a [u8]) -> Result<Vec<Item<'a>>, ImportError> {
    let mut items: Vec<Item<'a>> = Vec::new();
    let mut in_comment = false;
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix(b" ") {
            if in_comment {
                continue;
            }
            match items.last_mut() {
                Some(Item::Content { text, .. }) => {
                    text.to_mut().extend_from_slice(rest);
                    continue;
                }
                // Spaces on a line of their own between entries are a separator, not a fold.
                _ if rest.iter().all(u8::is_ascii_whitespace) => {
                    items.push(Item::Blank);
                    continue;
                }
                _ => {
                    return Err(ImportError::new(
                        file,
                        line,
                        None,
                        "a continuation line (starting with a space) with no line before it to continue",
                    ))
                }
            }
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            in_comment = false;
            items.push(Item::Blank);
        } else if raw.starts_with(b"#") {
            in_comment = true;
        } else {
            in_comment = false;
            items.push(Item::Content { line, text: Cow::Borrowed(raw) });
        }
    }
    Ok(items)
}

/// Splits `name[;options]: value`, `name:: base64` or `name:< url` into the bare name
/// and the value's bytes.
fn attribute(file: &str, line: u64, text: &[u8]) -> Result<(String, Vec<u8>), ImportError> {
    let malformed = || {
        let shown: String = String::from_utf8_lossy(text.get(..60).unwrap_or(text)).chars().take(40).collect();
        ImportError::new(file, line, None, format!("malformed line {shown:?}: expected `attribute: value`"))
    };
    let colon = text.iter().position(|&b| b == b':').ok_or_else(malformed)?;
    let (description, rest) = text.split_at(colon);
    let rest = rest.get(1..).unwrap_or_default();
    let description = std::str::from_utf8(description).map_err(|_| malformed())?;
    let name = description.split(';').next().unwrap_or_default().trim_end();
    let valid_name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !valid_name(name) || !description.split(';').skip(1).all(valid_name) {
        return Err(malformed());
    }
    let too_long = |len: usize| {
        ImportError::new(file, line, Some(name), format!("the value is {len} bytes long; at most {MAX_VALUE_BYTES} (1 MiB) are accepted"))
    };
    let value = if let Some(encoded) = rest.strip_prefix(b":") {
        let encoded = encoded.trim_ascii();
        // Four base64 characters carry three bytes: reject before decoding.
        if encoded.len() / 4 * 3 > MAX_VALUE_BYTES + 3 {
            return Err(too_long(encoded.len() / 4 * 3));
        }
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| ImportError::new(file, line, Some(name), format!("`{name}::` must be followed by valid base64: {e}")))?
    } else if rest.starts_with(b"<") {
        return Err(ImportError::new(
            file,
            line,
            Some(name),
            "URL-valued attributes are not supported (`attr:< url`): export the values inline",
        ));
    } else {
        let value = rest.trim_ascii_start();
        if value.len() > MAX_VALUE_BYTES {
            return Err(too_long(value.len()));
        }
        std::str::from_utf8(value).map_err(|e| {
            ImportError::new(
                file,
                line,
                Some(name),
                format!("the value is not valid UTF-8 (byte {}): binary values must be base64-encoded (`{name}::`)", e.valid_up_to() + 1),
            )
        })?;
        value.to_vec()
    };
    if value.len() > MAX_VALUE_BYTES {
        return Err(too_long(value.len()));
    }
    Ok((name.to_string(), value))
}
