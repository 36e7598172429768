//! Reading what is stored: findings, lifecycle events, and what explains a person's access.

use crate::{App, Error, Result};
use annexa_store::{FindingFilter, FindingPage, StoredFinding};

/// What a monitoring system scrapes about the programme.
#[derive(Debug, Clone, Default)]
pub struct Monitoring {
    pub open_findings: Vec<(annexa_core::finding::Severity, u64)>,
    pub tasks: Vec<(annexa_core::model::TaskStatus, u64)>,
    pub ledger_entries: u64,
    pub last_audit: Option<annexa_core::time::Instant>,
    /// How long the latest finished audit run took, in seconds.
    pub last_audit_seconds: Option<i64>,
}

impl App {
    /// What monitoring reads: open findings by severity, provisioning tasks by status, the
    /// ledger's size and the latest audit run's start.
    pub fn monitoring(&self) -> Result<Monitoring> {
        let mut store = self.store()?;
        let latest = store.runs(1)?.into_iter().next();
        Ok(Monitoring {
            open_findings: store.open_findings_by_severity()?,
            tasks: store.task_counts()?,
            ledger_entries: store.ledger_size()?,
            last_audit: latest.as_ref().map(|r| r.started_at),
            last_audit_seconds: latest.and_then(|r| Some((r.finished_at? - r.started_at).num_seconds().max(0))),
        })
    }

    /// The latest `limit` audit runs, newest first.
    pub fn audit_runs(&self, limit: i64) -> Result<Vec<annexa_store::RunSummary>> {
        Ok(self.store()?.runs(limit)?)
    }

    /// One page of the findings `filter` selects (see [`FindingFilter`]).
    pub fn findings(&self, filter: &FindingFilter) -> Result<FindingPage> {
        Ok(self.store()?.findings_page(&self.with_due_days(filter))?)
    }

    /// Every finding `filter` selects, handed to `each` one at a time in listing order and
    /// never collected (an output written as it is read); with `count`, how many first.
    pub fn findings_each(
        &self,
        filter: &FindingFilter,
        count: bool,
        mut each: impl FnMut(StoredFinding) -> std::io::Result<()>,
    ) -> Result<Option<u64>> {
        Ok(self.store()?.findings_each(&self.with_due_days(filter), count, |f| each(f).map_err(annexa_store::StoreError::Io))?)
    }

    /// The ids of the findings audit run `run` recorded as `change` (`new`, `open`,
    /// `resolved`), in id order, streamed to `each`.
    pub fn run_finding_ids(&self, run: i64, change: &str, mut each: impl FnMut(&str) -> std::io::Result<()>) -> Result<()> {
        Ok(self.store()?.run_finding_ids(run, change, |id| each(id).map_err(annexa_store::StoreError::Io))?)
    }

    /// One finding by id, or by a unique prefix of at least 6 characters.
    pub fn finding(&self, id: &str) -> Result<StoredFinding> {
        if id.len() < 6 {
            return Err(Error::invalid(format!(
                "finding id {id:?} is too short: give the id or at least its first 6 characters (F-1a2b…)"
            )));
        }
        self.store()?
            .finding_due(id, &self.due_days())?
            .ok_or_else(|| Error::not_found(format!("no finding {id:?}: `annexa findings list --status all` lists them")))
    }

    /// The joiner, mover and leaver events recorded, of one kind or all.
    pub fn jml_events(&self, kind: Option<annexa_core::model::JmlKind>) -> Result<Vec<annexa_store::jml::StoredJmlEvent>> {
        Ok(self.store()?.jml_events(kind)?)
    }

    /// What explains each entitlement `employee_id` holds: the birthright rules and roles
    /// that apply to them, and for each holding the rule, role or request behind it.
    pub fn explain(&self, employee_id: &str) -> Result<annexa_engine::explain::Explanation> {
        let graph = self.load_graph(&mut *self.store()?)?;
        annexa_engine::explain::explain(&graph, &self.settings.config, self.now(), employee_id)
            .ok_or_else(|| Error::not_found(format!("no person {employee_id:?} in the HR feed")))
    }

    /// The `limit` most severe open findings, and how many are open in all.
    pub fn most_severe_open(&self, store: &mut annexa_store::Store, limit: u64) -> Result<FindingPage> {
        Ok(store.findings_page(&FindingFilter {
            status: Some(annexa_store::FindingStatus::Open),
            limit: Some(limit),
            due_days: self.due_days(),
            ..Default::default()
        })?)
    }
}
