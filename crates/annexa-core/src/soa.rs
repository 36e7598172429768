//! The Statement of Applicability (ISO/IEC 27001 clause 6.1.3 d): for each of the 93 Annex A
//! controls, whether it applies and why, or why not, how far it is implemented and how,
//! who owns it, and what evidences it. What people record is a [`SoaEntry`]; what the SoA
//! shows is a [`SoaRow`], which adds what Annexa knows: the risks the control treats, the
//! automated checks that test it with their latest result, and the ledger entries that
//! prove it. The mandatory clauses 4 to 10 are listed in [`CLAUSES`]; they are not optional,
//! so only their implementation is recorded.

use crate::model::vocabulary;
use crate::time::Instant;
use serde::{Deserialize, Serialize};

vocabulary! {
    /// Why a control is included.
    InclusionReason { Regulatory = "regulatory" | "legal", Contractual = "contractual", BestPractice = "best-practice", RiskAssessment = "risk-assessment" | "risk" }
}

vocabulary! {
    /// How far a control is implemented.
    Implementation { NotStarted = "not-started", Partial = "partial", Implemented = "implemented" }
}

/// What people recorded about a control or a clause.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SoaEntry {
    /// `A.5.15`, or a clause (`6.1.2`).
    pub control: String,
    /// None until decided.
    pub applicable: Option<bool>,
    pub reasons: Vec<InclusionReason>,
    /// Why an excluded control does not apply (required to exclude one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Implementation>,
    /// How it is implemented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Documents by reference (an id, a title and version, a URL).
    pub documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// An automated check's latest result for a control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: String,
    /// `passed`, `failed`, `not evaluated` (it ran but could not judge) or `not run`.
    pub result: String,
    pub open_findings: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Instant>,
}

/// A ledger entry that evidences a row, and the signed checkpoint that covers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerReference {
    pub seq: u64,
    pub kind: String,
    /// The size of the first signed checkpoint that includes it (none yet: sign one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u64>,
}

/// A row of the Statement of Applicability, as shown and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoaRow {
    pub control: String,
    pub title: String,
    /// Organizational, People, Physical, Technological; `Clause` for clauses 4–10.
    pub theme: String,
    pub applicable: Option<bool>,
    pub reasons: Vec<InclusionReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The implementation status: from the latest audit for a control its checks test,
    /// otherwise as recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Implementation>,
    /// Where the status comes from: `audit run #4 (2026-12-01)`, `set by os:alice on
    /// 2026-11-30`, or `not set`.
    pub status_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Risks in the register the control treats (`R-3`).
    pub risks: Vec<String>,
    pub checks: Vec<CheckResult>,
    pub evidence: Vec<LedgerReference>,
    pub documents: Vec<String>,
    /// What Annexa itself holds that meets it (for a clause: the register, the audits, the
    /// ledger). Changes as they do, so it is not part of what a version approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    /// The approval that covers the row as it stands (`version 2, approved by E0001 on
    /// 2026-12-01`), or that it changed since (`changed since version 2, not yet approved`).
    /// Not part of what a version approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
}

/// The mandatory clauses of ISO/IEC 27001:2022, by number, each with a short title.
pub const CLAUSES: &[(&str, &str)] = &[
    ("4.1", "The organization and its context"),
    ("4.2", "Needs and expectations of interested parties"),
    ("4.3", "Scope of the ISMS"),
    ("4.4", "The information security management system"),
    ("5.1", "Leadership and commitment"),
    ("5.2", "Information security policy"),
    ("5.3", "Roles, responsibilities and authorities"),
    ("6.1.1", "Actions to address risks and opportunities"),
    ("6.1.2", "Information security risk assessment"),
    ("6.1.3", "Information security risk treatment"),
    ("6.2", "Information security objectives and planning"),
    ("6.3", "Planning of changes"),
    ("7.1", "Resources"),
    ("7.2", "Competence"),
    ("7.3", "Awareness"),
    ("7.4", "Communication"),
    ("7.5", "Documented information"),
    ("8.1", "Operational planning and control"),
    ("8.2", "Information security risk assessment (performed)"),
    ("8.3", "Information security risk treatment (performed)"),
    ("9.1", "Monitoring, measurement, analysis and evaluation"),
    ("9.2", "Internal audit"),
    ("9.3", "Management review"),
    ("10.1", "Continual improvement"),
    ("10.2", "Nonconformity and corrective action"),
];

/// The clause with this number.
pub fn clause(id: &str) -> Option<&'static (&'static str, &'static str)> {
    CLAUSES.iter().find(|(c, _)| *c == id.trim())
}
