//! SCIM snapshots: the Users and Groups of one SCIM system as JSON Lines, one resource per
//! line, as a SCIM server returns them. Annexa writes one when it reads a SCIM application
//! (`annexa import scim --url`) or takes what an identity provider pushed to its own SCIM
//! endpoint; the file is the evidence, and its line numbers are what findings point at.
//!
//! A User is an account (`userName` is its id and login, `active: false` disables it, the
//! enterprise `employeeNumber` correlates it to HR); a Group is an entitlement, and each of
//! its User members an assignment. Nested Groups are not expanded. Groups are known by id:
//! two may share a `displayName` (see [`group_names`]).
//!
//! What Annexa's own SCIM server accepts, this importer reads: the same size limit per
//! resource, no limit on a Group's members, the same notion of one login.

use crate::error::{quote, Refusals};
use crate::{ImportBatch, ImportError, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, Assignment, Entitlement, Origin};
use annexa_core::time::Instant;
use annexa_core::Name;
use serde_json::Value;
use std::collections::HashMap;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The largest resource read, apart from a Group's `members`: what Annexa's own SCIM
/// server accepts, with room for the `id` and `meta` it adds. A SCIM resource is a few
/// kilobytes, so anything near this is a broken export, not a user; a Group's membership
/// is not bounded, since it grows with the organisation.
pub const MAX_RESOURCE: usize = annexa_scim::schema::MAX_RESOURCE_BYTES + 64 * 1024;

/// A line of the file: its number and resource.
struct Line {
    no: u64,
    resource: serde_json::Map<String, Value>,
}

fn is_a(resource: &serde_json::Map<String, Value>, urn: &str) -> bool {
    resource
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|v| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(urn))))
}

fn text<'a>(resource: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    resource.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn instant(file: &str, line: u64, column: &str, v: Option<&str>) -> Result<Option<Instant>, ImportError> {
    v.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&chrono::Utc))
            .map_err(|_| ImportError::new(file, line, Some(column), format!("{} is not an RFC 3339 date-time", quote(t))).with_value(t))
    })
    .transpose()
}

/// The primary value of a multi-valued attribute, or its first.
fn primary<'a>(resource: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    let items = resource.get(name)?.as_array()?;
    items.iter().find(|i| i.get("primary").and_then(Value::as_bool) == Some(true)).or_else(|| items.first())?.get("value")?.as_str()
}

/// The size of a resource's JSON without its `members`.
fn size_without_members(resource: &serde_json::Map<String, Value>) -> usize {
    let rest: serde_json::Map<String, Value> =
        resource.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("members")).map(|(k, v)| (k.clone(), v.clone())).collect();
    serde_json::to_vec(&rest).map_or(usize::MAX, |v| v.len())
}

/// Each Group's entitlement name, by Group id, with the `displayName` it shows: Groups are
/// known by id, since SCIM (and Microsoft Entra ID) let two Groups share a `displayName`.
/// A Group whose name is its own keeps it; Groups that share one are told apart by their
/// id (`Sales [5f3a…]`), and a Group without a name is known by its id.
fn group_names<'a>(file: &str, groups: &[&'a Line]) -> Result<HashMap<&'a str, (&'a str, String)>, ImportError> {
    use annexa_core::text::fold;
    let mut shared: HashMap<String, usize> = HashMap::new();
    for &g in groups {
        if let Some(name) = text(&g.resource, "displayName") {
            *shared.entry(fold(name)).or_default() += 1;
        }
    }
    let mut out: HashMap<&str, (&str, String)> = HashMap::new();
    let mut taken: HashMap<String, &str> = HashMap::new();
    for &g in groups {
        let id = text(&g.resource, "id").ok_or_else(|| ImportError::new(file, g.no, Some("id"), "a Group needs its id"))?;
        let shown = text(&g.resource, "displayName").unwrap_or(id);
        let mut name = match text(&g.resource, "displayName") {
            Some(n) if shared.get(&fold(n)) == Some(&1) => n.to_string(),
            Some(n) => format!("{n} [{id}]"),
            None => id.to_string(),
        };
        // A Group literally named like another's disambiguated name: its id as well.
        if taken.contains_key(&fold(&name)) {
            name = format!("{name} [{id}]");
        }
        taken.insert(fold(&name), id);
        if out.insert(id, (shown, name)).is_some() {
            return Err(ImportError::new(file, g.no, Some("id"), format!("duplicate Group id {}", quote(id))));
        }
    }
    Ok(out)
}

/// The schema of the answer to `GET /Users` or `GET /Groups` (RFC 7644 §3.4.2).
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Where each line of a text starts, to turn a byte offset into a line number.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    /// The 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> u64 {
        self.0.partition_point(|&start| start <= offset) as u64
    }
}

/// Every JSON value of the file, with the line it starts on. A file whose first line is a
/// lone `{` holds documents spread over lines (a `GET /Users` answer saved as it came,
/// pretty-printed): it is read as one stream, and a syntax error fails the whole file. Any
/// other file is JSON Lines: each line holds one value (or several, one after the other),
/// and a line that is not JSON is that line's problem.
fn values<'a>(file: &str, text: &'a str, lines: &LineIndex, refusals: &mut Refusals) -> Result<Vec<(u64, &'a str)>, ImportError> {
    let offset = |raw: &str| raw.as_ptr() as usize - text.as_ptr() as usize;
    let mut out = Vec::new();
    let documents = text.lines().map(str::trim).find(|l| !l.is_empty()) == Some("{");
    if documents {
        for value in serde_json::Deserializer::from_str(text).into_iter::<&serde_json::value::RawValue>() {
            let value = value.map_err(|e| ImportError::new(file, e.line() as u64, None, format!("not a JSON document: {e}")))?;
            out.push((lines.line(offset(value.get())), value.get()));
        }
        return Ok(out);
    }
    for (i, line) in text.lines().enumerate() {
        let no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let read: Result<Vec<&serde_json::value::RawValue>, _> = serde_json::Deserializer::from_str(line).into_iter().collect();
        match read {
            Ok(values) => out.extend(values.into_iter().map(|v| (no, v.get()))),
            Err(e) => refusals.refuse(ImportError::new(file, no, None, format!("not a JSON resource: {e}")).with_value(line))?,
        }
    }
    Ok(out)
}

/// The resources of the file, each with its line: a value is a resource, or a SCIM
/// `ListResponse` whose `Resources` are.
fn resources(file: &str, text: &str, refusals: &mut Refusals) -> Result<Vec<Line>, ImportError> {
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    for (no, raw) in values(file, text, &lines, refusals)? {
        // Only a value that names its `Resources` can be a list: the others skip the
        // second parse.
        let maybe_list = raw.as_bytes().windows(11).any(|w| w.eq_ignore_ascii_case(b"\"Resources\""));
        let listed = if maybe_list { list_members(raw) } else { None };
        let Some(listed) = listed else {
            match resource(file, no, raw) {
                Ok(r) => out.push(r),
                Err(e) => refusals.refuse(e)?,
            }
            continue;
        };
        for member in listed {
            let no = lines.line(member.as_ptr() as usize - text.as_ptr() as usize);
            match resource(file, no, member) {
                Ok(r) => out.push(r),
                Err(e) => refusals.refuse(e)?,
            }
        }
    }
    Ok(out)
}

/// The `Resources` of a `ListResponse` (none when it is not one), as slices of `raw`.
fn list_members(raw: &str) -> Option<Vec<&str>> {
    let fields: HashMap<String, &serde_json::value::RawValue> = serde_json::from_str(raw).ok()?;
    let field = |name: &str| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.get());
    let schemas: Vec<String> = field("schemas").and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
    let is_resource = schemas.iter().any(|s| s.eq_ignore_ascii_case(USER) || s.eq_ignore_ascii_case(GROUP));
    let is_list = schemas.iter().any(|s| s.eq_ignore_ascii_case(LIST_RESPONSE));
    if is_resource || !(is_list || field("Resources").is_some()) {
        return None;
    }
    let members: Vec<&serde_json::value::RawValue> = match field("Resources") {
        Some(r) => serde_json::from_str(r).ok()?,
        None => Vec::new(),
    };
    Some(members.into_iter().map(|m| m.get()).collect())
}

/// One resource, read and bounded.
fn resource(file: &str, no: u64, raw: &str) -> Result<Line, ImportError> {
    let value: Value =
        serde_json::from_str(raw).map_err(|e| ImportError::new(file, no, None, format!("not a JSON resource: {e}")).with_value(raw))?;
    let Value::Object(resource) = value else {
        return Err(ImportError::new(file, no, None, "expected a JSON object (one SCIM resource per line)").with_value(raw));
    };
    if raw.len() > MAX_RESOURCE {
        let size = size_without_members(&resource);
        if size > MAX_RESOURCE {
            return Err(ImportError::new(
                file,
                no,
                None,
                format!("a resource of {size} bytes apart from Group members; expected at most {MAX_RESOURCE}"),
            )
            .with_value(raw));
        }
    }
    // PostgreSQL refuses NUL in text, and no name or identifier holds one.
    if let Some(path) = nul_in(&Value::Object(resource.clone()), "") {
        return Err(ImportError::new(file, no, Some(&path), "the value contains a NUL byte"));
    }
    Ok(Line { no, resource })
}

/// The attribute path of the first string (or name) holding a NUL character.
fn nul_in(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_string()),
        Value::Array(items) => items.iter().find_map(|v| nul_in(v, path)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let path = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k.contains('\0') {
                Some(path)
            } else {
                nul_in(v, &path)
            }
        }),
        _ => None,
    }
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    // A byte-order mark is accepted, as in CSV and LDIF.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text_all = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        ImportError::new(file, line, None, "the file is not UTF-8")
    })?;
    let system: Name = options.system.as_deref().unwrap_or("scim").into();
    let mut refusals = Refusals::new(options);
    let mut users = Vec::new();
    let mut groups = Vec::new();
    // Every resource's id, once: Group members name Users and Groups by id.
    let mut ids: HashMap<String, u64> = HashMap::new();
    for line in resources(file, text_all, &mut refusals)? {
        let (r, no) = (&line.resource, line.no);
        let what = if is_a(r, USER) {
            "User"
        } else if is_a(r, GROUP) {
            "Group"
        } else {
            refusals.refuse(ImportError::new(file, no, Some("schemas"), format!("expected a SCIM User ({USER}) or Group ({GROUP})")))?;
            continue;
        };
        if what == "User" && text(r, "userName").is_none() {
            refusals.refuse(ImportError::new(file, no, Some("userName"), "a User needs a userName"))?;
            continue;
        }
        let Some(id) = text(r, "id") else {
            refusals.refuse(ImportError::new(file, no, Some("id"), format!("a {what} needs its id")))?;
            continue;
        };
        if let Some(first) = ids.get(id) {
            refusals.refuse(
                ImportError::new(
                    file,
                    no,
                    Some("id"),
                    format!("duplicate {what} id {}: line {first} has it too; each resource's id must be unique", quote(id)),
                )
                .with_value(id),
            )?;
            continue;
        }
        ids.insert(id.to_string(), no);
        if what == "User" {
            users.push(line);
        } else {
            groups.push(line);
        }
    }
    let mut batch = ImportBatch { systems: vec![system.to_string()], ..Default::default() };
    // Group members name Users by id; assignments name accounts by login.
    let mut login_of: HashMap<&str, Name> = HashMap::new();
    let mut seen_logins: HashMap<String, u64> = HashMap::new();
    // Users set aside (lenient): their memberships go with them.
    let mut refused_users: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for u in &users {
        match user(file, u, &system, &mut seen_logins) {
            Ok(account) => {
                if let Some(id) = text(&u.resource, "id") {
                    login_of.insert(id, account.account_id.clone());
                }
                batch.accounts.push(account);
            }
            Err(e) => {
                refusals.refuse(e)?;
                refused_users.extend(text(&u.resource, "id"));
            }
        }
    }
    // A Group is read whole or set aside whole, before any Group's name is decided.
    let all_groups: std::collections::HashSet<&str> = groups.iter().filter_map(|g| text(&g.resource, "id")).collect();
    let mut kept = Vec::new();
    for g in &groups {
        match members(file, g, &login_of, &refused_users, &all_groups) {
            Ok(held) => kept.push((g, held)),
            Err(e) => refusals.refuse(e)?,
        }
    }
    let kept_lines: Vec<&Line> = kept.iter().map(|(g, _)| *g).collect();
    let names = group_names(file, &kept_lines)?;
    for (g, held) in &kept {
        let origin = Origin { import_id: 0, line: g.no as u32 };
        let Some((shown, name)) = text(&g.resource, "id").and_then(|id| names.get(id)) else { continue };
        let name: Name = name.as_str().into();
        batch.entitlements.push(Entitlement {
            system: system.clone(),
            name: name.clone(),
            privileged: crate::ldif::is_privileged(shown, options),
            owner: None,
            origin,
        });
        for login in held {
            batch.assignments.push(Assignment::membership(system.clone(), login.clone(), name.clone(), origin));
        }
    }
    batch.rows = (batch.accounts.len() + batch.entitlements.len() + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok(batch)
}

/// A User as an account; `seen` holds the logins read so far.
fn user(file: &str, u: &Line, system: &Name, seen: &mut HashMap<String, u64>) -> Result<Account, ImportError> {
    let r = &u.resource;
    let origin = Origin { import_id: 0, line: u.no as u32 };
    let login = text(r, "userName").ok_or_else(|| ImportError::new(file, u.no, Some("userName"), "a User needs a userName"))?;
    let active = match r.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            let shown = crate::error::excerpt(&other.to_string());
            return Err(ImportError::new(file, u.no, Some("active"), format!("expected true or false, found {shown}")).with_value(&shown));
        }
    };
    let meta = r.get("meta").and_then(Value::as_object);
    let created_at = instant(file, u.no, "meta.created", meta.and_then(|m| text(m, "created")))?;
    // Logins are one login whatever their case and Unicode encoding, as the server
    // compares them.
    let key = annexa_core::text::login_key(login);
    if let Some(first) = seen.get(&key) {
        return Err(ImportError::new(
            file,
            u.no,
            Some("userName"),
            format!("duplicate userName {}: line {first} has it too", quote(login)),
        )
        .with_value(login));
    }
    seen.insert(key, u.no);
    let enterprise = r.get(ENTERPRISE).and_then(Value::as_object);
    let employee_id = enterprise.and_then(|e| text(e, "employeeNumber"));
    let name = r.get("name").and_then(Value::as_object);
    let display = text(r, "displayName")
        .map(String::from)
        .or_else(|| name.and_then(|n| text(n, "formatted")).map(String::from))
        .or_else(|| {
            name.map(|n| {
                format!("{} {}", text(n, "givenName").unwrap_or_default(), text(n, "familyName").unwrap_or_default()).trim().to_string()
            })
        })
        .unwrap_or_else(|| login.to_string());
    let kind = match text(r, "userType").map(str::to_ascii_lowercase).as_deref() {
        Some("service") => AccountType::Service,
        Some("shared") => AccountType::Shared,
        Some("admin" | "privileged") => AccountType::Admin,
        _ => AccountType::Human,
    };
    let login: Name = login.into();
    Ok(Account {
        system: system.clone(),
        account_id: login.clone(),
        username: login.to_string(),
        email: primary(r, "emails").map(|m| annexa_core::text::email_key(m).into_owned()),
        employee_id: employee_id.map(Into::into),
        display_name: display,
        status: if active { AccountStatus::Enabled } else { AccountStatus::Disabled },
        kind,
        created_at,
        last_login_at: None,
        // SCIM has no last sign-in; the account is not judged on use.
        last_login_known: false,
        mfa: None,
        password_last_set_at: None,
        interactive: kind != AccountType::Service,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin,
    })
}

/// The logins of a Group's User members; nested Groups are not expanded, and members that
/// were Users set aside (lenient) are left out with them.
fn members(
    file: &str,
    g: &Line,
    login_of: &HashMap<&str, Name>,
    refused_users: &std::collections::HashSet<&str>,
    groups: &std::collections::HashSet<&str>,
) -> Result<Vec<Name>, ImportError> {
    let mut held = Vec::new();
    // A member listed twice is one membership (SCIM does not forbid the repetition).
    let mut seen = std::collections::HashSet::new();
    for m in g.resource.get("members").and_then(Value::as_array).into_iter().flatten() {
        let Some(value) = m.get("value").and_then(Value::as_str) else {
            return Err(ImportError::new(file, g.no, Some("members"), "a member without a value"));
        };
        if !seen.insert(value) {
            continue;
        }
        match login_of.get(value) {
            Some(login) => held.push(login.clone()),
            None if groups.contains(value) || refused_users.contains(value) => {}
            None => {
                return Err(ImportError::new(
                    file,
                    g.no,
                    Some("members"),
                    format!("member {} is no User or Group of this snapshot", quote(value)),
                )
                .with_value(value));
            }
        }
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ImportOptions {
        ImportOptions { system: Some("okta".into()), ..Default::default() }
    }

    #[test]
    fn users_become_accounts_and_groups_entitlements() {
        let file = concat!(
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"u1","userName":"Babs@Example.com","active":false,"emails":[{"value":"x@example.com"},{"value":"BABS@example.com","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E100"},"meta":{"created":"2026-01-02T03:04:05Z"}}"#,
            "\n\n",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u2","userName":"svc-backup","userType":"Service","name":{"givenName":"Back","familyName":"Up"}}"#,
            "\n",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Domain Admins","members":[{"value":"u1"},{"value":"g2"}]}"#,
            "\n",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g2","displayName":"Staff","members":[{"value":"u2"}]}"#,
        );
        let b = parse("okta.jsonl", file.as_bytes(), &opts()).expect("parses");
        assert_eq!(b.systems, ["okta"]);
        assert_eq!(b.rows, 4);
        let babs = &b.accounts[0];
        assert_eq!(
            (babs.account_id.as_ref(), babs.email.as_deref(), babs.employee_id.as_deref()),
            ("Babs@Example.com", Some("babs@example.com"), Some("E100"))
        );
        assert_eq!((babs.status, babs.origin.line), (AccountStatus::Disabled, 1));
        assert_eq!(
            (b.accounts[1].kind, b.accounts[1].display_name.as_str(), b.accounts[1].origin.line),
            (AccountType::Service, "Back Up", 3)
        );
        assert!(b.entitlements[0].privileged && !b.entitlements[1].privileged);
        let held: Vec<(&str, &str)> = b.assignments.iter().map(|a| (a.account_id.as_ref(), a.entitlement.as_ref())).collect();
        assert_eq!(held, [("Babs@Example.com", "Domain Admins"), ("svc-backup", "Staff")]);
    }

    #[test]
    fn groups_are_known_by_id_whatever_their_names_and_size() {
        let user = |i: usize| format!(r#"{{"schemas":["{USER}"],"id":"u{i}","userName":"user{i}@example.com"}}"#);
        let group = |id: &str, name: Option<&str>, members: std::ops::Range<usize>| {
            let members: Vec<String> =
                members.map(|i| format!(r#"{{"value":"u{i}","type":"User","display":"User number {i} of a very large group"}}"#)).collect();
            let name = name.map(|n| format!(r#","displayName":"{n}""#)).unwrap_or_default();
            format!(r#"{{"schemas":["{GROUP}"],"id":"{id}"{name},"members":[{}]}}"#, members.join(","))
        };
        let mut lines: Vec<String> = (0..20_000).map(user).collect();
        // Two Groups named alike (Entra ID allows it), one without a name, one of 20,000
        // members (far beyond the limit of one resource), and one literally named like a
        // disambiguated name.
        lines.push(group("g1", Some("Sales"), 0..2));
        lines.push(group("g2", Some("sales"), 2..3));
        lines.push(group("g3", None, 3..4));
        lines.push(group("g4", Some("Everyone"), 0..20_000));
        lines.push(group("g5", Some("Sales [g1]"), 4..5));
        lines.push(format!(
            r#"{{"schemas":["{GROUP}"],"id":"g6","displayName":"Twice","members":[{{"value":"u1"}},{{"value":"u1","type":"User"}}]}}"#
        ));
        let text = lines.join("\n");
        assert!(lines[20_003].len() > MAX_RESOURCE, "the big Group's line is {} bytes", lines[20_003].len());
        let b = parse("s.jsonl", text.as_bytes(), &opts()).expect("parses");
        let names: Vec<&str> = b.entitlements.iter().map(|e| e.name.as_ref()).collect();
        assert_eq!(names, ["Sales [g1]", "sales [g2]", "g3", "Everyone", "Sales [g1] [g5]", "Twice"]);
        let held = |e: &str| b.assignments.iter().filter(|a| a.entitlement.as_ref() == e).count();
        assert_eq!((held("Sales [g1]"), held("sales [g2]"), held("g3"), held("Everyone"), held("Twice")), (2, 1, 1, 20_000, 1));
        // A User is still bounded.
        let huge = format!(r#"{{"schemas":["{USER}"],"id":"x","userName":"x","displayName":"{}"}}"#, "a".repeat(MAX_RESOURCE));
        let err = parse("s.jsonl", huge.as_bytes(), &opts()).expect_err("too large").to_string();
        assert!(err.contains("apart from Group members; expected at most"), "{err}");
    }

    #[test]
    fn bad_snapshots_name_the_line() {
        let user = |name: &str, id: &str| format!(r#"{{"schemas":["{USER}"],"id":"{id}","userName":"{name}"}}"#);
        for (file, want) in [
            (format!("{}\n{{nope", user("a", "1")), "s.jsonl:2: not a JSON resource"),
            ("[1]".to_string(), "s.jsonl:1: expected a JSON object"),
            (r#"{"schemas":["urn:x"]}"#.to_string(), "s.jsonl:1: column `schemas`: expected a SCIM User"),
            (format!(r#"{{"schemas":["{USER}"],"id":"1"}}"#), "s.jsonl:1: column `userName`: a User needs a userName"),
            (
                format!("{}\n{}", user("a", "1"), user("A", "2")),
                "s.jsonl:2: column `userName`: duplicate userName \"A\": line 1 has it too",
            ),
            (
                format!(r#"{{"schemas":["{USER}"],"id":"1","userName":"a","active":"yes"}}"#),
                "s.jsonl:1: column `active`: expected true or false",
            ),
            (
                format!(r#"{{"schemas":["{GROUP}"],"id":"g","displayName":"G","members":[{{"value":"ghost"}}]}}"#),
                "s.jsonl:1: column `members`: member \"ghost\" is no User",
            ),
            (format!("{}\n{}", user("Ren\u{e9}", "1"), user("RENE\u{301}", "2")), "s.jsonl:2: column `userName`: duplicate userName"),
            (format!(r#"{{"schemas":["{GROUP}"],"displayName":"G"}}"#), "s.jsonl:1: column `id`: a Group needs its id"),
            (
                format!(r#"{{"schemas":["{USER}"],"id":"1","userName":"a","meta":{{"created":"yesterday"}}}}"#),
                "s.jsonl:1: column `meta.created`: \"yesterday\" is not an RFC 3339",
            ),
        ] {
            let err = parse("s.jsonl", file.as_bytes(), &opts()).expect_err(&file).to_string();
            assert!(err.starts_with(want), "{file}\n  got: {err}\n want: {want}");
        }
        let err = parse("s.jsonl", b"{}\n\xff", &opts()).expect_err("bad utf-8").to_string();
        assert!(err.starts_with("s.jsonl:2: the file is not UTF-8"), "{err}");
    }
}
