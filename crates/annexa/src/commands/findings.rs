//! `annexa findings list|show`: read stored findings.

use crate::cli::{FindingsCommand, GlobalArgs, StatusFilter};
use crate::commands::setup::app;
use crate::output::{print_json, Format, Table};
use annexa_store::{FindingFilter, FindingStatus};
use std::io::Write;
use std::process::ExitCode;

/// Findings a table shows when `--limit` does not say.
const TABLE_PAGE: u64 = 100;

pub fn run(global: &GlobalArgs, cmd: FindingsCommand) -> anyhow::Result<ExitCode> {
    let app = app(global);
    match cmd {
        FindingsCommand::List { status, check, severity, control, system, subject, run, limit, offset } => {
            let status = match status {
                StatusFilter::Open => Some(FindingStatus::Open),
                StatusFilter::Resolved => Some(FindingStatus::Resolved),
                StatusFilter::All => None,
            };
            if let Some(c) = &check {
                if annexa_engine::checks::check(c).is_none() {
                    anyhow::bail!("{}", annexa_engine::UnknownCheck(c.clone()));
                }
            }
            let min_severity = severity;
            // A 2013 id finds the findings of every 2022 control it maps to.
            let controls = match control {
                None => Vec::new(),
                Some(c) => {
                    let found = annexa_core::catalog::Catalog::get().resolve(&c);
                    if found.is_empty() {
                        anyhow::bail!("--control {c:?} is not an Annex A control (2022 or 2013 id)");
                    }
                    found.iter().map(|x| x.id.clone()).collect()
                }
            };
            // A table is read by a person: a page of it unless --limit says otherwise. JSON
            // and CSV are read by programs: all of it, written as it is read.
            let table = !matches!(global.format, Format::Json | Format::Csv);
            let limit = if table { Some(limit.unwrap_or(TABLE_PAGE)) } else { limit };
            let filter = FindingFilter { status, check, min_severity, controls, system, subject, run, limit, offset };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut shown = 0u64;
            let total = match global.format {
                Format::Json => {
                    out.write_all(b"[")?;
                    let total = app.findings_each(&filter, true, |f| {
                        out.write_all(if shown == 0 { b"\n" } else { b",\n" })?;
                        shown += 1;
                        serde_json::to_writer(&mut out, &f).map_err(std::io::Error::other)
                    })?;
                    out.write_all(b"\n]\n")?;
                    total
                }
                Format::Csv => {
                    let mut total = None;
                    crate::commands::audit::write_findings_csv(&mut out, |each| {
                        total = app.findings_each(&filter, true, |f| {
                            shown += 1;
                            each(f)
                        })?;
                        Ok(())
                    })?;
                    total
                }
                Format::Table | Format::Junit => {
                    let mut table = Table::new(&["id", "severity", "check", "subject", "message"]);
                    let total = app.findings_each(&filter, true, |f| {
                        shown += 1;
                        table.push(vec![
                            f.finding.id,
                            f.finding.severity.to_string(),
                            f.finding.check,
                            f.finding.subject.key,
                            f.finding.message,
                        ]);
                        Ok(())
                    })?;
                    table.write_aligned(&mut out)?;
                    total
                }
            };
            out.flush()?;
            let total = total.unwrap_or(shown);
            let range = if shown == total {
                String::new()
            } else if shown == 0 {
                "none of ".to_string()
            } else {
                format!("{}-{} of ", offset + 1, offset + shown)
            };
            let more = if table && offset + shown < total {
                format!("; --offset {} for the next page, --format csv or json for all", offset + shown)
            } else {
                String::new()
            };
            eprintln!("{range}{} finding(s){more}; `annexa findings show ID` shows the evidence", crate::commands::setup::thousands(total));
        }
        FindingsCommand::Show { id } => {
            let f = app.finding(&id)?;
            match global.format {
                Format::Json | Format::Csv | Format::Junit => print_json(&f)?,
                Format::Table => {
                    let x = &f.finding;
                    println!("{}  [{}] {}", x.id, x.severity, x.check);
                    println!("  {}", x.message);
                    println!("  subject:   {} {} ({})", x.subject.kind, x.subject.key, x.subject.label);
                    println!("  controls:  {}", x.controls.join(", "));
                    println!(
                        "  status:    {} (first seen in run #{}, last in run #{}{})",
                        if f.status == FindingStatus::Open { "open" } else { "resolved" },
                        f.first_run,
                        f.last_run,
                        f.resolved_run.map(|r| format!(", resolved in run #{r}")).unwrap_or_default()
                    );
                    if let Some(t) = x.evidence.as_of {
                        println!("  as of:     {}", t.to_rfc3339());
                    }
                    println!("  evidence:");
                    for r in &x.evidence.records {
                        println!("    {} {}: {} line {} (import #{}, sha256 {})", r.record, r.key, r.file, r.line, r.import_id, r.sha256);
                    }
                    for (k, v) in &x.evidence.values {
                        match v.as_array() {
                            // Details of several records (the assignments a finding covers): one line each.
                            Some(items) if !items.is_empty() && items.iter().all(serde_json::Value::is_object) => {
                                println!("    {k}:");
                                for item in items.iter().filter_map(serde_json::Value::as_object) {
                                    let name = item.get("entitlement").and_then(serde_json::Value::as_str);
                                    let fields: Vec<String> = item
                                        .iter()
                                        .filter(|(k, _)| name.is_none() || *k != "entitlement")
                                        .map(|(k, v)| format!("{k} = {v}"))
                                        .collect();
                                    match name {
                                        Some(name) => println!("      - {name}: {}", fields.join(", ")),
                                        None => println!("      - {}", fields.join(", ")),
                                    }
                                }
                            }
                            _ => println!("    {k} = {v}"),
                        }
                    }
                    if !x.evidence.parameters.is_empty() {
                        println!("  parameters: {}", serde_json::Value::Object(x.evidence.parameters.clone()));
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
