//! From lifecycle events to changes on the target systems, through the durable queue:
//! planning the due joiner, mover and leaver events, queuing their tasks, and carrying the
//! tasks out through each system's [`Connector`].

use crate::{App, Error, Result};
use annexa_connect::connector::{AccountRequest, Connector, LdapConnector, ManualConnector, ScimConnector};
use annexa_connect::ldap::{DisableBy, LdapSource, LdapTarget, LdapTls, LdapWriter};
use annexa_core::model::{TaskAction, TaskStatus};
use annexa_engine::config::Config;
use annexa_engine::provision::Plan;
use annexa_store::provisioning::{NewTask, Task};
use std::collections::HashMap;

/// What `run_due` queued.
#[derive(Debug, Clone)]
pub struct Queued {
    /// The due events planned (those waiting for screening excepted).
    pub events: usize,
    pub tasks: usize,
    /// Privileged grants held back until screening is recorded.
    pub held: Vec<annexa_engine::provision::HeldGrant>,
}

/// What `work` carried out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Worked {
    pub leased: usize,
    pub done: usize,
    /// Failed this attempt (retried later) or for good.
    pub failed: usize,
}

impl App {
    /// What the due events would change, and the ids of those events: nothing is queued.
    pub fn plan(&self) -> Result<(Plan, Vec<String>)> {
        let mut store = self.store()?;
        let now = self.now();
        let events = store.due_jml_events(now)?;
        let graph = self.load_graph(&mut store)?;
        let plan = annexa_engine::provision::plan(&graph, &self.settings.config, &events, now);
        Ok((plan, events.into_iter().map(|e| e.id).collect()))
    }

    /// Whether anything is due: lifecycle events to plan, or tasks to carry out.
    pub fn provisioning_due(&self) -> Result<(bool, bool)> {
        let mut store = self.store()?;
        let now = self.now();
        let events = !store.due_jml_events(now)?.is_empty();
        let tasks = store.tasks(Some(TaskStatus::Pending))?.iter().any(|t| t.next_attempt_at <= now) || !store.tasks(Some(TaskStatus::Running))?.is_empty();
        Ok((events, tasks))
    }

    /// Plans the due events into the durable queue (each task once, by its idempotency
    /// key), marks the events planned, and signs a checkpoint. An event with a privileged
    /// grant held for screening stays pending, so that a later run plans it again.
    pub fn run_due(&self) -> Result<Queued> {
        let (plan, events) = self.plan()?;
        let config = &self.settings.config;
        let new: Vec<NewTask> = plan
            .tasks
            .iter()
            .map(|t| NewTask {
                idempotency_key: t.key.clone(),
                event_id: Some(t.event_id.clone()),
                employee_id: Some(t.employee_id.clone()),
                system: t.system.clone(),
                action: t.action,
                account_id: t.account_id.clone(),
                entitlement: t.entitlement.clone(),
                not_before: t.not_before,
                manual: config.connectors.iter().any(|c| c.system == t.system && c.is_manual()),
            })
            .collect();
        let waiting: std::collections::HashSet<&str> = plan.held.iter().map(|h| h.event_id.as_str()).collect();
        let events: Vec<String> = events.into_iter().filter(|e| !waiting.contains(e.as_str())).collect();
        let mut store = self.store()?;
        let queued = store.queue_tasks(&new, &events, i64::from(config.provisioning.max_attempts), &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(Queued { events: events.len(), tasks: queued, held: plan.held })
    }

    /// The queued tasks, of one status or all.
    pub fn tasks(&self, status: Option<TaskStatus>) -> Result<Vec<Task>> {
        Ok(self.store()?.tasks(status)?)
    }

    /// Queues a failed task again.
    pub fn retry_task(&self, id: i64) -> Result<()> {
        let mut store = self.store()?;
        if !store.retry_task(id, &self.actor, self.now())? {
            return Err(Error::not_found(format!("no failed task {id}: `annexa provision list --failed` lists them")));
        }
        self.checkpoint(&mut store)?;
        Ok(())
    }

    /// Records that a person carried out a manual task, with `note` saying what was done.
    pub fn confirm_task(&self, id: i64, note: &str) -> Result<()> {
        if note.trim().is_empty() {
            return Err(Error::invalid("--note must say what was done (and where it is recorded)"));
        }
        let mut store = self.store()?;
        if !store.confirm_manual_task(id, note.trim(), &self.actor, self.now())? {
            return Err(Error::not_found(format!("no manual task {id} waiting: `annexa provision list --manual` lists them")));
        }
        self.checkpoint(&mut store)?;
        Ok(())
    }

    /// Leases up to `limit` due tasks for `lease_secs` and carries them out, a connection
    /// per system opened on first use; each outcome is recorded as it happens (so a crash
    /// loses at most the task under way, which its lease then hands to another worker).
    pub fn work(&self, limit: i64, lease_secs: i64) -> Result<Worked> {
        let config = &self.settings.config;
        let mut store = self.store()?;
        let owner = format!("{}@{}", self.actor, std::process::id());
        let tasks = store.lease_tasks(&owner, self.now(), lease_secs, limit)?;
        let mut targets: HashMap<String, std::result::Result<Box<dyn Connector>, String>> = HashMap::new();
        // New accounts take their attributes from HR: read the people only when needed.
        let people: HashMap<String, annexa_core::model::Person> = if tasks.iter().any(|t| t.task.action == TaskAction::CreateAccount) {
            store.current_people()?.into_iter().map(|p| (p.employee_id.to_string(), p)).collect()
        } else {
            HashMap::new()
        };
        let mut worked = Worked { leased: tasks.len(), ..Default::default() };
        for (n, task) in tasks.iter().enumerate() {
            let outcome = perform(config, &mut targets, &people, task);
            abort_for_tests(n + 1);
            match &outcome {
                Ok(_) => worked.done += 1,
                Err(_) => worked.failed += 1,
            }
            store.finish_task(task, outcome, &self.actor, self.now())?;
        }
        self.checkpoint(&mut store)?;
        Ok(worked)
    }
}

/// A test hook of debug builds only: dies after carrying out this many tasks, before
/// recording the last, as a crash would (`ANNEXA_TEST_ABORT_AFTER`).
fn abort_for_tests(carried_out: usize) {
    #[cfg(debug_assertions)]
    if std::env::var("ANNEXA_TEST_ABORT_AFTER").ok().and_then(|v| v.parse::<usize>().ok()) == Some(carried_out) {
        std::process::abort();
    }
    let _ = carried_out;
}

/// The connector of `system`, from its entry in the configuration.
pub fn connector(config: &Config, system: &str) -> std::result::Result<Box<dyn Connector>, String> {
    let c = config.connectors.iter().find(|c| c.system == system).ok_or_else(|| format!("no connector for system {system:?} in the configuration"))?;
    if c.is_manual() {
        return Ok(Box::new(ManualConnector { system: system.to_string() }));
    }
    if c.kind == annexa_core::model::ConnectorKind::Scim {
        let var = c.token_env.clone().unwrap_or_default();
        let token = std::env::var(&var).map_err(|_| format!("the variable {var} with the SCIM bearer token is not set"))?;
        let options = annexa_connect::scim_client::ScimOptions { ca_file: c.ca_file.clone().map(std::path::PathBuf::from), ..Default::default() };
        let client = annexa_connect::scim_client::ScimClient::new(&c.url, &token, options).map_err(|e| e.to_string())?;
        return Ok(Box::new(ScimConnector { client, delete_leavers: c.delete_leavers }));
    }
    let bind = match (&c.bind_dn, &c.password_env) {
        (Some(dn), Some(var)) => Some((dn.clone(), std::env::var(var).map_err(|_| format!("the variable {var} with the bind password is not set"))?)),
        _ => None,
    };
    let disable = if c.disable == "ad" { DisableBy::UserAccountControl } else { DisableBy::Attribute { name: c.disable_attribute.clone(), value: c.disable_value.clone() } };
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
    let writer = LdapWriter::connect(&target).map_err(|e| e.to_string())?;
    Ok(Box::new(LdapConnector { writer, accounts_dn: c.accounts_dn.clone().unwrap_or_else(|| c.base.clone()) }))
}

fn perform(
    config: &Config,
    targets: &mut HashMap<String, std::result::Result<Box<dyn Connector>, String>>,
    people: &HashMap<String, annexa_core::model::Person>,
    task: &Task,
) -> std::result::Result<String, String> {
    let t = &task.task;
    let target = targets.entry(t.system.clone()).or_insert_with(|| connector(config, &t.system));
    let target = target.as_mut().map_err(|e| e.clone())?;
    let entitlement = || t.entitlement.clone().ok_or_else(|| format!("task {} has no entitlement", task.id));
    match t.action {
        TaskAction::DisableAccount => target.disable_account(&t.account_id),
        TaskAction::RemoveMembership => target.remove_membership(&t.account_id, &entitlement()?),
        TaskAction::AddMembership => target.add_membership(&t.account_id, &entitlement()?),
        TaskAction::CreateAccount => {
            let employee = t.employee_id.as_deref().unwrap_or_default();
            let p = people.get(employee).ok_or_else(|| format!("{employee} is no longer in the HR feed"))?;
            target.create_account(&AccountRequest {
                login: t.account_id.clone(),
                employee_id: p.employee_id.to_string(),
                given_name: p.given_name.clone(),
                family_name: p.family_name.clone(),
                email: p.email.clone(),
            })
        }
        // Deactivating a badge is a person's task: a worker never leases one.
        TaskAction::DeactivateBadge => Err(format!("task {} is for a person to carry out", task.id)),
    }
}
