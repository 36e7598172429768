//! `annexa nc open|list|show|action|close`: nonconformities and corrective actions.

use crate::cli::{GlobalArgs, NcCommand};
use crate::commands::setup::app;
use crate::output::{print_json, Format, Table};
use annexa_app::nonconformity::{nc_number, NcRequest};
use annexa_store::nonconformity::Nonconformity;
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, cmd: NcCommand) -> anyhow::Result<ExitCode> {
    let app = app(global);
    let json = global.format == Format::Json;
    match cmd {
        NcCommand::Open { title, control, findings, checks, description, root_cause } => {
            let nc = app.open_nc(&NcRequest { title, control, description, root_cause, findings, checks })?;
            if json {
                print_json(&nc)?;
            } else {
                println!(
                    "opened NC-{} with {} finding(s); add corrective actions with `annexa nc action NC-{} --add …`",
                    nc.id,
                    nc.findings.len(),
                    nc.id
                );
            }
        }
        NcCommand::List { status } => {
            let list = app.ncs(status)?;
            if json {
                print_json(&list)?;
            } else {
                let mut table = Table::new(&["nc", "status", "control", "title", "findings remediated", "actions done", "opened"]);
                for n in list {
                    table.push(vec![
                        format!("NC-{}", n.id),
                        n.status.to_string(),
                        n.control.unwrap_or_default(),
                        n.title,
                        format!("{} of {}", n.findings_remediated, n.findings),
                        format!("{} of {}", n.actions_done, n.actions),
                        n.opened_at.format("%Y-%m-%d").to_string(),
                    ]);
                }
                table.print(Format::Table)?;
            }
        }
        NcCommand::Show { nc } => {
            let nc = app.nc(nc_number(&nc)?)?;
            if json {
                print_json(&nc)?;
            } else {
                print_nc(&nc);
            }
        }
        NcCommand::Action { nc, add, owner, due, set, status, root_cause } => {
            let nc = nc_number(&nc)?;
            match (add, set, root_cause) {
                (Some(description), None, None) => {
                    let (Some(owner), Some(due)) = (owner, due) else { anyhow::bail!("--add needs --owner and --due") };
                    let due = annexa_core::time::parse_instant(&due)
                        .ok_or_else(|| anyhow::anyhow!("--due {due:?} is not a date: expected 2027-01-31"))?;
                    let seq = app.add_nc_action(nc, &description, &owner, due)?;
                    if !json {
                        println!("NC-{nc}: action {seq} added");
                    }
                }
                (None, Some(seq), None) => {
                    let Some(status) = status else { anyhow::bail!("--set needs --status") };
                    app.set_nc_action(nc, seq, status)?;
                    if !json {
                        println!("NC-{nc}: action {seq} is {status}");
                    }
                }
                (None, None, Some(cause)) => {
                    app.set_nc_root_cause(nc, &cause)?;
                    if !json {
                        println!("NC-{nc}: root cause recorded");
                    }
                }
                _ => anyhow::bail!("say what to do: --add TEXT --owner X --due DATE, --set N --status STATUS, or --root-cause TEXT"),
            }
            if json {
                print_json(&app.nc(nc)?)?;
            }
        }
        NcCommand::Close { nc, effectiveness } => {
            let nc = app.close_nc(nc_number(&nc)?, &effectiveness)?;
            if json {
                print_json(&nc)?;
            } else {
                println!("closed NC-{} on the results of audit run #{}", nc.id, nc.closed_run.unwrap_or_default());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_nc(nc: &Nonconformity) {
    let day = |t: annexa_core::time::Instant| t.format("%Y-%m-%d").to_string();
    println!("NC-{}  [{}] {}", nc.id, nc.status, nc.title);
    if let Some(c) = &nc.control {
        println!("  control:     {c}");
    }
    println!("  description: {}", nc.description);
    println!("  root cause:  {}", nc.root_cause.as_deref().unwrap_or("(not recorded yet)"));
    println!("  opened:      {} by {}", day(nc.opened_at), nc.opened_by);
    if let (Some(at), Some(by)) = (nc.closed_at, &nc.closed_by) {
        println!("  closed:      {} by {}, on audit run #{}", day(at), by, nc.closed_run.unwrap_or_default());
        println!("  effectiveness: {}", nc.effectiveness.as_deref().unwrap_or_default());
    }
    if !nc.findings.is_empty() {
        println!("  findings:");
        for f in &nc.findings {
            let confirmed = match (f.resolved_run, f.confirmed) {
                (Some(run), true) => format!(" (remediated by run #{run}, confirmed since)"),
                (Some(run), false) => format!(" (remediated by run #{run}, not yet confirmed by a later audit)"),
                _ => String::new(),
            };
            println!("    {} {} {}{confirmed}", f.id, f.check, f.state);
        }
    }
    println!("  actions:");
    if nc.actions.is_empty() {
        println!("    (none yet)");
    }
    for a in &nc.actions {
        println!("    {}. [{}] {} — {} by {}", a.seq, a.status, a.description, a.owner, day(a.due));
    }
    if !nc.blockers.is_empty() {
        println!("  cannot close yet:");
        for b in &nc.blockers {
            println!("    - {b}");
        }
    }
}
