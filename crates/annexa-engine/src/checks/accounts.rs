//! Checks on accounts themselves: orphaned, dormant, without MFA, shared, ownerless.

use crate::config::{DormantAccount, MfaMissing, OrphanedAccount, ServiceAccountNoOwner, SharedAccount};
use crate::context::{Context, FindingBuilder};
use crate::correlate::account_email;
use annexa_core::model::{Account, AccountType};
use serde_json::json;

/// Enabled personal accounts with no person behind them and no active owner.
pub fn orphaned(ctx: &Context<'_>, _: &OrphanedAccount, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || !a.kind.is_personal() || a.root || ctx.correlation[i].is_some() || ctx.owner[i].is_some() {
            continue;
        }
        let why = match (&a.employee_id, account_email(a)) {
            (Some(e), _) => format!("employee id {e} is not in the HR feed"),
            (None, Some((m, from_login))) => {
                let what = if from_login { format!("login {}, an e-mail address,", a.username) } else { format!("email {m}") };
                match ctx.person_by_email.get(&m) {
                    Some(None) => format!("{what} belongs to more than one person in the HR feed, so it links to no one"),
                    _ => format!("{what} matches no one in the HR feed"),
                }
            }
            (None, None) => "no employee id, email or username links it to anyone in the HR feed".to_string(),
        };
        f.push(
            ctx.account_subject(i),
            format!("Enabled {} account {} belongs to no one: {why}, and it has no accountable owner", a.system, a.username),
            vec![ctx.account_source(a)],
            json!({ "employee_id": a.employee_id, "email": a.email, "owner": a.owner, "type": a.kind }),
        );
    }
}

/// Enabled accounts unused for `days` (or never used and older than that).
pub fn dormant(ctx: &Context<'_>, p: &DormantAccount, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || a.root || !a.last_login_known || (a.kind == AccountType::Service && !p.include_service) {
            continue;
        }
        let slack = if ctx.import_kind(a.origin) == Some("ldif") { p.directory_slack_days } else { 0 };
        let limit = i64::from(p.days) + i64::from(slack);
        let (message, values) = match (a.last_login_at, a.created_at) {
            (Some(last), _) => {
                let idle = ctx.days_since(last);
                if idle <= limit {
                    continue;
                }
                (
                    format!("{} account {} has not been used for {idle} days (limit {limit})", a.system, a.username),
                    json!({ "last_login_at": last, "days_since_login": idle, "limit_days": limit }),
                )
            }
            (None, Some(created)) => {
                let age = ctx.days_since(created);
                if age <= limit {
                    continue;
                }
                (
                    format!("{} account {} was created {age} days ago and never used (limit {limit})", a.system, a.username),
                    json!({ "last_login_at": null, "created_at": created, "days_since_created": age, "limit_days": limit }),
                )
            }
            // Never used, age unknown: nothing to measure against.
            (None, None) => continue,
        };
        f.push(ctx.account_subject(i), message, vec![ctx.account_source(a)], values);
    }
}

/// Interactive personal accounts with no second factor.
pub fn mfa_missing(ctx: &Context<'_>, _: &MfaMissing, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || !a.interactive || !(a.kind.is_personal() || a.root) {
            continue;
        }
        if a.has_mfa() != Some(false) {
            continue;
        }
        f.push(
            ctx.account_subject(i),
            format!("{} account {} signs in interactively without any second factor", a.system, a.username),
            vec![ctx.account_source(a)],
            json!({ "mfa": a.mfa, "type": a.kind }),
        );
    }
}

/// Whether a username is one of the generic stems (`test`, `test01`, `shared-ops`).
fn is_generic(a: &Account, stems: &[String]) -> bool {
    let name = crate::correlate::bare_username(&a.username);
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_' || c == '.');
    stems.iter().any(|s| {
        let s = s.to_lowercase();
        stem == s || stem.starts_with(&format!("{s}-")) || stem.starts_with(&format!("{s}_")) || stem.starts_with(&format!("{s}."))
    })
}

/// Enabled accounts with no person, no owner, and a shared type or a generic name.
pub fn shared(ctx: &Context<'_>, p: &SharedAccount, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || a.root || a.kind == AccountType::Service || ctx.correlation[i].is_some() || ctx.owner[i].is_some() {
            continue;
        }
        let generic = is_generic(a, &p.generic_names);
        if a.kind != AccountType::Shared && !generic {
            continue;
        }
        let why = if a.kind == AccountType::Shared { "is a shared account" } else { "has a generic name" };
        f.push(
            ctx.account_subject(i),
            format!("{} account {} {why}, belongs to no person and has no accountable owner", a.system, a.username),
            vec![ctx.account_source(a)],
            json!({ "type": a.kind, "generic_name": generic, "owner": a.owner }),
        );
    }
}

/// Enabled service accounts whose owner is missing or no longer an active person.
pub fn service_no_owner(ctx: &Context<'_>, _: &ServiceAccountNoOwner, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || a.kind != AccountType::Service || ctx.owner[i].is_some() {
            continue;
        }
        let why = match &a.owner {
            None => "has no owner".to_string(),
            Some(o) => format!("names owner {o}, who is not an active person in the HR feed"),
        };
        f.push(
            ctx.account_subject(i),
            format!("Service account {} on {} {why}", a.username, a.system),
            vec![ctx.account_source(a)],
            json!({ "owner": a.owner }),
        );
    }
}
