//! The evidence ledger in the database: entries appended in the same transaction as the
//! change they record, the Merkle tree's nodes beside them, and signed checkpoints.

use crate::db::{Tx, Value};
use crate::{Store, StoreError};
use annexa_core::time::Instant;
use annexa_ledger::checkpoint::Checkpoint;
use annexa_ledger::entry::{entry_body_of, Data};
use annexa_ledger::merkle::{self, leaf_hash, node_hash, NodeStore, ProofError};
use annexa_ledger::note::NoteSigner;
use annexa_ledger::Hash;
use std::cell::RefCell;

/// One change to record: its kind (`import`, `audit-run`, `finding-opened`, ...) and what
/// changed.
pub struct Change {
    pub kind: &'static str,
    pub data: serde_json::Value,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub seq: u64,
    pub recorded_at: i64,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub leaf_hash: Hash,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub note: String,
    pub created_at: i64,
}

const ENTRY_COLUMNS: &str = "seq, recorded_at, actor, kind, body, leaf_hash";

fn entry(r: &crate::db::DbRow<'_>) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        seq: r.req_int(0)? as u64,
        recorded_at: r.req_int(1)?,
        actor: r.req_text(2)?.to_string(),
        kind: r.req_text(3)?.to_string(),
        body: r.req_text(4)?.to_string(),
        leaf_hash: hash_of(r.blob(5)?)?,
    })
}

fn hash_of(bytes: &[u8]) -> Result<Hash, StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("a ledger hash is not 32 bytes".into()))
}

impl Tx<'_> {
    fn ledger_size(&mut self) -> Result<u64, StoreError> {
        let mut size = 0;
        self.query_each("SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_entries", &[], |r| {
            size = r.req_int(0)? as u64;
            Ok(())
        })?;
        Ok(size)
    }

    fn ledger_node(&mut self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let mut found = None;
        self.query_each(
            "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?",
            &[i64::from(level).into(), (index as i64).into()],
            |r| {
                found = Some(hash_of(r.blob(0)?)?);
                Ok(())
            },
        )?;
        found.ok_or_else(|| StoreError::Corrupt(format!("ledger node ({level}, {index}) is missing")))
    }

    /// Signs and stores a checkpoint of the tree as this transaction leaves it (unless one
    /// of that size exists), committed with the change it covers: one durable commit for
    /// both, where a use case that changes little (a decision) would otherwise make two.
    pub(crate) fn ledger_checkpoint_in(&mut self, signer: &NoteSigner, at: Instant) -> Result<StoredCheckpoint, StoreError> {
        let size = self.ledger_size()?;
        let mut existing = None;
        self.query_each("SELECT note, created_at FROM ledger_checkpoints WHERE size = ?", &[(size as i64).into()], |r| {
            existing = Some(StoredCheckpoint { size, note: r.req_text(0)?.to_string(), created_at: r.req_int(1)? });
            Ok(())
        })?;
        if let Some(c) = existing {
            return Ok(c);
        }
        let root = {
            let tree = DbTree { tx: RefCell::new(self), size };
            merkle::root(&tree, size).map_err(proof_error)?
        };
        let checkpoint = Checkpoint { origin: signer.name().to_string(), size, root, extensions: Vec::new() };
        let note = signer.sign(&checkpoint.to_text()).map_err(|e| StoreError::Corrupt(format!("cannot sign the checkpoint: {e}")))?;
        self.execute(
            "INSERT INTO ledger_checkpoints (size, note, created_at) VALUES (?, ?, ?)",
            &[(size as i64).into(), note.as_str().into(), at.timestamp().into()],
        )?;
        Ok(StoredCheckpoint { size, note, created_at: at.timestamp() })
    }

    /// Appends `changes` to the ledger, with their tree nodes; returns the first new seq.
    pub(crate) fn ledger_append(&mut self, actor: &str, at: Instant, changes: &[Change]) -> Result<u64, StoreError> {
        let entries: Vec<(&'static str, Data<'_>)> = changes.iter().map(|c| (c.kind, Data::Value(&c.data))).collect();
        self.append_entries(actor, at, &entries)
    }

    /// Appends entries of one `kind` whose data each is canonical JSON already (see
    /// [`Data::Canonical`]): the caller answers for its form, which the leaf hash covers.
    pub(crate) fn ledger_append_canonical(
        &mut self,
        actor: &str,
        at: Instant,
        kind: &'static str,
        data: &[String],
    ) -> Result<u64, StoreError> {
        let entries: Vec<(&'static str, Data<'_>)> = data.iter().map(|d| (kind, Data::Canonical(d))).collect();
        self.append_entries(actor, at, &entries)
    }

    fn append_entries(&mut self, actor: &str, at: Instant, changes: &[(&'static str, Data<'_>)]) -> Result<u64, StoreError> {
        if changes.is_empty() {
            return self.ledger_size();
        }
        // The next position is read from the table, so two writers must not read it at once.
        // SQLite's write transaction is exclusive already; on PostgreSQL this lock, held to
        // the end of the transaction, makes the others wait, and each then reads (in its next
        // statement) what the one before it committed.
        if let Tx::Postgres(_) = self {
            self.execute("SELECT pg_advisory_xact_lock(7216012027)", &[])?;
        }
        let size = self.ledger_size()?;
        // The unpaired right-edge node of every level: all an append needs from the tree.
        let mut frontier: Vec<Option<Hash>> = vec![None; 64];
        for (level, slot) in frontier.iter_mut().enumerate() {
            if (size >> level) & 1 == 1 {
                *slot = Some(self.ledger_node(level as u32, (size >> level) - 1)?);
            }
        }
        let time = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut rows: Vec<(u64, &str, String, Hash)> = Vec::with_capacity(changes.len());
        let mut nodes: Vec<(u32, u64, Hash)> = Vec::with_capacity(changes.len() * 2);
        for (i, (kind, data)) in changes.iter().enumerate() {
            let seq = size + i as u64;
            let body = entry_body_of(seq, &time, actor, kind, *data);
            let leaf = leaf_hash(body.as_bytes());
            nodes.push((0, seq, leaf));
            let (mut hash, mut level, mut index) = (leaf, 0usize, seq);
            while index & 1 == 1 {
                let left =
                    frontier[level].take().ok_or_else(|| StoreError::Corrupt(format!("ledger frontier at level {level} is missing")))?;
                hash = node_hash(&left, &hash);
                level += 1;
                index >>= 1;
                nodes.push((level as u32, index, hash));
            }
            frontier[level] = Some(hash);
            rows.push((seq, *kind, body, leaf));
        }
        let at_secs = at.timestamp();
        self.bulk_insert(
            "ledger_entries",
            &["seq", "recorded_at", "actor", "kind", "body", "leaf_hash"],
            &rows,
            |(seq, kind, body, leaf), v| {
                v.extend([Value::from(*seq as i64), at_secs.into(), actor.into(), (*kind).into(), body.as_str().into(), Value::Blob(leaf)])
            },
        )?;
        self.bulk_insert("ledger_nodes", &["level", "idx", "hash"], &nodes, |(level, idx, hash), v| {
            v.extend([Value::from(i64::from(*level)), (*idx as i64).into(), Value::Blob(hash)])
        })?;
        Ok(size)
    }
}

/// The tree's nodes read through an open transaction.
struct DbTree<'x, 'c> {
    tx: RefCell<&'x mut Tx<'c>>,
    size: u64,
}

impl NodeStore for DbTree<'_, '_> {
    type Error = StoreError;

    fn size(&self) -> u64 {
        self.size
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        self.tx.borrow_mut().ledger_node(level, index)
    }
}

fn proof_error(e: ProofError<StoreError>) -> StoreError {
    match e {
        ProofError::Store(e) => e,
        other => StoreError::Invalid(other.to_string()),
    }
}

impl Store {
    /// Records changes that no other write carries (a checkpoint request, a key event).
    pub fn ledger_record(&mut self, actor: &str, at: Instant, changes: &[Change]) -> Result<u64, StoreError> {
        let mut tx = self.conn.transaction()?;
        let first = tx.ledger_append(actor, at, changes)?;
        tx.commit()?;
        Ok(first)
    }

    /// The number of entries.
    pub fn ledger_size(&mut self) -> Result<u64, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let size = tx.ledger_size()?;
        tx.commit()?;
        Ok(size)
    }

    /// Signs and stores a checkpoint of the current tree, unless one of this size exists;
    /// returns the checkpoint of the current size.
    pub fn ledger_checkpoint(&mut self, signer: &NoteSigner, at: Instant) -> Result<StoredCheckpoint, StoreError> {
        let mut tx = self.conn.transaction()?;
        let checkpoint = tx.ledger_checkpoint_in(signer, at)?;
        tx.commit()?;
        Ok(checkpoint)
    }

    /// The newest `limit` checkpoints, newest first: what a page or a proof needs, without
    /// reading a checkpoint per decision of a long history.
    pub fn newest_ledger_checkpoints(&mut self, limit: u64) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each("SELECT size, note, created_at FROM ledger_checkpoints ORDER BY size DESC LIMIT ?", &[(limit as i64).into()], |r| {
            out.push(StoredCheckpoint { size: r.req_int(0)? as u64, note: r.req_text(1)?.to_string(), created_at: r.req_int(2)? });
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Every stored checkpoint, oldest first.
    pub fn ledger_checkpoints(&mut self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each("SELECT size, note, created_at FROM ledger_checkpoints ORDER BY size", &[], |r| {
            out.push(StoredCheckpoint { size: r.req_int(0)? as u64, note: r.req_text(1)?.to_string(), created_at: r.req_int(2)? });
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Calls `f` with every entry in seq order, streaming.
    pub fn ledger_each(&mut self, mut f: impl FnMut(LedgerEntry) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut tx = self.conn.read_transaction()?;
        tx.query_each(&format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries ORDER BY seq"), &[], |r| f(entry(r)?))?;
        tx.commit()
    }

    /// Calls `f(seq, body, leaf hash)` for every entry in seq order, borrowing each row:
    /// verification streams millions of entries without copying them.
    pub fn ledger_scan(&mut self, mut f: impl FnMut(u64, &str, &Hash) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut tx = self.conn.read_transaction()?;
        tx.query_each("SELECT seq, body, leaf_hash FROM ledger_entries ORDER BY seq", &[], |r| {
            f(r.req_int(0)? as u64, r.req_text(1)?, &hash_of(r.blob(2)?)?)
        })?;
        tx.commit()
    }

    /// One entry.
    pub fn ledger_entry(&mut self, seq: u64) -> Result<Option<LedgerEntry>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each(&format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq = ?"), &[(seq as i64).into()], |r| {
            out = Some(entry(r)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` over the tree as it is now, inside one transaction.
    fn with_tree<T>(&mut self, f: impl FnOnce(&DbTree<'_, '_>) -> Result<T, ProofError<StoreError>>) -> Result<T, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let size = tx.ledger_size()?;
        let out = f(&DbTree { tx: RefCell::new(&mut tx), size }).map_err(proof_error)?;
        tx.commit()?;
        Ok(out)
    }

    /// The inclusion proof of entry `seq` in the tree of the first `size` entries.
    pub fn ledger_inclusion_proof(&mut self, seq: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.with_tree(|tree| merkle::inclusion_proof(tree, seq, size))
    }

    /// The consistency proof between the trees of the first `old` and `new` entries.
    pub fn ledger_consistency_proof(&mut self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        self.with_tree(|tree| merkle::consistency_proof(tree, old, new))
    }
}
