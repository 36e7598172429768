//! Subject keys: the one text form of what a finding, a piece of evidence, a review item or
//! a risk acceptance is about (an account, an assignment, a credential, a badge, a person).
//!
//! A key joins its parts with `/`: `corp-ad/jdoe`, `github/jdoe/acme/admins`. A part is
//! written as it is unless it could be mistaken for something else: one that holds `/` or
//! `#` (the separators), or anything that looks like an escape (`%` and two hex digits), is
//! percent-escaped (`%` as `%25`, `/` as `%2F`, `#` as `%23`). So `app/b%2Fc/d` and
//! `app/b/c%2Fd` are two assignments, and every key that needed no escaping reads as it
//! always did, which keeps the finding ids an auditor already holds (a finding id is a
//! hash of its check and subject key).
//!
//! ```
//! use annexa_core::key::{GrantKey, AccountKey};
//! let a = GrantKey::new("app", "b/c", "d");
//! let b = GrantKey::new("app", "b", "c/d");
//! assert_eq!(a.to_string(), "app/b%2Fc/d");
//! assert_eq!(b.to_string(), "app/b/c%2Fd");
//! assert_eq!(AccountKey::new("corp-ad", "jdoe").to_string(), "corp-ad/jdoe");
//! assert_eq!(a.to_string().parse::<GrantKey>(), Ok(a));
//! ```

use std::borrow::Cow;
use std::fmt;

/// One part of a key, escaped where it must be.
pub fn part(s: &str) -> Cow<'_, str> {
    if !needs_escape(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_escaped(&mut out, s);
    Cow::Owned(out)
}

/// Appends `s` as [`part`] writes it.
fn push_part(out: &mut String, s: &str) {
    if needs_escape(s) {
        push_escaped(out, s);
    } else {
        out.push_str(s);
    }
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
}

fn needs_escape(s: &str) -> bool {
    let b = s.as_bytes();
    // Nearly every part holds none of the three bytes: one pass without early exits, which
    // the compiler turns into a few wide compares, settles those (a first audit writes a
    // key for every assignment it covers).
    if !b.iter().fold(false, |seen, &c| seen | (c == b'/') | (c == b'#') | (c == b'%')) {
        return false;
    }
    b.iter().enumerate().any(|(i, &c)| {
        c == b'/' || c == b'#' || (c == b'%' && b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
    })
}

/// A part read back: escapes undone when it has any (a part written as it is has none).
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Joins parts into a key: each escaped as [`part`] does, separated by `/`.
pub fn join(parts: &[&str]) -> String {
    // Sized for the parts as they are: one allocation unless a part needs escaping.
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        push_part(&mut out, p);
    }
    out
}

/// Why a text is not a key of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not {what}: expected {parts} parts separated by '/' (a '/' inside a part is written %2F)")]
pub struct KeyError {
    pub text: String,
    pub what: &'static str,
    pub parts: usize,
}

fn split<const N: usize>(text: &str, what: &'static str) -> Result<[String; N], KeyError> {
    let pieces: Vec<&str> = text.split('/').collect();
    if pieces.len() != N || pieces.iter().any(|p| p.is_empty()) {
        return Err(KeyError { text: text.to_string(), what, parts: N });
    }
    Ok(std::array::from_fn(|i| unescape(pieces[i]).into_owned()))
}

/// An account: its system and its id there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub system: String,
    pub account_id: String,
}

impl AccountKey {
    pub fn new(system: &str, account_id: &str) -> AccountKey {
        AccountKey { system: system.into(), account_id: account_id.into() }
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&join(&[&self.system, &self.account_id]))
    }
}

impl std::str::FromStr for AccountKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let [system, account_id] = split::<2>(s, "an account key (system/account)")?;
        Ok(AccountKey { system, account_id })
    }
}

/// An entitlement held by an account: an assignment, or a grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantKey {
    pub system: String,
    pub account_id: String,
    pub entitlement: String,
}

impl GrantKey {
    pub fn new(system: &str, account_id: &str, entitlement: &str) -> GrantKey {
        GrantKey { system: system.into(), account_id: account_id.into(), entitlement: entitlement.into() }
    }

    pub fn account(&self) -> AccountKey {
        AccountKey::new(&self.system, &self.account_id)
    }
}

impl fmt::Display for GrantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&join(&[&self.system, &self.account_id, &self.entitlement]))
    }
}

impl std::str::FromStr for GrantKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let [system, account_id, entitlement] = split::<3>(s, "an assignment key (system/account/entitlement)")?;
        Ok(GrantKey { system, account_id, entitlement })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_read_as_they_always_did() {
        for (parts, text) in [
            (&["corp-ad", "jdoe"][..], "corp-ad/jdoe"),
            (&["aws-prod", "arn:aws:iam::1:user/x"][..], "aws-prod/arn:aws:iam::1:user%2Fx"),
            (&["github", "jdoe", "acme/admins"][..], "github/jdoe/acme%2Fadmins"),
            (&["corp", "CORP\\jdoe", "Domain Admins"][..], "corp/CORP\\jdoe/Domain Admins"),
            (&["erp", "j", "100% of AP"][..], "erp/j/100% of AP"),
            (&["erp", "j", "a%2Fb"][..], "erp/j/a%252Fb"),
            (&["erp", "j", "C#"][..], "erp/j/C%23"),
            (&["x", "José", "Ünïcödé"][..], "x/José/Ünïcödé"),
        ] {
            assert_eq!(join(parts), text, "{parts:?}");
        }
    }

    #[test]
    fn keys_are_one_to_one_and_read_back() {
        let tricky = ["a", "a/b", "a%2Fb", "a%252Fb", "%", "%2", "%zz", "a#b", "/", "//", "%2F", "100%", "x%41"];
        let mut seen = std::collections::HashMap::new();
        for s in tricky {
            for e in tricky {
                let k = GrantKey::new(s, "acc", e);
                let text = k.to_string();
                assert_eq!(text.parse::<GrantKey>().as_ref(), Ok(&k), "{text}");
                if let Some(other) = seen.insert(text.clone(), k.clone()) {
                    panic!("{other:?} and {k:?} share {text}");
                }
            }
        }
        assert_eq!(AccountKey::new("a/b", "c").to_string().parse::<AccountKey>(), Ok(AccountKey::new("a/b", "c")));
        assert!("a/b/c".parse::<AccountKey>().is_err());
        assert!("a//c".parse::<GrantKey>().is_err());
    }
}
