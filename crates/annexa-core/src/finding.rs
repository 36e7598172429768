//! Findings: what a control check reports about one subject, with its evidence.
//!
//! A finding's id is derived from the check and the subject alone, so the same problem on
//! the same account gets the same id in every run; that is how a run tells new, still open
//! and resolved findings apart.

use crate::json;
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
        for part in [&*r.record, r.key.as_str()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
    }
    h.finalize().into()
}

/// One source record a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// `person`, `account`, `assignment`, `badge`, ...: one of a few words, so the checks
    /// lend it rather than allocate it for each of the millions of records a first audit cites.
    pub record: std::borrow::Cow<'static, str>,
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
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct Evidence {
    pub records: Vec<SourceRecord>,
    /// The computed values the decision compared (e.g. `days_since_login: 212`).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// The assignments a finding about an account's access covers (the grouped checks), as
    /// the checks found them: written out among `values` as `assignments`, with their
    /// `count` and their `entitlements` ([`Evidence::values_with_assignments`]). Typed
    /// rather than JSON values because a first audit reports millions of them: as maps
    /// they were most of what the checks allocated. A finding read back from the store has
    /// them in `values`, as written, and none here.
    #[serde(skip)]
    pub assignments: Vec<AssignmentEvidence>,
    /// The check parameters in force (e.g. `days: 90`). The store keeps them once per run.
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub as_of: Option<Instant>,
}

impl Evidence {
    /// `values` with the typed [`Evidence::assignments`] among them, in key order, as they
    /// are written out.
    pub fn values_with_assignments(&self) -> ValuesWithAssignments<'_> {
        ValuesWithAssignments(self)
    }

    /// The same as one map (what a finding read back from the store holds).
    pub fn all_values(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self.values_with_assignments()) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => self.values.clone(),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut e = s.serialize_struct("Evidence", 4)?;
        e.serialize_field("records", &self.records)?;
        e.serialize_field("values", &self.values_with_assignments())?;
        e.serialize_field("parameters", &self.parameters)?;
        e.serialize_field("as_of", &self.as_of)?;
        e.end()
    }
}

/// An [`Evidence`]'s values as written out: its map, and its typed assignments as the
/// members `assignments`, `count` and `entitlements`, all in key order (the order of a
/// `serde_json` map), so that a finding's JSON, and so its version, is the same as when
/// the assignments were built as JSON values.
pub struct ValuesWithAssignments<'e>(&'e Evidence);

/// A member of [`ValuesWithAssignments`].
enum Member<'a> {
    Map(&'a serde_json::Value),
    Assignments,
    Count,
    Entitlements,
}

impl<'e> ValuesWithAssignments<'e> {
    /// The members in key order, with typed assignments.
    fn members(&self) -> Vec<(&'e str, Member<'e>)> {
        let typed = [("assignments", Member::Assignments), ("count", Member::Count), ("entitlements", Member::Entitlements)];
        let mut members: Vec<(&str, Member<'_>)> =
            self.0.values.iter().filter(|(k, _)| !typed.iter().any(|(t, _)| t == k)).map(|(k, v)| (k.as_str(), Member::Map(v))).collect();
        members.extend(typed);
        members.sort_by(|a, b| a.0.cmp(b.0));
        members
    }

    /// Appends the values as JSON: what serialising them with `serde_json` gives, written
    /// without it where they are typed (`json.rs`).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let e = self.0;
        if e.assignments.is_empty() {
            // INVARIANT: JSON values always serialise.
            let _ = serde_json::to_writer(&mut *out, &e.values);
            return;
        }
        out.push(b'{');
        for (i, (key, member)) in self.members().into_iter().enumerate() {
            json::push_key(out, i == 0, key);
            match member {
                Member::Map(v) => {
                    let _ = serde_json::to_writer(&mut *out, v);
                }
                Member::Assignments => {
                    out.push(b'[');
                    for (j, a) in e.assignments.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        a.write_json(out);
                    }
                    out.push(b']');
                }
                Member::Count => json::push_int(out, e.assignments.len() as i64),
                Member::Entitlements => {
                    out.push(b'[');
                    for (j, a) in e.assignments.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        json::push_str(out, &a.entitlement);
                    }
                    out.push(b']');
                }
            }
        }
        out.push(b'}');
    }
}

impl Serialize for ValuesWithAssignments<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let e = self.0;
        if e.assignments.is_empty() {
            return e.values.serialize(s);
        }
        struct Names<'a>(&'a [AssignmentEvidence]);
        impl Serialize for Names<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(|a| a.entitlement.as_str()))
            }
        }
        let members = self.members();
        let mut m = s.serialize_map(Some(members.len()))?;
        for (key, member) in members {
            match member {
                Member::Map(v) => m.serialize_entry(key, v)?,
                Member::Assignments => m.serialize_entry(key, &e.assignments)?,
                Member::Count => m.serialize_entry(key, &e.assignments.len())?,
                Member::Entitlements => m.serialize_entry(key, &Names(&e.assignments))?,
            }
        }
        m.end()
    }
}

/// One assignment a finding about an account's access covers: the entitlement, then what
/// is known of it. Written as an object of the members that are known (an absent date is
/// left out, `privileged` only when it is), in key order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssignmentEvidence {
    pub entitlement: String,
    pub granted_at: Option<Instant>,
    pub granted_by: Option<String>,
    pub last_certified_at: Option<Instant>,
    pub last_certified_by: Option<String>,
    pub privileged: bool,
    pub source: Option<crate::model::GrantSource>,
}

impl AssignmentEvidence {
    /// Appends the assignment as JSON: what serialising it with `serde_json` gives.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"entitlement\":");
        json::push_str(out, &self.entitlement);
        if let Some(t) = &self.granted_at {
            out.extend_from_slice(b",\"granted_at\":");
            json::push_instant(out, t);
        }
        if let Some(by) = &self.granted_by {
            out.extend_from_slice(b",\"granted_by\":");
            json::push_str(out, by);
        }
        if let Some(t) = &self.last_certified_at {
            out.extend_from_slice(b",\"last_certified_at\":");
            json::push_instant(out, t);
        }
        if let Some(by) = &self.last_certified_by {
            out.extend_from_slice(b",\"last_certified_by\":");
            json::push_str(out, by);
        }
        if self.privileged {
            out.extend_from_slice(b",\"privileged\":true");
        }
        if let Some(source) = &self.source {
            out.extend_from_slice(b",\"source\":");
            json::push_str(out, source.as_str());
        }
        out.push(b'}');
    }
}

impl Serialize for AssignmentEvidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("entitlement", &self.entitlement)?;
        if let Some(t) = &self.granted_at {
            m.serialize_entry("granted_at", t)?;
        }
        if let Some(by) = &self.granted_by {
            m.serialize_entry("granted_by", by)?;
        }
        if let Some(t) = &self.last_certified_at {
            m.serialize_entry("last_certified_at", t)?;
        }
        if let Some(by) = &self.last_certified_by {
            m.serialize_entry("last_certified_by", by)?;
        }
        if self.privileged {
            m.serialize_entry("privileged", &true)?;
        }
        if let Some(source) = &self.source {
            m.serialize_entry("source", source)?;
        }
        m.end()
    }
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
    let mut id = String::with_capacity(18);
    id.push_str("F-");
    crate::push_hex(&mut id, &digest[..8]);
    id
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

    /// Typed assignments are written exactly as the JSON values they replace were (a map
    /// per assignment without its absent members, then `count` and `entitlements`, every
    /// member in key order among the check's own values), so that a finding stored before
    /// keeps its version.
    #[test]
    fn typed_assignments_are_written_as_the_json_values_they_replace() {
        use crate::model::GrantSource;
        use serde_json::json;
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&chrono::Utc)).expect("instant");
        let typed = vec![
            AssignmentEvidence {
                entitlement: "Ärzte/Stationsleitung".into(),
                granted_at: Some(at("2025-12-05T09:00:00Z")),
                granted_by: Some("åsa.berg@example.com".into()),
                source: Some(GrantSource::Request),
                ..Default::default()
            },
            AssignmentEvidence {
                entitlement: "VPN \"all\"".into(),
                last_certified_at: Some(at("2025-03-31T00:00:00.250Z")),
                last_certified_by: Some("reviewer".into()),
                privileged: true,
                ..Default::default()
            },
            AssignmentEvidence { entitlement: "Wiki".into(), ..Default::default() },
        ];
        let as_values = json!([
            { "entitlement": "Ärzte/Stationsleitung", "granted_at": at("2025-12-05T09:00:00Z"), "granted_by": "åsa.berg@example.com", "source": GrantSource::Request },
            { "entitlement": "VPN \"all\"", "last_certified_at": at("2025-03-31T00:00:00.250Z"), "last_certified_by": "reviewer", "privileged": true },
            { "entitlement": "Wiki" },
        ]);
        // Members of the check's own that sort before, between and after the typed ones.
        let own = json!({ "changes": ["department Sales → Finance"], "days_since_move": 20, "department": null, "title": "Ärztin" });
        let own = own.as_object().cloned().expect("object");
        let typed = Evidence { values: own.clone(), assignments: typed, ..Evidence::default() };
        let mut values = own;
        values.insert("assignments".into(), as_values);
        values.insert("count".into(), json!(3));
        values.insert("entitlements".into(), json!(["Ärzte/Stationsleitung", "VPN \"all\"", "Wiki"]));
        let before = Evidence { values, ..Evidence::default() };
        let (typed_json, before_json) = (serde_json::to_string(&typed).expect("json"), serde_json::to_string(&before).expect("json"));
        assert_eq!(typed_json, before_json);
        for e in [&typed, &before] {
            let mut written = Vec::new();
            e.values_with_assignments().write_json(&mut written);
            assert_eq!(String::from_utf8(written).expect("utf-8"), serde_json::to_string(&before.values).expect("json"));
        }
        assert_eq!(typed.all_values(), before.values);
        // Without typed assignments, the values are written as they are.
        let plain = Evidence { values: typed.values.clone(), ..Evidence::default() };
        assert_eq!(serde_json::to_value(plain.values_with_assignments()).expect("json"), json!(typed.values));
    }

    #[test]
    fn severities_order_by_urgency() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
    }
}
