//! People who sign in to the server: users with Argon2id passwords, sessions, and the
//! one-time link that creates a fresh server's first admin.
//!
//! A session id (256 random bits) is handed to the browser once, in a cookie; Annexa keeps
//! only its SHA-256, so a copy of the database signs no one in. Every sign-in makes a new
//! id, so an id planted before it (session fixation) is worth nothing. Each session has its
//! own CSRF token, which the server demands back with every change the browser asks for.

use crate::{App, Error, Result};
use annexa_core::model::Role;
use annexa_store::users::{NewSession, Session, User};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// The shortest password accepted (NIST SP 800-63B asks for at least 8; 12 is a passphrase's
/// floor), and the longest (hashing cost must not be a caller's to choose).
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 256;
/// How long a session lasts at most, and how long it may sit unused.
pub const SESSION_HOURS: i64 = 12;
pub const IDLE_MINUTES: i64 = 60;
/// How long a setup link stays valid.
pub const SETUP_LINK_HOURS: i64 = 24;

/// What a new user is.
#[derive(Debug, Clone)]
pub struct UserRequest {
    pub username: String,
    pub role: Role,
    pub employee_id: Option<String>,
    pub system: Option<String>,
}

/// A session just started: what goes into the cookie (once) and the CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session_id: String,
    pub csrf_token: String,
    pub user: User,
    pub expires_at: annexa_core::time::Instant,
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut b = vec![0u8; bytes];
    getrandom::getrandom(&mut b).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    Ok(annexa_core::to_hex(&b))
}

/// The SHA-256 of a session id or link token, as stored.
pub fn digest(secret: &str) -> String {
    annexa_core::to_hex(&Sha256::digest(secret.as_bytes()))
}

fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(Error::invalid(format!("the password is {n} characters: at least {MIN_PASSWORD} are needed")));
    }
    if password.len() > MAX_PASSWORD {
        return Err(Error::invalid(format!("the password is longer than {MAX_PASSWORD} bytes")));
    }
    Ok(())
}

/// An Argon2id hash of `password` with a fresh salt, as a PHC string (the crate's default
/// parameters: 19 MiB, 2 passes, 1 lane, as OWASP recommends).
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| Error::internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::internal(format!("salt: {e}")))?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| Error::internal(format!("hashing: {e}")))?.to_string())
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// What a federated user has for a password hash: not a PHC string, so no password
/// matches it.
const NO_PASSWORD: &str = "!federated";

/// A hash nobody's password matches, verified when the user does not exist, so that a
/// wrong name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not anyone's password, ever").unwrap_or_default())
}

fn check_username(name: &str) -> Result<&str> {
    let name = name.trim();
    let fine = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(fine) {
        return Err(Error::invalid(format!("username {name:?}: 1 to 64 letters, digits, '.', '_', '-' or '@'")));
    }
    Ok(name)
}

impl App {
    /// Creates a user who signs in with `password`. A reviewer and a system owner are a
    /// person in HR; a system owner also names their system.
    pub fn create_user(&self, request: &UserRequest, password: &str) -> Result<User> {
        check_password(password)?;
        self.add_user(request, hash_password(password)?)
    }

    /// Creates a user who signs in only through the organisation's identity provider
    /// (OIDC): no password of theirs is kept, and none signs them in.
    pub fn create_federated_user(&self, request: &UserRequest) -> Result<User> {
        self.add_user(request, NO_PASSWORD.to_string())
    }

    fn add_user(&self, request: &UserRequest, password_hash: String) -> Result<User> {
        let username = check_username(&request.username)?;
        let employee_id = request.employee_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let system = request.system.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        if matches!(request.role, Role::Reviewer | Role::SystemOwner) && employee_id.is_none() {
            return Err(Error::invalid(format!("a {} is a person: give --employee EMPLOYEE_ID", request.role)));
        }
        match (request.role, &system) {
            (Role::SystemOwner, None) => return Err(Error::invalid("a system owner sees one system: give --system NAME")),
            (Role::SystemOwner, Some(_)) | (_, None) => {}
            (role, Some(_)) => return Err(Error::invalid(format!("--system is for system owners, not {role}"))),
        }
        let mut store = self.store()?;
        if let Some(e) = &employee_id {
            if !store.person_exists(e)? {
                return Err(Error::invalid(format!("--employee {e:?}: no such person in the HR feed")));
            }
        }
        let user = User {
            username: username.to_string(),
            role: request.role,
            employee_id,
            system,
            created_at: self.now().timestamp(),
            created_by: self.actor.clone(),
            disabled_at: None,
        };
        store.create_user(&user, &password_hash, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(user)
    }

    pub fn users(&self) -> Result<Vec<User>> {
        Ok(self.store()?.users()?)
    }

    /// Disables a user and ends their sessions.
    pub fn disable_user(&self, username: &str) -> Result<()> {
        let mut store = self.store()?;
        if !store.disable_user(username, &self.actor, self.now())? {
            return Err(Error::not_found(format!("no live user named {username:?}: `annexa user list` shows them")));
        }
        self.checkpoint(&mut store)?;
        Ok(())
    }

    /// Signs a user in: a new session when the password is theirs, `None` otherwise (the
    /// same answer, in about the same time, for a name that does not exist).
    pub fn sign_in(&self, username: &str, password: &str) -> Result<Option<SignedIn>> {
        if password.len() > MAX_PASSWORD {
            return Ok(None);
        }
        let mut store = self.store()?;
        let found = store.user_for_sign_in(username.trim())?;
        let Some((user, hash)) = found else {
            password_matches(password, decoy_hash());
            return Ok(None);
        };
        if !password_matches(password, &hash) {
            return Ok(None);
        }
        self.new_session(&mut store, user).map(Some)
    }

    /// Signs in a user the organisation's identity provider vouched for (an OIDC ID token
    /// the server verified): a new session, or `None` when no live user has that name.
    pub fn sign_in_federated(&self, username: &str) -> Result<Option<SignedIn>> {
        let mut store = self.store()?;
        match store.user_for_sign_in(username.trim())? {
            Some((user, _)) => self.new_session(&mut store, user).map(Some),
            None => Ok(None),
        }
    }

    fn new_session(&self, store: &mut annexa_store::Store, user: User) -> Result<SignedIn> {
        let (session_id, csrf_token) = (random_hex(32)?, random_hex(32)?);
        let expires_at = self.now() + chrono::Duration::hours(SESSION_HOURS);
        let session = NewSession { id_sha256: &digest(&session_id), csrf_token: &csrf_token, expires_at };
        store.create_session(&user.username, &session, self.now())?;
        Ok(SignedIn { session_id, csrf_token, user, expires_at })
    }

    /// The live session of a cookie's id: not past its end, not idle too long. Its use is
    /// noted at most once a minute.
    pub fn session(&self, session_id: &str) -> Result<Option<Session>> {
        let mut store = self.store()?;
        let id = digest(session_id);
        let Some(session) = store.session(&id)? else { return Ok(None) };
        let now = self.now().timestamp();
        if now >= session.expires_at || now - session.last_seen_at > IDLE_MINUTES * 60 {
            return Ok(None);
        }
        if now - session.last_seen_at >= 60 {
            store.touch_session(&id, self.now())?;
        }
        Ok(Some(session))
    }

    /// Ends the session of a cookie's id.
    pub fn sign_out(&self, session_id: &str) -> Result<bool> {
        Ok(self.store()?.end_session(&digest(session_id), self.now())?)
    }

    /// A one-time link token for creating the first admin, when there is no admin yet.
    pub fn setup_link(&self) -> Result<Option<String>> {
        let mut store = self.store()?;
        if store.has_admin()? {
            return Ok(None);
        }
        let token = random_hex(32)?;
        store.create_setup_link(&digest(&token), self.now() + chrono::Duration::hours(SETUP_LINK_HOURS), self.now())?;
        Ok(Some(token))
    }

    /// Creates the first admin with a setup link's token.
    pub fn create_first_admin(&self, token: &str, username: &str, password: &str, employee_id: Option<&str>) -> Result<User> {
        let username = check_username(username)?;
        check_password(password)?;
        let admin = User {
            username: username.to_string(),
            role: Role::Admin,
            employee_id: employee_id.map(str::trim).filter(|s| !s.is_empty()).map(String::from),
            system: None,
            created_at: self.now().timestamp(),
            created_by: "setup-link".into(),
            disabled_at: None,
        };
        let mut store = self.store()?;
        store.create_first_admin(&digest(token), &admin, &hash_password(password)?, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches("correct horse battery", &h));
        assert!(!password_matches("correct horse batterY", &h));
        assert_ne!(h, hash_password("correct horse battery").expect("hash"), "a fresh salt each time");
        assert!(!password_matches("x", "not a hash"));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_username("ana.núñez@example.com").is_ok());
        assert!(check_username("a b").is_err() && check_username("").is_err() && check_username("x/../y").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD + 1)).is_err());
        assert!(check_password("a long enough phrase").is_ok());
    }
}
