//! The identity tables an import filled row by row until schema version 24 (`accounts`,
//! `entitlements`, `assignments`, `badges`), read one last time.
//!
//! Every import also stored its records as a snapshot (`snapshot.rs`), which is what the
//! audit, the server and every use case read; the rows were a second copy that nothing
//! read but the tests, and writing them was most of an import's time (the accounts' text
//! key searched for every row). Migration 23 re-encodes, from these rows, the snapshots of
//! current imports that an earlier version wrote in an older format (such a blob is
//! refused, never misread); migration 24 then drops the tables. From then on a snapshot
//! format change brings a decoder of the format before it.

use crate::db::{DbRow, Tx, Value};
use crate::{instant, StoreError};
use annexa_core::graph::IdentityGraph;
use annexa_core::model::*;
use annexa_core::Name;
use std::collections::HashMap;

/// Migration 23's data step: the snapshots of current imports in a format this version
/// cannot read, re-encoded from the rows of their import (in the current format).
pub(crate) fn reencode_old_snapshots(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    let format = crate::snapshot::FORMAT as i64;
    let mut stale = Vec::new();
    tx.query_each(
        "SELECT import_id FROM snapshots WHERE format < ? AND import_id IN (SELECT import_id FROM sources)",
        &[(crate::snapshot::OLDEST_READ as i64).into()],
        |r| {
            stale.push(r.req_int(0)?);
            Ok(())
        },
    )?;
    if stale.is_empty() {
        return Ok(());
    }
    let g = read_tables(tx)?;
    for id in &stale {
        let of = |o: &Origin| o.import_id == *id;
        let people: Vec<Person> = g.people.iter().filter(|x| of(&x.origin)).cloned().collect();
        let accounts: Vec<Account> = g.accounts.iter().filter(|x| of(&x.origin)).cloned().collect();
        let entitlements: Vec<Entitlement> = g.entitlements.iter().filter(|x| of(&x.origin)).cloned().collect();
        let assignments: Vec<Assignment> = g.assignments.iter().filter(|x| of(&x.origin)).cloned().collect();
        let badges: Vec<Badge> = g.badges.iter().filter(|x| of(&x.origin)).cloned().collect();
        let blob = crate::snapshot::encode(&crate::snapshot::Records {
            people: &people,
            accounts: &accounts,
            entitlements: &entitlements,
            assignments: &assignments,
            badges: &badges,
        });
        tx.execute("UPDATE snapshots SET format = ?, data = ? WHERE import_id = ?", &[format.into(), Value::Blob(&blob), (*id).into()])?;
    }
    Ok(())
}

/// Every current record, row by row from the tables; assignments not resolved to grants.
fn read_tables(tx: &mut Tx<'_>) -> Result<IdentityGraph, StoreError> {
    {
        let mut g = IdentityGraph { imports: crate::identity::current_imports(tx)?, ..Default::default() };
        let mut names = Interner::default();
        tx.query_each(
            "SELECT employee_id, email, given_name, family_name, department, title, manager_id, location, \
             worker_type, status, start_date, end_date, screening_date, import_id, line FROM people",
            &[],
            |r| {
                g.people.push(Person {
                    employee_id: names.get(r.req_text(0)?),
                    email: r.text(1)?.map(String::from),
                    given_name: r.req_text(2)?.to_string(),
                    family_name: r.req_text(3)?.to_string(),
                    department: r.req_text(4)?.to_string(),
                    title: r.req_text(5)?.to_string(),
                    manager_id: r.text(6)?.map(|m| names.get(m)),
                    location: r.req_text(7)?.to_string(),
                    worker_type: vocab(r, 8, WorkerType::parse)?,
                    status: vocab(r, 9, PersonStatus::parse)?,
                    start_date: date(r, 10)?,
                    end_date: date(r, 11)?,
                    screening_date: date(r, 12)?,
                    origin: origin(r, 13)?,
                });
                Ok(())
            },
        )?;
        tx.query_each(
            "SELECT system, account_id, username, email, employee_id, display_name, status, kind, created_at, \
             last_login_at, last_login_known, mfa, password_last_set_at, interactive, root, owner, credentials, \
             import_id, line FROM accounts",
            &[],
            |r| {
                let credentials = match r.text(16)? {
                    None => Vec::new(),
                    Some(j) => serde_json::from_str(j).map_err(|e| StoreError::Corrupt(format!("credentials: {e}")))?,
                };
                let mfa = match r.text(11)? {
                    None => None,
                    Some(t) => Some(
                        t.split('|')
                            .filter(|p| !p.is_empty())
                            .map(|p| MfaFactor::parse(p).ok_or_else(|| StoreError::Corrupt(format!("mfa {p:?}"))))
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                };
                g.accounts.push(Account {
                    system: names.get(r.req_text(0)?),
                    account_id: names.get(r.req_text(1)?),
                    username: r.req_text(2)?.to_string(),
                    email: r.text(3)?.map(String::from),
                    employee_id: r.text(4)?.map(|e| names.get(e)),
                    display_name: r.req_text(5)?.to_string(),
                    status: vocab(r, 6, AccountStatus::parse)?,
                    kind: vocab(r, 7, AccountType::parse)?,
                    created_at: instant(r.int(8)?),
                    last_login_at: instant(r.int(9)?),
                    last_login_known: r.req_int(10)? != 0,
                    mfa,
                    password_last_set_at: instant(r.int(12)?),
                    interactive: r.req_int(13)? != 0,
                    root: r.req_int(14)? != 0,
                    owner: r.text(15)?.map(String::from),
                    credentials,
                    origin: origin(r, 17)?,
                });
                Ok(())
            },
        )?;
        tx.query_each("SELECT system, name, privileged, owner, import_id, line FROM entitlements", &[], |r| {
            g.entitlements.push(Entitlement {
                system: names.get(r.req_text(0)?),
                name: names.get(r.req_text(1)?),
                privileged: r.req_int(2)? != 0,
                owner: r.text(3)?.map(String::from),
                origin: origin(r, 4)?,
            });
            Ok(())
        })?;
        tx.query_each(
            "SELECT system, account_id, entitlement, granted_at, granted_by, grant_source, last_certified_at, \
             last_certified_by, import_id, line FROM assignments",
            &[],
            |r| {
                g.assignments.push(Assignment {
                    system: names.get(r.req_text(0)?),
                    account_id: names.get(r.req_text(1)?),
                    entitlement: names.get(r.req_text(2)?),
                    granted_at: instant(r.int(3)?),
                    granted_by: r.text(4)?.map(|n| names.get(n)),
                    source: vocab(r, 5, GrantSource::parse)?,
                    last_certified_at: instant(r.int(6)?),
                    last_certified_by: r.text(7)?.map(|n| names.get(n)),
                    origin: origin(r, 8)?,
                });
                Ok(())
            },
        )?;
        tx.query_each("SELECT system, badge_id, employee_id, status, last_used_at, zones, import_id, line FROM badges", &[], |r| {
            g.badges.push(Badge {
                system: names.get(r.req_text(0)?),
                badge_id: names.get(r.req_text(1)?),
                employee_id: r.text(2)?.map(|e| names.get(e)),
                status: vocab(r, 3, BadgeStatus::parse)?,
                last_used_at: instant(r.int(4)?),
                zones: r.req_text(5)?.split('|').filter(|z| !z.is_empty()).map(String::from).collect(),
                origin: origin(r, 6)?,
            });
            Ok(())
        })?;
        Ok(g)
    }
}

fn vocab<T>(r: &DbRow<'_>, i: usize, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let t = r.req_text(i)?;
    parse(t).ok_or_else(|| StoreError::Corrupt(format!("column {i}: unknown value {t:?}")))
}

fn date(r: &DbRow<'_>, i: usize) -> Result<Option<chrono::NaiveDate>, StoreError> {
    match r.text(i)? {
        None => Ok(None),
        Some(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("column {i}: bad date {t:?}"))),
    }
}

fn origin(r: &DbRow<'_>, i: usize) -> Result<Origin, StoreError> {
    Ok(Origin { import_id: r.req_int(i)?, line: u32::try_from(r.req_int(i + 1)?).unwrap_or(u32::MAX) })
}

/// One shared `Name` per distinct string read, so a group name on a million rows is one
/// allocation.
#[derive(Default)]
struct Interner {
    names: HashMap<Box<str>, Name>,
}

impl Interner {
    fn get(&mut self, s: &str) -> Name {
        if let Some(n) = self.names.get(s) {
            return n.clone();
        }
        let n: Name = s.into();
        self.names.insert(s.into(), n.clone());
        n
    }
}
