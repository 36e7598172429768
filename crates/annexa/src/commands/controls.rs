//! `annexa controls list|show`: the Annex A catalog, the 2013 mapping and the crosswalk.

use crate::cli::{ControlsCommand, GlobalArgs};
use crate::output::{print_json, Format, Table};
use annexa_core::catalog::Catalog;
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, cmd: ControlsCommand) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::get();
    match cmd {
        ControlsCommand::List { theme, identity } => {
            if let Some(t) = &theme {
                if !catalog.themes().iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    anyhow::bail!("unknown theme {t:?}: expected one of {}", catalog.themes().join(", "));
                }
            }
            let mut table = Table::new(&["control", "title", "theme", "identity", "checks"]);
            for c in catalog.controls() {
                if theme.as_ref().is_some_and(|t| !c.theme.eq_ignore_ascii_case(t)) || (identity && !c.iam_relevant) {
                    continue;
                }
                let checks: Vec<&str> = annexa_engine::checks::checks_for_control(&c.id).map(|d| d.id).collect();
                table.push(vec![
                    c.id.clone(),
                    c.title.clone(),
                    c.theme.clone(),
                    if c.iam_relevant { "yes".into() } else { String::new() },
                    checks.join(" "),
                ]);
            }
            table.print(global.format)?;
        }
        ControlsCommand::Show { id } => {
            let found = catalog.resolve(&id);
            if found.is_empty() {
                anyhow::bail!("no Annex A control {id:?}: expected a 2022 id such as A.5.18 or a 2013 id such as A.9.2.6");
            }
            let mapped_from_2013 = catalog.control(&id).is_none();
            let mut docs = Vec::new();
            for c in found {
                let checks: Vec<&str> = annexa_engine::checks::checks_for_control(&c.id).map(|d| d.id).collect();
                let x = catalog.crosswalk(&c.id).cloned().unwrap_or_default();
                let preds: Vec<String> = catalog.predecessors(&c.id).iter().map(|m| format!("{} {}", m.id_2013, m.title_2013)).collect();
                docs.push(serde_json::json!({
                    "control": c.id, "title": c.title, "theme": c.theme,
                    "new_in_2022": c.new_in_2022, "identity_relevant": c.iam_relevant,
                    "checks": checks, "iso27001_2013": preds,
                    "soc2": x.soc2, "nist_csf_2": x.nist_csf_2, "cis_v8": x.cis_v8,
                    "crosswalk_confidence": x.confidence,
                }));
            }
            match global.format {
                Format::Json => print_json(&docs)?,
                _ => {
                    if mapped_from_2013 {
                        println!("{id} is an ISO/IEC 27001:2013 control; in 2022 it is:\n");
                    }
                    for d in &docs {
                        print_control(d);
                    }
                }
            }
        }
        ControlsCommand::Status { framework } => {
            let framework = annexa_app::soa::Framework::parse(&framework)?;
            let app = crate::commands::setup::app_with_config(global)?;
            let status = app.framework_status(framework)?;
            if global.format == Format::Json {
                print_json(&status)?;
            } else {
                let mut table = Table::new(&["requirement", "result", "ISO/IEC 27001 controls", "checks (latest result)"]);
                for r in &status {
                    let controls: Vec<String> = r.controls.iter().map(|c| format!("{} {}", c.control, c.title)).collect();
                    let mut checks: Vec<String> =
                        r.controls.iter().flat_map(|c| &c.checks).map(|c| format!("{} {}", c.check, c.result)).collect();
                    checks.sort();
                    checks.dedup();
                    table.push(vec![r.requirement.clone(), r.result.clone(), controls.join("; "), checks.join(", ")]);
                }
                table.print(global.format)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_control(d: &serde_json::Value) {
    let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
    let list = |k: &str| {
        let v: Vec<String> = d[k].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(String::from)).collect();
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    println!("{}  {}", s("control"), s("title"));
    println!("  theme:          {}{}", s("theme"), if d["new_in_2022"] == true { " (new in 2022)" } else { "" });
    println!("  checks:         {}", list("checks"));
    println!("  2013 controls:  {}", list("iso27001_2013"));
    println!("  SOC 2:          {}", list("soc2"));
    println!("  NIST CSF 2.0:   {}", list("nist_csf_2"));
    println!("  CIS v8:         {}", list("cis_v8"));
    println!();
}
