//! What a Rego check is given: its subjects in batches, each batch a JSON document
//! `{as_of, as_of_date, parameters, items: [...]}` (the shape `docs/rego-input.schema.json`
//! documents). An account item holds the account, the person it belongs to (correlation is
//! done before), whether its owner is an active person, and its grants; a person item holds
//! the person. Times are seconds since the epoch (exact in Rego's numbers), dates ISO strings.
//!
//! A person carries what Annexa derives about them beyond their HR row: the birthright
//! rules whose condition they meet (conditions nest, and Rego has no recursion, so Annexa
//! evaluates them; the policy matches the rules' roles to the grants) and their latest move
//! with the rules that applied before it. People and holders also carry their peer group's
//! distribution of privileged access, which no batch could compute alone.

use super::SubjectSort;
use crate::checks::access::Birthright;
use crate::context::Context;
use annexa_core::finding::{SourceRecord, SubjectKind};
use annexa_core::model::{Account, JmlEvent, Person};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A subject of a batch: how findings about it are labelled, and its source records.
#[derive(Debug, Clone)]
pub struct BatchSubject {
    pub kind: SubjectKind,
    pub label: String,
    pub records: Vec<SourceRecord>,
}

/// One batch: the input document, and its subjects by key.
#[derive(Debug, Clone)]
pub struct Batch {
    pub input: Value,
    subjects: HashMap<String, BatchSubject>,
}

impl Batch {
    pub fn subject(&self, key: &str) -> Option<&BatchSubject> {
        self.subjects.get(key)
    }
}

fn secs(t: Option<annexa_core::time::Instant>) -> Value {
    t.map(|t| json!(t.timestamp())).unwrap_or(Value::Null)
}

fn day(d: Option<chrono::NaiveDate>) -> Value {
    d.map(|d| json!(d.to_string())).unwrap_or(Value::Null)
}

/// A person's HR record as a policy sees it.
pub fn person(p: &Person) -> Value {
    json!({
        "employee_id": &*p.employee_id,
        "display_name": p.display_name(),
        "email": p.email,
        "department": p.department,
        "title": p.title,
        "manager_id": p.manager_id.as_deref(),
        "location": p.location,
        "worker_type": p.worker_type,
        "status": p.status,
        "start_date": day(p.start_date),
        "end_date": day(p.end_date),
        // The end date as a time (its first second, UTC), to compare with `as_of`.
        "end_date_start": p.end_date.map(|d| json!(annexa_core::time::start_of_day(d).timestamp())).unwrap_or(Value::Null),
    })
}

/// What is derived about people once per run of a policy: the role model, and each
/// person's latest move.
struct People<'g> {
    birthright: Birthright,
    moves: rustc_hash::FxHashMap<&'g str, &'g JmlEvent>,
}

impl<'g> People<'g> {
    fn new(ctx: &Context<'g>) -> People<'g> {
        People { birthright: Birthright::new(ctx), moves: crate::checks::lifecycle::latest_moves(ctx) }
    }

    fn rules(&self, p: &Person) -> Vec<&str> {
        self.birthright.applying(p).into_iter().map(|r| self.birthright.id(r)).collect()
    }

    /// A person as a policy sees them: the HR record, the birthright rules that apply,
    /// the latest move.
    fn person(&self, p: &Person) -> Value {
        let mut v = person(p);
        v["birthright"] = json!(self.rules(p));
        v["latest_move"] = match self.moves.get(&*p.employee_id) {
            None => Value::Null,
            Some(m) => json!({
                "id": m.id,
                "effective_at": m.effective_at.timestamp(),
                "changes": m.changes,
                "birthright_before": self.rules(&crate::checks::lifecycle::before_move(p, m)),
            }),
        };
        v
    }
}

/// The role model as the checks read it: each role's entitlement patterns, each birthright
/// rule's roles (which people it applies to is in each person's `birthright`).
fn role_model(ctx: &Context<'_>) -> Value {
    let roles: serde_json::Map<String, Value> = ctx.config.roles.iter().map(|r| (r.id.clone(), json!(r.entitlements))).collect();
    let birthright: serde_json::Map<String, Value> = ctx.config.birthright.iter().map(|b| (b.id.clone(), json!(b.roles))).collect();
    json!({ "roles": roles, "birthright": birthright })
}

/// Each person's peer group (department and title; leavers neither have one nor count in
/// one): its size and how many of its members hold each number of distinct privileged
/// entitlements, as `[[count, people], ...]` by count.
fn peers(ctx: &Context<'_>) -> Vec<Value> {
    let counts = crate::checks::privilege::privileged_counts(ctx);
    let mut out = vec![Value::Null; ctx.graph.people.len()];
    for ((department, title), members) in crate::checks::privilege::peer_groups(ctx) {
        let mut histogram = std::collections::BTreeMap::<usize, usize>::new();
        for &m in &members {
            *histogram.entry(counts[m]).or_default() += 1;
        }
        let histogram: Vec<[usize; 2]> = histogram.into_iter().map(|(c, n)| [c, n]).collect();
        let group = json!({ "department": department, "title": title, "size": members.len(), "privileged_counts": histogram });
        for &m in &members {
            out[m] = group.clone();
        }
    }
    out
}

/// A credential's subject: the account's key and the slot, as the built-in checks name it.
fn credential_subject(account: &annexa_core::finding::Subject, slot: &str) -> (String, String) {
    (format!("{}/{}", account.key, annexa_core::key::part(slot)), format!("{} {slot}", account.label))
}

fn account(ctx: &Context<'_>, people: &People<'_>, i: usize, a: &Account, subject: &annexa_core::finding::Subject) -> Value {
    let credentials: Vec<Value> = a
        .credentials
        .iter()
        .map(|c| {
            let (key, label) = credential_subject(subject, &c.slot);
            json!({ "subject": { "key": key, "label": label }, "slot": c.slot, "kind": c.kind, "active": c.active,
                    "rotated_at": secs(c.rotated_at), "last_used_at": secs(c.last_used_at) })
        })
        .collect();
    let (password_key, password_label) = credential_subject(subject, "password");
    // The address correlation compared (the account's e-mail, or its login when that is an
    // address), and whether more than one person in HR has it.
    let correlation_email = crate::correlate::account_email(a).map(|(address, from_login)| {
        let shared = matches!(ctx.person_by_email.get(&address), Some(None));
        json!({ "address": address, "from_login": from_login, "shared": shared })
    });
    let on = |t: Option<annexa_core::time::Instant>| t.map(|t| json!(annexa_core::time::day(t))).unwrap_or(Value::Null);
    let grants: Vec<Value> = ctx
        .grants_of(i)
        .map(|g| {
            let x = &ctx.graph.grants[g];
            let e = ctx.entitlement_of(g);
            json!({
                "entitlement": ctx.grant_label(g), "system": &*e.system, "name": &*e.name, "privileged": ctx.privileged(g),
                "granted_at": secs(x.granted_at), "granted_on": on(x.granted_at),
                "last_certified_at": secs(x.last_certified_at), "last_certified_on": on(x.last_certified_at),
                "source": x.source, "granted_by": x.granted_by,
            })
        })
        .collect();
    json!({
        "account": {
            "system": &*a.system,
            "account_id": &*a.account_id,
            "username": a.username,
            "display_name": a.display_name,
            "email": a.email,
            "employee_id": a.employee_id.as_deref(),
            "status": a.status,
            "type": a.kind,
            "created_at": secs(a.created_at),
            "last_login_at": secs(a.last_login_at),
            "last_login_known": a.last_login_known,
            "mfa": a.mfa,
            "interactive": a.interactive,
            "root": a.root,
            "owner": a.owner,
            "source_kind": ctx.import_kind(a.origin),
            "credentials": credentials,
            "password_last_set_at": secs(a.password_last_set_at),
            "password_subject": { "key": password_key, "label": password_label },
            "correlation_email": correlation_email,
        },
        "person": ctx.person_of(i).map(|p| people.person(p)),
        "owner_active": ctx.owner[i].is_some(),
        "grants": grants,
    })
}

/// Hands `each` the subjects in batches of `size`; stops when it returns false.
pub fn batches(ctx: &Context<'_>, sort: SubjectSort, parameters: &Value, size: usize, each: &mut dyn FnMut(&Batch) -> bool) {
    let people = People::new(ctx);
    let peers = if matches!(sort, SubjectSort::Person | SubjectSort::Holder) { peers(ctx) } else { Vec::new() };
    let top = head(ctx, parameters);
    let head = |items: Vec<Value>| {
        let mut v = top.clone();
        v["items"] = Value::Array(items);
        v
    };
    let mut items = Vec::with_capacity(size);
    let mut subjects = HashMap::with_capacity(size);
    let mut flush = |items: &mut Vec<Value>, subjects: &mut HashMap<String, BatchSubject>| -> bool {
        if items.is_empty() {
            return true;
        }
        let batch = Batch { input: head(std::mem::take(items)), subjects: std::mem::take(subjects) };
        each(&batch)
    };
    match sort {
        SubjectSort::Account => {
            for (i, a) in ctx.graph.accounts.iter().enumerate() {
                let subject = ctx.account_subject(i);
                let mut item = account(ctx, &people, i, a, &subject);
                item["subject"] = json!({ "key": subject.key, "label": subject.label });
                // Its credentials and its password are subjects too (stale-credential).
                for slot in a.credentials.iter().map(|c| c.slot.as_str()).chain(std::iter::once("password")) {
                    let (key, label) = credential_subject(&subject, slot);
                    subjects.insert(key, BatchSubject { kind: SubjectKind::Credential, label, records: vec![ctx.account_source(a)] });
                }
                subjects.insert(
                    subject.key,
                    BatchSubject { kind: SubjectKind::Account, label: subject.label, records: vec![ctx.account_source(a)] },
                );
                items.push(item);
                if items.len() >= size && !flush(&mut items, &mut subjects) {
                    return;
                }
            }
        }
        SubjectSort::Holder => {
            let holding = |ai: usize| {
                let a = &ctx.graph.accounts[ai];
                let s = ctx.account_subject(ai);
                let grants: Vec<Value> = ctx
                    .grants_of(ai)
                    .map(|g| {
                        let e = ctx.entitlement_of(g);
                        json!({ "entitlement": ctx.grant_label(g), "system": &*e.system, "name": &*e.name, "privileged": ctx.privileged(g) })
                    })
                    .collect();
                json!({ "subject": { "key": s.key, "label": s.label }, "system": &*a.system, "username": a.username,
                        "status": a.status, "type": a.kind, "grants": grants })
            };
            for (pi, p) in ctx.graph.people.iter().enumerate() {
                if ctx.accounts_of_person[pi].is_empty() {
                    continue;
                }
                let subject = ctx.person_subject(p);
                let accounts: Vec<Value> = ctx.accounts_of_person[pi].iter().map(|&ai| holding(ai)).collect();
                items.push(
                    json!({ "subject": { "key": subject.key, "label": subject.label }, "person": people.person(p), "accounts": accounts,
                                   "peers": peers[pi] }),
                );
                subjects.insert(
                    subject.key,
                    BatchSubject { kind: SubjectKind::Person, label: subject.label, records: vec![ctx.person_source(p)] },
                );
                if items.len() >= size && !flush(&mut items, &mut subjects) {
                    return;
                }
            }
            for (ai, c) in ctx.correlation.iter().enumerate() {
                if c.is_some() {
                    continue;
                }
                let subject = ctx.account_subject(ai);
                items.push(json!({ "subject": { "key": subject.key, "label": subject.label }, "person": null, "accounts": [holding(ai)],
                                   "peers": null }));
                let records = vec![ctx.account_source(&ctx.graph.accounts[ai])];
                subjects.insert(subject.key, BatchSubject { kind: SubjectKind::Account, label: subject.label, records });
                if items.len() >= size && !flush(&mut items, &mut subjects) {
                    return;
                }
            }
        }
        SubjectSort::Person => {
            for (pi, p) in ctx.graph.people.iter().enumerate() {
                let subject = ctx.person_subject(p);
                let person_source = ctx.person_source(p);
                // The person's accounts and badges are subjects too: a finding about a
                // leaver names the account or the badge still open.
                let mut accounts = Vec::new();
                for &ai in &ctx.accounts_of_person[pi] {
                    let a = &ctx.graph.accounts[ai];
                    let s = ctx.account_subject(ai);
                    accounts.push(json!({
                        "subject": { "key": s.key, "label": s.label },
                        "system": &*a.system, "username": a.username, "status": a.status, "type": a.kind,
                    }));
                    let records = vec![person_source.clone(), ctx.account_source(a)];
                    subjects.insert(s.key, BatchSubject { kind: SubjectKind::Account, label: s.label, records });
                }
                let mut badges = Vec::new();
                for &bi in &ctx.badges_of_person[pi] {
                    let b = &ctx.graph.badges[bi];
                    let key = annexa_core::key::join(&[&b.system, &b.badge_id]);
                    let label = format!("badge {} ({})", b.badge_id, p.display_name());
                    badges.push(json!({
                        "subject": { "key": key, "label": label },
                        "system": &*b.system, "badge_id": &*b.badge_id, "status": b.status, "zones": b.zones,
                        "last_used_at": secs(b.last_used_at),
                    }));
                    let records = vec![person_source.clone(), ctx.source("badge", key.clone(), b.origin)];
                    subjects.insert(key, BatchSubject { kind: SubjectKind::Badge, label, records });
                }
                let item = json!({
                    "subject": { "key": subject.key, "label": subject.label },
                    "person": people.person(p),
                    "accounts": accounts,
                    "badges": badges,
                    "peers": peers[pi],
                });
                subjects
                    .insert(subject.key, BatchSubject { kind: SubjectKind::Person, label: subject.label, records: vec![person_source] });
                items.push(item);
                if items.len() >= size && !flush(&mut items, &mut subjects) {
                    return;
                }
            }
        }
        SubjectSort::Revocation => {
            let Some(revocations) = &ctx.revocations else { return };
            let held = crate::checks::revocation::still_held(ctx.graph, revocations);
            for r in revocations {
                let (record, kind, key) = crate::checks::revocation::subject_of(r);
                let origin = held.get(&r.item);
                let import = origin.and_then(|o| ctx.graph.import(o.import_id));
                let still_held = import.map(|i| {
                    json!({ "import_id": i.id, "imported_at": i.imported_at.timestamp(), "imported_on": annexa_core::time::day(i.imported_at) })
                });
                items.push(json!({
                    "subject": { "key": key, "label": r.holder },
                    "revocation": {
                        "campaign": r.campaign, "item": r.item, "kind": r.kind, "system": r.system, "account_id": r.account_id,
                        "entitlement": r.entitlement, "holder": r.holder, "decided_at": r.decided_at.timestamp(),
                        "decided_on": annexa_core::time::day(r.decided_at), "task": r.task,
                    },
                    "still_held": still_held,
                }));
                let records = origin.map(|o| vec![ctx.source(record, key.clone(), *o)]).unwrap_or_default();
                subjects.insert(key, BatchSubject { kind, label: r.holder.clone(), records });
                if items.len() >= size && !flush(&mut items, &mut subjects) {
                    return;
                }
            }
        }
        SubjectSort::Ledger => {
            let Some(status) = &ctx.ledger else { return };
            let newest = status.newest_checkpoint.map(|(size, at)| json!({ "size": size, "at": at.timestamp() }));
            items.push(json!({
                "subject": { "key": "ledger", "label": "evidence ledger" },
                "ledger": { "entries": status.entries, "problem": status.problem, "newest_checkpoint": newest },
            }));
            subjects
                .insert("ledger".into(), BatchSubject { kind: SubjectKind::Ledger, label: "evidence ledger".into(), records: Vec::new() });
        }
    }
    flush(&mut items, &mut subjects);
}

/// The document a policy's `not_evaluated` rule reads: the head of every batch, no items.
pub fn head(ctx: &Context<'_>, parameters: &Value) -> Value {
    json!({
        "as_of": ctx.as_of.timestamp(),
        "as_of_date": ctx.as_of.date_naive().to_string(),
        "parameters": parameters,
        "role_model": role_model(ctx),
        "items": [],
    })
}
