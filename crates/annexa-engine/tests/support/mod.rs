//! Small builders for identity graphs, and a runner that turns (graph, configuration, as-of,
//! check) into the findings a reviewer would read, so each check's test reads like a table.
//!
//! Every builder starts from a record that no check cares about (an enabled, interactive,
//! human account with MFA not reported and no dates; an active employee) and each method
//! changes one thing. Records get the origin of their kind's default import below, with
//! consecutive CSV lines from 2 (line 1 is the header), unless `.origin(..)` says otherwise.

use annexa_core::finding::{Finding, Severity};
use annexa_core::graph::IdentityGraph;
use annexa_core::model::{
    Account, AccountStatus, AccountType, Assignment, Badge, BadgeStatus, Credential, CredentialKind, Entitlement, GrantSource,
    ImportRecord, MfaFactor, Origin, Person, PersonStatus, WorkerType,
};
use annexa_core::time::{parse_date, parse_instant, Instant};
use annexa_engine::checks::AuditResult;
use annexa_engine::config::Config;

/// The as-of instant of most tests.
pub const AS_OF: &str = "2026-04-01T00:00:00Z";

/// The default imports: (id, kind, file). Records of each kind come from the first.
pub const HR: i64 = 1;
pub const ACCOUNTS: i64 = 2;
pub const ASSIGNMENTS: i64 = 3;
pub const BADGES: i64 = 4;
const DEFAULT_IMPORTS: &[(i64, &str, &str)] = &[
    (HR, "hr", "hr.csv"),
    (ACCOUNTS, "accounts", "accounts.csv"),
    (ASSIGNMENTS, "assignments", "assignments.csv"),
    (BADGES, "badges", "badges.csv"),
];

/// The fake SHA-256 recorded for import `id`: its digit, 64 times.
pub fn sha_of(id: i64) -> String {
    id.to_string().repeat(64)
}

pub fn at(s: &str) -> Instant {
    parse_instant(s).unwrap_or_else(|| panic!("test instant {s:?} does not parse"))
}

/// `days` whole days before [`AS_OF`], as RFC 3339.
pub fn ago(days: i64) -> String {
    hours_ago(days * 24)
}

/// `hours` before [`AS_OF`], as RFC 3339.
pub fn hours_ago(hours: i64) -> String {
    (at(AS_OF) - chrono::Duration::hours(hours)).to_rfc3339()
}

fn name(s: &str) -> annexa_core::Name {
    s.into()
}

// ---------------------------------------------------------------------------------------
// The graph

/// An identity graph under construction.
#[derive(Clone)]
pub struct Graph(pub IdentityGraph);

/// A graph with the default imports and no records.
pub fn graph() -> Graph {
    let imports = DEFAULT_IMPORTS.iter().map(|&(id, kind, file)| import(id, kind, file).0).collect();
    Graph(IdentityGraph { imports, ..IdentityGraph::default() })
}

impl Graph {
    pub fn with(mut self, item: impl Item) -> Graph {
        item.add_to(&mut self.0);
        self
    }

    /// The graph with every record list reversed (same content, other order).
    pub fn reversed(&self) -> Graph {
        let mut g = self.0.clone();
        g.people.reverse();
        g.accounts.reverse();
        g.entitlements.reverse();
        g.assignments.reverse();
        g.badges.reverse();
        Graph(g)
    }
}

/// Something that can be added to a graph.
pub trait Item {
    fn add_to(self, g: &mut IdentityGraph);
}

/// The origin a record gets when its builder did not set one: the next line of `import`.
fn next_origin(origin: Origin, import: i64, used: usize) -> Origin {
    if origin.import_id != 0 {
        return origin;
    }
    Origin { import_id: import, line: used as u32 + 2 }
}

// ---------------------------------------------------------------------------------------
// Imports

pub struct ImportB(ImportRecord);

/// An import record; replaces a default import with the same id.
pub fn import(id: i64, kind: &str, file: &str) -> ImportB {
    ImportB(ImportRecord {
        id,
        kind: kind.to_string(),
        systems: Vec::new(),
        file: file.to_string(),
        sha256: sha_of(id),
        rows: 0,
        imported_at: at("2026-03-31T20:00:00Z"),
        quarantine: None,
    })
}

impl Item for ImportB {
    fn add_to(self, g: &mut IdentityGraph) {
        g.imports.retain(|i| i.id != self.0.id);
        g.imports.push(self.0);
    }
}

// ---------------------------------------------------------------------------------------
// People

pub struct PersonB(Person);

/// An active employee named `id` (given name empty, family name the id).
pub fn person(id: &str) -> PersonB {
    PersonB(Person {
        employee_id: name(id),
        email: None,
        given_name: String::new(),
        family_name: id.to_string(),
        department: "Eng".to_string(),
        title: "Engineer".to_string(),
        manager_id: None,
        location: "HQ".to_string(),
        worker_type: WorkerType::Employee,
        status: PersonStatus::Active,
        start_date: None,
        end_date: None,
        screening_date: None,
        origin: Origin::default(),
    })
}

impl PersonB {
    pub fn name(mut self, given: &str, family: &str) -> Self {
        self.0.given_name = given.to_string();
        self.0.family_name = family.to_string();
        self
    }
    pub fn email(mut self, email: &str) -> Self {
        self.0.email = Some(email.to_lowercase());
        self
    }
    pub fn department(mut self, d: &str) -> Self {
        self.0.department = d.to_string();
        self
    }
    pub fn title(mut self, t: &str) -> Self {
        self.0.title = t.to_string();
        self
    }
    pub fn worker(mut self, w: &str) -> Self {
        self.0.worker_type = WorkerType::parse(w).unwrap_or_else(|| panic!("worker type {w:?}"));
        self
    }
    pub fn status(mut self, s: &str) -> Self {
        self.0.status = PersonStatus::parse(s).unwrap_or_else(|| panic!("person status {s:?}"));
        self
    }
    /// Terminated in HR; with no end date unless `ends` sets one.
    pub fn terminated(self) -> Self {
        self.status("terminated")
    }
    /// Terminated with `date` as the last day.
    pub fn terminated_on(self, date: &str) -> Self {
        self.terminated().ends(date)
    }
    /// The last day (`YYYY-MM-DD`), whatever the status.
    pub fn ends(mut self, date: &str) -> Self {
        self.0.end_date = Some(parse_date(date).unwrap_or_else(|| panic!("test date {date:?}")));
        self
    }
    /// Screened (A.6.1) on `date` (`YYYY-MM-DD`).
    #[allow(dead_code)] // the provisioning tests use it, the check tests do not
    pub fn screened(mut self, date: &str) -> Self {
        self.0.screening_date = Some(parse_date(date).unwrap_or_else(|| panic!("test date {date:?}")));
        self
    }
    pub fn origin(mut self, import_id: i64, line: u32) -> Self {
        self.0.origin = Origin { import_id, line };
        self
    }
}

impl Item for PersonB {
    fn add_to(mut self, g: &mut IdentityGraph) {
        self.0.origin = next_origin(self.0.origin, HR, g.people.len());
        g.people.push(self.0);
    }
}

// ---------------------------------------------------------------------------------------
// Accounts and their credentials

pub struct AccountB(Account);

/// An enabled, interactive human account whose username is `id`; MFA not reported, no
/// dates, no owner.
pub fn account(system: &str, id: &str) -> AccountB {
    AccountB(Account {
        system: name(system),
        account_id: name(id),
        username: id.to_string(),
        email: None,
        employee_id: None,
        display_name: String::new(),
        status: AccountStatus::Enabled,
        kind: AccountType::Human,
        created_at: None,
        last_login_at: None,
        last_login_known: true,
        mfa: None,
        password_last_set_at: None,
        interactive: true,
        root: false,
        owner: None,
        credentials: Vec::new(),
        origin: Origin::default(),
    })
}

impl AccountB {
    /// `system/account_id`, as finding subjects write it.
    pub fn key(&self) -> String {
        self.0.key()
    }
    pub fn employee(mut self, id: &str) -> Self {
        self.0.employee_id = Some(name(id));
        self
    }
    pub fn email(mut self, email: &str) -> Self {
        self.0.email = Some(email.to_lowercase());
        self
    }
    pub fn username(mut self, u: &str) -> Self {
        self.0.username = u.to_string();
        self
    }
    pub fn disabled(mut self) -> Self {
        self.0.status = AccountStatus::Disabled;
        self
    }
    /// `human`, `admin`, `service` or `shared`.
    pub fn kind(mut self, k: &str) -> Self {
        self.0.kind = AccountType::parse(k).unwrap_or_else(|| panic!("account type {k:?}"));
        self
    }
    /// A cloud root account (AWS imports it as an interactive admin account).
    pub fn root(mut self) -> Self {
        self.0.root = true;
        self.kind("admin")
    }
    pub fn non_interactive(mut self) -> Self {
        self.0.interactive = false;
        self
    }
    /// Registered factors, comma-separated (`"totp,webauthn"`); `""` is an empty list.
    pub fn mfa(mut self, factors: &str) -> Self {
        let list = factors
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| MfaFactor::parse(f).unwrap_or_else(|| panic!("MFA factor {f:?}")))
            .collect();
        self.0.mfa = Some(list);
        self
    }
    pub fn created(mut self, t: impl AsRef<str>) -> Self {
        self.0.created_at = Some(at(t.as_ref()));
        self
    }
    pub fn last_login(mut self, t: impl AsRef<str>) -> Self {
        self.0.last_login_at = Some(at(t.as_ref()));
        self
    }
    /// The source cannot tell whether the account was ever used.
    pub fn login_unknown(mut self) -> Self {
        self.0.last_login_known = false;
        self
    }
    pub fn password_set(mut self, t: impl AsRef<str>) -> Self {
        self.0.password_last_set_at = Some(at(t.as_ref()));
        self
    }
    pub fn owner(mut self, o: &str) -> Self {
        self.0.owner = Some(o.to_string());
        self
    }
    pub fn cred(mut self, c: CredB) -> Self {
        self.0.credentials.push(c.0);
        self
    }
    pub fn origin(mut self, import_id: i64, line: u32) -> Self {
        self.0.origin = Origin { import_id, line };
        self
    }
}

impl Item for AccountB {
    fn add_to(mut self, g: &mut IdentityGraph) {
        self.0.origin = next_origin(self.0.origin, ACCOUNTS, g.accounts.len());
        g.accounts.push(self.0);
    }
}

pub struct CredB(Credential);

/// An active access key in `slot`, never rotated (no date) and never used.
pub fn key(slot: &str) -> CredB {
    CredB(Credential { slot: slot.to_string(), kind: CredentialKind::AccessKey, active: true, rotated_at: None, last_used_at: None })
}

impl CredB {
    /// `access-key`, `certificate` or `api-token`.
    pub fn kind(mut self, k: &str) -> Self {
        self.0.kind = CredentialKind::parse(k).unwrap_or_else(|| panic!("credential kind {k:?}"));
        self
    }
    pub fn inactive(mut self) -> Self {
        self.0.active = false;
        self
    }
    pub fn rotated(mut self, t: impl AsRef<str>) -> Self {
        self.0.rotated_at = Some(at(t.as_ref()));
        self
    }
    pub fn used(mut self, t: impl AsRef<str>) -> Self {
        self.0.last_used_at = Some(at(t.as_ref()));
        self
    }
}

// ---------------------------------------------------------------------------------------
// Entitlements and assignments

pub struct EntitlementB(Entitlement);

/// An entitlement record the source does not mark privileged.
pub fn entitlement(system: &str, ent: &str) -> EntitlementB {
    EntitlementB(Entitlement { system: name(system), name: name(ent), privileged: false, owner: None, origin: Origin::default() })
}

impl EntitlementB {
    pub fn privileged(mut self) -> Self {
        self.0.privileged = true;
        self
    }
}

impl Item for EntitlementB {
    fn add_to(mut self, g: &mut IdentityGraph) {
        self.0.origin = next_origin(self.0.origin, ASSIGNMENTS, g.entitlements.len());
        g.entitlements.push(self.0);
    }
}

pub struct AssignmentB {
    a: Assignment,
    privileged: bool,
}

/// `system/account_id` holds `ent`, with an unknown source and no dates.
pub fn assignment(system: &str, account_id: &str, ent: &str) -> AssignmentB {
    AssignmentB {
        a: Assignment {
            system: name(system),
            account_id: name(account_id),
            entitlement: name(ent),
            granted_at: None,
            granted_by: None,
            source: GrantSource::Unknown,
            last_certified_at: None,
            last_certified_by: None,
            origin: Origin::default(),
        },
        privileged: false,
    }
}

impl AssignmentB {
    /// Also records the entitlement, marked privileged by its source.
    pub fn privileged(mut self) -> Self {
        self.privileged = true;
        self
    }
    /// `birthright`, `request`, `manual` or `unknown`.
    pub fn source(mut self, s: &str) -> Self {
        self.a.source = GrantSource::parse(s).unwrap_or_else(|| panic!("grant source {s:?}"));
        self
    }
    pub fn granted(mut self, t: impl AsRef<str>) -> Self {
        self.a.granted_at = Some(at(t.as_ref()));
        self
    }
    pub fn granted_by(mut self, who: &str) -> Self {
        self.a.granted_by = Some(who.into());
        self
    }
    pub fn certified(mut self, t: impl AsRef<str>) -> Self {
        self.a.last_certified_at = Some(at(t.as_ref()));
        self.a.last_certified_by = Some("reviewer".into());
        self
    }
}

impl Item for AssignmentB {
    fn add_to(mut self, g: &mut IdentityGraph) {
        if self.privileged && !g.entitlements.iter().any(|e| e.system == self.a.system && e.name == self.a.entitlement) {
            entitlement(&self.a.system, &self.a.entitlement).privileged().add_to(g);
        }
        self.a.origin = next_origin(self.a.origin, ASSIGNMENTS, g.assignments.len());
        g.assignments.push(self.a);
    }
}

// ---------------------------------------------------------------------------------------
// Badges

pub struct BadgeB(Badge);

/// An active badge of `employee` that opens `HQ`.
pub fn badge(id: &str, employee: &str) -> BadgeB {
    BadgeB(Badge {
        system: name("badge"),
        badge_id: name(id),
        employee_id: Some(name(employee)),
        status: BadgeStatus::Active,
        last_used_at: None,
        zones: vec!["HQ".to_string()],
        origin: Origin::default(),
    })
}

impl BadgeB {
    pub fn inactive(mut self) -> Self {
        self.0.status = BadgeStatus::Inactive;
        self
    }
}

impl Item for BadgeB {
    fn add_to(mut self, g: &mut IdentityGraph) {
        self.0.origin = next_origin(self.0.origin, BADGES, g.badges.len());
        g.badges.push(self.0);
    }
}

// ---------------------------------------------------------------------------------------
// Running checks

pub fn config(toml: &str) -> Config {
    Config::parse("annexa.toml", toml).unwrap_or_else(|e| panic!("test configuration does not parse: {e}\n{toml}"))
}

/// Runs the checks named in `selected` (all enabled ones when empty).
pub fn audit(g: &Graph, config_toml: &str, as_of: &str, selected: &[&str]) -> AuditResult {
    let selected: Vec<String> = selected.iter().map(|s| s.to_string()).collect();
    annexa_engine::audit(&g.0, &config(config_toml), at(as_of), &selected).unwrap_or_else(|e| panic!("{e}"))
}

/// The findings of one check.
pub fn findings(g: &Graph, config_toml: &str, as_of: &str, check: &str) -> Vec<Finding> {
    let result = audit(g, config_toml, as_of, &[check]);
    assert_eq!(result.checks_run, [check], "exactly the selected check runs");
    assert!(result.findings.iter().all(|f| f.check == check), "a finding of another check");
    result.findings
}

/// `(subject key, severity, message)` of each finding of one check, in output order.
pub fn run(g: &Graph, config_toml: &str, as_of: &str, check: &str) -> Vec<(String, Severity, String)> {
    findings(g, config_toml, as_of, check).into_iter().map(|f| (f.subject.key, f.severity, f.message)).collect()
}

/// Asserts that `check` reports exactly the subjects in `want`, each with a message that
/// contains its fragment (`""`: any message).
#[track_caller]
pub fn expect(g: &Graph, config_toml: &str, as_of: &str, check: &str, want: &[(&str, &str)]) {
    let got = run(g, config_toml, as_of, check);
    let shown = || got.iter().map(|(k, s, m)| format!("  {k} [{s}] {m}")).collect::<Vec<_>>().join("\n");
    let mut got_keys: Vec<&str> = got.iter().map(|(k, _, _)| k.as_str()).collect();
    let mut want_keys: Vec<&str> = want.iter().map(|(k, _)| *k).collect();
    got_keys.sort_unstable();
    want_keys.sort_unstable();
    assert_eq!(got_keys, want_keys, "{check} with config {config_toml:?} at {as_of} reported:\n{}", shown());
    for (key, fragment) in want {
        let (_, _, message) = got.iter().find(|(k, _, _)| k == key).unwrap_or_else(|| panic!("no finding on {key}"));
        assert!(message.contains(fragment), "{check} on {key}: message {message:?} lacks {fragment:?}");
    }
}

/// Why `check` could not judge, when it could not (it then reports nothing).
pub fn not_evaluated(g: &Graph, config_toml: &str, as_of: &str, check: &str) -> Option<String> {
    let result = audit(g, config_toml, as_of, &[check]);
    let reason = result.not_evaluated.iter().find(|n| n.check == check).map(|n| n.reason.clone());
    if reason.is_some() {
        assert!(result.checks_run.is_empty() && result.findings.is_empty(), "a check that cannot judge reports nothing");
    }
    reason
}

/// `(account key, severity, entitlements covered)` of each finding of a check reported per
/// account, in output order.
pub fn covered(g: &Graph, config_toml: &str, as_of: &str, check: &str) -> Vec<(String, Severity, Vec<String>)> {
    findings(g, config_toml, as_of, check)
        .into_iter()
        .map(|f| {
            // As written out: the typed assignments among the values.
            let values = f.evidence.all_values();
            let names: Vec<String> = values["entitlements"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            assert_eq!(values["count"], names.len(), "{}: the count is the entitlements'", f.subject.key);
            let assignments = values["assignments"].as_array().map(Vec::len).unwrap_or_default();
            assert_eq!(assignments, names.len(), "{}: one detail per assignment", f.subject.key);
            let records = f.evidence.records.iter().filter(|r| r.record == "assignment").count();
            assert_eq!(records, names.len(), "{}: each assignment's source record", f.subject.key);
            (f.subject.key, f.severity, names)
        })
        .collect()
}

/// `(key, severity, entitlements)` as [`covered`] gives them.
pub fn cover(key: &str, severity: Severity, entitlements: &[&str]) -> (String, Severity, Vec<String>) {
    (key.to_string(), severity, entitlements.iter().map(|e| e.to_string()).collect())
}

/// The subject keys `check` reports, sorted.
pub fn keys(g: &Graph, config_toml: &str, as_of: &str, check: &str) -> Vec<String> {
    let mut k: Vec<String> = run(g, config_toml, as_of, check).into_iter().map(|(k, _, _)| k).collect();
    k.sort();
    k
}
