//! Google Workspace: what the Admin SDK Directory API returns, saved as JSON files, or the
//! admin console's users download (CSV).
//!
//! * Users (`GET /admin/directory/v1/users?customer=my_customer&projection=full`): each an
//!   account known by its `id`, with the primary e-mail address as login; super and
//!   delegated administrators hold a privileged entitlement (`role:super-admin`,
//!   `role:delegated-admin`); enrolment in 2-Step Verification is their MFA.
//! * Groups (`GET /admin/directory/v1/groups`): entitlements named by the group's e-mail
//!   address, which Google keeps unique.
//! * A group's members (`GET /admin/directory/v1/groups/{groupKey}/members`), which do not
//!   say whose they are, so the file's name does: `groups/{groupKey}/members.json`, the key
//!   being the group's id or e-mail address.
//! * The admin console's users CSV ("Download users"): one account per row, known by its
//!   e-mail address (the download has no id), read through the strict table reader, with
//!   `--lenient` setting bad rows aside.
//!
//! A file is JSON when its first character (after a byte-order mark and white space) is
//! `{` or `[`, and the users CSV otherwise; the CSV is imported on its own.

use crate::error::{quote, Refusals};
use crate::json::{self, api_path_id, Grants, Part, Record, Seen};
use crate::table::{KeySet, Row, Table};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, MfaFactor, Origin};
use annexa_core::text::{email_key, login_key};
use annexa_core::time::{parse_instant, parse_slashed, Instant};
use annexa_core::Name;
use serde_json::Value;
use std::collections::HashMap;

/// The entitlement of a super administrator (`isAdmin`).
pub const SUPER_ADMIN: &str = "role:super-admin";
/// The entitlement of a delegated administrator (`isDelegatedAdmin`).
pub const DELEGATED_ADMIN: &str = "role:delegated-admin";

/// The columns of the admin console's users download that Annexa reads: these must be in
/// the header...
pub const CSV_REQUIRED: &[&str] =
    &["Email Address [Required]", "Status [READ ONLY]", "Last Sign In [READ ONLY]", "2sv Enrolled [READ ONLY]"];
/// ... and these are read when present; every other column is ignored.
pub const CSV_OPTIONAL: &[&str] = &["First Name [Required]", "Last Name [Required]", "Employee ID"];
const EMAIL: &str = CSV_REQUIRED[0];
const STATUS: &str = CSV_REQUIRED[1];
const LAST_SIGN_IN: &str = CSV_REQUIRED[2];
const ENROLLED: &str = CSV_REQUIRED[3];

/// 2-Step Verification, which the Directory API and the download report only as enrolled
/// or not: a second factor of a kind it does not say (`unspecified`), which never counts as
/// phishing-resistant.
fn two_step(enrolled: bool) -> Vec<MfaFactor> {
    vec![if enrolled { MfaFactor::Unspecified } else { MfaFactor::None }]
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let parts = json::parts(file, bytes, options)?;
    let system_name = json::system_name(options, ImportKind::GoogleWorkspace);
    let system: Name = system_name.as_str().into();
    let mut batch = ImportBatch { systems: vec![system_name], ..Default::default() };
    if let Some(csv) = parts.iter().find(|p| !is_json(p.text)) {
        if parts.len() > 1 {
            return Err(csv.error(
                1,
                None,
                "not JSON (the first character is neither `{` nor `[`): the admin console's users CSV is imported on its own, \
                 not with other files",
            ));
        }
        parse_csv(csv, &system, options, &mut batch)?;
        return Ok(batch);
    }

    let (mut users, mut groups, mut member_lists) = (Vec::new(), Vec::new(), Vec::new());
    for part in &parts {
        let records: Vec<Record<'_>> =
            json::records(part, &["users", "groups", "members"])?.into_iter().filter(|r| !is_empty_page(r)).collect();
        batch.rows += records.len() as u64;
        if let Some(key) = api_path_id(part.name, ("groups", "members")) {
            member_lists.push((key, part, records));
            continue;
        }
        for r in records {
            match what(&r)? {
                What::User => users.push(r),
                What::Group => groups.push(r),
            }
        }
    }

    // Users: accounts, by id; group members name them by id or e-mail address.
    let mut ids = Seen::new("user id");
    let mut account_of: HashMap<&str, usize> = HashMap::new();
    let mut by_email: HashMap<String, usize> = HashMap::new();
    let mut admins: Vec<(usize, &str, Origin)> = Vec::new();
    for r in &users {
        let id = r.id("id", "the user's id")?;
        ids.insert(r, "id", id)?;
        let i = batch.accounts.len();
        let account = account(r, &system, id)?;
        account_of.insert(id, i);
        by_email.insert(login_key(&account.username), i);
        batch.accounts.push(account);
        if r.boolean("isAdmin")? == Some(true) {
            admins.push((i, SUPER_ADMIN, r.origin()));
        }
        if r.boolean("isDelegatedAdmin")? == Some(true) {
            admins.push((i, DELEGATED_ADMIN, r.origin()));
        }
    }

    // Groups, known by id and by e-mail address; a member list may name its group by either.
    let mut group_ids = Seen::new("group id");
    let mut known: Vec<(&str, Option<&str>, Origin)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for r in &groups {
        let id = r.id("id", "the group's id")?;
        group_ids.insert(r, "id", id)?;
        let email = r.text("email")?;
        group_of.insert(id.to_string(), known.len());
        if let Some(email) = email {
            group_of.insert(login_key(email), known.len());
        }
        known.push((id, email.or(r.text("name")?), r.origin()));
    }
    for (key, part, _) in &member_lists {
        if !group_of.contains_key(*key) && !group_of.contains_key(&login_key(key)) {
            group_of.insert(key.to_string(), known.len());
            known.push((key, None, part.origin(1)));
        }
    }
    let names = json::group_names(&known.iter().map(|(id, label, _)| (*id, *label)).collect::<Vec<_>>());
    let group_name = |i: usize| -> Name { names.get(known[i].0).map_or(known[i].0, String::as_str).into() };
    for (i, (id, label, origin)) in known.iter().enumerate() {
        let privileged = crate::ldif::is_privileged(label.unwrap_or(id), options);
        batch.entitlements.push(json::entitlement(&system, group_name(i), privileged, *origin));
    }
    let mut roles_seen: Vec<&str> = Vec::new();
    for (_, role, origin) in &admins {
        if !roles_seen.contains(role) {
            roles_seen.push(role);
            batch.entitlements.push(json::entitlement(&system, (*role).into(), true, *origin));
        }
    }

    // Memberships and administrator roles.
    let mut grants = Grants::new(&system);
    for (key, _, records) in &member_lists {
        let Some(&g) = group_of.get(*key).or_else(|| group_of.get(&login_key(key))) else { continue };
        let entitlement = group_name(g);
        for r in records {
            // Nested groups, the whole customer and addresses outside the domain are no
            // accounts of this directory.
            let kind = r.text("type")?.unwrap_or("USER");
            if !kind.eq_ignore_ascii_case("USER") {
                continue;
            }
            let i = match r.text("id")? {
                Some(id) => account_of.get(id).copied(),
                None => None,
            };
            let i = match (i, r.text("email")?) {
                (Some(i), _) => i,
                (None, Some(email)) => *by_email.get(&login_key(email)).ok_or_else(|| unknown_member(r, "email", email, key))?,
                (None, None) => match r.text("id")? {
                    Some(id) => return Err(unknown_member(r, "id", id, key)),
                    None => return Err(r.error("id", "a member without `id` or `email`")),
                },
            };
            let account_id = batch.accounts[i].account_id.clone();
            grants.add(&mut batch, &account_id, &entitlement, r.origin());
        }
    }
    for (i, role, origin) in admins {
        let account_id = batch.accounts[i].account_id.clone();
        grants.add(&mut batch, &account_id, &role.into(), origin);
    }
    Ok(batch)
}

/// Whether `text` is JSON rather than the users CSV: an empty file is JSON (with no
/// records), as for the other identity providers.
fn is_json(text: &str) -> bool {
    matches!(text.trim_start().chars().next(), None | Some('{' | '['))
}

/// A page without items: Google leaves the list out rather than writing it empty.
fn is_empty_page(r: &Record<'_>) -> bool {
    let kind = r.get("kind").and_then(Value::as_str).unwrap_or_default();
    ["admin#directory#users", "admin#directory#groups", "admin#directory#members"].iter().any(|k| kind.eq_ignore_ascii_case(k))
}

/// Fields only a user has.
const USER_FIELDS: &[&str] =
    &["isAdmin", "isDelegatedAdmin", "suspended", "lastLoginTime", "isEnrolledIn2Sv", "orgUnitPath", "creationTime"];

enum What {
    User,
    Group,
}

/// What a record of a listing is: its `kind`, its page's `kind`, or else its fields.
fn what(r: &Record<'_>) -> Result<What, ImportError> {
    let kind = match r.text("kind")? {
        Some(k) => Some(k.to_ascii_lowercase()),
        None => r.page_kind.as_deref().map(|k| k.trim_end_matches('s').to_ascii_lowercase()),
    };
    let member = || r.error("kind", "a group member in a file not named after its group: name the file groups/{groupKey}/members.json");
    match kind.as_deref() {
        Some("admin#directory#user") => return Ok(What::User),
        Some("admin#directory#group") => return Ok(What::Group),
        Some("admin#directory#member") => return Err(member()),
        _ => {}
    }
    if r.has("primaryEmail") {
        Ok(What::User)
    } else if r.has("role") && r.has("email") {
        Err(member())
    } else if USER_FIELDS.iter().any(|f| r.fields.contains_key(*f)) {
        // A user without its address: the user's reading names what is missing.
        Ok(What::User)
    } else if r.has("email") {
        Ok(What::Group)
    } else {
        Err(r.part.error(r.line, None, "expected a Directory API user (with primaryEmail) or group (with email)"))
    }
}

fn unknown_member(r: &Record<'_>, field: &str, who: &str, group: &str) -> ImportError {
    r.error(field, format!("member {} of group {} is no user of this import", quote(who), quote(group))).with_value(who)
}

fn account(r: &Record<'_>, system: &Name, id: &str) -> Result<Account, ImportError> {
    let login = r.id("primaryEmail", "the user's primary e-mail address")?;
    let display_name = match r.text("name.fullName")? {
        Some(full) => full.to_string(),
        None => {
            let full = format!("{} {}", r.text("name.givenName")?.unwrap_or_default(), r.text("name.familyName")?.unwrap_or_default());
            Some(full.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| login.to_string())
        }
    };
    // A suspended, archived or deleted (`showDeleted=true`) user cannot sign in.
    let disabled = r.boolean("suspended")? == Some(true) || r.boolean("archived")? == Some(true) || r.has("deletionTime");
    let mut employee_id = None;
    for item in r.array("externalIds")? {
        if json::item_text(r, "externalIds", item, "type")?.is_some_and(|t| t.eq_ignore_ascii_case("organization")) {
            employee_id = json::item_text(r, "externalIds", item, "value")?;
            break;
        }
    }
    Ok(Account {
        system: system.clone(),
        account_id: id.into(),
        username: login.to_string(),
        email: other_address(r, login)?,
        employee_id: employee_id.map(Into::into),
        display_name,
        status: if disabled { AccountStatus::Disabled } else { AccountStatus::Enabled },
        kind: AccountType::Human,
        created_at: r.instant("creationTime")?,
        // Google writes the Unix epoch for a user who never signed in.
        last_login_at: r.instant("lastLoginTime")?.filter(|t| t.timestamp() > 0),
        last_login_known: r.has("lastLoginTime"),
        mfa: r.boolean("isEnrolledIn2Sv")?.map(two_step),
        password_last_set_at: None,
        interactive: true,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin: r.origin(),
    })
}

/// A work address other than the login in `emails` (the one marked `primary`, else the
/// first of type `work`), as the account's e-mail; without one the e-mail is left empty,
/// and the login, itself an address, correlates.
fn other_address(r: &Record<'_>, login: &str) -> Result<Option<String>, ImportError> {
    let mut work = None;
    for item in r.array("emails")? {
        let Some(address) = json::item_text(r, "emails", item, "address")? else { continue };
        if email_key(address) == email_key(login) {
            continue;
        }
        if item.get("primary").and_then(Value::as_bool) == Some(true) {
            return Ok(Some(email_key(address).into_owned()));
        }
        if work.is_none() && json::item_text(r, "emails", item, "type")?.is_some_and(|t| t.eq_ignore_ascii_case("work")) {
            work = Some(email_key(address).into_owned());
        }
    }
    Ok(work)
}

/// The admin console's users download.
fn parse_csv(part: &Part<'_>, system: &Name, options: &ImportOptions, batch: &mut ImportBatch) -> Result<(), ImportError> {
    let mut table = Table::open(part.name, part.text.as_bytes(), CSV_REQUIRED, CSV_OPTIONAL, &Default::default())?;
    let mut keys: KeySet = KeySet::new("user");
    let mut refusals = Refusals::new(options);
    while let Some(row) = table.next_good_row(&mut refusals)? {
        match csv_account(&row, part, system, &mut keys) {
            Ok(account) => batch.accounts.push(account),
            Err(e) => refusals.refuse(e)?,
        }
    }
    batch.rows = (batch.accounts.len() + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok(())
}

fn csv_account(row: &Row<'_>, part: &Part<'_>, system: &Name, keys: &mut KeySet) -> Result<Account, ImportError> {
    let login = row.required(EMAIL)?;
    if !login.contains('@') {
        return Err(row.error(EMAIL, format!("{} is not an e-mail address", quote(login))));
    }
    keys.insert(row, EMAIL, login_key(login))?;
    let status = row.required(STATUS)?;
    let status = if status.eq_ignore_ascii_case("Active") {
        AccountStatus::Enabled
    } else if status.eq_ignore_ascii_case("Suspended") || status.eq_ignore_ascii_case("Archived") {
        AccountStatus::Disabled
    } else {
        return Err(row.error(STATUS, format!("unknown status {}: expected Active, Suspended or Archived", quote(status))));
    };
    let last_login_at = csv_instant(row, LAST_SIGN_IN)?;
    let mfa = match row.optional(ENROLLED)? {
        None => None,
        Some(_) => Some(two_step(crate::fields::boolean(row, ENROLLED, false)?)),
    };
    let full = format!("{} {}", row.text("First Name [Required]")?, row.text("Last Name [Required]")?);
    let full = full.trim();
    Ok(Account {
        system: system.clone(),
        account_id: login.into(),
        username: login.to_string(),
        email: None,
        employee_id: row.optional("Employee ID")?.map(Into::into),
        display_name: if full.is_empty() { login.to_string() } else { full.to_string() },
        status,
        kind: AccountType::Human,
        created_at: None,
        last_login_at,
        last_login_known: true,
        mfa,
        password_last_set_at: None,
        interactive: true,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin: part.origin(row.line),
    })
}

/// A date-time of the download: `2026/03/14 09:12:33` (UTC) or RFC 3339; `Never logged
/// in` (or empty) for none.
fn csv_instant(row: &Row<'_>, column: &str) -> Result<Option<Instant>, ImportError> {
    match row.optional(column)? {
        None => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("Never logged in") || t.eq_ignore_ascii_case("Never") => Ok(None),
        Some(t) => parse_slashed(t).or_else(|| parse_instant(t)).map(Some).ok_or_else(|| {
            row.error(column, format!("{} is not a date-time: expected 2026/03/14 09:12:33, RFC 3339 or `Never logged in`", quote(t)))
        }),
    }
}
