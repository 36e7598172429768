//! Checks on privileged access: weak MFA, root use, admin separation, outliers.

use crate::config::{AdminNotSeparated, PrivilegeOutlier, PrivilegedWeakMfa, RootAccountUse};
use crate::context::{Context, FindingBuilder};
use annexa_core::model::{AccountType, CredentialKind, PersonStatus};
use rustc_hash::FxHashMap as HashMap;
use serde_json::json;
use std::collections::BTreeSet;

/// The privileged entitlements an account holds, as `system:name`.
fn privileged_held(ctx: &Context<'_>, account: usize) -> Vec<String> {
    ctx.grants_of(account).filter(|g| ctx.privileged(*g)).map(|g| ctx.grant_label(g)).collect()
}

/// Privileged accounts whose factors are known and include nothing phishing-resistant.
pub fn weak_mfa(ctx: &Context<'_>, _: &PrivilegedWeakMfa, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || !a.interactive {
            continue;
        }
        let Some(factors) = &a.mfa else { continue };
        if factors.iter().any(|m| m.is_phishing_resistant()) {
            continue;
        }
        let held = privileged_held(ctx, i);
        let why = if a.root {
            "is a cloud root account".to_string()
        } else if a.kind == AccountType::Admin {
            "is an admin account".to_string()
        } else if !held.is_empty() {
            format!("holds {}", held.join(", "))
        } else {
            continue;
        };
        let factor_text: Vec<&str> = factors.iter().map(|m| m.as_str()).collect();
        f.push(
            ctx.account_subject(i),
            format!(
                "{} account {} {why} but has no phishing-resistant factor (has: {})",
                a.system,
                a.username,
                if factor_text.is_empty() { "none".to_string() } else { factor_text.join(", ") }
            ),
            vec![ctx.account_source(a)],
            json!({ "mfa": factors, "type": a.kind, "root": a.root, "privileged_entitlements": held }),
        );
    }
}

/// Cloud root accounts with active access keys or recent use.
pub fn root_use(ctx: &Context<'_>, p: &RootAccountUse, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.root {
            continue;
        }
        let keys: Vec<&str> =
            a.credentials.iter().filter(|c| c.active && c.kind == CredentialKind::AccessKey).map(|c| c.slot.as_str()).collect();
        let last_used = a.last_login_at.map(|t| ctx.days_since(t));
        let mut reasons = Vec::new();
        if !keys.is_empty() {
            reasons.push(format!("has active access keys ({})", keys.join(", ")));
        }
        if let Some(days) = last_used.filter(|d| *d <= i64::from(p.days)) {
            reasons.push(format!("was used {days} days ago (within {} days)", p.days));
        }
        if reasons.is_empty() {
            continue;
        }
        f.push(
            ctx.account_subject(i),
            format!("Root account of {} {}", a.system, reasons.join(" and ")),
            vec![ctx.account_source(a)],
            json!({ "active_access_keys": keys, "last_used_at": a.last_login_at, "days_since_use": last_used }),
        );
    }
}

/// Privileged entitlements on a person's everyday account.
pub fn admin_not_separated(ctx: &Context<'_>, _: &AdminNotSeparated, f: &mut FindingBuilder<'_>) {
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        if !a.is_enabled() || a.kind != AccountType::Human || ctx.correlation[i].is_none() {
            continue;
        }
        let held = privileged_held(ctx, i);
        if held.is_empty() {
            continue;
        }
        let records = std::iter::once(ctx.account_source(a))
            .chain(ctx.grants_of(i).filter(|g| ctx.privileged(*g)).map(|g| ctx.grant_source(g)))
            .collect();
        f.push(
            ctx.account_subject(i),
            format!("Everyday account {} on {} holds privileged {}; use a separate admin account", a.username, a.system, held.join(", ")),
            records,
            json!({ "type": a.kind, "privileged_entitlements": held }),
        );
    }
}

/// How many distinct privileged entitlements each person holds over their enabled accounts,
/// by person index.
pub(crate) fn privileged_counts(ctx: &Context<'_>) -> Vec<usize> {
    ctx.accounts_of_person
        .iter()
        .map(|accounts| {
            let mut held = BTreeSet::new();
            for &a in accounts {
                if !ctx.graph.accounts[a].is_enabled() {
                    continue;
                }
                for g in ctx.grants_of(a).filter(|g| ctx.privileged(*g)) {
                    held.insert(ctx.graph.grants[g].entitlement);
                }
            }
            held.len()
        })
        .collect()
}

/// Peer groups: the people (by index) of each department and title, leavers left out.
pub(crate) fn peer_groups<'g>(ctx: &Context<'g>) -> HashMap<(&'g str, &'g str), Vec<usize>> {
    let mut groups: HashMap<(&str, &str), Vec<usize>> = HashMap::default();
    for (i, person) in ctx.graph.people.iter().enumerate() {
        if person.status != PersonStatus::Terminated {
            groups.entry((&person.department, &person.title)).or_default().push(i);
        }
    }
    groups
}

/// People with far more privileged entitlements than their department-and-title peers.
pub fn outlier(ctx: &Context<'_>, p: &PrivilegeOutlier, f: &mut FindingBuilder<'_>) {
    let counts = privileged_counts(ctx);
    let groups = peer_groups(ctx);
    for ((department, title), members) in groups {
        if members.len() < p.min_peers as usize {
            continue;
        }
        let mut sorted: Vec<usize> = members.iter().map(|m| counts[*m]).collect();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        let threshold = p.factor * (median.max(1) as f64);
        for &m in &members {
            let count = counts[m];
            if count < p.min_privileged as usize || (count as f64) <= threshold {
                continue;
            }
            let person = &ctx.graph.people[m];
            f.push(
                ctx.person_subject(person),
                format!(
                    "{} holds {count} privileged entitlements; peers ({title}, {department}, {} people) hold a median of {median}",
                    person.display_name(),
                    members.len()
                ),
                vec![ctx.person_source(person)],
                json!({ "privileged_entitlements": count, "peer_median": median, "peer_group_size": members.len(),
                        "department": department, "title": title }),
            );
        }
    }
}
