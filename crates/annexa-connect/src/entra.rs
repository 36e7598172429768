//! Microsoft Entra ID: what Microsoft Graph (v1.0) returns, saved as JSON files.
//!
//! * Users (`GET /users`, with `accountEnabled` and `signInActivity` selected): accounts,
//!   known by their object `id`, with the user principal name as login. A `memberOf`
//!   expanded on a user (`$expand=memberOf`) gives its groups and directory roles.
//! * Groups (`GET /groups`, members expanded or in files named `groups/{id}/members.json`):
//!   entitlements known by id, since two may share a name; each user member an assignment.
//! * Directory roles (`GET /directoryRoles`, members expanded or in files named
//!   `directoryRoles/{id}/members.json`) and role assignments
//!   (`GET /roleManagement/directory/roleAssignments`): privileged entitlements
//!   `role:Global Administrator`, ...; a role given to a group makes the group privileged.
//! * The authentication methods registration report
//!   (`GET /reports/authenticationMethods/userRegistrationDetails`): each user's MFA.
//!
//! A file may be a Graph page (`{"@odata.context": …, "value": […], "@odata.nextLink": …}`)
//! or a bare array; what a record is comes from its file's name, the page's
//! `@odata.context`, the record's `@odata.type`, or else its fields.

use crate::error::quote;
use crate::json::{self, api_path_id, Grants, Part, Record, Seen};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, MfaFactor, Origin};
use annexa_core::Name;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    User,
    Group,
    Role,
    RoleAssignment,
    Registration,
}

/// The entity sets of `@odata.context` and the types of `@odata.type`, by kind.
const KINDS: &[(&str, &str, Kind)] = &[
    ("users", "#microsoft.graph.user", Kind::User),
    ("groups", "#microsoft.graph.group", Kind::Group),
    ("directoryRoles", "#microsoft.graph.directoryRole", Kind::Role),
    ("roleManagement/directory/roleAssignments", "#microsoft.graph.unifiedRoleAssignment", Kind::RoleAssignment),
    ("reports/authenticationMethods/userRegistrationDetails", "#microsoft.graph.userRegistrationDetails", Kind::Registration),
];

/// The registered methods the report lists, as Annexa's factor kinds. Security keys,
/// passkeys, Windows Hello for Business, platform keys and certificates resist phishing;
/// the Authenticator app's push and phone sign-in do not. Security questions, app
/// passwords and temporary access passes are no second factor, and unknown methods are
/// not counted.
pub fn method(name: &str) -> Option<MfaFactor> {
    match name.to_ascii_lowercase().as_str() {
        "fido2"
        | "passkeydevicebound"
        | "passkeydeviceboundauthenticator"
        | "passkeydeviceboundwindowshello"
        | "passkeysynced"
        | "windowshelloforbusiness"
        | "macossecureenclavekey"
        | "x509certificatemultifactor" => Some(MfaFactor::Webauthn),
        "microsoftauthenticatorpush" | "microsoftauthenticatorpasswordless" => Some(MfaFactor::Push),
        "softwareonetimepasscode" | "hardwareonetimepasscode" => Some(MfaFactor::Totp),
        "mobilephone" | "alternatemobilephone" | "officephone" | "sms" | "voice" => Some(MfaFactor::Sms),
        "email" => Some(MfaFactor::Email),
        _ => None,
    }
}

/// The kind a page's `@odata.context` names (`…/$metadata#users(id,userPrincipalName)`).
fn kind_of_context(context: &str) -> Option<Kind> {
    let set = context.split_once('#')?.1;
    let set = set.split(['(', '$']).next().unwrap_or(set).trim_end_matches('/');
    KINDS.iter().find(|(name, _, _)| set.eq_ignore_ascii_case(name)).map(|k| k.2)
}

fn kind_of(r: &Record<'_>) -> Result<Kind, ImportError> {
    if let Some(t) = r.text("@odata.type")? {
        if let Some(k) = KINDS.iter().find(|(_, ty, _)| t.eq_ignore_ascii_case(ty)) {
            return Ok(k.2);
        }
    }
    if let Some(k) = r.page_kind.as_deref().and_then(kind_of_context) {
        return Ok(k);
    }
    let has = |f: &str| r.fields.contains_key(f);
    Ok(if has("methodsRegistered") || has("isMfaRegistered") {
        Kind::Registration
    } else if has("principalId") && has("roleDefinitionId") {
        Kind::RoleAssignment
    } else if has("roleTemplateId") {
        Kind::Role
    } else if has("userPrincipalName") {
        Kind::User
    } else if has("securityEnabled") || has("groupTypes") || has("mailEnabled") {
        Kind::Group
    } else {
        return Err(r.part.error(
            r.line,
            None,
            "expected a Microsoft Graph user (with userPrincipalName), group, directoryRole, role assignment or userRegistrationDetails record",
        ));
    })
}

/// A member list named after its group or role: `groups/{id}/members.json`.
struct Members<'a> {
    id: &'a str,
    of_role: bool,
    part: &'a Part<'a>,
    records: Vec<Record<'a>>,
}

/// A member of a group or role (an item of `members`, a record of a member list): a user
/// by id, or another kind of directory object (`@odata.type`), which is skipped.
fn member_id<'v>(r: &Record<'_>, field: &str, item: &'v Value) -> Result<Option<&'v str>, ImportError> {
    let ty = json::item_text(r, field, item, "@odata.type")?;
    if ty.is_some_and(|t| !t.eq_ignore_ascii_case("#microsoft.graph.user")) {
        return Ok(None);
    }
    json::item_text(r, field, item, "id")?.map(Some).ok_or_else(|| r.error(field, format!("a member without an id in `{field}`")))
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let parts = json::parts(file, bytes, options)?;
    let system_name = json::system_name(options, ImportKind::Entra);
    let system: Name = system_name.as_str().into();
    let mut batch = ImportBatch { systems: vec![system_name], ..Default::default() };

    let mut by_kind: HashMap<Kind, Vec<Record<'_>>> = HashMap::new();
    let mut member_lists = Vec::new();
    for part in &parts {
        let records = json::records(part, &["value"])?;
        batch.rows += records.len() as u64;
        let group = api_path_id(part.name, ("groups", "members"));
        let role = api_path_id(part.name, ("directoryRoles", "members"));
        if let Some(id) = group.or(role) {
            member_lists.push(Members { id, of_role: role.is_some() && group.is_none(), part, records });
            continue;
        }
        for r in records {
            by_kind.entry(kind_of(&r)?).or_default().push(r);
        }
    }
    let users = by_kind.remove(&Kind::User).unwrap_or_default();
    let groups = by_kind.remove(&Kind::Group).unwrap_or_default();
    let roles = by_kind.remove(&Kind::Role).unwrap_or_default();
    let role_assignments = by_kind.remove(&Kind::RoleAssignment).unwrap_or_default();
    let registrations = by_kind.remove(&Kind::Registration).unwrap_or_default();

    // Users.
    let mut ids = Seen::new("user id");
    let mut account_of: HashMap<&str, usize> = HashMap::new();
    let mut by_upn: HashMap<String, usize> = HashMap::new();
    for r in &users {
        let id = r.id("id", "the user's object id")?;
        ids.insert(r, "id", id)?;
        let account = account(r, &system, id)?;
        account_of.insert(id, batch.accounts.len());
        by_upn.insert(annexa_core::text::login_key(&account.username), batch.accounts.len());
        batch.accounts.push(account);
    }

    // Groups and roles, known by id; a user's expanded `memberOf` names them too.
    let mut group_ids = Seen::new("group id");
    let mut known_groups: Vec<(&str, Option<&str>, Origin)> = Vec::new();
    let mut group_seen: HashSet<&str> = HashSet::new();
    for r in &groups {
        let id = r.id("id", "the group's object id")?;
        group_ids.insert(r, "id", id)?;
        group_seen.insert(id);
        known_groups.push((id, r.text("displayName")?, r.origin()));
    }
    let mut role_ids = Seen::new("directory role id");
    // Role id -> (name, origin); role template id -> name (role assignments name roles by
    // their definition, which is the template's id for built-in roles).
    let mut role_of: HashMap<&str, (String, Origin)> = HashMap::new();
    let mut template_names: HashMap<&str, String> = HashMap::new();
    for r in &roles {
        let id = r.id("id", "the directory role's object id")?;
        role_ids.insert(r, "id", id)?;
        let name = r.text("displayName")?.unwrap_or(id);
        if let Some(t) = r.text("roleTemplateId")? {
            template_names.insert(t, name.to_string());
        }
        role_of.insert(id, (format!("role:{name}"), r.origin()));
    }
    for r in &users {
        for item in r.array("memberOf")? {
            let ty = json::item_text(r, "memberOf", item, "@odata.type")?.unwrap_or_default();
            let Some(id) = json::item_text(r, "memberOf", item, "id")? else { continue };
            let name = json::item_text(r, "memberOf", item, "displayName")?;
            if ty.eq_ignore_ascii_case("#microsoft.graph.group") && group_seen.insert(id) {
                known_groups.push((id, name, r.origin()));
            } else if ty.eq_ignore_ascii_case("#microsoft.graph.directoryRole") && !role_of.contains_key(id) {
                role_of.insert(id, (format!("role:{}", name.unwrap_or(id)), r.origin()));
            }
        }
    }
    for list in member_lists.iter().filter(|l| !l.of_role) {
        if group_seen.insert(list.id) {
            known_groups.push((list.id, None, list.part.origin(1)));
        }
    }
    for list in member_lists.iter().filter(|l| l.of_role) {
        role_of.entry(list.id).or_insert_with(|| (format!("role:{}", list.id), list.part.origin(1)));
    }
    let names = json::group_names(&known_groups.iter().map(|(id, name, _)| (*id, *name)).collect::<Vec<_>>());
    let group_name = |id: &str| -> Name { names.get(id).map_or(id, String::as_str).into() };

    // Role assignments: to users (an assignment of the role), to groups (the group is
    // privileged); service principals are no accounts.
    let mut role_groups: HashSet<&str> = HashSet::new();
    let mut role_grants: Vec<(usize, String, Origin)> = Vec::new();
    for r in &role_assignments {
        let principal = r.id("principalId", "who holds the role")?;
        let definition = r.id("roleDefinitionId", "which role")?;
        let name = match r.text("roleDefinition.displayName")? {
            Some(n) => n.to_string(),
            None => template_names.get(definition).cloned().unwrap_or_else(|| definition.to_string()),
        };
        if let Some(&i) = account_of.get(principal) {
            role_grants.push((i, format!("role:{name}"), r.origin()));
        } else if group_seen.contains(principal) {
            role_groups.insert(principal);
        }
    }

    for (id, name, origin) in &known_groups {
        let privileged = role_groups.contains(id) || crate::ldif::is_privileged(name.unwrap_or(id), options);
        batch.entitlements.push(json::entitlement(&system, group_name(id), privileged, *origin));
    }
    let mut role_entitlements: HashSet<String> = HashSet::new();
    let mut role_entitlement = |batch: &mut ImportBatch, name: &str, origin: Origin| -> Name {
        if role_entitlements.insert(name.to_string()) {
            batch.entitlements.push(json::entitlement(&system, name.into(), true, origin));
        }
        name.into()
    };
    let mut ordered_roles: Vec<(&str, &(String, Origin))> = role_of.iter().map(|(id, v)| (*id, v)).collect();
    ordered_roles.sort_by_key(|(_, (_, origin))| origin.line);
    for (_, (name, origin)) in &ordered_roles {
        role_entitlement(&mut batch, name, *origin);
    }

    // Memberships.
    let mut grants = Grants::new(&system);
    let mut holds_role: HashSet<usize> = HashSet::new();
    let unknown = |r: &Record<'_>, field: &str, id: &str, of: &str| {
        r.error(
            field,
            format!(
                "member {} of {} is no user of this import (and no @odata.type says it is another kind of object)",
                quote(id),
                quote(of)
            ),
        )
        .with_value(id)
    };
    for r in &groups {
        let gid = r.id("id", "the group's object id")?;
        for item in r.array("members")? {
            if let Some(uid) = member_id(r, "members", item)? {
                let &i = account_of.get(uid).ok_or_else(|| unknown(r, "members", uid, gid))?;
                let account_id = batch.accounts[i].account_id.clone();
                grants.add(&mut batch, &account_id, &group_name(gid), r.origin());
            }
        }
    }
    for r in &roles {
        let rid = r.id("id", "the directory role's object id")?;
        let name: Name = role_of.get(rid).map_or(rid, |(n, _)| n.as_str()).into();
        for item in r.array("members")? {
            if let Some(uid) = member_id(r, "members", item)? {
                let &i = account_of.get(uid).ok_or_else(|| unknown(r, "members", uid, rid))?;
                let account_id = batch.accounts[i].account_id.clone();
                grants.add(&mut batch, &account_id, &name, r.origin());
                holds_role.insert(i);
            }
        }
    }
    for list in &member_lists {
        let name: Name = if list.of_role { role_of.get(list.id).map_or(list.id, |(n, _)| n.as_str()).into() } else { group_name(list.id) };
        for r in &list.records {
            let item = Value::Object(r.fields.clone());
            if let Some(uid) = member_id(r, "id", &item)? {
                let &i = account_of.get(uid).ok_or_else(|| unknown(r, "id", uid, list.id))?;
                let account_id = batch.accounts[i].account_id.clone();
                grants.add(&mut batch, &account_id, &name, r.origin());
                if list.of_role {
                    holds_role.insert(i);
                }
            }
        }
    }
    for r in &users {
        let i = account_of[r.id("id", "the user's object id")?];
        for item in r.array("memberOf")? {
            let ty = json::item_text(r, "memberOf", item, "@odata.type")?.unwrap_or_default();
            let Some(id) = json::item_text(r, "memberOf", item, "id")? else { continue };
            let name = if ty.eq_ignore_ascii_case("#microsoft.graph.group") {
                group_name(id)
            } else if ty.eq_ignore_ascii_case("#microsoft.graph.directoryRole") {
                holds_role.insert(i);
                role_of.get(id).map_or(id, |(n, _)| n.as_str()).into()
            } else {
                continue;
            };
            let account_id = batch.accounts[i].account_id.clone();
            grants.add(&mut batch, &account_id, &name, r.origin());
        }
    }
    for (i, name, origin) in role_grants {
        let entitlement = role_entitlement(&mut batch, &name, origin);
        let account_id = batch.accounts[i].account_id.clone();
        grants.add(&mut batch, &account_id, &entitlement, origin);
        holds_role.insert(i);
    }

    // The registration report: MFA methods, and administrators the role data did not show.
    let mut reported = Seen::new("user in the registration report");
    for r in &registrations {
        let i = match r.text("id")? {
            Some(id) => account_of.get(id).copied(),
            None => None,
        };
        let i = match i {
            Some(i) => i,
            None => {
                let upn = r.required("userPrincipalName", "whose registration this is")?;
                *by_upn.get(&annexa_core::text::login_key(upn)).ok_or_else(|| {
                    r.error("userPrincipalName", format!("{} is no user of this import: import the users with the report", quote(upn)))
                        .with_value(upn)
                })?
            }
        };
        reported.insert(r, "id", batch.accounts[i].account_id.as_ref())?;
        let mut factors = Vec::new();
        for m in r.array("methodsRegistered")? {
            match m {
                Value::String(s) => factors.extend(method(s)),
                other => {
                    return Err(r.error(
                        "methodsRegistered",
                        format!("expected method names, found {}", if other.is_object() { "an object" } else { "another value" }),
                    ))
                }
            }
        }
        batch.accounts[i].mfa = Some(factors);
        if r.boolean("isAdmin")? == Some(true) && !holds_role.contains(&i) {
            let entitlement = role_entitlement(&mut batch, ADMIN_PER_REPORT, r.origin());
            let account_id = batch.accounts[i].account_id.clone();
            grants.add(&mut batch, &account_id, &entitlement, r.origin());
        }
    }
    json::settle_mfa(&mut batch.accounts);
    Ok(batch)
}

/// The entitlement of a user the registration report calls an administrator (`isAdmin`)
/// when the import holds none of their directory roles.
pub const ADMIN_PER_REPORT: &str = "role:administrator (isAdmin in the registration report)";

fn account(r: &Record<'_>, system: &Name, id: &str) -> Result<Account, ImportError> {
    let upn = r.id("userPrincipalName", "the user's sign-in name")?;
    let enabled = r.boolean("accountEnabled")?.ok_or_else(|| {
        r.error("accountEnabled", "missing required field `accountEnabled`: select it ($select=id,userPrincipalName,accountEnabled,…)")
    })?;
    // The last successful sign-in when Graph reports it; else the latest attempt, which
    // may have failed.
    let last = match r.instant("signInActivity.lastSuccessfulSignInDateTime")? {
        Some(t) => Some(t),
        None => r.instant("signInActivity.lastSignInDateTime")?.max(r.instant("signInActivity.lastNonInteractiveSignInDateTime")?),
    };
    let kind = match r.text("userType")? {
        Some(t) if !t.eq_ignore_ascii_case("member") && !t.eq_ignore_ascii_case("guest") => {
            return Err(r.error("userType", format!("unknown user type {}: expected Member or Guest", quote(t))).with_value(t));
        }
        _ => AccountType::Human,
    };
    Ok(Account {
        system: system.clone(),
        account_id: id.into(),
        username: upn.to_string(),
        email: r.text("mail")?.map(str::to_lowercase),
        employee_id: r.text("employeeId")?.map(Into::into),
        display_name: r.text("displayName")?.unwrap_or(upn).to_string(),
        status: if enabled { AccountStatus::Enabled } else { AccountStatus::Disabled },
        kind,
        created_at: r.instant("createdDateTime")?,
        last_login_at: last,
        // Without `signInActivity` (not selected, or no licence for it) use is unknown.
        last_login_known: r.fields.contains_key("signInActivity"),
        mfa: None,
        password_last_set_at: r.instant("lastPasswordChangeDateTime")?,
        interactive: true,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin: r.origin(),
    })
}
