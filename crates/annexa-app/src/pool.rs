//! Database connections shared by the requests of a server: taken by a use case for as long
//! as it needs one and given back, so that requests run side by side instead of queueing
//! behind one connection, and no request pays for opening one (a PostgreSQL connection
//! costs milliseconds). An [`crate::App`] without a pool opens a connection per use case,
//! which is what a command line wants.
//!
//! A pool opened from a URL opens a new connection whenever none is idle, up to `max_open`
//! (a PostgreSQL server serves only so many), after which a request waits for one to come
//! back; a pool given a single connection (tests, embedded uses) has that one only.

use annexa_store::{Store, StoreError};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex};

pub struct StorePool {
    url: Option<String>,
    state: Mutex<State>,
    returned: Condvar,
    max_open: usize,
}

struct State {
    idle: Vec<Store>,
    /// Connections open, idle or taken.
    open: usize,
}

/// A connection taken from the pool; back in it when dropped.
pub struct Pooled<'p> {
    store: Option<Store>,
    pool: &'p StorePool,
}

impl StorePool {
    /// A pool that opens up to `max_open` connections to `url` as requests need them.
    pub fn open(url: &str, max_open: usize) -> Result<StorePool, StoreError> {
        let first = Store::open(url)?;
        let state = State { idle: vec![first], open: 1 };
        Ok(StorePool { url: Some(url.to_string()), state: Mutex::new(state), returned: Condvar::new(), max_open: max_open.max(1) })
    }

    /// A pool of one connection.
    pub fn single(store: Store) -> StorePool {
        StorePool { url: None, state: Mutex::new(State { idle: vec![store], open: 1 }), returned: Condvar::new(), max_open: 1 }
    }

    /// An idle connection, a new one while fewer than `max_open` are open, or else the
    /// next one given back.
    pub fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let poisoned = || StoreError::Corrupt("the connection pool's lock is poisoned".into());
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(store) = state.idle.pop() {
                return Ok(Pooled { store: Some(store), pool: self });
            }
            if let (Some(url), true) = (&self.url, state.open < self.max_open) {
                state.open += 1;
                drop(state);
                return match Store::open(url) {
                    Ok(store) => Ok(Pooled { store: Some(store), pool: self }),
                    Err(e) => {
                        self.forget();
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).map_err(|_| poisoned())?;
        }
    }

    fn give_back(&self, store: Store) {
        if let Ok(mut state) = self.state.lock() {
            state.idle.push(store);
            self.returned.notify_one();
        }
    }

    /// A connection that could not be opened is not counted.
    fn forget(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.open = state.open.saturating_sub(1);
            self.returned.notify_one();
        }
    }
}

/// The connection a use case works on: its own, or one lent by the pool.
pub enum Connection<'p> {
    Own(Store),
    Lent(Pooled<'p>),
}

impl Deref for Connection<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        match self {
            Connection::Own(s) => s,
            Connection::Lent(p) => p,
        }
    }
}

impl DerefMut for Connection<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        match self {
            Connection::Own(s) => s,
            Connection::Lent(p) => p,
        }
    }
}

impl Deref for Pooled<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        // INVARIANT: `store` is taken only in `drop`.
        self.store.as_ref().unwrap_or_else(|| unreachable!("a pooled connection is used after it was given back"))
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().unwrap_or_else(|| unreachable!("a pooled connection is used after it was given back"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            self.pool.give_back(store);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_reused_and_a_single_one_is_waited_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let pool = StorePool::open(&url, 2).expect("pool");
        {
            let (mut a, mut b) = (pool.get().expect("a"), pool.get().expect("b"));
            for s in [&mut a, &mut b] {
                s.ledger_size().expect("usable");
            }
        }
        // Both came back: a third request reuses one.
        pool.get().expect("again").ledger_size().expect("usable");
        assert_eq!(pool.state.lock().expect("lock").open, 2, "at most max_open opened");
        let single = StorePool::single(Store::open(&url).expect("open"));
        let held = single.get().expect("one");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| single.get().map(|mut s| s.ledger_size().is_ok()));
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(held);
            assert!(waiter.join().expect("thread").expect("got it back"));
        });
    }
}
