//! The risk register's logic: the matrix that gives likelihood and impact their meaning in
//! numbers, the rules a risk must meet before it is kept ([`settle`]), the built-in library
//! of identity risks ([`library`]), the changes the latest evidence suggests ([`suggest`]) and
//! the Monte Carlo quantification ([`simulate`]).
//!
//! A likelihood level is a band of events per year and an impact level a band of loss per
//! event (`[risk]` in `annexa.toml`). A quantified risk's ratings therefore follow from its
//! ranges: given without ratings, they are derived; given with ratings that fall in other
//! bands, the risk is refused. That is what keeps "high" on the heat map and the money in
//! the simulation from telling two different stories.

pub mod library;
pub mod simulate;
pub mod suggest;

use crate::config::RiskConfig;
use annexa_core::risk::{LossShape, Quantification, Rating, Risk, RiskLevel};
use std::collections::{BTreeMap, BTreeSet};

/// The configured 5×5 matrix.
#[derive(Debug, Clone, Copy)]
pub struct RiskMatrix<'c> {
    config: &'c RiskConfig,
}

impl<'c> RiskMatrix<'c> {
    pub fn new(config: &'c RiskConfig) -> RiskMatrix<'c> {
        RiskMatrix { config }
    }

    pub fn currency(&self) -> &str {
        &self.config.currency
    }

    /// The likelihood level of a frequency (events per year).
    pub fn likelihood_of(&self, per_year: f64) -> u8 {
        1 + self.config.likelihood_per_year.iter().filter(|t| per_year >= **t).count() as u8
    }

    /// The impact level of the loss of one event.
    pub fn impact_of(&self, loss: f64) -> u8 {
        1 + self.config.impact_loss.iter().filter(|t| loss >= **t).count() as u8
    }

    /// The level of a score (likelihood × impact).
    pub fn level(&self, score: u8) -> RiskLevel {
        let s = &self.config.level_scores;
        match s.iter().position(|limit| score <= *limit) {
            Some(0) => RiskLevel::Low,
            Some(1) => RiskLevel::Medium,
            Some(2) => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }

    pub fn level_of(&self, rating: Rating) -> RiskLevel {
        self.level(rating.score())
    }

    /// Events per year of likelihood `level`: from, and up to (none for 5).
    pub fn likelihood_band(&self, level: u8) -> (f64, Option<f64>) {
        band(&self.config.likelihood_per_year, level)
    }

    /// Loss per event of impact `level`: from, and up to (none for 5).
    pub fn impact_band(&self, level: u8) -> (f64, Option<f64>) {
        band(&self.config.impact_loss, level)
    }

    /// "0.3 to 1 events a year".
    pub fn describe_likelihood(&self, level: u8) -> String {
        match self.likelihood_band(level) {
            (0.0, Some(hi)) => format!("under {} events a year", number(hi)),
            (lo, Some(hi)) => format!("{} to {} events a year", number(lo), number(hi)),
            (lo, None) => format!("{} or more events a year", number(lo)),
        }
    }

    /// "50,000 to 250,000 EUR an event".
    pub fn describe_impact(&self, level: u8) -> String {
        let c = self.currency();
        match self.impact_band(level) {
            (0.0, Some(hi)) => format!("under {} {c} an event", money(hi)),
            (lo, Some(hi)) => format!("{} to {} {c} an event", money(lo), money(hi)),
            (lo, None) => format!("{} {c} or more an event", money(lo)),
        }
    }
}

fn band(thresholds: &[f64], level: u8) -> (f64, Option<f64>) {
    let i = usize::from(level.clamp(1, 5)) - 1;
    let lo = if i == 0 { 0.0 } else { thresholds.get(i - 1).copied().unwrap_or(0.0) };
    (lo, thresholds.get(i).copied())
}

/// A number as people write it: `0.3`, `12`, `2.5`.
pub fn number(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An amount with thousands separators, no decimals: `250,000`.
pub fn money(x: f64) -> String {
    let whole = x.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 {
        out.insert(0, '-');
    }
    out
}

/// What a quantified risk's frequency can be scaled by: a measure of the latest audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Driver {
    /// The number of open findings of a check: the frequency range is per finding.
    OpenFindings(String),
    /// The share of privileged accounts with no phishing-resistant factor.
    PrivilegedWithoutPhishingResistantMfa,
    /// The share of interactive accounts with no second factor.
    AccountsWithoutMfa,
}

impl Driver {
    pub const EXPECTED: &'static str = "open-findings:CHECK, privileged-without-phishing-resistant-mfa or accounts-without-mfa";

    pub fn parse(s: &str) -> Result<Driver, String> {
        let s = s.trim();
        if let Some(check) = s.strip_prefix("open-findings:") {
            if crate::checks::check(check).is_none() {
                return Err(format!("driver {s:?}: {check:?} is not a built-in check"));
            }
            return Ok(Driver::OpenFindings(check.to_string()));
        }
        match s {
            "privileged-without-phishing-resistant-mfa" => Ok(Driver::PrivilegedWithoutPhishingResistantMfa),
            "accounts-without-mfa" => Ok(Driver::AccountsWithoutMfa),
            _ => Err(format!("driver {s:?} is not a measure: expected {}", Driver::EXPECTED)),
        }
    }
}

/// What the latest audit measured, that risks follow: open findings per check, which checks
/// the latest audit evaluated, and the shares of its posture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measures {
    /// When the latest audit ran (none before the first).
    pub audit_run: Option<i64>,
    pub open_findings: BTreeMap<String, i64>,
    /// Checks the latest audit of each ran and could judge.
    pub evaluated: BTreeSet<String>,
    /// Privileged, enabled, interactive accounts; and how many of them have no
    /// phishing-resistant factor.
    pub privileged_accounts: Option<u64>,
    pub privileged_without_phishing_resistant: u64,
    /// Enabled interactive accounts whose factors are known; how many have no second one.
    pub accounts_with_known_mfa: Option<u64>,
    pub accounts_without_mfa: u64,
    /// Access certification campaigns closed in the last year: (name, closed on, items,
    /// revoked).
    pub campaigns_closed: Vec<(String, String, u64, u64)>,
}

impl Measures {
    /// The driver's current value, or why it has none (no audit has measured it yet).
    pub fn value(&self, driver: &Driver) -> Result<f64, String> {
        let share = |part: u64, whole: Option<u64>, what: &str| match whole {
            None => Err(format!("no audit has measured {what} yet")),
            Some(0) => Ok(0.0),
            Some(n) => Ok(part as f64 / n as f64),
        };
        match driver {
            Driver::OpenFindings(check) => {
                if self.evaluated.contains(check) {
                    Ok(*self.open_findings.get(check).unwrap_or(&0) as f64)
                } else {
                    Err(format!("no audit has evaluated {check} yet"))
                }
            }
            Driver::PrivilegedWithoutPhishingResistantMfa => {
                share(self.privileged_without_phishing_resistant, self.privileged_accounts, "privileged accounts' MFA")
            }
            Driver::AccountsWithoutMfa => share(self.accounts_without_mfa, self.accounts_with_known_mfa, "accounts' MFA"),
        }
    }

    /// How a driver's value reads: "12 open leaver-access findings", "40 % of 25 privileged
    /// accounts".
    pub fn describe(&self, driver: &Driver, value: f64) -> String {
        match driver {
            Driver::OpenFindings(check) => format!("{} open {check} finding(s)", value as i64),
            Driver::PrivilegedWithoutPhishingResistantMfa => format!(
                "{} % of {} privileged account(s) without a phishing-resistant factor",
                number(value * 100.0),
                self.privileged_accounts.unwrap_or(0)
            ),
            Driver::AccountsWithoutMfa => {
                format!("{} % of {} account(s) without a second factor", number(value * 100.0), self.accounts_with_known_mfa.unwrap_or(0))
            }
        }
    }
}

/// Which ratings the person gave, rather than leaving them to the ranges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    pub residual_likelihood: bool,
    pub residual_impact: bool,
}

/// Checks a risk before it is kept, and completes it: its controls become 2022 ids, a
/// quantified risk's residual ratings are derived from its ranges where not given, and
/// refused where given but in another band. Every problem is reported at once.
pub fn settle(risk: &mut Risk, given: Given, matrix: &RiskMatrix<'_>, measures: &Measures) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (what, text) in [
        ("a title", &risk.title),
        ("an asset", &risk.asset),
        ("a threat", &risk.threat),
        ("a vulnerability", &risk.vulnerability),
        ("an owner", &risk.owner),
    ] {
        if text.trim().is_empty() {
            problems.push(format!("{what} is required"));
        }
    }
    for (what, r) in [("inherent", risk.inherent), ("residual", risk.residual)] {
        for (name, v) in [("likelihood", r.likelihood), ("impact", r.impact)] {
            if !(1..=5).contains(&v) {
                problems.push(format!("{what} {name} {v} is not on the matrix: expected 1 to 5"));
            }
        }
    }
    let catalog = annexa_core::catalog::Catalog::get();
    let mut controls = Vec::new();
    for c in &risk.controls {
        match catalog.resolve(c).as_slice() {
            [one] => controls.push(one.id.clone()),
            [] => problems.push(format!("{c:?} is not an Annex A control (2022 or 2013 id)")),
            many => {
                let ids: Vec<&str> = many.iter().map(|x| x.id.as_str()).collect();
                problems.push(format!("{c} maps to several 2022 controls ({}): name one", ids.join(", ")));
            }
        }
    }
    controls.sort();
    controls.dedup();
    risk.controls = controls;
    for check in &risk.checks {
        if crate::checks::check(check).is_none() {
            problems.push(format!("{check:?} is not a built-in check"));
        }
    }
    risk.checks.sort();
    risk.checks.dedup();
    if let Some(q) = &risk.quantification {
        problems.extend(quantification_problems(q));
        if problems.is_empty() {
            let driver_value = match q.driver.as_deref().map(Driver::parse) {
                None => Some(1.0),
                Some(Ok(d)) => measures.value(&d).ok(),
                Some(Err(e)) => {
                    problems.push(e);
                    None
                }
            };
            if let Some(value) = driver_value {
                let frequency = q.typical_frequency(value);
                let likelihood = matrix.likelihood_of(frequency);
                if !given.residual_likelihood {
                    risk.residual.likelihood = likelihood;
                } else if risk.residual.likelihood != likelihood {
                    problems.push(format!(
                        "residual likelihood {} ({}) contradicts the frequency range: its typical {} events a year is likelihood {likelihood} ({}); leave the likelihood out to derive it, or change the range",
                        risk.residual.likelihood,
                        matrix.describe_likelihood(risk.residual.likelihood),
                        number(frequency),
                        matrix.describe_likelihood(likelihood)
                    ));
                }
            }
            let loss = q.typical_loss();
            let impact = matrix.impact_of(loss);
            if !given.residual_impact {
                risk.residual.impact = impact;
            } else if risk.residual.impact != impact {
                problems.push(format!(
                    "residual impact {} ({}) contradicts the loss range: its typical loss of {} {} is impact {impact} ({}); leave the impact out to derive it, or change the range",
                    risk.residual.impact,
                    matrix.describe_impact(risk.residual.impact),
                    money(loss),
                    matrix.currency(),
                    matrix.describe_impact(impact)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn quantification_problems(q: &Quantification) -> Vec<String> {
    let mut out = Vec::new();
    let finite =
        [q.frequency_low, q.frequency_high, q.loss_low, q.loss_high, q.loss_most_likely.unwrap_or(1.0)].iter().all(|x| x.is_finite());
    if !finite {
        return vec!["the ranges must be numbers".into()];
    }
    if q.frequency_low < 0.0 || q.frequency_high < q.frequency_low || q.frequency_high == 0.0 {
        out.push(format!(
            "frequency {}–{} is not a range of events a year: expected 0 ≤ low ≤ high, high above 0 (e.g. 0.2-2)",
            number(q.frequency_low),
            number(q.frequency_high)
        ));
    }
    if q.loss_low <= 0.0 || q.loss_high <= q.loss_low {
        out.push(format!(
            "loss {}–{} is not a range of loss per event: expected 0 < low < high (e.g. 10000-250000)",
            money(q.loss_low),
            money(q.loss_high)
        ));
    }
    if let Some(m) = q.loss_most_likely {
        if q.shape == LossShape::Lognormal {
            out.push("a most likely loss applies to the PERT shape only (a lognormal's is its range's geometric mean)".into());
        } else if m < q.loss_low || m > q.loss_high {
            out.push(format!("the most likely loss {} is outside the range {}–{}", money(m), money(q.loss_low), money(q.loss_high)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use annexa_core::risk::Treatment;

    fn risk() -> Risk {
        Risk {
            id: 0,
            key: None,
            title: "t".into(),
            asset: "a".into(),
            threat: "th".into(),
            vulnerability: "v".into(),
            owner: "o".into(),
            inherent: Rating { likelihood: 4, impact: 4 },
            residual: Rating { likelihood: 4, impact: 4 },
            treatment: Treatment::Retain,
            plan: None,
            controls: vec!["A.9.2.6".into()],
            checks: vec!["leaver-access".into()],
            review_due: None,
            quantification: None,
            version: 0,
            updated_at: Default::default(),
            updated_by: String::new(),
        }
    }

    #[test]
    fn bands_and_levels_follow_the_configuration() {
        let config = RiskConfig::default();
        let m = RiskMatrix::new(&config);
        // Boundaries: a threshold begins the next level.
        let cases = [(0.0, 1), (0.099, 1), (0.1, 2), (0.29, 2), (0.3, 3), (1.0, 4), (2.9, 4), (3.0, 5), (100.0, 5)];
        for (f, level) in cases {
            assert_eq!(m.likelihood_of(f), level, "{f} a year");
        }
        assert_eq!(m.impact_of(9_999.0), 1);
        assert_eq!(m.impact_of(10_000.0), 2);
        assert_eq!(m.impact_of(1_000_000.0), 5);
        let levels: Vec<RiskLevel> = [1, 4, 5, 9, 10, 16, 17, 25].iter().map(|s| m.level(*s)).collect();
        use RiskLevel::*;
        assert_eq!(levels, [Low, Low, Medium, Medium, High, High, Critical, Critical]);
        assert_eq!(m.describe_likelihood(1), "under 0.1 events a year");
        assert_eq!(m.describe_impact(3), "50,000 to 250,000 EUR an event");
        assert_eq!(m.describe_impact(5), "1,000,000 EUR or more an event");
    }

    #[test]
    fn a_quantified_risk_derives_its_ratings_and_refuses_contradicting_ones() {
        let config = RiskConfig::default();
        let m = RiskMatrix::new(&config);
        let mut r = risk();
        r.quantification = Some(Quantification {
            frequency_low: 0.2,
            frequency_high: 0.6,
            driver: None,
            loss_low: 20_000.0,
            loss_high: 500_000.0,
            loss_most_likely: None,
            shape: LossShape::Lognormal,
        });
        settle(&mut r, Given::default(), &m, &Measures::default()).expect("valid");
        // 0.4 a year is likelihood 3; the median loss 100,000 is impact 3.
        assert_eq!(r.residual, Rating { likelihood: 3, impact: 3 });
        assert_eq!(r.controls, ["A.5.18"], "a 2013 id becomes its 2022 control");
        r.residual.likelihood = 5;
        let err = settle(&mut r, Given { residual_likelihood: true, residual_impact: false }, &m, &Measures::default()).unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err[0].starts_with("residual likelihood 5 (3 or more events a year) contradicts the frequency range: its typical 0.4 events a year is likelihood 3"), "{err:?}");
    }

    #[test]
    fn a_driver_scales_the_frequency_by_what_the_audit_measured() {
        let config = RiskConfig::default();
        let m = RiskMatrix::new(&config);
        let mut r = risk();
        r.quantification = Some(Quantification {
            frequency_low: 0.05,
            frequency_high: 0.15,
            driver: Some("open-findings:leaver-access".into()),
            loss_low: 20_000.0,
            loss_high: 500_000.0,
            loss_most_likely: None,
            shape: LossShape::Lognormal,
        });
        let mut measures = Measures::default();
        measures.evaluated.insert("leaver-access".into());
        measures.open_findings.insert("leaver-access".into(), 12);
        settle(&mut r, Given::default(), &m, &measures).expect("valid");
        assert_eq!(r.residual.likelihood, 4, "12 leavers at 0.1 a year each is 1.2 a year");
        measures.open_findings.insert("leaver-access".into(), 0);
        settle(&mut r, Given::default(), &m, &measures).expect("valid");
        assert_eq!(r.residual.likelihood, 1);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let config = RiskConfig::default();
        let m = RiskMatrix::new(&config);
        let mut r = risk();
        r.owner = " ".into();
        r.inherent.likelihood = 6;
        r.controls = vec!["A.99".into()];
        r.checks = vec!["no-such-check".into()];
        r.quantification = Some(Quantification {
            frequency_low: 2.0,
            frequency_high: 1.0,
            driver: None,
            loss_low: 0.0,
            loss_high: 5.0,
            loss_most_likely: None,
            shape: LossShape::Pert,
        });
        let err = settle(&mut r, Given::default(), &m, &Measures::default()).unwrap_err();
        assert_eq!(err.len(), 6, "{err:#?}");
    }
}
