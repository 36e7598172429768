//! `annexa jml run-due` and `annexa provision …`: from lifecycle events to changes on the
//! target systems, through the durable queue.

use crate::cli::{GlobalArgs, ProvisionCommand};
use crate::commands::setup::{actor, load_config, open_store};
use crate::output::{print_json, Format, Table};
use annexa_connect::ldap::{DisableBy, LdapSource, LdapTarget, LdapTls, LdapWriter};
use annexa_engine::provision::{Plan, PlannedTask};
use annexa_store::provisioning::{NewTask, Task};
use std::collections::HashMap;
use std::process::ExitCode;

fn planned(global: &GlobalArgs) -> anyhow::Result<(Plan, Vec<String>, annexa_engine::config::Config)> {
    let (config, _) = load_config(global)?;
    let mut store = open_store(global)?;
    let now = chrono::Utc::now();
    let events = store.due_jml_events(now)?;
    let graph = store.load_graph()?;
    let plan = annexa_engine::provision::plan(&graph, &config, &events, now);
    Ok((plan, events.into_iter().map(|e| e.id).collect(), config))
}

/// Privileged grants held back until screening: told on stderr, never queued.
fn report_held(plan: &Plan) {
    for h in &plan.held {
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
    let (plan, events, config) = planned(global)?;
    let new: Vec<NewTask> = plan
        .tasks
        .iter()
        .map(|t| NewTask {
            idempotency_key: t.key.clone(),
            event_id: Some(t.event_id.clone()),
            employee_id: Some(t.employee_id.clone()),
            system: t.system.clone(),
            action: t.action.to_string(),
            account_id: t.account_id.clone(),
            entitlement: t.entitlement.clone(),
            not_before: t.not_before,
            manual: config.connectors.iter().any(|c| c.system == t.system && c.is_manual()),
        })
        .collect();
    // An event with a grant held for screening stays pending, so that the next run plans it
    // again; its other tasks are not queued twice (idempotency keys).
    let waiting: std::collections::HashSet<&str> = plan.held.iter().map(|h| h.event_id.as_str()).collect();
    let events: Vec<String> = events.into_iter().filter(|e| !waiting.contains(e.as_str())).collect();
    let mut store = open_store(global)?;
    let queued = store.queue_tasks(&new, &events, i64::from(config.provisioning.max_attempts), &actor(), chrono::Utc::now())?;
    crate::commands::ledger::checkpoint_after_change(&mut store, global)?;
    eprintln!("{} due events planned: {queued} tasks queued (`annexa provision run` carries them out)", events.len());
    report_held(&plan);
    Ok(ExitCode::SUCCESS)
}

pub fn run(global: &GlobalArgs, cmd: ProvisionCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProvisionCommand::Plan => {
            let (plan, events, _) = planned(global)?;
            if global.format == Format::Json {
                print_json(&plan)?;
            } else {
                show(global, &plan.tasks)?;
            }
            eprintln!("{} due events; {} changes (nothing was queued: `annexa jml run-due` queues them)", events.len(), plan.tasks.len());
            report_held(&plan);
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::List { failed, manual } => {
            let mut store = open_store(global)?;
            let status = if failed { Some("failed") } else { manual.then_some("manual") };
            let tasks = store.tasks(status)?;
            if global.format == Format::Json {
                print_json(&tasks)?;
            } else {
                let mut table = Table::new(&["id", "status", "attempts", "system", "action", "account", "entitlement", "next attempt", "error"]);
                for t in tasks {
                    table.push(vec![
                        t.id.to_string(),
                        t.status,
                        format!("{}/{}", t.attempts, t.max_attempts),
                        t.task.system,
                        t.task.action,
                        t.task.account_id,
                        t.task.entitlement.unwrap_or_default(),
                        t.next_attempt_at.to_rfc3339(),
                        t.last_error.unwrap_or_default(),
                    ]);
                }
                table.print(global.format)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::Retry { id } => {
            let mut store = open_store(global)?;
            if !store.retry_task(id, &actor(), chrono::Utc::now())? {
                anyhow::bail!("no failed task {id}: `annexa provision list --failed` lists them");
            }
            crate::commands::ledger::checkpoint_after_change(&mut store, global)?;
            eprintln!("task {id} queued again");
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::Done { id, note } => {
            if note.trim().is_empty() {
                anyhow::bail!("--note must say what was done (and where it is recorded)");
            }
            let mut store = open_store(global)?;
            if !store.confirm_manual_task(id, note.trim(), &actor(), chrono::Utc::now())? {
                anyhow::bail!("no manual task {id} waiting: `annexa provision list --manual` lists them");
            }
            crate::commands::ledger::checkpoint_after_change(&mut store, global)?;
            eprintln!("task {id} recorded as done by {}", actor());
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::Run { limit, lease_secs } => work(global, limit, lease_secs),
    }
}

/// Carries out due tasks. A connection per system, opened on first use.
pub fn work(global: &GlobalArgs, limit: i64, lease_secs: i64) -> anyhow::Result<ExitCode> {
    let (config, _) = load_config(global)?;
    let mut store = open_store(global)?;
    let owner = format!("{}@{}", actor(), std::process::id());
    let tasks = store.lease_tasks(&owner, chrono::Utc::now(), lease_secs, limit)?;
    // A test hook: die after carrying out this many tasks, before recording the last one,
    // as a crash would.
    let abort_after: Option<usize> = std::env::var("ANNEXA_TEST_ABORT_AFTER").ok().and_then(|v| v.parse().ok());
    let mut targets: HashMap<String, Result<Target, String>> = HashMap::new();
    // New accounts take their attributes from HR: read the people only when needed.
    let people: HashMap<String, annexa_core::model::Person> = if tasks.iter().any(|t| t.task.action == "create-account") {
        store.current_people()?.into_iter().map(|p| (p.employee_id.to_string(), p)).collect()
    } else {
        HashMap::new()
    };
    let (mut done, mut failed) = (0, 0);
    for (n, task) in tasks.iter().enumerate() {
        let outcome = perform(&config, &mut targets, &people, task);
        if abort_after == Some(n + 1) {
            std::process::abort();
        }
        match &outcome {
            Ok(_) => done += 1,
            Err(_) => failed += 1,
        }
        store.finish_task(task, outcome, &actor(), chrono::Utc::now())?;
    }
    crate::commands::ledger::checkpoint_after_change(&mut store, global)?;
    eprintln!("{} tasks: {done} done, {failed} failed or to retry (`annexa provision list`)", tasks.len());
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Where a system's tasks are carried out.
enum Target {
    Ldap(Box<LdapWriter>),
    Scim(annexa_connect::scim_client::ScimClient, bool),
}

fn connect(config: &annexa_engine::config::Config, system: &str) -> Result<Target, String> {
    let c = config
        .connectors
        .iter()
        .find(|c| c.system == system)
        .ok_or_else(|| format!("no connector for system {system:?} in the configuration"))?;
    if c.is_manual() {
        return Err(format!("the connector for {system:?} is manual now: a person must carry this task out"));
    }
    if c.kind == "scim" {
        let var = c.token_env.clone().unwrap_or_default();
        let token = std::env::var(&var).map_err(|_| format!("the variable {var} with the SCIM bearer token is not set"))?;
        let options = annexa_connect::scim_client::ScimOptions { ca_file: c.ca_file.clone().map(std::path::PathBuf::from), ..Default::default() };
        let client = annexa_connect::scim_client::ScimClient::new(&c.url, &token, options).map_err(|e| e.to_string())?;
        return Ok(Target::Scim(client, c.delete_leavers));
    }
    let bind = match (&c.bind_dn, &c.password_env) {
        (Some(dn), Some(var)) => {
            Some((dn.clone(), std::env::var(var).map_err(|_| format!("the variable {var} with the bind password is not set"))?))
        }
        _ => None,
    };
    let disable = if c.disable == "ad" {
        DisableBy::UserAccountControl
    } else {
        DisableBy::Attribute { name: c.disable_attribute.clone(), value: c.disable_value.clone() }
    };
    let target = LdapTarget {
        source: LdapSource {
            url: c.url.clone(),
            base_dn: c.base.clone(),
            filter: String::new(),
            bind,
            page_size: 500,
            timeout_secs: 30,
            tls: LdapTls { starttls: c.starttls, ca_file: c.ca_file.clone().map(std::path::PathBuf::from) },
        },
        disable,
    };
    LdapWriter::connect(&target).map(|w| Target::Ldap(Box::new(w))).map_err(|e| e.to_string())
}

fn perform(
    config: &annexa_engine::config::Config,
    targets: &mut HashMap<String, Result<Target, String>>,
    people: &HashMap<String, annexa_core::model::Person>,
    task: &Task,
) -> Result<String, String> {
    let t = &task.task;
    let target = targets.entry(t.system.clone()).or_insert_with(|| connect(config, &t.system));
    let target = target.as_mut().map_err(|e| e.clone())?;
    let entitlement = || t.entitlement.clone().ok_or_else(|| format!("task {} has no entitlement", task.id));
    let person = || {
        let employee = t.employee_id.as_deref().unwrap_or_default();
        people.get(employee).ok_or_else(|| format!("{employee} is no longer in the HR feed"))
    };
    match target {
        Target::Scim(client, delete_leavers) => {
            use annexa_connect::scim_client::NewUser;
            match t.action.as_str() {
                "disable-account" if *delete_leavers => client.delete_user(&t.account_id),
                "disable-account" => client.deactivate_user(&t.account_id),
                "remove-membership" => client.remove_member(&t.account_id, &entitlement()?),
                "add-membership" => client.add_member(&t.account_id, &entitlement()?),
                "create-account" => {
                    let p = person()?;
                    client.create_user(&NewUser {
                        user_name: t.account_id.clone(),
                        employee_id: p.employee_id.to_string(),
                        given_name: p.given_name.clone(),
                        family_name: p.family_name.clone(),
                        email: p.email.clone(),
                    })
                }
                other => return Err(format!("unknown action {other:?}")),
            }
            .map_err(|e| e.to_string())
        }
        Target::Ldap(w) => match t.action.as_str() {
            "disable-account" => w.disable_account(&t.account_id),
            "remove-membership" => w.remove_membership(&t.account_id, &entitlement()?),
            "add-membership" => w.add_membership(&t.account_id, &entitlement()?),
            "create-account" => {
                let p = person()?;
                let c = config.connectors.iter().find(|c| c.system == t.system).ok_or_else(|| format!("no connector for {}", t.system))?;
                let parent = c.accounts_dn.clone().unwrap_or_else(|| c.base.clone());
                w.create_account(
                    &parent,
                    &annexa_connect::ldap::NewAccount {
                        login: t.account_id.clone(),
                        employee_id: p.employee_id.to_string(),
                        given_name: p.given_name.clone(),
                        family_name: p.family_name.clone(),
                        email: p.email.clone(),
                    },
                )
            }
            other => return Err(format!("unknown action {other:?}")),
        }
        .map_err(|e| e.to_string()),
    }
}
