//! `annexa.toml`: check parameters, SoD rules, roles and birthright rules, correlation.
//!
//! Every field has a documented default, so an empty file (or none) is a valid
//! configuration; unknown keys are rejected, because a misspelt parameter that silently
//! keeps its default would make an audit prove something other than what the reader thinks.

use annexa_core::finding::Severity;
use annexa_core::model::ConnectorKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub correlation: Correlation,
    pub privileged: Privileged,
    pub checks: Checks,
    pub sod: Sod,
    pub roles: Vec<Role>,
    pub birthright: Vec<BirthrightRule>,
    pub provisioning: Provisioning,
    /// Target systems Annexa may change, and how to reach them.
    pub connectors: Vec<Connector>,
    /// The systems' inventory: owner, criticality tier, data classification.
    pub systems: Vec<SystemEntry>,
    /// How findings are handled once found: due dates by severity.
    pub findings: FindingsPolicy,
    /// Access certification campaigns: recommendations and how long a revocation may take.
    pub campaigns: Campaigns,
    /// How reviewers are reminded: a webhook, e-mail through an SMTP relay.
    pub notifications: Notifications,
    /// The risk matrix: likelihood in events per year, impact in money, levels by score.
    pub risk: RiskConfig,
    /// Checks written in Rego.
    pub policy: PolicyConfig,
}

/// `[policy]`: custom checks written in Rego.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// A directory of `.rego` files, each adding a check (`*_test.rego` files hold tests).
    /// Relative to the working directory. None: no custom checks.
    pub dir: Option<String>,
    /// How long one batch of subjects may take a policy, in milliseconds.
    pub timeout_ms: u32,
    /// Each check's parameters, by check id, given to it as `input.parameters`.
    pub parameters: BTreeMap<String, toml::Table>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig { dir: None, timeout_ms: 10_000, parameters: BTreeMap::new() }
    }
}

/// `[risk]`: the 5×5 matrix, with each likelihood and impact level also defined in numbers,
/// so that a risk's qualitative level and its quantified loss cannot contradict each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// The currency losses are given in (a label only).
    pub currency: String,
    /// Events per year at which likelihood 2, 3, 4 and 5 begin (likelihood 1 is below the
    /// first).
    pub likelihood_per_year: Vec<f64>,
    /// Loss of one event at which impact 2, 3, 4 and 5 begin.
    pub impact_loss: Vec<f64>,
    /// The highest score (likelihood × impact) that is low, medium and high; above the last
    /// is critical.
    pub level_scores: Vec<u8>,
    /// Days until a risk added or reviewed is due for its next review.
    pub review_days: u32,
    /// Risks whose event frequencies move together in the simulation (by default every
    /// risk is independent of the others).
    pub correlations: Vec<RiskCorrelation>,
}

/// Risks whose event frequencies are correlated (a Gaussian copula on their rates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskCorrelation {
    /// Risks as `R-1`, or library keys (`former-staff-access`).
    pub risks: Vec<String>,
    /// Between 0 (independent) and 1 (moving together).
    pub rho: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            currency: "EUR".to_string(),
            likelihood_per_year: vec![0.1, 0.3, 1.0, 3.0],
            impact_loss: vec![10_000.0, 50_000.0, 250_000.0, 1_000_000.0],
            level_scores: vec![4, 9, 16],
            review_days: 365,
            correlations: Vec::new(),
        }
    }
}

/// `[notifications]`: reminders of campaign reviews and their escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Notifications {
    /// A webhook that takes a JSON POST (Slack and Teams incoming webhooks show its `text`).
    pub webhook_url: Option<String>,
    /// An SMTP relay (no authentication, no TLS: a local MTA or the network's relay).
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_from: String,
    /// Remind a reviewer with undecided items this many days before the due date (each
    /// once), and once more when it has passed.
    pub remind_days_before: Vec<u32>,
    /// Seconds a webhook or the relay may take.
    pub timeout_secs: u32,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            webhook_url: None,
            smtp_host: None,
            smtp_port: 25,
            smtp_from: "annexa@localhost".to_string(),
            remind_days_before: vec![7, 1],
            timeout_secs: 10,
        }
    }
}

/// `[campaigns]`: what a review item recommends, and when a revocation must be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Campaigns {
    /// Recommend revoking access of an account unused for more than this many days.
    pub recommend_unused_days: u32,
    /// Recommend revoking an entitlement held by fewer than this share (percent) of the
    /// person's peers (same department and title)...
    pub recommend_peer_share_below: f64,
    /// ...when the peer group has at least this many people.
    pub min_peer_group: u32,
    /// Campaigns `annexa campaign run-due` (and the server's scheduler) opens on a schedule.
    pub recurring: Vec<RecurringCampaign>,
    /// Micro-certification: a review of a mover's access requested before the move (the
    /// open `mover-access-review` findings), opened by `run-due` for each mover.
    pub mover_reviews: bool,
    /// Who reviews a mover's access (a reviewer strategy), and the fallback.
    pub mover_reviewer: String,
    pub mover_fallback: Option<String>,
    /// Days a mover review (and a recurring campaign, unless it says) is due after it opens.
    pub due_days: u32,
    /// Revalidation (off unless turned on: on a first audit it opens a review per finding):
    /// each new finding of `revalidation_checks` about an account opens a one-item review by
    /// the account's owner (else its system's owner, else the fallback): keep the account
    /// (with a justification) or disable it.
    pub revalidations: bool,
    pub revalidation_checks: Vec<String>,
    pub revalidation_fallback: Option<String>,
    /// Days a revalidation is due after it opens.
    pub revalidation_days: u32,
    /// What happens to a revalidation unanswered by its due date: `disable` the account
    /// through the provisioning queue, or `escalate` it to the reviewer's manager.
    pub revalidation_expiry: String,
    /// Days a confirmation holds: the finding is accepted as a risk until then.
    pub revalidation_valid_days: u32,
}

/// `[[campaigns.recurring]]`: a campaign opened every `every_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringCampaign {
    /// Names the schedule; each campaign opened is called `NAME YYYY-MM-DD`.
    pub name: String,
    /// Scope terms, as `campaign create --scope` takes them.
    pub scope: Vec<String>,
    /// A reviewer strategy: manager, entitlement-owner, system-owner, named:EMPLOYEE_ID.
    pub reviewer: String,
    #[serde(default)]
    pub fallback: Option<String>,
    /// Days between two campaigns (91 for quarterly, 365 for yearly).
    pub every_days: u32,
    /// Days each campaign is due after it opens (default: `[campaigns] due_days`).
    #[serde(default)]
    pub due_days: Option<u32>,
}

impl Default for Campaigns {
    fn default() -> Self {
        Campaigns {
            recommend_unused_days: 90,
            recommend_peer_share_below: 10.0,
            min_peer_group: 5,
            recurring: Vec::new(),
            mover_reviews: true,
            mover_reviewer: "manager".to_string(),
            mover_fallback: None,
            due_days: 14,
            revalidations: false,
            revalidation_checks: ["orphaned-account", "dormant-account", "service-account-no-owner", "shared-account"]
                .map(String::from)
                .to_vec(),
            revalidation_fallback: None,
            revalidation_days: 14,
            revalidation_expiry: "disable".to_string(),
            revalidation_valid_days: 365,
        }
    }
}

/// `[findings]`: how long an open finding may stay open, by severity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsPolicy {
    pub due_days: DueDays,
}

/// `[findings.due_days]`: days from when a finding is first seen (or seen again after it
/// was remediated) to its due date; a severity left out has no due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DueDays {
    pub critical: Option<u32>,
    pub high: Option<u32>,
    pub medium: Option<u32>,
    pub low: Option<u32>,
    pub info: Option<u32>,
}

impl Default for DueDays {
    fn default() -> Self {
        DueDays { critical: Some(7), high: Some(30), medium: Some(90), low: Some(180), info: None }
    }
}

impl DueDays {
    /// The days a finding of `severity` has, if any.
    pub fn of(&self, severity: Severity) -> Option<u32> {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    /// Days by severity rank (info 0 .. critical 4), as the store computes due dates.
    pub fn by_rank(&self) -> [Option<u32>; 5] {
        [self.info, self.low, self.medium, self.high, self.critical]
    }
}

/// How provisioning tasks are planned and retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Provisioning {
    /// Attempts before a task fails for good (retries back off from 30 s, doubling).
    pub max_attempts: u32,
    /// Days a mover keeps the old position's birthright access before it is removed.
    pub mover_grace_days: u32,
    /// Whether privileged birthright access waits until the person's screening date is
    /// recorded and reached (A.6.1). Held grants are listed by `annexa provision plan`.
    pub screening_before_privileged: bool,
}

impl Default for Provisioning {
    fn default() -> Self {
        Provisioning { max_attempts: 5, mover_grace_days: 14, screening_before_privileged: false }
    }
}

/// `[[systems]]`: one system of the inventory (A.5.9). Its owner reviews its access in
/// campaigns with the `system-owner` strategy and answers for its accounts' revalidations
/// when they have no owner of their own; a system Annexa imports but the inventory does
/// not list has no owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemEntry {
    /// As the imports name it (`--system`, the files' `system` column).
    pub name: String,
    /// The owner's employee id in HR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Criticality, 1 (most critical) to 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// The classification of the data it holds (for example public, internal,
    /// confidential, restricted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
}

/// A target system: `kind = "ldap"` for OpenLDAP or Active Directory; `kind = "manual"` for
/// a system without an interface Annexa can drive (a badge system, a legacy application):
/// its tasks wait for a person to carry them out and confirm (`annexa provision done`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    /// The system name accounts (or badges) were imported under.
    pub system: String,
    #[serde(deserialize_with = "connector_kind")]
    pub kind: ConnectorKind,
    /// ldap: `ldap://host:port`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// ldap: the base DN.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base: String,
    /// ldap: upgrade an `ldap://` connection with StartTLS.
    #[serde(default)]
    pub starttls: bool,
    /// ldap, scim: PEM file of the CA certificates to trust for TLS (default: the system roots;
    /// for scim the webpki roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// manual: who carries the tasks out (a team or a queue), shown with each task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    /// The environment variable holding the bind password (never the password itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// `ad` (set bit 2 of userAccountControl) or `attribute` (set `disable_attribute`).
    #[serde(default = "default_disable")]
    pub disable: String,
    #[serde(default = "default_disable_attribute")]
    pub disable_attribute: String,
    #[serde(default = "default_disable_value")]
    pub disable_value: String,
    /// Create accounts for joiners (and give them their birthright groups).
    #[serde(default)]
    pub create_accounts: bool,
    /// Where new accounts go; the base when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts_dn: Option<String>,
    /// The login of a new account, as a username pattern (`{given}.{family}`, `{g}{family}`,
    /// `{employee_id}`).
    #[serde(default = "default_login")]
    pub login: String,
    /// scim: the environment variable holding the bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// scim: delete a leaver's User instead of setting `active: false`.
    #[serde(default)]
    pub delete_leavers: bool,
}

impl Connector {
    /// Whether a person carries this system's tasks out.
    pub fn is_manual(&self) -> bool {
        self.kind == ConnectorKind::Manual
    }
}

/// A connector's `kind`, refused with the kinds there are.
fn connector_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ConnectorKind, D::Error> {
    let text = String::deserialize(d)?;
    ConnectorKind::parse(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "kind {text:?} is not supported: expected {}",
            ConnectorKind::expected().replace(", manual", " or manual")
        ))
    })
}

fn default_login() -> String {
    "{given}.{family}".into()
}

fn default_disable() -> String {
    "attribute".into()
}
fn default_disable_attribute() -> String {
    "pwdAccountLockedTime".into()
}
fn default_disable_value() -> String {
    "000001010000Z".into()
}

/// How accounts are linked to people, after employee id and email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Correlation {
    /// Username rules tried in order when an account carries neither employee id nor a
    /// known email. Placeholders: `{given}`, `{family}`, `{g}` (first letter of the given
    /// name), `{employee_id}`; lower-cased, spaces and apostrophes removed. A username that
    /// fits two people correlates to neither.
    pub username_patterns: Vec<String>,
}

impl Default for Correlation {
    fn default() -> Self {
        Correlation { username_patterns: vec!["{given}.{family}".into(), "{g}{family}".into()] }
    }
}

/// Entitlements privileged by configuration, beyond those the source marks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Privileged {
    /// `system:entitlement` patterns; `*` matches any run of characters (`*:Domain Admins`,
    /// `erp:*-ADMIN`). Case-insensitive.
    pub entitlements: Vec<String>,
}

/// Declares a check's parameter table: `enabled`, `severity` and its own fields, each with
/// its default.
macro_rules! params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty = $default:expr),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            /// Whether the check runs.
            pub enabled: bool,
            /// Overrides the check's default severity.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub severity: Option<Severity>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { enabled: true, severity: None, $($field: $default,)* }
            }
        }
    };
}

params!(OrphanedAccount {});
params!(LeaverAccess {
    /// Hours after the end of a leaver's last day by which access must be gone.
    sla_hours: u32 = 24,
});
params!(DormantAccount {
    /// Days without a sign-in after which an enabled account is dormant.
    days: u32 = 90,
    /// Extra days for directory imports (LDIF): AD's `lastLogonTimestamp` lags real sign-ins
    /// by up to 14 days.
    directory_slack_days: u32 = 14,
    /// Also judge service accounts (they often never "sign in").
    include_service: bool = false,
});
params!(MfaMissing {});
params!(PrivilegedWeakMfa {});
params!(StaleCredential {
    /// Days after which an active key or token must have been rotated, and after which an
    /// active credential that was never used is stale.
    days: u32 = 90,
    /// Maximum password age in days; 0 (the default, as NIST SP 800-63B advises) does not
    /// judge password age.
    max_password_age_days: u32 = 0,
});
params!(RootAccountUse {
    /// A root account used within this many days is a finding.
    days: u32 = 30,
});
params!(SodConflict {});
params!(SharedAccount {
    /// Username stems that mark an account as generic (`admin`, `test01`, `shared-ops`...).
    generic_names: Vec<String> = [
        "admin", "administrator", "shared", "test", "temp", "training", "guest", "info", "support", "helpdesk",
        "reception", "demo", "scanner", "kiosk", "team", "office", "noreply", "generic",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect(),
});
params!(ServiceAccountNoOwner {});
params!(AdminNotSeparated {});
params!(CertificationOverdue {
    /// Days a privileged assignment's certification lasts.
    privileged_days: u32 = 90,
    /// Days any other assignment's certification lasts.
    standard_days: u32 = 365,
    /// Report assignments with neither a grant nor a certification date (directory group
    /// memberships, typically) as overdue. Off by default: the first campaign dates them.
    include_undated: bool = false,
});
params!(UnexplainedAccess {});
params!(MoverResidualAccess {
    /// Days after a move during which the old position's birthright access may remain (a
    /// handover period).
    grace_days: u32 = 14,
});
params!(MoverAccessReview {
    /// Days after a move within which access carried over from the old position must be
    /// reviewed.
    review_days: u32 = 30,
});
params!(PrivilegeOutlier {
    /// Smallest peer group (same department and title) that is compared.
    min_peers: u32 = 5,
    /// How many times the peer median a person's privileged entitlements must exceed.
    factor: f64 = 3.0,
    /// Fewest privileged entitlements that can be an outlier at all.
    min_privileged: u32 = 3,
});
params!(ContractorNoEndDate {});
params!(RevocationNotFulfilled {
    /// Days a revocation decided in a campaign may take: access an import still holds
    /// after them is a finding.
    days: u32 = 7,
});
params!(LogIntegrity {
    /// Hours after which the newest signed checkpoint is stale (a log nobody checkpoints
    /// can be rewritten unnoticed back to its last checkpoint).
    max_checkpoint_age_hours: u32 = 24,
});

/// Parameters of every built-in check, under `[checks.<id>]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Checks {
    pub orphaned_account: OrphanedAccount,
    pub leaver_access: LeaverAccess,
    pub dormant_account: DormantAccount,
    pub mfa_missing: MfaMissing,
    pub privileged_weak_mfa: PrivilegedWeakMfa,
    pub stale_credential: StaleCredential,
    pub root_account_use: RootAccountUse,
    pub sod_conflict: SodConflict,
    pub shared_account: SharedAccount,
    pub service_account_no_owner: ServiceAccountNoOwner,
    pub admin_not_separated: AdminNotSeparated,
    pub certification_overdue: CertificationOverdue,
    pub mover_residual_access: MoverResidualAccess,
    pub mover_access_review: MoverAccessReview,
    pub unexplained_access: UnexplainedAccess,
    pub privilege_outlier: PrivilegeOutlier,
    pub contractor_no_end_date: ContractorNoEndDate,
    pub revocation_not_fulfilled: RevocationNotFulfilled,
    pub log_integrity: LogIntegrity,
}

/// Segregation-of-duties rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sod {
    pub rules: Vec<SodRule>,
}

/// Entitlements that must not be held together by one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SodRule {
    pub id: String,
    pub description: String,
    /// This rule's severity; without it, `[checks.sod-conflict] severity`, else high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Two or more sides, each a list of `system:entitlement` patterns (`*` wildcards; a
    /// pattern without `system:` matches that entitlement in any system). A person holding
    /// something from every side is in conflict, whichever accounts it is spread over.
    pub sides: Vec<Vec<String>>,
    /// A compensating control, shown with each finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mitigation: Option<String>,
}

/// A business role: a bundle of entitlements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `system:entitlement` patterns.
    pub entitlements: Vec<String>,
}

/// Roles everyone matching a condition on HR attributes is entitled to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthrightRule {
    pub id: String,
    /// Who the rule applies to; everyone when absent.
    #[serde(default)]
    pub when: Condition,
    pub roles: Vec<String>,
}

/// A condition on a person's HR attributes: a table of attribute -> pattern(s) (every
/// attribute listed must match; a list means any of its patterns; `*` is a wildcard), or
/// `{ all = [...] }`, `{ any = [...] }`, `{ not = {...} }` combining conditions.
/// Attributes: department, title, location, worker_type, status, employee_id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    All(AllOf),
    Any(AnyOf),
    Not(NotOf),
    Attributes(BTreeMap<String, OneOrMany>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllOf {
    pub all: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnyOf {
    pub any: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotOf {
    pub not: Box<Condition>,
}

impl Default for Condition {
    fn default() -> Self {
        Condition::Attributes(BTreeMap::new())
    }
}

impl Condition {
    /// Whether a person whose attributes `value` gives meets the condition.
    pub fn matches(&self, value: &dyn Fn(&str) -> String) -> bool {
        match self {
            Condition::All(c) => c.all.iter().all(|x| x.matches(value)),
            Condition::Any(c) => c.any.iter().any(|x| x.matches(value)),
            Condition::Not(c) => !c.not.matches(value),
            Condition::Attributes(map) => map.iter().all(|(attr, patterns)| {
                let v = value(attr);
                patterns.patterns().iter().any(|p| crate::pattern::matches_attribute(p, &v))
            }),
        }
    }

    /// Every attribute the condition tests.
    fn attributes(&self, out: &mut Vec<String>) {
        match self {
            Condition::All(c) => c.all.iter().for_each(|x| x.attributes(out)),
            Condition::Any(c) => c.any.iter().for_each(|x| x.attributes(out)),
            Condition::Not(c) => c.not.attributes(out),
            Condition::Attributes(map) => out.extend(map.keys().cloned()),
        }
    }
}

/// A single pattern or a list of alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn patterns(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// The person attributes birthright rules may test.
pub const PERSON_ATTRIBUTES: &[&str] = &["department", "title", "location", "worker_type", "status", "employee_id"];

/// A configuration that does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, or not the keys and values Annexa reads (the message says where).
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    /// Well-formed, but its parts contradict each other: every problem, each at its line
    /// and column.
    #[error("{}", problems.iter().map(|p| format!("{file}:{}:{}: {}", p.line, p.column, p.message)).collect::<Vec<_>>().join("\n"))]
    Invalid { file: String, problems: Vec<Located> },
}

/// A problem at a place in the file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A step of a path into the TOML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Name(&'static str),
    Index(usize),
}

fn path(keys: &[Key]) -> Vec<Key> {
    keys.to_vec()
}

impl RiskConfig {
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let at = |name: &'static str| path(&[Key::Name("risk"), Key::Name(name)]);
        let increasing = |v: &[f64]| v.len() == 4 && v.iter().all(|x| x.is_finite() && *x > 0.0) && v.windows(2).all(|w| w[0] < w[1]);
        if !increasing(&self.likelihood_per_year) {
            out.push(Problem {
                at: at("likelihood_per_year"),
                message: "likelihood_per_year needs four increasing positive numbers: the events per year at which likelihood 2, 3, 4 and 5 begin".into(),
            });
        }
        if !increasing(&self.impact_loss) {
            out.push(Problem {
                at: at("impact_loss"),
                message: "impact_loss needs four increasing positive amounts: the loss of one event at which impact 2, 3, 4 and 5 begin"
                    .into(),
            });
        }
        let scores = &self.level_scores;
        if scores.len() != 3 || scores[0] < 1 || scores[2] >= 25 || scores.windows(2).any(|w| w[0] >= w[1]) {
            out.push(Problem {
                at: at("level_scores"),
                message: "level_scores needs three increasing scores between 1 and 24: the highest that is low, medium and high".into(),
            });
        }
        for (i, c) in self.correlations.iter().enumerate() {
            let at = || path(&[Key::Name("risk"), Key::Name("correlations"), Key::Index(i)]);
            if c.risks.len() < 2 {
                out.push(Problem { at: at(), message: "a correlation names at least two risks".into() });
            }
            if !(0.0..=1.0).contains(&c.rho) || !c.rho.is_finite() {
                out.push(Problem { at: at(), message: format!("rho {} is not between 0 and 1", c.rho) });
            }
        }
        out
    }
}

/// A problem of the configuration and the path to what it is about.
struct Problem {
    at: Vec<Key>,
    message: String,
}

/// Where `at` starts in `text` (1-based line and column): the deepest part of the path the
/// document has, or the start of the file.
fn locate(text: &str, doc: &toml_edit::ImDocument<&str>, at: &[Key]) -> (usize, usize) {
    let mut item = doc.as_item();
    let mut span = None;
    for key in at {
        let next = match key {
            Key::Name(n) => item.get(n),
            Key::Index(i) => item.get(*i),
        };
        let Some(next) = next else { break };
        span = next.span().or_else(|| next.as_table().and_then(toml_edit::Table::span)).or(span);
        item = next;
    }
    let offset = span.map_or(0, |s| s.start).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Config {
    /// Parses and validates `text` (the content of `file`, named in errors): every problem
    /// is reported at once, each at its line and column.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax { file: file.to_string(), message: e.to_string() })?;
        let problems = config.problems();
        if problems.is_empty() {
            return Ok(config);
        }
        let doc = toml_edit::ImDocument::parse(text).map_err(|e| ConfigError::Syntax { file: file.to_string(), message: e.to_string() })?;
        let problems = problems
            .into_iter()
            .map(|p| {
                let (line, column) = locate(text, &doc, &p.at);
                Located { line, column, message: p.message }
            })
            .collect();
        Err(ConfigError::Invalid { file: file.to_string(), problems })
    }

    /// The systems of the inventory, as the identity graph holds them.
    pub fn systems(&self) -> Vec<annexa_core::model::System> {
        self.systems
            .iter()
            .map(|s| annexa_core::model::System {
                name: s.name.trim().into(),
                owner: s.owner.as_deref().map(str::trim).map(String::from),
                tier: s.tier,
                classification: s.classification.clone(),
            })
            .collect()
    }

    /// Every problem of the configuration, each with where it is (a path into the TOML).
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.sod.rules.iter().enumerate() {
            let at = || path(&[Key::Name("sod"), Key::Name("rules"), Key::Index(i)]);
            if !seen.insert(r.id.as_str()) {
                out.push(Problem { at: at(), message: format!("SoD rule id {:?} appears twice", r.id) });
            }
            if r.sides.len() < 2 || r.sides.iter().any(Vec::is_empty) {
                out.push(Problem { at: at(), message: format!("SoD rule {:?} needs at least two non-empty sides", r.id) });
            }
        }
        out.extend(self.risk.problems());
        let mut systems = std::collections::HashSet::new();
        for (i, sys) in self.systems.iter().enumerate() {
            let at = || path(&[Key::Name("systems"), Key::Index(i)]);
            if sys.name.trim().is_empty() {
                out.push(Problem { at: at(), message: "a system needs a name".into() });
            } else if !systems.insert(sys.name.as_str()) {
                out.push(Problem { at: at(), message: format!("system {:?} appears twice", sys.name) });
            }
            if sys.owner.as_deref().is_some_and(|o| o.trim().is_empty()) {
                out.push(Problem { at: at(), message: format!("system {:?}: owner is empty (leave it out when there is none)", sys.name) });
            }
            if let Some(tier) = sys.tier.filter(|t| !(1..=4).contains(t)) {
                out.push(Problem { at: at(), message: format!("system {:?}: tier {tier}: expected 1 (most critical) to 4", sys.name) });
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, r) in self.campaigns.recurring.iter().enumerate() {
            let at = || path(&[Key::Name("campaigns"), Key::Name("recurring"), Key::Index(i)]);
            if !names.insert(r.name.as_str()) {
                out.push(Problem { at: at(), message: format!("recurring campaign {:?} appears twice", r.name) });
            }
            if let Err(e) = crate::campaign::Scope::parse(&r.scope.join(",")) {
                out.push(Problem { at: at(), message: format!("recurring campaign {:?}: {e}", r.name) });
            }
            if let Err(e) = crate::campaign::ReviewerStrategy::parse(&r.reviewer) {
                out.push(Problem { at: at(), message: format!("recurring campaign {:?}: {e}", r.name) });
            }
            if r.every_days == 0 {
                out.push(Problem { at: at(), message: format!("recurring campaign {:?}: every_days must be at least 1", r.name) });
            }
        }
        if !matches!(self.campaigns.revalidation_expiry.as_str(), "disable" | "escalate") {
            let message = format!("campaigns.revalidation_expiry {:?}: expected disable or escalate", self.campaigns.revalidation_expiry);
            out.push(Problem { at: path(&[Key::Name("campaigns"), Key::Name("revalidation_expiry")]), message });
        }
        for c in &self.campaigns.revalidation_checks {
            if crate::checks::check(c).is_none() {
                let message = format!("campaigns.revalidation_checks names unknown check {c:?}");
                out.push(Problem { at: path(&[Key::Name("campaigns"), Key::Name("revalidation_checks")]), message });
            }
        }
        if let Err(e) = crate::campaign::ReviewerStrategy::parse(&self.campaigns.mover_reviewer) {
            out.push(Problem { at: path(&[Key::Name("campaigns"), Key::Name("mover_reviewer")]), message: e });
        }
        let roles: std::collections::HashSet<&str> = self.roles.iter().map(|r| r.id.as_str()).collect();
        if roles.len() != self.roles.len() {
            out.push(Problem { at: path(&[Key::Name("roles")]), message: "two roles share an id".to_string() });
        }
        for (i, b) in self.birthright.iter().enumerate() {
            let at = || path(&[Key::Name("birthright"), Key::Index(i)]);
            let mut attrs = Vec::new();
            b.when.attributes(&mut attrs);
            for attr in &attrs {
                if !PERSON_ATTRIBUTES.contains(&attr.as_str()) {
                    let message = format!(
                        "birthright rule {:?} tests unknown attribute {attr:?}: expected one of {}",
                        b.id,
                        PERSON_ATTRIBUTES.join(", ")
                    );
                    out.push(Problem { at: at(), message });
                }
            }
            for role in &b.roles {
                if !roles.contains(role.as_str()) {
                    out.push(Problem { at: at(), message: format!("birthright rule {:?} grants unknown role {role:?}", b.id) });
                }
            }
        }
        let mut systems = std::collections::HashSet::new();
        for (i, c) in self.connectors.iter().enumerate() {
            let at = || path(&[Key::Name("connectors"), Key::Index(i)]);
            let mut problem = |message: String| out.push(Problem { at: at(), message });
            match c.kind {
                ConnectorKind::Ldap if c.url.is_empty() || c.base.is_empty() => {
                    problem(format!("connector for {:?}: an ldap connector needs url and base", c.system));
                }
                ConnectorKind::Ldap if c.starttls && c.url.starts_with("ldaps://") => {
                    problem(format!("connector for {:?}: starttls is for ldap:// URLs; ldaps:// is TLS already", c.system));
                }
                ConnectorKind::Ldap if c.assignee.is_some() => {
                    problem(format!("connector for {:?}: assignee is for manual connectors", c.system));
                }
                ConnectorKind::Ldap => {}
                ConnectorKind::Manual
                    if !c.url.is_empty()
                        || !c.base.is_empty()
                        || c.bind_dn.is_some()
                        || c.create_accounts
                        || c.starttls
                        || c.ca_file.is_some() =>
                {
                    problem(format!(
                        "connector for {:?}: a manual connector takes no url, base, bind_dn, create_accounts, starttls or ca_file",
                        c.system
                    ));
                }
                ConnectorKind::Manual => {}
                ConnectorKind::Scim if c.url.is_empty() || c.token_env.is_none() => {
                    problem(format!(
                        "connector for {:?}: a scim connector needs url (the base URL, …/scim/v2) and token_env (the variable holding the bearer token)",
                        c.system
                    ));
                }
                ConnectorKind::Scim if !c.base.is_empty() || c.bind_dn.is_some() || c.starttls || c.assignee.is_some() => {
                    problem(format!("connector for {:?}: a scim connector takes no base, bind_dn, starttls or assignee", c.system));
                }
                ConnectorKind::Scim => {}
            }
            if c.disable != "ad" && c.disable != "attribute" {
                problem(format!("connector for {:?}: disable {:?}: expected ad or attribute", c.system, c.disable));
            }
            if c.kind != ConnectorKind::Scim && (c.token_env.is_some() || c.delete_leavers) {
                problem(format!("connector for {:?}: token_env and delete_leavers are for scim connectors", c.system));
            }
            if c.bind_dn.is_some() != c.password_env.is_some() {
                problem(format!("connector for {:?}: bind_dn and password_env go together", c.system));
            }
            if !systems.insert(c.system.as_str()) {
                problem(format!("two connectors for system {:?}", c.system));
            }
        }
        if self.checks.privilege_outlier.factor <= 0.0 {
            let at = path(&[Key::Name("checks"), Key::Name("privilege-outlier"), Key::Name("factor")]);
            out.push(Problem { at, message: "checks.privilege-outlier.factor must be positive".to_string() });
        }
        out
    }

    /// The effective configuration as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_its_line() {
        let text = "[checks.dormant-account]\ndays = 30\n\n[[connectors]]\nsystem = \"corp\"\nkind = \"ldap\"\n\n[[connectors]]\nsystem = \"badges\"\nkind = \"manual\"\nurl = \"x\"\n\n[[connectors]]\nsystem = \"corp\"\nkind = \"scim\"\nurl = \"https://x\"\ntoken_env = \"T\"\n";
        let err = Config::parse("annexa.toml", text).expect_err("invalid");
        let ConfigError::Invalid { problems, .. } = &err else { panic!("{err}") };
        let at: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(at.len(), 3, "{err}");
        assert_eq!((at[0].0, at[1].0, at[2].0), (4, 8, 13), "{err}");
        assert!(at[0].1.contains("an ldap connector needs url and base"), "{err}");
        assert!(at[1].1.contains("a manual connector takes no url"), "{err}");
        assert!(at[2].1.contains("two connectors for system \"corp\""), "{err}");
        assert!(err.to_string().starts_with("annexa.toml:4:1: connector for \"corp\""), "{err}");
        // An unknown key is refused by the reader, which says where.
        let err = Config::parse("annexa.toml", "[checks.dormant-account]\ndayz = 3\n").expect_err("unknown key").to_string();
        assert!(err.contains("line 2") && err.contains("dayz"), "{err}");
    }

    #[test]
    fn empty_file_gives_documented_defaults() {
        let c = Config::parse("annexa.toml", "").expect("valid");
        assert_eq!(c.checks.dormant_account.days, 90);
        assert_eq!(c.checks.leaver_access.sla_hours, 24);
        assert_eq!(c.checks.certification_overdue.privileged_days, 90);
        assert_eq!(c.checks.stale_credential.max_password_age_days, 0);
        // What `config show` prints parses back to the same configuration.
        assert_eq!(Config::parse("shown", &c.to_toml()).expect("round trip"), c);
    }

    #[test]
    fn birthright_conditions_combine() {
        let c = Config::parse(
            "annexa.toml",
            "[[roles]]\nid = \"r\"\nentitlements = []\n[[birthright]]\nid = \"b\"\nroles = [\"r\"]\n\
             when = { any = [ { department = \"Eng*\", worker_type = \"employee\" }, { all = [ { location = [\"Berlin\", \"Paris\"] }, { not = { title = \"*Intern*\" } } ] } ] }\n",
        )
        .expect("valid");
        let when = &c.birthright[0].when;
        let person = |dept: &str, worker: &str, location: &str, title: &str| {
            let (d, w, l, t) = (dept.to_string(), worker.to_string(), location.to_string(), title.to_string());
            move |attr: &str| match attr {
                "department" => d.clone(),
                "worker_type" => w.clone(),
                "location" => l.clone(),
                "title" => t.clone(),
                _ => String::new(),
            }
        };
        assert!(when.matches(&person("Engineering", "employee", "London", "Dev")));
        assert!(!when.matches(&person("Engineering", "contractor", "London", "Dev")));
        assert!(when.matches(&person("Sales", "contractor", "Paris", "Rep")));
        assert!(!when.matches(&person("Sales", "employee", "Paris", "Sales Intern")));
        // What `config show` prints parses back.
        assert_eq!(Config::parse("shown", &c.to_toml()).expect("round trip"), c);
        let bad =
            "[[roles]]\nid = \"r\"\nentitlements = []\n[[birthright]]\nid = \"b\"\nroles = [\"r\"]\nwhen = { not = { shoe = \"42\" } }\n";
        assert!(Config::parse("annexa.toml", bad).expect_err("unknown attribute").to_string().contains("unknown attribute \"shoe\""));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("[checks.dormant-account]\ndayz = 30\n", "unknown field `dayz`"),
            ("[checks.dormant-account]\ndays = \"ninety\"\n", "invalid type"),
            ("[checks.dormant-account]\nseverity = \"urgent\"\n", "unknown variant `urgent`"),
            ("[[sod.rules]]\nid = \"x\"\ndescription = \"d\"\nsides = [[\"a:b\"]]\n", "at least two non-empty sides"),
            (
                "[[roles]]\nid = \"r\"\nentitlements = []\n[[birthright]]\nid = \"b\"\nroles = [\"r\"]\nwhen = { shoe_size = \"42\" }\n",
                "unknown attribute \"shoe_size\"",
            ),
            ("[[birthright]]\nid = \"b\"\nroles = [\"nope\"]\n", "unknown role \"nope\""),
        ];
        for (text, want) in cases {
            let err = Config::parse("annexa.toml", text).expect_err(text).to_string();
            assert!(err.contains(want) && err.starts_with("annexa.toml"), "{text:?}: {err}");
        }
    }
}

/// A compiled list of entitlement patterns.
#[derive(Debug, Clone)]
pub struct EntitlementPatterns(Vec<crate::pattern::EntitlementPattern>);

impl EntitlementPatterns {
    pub fn new(patterns: &[String]) -> EntitlementPatterns {
        EntitlementPatterns(patterns.iter().map(|p| crate::pattern::EntitlementPattern::new(p)).collect())
    }

    pub fn any(&self, system: &str, name: &str) -> bool {
        self.0.iter().any(|p| p.matches(system, name))
    }

    /// The entitlement names these patterns give in `system` by exact name.
    pub fn exact_in(&self, system: &str) -> Vec<String> {
        self.0.iter().filter_map(|p| p.exact_in(system)).collect()
    }
}
