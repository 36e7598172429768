//! LDIF (RFC 2849) of an OpenLDAP or Active Directory tree.
//!
//! The file is a content export (`ldapsearch -LLL`, `ldifde`): people and service logins
//! become [`Account`]s, groups become [`Entitlement`]s, and group membership — written
//! on either side (`member` on the group, `memberOf` on the account) and possibly
//! nested — becomes [`Assignment`]s. Computers, OUs and policy entries are read (they
//! count in `rows`) but produce nothing.
//!
//! Active Directory and OpenLDAP spell the same facts differently (`userAccountControl`
//! versus `pwdAccountLockedTime`, FILETIME versus GeneralizedTime); both are understood.

mod dn;
mod members;
mod reader;

use crate::error::{quote, Refusals};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, Assignment, Entitlement, MfaFactor, Origin};
use annexa_core::time::{parse_filetime, parse_generalized_time, FileTime, Instant};
use annexa_core::Name;
use members::Memberships;
use reader::Entry;
use std::collections::{HashMap, HashSet};

/// Active Directory's built-in groups that confer administrative control of the domain
/// or its controllers; their members are privileged whatever the organisation calls them.
pub const AD_PRIVILEGED_GROUPS: &[&str] = &[
    "Domain Admins",
    "Enterprise Admins",
    "Schema Admins",
    "Administrators",
    "Account Operators",
    "Backup Operators",
    "Server Operators",
    "Print Operators",
    "Domain Controllers",
    "Read-only Domain Controllers",
    "Replicator",
    "Group Policy Creator Owners",
    "DnsAdmins",
    "Key Admins",
    "Enterprise Key Admins",
];

/// `OpenLDAPperson` is OpenLDAP's own subclass of inetOrgPerson; exports list only it.
/// `account` (RFC 4524) holds logins that are no person, typically service binds.
const ACCOUNT_CLASSES: &[&str] = &["user", "person", "inetOrgPerson", "organizationalPerson", "posixAccount", "OpenLDAPperson", "account"];
/// The classes that describe a person; an account entry with none of them is a service login.
const PERSON_CLASSES: &[&str] = &["user", "person", "inetOrgPerson", "organizationalPerson", "posixAccount", "OpenLDAPperson"];
const GROUP_CLASSES: &[&str] = &["group", "groupOfNames", "groupOfUniqueNames", "posixGroup"];

/// userAccountControl flags (ADS_USER_FLAG_ENUM).
const ACCOUNTDISABLE: i64 = 0x2;
const SMARTCARD_REQUIRED: i64 = 0x40000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Account,
    Group,
    /// Computers are `user`s to AD, but a machine's login is not an identity to govern.
    Computer,
    Other,
}

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let mut refusals = Refusals::new(options);
    let entries = reader::read(file, bytes, &mut refusals)?;
    let entries = if refusals.is_lenient() { screen(file, entries, &mut refusals)? } else { entries };
    // Entries set aside before mapping are no longer among `entries`.
    let set_aside = refusals.len();
    let dir = Directory::new(file, &entries)?;
    let system_name = options.system.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or(crate::default_system(ImportKind::Ldif));
    let system: Name = system_name.into();
    let mut batch = ImportBatch { systems: vec![system_name.to_string()], ..ImportBatch::default() };

    // Entry index -> account id, for membership; lower-cased login -> entry, for memberUid.
    let mut account_ids: Vec<(usize, Name)> = Vec::new();
    let mut by_login: HashMap<String, usize> = HashMap::new();
    let mut ids_seen: HashMap<String, u64> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        if dir.class(i) != Class::Account {
            continue;
        }
        let (account, id_column) = match account(&dir, entry, &system) {
            Ok(read) => read,
            Err(e) => {
                refusals.refuse(e)?;
                continue;
            }
        };
        let key = account.account_id.to_lowercase();
        if let Some(&first) = ids_seen.get(&key) {
            refusals.refuse(ImportError::new(
                file,
                entry.line,
                Some(id_column),
                format!(
                    "duplicate account {}: the entry on line {first} has the same {id_column}; each login must \
                     appear once",
                    quote(&account.account_id)
                ),
            ))?;
            continue;
        }
        ids_seen.insert(key, entry.line);
        for login in entry.texts(file, "sAMAccountName")?.into_iter().chain(entry.texts(file, "uid")?) {
            by_login.entry(login.to_lowercase()).or_insert(i);
        }
        account_ids.push((i, account.account_id.clone()));
        batch.accounts.push(account);
    }

    // Groups of the same name (OpenLDAP only makes cn unique within an OU) are one
    // entitlement, since the name is its key.
    let mut entitlement_of: HashMap<usize, usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        if dir.class(i) != Class::Group {
            continue;
        }
        let name = match entry.first_text(file, "cn")? {
            Some(cn) => cn,
            None => entry.first_text(file, "sAMAccountName")?.unwrap_or(&entry.dn),
        };
        let owner = dir.owner(entry, &["managedBy", "owner"])?;
        let slot = *by_name.entry(name.to_lowercase()).or_insert_with(|| {
            batch.entitlements.push(Entitlement {
                system: system.clone(),
                name: name.into(),
                privileged: is_privileged(name, options),
                owner: None,
                origin: origin(entry.line),
            });
            batch.entitlements.len() - 1
        });
        if let Some(ent) = batch.entitlements.get_mut(slot) {
            if ent.owner.is_none() {
                ent.owner = owner;
            }
        }
        entitlement_of.insert(i, slot);
    }

    let mut graph = Memberships::new(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        match dir.class(i) {
            Class::Group => {
                for attr in ["member", "uniqueMember"] {
                    for value in entry.texts(file, attr)? {
                        if let Some(m) = dir.lookup(dn::strip_optional_uid(value)) {
                            graph.add(m, i);
                        }
                    }
                }
                for uid in entry.texts(file, "memberUid")? {
                    if let Some(&m) = by_login.get(&uid.to_lowercase()) {
                        graph.add(m, i);
                    }
                }
            }
            Class::Account => {}
            Class::Computer | Class::Other => continue,
        }
        for value in entry.texts(file, "memberOf")? {
            if let Some(g) = dir.lookup(value).filter(|&g| dir.class(g) == Class::Group) {
                graph.add(i, g);
            }
        }
    }

    let mut granted: HashSet<(usize, usize)> = HashSet::new();
    for (i, account_id) in &account_ids {
        for group in graph.groups_of(*i) {
            let Some(&slot) = entitlement_of.get(&group) else { continue };
            let (Some(ent), Some(group_entry)) = (batch.entitlements.get(slot), entries.get(group)) else {
                continue;
            };
            if !granted.insert((*i, slot)) {
                continue;
            }
            batch.assignments.push(Assignment::membership(system.clone(), account_id.clone(), ent.name.clone(), origin(group_entry.line)));
        }
    }
    batch.rows = (entries.len() + set_aside) as u64;
    batch.refused = refusals.into_rows();
    Ok(batch)
}

/// Every attribute the importer reads as text. A lenient import sets aside, before anything
/// is mapped, an entry where one of them is not text, so that mapping the others cannot
/// fail on it (an attribute missing here fails the whole file instead, as when strict).
const TEXT_ATTRS: &[&str] = &[
    "objectClass",
    "sAMAccountName",
    "uid",
    "cn",
    "displayName",
    "mail",
    "employeeID",
    "employeeNumber",
    "employeeType",
    "servicePrincipalName",
    "userAccountControl",
    "pwdAccountLockedTime",
    "whenCreated",
    "createTimestamp",
    "lastLogonTimestamp",
    "pwdLastSuccess",
    "pwdLastSet",
    "pwdChangedTime",
    "managedBy",
    "manager",
    "owner",
    "member",
    "uniqueMember",
    "memberUid",
    "memberOf",
];

/// Lenient: the entries whose text attributes read and whose DN is the first of its kind;
/// the others set aside.
fn screen(file: &str, entries: Vec<Entry>, refusals: &mut Refusals) -> Result<Vec<Entry>, ImportError> {
    let mut kept = Vec::with_capacity(entries.len());
    let mut dns: HashMap<String, u64> = HashMap::with_capacity(entries.len());
    for entry in entries {
        let unreadable = TEXT_ATTRS.iter().find_map(|a| entry.texts(file, a).err());
        if let Some(e) = unreadable {
            refusals.refuse(e)?;
            continue;
        }
        let dn = dn::normalize(&entry.dn);
        if let Some(first) = dns.get(&dn) {
            refusals.refuse(ImportError::new(
                file,
                entry.line,
                Some("dn"),
                format!("duplicate DN {}: already on line {first}; each entry must appear once", quote(&entry.dn)),
            ))?;
            continue;
        }
        dns.insert(dn, entry.line);
        kept.push(entry);
    }
    Ok(kept)
}

/// The entries of the file, findable by DN and classified once.
struct Directory<'a> {
    file: &'a str,
    entries: &'a [Entry],
    by_dn: HashMap<String, usize>,
    classes: Vec<Class>,
}

impl<'a> Directory<'a> {
    fn new(file: &'a str, entries: &'a [Entry]) -> Result<Directory<'a>, ImportError> {
        let mut by_dn = HashMap::with_capacity(entries.len());
        let mut classes = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            if let Some(first) = by_dn.insert(dn::normalize(&entry.dn), i) {
                let first_line = entries.get(first).map_or(0, |e| e.line);
                return Err(ImportError::new(
                    file,
                    entry.line,
                    Some("dn"),
                    format!("duplicate DN {}: already on line {first_line}; each entry must appear once", quote(&entry.dn)),
                ));
            }
            classes.push(classify(file, entry)?);
        }
        Ok(Directory { file, entries, by_dn, classes })
    }

    fn class(&self, i: usize) -> Class {
        self.classes.get(i).copied().unwrap_or(Class::Other)
    }

    fn lookup(&self, dn: &str) -> Option<usize> {
        self.by_dn.get(&dn::normalize(dn)).copied()
    }

    /// The person a reference attribute (`managedBy`, `manager`, `owner`) points at, as
    /// correlation knows people: employee id, else email, else login. A reference to an
    /// entry outside the file is not an error: exports are often of one OU.
    fn owner(&self, entry: &Entry, attrs: &[&str]) -> Result<Option<String>, ImportError> {
        let f = self.file;
        for attr in attrs {
            for value in entry.texts(f, attr)? {
                let Some(target) = self.lookup(value).and_then(|i| self.entries.get(i)) else { continue };
                let id = match target.first_text(f, "employeeID")? {
                    Some(id) => Some(id.to_string()),
                    None => match target.first_text(f, "employeeNumber")? {
                        Some(id) => Some(id.to_string()),
                        None => match target.first_text(f, "mail")? {
                            Some(mail) => Some(mail.to_lowercase()),
                            None => target.first_text(f, "sAMAccountName")?.or(target.first_text(f, "uid")?).map(String::from),
                        },
                    },
                };
                if id.is_some() {
                    return Ok(id);
                }
            }
        }
        Ok(None)
    }
}

fn classify(file: &str, entry: &Entry) -> Result<Class, ImportError> {
    let classes = entry.texts(file, "objectClass")?;
    let any = |names: &[&str]| classes.iter().any(|c| names.iter().any(|n| c.eq_ignore_ascii_case(n)));
    Ok(if any(&["computer"]) {
        Class::Computer
    } else if any(ACCOUNT_CLASSES) {
        Class::Account
    } else if any(GROUP_CLASSES) {
        Class::Group
    } else {
        Class::Other
    })
}

/// Maps an account entry; also returns the attribute its id came from, for messages.
fn account(dir: &Directory<'_>, entry: &Entry, system: &Name) -> Result<(Account, &'static str), ImportError> {
    let f = dir.file;
    let sam = entry.first_text(f, "sAMAccountName")?;
    let uid = entry.first_text(f, "uid")?;
    let is_ad = sam.is_some() || entry.texts(f, "objectClass")?.iter().any(|c| c.eq_ignore_ascii_case("user"));
    let (account_id, id_column) = match (sam, uid) {
        (Some(sam), _) => (sam, "sAMAccountName"),
        (None, Some(uid)) => (uid, "uid"),
        (None, None) => (entry.dn.as_str(), "dn"),
    };
    let uac = match entry.first(f, "userAccountControl")? {
        None => 0,
        Some((v, line)) => v.parse::<i64>().map_err(|_| {
            ImportError::new(
                f,
                line,
                Some("userAccountControl"),
                format!("{} is not an integer: expected the account's flags in decimal (e.g. 512)", quote(v)),
            )
        })?,
    };
    let disabled = uac & ACCOUNTDISABLE != 0 || entry.first_text(f, "pwdAccountLockedTime")?.is_some();
    // Directories mark admin, service and shared accounts by convention in employeeType;
    // a service principal name marks a service account where nothing else does.
    let person_like = entry.texts(f, "objectClass")?.iter().any(|c| PERSON_CLASSES.iter().any(|n| c.eq_ignore_ascii_case(n)));
    let kind = match entry.first_text(f, "employeeType")?.and_then(AccountType::parse) {
        Some(kind) => kind,
        None if entry.first_text(f, "servicePrincipalName")?.is_some() || !person_like => AccountType::Service,
        None => AccountType::Human,
    };
    let when_created = generalized_time(f, entry, "whenCreated")?;
    let create_timestamp = generalized_time(f, entry, "createTimestamp")?;
    // AD always knows: no lastLogonTimestamp means the account never logged on.
    let (last_login_at, last_login_known) = if is_ad {
        (filetime(f, entry, "lastLogonTimestamp")?, true)
    } else {
        match generalized_time(f, entry, "pwdLastSuccess")? {
            Some(t) => (Some(t), true),
            None => (None, false),
        }
    };
    let pwd_last_set = filetime(f, entry, "pwdLastSet")?;
    let pwd_changed = generalized_time(f, entry, "pwdChangedTime")?;
    let display_name = match entry.first_text(f, "displayName")? {
        Some(name) => name,
        None => entry.first_text(f, "cn")?.unwrap_or_default(),
    };
    let employee_id = match entry.first_text(f, "employeeID")? {
        Some(id) => Some(id),
        None => entry.first_text(f, "employeeNumber")?,
    };
    let owner = if kind.is_personal() { None } else { dir.owner(entry, &["managedBy", "manager"])? };
    let account = Account {
        system: system.clone(),
        account_id: account_id.into(),
        username: account_id.to_string(),
        email: entry.first_text(f, "mail")?.map(|m| annexa_core::text::email_key(m).into_owned()),
        employee_id: employee_id.map(Into::into),
        display_name: display_name.to_string(),
        status: if disabled { AccountStatus::Disabled } else { AccountStatus::Enabled },
        kind,
        created_at: when_created.or(create_timestamp),
        last_login_at,
        last_login_known,
        mfa: (is_ad && uac & SMARTCARD_REQUIRED != 0).then(|| vec![MfaFactor::Webauthn]),
        password_last_set_at: pwd_last_set.or(pwd_changed),
        interactive: kind != AccountType::Service,
        root: false,
        owner,
        credentials: Vec::new(),
        origin: origin(entry.line),
    };
    Ok((account, id_column))
}

fn generalized_time(file: &str, entry: &Entry, attr: &str) -> Result<Option<Instant>, ImportError> {
    let Some((v, line)) = entry.first(file, attr)? else { return Ok(None) };
    parse_generalized_time(v).map(Some).ok_or_else(|| {
        ImportError::new(
            file,
            line,
            Some(attr),
            format!("{} is not a GeneralizedTime: expected YYYYMMDDhhmmssZ (e.g. 20240131120000Z)", quote(v)),
        )
    })
}

/// An AD FILETIME; "never" (0 or the maximum) is `None`.
fn filetime(file: &str, entry: &Entry, attr: &str) -> Result<Option<Instant>, ImportError> {
    let Some((v, line)) = entry.first(file, attr)? else { return Ok(None) };
    match parse_filetime(v) {
        Some(FileTime::At(t)) => Ok(Some(t)),
        Some(FileTime::Never) => Ok(None),
        None => Err(ImportError::new(
            file,
            line,
            Some(attr),
            format!(
                "{} is not a FILETIME: expected a decimal count of 100-ns intervals since 1601 \
                 (e.g. 133485408000000000)",
                quote(v)
            ),
        )),
    }
}

pub(crate) fn is_privileged(name: &str, options: &ImportOptions) -> bool {
    let name = name.to_lowercase();
    AD_PRIVILEGED_GROUPS.iter().any(|g| g.to_lowercase() == name)
        || options.privileged_groups.iter().any(|g| g.trim().to_lowercase() == name)
}

fn origin(line: u64) -> Origin {
    Origin { import_id: 0, line: u32::try_from(line).unwrap_or(u32::MAX) }
}
