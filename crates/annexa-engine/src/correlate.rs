//! Linking accounts to people: employee id, then email (the account's own, or its login
//! when that is an e-mail address), then username rules.
//!
//! A link is made only on an unambiguous match. An account whose email or username fits
//! two people stays uncorrelated: a wrong link would hide an orphaned account behind a
//! real person, which is worse than reporting it.

use crate::config::Correlation as Rules;
use annexa_core::graph::IdentityGraph;
use annexa_core::model::{Account, Person};
use annexa_core::text::{email_key, is_email_shaped};
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::borrow::Cow;

/// How an account was linked to its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    EmployeeId,
    Email,
    /// The account has no e-mail of its own; its login is an e-mail address that is one
    /// person's (Okta and Entra ID logins, Google primary e-mails, IAM users named so).
    LoginEmail,
    /// The username fits the username rule with this index.
    Username(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correlation {
    pub person: usize,
    pub method: Method,
}

/// `DOMAIN\jdoe` and `jdoe@corp.example` -> `jdoe`.
pub(crate) fn bare_username(u: &str) -> String {
    let u = u.rsplit('\\').next().unwrap_or(u);
    let u = u.split('@').next().unwrap_or(u);
    u.trim().to_lowercase()
}

fn slug(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '\'' && *c != '-').flat_map(char::to_lowercase).collect()
}

/// Renders a username rule for one person.
pub fn render(pattern: &str, p: &Person) -> String {
    let given = slug(&p.given_name);
    let family = slug(&p.family_name);
    let g: String = given.chars().take(1).collect();
    pattern
        .replace("{given}", &given)
        .replace("{family}", &family)
        .replace("{g}", &g)
        .replace("{employee_id}", &p.employee_id.to_lowercase())
}

/// People by e-mail key ([`email_key`]): `None` for an address two people share.
pub type PeopleByEmail<'g> = HashMap<Cow<'g, str>, Option<usize>>;

/// Indexes the people of `graph` by e-mail.
pub fn people_by_email(graph: &IdentityGraph) -> PeopleByEmail<'_> {
    let mut by_email = PeopleByEmail::default();
    for (i, p) in graph.people.iter().enumerate() {
        if let Some(e) = p.email.as_deref() {
            by_email.entry(email_key(e)).and_modify(|v| *v = None).or_insert(Some(i));
        }
    }
    by_email
}

/// The e-mail address an account is known by, and whether it is its login standing in for
/// one: its own e-mail, or else its login when that is shaped like an address.
pub fn account_email(a: &Account) -> Option<(Cow<'_, str>, bool)> {
    match a.email.as_deref() {
        Some(e) => Some((email_key(e), false)),
        None if is_email_shaped(&a.username) => Some((email_key(&a.username), true)),
        None => None,
    }
}

/// For every account of `graph`, the person it belongs to.
pub fn correlate(
    graph: &IdentityGraph,
    rules: &Rules,
    person_by_id: &HashMap<&str, usize>,
    by_email: &PeopleByEmail<'_>,
) -> Vec<Option<Correlation>> {
    let by_username: Vec<HashMap<String, Option<usize>>> = rules
        .username_patterns
        .iter()
        .map(|pattern| {
            let mut m: HashMap<String, Option<usize>> = HashMap::default();
            for (i, p) in graph.people.iter().enumerate() {
                m.entry(render(pattern, p)).and_modify(|v| *v = None).or_insert(Some(i));
            }
            m
        })
        .collect();
    graph
        .accounts
        .iter()
        .map(|a| {
            // Service and shared accounts have owners, not people; cloud roots belong to nobody.
            if !a.kind.is_personal() || a.root {
                return None;
            }
            if let Some(p) = a.employee_id.as_deref().and_then(|e| person_by_id.get(e)) {
                return Some(Correlation { person: *p, method: Method::EmployeeId });
            }
            if let Some((address, from_login)) = account_email(a) {
                match by_email.get(&address) {
                    Some(Some(p)) => {
                        let method = if from_login { Method::LoginEmail } else { Method::Email };
                        return Some(Correlation { person: *p, method });
                    }
                    // An email two people share: never guess, never fall through to usernames.
                    Some(None) => return None,
                    None => {}
                }
            }
            let name = bare_username(&a.username);
            if name.is_empty() {
                return None;
            }
            for (rule, map) in by_username.iter().enumerate() {
                match map.get(&name) {
                    Some(Some(p)) => return Some(Correlation { person: *p, method: Method::Username(rule) }),
                    // Ambiguous under this rule: never guess, never fall through to a looser one.
                    Some(None) => return None,
                    None => {}
                }
            }
            None
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(bare_username("CORP\\JDoe"), "jdoe");
        assert_eq!(bare_username("jdoe@corp.example"), "jdoe");
        assert_eq!(slug("O'Brien-Smith"), "obriensmith");
    }
}
