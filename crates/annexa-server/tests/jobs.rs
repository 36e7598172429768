//! Two instances of the server on one database run each recurring job once per interval,
//! never both at once; when the instance running a job dies mid-job, another runs it once
//! the lease has expired. On SQLite and, when the test script starts one, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_server::{jobs, AppState, Job, ServerConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn state(url: &str) -> Arc<AppState> {
    AppState::open(url, ServerConfig::new("http://x")).expect("state")
}

#[derive(Default)]
struct Tally {
    runs: AtomicU64,
    running: AtomicU64,
    most_at_once: AtomicU64,
}

fn counted(name: &'static str, tally: Arc<Tally>, every: Duration, takes: Duration) -> Job {
    let mut job = Job::new(
        name,
        every,
        Box::new(move || {
            let now = tally.running.fetch_add(1, Ordering::SeqCst) + 1;
            tally.most_at_once.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(takes);
            tally.running.fetch_sub(1, Ordering::SeqCst);
            tally.runs.fetch_add(1, Ordering::SeqCst);
            Ok(String::new())
        }),
    );
    job.lease = Duration::from_millis(600);
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_run_each_job_once_per_interval_and_take_over_from_a_dead_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let urls = tokio::task::block_in_place(|| annexa_store::testing::fresh_databases(dir.path()));
    for url in urls {
        let (a, b) = tokio::task::block_in_place(|| (state(&url), state(&url)));
        // Every 300 ms for 2.1 s, on both: about seven runs in all, not fourteen, never two at once.
        let tally = Arc::new(Tally::default());
        let every = Duration::from_millis(300);
        let mut loops = jobs::spawn(a.clone(), vec![counted("tick", tally.clone(), every, Duration::from_millis(50))], "a".into());
        loops.extend(jobs::spawn(b.clone(), vec![counted("tick", tally.clone(), every, Duration::from_millis(50))], "b".into()));
        tokio::time::sleep(Duration::from_millis(2100)).await;
        loops.iter().for_each(|l| l.abort());
        let runs = tally.runs.load(Ordering::SeqCst);
        assert!((4..=9).contains(&runs), "{url}: {runs} runs in 2.1 s at one per 300 ms");
        assert_eq!(tally.most_at_once.load(Ordering::SeqCst), 1, "{url}: never on both instances at once");

        // Instance A starts a long job and dies; B runs it once A's lease has expired.
        let started = Arc::new(AtomicU64::new(0));
        let s = started.clone();
        let mut dying = Job::new(
            "nightly",
            Duration::from_secs(3600),
            Box::new(move || {
                s.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(4));
                Ok(String::new())
            }),
        );
        dying.lease = Duration::from_millis(600);
        let a_loops = jobs::spawn(a.clone(), vec![dying], "a".into());
        let deadline = Instant::now() + Duration::from_secs(5);
        while started.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < deadline, "A never started the job");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        a_loops.iter().for_each(|l| l.abort()); // killed: no more renewals, never marked done
        let b_tally = Arc::new(Tally::default());
        let b_loops =
            jobs::spawn(b.clone(), vec![counted("nightly", b_tally.clone(), Duration::from_secs(3600), Duration::ZERO)], "b".into());
        let killed_at = Instant::now();
        while b_tally.runs.load(Ordering::SeqCst) == 0 {
            assert!(killed_at.elapsed() < Duration::from_secs(5), "{url}: B never took over");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = killed_at.elapsed();
        assert!(took >= Duration::from_millis(300), "{url}: B waited for A's lease to expire ({took:?})");
        tokio::time::sleep(Duration::from_millis(700)).await;
        b_loops.iter().for_each(|l| l.abort());
        assert_eq!(b_tally.runs.load(Ordering::SeqCst), 1, "{url}: once, then due again only in an hour");
        let done = tokio::task::block_in_place(|| a.store.get().expect("store").job_runs("nightly").expect("runs"));
        assert_eq!(done, 1, "{url}: the dead instance's run was never marked done");
        tokio::task::block_in_place(move || drop((a, b)));
    }
}
