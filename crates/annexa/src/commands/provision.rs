//! `annexa jml run-due` and `annexa provision …`: the arguments turned into the
//! provisioning use cases of `annexa-app`, and their results printed.

use crate::cli::{GlobalArgs, ProvisionCommand};
use crate::commands::setup::app_with_config;
use crate::output::{print_json, Format, Table};
use annexa_core::model::TaskStatus;
use annexa_engine::provision::{HeldGrant, PlannedTask};
use std::process::ExitCode;

/// Privileged grants held back until screening: told on stderr, never queued.
fn report_held(held: &[HeldGrant]) {
    for h in held {
        eprintln!(
            "held: {} {}:{} for {} ({}); planned again by the next `annexa jml run-due` once screening is recorded",
            h.account_id, h.system, h.entitlement, h.employee_id, h.reason
        );
    }
}

fn show(global: &GlobalArgs, tasks: &[PlannedTask]) -> anyhow::Result<()> {
    let mut table = Table::new(&["system", "action", "account", "entitlement", "not before", "event"]);
    for t in tasks {
        table.push(vec![
            t.system.clone(),
            t.action.to_string(),
            t.account_id.clone(),
            t.entitlement.clone().unwrap_or_default(),
            t.not_before.to_rfc3339(),
            t.event_id.clone(),
        ]);
    }
    table.print(global.format)
}

/// `annexa jml run-due`.
pub fn run_due(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let q = app_with_config(global)?.run_due()?;
    eprintln!("{} due events planned: {} tasks queued (`annexa provision run` carries them out)", q.events, q.tasks);
    report_held(&q.held);
    Ok(ExitCode::SUCCESS)
}

pub fn run(global: &GlobalArgs, cmd: ProvisionCommand) -> anyhow::Result<ExitCode> {
    let app = app_with_config(global)?;
    match cmd {
        ProvisionCommand::Plan => {
            let (plan, events) = app.plan()?;
            if global.format == Format::Json {
                print_json(&plan)?;
            } else {
                show(global, &plan.tasks)?;
            }
            eprintln!("{} due events; {} changes (nothing was queued: `annexa jml run-due` queues them)", events.len(), plan.tasks.len());
            report_held(&plan.held);
        }
        ProvisionCommand::List { failed, manual } => {
            let status = if failed { Some(TaskStatus::Failed) } else { manual.then_some(TaskStatus::Manual) };
            let tasks = app.tasks(status)?;
            if global.format == Format::Json {
                print_json(&tasks)?;
            } else {
                let mut table =
                    Table::new(&["id", "status", "attempts", "system", "action", "account", "entitlement", "next attempt", "error"]);
                for t in tasks {
                    table.push(vec![
                        t.id.to_string(),
                        t.status.to_string(),
                        format!("{}/{}", t.attempts, t.max_attempts),
                        t.task.system,
                        t.task.action.to_string(),
                        t.task.account_id,
                        t.task.entitlement.unwrap_or_default(),
                        t.next_attempt_at.to_rfc3339(),
                        t.last_error.unwrap_or_default(),
                    ]);
                }
                table.print(global.format)?;
            }
        }
        ProvisionCommand::Retry { id } => {
            app.retry_task(id)?;
            eprintln!("task {id} queued again");
        }
        ProvisionCommand::Done { id, note } => {
            app.confirm_task(id, &note)?;
            eprintln!("task {id} recorded as done by {}", app.actor);
        }
        ProvisionCommand::Run { limit, lease_secs } => return work(global, limit, lease_secs),
    }
    Ok(ExitCode::SUCCESS)
}

/// `annexa provision run`: exit 1 when a task failed.
pub fn work(global: &GlobalArgs, limit: i64, lease_secs: i64) -> anyhow::Result<ExitCode> {
    let w = app_with_config(global)?.work(limit, lease_secs)?;
    eprintln!("{} tasks: {} done, {} failed or to retry (`annexa provision list`)", w.leased, w.done, w.failed);
    Ok(if w.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
