//! `annexa findings list|show`: read stored findings.

use crate::cli::{FindingsCommand, GlobalArgs, StatusFilter};
use crate::commands::setup::app;
use crate::output::{print_json, Format, Table};
use annexa_store::{FindingFilter, FindingStatus};
use std::process::ExitCode;

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
            let filter = FindingFilter { status, check, min_severity, controls, system, subject, run, limit, offset };
            let page = app.findings(&filter)?;
            let (total, shown) = (page.total, page.findings.len() as u64);
            let found = page.findings;
            match global.format {
                Format::Json => print_json(&found)?,
                Format::Csv => {
                    let plain: Vec<_> = found.into_iter().map(|f| f.finding).collect();
                    crate::commands::audit::print_findings_csv(&plain)?;
                }
                Format::Table | Format::Junit => {
                    let mut table = Table::new(&["id", "severity", "check", "subject", "message"]);
                    for f in found {
                        table.push(vec![f.finding.id, f.finding.severity.to_string(), f.finding.check, f.finding.subject.key, f.finding.message]);
                    }
                    table.print(Format::Table)?;
                }
            }
            let range = if shown == total { String::new() } else if shown == 0 { "none of ".to_string() } else { format!("{}-{} of ", offset + 1, offset + shown) };
            eprintln!("{range}{total} finding(s); `annexa findings show ID` shows the evidence");
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
                                    let fields: Vec<String> =
                                        item.iter().filter(|(k, _)| name.is_none() || *k != "entitlement").map(|(k, v)| format!("{k} = {v}")).collect();
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
