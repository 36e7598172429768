//! `annexa policy test|eval|compare|reference`: checks written in Rego.

use crate::cli::{GlobalArgs, PolicyCommand};
use crate::commands::setup::app_with_config;
use crate::output::{print_json, Format, Table};
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    let app = app_with_config(global)?;
    let json = global.format == Format::Json;
    match cmd {
        PolicyCommand::Test { dir } => {
            let results = app.policy_tests(dir.as_deref())?;
            let failed = results.iter().filter(|r| r.outcome != "pass").count();
            if json {
                print_json(&results)?;
            } else {
                for r in &results {
                    let why = r.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
                    println!("{} {} ({}){why}", r.outcome.to_uppercase(), r.test, r.file);
                }
                println!("{} passed, {failed} failed or in error", results.len() - failed);
            }
            return Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
        PolicyCommand::Eval { query, input, dir } => {
            let input = match input {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                    Some(
                        serde_json::from_str(&text)
                            .map_err(|e| annexa_app::Error::invalid(format!("{}: not JSON: {e}", path.display())))?,
                    )
                }
            };
            print_json(&app.policy_eval(dir.as_deref(), &query, input)?)?;
        }
        PolicyCommand::Compare { checks, as_of } => {
            let as_of = match as_of {
                None => app.now(),
                Some(t) => annexa_core::time::parse_instant(&t)
                    .ok_or_else(|| anyhow::anyhow!("--as-of {t:?} is not a time: expected 2026-10-01T00:00:00Z"))?,
            };
            let results = app.compare_policies(&checks, as_of)?;
            let differ = results
                .iter()
                .any(|c| c.error.is_some() || !c.only_native.is_empty() || !c.only_rego.is_empty() || !c.different.is_empty());
            if json {
                print_json(&results)?;
            } else {
                let mut table = Table::new(&["check", "native", "rego", "differ", "native s", "rego s", "ratio"]);
                let (mut native, mut rego) = (0.0, 0.0);
                for c in &results {
                    native += c.native_seconds;
                    rego += c.rego_seconds;
                    let differ = c.only_native.len() + c.only_rego.len() + c.different.len();
                    table.push(vec![
                        c.check.clone(),
                        c.native_findings.to_string(),
                        c.rego_findings.to_string(),
                        c.error.clone().unwrap_or_else(|| differ.to_string()),
                        format!("{:.3}", c.native_seconds),
                        format!("{:.3}", c.rego_seconds),
                        format!("{:.0}×", c.rego_seconds / c.native_seconds.max(1e-9)),
                    ]);
                }
                table.print(Format::Table)?;
                println!("native is {:.0}× faster than Rego ({native:.3} s against {rego:.3} s)", rego / f64::max(native, 1e-9));
            }
            return Ok(if differ { ExitCode::from(1) } else { ExitCode::SUCCESS });
        }
        PolicyCommand::Reference { out } => {
            std::fs::create_dir_all(&out)?;
            for (id, text) in annexa_engine::rego::reference::REFERENCE {
                let path = out.join(format!("{id}.rego"));
                std::fs::write(&path, text)?;
                println!("{}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
