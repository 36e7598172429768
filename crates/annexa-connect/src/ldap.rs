//! Reading a live directory over LDAP, saved as LDIF.
//!
//! A live read is turned into the same LDIF an export would give, with entries and
//! attributes in a stable order, and imported through the LDIF importer: one mapping of
//! OpenLDAP and Active Directory semantics, and a file an auditor can open, hash and
//! compare with the evidence, exactly as for a file import.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry};
use std::collections::BTreeMap;

/// Where and how to read.
#[derive(Debug, Clone)]
pub struct LdapSource {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    pub base_dn: String,
    pub filter: String,
    /// Simple bind; anonymous when `None`.
    pub bind: Option<(String, String)>,
    /// Entries per page of the paged-results control.
    pub page_size: i32,
    /// Seconds before a connection attempt or an operation gives up.
    pub timeout_secs: u64,
    pub tls: LdapTls,
}

/// How the connection is protected. An `ldaps://` URL is TLS from the first byte; an
/// `ldap://` URL is upgraded with StartTLS (RFC 4513 §3) when `starttls` is set. The server
/// certificate is always verified: against `ca_file` when given, else the system's roots.
#[derive(Debug, Clone, Default)]
pub struct LdapTls {
    pub starttls: bool,
    /// PEM file of the CA certificates to trust (a private directory CA).
    pub ca_file: Option<std::path::PathBuf>,
}

/// Connects and binds as `source` says.
fn open(source: &LdapSource) -> Result<LdapConn, LdapError> {
    let err = |message: String| LdapError::Server { url: source.url.clone(), message };
    let mut settings = LdapConnSettings::new().set_conn_timeout(std::time::Duration::from_secs(source.timeout_secs));
    if source.tls.starttls {
        if source.url.starts_with("ldaps://") {
            return Err(err("StartTLS upgrades an ldap:// connection; an ldaps:// URL is TLS already".into()));
        }
        settings = settings.set_starttls(true);
    }
    if let Some(path) = &source.tls.ca_file {
        settings = settings.set_config(std::sync::Arc::new(crate::tls::client_config(path).map_err(err)?));
    }
    let mut conn = LdapConn::with_settings(settings, &source.url).map_err(|e| err(format!("cannot connect: {e}")))?;
    if let Some((dn, password)) = &source.bind {
        conn.simple_bind(dn, password).and_then(|r| r.success()).map_err(|e| err(format!("bind as {dn} failed: {e}")))?;
    }
    Ok(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("LDAP {url}: {message}")]
    Server { url: String, message: String },
}

/// A value LDIF can carry as plain text (RFC 2849 SAFE-STRING): otherwise base64.
fn safe(v: &[u8]) -> bool {
    match v.first() {
        None => true,
        Some(b' ' | b':' | b'<') => false,
        Some(_) => v.iter().all(|&b| b != b'\0' && b != b'\n' && b != b'\r' && b < 0x80) && v.last() != Some(&b' '),
    }
}

fn line(out: &mut String, attr: &str, value: &[u8]) {
    if safe(value) {
        out.push_str(&format!("{attr}: {}\n", String::from_utf8_lossy(value)));
    } else {
        out.push_str(&format!("{attr}:: {}\n", B64.encode(value)));
    }
}

/// Reads every entry under the base DN matching the filter (all user and operational
/// attributes, so `memberOf`, timestamps and lock state come along) and returns LDIF.
pub fn read_as_ldif(source: &LdapSource) -> Result<(String, u64), LdapError> {
    let err = |message: String| LdapError::Server { url: source.url.clone(), message };
    let mut ldap = open(source)?;
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(source.page_size.max(1)))];
    let mut search = ldap
        .streaming_search_with(adapters, &source.base_dn, Scope::Subtree, &source.filter, vec!["*", "+"])
        .map_err(|e| err(format!("search failed: {e}")))?;
    // Sorted by DN: the same directory always gives the same file, and the same hash.
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    while let Some(raw) = search.next().map_err(|e| err(format!("search failed: {e}")))? {
        let entry = SearchEntry::construct(raw);
        let mut text = String::new();
        line(&mut text, "dn", entry.dn.as_bytes());
        let mut attrs: Vec<(&String, Vec<&[u8]>)> =
            entry.attrs.iter().map(|(k, vs)| (k, vs.iter().map(|v| v.as_bytes()).collect())).collect();
        attrs.extend(entry.bin_attrs.iter().map(|(k, vs)| (k, vs.iter().map(Vec::as_slice).collect())));
        attrs.sort_by_key(|a| a.0.to_lowercase());
        for (attr, values) in attrs {
            for v in values {
                line(&mut text, attr, v);
            }
        }
        entries.insert(entry.dn.to_lowercase(), text);
    }
    search.result().success().map_err(|e| err(format!("search failed: {e}")))?;
    let _ = ldap.unbind();
    let mut out = format!("version: 1\n# read from {} base {} filter {}\n\n", source.url, source.base_dn, source.filter);
    for text in entries.values() {
        out.push_str(text);
        out.push('\n');
    }
    Ok((out, entries.len() as u64))
}

/// How a directory marks an account disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisableBy {
    /// Active Directory: set bit 2 (ACCOUNTDISABLE) of `userAccountControl`.
    UserAccountControl,
    /// OpenLDAP and others: set an attribute to a value (`pwdAccountLockedTime` =
    /// `000001010000Z` locks an account for good under the ppolicy overlay).
    Attribute { name: String, value: String },
}

/// A directory Annexa may change.
#[derive(Debug, Clone)]
pub struct LdapTarget {
    pub source: LdapSource,
    pub disable: DisableBy,
}

/// A connection to a target, reused across tasks.
pub struct LdapWriter {
    target: LdapTarget,
    conn: LdapConn,
}

fn escape_filter(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// LDAP result codes that mean "already so": the change is idempotent.
const NO_SUCH_ATTRIBUTE: u32 = 16;
const ATTRIBUTE_OR_VALUE_EXISTS: u32 = 20;
const OBJECT_CLASS_VIOLATION: u32 = 65;

impl LdapWriter {
    pub fn connect(target: &LdapTarget) -> Result<LdapWriter, LdapError> {
        Ok(LdapWriter { target: target.clone(), conn: open(&target.source)? })
    }

    fn err(&self, message: String) -> LdapError {
        LdapError::Server { url: self.target.source.url.clone(), message }
    }

    /// The DN of the one entry `filter` finds under the base.
    fn find(&mut self, filter: &str, what: &str) -> Result<String, LdapError> {
        let base = self.target.source.base_dn.clone();
        let (entries, _) = self
            .conn
            .search(&base, Scope::Subtree, filter, vec!["dn"])
            .and_then(|r| r.success())
            .map_err(|e| self.err(format!("search for {what} failed: {e}")))?;
        match entries.len() {
            1 => Ok(SearchEntry::construct(entries.into_iter().next().ok_or_else(|| self.err("no entry".into()))?).dn),
            0 => Err(self.err(format!("{what} not found under {base}"))),
            n => Err(self.err(format!("{what} is ambiguous: {n} entries match"))),
        }
    }

    fn account_dn(&mut self, account_id: &str) -> Result<String, LdapError> {
        let id = escape_filter(account_id);
        self.find(&format!("(|(sAMAccountName={id})(uid={id}))"), &format!("account {account_id}"))
    }

    fn group_dn(&mut self, group: &str) -> Result<String, LdapError> {
        let g = escape_filter(group);
        self.find(
            &format!("(&(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|(cn={g})(sAMAccountName={g})))"),
            &format!("group {group}"),
        )
    }

    /// Disables an account; an account already disabled stays as it is.
    pub fn disable_account(&mut self, account_id: &str) -> Result<String, LdapError> {
        let dn = self.account_dn(account_id)?;
        match self.target.disable.clone() {
            DisableBy::UserAccountControl => {
                let (entries, _) = self
                    .conn
                    .search(&dn, Scope::Base, "(objectClass=*)", vec!["userAccountControl"])
                    .and_then(|r| r.success())
                    .map_err(|e| self.err(format!("reading {dn} failed: {e}")))?;
                let uac: u32 = entries
                    .into_iter()
                    .next()
                    .map(SearchEntry::construct)
                    .and_then(|e| e.attrs.get("userAccountControl").and_then(|v| v.first()).and_then(|v| v.parse().ok()))
                    .ok_or_else(|| self.err(format!("{dn} has no userAccountControl")))?;
                if uac & 2 != 0 {
                    return Ok(format!("{dn} was already disabled"));
                }
                let value = (uac | 2).to_string();
                self.conn
                    .modify(&dn, vec![ldap3::Mod::Replace("userAccountControl", std::collections::HashSet::from([value.as_str()]))])
                    .and_then(|r| r.success())
                    .map_err(|e| self.err(format!("disabling {dn} failed: {e}")))?;
            }
            DisableBy::Attribute { name, value } => {
                self.conn
                    .modify(&dn, vec![ldap3::Mod::Replace(name.as_str(), std::collections::HashSet::from([value.as_str()]))])
                    .and_then(|r| r.success())
                    .map_err(|e| self.err(format!("disabling {dn} failed: {e}")))?;
            }
        }
        Ok(format!("disabled {dn}"))
    }

    /// Removes an account from a group; an account not in it is left as it is.
    pub fn remove_membership(&mut self, account_id: &str, group: &str) -> Result<String, LdapError> {
        let (dn, group_dn) = (self.account_dn(account_id)?, self.group_dn(group)?);
        match self.conn.modify(&group_dn, vec![ldap3::Mod::Delete("member", std::collections::HashSet::from([dn.as_str()]))]) {
            Ok(r) if r.rc == 0 => Ok(format!("removed {dn} from {group_dn}")),
            Ok(r) if r.rc == NO_SUCH_ATTRIBUTE => Ok(format!("{dn} was not in {group_dn}")),
            Ok(r) if r.rc == OBJECT_CLASS_VIOLATION => Err(self.err(format!(
                "removing {dn} from {group_dn} would leave the group with no member, which its schema forbids \
                 (groupOfNames): give the group a placeholder member"
            ))),
            Ok(r) => Err(self.err(format!("removing {dn} from {group_dn} failed: {r}"))),
            Err(e) => Err(self.err(format!("removing {dn} from {group_dn} failed: {e}"))),
        }
    }

    /// Adds an account to a group; an account already in it is left as it is.
    pub fn add_membership(&mut self, account_id: &str, group: &str) -> Result<String, LdapError> {
        let (dn, group_dn) = (self.account_dn(account_id)?, self.group_dn(group)?);
        match self.conn.modify(&group_dn, vec![ldap3::Mod::Add("member", std::collections::HashSet::from([dn.as_str()]))]) {
            Ok(r) if r.rc == 0 => Ok(format!("added {dn} to {group_dn}")),
            Ok(r) if r.rc == ATTRIBUTE_OR_VALUE_EXISTS => Ok(format!("{dn} was already in {group_dn}")),
            Ok(r) => Err(self.err(format!("adding {dn} to {group_dn} failed: {r}"))),
            Err(e) => Err(self.err(format!("adding {dn} to {group_dn} failed: {e}"))),
        }
    }
}

/// The attributes of a new account, by the person it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub login: String,
    pub employee_id: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
}

const ENTRY_ALREADY_EXISTS: u32 = 68;

impl LdapWriter {
    /// Creates an account under `parent_dn`; an account that exists already is left as it
    /// is. Active Directory accounts are created disabled without a password
    /// (userAccountControl 514), as AD requires; OpenLDAP accounts as inetOrgPerson.
    pub fn create_account(&mut self, parent_dn: &str, a: &NewAccount) -> Result<String, LdapError> {
        let cn = format!("{} {}", a.given_name, a.family_name).trim().to_string();
        let ad = self.target.disable == DisableBy::UserAccountControl;
        let dn = if ad { format!("CN={},{parent_dn}", cn.replace(',', "\\,")) } else { format!("uid={},{parent_dn}", a.login) };
        let mut attrs: Vec<(&str, std::collections::HashSet<&str>)> =
            vec![("cn", [cn.as_str()].into()), ("sn", [a.family_name.as_str()].into()), ("givenName", [a.given_name.as_str()].into())];
        if ad {
            attrs.push(("objectClass", ["top", "person", "organizationalPerson", "user"].into()));
            attrs.push(("sAMAccountName", [a.login.as_str()].into()));
            attrs.push(("employeeID", [a.employee_id.as_str()].into()));
            attrs.push(("userAccountControl", ["514"].into()));
        } else {
            attrs.push(("objectClass", ["inetOrgPerson"].into()));
            attrs.push(("uid", [a.login.as_str()].into()));
            attrs.push(("employeeNumber", [a.employee_id.as_str()].into()));
        }
        if let Some(mail) = &a.email {
            attrs.push(("mail", [mail.as_str()].into()));
        }
        match self.conn.add(&dn, attrs) {
            Ok(r) if r.rc == 0 => Ok(format!("created {dn}")),
            Ok(r) if r.rc == ENTRY_ALREADY_EXISTS => Ok(format!("{dn} existed already")),
            Ok(r) => Err(self.err(format!("creating {dn} failed: {r}"))),
            Err(e) => Err(self.err(format!("creating {dn} failed: {e}"))),
        }
    }
}
