//! Migration 8: stored findings re-keyed with escaped subject keys (`annexa_core::key`).
//!
//! Before, the parts of a key were joined with `/` as they were, so `app/b/c/d` could be
//! account `b/c` holding `d` or account `b` holding `c/d` (and such a pair failed every
//! audit). A stored key whose parts need escaping is split at its `/` in every possible way
//! and matched against the records the database now holds; when exactly one split names a
//! record, the finding takes the escaped key and the id derived from it, in `findings` and
//! in every run that reported it. A key no record decides between is left: the next audit
//! resolves it, and opens the finding under its new id.

use crate::db::Tx;
use crate::StoreError;
use annexa_core::finding::finding_id;
use annexa_core::key::{join, part};
use std::collections::HashSet;

struct Stored {
    id: String,
    check: String,
    kind: String,
    key: String,
}

/// The records a split may name.
#[derive(Default)]
struct Held {
    accounts: HashSet<(String, String)>,
    assignments: HashSet<(String, String, String)>,
    badges: HashSet<(String, String)>,
}

/// How many parts a key of `kind` has (`None`: not a composite key).
fn parts_of(kind: &str) -> Option<usize> {
    match kind {
        "account" | "badge" => Some(2),
        "assignment" | "credential" => Some(3),
        "person" => Some(1),
        _ => None,
    }
}

/// Whether a key of `n` parts was written as its escaped form would be.
fn plain(key: &str, n: usize) -> bool {
    key.matches('/').count() == n - 1 && !key.contains('#') && part(&key.replace('/', "")) == key.replace('/', "")
}

/// Every way to cut `key` at `n - 1` of its slashes.
fn splits(key: &str, n: usize) -> Vec<Vec<String>> {
    let slashes: Vec<usize> = key.match_indices('/').map(|(i, _)| i).collect();
    let mut out = Vec::new();
    let mut chosen = Vec::new();
    fn walk(key: &str, slashes: &[usize], from: usize, left: usize, chosen: &mut Vec<usize>, out: &mut Vec<Vec<String>>) {
        if left == 0 {
            let mut parts = Vec::new();
            let mut start = 0;
            for &c in chosen.iter() {
                parts.push(key[start..c].to_string());
                start = c + 1;
            }
            parts.push(key[start..].to_string());
            out.push(parts);
            return;
        }
        for i in from..slashes.len() {
            chosen.push(slashes[i]);
            walk(key, slashes, i + 1, left - 1, chosen, out);
            chosen.pop();
        }
    }
    walk(key, &slashes, 0, n - 1, &mut chosen, &mut out);
    out
}

/// The escaped key of a stored subject key, when the records tell its parts apart.
fn escaped(kind: &str, key: &str, held: &Held) -> Option<String> {
    let n = parts_of(kind)?;
    if n == 1 {
        return Some(part(key).into_owned());
    }
    let matching: Vec<Vec<String>> = splits(key, n)
        .into_iter()
        .filter(|p| match kind {
            "account" | "credential" => held.accounts.contains(&(p[0].clone(), p[1].clone())),
            "assignment" => held.assignments.contains(&(p[0].clone(), p[1].clone(), p[2].clone())),
            "badge" => held.badges.contains(&(p[0].clone(), p[1].clone())),
            _ => false,
        })
        .collect();
    match matching.as_slice() {
        [one] => Some(join(&one.iter().map(String::as_str).collect::<Vec<_>>())),
        _ => None,
    }
}

pub(crate) fn rekey_findings(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    let mut stored = Vec::new();
    tx.query_each("SELECT id, check_id, subject_kind, subject_key FROM findings", &[], |r| {
        stored.push(Stored { id: r.req_text(0)?.to_string(), check: r.req_text(1)?.to_string(), kind: r.req_text(2)?.to_string(), key: r.req_text(3)?.to_string() });
        Ok(())
    })?;
    // Only keys that may change: a separator too many, a `#`, or an escape look-alike.
    let candidates: Vec<Stored> = stored
        .into_iter()
        .filter(|s| s.check == "sod-conflict" || parts_of(&s.kind).is_some_and(|n| !plain(&s.key, n)))
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let mut held = Held::default();
    tx.query_each("SELECT system, account_id FROM accounts", &[], |r| {
        held.accounts.insert((r.req_text(0)?.to_string(), r.req_text(1)?.to_string()));
        Ok(())
    })?;
    tx.query_each("SELECT system, account_id, entitlement FROM assignments", &[], |r| {
        held.assignments.insert((r.req_text(0)?.to_string(), r.req_text(1)?.to_string(), r.req_text(2)?.to_string()));
        Ok(())
    })?;
    tx.query_each("SELECT system, badge_id FROM badges", &[], |r| {
        held.badges.insert((r.req_text(0)?.to_string(), r.req_text(1)?.to_string()));
        Ok(())
    })?;
    let mut taken: HashSet<String> = HashSet::new();
    tx.query_each("SELECT id FROM findings", &[], |r| {
        taken.insert(r.req_text(0)?.to_string());
        Ok(())
    })?;
    for s in candidates {
        let new_key = if s.check == "sod-conflict" {
            // `subject#rule`: the subject's own key, then the rule's id.
            let Some((subject, rule)) = s.key.rsplit_once('#') else { continue };
            let Some(subject) = escaped(&s.kind, subject, &held) else { continue };
            format!("{subject}#{}", part(rule))
        } else if s.kind == "credential" {
            // `system/account/slot`: the account decides; the slot is the last part.
            let Some((account, slot)) = s.key.rsplit_once('/') else { continue };
            let Some(account) = escaped("account", account, &held) else { continue };
            format!("{account}/{}", part(slot))
        } else {
            let Some(k) = escaped(&s.kind, &s.key, &held) else { continue };
            k
        };
        if new_key == s.key {
            continue;
        }
        let new_id = finding_id(&s.check, &new_key);
        if !taken.insert(new_id.clone()) {
            continue;
        }
        tx.execute("UPDATE findings SET id = ?, subject_key = ? WHERE id = ?", &[new_id.as_str().into(), new_key.as_str().into(), s.id.as_str().into()])?;
        tx.execute("UPDATE run_findings SET finding_id = ? WHERE finding_id = ?", &[new_id.as_str().into(), s.id.as_str().into()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_split_every_way_and_decided_by_the_records() {
        assert_eq!(splits("a/b/c", 2), [vec!["a".to_string(), "b/c".into()], vec!["a/b".into(), "c".into()]]);
        assert_eq!(splits("a/b/c/d", 3).len(), 3);
        let mut held = Held::default();
        held.assignments.insert(("app".into(), "b/c".into(), "d".into()));
        held.accounts.insert(("app".into(), "b".into()));
        assert_eq!(escaped("assignment", "app/b/c/d", &held).as_deref(), Some("app/b%2Fc/d"));
        held.assignments.insert(("app".into(), "b".into(), "c/d".into()));
        assert_eq!(escaped("assignment", "app/b/c/d", &held), None, "two records: undecided");
        assert_eq!(escaped("account", "app/b", &held).as_deref(), Some("app/b"));
        assert_eq!(escaped("person", "E/1", &held).as_deref(), Some("E%2F1"));
        assert!(plain("app/b/c", 3) && !plain("app/b/c/d", 3) && !plain("app/b%2Fc/d", 3) && plain("app/100%/d", 3));
    }
}
