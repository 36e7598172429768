//! The scheduler: recurring jobs (the binary hands them in), leased through the database so
//! that several instances of the server on one database run each once per interval. An
//! instance looks often whether a job is due; the one that takes the lease runs it (off the
//! request threads), renews the lease while it runs, and marks it done and due again after
//! its interval. An instance killed mid-job stops renewing; once its lease has expired the
//! job, not marked done, is still due, and another instance runs it.

use crate::AppState;
use std::sync::Arc;
use std::time::Duration;

/// A recurring job: its name, how often it runs, and what it does (blocking work, run off
/// the request threads). Its result is one line for the log.
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    pub run: Box<dyn Fn() -> Result<String, String> + Send + Sync>,
    /// How long a lease lasts unless renewed (it is renewed every third of it while the job
    /// runs): how long the other instances wait after one died mid-job.
    pub lease: Duration,
}

impl Job {
    pub fn new(name: &'static str, every: Duration, run: Box<dyn Fn() -> Result<String, String> + Send + Sync>) -> Job {
        Job { name, every, run, lease: Duration::from_secs(60) }
    }
}

/// Who holds a lease: this process, unique among instances.
pub fn instance_id() -> String {
    let mut b = [0u8; 6];
    let _ = getrandom::getrandom(&mut b);
    format!("{}-{}", std::process::id(), annexa_core::to_hex(&b))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Starts a loop per job on the current runtime, as `holder`.
pub fn spawn(state: Arc<AppState>, jobs: Vec<Job>, holder: String) -> Vec<tokio::task::JoinHandle<()>> {
    jobs.into_iter()
        .map(|job| {
            let (state, holder, job) = (state.clone(), holder.clone(), Arc::new(job));
            tokio::spawn(async move {
                // A due job is noticed within a fifth of its interval, and one a dead
                // instance held within about its lease (at most every 5 s, at least 100 ms).
                let poll = (job.every / 5).min(job.lease).clamp(Duration::from_millis(100), Duration::from_secs(5));
                let mut tick = tokio::time::interval(poll);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    run_if_due(&state, &job, &holder).await;
                }
            })
        })
        .collect()
}

/// A step of the lease's bookkeeping, run on a pooled connection off the async threads.
type StoreWork = Box<dyn FnOnce(&mut annexa_store::Store) -> Result<bool, annexa_store::StoreError> + Send>;

/// Runs `job` when it is due and this instance gets its lease.
async fn run_if_due(state: &Arc<AppState>, job: &Arc<Job>, holder: &str) {
    let ttl = job.lease.as_millis() as i64;
    let store = |f: StoreWork| {
        let state = state.clone();
        async move {
            tokio::task::spawn_blocking(move || state.store.get().and_then(|mut s| f(&mut s)).map_err(|e| e.to_string()))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        }
    };
    let (name, me) = (job.name, holder.to_string());
    match store(Box::new(move |s| s.lease_job(name, &me, now_ms(), ttl))).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => return tracing::warn!(job = job.name, error = %e, "cannot lease the job"),
    }
    let j = job.clone();
    let mut running = tokio::task::spawn_blocking(move || (j.run)());
    let outcome = loop {
        tokio::select! {
            r = &mut running => break r,
            _ = tokio::time::sleep(job.lease / 3) => {
                let me = holder.to_string();
                if !matches!(store(Box::new(move |s| s.renew_job(name, &me, now_ms(), ttl))).await, Ok(true)) {
                    tracing::warn!(job = job.name, "lost the job's lease while running it");
                }
            }
        }
    };
    match outcome {
        Ok(Ok(line)) if line.is_empty() => {}
        Ok(Ok(line)) => tracing::info!(job = job.name, "{line}"),
        Ok(Err(e)) => tracing::error!(job = job.name, error = %e, "the job failed"),
        Err(e) => tracing::error!(job = job.name, error = %e, "the job stopped"),
    }
    // Done (or failed: tried again at the next interval, not at once).
    let (me, every) = (holder.to_string(), job.every.as_millis() as i64);
    if let Err(e) = store(Box::new(move |s| s.finish_job(name, &me, now_ms() + every).map(|()| true))).await {
        tracing::warn!(job = job.name, error = %e, "cannot record the job as done");
    }
}
