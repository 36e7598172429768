//! What a Rego check is given: its subjects in batches, each batch a JSON document
//! `{as_of, as_of_date, parameters, items: [...]}` (the shape `docs/rego-input.schema.json`
//! documents). An account item holds the account, the person it belongs to (correlation is
//! done before), whether its owner is an active person, and its grants; a person item holds
//! the person. Times are seconds since the epoch (exact in Rego's numbers), dates ISO strings.

use super::SubjectSort;
use crate::context::Context;
use annexa_core::finding::{SourceRecord, SubjectKind};
use annexa_core::model::{Account, Person};
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

/// A person as a policy sees them.
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

/// A credential's subject: the account's key and the slot, as the built-in checks name it.
fn credential_subject(account: &annexa_core::finding::Subject, slot: &str) -> (String, String) {
    (format!("{}/{}", account.key, annexa_core::key::part(slot)), format!("{} {slot}", account.label))
}

fn account(ctx: &Context<'_>, i: usize, a: &Account, subject: &annexa_core::finding::Subject) -> Value {
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
        "person": ctx.person_of(i).map(person),
        "owner_active": ctx.owner[i].is_some(),
        "grants": grants,
    })
}

/// Hands `each` the subjects in batches of `size`; stops when it returns false.
pub fn batches(ctx: &Context<'_>, sort: SubjectSort, parameters: &Value, size: usize, each: &mut dyn FnMut(&Batch) -> bool) {
    let head = |items: Vec<Value>| {
        json!({
            "as_of": ctx.as_of.timestamp(),
            "as_of_date": ctx.as_of.date_naive().to_string(),
            "parameters": parameters,
            "items": items,
        })
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
                let mut item = account(ctx, i, a, &subject);
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
                items.push(json!({ "subject": { "key": subject.key, "label": subject.label }, "person": person(p), "accounts": accounts }));
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
                items.push(json!({ "subject": { "key": subject.key, "label": subject.label }, "person": null, "accounts": [holding(ai)] }));
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
                    "person": person(p),
                    "accounts": accounts,
                    "badges": badges,
                });
                subjects
                    .insert(subject.key, BatchSubject { kind: SubjectKind::Person, label: subject.label, records: vec![person_source] });
                items.push(item);
                if items.len() >= size && !flush(&mut items, &mut subjects) {
                    return;
                }
            }
        }
    }
    flush(&mut items, &mut subjects);
}
