//! The store on both engines: imports replace snapshots atomically, the graph reads back
//! exactly, runs tell new / still open / resolved findings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;
use common::{account, at};

use annexa_core::finding::{finding_id, Evidence, Finding, Severity, SourceRecord, Subject, SubjectKind};
use annexa_core::model::*;
use annexa_store::{FindingFilter, FindingStatus, NewImport, RunInput, Store};

fn person(id: &str, status: PersonStatus) -> Person {
    Person {
        employee_id: id.into(),
        email: Some(format!("{id}@example.com")),
        given_name: "Given".into(),
        family_name: format!("Family \"{id}\", Jr."),
        department: "Engineering".into(),
        title: "Engineer".into(),
        manager_id: None,
        location: "Berlin".into(),
        worker_type: WorkerType::Employee,
        status,
        start_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 2),
        end_date: None,
        screening_date: None,
        origin: Origin { import_id: 0, line: 2 },
    }
}

fn import<'a>(kind: &'a str, systems: &'a [String], people: &'a [Person], accounts: &'a [Account]) -> NewImport<'a> {
    NewImport {
        actor: "tester",
        kind: ImportKind::parse(kind).expect("a kind"),
        file: "f.csv",
        sha256: "ab",
        rows: (people.len() + accounts.len()) as u64,
        at: at("2026-01-01T00:00:00Z"),
        systems,
        people,
        accounts,
        entitlements: &[],
        assignments: &[],
        badges: &[],
        jml_events: &[],
        quarantine: None,
    }
}

fn finding(check: &str, key: &str) -> Finding {
    Finding {
        id: finding_id(check, key),
        check: check.into(),
        severity: Severity::High,
        subject: Subject { kind: SubjectKind::Account, key: key.into(), label: key.into() },
        controls: vec!["A.5.18".into()],
        message: format!("{key} is a problem"),
        evidence: Evidence::default(),
    }
}

fn run<'a>(checks: &'a [String], findings: &'a [Finding]) -> RunInput<'a> {
    RunInput {
        actor: "tester",
        started_at: at("2026-01-02T00:00:00Z"),
        finished_at: at("2026-01-02T00:00:01Z"),
        as_of: at("2026-01-02T00:00:00Z"),
        checks,
        imports: &[],
        parameters: "{}",
        findings,
    }
}

/// The ids of the findings run `run` reports with `change` (`new`, `resolved`, ...).
fn run_ids(store: &mut Store, run: i64, change: &str) -> Vec<String> {
    let mut ids = Vec::new();
    store
        .run_finding_ids(run, change, |id| {
            ids.push(id.to_string());
            Ok(())
        })
        .expect("ids");
    ids
}

#[test]
fn imports_round_trip_and_replace_their_own_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let people = vec![person("E1", PersonStatus::Active), person("E2", PersonStatus::Terminated)];
        store.import(&import("hr", &[], &people, &[])).expect("hr import");
        let sys_a = vec!["app-a".to_string()];
        let accounts_a = vec![account("app-a", "u1"), account("app-a", "u2")];
        store.import(&import("accounts", &sys_a, &[], &accounts_a)).expect("accounts a");
        let sys_b = vec!["app-b".to_string()];
        store.import(&import("accounts", &sys_b, &[], &[account("app-b", "u9")])).expect("accounts b");

        let mut g = store.load_graph().expect("load");
        g.people.sort_by(|a, b| a.employee_id.cmp(&b.employee_id));
        g.accounts.sort_by_key(Account::key);
        assert_eq!(g.people.len(), 2, "{url}");
        assert_eq!(g.people[1].family_name, "Family \"E2\", Jr.");
        assert_eq!(g.people[1].start_date, chrono::NaiveDate::from_ymd_opt(2020, 1, 2));
        assert_eq!(g.accounts.len(), 3);
        let a = &g.accounts[0];
        assert_eq!(a.mfa, Some(vec![MfaFactor::Totp, MfaFactor::Webauthn]));
        assert_eq!(a.credentials, accounts_a[0].credentials);
        assert_eq!(g.imports.len(), 3);
        assert_eq!(a.origin.line, 3);
        assert_eq!(g.import(a.origin.import_id).map(|i| i.kind.as_str()), Some("accounts"));

        // Re-importing app-a replaces only app-a.
        store.import(&import("accounts", &sys_a, &[], &[account("app-a", "u3")])).expect("accounts a again");
        let g = store.load_graph().expect("load");
        let mut keys: Vec<String> = g.accounts.iter().map(Account::key).collect();
        keys.sort();
        assert_eq!(keys, ["app-a/u3", "app-b/u9"], "{url}");

        // Assignments: one to a known account, one to an account no source has, one to an
        // entitlement that only assignments name.
        let entitlements =
            vec![Entitlement { system: "app-a".into(), name: "Admins".into(), privileged: true, owner: None, origin: Origin::default() }];
        let grant = |account: &str, entitlement: &str| Assignment {
            system: "app-a".into(),
            account_id: account.into(),
            entitlement: entitlement.into(),
            granted_at: Some(at("2025-05-05T00:00:00Z")),
            granted_by: Some("E1".into()),
            source: GrantSource::Request,
            last_certified_at: None,
            last_certified_by: None,
            origin: Origin { import_id: 0, line: 7 },
        };
        let assignments = vec![grant("u3", "Admins"), grant("ghost", "Admins"), grant("u3", "Readers")];
        store
            .import(&NewImport { entitlements: &entitlements, assignments: &assignments, ..import("assignments", &sys_a, &[], &[]) })
            .expect("assignments");
        let g = store.load_graph().expect("load");
        let keys: Vec<String> = g.grants.iter().map(|x| g.grant_key(x)).collect();
        assert_eq!(keys, ["app-a/u3/Admins", "app-a/u3/Readers"], "{url}");
        assert_eq!(g.unattached_assignments, 1);
        assert!(g.entitlements.iter().any(|e| &*e.name == "Readers" && !e.privileged));

        // Another kind may not feed the same system's accounts.
        let err = store.import(&import("aws-credential-report", &sys_a, &[], &[account("app-a", "x")])).unwrap_err();
        assert!(err.to_string().contains("already fed by imports of kind accounts"), "{err}");
    }
}

/// A streamed import's snapshot is stored in parts as its file is read (a chunk of 65,536
/// records at a time, then the rest) and reads back whole, beside an earlier import of
/// another system; the next import of the same system replaces it.
#[test]
fn a_streamed_import_is_stored_in_parts_and_reads_back_whole() {
    use annexa_store::{RestOfImport, StreamedRecords};
    let dir = tempfile::tempdir().unwrap();
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).unwrap();
        let github = vec![account("github", "ÅSA.Berg@example.com")];
        let systems = vec!["github".to_string()];
        store.import(&import("accounts", &systems, &[], &github)).unwrap();
        let stream = |store: &mut Store, prefix: &str, n: usize| {
            let accounts: Vec<Account> = (0..n).map(|i| account("okta", &format!("{prefix}.{i}/ops@example.com"))).collect();
            let mut chunks = accounts.chunks(20_000).map(|c| StreamedRecords::Accounts(c.to_vec()));
            let stored = store
                .import_streamed(annexa_core::model::ImportKind::Accounts, "importer", at("2026-01-05T00:00:00Z"), &mut chunks, &mut |_| {
                    Some(RestOfImport {
                        file: "okta/accounts.csv".into(),
                        sha256: "cd".into(),
                        rows: n as u64,
                        systems: vec!["okta".into()],
                        entitlements: Vec::new(),
                        quarantine: None,
                    })
                })
                .unwrap();
            assert!(stored.is_some(), "{url}");
            accounts
        };
        let first = stream(&mut store, "åsa", 150_000);
        let g = store.load_graph().unwrap();
        let okta: Vec<&Account> = g.accounts.iter().filter(|a| &*a.system == "okta").collect();
        assert_eq!(okta.len(), first.len(), "{url}");
        assert!(okta.iter().zip(&first).all(|(a, b)| a.account_id == b.account_id && a.username == b.username), "{url}");
        assert_eq!(g.accounts.iter().filter(|a| &*a.system == "github").count(), 1, "{url}");
        let second = stream(&mut store, "jörg", 70_000);
        let g = store.load_graph().unwrap();
        let okta: Vec<&Account> = g.accounts.iter().filter(|a| &*a.system == "okta").collect();
        assert_eq!((okta.len(), &*okta[69_999].account_id), (second.len(), "jörg.69999/ops@example.com"), "{url}");
        if let Some(path) = url.strip_prefix("sqlite://") {
            let parts: i64 = rusqlite::Connection::open(path)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM snapshot_parts WHERE import_id = (SELECT MAX(import_id) FROM snapshots)", [], |r| r.get(0))
                .unwrap();
            // Two chunks: each its frame and its bytes; then the sections after them.
            assert_eq!(parts, 2 * 2 + 1);
        }
    }
}

#[test]
fn a_failed_import_leaves_the_database_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let sys = vec!["app".to_string()];
        store.import(&import("accounts", &sys, &[], &[account("app", "keep")])).expect("first");
        // Two records with one key: refused, whoever calls the store.
        let bad = vec![account("app", "dup"), account("app", "ünïcode/x@example.com"), account("app", "ünïcode/x@example.com")];
        let err = store.import(&import("accounts", &sys, &[], &bad)).unwrap_err();
        assert!(err.to_string().contains("account app/ünïcode/x@example.com twice"), "{url}: {err}");
        let g = store.load_graph().expect("load");
        assert_eq!(g.accounts.iter().map(Account::key).collect::<Vec<_>>(), ["app/keep"], "{url}");
        assert_eq!(g.imports.len(), 1);
    }
}

/// Until schema version 24 every import also wrote its records as rows; an older snapshot
/// format was re-encoded from them. Migration 23 does that one last time, then 24 drops
/// the tables: a database left by an earlier version, its snapshots in a format this one
/// refuses, reads back record for record.
#[test]
fn snapshots_in_an_older_format_are_reencoded_from_the_rows_before_the_tables_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v22.db");
    let url = format!("sqlite://{}", path.display());
    // The same imports into a database of this version (the same import ids), whose graph
    // is what the upgraded one must read back (this version reads no graph at version 22).
    let fill = |store: &mut Store| {
        let people = vec![person("E1", PersonStatus::Active)];
        store.import(&import("hr", &[], &people, &[])).expect("hr");
        let sys = vec!["app/ü".to_string()];
        let mut accounts = vec![account("app/ü", "ana@example.com"), account("app/ü", "bo")];
        accounts[1].mfa = None;
        accounts[1].credentials.clear();
        store.import(&import("accounts", &sys, &[], &accounts)).expect("accounts");
        let entitlements = vec![Entitlement {
            system: "app/ü".into(),
            name: "Admins/All".into(),
            privileged: true,
            owner: Some("E1".into()),
            origin: Origin { import_id: 0, line: 2 },
        }];
        let assignments = vec![Assignment {
            system: "app/ü".into(),
            account_id: "ana@example.com".into(),
            entitlement: "Admins/All".into(),
            granted_at: Some(at("2025-05-05T00:00:00Z")),
            granted_by: Some("E1".into()),
            source: GrantSource::Request,
            last_certified_at: None,
            last_certified_by: None,
            origin: Origin { import_id: 0, line: 2 },
        }];
        store
            .import(&NewImport { entitlements: &entitlements, assignments: &assignments, ..import("assignments", &sys, &[], &[]) })
            .expect("assignments");
        let badges = vec![Badge {
            system: "hq".into(),
            badge_id: "B-1".into(),
            employee_id: Some("E1".into()),
            status: BadgeStatus::Active,
            last_used_at: Some(at("2026-01-01T08:00:00Z")),
            zones: vec!["lobby".into(), "lab/2".into()],
            origin: Origin { import_id: 0, line: 2 },
        }];
        let hq = vec!["hq".to_string()];
        store.import(&NewImport { badges: &badges, ..import("badges", &hq, &[], &[]) }).expect("badges");
    };
    let mut store = Store::open_at_version(&url, 22).expect("version 22");
    fill(&mut store);
    drop(store);
    let mut current = Store::open(&format!("sqlite://{}", dir.path().join("current.db").display())).expect("current");
    fill(&mut current);
    let before = current.load_graph().expect("load");
    drop(current);

    // The rows an earlier version wrote beside each snapshot, and its snapshots in a format
    // this one refuses.
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    let import_of =
        |kind: &str| -> i64 { c.query_row("SELECT import_id FROM sources WHERE kind = ?1", [kind], |r| r.get(0)).expect("import") };
    for a in &before.accounts {
        c.execute(
            "INSERT INTO accounts (system, account_id, source_kind, username, email, employee_id, display_name, status, kind, \
             created_at, last_login_at, last_login_known, mfa, password_last_set_at, interactive, root, owner, credentials, import_id, line) \
             VALUES (?1, ?2, 'accounts', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            rusqlite::params![
                &*a.system,
                &*a.account_id,
                a.username,
                a.email,
                a.employee_id.as_deref(),
                a.display_name,
                a.status.as_str(),
                a.kind.as_str(),
                a.created_at.map(|t| t.timestamp()),
                a.last_login_at.map(|t| t.timestamp()),
                a.last_login_known,
                a.mfa.as_ref().map(|m| m.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("|")),
                a.password_last_set_at.map(|t| t.timestamp()),
                a.interactive,
                a.root,
                a.owner,
                (!a.credentials.is_empty()).then(|| serde_json::to_string(&a.credentials).expect("json")),
                a.origin.import_id,
                a.origin.line,
            ],
        )
        .expect("account row");
    }
    c.execute(
        "INSERT INTO entitlements (system, name, source_kind, privileged, owner, import_id, line) VALUES ('app/ü', 'Admins/All', 'assignments', 1, 'E1', ?1, 2)",
        [import_of("assignments")],
    )
    .expect("entitlement row");
    c.execute(
        "INSERT INTO assignments (system, account_id, entitlement, source_kind, granted_at, granted_by, grant_source, last_certified_at, \
         last_certified_by, import_id, line) VALUES ('app/ü', 'ana@example.com', 'Admins/All', 'assignments', ?1, 'E1', 'request', NULL, NULL, ?2, 2)",
        rusqlite::params![at("2025-05-05T00:00:00Z").timestamp(), import_of("assignments")],
    )
    .expect("assignment row");
    c.execute(
        "INSERT INTO badges (system, badge_id, source_kind, employee_id, status, last_used_at, zones, import_id, line) \
         VALUES ('hq', 'B-1', 'badges', 'E1', 'active', ?1, 'lobby|lab/2', ?2, 2)",
        rusqlite::params![at("2026-01-01T08:00:00Z").timestamp(), import_of("badges")],
    )
    .expect("badge row");
    c.execute("UPDATE snapshots SET format = 1, data = x'414e58530100'", []).expect("old format");
    drop(c);

    let mut store = Store::open(&url).expect("upgrade");
    let after = store.load_graph().expect("load after the upgrade");
    assert_eq!(after.people, before.people);
    assert_eq!(after.accounts, before.accounts);
    assert_eq!(after.entitlements, before.entitlements);
    assert_eq!(after.badges, before.badges);
    let grants =
        |g: &annexa_core::graph::IdentityGraph| g.grants.iter().map(|x| (g.grant_key(x), x.granted_at, x.origin)).collect::<Vec<_>>();
    assert_eq!(grants(&after), grants(&before));
    assert_eq!(grants(&after).len(), 1);
    drop(store);
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    let mut left: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('people', 'accounts', 'entitlements', 'assignments', 'badges')")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    left.sort();
    assert_eq!(left, ["people"], "only people stay rows");
}

#[test]
fn runs_tell_new_still_open_and_resolved() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let checks = vec!["dormant-account".to_string(), "mfa-missing".to_string()];
        let first = vec![finding("dormant-account", "a/1"), finding("dormant-account", "a/2"), finding("mfa-missing", "a/1")];
        let out = store.record_run(&run(&checks, &first)).expect("run 1");
        assert_eq!((out.new, out.still_open, out.resolved), (3, 0, 0), "{url}");

        let second = vec![finding("dormant-account", "a/2"), finding("dormant-account", "a/3"), finding("mfa-missing", "a/1")];
        let out = store.record_run(&run(&checks, &second)).expect("run 2");
        assert_eq!((out.new, out.still_open, out.changed, out.resolved), (1, 2, 0, 1), "{url}");
        assert_eq!(run_ids(&mut store, out.run_id, "new"), [finding_id("dormant-account", "a/3")]);
        assert_eq!(run_ids(&mut store, out.run_id, "resolved"), [finding_id("dormant-account", "a/1")]);
        let per_check: Vec<(&str, u64, u64, u64)> = out.checks.iter().map(|c| (c.check.as_str(), c.open, c.new, c.resolved)).collect();
        assert_eq!(per_check, [("dormant-account", 2, 1, 1), ("mfa-missing", 1, 0, 0)], "{url}");

        // A run of one check does not resolve another check's findings.
        let only = vec!["dormant-account".to_string()];
        let out = store.record_run(&run(&only, &second[..2])).expect("run 3");
        assert_eq!((out.new, out.still_open, out.resolved), (0, 2, 0), "{url}");

        let open = store.findings(&FindingFilter { status: Some(FindingStatus::Open), ..Default::default() }).expect("list");
        assert_eq!(open.len(), 3);
        let resolved = store.findings(&FindingFilter { status: Some(FindingStatus::Resolved), ..Default::default() }).expect("list");
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].resolved_run, Some(2));
        let id = finding_id("dormant-account", "a/3");
        let one = store.finding(&id[..8]).expect("get").expect("found");
        assert_eq!(one.first_run, 2);
        assert_eq!(one.last_run, 3);
        assert_eq!(store.runs(10).expect("runs").len(), 3);

        // A resolved finding that comes back is open again.
        let out = store.record_run(&run(&checks, &first)).expect("run 4");
        assert_eq!(out.new, 1, "{url}");
        assert_eq!(run_ids(&mut store, out.run_id, "new"), [finding_id("dormant-account", "a/1")]);
        // A finding whose message changes is still open, changed; the same again is not.
        let mut changed = first.clone();
        changed[1].message = "worse".into();
        let out = store.record_run(&run(&checks, &changed)).expect("run 5");
        assert_eq!((out.new, out.still_open, out.changed, out.resolved), (0, 3, 1, 0), "{url}");
        let out = store.record_run(&run(&checks, &changed)).expect("run 6");
        assert_eq!((out.new, out.still_open, out.changed, out.resolved), (0, 3, 0, 0), "{url}");
        let one = store.finding(&changed[1].id).expect("get").expect("found");
        assert_eq!((one.finding.message.as_str(), one.last_run), ("worse", 6));
    }
}

#[test]
fn the_provisioning_queue_leases_retries_and_fails_on_both_engines() {
    use annexa_store::provisioning::{backoff_secs, NewTask};
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let now = at("2026-06-01T12:00:00Z");
        let task = |key: &str, not_before| NewTask {
            idempotency_key: key.into(),
            event_id: Some("J-1".into()),
            employee_id: Some("E1".into()),
            system: "corp".into(),
            action: TaskAction::DisableAccount,
            account_id: key.into(),
            entitlement: None,
            not_before,
            manual: false,
        };
        let later = now + chrono::Duration::days(14);
        let tasks = [task("a", now), task("b", now), task("c", later)];
        assert_eq!(store.queue_tasks(&tasks, &[], 2, "tester", now).expect("queue"), 3, "{url}");
        assert_eq!(store.queue_tasks(&tasks, &[], 2, "tester", now).expect("queue"), 0, "idempotent");
        // Only due tasks are leased, and a leased task is not leased again while its lease holds.
        let leased = store.lease_tasks("w1", now, 60, 10).expect("lease");
        assert_eq!(leased.iter().map(|t| t.task.account_id.as_str()).collect::<Vec<_>>(), ["a", "b"], "{url}");
        assert!(store.lease_tasks("w2", now, 60, 10).expect("lease").is_empty());
        // A worker that died: its lease runs out and another takes the task.
        let again = store.lease_tasks("w2", now + chrono::Duration::seconds(61), 60, 10).expect("lease");
        assert_eq!(again.len(), 2);
        store.finish_task(&again[0], Ok("disabled".into()), "tester", now).expect("finish");
        // A failure retries after the backoff, then fails for good at the last attempt.
        store.finish_task(&again[1], Err("connection refused".into()), "tester", now).expect("finish");
        let pending = store.tasks(Some(TaskStatus::Pending)).expect("tasks");
        let b = pending.iter().find(|t| t.task.account_id == "b").expect("b");
        assert_eq!((b.attempts, b.next_attempt_at), (1, now + chrono::Duration::seconds(backoff_secs(0))));
        let retry_at = now + chrono::Duration::seconds(backoff_secs(0));
        let b = store.lease_tasks("w3", retry_at, 60, 10).expect("lease");
        assert_eq!(b.len(), 1);
        store.finish_task(&b[0], Err("connection refused".into()), "tester", retry_at).expect("finish");
        let failed = store.tasks(Some(TaskStatus::Failed)).expect("tasks");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].last_error.as_deref(), Some("connection refused"));
        assert!(store.retry_task(failed[0].id, "tester", retry_at).expect("retry"));
        assert!(!store.retry_task(failed[0].id, "tester", retry_at).expect("retry"), "only failed tasks are retried");
        assert_eq!(store.tasks(Some(TaskStatus::Done)).expect("tasks").len(), 1);
    }
}

fn page(store: &mut Store, filter: FindingFilter) -> annexa_store::FindingPage {
    store.findings_page(&filter).expect("page")
}

/// 100,000 stored findings, listed a page at a time: the page and the total are right
/// whatever the filter, and a past run's report is rebuilt as it was.
#[test]
fn findings_are_filtered_sorted_and_paged_in_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let checks = vec!["dormant-account".to_string(), "mfa-missing".to_string()];
        let severities = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
        let many: Vec<Finding> = (0..100_000)
            .map(|i| {
                let check = if i % 2 == 0 { "dormant-account" } else { "mfa-missing" };
                let mut f = finding(check, &format!("sys{}/user{i:06}", i % 10));
                f.severity = severities[i % 4];
                f.controls = if i % 3 == 0 { vec!["A.5.18".into(), "A.8.2".into()] } else { vec!["A.5.17".into()] };
                f
            })
            .collect();
        store.record_run(&run(&checks, &many)).expect("run 1");
        let all = page(&mut store, FindingFilter { limit: Some(10), ..Default::default() });
        assert_eq!((all.total, all.findings.len()), (100_000, 10), "{url}");
        // Most severe first, then check, then subject.
        assert!(all.findings.iter().all(|f| f.finding.severity == Severity::Critical));
        assert_eq!(all.findings[0].finding.subject.key, "sys1/user000011");
        let last = page(&mut store, FindingFilter { limit: Some(10), offset: 99_995, ..Default::default() });
        assert_eq!(last.findings.len(), 5);
        assert!(last.findings.iter().all(|f| f.finding.severity == Severity::Low && f.finding.check == "dormant-account"));
        // Filters: check, severity, control (any of), system, subject and what is under it.
        let f = page(
            &mut store,
            FindingFilter { check: Some("mfa-missing".into()), min_severity: Some(Severity::High), limit: Some(1), ..Default::default() },
        );
        assert_eq!(f.total, 25_000);
        let f = page(&mut store, FindingFilter { controls: vec!["A.8.2".into()], limit: Some(0), ..Default::default() });
        assert_eq!(f.total, 33_334);
        let f = page(&mut store, FindingFilter { controls: vec!["A.8.2".into(), "A.5.17".into()], limit: Some(0), ..Default::default() });
        assert_eq!(f.total, 100_000);
        let f = page(&mut store, FindingFilter { controls: vec!["A.8".into()], limit: Some(0), ..Default::default() });
        assert_eq!(f.total, 0, "a control matches whole, not as a prefix");
        let f = page(&mut store, FindingFilter { system: Some("sys7".into()), limit: Some(0), ..Default::default() });
        assert_eq!(f.total, 10_000);
        let f = page(&mut store, FindingFilter { subject: Some("sys7/user000017".into()), ..Default::default() });
        assert_eq!(f.findings.len(), 1);
        let f = page(&mut store, FindingFilter { subject: Some("sys7".into()), limit: Some(0), ..Default::default() });
        assert_eq!(f.total, 10_000, "a subject's key finds the subjects under it");

        // A second run changes one finding's message and resolves another: run 1's report
        // is still what run 1 said.
        let mut second: Vec<Finding> = many[1..].to_vec();
        second[0].message = "changed".into();
        store.record_run(&run(&checks, &second)).expect("run 2");
        let then = page(&mut store, FindingFilter { run: Some(1), subject: Some("sys1/user000001".into()), ..Default::default() });
        assert_eq!(then.findings[0].finding.message, "sys1/user000001 is a problem");
        let now = page(&mut store, FindingFilter { subject: Some("sys1/user000001".into()), ..Default::default() });
        assert_eq!(now.findings[0].finding.message, "changed");
        assert_eq!(page(&mut store, FindingFilter { run: Some(1), limit: Some(0), ..Default::default() }).total, 100_000);
        assert_eq!(page(&mut store, FindingFilter { run: Some(2), limit: Some(0), ..Default::default() }).total, 99_999);
        assert!(matches!(
            store.findings_page(&FindingFilter { run: Some(9), ..Default::default() }),
            Err(annexa_store::StoreError::NotFound(_))
        ));
    }
}

/// A database whose findings were stored before migration 10 (evidence in a column of
/// `findings`, file names and hashes in every record) reads the same after the upgrade, and
/// the next run sees its findings as unchanged, not new.
#[test]
fn findings_stored_before_compact_bodies_survive_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}", path.display());
    drop(Store::open_at_version(&url, 9).expect("version 9"));
    let mut f = finding("dormant-account", "corp/jdoe");
    f.evidence = Evidence {
        records: vec![SourceRecord {
            record: "account".into(),
            key: "corp/jdoe".into(),
            import_id: 1,
            file: "accounts.csv".into(),
            sha256: "ab".repeat(32),
            line: 7,
        }],
        values: serde_json::json!({ "days_since_login": 120 }).as_object().cloned().expect("object"),
        assignments: Vec::new(),
        parameters: serde_json::json!({ "days": 90 }).as_object().cloned().expect("object"),
        as_of: Some(at("2026-01-02T00:00:00Z")),
    };
    {
        let c = rusqlite::Connection::open(&path).expect("sqlite");
        c.execute("INSERT INTO imports (kind, systems, file, sha256, rows_read, imported_at) VALUES ('accounts', '[\"corp\"]', 'accounts.csv', ?1, 1, 0)", [&"ab".repeat(32)]).expect("import");
        c.execute(
            "INSERT INTO audit_runs (started_at, finished_at, as_of, checks, imports, parameters, total, new_count, still_open_count, resolved_count) \
             VALUES (0, 0, ?1, '[\"dormant-account\"]', '[]', '{\"dormant-account\":{\"days\":90}}', 1, 1, 0, 0)",
            [at("2026-01-02T00:00:00Z").timestamp()],
        )
        .expect("run");
        c.execute(
            "INSERT INTO findings (id, check_id, severity, severity_rank, system, subject_kind, subject_key, subject_label, controls, message, evidence, status, first_run, last_run) \
             VALUES (?1, 'dormant-account', 'high', 3, 'corp', 'account', 'corp/jdoe', 'corp/jdoe', 'A.5.18', ?2, ?3, 'open', 1, 1)",
            rusqlite::params![f.id, f.message, serde_json::to_string(&f.evidence).expect("json")],
        )
        .expect("finding");
        c.execute("INSERT INTO run_findings (run_id, finding_id, change) VALUES (1, ?1, 'new')", [&f.id]).expect("run finding");
    }
    let mut store = Store::open(&url).expect("upgrade");
    let read = store.finding(&f.id).expect("read").expect("found");
    assert_eq!(read.finding, f, "the upgrade keeps what the finding said");
    let checks = vec!["dormant-account".to_string()];
    let out = store.record_run(&run(&checks, std::slice::from_ref(&f))).expect("run 2");
    assert_eq!((out.new, out.still_open, out.changed, out.resolved), (0, 1, 0, 0));
    let again = store.finding(&f.id).expect("read").expect("found");
    assert_eq!((again.finding.evidence.records.clone(), again.last_run), (f.evidence.records.clone(), 2));
    // A run whose rows have no versions (recorded before migration 9, its findings changed
    // by a later run before migration 10 gave each latest change one) cannot be listed as
    // it reported; the latest run can, from the findings' latest state.
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    c.execute("UPDATE run_findings SET version = NULL WHERE run_id = 1", []).expect("unversion run 1");
    drop(c);
    let of_run = |run| annexa_store::FindingFilter { run: Some(run), ..Default::default() };
    let refused = store.findings_each(&of_run(1), false, |_| Ok(()));
    assert!(matches!(refused, Err(annexa_store::StoreError::Conflict(_))), "{:?}", refused.map(|_| ()));
    let mut listed = Vec::new();
    store
        .findings_each(&of_run(2), false, |s| {
            listed.push(s.finding.id);
            Ok(())
        })
        .expect("run 2 lists");
    assert_eq!(listed, vec![f.id.clone()]);
}

#[test]
fn a_lenient_import_records_its_quarantine_on_both_engines_and_after_an_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = format!("sqlite://{}", dir.path().join("v10.db").display());
    drop(Store::open_at_version(&old, 10).expect("version 10"));
    let mut urls = annexa_store::testing::fresh_databases(dir.path());
    urls.push(old);
    for url in urls {
        let mut store = Store::open(&url).expect("open");
        let sys = vec!["app".to_string()];
        store.import(&import("accounts", &sys, &[], &[account("app", "strict")])).expect("strict");
        assert_eq!(store.current_imports().expect("imports")[0].quarantine, None, "{url}");
        let q = Quarantine { refused: 3, file: "a.db.quarantine/x-accounts.csv".into(), sha256: "cd".repeat(32) };
        let record =
            store.import(&NewImport { quarantine: Some(&q), ..import("accounts", &sys, &[], &[account("app", "kept")]) }).expect("lenient");
        assert_eq!(record.quarantine.as_ref(), Some(&q), "{url}");
        assert_eq!(store.current_imports().expect("imports")[0].quarantine.as_ref(), Some(&q), "{url}");
        let mut entries = Vec::new();
        store
            .ledger_each(|e| {
                entries.push(e.body);
                Ok(())
            })
            .expect("ledger");
        let lenient: serde_json::Value = serde_json::from_str(entries.last().expect("an entry")).expect("JSON");
        assert_eq!(lenient["data"]["refused"], 3, "{url}: {lenient}");
        assert_eq!(lenient["data"]["quarantine"]["sha256"], q.sha256.as_str(), "{url}");
        let strict: serde_json::Value = serde_json::from_str(&entries[entries.len() - 2]).expect("JSON");
        assert!(strict["data"].get("refused").is_none(), "a strict import's entry is as before: {strict}");
    }
}

/// A first audit builds the findings' indexes, keys included, after writing (they are
/// dropped in its transaction): they are all back afterwards, as the migrations made them, and a
/// run that fails (dropped unfinished) leaves them as they were.
#[test]
fn a_first_run_rebuilds_the_indexes_it_dropped_and_a_failed_one_restores_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.db");
    let url = format!("sqlite://{}", path.display());
    let indexes = || -> Vec<(String, String)> {
        let c = rusqlite::Connection::open(&path).expect("sqlite");
        let mut s = c
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name IN ('findings', 'finding_versions', 'run_findings') ORDER BY name",
            )
            .expect("query");
        let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows");
        rows.collect::<Result<_, _>>().expect("indexes")
    };
    let mut store = Store::open(&url).expect("open");
    let before = indexes();
    assert!(before.iter().any(|(name, _)| name == "findings_listing"), "{before:?}");
    let checks = vec!["dormant-account".to_string()];
    {
        let mut writer = store
            .begin_run(&annexa_store::RunStart {
                actor: "t",
                started_at: at("2026-01-02T00:00:00Z"),
                as_of: at("2026-01-02T00:00:00Z"),
                checks: &checks,
            })
            .expect("begin");
        writer.add(vec![finding("dormant-account", "corp/a")]).expect("add");
        // Dropped unfinished: rolled back.
    }
    assert_eq!(indexes(), before, "a failed run restores the indexes");
    let many: Vec<Finding> = (0..2_000).map(|i| finding("dormant-account", &format!("corp/u{i}"))).collect();
    let out = store.record_run(&run(&checks, &many)).expect("run");
    assert_eq!(out.new, 2_000);
    assert_eq!(indexes(), before, "the first run built them again");
    let page = store.findings_page(&FindingFilter { limit: Some(3), ..Default::default() }).expect("page");
    assert_eq!((page.total, page.findings.len()), (2_000, 3));
}

/// Migration 12 packs the bodies stored before it, however many: a database at version 11
/// with 2,500 stored versions (more than one pass of the data step) reads the same after
/// the upgrade, every body packed and the column that held them gone.
#[test]
fn bodies_stored_before_packing_are_packed_by_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v11.db");
    let url = format!("sqlite://{}", path.display());
    drop(Store::open_at_version(&url, 11).expect("version 11"));
    let findings: Vec<Finding> = (0..2_500).map(|i| finding("dormant-account", &format!("corp/ü{i:04}"))).collect();
    {
        let c = rusqlite::Connection::open(&path).expect("sqlite");
        c.execute(
            "INSERT INTO audit_runs (started_at, finished_at, as_of, checks, imports, parameters, total, new_count, still_open_count, resolved_count) \
             VALUES (0, 0, 0, '[\"dormant-account\"]', '[]', '{}', 2500, 2500, 0, 0)",
            [],
        )
        .expect("run");
        for f in &findings {
            let body = serde_json::json!({
                "id": f.id, "check": f.check, "severity": f.severity, "subject": f.subject, "controls": f.controls,
                "message": f.message, "evidence": { "records": [], "values": {} },
            })
            .to_string();
            let version = annexa_core::to_hex(&<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
            c.execute(
                "INSERT INTO finding_versions (finding_id, sha256, check_id, severity_rank, system, subject_key, controls, body) \
                 VALUES (?1, ?2, 'dormant-account', 3, 'corp', ?3, 'A.5.18', ?4)",
                rusqlite::params![f.id, version, f.subject.key, body],
            )
            .expect("version");
            c.execute(
                "INSERT INTO findings (id, check_id, subject_kind, subject_key, controls, status, first_run, last_run, severity_rank, system, version) \
                 VALUES (?1, 'dormant-account', 'account', ?2, 'A.5.18', 'open', 1, 1, 3, 'corp', ?3)",
                rusqlite::params![f.id, f.subject.key, version],
            )
            .expect("finding");
            c.execute(
                "INSERT INTO run_findings (run_id, finding_id, change, version) VALUES (1, ?1, 'new', ?2)",
                rusqlite::params![f.id, version],
            )
            .expect("run finding");
        }
    }
    let mut store = Store::open(&url).expect("upgrade");
    let all = store.findings_page(&FindingFilter::default()).expect("all");
    assert_eq!(all.total, 2_500);
    let mut read: Vec<Finding> = all.findings.into_iter().map(|s| s.finding).collect();
    read.sort_by(|a, b| a.subject.key.cmp(&b.subject.key));
    for (r, f) in read.iter().zip(&findings) {
        assert_eq!((&r.id, &r.subject, &r.message), (&f.id, &f.subject, &f.message));
    }
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    let unpacked: i64 = c.query_row("SELECT COUNT(*) FROM finding_versions WHERE packed IS NULL", [], |r| r.get(0)).expect("count");
    assert_eq!(unpacked, 0, "every body packed");
    let columns: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('finding_versions')")
        .expect("columns")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names");
    assert!(!columns.iter().any(|c| c == "body"), "{columns:?}");
}

/// Migration 21 moves where each access sits in each campaign out of an index over every
/// item into `campaign_access`: campaigns launched before the upgrade still decide the
/// same access alike.
#[test]
fn campaigns_launched_before_the_access_table_still_decide_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v20.db");
    let url = format!("sqlite://{}", path.display());
    drop(Store::open_at_version(&url, 20).expect("version 20"));
    {
        let c = rusqlite::Connection::open(&path).expect("sqlite");
        for campaign in 1..=2 {
            c.execute(
                "INSERT INTO campaigns (name, scope, reviewer_strategy, due_at, status, created_at, created_by, items, population_hash, \
                 population, worksheet_key) VALUES (?1, 'all', 'named:E1', 4102444800, 'open', 0, 'test', 2, '', '[]', '00')",
                rusqlite::params![format!("Campaign {campaign}")],
            )
            .expect("campaign");
            for (line, entitlement) in [(1, "erp/AP enter"), (2, "Ärzte/Befunde")] {
                // The key as campaign.rs hashes it (kind, system, account, entitlement, each
                // after its length); the migration copies it as stored.
                let mut h = <sha2::Sha256 as sha2::Digest>::new();
                for part in ["assignment", "erp", "zoe@example.com", entitlement] {
                    sha2::Digest::update(&mut h, (part.len() as u64).to_be_bytes());
                    sha2::Digest::update(&mut h, part.as_bytes());
                }
                let d = sha2::Digest::finalize(h);
                let key = i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
                c.execute(
                    "INSERT INTO campaign_items (campaign_id, kind, access_key, system, account_id, entitlement, employee_id, holder, \
                     privileged, import_id, line, reviewer, reviewer_basis, open_findings, sod_rules, peers, recommendation, \
                     recommendation_reason) VALUES (?1, 'assignment', ?2, 'erp', 'zoe@example.com', ?3, 'E2', 'Zoë Ito', 0, 1, ?4, \
                     'E1', 'named', 0, '[]', 0, 'certify', 'used on 2026-11-30')",
                    rusqlite::params![campaign, key, entitlement, line],
                )
                .expect("item");
            }
        }
    }
    let mut store = Store::open(&url).expect("upgrade");
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    let rows: i64 = c.query_row("SELECT COUNT(*) FROM campaign_access", [], |r| r.get(0)).expect("count");
    assert_eq!(rows, 4, "every item's access copied");
    let old_index: i64 =
        c.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'campaign_items_by_access'", [], |r| r.get(0)).expect("index");
    assert_eq!(old_index, 0, "the index over every item is gone");
    // Item 2 (Ärzte/Befunde in campaign 1) and item 4 (the same in campaign 2) share the key
    // and the names: deciding one decides the other.
    let request =
        annexa_store::campaign::DecisionRequest { items: vec![2], reviewer: "E1".into(), decision: "certify".into(), comment: None };
    let decided =
        store.decide(&request, &|_| panic!("a certification queues no task"), 3, "test", at("2026-12-01"), None).expect("decided");
    assert_eq!((decided.items, decided.also), (vec![2], vec![4]));
}

/// Migration 22 rebuilds the findings' tables with their keys as unique indexes of their
/// own: every row is still there, the keys still refuse a second row, and a run that
/// reports one finding twice (its keys dropped while it writes) fails whole.
#[test]
fn findings_keyed_by_unique_indexes_keep_their_rows_and_their_uniqueness() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v21.db");
    let url = format!("sqlite://{}", path.display());
    let checks = vec!["dormant-account".to_string()];
    let first: Vec<Finding> = (0..300).map(|i| finding("dormant-account", &format!("corp/ü{i}"))).collect();
    {
        let mut store = Store::open_at_version(&url, 21).expect("version 21");
        store.record_run(&run(&checks, &first)).expect("run at 21");
    }
    let mut store = Store::open(&url).expect("upgrade");
    let c = rusqlite::Connection::open(&path).expect("sqlite");
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).expect("count") };
    assert_eq!(count("SELECT COUNT(*) FROM findings"), 300);
    assert_eq!(count("SELECT COUNT(*) FROM finding_versions WHERE packed IS NOT NULL"), 300);
    assert_eq!(count("SELECT COUNT(*) FROM run_findings WHERE run_id = 1 AND change = 'new'"), 300);
    assert_eq!(count("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('findings_id', 'finding_versions_key', 'run_findings_key')"), 3);
    let again = c.execute(
        "INSERT INTO findings (id, check_id, subject_kind, subject_key, controls, status, first_run, last_run) \
         SELECT id, check_id, subject_kind, subject_key, controls, status, first_run, last_run FROM findings LIMIT 1",
        [],
    );
    assert!(again.is_err(), "a second row for one finding id is refused");
    let one = store.finding(&first[7].id).expect("get").expect("found");
    assert_eq!(one.finding.message, first[7].message);

    // The next run changes some, keeps some, finds new ones and reports one of them twice.
    let mut second: Vec<Finding> = first[..200].to_vec();
    second[0].message = "worse".into();
    second.extend((0..50).map(|i| finding("dormant-account", &format!("corp/new{i}"))));
    let mut twice = second.clone();
    twice.push(second[210].clone());
    let before = (count("SELECT COUNT(*) FROM findings"), count("SELECT COUNT(*) FROM run_findings"));
    assert!(store.record_run(&run(&checks, &twice)).is_err(), "one finding reported twice");
    assert_eq!((count("SELECT COUNT(*) FROM findings"), count("SELECT COUNT(*) FROM run_findings")), before, "nothing written");
    let out = store.record_run(&run(&checks, &second)).expect("run 2");
    assert_eq!((out.new, out.still_open, out.changed, out.resolved), (50, 200, 1, 100));
    assert_eq!(store.finding(&second[0].id).expect("get").expect("found").finding.message, "worse");
    assert_eq!(count("SELECT COUNT(*) FROM findings"), 350);
    assert_eq!(count("SELECT COUNT(DISTINCT id) FROM findings"), 350);
}

/// The same upgrade on PostgreSQL, which rebuilds its tables alike (and never drops the
/// keys during a run): the findings stored at version 21 are all there afterwards, and the
/// next run tells them apart as before.
#[test]
fn findings_stored_on_postgres_before_migration_22_survive_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = annexa_store::testing::fresh_databases(dir.path()).into_iter().find(|u| u.starts_with("postgres")) else {
        return; // skipped, and said so, by fresh_databases
    };
    let checks = vec!["dormant-account".to_string()];
    let first: Vec<Finding> = (0..300).map(|i| finding("dormant-account", &format!("corp/ü{i}"))).collect();
    {
        let mut store = Store::open_at_version(&url, 21).expect("version 21");
        store.record_run(&run(&checks, &first)).expect("run at 21");
    }
    let mut store = Store::open(&url).expect("upgrade");
    let all = store.findings_page(&FindingFilter { limit: Some(1), ..Default::default() }).expect("page");
    assert_eq!(all.total, 300);
    assert_eq!(store.finding(&first[7].id).expect("get").expect("found").finding.message, first[7].message);
    let mut second: Vec<Finding> = first[..200].to_vec();
    second[0].message = "worse".into();
    second.extend((0..50).map(|i| finding("dormant-account", &format!("corp/new{i}"))));
    let out = store.record_run(&run(&checks, &second)).expect("run 2");
    assert_eq!((out.new, out.still_open, out.changed, out.resolved), (50, 200, 1, 100));
    let reported = store.findings_page(&FindingFilter { run: Some(1), limit: Some(1), ..Default::default() }).expect("run 1");
    assert_eq!(reported.total, 300, "what run 1 reported, as it reported it");
}

/// Overdue findings: while no run is older than the shortest due period, only findings with
/// a due date of their own can be overdue (read from their side); once one is, every open
/// finding past its severity's period counts too. Suppressed findings never do.
#[test]
fn overdue_counts_findings_past_their_own_or_their_severitys_due_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let checks = vec!["dormant-account".to_string()];
        let many: Vec<Finding> = (0..50).map(|i| finding("dormant-account", &format!("corp/ünïcode-{i}@example.com"))).collect();
        store.record_run(&run(&checks, &many)).expect("run");
        // High findings are due 30 days after the run's as-of (2026-01-02), critical ones after 7.
        let days = [None, None, None, Some(30), Some(7)];
        let assign = |due: &str| annexa_store::lifecycle::Triage::Assign { owner: "E1".into(), due: Some(at(due)) };
        let ids = |range: std::ops::Range<usize>| many[range].iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        store.triage(&ids(0..2), &assign("2026-01-05T00:00:00Z"), &days, "lead", at("2026-01-03T00:00:00Z")).expect("assign");
        store.triage(&ids(2..3), &assign("2026-03-01T00:00:00Z"), &days, "lead", at("2026-01-03T00:00:00Z")).expect("assign");
        let accept = annexa_store::lifecycle::Triage::Accept {
            approver: "CISO".into(),
            reason: "legacy".into(),
            expires: at("2027-01-01T00:00:00Z"),
        };
        store.triage(&ids(3..4), &accept, &days, "lead", at("2026-01-03T00:00:00Z")).expect("accept");

        let early = store.overdue(&days, at("2026-01-10T00:00:00Z")).expect("overdue");
        assert_eq!((early.total, early.by_severity.clone()), (2, vec![(Severity::High, 2)]), "{url}: only their own due dates passed");
        let late = store.overdue(&days, at("2026-02-15T00:00:00Z")).expect("overdue");
        // All but the one due on 2026-03-01 and the accepted one.
        assert_eq!((late.total, late.by_severity.clone()), (48, vec![(Severity::High, 48)]), "{url}: the severity's 30 days passed");
        let none = store.overdue(&[None; 5], at("2026-02-15T00:00:00Z")).expect("overdue");
        assert_eq!(none.total, 2, "{url}: without due periods only their own due dates count");
    }
}

/// A new finding is stored as one row, its first version inside it, until a run changes
/// it: then it gets the rows every finding has (its versions, its runs' reports). Either
/// way each run's report reads back as that run made it: listed, its new and resolved
/// ids, and what a dismissal rests on.
#[test]
fn a_new_finding_is_one_row_until_a_run_changes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        let mut store = Store::open(&url).expect("open");
        let both = vec!["dormant-account".to_string(), "mfa-missing".to_string()];
        let dormant = |key: &str| finding("dormant-account", &format!("corp/{key}"));
        let first = vec![
            dormant("åsa.berg@example.com"),
            dormant("ops/ärzte"),
            dormant("c"),
            dormant("d"),
            finding("mfa-missing", "corp/åsa.berg@example.com"),
        ];
        store.record_run(&run(&both, &first)).expect("run 1");
        let rows = |sql: &str| -> Option<i64> {
            let path = url.strip_prefix("sqlite://")?;
            Some(rusqlite::Connection::open(path).expect("sqlite").query_row(sql, [], |r| r.get(0)).expect("count"))
        };
        if let Some(versions) = rows("SELECT COUNT(*) FROM finding_versions") {
            assert_eq!(versions, 0, "a first audit writes one row per finding");
            assert_eq!(rows("SELECT COUNT(*) FROM run_findings"), Some(0));
            assert_eq!(rows("SELECT COUNT(*) FROM findings WHERE packed IS NOT NULL"), Some(5));
        }
        // Dismissed while its first version is inline: what it rests on is read from there.
        let dismiss = annexa_store::lifecycle::Triage::Dismiss { reason: "a test account".into() };
        store.triage(&[first[3].id.clone()], &dismiss, &[None; 5], "lead", at("2026-01-03T00:00:00Z")).expect("dismiss");

        // Run 2 changes the first, no longer sees the second, sees a new one.
        let mut second = vec![first[0].clone(), first[2].clone(), first[3].clone(), first[4].clone(), dormant("e")];
        second[0].message = "changed".into();
        let out = store.record_run(&run(&both, &second)).expect("run 2");
        assert_eq!((out.new, out.still_open, out.changed, out.resolved, out.suppressed), (1, 4, 1, 1, 1), "{url}");
        // Run 3 runs one check only, and no longer sees the third.
        let only = vec!["dormant-account".to_string()];
        let third = vec![second[0].clone(), second[2].clone(), second[4].clone()];
        let out = store.record_run(&run(&only, &third)).expect("run 3");
        assert_eq!((out.new, out.still_open, out.resolved, out.suppressed), (0, 3, 1, 1), "{url}");

        let reported = |store: &mut Store, run: i64| -> Vec<(String, String)> {
            let mut all = store.findings(&FindingFilter { run: Some(run), ..Default::default() }).expect("run");
            all.sort_by(|a, b| a.finding.id.cmp(&b.finding.id));
            all.into_iter().map(|s| (s.finding.id, s.finding.message)).collect()
        };
        let expect = |fs: &[Finding]| -> Vec<(String, String)> {
            let mut v: Vec<(String, String)> = fs.iter().map(|f| (f.id.clone(), f.message.clone())).collect();
            v.sort();
            v
        };
        assert_eq!(reported(&mut store, 1), expect(&first), "{url}: run 1 as it reported");
        assert_eq!(reported(&mut store, 2), expect(&second), "{url}: run 2 as it reported");
        assert_eq!(reported(&mut store, 3), expect(&third), "{url}: run 3, the latest");
        let page = store.findings_page(&FindingFilter {
            run: Some(1),
            system: Some("corp".into()),
            limit: Some(2),
            offset: 1,
            ..Default::default()
        });
        let page = page.expect("page");
        assert_eq!((page.total, page.findings.len()), (5, 2), "{url}: filtered and paged alike");
        let mut all_first: Vec<String> = first.iter().map(|f| f.id.clone()).collect();
        all_first.sort();
        assert_eq!(run_ids(&mut store, 1, "new"), all_first, "{url}");
        assert_eq!(run_ids(&mut store, 2, "new"), [second[4].id.clone()], "{url}");
        assert_eq!(run_ids(&mut store, 2, "resolved"), [first[1].id.clone()], "{url}");
        assert_eq!(run_ids(&mut store, 3, "resolved"), [first[2].id.clone()], "{url}");
        assert!(run_ids(&mut store, 3, "new").is_empty(), "{url}");
        // Written out when changed or resolved; the rest stays one row each.
        if let Some(versions) = rows("SELECT COUNT(*) FROM finding_versions") {
            assert_eq!(versions, 4, "the changed one's two versions, the two resolved ones' one each");
            assert_eq!(rows("SELECT COUNT(*) FROM findings WHERE packed IS NOT NULL"), Some(3));
        }
    }
}
