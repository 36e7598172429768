//! Planning provisioning: what the due joiner, mover and leaver events mean for each
//! target system Annexa can change.
//!
//! A leaver's enabled accounts are disabled and every entitlement on them removed. A
//! mover gets the new position's birthright entitlements (those named exactly) on the
//! accounts they have, and loses the old position's birthright access once the grace
//! period is over. A joiner gets an account on every system whose connector creates
//! accounts, with the birthright groups of that system. A leaver's active badges are
//! deactivated on badge systems with a connector (usually a manual one). Where configured,
//! privileged birthright access is held back from anyone not yet screened (A.6.1).

use crate::checks::access::Birthright;
use crate::config::Config;
use crate::context::Context;
use annexa_core::graph::IdentityGraph;
use annexa_core::model::{GrantSource, JmlEvent, JmlKind, TaskAction};
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
    /// What to do; for `DeactivateBadge` the `account_id` is the badge id.
    pub action: TaskAction,
    pub account_id: String,
    pub entitlement: Option<String>,
    pub not_before: Instant,
}

/// A privileged grant not planned because the person is not screened yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldGrant {
    pub event_id: String,
    pub employee_id: String,
    pub system: String,
    pub account_id: String,
    pub entitlement: String,
    pub reason: String,
}

/// What the due events mean: the tasks to queue and the grants held back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub tasks: Vec<PlannedTask>,
    pub held: Vec<HeldGrant>,
}

/// The tasks for `events` (due ones), on systems with a connector.
pub fn plan(graph: &IdentityGraph, config: &Config, events: &[JmlEvent], now: Instant) -> Plan {
    let resolved = graph.resolved();
    let graph: &IdentityGraph = &resolved;
    let ctx = Context::new(graph, config, now);
    let birthright = Birthright::new(&ctx);
    let managed: HashSet<&str> = config.connectors.iter().map(|c| c.system.as_str()).collect();
    let grace = chrono::Duration::days(i64::from(config.provisioning.mover_grace_days));
    let entitlement_index: std::collections::HashMap<(&str, &str), usize> =
        graph.entitlements.iter().enumerate().map(|(i, x)| ((&*x.system, &*x.name), i)).collect();
    let patterns = crate::config::EntitlementPatterns::new(&config.privileged.entitlements);
    let is_privileged = |system: &str, name: &str| match entitlement_index.get(&(system, name)) {
        Some(&i) => ctx.entitlement_privileged[i],
        None => patterns.any(system, name),
    };
    let mut out = Vec::new();
    let mut held = Vec::new();
    for e in events {
        let Some(&pi) = ctx.person_by_id.get(&*e.employee_id) else { continue };
        let person = &graph.people[pi];
        // Why privileged access must wait for this person, if it must.
        let unscreened = if !config.provisioning.screening_before_privileged {
            None
        } else {
            match person.screening_date {
                None => Some("no screening recorded (A.6.1)".to_string()),
                Some(d) if d > now.date_naive() => Some(format!("screening not complete until {}", d.format("%Y-%m-%d"))),
                Some(_) => None,
            }
        };
        let mut grant = |out: &mut Vec<PlannedTask>, t: PlannedTask| match (&unscreened, &t.entitlement) {
            (Some(reason), Some(name)) if is_privileged(&t.system, name) => held.push(HeldGrant {
                event_id: t.event_id,
                employee_id: t.employee_id,
                system: t.system,
                account_id: t.account_id,
                entitlement: name.clone(),
                reason: reason.clone(),
            }),
            _ => out.push(t),
        };
        let accounts: Vec<usize> = ctx.accounts_of_person[pi]
            .iter()
            .copied()
            .filter(|&a| graph.accounts[a].is_enabled() && managed.contains(&*graph.accounts[a].system))
            .collect();
        let task = |a: usize, action: TaskAction, entitlement: Option<String>, not_before: Instant| {
            let acc = &graph.accounts[a];
            let target = match entitlement.as_deref() {
                Some(x) => annexa_core::key::join(&[&acc.system, &acc.account_id, x]),
                None => acc.key(),
            };
            PlannedTask {
                key: format!("{}:{action}:{target}", e.id),
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
                    out.push(task(a, TaskAction::DisableAccount, None, e.effective_at));
                    for g in ctx.grants_of(a) {
                        out.push(task(a, TaskAction::RemoveMembership, Some(ctx.entitlement_of(g).name.to_string()), e.effective_at));
                    }
                }
                // Physical access goes with logical access (A.7.2).
                for &b in &ctx.badges_of_person[pi] {
                    let badge = &graph.badges[b];
                    if badge.status != annexa_core::model::BadgeStatus::Active || !managed.contains(&*badge.system) {
                        continue;
                    }
                    out.push(PlannedTask {
                        key: format!("{}:deactivate-badge:{}", e.id, annexa_core::key::join(&[&badge.system, &badge.badge_id])),
                        event_id: e.id.clone(),
                        employee_id: e.employee_id.to_string(),
                        system: badge.system.to_string(),
                        action: TaskAction::DeactivateBadge,
                        account_id: badge.badge_id.to_string(),
                        entitlement: None,
                        not_before: e.effective_at,
                    });
                }
            }
            JmlKind::Mover => {
                let before = crate::checks::lifecycle::before_move(person, e);
                let (old_rules, new_rules) = (birthright.applying(&before), birthright.applying(person));
                for &a in &accounts {
                    let acc = &graph.accounts[a];
                    let mut holds = HashSet::new();
                    for g in ctx.grants_of(a) {
                        let grant = &graph.grants[g];
                        let ent = ctx.entitlement_of(g);
                        holds.insert(ent.name.to_string());
                        let decided = grant.source == GrantSource::Request && grant.granted_by.is_some();
                        if !decided
                            && birthright.explains(&old_rules, &ent.system, &ent.name)
                            && !birthright.explains(&new_rules, &ent.system, &ent.name)
                        {
                            out.push(task(a, TaskAction::RemoveMembership, Some(ent.name.to_string()), e.effective_at + grace));
                        }
                    }
                    // The new position's entitlements that are named exactly (no wildcard).
                    for name in birthright.exact_entitlements(&new_rules, &acc.system) {
                        if !holds.contains(&name) {
                            grant(&mut out, task(a, TaskAction::AddMembership, Some(name), e.effective_at));
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
                    let new = |action: TaskAction, entitlement: Option<String>| {
                        let target = match entitlement.as_deref() {
                            Some(x) => annexa_core::key::join(&[&c.system, &login, x]),
                            None => annexa_core::key::join(&[&c.system, &login]),
                        };
                        PlannedTask {
                            key: format!("{}:{action}:{target}", e.id),
                            event_id: e.id.clone(),
                            employee_id: e.employee_id.to_string(),
                            system: c.system.clone(),
                            action,
                            account_id: login.clone(),
                            entitlement,
                            not_before: e.effective_at,
                        }
                    };
                    out.push(new(TaskAction::CreateAccount, None));
                    for name in birthright.exact_entitlements(&rules, &c.system) {
                        grant(&mut out, new(TaskAction::AddMembership, Some(name)));
                    }
                }
            }
        }
    }
    Plan { tasks: out, held }
}
