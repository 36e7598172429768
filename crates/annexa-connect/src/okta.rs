//! Okta: what its management API returns, saved as JSON files.
//!
//! * Users (`GET /api/v1/users`): each one an account, known by its Okta `id`, with its
//!   login, e-mail, employee number, status and sign-in dates.
//! * Groups (`GET /api/v1/groups`): entitlements, known by id (two may share a name).
//! * Per-group and per-user lists, which Okta answers without saying whose they are, so
//!   the file's name says it, after the API path: `groups/{id}/users.json` (a group's
//!   members), `groups/{id}/roles.json` (admin roles given to a group: its members are
//!   privileged), `users/{id}/groups.json`, `users/{id}/roles.json` (a user's admin
//!   roles, each a privileged entitlement `role:SUPER_ADMIN`, ...) and
//!   `users/{id}/factors.json` (the factors a user enrolled). See [`json::api_path_id`]
//!   for the accepted spellings.
//!
//! A user's MFA is known only when their factors file is part of the import: Okta lists
//! factors one user at a time, and a user whose list was not fetched is not judged.

use crate::error::quote;
use crate::json::{self, api_path_id, Grants, Part, Record, Seen};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, MfaFactor, Origin};
use annexa_core::Name;
use std::collections::{HashMap, HashSet};

/// The user statuses Okta reports, and whether the account can be used: a staged user
/// was never activated, a suspended or deprovisioned one cannot sign in; a locked-out
/// user or one whose password expired still has an account to recover.
const STATUSES: &[(&str, AccountStatus)] = &[
    ("ACTIVE", AccountStatus::Enabled),
    ("PROVISIONED", AccountStatus::Enabled),
    ("RECOVERY", AccountStatus::Enabled),
    ("PASSWORD_EXPIRED", AccountStatus::Enabled),
    ("LOCKED_OUT", AccountStatus::Enabled),
    ("STAGED", AccountStatus::Disabled),
    ("SUSPENDED", AccountStatus::Disabled),
    ("DEPROVISIONED", AccountStatus::Disabled),
];

/// What a file holds, from its name.
#[derive(Clone, Copy)]
enum List<'n> {
    /// Users and groups (`/users`, `/groups`), told apart by their fields.
    Listing,
    GroupUsers(&'n str),
    GroupRoles(&'n str),
    UserGroups(&'n str),
    UserRoles(&'n str),
    UserFactors(&'n str),
}

/// How a file of a per-id list becomes a [`List`].
type ListOf<'n> = fn(&'n str) -> List<'n>;

fn list_of<'n>(name: &'n str) -> List<'n> {
    let lists: [(&str, &str, ListOf<'n>); 5] = [
        ("groups", "users", List::GroupUsers),
        ("groups", "roles", List::GroupRoles),
        ("users", "groups", List::UserGroups),
        ("users", "roles", List::UserRoles),
        ("users", "factors", List::UserFactors),
    ];
    lists.iter().find_map(|(collection, sub, list)| api_path_id(name, (collection, sub)).map(list)).unwrap_or(List::Listing)
}

/// The factor types Okta reports, as Annexa's factor kinds. FastPass (`signed_nonce`) and
/// security keys resist phishing; a Duo (`web`) factor is counted as a push. Security
/// questions are no second factor, and unknown types are not counted.
pub fn factor(factor_type: &str) -> Option<MfaFactor> {
    match factor_type.to_ascii_lowercase().as_str() {
        "webauthn" | "u2f" | "signed_nonce" => Some(MfaFactor::Webauthn),
        "token:software:totp" | "token:hotp" | "token:hardware" | "token" => Some(MfaFactor::Totp),
        "push" | "web" => Some(MfaFactor::Push),
        "sms" | "call" => Some(MfaFactor::Sms),
        "email" => Some(MfaFactor::Email),
        _ => None,
    }
}

/// Records of one per-group or per-user file.
struct PerId<'a> {
    id: &'a str,
    part: &'a Part<'a>,
    records: Vec<Record<'a>>,
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let parts = json::parts(file, bytes, options)?;
    let system_name = json::system_name(options, ImportKind::Okta);
    let system: Name = system_name.as_str().into();
    let mut batch = ImportBatch { systems: vec![system_name], ..Default::default() };

    let (mut users, mut groups) = (Vec::new(), Vec::new());
    let (mut group_users, mut group_roles, mut user_groups, mut user_roles, mut user_factors) = (vec![], vec![], vec![], vec![], vec![]);
    for part in &parts {
        let records = json::records(part, &[])?;
        batch.rows += records.len() as u64;
        match list_of(part.name) {
            List::Listing => {
                for r in records {
                    if r.has("factorType") {
                        return Err(r.error(
                            "factorType",
                            "an enrolled factor in a file not named after its user: name the file users/{id}/factors.json",
                        ));
                    } else if r.has("assignmentType") || r.has("label") && !r.has("profile") {
                        return Err(r.error(
                            "type",
                            "an admin role in a file not named after its user or group: name the file users/{id}/roles.json",
                        ));
                    } else if is_group(&r) {
                        groups.push(r);
                    } else {
                        users.push(r);
                    }
                }
            }
            List::GroupUsers(id) => group_users.push(PerId { id, part, records }),
            List::GroupRoles(id) => group_roles.push(PerId { id, part, records }),
            List::UserGroups(id) => user_groups.push(PerId { id, part, records }),
            List::UserRoles(id) => user_roles.push(PerId { id, part, records }),
            List::UserFactors(id) => user_factors.push(PerId { id, part, records }),
        }
    }

    // Users: accounts, by id.
    let mut ids = Seen::new("user id");
    let mut account_of: HashMap<&str, usize> = HashMap::new();
    for r in &users {
        let id = r.id("id", "the user's id")?;
        ids.insert(r, "id", id)?;
        account_of.insert(id, batch.accounts.len());
        batch.accounts.push(account(r, &system, id)?);
    }
    let known_user = |list: &PerId<'_>| -> Result<usize, ImportError> {
        account_of.get(list.id).copied().ok_or_else(|| {
            list.part.error(
                1,
                None,
                format!("the file name says user {}, who is not among the users read: import the users listing with it", quote(list.id)),
            )
        })
    };

    // Factors: the user's MFA, once their list is read.
    for list in &user_factors {
        let i = known_user(list)?;
        let mut factors = Vec::new();
        for r in &list.records {
            let kind = r.required("factorType", "the factor's type")?;
            let active = r.text("status")?.is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE"));
            factors.extend(factor(kind).filter(|_| active));
        }
        let mfa = batch.accounts[i].mfa.get_or_insert_with(Vec::new);
        mfa.extend(factors);
    }
    json::settle_mfa(&mut batch.accounts);

    // Groups: listed ones first, then those only named by membership files.
    let mut group_ids = Seen::new("group id");
    let mut known: Vec<(&str, Option<&str>, Origin)> = Vec::new();
    let mut group_index: HashMap<&str, usize> = HashMap::new();
    for r in &groups {
        let id = r.id("id", "the group's id")?;
        group_ids.insert(r, "id", id)?;
        group_index.insert(id, known.len());
        known.push((id, r.text("profile.name")?, r.origin()));
    }
    for list in &user_groups {
        known_user(list)?;
        for r in &list.records {
            let id = r.id("id", "the group's id")?;
            if !group_index.contains_key(id) {
                group_index.insert(id, known.len());
                known.push((id, r.text("profile.name")?, r.origin()));
            }
        }
    }
    for list in group_users.iter().chain(&group_roles) {
        if !group_index.contains_key(list.id) {
            group_index.insert(list.id, known.len());
            known.push((list.id, None, list.part.origin(1)));
        }
    }
    let names = json::group_names(&known.iter().map(|(id, name, _)| (*id, *name)).collect::<Vec<_>>());
    let with_roles: HashSet<&str> = group_roles.iter().filter(|l| !l.records.is_empty()).map(|l| l.id).collect();
    for list in &group_roles {
        for r in &list.records {
            role_name(r)?;
        }
    }
    let group_name = |id: &str| -> Name { names.get(id).map_or(id, String::as_str).into() };
    for (id, name, origin) in &known {
        let privileged = with_roles.contains(id) || crate::ldif::is_privileged(name.unwrap_or(id), options);
        batch.entitlements.push(json::entitlement(&system, group_name(id), privileged, *origin));
    }

    // Memberships and admin roles.
    let mut grants = Grants::new(&system);
    let mut assign = |batch: &mut ImportBatch, account: usize, entitlement: Name, origin: Origin| {
        let account_id = batch.accounts[account].account_id.clone();
        grants.add(batch, &account_id, &entitlement, origin);
    };
    for list in &group_users {
        for r in &list.records {
            let id = r.id("id", "the member's user id")?;
            let Some(&i) = account_of.get(id) else {
                return Err(r
                    .error("id", format!("member {} of group {} is no user of this import", quote(id), quote(list.id)))
                    .with_value(id));
            };
            assign(&mut batch, i, group_name(list.id), r.origin());
        }
    }
    for list in &user_groups {
        let i = known_user(list)?;
        for r in &list.records {
            assign(&mut batch, i, group_name(r.id("id", "the group's id")?), r.origin());
        }
    }
    let mut roles_seen: HashSet<Name> = HashSet::new();
    for list in &user_roles {
        let i = known_user(list)?;
        for r in &list.records {
            let role: Name = format!("role:{}", role_name(r)?).into();
            if roles_seen.insert(role.clone()) {
                batch.entitlements.push(json::entitlement(&system, role.clone(), true, r.origin()));
            }
            assign(&mut batch, i, role, r.origin());
        }
    }
    Ok(batch)
}

/// A group has a `profile.name` and no login (or says it is a group).
fn is_group(r: &Record<'_>) -> bool {
    let class = r.get("objectClass").and_then(|c| c.as_array()).is_some_and(|c| c.iter().any(|v| v.as_str() == Some("okta:user_group")));
    class || (r.has("profile.name") && !r.has("profile.login"))
}

/// An admin role's name: its `type` (`SUPER_ADMIN`, `ORG_ADMIN`, ...), or a custom role's
/// `label`.
fn role_name<'r>(r: &'r Record<'_>) -> Result<&'r str, ImportError> {
    let kind = r.required("type", "the role's type, e.g. SUPER_ADMIN")?;
    if kind.eq_ignore_ascii_case("CUSTOM") {
        return r.required("label", "a custom role's name");
    }
    Ok(kind)
}

fn account(r: &Record<'_>, system: &Name, id: &str) -> Result<Account, ImportError> {
    let status_text = r.required("status", "the user's status")?;
    let status = STATUSES.iter().find(|(s, _)| s.eq_ignore_ascii_case(status_text)).map(|(_, s)| *s).ok_or_else(|| {
        let expected: Vec<&str> = STATUSES.iter().map(|(s, _)| *s).collect();
        r.error("status", format!("unknown status {}: expected one of {}", quote(status_text), expected.join(", "))).with_value(status_text)
    })?;
    let login = r.id("profile.login", "the user's login")?;
    let email = r.text("profile.email")?.map(str::to_lowercase);
    let display_name = match r.text("profile.displayName")? {
        Some(d) => d.to_string(),
        None => {
            let full = format!("{} {}", r.text("profile.firstName")?.unwrap_or_default(), r.text("profile.lastName")?.unwrap_or_default());
            Some(full.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| login.to_string())
        }
    };
    let kind = json::account_type(r.text("profile.userType")?);
    Ok(Account {
        system: system.clone(),
        account_id: id.into(),
        username: login.to_string(),
        email,
        employee_id: r.text("profile.employeeNumber")?.map(Into::into),
        display_name,
        status,
        kind,
        created_at: r.instant("created")?,
        last_login_at: r.instant("lastLogin")?,
        // Okta writes `lastLogin: null` for a user who never signed in.
        last_login_known: true,
        mfa: None,
        password_last_set_at: r.instant("passwordChanged")?,
        interactive: kind != AccountType::Service,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin: r.origin(),
    })
}
