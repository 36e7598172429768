//! API tokens: how they are made, stored (hashed) and listed.
//!
//! A token reads `annexa_<id>_<secret>`: the id (16 hex digits) finds the stored row, the
//! secret (64 hex digits, 256 random bits) is checked against its SHA-256. The secret has
//! full entropy, so a fast hash is enough; a slow password hash is for human passwords.
//! The whole token is shown once, when it is made; Annexa keeps only the hash.

use crate::{App, Error, Result};
use annexa_core::model::{Role, TokenScope};
use annexa_store::tokens::TokenGrant;
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

/// Whether two secrets are equal, compared in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `secret` is the one whose SHA-256 is `hash`, compared in time independent of
/// where they differ.
pub fn matches(secret: &str, hash: &[u8]) -> bool {
    let digest = Sha256::digest(secret.as_bytes());
    digest.len() == hash.len() && digest.iter().zip(hash).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a token is asked to be.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// `scim` or `api`; `api` when a role is given and no scope.
    pub scope: Option<TokenScope>,
    pub system: Option<String>,
    pub role: Option<Role>,
    pub employee_id: Option<String>,
    /// Days until it expires (API tokens; 90 when not given).
    pub expires_days: Option<u32>,
}

/// How long an API token lives when not told: long enough for a quarter's automation, short
/// enough that a forgotten one dies.
pub const DEFAULT_EXPIRY_DAYS: u32 = 90;
/// The longest an API token may live.
pub const MAX_EXPIRY_DAYS: u32 = 3650;

impl App {
    /// Makes a token named `name`, stores its hash, and returns it: the only time the whole
    /// token is seen. A `scim` token pushes for one system; an `api` token has a role, may
    /// act for a person (required for a reviewer and a system owner: their items and systems
    /// are that person's) and expires.
    pub fn create_token(&self, name: &str, request: &TokenRequest) -> Result<String> {
        let trimmed = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let (system, employee_id) = (trimmed(&request.system), trimmed(&request.employee_id));
        let scope = match (request.scope, request.role) {
            (Some(s), _) => s,
            (None, Some(_)) => TokenScope::Api,
            (None, None) => {
                return Err(Error::invalid("say what the token may do: --role ROLE for the REST API, or --scope scim --system NAME"))
            }
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("the token needs a name"));
        }
        let expires_at = match scope {
            TokenScope::Scim => {
                if system.is_none() {
                    return Err(Error::invalid("a scim token pushes for one system: give --system (e.g. --system okta)"));
                }
                if request.role.is_some() || employee_id.is_some() || request.expires_days.is_some() {
                    return Err(Error::invalid("a scim token has no role, person or expiry: leave out --role, --employee and --expires"));
                }
                None
            }
            TokenScope::Api => {
                let Some(role) = request.role else {
                    return Err(Error::invalid(format!("an api token needs a role: --role {}", Role::expected())));
                };
                if matches!(role, Role::Reviewer | Role::SystemOwner) && employee_id.is_none() {
                    return Err(Error::invalid(format!(
                        "a {role} token acts for one person: give --employee EMPLOYEE_ID (their items and systems are that person's)"
                    )));
                }
                match (role, &system) {
                    (Role::SystemOwner, None) => {
                        return Err(Error::invalid("a system-owner token sees one system: give --system NAME"));
                    }
                    (Role::SystemOwner, Some(_)) => {}
                    (_, Some(_)) => return Err(Error::invalid(format!("--system is for scim and system-owner tokens, not {role}"))),
                    (_, None) => {}
                }
                let days = request.expires_days.unwrap_or(DEFAULT_EXPIRY_DAYS);
                if days == 0 || days > MAX_EXPIRY_DAYS {
                    return Err(Error::invalid(format!("--expires {days}: expected 1 to {MAX_EXPIRY_DAYS} days")));
                }
                Some(self.now() + chrono::Duration::days(i64::from(days)))
            }
        };
        let mut store = self.store()?;
        if let Some(e) = &employee_id {
            if !store.person_exists(e)? {
                return Err(Error::invalid(format!("--employee {e:?}: no such person in the HR feed")));
            }
        }
        let grant = TokenGrant {
            scope,
            system: system.as_deref(),
            role: if scope == TokenScope::Api { request.role } else { None },
            employee_id: employee_id.as_deref(),
            expires_at,
        };
        let t = new_token()?;
        store.create_token(&t.id, name, &grant, &t.secret_sha256, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(t.token)
    }

    /// Records the server's authorization policy in the ledger when it differs from the one
    /// recorded last (the server calls it at start); true when it did.
    pub fn record_authorization_policy(&self, file: &str, sha256: &str) -> Result<bool> {
        let mut store = self.store()?;
        let recorded = store.record_authorization_policy(file, sha256, &self.actor, self.now())?;
        if recorded {
            self.checkpoint(&mut store)?;
        }
        Ok(recorded)
    }

    /// Every token, oldest first: never a secret.
    pub fn tokens(&self) -> Result<Vec<annexa_store::tokens::ApiToken>> {
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
