//! C2SP signed notes with Ed25519 keys (c2sp.org/signed-note).
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(4-byte key ID || signature)>`. The key ID is the first four bytes
//! of `SHA-256(key name || 0x0A || 0x01 || public key)`. A verifier key is written
//! `<name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>`, the form witnesses and
//! other tools exchange.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signed-note type byte of Ed25519 signatures.
const ED25519: u8 = 0x01;
/// Notes larger than this are refused before any parsing (the spec asks for a limit).
const MAX_NOTE: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("key name {0:?} is empty or contains a space or '+'")]
    BadName(String),
    #[error("verifier key is not of the form NAME+KEYID+BASE64: {0}")]
    BadVerifierKey(String),
    #[error("the note is malformed: {0}")]
    Malformed(String),
    #[error("no signature by {0} on the note")]
    NotSigned(String),
    #[error("the signature by {0} does not verify: the note was changed or signed by another key")]
    BadSignature(String),
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The key ID of an Ed25519 key with this name.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A named signing key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl NoteSigner {
    /// `seed` is the 32-byte Ed25519 private key seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::BadName(name.to_string()));
        }
        Ok(NoteSigner { name: name.to_string(), key: SigningKey::from_bytes(seed) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The private key file form, `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>`
    /// (the format of Go's `golang.org/x/mod/sumdb/note`).
    pub fn to_skey(&self) -> String {
        let mut k = vec![ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{:08x}+{}", self.name, self.verifier().id, B64.encode(k))
    }

    /// Parses the private key form written by [`NoteSigner::to_skey`].
    pub fn from_skey(skey: &str) -> Result<NoteSigner, NoteError> {
        let bad = || NoteError::BadVerifierKey("the private key is not of the form PRIVATE+KEY+NAME+KEYID+BASE64".into());
        let rest = skey.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        let raw = B64.decode(key).map_err(|_| bad())?;
        let (Some(&ED25519), Ok(seed)) = (raw.first(), <[u8; 32]>::try_from(raw.get(1..).unwrap_or_default())) else {
            return Err(bad());
        };
        let signer = NoteSigner::new(name, &seed)?;
        if format!("{:08x}", signer.verifier().id) != id {
            return Err(bad());
        }
        Ok(signer)
    }

    /// The public half, as a verifier.
    pub fn verifier(&self) -> NoteVerifier {
        let key = self.key.verifying_key();
        NoteVerifier { id: key_id(&self.name, &key), name: self.name.clone(), key }
    }

    /// Signs `text` (which must end in a newline) and returns the whole note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.verifier().id.to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!("{text}\n\u{2014} {} {}\n", self.name, B64.encode(blob)))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text does not end in a newline".into()));
    }
    if text.chars().any(|c| (c as u32) < 0x20 && c != '\n') {
        return Err(NoteError::Malformed("the text contains a control character".into()));
    }
    Ok(())
}

/// A named public key that checks notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// `NAME+KEYID+BASE64(0x01 || key)`.
    pub fn to_vkey(&self) -> String {
        let mut k = vec![ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(k))
    }

    /// Parses the `vkey` form, checking that the key ID matches the key.
    pub fn from_vkey(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let bad = || NoteError::BadVerifierKey(vkey.trim().to_string());
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        if !valid_name(name) || id.len() != 8 {
            return Err(bad());
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad())?;
        let raw = B64.decode(key).map_err(|_| bad())?;
        let (Some(&ED25519), Ok(bytes)) = (raw.first(), <[u8; 32]>::try_from(raw.get(1..).unwrap_or_default())) else {
            return Err(bad());
        };
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
        if key_id(name, &key) != id {
            return Err(bad());
        }
        Ok(NoteVerifier { name: name.to_string(), id, key })
    }

    /// Verifies `note` and returns its text. Signatures by other keys are ignored; the note
    /// is refused when no signature of this key is present or when one fails.
    pub fn verify<'n>(&self, note: &'n str) -> Result<&'n str, NoteError> {
        if note.len() > MAX_NOTE {
            return Err(NoteError::Malformed("the note is larger than 1 MiB".into()));
        }
        let Some(split) = note.rfind("\n\n") else {
            return Err(NoteError::Malformed("no blank line before the signatures".into()));
        };
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        check_text(text)?;
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("the last signature line does not end in a newline".into()));
        }
        let mut found = false;
        for line in sigs.lines() {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| NoteError::Malformed(format!("{line:?} is not a signature line")))?;
            let (name, sig) =
                rest.split_once(' ').ok_or_else(|| NoteError::Malformed(format!("{line:?} is not a signature line")))?;
            let blob = B64.decode(sig).map_err(|_| NoteError::Malformed(format!("signature of {name} is not base64")))?;
            if blob.len() < 4 {
                return Err(NoteError::Malformed(format!("signature of {name} is too short")));
            }
            let id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
            if name != self.name || id != self.id {
                continue;
            }
            let sig = ed25519_dalek::Signature::from_slice(&blob[4..]).map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            self.key.verify(text.as_bytes(), &sig).map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            found = true;
        }
        if found {
            Ok(text)
        } else {
            Err(NoteError::NotSigned(self.name.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example note of the C2SP signed-note specification, with its key.
    const SPEC_NOTE: &str = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

    fn signer() -> NoteSigner {
        NoteSigner::new("annexa.example/ledger", &[7u8; 32]).expect("signer")
    }

    #[test]
    fn sign_verify_and_vkey_round_trip() {
        let s = signer();
        let note = s.sign("annexa.example/ledger\n3\nAAAA\n").expect("sign");
        let v = NoteVerifier::from_vkey(&s.verifier().to_vkey()).expect("vkey");
        assert_eq!(v, s.verifier());
        assert_eq!(v.verify(&note).expect("verifies"), "annexa.example/ledger\n3\nAAAA\n");
        assert!(note.contains("\n\n\u{2014} annexa.example/ledger "));
    }

    #[test]
    fn tampering_is_refused() {
        let s = signer();
        let note = s.sign("origin\n3\nAAAA\n").expect("sign");
        let v = s.verifier();
        let changed = note.replacen("3\n", "4\n", 1);
        assert_eq!(v.verify(&changed), Err(NoteError::BadSignature("annexa.example/ledger".into())));
        let other = NoteSigner::new("annexa.example/ledger", &[8u8; 32]).expect("signer");
        let forged = other.sign("origin\n3\nAAAA\n").expect("sign");
        // Same name, other key: a different key ID, so not a signature of this key at all.
        assert_eq!(v.verify(&forged), Err(NoteError::NotSigned("annexa.example/ledger".into())));
        assert!(v.verify("no blank line\n").is_err());
        assert!(v.verify(&note.replace('\u{2014}', "-")).is_err());
    }

    #[test]
    fn the_specification_example_parses_and_ignores_unknown_keys() {
        // Its key is not ours: the signature is skipped and the note reported unsigned.
        assert_eq!(signer().verifier().verify(SPEC_NOTE), Err(NoteError::NotSigned("annexa.example/ledger".into())));
    }

    #[test]
    fn private_keys_round_trip() {
        let s = signer();
        let back = NoteSigner::from_skey(&s.to_skey()).expect("skey");
        assert_eq!(back.verifier(), s.verifier());
        assert!(s.to_skey().starts_with("PRIVATE+KEY+annexa.example/ledger+"));
        assert!(NoteSigner::from_skey(&s.to_skey().replace("PRIVATE", "PUBLIC")).is_err());
    }

    #[test]
    fn bad_names_and_vkeys() {
        assert!(NoteSigner::new("has space", &[1; 32]).is_err());
        assert!(NoteSigner::new("a+b", &[1; 32]).is_err());
        let vkey = signer().verifier().to_vkey();
        let wrong_id = format!("annexa.example/ledger+00000000+{}", vkey.rsplit('+').next().unwrap_or(""));
        assert!(NoteVerifier::from_vkey(&wrong_id).is_err());
        assert!(NoteVerifier::from_vkey("name+12345678+notbase64!").is_err());
    }
}
