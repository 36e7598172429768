//! The catalogue of built-in checks: id, what it finds, the controls it evidences.

use annexa_core::finding::Severity;

/// A built-in check's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    /// Annex A controls a finding of this check evidences.
    pub controls: &'static [&'static str],
    pub default_severity: Severity,
    /// One paragraph: what it finds and why it matters.
    pub description: &'static str,
}

/// Every built-in check, in the order they run and are reported.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "orphaned-account",
        title: "Orphaned account",
        controls: &["A.5.16", "A.5.18"],
        default_severity: Severity::High,
        description: "An enabled personal account that no HR record explains and no active person owns: nobody \
                      answers for it, and nobody will remove it.",
    },
    CheckDef {
        id: "leaver-access",
        title: "Leaver still has access",
        controls: &["A.5.18", "A.6.5", "A.7.2"],
        default_severity: Severity::Critical,
        description: "A person who left still has an enabled account or an active badge after the leaver SLA.",
    },
    CheckDef {
        id: "dormant-account",
        title: "Dormant account",
        controls: &["A.5.18", "A.8.2"],
        default_severity: Severity::Medium,
        description: "An enabled account not used for N days, or never used and older than N days.",
    },
    CheckDef {
        id: "mfa-missing",
        title: "MFA missing",
        controls: &["A.5.17", "A.8.5"],
        default_severity: Severity::High,
        description: "An interactive human account with no second factor registered.",
    },
    CheckDef {
        id: "privileged-weak-mfa",
        title: "Privileged access without phishing-resistant MFA",
        controls: &["A.8.2", "A.8.5"],
        default_severity: Severity::High,
        description: "An account with privileged access whose factors do not include FIDO2/WebAuthn (or a smart card).",
    },
    CheckDef {
        id: "stale-credential",
        title: "Stale credential",
        controls: &["A.5.17", "A.8.5"],
        default_severity: Severity::Medium,
        description: "An active access key or token not rotated for N days, or active and never used N days after \
                      issue; password age only where the organisation sets a maximum.",
    },
    CheckDef {
        id: "root-account-use",
        title: "Cloud root account in use",
        controls: &["A.8.2"],
        default_severity: Severity::Critical,
        description: "A cloud root account with active access keys, or used in the last N days.",
    },
    CheckDef {
        id: "sod-conflict",
        title: "Segregation-of-duties conflict",
        controls: &["A.5.3"],
        default_severity: Severity::High,
        description: "A person holds entitlements that a segregation-of-duties rule says must not be held together, \
                      across all of their accounts.",
    },
    CheckDef {
        id: "shared-account",
        title: "Shared or generic account",
        controls: &["A.5.16"],
        default_severity: Severity::Medium,
        description: "An enabled account with no person behind it, a generic name or shared type, and no owner.",
    },
    CheckDef {
        id: "service-account-no-owner",
        title: "Service account without an owner",
        controls: &["A.5.9", "A.5.16"],
        default_severity: Severity::Medium,
        description: "An enabled service account without an accountable owner who is an active person.",
    },
    CheckDef {
        id: "admin-not-separated",
        title: "Admin rights on an everyday account",
        controls: &["A.8.2"],
        default_severity: Severity::High,
        description: "Privileged entitlements held by a person's everyday (human) account instead of a separate admin account.",
    },
    CheckDef {
        id: "certification-overdue",
        title: "Access certification overdue",
        controls: &["A.5.18"],
        default_severity: Severity::Medium,
        description: "An assignment not certified within its interval (privileged 90 days, other 365 days).",
    },
    CheckDef {
        id: "mover-residual-access",
        title: "Mover kept old access",
        controls: &["A.5.18"],
        default_severity: Severity::Medium,
        description: "A person who moved (department, title or location) still holds birthright access of their \
                      old position after the grace period, access no rule gives them now.",
    },
    CheckDef {
        id: "mover-access-review",
        title: "Mover's access not reviewed",
        controls: &["A.5.18", "A.5.15"],
        default_severity: Severity::Low,
        description: "A person who moved still holds access granted on request before the move, which the new \
                      position does not give, and nobody has reviewed it since the move.",
    },
    CheckDef {
        id: "unexplained-access",
        title: "Unexplained access",
        controls: &["A.5.15", "A.5.18"],
        default_severity: Severity::Medium,
        description: "An assignment that no role, birthright rule or approved request explains.",
    },
    CheckDef {
        id: "privilege-outlier",
        title: "Privilege outlier",
        controls: &["A.8.2", "A.5.15"],
        default_severity: Severity::Low,
        description: "A person with far more privileged entitlements than their peers (same department and title).",
    },
    CheckDef {
        id: "contractor-no-end-date",
        title: "Contractor without an end date",
        controls: &["A.5.16", "A.6.1"],
        default_severity: Severity::Medium,
        description: "An active contractor or vendor with no end date, or past it.",
    },
    CheckDef {
        id: "revocation-not-fulfilled",
        title: "Revocation not carried out",
        controls: &["A.5.18"],
        default_severity: Severity::High,
        description: "Access a reviewer revoked in a certification campaign that an import made after the decision \
                      still holds, past the fulfilment window: the review decided, nobody acted.",
    },
    CheckDef {
        id: "log-integrity",
        title: "Evidence ledger integrity",
        controls: &["A.8.15"],
        default_severity: Severity::Critical,
        description: "The evidence ledger does not verify (an entry or checkpoint was altered, removed or \
                      inserted), or its newest signed checkpoint is older than allowed.",
    },
];

/// Checks loaded from Rego policies in this process, beside the built-in ones.
static CUSTOM: std::sync::RwLock<Vec<&'static CheckDef>> = std::sync::RwLock::new(Vec::new());

/// Registers a check of a Rego policy so that [`check`] finds it; a check already
/// registered under that id keeps its definition if it is the same, else is replaced (a
/// policy edited between two loads in one process).
pub(crate) fn register_custom(def: CheckDef) -> &'static CheckDef {
    if let Some(builtin) = CHECKS.iter().find(|c| c.id == def.id) {
        return builtin;
    }
    let Ok(mut custom) = CUSTOM.write() else { return Box::leak(Box::new(def)) };
    if let Some(existing) = custom.iter().find(|c| c.id == def.id && **c == &def) {
        return existing;
    }
    let leaked: &'static CheckDef = Box::leak(Box::new(def));
    custom.retain(|c| c.id != leaked.id);
    custom.push(leaked);
    leaked
}

/// The definition of the check with this id: built in, or from a Rego policy loaded.
pub fn check(id: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().find(|c| c.id == id).or_else(|| CUSTOM.read().ok()?.iter().copied().find(|c| c.id == id))
}

/// The checks that evidence a control (`A.5.18`).
pub fn checks_for_control(control: &str) -> impl Iterator<Item = &'static CheckDef> + '_ {
    CHECKS.iter().filter(move |c| c.controls.contains(&control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_names_real_controls() {
        let catalog = annexa_core::catalog::Catalog::get();
        for c in CHECKS {
            for ctl in c.controls {
                assert!(catalog.control(ctl).is_some(), "{} names {ctl}", c.id);
            }
        }
        assert_eq!(checks_for_control("A.5.3").map(|c| c.id).collect::<Vec<_>>(), ["sod-conflict"]);
    }
}
