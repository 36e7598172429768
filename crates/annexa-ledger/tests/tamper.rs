//! Tampering with a log behind the verifier's back, one way at a time: each is caught, and
//! the report names the right entry or checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_ledger::checkpoint::Checkpoint;
use annexa_ledger::entry::entry_body;
use annexa_ledger::merkle::{leaf_hash, MemoryTree};
use annexa_ledger::note::{NoteSigner, NoteVerifier};
use annexa_ledger::verify::{verify_log, StoredEntry, Tamper};

const ORIGIN: &str = "annexa.example/test-log";

/// A stored log: (seq, body, leaf hash) rows and signed checkpoints every 5 entries.
struct Log {
    rows: Vec<(u64, String, [u8; 32])>,
    checkpoints: Vec<(u64, String)>,
    key: NoteVerifier,
}

fn signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, &[42u8; 32]).expect("signer")
}

fn body(seq: u64, what: &str) -> String {
    entry_body(seq, "2026-01-01T00:00:00Z", "tester", "import", &serde_json::json!({ "file": what, "rows": seq * 10 }))
}

fn checkpoint(s: &NoteSigner, tree: &MemoryTree, size: u64) -> (u64, String) {
    let c = Checkpoint { origin: ORIGIN.into(), size, root: tree.root(size).expect("root"), extensions: vec![] };
    (size, s.sign(&c.to_text()).expect("sign"))
}

fn log(n: u64) -> Log {
    let s = signer();
    let mut tree = MemoryTree::default();
    let mut rows = Vec::new();
    let mut checkpoints = Vec::new();
    for seq in 0..n {
        let b = body(seq, &format!("file-{seq}.csv"));
        let leaf = leaf_hash(b.as_bytes());
        tree.append(leaf);
        rows.push((seq, b, leaf));
        if (seq + 1) % 5 == 0 {
            checkpoints.push(checkpoint(&s, &tree, seq + 1));
        }
    }
    Log { rows, checkpoints, key: s.verifier() }
}

fn verify(l: &Log) -> Result<annexa_ledger::verify::Verified, Tamper> {
    let entries = l.rows.iter().map(|(seq, body, leaf)| StoredEntry { seq: *seq, body, leaf_hash: *leaf });
    verify_log(entries, &l.checkpoints, &l.key)
}

/// Recomputes the stored leaf hashes and renumbers, as an attacker with database access
/// (but no key) would, to make the rows look self-consistent.
fn rewrite_consistently(l: &mut Log) {
    for (i, row) in l.rows.iter_mut().enumerate() {
        row.0 = i as u64;
        row.2 = leaf_hash(row.1.as_bytes());
    }
}

#[test]
fn an_untouched_log_verifies() {
    let l = log(23);
    let v = verify(&l).expect("verifies");
    assert_eq!((v.entries, v.checkpoints, v.last_checkpoint), (23, 4, 20));
}

#[test]
fn one_changed_byte_names_the_entry() {
    let mut l = log(23);
    l.rows[7].1 = l.rows[7].1.replace("file-7.csv", "file-7.csx");
    assert_eq!(verify(&l), Err(Tamper::EntryChanged { seq: 7 }));
}

#[test]
fn a_deleted_entry_in_the_middle_is_named() {
    let mut l = log(23);
    l.rows.remove(12);
    assert_eq!(verify(&l), Err(Tamper::EntryMisplaced { position: 12, claimed: Some(13) }));
    // Renumbering the rows does not help: entry 13's own body still says 13.
    rewrite_consistently(&mut l);
    assert_eq!(verify(&l), Err(Tamper::EntryMisplaced { position: 12, claimed: Some(13) }));
}

#[test]
fn truncation_is_caught_against_a_signed_checkpoint() {
    let mut l = log(23);
    l.rows.truncate(17);
    assert_eq!(verify(&l), Err(Tamper::Truncated { entries: 17, size: 20 }));
}

#[test]
fn swapped_entries_are_named() {
    let mut l = log(23);
    l.rows.swap(3, 4);
    assert_eq!(verify(&l), Err(Tamper::EntryMisplaced { position: 3, claimed: Some(4) }));
}

#[test]
fn an_inserted_forged_entry_is_named() {
    let mut l = log(23);
    let forged = body(9, "forged.csv");
    let leaf = leaf_hash(forged.as_bytes());
    l.rows.insert(9, (9, forged, leaf));
    assert_eq!(verify(&l), Err(Tamper::EntryMisplaced { position: 10, claimed: Some(9) }));
}

#[test]
fn a_replaced_checkpoint_signature_is_named() {
    let mut l = log(23);
    let other = NoteSigner::new(ORIGIN, &[43u8; 32]).expect("signer");
    let text = l.checkpoints[1].1.split("\n\n").next().expect("text").to_string() + "\n";
    l.checkpoints[1].1 = other.sign(&text).expect("sign");
    assert_eq!(verify(&l), Err(Tamper::CheckpointSignature { size: 10, key: ORIGIN.into() }));
}

#[test]
fn a_consistently_rewritten_log_fails_the_signed_checkpoints() {
    let mut l = log(23);
    // Change entry 12 and recompute every hash: only the signatures are out of reach.
    l.rows[12].1 = body(12, "rewritten.csv");
    rewrite_consistently(&mut l);
    assert_eq!(verify(&l), Err(Tamper::CheckpointMismatch { size: 15, from: 10, last: 14 }));
}
