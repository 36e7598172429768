//! Reading the JSON exports of identity providers (Okta, Microsoft Graph, Google Workspace,
//! GitHub): shared by their importers.
//!
//! An import of these kinds may come as several files (the pages of a paginated API, the
//! per-group member lists): the application concatenates them and passes each file's name
//! and byte offset in [`ImportOptions::parts`]. Each part is read on its own: one or more
//! JSON documents, each an array of records, a page object holding such an array under a
//! known key (`value` for Microsoft Graph, `users` for Google), or one record. Every record
//! remembers the line its object starts on: in its own file for messages, and counted
//! through the concatenation for evidence (`cat f1 f2` shows the same line).
//!
//! Fields are read by name, typed, with messages naming the file, the line and the field;
//! fields nobody asked for are ignored, as APIs add fields all the time.

use crate::error::quote;
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountType, Assignment, Entitlement, MfaFactor, Origin};
use annexa_core::time::{parse_instant, Instant};
use annexa_core::Name;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The largest record (one JSON object) read: a user of any of these APIs is a few
/// kilobytes; anything near this is a broken export, not a user. A group's member list is
/// read as its own records, so it is not bounded by this.
pub const MAX_RECORD: usize = 1024 * 1024;

/// One file of an import.
pub(crate) struct Part<'a> {
    /// The file's name, as messages show it.
    pub name: &'a str,
    /// Its text, without a leading byte-order mark.
    pub text: &'a str,
    /// The lines of the concatenation before this part's first line (a part that does
    /// not end with a line break shares its last line with the next part's first).
    pub lines_before: u64,
}

impl Part<'_> {
    /// An error about the part as a whole (`line` 0) or one of its lines.
    pub(crate) fn error(&self, line: u64, field: Option<&str>, message: impl Into<String>) -> ImportError {
        ImportError::new(self.name, line, field, message)
    }

    /// The record's origin: `line` of this part counted through the concatenation.
    pub(crate) fn origin(&self, line: u64) -> Origin {
        Origin { import_id: 0, line: u32::try_from(self.lines_before + line).unwrap_or(u32::MAX) }
    }
}

/// The system of an import: `--system`, else the kind's default name.
pub(crate) fn system_name(options: &ImportOptions, kind: ImportKind) -> String {
    options.system.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or(crate::default_system(kind)).to_string()
}

/// Splits the concatenation `bytes` into its parts (one part, `file`, when the options
/// name none), each checked to be UTF-8.
pub(crate) fn parts<'a>(file: &'a str, bytes: &'a [u8], options: &'a ImportOptions) -> Result<Vec<Part<'a>>, ImportError> {
    let spans: Vec<(&str, usize)> =
        if options.parts.is_empty() { vec![(file, 0)] } else { options.parts.iter().map(|(n, o)| (n.as_str(), *o)).collect() };
    let mut out = Vec::with_capacity(spans.len());
    let mut lines_before = 0u64;
    for (i, &(name, start)) in spans.iter().enumerate() {
        let end = spans.get(i + 1).map_or(bytes.len(), |s| s.1);
        let Some(chunk) = bytes.get(start..end) else {
            return Err(ImportError::new(name, 0, None, format!("the part at byte {start} lies outside the {} bytes read", bytes.len())));
        };
        let text = std::str::from_utf8(chunk).map_err(|e| {
            let line = count_lines(&chunk[..e.valid_up_to()]) + 1;
            ImportError::new(name, line, None, format!("the file is not UTF-8 (byte {} of the line)", column_of(chunk, e.valid_up_to())))
        })?;
        out.push(Part { name, text: text.strip_prefix('\u{feff}').unwrap_or(text), lines_before });
        lines_before += count_lines(chunk);
    }
    Ok(out)
}

fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

/// The 1-based byte of `offset` within its line.
fn column_of(bytes: &[u8], offset: usize) -> usize {
    offset - bytes[..offset].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1
}

/// One JSON object of a part: a user, a group, a member, a factor...
pub(crate) struct Record<'a> {
    pub part: &'a Part<'a>,
    /// The line (of its part) the object starts on.
    pub line: u64,
    pub fields: Map<String, Value>,
    /// A page object's `@odata.context` or `kind` (what the page says it lists), if any.
    pub page_kind: Option<String>,
}

/// Counts lines up to increasing byte offsets of one text without rescanning it.
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: usize) -> u64 {
        if offset < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        let end = offset.min(self.text.len());
        self.line += count_lines(&self.text.as_bytes()[self.offset..end]);
        self.offset = end;
        self.line
    }
}

/// `e`'s message without serde's own " at line L column C" (messages name the line
/// already, counted in the whole file).
fn syntax_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    format!("not valid JSON: {text} (column {})", e.column())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The records of `part`. Each JSON document of the part (several may follow each other,
/// as `cat` joins pages) is an array of records, an object holding that array under one of
/// `page_keys` (a page of a paginated API; its other keys, such as the next page's link,
/// are ignored), or else a record itself.
pub(crate) fn records<'a>(part: &'a Part<'a>, page_keys: &[&str]) -> Result<Vec<Record<'a>>, ImportError> {
    let mut lines = LineCounter { text: part.text, offset: 0, line: 1 };
    let base = part.text.as_ptr() as usize;
    let mut out = Vec::new();
    let mut documents = serde_json::Deserializer::from_str(part.text).into_iter::<&RawValue>();
    loop {
        let doc = match documents.next() {
            None => break,
            Some(Ok(doc)) => doc,
            Some(Err(e)) => return Err(part.error(e.line() as u64, None, syntax_message(&e))),
        };
        let start = doc.get().as_ptr() as usize - base;
        let doc_line = lines.line_at(start);
        let (elements, page_kind) = match doc.get().as_bytes().first() {
            Some(b'[') => (from_raw::<Vec<&RawValue>>(part, doc_line, doc)?, None),
            Some(b'{') => {
                let object = from_raw::<BTreeMap<String, &RawValue>>(part, doc_line, doc)?;
                match page_keys.iter().find_map(|k| object.get(*k).map(|v| (*k, *v))) {
                    Some((key, items)) => {
                        let what = ["@odata.context", "kind"]
                            .iter()
                            .find_map(|k| object.get(*k))
                            .and_then(|v| serde_json::from_str::<String>(v.get()).ok());
                        match items.get().as_bytes().first() {
                            Some(b'[') => (from_raw::<Vec<&RawValue>>(part, doc_line, items)?, what),
                            _ => return Err(part.error(doc_line, Some(key), format!("expected an array of records under `{key}`"))),
                        }
                    }
                    None => (vec![doc], None),
                }
            }
            _ => {
                let shown: String = doc.get().chars().take(40).collect();
                return Err(part.error(doc_line, None, format!("expected a JSON array or object, found {}", quote(&shown))));
            }
        };
        for element in elements {
            let line = lines.line_at(element.get().as_ptr() as usize - base);
            if element.get().len() > MAX_RECORD {
                return Err(part.error(line, None, format!("a record of {} bytes; expected at most {MAX_RECORD}", element.get().len())));
            }
            match from_raw::<Value>(part, line, element)? {
                Value::Object(fields) => out.push(Record { part, line, fields, page_kind: page_kind.clone() }),
                other => return Err(part.error(line, None, format!("expected a JSON object (one record), found {}", kind_of(&other)))),
            }
        }
    }
    Ok(out)
}

/// Deserialises a raw value already known to be well-formed JSON; a failure here is a
/// value of another shape (e.g. an array holding something unreadable).
fn from_raw<'a, T: serde::Deserialize<'a>>(part: &Part<'_>, line: u64, raw: &'a RawValue) -> Result<T, ImportError> {
    serde_json::from_str(raw.get()).map_err(|e| part.error(line + e.line().saturating_sub(1) as u64, None, syntax_message(&e)))
}

impl<'a> Record<'a> {
    pub(crate) fn error(&self, field: &str, message: impl Into<String>) -> ImportError {
        self.part.error(self.line, Some(field), message)
    }

    pub(crate) fn origin(&self) -> Origin {
        self.part.origin(self.line)
    }

    /// The value at a dotted `path` (`profile.login`); `None` when absent or null.
    pub(crate) fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.fields, path)
    }

    pub(crate) fn has(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// An optional text field, trimmed; empty is absent.
    pub(crate) fn text(&self, path: &str) -> Result<Option<&str>, ImportError> {
        text_of(self, path, self.get(path))
    }

    /// A text field that must be present and not empty.
    pub(crate) fn required(&self, path: &str, what: &str) -> Result<&str, ImportError> {
        self.text(path)?.ok_or_else(|| self.error(path, format!("missing required field `{path}` ({what})")))
    }

    /// An identifier: required, without NUL characters.
    pub(crate) fn id(&self, path: &str, what: &str) -> Result<&str, ImportError> {
        let id = self.required(path, what)?;
        no_nul(self, path, id)
    }

    /// An identifier an API writes as a whole number (GitHub's user and team ids) or as a
    /// string: required, as text.
    pub(crate) fn number_id(&self, path: &str, what: &str) -> Result<String, ImportError> {
        match self.get(path) {
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            Some(Value::Number(n)) => Err(self.error(path, format!("expected a whole number, found {}", quote(&n.to_string())))),
            _ => self.id(path, what).map(String::from),
        }
    }

    pub(crate) fn boolean(&self, path: &str) -> Result<Option<bool>, ImportError> {
        match self.get(path) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(path, format!("expected true or false, found {}", shown(other)))),
        }
    }

    /// An optional date-time (RFC 3339, as these APIs write it).
    pub(crate) fn instant(&self, path: &str) -> Result<Option<Instant>, ImportError> {
        match self.text(path)? {
            None => Ok(None),
            Some(t) => parse_instant(t).map(Some).ok_or_else(|| {
                self.error(path, format!("{} is not a date-time: expected RFC 3339 (2026-01-31T09:00:00Z)", quote(t))).with_value(t)
            }),
        }
    }

    /// An optional array field (absent or null is empty).
    pub(crate) fn array(&self, path: &str) -> Result<&[Value], ImportError> {
        match self.get(path) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.error(path, format!("expected an array, found {}", shown(other)))),
        }
    }
}

fn lookup<'v>(fields: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut value = fields.get(parts.next()?)?;
    for key in parts {
        value = value.as_object()?.get(key)?;
    }
    (!value.is_null()).then_some(value)
}

/// A value as a message shows it: its kind, and a short excerpt of a scalar.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Number(n) => format!("the number {}", quote(&n.to_string())),
        other => kind_of(other).to_string(),
    }
}

fn text_of<'v>(record: &Record<'_>, path: &str, value: Option<&'v Value>) -> Result<Option<&'v str>, ImportError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
        Some(other) => Err(record.error(path, format!("expected a string, found {}", shown(other)))),
    }
}

fn no_nul<'t>(record: &Record<'_>, path: &str, id: &'t str) -> Result<&'t str, ImportError> {
    if id.contains('\0') {
        return Err(record.error(path, format!("{} contains a NUL byte", quote(id))).with_value(id));
    }
    Ok(id)
}

/// A text field of an item of an array field (a member of a group, an external id).
pub(crate) fn item_text<'v>(record: &Record<'_>, field: &str, item: &'v Value, key: &str) -> Result<Option<&'v str>, ImportError> {
    match item {
        Value::Object(o) => text_of(record, &format!("{field}.{key}"), o.get(key).filter(|v| !v.is_null())),
        other => Err(record.error(field, format!("expected objects in `{field}`, found {}", shown(other)))),
    }
}

/// A file named after the API path it was read from: `groups/{id}/users.json` (the path's
/// last three segments) or `groups-{id}-users.json` (one name, the parts joined with `-`,
/// `_` or `.`), where `pattern` is `("groups", "users")`. The last segment may carry a
/// suffix after a separator (`users-2.json`, a second page). Returns the id.
pub(crate) fn api_path_id<'n>(name: &'n str, pattern: (&str, &str)) -> Option<&'n str> {
    let (collection, sub) = pattern;
    let is_sep = |c: char| matches!(c, '-' | '_' | '.');
    let stem = |s: &'n str| s.strip_suffix(".json").or_else(|| s.strip_suffix(".JSON")).unwrap_or(s);
    let starts_word =
        |s: &str, word: &str| s.starts_with(word) && s[word.len()..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
    let segments: Vec<&str> = name.split(['/', '\\']).collect();
    let ok_id = |id: &str| !id.is_empty() && !id.contains('\0');
    if let [.., a, id, last] = segments.as_slice() {
        if *a == collection && starts_word(stem(last), sub) && ok_id(id) {
            return Some(id);
        }
    }
    // One name: `...groups-{id}-users[-suffix]`.
    let last = stem(segments.last()?);
    let mut from = 0;
    while let Some(i) = last[from..].find(collection).map(|i| i + from) {
        from = i + collection.len();
        let before_ok = i == 0 || last[..i].ends_with(is_sep);
        let rest = &last[from..];
        if !before_ok || !rest.starts_with(is_sep) {
            continue;
        }
        let rest = &rest[1..];
        // The id ends at the last `-users` (or `_users`, `.users`) that is a whole word.
        let found = rest.char_indices().rev().find(|&(j, c)| is_sep(c) && starts_word(&rest[j + 1..], sub)).map(|(j, _)| j);
        if let Some(j) = found {
            let id = &rest[..j];
            if ok_id(id) {
                return Some(id);
            }
        }
    }
    None
}

/// Entitlement names for groups known by id, as the directory shows them (`name`, or the
/// id when it has none). Groups are known by id because these directories let two groups
/// share a name: those that do are told apart by their id (`Sales [00g2…]`), and so is a
/// group whose name is literally another's disambiguated name.
pub(crate) fn group_names<'g>(groups: &[(&'g str, Option<&'g str>)]) -> HashMap<&'g str, String> {
    use annexa_core::text::fold;
    let mut shared: HashMap<String, usize> = HashMap::new();
    for (_, name) in groups {
        if let Some(name) = name {
            *shared.entry(fold(name)).or_default() += 1;
        }
    }
    let mut out = HashMap::new();
    let mut taken = std::collections::HashSet::new();
    for &(id, name) in groups {
        let mut entitlement = match name {
            Some(n) if shared.get(&fold(n)) == Some(&1) => n.to_string(),
            Some(n) => format!("{n} [{id}]"),
            None => id.to_string(),
        };
        if !taken.insert(fold(&entitlement)) {
            entitlement = format!("{entitlement} [{id}]");
            taken.insert(fold(&entitlement));
        }
        out.insert(id, entitlement);
    }
    out
}

/// An account's type from a directory's free-text user type (`userType`): service, shared
/// and admin accounts by those words (any case), anything else a person's.
pub(crate) fn account_type(user_type: Option<&str>) -> AccountType {
    match user_type.map(str::to_ascii_lowercase).as_deref() {
        Some("service" | "service account") => AccountType::Service,
        Some("shared" | "shared account") => AccountType::Shared,
        Some("admin" | "privileged") => AccountType::Admin,
        _ => AccountType::Human,
    }
}

/// Adds assignments to a batch, each (account, entitlement) once: the same membership may
/// be listed from both sides (a group's members, a user's groups).
pub(crate) struct Grants {
    system: Name,
    held: HashSet<(Name, Name)>,
}

impl Grants {
    pub(crate) fn new(system: &Name) -> Grants {
        Grants { system: system.clone(), held: HashSet::new() }
    }

    pub(crate) fn add(&mut self, batch: &mut ImportBatch, account_id: &Name, entitlement: &Name, origin: Origin) {
        if self.held.insert((account_id.clone(), entitlement.clone())) {
            batch.assignments.push(Assignment::membership(self.system.clone(), account_id.clone(), entitlement.clone(), origin));
        }
    }
}

/// Settles the factors gathered for each account whose MFA the export reports: sorted,
/// each once, and `none` for an account with no factor at all.
pub(crate) fn settle_mfa(accounts: &mut [Account]) {
    for mfa in accounts.iter_mut().filter_map(|a| a.mfa.as_mut()) {
        mfa.sort();
        mfa.dedup();
        if mfa.is_empty() {
            mfa.push(MfaFactor::None);
        }
    }
}

/// An entitlement of `system`.
pub(crate) fn entitlement(system: &Name, name: Name, privileged: bool, origin: Origin) -> Entitlement {
    Entitlement { system: system.clone(), name, privileged, owner: None, origin }
}

/// Ids already seen, to refuse the second record with the same one.
pub(crate) struct Seen<'a> {
    what: &'static str,
    first: HashMap<String, (&'a str, u64)>,
}

impl<'a> Seen<'a> {
    pub(crate) fn new(what: &'static str) -> Seen<'a> {
        Seen { what, first: HashMap::new() }
    }

    /// Records `id` of `record`; an id seen before is an error naming where.
    pub(crate) fn insert(&mut self, record: &Record<'a>, field: &str, id: &str) -> Result<(), ImportError> {
        if let Some((file, line)) = self.first.insert(id.to_string(), (record.part.name, record.line)) {
            let there = if file == record.part.name { format!("line {line}") } else { format!("{file} line {line}") };
            return Err(record.error(field, format!("duplicate {} {}: {there} has it too", self.what, quote(id))).with_value(id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_name_the_id() {
        let p = ("groups", "users");
        assert_eq!(api_path_id("okta/groups/00g1abc/users.json", p), Some("00g1abc"));
        assert_eq!(api_path_id("groups/00g1abc/users-2.json", p), Some("00g1abc"));
        assert_eq!(api_path_id("groups-00g1abc-users.json", p), Some("00g1abc"));
        assert_eq!(api_path_id("export/okta_groups_00g1abc_users_page2.json", p), Some("00g1abc"));
        assert_eq!(api_path_id("groups-8a2c-4e1f-users.json", p), Some("8a2c-4e1f"));
        assert_eq!(api_path_id("teams-platform-eng-members.json", ("teams", "members")), Some("platform-eng"));
        assert_eq!(api_path_id("users.json", p), None);
        assert_eq!(api_path_id("groups.json", p), None);
        assert_eq!(api_path_id("groups/00g1/usersx.json", p), None);
        assert_eq!(api_path_id("mygroups-1-users.json", p), None);
    }

    #[test]
    fn records_know_their_lines_through_pages_and_parts() {
        let a = "[\n {\"id\": 1},\n {\"id\": 2}\n]\n{\"value\": [\n{\"id\": 3}], \"@odata.context\": \"x#users\"}";
        let b = "\u{feff}{\"id\": 4}";
        let bytes = format!("{a}{b}");
        let options = ImportOptions { parts: vec![("a.json".into(), 0), ("b.json".into(), a.len())], ..Default::default() };
        let parts = parts("a.json + b.json", bytes.as_bytes(), &options).expect("parts");
        let got: Vec<(u64, u32)> =
            parts.iter().flat_map(|p| records(p, &["value"]).expect("records")).map(|r| (r.line, r.origin().line)).collect();
        // b.json starts on the last line of a.json, which does not end with a line break.
        assert_eq!(got, [(2, 2), (3, 3), (6, 6), (1, 6)]);
        let err =
            records(&Part { name: "c.json", text: "[{\"a\":1},\n{\"b\":", lines_before: 0 }, &[]).err().expect("truncated").to_string();
        assert!(err.starts_with("c.json:2: not valid JSON: EOF while parsing"), "{err}");
        let err = records(&Part { name: "c.json", text: "[1]", lines_before: 0 }, &[]).err().expect("not an object").to_string();
        assert_eq!(err, "c.json:1: expected a JSON object (one record), found a number");
    }

    #[test]
    fn shared_names_are_told_apart_by_id() {
        let names =
            group_names(&[("g1", Some("Sales")), ("g2", Some("sales")), ("g3", None), ("g4", Some("Sales [g1]")), ("g5", Some("Ops"))]);
        assert_eq!(names["g1"], "Sales [g1]");
        assert_eq!(names["g2"], "sales [g2]");
        assert_eq!(names["g3"], "g3");
        assert_eq!(names["g4"], "Sales [g1] [g4]");
        assert_eq!(names["g5"], "Ops");
    }
}
