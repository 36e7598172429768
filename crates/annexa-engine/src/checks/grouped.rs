//! One finding per account for the checks over assignments (`certification-overdue`,
//! `unexplained-access`, `mover-residual-access`, `mover-access-review`): a finding is what
//! one person fixes with one decision, and the decision is about an account's access (review
//! it, remove what nobody explains, take back the old position's groups), not about each
//! group one by one. An organisation's first audit (nothing certified) is then a list of
//! accounts to work through, not millions of rows.
//!
//! The finding's evidence holds every assignment it covers: their count, their
//! entitlements, each one's details and source record, so its evidence (and so its
//! version) changes when the set of assignments does, while its id (check and account)
//! stays the same.

use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{AssignmentEvidence, Severity, SourceRecord, Subject, SubjectKind};
use serde_json::Value;

/// How many entitlements a message names before it says how many more there are.
const NAMED: usize = 5;

/// One assignment a check reports.
pub struct Held {
    pub grant: usize,
    /// Above the check's own severity (a privileged entitlement), if it is.
    pub severity: Option<Severity>,
    /// What a finding about this assignment alone would say.
    pub message: String,
    /// This assignment's details, for the evidence (its entitlement is filled in here).
    pub detail: AssignmentEvidence,
}

/// Reports one account's assignments as one finding: as the assignment's own message when
/// it holds one, else as `summary` says of them all (given them and their entitlements,
/// named); with the most severe assignment's severity; `records` (of the account, the
/// person) after the assignments' own; `values` (of the account) beside the assignments'.
/// Checks call it account by account, so that nothing is held beyond one account.
pub fn report_account(
    ctx: &Context<'_>,
    f: &mut FindingBuilder<'_>,
    account: usize,
    mut held: Vec<Held>,
    summary: impl FnOnce(&[Held], &str) -> String,
    records: impl FnOnce() -> Vec<SourceRecord>,
    values: impl FnOnce() -> Value,
) {
    if held.is_empty() {
        return;
    }
    held.sort_by(|a, b| ctx.entitlement_of(a.grant).name.cmp(&ctx.entitlement_of(b.grant).name));
    let severity = held.iter().filter_map(|h| h.severity).fold(f.severity, Severity::max);
    let mut evidence: Vec<SourceRecord> = held.iter().map(|h| ctx.grant_source(h.grant)).collect();
    evidence.extend(records());
    let message = match held.as_mut_slice() {
        [one] => std::mem::take(&mut one.message),
        many => {
            let names: Vec<&str> = many.iter().map(|h| &*ctx.entitlement_of(h.grant).name).collect();
            summary(many, &named(&names))
        }
    };
    let assignments: Vec<AssignmentEvidence> =
        held.into_iter().map(|h| AssignmentEvidence { entitlement: ctx.entitlement_of(h.grant).name.to_string(), ..h.detail }).collect();
    let subject = ctx.account_subject(account);
    f.push_covering(severity, Subject { kind: SubjectKind::Account, ..subject }, message, evidence, values(), assignments);
}

/// `a, b, c, d, e and 3 more`.
fn named(names: &[&str]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].to_string(),
        n if n <= NAMED => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        n => format!("{} and {} more", names[..NAMED].join(", "), n - NAMED),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_listed_then_counted() {
        let n = |k: usize| (0..k).map(|i| format!("g{i}")).collect::<Vec<_>>();
        let n = |k: usize| -> String { super::named(&n(k).iter().map(String::as_str).collect::<Vec<_>>()) };
        assert_eq!(n(1), "g0");
        assert_eq!(n(3), "g0, g1 and g2");
        assert_eq!(n(8), "g0, g1, g2, g3, g4 and 3 more");
    }
}
