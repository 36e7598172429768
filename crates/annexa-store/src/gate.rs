//! Turns at writing a SQLite database, for the connections of one process.
//!
//! SQLite has one writer at a time; a connection that finds the lock taken waits in
//! SQLite's busy handler, which sleeps ever longer between tries (up to 100 ms). Under many
//! concurrent writers in one process (the server: fifty reviewers deciding at once), an
//! unlucky one kept sleeping while the others took the lock in turn, and its decision took
//! 0.7 s at p99 although each transaction holds the lock for about a millisecond. So the
//! connections of one process to one database file first take a turn here: waiters sleep
//! on a condition variable and the one leaving wakes the next, with no polling. Other
//! processes are still kept apart by SQLite's own lock, which a turn does not replace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

/// How long a connection waits for its turn before it goes on to SQLite's own lock (which
/// then waits as before): a turn is never a reason to hang, whatever holds it.
const PATIENCE: Duration = Duration::from_secs(10);

/// The turns at writing one database file, shared by the connections this process has
/// open to it: it lives as long as one of them (each holds it).
pub(crate) struct WriterGate {
    taken: Mutex<bool>,
    free: Condvar,
    path: PathBuf,
    /// The file opened once more, for a bulk write's flusher (`db.rs`), and closed only
    /// with the gate, when no connection of this process has the file open any more:
    /// closing any descriptor of a file drops every POSIX lock the process holds on it,
    /// SQLite's included, and another process could then take a bulk write's journal
    /// for a crashed one and roll it back under the writer.
    flush_file: OnceLock<Option<Arc<std::fs::File>>>,
}

/// A connection's turn at writing; the next waiter's comes when it is dropped.
pub(crate) struct Turn(Arc<WriterGate>);

impl WriterGate {
    /// The gate of the database file at `path`, shared by every connection this process
    /// opens to it; taken before the file is opened (it may not exist yet), so the file is
    /// named by its directory's canonical path, which it has either way.
    pub(crate) fn of(path: &Path) -> Arc<WriterGate> {
        static GATES: OnceLock<Mutex<HashMap<PathBuf, Weak<WriterGate>>>> = OnceLock::new();
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            match (std::fs::canonicalize(dir), path.file_name()) {
                (Ok(dir), Some(name)) => dir.join(name),
                _ => path.to_path_buf(),
            }
        });
        let mut gates = GATES.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
            return gate;
        }
        // The gates of files no longer open go (a test process opens thousands).
        gates.retain(|_, g| g.strong_count() > 0);
        let gate = Arc::new(WriterGate { taken: Mutex::new(false), free: Condvar::new(), path: key.clone(), flush_file: OnceLock::new() });
        gates.insert(key, Arc::downgrade(&gate));
        gate
    }

    /// The file opened for flushing (see `flush_file`); `None` when it cannot be opened.
    pub(crate) fn flush_file(&self) -> Option<Arc<std::fs::File>> {
        self.flush_file.get_or_init(|| std::fs::File::open(&self.path).ok().map(Arc::new)).clone()
    }

    /// Waits for the turn; `None` when another connection kept it longer than `PATIENCE`.
    pub(crate) fn enter(self: &Arc<Self>) -> Option<Turn> {
        let deadline = Instant::now() + PATIENCE;
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        while *taken {
            let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
            taken = self.free.wait_timeout(taken, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        *taken = true;
        Some(Turn(Arc::clone(self)))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(PoisonError::into_inner) = false;
        self.0.free.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_at_a_time_and_every_waiter_gets_one() {
        let gate = WriterGate::of(&std::env::temp_dir().join("annexa-gate-test-turns.db"));
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside) = (Arc::clone(&gate), Arc::clone(&inside));
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let turn = gate.enter().expect("a turn within the patience");
                        assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0, "two writers at once");
                        std::thread::yield_now();
                        inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        drop(turn);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer thread");
        }
    }

    #[test]
    fn the_same_file_shares_a_gate_and_another_file_does_not() {
        let dir = std::env::temp_dir();
        let a = WriterGate::of(&dir.join("annexa-gate-test-a.db"));
        assert!(Arc::ptr_eq(&a, &WriterGate::of(&dir.join("annexa-gate-test-a.db"))));
        assert!(!Arc::ptr_eq(&a, &WriterGate::of(&dir.join("annexa-gate-test-b.db"))));
    }

    #[test]
    fn a_file_not_created_yet_has_the_gate_it_will_have() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ünïcode/new.db");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let before = WriterGate::of(&path);
        std::fs::write(&path, b"").expect("create");
        let cwd_relative = WriterGate::of(&path.parent().expect("parent").join("../ünïcode/./new.db"));
        assert!(Arc::ptr_eq(&before, &WriterGate::of(&path)), "the same gate once the file exists");
        assert!(Arc::ptr_eq(&before, &cwd_relative), "whatever the path says on the way");
    }

    #[test]
    fn a_gate_lives_as_long_as_a_connection_holds_it() {
        let path = std::env::temp_dir().join("annexa-gate-test-lives.db");
        let first = WriterGate::of(&path);
        let weak = Arc::downgrade(&first);
        let second = WriterGate::of(&path);
        assert!(Arc::ptr_eq(&first, &second));
        drop(first);
        assert!(weak.upgrade().is_some(), "still held by the second connection");
        drop(second);
        assert!(weak.upgrade().is_none(), "gone with the last connection");
    }
}
