//! Risks as the risk register keeps them (ISO/IEC 27001 clause 6.1.2, ISO/IEC 27005 style):
//! what is at risk and how, its likelihood and impact on a 5×5 matrix before and after
//! treatment, the treatment chosen, the controls and checks it rests on, and optionally the
//! ranges that quantify it in money (frequency of events per year, loss per event).
//!
//! The matrix itself (what each likelihood and impact level means in events per year and
//! in money, and which scores make which level) is configuration: see
//! `annexa_engine::risk::RiskMatrix`.

use crate::model::vocabulary;
use crate::time::Instant;
use serde::{Deserialize, Serialize};

vocabulary! {
    /// How a risk is treated (ISO/IEC 27005): reduced by controls, retained as it is,
    /// avoided by stopping the activity, or shared (insurance, a supplier).
    Treatment { Modify = "modify" | "mitigate" | "reduce", Retain = "retain" | "accept", Avoid = "avoid", Share = "share" | "transfer" }
}

vocabulary! {
    /// A risk's level, from its score on the matrix. Ordered: `Low < Medium < High < Critical`.
    RiskLevel { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
}

vocabulary! {
    /// The distribution of the loss of one event, fitted to its range: PERT between the
    /// range's ends around the most likely loss, or a lognormal whose 5th and 95th
    /// percentiles are the range's ends.
    LossShape { Pert = "pert", Lognormal = "lognormal" | "log-normal" }
}

/// A likelihood and an impact, each 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub likelihood: u8,
    pub impact: u8,
}

impl Rating {
    /// Likelihood times impact: 1 to 25.
    pub fn score(self) -> u8 {
        self.likelihood * self.impact
    }
}

/// The ranges that put a risk in money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantification {
    /// Events per year: each simulated year draws its rate uniformly from this range.
    pub frequency_low: f64,
    pub frequency_high: f64,
    /// A measure from the latest audit that scales the frequency (the range is then per
    /// unit of it): `open-findings:CHECK` (per open finding of a check), or a share from
    /// the audit's posture (`privileged-without-phishing-resistant-mfa`,
    /// `accounts-without-mfa`), the range being the frequency at 100 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Loss per event, a 90 % range (PERT: its ends).
    pub loss_low: f64,
    pub loss_high: f64,
    /// The most likely loss of one event (PERT only; by default the range's geometric mean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_most_likely: Option<f64>,
    pub shape: LossShape,
}

impl Quantification {
    /// The loss of a typical event: the PERT's most likely value, the lognormal's median.
    pub fn typical_loss(&self) -> f64 {
        let geometric_mean = (self.loss_low * self.loss_high).sqrt();
        match self.shape {
            LossShape::Pert => self.loss_most_likely.unwrap_or(geometric_mean),
            LossShape::Lognormal => geometric_mean,
        }
    }

    /// The typical number of events per year, given the driver's measured value (1 when
    /// the risk has no driver).
    pub fn typical_frequency(&self, driver_value: f64) -> f64 {
        (self.frequency_low + self.frequency_high) / 2.0 * driver_value
    }
}

/// A risk in the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    /// Shown as `R-<id>`.
    pub id: i64,
    /// The built-in library risk it was added from, which `annexa risk suggest` recognises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub title: String,
    pub asset: String,
    pub threat: String,
    pub vulnerability: String,
    pub owner: String,
    /// Before any treatment.
    pub inherent: Rating,
    /// As it stands with the treatment in place.
    pub residual: Rating,
    pub treatment: Treatment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Annex A controls (2022 ids) that treat it.
    pub controls: Vec<String>,
    /// Built-in checks whose findings show it happening.
    pub checks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantification: Option<Quantification>,
    /// Counts edits: an edit names the version it changes, so two people's edits do not
    /// silently overwrite each other.
    pub version: i64,
    pub updated_at: Instant,
    pub updated_by: String,
}

/// `R-7` for risk 7.
pub fn risk_label(id: i64) -> String {
    format!("R-{id}")
}

/// A risk's number from `R-7` or `7`.
pub fn parse_risk_label(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s.strip_prefix("R-").or_else(|| s.strip_prefix("r-")).unwrap_or(s);
    digits.parse().ok().filter(|n| *n > 0)
}
