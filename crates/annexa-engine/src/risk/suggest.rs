//! What the latest evidence says about the register: for each risk, the residual likelihood
//! its linked checks' findings (or its driver's measure) point to, with the reasoning, when
//! that differs from what the register holds. Nothing here changes a risk; a person confirms
//! each suggestion (`annexa risk suggest --apply`).
//!
//! A quantified risk with a driver follows its measure through the matrix (12 leavers with
//! access at 0.05 events a year each is 0.6 a year). Any other risk follows the number of
//! open findings of its linked checks in the latest audit of each: none is likelihood 1,
//! 1–2 is 2, 3–9 is 3, 10–49 is 4, 50 or more is 5. A risk none of whose checks has run is
//! left alone: no evidence, no suggestion.

use super::{number, Driver, Measures, RiskMatrix};
use annexa_core::risk::{risk_label, Risk};
use serde::Serialize;

/// A proposed change of a risk's residual likelihood, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub risk: i64,
    pub label: String,
    pub title: String,
    /// The version of the risk it was computed from: applying it to a risk edited since is
    /// refused.
    pub version: i64,
    pub likelihood_from: u8,
    pub likelihood_to: u8,
    /// For a quantified risk without a driver: the frequency range of the new likelihood,
    /// so that the ranges and the rating keep agreeing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<(f64, f64)>,
    pub reasons: Vec<String>,
}

/// The likelihood `open` findings point to.
pub fn likelihood_from_findings(open: i64) -> u8 {
    match open {
        i64::MIN..=0 => 1,
        1..=2 => 2,
        3..=9 => 3,
        10..=49 => 4,
        _ => 5,
    }
}

/// Suggestions for `risks`, in their order.
pub fn suggest(risks: &[Risk], matrix: &RiskMatrix<'_>, measures: &Measures) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let run = measures.audit_run.map(|r| format!("audit run #{r}")).unwrap_or_else(|| "the latest audit".into());
    for risk in risks {
        let current = risk.residual.likelihood;
        let mut reasons = Vec::new();
        let mut frequency = None;
        let driver = risk.quantification.as_ref().and_then(|q| q.driver.as_deref().map(|d| (q, Driver::parse(d))));
        let to = match driver {
            Some((q, Ok(driver))) => {
                let Ok(value) = measures.value(&driver) else { continue };
                let typical = q.typical_frequency(value);
                let to = matrix.likelihood_of(typical);
                reasons.push(format!("{run} measured {}", measures.describe(&driver, value)));
                reasons.push(format!(
                    "at {}–{} events a year per unit that is typically {} events a year: likelihood {to} ({})",
                    number(q.frequency_low),
                    number(q.frequency_high),
                    number(typical),
                    matrix.describe_likelihood(to)
                ));
                to
            }
            Some((_, Err(_))) => continue,
            None => {
                let evaluated: Vec<&String> = risk.checks.iter().filter(|c| measures.evaluated.contains(*c)).collect();
                if evaluated.is_empty() {
                    continue;
                }
                let counts: Vec<(String, i64)> =
                    evaluated.iter().map(|c| ((*c).clone(), *measures.open_findings.get(*c).unwrap_or(&0))).collect();
                let total: i64 = counts.iter().map(|(_, n)| n).sum();
                let named: Vec<String> = counts.iter().filter(|(_, n)| *n > 0).map(|(c, n)| format!("{c} {n}")).collect();
                if named.is_empty() {
                    let names: Vec<&str> = counts.iter().map(|(c, _)| c.as_str()).collect();
                    reasons.push(format!("{run}: no open findings of {}", names.join(", ")));
                } else {
                    reasons.push(format!("{run}: {total} open finding(s) ({})", named.join(", ")));
                }
                let to = likelihood_from_findings(total);
                reasons.push(format!("{total} open finding(s) is likelihood {to} ({})", findings_band(to)));
                if let Some(q) = &risk.quantification {
                    let (lo, hi) = matrix.likelihood_band(to);
                    let hi = hi.unwrap_or(lo * 3.0);
                    if matrix.likelihood_of(q.typical_frequency(1.0)) != to {
                        frequency = Some((lo, hi));
                        reasons.push(format!("its frequency range becomes {}–{} events a year to match", number(lo), number(hi)));
                    }
                }
                to
            }
        };
        if risk.checks.iter().any(|c| c == "certification-overdue") {
            for (name, closed, items, revoked) in &measures.campaigns_closed {
                reasons.push(format!("campaign {name:?} closed on {closed}: {items} item(s) reviewed, {revoked} revoked"));
            }
        }
        if to != current {
            out.push(Suggestion {
                risk: risk.id,
                label: risk_label(risk.id),
                title: risk.title.clone(),
                version: risk.version,
                likelihood_from: current,
                likelihood_to: to,
                frequency,
                reasons,
            });
        }
    }
    out
}

fn findings_band(level: u8) -> &'static str {
    match level {
        1 => "none open",
        2 => "1 to 2 open",
        3 => "3 to 9 open",
        4 => "10 to 49 open",
        _ => "50 or more open",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RiskConfig;
    use crate::risk::library;

    fn measures(open: &[(&str, i64)]) -> Measures {
        let mut m = Measures { audit_run: Some(3), ..Default::default() };
        for (c, n) in open {
            m.evaluated.insert(c.to_string());
            m.open_findings.insert(c.to_string(), *n);
        }
        m
    }

    #[test]
    fn leavers_with_access_raise_former_staff_and_fido2_everywhere_lowers_takeover() {
        let config = RiskConfig::default();
        let matrix = RiskMatrix::new(&config);
        let mut former = library::get("former-staff-access").expect("in the library").to_risk("CISO");
        former.id = 1;
        former.residual.likelihood = 2;
        let mut takeover = library::get("account-takeover").expect("in the library").to_risk("CISO");
        takeover.id = 2;
        let mut m = measures(&[("leaver-access", 12)]);
        m.privileged_accounts = Some(40);
        m.privileged_without_phishing_resistant = 0;
        let s = suggest(&[former, takeover], &matrix, &m);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!((s[0].label.as_str(), s[0].likelihood_from, s[0].likelihood_to), ("R-1", 2, 3));
        assert_eq!(s[0].reasons[0], "audit run #3 measured 12 open leaver-access finding(s)");
        assert_eq!((s[1].label.as_str(), s[1].likelihood_from, s[1].likelihood_to), ("R-2", 4, 1));
        assert_eq!(s[1].reasons[0], "audit run #3 measured 0 % of 40 privileged account(s) without a phishing-resistant factor");
    }

    #[test]
    fn findings_counts_move_risks_without_a_driver_and_no_evidence_means_no_suggestion() {
        let config = RiskConfig::default();
        let matrix = RiskMatrix::new(&config);
        let mut creep = library::get("access-creep").expect("in the library").to_risk("CISO");
        creep.id = 5;
        creep.residual.likelihood = 4;
        // Boundaries of the findings bands.
        for (open, to) in [(0, 1), (1, 2), (2, 2), (3, 3), (9, 3), (10, 4), (49, 4), (50, 5)] {
            let s = suggest(std::slice::from_ref(&creep), &matrix, &measures(&[("certification-overdue", open)]));
            let got = s.first().map(|s| s.likelihood_to).unwrap_or(creep.residual.likelihood);
            assert_eq!(got, to, "{open} open");
        }
        let s = suggest(std::slice::from_ref(&creep), &matrix, &measures(&[("certification-overdue", 0)]));
        assert_eq!(s[0].frequency, Some((0.0, 0.1)), "the quantified range follows the new likelihood");
        assert!(suggest(&[creep], &matrix, &measures(&[("mfa-missing", 3)])).is_empty(), "none of its checks ran");
    }
}
