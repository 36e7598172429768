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
    let mut out = String::new();
    Rule::parse(pattern).render(p, &mut out);
    out
}

/// A username rule, read once: its text and its placeholders, in order.
struct Rule<'p>(Vec<Part<'p>>);

enum Part<'p> {
    Text(&'p str),
    Given,
    Family,
    Initial,
    EmployeeId,
}

/// The placeholder `at` begins with, and its length.
fn placeholder(at: &str) -> Option<(Part<'static>, usize)> {
    let known = [("{given}", Part::Given), ("{family}", Part::Family), ("{g}", Part::Initial), ("{employee_id}", Part::EmployeeId)];
    known.into_iter().find(|(name, _)| at.starts_with(name)).map(|(name, part)| (part, name.len()))
}

impl<'p> Rule<'p> {
    fn parse(pattern: &'p str) -> Rule<'p> {
        let mut parts = Vec::new();
        let mut rest = pattern;
        let mut text = 0;
        while text < rest.len() {
            let at = &rest[text..];
            match placeholder(at) {
                Some((part, len)) => {
                    if text > 0 {
                        parts.push(Part::Text(&rest[..text]));
                    }
                    parts.push(part);
                    rest = &at[len..];
                    text = 0;
                }
                // Placeholders begin with an ASCII '{': step over whole characters.
                None => text += at.chars().next().map_or(1, char::len_utf8),
            }
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest));
        }
        Rule(parts)
    }

    /// Appends the rule's username for `p` to `out`.
    fn render(&self, p: &Person, out: &mut String) {
        // Each name is made into a slug once, and only when the rule uses it.
        let (mut given, mut family) = (None, None);
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Given => out.push_str(given.get_or_insert_with(|| slug(&p.given_name))),
                Part::Family => out.push_str(family.get_or_insert_with(|| slug(&p.family_name))),
                Part::Initial => out.extend(given.get_or_insert_with(|| slug(&p.given_name)).chars().take(1)),
                Part::EmployeeId => out.extend(p.employee_id.chars().flat_map(char::to_lowercase)),
            }
        }
    }
}

/// From how many people or accounts correlation spreads its work over threads: below
/// that, starting them costs more than the work.
const ON_TWO_CORES_FROM: usize = 10_000;

/// People by the username `rule` gives them: `None` for a username two people share.
fn people_by_username(graph: &IdentityGraph, rule: &str) -> HashMap<String, Option<usize>> {
    let rule = Rule::parse(rule);
    let mut m: HashMap<String, Option<usize>> = HashMap::default();
    m.reserve(graph.people.len());
    let mut name = String::new();
    for (i, p) in graph.people.iter().enumerate() {
        name.clear();
        rule.render(p, &mut name);
        match m.get_mut(name.as_str()) {
            Some(v) => *v = None,
            None => {
                m.insert(name.clone(), Some(i));
            }
        }
    }
    m
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
    // One map per rule, each on a core of its own for a large organisation.
    let by_username: Vec<HashMap<String, Option<usize>>> = if graph.people.len() < ON_TWO_CORES_FROM {
        rules.username_patterns.iter().map(|rule| people_by_username(graph, rule)).collect()
    } else {
        std::thread::scope(|scope| {
            let maps: Vec<_> = rules.username_patterns.iter().map(|rule| scope.spawn(|| people_by_username(graph, rule))).collect();
            // A panic in another thread is a bug; surface it rather than run without it.
            maps.into_iter().map(|m| m.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    };
    let correlate_one = |a: &Account| {
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
    };
    // Each account on its own (lower-casing, normalising, looking up): the second half on
    // another core (at 1,000,000 people, about a second of the audit's setup each).
    let accounts = &graph.accounts;
    if accounts.len() < ON_TWO_CORES_FROM {
        return accounts.iter().map(correlate_one).collect();
    }
    let (first, second) = accounts.split_at(accounts.len() / 2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| second.iter().map(correlate_one).collect::<Vec<_>>());
        let mut all: Vec<Option<Correlation>> = Vec::with_capacity(accounts.len());
        all.extend(first.iter().map(correlate_one));
        // A panic in the other half is a bug; surface it rather than run without it.
        all.extend(second.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        all
    })
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

    fn person(given: &str, family: &str, id: &str) -> Person {
        Person {
            employee_id: id.into(),
            email: None,
            given_name: given.into(),
            family_name: family.into(),
            department: String::new(),
            title: String::new(),
            manager_id: None,
            location: String::new(),
            worker_type: annexa_core::model::WorkerType::Employee,
            status: annexa_core::model::PersonStatus::Active,
            start_date: None,
            end_date: None,
            screening_date: None,
            origin: annexa_core::model::Origin { import_id: 1, line: 2 },
        }
    }

    /// On an organisation large enough for the work to go over two cores, every account
    /// still finds its person, by each rule and by e-mail-shaped login, in account order;
    /// a username two people share correlates to neither.
    #[test]
    fn a_large_organisation_correlates_on_two_cores_as_on_one() {
        let n = 2 * ON_TWO_CORES_FROM + 3;
        let mut people: Vec<Person> = (0..n)
            .map(|i| Person { email: Some(format!("Åsa{i}@Example.com")), ..person(&format!("Åsa{i}"), "Berg", &format!("E{i}")) })
            .collect();
        // Two people whose first rule gives the same username.
        people.push(person("Twin", "Doe", "T1"));
        people.push(person("Twin", "Doe", "T2"));
        let account = |username: String| Account {
            system: "corp/ad".into(),
            account_id: username.clone().into(),
            username,
            email: None,
            employee_id: None,
            display_name: String::new(),
            status: annexa_core::model::AccountStatus::Enabled,
            kind: annexa_core::model::AccountType::Human,
            created_at: None,
            last_login_at: None,
            last_login_known: true,
            mfa: None,
            password_last_set_at: None,
            interactive: true,
            root: false,
            owner: None,
            credentials: Vec::new(),
            origin: annexa_core::model::Origin { import_id: 2, line: 2 },
        };
        let mut accounts: Vec<Account> = (0..n)
            .map(|i| match i % 3 {
                0 => account(format!("åsa{i}.berg")),
                1 => account(format!("CORP\\ÅBergE{i}")),
                _ => account(format!("åsa{i}@example.com")),
            })
            .collect();
        accounts.push(account("twin.doe".into()));
        let graph = IdentityGraph { people, accounts, ..Default::default() };
        // Rule 1 by given and family name, rule 2 by initial, family name and employee id.
        let rules = Rules { username_patterns: vec!["{given}.{family}".into(), "{g}{family}{employee_id}".into()] };
        let by_id: HashMap<&str, usize> = graph.people.iter().enumerate().map(|(i, p)| (&*p.employee_id, i)).collect();
        let found = correlate(&graph, &rules, &by_id, &people_by_email(&graph));
        assert_eq!(found.len(), graph.accounts.len());
        for (i, c) in found[..n].iter().enumerate() {
            let method = [Method::Username(0), Method::Username(1), Method::LoginEmail][i % 3];
            let expected = Some(Correlation { person: i, method });
            assert_eq!(*c, expected, "account {i}");
        }
        assert_eq!(found[n], None, "a username two people share");
    }

    /// A rule is read once and rendered in one pass: the same username as replacing each
    /// placeholder in turn, for any names and rules.
    #[test]
    fn rules_render_as_placeholders_replaced_in_turn() {
        fn in_turn(pattern: &str, p: &Person) -> String {
            let (given, family) = (slug(&p.given_name), slug(&p.family_name));
            let g: String = given.chars().take(1).collect();
            pattern
                .replace("{given}", &given)
                .replace("{family}", &family)
                .replace("{g}", &g)
                .replace("{employee_id}", &p.employee_id.to_lowercase())
        }
        let people =
            [person("Åsa", "Berg", "E-1"), person("Mary Ann", "O'Brien-Smith", "ÉX42"), person("", "", ""), person("Ørjan", "Ü", "e9")];
        let rules = [
            "{given}.{family}",
            "{g}{family}",
            "{employee_id}",
            "adm-{g}{family}@corp",
            "{{given}}",
            "{giv{g}en}",
            "{gi",
            "ä{family}ö{unknown}",
            "",
            "{g}{g}{employee_id}{given}",
        ];
        for p in &people {
            for rule in rules {
                assert_eq!(render(rule, p), in_turn(rule, p), "{rule:?} for {:?}", p.given_name);
            }
        }
    }
}
