//! API tokens: machine clients of the server (an identity provider pushing over SCIM, a
//! script calling the REST API with a role). Only a SHA-256 of the secret is kept; creating
//! and revoking one are ledger entries in the same transaction.

use crate::db::Value;
use crate::ledger::Change;
use crate::{Store, StoreError};
use annexa_core::model::{Role, TokenScope};
use annexa_core::time::Instant;

/// A token as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    /// The public part of the token, the key it is looked up by.
    pub id: String,
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// The system a `scim` token pushes for, or a system owner's system.
    pub system: Option<String>,
    /// The role of an `api` token.
    pub role: Option<Role>,
    /// The person an `api` token acts for (a reviewer's items are theirs).
    pub employee_id: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    /// After this it is refused.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl ApiToken {
    /// Whether it may be used at `now`: not revoked, not expired.
    pub fn live_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// What a new token is.
#[derive(Debug, Clone)]
pub struct TokenGrant<'a> {
    pub scope: TokenScope,
    pub system: Option<&'a str>,
    pub role: Option<Role>,
    pub employee_id: Option<&'a str>,
    pub expires_at: Option<Instant>,
}

impl TokenGrant<'_> {
    /// A SCIM token pushing for `system`.
    pub fn scim(system: &str) -> TokenGrant<'_> {
        TokenGrant { scope: TokenScope::Scim, system: Some(system), role: None, employee_id: None, expires_at: None }
    }
}

const TOKEN_COLUMNS: &str =
    "id, name, scope, system, created_at, created_by, revoked_at, last_used_at, secret_sha256, role, employee_id, expires_at";

impl Store {
    /// Stores a new token. A token with the same name is refused.
    pub fn create_token(
        &mut self,
        id: &str,
        name: &str,
        grant: &TokenGrant<'_>,
        secret_sha256: &[u8],
        actor: &str,
        now: Instant,
    ) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut taken: Option<Option<i64>> = None;
        tx.query_each("SELECT revoked_at FROM api_tokens WHERE name = ?", &[name.into()], |r| {
            taken = Some(r.int(0)?);
            Ok(())
        })?;
        match taken {
            None => {}
            // Names are never reused, so that the ledger's `token:NAME` always means one token.
            Some(Some(_)) => {
                return Err(StoreError::Conflict(format!(
                    "a token named {name:?} existed and was revoked; names are not reused: choose another"
                )))
            }
            Some(None) => {
                return Err(StoreError::Conflict(format!(
                    "a token named {name:?} exists already (`annexa token revoke {name}` first, then choose another name)"
                )))
            }
        }
        let expires_at = grant.expires_at.map(|t| t.timestamp());
        tx.execute(
            "INSERT INTO api_tokens (id, name, scope, system, secret_sha256, created_at, created_by, role, employee_id, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                id.into(),
                name.into(),
                grant.scope.as_str().into(),
                grant.system.into(),
                Value::Blob(secret_sha256),
                now.timestamp().into(),
                actor.into(),
                grant.role.map(Role::as_str).into(),
                grant.employee_id.into(),
                expires_at.into(),
            ],
        )?;
        let data = serde_json::json!({
            "token_id": id, "name": name, "scope": grant.scope.as_str(), "system": grant.system,
            "role": grant.role.map(Role::as_str), "employee_id": grant.employee_id, "expires_at": expires_at,
        });
        tx.ledger_append(actor, now, &[Change { kind: "token-created", data }])?;
        tx.commit()
    }

    /// The token with public id `id` and the hash of its secret.
    pub fn token(&mut self, id: &str) -> Result<Option<(ApiToken, Vec<u8>)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"), &[id.into()], |r| {
            out = Some((token(r)?, r.blob(8)?.to_vec()));
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Every token, oldest first.
    pub fn tokens(&mut self) -> Result<Vec<ApiToken>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, name"), &[], |r| {
            out.push(token(r)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Revokes the token named `name`; false when there is no such live token.
    pub fn revoke_token(&mut self, name: &str, actor: &str, now: Instant) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            &[now.timestamp().into(), name.into()],
        )?;
        if n > 0 {
            tx.ledger_append(actor, now, &[Change { kind: "token-revoked", data: serde_json::json!({ "name": name }) }])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Records that the server decides with the authorization policy whose SHA-256 is
    /// `sha256` (read from `file`), with a ledger entry, unless it is the one recorded last;
    /// true when it was recorded.
    pub fn record_authorization_policy(&mut self, file: &str, sha256: &str, actor: &str, now: Instant) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut last: Option<(i64, String)> = None;
        tx.query_each("SELECT seq, sha256 FROM authorization_policies ORDER BY seq DESC LIMIT 1", &[], |r| {
            last = Some((r.req_int(0)?, r.req_text(1)?.to_string()));
            Ok(())
        })?;
        if last.as_ref().is_some_and(|(_, h)| h == sha256) {
            return Ok(false);
        }
        let seq = last.as_ref().map_or(1, |(s, _)| s + 1);
        tx.execute(
            "INSERT INTO authorization_policies (seq, sha256, file, loaded_at, loaded_by) VALUES (?, ?, ?, ?, ?)",
            &[seq.into(), sha256.into(), file.into(), now.timestamp().into(), actor.into()],
        )?;
        let data = serde_json::json!({ "file": file, "sha256": sha256, "previous_sha256": last.map(|(_, h)| h) });
        tx.ledger_append(actor, now, &[Change { kind: "authorization-policy", data }])?;
        tx.commit()?;
        Ok(true)
    }

    /// Whether HR has a person with this employee id (whom a token may act for).
    pub fn person_exists(&mut self, employee_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut found = false;
        tx.query_each("SELECT 1 FROM people WHERE employee_id = ?", &[employee_id.into()], |_| {
            found = true;
            Ok(())
        })?;
        tx.commit()?;
        Ok(found)
    }

    /// Notes that a token was used (at most the caller's chosen resolution: the server
    /// records it once a minute per token, not on every request).
    pub fn touch_token(&mut self, id: &str, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", &[now.timestamp().into(), id.into()])?;
        tx.commit()
    }
}

fn token(r: &crate::db::DbRow<'_>) -> Result<ApiToken, StoreError> {
    let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("token {what} {v:?}"));
    let role = match r.text(9)? {
        None => None,
        Some(v) => Some(Role::parse(v).ok_or_else(|| corrupt("role", v))?),
    };
    Ok(ApiToken {
        id: r.req_text(0)?.to_string(),
        name: r.req_text(1)?.to_string(),
        scope: TokenScope::parse(r.req_text(2)?).ok_or_else(|| corrupt("scope", r.req_text(2).unwrap_or_default()))?,
        system: r.text(3)?.map(String::from),
        role,
        employee_id: r.text(10)?.map(String::from),
        created_at: r.req_int(4)?,
        created_by: r.req_text(5)?.to_string(),
        expires_at: r.int(11)?,
        revoked_at: r.int(6)?,
        last_used_at: r.int(7)?,
    })
}
