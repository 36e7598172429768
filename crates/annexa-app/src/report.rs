//! The auditor's report: everything an ISO/IEC 27001 auditor reads about the identity
//! controls, gathered from the store into plain values and rendered by `annexa-report` as
//! one self-contained HTML page, or that page printed to PDF by headless Chromium. A
//! checkpoint is signed first, and the report names it: it covers everything shown.

use crate::{App, Error, Result};
use annexa_core::finding::Severity;
use annexa_core::risk::risk_label;
use annexa_engine::risk::RiskMatrix;
use annexa_report::auditor::{AuditorReport, CampaignLine, FindingLine, RiskLine, RunLine};
use std::collections::BTreeMap;
use std::path::Path;

/// The most severe findings the report shows with their evidence.
const TOP_FINDINGS: u64 = 25;
/// The runs the trends cover.
const TREND_RUNS: i64 = 12;

impl App {
    /// Gathers the report, after signing a checkpoint that covers everything in it.
    pub fn auditor_report(&self) -> Result<AuditorReport> {
        let mut store = self.store()?;
        let checkpoint = self.checkpoint(&mut store)?;
        self.gather_report(&mut store, Some((checkpoint.size, checkpoint.note)))
    }

    /// The report's figures as they stand, for a page to show: a read, so nothing is
    /// signed; the newest checkpoint is named instead.
    pub fn report_figures(&self) -> Result<AuditorReport> {
        let mut store = self.store()?;
        let latest = store.newest_ledger_checkpoints(1)?.pop().map(|c| (c.size, c.note));
        self.gather_report(&mut store, latest)
    }

    fn gather_report(&self, store: &mut annexa_store::Store, checkpoint: Option<(u64, String)>) -> Result<AuditorReport> {
        let view = self.soa()?;
        let soa_meta = self.soa_meta(&view);
        let counts = store.report_counts(TREND_RUNS)?;
        let runs = store.runs(TREND_RUNS)?;
        let line = |r: &annexa_store::RunSummary| RunLine {
            id: r.id,
            as_of: r.as_of.format("%Y-%m-%d").to_string(),
            open: r.total.max(0) as u64,
            new: r.new.max(0) as u64,
            resolved: r.resolved.max(0) as u64,
        };
        let latest = runs.first().map(line);
        let trend: Vec<RunLine> = runs.iter().rev().map(line).collect();

        let mut by_severity: BTreeMap<Severity, u64> = BTreeMap::new();
        let mut by_control: BTreeMap<String, [u64; 5]> = BTreeMap::new();
        for (check, severity, n) in &counts.open {
            *by_severity.entry(*severity).or_default() += n;
            let slot = match severity {
                Severity::Critical => 0,
                Severity::High => 1,
                Severity::Medium => 2,
                Severity::Low => 3,
                Severity::Info => 4,
            };
            for control in annexa_engine::checks::check(check).map(|d| d.controls).unwrap_or(&[]) {
                by_control.entry(control.to_string()).or_default()[slot] += n;
            }
        }
        let catalog = annexa_core::catalog::Catalog::get();
        let mut by_control: Vec<(String, String, [u64; 5])> = by_control
            .into_iter()
            .map(|(c, n)| {
                let title = catalog.control(&c).map(|x| x.title.clone()).unwrap_or_default();
                (c, title, n)
            })
            .collect();
        by_control.sort_by_key(|(c, _, _)| catalog.controls().iter().position(|x| x.id == *c).unwrap_or(usize::MAX));

        let page = self.most_severe_open(store, TOP_FINDINGS)?;
        let top_findings = page
            .findings
            .iter()
            .map(|f| FindingLine {
                id: f.finding.id.clone(),
                severity: f.finding.severity.to_string(),
                check: f.finding.check.clone(),
                controls: f.finding.controls.join(", "),
                subject: f.finding.subject.label.clone(),
                message: f.finding.message.clone(),
                state: f.state.to_string(),
                evidence: f
                    .finding
                    .evidence
                    .records
                    .iter()
                    .map(|r| {
                        format!("{} {}: {} line {} (SHA-256 {}…)", r.record, r.key, r.file, r.line, r.sha256.get(..12).unwrap_or(&r.sha256))
                    })
                    .collect(),
            })
            .collect();

        let matrix = RiskMatrix::new(&self.settings.config.risk);
        let simulation = store.latest_simulation()?;
        let mut ale: BTreeMap<String, f64> = BTreeMap::new();
        let mut curves = Vec::new();
        let mut simulation_line = None;
        if let Some(sim) = &simulation {
            let outcome: annexa_engine::risk::simulate::Outcome = serde_json::from_value(sim.outcome.clone())
                .map_err(|e| Error::internal(format!("simulation #{} cannot be read: {e}", sim.id)))?;
            for s in &outcome.risks {
                ale.insert(s.label.clone(), s.ale);
            }
            let p = &outcome.portfolio;
            simulation_line = Some(format!(
                "Simulation #{} on {} ({} years, seed {}): portfolio ALE {} {c}, P50 {}, P90 {}, P99 {} (standard error {}).",
                sim.id,
                sim.at.format("%Y-%m-%d"),
                sim.iterations,
                sim.seed,
                annexa_engine::risk::money(p.ale),
                annexa_engine::risk::money(p.p50),
                annexa_engine::risk::money(p.p90),
                annexa_engine::risk::money(p.p99),
                annexa_engine::risk::money(p.std_error),
                c = matrix.currency()
            ));
            curves.push((p.label.clone(), p.curve.clone()));
            let mut by_ale: Vec<&annexa_engine::risk::simulate::LossSummary> = outcome.risks.iter().collect();
            by_ale.sort_by(|a, b| b.ale.total_cmp(&a.ale));
            curves.extend(by_ale.iter().take(4).map(|s| (format!("{} {}", s.label, s.title), s.curve.clone())));
        }
        let risks = store
            .risks()?
            .into_iter()
            .map(|r| RiskLine {
                label: risk_label(r.id),
                title: r.title.clone(),
                inherent: (r.inherent.likelihood, r.inherent.impact),
                residual: (r.residual.likelihood, r.residual.impact),
                level: matrix.level_of(r.residual).to_string(),
                treatment: r.treatment.to_string(),
                owner: r.owner.clone(),
                ale: ale.get(&risk_label(r.id)).copied(),
            })
            .collect();

        let mut campaigns = Vec::new();
        for c in store.campaigns()? {
            let diligence = store.campaign_diligence(c.id)?;
            campaigns.push(CampaignLine {
                id: c.id,
                name: c.name.clone(),
                status: c.status.clone(),
                due: c.due.format("%Y-%m-%d").to_string(),
                items: c.items.max(0) as u64,
                decided: c.decided.max(0) as u64,
                certified: c.certified.max(0) as u64,
                revoked: c.revoked.max(0) as u64,
                reviewers: diligence
                    .iter()
                    .map(|d| {
                        (d.reviewer.clone(), d.decided, d.items, d.certified_share, d.items_in_fast_runs, d.certified_with_open_findings)
                    })
                    .collect(),
            });
        }

        let now = self.now();
        let mut jml: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut leavers_overdue = 0;
        for e in store.jml_events(None)? {
            let slot = jml.entry(e.event.kind.to_string()).or_default();
            match e.status {
                annexa_core::model::JmlStatus::Pending => {
                    slot.0 += 1;
                    if e.event.kind == annexa_core::model::JmlKind::Leaver && e.event.effective_at < now {
                        leavers_overdue += 1;
                    }
                }
                annexa_core::model::JmlStatus::Planned => slot.1 += 1,
            }
        }
        let ncs = store.ncs(None)?;
        let open_ncs = ncs.iter().filter(|n| n.status == annexa_core::finding::NcStatus::Open).count() as u64;

        Ok(AuditorReport {
            generated: now.format("%Y-%m-%d %H:%M UTC").to_string(),
            run: latest,
            by_severity: by_severity.into_iter().rev().map(|(s, n)| (s.to_string(), n)).collect(),
            overdue: self.overdue(now)?.total,
            suppressed: counts.suppressed,
            posture: counts.postures.last().map(|p| p.2),
            posture_trend: counts.postures.iter().map(|(run, at, p)| (*run, at.format("%Y-%m-%d").to_string(), *p)).collect(),
            by_control,
            top_findings,
            open_total: page.total,
            trend,
            soa_controls: view.controls,
            soa_clauses: view.clauses,
            soa_meta,
            risks,
            currency: matrix.currency().to_string(),
            simulation: simulation_line,
            curves,
            level_scores: self.settings.config.risk.level_scores.clone(),
            campaigns,
            jml: jml.into_iter().map(|(k, (p, d))| (k, p, d)).collect(),
            leavers_overdue,
            nonconformities: (open_ncs, ncs.len() as u64 - open_ncs),
            checkpoint,
        })
    }

    /// Writes the report as one self-contained HTML file.
    pub fn report_html(&self, path: &Path) -> Result<()> {
        let report = self.auditor_report()?;
        annexa_report::auditor::write_html(path, &report).map_err(|e| Error::internal(e.to_string()))
    }

    /// Writes the report as PDF: the HTML page printed by headless Chromium.
    pub fn report_pdf(&self, path: &Path) -> Result<()> {
        let report = self.auditor_report()?;
        let dir = tempfile::tempdir().map_err(|e| Error::io("cannot make a temporary directory", e))?;
        let html = dir.path().join("report.html");
        annexa_report::auditor::write_html(&html, &report).map_err(|e| Error::internal(e.to_string()))?;
        annexa_report::auditor::print_pdf(&html, path, std::time::Duration::from_secs(120)).map_err(|e| Error::internal(e.to_string()))
    }
}
