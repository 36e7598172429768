//! C2SP `tlog-checkpoint` bodies: the origin, the tree size, the root hash.
//!
//! ```text
//! annexa.example/ledger
//! 15
//! 7oS8b5Jm1aSgVZ1G0Rvhr3kxuB3+Q7nV6uGCl+iqH5k=
//! ```
//!
//! A checkpoint is only ever trusted inside a signed note (see [`crate::note`]).

use crate::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Names the log; the first line, and by convention the key name of its signer.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extra lines a log may add after the root (none written by Annexa).
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checkpoint: {0}")]
pub struct CheckpointError(pub String);

impl Checkpoint {
    /// The note text: origin, size, base64 root, extension lines, each ending in a newline.
    pub fn to_text(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let err = |m: &str| CheckpointError(m.to_string());
        let body = text.strip_suffix('\n').ok_or_else(|| err("the text does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or_else(|| err("no origin line"))?;
        let size = lines.next().ok_or_else(|| err("no tree size line"))?;
        // Decimal without sign or leading zeros, as the specification asks.
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(err("the tree size is not a decimal number"));
        }
        let size: u64 = size.parse().map_err(|_| err("the tree size is too large"))?;
        let root = lines.next().ok_or_else(|| err("no root hash line"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| err("the root hash is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(String::from).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(err("an empty extension line"));
        }
        Ok(Checkpoint { origin: origin.to_string(), size, root, extensions })
    }
}

/// Lower-case hex of a hash, for messages and tests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = Checkpoint { origin: "annexa.example/ledger".into(), size: 15, root: [9; 32], extensions: vec![] };
        let text = c.to_text();
        assert_eq!(text.lines().count(), 3);
        assert_eq!(Checkpoint::parse(&text), Ok(c));
        for bad in ["o\n015\nAAAA\n", "o\n-1\nAAAA\n", "o\n1\nAAAA\n", "o\n1\n", "\n1\nAAAA\n", "o\n1\nCQkJ"] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
