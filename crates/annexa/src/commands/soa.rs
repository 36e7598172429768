//! `annexa soa show|set|draft|approve|versions|diff|export`: the Statement of Applicability.

use crate::cli::{GlobalArgs, SoaCommand};
use crate::commands::setup::app_with_config;
use crate::output::{print_json, Format, Table};
use annexa_app::soa::{SoaFormat, SoaSet};
use annexa_core::soa::SoaRow;
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, cmd: SoaCommand) -> anyhow::Result<ExitCode> {
    let app = app_with_config(global)?;
    let json = global.format == Format::Json;
    match cmd {
        SoaCommand::Show { controls, theme } => {
            let view = app.soa()?;
            let mut wanted = Vec::new();
            for c in &controls {
                wanted.push(annexa_engine::soa::resolve(c).map_err(|e| anyhow::anyhow!(annexa_app::Error::invalid(e)))?);
            }
            let keep = |r: &SoaRow| {
                (wanted.is_empty() || wanted.contains(&r.control)) && theme.as_deref().is_none_or(|t| r.theme.eq_ignore_ascii_case(t))
            };
            let rows: Vec<&SoaRow> = view.controls.iter().chain(&view.clauses).filter(|r| keep(r)).collect();
            if json {
                print_json(&serde_json::json!({
                    "rows": rows, "approved": view.approved, "changes_since_approval": view.changes_since_approval,
                }))?;
            } else {
                print_rows(&rows, global.format)?;
                match &view.approved {
                    Some(v) => println!(
                        "version {} approved by {} on {}; {} change(s) since (`annexa soa diff`)",
                        v.version,
                        v.approver,
                        v.approved_at.format("%Y-%m-%d"),
                        view.changes_since_approval.len()
                    ),
                    None => {
                        let undecided = view.controls.iter().filter(|r| r.applicable.is_none()).count();
                        println!("draft: no version approved yet; {undecided} of 93 controls undecided")
                    }
                }
            }
        }
        SoaCommand::Set { controls, applicable, reasons, justification, status, implementation, owner, documents, clear_documents } => {
            let set = SoaSet {
                controls,
                applicable,
                reasons: Some(reasons).filter(|r| !r.is_empty()),
                justification,
                status,
                implementation,
                owner,
                documents,
                clear_documents,
            };
            let rows = app.set_soa(&set)?;
            if json {
                print_json(&rows)?;
            } else {
                let refs: Vec<&SoaRow> = rows.iter().collect();
                print_rows(&refs, global.format)?;
            }
        }
        SoaCommand::Draft => {
            let drafted = app.draft_soa()?;
            if json {
                print_json(&drafted)?;
            } else if drafted.is_empty() {
                println!("nothing to draft: every control the register or the audit names is decided");
            } else {
                println!("drafted {} control(s) as applicable by risk assessment: {}", drafted.len(), drafted.join(", "));
                println!("review them with `annexa soa show`, decide the rest with `annexa soa set`, then `annexa soa approve`");
            }
        }
        SoaCommand::Approve { approver, note } => {
            let v = app.approve_soa(&approver, note.as_deref())?;
            if json {
                print_json(&v)?;
            } else {
                println!("approved version {} of the SoA (rows SHA-256 {})", v.version, v.sha256);
            }
        }
        SoaCommand::Versions => {
            let versions = app.soa_versions()?;
            if json {
                print_json(&versions)?;
            } else {
                let mut table = Table::new(&["version", "approved", "approver", "note", "rows sha256"]);
                for v in versions {
                    table.push(vec![
                        v.version.to_string(),
                        v.approved_at.format("%Y-%m-%d %H:%M").to_string(),
                        v.approver,
                        v.note.unwrap_or_default(),
                        v.sha256,
                    ]);
                }
                table.print(global.format)?;
            }
        }
        SoaCommand::Diff { from, to } => {
            let (from, to, changes) = app.soa_diff(from, to)?;
            if json {
                print_json(&serde_json::json!({ "from": from, "to": to, "changes": changes }))?;
            } else if changes.is_empty() {
                println!("no change from {from} to {to}");
            } else {
                println!("from {from} to {to}:");
                let mut table = Table::new(&["control", "field", "from", "to"]);
                for c in changes {
                    table.push(vec![c.control, c.field.to_string(), c.from, c.to]);
                }
                table.print(Format::Table)?;
            }
        }
        SoaCommand::Export { out } => {
            let format = match global.format {
                Format::Xlsx => SoaFormat::Xlsx,
                Format::Csv => SoaFormat::Csv,
                Format::Html => SoaFormat::Html,
                Format::Table => match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                    Some("xlsx") => SoaFormat::Xlsx,
                    Some("csv") => SoaFormat::Csv,
                    Some("html" | "htm") => SoaFormat::Html,
                    _ => anyhow::bail!(annexa_app::Error::invalid(
                        "say the format: --format xlsx|csv|html (or an --out ending in .xlsx, .csv or .html)"
                    )),
                },
                Format::Json | Format::Junit => anyhow::bail!(annexa_app::Error::invalid(
                    "the SoA exports as --format xlsx, csv or html (`annexa soa show --format json` prints it as JSON)"
                )),
            };
            let view = app.export_soa(format, &out)?;
            let applicable = view.controls.iter().filter(|r| r.applicable == Some(true)).count();
            eprintln!(
                "wrote {} ({} controls, {applicable} applicable, {} clauses)",
                out.display(),
                view.controls.len(),
                view.clauses.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_rows(rows: &[&SoaRow], format: Format) -> anyhow::Result<()> {
    let mut table = Table::new(&["control", "title", "applicable", "status", "status from", "owner", "risks", "checks"]);
    for r in rows {
        let status = match (r.applicable, r.status) {
            (Some(false), _) => "n/a".to_string(),
            (_, Some(s)) => s.to_string(),
            (_, None) => String::new(),
        };
        let checks: Vec<String> = r.checks.iter().map(|c| format!("{} {}", c.check, c.result)).collect();
        table.push(vec![
            r.control.clone(),
            r.title.clone(),
            annexa_engine::soa::applicability(r.applicable),
            status,
            r.status_source.clone(),
            r.owner.clone().unwrap_or_default(),
            r.risks.join(" "),
            checks.join(", "),
        ]);
    }
    table.print(if format == Format::Csv { Format::Csv } else { Format::Table })
}
