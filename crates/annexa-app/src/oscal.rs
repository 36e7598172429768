//! The audit as NIST OSCAL 1.1: assessment results, the assessment plan they import and a
//! component definition of the checks (rendered by `annexa_report::oscal`). The latest run's
//! checks, the most severe open findings with their evidence and the ledger entries that
//! recorded them (each with an inclusion proof against a checkpoint signed first), and the
//! risk register.

use crate::{App, Error, Result};
use annexa_report::oscal::{OscalCheck, OscalFinding, OscalInput, OscalRisk, OscalRun};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// The most findings reported as observations, most severe first.
pub const OSCAL_FINDINGS: u64 = 1000;

/// Where the three documents were written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OscalFiles {
    pub assessment_results: PathBuf,
    pub assessment_plan: PathBuf,
    pub component_definition: PathBuf,
    pub findings_reported: usize,
    pub open_total: u64,
}

impl App {
    /// Writes the assessment results to `out`, and beside it the assessment plan and the
    /// component definition (`NAME.assessment-plan.json`, `NAME.component-definition.json`).
    pub fn report_oscal(&self, out: &Path) -> Result<OscalFiles> {
        let mut store = self.store()?;
        let checkpoint = self.checkpoint(&mut store)?;
        let Some(run) = store.runs(1)?.into_iter().next() else {
            return Err(Error::invalid("no audit has run yet: `annexa audit` first"));
        };
        let evidence = store.soa_evidence()?;
        let skipped: Vec<(String, String)> = run
            .not_evaluated
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| Some((n.get("check")?.as_str()?.to_string(), n.get("reason")?.as_str()?.to_string())))
            .collect();
        let mut referenced: BTreeSet<(u64, String)> = BTreeSet::new();
        let checks: Vec<OscalCheck> = annexa_engine::checks::CHECKS
            .iter()
            .filter(|def| run.checks.iter().any(|c| c == def.id) || skipped.iter().any(|(c, _)| c == def.id))
            .map(|def| {
                let result = evidence.checks.get(def.id);
                let ledger_seq = evidence.check_entries.get(def.id).map(|r| r.seq);
                if let Some(seq) = ledger_seq {
                    referenced.insert((seq, "audit-run".into()));
                }
                OscalCheck {
                    id: def.id.to_string(),
                    title: def.title.to_string(),
                    description: format!("{} (tests {})", def.title, def.controls.join(", ")),
                    controls: def.controls.iter().map(|c| c.to_string()).collect(),
                    result: result.map(|r| r.result.clone()).unwrap_or_else(|| "not run".into()),
                    open: result.map(|r| r.open_findings.max(0) as u64).unwrap_or(0),
                    reason: skipped.iter().find(|(c, _)| c == def.id).map(|(_, r)| r.clone()),
                    ledger_seq,
                }
            })
            .collect();
        let page = self.most_severe_open(&mut store, OSCAL_FINDINGS)?;
        let ids: HashSet<String> = page.findings.iter().map(|f| f.finding.id.clone()).collect();
        let entries = store.finding_ledger_entries(&ids)?;
        let findings: Vec<OscalFinding> = page
            .findings
            .iter()
            .map(|f| {
                let ledger_seq = entries.get(&f.finding.id).copied();
                if let Some(seq) = ledger_seq {
                    referenced.insert((seq, "findings".into()));
                }
                OscalFinding {
                    id: f.finding.id.clone(),
                    check: f.finding.check.clone(),
                    severity: f.finding.severity.to_string(),
                    controls: f.finding.controls.clone(),
                    subject: f.finding.subject.label.clone(),
                    message: f.finding.message.clone(),
                    state: f.state.to_string(),
                    evidence: f
                        .finding
                        .evidence
                        .records
                        .iter()
                        .map(|r| format!("{} {}: {} line {}, file SHA-256 {}", r.record, r.key, r.file, r.line, r.sha256))
                        .collect(),
                    ledger_seq,
                }
            })
            .collect();
        let matrix = annexa_engine::risk::RiskMatrix::new(&self.settings.config.risk);
        let risks: Vec<OscalRisk> = store
            .risks()?
            .into_iter()
            .map(|r| OscalRisk {
                label: annexa_core::risk::risk_label(r.id),
                title: r.title.clone(),
                statement: format!("{} threatens {}: {}. Vulnerability: {}.", r.owner, r.asset, r.threat, r.vulnerability),
                treatment: r.treatment.to_string(),
                plan: r.plan.clone(),
                likelihood: r.residual.likelihood,
                impact: r.residual.impact,
                level: matrix.level_of(r.residual).to_string(),
                controls: r.controls.clone(),
            })
            .collect();
        drop(store);
        let mut proofs = Vec::new();
        for (seq, kind) in referenced {
            let proof = self.prove_inclusion(seq).ok().map(|p| p.to_string());
            proofs.push((seq, kind, proof));
        }
        let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("assessment-results").to_string();
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let plan_name = format!("{stem}.assessment-plan.json");
        let components_name = format!("{stem}.component-definition.json");
        let instant = |t: annexa_core::time::Instant| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let input = OscalInput {
            generated: instant(self.now()),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            organisation: "The organisation assessed".to_string(),
            run: OscalRun { id: run.id, started: instant(run.started_at), finished: instant(run.started_at), as_of: instant(run.as_of) },
            checks,
            open_total: page.total,
            findings,
            risks,
            proofs,
            checkpoint: Some((checkpoint.size, checkpoint.note)),
            plan_href: format!("./{plan_name}"),
            components_href: format!("./{components_name}"),
        };
        let docs = annexa_report::oscal::documents(&input);
        let files = OscalFiles {
            assessment_results: out.to_path_buf(),
            assessment_plan: dir.join(&plan_name),
            component_definition: dir.join(&components_name),
            findings_reported: input.findings.len(),
            open_total: page.total,
        };
        for (path, doc) in [
            (&files.assessment_results, &docs.assessment_results),
            (&files.assessment_plan, &docs.assessment_plan),
            (&files.component_definition, &docs.component_definition),
        ] {
            let text = serde_json::to_string_pretty(doc).map_err(|e| Error::internal(e.to_string()))?;
            std::fs::write(path, text + "\n").map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
        Ok(files)
    }
}
