//! `revocation-not-fulfilled`: access revoked in a certification campaign that an import
//! made after the decision still holds, past the fulfilment window. Like `log-integrity`
//! it judges Annexa's own records (the campaigns' decisions), so it runs only when the
//! audit is given them.

use crate::config::RevocationNotFulfilled;
use crate::context::{Context, FindingBuilder};
use annexa_core::campaign::{ItemKind, Revocation};
use annexa_core::finding::{Subject, SubjectKind};
use annexa_core::graph::IdentityGraph;
use annexa_core::model::BadgeStatus;
use annexa_core::model::Origin;
use serde_json::json;
use std::collections::{HashMap, HashSet};

pub fn not_fulfilled(ctx: &Context<'_>, p: &RevocationNotFulfilled, f: &mut FindingBuilder<'_>) {
    let Some(revocations) = &ctx.revocations else { return };
    let held = still_held(ctx.graph, revocations);
    for r in revocations {
        let Some(origin) = held.get(&r.item) else { continue };
        let Some(import) = ctx.graph.import(origin.import_id) else { continue };
        // Only an import made after the decision can show it was not carried out.
        if import.imported_at <= r.decided_at || (ctx.as_of - r.decided_at).num_days() < i64::from(p.days) {
            continue;
        }
        let (decided, window) = (r.decided_at.format("%Y-%m-%d"), p.days);
        let (seen, item) = (format!("import #{} of {}", import.id, import.imported_at.format("%Y-%m-%d")), r.item);
        let (record, kind, key) = subject_of(r);
        let message = match r.kind {
            ItemKind::Assignment => format!("{} on {} account {} was revoked in campaign #{} on {decided} (item {item}) but {seen} still holds it, past the {window}-day fulfilment window", r.entitlement, r.system, r.account_id, r.campaign),
            ItemKind::BadgeZone => format!("zone {} on {} badge {} was revoked in campaign #{} on {decided} (item {item}) but {seen} still holds it, past the {window}-day fulfilment window", r.entitlement, r.system, r.account_id, r.campaign),
            ItemKind::Account => format!("{} account {} was to be disabled after campaign #{} on {decided} (item {item}) but {seen} still has it enabled, past the {window}-day fulfilment window", r.system, r.account_id, r.campaign),
        };
        f.push(
            Subject { kind, key: key.clone(), label: r.holder.clone() },
            message,
            vec![ctx.source(record, key, *origin)],
            json!({ "campaign": r.campaign, "item": r.item, "decided_at": r.decided_at, "task": r.task, "import_id": import.id }),
        );
    }
}

/// What a finding about a revocation is about: the kind of record that still holds it, the
/// subject's kind and key (the assignment, the badge's zone, or the account).
pub(crate) fn subject_of(r: &Revocation) -> (&'static str, SubjectKind, String) {
    match r.kind {
        ItemKind::Assignment => {
            ("assignment", SubjectKind::Assignment, annexa_core::key::join(&[&r.system, &r.account_id, &r.entitlement]))
        }
        ItemKind::BadgeZone => ("badge", SubjectKind::Badge, annexa_core::key::join(&[&r.system, &r.account_id, &r.entitlement])),
        ItemKind::Account => ("account", SubjectKind::Account, annexa_core::key::join(&[&r.system, &r.account_id])),
    }
}

/// The revocations whose access the graph still holds, with where it is recorded.
pub fn still_held(g: &IdentityGraph, revocations: &[Revocation]) -> HashMap<i64, Origin> {
    let wanted: HashSet<(&str, &str, &str)> =
        revocations.iter().map(|r| (r.system.as_str(), r.account_id.as_str(), r.entitlement.as_str())).collect();
    let mut found: HashMap<(&str, &str, &str), Origin> = HashMap::new();
    if revocations.iter().any(|r| r.kind == ItemKind::Assignment) {
        for grant in &g.grants {
            let a = &g.accounts[grant.account as usize];
            let e = &g.entitlements[grant.entitlement as usize];
            // An access a disabled account holds cannot be used: the revocation's aim is met.
            if a.is_enabled() {
                let key = (&*e.system, &*a.account_id, &*e.name);
                if wanted.contains(&key) {
                    found.insert(key, grant.origin);
                }
            }
        }
    }
    if revocations.iter().any(|r| r.kind == ItemKind::Account) {
        for a in g.accounts.iter().filter(|a| a.is_enabled()) {
            let key = (&*a.system, &*a.account_id, "");
            if wanted.contains(&key) {
                found.insert(key, a.origin);
            }
        }
    }
    if revocations.iter().any(|r| r.kind == ItemKind::BadgeZone) {
        for b in g.badges.iter().filter(|b| b.status == BadgeStatus::Active) {
            for zone in &b.zones {
                let key = (&*b.system, &*b.badge_id, zone.as_str());
                if wanted.contains(&key) {
                    found.insert(key, b.origin);
                }
            }
        }
    }
    revocations
        .iter()
        .filter_map(|r| found.get(&(r.system.as_str(), r.account_id.as_str(), r.entitlement.as_str())).map(|o| (r.item, *o)))
        .collect()
}

/// The revocations an import made after the decision proves carried out (the access is
/// gone from the graph), each with that import.
pub fn verified(graph: &IdentityGraph, revocations: &[Revocation]) -> Vec<(i64, i64)> {
    let held = still_held(graph, revocations);
    revocations
        .iter()
        .filter(|r| !held.contains_key(&r.item))
        .filter_map(|r| {
            let import =
                graph.imports.iter().filter(|i| i.systems.contains(&r.system) && i.imported_at > r.decided_at).max_by_key(|i| i.id)?;
            Some((r.item, import.id))
        })
        .collect()
}
