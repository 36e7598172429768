//! One module per subcommand; `run` dispatches.

pub mod audit;
mod controls;

mod findings;
pub mod evidence;
pub mod import;
pub mod ledger;
pub mod setup;

use crate::cli::{Cli, Command, ConfigCommand};
use crate::output::Table;
use std::process::ExitCode;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Import(args) => import::run(global, args),
        Command::Audit(args) => audit::run(global, args),
        Command::Findings(cmd) => findings::run(global, cmd),
        Command::Controls(cmd) => controls::run(global, cmd),
        Command::Demo(args) => crate::demo::run(global, args),
        Command::Ledger(cmd) => ledger::run(global, cmd),
        Command::Evidence(cmd) => evidence::run(global, cmd),
        Command::Jml(crate::cli::JmlCommand::List { kind }) => {
            let kind = match kind {
                None => None,
                Some(k) => Some(annexa_core::model::JmlKind::parse(&k).ok_or_else(|| {
                    anyhow::anyhow!("--kind {k:?}: expected one of {}", annexa_core::model::JmlKind::expected())
                })?),
            };
            let mut store = setup::open_store(global)?;
            let events = store.jml_events(kind)?;
            if global.format == crate::output::Format::Json {
                let list: Vec<serde_json::Value> = events
                    .iter()
                    .map(|e| serde_json::json!({ "event": e.event, "status": e.status, "import_id": e.import_id }))
                    .collect();
                crate::output::print_json(&list)?;
            } else {
                let mut table = Table::new(&["event", "kind", "employee_id", "effective_at", "status", "reason"]);
                for e in events {
                    table.push(vec![
                        e.event.id,
                        e.event.kind.to_string(),
                        e.event.employee_id.to_string(),
                        e.event.effective_at.to_rfc3339(),
                        e.status,
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
        Command::Imports => {
            let mut store = setup::open_store(global)?;
            let mut table = Table::new(&["import", "kind", "systems", "file", "rows", "sha256", "imported_at"]);
            for i in store.current_imports()? {
                table.push(vec![
                    format!("#{}", i.id),
                    i.kind,
                    i.systems.join(" "),
                    i.file,
                    i.rows.to_string(),
                    i.sha256,
                    i.imported_at.to_rfc3339(),
                ]);
            }
            table.print(global.format)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
