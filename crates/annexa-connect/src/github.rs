//! GitHub: an organisation's members, owners, outside collaborators, two-factor status and
//! teams, as the REST API returns them, saved as JSON files.
//!
//! * Members (`GET /orgs/{org}/members`) and outside collaborators
//!   (`GET /orgs/{org}/outside_collaborators`, in a file whose name says so): accounts known
//!   by their numeric `id`, with the `login` as username. An outside collaborator holds the
//!   entitlement `outside-collaborator`, so that its access is seen and reviewed.
//! * Roles: an owner (`role: admin`, from `GET /orgs/{org}/memberships/{username}`, a
//!   `role` field of the listing, or a listing filtered with `role=admin`) holds the
//!   privileged entitlement `role:admin`.
//! * Two-factor authentication: listings filtered with `filter=2fa_disabled` (and
//!   `2fa_insecure`) in files whose names say so, or a `two_factor_authentication` field.
//! * Teams (`GET /orgs/{org}/teams`) and their members, in files named after the API path
//!   (`teams/{slug}/members.json`): an entitlement `team:{slug}` each.
//!
//! GitHub reports no sign-ins, no e-mail address but a public one, and no employee id:
//! accounts correlate with people through the username rules.

use crate::error::quote;
use crate::json::{self, api_path_id, Grants, Part, Record, Seen};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, MfaFactor, Origin};
use annexa_core::Name;
use std::collections::{HashMap, HashSet};

/// The entitlement of an organisation owner.
pub const OWNER: &str = "role:admin";
/// The entitlement of a billing manager (no access to code: not privileged).
pub const BILLING_MANAGER: &str = "role:billing_manager";
/// The entitlement of an outside collaborator.
pub const OUTSIDE_COLLABORATOR: &str = "outside-collaborator";
/// The entitlement of a GitHub Enterprise Server site administrator (`site_admin`).
pub const SITE_ADMIN: &str = "site-admin";

/// A listing filtered by the API, which marks users the other listings hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// `?filter=2fa_disabled`: these users have no two-factor authentication; the others
    /// of the same listing have it.
    TwoFactorDisabled,
    /// `?filter=2fa_insecure`: these users' second factor is an insecure one (SMS).
    TwoFactorInsecure,
    /// `?role=admin`: the organisation's owners.
    Owners,
}

/// What a file holds, from its name.
#[derive(Clone, Copy)]
enum List<'n> {
    /// Members, teams and memberships, told apart by their fields.
    Listing,
    /// `/orgs/{org}/outside_collaborators`.
    Collaborators,
    /// A filtered listing of members, or of outside collaborators.
    Filtered(Filter, bool),
    /// `/orgs/{org}/teams/{slug}/members`.
    TeamMembers(&'n str),
}

/// The words of a file's name that say what it holds (its last path segment, ignoring
/// case), with `-` accepted for `_`: `members-2fa_disabled.json`,
/// `members?filter=2fa_disabled.json`, `outside_collaborators.json`,
/// `members?role=admin.json`.
fn list_of(name: &str) -> List<'_> {
    if let Some(slug) = api_path_id(name, ("teams", "members")) {
        return List::TeamMembers(slug);
    }
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase().replace('-', "_");
    let collaborators = file.contains("outside_collaborators");
    if file.contains("2fa_disabled") {
        List::Filtered(Filter::TwoFactorDisabled, collaborators)
    } else if file.contains("2fa_insecure") {
        List::Filtered(Filter::TwoFactorInsecure, collaborators)
    } else if file.contains("role=admin") || file.contains("role_admin") {
        List::Filtered(Filter::Owners, false)
    } else if collaborators {
        List::Collaborators
    } else {
        List::Listing
    }
}

/// What a record of a listing is.
enum What {
    User,
    Team,
    Membership,
}

fn what(r: &Record<'_>) -> Result<What, ImportError> {
    if r.has("slug") {
        Ok(What::Team)
    } else if r.get("user").is_some_and(|u| u.is_object()) && (r.has("role") || r.has("state")) {
        Ok(What::Membership)
    } else if r.has("login") {
        Ok(What::User)
    } else {
        Err(r.part.error(
            r.line,
            None,
            "expected a GitHub user (with login), team (with slug) or organisation membership (with user and role)",
        ))
    }
}

/// An organisation role.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Owner,
    Member,
    BillingManager,
}

fn role(r: &Record<'_>, field: &str, text: &str) -> Result<Role, ImportError> {
    match text.to_ascii_lowercase().as_str() {
        "admin" => Ok(Role::Owner),
        "member" => Ok(Role::Member),
        "billing_manager" => Ok(Role::BillingManager),
        _ => Err(r.error(field, format!("unknown role {}: expected admin, member or billing_manager", quote(text))).with_value(text)),
    }
}

/// A listing that names users by id: each must be an account already read.
struct Marks<'a> {
    part: &'a Part<'a>,
    records: Vec<Record<'a>>,
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let parts = json::parts(file, bytes, options)?;
    let system_name = json::system_name(options, ImportKind::Github);
    let system: Name = system_name.as_str().into();
    let mut batch = ImportBatch { systems: vec![system_name], ..Default::default() };

    let (mut users, mut teams, mut memberships) = (Vec::new(), Vec::new(), Vec::new());
    let (mut filtered, mut team_lists) = (Vec::new(), Vec::new());
    for part in &parts {
        let records = json::records(part, &[])?;
        batch.rows += records.len() as u64;
        let list = list_of(part.name);
        match list {
            List::TeamMembers(slug) => team_lists.push((slug, Marks { part, records })),
            List::Filtered(filter, collaborators) => filtered.push((filter, collaborators, Marks { part, records })),
            List::Collaborators | List::Listing => {
                for r in records {
                    match (what(&r)?, list) {
                        (What::User, List::Collaborators) => users.push((r, true)),
                        (What::User, _) => users.push((r, false)),
                        (What::Team, List::Listing) => teams.push(r),
                        (What::Membership, List::Listing) => memberships.push(r),
                        _ => return Err(r.part.error(r.line, None, "expected an outside collaborator (a user with login)")),
                    }
                }
            }
        }
    }

    // Members and outside collaborators: accounts, by id.
    let mut ids = Seen::new("user id");
    let mut account_of: HashMap<String, usize> = HashMap::new();
    let mut outside: Vec<bool> = Vec::new();
    let mut roles: Vec<(usize, Role, Origin)> = Vec::new();
    let mut site_admins: Vec<(usize, Origin)> = Vec::new();
    for (r, collaborator) in &users {
        let id = r.number_id("id", "the user's id")?;
        ids.insert(r, "id", &id)?;
        let i = batch.accounts.len();
        batch.accounts.push(account(r, &system, &id)?);
        account_of.insert(id, i);
        outside.push(*collaborator);
        if let Some(text) = r.text("role")?.filter(|_| !collaborator) {
            roles.push((i, role(r, "role", text)?, r.origin()));
        }
        if r.boolean("site_admin")? == Some(true) {
            site_admins.push((i, r.origin()));
        }
    }
    let known = |r: &Record<'_>, field: &str, what: &str| -> Result<usize, ImportError> {
        let id = r.number_id(field, "the user's id")?;
        account_of.get(&id).copied().ok_or_else(|| {
            let login = r.text(&field.replace("id", "login")).ok().flatten().unwrap_or(&id);
            r.error(
                field,
                format!("{what} {} is no member or outside collaborator of this import: import the listing with it", quote(login)),
            )
            .with_value(&id)
        })
    };

    // Roles from the memberships, one each; a pending invitation gives no role yet.
    let mut members_seen = Seen::new("membership of user");
    for r in &memberships {
        let i = known(r, "user.id", "the membership's user")?;
        members_seen.insert(r, "user.id", batch.accounts[i].account_id.as_ref())?;
        let text = r.required("role", "the member's role: admin, member or billing_manager")?;
        let role = role(r, "role", text)?;
        if r.text("state")?.is_none_or(|s| s.eq_ignore_ascii_case("active")) {
            roles.push((i, role, r.origin()));
        }
    }

    // The filtered listings.
    let mut two_factor_listed = [false, false];
    let (mut without, mut insecure) = (HashSet::new(), HashSet::new());
    for (filter, collaborators, list) in &filtered {
        if *filter == Filter::TwoFactorDisabled {
            two_factor_listed[usize::from(*collaborators)] = true;
        }
        for r in &list.records {
            let who = match filter {
                Filter::TwoFactorDisabled => "the user without two-factor authentication",
                Filter::TwoFactorInsecure => "the user with insecure two-factor authentication",
                Filter::Owners => "the owner",
            };
            let i = known(r, "id", who)?;
            match filter {
                Filter::TwoFactorDisabled => without.insert(i),
                Filter::TwoFactorInsecure => insecure.insert(i),
                Filter::Owners => {
                    roles.push((i, Role::Owner, r.origin()));
                    true
                }
            };
        }
    }
    for (i, account) in batch.accounts.iter_mut().enumerate() {
        if two_factor_listed[usize::from(outside[i])] {
            account.mfa = Some(vec![MfaFactor::Unspecified]);
        }
        if insecure.contains(&i) {
            account.mfa = Some(vec![MfaFactor::Sms]);
        }
        if without.contains(&i) {
            account.mfa = Some(vec![MfaFactor::None]);
        }
    }

    // Teams, by slug: listed ones first, then those only named by member files.
    let mut slugs = Seen::new("team slug");
    let mut team_entitlements: Vec<(String, bool, Origin)> = Vec::new();
    let mut team_seen: HashSet<&str> = HashSet::new();
    for r in &teams {
        let slug = r.id("slug", "the team's slug")?;
        slugs.insert(r, "slug", slug)?;
        team_seen.insert(slug);
        let name = r.text("name")?.unwrap_or(slug);
        let privileged = crate::ldif::is_privileged(name, options) || crate::ldif::is_privileged(slug, options);
        team_entitlements.push((format!("team:{slug}"), privileged, r.origin()));
    }
    for (slug, list) in &team_lists {
        if team_seen.insert(slug) {
            team_entitlements.push((format!("team:{slug}"), crate::ldif::is_privileged(slug, options), list.part.origin(1)));
        }
    }
    for (name, privileged, origin) in &team_entitlements {
        batch.entitlements.push(json::entitlement(&system, name.as_str().into(), *privileged, *origin));
    }
    let mut org_entitlement = {
        let (system, mut made) = (system.clone(), HashSet::new());
        move |batch: &mut ImportBatch, name: &'static str, privileged: bool, origin: Origin| -> Name {
            if made.insert(name) {
                batch.entitlements.push(json::entitlement(&system, name.into(), privileged, origin));
            }
            name.into()
        }
    };

    // Assignments.
    let mut grants = Grants::new(&system);
    let mut assign = |batch: &mut ImportBatch, i: usize, entitlement: &Name, origin: Origin| {
        let account_id = batch.accounts[i].account_id.clone();
        grants.add(batch, &account_id, entitlement, origin);
    };
    for (i, role, origin) in roles {
        let entitlement = match role {
            Role::Owner => org_entitlement(&mut batch, OWNER, true, origin),
            Role::BillingManager => org_entitlement(&mut batch, BILLING_MANAGER, false, origin),
            Role::Member => continue,
        };
        assign(&mut batch, i, &entitlement, origin);
    }
    for (i, origin) in site_admins {
        let entitlement = org_entitlement(&mut batch, SITE_ADMIN, true, origin);
        assign(&mut batch, i, &entitlement, origin);
    }
    for (i, (r, collaborator)) in users.iter().enumerate() {
        if *collaborator {
            let entitlement = org_entitlement(&mut batch, OUTSIDE_COLLABORATOR, false, r.origin());
            assign(&mut batch, i, &entitlement, r.origin());
        }
    }
    for (slug, list) in &team_lists {
        let entitlement: Name = format!("team:{slug}").into();
        for r in &list.records {
            let i = known(r, "id", "the team's member")?;
            assign(&mut batch, i, &entitlement, r.origin());
        }
    }
    Ok(batch)
}

fn account(r: &Record<'_>, system: &Name, id: &str) -> Result<Account, ImportError> {
    let login = r.id("login", "the user's login")?;
    let kind = match r.text("type")? {
        None => AccountType::Human,
        Some(t) if t.eq_ignore_ascii_case("User") => AccountType::Human,
        Some(t) if t.eq_ignore_ascii_case("Bot") => AccountType::Service,
        Some(t) => return Err(r.error("type", format!("unknown account type {}: expected User or Bot", quote(t))).with_value(t)),
    };
    Ok(Account {
        system: system.clone(),
        account_id: id.into(),
        username: login.to_string(),
        // The public e-mail address, when the user shows one.
        email: r.text("email")?.filter(|e| e.contains('@')).map(|e| annexa_core::text::email_key(e).into_owned()),
        employee_id: None,
        display_name: r.text("name")?.unwrap_or(login).to_string(),
        status: AccountStatus::Enabled,
        kind,
        created_at: None,
        last_login_at: None,
        // The organisation API reports no sign-ins: use is unknown.
        last_login_known: false,
        // Two-factor authentication of a kind GitHub does not say (`unspecified`): it never
        // counts as phishing-resistant.
        mfa: r.boolean("two_factor_authentication")?.map(|on| vec![if on { MfaFactor::Unspecified } else { MfaFactor::None }]),
        password_last_set_at: None,
        interactive: kind != AccountType::Service,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin: r.origin(),
    })
}
