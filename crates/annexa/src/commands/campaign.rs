//! `annexa campaign create|list|show|items|decide|delegate|close`: access certification.

use crate::cli::{CampaignCommand, GlobalArgs};
use crate::commands::setup::{app_with_config, thousands};
use crate::output::{print_json, Format, Table};
use annexa_app::campaign::CampaignRequest;
use annexa_store::campaign::{Campaign, DecisionRequest, ItemFilter};
use std::io::Write;
use std::process::ExitCode;

/// Items a table shows when `--limit` does not say.
const TABLE_PAGE: u64 = 100;

pub fn run(global: &GlobalArgs, cmd: CampaignCommand) -> anyhow::Result<ExitCode> {
    let app = app_with_config(global)?;
    let json = global.format == Format::Json;
    match cmd {
        CampaignCommand::Create { name, scope, reviewer, due, fallback } => {
            let due = annexa_core::time::parse_instant(&due)
                .ok_or_else(|| anyhow::anyhow!("--due {due:?} is not a date: expected 2027-03-31"))?;
            let c = app.create_campaign(&CampaignRequest { name, scope, reviewer, due, fallback, origin: None })?;
            if json {
                print_json(&c)?;
            } else {
                println!(
                    "launched campaign #{} \"{}\": {} items (population sha256 {}); `annexa campaign items {}` lists them",
                    c.id,
                    c.name,
                    thousands(c.items as u64),
                    c.population_hash,
                    c.id
                );
            }
        }
        CampaignCommand::List => {
            let list = app.campaigns()?;
            if json {
                print_json(&list)?;
            } else {
                let mut table = Table::new(&["id", "name", "status", "scope", "reviewer", "due", "items", "decided"]);
                for c in list {
                    table.push(vec![
                        c.id.to_string(),
                        c.name.clone(),
                        c.status.clone(),
                        c.scope.clone(),
                        c.reviewer_strategy.clone(),
                        c.due.format("%Y-%m-%d").to_string(),
                        thousands(c.items as u64),
                        progress(&c),
                    ]);
                }
                table.print(Format::Table)?;
            }
        }
        CampaignCommand::Show { id } => {
            let c = app.campaign(id)?;
            if json {
                print_json(&c)?;
            } else {
                println!("campaign #{} \"{}\" [{}]", c.id, c.name, c.status);
                println!("  scope:      {}", c.scope);
                println!(
                    "  reviewers:  {}{}",
                    c.reviewer_strategy,
                    c.fallback.as_deref().map(|f| format!(", fallback {f}")).unwrap_or_default()
                );
                println!("  launched:   {} by {}, due {}", c.created_at.format("%Y-%m-%d %H:%M"), c.created_by, c.due.format("%Y-%m-%d"));
                println!(
                    "  items:      {} ({} certified, {} revoked; {})",
                    thousands(c.items as u64),
                    c.certified,
                    c.revoked,
                    progress(&c)
                );
                println!("  population: sha256 {}", c.population_hash);
                for i in c.population.as_array().into_iter().flatten() {
                    println!(
                        "    import #{}: {} read = {} in scope + {} inactive + {} out of scope",
                        i["import_id"], i["read"], i["in_scope"], i["inactive"], i["out_of_scope"]
                    );
                }
                if let (Some(at), Some(by)) = (c.closed_at, &c.closed_by) {
                    println!(
                        "  closed:     {} by {} (undecided items: {})",
                        at.format("%Y-%m-%d %H:%M"),
                        by,
                        c.undecided.as_deref().unwrap_or("keep")
                    );
                }
            }
        }
        CampaignCommand::Items { id, reviewer, undecided, system, limit, offset } => {
            let limit = if json || global.format == Format::Csv { limit } else { Some(limit.unwrap_or(TABLE_PAGE)) };
            let filter = ItemFilter { reviewer, undecided, system, limit, offset };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            if json {
                out.write_all(b"[")?;
                let mut first = true;
                app.campaign_items(id, &filter, |i| {
                    out.write_all(if first { b"\n" } else { b",\n" })?;
                    first = false;
                    serde_json::to_writer(&mut out, &i).map_err(std::io::Error::other)
                })?;
                out.write_all(b"\n]\n")?;
            } else if global.format == Format::Csv {
                // Every item, streamed, as JSON is: a file for a spreadsheet, not a page.
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(ITEM_COLUMNS)?;
                app.campaign_items(id, &filter, |i| {
                    w.write_record(item_cells(&i).iter().map(|c| crate::output::csv_cell(c).into_owned())).map_err(std::io::Error::other)
                })?;
                w.flush()?;
            } else {
                let mut table = Table::new(ITEM_COLUMNS);
                app.campaign_items(id, &filter, |i| {
                    table.push(item_cells(&i));
                    Ok(())
                })?;
                table.write_aligned(&mut out)?;
            }
            out.flush()?;
        }
        CampaignCommand::Decide { items, reviewer, decision, comment, all_of_reviewer, campaign, system } => {
            let items = match (all_of_reviewer, campaign) {
                (true, Some(c)) => {
                    if !items.is_empty() {
                        anyhow::bail!("give item ids or --all-of-reviewer, not both");
                    }
                    app.undecided_items(c, &reviewer, system.as_deref())?
                }
                _ if items.is_empty() => anyhow::bail!("which items? give their ids, or --campaign ID --all-of-reviewer"),
                _ => items,
            };
            if items.is_empty() {
                anyhow::bail!("{reviewer} has no undecided items there: nothing was decided");
            }
            let done = app.decide(&DecisionRequest { items, reviewer, decision: decision.clone(), comment })?;
            if json {
                print_json(&done)?;
            } else {
                let also = if done.also.is_empty() { String::new() } else { format!(" (and {} in other open campaigns)", done.also.len()) };
                let tasks = if done.tasks.is_empty() {
                    String::new()
                } else {
                    format!("; {} revocation task(s) queued: `annexa provision list`", done.tasks.len())
                };
                println!("{} item(s) {}{also}{tasks}", done.items.len(), if decision == "certify" { "certified" } else { "revoked" });
            }
        }
        CampaignCommand::Delegate { items, reviewer, to } => {
            if items.is_empty() {
                anyhow::bail!("which items? give their ids");
            }
            let n = app.delegate(&items, &reviewer, &to)?;
            if json {
                print_json(&serde_json::json!({ "items": items, "from": reviewer, "to": to, "delegated": n }))?;
            } else {
                println!("{n} item(s) now with {to}");
            }
        }
        CampaignCommand::Report { id, out: Some(path) } => {
            let n = app.campaign_report_xlsx(id, &path)?;
            if json {
                print_json(&serde_json::json!({ "campaign": id, "items": n, "file": path.display().to_string() }))?;
                return Ok(ExitCode::SUCCESS);
            }
            println!("wrote campaign #{id}'s evidence ({n} items) to {}", path.display());
        }
        CampaignCommand::Report { id, out: None } => {
            let (c, diligence) = app.campaign_report(id)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            if json {
                let head = serde_json::to_string(&serde_json::json!({ "campaign": c, "diligence": diligence }))?;
                write!(out, "{},\"items\":[", head.strip_suffix('}').unwrap_or(&head))?;
                let mut first = true;
                app.campaign_items(id, &ItemFilter::default(), |i| {
                    out.write_all(if first { b"\n" } else { b",\n" })?;
                    first = false;
                    serde_json::to_writer(&mut out, &i).map_err(std::io::Error::other)
                })?;
                writeln!(out, "\n]}}")?;
            } else {
                writeln!(
                    out,
                    "campaign #{} \"{}\" [{}]: {} items, {} certified, {} revoked, {}",
                    c.id,
                    c.name,
                    c.status,
                    thousands(c.items as u64),
                    c.certified,
                    c.revoked,
                    progress(&c)
                )?;
                writeln!(out, "population sha256 {} (scope {})", c.population_hash, c.scope)?;
                writeln!(out)?;
                let mut table = Table::new(&[
                    "reviewer",
                    "items",
                    "decided",
                    "certified",
                    "median hours",
                    "fast runs (items)",
                    "certified w/ findings",
                    "certified vs advice",
                ]);
                for d in &diligence {
                    table.push(vec![
                        d.reviewer.clone(),
                        d.items.to_string(),
                        d.decided.to_string(),
                        format!("{} ({:.0} %)", d.certified, d.certified_share * 100.0),
                        d.median_hours_to_decide.map(|h| format!("{h:.1}")).unwrap_or_default(),
                        format!("{} ({})", d.fast_runs, d.items_in_fast_runs),
                        d.certified_with_open_findings.to_string(),
                        d.certified_against_recommendation.to_string(),
                    ]);
                }
                table.write_aligned(&mut out)?;
                writeln!(
                    out,
                    "\nA fast run is {} or more decisions, each within a second of the last (a bulk decision is one).",
                    annexa_store::campaign::FAST_RUN
                )?;
            }
            out.flush()?;
        }
        CampaignCommand::Export { id, reviewer, out } => {
            let n = app.export_worksheet(id, &reviewer, &out)?;
            if json {
                print_json(&serde_json::json!({ "campaign": id, "reviewer": reviewer, "items": n, "file": out.display().to_string() }))?;
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "wrote {n} item(s) for {reviewer} to {}; `annexa campaign import-decisions {id} {}` applies the returned file",
                out.display(),
                out.display()
            );
        }
        CampaignCommand::ImportDecisions { id, file } => {
            let done = app.import_decisions(id, &file)?;
            if json {
                print_json(&done)?;
            } else {
                println!(
                    "{} decision(s) applied from {}; {} revocation task(s) queued",
                    done.items.len(),
                    file.display(),
                    done.tasks.len()
                );
            }
        }
        CampaignCommand::BenchDecide { id, reviewer, count } => {
            let mut took = app.bench_decisions(id, &reviewer, count)?;
            took.sort();
            let at = |q: f64| took.get(((took.len() as f64 * q) as usize).min(took.len().saturating_sub(1))).copied().unwrap_or_default();
            println!("{} decisions: p50 {:?}, p99 {:?}, max {:?}", took.len(), at(0.5), at(0.99), took.last().copied().unwrap_or_default());
        }
        CampaignCommand::RunDue => {
            let done = app.run_due_campaigns()?;
            if json {
                print_json(&done)?;
            } else {
                for c in &done.opened {
                    println!(
                        "opened campaign #{} \"{}\": {} items, due {}",
                        c.id,
                        c.name,
                        thousands(c.items as u64),
                        c.due.format("%Y-%m-%d")
                    );
                }
                for c in &done.expired {
                    println!("closed revalidation #{} \"{}\" unanswered: the account's disabling is queued", c.id, c.name);
                }
                for (id, n) in &done.escalated {
                    println!("campaign #{id} is past due: {n} undecided item(s) escalated to the reviewers' managers");
                }
                for who in &done.reminded {
                    println!("reminded {who}");
                }
                for why in &done.not_opened {
                    eprintln!("not opened: {why}");
                }
                for why in &done.not_sent {
                    eprintln!("not sent: {why}");
                }
                if done.opened.is_empty()
                    && done.not_opened.is_empty()
                    && done.expired.is_empty()
                    && done.escalated.is_empty()
                    && done.reminded.is_empty()
                {
                    println!("no campaign is due");
                }
            }
        }
        CampaignCommand::Close { id, undecided } => {
            let c = app.close_campaign(id, undecided == "revoke")?;
            if json {
                print_json(&c)?;
            } else {
                println!(
                    "closed campaign #{}: {} certified (recorded for the next audit), {} revoked, {} undecided ({})",
                    c.id,
                    c.certified,
                    c.revoked,
                    c.items - c.decided,
                    if undecided == "revoke" { "revoked" } else { "kept" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn progress(c: &Campaign) -> String {
    let share = if c.items > 0 { c.decided as f64 * 100.0 / c.items as f64 } else { 0.0 };
    format!("{} decided ({share:.0} %)", thousands(c.decided as u64))
}

const ITEM_COLUMNS: &[&str] =
    &["item", "holder", "access", "priv", "last used", "findings", "sod", "peers", "recommendation", "reviewer", "decision"];

/// A review item as the table and CSV show it.
fn item_cells(i: &annexa_store::campaign::StoredItem) -> Vec<String> {
    let x = &i.item;
    vec![
        i.id.to_string(),
        x.holder.clone(),
        format!("{}:{}", x.system, x.entitlement),
        if x.privileged { "yes".into() } else { String::new() },
        x.last_used_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "never".into()),
        x.open_findings.to_string(),
        x.sod_rules.join(" "),
        x.peer_share.map(|s| format!("{:.0}% of {}", s * 100.0, x.peers)).unwrap_or_default(),
        format!("{} ({})", x.recommendation.as_str(), x.recommendation_reason),
        x.reviewer.clone().unwrap_or_default(),
        i.decision.clone().unwrap_or_default(),
    ]
}
