//! The built-in control checks.
//!
//! Each check is a function of the [`Context`] (graph, configuration, as-of instant) and
//! its parameters that pushes findings; [`audit`] runs the selected ones. A check's logic
//! lives in exactly one function, so that other formulations (SQL, Rego) can be compared
//! against it finding for finding.

pub(crate) mod access;
mod accounts;
mod credentials;
mod grouped;
mod ledger;
pub(crate) mod lifecycle;
mod people;
pub(crate) mod privilege;
pub(crate) mod registry;
pub mod revocation;

pub use registry::{check, checks_for_control, CheckDef, CHECKS};

use crate::config::Config;
use crate::context::{Context, Emitter, FindingBuilder, Part};
use annexa_core::finding::{Finding, Severity};
use annexa_core::graph::IdentityGraph;
use annexa_core::time::Instant;
use serde::Serialize;

/// What Annexa itself recorded that some checks judge: the ledger's verification
/// (`log-integrity`) and the campaigns' revocations (`revocation-not-fulfilled`); each of
/// those checks runs only when its part is given.
#[derive(Debug, Clone, Default)]
pub struct OwnRecords {
    pub ledger: Option<crate::context::LedgerStatus>,
    pub revocations: Option<Vec<annexa_core::campaign::Revocation>>,
    /// Checks written in Rego (compiled by [`crate::rego::compile`]), with their parameters;
    /// and the policies that did not compile, each reported as its check's error.
    pub policies: Vec<(crate::rego::Policy, serde_json::Value)>,
    pub policy_errors: Vec<crate::rego::PolicyError>,
    /// Source records name their import and line only, their file name and hash left
    /// empty: for a caller that keeps those once per import (the store does, and fills
    /// them in when it reads a finding back), saving two strings on each of the millions
    /// of records a first audit's findings rest on.
    pub records_by_import: bool,
}

/// A `--check` id that no built-in check has.
#[derive(Debug, thiserror::Error)]
#[error("unknown check {0:?}: expected one of {ids}", ids = CHECKS.iter().map(|c| c.id).collect::<Vec<_>>().join(", "))]
pub struct UnknownCheck(pub String);

/// The result of one evaluation, collected (for tests and small graphs; an audit that
/// stores its findings streams them with [`audit_stream`]).
#[derive(Debug, Clone)]
pub struct AuditResult {
    /// In registry order, each check's by subject key.
    pub findings: Vec<Finding>,
    /// The checks that ran, in registry order.
    pub checks_run: Vec<String>,
    /// The checks that were selected but could not judge, with why (in registry order).
    pub not_evaluated: Vec<NotEvaluated>,
    /// Each check's effective parameters, by check id.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// How strongly the accounts authenticate.
    pub posture: annexa_core::posture::Posture,
}

/// What an evaluation did, besides the findings it handed on.
#[derive(Debug, Clone, Default)]
pub struct AuditSummary {
    /// The checks that ran, in registry order: only their earlier findings can resolve.
    pub checks_run: Vec<String>,
    /// The checks that were selected but could not judge, with why (in registry order).
    pub not_evaluated: Vec<NotEvaluated>,
    /// Each check's effective parameters, by check id.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// How strongly the accounts authenticate.
    pub posture: annexa_core::posture::Posture,
}

/// A selected check that could not judge: its configuration is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotEvaluated {
    pub check: String,
    pub reason: String,
}

/// Runs the selected checks (all enabled ones when empty; a check named in `selected`
/// runs even when the configuration disables it).
pub fn audit(graph: &IdentityGraph, config: &Config, as_of: Instant, selected: &[String]) -> Result<AuditResult, UnknownCheck> {
    audit_with_ledger(graph, config, as_of, selected, None)
}

/// [`audit`], with the evidence ledger's verification for `log-integrity` (which runs only
/// when the ledger status is given).
pub fn audit_with_ledger(
    graph: &IdentityGraph,
    config: &Config,
    as_of: Instant,
    selected: &[String],
    ledger: Option<crate::context::LedgerStatus>,
) -> Result<AuditResult, UnknownCheck> {
    let mut findings = Vec::new();
    let own = OwnRecords { ledger, ..Default::default() };
    let summary = audit_stream(graph, config, as_of, selected, own, &|batch| batch, &mut |batch| {
        findings.extend(batch);
        true
    })?;
    let position = |id: &str| CHECKS.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    findings.sort_by(|a, b| position(&a.check).cmp(&position(&b.check)).then_with(|| a.subject.key.cmp(&b.subject.key)));
    Ok(AuditResult {
        findings,
        checks_run: summary.checks_run,
        not_evaluated: summary.not_evaluated,
        parameters: summary.parameters,
        posture: summary.posture,
    })
}

/// Runs the selected checks and hands their findings to `sink` in batches as they are
/// found, in no particular order, each batch first passed through `prepare` on the thread
/// that found it (the store's encoding of what it will write, which would otherwise be done
/// by the one thread that writes); `sink` returns `false` to stop (the checks then finish
/// without handing on more). Nothing is kept per finding: the cost is the graph's.
pub fn audit_stream<T: Send>(
    graph: &IdentityGraph,
    config: &Config,
    as_of: Instant,
    selected: &[String],
    own: OwnRecords,
    prepare: &(dyn Fn(Vec<Finding>) -> T + Sync),
    sink: &mut dyn FnMut(T) -> bool,
) -> Result<AuditSummary, UnknownCheck> {
    for s in selected {
        if check(s).is_none() {
            return Err(UnknownCheck(s.clone()));
        }
    }
    // Records that were never resolved (a graph built by hand) are resolved on a copy.
    let resolved = graph.resolved();
    let graph: &IdentityGraph = &resolved;
    let mut ctx = Context::new(graph, config, as_of);
    let has_ledger = own.ledger.is_some();
    let has_revocations = own.revocations.is_some();
    ctx.ledger = own.ledger;
    ctx.records_by_import = own.records_by_import;
    ctx.revocations = own.revocations;
    let mut jobs = builtin_jobs(config, selected, has_revocations, has_ledger);
    for (policy, parameters) in &own.policies {
        let wanted = selected.is_empty() || selected.iter().any(|s| s == policy.def.id);
        if wanted {
            let parameters_map = parameters.as_object().cloned().unwrap_or_default();
            jobs.push(Job {
                def: policy.def,
                severity: policy.def.default_severity,
                parameters: parameters_map,
                run: Box::new(move |ctx, builder| crate::rego::run(ctx, policy, parameters, builder)),
                part: Part::WHOLE,
            });
        }
    }
    let errors: Vec<NotEvaluated> = own
        .policy_errors
        .iter()
        .filter(|e| selected.is_empty() || selected.contains(&e.check))
        .map(|e| NotEvaluated { check: e.check.clone(), reason: format!("error: {}: {}", e.file, e.message) })
        .collect();
    let posture = crate::posture::measure(&ctx);
    let mut summary = execute(&ctx, jobs, prepare, sink);
    summary.posture = posture;
    summary.not_evaluated.extend(errors);
    Ok(summary)
}

/// The built-in checks selected (all enabled ones when `selected` is empty), as jobs.
fn builtin_jobs<'a>(config: &'a Config, selected: &'a [String], has_revocations: bool, has_ledger: bool) -> Vec<Job<'a>> {
    let c = &config.checks;
    let mut runner = Runner { selected, jobs: Vec::new() };
    runner.run("orphaned-account", c.orphaned_account.enabled, c.orphaned_account.severity, &c.orphaned_account, accounts::orphaned);
    runner.run("leaver-access", c.leaver_access.enabled, c.leaver_access.severity, &c.leaver_access, people::leaver_access);
    runner.run("dormant-account", c.dormant_account.enabled, c.dormant_account.severity, &c.dormant_account, accounts::dormant);
    runner.run("mfa-missing", c.mfa_missing.enabled, c.mfa_missing.severity, &c.mfa_missing, accounts::mfa_missing);
    runner.run(
        "privileged-weak-mfa",
        c.privileged_weak_mfa.enabled,
        c.privileged_weak_mfa.severity,
        &c.privileged_weak_mfa,
        privilege::weak_mfa,
    );
    runner.run("stale-credential", c.stale_credential.enabled, c.stale_credential.severity, &c.stale_credential, credentials::stale);
    runner.run("root-account-use", c.root_account_use.enabled, c.root_account_use.severity, &c.root_account_use, privilege::root_use);
    runner.run("sod-conflict", c.sod_conflict.enabled, c.sod_conflict.severity, &config.sod, access::sod_conflict);
    runner.run("shared-account", c.shared_account.enabled, c.shared_account.severity, &c.shared_account, accounts::shared);
    runner.run(
        "service-account-no-owner",
        c.service_account_no_owner.enabled,
        c.service_account_no_owner.severity,
        &c.service_account_no_owner,
        accounts::service_no_owner,
    );
    runner.run(
        "admin-not-separated",
        c.admin_not_separated.enabled,
        c.admin_not_separated.severity,
        &c.admin_not_separated,
        privilege::admin_not_separated,
    );
    runner.run_in_parts(
        "certification-overdue",
        c.certification_overdue.enabled,
        c.certification_overdue.severity,
        &c.certification_overdue,
        access::certification_overdue,
    );
    runner.run(
        "mover-residual-access",
        c.mover_residual_access.enabled,
        c.mover_residual_access.severity,
        &c.mover_residual_access,
        lifecycle::mover_residual_access,
    );
    runner.run(
        "mover-access-review",
        c.mover_access_review.enabled,
        c.mover_access_review.severity,
        &c.mover_access_review,
        lifecycle::mover_access_review,
    );
    runner.run(
        "unexplained-access",
        c.unexplained_access.enabled,
        c.unexplained_access.severity,
        &c.unexplained_access,
        access::unexplained,
    );
    runner.run("privilege-outlier", c.privilege_outlier.enabled, c.privilege_outlier.severity, &c.privilege_outlier, privilege::outlier);
    runner.run(
        "contractor-no-end-date",
        c.contractor_no_end_date.enabled,
        c.contractor_no_end_date.severity,
        &c.contractor_no_end_date,
        people::contractor_no_end_date,
    );
    if has_revocations {
        let p = &c.revocation_not_fulfilled;
        runner.run("revocation-not-fulfilled", p.enabled, p.severity, p, revocation::not_fulfilled);
    }
    if has_ledger {
        runner.run("log-integrity", c.log_integrity.enabled, c.log_integrity.severity, &c.log_integrity, ledger::integrity);
    }
    runner.jobs
}

/// What one built-in check run alone found.
pub struct OneCheck {
    pub findings: Vec<Finding>,
    pub severity: Severity,
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// Why it could not judge, if it could not.
    pub not_evaluated: Option<String>,
}

/// Runs one built-in check alone over `ctx`, single-threaded, and returns its findings
/// (for comparing it with its reference policy).
pub fn evaluate_one(ctx: &Context<'_>, config: &Config, id: &str) -> Option<OneCheck> {
    let selected = [id.to_string()];
    let jobs = builtin_jobs(config, &selected, true, true);
    let first = jobs.first()?;
    let (severity, parameters) = (first.severity, first.parameters.clone());
    let found = std::sync::Mutex::new(Vec::new());
    let send = |batch: Vec<Finding>| {
        if let Ok(mut f) = found.lock() {
            f.extend(batch);
        }
        true
    };
    let mut not_evaluated = None;
    // Every part of the check, one after the other.
    for job in &jobs {
        let mut builder = FindingBuilder {
            check: job.def,
            severity: job.severity,
            parameters: job.parameters.clone(),
            as_of: ctx.as_of,
            out: crate::context::Emitter::new(&send),
            not_evaluated: None,
            part: job.part,
        };
        (job.run)(ctx, &mut builder);
        builder.out.flush();
        not_evaluated = not_evaluated.or(builder.not_evaluated.take());
    }
    Some(OneCheck { findings: found.into_inner().unwrap_or_default(), severity, parameters, not_evaluated })
}

/// One check to run, with its effective severity and parameters.
struct Job<'a> {
    def: &'static CheckDef,
    severity: Severity,
    parameters: serde_json::Map<String, serde_json::Value>,
    run: Box<dyn Fn(&Context<'_>, &mut FindingBuilder<'_>) + Sync + 'a>,
    /// Which of the check's parts this job runs ([`Part`]).
    part: Part,
}

/// How many parts a check run in parts is split into: a few per core, so that a core that
/// finishes its other checks early takes more of them.
const PARTS: usize = 8;

struct Runner<'a> {
    selected: &'a [String],
    jobs: Vec<Job<'a>>,
}

impl<'a> Runner<'a> {
    fn run<P: Serialize + Sync>(
        &mut self,
        id: &'static str,
        enabled: bool,
        severity: Option<Severity>,
        params: &'a P,
        f: fn(&Context<'_>, &P, &mut FindingBuilder<'_>),
    ) {
        self.add(id, enabled, severity, params, f, 1);
    }

    /// [`Runner::run`] for a check that covers the accounts in [`FindingBuilder::part`]
    /// only: it runs as [`PARTS`] jobs.
    fn run_in_parts<P: Serialize + Sync>(
        &mut self,
        id: &'static str,
        enabled: bool,
        severity: Option<Severity>,
        params: &'a P,
        f: fn(&Context<'_>, &P, &mut FindingBuilder<'_>),
    ) {
        self.add(id, enabled, severity, params, f, PARTS);
    }

    fn add<P: Serialize + Sync>(
        &mut self,
        id: &'static str,
        enabled: bool,
        severity: Option<Severity>,
        params: &'a P,
        f: fn(&Context<'_>, &P, &mut FindingBuilder<'_>),
        parts: usize,
    ) {
        let wanted = if self.selected.is_empty() { enabled } else { self.selected.iter().any(|s| s == id) };
        let Some(def) = check(id) else { return };
        if !wanted {
            return;
        }
        let mut parameters = match serde_json::to_value(params) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        parameters.remove("enabled");
        for index in 0..parts {
            self.jobs.push(Job {
                def,
                severity: severity.unwrap_or(def.default_severity),
                parameters: parameters.clone(),
                run: Box::new(move |ctx, builder| f(ctx, params, builder)),
                part: Part { index, of: parts },
            });
        }
    }
}

/// Runs the jobs on every core (checks are independent and read-only over the context),
/// each batch of findings prepared on the thread that found it, while this thread hands
/// what was prepared to `sink`; the channel between is bounded, so the checks wait when the
/// consumer (the store) falls behind and findings in flight stay few. Preparing where the
/// findings were made keeps their memory on the core that wrote it: handed to preparing
/// threads of their own, every string was read cold and freed across threads, which cost
/// more than a fifth of preparing at 1,000,000 people.
fn execute<T: Send>(
    ctx: &Context<'_>,
    jobs: Vec<Job<'_>>,
    prepare: &(dyn Fn(Vec<Finding>) -> T + Sync),
    sink: &mut dyn FnMut(T) -> bool,
) -> AuditSummary {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Mutex};
    let next = AtomicUsize::new(0);
    let reasons: Vec<Mutex<Option<String>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    // As many findings in flight as before batches were made smaller: 32 of 64.
    let (prepared_tx, prepared_rx) = mpsc::sync_channel::<T>(32);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let threads = cores.min(jobs.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let prepared_tx = prepared_tx.clone();
            let (next, jobs, reasons) = (&next, &jobs, &reasons);
            s.spawn(move || {
                // Refused once the sink stopped: the check then finishes without handing on more.
                let send = move |batch: Vec<Finding>| prepared_tx.send(prepare(batch)).is_ok();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let mut builder = FindingBuilder {
                        check: job.def,
                        severity: job.severity,
                        parameters: job.parameters.clone(),
                        as_of: ctx.as_of,
                        out: Emitter::new(&send),
                        not_evaluated: None,
                        part: job.part,
                    };
                    (job.run)(ctx, &mut builder);
                    builder.out.flush();
                    if let (Some(reason), Ok(mut slot)) = (builder.not_evaluated.take(), reasons[i].lock()) {
                        *slot = Some(reason);
                    }
                }
            });
        }
        drop(prepared_tx);
        while let Ok(batch) = prepared_rx.recv() {
            if !sink(batch) {
                break;
            }
        }
        // When the sink stopped, the channel closes and the checks' next hand-over fails.
        drop(prepared_rx);
    });
    let reasons: Vec<Option<String>> = reasons.into_iter().map(|r| r.into_inner().unwrap_or_default()).collect();
    let mut summary = AuditSummary::default();
    for (i, job) in jobs.iter().enumerate() {
        let id = job.def.id;
        if jobs[..i].iter().any(|j| j.def.id == id) {
            continue; // another part of a check already counted
        }
        let reason = jobs.iter().zip(&reasons).filter(|(j, _)| j.def.id == id).find_map(|(_, r)| r.clone());
        if let Some(reason) = reason {
            // A check that cannot judge neither opens nor resolves findings.
            summary.not_evaluated.push(NotEvaluated { check: id.to_string(), reason });
            continue;
        }
        summary.checks_run.push(id.to_string());
        summary.parameters.insert(id.to_string(), serde_json::Value::Object(job.parameters.clone()));
    }
    summary
}
