//! The population of an access certification campaign, drawn from the identity graph: which
//! access is in scope, who reviews each item, the context a reviewer needs (last use,
//! privilege, open findings, SoD conflicts, how common the entitlement is among the person's
//! peers) and a recommendation with its reason. Pure: the app stores what this yields.
//!
//! Items are the assignments of enabled accounts, and the zones of active badges (physical
//! access, A.7.2). The population is reconciled against the imports it was drawn from:
//! for each, how many records it held, how many are in scope, and why the rest are not.

use crate::config::Campaigns;
use crate::context::Context;
use crate::pattern::EntitlementPattern;
pub use annexa_core::campaign::{ImportCount, ItemKind, Population, Recommendation, ReviewItem};
use annexa_core::model::{BadgeStatus, Person, PersonStatus};
use annexa_core::time::Instant;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// One condition of a scope; a scope holds what meets all of its terms.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeTerm {
    All,
    Privileged,
    System(String),
    Department(String),
    Entitlement(String),
    /// Never certified, or last certified more than this many days ago.
    Uncertified(u32),
    /// The subjects of a check's open findings.
    Check(String),
    /// The access of one person (by employee id).
    Person(String),
}

/// What a campaign reviews: terms that must all hold (`privileged,system:erp`).
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub terms: Vec<ScopeTerm>,
}

impl Scope {
    /// Parses `privileged`, `system:erp`, `department:Finance`, `entitlement:erp:*admin*`,
    /// `uncertified:365`, `check:certification-overdue`, `all`, comma-separated.
    pub fn parse(text: &str) -> Result<Scope, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, value) = match part.split_once(':') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (part, None),
            };
            let need = |v: Option<&str>| -> Result<String, String> {
                v.filter(|v| !v.is_empty()).map(str::to_string).ok_or_else(|| format!("scope {part:?} needs a value ({kind}:…)"))
            };
            terms.push(match kind {
                "all" if value.is_none() => ScopeTerm::All,
                "privileged" if value.is_none() => ScopeTerm::Privileged,
                "system" => ScopeTerm::System(need(value)?),
                "department" => ScopeTerm::Department(need(value)?),
                "entitlement" => ScopeTerm::Entitlement(need(value)?),
                "uncertified" => ScopeTerm::Uncertified(
                    need(value)?.parse().map_err(|_| format!("scope {part:?}: expected a number of days (uncertified:365)"))?,
                ),
                "check" => ScopeTerm::Check(need(value)?),
                "person" => ScopeTerm::Person(need(value)?),
                _ => {
                    return Err(format!(
                        "scope {part:?} is not one of all, privileged, system:NAME, department:NAME, entitlement:PATTERN, uncertified:DAYS, check:CHECK_ID, person:EMPLOYEE_ID"
                    ))
                }
            });
        }
        if terms.is_empty() {
            return Err("the scope is empty: say what to review (all, privileged, system:NAME, ...)".into());
        }
        Ok(Scope { terms })
    }

    /// The checks whose open findings the scope names.
    pub fn checks(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            ScopeTerm::Check(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// The scope as written, normalised.
    pub fn text(&self) -> String {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|t| match t {
                ScopeTerm::All => "all".into(),
                ScopeTerm::Privileged => "privileged".into(),
                ScopeTerm::System(s) => format!("system:{s}"),
                ScopeTerm::Department(s) => format!("department:{s}"),
                ScopeTerm::Entitlement(s) => format!("entitlement:{s}"),
                ScopeTerm::Uncertified(d) => format!("uncertified:{d}"),
                ScopeTerm::Check(c) => format!("check:{c}"),
                ScopeTerm::Person(p) => format!("person:{p}"),
            })
            .collect();
        parts.join(",")
    }
}

/// Who reviews an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewerStrategy {
    /// The person's manager in HR.
    Manager,
    EntitlementOwner,
    SystemOwner,
    Named(String),
}

impl ReviewerStrategy {
    pub fn parse(text: &str) -> Result<ReviewerStrategy, String> {
        match text.trim() {
            "manager" => Ok(ReviewerStrategy::Manager),
            "entitlement-owner" => Ok(ReviewerStrategy::EntitlementOwner),
            "system-owner" => Ok(ReviewerStrategy::SystemOwner),
            t => match t.strip_prefix("named:") {
                Some(id) if !id.trim().is_empty() => Ok(ReviewerStrategy::Named(id.trim().to_string())),
                _ => Err(format!("reviewer {t:?} is not one of manager, entitlement-owner, system-owner, named:EMPLOYEE_ID")),
            },
        }
    }

    pub fn text(&self) -> String {
        match self {
            ReviewerStrategy::Manager => "manager".into(),
            ReviewerStrategy::EntitlementOwner => "entitlement-owner".into(),
            ReviewerStrategy::SystemOwner => "system-owner".into(),
            ReviewerStrategy::Named(id) => format!("named:{id}"),
        }
    }
}

/// What a campaign's population draws on, besides the graph.
pub struct PopulationInput<'a> {
    pub scope: &'a Scope,
    pub strategy: &'a ReviewerStrategy,
    /// Takes the items whose reviewer is missing or a leaver.
    pub fallback: Option<&'a str>,
    /// For `check:` terms: the subject keys of those checks' open findings, and the keys of
    /// the assignments their evidence names.
    pub check_subjects: &'a HashSet<String>,
    /// Open findings per subject key (accounts, assignments, badges, people).
    pub open_findings: &'a HashMap<String, u32>,
    pub params: &'a Campaigns,
}

/// Draws the population, handing each item to `each` in a stable order (the graph's).
pub fn population(ctx: &Context<'_>, input: &PopulationInput<'_>, each: &mut dyn FnMut(ReviewItem)) -> Population {
    let g = ctx.graph;
    let entitlement_terms: Vec<EntitlementPattern> = input
        .scope
        .terms
        .iter()
        .filter_map(|t| match t {
            ScopeTerm::Entitlement(p) => Some(EntitlementPattern::new(p)),
            _ => None,
        })
        .collect();
    let peers = Peers::new(ctx);
    let sod = SodMembership::new(ctx);
    let reviewers = Reviewers { ctx, input };
    let mut counts: HashMap<i64, ImportCount> = HashMap::new();
    let mut hasher = Sha256::new();
    let mut population = Population::default();
    let as_of = ctx.as_of;
    let mut emit = |item: ReviewItem, population: &mut Population| {
        hasher.update(item.key().as_bytes());
        hasher.update(b"\n");
        population.items += 1;
        population.without_reviewer += u64::from(item.reviewer.is_none());
        each(item);
    };
    for (gi, grant) in g.grants.iter().enumerate() {
        let count =
            counts.entry(grant.origin.import_id).or_insert_with(|| ImportCount { import_id: grant.origin.import_id, ..Default::default() });
        count.read += 1;
        let account = &g.accounts[grant.account as usize];
        if !account.is_enabled() {
            count.inactive += 1;
            continue;
        }
        let entitlement = ctx.entitlement_of(gi);
        let person = ctx.person_of(grant.account as usize);
        let privileged = ctx.privileged(gi);
        let key = g.grant_key(grant);
        let in_scope = input.scope.terms.iter().all(|t| match t {
            ScopeTerm::All | ScopeTerm::Entitlement(_) | ScopeTerm::Check(_) => true,
            ScopeTerm::Privileged => privileged,
            ScopeTerm::System(s) => *entitlement.system == **s,
            ScopeTerm::Department(d) => person.is_some_and(|p| p.department.eq_ignore_ascii_case(d)),
            ScopeTerm::Uncertified(days) => grant.last_certified_at.is_none_or(|t| (as_of - t).num_days() > i64::from(*days)),
            ScopeTerm::Person(id) => person.is_some_and(|p| *p.employee_id == **id),
        }) && entitlement_terms.iter().all(|p| p.matches(&entitlement.system, &entitlement.name))
            && (input.scope.checks().next().is_none()
                || input.check_subjects.contains(&key)
                || input.check_subjects.contains(&account.key()));
        if !in_scope {
            count.out_of_scope += 1;
            continue;
        }
        count.in_scope += 1;
        let (reviewer, reviewer_basis) = reviewers.of(person, entitlement.owner.as_deref(), &entitlement.system);
        let open_findings =
            input.open_findings.get(&key).copied().unwrap_or(0) + input.open_findings.get(&account.key()).copied().unwrap_or(0);
        let (peer_share, peer_count) = peers.share(person, grant.entitlement as usize);
        let last_used = account.last_login_at;
        let (recommendation, recommendation_reason) =
            recommend(input.params, as_of, account.last_login_known, last_used, peer_share, peer_count, person);
        let item = ReviewItem {
            kind: ItemKind::Assignment,
            system: entitlement.system.to_string(),
            account_id: account.account_id.to_string(),
            entitlement: entitlement.name.to_string(),
            employee_id: person.map(|p| p.employee_id.to_string()),
            holder: ctx.account_subject(grant.account as usize).label,
            privileged,
            last_used_at: last_used,
            granted_at: grant.granted_at,
            last_certified_at: grant.last_certified_at,
            origin: grant.origin,
            reviewer,
            reviewer_basis,
            open_findings,
            sod_rules: sod.rules_of(gi),
            peer_share,
            peers: peer_count,
            recommendation,
            recommendation_reason,
        };
        emit(item, &mut population);
    }
    // Physical access: each zone of each badge, reviewed like an entitlement.
    for b in &g.badges {
        let count = counts.entry(b.origin.import_id).or_insert_with(|| ImportCount { import_id: b.origin.import_id, ..Default::default() });
        let person = b.employee_id.as_deref().and_then(|e| ctx.person_by_id.get(e)).map(|&p| &g.people[p]);
        for zone in &b.zones {
            count.read += 1;
            if b.status != BadgeStatus::Active {
                count.inactive += 1;
                continue;
            }
            let key = annexa_core::key::join(&[&b.system, &b.badge_id, zone]);
            let badge_key = annexa_core::key::join(&[&b.system, &b.badge_id]);
            let in_scope = input.scope.terms.iter().all(|t| match t {
                ScopeTerm::All => true,
                ScopeTerm::System(s) => *b.system == **s,
                ScopeTerm::Department(d) => person.is_some_and(|p| p.department.eq_ignore_ascii_case(d)),
                // Compiled once, above, and tested after the other terms.
                ScopeTerm::Entitlement(_) => true,
                ScopeTerm::Check(_) => input.check_subjects.contains(&key) || input.check_subjects.contains(&badge_key),
                ScopeTerm::Person(id) => person.is_some_and(|p| *p.employee_id == **id),
                // Zones are neither privileged nor certified in the source.
                ScopeTerm::Privileged | ScopeTerm::Uncertified(_) => false,
            }) && entitlement_terms.iter().all(|p| p.matches(&b.system, zone));
            if !in_scope {
                count.out_of_scope += 1;
                continue;
            }
            count.in_scope += 1;
            let (reviewer, reviewer_basis) = reviewers.of(person, None, &b.system);
            let (recommendation, recommendation_reason) = recommend(input.params, as_of, true, b.last_used_at, None, 0, person);
            let item = ReviewItem {
                kind: ItemKind::BadgeZone,
                system: b.system.to_string(),
                account_id: b.badge_id.to_string(),
                entitlement: zone.clone(),
                employee_id: person.map(|p| p.employee_id.to_string()),
                holder: person.map_or_else(|| format!("badge {}", b.badge_id), |p| format!("badge {} ({})", b.badge_id, p.display_name())),
                privileged: false,
                last_used_at: b.last_used_at,
                granted_at: None,
                last_certified_at: None,
                origin: b.origin,
                reviewer,
                reviewer_basis,
                open_findings: input.open_findings.get(&badge_key).copied().unwrap_or(0),
                sod_rules: Vec::new(),
                peer_share: None,
                peers: 0,
                recommendation,
                recommendation_reason,
            };
            emit(item, &mut population);
        }
    }
    population.hash = annexa_core::to_hex(hasher.finalize().as_slice());
    let mut imports: Vec<ImportCount> = counts.into_values().collect();
    imports.sort_by_key(|c| c.import_id);
    population.imports = imports;
    population
}

/// The one item of an account's revalidation: is the account still needed? Reviewed by
/// its owner, else its system's owner, else `fallback` (never by the person it belongs to:
/// their manager instead; never by a leaver).
pub fn revalidation_item(ctx: &Context<'_>, account: usize, fallback: Option<&str>, open_findings: u32, params: &Campaigns) -> ReviewItem {
    let a = &ctx.graph.accounts[account];
    let holder = ctx.person_of(account);
    let input = PopulationInput {
        scope: &Scope { terms: vec![ScopeTerm::All] },
        strategy: &ReviewerStrategy::Named(String::new()),
        fallback,
        check_subjects: &HashSet::new(),
        open_findings: &HashMap::new(),
        params,
    };
    let reviewers = Reviewers { ctx, input: &input };
    let owner = a.owner.as_deref().and_then(|o| reviewers.person(o));
    let system_owner =
        || ctx.graph.systems.iter().find(|s| *s.name == *a.system).and_then(|s| s.owner.as_deref()).and_then(|o| reviewers.person(o));
    let (chosen, basis) = match owner {
        Some(p) => (Some(p), "account owner"),
        None => (system_owner(), "system owner"),
    };
    let (reviewer, reviewer_basis) = match chosen {
        Some(r) if holder.is_none_or(|h| h.employee_id != r.employee_id) && !reviewers.leaver(r) => {
            (Some(r.employee_id.to_string()), basis.to_string())
        }
        _ => match holder.and_then(|h| h.manager_id.as_deref()).and_then(|m| reviewers.person(m)).filter(|m| !reviewers.leaver(m)) {
            Some(m) if chosen.is_some() => (Some(m.employee_id.to_string()), format!("manager (the {basis} is the holder, or has left)")),
            _ => match fallback {
                Some(f) if holder.is_none_or(|h| *h.employee_id != *f) => (Some(f.to_string()), format!("fallback ({basis}: none)")),
                _ => (None, format!("none ({basis}: none)")),
            },
        },
    };
    let (recommendation, recommendation_reason) = recommend(params, ctx.as_of, a.last_login_known, a.last_login_at, None, 0, holder);
    ReviewItem {
        kind: ItemKind::Account,
        system: a.system.to_string(),
        account_id: a.account_id.to_string(),
        entitlement: String::new(),
        employee_id: holder.map(|p| p.employee_id.to_string()),
        holder: ctx.account_subject(account).label,
        privileged: ctx.holds_privileged(account),
        last_used_at: a.last_login_at,
        granted_at: a.created_at,
        last_certified_at: None,
        origin: a.origin,
        reviewer,
        reviewer_basis,
        open_findings,
        sod_rules: Vec::new(),
        peer_share: None,
        peers: 0,
        recommendation,
        recommendation_reason,
    }
}

/// Revoke what is unused, or rare among peers; certify the rest: each with why.
fn recommend(
    params: &Campaigns,
    as_of: Instant,
    last_use_known: bool,
    last_used: Option<Instant>,
    peer_share: Option<f64>,
    peers: u32,
    person: Option<&Person>,
) -> (Recommendation, String) {
    if person.is_some_and(|p| p.status == PersonStatus::Terminated) {
        return (Recommendation::Revoke, "the person has left".into());
    }
    if last_use_known {
        match last_used {
            None => return (Recommendation::Revoke, "never used".into()),
            Some(t) if (as_of - t).num_days() > i64::from(params.recommend_unused_days) => {
                return (
                    Recommendation::Revoke,
                    format!("not used since {} (over {} days)", t.format("%Y-%m-%d"), params.recommend_unused_days),
                );
            }
            _ => {}
        }
    }
    if let Some(share) = peer_share {
        if peers >= params.min_peer_group && share * 100.0 < params.recommend_peer_share_below {
            return (Recommendation::Revoke, format!("held by {:.0} % of {peers} peers (same department and title)", share * 100.0));
        }
    }
    let used = match last_used {
        Some(t) if last_use_known => format!("used on {}", t.format("%Y-%m-%d")),
        _ => "use not reported".to_string(),
    };
    let common = match peer_share {
        Some(s) => format!("; held by {:.0} % of {peers} peers", s * 100.0),
        None => String::new(),
    };
    (Recommendation::Certify, format!("{used}{common}"))
}

/// Who reviews: the strategy's reviewer, never the holder themselves (their manager instead),
/// never a leaver (the fallback instead).
struct Reviewers<'c, 'g> {
    ctx: &'c Context<'g>,
    input: &'c PopulationInput<'c>,
}

impl Reviewers<'_, '_> {
    fn of(&self, holder: Option<&Person>, entitlement_owner: Option<&str>, system: &str) -> (Option<String>, String) {
        let ctx = self.ctx;
        let chosen: Option<&Person> = match self.input.strategy {
            ReviewerStrategy::Manager => holder.and_then(|p| p.manager_id.as_deref()).and_then(|m| self.person(m)),
            ReviewerStrategy::EntitlementOwner => entitlement_owner.and_then(|o| self.person(o)),
            ReviewerStrategy::SystemOwner => {
                ctx.graph.systems.iter().find(|s| *s.name == *system).and_then(|s| s.owner.as_deref()).and_then(|o| self.person(o))
            }
            ReviewerStrategy::Named(id) => self.person(id),
        };
        let basis = self.input.strategy.text();
        let (chosen, basis) = match (chosen, holder) {
            // No self-review: a person's own access goes to their manager.
            (Some(r), Some(h)) if r.employee_id == h.employee_id => {
                let manager = h.manager_id.as_deref().and_then(|m| self.person(m));
                (manager, format!("manager (the {basis} is the holder)"))
            }
            (c, _) => (c, basis),
        };
        match chosen {
            Some(r) if !self.leaver(r) => (Some(r.employee_id.to_string()), basis),
            _ => match self.input.fallback {
                Some(f) if holder.is_none_or(|h| *h.employee_id != *f) => {
                    (Some(f.to_string()), format!("fallback ({basis}: {})", if chosen.is_some() { "a leaver" } else { "none" }))
                }
                _ => (None, format!("none ({basis}: {})", if chosen.is_some() { "a leaver" } else { "none" })),
            },
        }
    }

    /// A person named by employee id or e-mail address.
    fn person(&self, id: &str) -> Option<&Person> {
        let ctx = self.ctx;
        if let Some(&p) = ctx.person_by_id.get(id) {
            return Some(&ctx.graph.people[p]);
        }
        // An address two people share names no one.
        let p = (*ctx.person_by_email.get(&annexa_core::text::email_key(id))?)?;
        Some(&ctx.graph.people[p])
    }

    fn leaver(&self, p: &Person) -> bool {
        p.status == PersonStatus::Terminated || p.end_date.is_some_and(|d| d < self.ctx.as_of.date_naive())
    }
}

/// How common each entitlement is in each peer group (people of one department and title).
struct Peers<'g> {
    group_of: HashMap<(&'g str, &'g str), u32>,
    size: Vec<u32>,
    holders: HashMap<(u32, usize), u32>,
}

impl<'g> Peers<'g> {
    fn new(ctx: &Context<'g>) -> Peers<'g> {
        let g = ctx.graph;
        let mut group_of: HashMap<(&str, &str), u32> = HashMap::new();
        let mut size: Vec<u32> = Vec::new();
        let mut holders: HashMap<(u32, usize), u32> = HashMap::new();
        for (pi, p) in g.people.iter().enumerate() {
            if p.status == PersonStatus::Terminated {
                continue;
            }
            let next = size.len() as u32;
            let group = *group_of.entry((p.department.as_str(), p.title.as_str())).or_insert(next);
            if group == next {
                size.push(0);
            }
            size[group as usize] += 1;
            let mut held: HashSet<usize> = HashSet::new();
            for &a in &ctx.accounts_of_person[pi] {
                if g.accounts[a].is_enabled() {
                    held.extend(ctx.grants_of(a).map(|gi| g.grants[gi].entitlement as usize));
                }
            }
            for e in held {
                *holders.entry((group, e)).or_insert(0) += 1;
            }
        }
        Peers { group_of, size, holders }
    }

    /// The share of `person`'s peers holding `entitlement`, and the peer group's size.
    fn share(&self, person: Option<&Person>, entitlement: usize) -> (Option<f64>, u32) {
        let Some(p) = person else { return (None, 0) };
        let Some(&group) = self.group_of.get(&(p.department.as_str(), p.title.as_str())) else { return (None, 0) };
        let size = self.size[group as usize];
        let held = self.holders.get(&(group, entitlement)).copied().unwrap_or(0);
        (Some(f64::from(held) / f64::from(size.max(1))), size)
    }
}

/// Which grants take part in an SoD conflict of their holder, under which rules.
struct SodMembership {
    rules_of_grant: HashMap<usize, Vec<String>>,
}

impl SodMembership {
    fn new(ctx: &Context<'_>) -> SodMembership {
        let rules = &ctx.config.sod.rules;
        let mut rules_of_grant: HashMap<usize, Vec<String>> = HashMap::new();
        if rules.is_empty() {
            return SodMembership { rules_of_grant };
        }
        let (sides, hits) = crate::checks::access::sod_hits(ctx, &ctx.config.sod);
        for accounts in &ctx.accounts_of_person {
            let mut matched: HashMap<usize, Vec<Vec<usize>>> = HashMap::new();
            for &a in accounts {
                if !ctx.graph.accounts[a].is_enabled() {
                    continue;
                }
                for gi in ctx.grants_of(a) {
                    for &(r, side) in &hits[ctx.graph.grants[gi].entitlement as usize] {
                        matched.entry(r).or_insert_with(|| vec![Vec::new(); sides[r].len()])[side].push(gi);
                    }
                }
            }
            for (r, per_side) in matched {
                if per_side.iter().all(|s| !s.is_empty()) {
                    for gi in per_side.into_iter().flatten() {
                        rules_of_grant.entry(gi).or_default().push(rules[r].id.clone());
                    }
                }
            }
        }
        for v in rules_of_grant.values_mut() {
            v.sort();
            v.dedup();
        }
        SodMembership { rules_of_grant }
    }

    fn rules_of(&self, grant: usize) -> Vec<String> {
        self.rules_of_grant.get(&grant).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_strategies_parse_or_say_what_is_expected() {
        let s = Scope::parse("privileged, system:erp,uncertified:365").expect("scope");
        assert_eq!(s.terms, [ScopeTerm::Privileged, ScopeTerm::System("erp".into()), ScopeTerm::Uncertified(365)]);
        assert_eq!(s.text(), "privileged,system:erp,uncertified:365");
        assert!(Scope::parse("").is_err());
        assert!(Scope::parse("system:").expect_err("empty").contains("needs a value"));
        assert!(Scope::parse("uncertified:a year").expect_err("days").contains("number of days"));
        assert!(Scope::parse("everyone").expect_err("unknown").contains("not one of"));
        assert_eq!(ReviewerStrategy::parse("named:E7"), Ok(ReviewerStrategy::Named("E7".into())));
        assert!(ReviewerStrategy::parse("named:").is_err());
        assert!(ReviewerStrategy::parse("boss").is_err());
    }
}
