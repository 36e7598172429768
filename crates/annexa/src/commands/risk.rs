//! `annexa risk add|list|show|edit|treat|suggest|simulate|library`: the risk register.

use crate::cli::{GlobalArgs, RiskCommand, RiskFields};
use crate::commands::setup::app_with_config;
use crate::output::{print_json, Format, Table};
use annexa_app::risk::{parse_range, risk_number, RiskDraft};
use annexa_core::risk::{risk_label, Risk};
use annexa_engine::risk::{library, money, number, RiskMatrix};
use std::process::ExitCode;

fn draft(f: RiskFields, unquantify: bool) -> anyhow::Result<RiskDraft> {
    let review_due = match &f.review {
        None => None,
        Some(d) => {
            Some(annexa_core::time::parse_instant(d).ok_or_else(|| anyhow::anyhow!("--review {d:?} is not a date: expected 2027-06-30"))?)
        }
    };
    Ok(RiskDraft {
        title: f.title,
        asset: f.asset,
        threat: f.threat,
        vulnerability: f.vulnerability,
        owner: f.owner,
        likelihood: f.likelihood,
        impact: f.impact,
        residual_likelihood: f.residual_likelihood,
        residual_impact: f.residual_impact,
        treatment: f.treatment,
        plan: f.plan,
        controls: Some(f.controls).filter(|c| !c.is_empty()),
        checks: Some(f.checks).filter(|c| !c.is_empty()),
        review_due,
        frequency: f.frequency.as_deref().map(|r| parse_range(r, "--frequency")).transpose()?,
        driver: f.driver,
        loss: f.loss.as_deref().map(|r| parse_range(r, "--loss")).transpose()?,
        loss_most_likely: f.loss_most_likely,
        shape: f.shape,
        unquantify,
    })
}

pub fn run(global: &GlobalArgs, cmd: RiskCommand) -> anyhow::Result<ExitCode> {
    let app = app_with_config(global)?;
    let json = global.format == Format::Json;
    let matrix = RiskMatrix::new(&app.settings.config.risk);
    match cmd {
        RiskCommand::Add { library, fields } => {
            let added = if library.is_empty() {
                vec![app.add_risk(&draft(fields, false)?)?]
            } else {
                let keys: Vec<String> = library.into_iter().filter(|k| k != "all").collect();
                let owner = fields.owner.unwrap_or_default();
                app.add_library_risks(&keys, &owner)?
            };
            if json {
                print_json(&added)?;
            } else if added.is_empty() {
                println!("every library risk is already in the register");
            } else {
                for r in &added {
                    println!("added {} {} (residual {})", risk_label(r.id), r.title, rating(&matrix, r.residual));
                }
            }
        }
        RiskCommand::List => {
            let risks = app.risks()?;
            let ale = latest_ale(&app)?;
            if json {
                print_json(&risks)?;
            } else {
                let now = app.now();
                let mut table = Table::new(&["risk", "title", "owner", "inherent", "residual", "treatment", "ALE", "review"]);
                for r in &risks {
                    let review = r.review_due.map(|d| {
                        let day = d.format("%Y-%m-%d").to_string();
                        if d < now {
                            format!("{day} (overdue)")
                        } else {
                            day
                        }
                    });
                    table.push(vec![
                        risk_label(r.id),
                        r.title.clone(),
                        r.owner.clone(),
                        rating(&matrix, r.inherent),
                        rating(&matrix, r.residual),
                        r.treatment.to_string(),
                        ale.get(&risk_label(r.id)).map(|a| format!("{} {}", money(*a), matrix.currency())).unwrap_or_default(),
                        review.unwrap_or_default(),
                    ]);
                }
                table.print(Format::Table)?;
                if risks.is_empty() {
                    eprintln!("the register is empty: `annexa risk add --library all --owner ID` adds the built-in identity risks");
                }
            }
        }
        RiskCommand::Show { risk } => {
            let r = app.risk(risk_number(&risk)?)?;
            if json {
                print_json(&r)?;
            } else {
                print_risk(&r, &matrix);
            }
        }
        RiskCommand::Edit { risk, version, fields, unquantify } => {
            let r = app.edit_risk(risk_number(&risk)?, &draft(fields, unquantify)?, version)?;
            if json {
                print_json(&r)?;
            } else {
                println!("{} is now at version {} (residual {})", risk_label(r.id), r.version, rating(&matrix, r.residual));
            }
        }
        RiskCommand::Treat { risk, version, fields } => {
            let r = app.treat_risk(risk_number(&risk)?, &draft(fields, false)?, version)?;
            if json {
                print_json(&r)?;
            } else {
                println!("{} is treated by {} (residual {})", risk_label(r.id), r.treatment, rating(&matrix, r.residual));
            }
        }
        RiskCommand::Suggest { apply } => {
            if apply.is_empty() {
                let suggestions = app.suggest_risks()?;
                if json {
                    print_json(&suggestions)?;
                } else if suggestions.is_empty() {
                    println!("the register agrees with the latest evidence: nothing to suggest");
                } else {
                    for s in &suggestions {
                        let verb = if s.likelihood_to > s.likelihood_from { "raise" } else { "lower" };
                        println!(
                            "{} {}: {verb} the residual likelihood from {} to {}",
                            s.label, s.title, s.likelihood_from, s.likelihood_to
                        );
                        for why in &s.reasons {
                            println!("    - {why}");
                        }
                    }
                    println!("apply with `annexa risk suggest --apply R-N` (repeatable) or `--apply all`");
                }
            } else {
                let only: Vec<i64> = if apply.iter().any(|a| a == "all") {
                    Vec::new()
                } else {
                    apply.iter().map(|a| risk_number(a)).collect::<Result<_, _>>()?
                };
                let applied = app.apply_suggestions(&only)?;
                if json {
                    let risks: Vec<&Risk> = applied.iter().map(|(_, r)| r).collect();
                    print_json(&risks)?;
                } else if applied.is_empty() {
                    println!("nothing to apply: the register agrees with the latest evidence");
                } else {
                    for (s, r) in &applied {
                        println!(
                            "{}: residual likelihood {} → {} (residual {})",
                            s.label,
                            s.likelihood_from,
                            s.likelihood_to,
                            rating(&matrix, r.residual)
                        );
                    }
                }
            }
        }
        RiskCommand::Simulate { seed, iterations } => {
            let seed = seed.unwrap_or_else(drawn_seed);
            let report = app.simulate_risks(seed, iterations)?;
            if json {
                print_json(&report)?;
            } else {
                let c = &report.currency;
                let mut table = Table::new(&["risk", "title", "ALE", "±", "P10", "P50", "P90", "P99", "years with a loss"]);
                for s in report.outcome.risks.iter().chain(std::iter::once(&report.outcome.portfolio)) {
                    table.push(vec![
                        s.label.clone(),
                        s.title.clone(),
                        money(s.ale),
                        money(s.std_error),
                        money(s.p10),
                        money(s.p50),
                        money(s.p90),
                        money(s.p99),
                        format!("{} %", number(s.p_any_loss * 100.0)),
                    ]);
                }
                println!("annual loss in {c}, {} simulated years, seed {}", report.iterations, report.seed);
                table.print(Format::Table)?;
                let curve = &report.outcome.portfolio.curve;
                if !curve.is_empty() {
                    let points: Vec<String> = curve
                        .iter()
                        .step_by((curve.len() / 6).max(1))
                        .map(|(x, p)| match p * 100.0 {
                            pct if pct > 0.0 && pct < 0.01 => format!("<0.01 % ≥ {}", money(*x)),
                            pct => format!("{} % ≥ {}", number(pct), money(*x)),
                        })
                        .collect();
                    println!("portfolio loss exceedance: {}", points.join(", "));
                }
                for (risk, driver, value) in &report.drivers {
                    println!("{risk}'s frequency follows {driver} = {}", number(*value));
                }
                for (risk, why) in &report.not_simulated {
                    println!("{risk} not simulated: {why}");
                }
                println!(
                    "recorded as simulation #{} (inputs sha256 {}); `annexa risk simulate --seed {} --iterations {}` reproduces it",
                    report.simulation, report.inputs_sha256, report.seed, report.iterations
                );
            }
        }
        RiskCommand::Library => {
            if json {
                let out: Vec<serde_json::Value> = library::LIBRARY
                    .iter()
                    .map(|l| {
                        serde_json::json!({ "key": l.key, "title": l.title, "controls": l.controls, "checks": l.checks,
                        "inherent": { "likelihood": l.inherent.0, "impact": l.inherent.1 }, "frequency": [l.frequency.0, l.frequency.1],
                        "driver": l.driver, "loss": [l.loss.0, l.loss.1], "shape": l.shape })
                    })
                    .collect();
                print_json(&out)?;
            } else {
                let mut table = Table::new(&["key", "title", "controls", "checks", "frequency", "loss per event"]);
                for l in library::LIBRARY {
                    let per = l.driver.map(|d| format!(" per {d}")).unwrap_or_default();
                    table.push(vec![
                        l.key.to_string(),
                        l.title.to_string(),
                        l.controls.join(" "),
                        l.checks.join(" "),
                        format!("{}–{} a year{per}", number(l.frequency.0), number(l.frequency.1)),
                        format!("{}–{} ({})", money(l.loss.0), money(l.loss.1), l.shape),
                    ]);
                }
                table.print(Format::Table)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// "3×4 = 12 high".
fn rating(matrix: &RiskMatrix<'_>, r: annexa_core::risk::Rating) -> String {
    format!("{}×{} = {} {}", r.likelihood, r.impact, r.score(), matrix.level_of(r))
}

/// The latest simulation's ALE per risk label.
fn latest_ale(app: &annexa_app::App) -> anyhow::Result<std::collections::HashMap<String, f64>> {
    let mut out = std::collections::HashMap::new();
    if let Some(sim) = app.latest_simulation()? {
        if let Some(risks) = sim.outcome.get("risks").and_then(|r| r.as_array()) {
            for r in risks {
                if let (Some(label), Some(ale)) = (r.get("label").and_then(|l| l.as_str()), r.get("ale").and_then(|a| a.as_f64())) {
                    out.insert(label.to_string(), ale);
                }
            }
        }
    }
    Ok(out)
}

/// A seed from the clock, for a run without --seed (printed, and recorded with the result).
fn drawn_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (now.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
}

fn print_risk(r: &Risk, matrix: &RiskMatrix<'_>) {
    let day = |t: annexa_core::time::Instant| t.format("%Y-%m-%d").to_string();
    println!("{}  {}", risk_label(r.id), r.title);
    if let Some(k) = &r.key {
        println!("  library:       {k}");
    }
    println!("  asset:         {}", r.asset);
    println!("  threat:        {}", r.threat);
    println!("  vulnerability: {}", r.vulnerability);
    println!("  owner:         {}", r.owner);
    println!("  inherent:      {}", rating(matrix, r.inherent));
    println!(
        "  residual:      {} (likelihood: {}; impact: {})",
        rating(matrix, r.residual),
        matrix.describe_likelihood(r.residual.likelihood),
        matrix.describe_impact(r.residual.impact)
    );
    println!("  treatment:     {}", r.treatment);
    println!("  plan:          {}", r.plan.as_deref().unwrap_or("(none yet)"));
    println!("  controls:      {}", if r.controls.is_empty() { "(none)".into() } else { r.controls.join(", ") });
    println!("  checks:        {}", if r.checks.is_empty() { "(none)".into() } else { r.checks.join(", ") });
    if let Some(q) = &r.quantification {
        let per = q.driver.as_deref().map(|d| format!(" per unit of {d}")).unwrap_or_default();
        println!("  frequency:     {}–{} events a year{per}", number(q.frequency_low), number(q.frequency_high));
        let likely = q.loss_most_likely.map(|m| format!(", most likely {}", money(m))).unwrap_or_default();
        println!("  loss:          {}–{} {} an event ({}{likely})", money(q.loss_low), money(q.loss_high), matrix.currency(), q.shape);
    }
    if let Some(d) = r.review_due {
        println!("  review due:    {}", day(d));
    }
    println!("  version:       {}, {} by {}", r.version, day(r.updated_at), r.updated_by);
}
