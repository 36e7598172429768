//! Access certification: what a campaign reviews (its items, with the context a reviewer
//! sees and a recommendation), and the proof of the population it covered. The engine draws
//! the population (`annexa_engine::campaign`); the store keeps it.

use crate::model::Origin;
use crate::time::Instant;
use serde::Serialize;

/// Whether an item is an entitlement assignment, a badge's door zone, or an account whose
/// very existence is revalidated (its `entitlement` is empty; revoking disables it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    Assignment,
    BadgeZone,
    Account,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Assignment => "assignment",
            ItemKind::BadgeZone => "badge-zone",
            ItemKind::Account => "account",
        }
    }
}

/// What the item's context suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Recommendation {
    Certify,
    Revoke,
}

impl Recommendation {
    pub fn as_str(self) -> &'static str {
        match self {
            Recommendation::Certify => "certify",
            Recommendation::Revoke => "revoke",
        }
    }
}

/// One thing to review: access of one account (or badge) to one entitlement (or zone).
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub kind: ItemKind,
    pub system: String,
    /// The account id, or the badge id.
    pub account_id: String,
    /// The entitlement, or the zone.
    pub entitlement: String,
    /// Whose access it is (the person the account belongs to).
    pub employee_id: Option<String>,
    pub holder: String,
    pub privileged: bool,
    pub last_used_at: Option<Instant>,
    pub granted_at: Option<Instant>,
    pub last_certified_at: Option<Instant>,
    pub origin: Origin,
    pub reviewer: Option<String>,
    /// Why this reviewer: `manager`, `entitlement-owner`, `system-owner`, `named`,
    /// `manager (self-review)`, `fallback (…)`.
    pub reviewer_basis: String,
    pub open_findings: u32,
    /// The SoD rules this access is part of a conflict under.
    pub sod_rules: Vec<String>,
    /// Share (0–1) of the person's peers (same department and title) holding it, and how
    /// many peers there are.
    pub peer_share: Option<f64>,
    pub peers: u32,
    pub recommendation: Recommendation,
    pub recommendation_reason: String,
}

impl ReviewItem {
    /// The key of the access reviewed: `system/account/entitlement`.
    pub fn key(&self) -> String {
        crate::key::join(&[&self.system, &self.account_id, &self.entitlement])
    }
}

/// How the population relates to one import it was drawn from.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportCount {
    pub import_id: i64,
    /// Records (assignments, or badge zones) the import holds that are current.
    pub read: u64,
    pub in_scope: u64,
    /// Of an account that is disabled, or a badge that is inactive: nothing to review.
    pub inactive: u64,
    /// Outside the scope's terms.
    pub out_of_scope: u64,
}

/// The population as a whole: its proof.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Population {
    pub items: u64,
    /// SHA-256 of the items' keys in item order, one per line.
    pub hash: String,
    pub imports: Vec<ImportCount>,
    /// Items no strategy and no fallback could give a reviewer.
    pub without_reviewer: u64,
}

/// A revocation decided in a campaign and not yet seen carried out: what the audits check
/// (`revocation-not-fulfilled`) and verify.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revocation {
    pub item: i64,
    pub campaign: i64,
    pub kind: ItemKind,
    pub system: String,
    pub account_id: String,
    pub entitlement: String,
    pub holder: String,
    pub decided_at: Instant,
    /// The provisioning task that carries it out.
    pub task: Option<i64>,
}
