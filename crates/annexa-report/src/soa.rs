//! The Statement of Applicability as an auditor opens it: an XLSX workbook (the SoA with a
//! frozen header and first column, filters, fitted widths, wrapped text and a colour per
//! status; a summary per Annex A theme; the mandatory clauses 4–10; the approval), a CSV
//! of the same rows, or one self-contained HTML page.

use crate::ReportError;
use annexa_core::soa::{Implementation, SoaRow};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use std::path::Path;

/// What the document says about itself.
#[derive(Debug, Clone, Default)]
pub struct SoaMeta {
    /// When it was produced (`2026-12-03 19:20 UTC`).
    pub generated: String,
    /// The approval it shows: `version 3, approved by E0001 on 2026-12-01 (sha256 …)`, or
    /// that it is a draft.
    pub approval: String,
    /// Changes since the approved version, one line each (empty: none).
    pub changes_since_approval: Vec<String>,
}

const HEADER: &[&str] = &[
    "Control",
    "Title",
    "Theme",
    "Applicable",
    "Reasons for inclusion",
    "Justification for exclusion",
    "Status",
    "Status from",
    "How it is implemented",
    "Owner",
    "Linked risks",
    "Automated checks (latest result)",
    "Evidence (ledger entry, checkpoint)",
    "Documents",
    "Approval",
];

/// The cells of a row, in [`HEADER`] order.
fn cells(r: &SoaRow) -> Vec<String> {
    vec![
        r.control.clone(),
        r.title.clone(),
        r.theme.clone(),
        applicable(r),
        r.reasons.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
        r.justification.clone().unwrap_or_default(),
        status(r),
        r.status_source.clone(),
        match (&r.implementation, &r.held) {
            (Some(i), Some(h)) => format!("{i}\n{h}"),
            (i, h) => i.clone().or(h.clone()).unwrap_or_default(),
        },
        r.owner.clone().unwrap_or_default(),
        r.risks.join(", "),
        r.checks
            .iter()
            .map(|c| match (&c.at, c.result.as_str()) {
                (_, "not run") => format!("{}: not run", c.check),
                (Some(at), "failed") => format!("{}: {} open ({})", c.check, c.open_findings, at.format("%Y-%m-%d")),
                (Some(at), result) => format!("{}: {result} ({})", c.check, at.format("%Y-%m-%d")),
                (None, result) => format!("{}: {result}", c.check),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        r.evidence
            .iter()
            .map(|e| match e.checkpoint {
                Some(size) => format!("#{} {} (checkpoint {size})", e.seq, e.kind),
                None => format!("#{} {} (no checkpoint yet)", e.seq, e.kind),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        r.documents.join("\n"),
        r.approval.clone().unwrap_or_default(),
    ]
}

fn applicable(r: &SoaRow) -> String {
    match r.applicable {
        Some(true) => "yes",
        Some(false) => "no",
        None => "undecided",
    }
    .to_string()
}

fn status(r: &SoaRow) -> String {
    match (r.applicable, r.status) {
        (Some(false), _) => "n/a".into(),
        (_, Some(s)) => s.to_string(),
        (_, None) => "not set".into(),
    }
}

/// The fill colour of a status cell.
fn colour(r: &SoaRow) -> Color {
    match (r.applicable, r.status) {
        (Some(false), _) => Color::RGB(0xD9D9D9),
        (_, Some(Implementation::Implemented)) => Color::RGB(0xC6EFCE),
        (_, Some(Implementation::Partial)) => Color::RGB(0xFFEB9C),
        (_, Some(Implementation::NotStarted)) => Color::RGB(0xFFC7CE),
        (_, None) => Color::RGB(0xFFFFFF),
    }
}

fn failed(file: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> ReportError + '_ {
    move |e| ReportError::Write { file: file.display().to_string(), message: e.to_string() }
}

/// Writes the XLSX workbook.
pub fn write_xlsx(path: &Path, controls: &[SoaRow], clauses: &[SoaRow], meta: &SoaMeta) -> Result<(), ReportError> {
    let err = failed(path);
    let mut book = Workbook::new();
    let head = Format::new().set_bold().set_text_wrap().set_background_color(Color::RGB(0xD9E1F2)).set_border_bottom(FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Statement of Applicability").map_err(&err)?;
        table(sheet, HEADER, controls, &head, &wrap).map_err(&err)?;
        sheet.set_freeze_panes(1, 1).map_err(&err)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Summary").map_err(&err)?;
        summary(sheet, controls, meta, &head).map_err(&err)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Clauses 4-10").map_err(&err)?;
        let header = [
            "Clause",
            "Title",
            "Theme",
            "Applicable",
            "",
            "",
            "Status",
            "Status from",
            "How it is met (and what Annexa holds)",
            "Owner",
            "",
            "",
            "Evidence (ledger entry, checkpoint)",
            "Documents",
        ];
        table(sheet, &header, clauses, &head, &wrap).map_err(&err)?;
        for hidden in [2u16, 3, 4, 5, 10, 11] {
            sheet.set_column_hidden(hidden).map_err(&err)?;
        }
        sheet.set_freeze_panes(1, 1).map_err(&err)?;
    }
    book.save(path).map_err(|e| ReportError::Write { file: path.display().to_string(), message: e.to_string() })
}

fn table(sheet: &mut Worksheet, header: &[&str], rows: &[SoaRow], head: &Format, wrap: &Format) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count().min(24)).collect();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, head)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, cell) in cells(r).iter().enumerate() {
            let cell = annexa_core::text::spreadsheet_safe(cell);
            let format = if c == 6 { wrap.clone().set_background_color(colour(r)) } else { wrap.clone() };
            sheet.write_string_with_format(row, c as u16, cell.as_ref(), &format)?;
            let longest = cell.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(longest);
            }
        }
    }
    sheet.autofilter(0, 0, rows.len().max(1) as u32, (header.len() - 1) as u16)?;
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w as f64 + 2.0).clamp(8.0, 50.0))?;
    }
    Ok(())
}

/// Counts per theme: what an auditor reads first.
pub fn theme_counts(controls: &[SoaRow]) -> Vec<(String, [usize; 7])> {
    let mut themes: Vec<String> = Vec::new();
    for r in controls {
        if !themes.contains(&r.theme) {
            themes.push(r.theme.clone());
        }
    }
    themes.push("All".into());
    themes
        .into_iter()
        .map(|t| {
            let rows: Vec<&SoaRow> = controls.iter().filter(|r| t == "All" || r.theme == t).collect();
            let applicable = |s: Option<Implementation>| rows.iter().filter(|r| r.applicable != Some(false) && r.status == s).count();
            let counts = [
                rows.len(),
                rows.iter().filter(|r| r.applicable == Some(true)).count(),
                rows.iter().filter(|r| r.applicable == Some(false)).count(),
                rows.iter().filter(|r| r.applicable.is_none()).count(),
                applicable(Some(Implementation::Implemented)),
                applicable(Some(Implementation::Partial)),
                applicable(Some(Implementation::NotStarted)),
            ];
            (t, counts)
        })
        .collect()
}

const SUMMARY_HEADER: [&str; 8] = ["Theme", "Controls", "Applicable", "Excluded", "Undecided", "Implemented", "Partial", "Not started"];

fn summary(sheet: &mut Worksheet, controls: &[SoaRow], meta: &SoaMeta, head: &Format) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (c, h) in SUMMARY_HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, head)?;
    }
    let counts = theme_counts(controls);
    for (i, (theme, n)) in counts.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, theme)?;
        for (c, v) in n.iter().enumerate() {
            sheet.write_number(row, c as u16 + 1, *v as f64)?;
        }
    }
    let mut row = counts.len() as u32 + 2;
    for (label, value) in [("Generated", meta.generated.as_str()), ("Approval", meta.approval.as_str())] {
        sheet.write_string_with_format(row, 0, label, head)?;
        sheet.write_string(row, 1, value)?;
        row += 1;
    }
    if !meta.changes_since_approval.is_empty() {
        sheet.write_string_with_format(row, 0, "Changed since approval", head)?;
        for change in &meta.changes_since_approval {
            sheet.write_string(row, 1, annexa_core::text::spreadsheet_safe(change).as_ref())?;
            row += 1;
        }
    }
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 14)?;
    Ok(())
}

/// Writes the controls, then the clauses, as CSV (formula cells neutralised).
pub fn write_csv(path: &Path, controls: &[SoaRow], clauses: &[SoaRow]) -> Result<(), ReportError> {
    let err = |e: csv::Error| ReportError::Write { file: path.display().to_string(), message: e.to_string() };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    w.write_record(HEADER).map_err(err)?;
    for r in controls.iter().chain(clauses) {
        let row: Vec<String> = cells(r).iter().map(|c| annexa_core::text::spreadsheet_safe(c).into_owned()).collect();
        w.write_record(&row).map_err(err)?;
    }
    w.flush().map_err(|e| ReportError::Write { file: path.display().to_string(), message: e.to_string() })
}

/// Escapes text for HTML.
pub use annexa_core::text::escape_html as escape;

/// The SoA as an HTML fragment: the summary per theme, the controls, the clauses.
pub fn html_section(controls: &[SoaRow], clauses: &[SoaRow], meta: &SoaMeta) -> String {
    let mut h = String::new();
    h.push_str(&format!("<p>{}</p>", escape(&meta.approval)));
    if !meta.changes_since_approval.is_empty() {
        h.push_str("<details><summary>Changed since approval</summary><ul>");
        for c in &meta.changes_since_approval {
            h.push_str(&format!("<li>{}</li>", escape(c)));
        }
        h.push_str("</ul></details>");
    }
    h.push_str("<table class=\"summary\"><thead><tr>");
    for c in SUMMARY_HEADER {
        h.push_str(&format!("<th scope=\"col\">{c}</th>"));
    }
    h.push_str("</tr></thead><tbody>");
    for (theme, n) in theme_counts(controls) {
        h.push_str(&format!("<tr><th scope=\"row\">{}</th>", escape(&theme)));
        for v in n {
            h.push_str(&format!("<td>{v}</td>"));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    for (caption, rows) in [("Annex A controls", controls), ("Clauses 4 to 10", clauses)] {
        h.push_str(&format!("<table class=\"soa\"><caption>{caption}</caption><thead><tr>"));
        for c in HEADER {
            h.push_str(&format!("<th scope=\"col\">{c}</th>"));
        }
        h.push_str("</tr></thead><tbody>");
        for r in rows {
            let class = match (r.applicable, r.status) {
                (Some(false), _) => "na",
                (_, Some(Implementation::Implemented)) => "implemented",
                (_, Some(Implementation::Partial)) => "partial",
                (_, Some(Implementation::NotStarted)) => "not-started",
                (_, None) => "unset",
            };
            h.push_str("<tr>");
            for (i, cell) in cells(r).iter().enumerate() {
                let text = escape(cell).replace('\n', "<br>");
                if i == 0 {
                    h.push_str(&format!("<th scope=\"row\">{text}</th>"));
                } else if i == 6 {
                    h.push_str(&format!("<td class=\"{class}\">{text}</td>"));
                } else {
                    h.push_str(&format!("<td>{text}</td>"));
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
    }
    h
}

/// The CSS the SoA's HTML uses (inline: the page makes no request).
pub const CSS: &str =
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1a1a1a}table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}\
th,td{border:1px solid #bbb;padding:.3rem .5rem;vertical-align:top;text-align:left}thead th{background:#d9e1f2;position:sticky;top:0}\
caption{font-weight:bold;text-align:left;padding:.5rem 0}.implemented{background:#c6efce}.partial{background:#ffeb9c}\
.not-started{background:#ffc7ce}.na{background:#d9d9d9}";

/// Writes a self-contained HTML page of the SoA.
pub fn write_html(path: &Path, controls: &[SoaRow], clauses: &[SoaRow], meta: &SoaMeta) -> Result<(), ReportError> {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Statement of Applicability</title><style>{CSS}</style></head>\
<body><h1>Statement of Applicability</h1><p>ISO/IEC 27001:2022 Annex A, generated {}</p>{}</body></html>\n",
        escape(&meta.generated),
        html_section(controls, clauses, meta)
    );
    std::fs::write(path, page).map_err(|e| ReportError::Write { file: path.display().to_string(), message: e.to_string() })
}
