//! Users who sign in with a password, their sessions, and the one-time links that create a
//! fresh server's first admin. Creating, disabling and signing in or out are ledger
//! entries; a session's use is not (it would flood the log with reads).

use crate::ledger::Change;
use crate::{Store, StoreError};
use annexa_core::model::Role;
use annexa_core::time::Instant;

/// A user as stored (the password hash is read only by [`Store::user_for_sign_in`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub username: String,
    pub role: Role,
    /// The person they are in HR (a reviewer's items are theirs).
    pub employee_id: Option<String>,
    /// A system owner's system.
    pub system: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub disabled_at: Option<i64>,
}

/// A live session and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

/// A new session: its id's hash, its CSRF token, and when it ends.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_sha256: &'a str,
    pub csrf_token: &'a str,
    pub expires_at: Instant,
}

const USER_COLUMNS: &str = "u.username, u.role, u.employee_id, u.system, u.created_at, u.created_by, u.disabled_at";

fn user(r: &crate::db::DbRow<'_>) -> Result<User, StoreError> {
    let role = r.req_text(1)?;
    Ok(User {
        username: r.req_text(0)?.to_string(),
        role: Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("user role {role:?}")))?,
        employee_id: r.text(2)?.map(String::from),
        system: r.text(3)?.map(String::from),
        created_at: r.req_int(4)?,
        created_by: r.req_text(5)?.to_string(),
        disabled_at: r.int(6)?,
    })
}

impl Store {
    /// Stores a new user; a taken username (in any case) is refused.
    pub fn create_user(&mut self, new: &User, password_hash: &str, actor: &str, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut taken = false;
        tx.query_each("SELECT 1 FROM users WHERE lower(username) = lower(?)", &[new.username.as_str().into()], |_| {
            taken = true;
            Ok(())
        })?;
        if taken {
            return Err(StoreError::Conflict(format!("a user named {:?} exists already", new.username)));
        }
        tx.execute(
            "INSERT INTO users (username, role, employee_id, system, password_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                new.username.as_str().into(),
                new.role.as_str().into(),
                new.employee_id.as_deref().into(),
                new.system.as_deref().into(),
                password_hash.into(),
                now.timestamp().into(),
                actor.into(),
            ],
        )?;
        let data = serde_json::json!({
            "username": new.username, "role": new.role.as_str(), "employee_id": new.employee_id, "system": new.system,
        });
        tx.ledger_append(actor, now, &[Change { kind: "user-created", data }])?;
        tx.commit()
    }

    /// Every user, by name.
    pub fn users(&mut self) -> Result<Vec<User>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"), &[], |r| {
            out.push(user(r)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// Whether any live admin exists (a fresh server has none and offers a setup link).
    pub fn has_admin(&mut self) -> Result<bool, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut found = false;
        tx.query_each("SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL", &[], |_| {
            found = true;
            Ok(())
        })?;
        tx.commit()?;
        Ok(found)
    }

    /// The live user named `username` (any case) and their password hash.
    pub fn user_for_sign_in(&mut self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each(
            &format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE lower(u.username) = lower(?) AND u.disabled_at IS NULL"),
            &[username.into()],
            |r| {
                out = Some((user(r)?, r.req_text(7)?.to_string()));
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Disables a user and ends their sessions; false when there is no such live user.
    pub fn disable_user(&mut self, username: &str, actor: &str, now: Instant) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE users SET disabled_at = ? WHERE username = ? AND disabled_at IS NULL",
            &[now.timestamp().into(), username.into()],
        )?;
        if n > 0 {
            tx.execute("DELETE FROM sessions WHERE username = ?", &[username.into()])?;
            tx.ledger_append(actor, now, &[Change { kind: "user-disabled", data: serde_json::json!({ "username": username }) }])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Starts a session for `username` (a sign-in, recorded in the ledger).
    pub fn create_session(&mut self, username: &str, session: &NewSession<'_>, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        // Sessions that ended are removed as new ones begin, so the table stays small.
        tx.execute("DELETE FROM sessions WHERE expires_at <= ?", &[now.timestamp().into()])?;
        tx.execute(
            "INSERT INTO sessions (id_sha256, username, csrf_token, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                session.id_sha256.into(),
                username.into(),
                session.csrf_token.into(),
                now.timestamp().into(),
                session.expires_at.timestamp().into(),
                now.timestamp().into(),
            ],
        )?;
        let actor = format!("user:{username}");
        tx.ledger_append(&actor, now, &[Change { kind: "signed-in", data: serde_json::json!({ "username": username }) }])?;
        tx.commit()
    }

    /// The live session whose id hashes to `id_sha256`, of a live user.
    pub fn session(&mut self, id_sha256: &str) -> Result<Option<Session>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each(
            &format!(
                "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at, s.last_seen_at FROM sessions s \
                 JOIN users u ON u.username = s.username WHERE s.id_sha256 = ? AND u.disabled_at IS NULL"
            ),
            &[id_sha256.into()],
            |r| {
                out = Some(Session {
                    user: user(r)?,
                    csrf_token: r.req_text(7)?.to_string(),
                    expires_at: r.req_int(8)?,
                    last_seen_at: r.req_int(9)?,
                });
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Notes that a session was used (the caller does it at most once a minute).
    pub fn touch_session(&mut self, id_sha256: &str, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute("UPDATE sessions SET last_seen_at = ? WHERE id_sha256 = ?", &[now.timestamp().into(), id_sha256.into()])?;
        tx.commit()
    }

    /// Ends a session (a sign-out, recorded in the ledger); false when there was none.
    pub fn end_session(&mut self, id_sha256: &str, now: Instant) -> Result<bool, StoreError> {
        let mut tx = self.conn.transaction()?;
        let mut username = None;
        tx.query_each("SELECT username FROM sessions WHERE id_sha256 = ?", &[id_sha256.into()], |r| {
            username = Some(r.req_text(0)?.to_string());
            Ok(())
        })?;
        let Some(username) = username else { return Ok(false) };
        tx.execute("DELETE FROM sessions WHERE id_sha256 = ?", &[id_sha256.into()])?;
        let actor = format!("user:{username}");
        tx.ledger_append(&actor, now, &[Change { kind: "signed-out", data: serde_json::json!({ "username": username }) }])?;
        tx.commit()?;
        Ok(true)
    }

    /// Stores a setup link's token hash, valid until `expires_at`.
    pub fn create_setup_link(&mut self, token_sha256: &str, expires_at: Instant, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO setup_links (token_sha256, created_at, expires_at) VALUES (?, ?, ?)",
            &[token_sha256.into(), now.timestamp().into(), expires_at.timestamp().into()],
        )?;
        tx.commit()
    }

    /// Creates the first admin with a setup link: only while no live admin exists, and only
    /// with a link that is unused and unexpired, which it uses up; one transaction, so two
    /// requests with one link cannot both succeed.
    pub fn create_first_admin(&mut self, token_sha256: &str, admin: &User, password_hash: &str, now: Instant) -> Result<(), StoreError> {
        let mut tx = self.conn.transaction()?;
        let used = tx.execute(
            "UPDATE setup_links SET used_at = ? WHERE token_sha256 = ? AND used_at IS NULL AND expires_at > ?",
            &[now.timestamp().into(), token_sha256.into(), now.timestamp().into()],
        )?;
        if used == 0 {
            return Err(StoreError::Invalid("this setup link is unknown, used or expired: restart `annexa serve` for a new one".into()));
        }
        let mut admin_exists = false;
        tx.query_each("SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL", &[], |_| {
            admin_exists = true;
            Ok(())
        })?;
        if admin_exists {
            return Err(StoreError::Conflict("an admin exists already: sign in, or ask them".into()));
        }
        tx.execute(
            "INSERT INTO users (username, role, employee_id, system, password_hash, created_at, created_by) VALUES (?, ?, ?, NULL, ?, ?, ?)",
            &[
                admin.username.as_str().into(),
                Role::Admin.as_str().into(),
                admin.employee_id.as_deref().into(),
                password_hash.into(),
                now.timestamp().into(),
                "setup-link".into(),
            ],
        )?;
        let data =
            serde_json::json!({ "username": admin.username, "role": "admin", "employee_id": admin.employee_id, "via": "setup link" });
        tx.ledger_append("setup-link", now, &[Change { kind: "user-created", data }])?;
        tx.commit()
    }
}
