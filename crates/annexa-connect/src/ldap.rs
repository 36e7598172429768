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
    /// `ldap://host:port` (or `ldaps://`, when built with TLS).
    pub url: String,
    pub base_dn: String,
    pub filter: String,
    /// Simple bind; anonymous when `None`.
    pub bind: Option<(String, String)>,
    /// Entries per page of the paged-results control.
    pub page_size: i32,
    /// Seconds before a connection attempt or an operation gives up.
    pub timeout_secs: u64,
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
    let settings = LdapConnSettings::new().set_conn_timeout(std::time::Duration::from_secs(source.timeout_secs));
    let mut ldap = LdapConn::with_settings(settings, &source.url).map_err(|e| err(format!("cannot connect: {e}")))?;
    if let Some((dn, password)) = &source.bind {
        ldap.simple_bind(dn, password)
            .and_then(|r| r.success())
            .map_err(|e| err(format!("bind as {dn} failed: {e}")))?;
    }
    let adapters: Vec<Box<dyn Adapter<_, _>>> =
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(source.page_size.max(1)))];
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
        attrs.sort_by(|a, b| a.0.to_lowercase().cmp(&b.0.to_lowercase()));
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
