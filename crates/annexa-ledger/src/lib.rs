//! Annexa's evidence ledger: the cryptography that makes the log of every change
//! tamper-evident, with no I/O of its own.
//!
//! - [`merkle`]: the RFC 9162 (Certificate Transparency v2) Merkle tree over log entries —
//!   leaf hash `SHA-256(0x00 || entry)`, node hash `SHA-256(0x01 || left || right)` — with
//!   inclusion and consistency proofs and their verification.
//! - [`note`]: C2SP signed notes with Ed25519 keys, and verifier keys in the `vkey` text form.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies (origin, size, root hash).
//! - [`verify`]: offline verification of a whole log against its signed checkpoints,
//!   naming the first entry that was changed, removed, inserted or reordered.
//!
//! The tree reads its node hashes through the [`merkle::NodeStore`] trait, so the store
//! can keep them in the same database transaction as the change they record, while the
//! verifier here works from nothing but entries, proofs, checkpoints and a public key.
//!
//! ```
//! use annexa_ledger::merkle::{leaf_hash, MemoryTree, verify_inclusion};
//! let mut tree = MemoryTree::default();
//! for e in ["a", "b", "c"] {
//!     tree.append(leaf_hash(e.as_bytes()));
//! }
//! let root = tree.root(3).unwrap();
//! let proof = tree.inclusion_proof(1, 3).unwrap();
//! assert!(verify_inclusion(1, 3, &leaf_hash(b"b"), &proof, &root));
//! ```

pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod note;
pub mod verify;

/// A SHA-256 digest.
pub type Hash = [u8; 32];
