//! API tokens: how they are made, stored (hashed) and listed.
//!
//! A token reads `annexa_<id>_<secret>`: the id (16 hex digits) finds the stored row, the
//! secret (64 hex digits, 256 random bits) is checked against its SHA-256. The secret has
//! full entropy, so a fast hash is enough; a slow password hash is for human passwords.
//! The whole token is shown once, when it is made; Annexa keeps only the hash.

use crate::{App, Error, Result};
use annexa_core::model::TokenScope;
use sha2::{Digest, Sha256};


/// A new token: its public id, the whole token to hand out once, and the hash to store.
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub secret_sha256: Vec<u8>,
}

/// Makes a new random token.
pub fn new_token() -> Result<NewToken> {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    let random = |b: &mut [u8]| getrandom::getrandom(b).map_err(|e| Error::internal(format!("no randomness for a token: {e}")));
    random(&mut id)?;
    random(&mut secret)?;
    let (id, secret) = (annexa_core::to_hex(&id), annexa_core::to_hex(&secret));
    Ok(NewToken { token: format!("annexa_{id}_{secret}"), secret_sha256: Sha256::digest(secret.as_bytes()).to_vec(), id })
}

/// Splits a presented token into its id and secret.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("annexa_")?;
    let (id, secret) = rest.split_once('_')?;
    let hexdigits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexdigits(id, 16) && hexdigits(secret, 64)).then_some((id, secret))
}

/// Whether `secret` is the one whose SHA-256 is `hash`, compared in time independent of
/// where they differ.
pub fn matches(secret: &str, hash: &[u8]) -> bool {
    let digest = Sha256::digest(secret.as_bytes());
    digest.len() == hash.len() && digest.iter().zip(hash).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl App {
    /// Makes a token named `name` with `scope` (a `scim` token pushes for one `system`),
    /// stores its hash, and returns it: the only time the whole token is seen.
    pub fn create_token(&self, name: &str, scope: TokenScope, system: Option<&str>) -> Result<String> {
        let system = system.map(str::trim).filter(|s| !s.is_empty());
        if scope == TokenScope::Scim && system.is_none() {
            return Err(Error::invalid("a scim token pushes for one system: give --system (e.g. --system okta)"));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("the token needs a name"));
        }
        let t = new_token()?;
        let mut store = self.store()?;
        store.create_token(&t.id, name, scope, system, &t.secret_sha256, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(t.token)
    }

    /// Every token, oldest first: never a secret.
    pub fn tokens(&self) -> Result<Vec<annexa_store::scim::ApiToken>> {
        Ok(self.store()?.tokens()?)
    }

    /// Revokes the live token named `name`.
    pub fn revoke_token(&self, name: &str) -> Result<()> {
        let mut store = self.store()?;
        if !store.revoke_token(name, &self.actor, self.now())? {
            return Err(Error::not_found(format!("no live token named {name:?}: `annexa token list` shows them")));
        }
        self.checkpoint(&mut store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_back_and_nothing_else_does() {
        let t = new_token().expect("randomness");
        let (id, secret) = parse(&t.token).expect("own token parses");
        assert_eq!(id, t.id);
        assert!(matches(secret, &t.secret_sha256));
        for bad in ["", "annexa_", "annexa_xyz_abc", &t.token[..t.token.len() - 1], &t.token.replace("annexa_", "other_")] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
        assert!(!matches("other", &t.secret_sha256));
    }
}
