//! Checks on assignments: SoD conflicts, overdue certification, unexplained access.

use crate::checks::grouped::{report_account, Held};
use crate::config::{CertificationOverdue, EntitlementPatterns, Sod, UnexplainedAccess};
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{AssignmentEvidence, Subject};
use annexa_core::model::{AccountType, GrantSource, Person};
use rustc_hash::FxHashMap as HashMap;
use serde_json::json;

/// The SoD rules' sides compiled, and which (rule, side) each entitlement of the graph
/// satisfies (most satisfy none): what `sod-conflict` and a campaign's items share.
pub(crate) fn sod_hits(ctx: &Context<'_>, sod: &Sod) -> (Vec<Vec<EntitlementPatterns>>, Vec<Vec<(usize, usize)>>) {
    let sides: Vec<Vec<EntitlementPatterns>> =
        sod.rules.iter().map(|r| r.sides.iter().map(|s| EntitlementPatterns::new(s)).collect()).collect();
    let hits = ctx
        .graph
        .entitlements
        .iter()
        .map(|e| {
            let mut v = Vec::new();
            for (r, rule_sides) in sides.iter().enumerate() {
                for (si, side) in rule_sides.iter().enumerate() {
                    if side.any(&e.system, &e.name) {
                        v.push((r, si));
                    }
                }
            }
            v
        })
        .collect();
    (sides, hits)
}

/// People (or uncorrelated accounts) holding an entitlement from every side of a rule.
pub fn sod_conflict(ctx: &Context<'_>, sod: &Sod, f: &mut FindingBuilder<'_>) {
    if sod.rules.is_empty() {
        return f.not_evaluated("no segregation-of-duties rules are configured (`sod.rules`)");
    }
    let (sides, hits) = sod_hits(ctx, sod);
    if hits.iter().all(Vec::is_empty) {
        return;
    }
    let mut judge = |subject: &dyn Fn() -> Subject, accounts: &[usize], person: Option<&Person>| {
        // rule -> side -> assignments satisfying it
        let mut matched: HashMap<usize, Vec<Vec<usize>>> = HashMap::default();
        for &a in accounts {
            if !ctx.graph.accounts[a].is_enabled() {
                continue;
            }
            for s in ctx.grants_of(a) {
                for &(r, side) in &hits[ctx.graph.grants[s].entitlement as usize] {
                    matched.entry(r).or_insert_with(|| vec![Vec::new(); sides[r].len()])[side].push(s);
                }
            }
        }
        let mut rules: Vec<usize> = matched.keys().copied().collect();
        rules.sort_unstable();
        for r in rules {
            let per_side = &matched[&r];
            if per_side.iter().any(Vec::is_empty) {
                continue;
            }
            let rule = &sod.rules[r];
            let held: Vec<Vec<String>> = per_side.iter().map(|side| side.iter().map(|s| ctx.grant_label(*s)).collect()).collect();
            let mut records: Vec<_> = person.map(|p| ctx.person_source(p)).into_iter().collect();
            for s in per_side.iter().flatten() {
                records.push(ctx.grant_source(*s));
            }
            let sides_text: Vec<String> = held.iter().map(|h| h.join(" + ")).collect();
            let subject = subject();
            f.push_with_severity(
                rule.severity.unwrap_or(f.severity),
                Subject {
                    kind: subject.kind,
                    key: format!("{}#{}", subject.key, annexa_core::key::part(&rule.id)),
                    label: subject.label.clone(),
                },
                format!("{} holds conflicting access under {} ({}): {}", subject.label, rule.id, rule.description, sides_text.join(" vs ")),
                records,
                json!({ "rule": rule.id, "held": held, "mitigation": rule.mitigation }),
            );
        }
    };
    // Holders: each person with all their accounts, and each uncorrelated account alone.
    for (pi, accounts) in ctx.accounts_of_person.iter().enumerate() {
        if !accounts.is_empty() {
            let person = &ctx.graph.people[pi];
            judge(&|| ctx.person_subject(person), accounts, Some(person));
        }
    }
    for (a, c) in ctx.correlation.iter().enumerate() {
        if c.is_none() {
            judge(&|| ctx.account_subject(a), &[a], None);
        }
    }
}

/// Accounts holding assignments whose last certification (or grant) is older than their
/// interval: one finding per account (the review of that account's access), listing them.
pub fn certification_overdue(ctx: &Context<'_>, p: &CertificationOverdue, f: &mut FindingBuilder<'_>) {
    // Reused from account to account: a first audit finds an overdue assignment on nearly
    // every account.
    let mut overdue: Vec<(usize, annexa_core::time::Instant, bool, bool)> = Vec::new();
    for a in f.part.range(ctx.graph.accounts.len()) {
        let account = &ctx.graph.accounts[a];
        if !account.is_enabled() {
            continue;
        }
        // What is overdue first; a message per assignment only when it is the account's one
        // (an account's summary names them), since a first audit finds millions.
        overdue.clear();
        for s in ctx.grants_of(a) {
            let x = &ctx.graph.grants[s];
            let privileged = ctx.privileged(s);
            let interval = i64::from(if privileged { p.privileged_days } else { p.standard_days });
            match (x.last_certified_at, x.granted_at) {
                (Some(c), _) if ctx.days_since(c) > interval => overdue.push((s, c, true, privileged)),
                (None, Some(g)) if ctx.days_since(g) > interval => overdue.push((s, g, false, privileged)),
                (None, None) if p.include_undated => overdue.push((s, annexa_core::time::Instant::MIN_UTC, false, privileged)),
                _ => {}
            }
        }
        let single = overdue.len() == 1;
        let held: Vec<Held> = overdue
            .drain(..)
            .map(|(s, date, certified, privileged)| {
                let x = &ctx.graph.grants[s];
                let entitlement = ctx.entitlement_of(s);
                let (name, system) = (&entitlement.name, &entitlement.system);
                let interval = if privileged { p.privileged_days } else { p.standard_days };
                let kind = if privileged { "privileged" } else { "standard" };
                let undated = x.last_certified_at.is_none() && x.granted_at.is_none();
                // Dates, not ages: the finding reads the same every day its facts stay the
                // same, so a daily audit stores nothing new for it.
                let (message, mut detail) = if undated {
                    let message = if single {
                        format!("{name} on {system} account {} has no record of a grant or a certification", account.username)
                    } else {
                        String::new()
                    };
                    (message, AssignmentEvidence::default())
                } else if certified {
                    let message = if single {
                        format!(
                            "{name} on {system} account {} was last certified on {}, over its {kind} interval of {interval} days",
                            account.username,
                            annexa_core::time::day(date)
                        )
                    } else {
                        String::new()
                    };
                    let by = x.last_certified_by.as_deref().map(str::to_string);
                    (message, AssignmentEvidence { last_certified_at: Some(date), last_certified_by: by, ..Default::default() })
                } else {
                    let message = if single {
                        format!(
                            "{name} on {system} account {} was granted on {} and never certified, over its {kind} interval of {interval} days",
                            account.username,
                            annexa_core::time::day(date)
                        )
                    } else {
                        String::new()
                    };
                    (message, AssignmentEvidence { granted_at: Some(date), ..Default::default() })
                };
                detail.privileged = privileged;
                let severity = if privileged { f.severity.max(annexa_core::finding::Severity::High) } else { f.severity };
                Held { grant: s, severity: Some(severity), message, detail }
            })
            .collect();
        report_account(
            ctx,
            f,
            a,
            held,
            |held, names| {
                // The oldest date an overdue assignment was certified or granted.
                let dates = held.iter().filter_map(|h| h.detail.last_certified_at.or(h.detail.granted_at));
                let oldest = dates
                    .min()
                    .map(|d| format!("; the oldest was last certified or granted on {}", annexa_core::time::day(d)))
                    .unwrap_or_default();
                let privileged = held.iter().filter(|h| h.detail.privileged).count();
                let privileged = if privileged > 0 { format!(" ({privileged} privileged)") } else { String::new() };
                format!(
                    "{} entitlements{privileged} on {} account {} are overdue for certification: {names}{oldest}",
                    held.len(),
                    account.system,
                    account.username
                )
            },
            Vec::new,
            || json!({}),
        );
    }
}

/// Why the checks that judge access by the role model cannot judge without one.
pub(crate) const NO_ROLE_MODEL: &str = "no role model: no birthright rules give roles to people (`birthright` and `roles`)";

/// The roles each birthright rule grants to a person, as entitlement patterns.
pub(crate) struct Birthright {
    rules: Vec<(crate::config::Condition, EntitlementPatterns, String)>,
}

impl Birthright {
    pub(crate) fn new(ctx: &Context<'_>) -> Birthright {
        let roles: HashMap<&str, &Vec<String>> = ctx.config.roles.iter().map(|r| (r.id.as_str(), &r.entitlements)).collect();
        let rules = ctx
            .config
            .birthright
            .iter()
            .map(|b| {
                let cond = b.when.clone();
                let ents: Vec<String> = b.roles.iter().filter_map(|r| roles.get(r.as_str())).flat_map(|e| e.iter().cloned()).collect();
                (cond, EntitlementPatterns::new(&ents), b.id.clone())
            })
            .collect();
        Birthright { rules }
    }

    /// The indices of the rules that apply to `person`.
    pub(crate) fn applying(&self, person: &Person) -> Vec<usize> {
        (0..self.rules.len()).filter(|i| self.rules[*i].0.matches(&|attr| person_attribute(person, attr).to_string())).collect()
    }

    /// The entitlement names of `system` that `rules` give by exact name (no wildcard).
    pub(crate) fn exact_entitlements(&self, rules: &[usize], system: &str) -> Vec<String> {
        let mut out: Vec<String> = rules.iter().flat_map(|r| self.rules[*r].1.exact_in(system)).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The id of the rule at `index`.
    pub(crate) fn id(&self, index: usize) -> &str {
        &self.rules[index].2
    }

    /// The first of `rules` that gives this entitlement.
    pub(crate) fn explaining(&self, rules: &[usize], system: &str, entitlement: &str) -> Option<usize> {
        rules.iter().copied().find(|r| self.rules[*r].1.any(system, entitlement))
    }

    /// Whether one of `rules` gives this entitlement.
    pub(crate) fn explains(&self, rules: &[usize], system: &str, entitlement: &str) -> bool {
        rules.iter().any(|r| self.rules[*r].1.any(system, entitlement))
    }
}

pub(crate) fn person_attribute<'p>(p: &'p Person, attr: &str) -> &'p str {
    match attr {
        "department" => &p.department,
        "title" => &p.title,
        "location" => &p.location,
        "worker_type" => p.worker_type.as_str(),
        "status" => p.status.as_str(),
        "employee_id" => &p.employee_id,
        _ => "",
    }
}

/// Assignments of people's accounts that no birthright rule or approved request explains.
pub fn unexplained(ctx: &Context<'_>, _: &UnexplainedAccess, f: &mut FindingBuilder<'_>) {
    if ctx.config.birthright.is_empty() {
        return f.not_evaluated(NO_ROLE_MODEL);
    }
    let birthright = Birthright::new(ctx);
    // Millions of assignments share few (rule set, entitlement) pairs: number the distinct
    // sets of applying rules, then decide each (set, entitlement) pair once.
    let mut set_ids: HashMap<Vec<usize>, u32> = HashMap::default();
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let person_set: Vec<u32> = ctx
        .graph
        .people
        .iter()
        .map(|p| {
            let rules = birthright.applying(p);
            *set_ids.entry(rules.clone()).or_insert_with(|| {
                sets.push(rules);
                (sets.len() - 1) as u32
            })
        })
        .collect();
    // A mover's old position still explains its birthright access: whether it is kept too
    // long after the move is mover-residual-access's to judge, not this check's.
    let previous_rules: HashMap<&str, Vec<usize>> =
        crate::checks::lifecycle::positions_before_moves(ctx).into_iter().map(|(id, before)| (id, birthright.applying(&before))).collect();
    let mut decided: HashMap<(u32, u32), bool> = HashMap::default();
    for (a, account) in ctx.graph.accounts.iter().enumerate() {
        if !account.is_enabled() || account.kind == AccountType::Service {
            continue;
        }
        let Some(person) = ctx.person_of(a) else {
            continue;
        };
        let Some(set) = ctx.correlation[a].map(|c| person_set[c.person]) else {
            continue;
        };
        let mut unexplained = Vec::new();
        for s in ctx.grants_of(a) {
            let x = &ctx.graph.grants[s];
            if x.source == GrantSource::Request && x.granted_by.is_some() {
                continue;
            }
            let entitlement = ctx.entitlement_of(s);
            let explained = *decided
                .entry((set, x.entitlement))
                .or_insert_with(|| birthright.explains(&sets[set as usize], &entitlement.system, &entitlement.name));
            if explained
                || previous_rules
                    .get(&*person.employee_id)
                    .is_some_and(|rules| birthright.explains(rules, &entitlement.system, &entitlement.name))
            {
                continue;
            }
            let why = match x.source {
                GrantSource::Birthright => "is marked birthright, but no birthright rule gives it to this person".to_string(),
                GrantSource::Request => "is marked as requested, but no approver is recorded".to_string(),
                GrantSource::Manual => "was granted manually, with no role or approved request behind it".to_string(),
                GrantSource::Unknown => "has no recorded reason, and no role or birthright rule gives it".to_string(),
            };
            let message =
                format!("{} on {} account {} of {} {why}", entitlement.name, entitlement.system, account.username, person.display_name());
            let detail = AssignmentEvidence {
                source: Some(x.source),
                granted_by: x.granted_by.as_deref().map(str::to_string),
                granted_at: x.granted_at,
                ..Default::default()
            };
            unexplained.push(Held { grant: s, severity: None, message, detail });
        }
        report_account(
            ctx,
            f,
            a,
            unexplained,
            |held, names| {
                let who = person.display_name();
                format!(
                    "{} entitlements on {} account {} of {who} have no role, birthright rule or approved request behind them: {names}",
                    held.len(),
                    account.system,
                    account.username
                )
            },
            || vec![ctx.person_source(person)],
            || json!({ "department": person.department, "title": person.title }),
        );
    }
}
