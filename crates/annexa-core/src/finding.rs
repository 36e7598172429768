//! Findings: what a control check reports about one subject, with its evidence.
//!
//! A finding's id is derived from the check and the subject alone, so the same problem on
//! the same account gets the same id in every run; that is how a run tells new, still open
//! and resolved findings apart.

use crate::model::vocabulary;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

vocabulary! {
    /// How urgent a finding is. Ordered: `Info < Low < Medium < High < Critical`.
    Severity { Info = "info", Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

vocabulary! {
    /// Where a finding is in its lifecycle. An audit opens it and only an audit remediates
    /// it (by no longer seeing it) or reopens it (seen again, a risk acceptance expired, a
    /// dismissed finding's evidence changed); people acknowledge, accept or dismiss it.
    FindingState {
        Open = "open",
        Acknowledged = "acknowledged",
        Accepted = "accepted" | "risk-accepted",
        FalsePositive = "false-positive" | "dismissed",
        Remediated = "remediated" | "resolved",
        Reopened = "reopened",
    }
}

impl FindingState {
    /// Whether someone still has to act on a finding in this state: open, acknowledged
    /// or reopened (accepted and dismissed findings are suppressed; remediated ones done).
    pub fn actionable(self) -> bool {
        matches!(self, FindingState::Open | FindingState::Acknowledged | FindingState::Reopened)
    }
}

vocabulary! {
    /// Where a nonconformity is: open until its corrective actions are done and a later
    /// audit confirmed its findings remediated.
    NcStatus { Open = "open", Closed = "closed" }
}

vocabulary! {
    /// Where a corrective action is.
    ActionStatus { Planned = "planned", InProgress = "in-progress", Done = "done" }
}

vocabulary! {
    /// What kind of thing a finding is about.
    SubjectKind { Person = "person", Account = "account", Assignment = "assignment", Badge = "badge", Credential = "credential", Ledger = "ledger" }
}

/// The thing a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub kind: SubjectKind,
    /// Stable key: `system/account_id`, an employee id, `system/account_id/entitlement`, ...
    pub key: String,
    /// Who or what it is, in words (a display name), for reviewers.
    pub label: String,
}

impl Subject {
    /// The system the subject is in (the first part of its key), for subjects that are in
    /// one: accounts, assignments, credentials and badges.
    pub fn system(&self) -> Option<String> {
        match self.kind {
            SubjectKind::Account | SubjectKind::Assignment | SubjectKind::Credential | SubjectKind::Badge => {
                let first = self.key.split(['/', '#']).next().unwrap_or_default();
                Some(crate::key::unescape(first).into_owned())
            }
            SubjectKind::Person | SubjectKind::Ledger => None,
        }
    }
}

impl Severity {
    /// The severity as a number, least severe 0, for sorting in SQL.
    pub fn rank(self) -> i64 {
        match self {
            Severity::Info => 0,
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }
}

/// What a finding rests on, as a fingerprint: which records (kind and key), not where they
/// were read (import, line) nor what its message says of them today ("not used for 91
/// days" becomes 92 tomorrow). A finding dismissed as a false positive stays dismissed
/// while this stays the same.
pub fn records_fingerprint(records: &[SourceRecord]) -> [u8; 32] {
    let mut h = Sha256::new();
    for r in records {
        for part in [r.record.as_str(), r.key.as_str()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
    }
    h.finalize().into()
}

/// One source record a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// `person`, `account`, `assignment`, `badge`, ...
    pub record: String,
    pub key: String,
    pub import_id: i64,
    /// The imported file and its SHA-256: the store keeps them once per import, not with
    /// every record (a stored finding's records name the import; reading fills these in).
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub sha256: String,
    /// Line (CSV, header is line 1) or entry number (LDIF).
    pub line: u32,
}

/// Why the check decided as it did: the records, the values compared, the parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evidence {
    pub records: Vec<SourceRecord>,
    /// The computed values the decision compared (e.g. `days_since_login: 212`).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// The check parameters in force (e.g. `days: 90`). The store keeps them once per run.
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub as_of: Option<Instant>,
}

/// A check's result for one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub check: String,
    pub severity: Severity,
    pub subject: Subject,
    /// Annex A controls this finding evidences, e.g. `A.5.18`.
    pub controls: Vec<String>,
    pub message: String,
    pub evidence: Evidence,
}

/// The stable id of the finding `check` raises on `subject_key`:
/// `F-` and the first 16 hex digits of SHA-256(check NUL subject_key).
pub fn finding_id(check: &str, subject_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(check.as_bytes());
    h.update([0u8]);
    h.update(subject_key.as_bytes());
    let digest = h.finalize();
    format!("F-{}", crate::to_hex(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_ids_are_stable_and_distinct() {
        let a = finding_id("dormant-account", "ad/jdoe");
        assert_eq!(a, finding_id("dormant-account", "ad/jdoe"));
        assert_ne!(a, finding_id("mfa-missing", "ad/jdoe"));
        assert_ne!(a, finding_id("dormant-account", "ad/jdoe2"));
        assert_eq!(a.len(), 18);
    }

    #[test]
    fn severities_order_by_urgency() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
    }
}
