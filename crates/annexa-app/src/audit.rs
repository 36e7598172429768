//! Auditing: the identity graph loaded, every check run as of an instant, the run stored
//! with what it found (new, still open, resolved), the ledger signed.

use crate::import::thousands;
use crate::{App, Error, Result};
use annexa_core::time::Instant;
use annexa_engine::checks::AuditResult;
use annexa_store::{RunOutcome, Store};
use std::time::Duration;

/// What an audit found and stored.
#[derive(Debug)]
pub struct AuditOutcome {
    pub result: AuditResult,
    pub outcome: RunOutcome,
    pub as_of: Instant,
    pub timings: AuditTimings,
}

/// Where an audit's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditTimings {
    pub load: Duration,
    pub checks: Duration,
    pub store: Duration,
}

impl App {
    /// Runs `checks` (every check when empty) as of `as_of` (now when `None`), with the
    /// configuration of [`crate::Settings`], stores the run and signs a checkpoint.
    pub fn audit(&self, checks: &[String], as_of: Option<Instant>) -> Result<AuditOutcome> {
        for c in checks {
            if annexa_engine::checks::check(c).is_none() {
                return Err(annexa_engine::UnknownCheck(c.clone()).into());
            }
        }
        let as_of = as_of.unwrap_or_else(|| self.now());
        let mut store = self.store()?;
        let outcome = self.evaluate(&mut store, &self.settings.config, as_of, checks)?;
        self.checkpoint(&mut store)?;
        Ok(outcome)
    }

    /// Loads the graph, runs the checks and stores the run, on an open connection.
    pub(crate) fn evaluate(&self, store: &mut Store, config: &annexa_engine::config::Config, as_of: Instant, checks: &[String]) -> Result<AuditOutcome> {
        let started_at = self.now();
        self.progress.step("loading the identity graph");
        let t0 = std::time::Instant::now();
        let graph = store.load_graph()?;
        let t1 = std::time::Instant::now();
        self.progress.step(&format!("running checks over {} accounts", thousands(graph.accounts.len() as u64)));
        let ledger = self.ledger_status(store)?;
        let result = annexa_engine::audit_with_ledger(&graph, config, as_of, checks, Some(ledger)).map_err(Error::from)?;
        let t2 = std::time::Instant::now();
        self.progress.step(&format!("storing {} findings", thousands(result.findings.len() as u64)));
        let parameters = serde_json::Value::Object(result.parameters.clone()).to_string();
        let outcome = store.record_run(&annexa_store::RunInput {
            actor: &self.actor,
            started_at,
            finished_at: self.now(),
            as_of,
            checks: &result.checks_run,
            imports: &graph.imports,
            parameters: &parameters,
            findings: &result.findings,
        })?;
        self.progress.finish();
        // Freeing millions of records one by one costs more than the checks: it is done on
        // a thread of its own, so the answer does not wait for it (a command that ends
        // right after does not wait at all).
        drop_in_background(graph);
        let timings = AuditTimings { load: t1 - t0, checks: t2 - t1, store: t2.elapsed() };
        Ok(AuditOutcome { result, outcome, as_of, timings })
    }
}

/// Drops `value` on another thread.
fn drop_in_background<T: Send + 'static>(value: T) {
    if std::thread::Builder::new().name("annexa-drop".into()).spawn(move || drop(value)).is_err() {
        // No thread to be had: the value was moved into the closure, which is dropped here.
    }
}
