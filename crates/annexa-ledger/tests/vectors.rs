//! The tree against an independent reference: the RFC 6962 test vectors that Certificate
//! Transparency implementations share (eight leaves, the root of every prefix, and known
//! inclusion and consistency proofs). A log whose hashes no other implementation
//! reproduces would prove nothing to an auditor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_ledger::checkpoint::hex;
use annexa_ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion, MemoryTree};

const LEAVES: [&str; 8] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

/// Roots of the trees of sizes 0 to 8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path).
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (old size, new size, proof).
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (
        2,
        8,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn hash(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

fn reference_tree() -> MemoryTree {
    let mut t = MemoryTree::default();
    for l in LEAVES {
        t.append(leaf_hash(&unhex(l)));
    }
    t
}

#[test]
fn roots_of_every_size_match() {
    let t = reference_tree();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(hex(&t.root(size as u64).expect("root")), *want, "size {size}");
    }
}

#[test]
fn inclusion_proofs_match_and_verify() {
    let t = reference_tree();
    for (index, size, path) in INCLUSION {
        let got: Vec<String> = t.inclusion_proof(*index, *size).expect("proof").iter().map(|h| hex(h)).collect();
        assert_eq!(got, *path, "leaf {index} of {size}");
        let proof: Vec<[u8; 32]> = path.iter().map(|h| hash(h)).collect();
        let leaf = leaf_hash(&unhex(LEAVES[*index as usize]));
        assert!(verify_inclusion(*index, *size, &leaf, &proof, &hash(ROOTS[*size as usize])));
    }
}

#[test]
fn consistency_proofs_match_and_verify() {
    let t = reference_tree();
    for (old, new, path) in CONSISTENCY {
        let got: Vec<String> = t.consistency_proof(*old, *new).expect("proof").iter().map(|h| hex(h)).collect();
        assert_eq!(got, *path, "{old} -> {new}");
        let proof: Vec<[u8; 32]> = path.iter().map(|h| hash(h)).collect();
        assert!(verify_consistency(*old, *new, &hash(ROOTS[*old as usize]), &hash(ROOTS[*new as usize]), &proof));
        assert!(!verify_consistency(*old, *new, &hash(ROOTS[*old as usize]), &hash(ROOTS[*new as usize]), &proof[1..]));
    }
}
