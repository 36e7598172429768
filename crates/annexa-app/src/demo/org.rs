//! The synthetic organisation: people, their accounts in a directory, a cloud and
//! applications, badges — and a known number of each identity problem.
//!
//! Everyone starts healthy (every check passes on them); then chosen people, each used for
//! one problem only, get exactly one problem. `expected` counts what every check must find,
//! so a test can hold the checks to it.

use super::names::{FAMILY, GIVEN};
use super::rng::Rng;
use annexa_connect::ldif::AD_PRIVILEGED_GROUPS;
use annexa_connect::ImportKind;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The instant the demo organisation is generated for, and audited as of: fixed, so the
/// same seed gives the same files and the same findings on any day.
pub const AS_OF: &str = "2026-10-01T00:00:00Z";

/// (department, weight, titles; the first title of IT is the sysadmins' peer group).
const DEPARTMENTS: &[(&str, u64, &[&str])] = &[
    ("Engineering", 40, &["Software Engineer", "Senior Software Engineer", "Site Reliability Engineer", "Engineering Manager"]),
    ("Sales", 15, &["Account Executive", "Sales Development Rep", "Sales Manager"]),
    ("Finance", 8, &["Accountant", "Accounts Payable Specialist", "Finance Manager"]),
    ("People", 5, &["HR Partner", "Recruiter"]),
    ("IT", 7, &["Systems Administrator", "IT Support Engineer", "IT Manager"]),
    ("Operations", 15, &["Operations Analyst", "Operations Manager"]),
    ("Marketing", 10, &["Marketing Manager", "Content Strategist"]),
];
const LOCATIONS: &[&str] = &["London", "Berlin", "New York", "Singapore", "Remote"];
const AD_BASE: &str = "DC=corp,DC=example";

const ACCOUNTS_HEADER: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n";
const ASSIGNMENTS_HEADER: &str =
    "system,account_id,entitlement,privileged,granted_at,granted_by,source,last_certified_at,last_certified_by\n";

/// How the Active Directory export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectoryFormat {
    /// `corp-ad.ldif`, as `ldifde` writes it.
    #[default]
    Ldif,
    /// `corp-ad-accounts.csv` and `corp-ad-assignments.csv`: the same facts as the LDIF
    /// importer reads from it, in the generic CSV formats (for tools that cannot read LDIF).
    Csv,
}

/// What kind of organisation to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// A governed organisation: roles and birthright rules explain everyone's normal access,
    /// access is certified on time, and a few people of each kind carry one problem.
    #[default]
    Demo,
    /// Every customer's first audit: nothing ever certified, no role model configured, and
    /// four times the demo's share of each problem. Every enabled account holding access
    /// granted longer ago than its interval is overdue for certification.
    FirstAudit,
}

/// One file to import, in order.
pub struct DemoFile {
    pub name: &'static str,
    pub kind: ImportKind,
    pub system: Option<&'static str>,
    pub content: Vec<u8>,
}

pub struct Org {
    pub files: Vec<DemoFile>,
    /// The configuration the demo audits with (`annexa.toml`).
    pub config: String,
    /// Findings each check must report.
    pub expected: BTreeMap<&'static str, u64>,
    pub people: usize,
    pub accounts: usize,
    pub assignments: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    /// Left `n` days before the as-of date.
    Left(i64),
}

struct Person {
    id: String,
    given: String,
    family: String,
    dept: usize,
    title: &'static str,
    manager: Option<String>,
    location: &'static str,
    worker: &'static str,
    status: Status,
    start: i64,
    /// Days after as-of (negative: in the past) of the contract end; None = open-ended.
    end: Option<i64>,
    /// Already carries a seeded problem (or is reserved): pick others for the next one.
    used: bool,
}

impl Person {
    fn login(&self) -> String {
        format!("{}.{}", slug(&self.given), slug(&self.family))
    }
    fn email(&self) -> String {
        format!("{}@example.com", self.login())
    }
    fn name(&self) -> String {
        format!("{} {}", self.given, self.family)
    }
    fn active(&self) -> bool {
        self.status == Status::Active
    }
}

fn slug(s: &str) -> String {
    s.to_lowercase().replace([' ', '\''], "")
}

fn dept_slug(d: usize) -> String {
    DEPARTMENTS[d].0.to_lowercase()
}

/// Time helpers relative to the as-of instant.
struct Clock(DateTime<Utc>);

impl Clock {
    fn at(&self, days_ago: i64) -> DateTime<Utc> {
        self.0 - Duration::days(days_ago) + Duration::hours(9)
    }
    fn ts(&self, days_ago: i64) -> String {
        self.at(days_ago).format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
    fn date(&self, days_ago: i64) -> String {
        (self.0 - Duration::days(days_ago)).format("%Y-%m-%d").to_string()
    }
    fn aws(&self, days_ago: i64) -> String {
        self.at(days_ago).format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    }
    fn filetime(&self, days_ago: i64) -> i64 {
        (self.at(days_ago).timestamp() + 11_644_473_600) * 10_000_000
    }
    fn generalized(&self, days_ago: i64) -> String {
        self.at(days_ago).format("%Y%m%d%H%M%S.0Z").to_string()
    }
}

/// The CSV rows being written, one buffer per file.
#[derive(Default)]
struct Out {
    hr: String,
    ldif: String,
    /// The directory as CSV (`DirectoryFormat::Csv`) instead of `ldif`.
    ad_accounts: String,
    ad_assignments: String,
    aws: String,
    accounts: String,
    assignments: String,
    badges: String,
    account_count: usize,
    assignment_count: usize,
    /// `Profile::FirstAudit`: certifications are dropped, and the enabled accounts holding
    /// access older than its interval are counted (`system/account`), disabled ones noted.
    first_audit: bool,
    disabled: std::collections::HashSet<String>,
    overdue_accounts: std::collections::HashSet<String>,
}

/// An application account row.
struct AppAccount<'a> {
    system: &'a str,
    id: String,
    email: Option<String>,
    employee_id: Option<&'a str>,
    display: String,
    enabled: bool,
    kind: &'a str,
    created: i64,
    last_login: Option<i64>,
    mfa: &'a str,
    owner: Option<&'a str>,
}

impl Out {
    fn account(&mut self, c: &Clock, a: &AppAccount<'_>) {
        self.account_count += 1;
        if self.first_audit && !a.enabled {
            self.disabled.insert(format!("{}/{}", a.system, a.id));
        }
        let _ = writeln!(
            self.accounts,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            a.system,
            a.id,
            a.id,
            a.email.as_deref().unwrap_or(""),
            a.employee_id.unwrap_or(""),
            a.display,
            if a.enabled { "enabled" } else { "disabled" },
            a.kind,
            c.ts(a.created),
            a.last_login.map(|d| c.ts(d)).unwrap_or_default(),
            a.mfa,
            c.ts(a.created),
            a.owner.unwrap_or("")
        );
    }

    /// `source` is birthright / request / manual; `approver` is who granted it.
    #[allow(clippy::too_many_arguments)]
    fn assignment(
        &mut self,
        c: &Clock,
        system: &str,
        account: &str,
        entitlement: &str,
        privileged: bool,
        granted: i64,
        approver: &str,
        source: &str,
        certified: Option<(i64, &str)>,
    ) {
        self.assignment_count += 1;
        let certified = if self.first_audit {
            let key = format!("{system}/{account}");
            let interval = if privileged { 90 } else { 365 };
            // Times are at 09:00 of their day: a grant `granted` days back is `granted - 1`
            // whole days old at the as-of instant.
            if granted - 1 > interval && !self.disabled.contains(&key) {
                self.overdue_accounts.insert(key);
            }
            None
        } else {
            certified
        };
        let _ = writeln!(
            self.assignments,
            "{system},{account},{entitlement},{privileged},{},{approver},{source},{},{}",
            c.ts(granted),
            certified.map(|(d, _)| c.ts(d)).unwrap_or_default(),
            certified.map(|(_, by)| by).unwrap_or("")
        );
    }
}

pub fn generate(people: usize, seed: u64, directory: DirectoryFormat, profile: Profile) -> Org {
    let first_audit = profile == Profile::FirstAudit;
    let as_of = annexa_core::time::parse_instant(AS_OF).unwrap_or_default();
    let c = Clock(as_of);
    let mut rng = Rng::new(seed);
    let n = people.max(1);
    let k = (n / if first_audit { 50 } else { 200 }).max(1) as u64;
    let small = (n / 500).max(1) as u64;
    let mut expected: BTreeMap<&'static str, u64> =
        annexa_engine::checks::CHECKS.iter().map(|d| (d.id, 0)).collect();
    let mut expect = |check: &'static str, count: u64| *expected.entry(check).or_default() += count;

    // --- People -------------------------------------------------------------------------
    let total_weight: u64 = DEPARTMENTS.iter().map(|d| d.1).sum();
    let mut ps: Vec<Person> = (0..n)
        .map(|i| {
            // A bijection on each block of 10,000 spreads family names; blocks beyond the
            // first get a numeric suffix so every name (and login) stays unique.
            let j = (i % 10_000) * 7_919 % 10_000;
            let block = i / 10_000;
            let family = FAMILY[j / 100 % FAMILY.len()];
            let family = if block == 0 { family.to_string() } else { format!("{family}{}", block + 1) };
            let mut w = rng.below(total_weight);
            let dept = DEPARTMENTS.iter().position(|d| if w < d.1 { true } else { w -= d.1; false }).unwrap_or(0);
            let titles = DEPARTMENTS[dept].2;
            let roll = rng.below(100);
            let worker = if roll < 85 { "employee" } else if roll < 97 { "contractor" } else { "vendor" };
            let end = (worker != "employee").then(|| rng.range(30, 400));
            Person {
                id: format!("E{:06}", i + 1),
                given: GIVEN[j % GIVEN.len()].to_string(),
                family,
                dept,
                title: titles[rng.below(titles.len() as u64) as usize],
                manager: None,
                location: LOCATIONS[rng.below(LOCATIONS.len() as u64) as usize],
                worker,
                status: Status::Active,
                start: rng.range(120, 3000),
                end,
                used: false,
            }
        })
        .collect();
    // Managers: the first person of a department heads it; everyone else reports to them.
    let mut heads: Vec<Option<String>> = vec![None; DEPARTMENTS.len()];
    for p in ps.iter_mut() {
        match &heads[p.dept] {
            None => {
                heads[p.dept] = Some(p.id.clone());
                p.used = true; // heads stay healthy: they own service accounts
            }
            Some(h) => p.manager = Some(h.clone()),
        }
    }

    // Picks up to `count` unused people matching `want`, marking them used.
    let pick = |ps: &mut Vec<Person>, rng: &mut Rng, count: u64, want: &dyn Fn(&Person) -> bool| -> Vec<usize> {
        let candidates: Vec<usize> = (0..ps.len()).filter(|i| !ps[*i].used && want(&ps[*i])).collect();
        let mut chosen = Vec::new();
        let mut pool = candidates;
        while (chosen.len() as u64) < count && !pool.is_empty() {
            let at = rng.below(pool.len() as u64) as usize;
            let i = pool.swap_remove(at);
            ps[i].used = true;
            chosen.push(i);
        }
        chosen.sort_unstable();
        chosen
    };
    let is_employee = |p: &Person| p.worker == "employee";
    let in_dept = |name: &'static str| move |p: &Person| DEPARTMENTS[p.dept].0 == name && p.worker == "employee";

    // Leavers: with an enabled directory account, with an active badge, cleanly gone, and
    // one who left yesterday (still inside the SLA).
    let leaver_accounts = pick(&mut ps, &mut rng, k, &is_employee);
    let leaver_badges = pick(&mut ps, &mut rng, small, &is_employee);
    let clean_leavers = pick(&mut ps, &mut rng, small, &is_employee);
    let within_sla = pick(&mut ps, &mut rng, 1, &is_employee);
    for &i in &leaver_accounts {
        ps[i].status = Status::Left(30);
    }
    for &i in &leaver_badges {
        ps[i].status = Status::Left(20);
    }
    for &i in &clean_leavers {
        ps[i].status = Status::Left(60);
    }
    for &i in &within_sla {
        ps[i].status = Status::Left(1);
    }
    expect("leaver-access", (leaver_accounts.len() + leaver_badges.len()) as u64);
    for p in ps.iter_mut() {
        if let Status::Left(d) = p.status {
            p.end = Some(-d);
        }
    }
    let contractors_open = pick(&mut ps, &mut rng, k, &|p: &Person| p.worker != "employee");
    for &i in &contractors_open {
        ps[i].end = None;
    }
    expect("contractor-no-end-date", contractors_open.len() as u64);

    let dormant = pick(&mut ps, &mut rng, k, &is_employee);
    let never_used = pick(&mut ps, &mut rng, small, &is_employee);
    expect("dormant-account", (dormant.len() + never_used.len()) as u64);
    let no_mfa = pick(&mut ps, &mut rng, k, &is_employee);
    expect("mfa-missing", no_mfa.len() as u64);
    let overdue = pick(&mut ps, &mut rng, k, &is_employee);
    let unexplained = pick(&mut ps, &mut rng, k, &in_dept("Engineering"));
    let github_admins = pick(&mut ps, &mut rng, small * 2, &in_dept("Engineering"));
    let weak_admins = pick(&mut ps, &mut rng, small, &in_dept("Engineering"));
    let overdue_admins: Vec<usize> = github_admins.iter().take(small as usize).copied().collect();
    expect("privileged-weak-mfa", weak_admins.len() as u64);
    expect("certification-overdue", (overdue.len() + overdue_admins.len()) as u64);
    let aws_users = pick(&mut ps, &mut rng, (n as u64 / 40).max(2), &in_dept("Engineering"));
    let stale_keys = pick(&mut ps, &mut rng, small, &in_dept("Engineering"));
    expect("stale-credential", stale_keys.len() as u64);
    let sod = pick(&mut ps, &mut rng, small, &in_dept("Finance"));
    expect("sod-conflict", sod.len() as u64);
    let not_separated = pick(&mut ps, &mut rng, small, &in_dept("Finance"));
    expect("admin-not-separated", not_separated.len() as u64);
    let it_owners = pick(&mut ps, &mut rng, 2, &in_dept("IT"));
    // Systems administrators each have a separate directory admin account; one holds far
    // more privileged groups than the others (when the peer group is big enough to tell).
    let sysadmins: Vec<usize> =
        (0..ps.len()).filter(|i| ps[*i].active() && DEPARTMENTS[ps[*i].dept].0 == "IT" && ps[*i].title == "Systems Administrator").collect();
    let outlier = (sysadmins.len() >= 5).then(|| sysadmins[sysadmins.len() / 2]);
    if outlier.is_some() {
        expect("privilege-outlier", 1);
        // Its three extra groups are explained by no role: one finding on its admin account.
        expect("unexplained-access", 1);
    }
    expect("unexplained-access", unexplained.len() as u64);
    expect("root-account-use", 1);
    // The AWS report cannot tell which MFA the root user has, so Annexa cannot count it as
    // phishing-resistant: the root account is one more privileged-weak-mfa finding.
    expect("privileged-weak-mfa", 1);

    let mut out = Out { first_audit, ..Out::default() };
    let set = |list: &[usize]| -> std::collections::HashSet<usize> { list.iter().copied().collect() };
    let (leaver_accounts, leaver_badges, within_sla) = (set(&leaver_accounts), set(&leaver_badges), set(&within_sla));
    let (dormant, never_used, no_mfa, overdue) = (set(&dormant), set(&never_used), set(&no_mfa), set(&overdue));
    let (unexplained, sod, not_separated) = (set(&unexplained), set(&sod), set(&not_separated));

    // --- HR -------------------------------------------------------------------------------
    out.hr.push_str(
        "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date,screening_date\n",
    );
    for p in &ps {
        let status = if p.active() { "active" } else { "terminated" };
        let _ = writeln!(
            out.hr,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.id,
            p.email(),
            p.given,
            p.family,
            DEPARTMENTS[p.dept].0,
            p.title,
            p.manager.as_deref().unwrap_or(""),
            p.location,
            p.worker,
            status,
            c.date(p.start),
            p.end.map(|e| c.date(-e)).unwrap_or_default(),
            c.date(p.start + 14)
        );
    }

    // --- Active Directory (LDIF, or the same facts as accounts and assignments CSVs) --------
    let csv = directory == DirectoryFormat::Csv;
    let group_dn = |name: &str| format!("CN={name},OU=Groups,{AD_BASE}");
    if csv {
        out.ad_accounts.push_str(ACCOUNTS_HEADER);
        out.ad_assignments.push_str(ASSIGNMENTS_HEADER);
    } else {
        let _ = writeln!(out.ldif, "version: 1\n# Active Directory export of corp.example (synthetic)\n");
        let mut groups: Vec<String> = vec!["All Staff".into(), "VPN-Users".into()];
        groups.extend(DEPARTMENTS.iter().map(|d| format!("Dept-{}", d.0)));
        groups.extend(["Domain Admins", "Enterprise Admins", "Schema Admins", "Backup Operators"].map(String::from));
        for g in &groups {
            let _ = writeln!(out.ldif, "dn: {}\nobjectClass: top\nobjectClass: group\ncn: {g}\nsAMAccountName: {g}\n", group_dn(g));
        }
    }
    let ad_user = |out: &mut Out, p: &Person, sam: &str, kind: Option<&str>, uac: i64, last_login: Option<i64>, member_of: &[String]| {
        out.account_count += 1;
        out.assignment_count += member_of.len();
        let mail = if kind == Some("admin") { format!("{sam}@corp.example") } else { p.email() };
        if csv {
            // What the LDIF importer reads: UAC bit 0x2 disables, 0x40000 (smart card) is
            // webauthn, other factors are unknown; memberships are undated (never certified),
            // of unknown source.
            let _ = writeln!(
                out.ad_accounts,
                "corp-ad,{sam},{sam},{mail},{},{},{},{},{},{},{},{},",
                p.id,
                p.name(),
                if uac & 0x2 != 0 { "disabled" } else { "enabled" },
                kind.unwrap_or("human"),
                c.ts(p.start),
                last_login.map(|d| c.ts(d)).unwrap_or_default(),
                if uac & 0x40000 != 0 { "webauthn" } else { "" },
                c.ts(p.start.min(200)),
            );
            for g in member_of {
                let _ = writeln!(out.ad_assignments, "corp-ad,{sam},{g},{},,,,,", AD_PRIVILEGED_GROUPS.contains(&g.as_str()));
            }
            return;
        }
        let ou = if kind == Some("admin") { "OU=Admins".to_string() } else { format!("OU={},OU=People", DEPARTMENTS[p.dept].0) };
        let cn = if kind == Some("admin") { sam.to_string() } else { p.name() };
        let _ = writeln!(
            out.ldif,
            "dn: CN={cn},{ou},{AD_BASE}\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: user\n\
             cn: {cn}\nsAMAccountName: {sam}\nuserPrincipalName: {sam}@corp.example\nmail: {mail}\nemployeeID: {}\ndisplayName: {}\n\
             department: {}\ntitle: {}\nuserAccountControl: {uac}\nwhenCreated: {}\npwdLastSet: {}",
            p.id,
            p.name(),
            DEPARTMENTS[p.dept].0,
            p.title,
            c.generalized(p.start),
            c.filetime(p.start.min(200)),
        );
        if let Some(k) = kind {
            let _ = writeln!(out.ldif, "employeeType: {k}");
        }
        if let Some(d) = last_login {
            let _ = writeln!(out.ldif, "lastLogonTimestamp: {}", c.filetime(d));
        }
        for g in member_of {
            let _ = writeln!(out.ldif, "memberOf: {}", group_dn(g));
        }
        out.ldif.push('\n');
    };
    for (i, p) in ps.iter().enumerate() {
        let enabled = p.active() || leaver_accounts.contains(&i) || within_sla.contains(&i);
        let last = match p.status {
            Status::Active => rng.range(0, 20),
            Status::Left(d) => d + 1,
        };
        let mut member_of = vec!["All Staff".to_string(), format!("Dept-{}", DEPARTMENTS[p.dept].0)];
        if p.worker != "vendor" {
            member_of.push("VPN-Users".into());
        }
        ad_user(&mut out, p, &p.login(), None, if enabled { 512 } else { 514 }, Some(last), &member_of);
    }
    for &i in &sysadmins {
        let mut member_of = vec!["Domain Admins".to_string()];
        if Some(i) == outlier {
            member_of.extend(["Enterprise Admins", "Schema Admins", "Backup Operators"].map(String::from));
        }
        let p = &ps[i];
        // 512 + SMARTCARD_REQUIRED: admins sign in with a smart card.
        ad_user(&mut out, p, &format!("adm-{}", p.login()), Some("admin"), 262_656, Some(rng.range(0, 10)), &member_of);
    }
    // Service accounts: owned by IT staff; some with no owner, one owned by someone who left.
    let owners: Vec<&Person> = it_owners.iter().map(|i| &ps[*i]).chain(heads.iter().flatten().filter_map(|h| ps.iter().find(|p| &p.id == h))).collect();
    let owner_dn = |p: &Person| format!("CN={},OU={},OU=People,{AD_BASE}", p.name(), DEPARTMENTS[p.dept].0);
    let healthy_services = (n / 250).max(2);
    let service = |out: &mut Out, name: String, owner: Option<&Person>| {
        out.account_count += 1;
        if csv {
            let owner = owner.map(|p| p.id.as_str()).unwrap_or("");
            let _ = writeln!(out.ad_accounts, "corp-ad,{name},{name},,,{name},enabled,service,{},,,,{owner}", c.ts(900));
            return;
        }
        let _ = writeln!(
            out.ldif,
            "dn: CN={name},OU=Service Accounts,{AD_BASE}\nobjectClass: top\nobjectClass: user\ncn: {name}\nsAMAccountName: {name}\n\
             employeeType: service\nservicePrincipalName: HTTP/{name}.corp.example\nuserAccountControl: 66048\nwhenCreated: {}",
            c.generalized(900)
        );
        if let Some(p) = owner {
            let _ = writeln!(out.ldif, "managedBy: {}", owner_dn(p));
        }
        out.ldif.push('\n');
    };
    for s in 0..healthy_services {
        let owner = owners.get(s % owners.len().max(1)).copied();
        service(&mut out, format!("svc-app{:02}", s + 1), owner);
    }
    for s in 0..small {
        service(&mut out, format!("svc-legacy{:02}", s + 1), None);
    }
    let mut ownerless = small;
    if let Some(&gone) = clean_leavers.first() {
        service(&mut out, "svc-reports".into(), Some(&ps[gone]));
        ownerless += 1;
    }
    expect("service-account-no-owner", ownerless);

    // --- AWS IAM credential report ----------------------------------------------------------
    out.aws.push_str(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,\
         mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
         access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
         access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
    );
    let _ = writeln!(
        out.aws,
        "<root_account>,arn:aws:iam::123456789012:root,{},not_supported,{},not_supported,not_supported,true,true,{},{},us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        c.aws(2000),
        c.aws(5),
        c.aws(30),
        c.aws(5)
    );
    out.account_count += 1;
    for (i, rotated) in aws_users.iter().map(|i| (*i, 30)).chain(stale_keys.iter().map(|i| (*i, 200))) {
        let p = &ps[i];
        out.account_count += 1;
        let _ = writeln!(
            out.aws,
            "{u},arn:aws:iam::123456789012:user/{u},{},true,{},{},N/A,true,true,{},{},eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            c.aws(p.start.min(900)),
            c.aws(2),
            c.aws(60),
            c.aws(rotated),
            c.aws(1),
            u = p.login()
        );
    }

    // --- Applications ----------------------------------------------------------------------
    out.accounts.push_str(ACCOUNTS_HEADER);
    out.assignments.push_str(ASSIGNMENTS_HEADER);
    for (i, p) in ps.iter().enumerate() {
        let enabled = p.active();
        let mgr = p.manager.clone().unwrap_or_else(|| p.id.clone());
        let ds = dept_slug(p.dept);
        let login = p.login();
        let email = Some(p.email());
        let last = |rng: &mut Rng| match p.status {
            Status::Active => Some(rng.range(0, 30)),
            Status::Left(d) => Some(d + 2),
        };
        let cert = |rng: &mut Rng| Some((rng.range(5, 300), mgr.as_str()));
        // Jira: everyone, with the department's projects.
        let jira_last = if dormant.contains(&i) { Some(200) } else { last(&mut rng) };
        out.account(&c, &AppAccount {
            system: "jira",
            id: login.clone(),
            email: email.clone(),
            employee_id: None,
            display: p.name(),
            enabled,
            kind: "human",
            created: p.start,
            last_login: jira_last,
            mfa: if no_mfa.contains(&i) { "none" } else { "totp" },
            owner: None,
        });
        let users_cert = if overdue.contains(&i) { Some((500, mgr.as_str())) } else { cert(&mut rng) };
        out.assignment(&c, "jira", &login, "jira-users", false, p.start, "hr-feed", "birthright", users_cert);
        let first = rng.below(5);
        for project in first..first + 8 {
            let e = format!("project-{ds}-{:02}", project + 1);
            let certified = cert(&mut rng);
            out.assignment(&c, "jira", &login, &e, false, p.start, "hr-feed", "birthright", certified);
        }
        if unexplained.contains(&i) {
            let certified = cert(&mut rng);
            out.assignment(&c, "jira", &login, "project-finance-ledger", false, 40, "jira-admin", "manual", certified);
        }
        // Confluence: everyone, with the department's spaces.
        let never = never_used.contains(&i);
        out.account(&c, &AppAccount {
            system: "confluence",
            id: login.clone(),
            email: email.clone(),
            employee_id: None,
            display: p.name(),
            enabled,
            kind: "human",
            created: if never { 150 } else { p.start },
            last_login: if never { None } else { last(&mut rng) },
            mfa: "totp",
            owner: None,
        });
        let certified = cert(&mut rng);
        out.assignment(&c, "confluence", &login, "confluence-users", false, p.start, "hr-feed", "birthright", certified);
        for space in 0..5 {
            let certified = cert(&mut rng);
            out.assignment(&c, "confluence", &login, &format!("space-{ds}-{:02}", space + 1), false, p.start, "hr-feed", "birthright", certified);
        }
        match DEPARTMENTS[p.dept].0 {
            "Engineering" => {
                let gh = login.replace('.', "-");
                out.account(&c, &AppAccount {
                    system: "github",
                    id: gh.clone(),
                    email: email.clone(),
                    employee_id: None,
                    display: p.name(),
                    enabled,
                    kind: "human",
                    created: p.start,
                    last_login: last(&mut rng),
                    mfa: "webauthn",
                    owner: None,
                });
                let certified = cert(&mut rng);
                out.assignment(&c, "github", &gh, "engineering", false, p.start, "hr-feed", "birthright", certified);
                for t in 0..3 {
                    let certified = cert(&mut rng);
                    out.assignment(&c, "github", &gh, &format!("team-{:02}", (i + t) % 12 + 1), false, p.start, "hr-feed", "birthright", certified);
                }
                let weak = weak_admins.contains(&i);
                if weak || github_admins.contains(&i) {
                    let admin = format!("{gh}-admin");
                    out.account(&c, &AppAccount {
                        system: "github",
                        id: admin.clone(),
                        email: email.clone(),
                        employee_id: None,
                        display: format!("{} (admin)", p.name()),
                        enabled: true,
                        kind: "admin",
                        created: 300,
                        last_login: Some(3),
                        mfa: if weak { "totp" } else { "webauthn" },
                        owner: None,
                    });
                    let certified = if overdue_admins.contains(&i) { Some((120, mgr.as_str())) } else { Some((30, mgr.as_str())) };
                    out.assignment(&c, "github", &admin, "org-admin", true, 300, &mgr, "request", certified);
                }
            }
            "Sales" => {
                out.account(&c, &AppAccount {
                    system: "salesforce",
                    id: p.id.clone(),
                    email: email.clone(),
                    employee_id: Some(&p.id),
                    display: p.name(),
                    enabled,
                    kind: "human",
                    created: p.start,
                    last_login: last(&mut rng),
                    mfa: "push",
                    owner: None,
                });
                for e in ["Sales User", "Sales Reporting"] {
                    let certified = cert(&mut rng);
                    out.assignment(&c, "salesforce", &p.id, e, false, p.start, "hr-feed", "birthright", certified);
                }
            }
            "Finance" => {
                let separated = not_separated.contains(&i);
                out.account(&c, &AppAccount {
                    system: "erp",
                    id: p.id.clone(),
                    email: email.clone(),
                    employee_id: Some(&p.id),
                    display: p.name(),
                    enabled,
                    kind: "human",
                    created: p.start,
                    last_login: last(&mut rng),
                    mfa: if separated { "webauthn" } else { "totp" },
                    owner: None,
                });
                let certified = cert(&mut rng);
                out.assignment(&c, "erp", &p.id, "Finance User", false, p.start, "hr-feed", "birthright", certified);
                if sod.contains(&i) {
                    for e in ["Vendor-Maintain", "Payment-Approve"] {
                        let certified = cert(&mut rng);
                        out.assignment(&c, "erp", &p.id, e, false, 100, &mgr, "request", certified);
                    }
                } else if p.title == "Accounts Payable Specialist" {
                    let certified = cert(&mut rng);
                    out.assignment(&c, "erp", &p.id, "Vendor-Maintain", false, 100, &mgr, "request", certified);
                }
                if separated {
                    out.assignment(&c, "erp", &p.id, "GL-Admin", true, 60, &mgr, "request", Some((30, mgr.as_str())));
                }
            }
            _ => {}
        }
    }
    // Accounts nobody owns: people who were never in HR, and generic shared logins.
    for o in 0..k {
        let id = format!("ext-{}{}", slug(GIVEN[(o as usize * 13) % GIVEN.len()]), o + 1);
        out.account(&c, &AppAccount {
            system: "jira",
            id: id.clone(),
            email: Some(format!("{id}@partner.example")),
            employee_id: None,
            display: format!("External {}", o + 1),
            enabled: true,
            kind: "human",
            created: 400,
            last_login: Some(rng.range(0, 30)),
            mfa: "totp",
            owner: None,
        });
        out.assignment(&c, "jira", &id, "jira-users", false, 400, "jira-admin", "manual", Some((100, "jira-admin")));
    }
    expect("orphaned-account", k);
    for s in 0..small {
        out.account(&c, &AppAccount {
            system: "jira",
            id: format!("training{:02}", s + 1),
            email: None,
            employee_id: None,
            display: "Training".into(),
            enabled: true,
            kind: "shared",
            created: 500,
            last_login: Some(rng.range(0, 30)),
            mfa: "totp",
            owner: None,
        });
    }
    expect("shared-account", small);
    let reception_owner = heads.iter().flatten().next().cloned();
    out.account(&c, &AppAccount {
        system: "jira",
        id: "reception".into(),
        email: None,
        employee_id: None,
        display: "Front desk".into(),
        enabled: true,
        kind: "shared",
        created: 500,
        last_login: Some(1),
        mfa: "totp",
        owner: reception_owner.as_deref(),
    });

    // --- Badges ----------------------------------------------------------------------------
    out.badges.push_str("badge_id,employee_id,status,last_used_at,zones\n");
    for (i, p) in ps.iter().enumerate() {
        let active = p.active() || leaver_badges.contains(&i);
        let zones = if DEPARTMENTS[p.dept].0 == "IT" { "lobby|office|datacenter" } else { "lobby|office" };
        let used = match p.status {
            Status::Active => rng.range(0, 10),
            Status::Left(d) => d + 1,
        };
        let _ = writeln!(out.badges, "B{},{},{},{},{zones}", &p.id[1..], p.id, if active { "active" } else { "inactive" }, c.ts(used));
    }

    if first_audit {
        // Nothing certified: every account holding old enough access is overdue. With no
        // role model, the checks that judge by one are not evaluated and find nothing.
        expected.insert("certification-overdue", out.overdue_accounts.len() as u64);
        expected.insert("unexplained-access", 0);
        expected.insert("mover-residual-access", 0);
    }
    Org {
        config: if first_audit { first_audit_config() } else { config() },
        expected,
        people: n,
        accounts: out.account_count,
        assignments: out.assignment_count,
        files: [
            DemoFile { name: "hr.csv", kind: ImportKind::Hr, system: None, content: out.hr.into_bytes() },
            DemoFile { name: "corp-ad.ldif", kind: ImportKind::Ldif, system: Some("corp-ad"), content: out.ldif.into_bytes() },
            DemoFile { name: "corp-ad-accounts.csv", kind: ImportKind::Accounts, system: Some("corp-ad"), content: out.ad_accounts.into_bytes() },
            DemoFile {
                name: "corp-ad-assignments.csv",
                kind: ImportKind::Assignments,
                system: Some("corp-ad"),
                content: out.ad_assignments.into_bytes(),
            },
            DemoFile {
                name: "aws-credential-report.csv",
                kind: ImportKind::AwsCredentialReport,
                system: Some("aws-prod"),
                content: out.aws.into_bytes(),
            },
            DemoFile { name: "app-accounts.csv", kind: ImportKind::Accounts, system: None, content: out.accounts.into_bytes() },
            DemoFile { name: "app-assignments.csv", kind: ImportKind::Assignments, system: None, content: out.assignments.into_bytes() },
            DemoFile { name: "badges.csv", kind: ImportKind::Badges, system: Some("hq-badges"), content: out.badges.into_bytes() },
        ]
        .into_iter()
        // The directory in the chosen format only.
        .filter(|f| match f.name {
            "corp-ad.ldif" => !csv,
            "corp-ad-accounts.csv" | "corp-ad-assignments.csv" => csv,
            _ => true,
        })
        .collect(),
    }
}

/// The first audit's `annexa.toml`: the SoD rule the finance team knows, nothing else.
fn first_audit_config() -> String {
    String::from(
        "# Annexa configuration for a first audit: no roles or birthright rules yet.\n\n\
         [[sod.rules]]\nid = \"SOD-P2P\"\ndescription = \"maintain vendors and approve payments\"\nseverity = \"high\"\n\
         sides = [[\"erp:Vendor-Maintain\"], [\"erp:Payment-Approve\"]]\n",
    )
}

/// The demo's `annexa.toml`: roles and birthright rules that explain everyone's normal
/// access, an SoD rule, and default check parameters.
fn config() -> String {
    let mut s = String::from(
        "# Annexa configuration for the demo organisation. `annexa config show` prints every\n\
         # parameter with its default; see docs/ for what each check does.\n\n\
         [[sod.rules]]\nid = \"SOD-P2P\"\ndescription = \"maintain vendors and approve payments\"\nseverity = \"high\"\n\
         sides = [[\"erp:Vendor-Maintain\"], [\"erp:Payment-Approve\"]]\n\
         mitigation = \"monthly review of payments to new vendors\"\n\n\
         [[roles]]\nid = \"staff-base\"\nentitlements = [\"corp-ad:All Staff\", \"corp-ad:VPN-Users\", \"jira:jira-users\", \"confluence:confluence-users\"]\n\n\
         [[roles]]\nid = \"it-admin\"\nentitlements = [\"corp-ad:Domain Admins\"]\n\n\
         [[birthright]]\nid = \"everyone\"\nroles = [\"staff-base\"]\n\n\
         [[birthright]]\nid = \"systems-administrators\"\nwhen = { department = \"IT\", title = \"Systems Administrator\" }\nroles = [\"it-admin\"]\n\n",
    );
    for (name, _, _) in DEPARTMENTS {
        let ds = name.to_lowercase();
        let mut ents = vec![format!("corp-ad:Dept-{name}"), format!("jira:project-{ds}-*"), format!("confluence:space-{ds}-*")];
        match *name {
            "Engineering" => ents.extend(["github:engineering".to_string(), "github:team-*".to_string()]),
            "Sales" => ents.extend(["salesforce:Sales User".to_string(), "salesforce:Sales Reporting".to_string()]),
            "Finance" => ents.push("erp:Finance User".to_string()),
            _ => {}
        }
        let list: Vec<String> = ents.iter().map(|e| format!("\"{e}\"")).collect();
        let _ = write!(
            s,
            "[[roles]]\nid = \"dept-{ds}\"\nentitlements = [{}]\n\n[[birthright]]\nid = \"dept-{ds}\"\nwhen = {{ department = \"{name}\" }}\nroles = [\"dept-{ds}\"]\n\n",
            list.join(", ")
        );
    }
    s
}
