//! The programme's charts, from the report's figures: the auditor's report and the server's
//! dashboard draw the same ones, so that what the compliance lead watches is what the
//! auditor reads. Each is one inline SVG (see [`crate::svg`]), or `None` when there is
//! nothing to draw yet.

use crate::auditor::AuditorReport;
use crate::svg::{self, Segment};
use annexa_core::posture::Strength;

/// The colour of a heat-map cell, by where its score falls among the level thresholds.
pub fn level_colour(level_scores: &[u8], l: u8, i: u8) -> &'static str {
    let score = l * i;
    match level_scores.iter().position(|s| score <= *s) {
        Some(0) => "#c6efce",
        Some(1) => "#ffeb9c",
        Some(2) => "#f4b183",
        _ => "#ff8080",
    }
}

fn strength_segments(s: &Strength) -> Vec<Segment> {
    let seg = |name: &str, value: u64, colour: &'static str| Segment { name: name.to_string(), value: value as f64, colour };
    vec![
        seg("FIDO2/WebAuthn", s.phishing_resistant, "#2e7d32"),
        seg("push", s.push, "#7cb342"),
        seg("TOTP", s.totp, "#c0ca33"),
        seg("MFA (factor not named)", s.unspecified, "#fdd835"),
        seg("SMS/e-mail", s.sms, "#fb8c00"),
        seg("password only", s.none, "#c62828"),
        seg("not reported", s.unknown, "#bdbdbd"),
    ]
}

/// The share of accounts whose factors are known that are on FIDO2/WebAuthn, in percent.
pub fn fido2_share(s: &Strength) -> f64 {
    if s.known() == 0 {
        0.0
    } else {
        100.0 * s.phishing_resistant as f64 / s.known() as f64
    }
}

/// Annex A controls by theme and implementation status (from the SoA).
pub fn posture_by_theme(r: &AuditorReport) -> String {
    let counts = crate::soa::theme_counts(&r.soa_controls);
    let bars: Vec<(String, Vec<Segment>)> = counts
        .iter()
        .map(|(theme, n)| {
            let undecided_or_unset = n[0] - n[2] - n[4] - n[5] - n[6];
            (
                theme.clone(),
                vec![
                    Segment { name: "implemented".into(), value: n[4] as f64, colour: "#66bb6a" },
                    Segment { name: "partial".into(), value: n[5] as f64, colour: "#ffca28" },
                    Segment { name: "not started".into(), value: n[6] as f64, colour: "#ef5350" },
                    Segment { name: "status not set".into(), value: undecided_or_unset as f64, colour: "#e0e0e0" },
                    Segment { name: "excluded".into(), value: n[2] as f64, colour: "#9e9e9e" },
                ],
            )
        })
        .collect();
    svg::stacked_shares("Annex A controls by theme and implementation status", &bars)
}

/// Enabled interactive accounts by their strongest factor, all and privileged.
pub fn authentication_strength(r: &AuditorReport) -> Option<String> {
    let p = r.posture.as_ref()?;
    let bars = vec![
        ("All accounts".to_string(), strength_segments(&p.accounts)),
        ("Privileged accounts".to_string(), strength_segments(&p.privileged)),
    ];
    Some(svg::stacked_shares("Accounts by strongest authentication factor", &bars))
}

/// The share on FIDO2/WebAuthn per audit run, all and privileged accounts (two runs at least).
pub fn fido2_over_time(r: &AuditorReport) -> Option<String> {
    if r.posture_trend.len() < 2 {
        return None;
    }
    let labels: Vec<String> = r.posture_trend.iter().map(|(run, day, _)| format!("#{run} {day}")).collect();
    let all: Vec<f64> = r.posture_trend.iter().map(|(_, _, p)| fido2_share(&p.accounts)).collect();
    let privileged: Vec<f64> = r.posture_trend.iter().map(|(_, _, p)| fido2_share(&p.privileged)).collect();
    Some(svg::lines(
        "Share on FIDO2/WebAuthn over time (%)",
        &labels,
        &[("all accounts".into(), "#1565c0", all), ("privileged".into(), "#2e7d32", privileged)],
    ))
}

/// Open, new and resolved findings per audit run.
pub fn findings_over_time(r: &AuditorReport) -> Option<String> {
    if r.trend.is_empty() {
        return None;
    }
    let labels: Vec<String> = r.trend.iter().map(|t| format!("#{} {}", t.id, t.as_of)).collect();
    let series = [
        ("open".to_string(), "#c62828", r.trend.iter().map(|t| t.open as f64).collect()),
        ("new".to_string(), "#fb8c00", r.trend.iter().map(|t| t.new as f64).collect()),
        ("resolved".to_string(), "#2e7d32", r.trend.iter().map(|t| t.resolved as f64).collect()),
    ];
    Some(svg::lines("Open, new and resolved findings per audit run", &labels, &series))
}

/// The register's risks placed by residual likelihood and impact.
pub fn risk_heat_map(r: &AuditorReport) -> Option<String> {
    if r.risks.is_empty() {
        return None;
    }
    let placed: Vec<(String, u8, u8)> = r.risks.iter().map(|x| (x.label.clone(), x.residual.0, x.residual.1)).collect();
    let scores = r.level_scores.clone();
    Some(svg::heat_map("Residual risk heat map (likelihood by impact)", &move |l, i| level_colour(&scores, l, i), &placed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auditor::{RiskLine, RunLine};

    #[test]
    fn nothing_to_draw_is_no_chart() {
        let r = AuditorReport::default();
        assert!(authentication_strength(&r).is_none() && fido2_over_time(&r).is_none());
        assert!(findings_over_time(&r).is_none() && risk_heat_map(&r).is_none());
        assert!(posture_by_theme(&r).starts_with("<svg"), "the SoA's themes are drawn even when empty");
    }

    #[test]
    fn charts_carry_their_figures() {
        let r = AuditorReport {
            trend: vec![RunLine { id: 1, as_of: "2026-12-01".into(), open: 40, new: 40, resolved: 0 }],
            risks: vec![RiskLine { label: "R-7".into(), residual: (4, 5), ..Default::default() }],
            level_scores: vec![4, 9, 16],
            ..Default::default()
        };
        let trend = findings_over_time(&r).expect("a trend");
        assert!(trend.contains("#1 2026-12-01") && trend.contains("role=\"img\""), "{trend}");
        let heat = risk_heat_map(&r).expect("a heat map");
        assert!(heat.contains("R-7") && heat.contains("#ff8080"), "4×5 = 20 is past the high threshold: {heat}");
        assert!(!heat.contains("style="), "no inline style: the server's pages forbid it");
    }
}
