//! The Statement of Applicability as people keep it: shown with what Annexa knows (risks,
//! checks and their latest results, ledger evidence), set control by control (all or
//! nothing, each change a ledger entry), drafted from the register and the audit, approved
//! as numbered versions, compared between versions, and exported as XLSX, CSV or HTML.

use crate::{App, Error, Result};
use annexa_core::soa::{Implementation, InclusionReason, SoaEntry, SoaRow};
use annexa_engine::soa::{self as logic, SoaChange, SoaFacts};
use annexa_report::soa::SoaMeta;
use annexa_store::soa::SoaVersion;
use annexa_store::Store;
use serde::Serialize;
use std::path::Path;

/// The SoA as it stands.
#[derive(Debug, Clone, Serialize)]
pub struct SoaView {
    pub controls: Vec<SoaRow>,
    pub clauses: Vec<SoaRow>,
    /// The latest approved version, if any.
    pub approved: Option<SoaVersion>,
    /// What changed since it (everything is a change before the first approval).
    pub changes_since_approval: Vec<SoaChange>,
}

/// A change to one or more controls (or clauses): only what is given changes.
#[derive(Debug, Clone, Default)]
pub struct SoaSet {
    pub controls: Vec<String>,
    pub applicable: Option<bool>,
    pub reasons: Option<Vec<InclusionReason>>,
    pub justification: Option<String>,
    pub status: Option<Implementation>,
    pub implementation: Option<String>,
    pub owner: Option<String>,
    /// Document references to add.
    pub documents: Vec<String>,
    /// Remove every document reference first.
    pub clear_documents: bool,
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoaFormat {
    Xlsx,
    Csv,
    Html,
}

/// The rows as approved: what a version keeps.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct Approved {
    controls: Vec<SoaRow>,
    clauses: Vec<SoaRow>,
}

impl App {
    fn soa_facts(&self, store: &mut Store) -> Result<SoaFacts> {
        let entries = store.soa_entries()?;
        let risks = store.risks()?;
        let evidence = store.soa_evidence()?;
        let mut notes = std::collections::BTreeMap::new();
        let treated = risks.iter().filter(|r| r.plan.is_some()).count();
        notes.insert("6.1.2".to_string(), format!("Annexa: {} risk(s) in the register (`annexa risk list`)", risks.len()));
        let decided = entries.values().filter(|e| e.applicable.is_some() && e.control.starts_with("A.")).count();
        notes.insert(
            "6.1.3".to_string(),
            format!("Annexa: {treated} of {} risk(s) with a treatment plan; {decided} of 93 controls decided in this SoA", risks.len()),
        );
        if let Some(sim) = store.latest_simulation()? {
            notes.insert("8.2".to_string(), format!("Annexa: risks quantified by simulation #{} on {}", sim.id, sim.at.format("%Y-%m-%d")));
        }
        if let Some(run) = store.runs(1)?.into_iter().next() {
            notes.insert(
                "9.1".to_string(),
                format!("Annexa: audit run #{} on {}, {} finding(s) open", run.id, run.started_at.format("%Y-%m-%d"), run.total),
            );
        }
        let ncs = store.ncs(None)?;
        if !ncs.is_empty() {
            let open = ncs.iter().filter(|n| n.status == annexa_core::finding::NcStatus::Open).count();
            notes.insert("10.2".to_string(), format!("Annexa: {open} nonconformity(ies) open, {} closed", ncs.len() - open));
        }
        if let Some(cp) = store.newest_ledger_checkpoints(1)?.first() {
            notes.insert("7.5".to_string(), format!("Annexa: evidence ledger of {} entries under a signed checkpoint", cp.size));
        }
        Ok(SoaFacts {
            entries,
            risks,
            checks: evidence.checks,
            check_entries: evidence.check_entries,
            entry_refs: evidence.entry_refs,
            clause_notes: notes,
        })
    }

    /// The SoA as it stands, with what changed since the latest approval.
    pub fn soa(&self) -> Result<SoaView> {
        let mut store = self.store()?;
        let facts = self.soa_facts(&mut store)?;
        let (mut controls, mut clauses) = (logic::rows(&facts), logic::clause_rows(&facts));
        let approved = store.soa_versions()?.pop();
        let changes_since_approval = match &approved {
            Some(v) => {
                let old = approved_rows(&mut store, v.version)?;
                let mut changes = logic::diff(&old.controls, &controls);
                changes.extend(logic::diff(&old.clauses, &clauses));
                changes
            }
            None => Vec::new(),
        };
        // Each row says which approval covers it as it stands, or that it changed since.
        for row in controls.iter_mut().chain(clauses.iter_mut()) {
            row.approval = Some(match &approved {
                None => "not approved yet".to_string(),
                Some(v) if changes_since_approval.iter().any(|c| c.control == row.control) => {
                    format!("changed since version {}, not yet approved", v.version)
                }
                Some(v) => format!("version {}, approved by {} on {}", v.version, v.approver, v.approved_at.format("%Y-%m-%d")),
            });
        }
        Ok(SoaView { controls, clauses, approved, changes_since_approval })
    }

    /// Applies `set` to every control it names, or refuses the whole change.
    pub fn set_soa(&self, set: &SoaSet) -> Result<Vec<SoaRow>> {
        if set.controls.is_empty() {
            return Err(Error::invalid("name the controls or clauses to change (A.5.15, 6.1.2)"));
        }
        let mut store = self.store()?;
        let current = store.soa_entries()?;
        let mut ids = Vec::new();
        let mut problems = Vec::new();
        for c in &set.controls {
            match logic::resolve(c) {
                Ok(id) => ids.push(id),
                Err(e) => problems.push(e),
            }
        }
        ids.sort();
        ids.dedup();
        let mut entries = Vec::new();
        for id in &ids {
            let mut e = current.get(id).cloned().unwrap_or_else(|| SoaEntry { control: id.clone(), ..Default::default() });
            if let Some(a) = set.applicable {
                e.applicable = Some(a);
                // A decision replaces the other side's fields.
                if a {
                    e.justification = None;
                } else {
                    e.reasons.clear();
                }
            }
            if let Some(r) = &set.reasons {
                e.reasons = r.clone();
            }
            if let Some(j) = &set.justification {
                e.justification = Some(j.clone()).filter(|j| !j.trim().is_empty());
            }
            if let Some(s) = set.status {
                e.status = Some(s);
            }
            if let Some(i) = &set.implementation {
                e.implementation = Some(i.clone()).filter(|i| !i.trim().is_empty());
            }
            if let Some(o) = &set.owner {
                e.owner = Some(o.clone()).filter(|o| !o.trim().is_empty());
            }
            if set.clear_documents {
                e.documents.clear();
            }
            for d in &set.documents {
                if !e.documents.contains(d) {
                    e.documents.push(d.clone());
                }
            }
            problems.extend(logic::problems(&e));
            entries.push(e);
        }
        if !problems.is_empty() {
            return Err(Error::invalid(format!("the SoA was not changed:\n  - {}", problems.join("\n  - "))));
        }
        store.set_soa_entries(&entries, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        let facts = self.soa_facts(&mut store)?;
        let rows = logic::rows(&facts).into_iter().chain(logic::clause_rows(&facts)).filter(|r| ids.contains(&r.control)).collect();
        Ok(rows)
    }

    /// Drafts the undecided controls that the register or the audit shows matter:
    /// applicable by risk assessment. Returns the controls drafted.
    pub fn draft_soa(&self) -> Result<Vec<String>> {
        let mut store = self.store()?;
        let facts = self.soa_facts(&mut store)?;
        let drafted = logic::draft(&facts);
        if drafted.is_empty() {
            return Ok(Vec::new());
        }
        store.set_soa_entries(&drafted, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(drafted.into_iter().map(|e| e.control).collect())
    }

    /// Approves the SoA as it stands, by `approver`: its next version. Refused while a
    /// control is undecided.
    pub fn approve_soa(&self, approver: &str, note: Option<&str>) -> Result<SoaVersion> {
        if approver.trim().is_empty() {
            return Err(Error::invalid("an approval names its approver (--approver)"));
        }
        let view = self.soa()?;
        let undecided: Vec<&str> = view.controls.iter().filter(|r| r.applicable.is_none()).map(|r| r.control.as_str()).collect();
        if !undecided.is_empty() {
            let shown: Vec<&str> = undecided.iter().take(10).copied().collect();
            let more = if undecided.len() > 10 { format!(" and {} more", undecided.len() - 10) } else { String::new() };
            return Err(Error::conflict(format!(
                "{} control(s) are undecided ({}{more}): decide each (`annexa soa set CONTROL --applicable yes|no`) before approving",
                undecided.len(),
                shown.join(", ")
            )));
        }
        if view.approved.is_some() && view.changes_since_approval.is_empty() {
            return Err(Error::conflict("nothing changed since the latest approved version"));
        }
        let rows = serde_json::to_string(&Approved { controls: view.controls, clauses: view.clauses })
            .map_err(|e| Error::internal(e.to_string()))?;
        let mut store = self.store()?;
        let version = store.approve_soa(&rows, approver, note, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(version)
    }

    /// The approved versions, oldest first.
    pub fn soa_versions(&self) -> Result<Vec<SoaVersion>> {
        Ok(self.store()?.soa_versions()?)
    }

    /// What changed from approved version `from` to `to` (the latest approved version and
    /// the SoA as it stands, by default).
    pub fn soa_diff(&self, from: Option<i64>, to: Option<i64>) -> Result<(String, String, Vec<SoaChange>)> {
        let mut store = self.store()?;
        let versions = store.soa_versions()?;
        let from = match from.or(versions.last().map(|v| v.version)) {
            Some(v) => v,
            None => return Err(Error::invalid("no version of the SoA is approved yet: `annexa soa approve --approver ID` approves one")),
        };
        let old = approved_rows(&mut store, from)?;
        let (label, new) = match to {
            Some(v) => (format!("version {v}"), approved_rows(&mut store, v)?),
            None => {
                let facts = self.soa_facts(&mut store)?;
                ("the SoA as it stands".to_string(), Approved { controls: logic::rows(&facts), clauses: logic::clause_rows(&facts) })
            }
        };
        let mut changes = logic::diff(&old.controls, &new.controls);
        changes.extend(logic::diff(&old.clauses, &new.clauses));
        Ok((format!("version {from}"), label, changes))
    }

    /// Writes the SoA to `path`.
    pub fn export_soa(&self, format: SoaFormat, path: &Path) -> Result<SoaView> {
        let view = self.soa()?;
        let meta = self.soa_meta(&view);
        let written = match format {
            SoaFormat::Xlsx => annexa_report::soa::write_xlsx(path, &view.controls, &view.clauses, &meta),
            SoaFormat::Csv => annexa_report::soa::write_csv(path, &view.controls, &view.clauses),
            SoaFormat::Html => annexa_report::soa::write_html(path, &view.controls, &view.clauses, &meta),
        };
        written.map_err(|e| Error::internal(e.to_string()))?;
        Ok(view)
    }

    /// How the SoA describes itself in an export.
    pub fn soa_meta(&self, view: &SoaView) -> SoaMeta {
        let approval = match &view.approved {
            Some(v) => format!(
                "Version {} approved by {} on {} (rows SHA-256 {}){}",
                v.version,
                v.approver,
                v.approved_at.format("%Y-%m-%d"),
                v.sha256,
                if view.changes_since_approval.is_empty() {
                    String::new()
                } else {
                    format!("; {} change(s) since, not yet approved", view.changes_since_approval.len())
                }
            ),
            None => "Draft: no version approved yet".to_string(),
        };
        SoaMeta {
            generated: self.now().format("%Y-%m-%d %H:%M UTC").to_string(),
            approval,
            changes_since_approval: view
                .changes_since_approval
                .iter()
                .map(|c| format!("{} {}: {:?} → {:?}", c.control, c.field, c.from, c.to))
                .collect(),
        }
    }
}

/// A framework's identity requirement, with the evidence of the Annex A controls it maps to.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementStatus {
    /// `CC6.1`, `PR.AA-05`, `6.8`, or an Annex A control.
    pub requirement: String,
    /// `passed` (every mapped control's checks passed), `failed` (findings open),
    /// `not tested` (no check of a mapped control has judged), or the controls' recorded
    /// status when no check tests them.
    pub result: String,
    pub controls: Vec<MappedControl>,
}

/// An Annex A control behind a requirement, as the SoA shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MappedControl {
    pub control: String,
    pub title: String,
    pub applicable: Option<bool>,
    pub status: Option<Implementation>,
    pub status_source: String,
    pub checks: Vec<annexa_core::soa::CheckResult>,
    /// The crosswalk's confidence in the mapping: H, M or L.
    pub confidence: String,
}

/// The frameworks the identity crosswalk reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Iso27001,
    Soc2,
    NistCsf,
    Cis,
}

impl Framework {
    pub fn parse(s: &str) -> Result<Framework> {
        match s.trim().to_ascii_lowercase().as_str() {
            "iso27001" | "iso" | "annex-a" => Ok(Framework::Iso27001),
            "soc2" | "soc-2" => Ok(Framework::Soc2),
            "nist-csf" | "nist" | "csf" => Ok(Framework::NistCsf),
            "cis" | "cis-v8" => Ok(Framework::Cis),
            _ => Err(Error::invalid(format!("framework {s:?}: expected soc2, nist-csf, cis or iso27001"))),
        }
    }
}

impl App {
    /// Each identity requirement of `framework`, with the evidence of its Annex A controls.
    pub fn framework_status(&self, framework: Framework) -> Result<Vec<RequirementStatus>> {
        let view = self.soa()?;
        let catalog = annexa_core::catalog::Catalog::get();
        let mut by_requirement: std::collections::BTreeMap<String, Vec<MappedControl>> = Default::default();
        for row in &view.controls {
            let Some(x) = catalog.crosswalk(&row.control) else { continue };
            let ids: Vec<String> = match framework {
                Framework::Iso27001 => vec![row.control.clone()],
                Framework::Soc2 => x.soc2.clone(),
                Framework::NistCsf => x.nist_csf_2.clone(),
                Framework::Cis => x.cis_v8.clone(),
            };
            for id in ids {
                by_requirement.entry(id).or_default().push(MappedControl {
                    control: row.control.clone(),
                    title: row.title.clone(),
                    applicable: row.applicable,
                    status: row.status,
                    status_source: row.status_source.clone(),
                    checks: row.checks.clone(),
                    confidence: x.confidence.clone(),
                });
            }
        }
        let mut out: Vec<RequirementStatus> = by_requirement
            .into_iter()
            .map(|(requirement, controls)| {
                let judged: Vec<&annexa_core::soa::CheckResult> =
                    controls.iter().flat_map(|c| &c.checks).filter(|c| c.result == "passed" || c.result == "failed").collect();
                let tested = controls.iter().filter(|c| c.checks.iter().any(|k| k.result == "passed" || k.result == "failed")).count();
                let result = if judged.iter().any(|c| c.result == "failed") {
                    "failed".to_string()
                } else if tested == controls.len() {
                    "passed".to_string()
                } else if tested > 0 {
                    format!("passed ({tested} of {} controls tested)", controls.len())
                } else if controls.iter().all(|c| c.status == Some(Implementation::Implemented)) {
                    "implemented (recorded)".to_string()
                } else {
                    "not tested".to_string()
                };
                RequirementStatus { requirement, result, controls }
            })
            .collect();
        out.sort_by_key(|a| natural(&a.requirement));
        Ok(out)
    }
}

/// Sorts `CC6.10` after `CC6.9` and `A.5.18` after `A.5.9`.
fn natural(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            if !num.is_empty() || !text.is_empty() {
                out.push((std::mem::take(&mut text), num.parse().unwrap_or(0)));
                num.clear();
            }
            text.push(c);
        }
    }
    out.push((text, num.parse().unwrap_or(0)));
    out
}

fn approved_rows(store: &mut Store, version: i64) -> Result<Approved> {
    let rows = store.soa_version_rows(version)?;
    serde_json::from_str(&rows).map_err(|e| Error::internal(format!("SoA version {version} cannot be read: {e}")))
}
