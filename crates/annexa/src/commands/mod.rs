//! One module per subcommand; `run` dispatches.

pub mod audit;
mod campaign;
mod controls;
pub mod demo;

pub mod evidence;
mod findings;
pub mod import;
pub mod ledger;
mod nc;
mod policy;
pub mod provision;
mod risk;
pub mod serve;
pub mod setup;
mod soa;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::output::Table;
use std::process::ExitCode;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Import(args) => import::run(global, args),
        Command::Audit(args) => audit::run(global, args),
        Command::Findings(cmd) => findings::run(global, cmd),
        Command::Nc(cmd) => nc::run(global, cmd),
        Command::Risk(cmd) => risk::run(global, cmd),
        Command::Soa(cmd) => soa::run(global, cmd),
        Command::Policy(cmd) => policy::run(global, cmd),
        Command::Report(cmd) => {
            let app = setup::app_with_config(global)?;
            let out = match cmd {
                crate::cli::ReportCommand::Html { out } => {
                    app.report_html(&out)?;
                    out
                }
                crate::cli::ReportCommand::Pdf { out } => {
                    app.report_pdf(&out)?;
                    out
                }
                crate::cli::ReportCommand::Oscal { out } => {
                    let files = app.report_oscal(&out)?;
                    if global.format == crate::output::Format::Json {
                        crate::output::print_json(&files)?;
                    }
                    eprintln!(
                        "wrote {} and {} ({} of {} open findings reported as observations)",
                        files.assessment_plan.display(),
                        files.component_definition.display(),
                        files.findings_reported,
                        files.open_total
                    );
                    out
                }
            };
            eprintln!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Campaign(cmd) => campaign::run(global, cmd),
        Command::Controls(cmd) => controls::run(global, cmd),
        Command::Demo(args) => demo::run(global, args),
        Command::Ledger(cmd) => ledger::run(global, cmd),
        Command::Evidence(cmd) => evidence::run(global, cmd),
        Command::Roles(crate::cli::RolesCommand::List) => {
            let (config, _) = setup::load_config(global)?;
            let mut table = Table::new(&["role", "entitlements", "granted by birthright rules"]);
            for r in &config.roles {
                let by: Vec<&str> = config.birthright.iter().filter(|b| b.roles.contains(&r.id)).map(|b| b.id.as_str()).collect();
                table.push(vec![r.id.clone(), r.entitlements.join(" "), by.join(" ")]);
            }
            table.print(global.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Roles(crate::cli::RolesCommand::Explain { employee_id }) => {
            let x = setup::app_with_config(global)?.explain(&employee_id)?;
            if global.format == crate::output::Format::Json {
                crate::output::print_json(&x)?;
            } else {
                println!("{} {} — {}, {}, {} ({})", x.employee_id, x.name, x.title, x.department, x.location, x.worker_type);
                if x.rules.is_empty() {
                    println!("  no birthright rule applies");
                }
                for (rule, roles) in &x.rules {
                    println!("  birthright rule {rule} gives roles {}", roles.join(", "));
                }
                if !x.entitled.is_empty() {
                    println!("  entitled to: {}", x.entitled.join(", "));
                }
                let mut table = Table::new(&["account", "entitlement", "source", "explained by"]);
                for h in &x.holdings {
                    let account = if h.enabled { h.account.clone() } else { format!("{} (disabled)", h.account) };
                    table.push(vec![account, h.entitlement.clone(), h.source.to_string(), h.explained_by.clone()]);
                }
                println!();
                table.print(crate::output::Format::Table)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Provision(cmd) => provision::run(global, cmd),
        Command::Serve(args) => serve::run(global, args),
        Command::Token(cmd) => serve::token(global, cmd),
        Command::User(cmd) => serve::user(global, cmd),
        Command::Jml(crate::cli::JmlCommand::RunDue) => provision::run_due(global),
        Command::Jml(crate::cli::JmlCommand::List { kind }) => {
            let events = setup::app(global).jml_events(kind)?;
            if global.format == crate::output::Format::Json {
                let list: Vec<serde_json::Value> =
                    events.iter().map(|e| serde_json::json!({ "event": e.event, "status": e.status, "import_id": e.import_id })).collect();
                crate::output::print_json(&list)?;
            } else {
                let mut table = Table::new(&["event", "kind", "employee_id", "effective_at", "status", "reason"]);
                for e in events {
                    table.push(vec![
                        e.event.id,
                        e.event.kind.to_string(),
                        e.event.employee_id.to_string(),
                        e.event.effective_at.to_rfc3339(),
                        e.status.to_string(),
                        e.event.reason,
                    ]);
                }
                table.print(global.format)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Show) => {
            let (config, path) = setup::load_config(global)?;
            println!("# effective configuration ({})", path.as_deref().unwrap_or("built-in defaults; no annexa.toml"));
            print!("{}", config.to_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Imports { failed: true } => {
            let app = setup::app(global);
            let mut table = Table::new(&["kind", "system", "failing_since", "last_failed_at", "attempts", "file", "sha256", "error"]);
            for f in app.import_failures()? {
                table.push(vec![
                    f.kind,
                    f.system,
                    f.first_failed_at.to_rfc3339(),
                    f.last_failed_at.to_rfc3339(),
                    f.attempts.to_string(),
                    f.file,
                    f.sha256,
                    f.error,
                ]);
            }
            table.print(global.format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Imports { failed: false } => {
            let app = setup::app(global);
            warn_of_failed_imports(&app)?;
            let mut table = Table::new(&[
                "import",
                "kind",
                "systems",
                "file",
                "rows",
                "sha256",
                "imported_at",
                "refused",
                "quarantine_file",
                "quarantine_sha256",
            ]);
            for i in app.imports()? {
                let (refused, quarantine_file, quarantine_sha256) = match i.quarantine {
                    Some(q) => (q.refused, q.file, q.sha256),
                    None => (0, String::new(), String::new()),
                };
                table.push(vec![
                    format!("#{}", i.id),
                    i.kind,
                    i.systems.join(" "),
                    i.file,
                    i.rows.to_string(),
                    i.sha256,
                    i.imported_at.to_rfc3339(),
                    refused.to_string(),
                    quarantine_file,
                    quarantine_sha256,
                ]);
            }
            table.print(global.format)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Says on stderr which sources failed their latest automatic import: their records are
/// those of their last good import, which a reader of a list or an audit must know.
pub fn warn_of_failed_imports(app: &annexa_app::App) -> anyhow::Result<()> {
    for f in app.import_failures()? {
        eprintln!(
            "warning: what was pushed for {} has failed to import since {} ({} attempts; `annexa imports --failed`); its accounts are those of its last good import: {}",
            f.system,
            f.first_failed_at.to_rfc3339(),
            f.attempts,
            f.error
        );
    }
    Ok(())
}
