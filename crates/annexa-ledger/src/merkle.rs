//! The RFC 9162 Merkle tree: hashing, roots, inclusion and consistency proofs.
//!
//! Node hashes are kept per level: level 0 holds the leaf hashes, level `k` the hashes of
//! the complete subtrees of `2^k` leaves. Any range the RFC's recursive definitions visit
//! starts at a multiple of its largest power-of-two block, so its hash is one stored node
//! or a fold of O(log n) of them: roots and proofs cost microseconds at any size.

use crate::Hash;
use sha2::{Digest, Sha256};

/// `SHA-256(0x00 || data)`: the hash of a log entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Where a tree's node hashes live. `level` 0 is the leaves; node `index` at level `k`
/// covers leaves `[index * 2^k, (index + 1) * 2^k)`. Only complete subtrees are asked for.
pub trait NodeStore {
    type Error;
    /// The number of leaves.
    fn size(&self) -> u64;
    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// A request the tree cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError<E> {
    #[error("entry {index} is not in a tree of size {size}")]
    OutOfRange { index: u64, size: u64 },
    #[error("tree size {requested} is larger than the log ({size})")]
    TooLarge { requested: u64, size: u64 },
    #[error("a consistency proof needs 0 < old size <= new size (got {old} and {new})")]
    BadSizes { old: u64, new: u64 },
    #[error("node store: {0}")]
    Store(E),
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle tree hash of leaves `[lo, hi)` (hi > lo), from stored complete subtrees.
fn range_hash<S: NodeStore>(s: &S, lo: u64, hi: u64) -> Result<Hash, ProofError<S::Error>> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return s.node(n.trailing_zeros(), lo / n).map_err(ProofError::Store);
    }
    let k = split(n);
    let left = range_hash(s, lo, lo + k)?;
    let right = range_hash(s, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the first `size` leaves.
pub fn root<S: NodeStore>(s: &S, size: u64) -> Result<Hash, ProofError<S::Error>> {
    if size > s.size() {
        return Err(ProofError::TooLarge { requested: size, size: s.size() });
    }
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(s, 0, size)
}

/// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162
/// §2.1.3.1), leaf-side first.
pub fn inclusion_proof<S: NodeStore>(s: &S, index: u64, size: u64) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if size > s.size() {
        return Err(ProofError::TooLarge { requested: size, size: s.size() });
    }
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let mut path = Vec::new();
    // Walk down from the whole range towards the leaf, collecting siblings; reverse after.
    let (mut lo, mut hi, m) = (0u64, size, index);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if m < lo + k {
            path.push(range_hash(s, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(s, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof between the trees of the first `old` and `new` leaves (RFC 9162
/// §2.1.4.1).
pub fn consistency_proof<S: NodeStore>(s: &S, old: u64, new: u64) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if new > s.size() {
        return Err(ProofError::TooLarge { requested: new, size: s.size() });
    }
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    let mut proof = Vec::new();
    subproof(s, old, 0, new, true, &mut proof)?;
    Ok(proof)
}

/// SUBPROOF(m, D[lo:hi], b) of RFC 9162, appending to `out` in the RFC's order.
fn subproof<S: NodeStore>(s: &S, m: u64, lo: u64, hi: u64, b: bool, out: &mut Vec<Hash>) -> Result<(), ProofError<S::Error>> {
    let n = hi - lo;
    if m == n {
        if !b {
            out.push(range_hash(s, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(s, m, lo, lo + k, b, out)?;
        out.push(range_hash(s, lo + k, hi)?);
    } else {
        subproof(s, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(s, lo, lo + k)?);
    }
    Ok(())
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut l) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if l == 0 {
            return false;
        }
        if f & 1 == 1 || f == l {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                l >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        l >>= 1;
    }
    l == 0 && r == *root
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2).
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    // If the old tree is a complete subtree, its root is the proof's implicit first node.
    let mut nodes: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        nodes.push(*old_root);
    }
    nodes.extend_from_slice(proof);
    let Some((first, rest)) = nodes.split_first() else { return false };
    let (mut f, mut l) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        l >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if l == 0 {
            return false;
        }
        if f & 1 == 1 || f == l {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                l >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        l >>= 1;
    }
    l == 0 && fr == *old_root && sr == *new_root
}

/// A tree held in memory: the levels of complete-subtree hashes.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// Appends a leaf hash; completes every subtree it closes.
    pub fn append(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let nodes = &self.levels[level];
            if nodes.len() % 2 == 1 {
                return;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// The nodes an append added, as (level, index, hash), for a store to persist.
    pub fn completed_by_last_append(&self) -> Vec<(u32, u64, Hash)> {
        let mut out = Vec::new();
        for (level, nodes) in self.levels.iter().enumerate() {
            let Some(last) = nodes.last() else { break };
            let index = nodes.len() as u64 - 1;
            if (index + 1) << level != self.size() {
                break;
            }
            out.push((level as u32, index, *last));
        }
        out
    }

    /// The number of leaves appended.
    pub fn levels_size(&self) -> u64 {
        self.size()
    }

    pub fn root(&self, size: u64) -> Result<Hash, ProofError<std::convert::Infallible>> {
        root(self, size)
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError<std::convert::Infallible>> {
        inclusion_proof(self, index, size)
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError<std::convert::Infallible>> {
        consistency_proof(self, old, new)
    }
}

impl NodeStore for MemoryTree {
    type Error = std::convert::Infallible;

    fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        // INVARIANT: callers ask only for complete subtrees within `size`, which `append`
        // has always stored.
        Ok(self.levels[level as usize][index as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MTH straight from the RFC's recursive definition, over leaf hashes.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    fn tree(n: u64) -> (MemoryTree, Vec<Hash>) {
        let mut t = MemoryTree::default();
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
        for l in &leaves {
            t.append(*l);
        }
        (t, leaves)
    }

    #[test]
    fn roots_match_the_recursive_definition() {
        let (t, leaves) = tree(70);
        for size in 0..=70u64 {
            assert_eq!(t.root(size).expect("root"), reference_root(&leaves[..size as usize]), "size {size}");
        }
        assert!(t.root(71).is_err());
    }

    /// RFC 9162's empty-tree hash and the RFC 6962 test vector for one leaf of no bytes.
    #[test]
    fn known_hashes() {
        assert_eq!(crate::checkpoint::hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(crate::checkpoint::hex(&leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies_and_wrong_ones_do_not(size in 1u64..300, pick in 0u64..300, other in 0u64..300) {
            let (t, leaves) = tree(size + 1);
            let index = pick % size;
            let root = t.root(size).expect("root");
            let proof = t.inclusion_proof(index, size).expect("proof");
            prop_assert!(verify_inclusion(index, size, &leaves[index as usize], &proof, &root));
            // A wrong leaf, index, size or root fails.
            let wrong = other % size;
            if wrong != index {
                prop_assert!(!verify_inclusion(index, size, &leaves[wrong as usize], &proof, &root));
                prop_assert!(!verify_inclusion(wrong, size, &leaves[index as usize], &proof, &root));
            }
            // The same path against the next tree's (authentic) root fails: a proof is for one size.
            let next_root = t.root(size + 1).expect("root");
            prop_assert!(!verify_inclusion(index, size + 1, &leaves[index as usize], &proof, &next_root));
            prop_assert!(!verify_inclusion(index, size, &leaves[index as usize], &proof, &leaf_hash(b"x")));
        }

        #[test]
        fn every_consistency_proof_verifies_and_wrong_ones_do_not(a in 1u64..300, b in 1u64..300) {
            let (old, new) = (a.min(b), a.max(b));
            let (t, _) = tree(new + 1);
            let (old_root, new_root) = (t.root(old).expect("root"), t.root(new).expect("root"));
            let proof = t.consistency_proof(old, new).expect("proof");
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof));
            prop_assert!(!verify_consistency(old, new, &leaf_hash(b"forged"), &new_root, &proof));
            prop_assert!(!verify_consistency(old, new, &old_root, &leaf_hash(b"forged"), &proof));
            let next_root = t.root(new + 1).expect("root");
            prop_assert!(!verify_consistency(old, new + 1, &old_root, &next_root, &proof));
            if old > 1 && old < new {
                prop_assert!(!verify_consistency(old - 1, new, &old_root, &new_root, &proof));
            }
        }
    }

    #[test]
    fn appends_report_the_nodes_they_complete() {
        let mut t = MemoryTree::default();
        for i in 0..8u64 {
            t.append(leaf_hash(&i.to_be_bytes()));
            let levels: Vec<u32> = t.completed_by_last_append().iter().map(|(l, _, _)| *l).collect();
            let want: Vec<u32> = (0..=(i + 1).trailing_zeros()).collect();
            assert_eq!(levels, want, "after {} leaves", i + 1);
        }
    }
}
