//! `annexa roles explain`: which rules give a person which access, and what explains each
//! entitlement they hold.

use crate::checks::access::Birthright;
use crate::config::Config;
use crate::context::Context;
use annexa_core::graph::IdentityGraph;
use annexa_core::model::GrantSource;
use annexa_core::time::Instant;
use serde::Serialize;

/// What explains one entitlement a person holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub account: String,
    pub entitlement: String,
    pub enabled: bool,
    pub source: GrantSource,
    /// `birthright rule X`, `request approved by Y`, or `nothing` (unexplained).
    pub explained_by: String,
}

/// A person's access, rule by rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub employee_id: String,
    pub name: String,
    pub department: String,
    pub title: String,
    pub location: String,
    pub worker_type: String,
    /// (birthright rule, the roles it grants) for every rule that applies.
    pub rules: Vec<(String, Vec<String>)>,
    /// The entitlement patterns those roles give.
    pub entitled: Vec<String>,
    pub holdings: Vec<Holding>,
}

/// Explains the access of person `employee_id`, or `None` if HR does not know them.
pub fn explain(graph: &IdentityGraph, config: &Config, as_of: Instant, employee_id: &str) -> Option<Explanation> {
    let resolved = graph.resolved();
    let graph: &IdentityGraph = &resolved;
    let ctx = Context::new(graph, config, as_of);
    let &pi = ctx.person_by_id.get(employee_id)?;
    let person = &graph.people[pi];
    let birthright = Birthright::new(&ctx);
    let applying = birthright.applying(person);
    // After a move, the old position's rules still explain its access until it is removed.
    let before: Vec<usize> = crate::checks::lifecycle::positions_before_moves(&ctx)
        .into_iter()
        .find(|(id, _)| *id == employee_id)
        .map(|(_, old)| birthright.applying(&old))
        .unwrap_or_default();
    let rules: Vec<(String, Vec<String>)> = applying
        .iter()
        .filter_map(|&i| config.birthright.iter().find(|b| b.id == birthright.id(i)).map(|b| (b.id.clone(), b.roles.clone())))
        .collect();
    let mut entitled: Vec<String> = rules
        .iter()
        .flat_map(|(_, roles)| roles.iter())
        .filter_map(|r| config.roles.iter().find(|x| &x.id == r))
        .flat_map(|r| r.entitlements.iter().cloned())
        .collect();
    entitled.sort();
    entitled.dedup();
    let mut holdings = Vec::new();
    for &a in &ctx.accounts_of_person[pi] {
        let account = &graph.accounts[a];
        for g in ctx.grants_of(a) {
            let grant = &graph.grants[g];
            let e = ctx.entitlement_of(g);
            let explained_by = if grant.source == GrantSource::Request && grant.granted_by.is_some() {
                format!("request approved by {}", grant.granted_by.as_deref().unwrap_or(""))
            } else if let Some(r) = birthright.explaining(&applying, &e.system, &e.name) {
                format!("birthright rule {}", birthright.id(r))
            } else if let Some(r) = birthright.explaining(&before, &e.system, &e.name) {
                format!("birthright rule {} of the position before the last move (to be removed)", birthright.id(r))
            } else {
                "nothing".to_string()
            };
            holdings.push(Holding {
                account: account.key(),
                entitlement: format!("{}:{}", e.system, e.name),
                enabled: account.is_enabled(),
                source: grant.source,
                explained_by,
            });
        }
    }
    holdings.sort_by(|a, b| (&a.account, &a.entitlement).cmp(&(&b.account, &b.entitlement)));
    Some(Explanation {
        employee_id: person.employee_id.to_string(),
        name: person.display_name(),
        department: person.department.clone(),
        title: person.title.clone(),
        location: person.location.clone(),
        worker_type: person.worker_type.to_string(),
        rules,
        entitled,
        holdings,
    })
}
