//! The Statement of Applicability's logic: the rows it shows (what people recorded, plus
//! the risks each control treats, its checks' latest results and the ledger entries that
//! evidence it), the rules an entry must meet, a first draft from the register and the
//! audit, and the changes between two versions.
//!
//! A control that built-in checks test takes its implementation status from the latest
//! audit of those checks (all passed: implemented; findings open: partial), and the row
//! says which run it came from; a person's status stands for every other control.

use annexa_core::catalog::Catalog;
use annexa_core::risk::{risk_label, Risk};
use annexa_core::soa::{clause, CheckResult, Implementation, InclusionReason, LedgerReference, SoaEntry, SoaRow, CLAUSES};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the rows are made from.
#[derive(Debug, Clone, Default)]
pub struct SoaFacts {
    /// What people recorded, by control or clause.
    pub entries: BTreeMap<String, SoaEntry>,
    pub risks: Vec<Risk>,
    /// Each check's latest result (absent: never run).
    pub checks: BTreeMap<String, CheckResult>,
    /// Each check's latest `audit-run` ledger entry.
    pub check_entries: BTreeMap<String, LedgerReference>,
    /// Each control's or clause's latest `soa-changed` ledger entry.
    pub entry_refs: BTreeMap<String, LedgerReference>,
    /// What Annexa holds for a clause (`6.1.2` → "7 risks in the register"), by clause.
    pub clause_notes: BTreeMap<String, String>,
}

/// The built-in checks that test a control.
pub fn checks_of(control: &str) -> Vec<&'static str> {
    crate::checks::CHECKS.iter().filter(|c| c.controls.contains(&control)).map(|c| c.id).collect()
}

/// The 93 Annex A rows, in catalog order.
pub fn rows(facts: &SoaFacts) -> Vec<SoaRow> {
    Catalog::get()
        .controls()
        .iter()
        .map(|c| {
            let entry = facts.entries.get(&c.id).cloned().unwrap_or_else(|| SoaEntry { control: c.id.clone(), ..Default::default() });
            let checks: Vec<CheckResult> = checks_of(&c.id)
                .into_iter()
                .map(|id| {
                    facts.checks.get(id).cloned().unwrap_or_else(|| CheckResult {
                        check: id.to_string(),
                        result: "not run".into(),
                        open_findings: 0,
                        run: None,
                        at: None,
                    })
                })
                .collect();
            let risks: Vec<String> = facts.risks.iter().filter(|r| r.controls.contains(&c.id)).map(|r| risk_label(r.id)).collect();
            let mut evidence: Vec<LedgerReference> = checks.iter().filter_map(|r| facts.check_entries.get(&r.check).cloned()).collect();
            evidence.extend(facts.entry_refs.get(&c.id).cloned());
            evidence.sort_by_key(|e| e.seq);
            evidence.dedup_by_key(|e| e.seq);
            let (status, status_source) = status(&entry, &checks);
            SoaRow {
                control: c.id.clone(),
                title: c.title.clone(),
                theme: c.theme.clone(),
                applicable: entry.applicable,
                reasons: entry.reasons.clone(),
                justification: entry.justification.clone(),
                status,
                status_source,
                implementation: entry.implementation.clone(),
                owner: entry.owner.clone(),
                risks,
                checks,
                evidence,
                documents: entry.documents.clone(),
                held: None,
                approval: None,
            }
        })
        .collect()
}

/// The mandatory clauses, with what people recorded and what Annexa holds for each.
pub fn clause_rows(facts: &SoaFacts) -> Vec<SoaRow> {
    CLAUSES
        .iter()
        .map(|(id, title)| {
            let entry = facts.entries.get(*id).cloned().unwrap_or_default();
            let (status, status_source) = status(&entry, &[]);
            SoaRow {
                control: id.to_string(),
                title: title.to_string(),
                theme: "Clause".into(),
                applicable: Some(true),
                reasons: Vec::new(),
                justification: None,
                status,
                status_source,
                implementation: entry.implementation.clone(),
                owner: entry.owner.clone(),
                risks: Vec::new(),
                checks: Vec::new(),
                evidence: facts.entry_refs.get(*id).cloned().into_iter().collect(),
                documents: entry.documents.clone(),
                held: facts.clause_notes.get(*id).cloned(),
                approval: None,
            }
        })
        .collect()
}

fn status(entry: &SoaEntry, checks: &[CheckResult]) -> (Option<Implementation>, String) {
    if entry.applicable == Some(false) {
        return (None, "not applicable".into());
    }
    let judged: Vec<&CheckResult> = checks.iter().filter(|c| c.result == "passed" || c.result == "failed").collect();
    if let Some(latest) = judged.iter().filter_map(|c| c.run.map(|r| (r, c.at))).max_by_key(|(r, _)| *r) {
        let day = latest.1.map(|t| format!(" ({})", t.format("%Y-%m-%d"))).unwrap_or_default();
        let failed: Vec<String> =
            judged.iter().filter(|c| c.result == "failed").map(|c| format!("{} {}", c.check, c.open_findings)).collect();
        return if failed.is_empty() {
            let names: Vec<&str> = judged.iter().map(|c| c.check.as_str()).collect();
            (Some(Implementation::Implemented), format!("audit run #{}{day}: {} passed", latest.0, names.join(", ")))
        } else {
            (Some(Implementation::Partial), format!("audit run #{}{day}: open findings ({})", latest.0, failed.join(", ")))
        };
    }
    match (entry.status, &entry.updated_by, entry.updated_at) {
        (Some(s), Some(by), Some(at)) => (Some(s), format!("set by {by} on {}", at.format("%Y-%m-%d"))),
        (Some(s), _, _) => (Some(s), "set".into()),
        (None, _, _) => (None, "not set".into()),
    }
}

/// Which control or clause `id` names: a 2022 control id (or a 2013 one mapping to
/// exactly one), or a clause number.
pub fn resolve(id: &str) -> Result<String, String> {
    if let Some((c, _)) = clause(id) {
        return Ok(c.to_string());
    }
    match Catalog::get().resolve(id).as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(format!("{id:?} is neither an Annex A control (2022 or 2013 id) nor a clause 4.1 to 10.2")),
        many => {
            let ids: Vec<&str> = many.iter().map(|x| x.id.as_str()).collect();
            Err(format!("{id} maps to several 2022 controls ({}): name one", ids.join(", ")))
        }
    }
}

/// Words that say nothing about why a control is excluded.
const EMPTY_JUSTIFICATIONS: &[&str] = &["n/a", "na", "none", "not applicable", "not relevant", "no", "-", "tbd"];

/// What is wrong with an entry, as it would be stored.
pub fn problems(entry: &SoaEntry) -> Vec<String> {
    let mut out = Vec::new();
    let id = &entry.control;
    if clause(id).is_some() {
        if entry.applicable == Some(false) || !entry.reasons.is_empty() || entry.justification.is_some() {
            out.push(format!("clause {id} is mandatory: only its status, implementation, owner and documents are recorded"));
        }
        return out;
    }
    match entry.applicable {
        Some(false) => {
            let j = entry.justification.as_deref().unwrap_or("").trim();
            if j.is_empty() {
                out.push(format!("excluding {id} needs a justification (--justification): why the control does not apply here"));
            } else if EMPTY_JUSTIFICATIONS.contains(&j.to_lowercase().as_str()) || j.chars().count() < 15 {
                out.push(format!("{j:?} does not justify excluding {id}: say specifically why it does not apply (e.g. \"no software is developed in house\")"));
            }
            if !entry.reasons.is_empty() {
                out.push(format!("{id} is excluded: reasons for inclusion do not apply"));
            }
        }
        Some(true) if entry.reasons.is_empty() => {
            out.push(format!("including {id} needs a reason (--reason): {}", InclusionReason::expected()));
        }
        Some(true) | None => {}
    }
    out
}

/// A first draft: every undecided control that a risk in the register names, or whose
/// checks an audit has run, is applicable by risk assessment. Returns the entries to set.
pub fn draft(facts: &SoaFacts) -> Vec<SoaEntry> {
    rows(facts)
        .into_iter()
        .filter(|r| r.applicable.is_none())
        .filter(|r| !r.risks.is_empty() || r.checks.iter().any(|c| c.result != "not run"))
        .map(|r| {
            let mut entry = facts.entries.get(&r.control).cloned().unwrap_or_default();
            entry.control = r.control.clone();
            entry.applicable = Some(true);
            entry.reasons = vec![InclusionReason::RiskAssessment];
            entry
        })
        .collect()
}

/// One change between two versions of the SoA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoaChange {
    pub control: String,
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

/// What changed from `old` to `new`, control by control.
pub fn diff(old: &[SoaRow], new: &[SoaRow]) -> Vec<SoaChange> {
    let by_id: BTreeMap<&str, &SoaRow> = old.iter().map(|r| (r.control.as_str(), r)).collect();
    let mut out = Vec::new();
    for n in new {
        let Some(o) = by_id.get(n.control.as_str()) else { continue };
        let fields: [(&'static str, String, String); 9] = [
            ("applicable", applicability(o.applicable), applicability(n.applicable)),
            ("reasons", words(&o.reasons), words(&n.reasons)),
            ("justification", o.justification.clone().unwrap_or_default(), n.justification.clone().unwrap_or_default()),
            ("status", o.status.map(|s| s.to_string()).unwrap_or_default(), n.status.map(|s| s.to_string()).unwrap_or_default()),
            ("implementation", o.implementation.clone().unwrap_or_default(), n.implementation.clone().unwrap_or_default()),
            ("owner", o.owner.clone().unwrap_or_default(), n.owner.clone().unwrap_or_default()),
            ("risks", o.risks.join(" "), n.risks.join(" ")),
            ("documents", o.documents.join("; "), n.documents.join("; ")),
            ("checks", check_results(&o.checks), check_results(&n.checks)),
        ];
        for (field, from, to) in fields {
            if from != to {
                out.push(SoaChange { control: n.control.clone(), field, from, to });
            }
        }
    }
    out
}

/// "yes", "no", or "undecided".
pub fn applicability(a: Option<bool>) -> String {
    match a {
        Some(true) => "yes",
        Some(false) => "no",
        None => "undecided",
    }
    .to_string()
}

fn words(reasons: &[InclusionReason]) -> String {
    reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

fn check_results(checks: &[CheckResult]) -> String {
    checks.iter().map(|c| format!("{} {}", c.check, c.result)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(control: &str) -> SoaEntry {
        SoaEntry { control: control.into(), ..Default::default() }
    }

    #[test]
    fn every_control_has_a_row_and_checked_controls_follow_the_audit() {
        let mut facts = SoaFacts::default();
        facts.checks.insert(
            "leaver-access".into(),
            CheckResult { check: "leaver-access".into(), result: "failed".into(), open_findings: 3, run: Some(4), at: None },
        );
        facts.checks.insert(
            "revocation-not-fulfilled".into(),
            CheckResult { check: "revocation-not-fulfilled".into(), result: "passed".into(), open_findings: 0, run: Some(4), at: None },
        );
        let mut set = entry("A.5.18");
        set.applicable = Some(true);
        set.status = Some(Implementation::Implemented);
        facts.entries.insert("A.5.18".into(), set);
        let rows = rows(&facts);
        assert_eq!(rows.len(), 93);
        let r = rows.iter().find(|r| r.control == "A.5.18").expect("A.5.18");
        assert_eq!(r.status, Some(Implementation::Partial), "the audit, not the person, says how far it is implemented");
        assert!(r.status_source.starts_with("audit run #4: open findings (leaver-access 3"), "{}", r.status_source);
        let unchecked = rows.iter().find(|r| r.control == "A.5.1").expect("A.5.1");
        assert!(unchecked.checks.is_empty());
        assert_eq!(unchecked.status_source, "not set");
        assert_eq!(clause_rows(&facts).len(), 25);
    }

    #[test]
    fn an_exclusion_needs_a_specific_justification_and_an_inclusion_a_reason() {
        let mut e = entry("A.8.28");
        e.applicable = Some(false);
        assert!(problems(&e)[0].starts_with("excluding A.8.28 needs a justification"));
        e.justification = Some("N/A".into());
        assert!(problems(&e)[0].contains("does not justify excluding A.8.28"));
        e.justification = Some("No software is developed in house; all applications are bought as SaaS".into());
        assert!(problems(&e).is_empty());
        e.applicable = Some(true);
        e.justification = None;
        assert!(problems(&e)[0].starts_with("including A.8.28 needs a reason"));
        e.reasons = vec![InclusionReason::Contractual];
        assert!(problems(&e).is_empty());
        let mut c = entry("6.1.2");
        c.applicable = Some(false);
        assert!(problems(&c)[0].contains("is mandatory"));
        assert_eq!(resolve("A.9.2.6"), Ok("A.5.18".into()));
        assert_eq!(resolve("10.2"), Ok("10.2".into()));
        assert!(resolve("A.99").is_err());
    }

    #[test]
    fn a_diff_lists_each_changed_field() {
        let facts = SoaFacts::default();
        let old = rows(&facts);
        let mut changed = facts.clone();
        let mut e = entry("A.5.15");
        e.applicable = Some(true);
        e.reasons = vec![InclusionReason::Regulatory];
        e.owner = Some("E1".into());
        changed.entries.insert("A.5.15".into(), e);
        let d = diff(&old, &rows(&changed));
        let fields: Vec<(&str, &str, &str)> = d.iter().map(|c| (c.field, c.from.as_str(), c.to.as_str())).collect();
        assert_eq!(fields, [("applicable", "undecided", "yes"), ("reasons", "", "regulatory"), ("owner", "", "E1")]);
    }
}
