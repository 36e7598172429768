//! The built-in library of identity risks: the risks every identity programme carries, each
//! with the Annex A controls that treat it, the checks whose findings show it happening, a
//! starting rating and ranges to quantify it. The ranges are deliberately wide starting
//! points for an organisation of a few thousand people; the risk owner narrows them.

use annexa_core::risk::{LossShape, Quantification, Rating, Risk, Treatment};

/// A risk of the library.
#[derive(Debug, Clone, Copy)]
pub struct LibraryRisk {
    pub key: &'static str,
    pub title: &'static str,
    pub asset: &'static str,
    pub threat: &'static str,
    pub vulnerability: &'static str,
    pub controls: &'static [&'static str],
    pub checks: &'static [&'static str],
    pub inherent: (u8, u8),
    /// Events a year (per unit of the driver, when there is one), and the driver.
    pub frequency: (f64, f64),
    pub driver: Option<&'static str>,
    /// Loss per event, a 90 % range, and its shape.
    pub loss: (f64, f64),
    pub shape: LossShape,
}

pub const LIBRARY: &[LibraryRisk] = &[
    LibraryRisk {
        key: "former-staff-access",
        title: "Unauthorised access by former staff",
        asset: "Business applications and the data in them",
        threat: "A former employee or contractor signs in with access that was never removed",
        vulnerability: "Leavers' accounts are not disabled when they leave",
        controls: &["A.5.16", "A.5.18", "A.6.5"],
        checks: &["leaver-access", "orphaned-account", "revocation-not-fulfilled"],
        inherent: (4, 4),
        frequency: (0.02, 0.08),
        driver: Some("open-findings:leaver-access"),
        loss: (25_000.0, 600_000.0),
        shape: LossShape::Lognormal,
    },
    LibraryRisk {
        key: "account-takeover",
        title: "Account takeover through weak authentication",
        asset: "Privileged and administrative accounts",
        threat: "An attacker phishes or guesses credentials and signs in as an administrator",
        vulnerability: "Privileged accounts without phishing-resistant MFA",
        controls: &["A.5.17", "A.8.5"],
        checks: &["privileged-weak-mfa", "mfa-missing", "stale-credential"],
        inherent: (4, 5),
        frequency: (0.5, 2.5),
        driver: Some("privileged-without-phishing-resistant-mfa"),
        loss: (100_000.0, 3_000_000.0),
        shape: LossShape::Lognormal,
    },
    LibraryRisk {
        key: "privilege-misuse",
        title: "Misuse of privileged access",
        asset: "Production systems and cloud accounts",
        threat: "An insider or a compromised admin uses standing privileges beyond their role",
        vulnerability: "Privileges held outside a separate admin account, root use, outliers",
        controls: &["A.8.2", "A.5.15"],
        checks: &["admin-not-separated", "root-account-use", "privilege-outlier"],
        inherent: (3, 4),
        frequency: (0.1, 0.5),
        driver: None,
        loss: (20_000.0, 800_000.0),
        shape: LossShape::Lognormal,
    },
    LibraryRisk {
        key: "sod-fraud",
        title: "Fraud through segregation-of-duties conflicts",
        asset: "Finance and procurement processes",
        threat: "One person creates and approves the same payment or vendor",
        vulnerability: "Conflicting entitlements held by the same person",
        controls: &["A.5.3"],
        checks: &["sod-conflict"],
        inherent: (3, 4),
        frequency: (0.01, 0.05),
        driver: Some("open-findings:sod-conflict"),
        loss: (50_000.0, 1_500_000.0),
        shape: LossShape::Lognormal,
    },
    LibraryRisk {
        key: "access-creep",
        title: "Unreviewed access creep",
        asset: "Business applications and the data in them",
        threat: "People keep access from earlier roles and use it, or it is abused in their name",
        vulnerability: "Access rights not reviewed at planned intervals; movers keep old access",
        controls: &["A.5.15", "A.5.18", "A.8.2"],
        checks: &["certification-overdue", "mover-residual-access", "unexplained-access", "dormant-account"],
        inherent: (4, 3),
        frequency: (0.2, 1.0),
        driver: None,
        loss: (10_000.0, 300_000.0),
        shape: LossShape::Lognormal,
    },
    LibraryRisk {
        key: "tampered-evidence",
        title: "Tampered audit evidence or logs",
        asset: "Audit logs and compliance evidence",
        threat: "Someone alters or deletes records to hide an action or pass an audit",
        vulnerability: "Logs and evidence that can be changed without trace",
        controls: &["A.8.15", "A.5.33"],
        checks: &["log-integrity"],
        inherent: (2, 4),
        frequency: (0.01, 0.05),
        driver: None,
        loss: (50_000.0, 500_000.0),
        shape: LossShape::Lognormal,
    },
    LibraryRisk {
        key: "physical-leaver-access",
        title: "Physical access kept by leavers",
        asset: "Offices, data rooms and the equipment in them",
        threat: "A former employee enters the premises with a badge that still works",
        vulnerability: "Badges not revoked when people leave; zones not reviewed",
        controls: &["A.7.2", "A.5.18"],
        checks: &["leaver-access"],
        inherent: (3, 3),
        frequency: (0.02, 0.1),
        driver: None,
        loss: (10_000.0, 400_000.0),
        shape: LossShape::Lognormal,
    },
];

/// The library risk with this key.
pub fn get(key: &str) -> Option<&'static LibraryRisk> {
    LIBRARY.iter().find(|r| r.key == key)
}

impl LibraryRisk {
    /// A new register entry from this library risk, owned by `owner`. Its residual rating
    /// starts as its inherent one; [`super::settle`] derives it from the ranges.
    pub fn to_risk(&self, owner: &str) -> Risk {
        let inherent = Rating { likelihood: self.inherent.0, impact: self.inherent.1 };
        Risk {
            id: 0,
            key: Some(self.key.to_string()),
            title: self.title.to_string(),
            asset: self.asset.to_string(),
            threat: self.threat.to_string(),
            vulnerability: self.vulnerability.to_string(),
            owner: owner.to_string(),
            inherent,
            residual: inherent,
            treatment: Treatment::Modify,
            plan: None,
            controls: self.controls.iter().map(|c| c.to_string()).collect(),
            checks: self.checks.iter().map(|c| c.to_string()).collect(),
            review_due: None,
            quantification: Some(Quantification {
                frequency_low: self.frequency.0,
                frequency_high: self.frequency.1,
                driver: self.driver.map(str::to_string),
                loss_low: self.loss.0,
                loss_high: self.loss.1,
                loss_most_likely: None,
                shape: self.shape,
            }),
            version: 0,
            updated_at: Default::default(),
            updated_by: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RiskConfig;
    use crate::risk::{settle, Given, Measures, RiskMatrix};

    #[test]
    fn every_library_risk_is_valid_and_names_real_controls_and_checks() {
        let config = RiskConfig::default();
        let m = RiskMatrix::new(&config);
        let mut measures = Measures::default();
        for r in LIBRARY {
            for c in r.checks {
                measures.evaluated.insert(c.to_string());
            }
        }
        measures.privileged_accounts = Some(10);
        let mut keys = std::collections::HashSet::new();
        for lib in LIBRARY {
            assert!(keys.insert(lib.key), "{} twice", lib.key);
            let mut r = lib.to_risk("CISO");
            let before = r.controls.clone();
            settle(&mut r, Given::default(), &m, &measures).unwrap_or_else(|e| panic!("{}: {e:?}", lib.key));
            assert_eq!(r.controls.len(), before.len(), "{}: every control is a 2022 id", lib.key);
            assert!(r.controls.iter().all(|c| before.contains(c)), "{}", lib.key);
        }
        assert_eq!(LIBRARY.len(), 7);
    }
}
