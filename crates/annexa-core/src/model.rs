//! The identity graph's records: people, accounts, entitlements, assignments, badges.
//!
//! Records keep the keys their source used (`system` + `account_id`, `employee_id`) so that
//! a snapshot of one source can be replaced without touching another, and every record
//! carries its [`Origin`] — the import and line it came from — because every finding must
//! point an auditor at the exact source row.

use crate::time::Instant;
use crate::Name;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Declares a closed vocabulary with its canonical spelling, extra accepted spellings,
/// and `parse` / `as_str` / `ALL`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling, as written in files and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical spelling or an accepted alias, ignoring case and
            /// surrounding space.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $(
                    if s.eq_ignore_ascii_case($text) $(|| s.eq_ignore_ascii_case($alias))* {
                        return Some($name::$variant);
                    }
                )+
                None
            }

            /// The accepted spellings, for error messages.
            pub fn expected() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::model::Vocabulary for $name {
            fn all() -> &'static [Self] {
                $name::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }
    };
}

/// What every closed vocabulary offers, for code that works with any of them (the command
/// line's value parsers, the store's text columns).
pub trait Vocabulary: Copy + Sized + 'static {
    fn all() -> &'static [Self];
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
}
pub(crate) use vocabulary;

vocabulary! {
    /// What kind of worker a person is.
    WorkerType { Employee = "employee", Contractor = "contractor", Vendor = "vendor" }
}

vocabulary! {
    /// A person's employment status in HR.
    PersonStatus { Active = "active", Leave = "leave" | "on-leave" | "on_leave", Terminated = "terminated" }
}

vocabulary! {
    /// Whether an account can be used.
    AccountStatus { Enabled = "enabled" | "active", Disabled = "disabled" | "inactive" }
}

vocabulary! {
    /// What an account is for. `Admin` is a separate privileged account of a person.
    AccountType { Human = "human", Admin = "admin" | "privileged", Service = "service", Shared = "shared" }
}

vocabulary! {
    /// An authentication factor registered on an account.
    /// `Email` (a one-time code sent by e-mail) comes from identity providers' factor lists;
    /// `Unspecified` is a second factor whose kind the source does not say (Google's 2-Step
    /// Verification enrolment, GitHub's two-factor flag): not phishing-resistant, since
    /// nothing shows it is. New values go last, so that stored snapshots keep their ordinals.
    MfaFactor { None = "none", Sms = "sms", Totp = "totp", Push = "push", Webauthn = "webauthn" | "fido2" | "smartcard", Email = "email", Unspecified = "unspecified" }
}

vocabulary! {
    /// Why an assignment exists.
    GrantSource { Birthright = "birthright", Request = "request", Manual = "manual", Unknown = "unknown" }
}

vocabulary! {
    /// Whether a physical access badge opens doors.
    BadgeStatus { Active = "active" | "enabled", Inactive = "inactive" | "disabled" | "revoked" | "lost" }
}

vocabulary! {
    /// A non-password credential on an account.
    CredentialKind { AccessKey = "access-key", Certificate = "certificate", ApiToken = "api-token" }
}

vocabulary! {
    /// What a change in the HR feed means for access.
    JmlKind { Joiner = "joiner", Mover = "mover", Leaver = "leaver" }
}

vocabulary! {
    /// Where a lifecycle event is: waiting to be planned (or for its date, or for
    /// screening), or planned into provisioning tasks.
    JmlStatus { Pending = "pending", Planned = "planned" }
}

vocabulary! {
    /// What a provisioning task does on its target system. `DeactivateBadge` is carried out
    /// by a person (its account is the badge).
    TaskAction {
        DisableAccount = "disable-account",
        RemoveMembership = "remove-membership",
        AddMembership = "add-membership",
        CreateAccount = "create-account",
        DeactivateBadge = "deactivate-badge",
    }
}

vocabulary! {
    /// Where a provisioning task is: due (`Pending`), leased by a worker (`Running`),
    /// carried out (`Done`), given up after its last attempt (`Failed`), or waiting for a
    /// person (`Manual`).
    TaskStatus { Pending = "pending", Running = "running", Done = "done", Failed = "failed", Manual = "manual" }
}

vocabulary! {
    /// What an API token may do: `Scim` pushes Users and Groups for one system; `Api` calls
    /// the REST API with a [`Role`].
    TokenScope { Scim = "scim", Api = "api" }
}

vocabulary! {
    /// What a user or an API token may do in the server (the authorization policy decides
    /// each request from it): `Admin` everything, users and tokens included;
    /// `ComplianceManager` runs the programme (audits, findings, campaigns, risks, SoA);
    /// `Auditor` reads everything and exports evidence, changes nothing; `Reviewer` sees and
    /// decides only their own review items; `SystemOwner` sees their systems.
    Role {
        Admin = "admin",
        ComplianceManager = "compliance-manager",
        Auditor = "auditor",
        Reviewer = "reviewer",
        SystemOwner = "system-owner",
    }
}

vocabulary! {
    /// How Annexa changes a target system.
    ConnectorKind { Ldap = "ldap", Scim = "scim", Manual = "manual" }
}

vocabulary! {
    /// The kinds of file Annexa imports.
    ImportKind {
        Hr = "hr",
        Accounts = "accounts",
        Assignments = "assignments",
        Ldif = "ldif",
        AwsCredentialReport = "aws-credential-report",
        Badges = "badges",
        Scim = "scim",
        Okta = "okta",
        Entra = "entra",
        GoogleWorkspace = "google-workspace",
        Github = "github",
    }
}

impl MfaFactor {
    /// FIDO2 / WebAuthn (and smart cards) resist phishing; codes and pushes do not.
    pub fn is_phishing_resistant(self) -> bool {
        matches!(self, MfaFactor::Webauthn)
    }
}

impl AccountType {
    /// Accounts meant to be used by one named person.
    pub fn is_personal(self) -> bool {
        matches!(self, AccountType::Human | AccountType::Admin)
    }
}

/// Where a record came from: the import (whose file hash is on record) and the line or
/// LDIF entry number within that file (1-based; line 1 is a CSV header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Origin {
    pub import_id: i64,
    pub line: u32,
}

/// The workforce identity from HR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub employee_id: Name,
    /// Lower-cased, as correlation compares it.
    pub email: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub department: String,
    pub title: String,
    pub manager_id: Option<Name>,
    pub location: String,
    pub worker_type: WorkerType,
    pub status: PersonStatus,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub screening_date: Option<NaiveDate>,
    pub origin: Origin,
}

impl Person {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name).trim().to_string()
    }
}

/// A non-password credential: a cloud access key, a signing certificate, an API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Which slot of the account, e.g. `access_key_1`.
    pub slot: String,
    pub kind: CredentialKind,
    pub active: bool,
    /// When the credential was created or last rotated.
    pub rotated_at: Option<Instant>,
    pub last_used_at: Option<Instant>,
}

/// A login in a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub system: Name,
    pub account_id: Name,
    pub username: String,
    /// Lower-cased.
    pub email: Option<String>,
    pub employee_id: Option<Name>,
    pub display_name: String,
    pub status: AccountStatus,
    pub kind: AccountType,
    pub created_at: Option<Instant>,
    /// `None` means never used (or, where `last_login_known` is false, not reported).
    pub last_login_at: Option<Instant>,
    /// False where the source cannot tell whether the account was ever used.
    pub last_login_known: bool,
    /// `None` means the source does not report MFA; such accounts are not judged on MFA.
    pub mfa: Option<Vec<MfaFactor>>,
    pub password_last_set_at: Option<Instant>,
    /// Whether a person signs in to it interactively (an AWS user with only access keys
    /// does not).
    pub interactive: bool,
    /// A cloud root / break-glass account of the whole tenant.
    pub root: bool,
    /// The accountable person (employee id or email) for non-personal accounts.
    pub owner: Option<String>,
    pub credentials: Vec<Credential>,
    pub origin: Origin,
}

impl Account {
    pub fn is_enabled(&self) -> bool {
        self.status == AccountStatus::Enabled
    }

    /// `system/account_id`, the account's key in messages and finding subjects (see
    /// [`crate::key`]: a `/` inside a part is escaped).
    pub fn key(&self) -> String {
        crate::key::join(&[&self.system, &self.account_id])
    }

    /// True when a factor other than `none` is registered.
    pub fn has_mfa(&self) -> Option<bool> {
        self.mfa.as_ref().map(|f| f.iter().any(|m| *m != MfaFactor::None))
    }
}

/// A group, role or permission in a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entitlement {
    pub system: Name,
    pub name: Name,
    pub privileged: bool,
    pub owner: Option<String>,
    pub origin: Origin,
}

/// An entitlement held by an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub system: Name,
    pub account_id: Name,
    pub entitlement: Name,
    pub granted_at: Option<Instant>,
    /// Shared names: the same approvers recur on millions of assignments.
    pub granted_by: Option<Name>,
    pub source: GrantSource,
    pub last_certified_at: Option<Instant>,
    pub last_certified_by: Option<Name>,
    pub origin: Origin,
}

impl Assignment {
    /// A group membership as a directory or identity provider lists it: who holds what,
    /// with no dates, approver or reason (the source does not say them).
    pub fn membership(system: Name, account_id: Name, entitlement: Name, origin: Origin) -> Assignment {
        Assignment {
            system,
            account_id,
            entitlement,
            granted_at: None,
            granted_by: None,
            source: GrantSource::Unknown,
            last_certified_at: None,
            last_certified_by: None,
            origin,
        }
    }
}

/// An assignment as the identity graph holds it: its account and entitlement by position
/// in the graph. Millions of them are read for every audit, so they carry no names to look
/// up: the account and entitlement already say which system, login and entitlement it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Index into `IdentityGraph::accounts`.
    pub account: u32,
    /// Index into `IdentityGraph::entitlements`.
    pub entitlement: u32,
    pub source: GrantSource,
    pub granted_at: Option<Instant>,
    pub granted_by: Option<Name>,
    pub last_certified_at: Option<Instant>,
    pub last_certified_by: Option<Name>,
    pub origin: Origin,
}

/// One attribute of a person that changed between two HR snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub attribute: String,
    pub before: String,
    pub after: String,
}

/// A joiner, mover or leaver event detected by comparing two HR snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JmlEvent {
    /// Stable: the same event seen in two imports has the same id (`J-` + 16 hex digits of
    /// SHA-256 of kind, employee id and effective instant).
    pub id: String,
    pub kind: JmlKind,
    pub employee_id: Name,
    /// When the change takes effect; an event in the future waits for its date.
    pub effective_at: Instant,
    pub detected_at: Instant,
    /// Why: for movers the attributes that changed, for others the status or dates.
    pub changes: Vec<AttributeChange>,
    pub reason: String,
}

/// A physical access badge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Badge {
    pub system: Name,
    pub badge_id: Name,
    pub employee_id: Option<Name>,
    pub status: BadgeStatus,
    pub last_used_at: Option<Instant>,
    pub zones: Vec<String>,
    pub origin: Origin,
}

/// A system (application or directory) and what is known of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct System {
    pub name: Name,
    pub owner: Option<String>,
    pub tier: Option<u8>,
    pub classification: Option<String>,
}

/// The record of one file imported: what an auditor needs to find the exact evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub id: i64,
    pub kind: String,
    pub systems: Vec<String>,
    pub file: String,
    pub sha256: String,
    pub rows: u64,
    pub imported_at: Instant,
    /// The rows a lenient import set aside, if it set any aside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
}

/// The rows a lenient import (`annexa import --lenient`) refused and imported without: how
/// many, and the report that lists them (its path when written, and its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    pub refused: u64,
    pub file: String,
    pub sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_accept_aliases_and_reject_the_unknown() {
        assert_eq!(MfaFactor::parse("FIDO2"), Some(MfaFactor::Webauthn));
        assert_eq!(AccountStatus::parse(" Enabled "), Some(AccountStatus::Enabled));
        assert_eq!(PersonStatus::parse("on_leave"), Some(PersonStatus::Leave));
        assert_eq!(AccountType::parse("robot"), None);
        assert_eq!(WorkerType::expected(), "employee, contractor, vendor");
        assert_eq!(GrantSource::Birthright.to_string(), "birthright");
    }
}
