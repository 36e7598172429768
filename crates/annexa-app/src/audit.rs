//! Auditing: the identity graph loaded, every check run as of an instant, the run stored
//! with what it found (new, still open, resolved), the ledger signed.

use crate::import::thousands;
use crate::{App, Error, Result};
use annexa_core::time::Instant;
use annexa_engine::{AuditSummary, OwnRecords};
use annexa_store::{RunEnd, RunOutcome, RunStart, Store};
use std::time::Duration;

/// What an audit found and stored. The findings themselves are in the store, under
/// `outcome.run_id`: an audit hands them to the store as the checks find them and keeps
/// none, so reading them back is a query ([`App::findings`] with `run`).
#[derive(Debug)]
pub struct AuditOutcome {
    pub summary: AuditSummary,
    pub outcome: RunOutcome,
    pub as_of: Instant,
    pub timings: AuditTimings,
}

/// Where an audit's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditTimings {
    pub load: Duration,
    /// Running the checks and storing their findings as they come: the two overlap.
    pub checks_and_store: Duration,
    /// Of that, the time the store's thread spent writing (the rest it waited for findings).
    pub writing: Duration,
    /// Resolving what was not seen, the ledger entries and the commit.
    pub finish: Duration,
}

impl App {
    /// Runs `checks` (every check when empty) as of `as_of` (now when `None`), with the
    /// configuration of [`crate::Settings`], stores the run and signs a checkpoint.
    pub fn audit(&self, checks: &[String], as_of: Option<Instant>) -> Result<AuditOutcome> {
        let as_of = as_of.unwrap_or_else(|| self.now());
        let mut store = self.store()?;
        let outcome = self.evaluate(&mut store, &self.settings.config, as_of, checks)?;
        self.checkpoint(&mut store)?;
        Ok(outcome)
    }

    /// Loads the graph, runs the checks and stores the run, on an open connection. The
    /// findings go from the checks to the store in batches while the checks run.
    pub(crate) fn evaluate(
        &self,
        store: &mut Store,
        config: &annexa_engine::config::Config,
        as_of: Instant,
        checks: &[String],
    ) -> Result<AuditOutcome> {
        let started_at = self.now();
        // Rego policies first: compiling them registers their checks' ids.
        let (policies, policy_errors) = self.policies()?;
        for c in checks {
            if annexa_engine::checks::check(c).is_none() && !policy_errors.iter().any(|e| e.check == *c) {
                return Err(annexa_engine::UnknownCheck(c.clone()).into());
            }
        }
        self.progress.step("loading the identity graph");
        let t0 = std::time::Instant::now();
        let graph = self.load_graph(store)?;
        let t1 = std::time::Instant::now();
        self.progress.step(&format!("running checks over {} accounts, storing findings", thousands(graph.accounts.len() as u64)));
        let ledger = self.ledger_status(store)?;
        // The run may resolve the open findings of any check it runs; which ones run (and
        // which cannot judge) is known at the end.
        let mut selected: Vec<String> =
            if checks.is_empty() { annexa_engine::checks::CHECKS.iter().map(|c| c.id.to_string()).collect() } else { checks.to_vec() };
        if checks.is_empty() {
            selected.extend(policies.iter().map(|(p, _)| p.def.id.to_string()));
            selected.extend(policy_errors.iter().map(|e| e.check.clone()));
        }
        let revocations = self.pending_revocations(store)?;
        let mut writer = store.begin_run(&RunStart { actor: &self.actor, started_at, as_of, checks: &selected })?;
        let mut failed = None;
        // Bodies, versions and packing are prepared on other threads; this one writes.
        let preparer = writer.preparer();
        let prepare = |batch| preparer.prepare(batch);
        let summary = annexa_engine::audit_stream(
            &graph,
            config,
            as_of,
            checks,
            OwnRecords {
                ledger: Some(ledger),
                revocations: Some(revocations.clone()),
                policies,
                policy_errors,
                // The store keeps each import's file name and hash once.
                records_by_import: true,
            },
            &prepare,
            &mut |batch| match batch.and_then(|b| writer.add_prepared(b)) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            },
        )
        .map_err(Error::from)?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        let t2 = std::time::Instant::now();
        let writing = writer.writing();
        self.progress.step("resolving what was not found, recording the run");
        let parameters = serde_json::Value::Object(summary.parameters.clone()).to_string();
        let not_evaluated: Vec<(String, String)> = summary.not_evaluated.iter().map(|n| (n.check.clone(), n.reason.clone())).collect();
        let posture = serde_json::to_value(summary.posture).ok();
        let outcome = writer.finish(&RunEnd {
            finished_at: self.now(),
            checks_run: &summary.checks_run,
            not_evaluated: &not_evaluated,
            imports: &graph.imports,
            parameters: &parameters,
            posture: posture.as_ref(),
        })?;
        // Revocations an import since their decision no longer holds are carried out.
        let verified = annexa_engine::checks::revocation::verified(&graph, &revocations);
        store.verify_revocations(&verified, &self.actor, self.now())?;
        self.progress.finish();
        // Freeing millions of records one by one costs more than the checks: it is done on
        // a thread of its own, so the answer does not wait for it (a command that ends
        // right after does not wait at all).
        drop_in_background(graph);
        let timings = AuditTimings { load: t1 - t0, checks_and_store: t2 - t1, writing, finish: t2.elapsed() };
        Ok(AuditOutcome { summary, outcome, as_of, timings })
    }
}

/// Drops `value` on another thread.
fn drop_in_background<T: Send + 'static>(value: T) {
    if std::thread::Builder::new().name("annexa-drop".into()).spawn(move || drop(value)).is_err() {
        // No thread to be had: the value was moved into the closure, which is dropped here.
    }
}

impl App {
    /// The revocations decided in campaigns and not yet verified, as the checks read them.
    pub(crate) fn pending_revocations(&self, store: &mut Store) -> Result<Vec<annexa_core::campaign::Revocation>> {
        Ok(store
            .pending_revocations()?
            .into_iter()
            .map(|i| annexa_core::campaign::Revocation {
                item: i.id,
                campaign: i.campaign_id,
                kind: i.item.kind,
                system: i.item.system,
                account_id: i.item.account_id,
                entitlement: i.item.entitlement,
                holder: i.item.holder,
                decided_at: i.decided_at.unwrap_or_default(),
                task: i.revocation_task,
            })
            .collect())
    }
}
