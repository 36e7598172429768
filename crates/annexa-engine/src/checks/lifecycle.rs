//! `mover-residual-access`: access a person's old position gave them, kept after a move.

use crate::checks::access::Birthright;
use crate::config::MoverResidualAccess;
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{Subject, SubjectKind};
use annexa_core::model::{GrantSource, JmlEvent, Person, PersonStatus};
use rustc_hash::FxHashMap as HashMap;
use serde_json::json;

/// The latest move of each person: it decides what their old position was.
fn latest_moves<'g>(ctx: &Context<'g>) -> HashMap<&'g str, &'g JmlEvent> {
    let mut latest: HashMap<&str, &JmlEvent> = HashMap::default();
    for m in &ctx.graph.movers {
        let slot = latest.entry(&m.employee_id).or_insert(m);
        if m.effective_at > slot.effective_at {
            *slot = m;
        }
    }
    latest
}

/// A person as they were before their latest move.
pub(crate) fn before_move(person: &Person, m: &JmlEvent) -> Person {
    let mut before = person.clone();
    for c in &m.changes {
        match c.attribute.as_str() {
            "department" => before.department = c.before.clone(),
            "title" => before.title = c.before.clone(),
            "location" => before.location = c.before.clone(),
            _ => {}
        }
    }
    before
}

/// Every mover, as they were before their latest move, by employee id.
pub(crate) fn positions_before_moves<'g>(ctx: &Context<'g>) -> Vec<(&'g str, Person)> {
    latest_moves(ctx)
        .into_iter()
        .filter_map(|(id, m)| ctx.person_by_id.get(id).map(|&pi| (id, before_move(&ctx.graph.people[pi], m))))
        .collect()
}

pub fn mover_residual_access(ctx: &Context<'_>, p: &MoverResidualAccess, f: &mut FindingBuilder<'_>) {
    let latest = latest_moves(ctx);
    let grace = chrono::Duration::days(i64::from(p.grace_days));
    let birthright = Birthright::new(ctx);
    let mut ids: Vec<&&str> = latest.keys().collect();
    ids.sort();
    for id in ids {
        let m = latest[*id];
        if m.effective_at + grace > ctx.as_of {
            continue;
        }
        let Some(&pi) = ctx.person_by_id.get(*id) else { continue };
        let person = &ctx.graph.people[pi];
        if person.status == PersonStatus::Terminated {
            continue;
        }
        let before = before_move(person, m);
        let (old_rules, new_rules) = (birthright.applying(&before), birthright.applying(person));
        let days = (ctx.as_of - m.effective_at).num_days();
        let moved: Vec<String> =
            m.changes.iter().filter(|c| c.attribute != "manager_id").map(|c| format!("{} {} → {}", c.attribute, c.before, c.after)).collect();
        for &a in &ctx.accounts_of_person[pi] {
            if !ctx.graph.accounts[a].is_enabled() {
                continue;
            }
            for g in ctx.grants_of(a) {
                let grant = &ctx.graph.grants[g];
                let e = ctx.entitlement_of(g);
                if grant.source == GrantSource::Request && grant.granted_by.is_some() {
                    continue;
                }
                if !birthright.explains(&old_rules, &e.system, &e.name) || birthright.explains(&new_rules, &e.system, &e.name) {
                    continue;
                }
                let key = ctx.graph.grant_key(grant);
                f.push(
                    Subject { kind: SubjectKind::Assignment, key: key.clone(), label: format!("{} on {}", e.name, ctx.account_subject(a).label) },
                    format!(
                        "{} moved {days} days ago ({}) and still holds {}:{}, which only their old position's birthright gave",
                        person.display_name(),
                        moved.join(", "),
                        e.system,
                        e.name
                    ),
                    vec![ctx.grant_source(g), ctx.person_source(person)],
                    json!({ "moved_at": m.effective_at, "days_since_move": days, "event": m.id, "changes": m.changes,
                            "grace_days": p.grace_days }),
                );
            }
        }
    }
}
