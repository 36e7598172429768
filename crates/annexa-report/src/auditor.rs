//! The auditor's report: one self-contained HTML page (no request leaves it: inline CSS and
//! SVG, a Content-Security-Policy that forbids anything else, no script), and the same page
//! printed to PDF by headless Chromium.

use crate::charts;
use crate::soa::{escape, html_section, SoaMeta};
use crate::svg;
use crate::ReportError;
use annexa_core::posture::Posture;
use annexa_core::soa::SoaRow;
use std::fmt::Write;
use std::path::Path;

/// Everything the report shows, as plain values.
#[derive(Debug, Clone, Default)]
pub struct AuditorReport {
    pub generated: String,
    /// The latest audit: `run #4 as of 2026-12-01`, its open, new and resolved counts.
    pub run: Option<RunLine>,
    /// Open findings by severity, most severe first.
    pub by_severity: Vec<(String, u64)>,
    pub overdue: u64,
    pub suppressed: u64,
    pub posture: Option<Posture>,
    /// Posture per run, oldest first: (run, day, posture).
    pub posture_trend: Vec<(i64, String, Posture)>,
    /// Per control with open findings: control, title, counts by severity (critical, high,
    /// medium, low, info).
    pub by_control: Vec<(String, String, [u64; 5])>,
    /// The most severe open findings, with their evidence.
    pub top_findings: Vec<FindingLine>,
    /// How many open findings there are in all (the top ones are a part).
    pub open_total: u64,
    /// The last runs, oldest first.
    pub trend: Vec<RunLine>,
    pub soa_controls: Vec<SoaRow>,
    pub soa_clauses: Vec<SoaRow>,
    pub soa_meta: SoaMeta,
    pub risks: Vec<RiskLine>,
    pub currency: String,
    /// The latest simulation: what it was, and each loss-exceedance curve (portfolio first).
    pub simulation: Option<String>,
    pub curves: Vec<(String, Vec<(f64, f64)>)>,
    /// Score thresholds of low, medium and high.
    pub level_scores: Vec<u8>,
    pub campaigns: Vec<CampaignLine>,
    /// JML events by kind: (kind, pending, planned), and leavers pending past their date.
    pub jml: Vec<(String, u64, u64)>,
    pub leavers_overdue: u64,
    pub nonconformities: (u64, u64),
    /// The signed checkpoint that covers everything shown: its size and note.
    pub checkpoint: Option<(u64, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct RunLine {
    pub id: i64,
    pub as_of: String,
    pub open: u64,
    pub new: u64,
    pub resolved: u64,
}

#[derive(Debug, Clone, Default)]
pub struct FindingLine {
    pub id: String,
    pub severity: String,
    pub check: String,
    pub controls: String,
    pub subject: String,
    pub message: String,
    pub state: String,
    /// Source records: `hr.csv line 14 (sha256 …)`.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RiskLine {
    pub label: String,
    pub title: String,
    pub inherent: (u8, u8),
    pub residual: (u8, u8),
    pub level: String,
    pub treatment: String,
    pub owner: String,
    pub ale: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct CampaignLine {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub due: String,
    pub items: u64,
    pub decided: u64,
    pub certified: u64,
    pub revoked: u64,
    /// Per reviewer: name, decided of items, certified share, items decided in bursts,
    /// certified with open findings.
    pub reviewers: Vec<(String, u64, u64, f64, u64, u64)>,
}

/// The page's CSS: inline, as the policy allows nothing else.
const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:75rem;color:#1a1a1a;line-height:1.4}\
h1{font-size:1.8rem}h2{border-bottom:2px solid #d9e1f2;margin-top:2.5rem;page-break-after:avoid}\
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}th,td{border:1px solid #bbb;padding:.3rem .5rem;vertical-align:top;text-align:left}\
thead th{background:#d9e1f2}caption{font-weight:bold;text-align:left;padding:.5rem 0}.num{text-align:right}\
.implemented{background:#c6efce}.partial{background:#ffeb9c}.not-started{background:#ffc7ce}.na{background:#d9d9d9}\
.critical{color:#8b0000;font-weight:bold}.high{color:#c62828}.kpi{display:inline-block;border:1px solid #bbb;padding:.6rem 1rem;margin:.3rem;min-width:9rem}\
.kpi b{display:block;font-size:1.5rem}pre{white-space:pre-wrap;font-size:.75rem;background:#f5f5f5;padding:.5rem}\
svg{max-width:100%;height:auto}@media print{body{margin:0;max-width:none}table{page-break-inside:auto}tr{page-break-inside:avoid}}";

/// The whole page.
pub fn html(r: &AuditorReport) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Annexa audit report</title><style>{CSS}</style></head><body>\
<header><h1>ISO/IEC 27001:2022 identity controls: audit report</h1><p>Generated {} by Annexa.</p></header><main>",
        escape(&r.generated)
    );
    summary(&mut h, r);
    posture(&mut h, r);
    authentication(&mut h, r);
    findings(&mut h, r);
    trend(&mut h, r);
    let _ = write!(
        h,
        "<section><h2 id=\"soa\">Statement of Applicability</h2>{}</section>",
        html_section(&r.soa_controls, &r.soa_clauses, &r.soa_meta)
    );
    risks(&mut h, r);
    campaigns(&mut h, r);
    jml(&mut h, r);
    ledger(&mut h, r);
    h.push_str("</main></body></html>\n");
    h
}

fn summary(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"summary\">Summary</h2>");
    match &r.run {
        Some(run) => {
            let _ = write!(
                h,
                "<p>Latest audit: run #{} as of {}: {} open findings ({} new, {} resolved since the run before).</p>",
                run.id,
                escape(&run.as_of),
                run.open,
                run.new,
                run.resolved
            );
        }
        None => h.push_str("<p>No audit has run yet.</p>"),
    }
    for (sev, n) in &r.by_severity {
        let _ = write!(h, "<div class=\"kpi\"><b class=\"{}\">{n}</b>open {}</div>", escape(sev), escape(sev));
    }
    let applicable = r.soa_controls.iter().filter(|c| c.applicable == Some(true)).count();
    let decided = r.soa_controls.iter().filter(|c| c.applicable.is_some()).count();
    let _ = write!(
        h,
        "<div class=\"kpi\"><b>{}</b>overdue findings</div><div class=\"kpi\"><b>{}</b>accepted or dismissed</div>\
<div class=\"kpi\"><b>{decided} / {}</b>controls decided in the SoA ({applicable} applicable)</div><div class=\"kpi\"><b>{}</b>risks in the register</div>\
<div class=\"kpi\"><b>{} / {}</b>nonconformities open / closed</div>",
        r.overdue,
        r.suppressed,
        r.soa_controls.len(),
        r.risks.len(),
        r.nonconformities.0,
        r.nonconformities.1
    );
    h.push_str("</section>");
}

fn posture(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"posture\">Posture by Annex A theme</h2>");
    h.push_str(&charts::posture_by_theme(r));
    h.push_str("<p>A control that built-in checks test is implemented when they all passed in the latest audit and partial while findings are open; the status of the others is as recorded in the SoA.</p></section>");
}

fn authentication(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"authentication\">Authentication strength</h2>");
    let Some(p) = &r.posture else {
        h.push_str("<p>No audit has measured it yet.</p></section>");
        return;
    };
    let _ = write!(
        h,
        "<p>Enabled interactive accounts by their strongest second factor. Phishing-resistant (FIDO2/WebAuthn): {:.1} % of accounts whose factors are known, {:.1} % of privileged accounts.</p>",
        charts::fido2_share(&p.accounts),
        charts::fido2_share(&p.privileged)
    );
    h.push_str(&charts::authentication_strength(r).unwrap_or_default());
    h.push_str(&charts::fido2_over_time(r).unwrap_or_default());
    h.push_str("</section>");
}

fn findings(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"findings\">Findings by control and severity</h2>");
    if r.by_control.is_empty() {
        h.push_str("<p>No open findings.</p></section>");
        return;
    }
    h.push_str("<table><thead><tr><th scope=\"col\">Control</th><th scope=\"col\">Title</th><th scope=\"col\">critical</th><th scope=\"col\">high</th><th scope=\"col\">medium</th><th scope=\"col\">low</th><th scope=\"col\">info</th></tr></thead><tbody>");
    for (control, title, n) in &r.by_control {
        let _ = write!(h, "<tr><th scope=\"row\">{}</th><td>{}</td>", escape(control), escape(title));
        for v in n {
            let _ = write!(h, "<td class=\"num\">{v}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    let _ = write!(
        h,
        "<h3>The {} most severe of {} open findings, with their evidence</h3><table><thead><tr><th scope=\"col\">Finding</th><th scope=\"col\">Severity</th><th scope=\"col\">Check and controls</th><th scope=\"col\">Subject and finding</th><th scope=\"col\">Evidence (source records)</th></tr></thead><tbody>",
        r.top_findings.len(),
        r.open_total
    );
    for f in &r.top_findings {
        let evidence: Vec<String> = f.evidence.iter().map(|e| escape(e)).collect();
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}<br><small>{}</small></th><td class=\"{}\">{}</td><td>{}<br>{}</td><td><b>{}</b><br>{}</td><td>{}</td></tr>",
            escape(&f.id),
            escape(&f.state),
            escape(&f.severity),
            escape(&f.severity),
            escape(&f.check),
            escape(&f.controls),
            escape(&f.subject),
            escape(&f.message),
            evidence.join("<br>")
        );
    }
    h.push_str("</tbody></table><p>Every finding, with its full evidence: <code>annexa findings list</code>, or the evidence pack (<code>annexa evidence pack</code>).</p></section>");
}

fn trend(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"trend\">Trend over the last runs</h2>");
    if r.trend.is_empty() {
        h.push_str("<p>No runs yet.</p></section>");
        return;
    }
    h.push_str(&charts::findings_over_time(r).unwrap_or_default());
    h.push_str("</section>");
}

fn risks(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"risks\">Risks</h2>");
    if r.risks.is_empty() {
        h.push_str("<p>The risk register is empty.</p></section>");
        return;
    }
    h.push_str(&charts::risk_heat_map(r).unwrap_or_default());
    h.push_str("<table><thead><tr><th scope=\"col\">Risk</th><th scope=\"col\">Title</th><th scope=\"col\">Owner</th><th scope=\"col\">Inherent</th><th scope=\"col\">Residual</th><th scope=\"col\">Level</th><th scope=\"col\">Treatment</th><th scope=\"col\">ALE</th></tr></thead><tbody>");
    for x in &r.risks {
        let ale = x.ale.map(|a| format!("{} {}", svg::fmt(a), escape(&r.currency))).unwrap_or_default();
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}×{}</td><td>{}×{}</td><td>{}</td><td>{}</td><td class=\"num\">{ale}</td></tr>",
            escape(&x.label),
            escape(&x.title),
            escape(&x.owner),
            x.inherent.0,
            x.inherent.1,
            x.residual.0,
            x.residual.1,
            escape(&x.level),
            escape(&x.treatment)
        );
    }
    h.push_str("</tbody></table>");
    if let Some(sim) = &r.simulation {
        let _ = write!(h, "<p>{}</p>", escape(sim));
        const COLOURS: [&str; 8] = ["#000000", "#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457"];
        let curves: Vec<(String, &'static str, Vec<(f64, f64)>)> =
            r.curves.iter().enumerate().map(|(i, (n, c))| (n.clone(), COLOURS[i % COLOURS.len()], c.clone())).collect();
        h.push_str(&svg::exceedance("Loss-exceedance curves: probability that a year's loss reaches an amount", &r.currency, &curves));
    }
    h.push_str("</section>");
}

fn campaigns(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"campaigns\">Access certification campaigns</h2>");
    if r.campaigns.is_empty() {
        h.push_str("<p>No campaign yet.</p></section>");
        return;
    }
    h.push_str("<table><thead><tr><th scope=\"col\">Campaign</th><th scope=\"col\">Status</th><th scope=\"col\">Due</th><th scope=\"col\">Items</th><th scope=\"col\">Decided</th><th scope=\"col\">Certified</th><th scope=\"col\">Revoked</th><th scope=\"col\">Reviewer diligence</th></tr></thead><tbody>");
    for c in &r.campaigns {
        let diligence: Vec<String> = c
            .reviewers
            .iter()
            .map(|(who, decided, items, share, bursts, with_findings)| {
                format!(
                    "{}: {decided} of {items} decided, {:.0} % certified, {bursts} in bursts, {with_findings} certified with open findings",
                    escape(who),
                    share * 100.0
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr><th scope=\"row\">#{} {}</th><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            c.id,
            escape(&c.name),
            escape(&c.status),
            escape(&c.due),
            c.items,
            c.decided,
            c.certified,
            c.revoked,
            diligence.join("<br>")
        );
    }
    h.push_str("</tbody></table></section>");
}

fn jml(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"jml\">Joiners, movers and leavers</h2>");
    if r.jml.is_empty() {
        h.push_str("<p>No lifecycle event detected yet (they come from successive HR imports).</p></section>");
        return;
    }
    h.push_str(
        "<table><thead><tr><th scope=\"col\">Event</th><th scope=\"col\">Pending</th><th scope=\"col\">Planned</th></tr></thead><tbody>",
    );
    for (kind, pending, planned) in &r.jml {
        let _ =
            write!(h, "<tr><th scope=\"row\">{}</th><td class=\"num\">{pending}</td><td class=\"num\">{planned}</td></tr>", escape(kind));
    }
    let _ = write!(h, "</tbody></table><p>Leavers still pending after their leaving date: {}.</p></section>", r.leavers_overdue);
}

fn ledger(h: &mut String, r: &AuditorReport) {
    h.push_str("<section><h2 id=\"ledger\">Evidence ledger</h2>");
    match &r.checkpoint {
        Some((size, note)) => {
            let _ = write!(
                h,
                "<p>Everything in this report is recorded in Annexa's tamper-evident ledger. This signed checkpoint covers its first {size} entries; an auditor verifies it with <code>annexa ledger verify --key KEY --checkpoint FILE</code>:</p><pre>{}</pre>",
                escape(note)
            );
        }
        None => h.push_str("<p>The ledger has no signed checkpoint.</p>"),
    }
    h.push_str("</section>");
}

/// Writes the page.
pub fn write_html(path: &Path, r: &AuditorReport) -> Result<(), ReportError> {
    std::fs::write(path, html(r)).map_err(|e| ReportError::Write { file: path.display().to_string(), message: e.to_string() })
}

/// The Chromium to print with: `$ANNEXA_CHROMIUM`, else the first of Debian's `chromium`,
/// `chromium-browser`, `google-chrome` on the PATH.
pub fn find_chromium() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("ANNEXA_CHROMIUM") {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Prints `html` (a file) to `pdf` with headless Chromium, within `timeout`.
pub fn print_pdf(html: &Path, pdf: &Path, timeout: std::time::Duration) -> Result<(), ReportError> {
    let fail = |message: String| ReportError::Write { file: pdf.display().to_string(), message };
    let chromium = find_chromium().ok_or_else(|| {
        fail("no Chromium to print with: install Debian's `chromium` (or set ANNEXA_CHROMIUM to a Chrome or Chromium binary)".into())
    })?;
    let html = std::fs::canonicalize(html).map_err(|e| fail(e.to_string()))?;
    // A profile of its own, removed afterwards: nothing of the user's browser is read.
    let profile = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    // Chromium's messages go to a file: a pipe nobody reads while it prints could fill.
    let log_path = profile.path().join("chromium.log");
    let log = std::fs::File::create(&log_path).map_err(|e| fail(e.to_string()))?;
    let mut child = std::process::Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions", "--no-first-run", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| fail(format!("cannot start {}: {e}", chromium.display())))?;
    let started = std::time::Instant::now();
    loop {
        match child.try_wait().map_err(|e| fail(e.to_string()))? {
            Some(status) => {
                let err = std::fs::read_to_string(&log_path).unwrap_or_default();
                let written = std::fs::metadata(pdf).map(|m| m.len() > 0).unwrap_or(false);
                if !status.success() || !written {
                    let last: Vec<&str> = err.lines().rev().take(3).collect();
                    return Err(fail(format!("{} did not print the report ({status}): {}", chromium.display(), last.join(" | "))));
                }
                return Ok(());
            }
            None if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("{} took more than {} s to print the report", chromium.display(), timeout.as_secs())));
            }
            None => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}
