//! Every built-in check, data-driven: a small graph and configuration in, the findings out.
//!
//! Each test builds one graph whose account ids (or employee ids) say what case they are,
//! then states exactly which subjects the check reports, and the words that matter to a
//! reviewer. Parameter boundaries sit next to each other (`used-90d` / `used-91d`) so the
//! table shows where the line is. As-of is [`AS_OF`] (2026-04-01T00:00Z) unless a case
//! says otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use annexa_core::finding::{finding_id, Severity, SourceRecord, SubjectKind};
use annexa_engine::checks::CHECKS;
use annexa_engine::context::Context;
use annexa_engine::correlate::Method;
use support::*;

// ---------------------------------------------------------------------------------------
// orphaned-account

#[test]
fn orphaned_account() {
    let g = graph()
        .with(person("E1").name("Ann", "Lee").email("ann.lee@corp.example"))
        .with(person("E2").name("John", "Doe"))
        .with(person("E3").name("Jane", "Doe"))
        .with(person("E9").name("Old", "Timer").terminated_on("2025-12-31"))
        .with(person("E4").name("Kim", "Ng").email("team@corp.example"))
        .with(person("E5").name("Lee", "Ng").email("team@corp.example"))
        // Correlated: someone answers for these.
        .with(account("ad", "by-id").employee("E1"))
        .with(account("aws", "ANN.LEE@corp.example")) // an IAM user named by e-mail
        .with(account("ad", "by-mail").email("Ann.Lee@corp.example"))
        .with(account("ad", "ann.lee"))
        // Orphaned.
        .with(account("ad", "ghost").employee("E404"))
        .with(account("ad", "mailer").email("nobody@corp.example"))
        .with(account("ad", "zz"))
        .with(account("ad", "jdoe")) // John Doe or Jane Doe: ambiguous, so nobody's
        .with(account("aws", "team@corp.example")) // Kim's or Lee's: ambiguous, so nobody's
        .with(account("aws", "stranger@corp.example"))
        .with(account("ad", "adm-ghost").kind("admin").employee("E404"))
        .with(account("ad", "owner-left").employee("E404").owner("E9"))
        // Not orphaned.
        .with(account("ad", "ghost-disabled").employee("E404").disabled())
        .with(account("ad", "owned").employee("E404").owner("E1"))
        .with(account("ad", "old-timer").employee("E9")) // a leaver's: leaver-access reports it
        .with(account("ad", "svc-backup").kind("service")) // service-account-no-owner's business
        .with(account("ad", "frontdesk").kind("shared")) // shared-account's business
        .with(account("aws", "<root_account>").root());
    expect(
        &g,
        "",
        AS_OF,
        "orphaned-account",
        &[
            ("ad/ghost", "Enabled ad account ghost belongs to no one: employee id E404 is not in the HR feed"),
            ("ad/mailer", "email nobody@corp.example matches no one in the HR feed"),
            ("ad/zz", "no employee id, email or username links it to anyone"),
            ("ad/jdoe", "no employee id, email or username links it to anyone"),
            (
                "aws/team@corp.example",
                "login team@corp.example, an e-mail address, belongs to more than one person in the HR feed, so it links to no one",
            ),
            ("aws/stranger@corp.example", "login stranger@corp.example, an e-mail address, matches no one in the HR feed"),
            ("ad/adm-ghost", "employee id E404"),
            ("ad/owner-left", "and it has no accountable owner"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// leaver-access

#[test]
fn leaver_access_sla_boundary() {
    // Last day 2026-03-30, so entitlement ends 2026-03-31T00:00Z and the default 24 h SLA
    // runs out at 2026-04-01T00:00Z.
    let g = graph()
        .with(person("L1").name("Lea", "Ver").terminated_on("2026-03-30"))
        .with(account("ad", "lver").employee("L1"))
        .with(badge("B1", "L1"));
    let both: &[(&str, &str)] = &[
        ("ad/lver", "Lea Ver left on 2026-03-30 (1 days ago) but ad account lver is still enabled"),
        ("badge/B1", "Lea Ver left on 2026-03-30 (1 days ago) but badge B1 still opens HQ"),
    ];
    let sla_48h = "[checks.leaver-access]\nsla_hours = 48";
    let cases: &[(&str, &str, &[(&str, &str)])] = &[
        ("2026-03-30T12:00:00Z", "", &[]),                                  // still the last day
        ("2026-03-31T23:00:00Z", "", &[]),                                  // 23 h after: within the SLA
        ("2026-04-01T00:00:00Z", "", &[("ad/lver", ""), ("badge/B1", "")]), // 24 h: deadline reached
        ("2026-04-01T01:00:00Z", "", both),                                 // 25 h: late
        ("2026-04-01T01:00:00Z", sla_48h, &[]),                             // a longer SLA
        ("2026-04-02T01:00:00Z", sla_48h, &[("ad/lver", ""), ("badge/B1", "")]),
    ];
    for (as_of, config, want) in cases {
        expect(&g, config, as_of, "leaver-access", want);
    }
}

#[test]
fn leaver_access() {
    let g = graph()
        // Terminated with no end date: past any deadline at once.
        .with(person("T1").name("No", "End").terminated())
        .with(account("ad", "t1").employee("T1"))
        // HR status never updated, but the end date passed: a leaver all the same.
        .with(person("T2").name("Still", "Active").ends("2026-03-01"))
        .with(account("ad", "t2").employee("T2"))
        // Correlated by email; their service account is ownerless, not leaver access.
        .with(person("T3").name("Mail", "Only").email("mo@corp.example").terminated_on("2026-02-01"))
        .with(account("gitlab", "mo").email("mo@corp.example"))
        .with(account("ad", "mo-svc").kind("service").owner("T3"))
        // Everything removed in time.
        .with(person("T4").name("Clean", "Exit").terminated_on("2026-02-01"))
        .with(account("ad", "t4").employee("T4").disabled())
        .with(badge("B4", "T4").inactive())
        // Not leavers: on leave; notice given, last day still ahead.
        .with(person("T5").name("On", "Leave").status("leave"))
        .with(account("ad", "t5").employee("T5"))
        .with(person("T6").name("Future", "Leaver").terminated_on("2026-04-15"))
        .with(account("ad", "t6").employee("T6"))
        .with(badge("B6", "T6"));
    expect(
        &g,
        "",
        AS_OF,
        "leaver-access",
        &[
            ("ad/t1", "No End is terminated in HR (no end date on record) but ad account t1 is still enabled"),
            ("ad/t2", "Still Active left on 2026-03-01"),
            ("gitlab/mo", "but gitlab account mo is still enabled"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// dormant-account

#[test]
fn dormant_account() {
    let g = graph()
        .with(import(7, "ldif", "corp.ldif"))
        .with(account("ad", "used-90d").last_login(ago(90))) // exactly N days: not yet
        .with(account("ad", "used-91d").last_login(ago(91)))
        .with(account("ad", "used-90d-23h").last_login(hours_ago(90 * 24 + 23))) // whole days count
        .with(account("ad", "new-90d").created(ago(90)))
        .with(account("ad", "new-91d").created(ago(91)))
        .with(account("ad", "never-undated")) // never used, age unknown: nothing to measure
        .with(account("ad", "disabled").disabled().last_login(ago(400)))
        .with(account("ad", "unknown").login_unknown().created(ago(400)))
        .with(account("ad", "svc").kind("service").last_login(ago(400)))
        .with(account("ad", "frontdesk").kind("shared").last_login(ago(400)))
        .with(account("aws", "<root_account>").root().last_login(ago(400))) // root-account-use's business
        // Directory (LDIF) imports get `directory_slack_days` (14) on top; the kind is the
        // import's, found through the record's origin.
        .with(account("dir", "ldif-104d").origin(7, 10).last_login(ago(104)))
        .with(account("dir", "ldif-105d").origin(7, 11).last_login(ago(105)))
        .with(account("dir", "csv-100d").last_login(ago(100)));
    let defaults = [
        ("ad/used-91d", "ad account used-91d has not been used for 91 days (limit 90)"),
        ("ad/new-91d", "ad account new-91d was created 91 days ago and never used (limit 90)"),
        ("ad/frontdesk", ""),
        ("dir/ldif-105d", "has not been used for 105 days (limit 104)"),
        ("dir/csv-100d", "has not been used for 100 days (limit 90)"),
    ];
    expect(&g, "", AS_OF, "dormant-account", &defaults);

    let cfg = "[checks.dormant-account]\ninclude_service = true";
    expect(&g, cfg, AS_OF, "dormant-account", &[&defaults[..], &[("ad/svc", "")]].concat());

    let cfg = "[checks.dormant-account]\ndirectory_slack_days = 0";
    let want = [
        ("ad/used-91d", ""),
        ("ad/new-91d", ""),
        ("ad/frontdesk", ""),
        ("dir/ldif-104d", "has not been used for 104 days (limit 90)"),
        ("dir/ldif-105d", "(limit 90)"),
        ("dir/csv-100d", ""),
    ];
    expect(&g, cfg, AS_OF, "dormant-account", &want);

    let cfg = "[checks.dormant-account]\ndays = 30";
    let want = [
        "ad/frontdesk",
        "ad/new-90d",
        "ad/new-91d",
        "ad/used-90d",
        "ad/used-90d-23h",
        "ad/used-91d",
        "dir/csv-100d",
        "dir/ldif-104d",
        "dir/ldif-105d",
    ];
    assert_eq!(keys(&g, cfg, AS_OF, "dormant-account"), want);
}

// ---------------------------------------------------------------------------------------
// mfa-missing

#[test]
fn mfa_missing() {
    let g = graph()
        .with(account("idp", "no-factor").mfa(""))
        .with(account("idp", "none").mfa("none"))
        .with(account("idp", "adm").kind("admin").mfa("none"))
        .with(account("aws", "<root_account>").root().mfa("none"))
        // Any real factor will do here (phishing resistance is privileged-weak-mfa's).
        .with(account("idp", "sms").mfa("sms"))
        .with(account("idp", "totp").mfa("none,totp"))
        // Not judged.
        .with(account("idp", "unreported")) // the source does not report MFA
        .with(account("idp", "batch").non_interactive().mfa("none"))
        .with(account("idp", "disabled").disabled().mfa("none"))
        .with(account("idp", "svc").kind("service").mfa("none"))
        .with(account("idp", "frontdesk").kind("shared").mfa("none"));
    let fragment = "signs in interactively without any second factor";
    expect(
        &g,
        "",
        AS_OF,
        "mfa-missing",
        &[
            ("idp/no-factor", "idp account no-factor signs in interactively without any second factor"),
            ("idp/none", fragment),
            ("idp/adm", fragment),
            ("aws/<root_account>", fragment),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// privileged-weak-mfa

#[test]
fn privileged_weak_mfa() {
    let mut g = graph()
        .with(account("ad", "adm").kind("admin").mfa("push"))
        .with(account("aws", "<root_account>").root().mfa("totp"))
        .with(account("ad", "staff-sms").mfa("sms"))
        .with(assignment("ad", "staff-sms", "Staff"))
        .with(account("erp", "fin").mfa("totp"))
        .with(assignment("erp", "fin", "GL-ADMIN")); // privileged only by configuration
    for (id, account) in [
        ("da-totp", account("ad", "da-totp").mfa("totp")),
        ("da-fido", account("ad", "da-fido").mfa("totp,fido2")),
        ("da-none", account("ad", "da-none").mfa("none")),
        ("da-empty", account("ad", "da-empty").mfa("")),
        ("da-unreported", account("ad", "da-unreported")),
        ("da-disabled", account("ad", "da-disabled").disabled().mfa("sms")),
        ("da-batch", account("ad", "da-batch").non_interactive().mfa("sms")),
    ] {
        g = g.with(account).with(assignment("ad", id, "Domain Admins").privileged());
    }
    let defaults = [
        ("ad/da-totp", "ad account da-totp holds ad:Domain Admins but has no phishing-resistant factor (has: totp)"),
        ("ad/da-none", "(has: none)"),
        ("ad/da-empty", "(has: none)"),
        ("ad/adm", "ad account adm is an admin account but has no phishing-resistant factor (has: push)"),
        ("aws/<root_account>", "is a cloud root account"),
    ];
    expect(&g, "", AS_OF, "privileged-weak-mfa", &defaults);
    let cfg = "[privileged]\nentitlements = [\"erp:*-admin\"]";
    expect(&g, cfg, AS_OF, "privileged-weak-mfa", &[&defaults[..], &[("erp/fin", "holds erp:GL-ADMIN")]].concat());
}

// ---------------------------------------------------------------------------------------
// stale-credential

#[test]
fn stale_credential() {
    let g = graph()
        .with(
            account("aws", "alice")
                .cred(key("access_key_1").rotated(ago(90)).used(ago(1))) // exactly N days: fine
                .cred(key("access_key_2").rotated(ago(91)).used(ago(1))),
        )
        .with(
            account("aws", "bob")
                .cred(key("access_key_1").rotated(ago(91))) // never used since issued
                .cred(key("access_key_2").rotated(ago(10))), // not used yet, but new
        )
        .with(
            account("aws", "carol").cred(key("access_key_1").inactive().rotated(ago(400))).cred(key("access_key_2")), // no issue date: nothing to measure
        )
        // Signing certificates are neither keys nor tokens (and AWS reports no use of them).
        .with(account("aws", "dave").cred(key("cert_1").kind("certificate").rotated(ago(400))))
        .with(
            account("gitlab", "ci")
                .kind("service")
                .non_interactive()
                .cred(key("deploy-token").kind("api-token").rotated(ago(200)).used(ago(1))),
        )
        // Password age: judged only when a maximum is configured, and only while enabled.
        .with(account("ad", "erin").password_set(ago(400)))
        .with(account("ad", "frank").password_set(ago(365)))
        .with(account("ad", "gina").disabled().password_set(ago(400)));
    let defaults = [
        ("aws/alice/access_key_2", "Active access-key access_key_2 of aws account alice is not rotated for 91 days (limit 90)"),
        ("aws/bob/access_key_1", "not rotated for 91 days (limit 90) and never used in the 91 days since it was issued"),
        ("gitlab/ci/deploy-token", "Active api-token deploy-token of gitlab account ci"),
    ];
    expect(&g, "", AS_OF, "stale-credential", &defaults);

    let cfg = "[checks.stale-credential]\nmax_password_age_days = 365";
    expect(
        &g,
        cfg,
        AS_OF,
        "stale-credential",
        &[&defaults[..], &[("ad/erin/password", "Password of ad account erin is 400 days old (maximum 365)")]].concat(),
    );

    let cfg = "[checks.stale-credential]\ndays = 180";
    expect(&g, cfg, AS_OF, "stale-credential", &[("gitlab/ci/deploy-token", "(limit 180)")]);

    let subject = &findings(&g, "", AS_OF, "stale-credential")[0].subject;
    assert_eq!((subject.kind, subject.label.as_str()), (SubjectKind::Credential, "alice access_key_2"));
}

// ---------------------------------------------------------------------------------------
// root-account-use

#[test]
fn root_account_use() {
    let root = |system: &str| account(system, "<root_account>").root();
    let g = graph()
        .with(root("aws-keys").last_login(ago(200)).cred(key("access_key_1").rotated(ago(400)).used(ago(200))))
        .with(root("aws-30d").last_login(ago(30)))
        .with(root("aws-31d").last_login(ago(31)))
        .with(root("aws-both").last_login(ago(2)).cred(key("access_key_2").rotated(ago(5))))
        .with(root("aws-inactive-key").cred(key("access_key_1").inactive().rotated(ago(400))))
        .with(root("aws-cert").cred(key("cert_1").kind("certificate").rotated(ago(10))))
        .with(root("aws-no-info").login_unknown())
        .with(
            account("aws-keys", "deployer")
                .kind("service")
                .non_interactive()
                .last_login(ago(0))
                .cred(key("access_key_1").rotated(ago(1)).used(ago(0))),
        );
    let defaults = [
        ("aws-keys/<root_account>", "Root account of aws-keys has active access keys (access_key_1)"),
        ("aws-30d/<root_account>", "Root account of aws-30d was used 30 days ago (within 30 days)"),
        ("aws-both/<root_account>", "has active access keys (access_key_2) and was used 2 days ago"),
    ];
    expect(&g, "", AS_OF, "root-account-use", &defaults);
    let cfg = "[checks.root-account-use]\ndays = 60";
    let want = [
        ("aws-keys/<root_account>", ""),
        ("aws-30d/<root_account>", "was used 30 days ago (within 60 days)"),
        ("aws-31d/<root_account>", "was used 31 days ago (within 60 days)"),
        ("aws-both/<root_account>", ""),
    ];
    expect(&g, cfg, AS_OF, "root-account-use", &want);
}

// ---------------------------------------------------------------------------------------
// sod-conflict

const SOD: &str = r#"
[[sod.rules]]
id = "P2P-1"
description = "maintain vendors vs approve payments"
sides = [["erp:Vendor-*", "erp:AP-Clerk"], ["erp:AP-Approver"]]
mitigation = "monthly payment review"

[[sod.rules]]
id = "DEV-PROD"
description = "develop vs deploy"
severity = "critical"
sides = [["gitlab:Developer"], ["Deployer"]]
"#;

#[test]
fn sod_conflict() {
    let g = graph()
        // Both sides on one account.
        .with(person("S1").name("Sam", "One"))
        .with(account("erp", "s1").employee("S1"))
        .with(assignment("erp", "s1", "Vendor-Master"))
        .with(assignment("erp", "s1", "AP-Clerk"))
        .with(assignment("erp", "s1", "AP-Approver"))
        // Spread over two accounts of one person.
        .with(person("S2").name("Sue", "Two"))
        .with(account("erp", "s2").employee("S2"))
        .with(account("erp", "s2-adm").kind("admin").employee("S2"))
        .with(assignment("erp", "s2", "Vendor-Master"))
        .with(assignment("erp", "s2-adm", "AP-Approver"))
        // One side only.
        .with(person("S3"))
        .with(account("erp", "s3").employee("S3"))
        .with(assignment("erp", "s3", "AP-Clerk"))
        // The other side is on a disabled account.
        .with(person("S4"))
        .with(account("erp", "s4").employee("S4"))
        .with(account("erp", "s4-old").employee("S4").disabled())
        .with(assignment("erp", "s4", "AP-Clerk"))
        .with(assignment("erp", "s4-old", "AP-Approver"))
        // An account nobody is correlated to holds both on its own.
        .with(account("erp", "ghost"))
        .with(assignment("erp", "ghost", "Vendor-Bank"))
        .with(assignment("erp", "ghost", "AP-Approver"))
        // Across systems; a pattern without `system:` matches any system.
        .with(person("D1").name("Dev", "Ops"))
        .with(account("gitlab", "d1").employee("D1"))
        .with(account("argo", "d1").employee("D1"))
        .with(assignment("gitlab", "d1", "Developer"))
        .with(assignment("argo", "d1", "Deployer"));
    expect(
        &g,
        SOD,
        AS_OF,
        "sod-conflict",
        &[
            (
                "S1#P2P-1",
                "Sam One holds conflicting access under P2P-1 (maintain vendors vs approve payments): \
                 erp:Vendor-Master + erp:AP-Clerk vs erp:AP-Approver",
            ),
            ("S2#P2P-1", "erp:Vendor-Master vs erp:AP-Approver"),
            ("erp/ghost#P2P-1", "ghost holds conflicting access under P2P-1"),
            ("D1#DEV-PROD", "gitlab:Developer vs argo:Deployer"),
        ],
    );
    // Each finding carries its rule's severity (default high).
    let severities: Vec<(String, Severity)> = run(&g, SOD, AS_OF, "sod-conflict").into_iter().map(|(k, s, _)| (k, s)).collect();
    assert!(severities.contains(&("D1#DEV-PROD".to_string(), Severity::Critical)), "{severities:?}");
    assert!(severities.contains(&("S1#P2P-1".to_string(), Severity::High)), "{severities:?}");
    // The mitigation travels with the finding; the person's HR record is evidence.
    let f = findings(&g, SOD, AS_OF, "sod-conflict");
    let s2 = f.iter().find(|f| f.subject.key == "S2#P2P-1").expect("S2 finding");
    assert_eq!(s2.subject.kind, SubjectKind::Person);
    assert_eq!(s2.evidence.values["mitigation"], "monthly payment review");
    let records: Vec<(&str, &str)> = s2.evidence.records.iter().map(|r| (&*r.record, r.key.as_str())).collect();
    assert_eq!(records, [("person", "S2"), ("assignment", "erp/s2/Vendor-Master"), ("assignment", "erp/s2-adm/AP-Approver")]);
    // Without rules there is nothing to judge by: the check says so.
    assert_eq!(
        not_evaluated(&g, "", AS_OF, "sod-conflict").as_deref(),
        Some("no segregation-of-duties rules are configured (`sod.rules`)")
    );
    assert_eq!(not_evaluated(&g, SOD, AS_OF, "sod-conflict"), None);
}

// ---------------------------------------------------------------------------------------
// shared-account

#[test]
fn shared_account() {
    let g = graph()
        .with(person("E1").name("Ann", "Lee"))
        .with(person("E9").terminated())
        .with(account("ad", "test01")) // generic stem with a number
        .with(account("ad", "shared-ops")) // generic stem with a suffix
        .with(account("ad", "Helpdesk_2")) // any case
        .with(account("ad", "frontdesk").kind("shared")) // shared type, whatever the name
        .with(account("ad", "kiosk-left").username("kiosk-3").owner("E9")) // owner left: ownerless
        // Not shared-account findings.
        .with(account("ad", "testuser")) // not a generic stem (orphaned-account reports it)
        .with(account("ad", "admin-owned").username("admin").owner("E1"))
        .with(account("ad", "frontdesk-2").kind("shared").owner("E1"))
        .with(account("ad", "test02").disabled())
        .with(account("ad", "test-svc").kind("service"))
        .with(account("ad", "admin2").employee("E1")) // a person's account
        .with(account("aws", "<root_account>").root().username("admin"));
    let fragment = "has a generic name, belongs to no person and has no accountable owner";
    expect(
        &g,
        "",
        AS_OF,
        "shared-account",
        &[
            ("ad/test01", &format!("ad account test01 {fragment}")),
            ("ad/shared-ops", fragment),
            ("ad/Helpdesk_2", fragment),
            ("ad/frontdesk", "ad account frontdesk is a shared account, belongs to no person"),
            ("ad/kiosk-left", "ad account kiosk-3 has a generic name"),
        ],
    );
    let cfg = "[checks.shared-account]\ngeneric_names = [\"kiosk\"]";
    expect(&g, cfg, AS_OF, "shared-account", &[("ad/frontdesk", "is a shared account"), ("ad/kiosk-left", "")]);
}

// ---------------------------------------------------------------------------------------
// service-account-no-owner

#[test]
fn service_account_no_owner() {
    let g = graph()
        .with(person("E1").name("Ann", "Lee").email("ann.lee@corp.example"))
        .with(person("E2").status("leave"))
        .with(person("E9").terminated())
        .with(person("E5").email("ops@corp.example"))
        .with(person("E6").email("ops@corp.example"))
        .with(account("svc", "backup").kind("service"))
        .with(account("svc", "legacy").kind("service").owner("E9")) // owner left
        .with(account("svc", "typo").kind("service").owner("E404"))
        .with(account("svc", "ops").kind("service").owner("ops@corp.example")) // two people: nobody
        // Owned by an active person, by employee id or email (any case); on leave counts.
        .with(account("svc", "etl").kind("service").owner("E1"))
        .with(account("svc", "etl-mail").kind("service").owner("Ann.Lee@Corp.Example"))
        .with(account("svc", "report").kind("service").owner("E2"))
        // Not service accounts, or not enabled.
        .with(account("svc", "retired").kind("service").disabled())
        .with(account("svc", "frontdesk").kind("shared"))
        .with(account("svc", "human"));
    expect(
        &g,
        "",
        AS_OF,
        "service-account-no-owner",
        &[
            ("svc/backup", "Service account backup on svc has no owner"),
            ("svc/legacy", "Service account legacy on svc names owner E9, who is not an active person in the HR feed"),
            ("svc/typo", "names owner E404"),
            ("svc/ops", "names owner ops@corp.example"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// admin-not-separated

#[test]
fn admin_not_separated() {
    let g = graph()
        .with(person("E1").name("Ann", "Lee"))
        .with(person("E2"))
        .with(person("E3"))
        .with(account("ad", "alee").employee("E1"))
        .with(assignment("ad", "alee", "Domain Admins").privileged())
        .with(assignment("ad", "alee", "Staff"))
        // Separate admin account: as it should be.
        .with(account("ad", "adm-alee").kind("admin").employee("E1"))
        .with(assignment("ad", "adm-alee", "Domain Admins").privileged())
        .with(account("ad", "e2").employee("E2"))
        .with(assignment("ad", "e2", "Staff"))
        .with(account("ad", "e3-old").employee("E3").disabled())
        .with(assignment("ad", "e3-old", "Domain Admins").privileged())
        // Nobody's everyday account (orphaned-account reports it), and a service account.
        .with(account("ad", "ghost"))
        .with(assignment("ad", "ghost", "Domain Admins").privileged())
        .with(account("ad", "svc-backup").kind("service"))
        .with(assignment("ad", "svc-backup", "Backup Operators").privileged())
        // Privileged by configuration only.
        .with(account("erp", "e2").employee("E2"))
        .with(entitlement("erp", "GL-ADMIN"))
        .with(assignment("erp", "e2", "GL-ADMIN"));
    let alee = ("ad/alee", "Everyday account alee on ad holds privileged ad:Domain Admins; use a separate admin account");
    expect(&g, "", AS_OF, "admin-not-separated", &[alee]);
    let cfg = "[privileged]\nentitlements = [\"*:*-admin\"]";
    expect(&g, cfg, AS_OF, "admin-not-separated", &[alee, ("erp/e2", "holds privileged erp:GL-ADMIN")]);

    let f = findings(&g, "", AS_OF, "admin-not-separated");
    let records: Vec<(&str, &str)> = f[0].evidence.records.iter().map(|r| (&*r.record, r.key.as_str())).collect();
    assert_eq!(records, [("account", "ad/alee"), ("assignment", "ad/alee/Domain Admins")]);
}

// ---------------------------------------------------------------------------------------
// certification-overdue

#[test]
fn certification_overdue() {
    let g = graph()
        .with(person("E1"))
        .with(account("ad", "jdoe").employee("E1"))
        .with(assignment("ad", "jdoe", "Domain Admins").privileged().certified(ago(90)))
        .with(assignment("ad", "jdoe", "Schema Admins").privileged().certified(ago(91)))
        .with(assignment("ad", "jdoe", "Staff").certified(ago(365)))
        .with(assignment("ad", "jdoe", "VPN").certified(ago(366)))
        .with(assignment("ad", "jdoe", "Wiki").granted(ago(400))) // never certified: the grant dates it
        .with(assignment("ad", "jdoe", "Jira").granted(ago(1000)).certified(ago(10)))
        .with(assignment("ad", "jdoe", "Undated"))
        .with(account("ad", "gone").disabled())
        .with(assignment("ad", "gone", "VPN").certified(ago(1000)))
        .with(assignment("ad", "nobody", "VPN").certified(ago(1000))); // account not in the graph
                                                                       // One finding per account (the review of its access), covering every overdue assignment.
    let defaults = [("ad/jdoe", "3 entitlements (1 privileged) on ad account jdoe are overdue for certification: Schema Admins, VPN and Wiki; the oldest was last certified or granted on 2025-02-25")];
    expect(&g, "", AS_OF, "certification-overdue", &defaults);
    assert_eq!(covered(&g, "", AS_OF, "certification-overdue"), [cover("ad/jdoe", Severity::High, &["Schema Admins", "VPN", "Wiki"])]);
    let f = &findings(&g, "", AS_OF, "certification-overdue")[0];
    // Each assignment by its dates (not its age: the evidence stays the same from day to day).
    let details: Vec<String> = f.evidence.all_values()["assignments"].as_array().expect("details").iter().map(|v| v.to_string()).collect();
    assert_eq!(
        details,
        [
            r#"{"entitlement":"Schema Admins","last_certified_at":"2025-12-31T00:00:00Z","last_certified_by":"reviewer","privileged":true}"#,
            r#"{"entitlement":"VPN","last_certified_at":"2025-03-31T00:00:00Z","last_certified_by":"reviewer"}"#,
            r#"{"entitlement":"Wiki","granted_at":"2025-02-25T00:00:00Z"}"#,
        ]
    );

    let cfg = "[checks.certification-overdue]\ninclude_undated = true";
    assert_eq!(
        covered(&g, cfg, AS_OF, "certification-overdue"),
        [cover("ad/jdoe", Severity::High, &["Schema Admins", "Undated", "VPN", "Wiki"])]
    );

    // One overdue assignment: the finding says it as it is.
    let cfg = "[checks.certification-overdue]\nprivileged_days = 30\nstandard_days = 400";
    expect(
        &g,
        cfg,
        AS_OF,
        "certification-overdue",
        &[("ad/jdoe", "2 entitlements (2 privileged) on ad account jdoe are overdue for certification: Domain Admins and Schema Admins")],
    );
    let cfg = "[checks.certification-overdue]\nprivileged_days = 365\nstandard_days = 399";
    expect(
        &g,
        cfg,
        AS_OF,
        "certification-overdue",
        &[("ad/jdoe", "Wiki on ad account jdoe was granted on 2025-02-25 and never certified, over its standard interval of 399 days")],
    );

    // Privileged assignments make the account's finding at least high, whatever the
    // configured severity; without them, it has the check's.
    let severity_of = |cfg: &str| -> Vec<(String, Severity)> {
        run(&g, cfg, AS_OF, "certification-overdue").into_iter().map(|(k, s, _)| (k, s)).collect()
    };
    let s = |k: &str, sev| (k.to_string(), sev);
    assert_eq!(severity_of(""), [s("ad/jdoe", Severity::High)]);
    assert_eq!(severity_of("[checks.certification-overdue]\nseverity = \"low\""), [s("ad/jdoe", Severity::High)]);
    assert_eq!(severity_of("[checks.certification-overdue]\nseverity = \"low\"\nprivileged_days = 365"), [s("ad/jdoe", Severity::Low)]);
}

/// A finding per account keeps its id while the assignments it covers change, and its
/// evidence follows them.
#[test]
fn a_finding_per_account_keeps_its_id_as_its_assignments_change() {
    let base = graph()
        .with(account("ad", "jdoe"))
        .with(assignment("ad", "jdoe", "VPN").granted(ago(500)))
        .with(assignment("ad", "jdoe", "Wiki").granted(ago(600)));
    let more = base.clone().with(assignment("ad", "jdoe", "Jira").granted(ago(700)));
    let before = &findings(&base, "", AS_OF, "certification-overdue")[0];
    let after = &findings(&more, "", AS_OF, "certification-overdue")[0];
    assert_eq!(before.id, after.id);
    assert_ne!(before.evidence, after.evidence);
    assert_eq!(after.evidence.all_values()["count"], 3);
    let again = &findings(&base, "", AS_OF, "certification-overdue")[0];
    assert_eq!(before.evidence, again.evidence, "the same assignments, the same evidence");
    // A day later nothing changed: the finding says the same (dates, not ages), so a daily
    // audit stores nothing new for it.
    let tomorrow = &findings(&base, "", "2026-04-02T00:00:00Z", "certification-overdue")[0];
    assert_eq!((&tomorrow.message, tomorrow.evidence.all_values()), (&before.message, before.evidence.all_values()));
}

/// An account with many overdue assignments names a few and counts the rest; its evidence
/// holds them all.
#[test]
fn a_finding_over_many_assignments_names_a_few() {
    let mut g = graph().with(account("app", "ann@example.com"));
    for i in 0..40 {
        g = g.with(assignment("app", "ann@example.com", &format!("team/{i:02}")).granted(ago(800)));
    }
    let f = &findings(&g, "", AS_OF, "certification-overdue")[0];
    assert!(
        f.message.starts_with("40 entitlements on app account ann@example.com are overdue for certification: team/00, team/01, team/02, team/03, team/04 and 35 more"),
        "{}",
        f.message
    );
    assert_eq!(f.evidence.all_values()["entitlements"].as_array().map(Vec::len), Some(40));
}

/// certification-overdue runs in parts over consecutive accounts (a core each): every
/// account with overdue access still gets exactly one finding, those at the edges of the
/// parts too, whatever the number of accounts.
#[test]
fn a_check_run_in_parts_reports_each_account_once() {
    for n in [1, 7, 8, 9, 37] {
        let mut g = graph();
        let mut want = Vec::new();
        for i in 0..n {
            let id = match i % 3 {
                0 => format!("åsa.berg{i}@example.com"),
                1 => format!("CORP\\jdoe{i}"),
                _ => format!("user{i}"),
            };
            let disabled = i % 5 == 4;
            g = g.with(if disabled { account("app", &id).disabled() } else { account("app", &id) });
            g = g.with(assignment("app", &id, "team/ops").granted(ago(800))).with(assignment("app", &id, "Zoë's").granted(ago(900)));
            if !disabled {
                want.push(annexa_core::key::join(&["app", &id]));
            }
        }
        let mut got: Vec<String> = findings(&g, "", AS_OF, "certification-overdue").into_iter().map(|f| f.subject.key).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{n} accounts");
    }
}

// ---------------------------------------------------------------------------------------
// unexplained-access

/// What the checks that judge by the role model say without one.
const NO_ROLE_MODEL: &str = "no role model: no birthright rules give roles to people (`birthright` and `roles`)";

const ROLES: &str = r#"
[[roles]]
id = "eng-base"
entitlements = ["ad:Engineering", "gitlab:*"]

[[roles]]
id = "vpn"
entitlements = ["VPN"]

[[birthright]]
id = "engineers"
when = { department = "Eng*", worker_type = "employee" }
roles = ["eng-base"]

[[birthright]]
id = "everyone-vpn"
roles = ["vpn"]
"#;

#[test]
fn unexplained_access() {
    let g = graph()
        .with(person("E1").name("Ann", "Lee").department("Engineering"))
        .with(person("C1").name("Con", "Tractor").department("Engineering").worker("contractor"))
        .with(person("S1").name("Sal", "Es").department("Sales"))
        .with(account("ad", "e1").employee("E1"))
        .with(account("gitlab", "e1").employee("E1"))
        .with(account("ad", "e1-old").employee("E1").disabled())
        .with(account("ad", "c1").employee("C1"))
        .with(account("ad", "s1").employee("S1"))
        .with(account("ad", "svc").kind("service"))
        .with(account("ad", "ghost"))
        // Explained: birthright rules (by attribute, or for everyone), an approved request.
        .with(assignment("ad", "e1", "Engineering").source("birthright"))
        .with(assignment("gitlab", "e1", "Maintainer").source("manual"))
        .with(assignment("ad", "e1", "VPN"))
        .with(assignment("ad", "e1", "Finance").source("request").granted_by("mgr@corp.example"))
        // Unexplained.
        .with(assignment("ad", "e1", "Payroll").source("request"))
        .with(assignment("ad", "e1", "Legacy").source("manual"))
        .with(assignment("ad", "e1", "Mystery"))
        .with(assignment("ad", "c1", "Engineering").source("birthright")) // the rule is for employees
        .with(assignment("ad", "s1", "Engineering").source("birthright")) // and for Eng*
        // Not judged: service account, nobody's account, disabled account.
        .with(assignment("ad", "svc", "Legacy").source("manual"))
        .with(assignment("ad", "ghost", "Legacy").source("manual"))
        .with(assignment("ad", "e1-old", "Legacy").source("manual"));
    expect(
        &g,
        ROLES,
        AS_OF,
        "unexplained-access",
        &[
            ("ad/e1", "3 entitlements on ad account e1 of Ann Lee have no role, birthright rule or approved request behind them: Legacy, Mystery and Payroll"),
            ("ad/c1", "Engineering on ad account c1 of Con Tractor is marked birthright, but no birthright rule gives it to this person"),
            ("ad/s1", "Engineering on ad account s1 of Sal Es is marked birthright"),
        ],
    );
    let f = findings(&g, ROLES, AS_OF, "unexplained-access");
    let f: Vec<_> = f.into_iter().filter(|f| f.subject.key == "ad/e1").collect();
    let values = f[0].evidence.all_values();
    let why: Vec<(&str, &str)> = values["assignments"]
        .as_array()
        .map(|a| a.iter().map(|v| (v["entitlement"].as_str().unwrap_or(""), v["source"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    assert_eq!(f[0].subject.key, "ad/e1");
    assert_eq!(why, [("Legacy", "manual"), ("Mystery", "unknown"), ("Payroll", "request")]);
    assert_eq!(f[0].evidence.records.last().map(|r| &*r.record), Some("person"), "the person's record too");
    // Without birthright rules there is no role model to judge by: the check says so once
    // instead of reporting every assignment.
    assert_eq!(not_evaluated(&g, "", AS_OF, "unexplained-access").as_deref(), Some(NO_ROLE_MODEL));
    assert_eq!(
        not_evaluated(&g, "[[roles]]\nid = \"r\"\nentitlements = [\"ad:*\"]\n", AS_OF, "unexplained-access").as_deref(),
        Some(NO_ROLE_MODEL)
    );
    assert_eq!(not_evaluated(&g, ROLES, AS_OF, "unexplained-access"), None);
}

/// Hundreds of birthright rules are told apart exactly: the rule that applies explains its
/// entitlement, and the ones that do not apply explain nothing.
#[test]
fn unexplained_access_with_many_birthright_rules() {
    let mut config = String::new();
    for i in 0..300 {
        config.push_str(&format!(
            "[[roles]]\nid = \"r{i}\"\nentitlements = [\"ad:G{i}\"]\n\n[[birthright]]\nid = \"b{i}\"\nwhen = {{ department = \"D{i}\" }}\nroles = [\"r{i}\"]\n\n"
        ));
    }
    let g = graph()
        .with(person("E1").department("D250"))
        .with(account("ad", "e1").employee("E1"))
        .with(assignment("ad", "e1", "G250"))
        .with(assignment("ad", "e1", "G200"))
        .with(assignment("ad", "e1", "G10"));
    assert_eq!(covered(&g, &config, AS_OF, "unexplained-access"), [cover("ad/e1", Severity::Medium, &["G10", "G200"])]);
}

// ---------------------------------------------------------------------------------------
// privilege-outlier

/// A peer group (department Ops, title SRE): person `P<n>` holds `counts[n-1]` privileged
/// entitlements on account `ad/p<n>`.
fn peers(counts: &[usize]) -> Graph {
    let mut g = graph();
    for (i, n) in counts.iter().enumerate() {
        let id = format!("P{}", i + 1);
        let acc = id.to_lowercase();
        g = g.with(person(&id).department("Ops").title("SRE")).with(account("ad", &acc).employee(&id));
        for k in 0..*n {
            g = g.with(assignment("ad", &acc, &format!("Priv-{k}")).privileged());
        }
    }
    g
}

#[test]
fn privilege_outlier_thresholds() {
    let p = "[checks.privilege-outlier]\n";
    let cases: &[(&[usize], String, &[&str])] = &[
        // Median 1, factor 3: more than 3 is an outlier.
        (&[1, 1, 1, 3, 4], String::new(), &["P5"]),
        (&[1, 1, 1, 3, 4], format!("{p}factor = 2.0"), &["P4", "P5"]),
        (&[2, 2, 2, 2, 6], String::new(), &[]),
        (&[2, 2, 2, 2, 7], String::new(), &["P5"]),
        // A median of 0 counts as 1.
        (&[0, 0, 0, 0, 3], String::new(), &[]),
        (&[0, 0, 0, 0, 4], String::new(), &["P5"]),
        // Fewer than min_privileged (3) is never an outlier.
        (&[0, 0, 0, 0, 2], format!("{p}factor = 1.5"), &[]),
        (&[0, 0, 0, 0, 2], format!("{p}factor = 1.5\nmin_privileged = 2"), &["P5"]),
        // Groups smaller than min_peers (5) are not compared.
        (&[0, 0, 0, 10], String::new(), &[]),
        (&[0, 0, 0, 10], format!("{p}min_peers = 4"), &["P4"]),
    ];
    for (counts, cfg, want) in cases {
        assert_eq!(keys(&peers(counts), cfg, AS_OF, "privilege-outlier"), *want, "counts {counts:?}, config {cfg:?}");
    }
    expect(
        &peers(&[1, 1, 1, 3, 4]),
        "",
        AS_OF,
        "privilege-outlier",
        &[("P5", "P5 holds 4 privileged entitlements; peers (SRE, Ops, 5 people) hold a median of 1")],
    );
}

#[test]
fn privilege_outlier_peer_groups() {
    let ops_sre = || person("P9").department("Ops").title("SRE");
    let cases: &[(&str, Graph, &[&str])] = &[
        ("a fifth peer makes the group comparable", peers(&[1, 1, 1, 10]).with(ops_sre()), &["P4"]),
        ("a terminated peer does not count", peers(&[1, 1, 1, 10]).with(ops_sre().terminated()), &[]),
        ("another title is another group", peers(&[1, 1, 1, 10]).with(ops_sre().title("Manager")), &[]),
        ("a disabled account's entitlements do not count", with_admin_account(peers(&[1, 1, 1, 1, 1]), 5, true), &[]),
        ("an enabled admin account's do", with_admin_account(peers(&[1, 1, 1, 1, 1]), 5, false), &["P5"]),
        ("the same entitlement on two accounts counts once", with_admin_account(peers(&[1, 1, 1, 1, 3]), 3, false), &[]),
    ];
    for (what, g, want) in cases {
        assert_eq!(keys(g, "", AS_OF, "privilege-outlier"), *want, "{what}");
    }
}

/// Gives P5 an admin account `ad/p5-adm` holding privileged `Priv-0` .. `Priv-{n-1}`.
fn with_admin_account(g: Graph, n: usize, disabled: bool) -> Graph {
    let adm = account("ad", "p5-adm").kind("admin").employee("P5");
    let mut g = g.with(if disabled { adm.disabled() } else { adm });
    for k in 0..n {
        g = g.with(assignment("ad", "p5-adm", &format!("Priv-{k}")).privileged());
    }
    g
}

// ---------------------------------------------------------------------------------------
// contractor-no-end-date

#[test]
fn contractor_no_end_date() {
    let g = graph()
        .with(person("C1").name("Con", "Tractor").worker("contractor"))
        .with(person("V1").name("Ven", "Dor").worker("vendor"))
        .with(person("C2").name("Over", "Due").worker("contractor").ends("2026-03-31")) // yesterday
        .with(person("C3").worker("contractor").ends("2026-04-01")) // today: still theirs
        .with(person("C4").worker("contractor").ends("2026-09-30"))
        .with(person("C5").name("On", "Leave").worker("contractor").status("leave"))
        .with(person("C6").worker("contractor").terminated())
        .with(person("E1"));
    expect(
        &g,
        "",
        AS_OF,
        "contractor-no-end-date",
        &[
            ("C1", "contractor Con Tractor has no end date"),
            ("V1", "vendor Ven Dor has no end date"),
            ("C2", "contractor Over Due is still active in HR, past the end date 2026-03-31"),
            ("C5", "contractor On Leave has no end date"),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Correlation

/// Each account's person and how it was found, as `E1 by EmployeeId`, or `-`.
fn correlations(g: &Graph, config_toml: &str) -> Vec<(String, String)> {
    let config = config(config_toml);
    let ctx = Context::new(&g.0, &config, at(AS_OF));
    g.0.accounts
        .iter()
        .zip(&ctx.correlation)
        .map(|(a, c)| {
            let who = match c {
                Some(c) => format!("{} by {:?}", g.0.people[c.person].employee_id, c.method),
                None => "-".to_string(),
            };
            (a.key(), who)
        })
        .collect()
}

#[test]
fn correlation_by_employee_id_then_email_then_username() {
    let g = graph()
        .with(person("E1").name("John", "Doe").email("john.doe@corp.example"))
        .with(person("E2").name("Jane", "Doe").email("jane@corp.example"))
        .with(person("E3").name("Sean", "O'Brien"))
        .with(person("E4").name("Alice", "Smith"))
        .with(person("E5").name("Adam", "Smith"))
        .with(person("E6").name("Kim", "Ng").email("team@corp.example"))
        .with(person("E7").name("Lee", "Ng").email("team@corp.example"))
        .with(person("E8").name("\u{c5}sa", "Berg").email("A\u{30a}SA.BERG@example.com"));
    let table = [
        (account("ad", "by-id").employee("E1").email("jane@corp.example"), "E1 by EmployeeId"),
        (account("ad", "by-email").employee("E404").email("Jane@Corp.Example"), "E2 by Email"),
        (account("ad", "john.doe"), "E1 by Username(0)"),
        (account("ad", "sean.obrien"), "E3 by Username(0)"),
        (account("ad", "sobrien"), "E3 by Username(1)"),
        (account("ad", "dom").username("CORP\\SOBrien"), "E3 by Username(1)"),
        // A login that is an e-mail address stands for the account's missing e-mail, compared
        // ignoring case and Unicode forms; when it is no one's, the username rules still apply.
        (account("ad", "upn").username("John.Doe@corp.example"), "E1 by LoginEmail"),
        (account("aws", "asa").username("\u{c5}SA.Berg@Example.com"), "E8 by LoginEmail"),
        (account("aws", "sean").username("sean.obrien@corp.example"), "E3 by Username(0)"),
        (account("okta", "team-login").username("team@corp.example"), "-"),
        (account("ad", "alice.smith"), "E4 by Username(0)"),
        (account("ad", "adm").kind("admin").employee("E1"), "E1 by EmployeeId"),
        // Ambiguous: John/Jane Doe, Alice/Adam Smith; an email two people share.
        (account("ad", "jdoe"), "-"),
        (account("ad", "asmith"), "-"),
        (account("ad", "team").email("team@corp.example").username("kim.ng"), "-"),
        // Non-personal accounts belong to no person, whatever they carry.
        (account("ad", "svc").kind("service").employee("E1"), "-"),
        (account("ad", "frontdesk").kind("shared").email("john.doe@corp.example"), "-"),
        (account("aws", "<root_account>").root().employee("E1"), "-"),
        (account("ad", "nobody"), "-"),
    ];
    let mut want = Vec::new();
    let mut g = g;
    for (b, who) in table {
        want.push((b.key(), who.to_string()));
        g = g.with(b);
    }
    assert_eq!(correlations(&g, ""), want);
}

#[test]
fn correlation_by_configured_username_patterns() {
    let g = graph()
        .with(person("E6").name("Kim", "Ng"))
        .with(person("E7").name("Lee", "Ng"))
        .with(person("E8").name("Ng", "Tran"))
        .with(account("ad", "ng")) // ambiguous under rule 0: never falls through to rule 1 (E8)
        .with(account("ad", "kim"))
        .with(account("ad", "e8"))
        .with(account("ad", "kim.ng")); // the default rules no longer apply
    let cfg = "[correlation]\nusername_patterns = [\"{family}\", \"{given}\", \"{employee_id}\"]";
    let want = [("ad/ng", "-"), ("ad/kim", "E6 by Username(1)"), ("ad/e8", "E8 by Username(2)"), ("ad/kim.ng", "-")];
    let want: Vec<(String, String)> = want.iter().map(|(k, w)| (k.to_string(), w.to_string())).collect();
    assert_eq!(correlations(&g, cfg), want);
    // Method names are what evidence and JSON output show.
    assert_eq!(serde_json::to_value(Method::EmployeeId).expect("serialises"), "employee-id");
}

// ---------------------------------------------------------------------------------------
// The audit as a whole: selection, overrides, ids, evidence, determinism

/// A small estate on which every built-in check finds something (with [`SOD`]).
fn estate() -> Graph {
    peers(&[1, 1, 1, 1, 5]) // P5 is a privilege outlier
        .with(import(7, "ldif", "corp.ldif"))
        .with(person("E1").name("Ann", "Lee"))
        .with(account("ad", "alee").employee("E1").mfa("totp").last_login(ago(1)))
        .with(assignment("ad", "alee", "Domain Admins").privileged().certified(ago(200)))
        .with(assignment("ad", "alee", "Legacy").source("manual").granted(ago(10)))
        .with(account("ad", "ghost").employee("E404").origin(ACCOUNTS, 42).last_login(ago(200)))
        .with(account("dir", "old").origin(7, 9).last_login(ago(150)))
        .with(person("T1").name("Lea", "Ver").terminated_on("2026-03-01").origin(HR, 17))
        .with(account("ad", "lver").employee("T1").last_login(ago(40)))
        .with(badge("B1", "T1"))
        .with(account("idp", "nomfa").employee("E1").mfa("none"))
        .with(account("aws", "ci").kind("service").owner("E1").non_interactive().cred(key("access_key_1").rotated(ago(200))))
        .with(account("aws", "<root_account>").root().mfa("fido2").last_login(ago(2)))
        .with(person("S1").name("Sam", "One"))
        .with(account("erp", "s1").employee("S1"))
        .with(assignment("erp", "s1", "AP-Clerk").source("request").granted_by("mgr"))
        .with(assignment("erp", "s1", "AP-Approver").source("request").granted_by("mgr"))
        .with(account("ad", "test01").kind("shared"))
        .with(account("svc", "backup").kind("service"))
        .with(person("C1").name("Con", "Tractor").worker("contractor"))
}

/// The configuration the estate is audited with: SoD rules and a role model.
fn estate_config() -> String {
    format!("{SOD}\n[[roles]]\nid = \"staff\"\nentitlements = [\"ad:Staff\"]\n\n[[birthright]]\nid = \"everyone\"\nroles = [\"staff\"]\n")
}

#[test]
fn every_check_finds_something_in_the_estate() {
    let result = audit(&estate(), &estate_config(), AS_OF, &[]);
    assert!(result.not_evaluated.is_empty(), "{:?}", result.not_evaluated);
    // log-integrity and revocation-not-fulfilled judge Annexa's own records (the ledger, the
    // campaigns' decisions), which only `audit_stream` is given.
    let own = |id: &str| matches!(id, "log-integrity" | "revocation-not-fulfilled");
    let all: Vec<&str> = CHECKS.iter().map(|c| c.id).filter(|id| !own(id)).collect();
    assert_eq!(result.checks_run, all);
    assert_eq!(all.len(), 17);
    // The estate has no second HR snapshot: the mover checks have their own tests below.
    for c in CHECKS.iter().filter(|c| !own(c.id) && !matches!(c.id, "mover-residual-access" | "mover-access-review")) {
        let n = result.findings.iter().filter(|f| f.check == c.id).count();
        assert!(n > 0, "{} found nothing", c.id);
        // Findings carry the registry's controls.
        let f = result.findings.iter().find(|f| f.check == c.id).expect("a finding");
        assert_eq!(f.controls, c.controls, "{}", c.id);
    }
    // Grouped by check in registry order, then by subject key.
    let order: Vec<(usize, &str)> = result
        .findings
        .iter()
        .map(|f| (CHECKS.iter().position(|c| c.id == f.check).expect("a registry check"), f.subject.key.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn a_parameter_override_changes_the_result() {
    let g = graph().with(account("ad", "idle-45d").last_login(ago(45)));
    expect(&g, "", AS_OF, "dormant-account", &[]);
    expect(&g, "[checks.dormant-account]\ndays = 30", AS_OF, "dormant-account", &[("ad/idle-45d", "(limit 30)")]);
}

#[test]
fn severity_override() {
    let g = graph().with(account("ad", "idle").last_login(ago(100)));
    let severity = |cfg: &str| run(&g, cfg, AS_OF, "dormant-account")[0].1;
    assert_eq!(severity(""), Severity::Medium);
    assert_eq!(severity("[checks.dormant-account]\nseverity = \"high\""), Severity::High);
    // Every check's default severity is the registry's.
    let result = audit(&estate(), &estate_config(), AS_OF, &[]);
    for c in CHECKS.iter().filter(|c| !matches!(c.id, "sod-conflict" | "certification-overdue")) {
        for f in result.findings.iter().filter(|f| f.check == c.id) {
            assert_eq!(f.severity, c.default_severity, "{} on {}", c.id, f.subject.key);
        }
    }
}

#[test]
fn selection_runs_only_the_selected_checks() {
    let g = estate();
    let result = audit(&g, &estate_config(), AS_OF, &["mfa-missing", "dormant-account"]);
    assert_eq!(result.checks_run, ["dormant-account", "mfa-missing"]); // registry order
    assert!(result.findings.iter().all(|f| f.check == "dormant-account" || f.check == "mfa-missing"));
    assert!(result.findings.iter().any(|f| f.check == "mfa-missing"));
    assert_eq!(result.parameters.keys().collect::<Vec<_>>(), ["dormant-account", "mfa-missing"]);

    // A check disabled in the configuration does not run by default, but does when selected.
    let off = format!("{}\n[checks.dormant-account]\nenabled = false\n", estate_config());
    let result = audit(&g, &off, AS_OF, &[]);
    assert_eq!(result.checks_run.len(), 16);
    assert!(!result.checks_run.iter().any(|c| c == "dormant-account"));
    assert!(!result.findings.iter().any(|f| f.check == "dormant-account"));
    let result = audit(&g, &off, AS_OF, &["dormant-account"]);
    assert_eq!(result.checks_run, ["dormant-account"]);
    assert!(!result.findings.is_empty());
}

#[test]
fn an_unknown_check_is_an_error() {
    let g = estate();
    let selected = ["dormant-account".to_string(), "dormant-acount".to_string()];
    let err = annexa_engine::audit(&g.0, &config(""), at(AS_OF), &selected).expect_err("unknown check");
    assert_eq!(err.0, "dormant-acount");
    let message = err.to_string();
    assert!(
        message.starts_with("unknown check \"dormant-acount\": expected one of orphaned-account, leaver-access, dormant-account"),
        "{message}"
    );
}

#[test]
fn finding_ids_are_stable_and_output_is_deterministic() {
    let g = estate();
    let first = audit(&g, SOD, AS_OF, &[]).findings;
    let second = audit(&g, SOD, AS_OF, &[]).findings;
    assert_eq!(first, second, "same input, same findings");
    let mut ids: Vec<&str> = first.iter().map(|f| f.id.as_str()).collect();
    for f in &first {
        assert_eq!(f.id, finding_id(&f.check, &f.subject.key));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), first.len(), "ids are unique within a run");
    // The same records in another order give the same findings, in the same order.
    let reordered = audit(&g.reversed(), SOD, AS_OF, &[]).findings;
    let id_list = |fs: &[annexa_core::finding::Finding]| fs.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(id_list(&reordered), id_list(&first));
    // A later run: the same problem keeps its id.
    let later = audit(&g, SOD, "2026-04-15T00:00:00Z", &[]).findings;
    let dormant = |fs: &[annexa_core::finding::Finding]| {
        fs.iter().find(|f| f.check == "dormant-account" && f.subject.key == "ad/ghost").map(|f| f.id.clone())
    };
    assert_eq!(dormant(&later), dormant(&first));
    assert!(dormant(&first).is_some());
}

#[test]
fn evidence_carries_the_source_record_parameters_and_time() {
    let g = estate();
    let result = audit(&g, SOD, AS_OF, &[]);
    let find = |check: &str, key: &str| {
        result.findings.iter().find(|f| f.check == check && f.subject.key == key).unwrap_or_else(|| panic!("{check} on {key}"))
    };

    let f = find("dormant-account", "ad/ghost");
    let record = SourceRecord {
        record: "account".into(),
        key: "ad/ghost".to_string(),
        import_id: ACCOUNTS,
        file: "accounts.csv".to_string(),
        sha256: sha_of(ACCOUNTS),
        line: 42,
    };
    assert_eq!(f.evidence.records, [record]);
    assert_eq!(
        serde_json::Value::Object(f.evidence.parameters.clone()),
        serde_json::json!({ "days": 90, "directory_slack_days": 14, "include_service": false })
    );
    assert_eq!(f.evidence.values["days_since_login"], 200);
    assert_eq!(f.evidence.values["limit_days"], 90);
    assert_eq!(f.evidence.as_of, Some(at(AS_OF)));
    assert_eq!(result.parameters["dormant-account"], serde_json::Value::Object(f.evidence.parameters.clone()));
    assert_eq!(f.controls, ["A.5.18", "A.8.2"]);

    // An LDIF record names the LDIF file.
    let f = find("dormant-account", "dir/old");
    assert_eq!((f.evidence.records[0].file.as_str(), f.evidence.records[0].line), ("corp.ldif", 9));
    assert_eq!(f.evidence.values["limit_days"], 104);

    // A leaver finding rests on the HR row and the account row.
    let f = find("leaver-access", "ad/lver");
    let records: Vec<(&str, &str, &str, u32)> =
        f.evidence.records.iter().map(|r| (&*r.record, r.key.as_str(), r.file.as_str(), r.line)).collect();
    let account_line = g.0.accounts.iter().find(|a| a.key() == "ad/lver").expect("lver").origin.line;
    assert_eq!(records, [("person", "T1", "hr.csv", 17), ("account", "ad/lver", "accounts.csv", account_line)]);
    assert_eq!(f.evidence.records[0].sha256, sha_of(HR));
    assert_eq!(f.evidence.parameters["sla_hours"], 24);
    assert_eq!(f.evidence.values["left_at"], "2026-03-02T00:00:00Z");
    assert_eq!(f.controls, ["A.5.18", "A.6.5", "A.7.2"]);
    let f = find("leaver-access", "badge/B1");
    assert_eq!((f.evidence.records[1].file.as_str(), f.evidence.records[1].sha256.as_str()), ("badges.csv", sha_of(BADGES).as_str()));

    // An overridden severity is among the parameters in force.
    let result = audit(&g, "[checks.mfa-missing]\nseverity = \"critical\"", AS_OF, &["mfa-missing"]);
    assert_eq!(result.findings[0].evidence.parameters["severity"], "critical");
    assert_eq!(result.findings[0].severity, Severity::Critical);
}

// ---------------------------------------------------------------------------------------
// log-integrity

#[test]
fn log_integrity_judges_the_ledger_status() {
    use annexa_engine::LedgerStatus;
    let run = |status: LedgerStatus, config_toml: &str| {
        let result = annexa_engine::audit_with_ledger(&graph().0, &config(config_toml), at(AS_OF), &[], Some(status))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(result.checks_run.iter().any(|c| c == "log-integrity"));
        result.findings.into_iter().filter(|f| f.check == "log-integrity").map(|f| (f.severity, f.message)).collect::<Vec<_>>()
    };
    let fresh = Some((10, at(AS_OF) - chrono::Duration::hours(23)));
    let stale = Some((10, at(AS_OF) - chrono::Duration::hours(25)));
    let status =
        |problem: Option<&str>, newest, entries| LedgerStatus { entries, problem: problem.map(String::from), newest_checkpoint: newest };
    assert!(run(status(None, fresh, 12), "").is_empty(), "a recent checkpoint is fine");
    assert!(run(status(None, None, 0), "").is_empty(), "an empty ledger is fine");
    let tampered = run(status(Some("entry 3 was changed"), fresh, 12), "");
    assert_eq!(tampered.len(), 1);
    assert_eq!(tampered[0].0, Severity::Critical);
    assert!(tampered[0].1.contains("does not verify: entry 3 was changed"), "{}", tampered[0].1);
    let old = run(status(None, stale, 12), "");
    assert_eq!(old[0].0, Severity::High, "a stale checkpoint is at most high");
    assert!(old[0].1.contains("25 hours old (limit 24)"), "{}", old[0].1);
    assert!(run(status(None, stale, 12), "[checks.log-integrity]\nmax_checkpoint_age_hours = 48\n").is_empty());
    assert!(run(status(None, None, 5), "")[0].1.contains("5 entries and no signed checkpoint"));
}

// ---------------------------------------------------------------------------------------
// mover-residual-access

/// `id` moved from Sales to Eng `days` before [`AS_OF`].
fn moved(id: &str, days: i64) -> annexa_core::model::JmlEvent {
    use annexa_core::model::{AttributeChange, JmlEvent, JmlKind};
    JmlEvent {
        id: format!("J-{id}"),
        kind: JmlKind::Mover,
        employee_id: id.into(),
        effective_at: at(AS_OF) - chrono::Duration::days(days),
        detected_at: at(AS_OF) - chrono::Duration::days(days),
        changes: vec![AttributeChange { attribute: "department".into(), before: "Sales".into(), after: "Eng".into() }],
        reason: "department changed".into(),
    }
}

#[test]
fn mover_residual_access() {
    const RULES: &str = "[[roles]]\nid = \"sales\"\nentitlements = [\"crm:sales-*\"]\n\n[[roles]]\nid = \"eng\"\nentitlements = [\"git:dev\", \"crm:sales-read\"]\n\n\
                         [[birthright]]\nid = \"sales\"\nwhen = { department = \"Sales\" }\nroles = [\"sales\"]\n\n\
                         [[birthright]]\nid = \"eng\"\nwhen = { department = \"Eng\" }\nroles = [\"eng\"]\n";
    let mut g = graph()
        .with(person("E1").name("Ada", "Lee").department("Eng"))
        .with(person("E2").name("Bo", "Day").department("Eng"))
        .with(account("crm", "ada").employee("E1"))
        .with(account("crm", "bo").employee("E2"))
        .with(account("crm", "ada-old").employee("E1").disabled())
        .with(assignment("crm", "ada", "sales-team").source("birthright"))
        .with(assignment("crm", "ada", "sales-read").source("birthright")) // the new position gives it too
        .with(assignment("crm", "ada", "sales-leads").source("request").granted_by("mgr")) // decided to keep
        .with(assignment("crm", "ada-old", "sales-team").source("birthright")) // disabled account
        .with(assignment("crm", "bo", "sales-team").source("birthright")); // moved within the grace period
    g.0.movers = vec![moved("E1", 20), moved("E2", 10)];
    expect(
        &g,
        RULES,
        AS_OF,
        "mover-residual-access",
        &[("crm/ada", "Ada Lee moved 20 days ago (department Sales → Eng) and still holds crm:sales-team, which only their old position's birthright gave")],
    );
    // Several such assignments on one account: one finding, covering them all.
    let two = g.clone().with(assignment("crm", "ada", "sales-forecast").source("birthright"));
    expect(&two, RULES, AS_OF, "mover-residual-access", &[("crm/ada", "Ada Lee moved 20 days ago (department Sales → Eng) and crm account ada still holds 2 entitlements that only their old position's birthright gave: sales-forecast and sales-team")]);
    assert_eq!(
        covered(&two, RULES, AS_OF, "mover-residual-access"),
        [cover("crm/ada", Severity::Medium, &["sales-forecast", "sales-team"])]
    );
    let f = &findings(&two, RULES, AS_OF, "mover-residual-access")[0];
    assert_eq!((f.evidence.values["event"].as_str(), f.evidence.values["days_since_move"].as_i64()), (Some("J-E1"), Some(20)));
    // Without birthright rules, what the old position gave is unknown.
    assert_eq!(not_evaluated(&g, "", AS_OF, "mover-residual-access").as_deref(), Some(NO_ROLE_MODEL));
    // A longer grace period covers Ada too.
    assert!(keys(&g, &format!("{RULES}\n[checks.mover-residual-access]\ngrace_days = 30\n"), AS_OF, "mover-residual-access").is_empty());
    // The old position's birthright is not unexplained access: the lifecycle check owns it.
    assert!(keys(&g, RULES, AS_OF, "unexplained-access").is_empty());
}

// ---------------------------------------------------------------------------------------
// mover-access-review

#[test]
fn mover_access_review() {
    const RULES: &str = "[[roles]]\nid = \"eng\"\nentitlements = [\"git:dev\"]\n\n\
                         [[birthright]]\nid = \"eng\"\nwhen = { department = \"Eng\" }\nroles = [\"eng\"]\n";
    // Moves on 2026-02-20 (40 days before AS_OF) and 2026-03-12 (20 days before).
    let mut g = graph()
        .with(person("E1").name("Ada", "Lee").department("Eng"))
        .with(person("E2").name("Bo", "Day").department("Eng"))
        .with(person("E3").name("Cy", "Fox").department("Eng").terminated_on("2026-03-30"))
        .with(account("crm", "ada").employee("E1"))
        .with(account("crm", "bo").employee("E2"))
        .with(account("crm", "cy").employee("E3"))
        .with(account("crm", "ada-old").employee("E1").disabled())
        .with(assignment("crm", "ada", "pipeline-admin").source("request").granted_by("mgr").granted("2025-06-01")) // carried over
        .with(assignment("crm", "ada", "quotes").source("request").granted_by("mgr")) // no grant date: carried over too
        .with(assignment("crm", "ada", "reports").source("request").granted_by("mgr").granted("2025-06-01").certified("2026-03-01")) // reviewed since
        .with(assignment("crm", "ada", "forecast").source("request").granted_by("mgr").granted("2025-06-01").certified("2026-01-10")) // reviewed before only
        .with(assignment("crm", "ada", "exports").source("request").granted_by("new-mgr").granted("2026-03-01")) // granted after the move
        .with(assignment("git", "ada", "dev").source("request").granted_by("mgr").granted("2025-06-01")) // the new position gives it
        .with(assignment("crm", "ada", "legacy").source("birthright")) // not a decision: other checks judge it
        .with(assignment("crm", "ada-old", "pipeline-admin").source("request").granted_by("mgr").granted("2025-06-01")) // disabled account
        .with(assignment("crm", "bo", "pipeline-admin").source("request").granted_by("mgr").granted("2025-06-01")) // within review time
        .with(assignment("crm", "cy", "pipeline-admin").source("request").granted_by("mgr").granted("2025-06-01")); // a leaver
    g.0.movers = vec![moved("E1", 40), moved("E2", 20), moved("E3", 40)];
    expect(
        &g,
        RULES,
        AS_OF,
        "mover-access-review",
        &[(
            "crm/ada",
            "Ada Lee moved 40 days ago (department Sales → Eng); 3 entitlements on crm account ada, granted on request before the move, \
             have not been reviewed since (due within 30 days of a move): forecast, pipeline-admin and quotes",
        )],
    );
    assert_eq!(
        covered(&g, RULES, AS_OF, "mover-access-review"),
        [cover("crm/ada", Severity::Low, &["forecast", "pipeline-admin", "quotes"])]
    );
    // Without birthright rules requested access is still judged (nothing is explained).
    assert_eq!(not_evaluated(&g, "", AS_OF, "mover-access-review"), None);
    assert_eq!(keys(&g, "", AS_OF, "mover-access-review"), ["crm/ada"]);
    // A longer review period covers Ada too; a shorter one reaches Bo.
    assert!(keys(&g, &format!("{RULES}\n[checks.mover-access-review]\nreview_days = 45\n"), AS_OF, "mover-access-review").is_empty());
    assert_eq!(
        keys(&g, &format!("{RULES}\n[checks.mover-access-review]\nreview_days = 20\n"), AS_OF, "mover-access-review"),
        ["crm/ada", "crm/bo"]
    );
    // Requested access is this check's: mover-residual-access leaves it alone.
    assert!(keys(&g, RULES, AS_OF, "mover-residual-access").is_empty());
}

// ---------------------------------------------------------------------------------------
// revocation-not-fulfilled

#[test]
fn revocation_not_fulfilled_waits_for_an_import_after_the_decision_and_the_window() {
    use annexa_core::campaign::{ItemKind, Revocation};
    // The assignments were imported on 2026-03-31 at 20:00; the audit is as of 2026-04-01.
    let g = graph()
        .with(account("erp", "a").employee("E1"))
        .with(account("erp", "off").employee("E1").disabled())
        .with(assignment("erp", "a", "r12"))
        .with(assignment("erp", "a", "r7"))
        .with(assignment("erp", "a", "r6"))
        .with(assignment("erp", "a", "after"))
        .with(assignment("erp", "off", "r12"));
    let revocation = |item: i64, entitlement: &str, account: &str, decided: &str| Revocation {
        item,
        campaign: 1,
        kind: ItemKind::Assignment,
        system: "erp".into(),
        account_id: account.into(),
        entitlement: entitlement.into(),
        holder: account.into(),
        decided_at: at(decided),
        task: Some(item),
    };
    let revocations = vec![
        revocation(1, "r12", "a", "2026-03-20T00:00:00Z"),   // 12 days, import after: a finding
        revocation(2, "r7", "a", "2026-03-25T00:00:00Z"),    // 7 days exactly: a finding
        revocation(3, "r6", "a", "2026-03-25T00:00:01Z"),    // under 7 days: not yet
        revocation(4, "after", "a", "2026-03-31T21:00:00Z"), // no import since the decision
        revocation(5, "gone", "a", "2026-03-01T00:00:00Z"),  // carried out: nothing held
        revocation(6, "r12", "off", "2026-03-01T00:00:00Z"), // a disabled account's: unusable
    ];
    let mut found = Vec::new();
    let own = annexa_engine::OwnRecords { ledger: None, revocations: Some(revocations), ..Default::default() };
    let selected = ["revocation-not-fulfilled".to_string()];
    annexa_engine::audit_stream(&g.0, &config(""), at(AS_OF), &selected, own, &|b| b, &mut |b| {
        found.extend(b);
        true
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut subjects: Vec<String> = found.iter().map(|f| f.subject.key.clone()).collect();
    subjects.sort();
    assert_eq!(subjects, ["erp/a/r12", "erp/a/r7"]);
    assert!(found.iter().all(|f| f.controls == ["A.5.18"] && f.evidence.records[0].record == "assignment"));
    // Without the campaigns' records the check does not run at all.
    let result = audit(&g, "", AS_OF, &[]);
    assert!(!result.checks_run.iter().any(|c| c == "revocation-not-fulfilled"));
}
