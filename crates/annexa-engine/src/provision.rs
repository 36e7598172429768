//! Planning provisioning: what the due joiner, mover and leaver events mean for each
//! target system Annexa can change.
//!
//! A leaver's enabled accounts are disabled and every entitlement on them removed. A
//! mover gets the new position's birthright entitlements (those named exactly) on the
//! accounts they have, and loses the old position's birthright access once the grace
//! period is over. A joiner gets an account on every system whose connector creates
//! accounts, with the birthright groups of that system.

use crate::checks::access::Birthright;
use crate::config::Config;
use crate::context::Context;
use annexa_core::graph::IdentityGraph;
use annexa_core::model::{GrantSource, JmlEvent, JmlKind};
use annexa_core::time::Instant;
use serde::Serialize;
use std::collections::HashSet;

/// One change to make, with the key that keeps it from being queued twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTask {
    pub key: String,
    pub event_id: String,
    pub employee_id: String,
    pub system: String,
    /// `disable-account`, `remove-membership` or `add-membership`.
    pub action: &'static str,
    pub account_id: String,
    pub entitlement: Option<String>,
    pub not_before: Instant,
}

/// The tasks for `events` (due ones), on systems with a connector.
pub fn plan(graph: &IdentityGraph, config: &Config, events: &[JmlEvent], now: Instant) -> Vec<PlannedTask> {
    let resolved = graph.resolved();
    let graph: &IdentityGraph = &resolved;
    let ctx = Context::new(graph, config, now);
    let birthright = Birthright::new(&ctx);
    let managed: HashSet<&str> = config.connectors.iter().map(|c| c.system.as_str()).collect();
    let grace = chrono::Duration::days(i64::from(config.provisioning.mover_grace_days));
    let mut out = Vec::new();
    for e in events {
        let Some(&pi) = ctx.person_by_id.get(&*e.employee_id) else { continue };
        let person = &graph.people[pi];
        let accounts: Vec<usize> = ctx.accounts_of_person[pi]
            .iter()
            .copied()
            .filter(|&a| graph.accounts[a].is_enabled() && managed.contains(&*graph.accounts[a].system))
            .collect();
        let task = |a: usize, action: &'static str, entitlement: Option<String>, not_before: Instant| {
            let acc = &graph.accounts[a];
            let what = entitlement.as_deref().map(|x| format!("/{x}")).unwrap_or_default();
            PlannedTask {
                key: format!("{}:{action}:{}/{}{what}", e.id, acc.system, acc.account_id),
                event_id: e.id.clone(),
                employee_id: e.employee_id.to_string(),
                system: acc.system.to_string(),
                action,
                account_id: acc.account_id.to_string(),
                entitlement,
                not_before,
            }
        };
        match e.kind {
            JmlKind::Leaver => {
                for &a in &accounts {
                    out.push(task(a, "disable-account", None, e.effective_at));
                    for g in ctx.grants_of(a) {
                        out.push(task(a, "remove-membership", Some(ctx.entitlement_of(g).name.to_string()), e.effective_at));
                    }
                }
            }
            JmlKind::Mover => {
                let before = crate::checks::lifecycle::before_move(person, e);
                let (old_rules, new_rules) = (birthright.applying(&before), birthright.applying(person));
                for &a in &accounts {
                    let acc = &graph.accounts[a];
                    let mut held = HashSet::new();
                    for g in ctx.grants_of(a) {
                        let grant = &graph.grants[g];
                        let ent = ctx.entitlement_of(g);
                        held.insert(ent.name.to_string());
                        let decided = grant.source == GrantSource::Request && grant.granted_by.is_some();
                        if !decided
                            && birthright.explains(&old_rules, &ent.system, &ent.name)
                            && !birthright.explains(&new_rules, &ent.system, &ent.name)
                        {
                            out.push(task(a, "remove-membership", Some(ent.name.to_string()), e.effective_at + grace));
                        }
                    }
                    // The new position's entitlements that are named exactly (no wildcard).
                    for name in birthright.exact_entitlements(&new_rules, &acc.system) {
                        if !held.contains(&name) {
                            out.push(task(a, "add-membership", Some(name), e.effective_at));
                        }
                    }
                }
            }
            JmlKind::Joiner => {
                let rules = birthright.applying(person);
                for c in config.connectors.iter().filter(|c| c.create_accounts) {
                    let has_account = ctx.accounts_of_person[pi].iter().any(|&a| *graph.accounts[a].system == *c.system);
                    if has_account || person.status == annexa_core::model::PersonStatus::Terminated {
                        continue;
                    }
                    let login = crate::correlate::render(&c.login, person);
                    let new = |action: &'static str, entitlement: Option<String>| {
                        let what = entitlement.as_deref().map(|x| format!("/{x}")).unwrap_or_default();
                        PlannedTask {
                            key: format!("{}:{action}:{}/{login}{what}", e.id, c.system),
                            event_id: e.id.clone(),
                            employee_id: e.employee_id.to_string(),
                            system: c.system.clone(),
                            action,
                            account_id: login.clone(),
                            entitlement,
                            not_before: e.effective_at,
                        }
                    };
                    out.push(new("create-account", None));
                    for name in birthright.exact_entitlements(&rules, &c.system) {
                        out.push(new("add-membership", Some(name)));
                    }
                }
            }
        }
    }
    out
}
