//! A SCIM 2.0 client (RFC 7644) for provisioning to any SCIM application, and for reading
//! one as a source.
//!
//! - Bearer-token authentication; the token never appears in an error or log line.
//! - Every request is retried on 429 and 5xx (and on connection failures) up to
//!   [`ScimOptions::retries`] times, waiting what `Retry-After` asks (seconds or an HTTP
//!   date, capped at [`ScimOptions::max_wait`]) or else an exponential backoff.
//! - Changes send the resource's ETag in `If-Match` when the server gave one; a 412 means
//!   someone changed it in between, so the client reads it again and retries.
//! - Lists are read page by page (`startIndex`, `count`) until `totalResults` are in.
//! - Every provisioning operation is idempotent: it looks first and says what it found
//!   ("already disabled", "not a member") instead of failing when run twice.

use serde_json::{json, Value};
use std::time::Duration;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, thiserror::Error)]
pub enum ScimClientError {
    /// The server answered with an error (after retries, for 429 and 5xx).
    #[error("{method} {path}: HTTP {status}{}: {detail}", scim_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    Http { method: String, path: String, status: u16, scim_type: Option<String>, detail: String },
    /// No answer: connection refused, timeout, TLS.
    #[error("{method} {path}: {message}")]
    Transport { method: String, path: String, message: String },
    /// An answer that is not what SCIM says it should be.
    #[error("{0}")]
    Protocol(String),
}

impl ScimClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ScimClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct ScimOptions {
    pub timeout: Duration,
    /// Retries after the first attempt, for 429, 5xx and transport failures.
    pub retries: u32,
    /// The longest wait between attempts, whatever `Retry-After` asks.
    pub max_wait: Duration,
    /// The first backoff when the server gives no `Retry-After`; doubled each time.
    pub backoff: Duration,
    /// Resources per page when listing.
    pub page_size: usize,
    /// PEM file of the CA certificates to trust for `https://` (default: the webpki roots).
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for ScimOptions {
    fn default() -> Self {
        ScimOptions {
            timeout: Duration::from_secs(30),
            retries: 4,
            max_wait: Duration::from_secs(60),
            backoff: Duration::from_millis(500),
            page_size: 500,
            ca_file: None,
        }
    }
}

/// An answer: status, ETag, body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Value,
}

/// A connection to one SCIM service provider.
pub struct ScimClient {
    base: String,
    authorization: String,
    agent: ureq::Agent,
    options: ScimOptions,
}

/// The account to create for a joiner.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_name: String,
    pub employee_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn quote(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

impl ScimClient {
    /// `base` is the service provider's base URL (`https://app.example.com/scim/v2`). Fails
    /// only when `options.ca_file` cannot be used.
    pub fn new(base: &str, token: &str, options: ScimOptions) -> Result<ScimClient, ScimClientError> {
        let mut agent = ureq::AgentBuilder::new().timeout(options.timeout);
        if let Some(path) = &options.ca_file {
            agent = agent.tls_config(std::sync::Arc::new(crate::tls::client_config(path).map_err(ScimClientError::Protocol)?));
        }
        Ok(ScimClient { base: base.trim_end_matches('/').to_string(), authorization: format!("Bearer {token}"), agent: agent.build(), options })
    }

    /// One request, retried as the module says.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>, if_match: Option<&str>) -> Result<Reply, ScimClientError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let mut req = self
                .agent
                .request(method, &url)
                .set("Authorization", &self.authorization)
                .set("Accept", "application/scim+json, application/json");
            if let Some(tag) = if_match {
                req = req.set("If-Match", tag);
            }
            let result = match body {
                Some(b) => req.set("Content-Type", "application/scim+json").send_string(&b.to_string()),
                None => req.call(),
            };
            let (wait, error) = match result {
                Ok(res) => return read(method, path, res),
                Err(ureq::Error::Status(status, res)) => {
                    let asked = res.header("Retry-After").and_then(retry_after);
                    let retryable = status == 429 || status >= 500;
                    let reply = read(method, path, res);
                    let detail = reply.as_ref().map(|r| r.body.clone()).unwrap_or(Value::Null);
                    let error = ScimClientError::Http {
                        method: method.into(),
                        path: path.into(),
                        status,
                        scim_type: detail["scimType"].as_str().map(String::from),
                        detail: detail["detail"].as_str().map(String::from).unwrap_or_else(|| "no detail".into()),
                    };
                    if !retryable {
                        return Err(error);
                    }
                    (asked, error)
                }
                Err(ureq::Error::Transport(t)) => {
                    (None, ScimClientError::Transport { method: method.into(), path: path.into(), message: t.to_string() })
                }
            };
            if attempt >= self.options.retries {
                return Err(error);
            }
            let backoff = self.options.backoff * 2u32.saturating_pow(attempt);
            std::thread::sleep(wait.unwrap_or(backoff).min(self.options.max_wait));
            attempt += 1;
        }
    }

    /// Every resource at `endpoint` (`/Users`, `/Groups`) matching `filter`, page by page.
    pub fn list(&self, endpoint: &str, filter: Option<&str>) -> Result<Vec<Value>, ScimClientError> {
        self.list_some(endpoint, filter, None)
    }

    /// As [`list`](Self::list), asking only for `attributes` (comma-separated): a Group's
    /// thousands of members need not travel when only its id is wanted.
    pub fn list_some(&self, endpoint: &str, filter: Option<&str>, attributes: Option<&str>) -> Result<Vec<Value>, ScimClientError> {
        let mut out = Vec::new();
        let mut start = 1usize;
        loop {
            let mut path = format!("{endpoint}?startIndex={start}&count={}", self.options.page_size);
            if let Some(f) = filter {
                path.push_str(&format!("&filter={}", percent_encode(f)));
            }
            if let Some(a) = attributes {
                path.push_str(&format!("&attributes={}", percent_encode(a)));
            }
            let page = self.request("GET", &path, None, None)?.body;
            let items = page["Resources"].as_array().cloned().unwrap_or_default();
            let total = page["totalResults"].as_u64().ok_or_else(|| ScimClientError::Protocol(format!("GET {path}: the answer has no totalResults")))? as usize;
            let n = items.len();
            out.extend(items);
            if n == 0 || out.len() >= total {
                return Ok(out);
            }
            start += n;
        }
    }

    fn find_one(&self, endpoint: &str, attr: &str, value: &str, attributes: Option<&str>) -> Result<Option<Value>, ScimClientError> {
        let found = self.list_some(endpoint, Some(&format!("{attr} eq \"{}\"", quote(value))), attributes)?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            n => Err(ScimClientError::Protocol(format!("{n} resources at {endpoint} have {attr} {value:?}; expected one"))),
        }
    }

    pub fn find_user(&self, user_name: &str) -> Result<Option<Value>, ScimClientError> {
        self.find_one("/Users", "userName", user_name, None)
    }

    pub fn find_group(&self, display_name: &str) -> Result<Option<Value>, ScimClientError> {
        self.find_one("/Groups", "displayName", display_name, None)
    }

    /// The id of the Group named `name`, without its members.
    fn group_id(&self, name: &str) -> Result<String, ScimClientError> {
        let g = self.find_one("/Groups", "displayName", name, Some("id,displayName"))?;
        Self::id_of(&g.ok_or_else(|| ScimClientError::Protocol(format!("no Group with displayName {name:?}")))?)
    }

    fn user(&self, user_name: &str) -> Result<Value, ScimClientError> {
        self.find_user(user_name)?.ok_or_else(|| ScimClientError::Protocol(format!("no User with userName {user_name:?}")))
    }

    fn id_of(resource: &Value) -> Result<String, ScimClientError> {
        resource["id"].as_str().map(String::from).ok_or_else(|| ScimClientError::Protocol("a resource without an id".into()))
    }

    /// Reads a resource, then PATCHes it with `If-Match`; on 412 (changed in between) reads
    /// it again and retries.
    /// `whole`: answer with the whole resource (else only its id: a Group's thousands of
    /// members need not travel back).
    fn patch_fresh(&self, endpoint: &str, id: &str, operations: Value, whole: bool) -> Result<Reply, ScimClientError> {
        let path = format!("{endpoint}/{id}");
        let body = json!({ "schemas": [PATCH], "Operations": operations });
        for _ in 0..3 {
            // Only the version is wanted, not (say) a Group's every member.
            let current = self.request("GET", &format!("{path}?attributes=id,meta"), None, None)?;
            let tag = current.etag.clone().or_else(|| current.body["meta"]["version"].as_str().map(String::from));
            let target = if whole { path.clone() } else { format!("{path}?attributes=id") };
            match self.request("PATCH", &target, Some(&body), tag.as_deref()) {
                Err(e) if e.status() == Some(412) => continue,
                other => return other,
            }
        }
        Err(ScimClientError::Protocol(format!("{path} kept changing while it was patched")))
    }

    /// Creates a User; an existing one with the same userName is left as it is.
    pub fn create_user(&self, new: &NewUser) -> Result<String, ScimClientError> {
        if self.find_user(&new.user_name)?.is_some() {
            return Ok(format!("User {} exists already", new.user_name));
        }
        let mut user = json!({
            "schemas": [USER, ENTERPRISE],
            "userName": new.user_name,
            "name": { "givenName": new.given_name, "familyName": new.family_name },
            "displayName": format!("{} {}", new.given_name, new.family_name),
            "active": true,
            ENTERPRISE: { "employeeNumber": new.employee_id },
        });
        if let Some(mail) = &new.email {
            user["emails"] = json!([{ "value": mail, "type": "work", "primary": true }]);
        }
        match self.request("POST", "/Users", Some(&user), None) {
            Ok(r) => Ok(format!("created User {} ({})", new.user_name, r.body["id"].as_str().unwrap_or("?"))),
            // Created by an earlier attempt whose answer was lost.
            Err(e) if e.status() == Some(409) => Ok(format!("User {} exists already", new.user_name)),
            Err(e) => Err(e),
        }
    }

    /// Applies PATCH `operations` (RFC 7644 §3.5.2: `[{"op": "replace", "path": "title",
    /// "value": "…"}]`) to the User, with `If-Match`.
    pub fn update_user(&self, user_name: &str, operations: Value) -> Result<Value, ScimClientError> {
        let user = self.user(user_name)?;
        Ok(self.patch_fresh("/Users", &Self::id_of(&user)?, operations, true)?.body)
    }

    /// Sets `active: false`.
    pub fn deactivate_user(&self, user_name: &str) -> Result<String, ScimClientError> {
        let user = self.user(user_name)?;
        if user["active"] == json!(false) {
            return Ok(format!("User {user_name} was already inactive"));
        }
        self.patch_fresh("/Users", &Self::id_of(&user)?, json!([{ "op": "replace", "path": "active", "value": false }]), false)?;
        Ok(format!("deactivated User {user_name}"))
    }

    /// Deletes a User; one already gone is no error.
    pub fn delete_user(&self, user_name: &str) -> Result<String, ScimClientError> {
        let Some(user) = self.find_user(user_name)? else { return Ok(format!("User {user_name} was already gone")) };
        let path = format!("/Users/{}", Self::id_of(&user)?);
        let tag = user["meta"]["version"].as_str();
        match self.request("DELETE", &path, None, tag) {
            Ok(_) => Ok(format!("deleted User {user_name}")),
            Err(e) if e.status() == Some(404) => Ok(format!("User {user_name} was already gone")),
            // Changed since we read it: delete whatever it is now.
            Err(e) if e.status() == Some(412) => self.request("DELETE", &path, None, None).map(|_| format!("deleted User {user_name}")),
            Err(e) => Err(e),
        }
    }

    /// Whether the Group lists the User, asked with a filter so a large Group is not read.
    fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool, ScimClientError> {
        let filter = format!("id eq \"{}\" and members[value eq \"{}\"]", quote(group_id), quote(user_id));
        Ok(!self.list_some("/Groups", Some(&filter), Some("id"))?.is_empty())
    }

    pub fn add_member(&self, user_name: &str, group: &str) -> Result<String, ScimClientError> {
        let (user, g) = (Self::id_of(&self.user(user_name)?)?, self.group_id(group)?);
        if self.is_member(&g, &user)? {
            return Ok(format!("{user_name} was already a member of {group}"));
        }
        self.patch_fresh("/Groups", &g, json!([{ "op": "add", "path": "members", "value": [{ "value": user }] }]), false)?;
        Ok(format!("added {user_name} to {group}"))
    }

    pub fn remove_member(&self, user_name: &str, group: &str) -> Result<String, ScimClientError> {
        let Some(u) = self.find_user(user_name)? else { return Ok(format!("User {user_name} does not exist, so is no member of {group}")) };
        let (user, g) = (Self::id_of(&u)?, self.group_id(group)?);
        if !self.is_member(&g, &user)? {
            return Ok(format!("{user_name} was not a member of {group}"));
        }
        self.patch_fresh("/Groups", &g, json!([{ "op": "remove", "path": format!("members[value eq \"{}\"]", quote(&user)) }]), false)?;
        Ok(format!("removed {user_name} from {group}"))
    }

    /// Every User and Group as a SCIM snapshot (JSON Lines, Users then Groups, each sorted
    /// by id so the same state gives the same file), and how many resources it holds.
    pub fn snapshot(&self) -> Result<(String, usize), ScimClientError> {
        let mut out = String::new();
        let mut n = 0;
        for endpoint in ["/Users", "/Groups"] {
            let mut all = self.list(endpoint, None)?;
            all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            for r in all {
                out.push_str(&r.to_string());
                out.push('\n');
                n += 1;
            }
        }
        Ok((out, n))
    }
}

fn read(method: &str, path: &str, res: ureq::Response) -> Result<Reply, ScimClientError> {
    let status = res.status();
    let etag = res.header("ETag").map(String::from);
    let text = res.into_string().map_err(|e| ScimClientError::Transport { method: method.into(), path: path.into(), message: e.to_string() })?;
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|e| ScimClientError::Protocol(format!("{method} {path}: HTTP {status} with a body that is not JSON: {e}")))?
    };
    Ok(Reply { status, etag, body })
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        assert!(retry_after(&later).is_some_and(|d| d > Duration::from_secs(25)));
        assert_eq!(retry_after("soon"), None);
        assert_eq!(percent_encode("userName eq \"a b\""), "userName%20eq%20%22a%20b%22");
        assert_eq!(quote(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
