//! Verifying a whole log offline: every entry, the tree, every signed checkpoint.
//!
//! The verifier trusts nothing but the public key. Each entry's body must hash to the leaf
//! hash stored with it and carry its own position as `seq`; the tree recomputed from the
//! bodies must reproduce the root of every checkpoint the key signed, and consecutive
//! checkpoints must be consistent. The first failure names what was changed, removed,
//! inserted or reordered.

use crate::checkpoint::Checkpoint;
use crate::merkle::{leaf_hash, verify_consistency, MemoryTree};
use crate::note::NoteVerifier;
use crate::Hash;

/// One stored entry, as read back.
pub struct StoredEntry<'a> {
    /// The position the store says it has.
    pub seq: u64,
    /// The canonical JSON the leaf hash covers.
    pub body: &'a str,
    pub leaf_hash: Hash,
}

/// What tampering the verifier found, naming the first place it shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    #[error("entry {seq} was changed: its content no longer hashes to its recorded leaf hash")]
    EntryChanged { seq: u64 },
    #[error(
        "entry at position {position} says it is entry {}: entries were removed, inserted or reordered at or just before it",
        claimed.map(|c| c.to_string()).unwrap_or_else(|| "nothing".into())
    )]
    EntryMisplaced { position: u64, claimed: Option<u64> },
    #[error("the log has {entries} entries but a signed checkpoint covers {size}: entries from {entries} on were removed")]
    Truncated { entries: u64, size: u64 },
    #[error("the checkpoint of size {size} is not validly signed by {key}")]
    CheckpointSignature { size: u64, key: String },
    #[error("the checkpoint of size {size} is malformed: {reason}")]
    CheckpointMalformed { size: u64, reason: String },
    #[error(
        "the log no longer matches the signed checkpoint of size {size}: an entry from {from} to {last} was changed, \
         removed or inserted, and the tree rewritten to hide it"
    )]
    CheckpointMismatch { size: u64, from: u64, last: u64 },
    #[error("the checkpoints of sizes {old} and {new} are not consistent")]
    Inconsistent { old: u64, new: u64 },
}

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub root: Hash,
    pub checkpoints: u64,
    /// The size of the newest signed checkpoint (0 if none).
    pub last_checkpoint: u64,
}

/// The `seq` an entry body claims. Canonical bodies sort their keys, so the top-level
/// `"seq"` is the last one before `"time"` (a string that holds no quote).
fn claimed_seq(body: &str) -> Option<u64> {
    let at = body.rfind("\"seq\":")? + 6;
    let digits: String = body[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Verifies `entries` (in stored order) and the stored checkpoints (size, signed note).
pub fn verify_log<'a>(
    entries: impl IntoIterator<Item = StoredEntry<'a>>,
    checkpoints: &[(u64, String)],
    key: &NoteVerifier,
) -> Result<Verified, Tamper> {
    let mut v = LogVerifier::new(checkpoints, key)?;
    for e in entries {
        v.feed(&e)?;
    }
    v.finish()
}

/// Verifies a log fed one entry at a time, so that a store can stream millions of entries
/// through it without holding them.
pub struct LogVerifier {
    /// (size, root) of every signed checkpoint, by size.
    expected: Vec<(u64, Hash)>,
    next: usize,
    verified_up_to: u64,
    position: u64,
    tree: MemoryTree,
    /// A checkpoint that no longer matches is reported only if no entry explains it: an
    /// entry-level finding (misplaced, changed) names the exact place.
    mismatch: Option<Tamper>,
}

impl LogVerifier {
    /// Checks every checkpoint's signature first: a forged checkpoint is named as such, not
    /// as a mismatch.
    pub fn new(checkpoints: &[(u64, String)], key: &NoteVerifier) -> Result<LogVerifier, Tamper> {
        let mut sorted: Vec<&(u64, String)> = checkpoints.iter().collect();
        sorted.sort_by_key(|(size, _)| *size);
        let mut expected: Vec<(u64, Hash)> = Vec::with_capacity(sorted.len());
        for (size, note) in sorted {
            let text = key
                .verify(note)
                .map_err(|_| Tamper::CheckpointSignature { size: *size, key: key.name().to_string() })?;
            let c = Checkpoint::parse(text).map_err(|e| Tamper::CheckpointMalformed { size: *size, reason: e.to_string() })?;
            if c.size != *size || c.origin != key.name() {
                return Err(Tamper::CheckpointMalformed {
                    size: *size,
                    reason: format!("it is for {} at size {}", c.origin, c.size),
                });
            }
            expected.push((c.size, c.root));
        }
        let mut v = LogVerifier { expected, next: 0, verified_up_to: 0, position: 0, tree: MemoryTree::default(), mismatch: None };
        v.mismatch = v.check().err();
        Ok(v)
    }

    /// Compares the tree with every checkpoint of its current size.
    fn check(&mut self) -> Result<(), Tamper> {
        let size = self.position;
        while let Some(&(want_size, root)) = self.expected.get(self.next) {
            if want_size != size {
                break;
            }
            if self.tree.root(size).ok() != Some(root) {
                return Err(Tamper::CheckpointMismatch { size, from: self.verified_up_to, last: size.saturating_sub(1) });
            }
            self.verified_up_to = size;
            self.next += 1;
        }
        Ok(())
    }

    /// The next entry.
    pub fn feed(&mut self, e: &StoredEntry<'_>) -> Result<(), Tamper> {
        let position = self.position;
        if e.seq != position || claimed_seq(e.body) != Some(position) {
            return Err(Tamper::EntryMisplaced { position, claimed: claimed_seq(e.body) });
        }
        let leaf = leaf_hash(e.body.as_bytes());
        if leaf != e.leaf_hash {
            return Err(Tamper::EntryChanged { seq: position });
        }
        self.tree.append(leaf);
        self.position += 1;
        if self.mismatch.is_none() {
            self.mismatch = self.check().err();
        }
        Ok(())
    }

    /// After the last entry: the verdict.
    pub fn finish(self) -> Result<Verified, Tamper> {
        if let Some(m) = self.mismatch {
            return Err(m);
        }
        if let Some(&(size, _)) = self.expected.get(self.next) {
            return Err(Tamper::Truncated { entries: self.position, size });
        }
        // Every pair of consecutive checkpoints is consistent (they were all recomputed from
        // one log; the proof shows it in the form a witness checks).
        for pair in self.expected.windows(2) {
            let ((old, old_root), (new, new_root)) = (pair[0], pair[1]);
            if old == 0 || old == new {
                continue;
            }
            let proof = self.tree.consistency_proof(old, new).map_err(|_| Tamper::Inconsistent { old, new })?;
            if !verify_consistency(old, new, &old_root, &new_root, &proof) {
                return Err(Tamper::Inconsistent { old, new });
            }
        }
        let root = self.tree.root(self.position).unwrap_or_else(|_| crate::merkle::empty_root());
        Ok(Verified {
            entries: self.position,
            root,
            checkpoints: self.expected.len() as u64,
            last_checkpoint: self.verified_up_to,
        })
    }
}
