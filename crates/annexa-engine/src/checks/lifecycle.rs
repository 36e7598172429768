//! Movers: `mover-residual-access` (access a person's old position gave them, kept after a
//! move) and `mover-access-review` (requested access carried over a move, unreviewed).

use crate::checks::access::Birthright;
use crate::checks::grouped::{report_account, Held};
use crate::config::{MoverAccessReview, MoverResidualAccess};
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::AssignmentEvidence;
use annexa_core::model::{Account, GrantSource, JmlEvent, Person, PersonStatus};
use rustc_hash::FxHashMap as HashMap;
use serde_json::json;

/// The latest move of each person: it decides what their old position was.
pub(crate) fn latest_moves<'g>(ctx: &Context<'g>) -> HashMap<&'g str, &'g JmlEvent> {
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

/// A mover, past `min_days` since their latest move, and one of their enabled accounts.
struct MoverAccount<'a, 'g> {
    person: &'g Person,
    /// Birthright rules that applied before the move, and those that apply now.
    old_rules: &'a [usize],
    new_rules: &'a [usize],
    event: &'g JmlEvent,
    days: i64,
    /// `department Sales → Eng`, …: what moved (a new manager alone is not a move of position).
    moved: &'a str,
    account: usize,
}

impl MoverAccount<'_, '_> {
    /// What a finding says of this mover first: "<name> moved N days ago (<what moved>)".
    fn who_moved(&self) -> String {
        format!("{} moved {} days ago ({})", self.person.display_name(), self.days, self.moved)
    }

    /// Reports the account's `held` assignments as one finding, `many` saying what a finding
    /// of several says after `who_moved` (given the account, their count and their names);
    /// the move's details join `extra` (the check's parameter) in the evidence.
    fn report(
        &self,
        ctx: &Context<'_>,
        f: &mut FindingBuilder<'_>,
        held: Vec<Held>,
        many: impl FnOnce(&Account, usize, &str) -> String,
        extra: serde_json::Value,
    ) {
        let m = self.event;
        report_account(
            ctx,
            f,
            self.account,
            held,
            |held, names| format!("{}{}", self.who_moved(), many(&ctx.graph.accounts[self.account], held.len(), names)),
            || vec![ctx.person_source(self.person)],
            || {
                let mut v = json!({ "moved_at": m.effective_at, "days_since_move": self.days, "event": m.id, "changes": m.changes });
                if let (Some(o), serde_json::Value::Object(x)) = (v.as_object_mut(), extra) {
                    o.extend(x);
                }
                v
            },
        );
    }
}

/// Calls `visit` for every enabled account of every person (not a leaver) whose latest
/// move is at least `min_days` old. The birthright rules are evaluated once per mover.
fn each_mover_account<'g>(ctx: &Context<'g>, birthright: &Birthright, min_days: u32, mut visit: impl FnMut(&MoverAccount<'_, 'g>)) {
    let latest = latest_moves(ctx);
    let wait = chrono::Duration::days(i64::from(min_days));
    let mut ids: Vec<&&str> = latest.keys().collect();
    ids.sort();
    for id in ids {
        let m = latest[*id];
        if m.effective_at + wait > ctx.as_of {
            continue;
        }
        let Some(&pi) = ctx.person_by_id.get(*id) else {
            continue;
        };
        let person = &ctx.graph.people[pi];
        if person.status == PersonStatus::Terminated {
            continue;
        }
        let (old_rules, new_rules) = (birthright.applying(&before_move(person, m)), birthright.applying(person));
        let moved: Vec<String> = m
            .changes
            .iter()
            .filter(|c| c.attribute != "manager_id")
            .map(|c| format!("{} {} → {}", c.attribute, c.before, c.after))
            .collect();
        let moved = moved.join(", ");
        let days = (ctx.as_of - m.effective_at).num_days();
        for &a in &ctx.accounts_of_person[pi] {
            if ctx.graph.accounts[a].is_enabled() {
                visit(&MoverAccount { person, old_rules: &old_rules, new_rules: &new_rules, event: m, days, moved: &moved, account: a });
            }
        }
    }
}

/// `mover-residual-access`: per account of a mover, the access only their old position's
/// birthright gave, still held after the grace period.
pub fn mover_residual_access(ctx: &Context<'_>, p: &MoverResidualAccess, f: &mut FindingBuilder<'_>) {
    if ctx.config.birthright.is_empty() {
        return f.not_evaluated(crate::checks::access::NO_ROLE_MODEL);
    }
    let birthright = Birthright::new(ctx);
    each_mover_account(ctx, &birthright, p.grace_days, |v| {
        let mut held = Vec::new();
        for g in ctx.grants_of(v.account) {
            let grant = &ctx.graph.grants[g];
            let e = ctx.entitlement_of(g);
            if grant.source == GrantSource::Request && grant.granted_by.is_some() {
                continue; // decided by someone: mover-access-review asks for it to be confirmed
            }
            if !birthright.explains(v.old_rules, &e.system, &e.name) || birthright.explains(v.new_rules, &e.system, &e.name) {
                continue;
            }
            let message =
                format!("{} and still holds {}:{}, which only their old position's birthright gave", v.who_moved(), e.system, e.name);
            let detail = AssignmentEvidence { source: Some(grant.source), granted_at: grant.granted_at, ..Default::default() };
            held.push(Held { grant: g, severity: None, message, detail });
        }
        v.report(
            ctx,
            f,
            held,
            |account, n, names| {
                format!(
                    " and {} account {} still holds {n} entitlements that only their old position's birthright gave: {names}",
                    account.system, account.username
                )
            },
            json!({ "grace_days": p.grace_days }),
        );
    });
}

/// `mover-access-review`: per account of a mover, the access granted on request before the
/// move, which the new position does not give, unreviewed since the move. The campaign
/// engine will open a micro-certification for it; until a reviewer confirms it, it is a
/// finding.
pub fn mover_access_review(ctx: &Context<'_>, p: &MoverAccessReview, f: &mut FindingBuilder<'_>) {
    let birthright = Birthright::new(ctx);
    each_mover_account(ctx, &birthright, p.review_days, |v| {
        let moved_at = v.event.effective_at;
        let mut held = Vec::new();
        for g in ctx.grants_of(v.account) {
            let grant = &ctx.graph.grants[g];
            let e = ctx.entitlement_of(g);
            let decided_before_move =
                grant.source == GrantSource::Request && grant.granted_by.is_some() && grant.granted_at.is_none_or(|t| t < moved_at);
            let reviewed_since = grant.last_certified_at.is_some_and(|t| t >= moved_at);
            if !decided_before_move || reviewed_since || birthright.explains(v.new_rules, &e.system, &e.name) {
                continue;
            }
            let granted = grant.granted_at.map(|t| format!(" on {}", t.format("%Y-%m-%d"))).unwrap_or_default();
            let message = format!(
                "{}; {}:{}, granted on request{granted} before the move, has not been reviewed since (due within {} days of a move)",
                v.who_moved(),
                e.system,
                e.name,
                p.review_days
            );
            let detail = AssignmentEvidence {
                granted_at: grant.granted_at,
                granted_by: grant.granted_by.as_deref().map(str::to_string),
                last_certified_at: grant.last_certified_at,
                ..Default::default()
            };
            held.push(Held { grant: g, severity: None, message, detail });
        }
        v.report(
            ctx,
            f,
            held,
            |account, n, names| {
                format!(
                    "; {n} entitlements on {} account {}, granted on request before the move, have not been reviewed since \
                     (due within {} days of a move): {names}",
                    account.system, account.username, p.review_days
                )
            },
            json!({ "review_days": p.review_days }),
        );
    });
}
