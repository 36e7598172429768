//! LDIF import: the OpenLDAP sample exports, a hand-written Active Directory export, and
//! the inputs that must be refused with a precise line and attribute.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_connect::ldif::AD_PRIVILEGED_GROUPS;
use annexa_connect::{parse, ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, MfaFactor};
use annexa_core::time::parse_instant;
use std::path::PathBuf;

fn import(bytes: &[u8]) -> Result<ImportBatch, ImportError> {
    parse(ImportKind::Ldif, "test.ldif", bytes, &ImportOptions::default())
}

fn at(s: &str) -> Option<annexa_core::time::Instant> {
    Some(parse_instant(s).expect("valid instant in test"))
}

fn account<'b>(batch: &'b ImportBatch, id: &str) -> &'b Account {
    batch.accounts.iter().find(|a| &*a.account_id == id).unwrap_or_else(|| panic!("no account {id}"))
}

/// `entitlement -> account ids` of the batch, sorted, for whole-set comparisons.
fn holders(batch: &ImportBatch, entitlement: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        batch.assignments.iter().filter(|a| &*a.entitlement == entitlement).map(|a| a.account_id.to_string()).collect();
    ids.sort();
    ids
}

/// The shared sample directory, or `None` (skip) when it is absent outside CI.
fn samples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/samples/ldif/");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "sample LDIF directory {} is missing", dir.display());
    eprintln!("skipping: sample LDIF directory {} is missing", dir.display());
    None
}

#[test]
fn sample_exports_parse() {
    let Some(dir) = samples_dir() else { return };
    // (file, entries, accounts, entitlements, assignments)
    let cases = [
        ("openldap-test.ldif", 19, 11, 3, 22),
        ("openldap-ppolicy.ldif", 16, 5, 1, 2),
        ("openldap-test-refint.ldif", 9, 7, 0, 0),
    ];
    for (name, rows, accounts, entitlements, assignments) in cases {
        let bytes = std::fs::read(dir.join(name)).expect("sample readable");
        let batch =
            parse(ImportKind::Ldif, name, &bytes, &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(batch.rows, rows, "{name}: rows");
        assert_eq!(batch.accounts.len(), accounts, "{name}: accounts");
        assert_eq!(batch.entitlements.len(), entitlements, "{name}: entitlements");
        assert_eq!(batch.assignments.len(), assignments, "{name}: assignments");
        assert_eq!(batch.systems, ["ldap"], "{name}: systems");
        for a in &batch.accounts {
            // OpenLDAP without ppolicy operational attributes reports neither logins nor MFA.
            assert!(!a.last_login_known && a.last_login_at.is_none() && a.mfa.is_none(), "{name}: {}", a.account_id);
            assert_eq!(
                (a.status, a.kind, a.interactive, a.root),
                (AccountStatus::Enabled, AccountType::Human, true, false)
            );
        }
    }
}

#[test]
fn sample_openldap_test_folding_comments_and_members() {
    let Some(dir) = samples_dir() else { return };
    let batch = import(&std::fs::read(dir.join("openldap-test.ldif")).expect("readable")).expect("parses");

    let babs = account(&batch, "bjensen");
    assert_eq!(babs.display_name, "Barbara Jensen", "first cn when there is no displayName");
    assert_eq!(babs.email.as_deref(), Some("bjensen@mailgw.example.com"));
    assert_eq!(babs.origin.line, 41);
    // No uid: the DN is the account id.
    let manager = account(&batch, "cn=Manager,dc=example,dc=com");
    assert_eq!(manager.display_name, "Manager");

    // `member` values folded across lines (Bjorn, James A Jones 2) resolve to their
    // entries, whose own `dn:` lines are folded differently.
    let everyone = [
        "bjensen",
        "bjorn",
        "cn=Manager,dc=example,dc=com",
        "dots",
        "jaj",
        "jdoe",
        "jen",
        "jjones",
        "johnd",
        "melliot",
        "uham",
    ];
    assert_eq!(holders(&batch, "All Staff"), everyone);
    assert_eq!(holders(&batch, "ITD Staff"), ["bjorn", "cn=Manager,dc=example,dc=com", "jjones", "johnd"]);
    assert_eq!(holders(&batch, "Alumni Assoc Staff").len(), 7);

    let all_staff = batch.entitlements.iter().find(|e| &*e.name == "All Staff").expect("All Staff");
    assert_eq!(all_staff.origin.line, 2, "the entry starts after the lead comment");
    assert!(!all_staff.privileged);
    // Its owner (cn=Manager) has no employee number, mail or uid to name a person by.
    assert_eq!(all_staff.owner, None);
    let itd = batch.assignments.iter().find(|a| &*a.entitlement == "ITD Staff").expect("ITD");
    assert_eq!(itd.origin.line, 262, "an assignment points at its group's entry");
}

#[test]
fn sample_ppolicy_groups_with_one_name_are_one_entitlement() {
    let Some(dir) = samples_dir() else { return };
    let batch = import(&std::fs::read(dir.join("openldap-ppolicy.ldif")).expect("readable")).expect("parses");
    // cn=Test Group carries `cn: Policy Group` too.
    let [group] = batch.entitlements.as_slice() else { panic!("one entitlement: {:?}", batch.entitlements) };
    assert_eq!((&*group.name, group.origin.line), ("Policy Group", 17));
    assert_eq!(group.owner.as_deref(), Some("ndadmin"), "owner resolved to the entry's uid");
    let lines: Vec<(String, u32)> =
        batch.assignments.iter().map(|a| (a.account_id.to_string(), a.origin.line)).collect();
    assert_eq!(lines, [("nd".to_string(), 17), ("another".to_string(), 23)]);
    assert_eq!(account(&batch, "test").display_name, "test test");
}

#[test]
fn sample_refint_dangling_manager_is_tolerated() {
    let Some(dir) = samples_dir() else { return };
    let batch = import(&std::fs::read(dir.join("openldap-test-refint.ldif")).expect("readable")).expect("parses");
    // jorge and richard have `manager: uid=theman,...`, which is not in the file.
    let jorge = account(&batch, "jorge");
    assert_eq!((jorge.employee_id.as_deref(), jorge.owner.as_deref()), (Some("93"), None));
    let alice = account(&batch, "alice");
    assert_eq!((alice.employee_id.as_deref(), alice.display_name.as_str()), (Some("6363"), "George"));
}

const AD: &str = "version: 1

# Users. José's DN and display name are base64 (not ASCII).
dn: CN=Alice Admin,OU=Users,DC=corp,DC=example
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Alice Admin
sAMAccountName: alice
mail: Alice.Admin@Corp.Example
employeeID: E100
displayName: Alice Admin
userAccountControl: 512
whenCreated: 20230115093000.0Z
lastLogonTimestamp: 133485408000000000
pwdLastSet: 133300512000000000
memberOf: CN=Tier0 Operators,OU=Groups,DC=corp,DC=example

dn: CN=Bob Leaver,OU=Users,DC=corp,DC=example
objectClass: top
objectClass: user
cn: Bob Leaver
sAMAccountName: bob
employeeID: E200
userAccountControl: 514
whenCreated: 20200301000000.0Z
pwdLastSet: 0

dn:: Q049Sm9zw6kgTcO8bGxlcixPVT1Vc2VycyxEQz1jb3JwLERDPWV4YW1wbGU=
objectClass: user
cn: Jose Muller
sAMAccountName: jmuller
displayName:: Sm9zw6kgTcO8bGxlcg==
userAccountControl: 66048
lastLogonTimestamp: 9223372036854775807
pwdLastSet: 133549650000000000
objectSid:: AQUAAAAAAAUVAAAA/w==

dn: CN=Carol Card,OU=Users,DC=corp,DC=example
objectClass: user
cn: Carol Card
sAMAccountName: carol
mail: carol@corp.example
userAccountControl: 262656
lastLogonTimestamp: 133549650000000000

dn: CN=svc-backup,OU=Service Accounts,DC=corp,DC=example
objectClass: user
cn: svc-backup
sAMAccountName: svc-backup
servicePrincipalName: MSSQLSvc/db01.corp.example:1433
servicePrincipalName: MSSQLSvc/db01.corp.example
managedBy: cn=alice admin, ou=users, dc=corp, dc=example
userAccountControl: 66048
whenCreated: 20221120120000Z
lastLogonTimestamp: 133134192000000000

dn: CN=svc-orphan,OU=Service Accounts,DC=corp,DC=example
objectClass: user
sAMAccountName: svc-orphan
servicePrincipalName: HTTP/web01.corp.example
manager: CN=Gone Person,OU=Users,DC=corp,DC=example
userAccountControl: 512

dn: CN=WS001,OU=Computers,DC=corp,DC=example
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
objectClass: computer
sAMAccountName: WS001$
userAccountControl: 4096
memberOf: CN=Domain Admins,CN=Users,DC=corp,DC=example

dn: CN=Domain Admins,CN=Users,DC=corp,DC=example
objectClass: top
objectClass: group
cn: Domain Admins
sAMAccountName: Domain Admins
member: CN=Tier0 Operators,OU=Groups,DC=corp,DC=example
member: cn=carol card, ou=users, dc=corp, dc=example
member: CN=WS001,OU=Computers,DC=corp,DC=example

dn: CN=Tier0 Operators,OU=Groups,DC=corp,DC=example
objectClass: group
cn: Tier0 Operators
managedBy: CN=Alice Admin,OU=Users,DC=corp,DC=example
member: CN=Bob Leaver,OU=Users,DC=corp,DC=example
memberOf: CN=Domain Admins,CN=Users,DC=corp,DC=example

dn: CN=App Readers,OU=Groups,DC=corp,DC=example
objectClass: group
cn: App Readers
managedBy: CN=Gone Person,OU=Users,DC=corp,DC=example
member: CN=José Müller,OU=Users,DC=corp,DC=example
member: CN=Alice Admin,OU=Users,DC=corp,DC=example
member: CN=Nobody Here,OU=Users,DC=corp,DC=example
member: CN=Cycle B,OU=Groups,DC=corp,DC=example

dn: CN=Cycle B,OU=Groups,DC=corp,DC=example
objectClass: group
cn: Cycle B
member: CN=App Readers,OU=Groups,DC=corp,DC=example

dn: OU=Users,DC=corp,DC=example
objectClass: organizationalUnit
ou: Users
";

#[test]
fn active_directory_accounts() {
    let batch = import(AD.as_bytes()).expect("parses");
    assert_eq!(batch.rows, 12);
    let ids: Vec<&str> = batch.accounts.iter().map(|a| &*a.account_id).collect();
    assert_eq!(ids, ["alice", "bob", "jmuller", "carol", "svc-backup", "svc-orphan"], "the computer is skipped");

    // (id, status, kind, mfa, created, last login, password set, owner)
    type Row = (
        &'static str,
        AccountStatus,
        AccountType,
        Option<Vec<MfaFactor>>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: [Row; 6] = [
        (
            "alice",
            AccountStatus::Enabled,
            AccountType::Human,
            None,
            Some("2023-01-15T09:30:00Z"),
            Some("2024-01-01T00:00:00Z"),
            Some("2023-06-01T00:00:00Z"),
            None,
        ),
        ("bob", AccountStatus::Disabled, AccountType::Human, None, Some("2020-03-01T00:00:00Z"), None, None, None),
        ("jmuller", AccountStatus::Enabled, AccountType::Human, None, None, None, Some("2024-03-15T08:30:00Z"), None),
        (
            "carol",
            AccountStatus::Enabled,
            AccountType::Human,
            Some(vec![MfaFactor::Webauthn]),
            None,
            Some("2024-03-15T08:30:00Z"),
            None,
            None,
        ),
        (
            "svc-backup",
            AccountStatus::Enabled,
            AccountType::Service,
            None,
            Some("2022-11-20T12:00:00Z"),
            Some("2022-11-20T12:00:00Z"),
            None,
            Some("E100"),
        ),
        ("svc-orphan", AccountStatus::Enabled, AccountType::Service, None, None, None, None, None),
    ];
    for (id, status, kind, mfa, created, login, pwd, owner) in cases {
        let a = account(&batch, id);
        assert_eq!(a.status, status, "{id} status");
        assert_eq!(a.kind, kind, "{id} kind");
        assert_eq!(a.interactive, kind != AccountType::Service, "{id} interactive");
        assert_eq!(a.mfa, mfa, "{id} mfa");
        assert_eq!(a.created_at, created.and_then(at), "{id} created");
        assert_eq!(a.last_login_at, login.and_then(at), "{id} last login");
        assert!(a.last_login_known, "{id}: AD always knows, absence is never");
        assert_eq!(a.password_last_set_at, pwd.and_then(at), "{id} password set");
        assert_eq!(a.owner.as_deref(), owner, "{id} owner");
        assert_eq!(&*a.system, "ldap");
        assert_eq!(a.username, id);
        assert!(!a.root && a.credentials.is_empty());
    }
    let alice = account(&batch, "alice");
    assert_eq!(alice.email.as_deref(), Some("alice.admin@corp.example"));
    assert_eq!(alice.employee_id.as_deref(), Some("E100"));
    assert_eq!(alice.origin.line, 4);
    let jose = account(&batch, "jmuller");
    assert_eq!(jose.display_name, "José Müller", "base64 value decoded");
    assert_eq!(account(&batch, "bob").display_name, "Bob Leaver", "cn without displayName");
}

#[test]
fn active_directory_groups_and_nested_membership() {
    let options = ImportOptions {
        system: Some("corp-ad".into()),
        privileged_groups: vec!["app READERS".into()],
        ..ImportOptions::default()
    };
    let batch = parse(ImportKind::Ldif, "ad.ldif", AD.as_bytes(), &options).expect("parses");
    assert_eq!(batch.systems, ["corp-ad"]);
    assert!(batch.accounts.iter().all(|a| &*a.system == "corp-ad"));
    assert!(batch.entitlements.iter().all(|e| &*e.system == "corp-ad"));

    let groups: Vec<(&str, bool, Option<&str>)> =
        batch.entitlements.iter().map(|e| (&*e.name, e.privileged, e.owner.as_deref())).collect();
    assert_eq!(
        groups,
        [
            ("Domain Admins", true, None),
            ("Tier0 Operators", false, Some("E100")),
            ("App Readers", true, None), // privileged by option; its managedBy dangles
            ("Cycle B", false, None),
        ]
    );

    // Tier0 Operators sits inside Domain Admins (written on both sides); App Readers and
    // Cycle B contain each other; the computer and the unknown member are ignored.
    assert_eq!(holders(&batch, "Domain Admins"), ["alice", "bob", "carol"]);
    assert_eq!(holders(&batch, "Tier0 Operators"), ["alice", "bob"]);
    assert_eq!(holders(&batch, "App Readers"), ["alice", "jmuller"]);
    assert_eq!(holders(&batch, "Cycle B"), ["alice", "jmuller"]);
    assert_eq!(batch.assignments.len(), 9, "no duplicates");
    for a in &batch.assignments {
        assert_eq!((a.granted_at, a.granted_by.as_deref()), (None, None));
        assert_eq!(a.source, annexa_core::model::GrantSource::Unknown);
        assert_eq!(&*a.system, "corp-ad");
    }
    let nested = batch
        .assignments
        .iter()
        .find(|a| &*a.account_id == "bob" && &*a.entitlement == "Domain Admins")
        .expect("bob is a Domain Admin through Tier0 Operators");
    assert_eq!(nested.origin.line, 76, "the line of the Domain Admins entry");
}

#[test]
fn privileged_group_list_is_case_insensitive() {
    assert!(AD_PRIVILEGED_GROUPS.contains(&"Domain Admins") && AD_PRIVILEGED_GROUPS.len() == 15);
    let ldif = "dn: cn=ENTERPRISE ADMINS,dc=x\nobjectClass: group\ncn: ENTERPRISE ADMINS\n\n\
                dn: cn=dnsadmins,dc=x\nobjectClass: group\ncn: dnsadmins\n\n\
                dn: cn=Staff,dc=x\nobjectClass: group\ncn: Staff\n";
    let batch = import(ldif.as_bytes()).expect("parses");
    let privileged: Vec<bool> = batch.entitlements.iter().map(|e| e.privileged).collect();
    assert_eq!(privileged, [true, true, false]);
}

#[test]
fn openldap_operational_attributes_posix_groups_crlf_and_folded_comments() {
    let ldif = "# a folded\r\n comment: not an attribute\r\n\
                dn: uid=ann,ou=people,dc=x\r\n\
                objectClass: inetOrgPerson\r\n\
                objectClass: posixAccount\r\n\
                uid: ann\r\n\
                cn: Ann\r\n\
                employeeNumber: 42\r\n\
                createTimestamp: 20210102030405Z\r\n\
                pwdChangedTime: 20240201000000Z\r\n\
                pwdLastSuccess: 20240301120000Z\r\n\
                displayName: Ann Ar\r\n bor\r\n\
                \r\n\
                dn: uid=locked,ou=people,dc=x\r\n\
                objectClass: person\r\n\
                uid: locked\r\n\
                pwdAccountLockedTime: 000001010000Z\r\n\
                memberOf: cn=ops,ou=groups,dc=x\r\n\
                \r\n\
                dn: cn=ops,ou=groups,dc=x\r\n\
                objectClass: posixGroup\r\n\
                cn: ops\r\n\
                memberUid: ANN\r\n\
                memberUid: ghost\r\n";
    let batch = import(ldif.as_bytes()).expect("parses");
    let ann = account(&batch, "ann");
    assert_eq!(ann.display_name, "Ann Arbor");
    assert_eq!(ann.employee_id.as_deref(), Some("42"));
    assert_eq!(ann.created_at, at("2021-01-02T03:04:05Z"));
    assert_eq!(ann.password_last_set_at, at("2024-02-01T00:00:00Z"));
    assert_eq!((ann.last_login_at, ann.last_login_known), (at("2024-03-01T12:00:00Z"), true));
    assert_eq!((ann.status, ann.origin.line), (AccountStatus::Enabled, 3));
    let locked = account(&batch, "locked");
    assert_eq!((locked.status, locked.last_login_known), (AccountStatus::Disabled, false));
    assert_eq!(holders(&batch, "ops"), ["ann", "locked"]);
}

#[test]
fn bad_input_is_refused_with_line_and_attribute() {
    let big = format!("dn: cn=a,dc=x\nobjectClass: person\ndescription: {}\n", "x".repeat(10 * 1024 * 1024));
    let big_base64 = format!("dn: cn=a,dc=x\njpegPhoto:: {}\n", "QUFB".repeat(4 * 1024 * 1024));
    let user = "dn: cn=a,dc=x\nobjectClass: user\nsAMAccountName: a\n";
    let cases: Vec<(&str, Vec<u8>, u64, Option<&str>, &str)> = vec![
        ("empty file", b"".to_vec(), 0, None, "the file is empty: expected LDIF entries"),
        ("only comments", b"# nothing here\n\n\n".to_vec(), 0, None, "the file is empty"),
        ("only a version", b"version: 1\n".to_vec(), 0, None, "the file is empty"),
        (
            "change record",
            b"version: 1\n\ndn: cn=a,dc=x\nchangetype: modify\nreplace: mail\nmail: a@x\n-\n".to_vec(),
            3,
            Some("changetype"),
            "LDIF change records (changetype: modify) are not supported: export the directory content (ldapsearch)",
        ),
        (
            "change record after a content entry",
            b"dn: cn=a,dc=x\ncn: a\n\ndn: cn=b,dc=x\nchangetype: delete\n".to_vec(),
            4,
            Some("changetype"),
            "(changetype: delete)",
        ),
        ("entry without dn", b"dn: cn=a,dc=x\ncn: a\n\ncn: b\nobjectClass: person\n".to_vec(), 4, Some("dn"), "entry without dn"),
        ("bad base64", b"dn: cn=a,dc=x\ncn:: not*base64\n".to_vec(), 2, Some("cn"), "valid base64"),
        ("bad base64 dn", b"dn:: ###\n".to_vec(), 1, Some("dn"), "valid base64"),
        ("plain value not UTF-8", b"dn: cn=a,dc=x\ncn: caf\xe9\n".to_vec(), 2, Some("cn"), "not valid UTF-8"),
        (
            "base64 text value not UTF-8",
            b"dn: cn=a,dc=x\nobjectClass: person\nmail:: /w==\n".to_vec(),
            3,
            Some("mail"),
            "not valid UTF-8",
        ),
        ("base64 dn not UTF-8", b"dn:: /w==\n".to_vec(), 1, Some("dn"), "not valid UTF-8"),
        (
            "URL value",
            b"dn: cn=a,dc=x\njpegPhoto:< file:///tmp/a.jpg\n".to_vec(),
            2,
            Some("jpegPhoto"),
            "URL-valued attributes are not supported",
        ),
        (
            "duplicate DN",
            b"dn: cn=A, dc=x\nobjectClass: person\n\n# again\ndn: CN=a,DC=X\nobjectClass: person\n".to_vec(),
            5,
            Some("dn"),
            "duplicate DN \"CN=a,DC=X\": already on line 1",
        ),
        (
            "bad GeneralizedTime",
            format!("{user}whenCreated: 2024-01-31\n").into_bytes(),
            4,
            Some("whenCreated"),
            "\"2024-01-31\" is not a GeneralizedTime",
        ),
        (
            "bad pwdChangedTime",
            b"dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nuid: a\npwdChangedTime: yesterday\n".to_vec(),
            4,
            Some("pwdChangedTime"),
            "not a GeneralizedTime",
        ),
        (
            "bad FILETIME",
            format!("{user}lastLogonTimestamp: 2024-01-31\n").into_bytes(),
            4,
            Some("lastLogonTimestamp"),
            "not a FILETIME",
        ),
        ("negative FILETIME", format!("{user}pwdLastSet: -5\n").into_bytes(), 4, Some("pwdLastSet"), "not a FILETIME"),
        (
            "non-integer userAccountControl",
            format!("{user}cn: a\nuserAccountControl: 0x202\n").into_bytes(),
            5,
            Some("userAccountControl"),
            "\"0x202\" is not an integer",
        ),
        ("10 MB value", big.into_bytes(), 3, Some("description"), "at most 1048576"),
        ("10 MB base64 value", big_base64.into_bytes(), 2, Some("jpegPhoto"), "at most 1048576"),
        ("version 2", b"version: 2\n\ndn: cn=a,dc=x\n".to_vec(), 1, Some("version"), "unsupported LDIF version \"2\""),
        ("UTF-16 export", b"\xFF\xFEd\0n\0:\0".to_vec(), 1, None, "the file is UTF-16"),
        ("continuation with nothing before", b" cn: a\n".to_vec(), 1, None, "continuation line"),
        ("not an attribute line", b"dn: cn=a,dc=x\nthis is prose\n".to_vec(), 2, None, "expected `attribute: value`"),
        (
            "entries not separated",
            b"dn: cn=a,dc=x\ncn: a\ndn: cn=b,dc=x\n".to_vec(),
            3,
            Some("dn"),
            "separate entries with an empty line",
        ),
        (
            "duplicate account id",
            b"dn: uid=a,ou=one,dc=x\nobjectClass: person\nuid: a\n\ndn: uid=a,ou=two,dc=x\nobjectClass: person\nuid: A\n"
                .to_vec(),
            5,
            Some("uid"),
            "the entry on line 1 has the same uid",
        ),
    ];
    for (what, bytes, line, column, fragment) in cases {
        let err = match import(&bytes) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e,
        };
        assert_eq!(err.file, "test.ldif", "{what}");
        assert_eq!(err.line, line, "{what}: line ({err})");
        assert_eq!(err.column.as_deref(), column, "{what}: column ({err})");
        assert!(err.message.contains(fragment), "{what}: message {:?} lacks {fragment:?}", err.message);
    }
}

#[test]
fn binary_attributes_need_not_be_text() {
    // objectSid (base64, not UTF-8) and `;binary` options are carried, not rejected.
    let ldif =
        b"dn: cn=a,dc=x\nobjectClass: person\ncn: a\nobjectSid:: AQUAAAAAAAUV/w==\nuserCertificate;binary:: MIIB/w==\n";
    let batch = import(ldif).expect("parses");
    assert_eq!(batch.accounts.len(), 1);
}

#[test]
fn truncated_input_never_panics() {
    // Every prefix of a valid export is either accepted or refused, never a panic.
    let bytes = AD.as_bytes();
    for end in 0..=bytes.len() {
        let _ = import(bytes.get(..end).unwrap_or_default());
    }
}

#[test]
fn rfc4524_account_entries_are_service_logins() {
    let ldif = "dn: uid=backup,ou=services,dc=example,dc=org\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: backup\nuserPassword: x\n\n\
                dn: uid=ops,ou=services,dc=example,dc=org\nobjectClass: account\nuid: ops\nemployeeType: shared\n\n\
                dn: uid=ada,ou=people,dc=example,dc=org\nobjectClass: account\nobjectClass: posixAccount\nuid: ada\ncn: Ada\nuidNumber: 1\ngidNumber: 1\nhomeDirectory: /home/ada\n";
    let batch = import(ldif.as_bytes()).expect("parses");
    assert_eq!(account(&batch, "backup").kind, AccountType::Service);
    assert_eq!(account(&batch, "ops").kind, AccountType::Shared, "employeeType decides");
    assert_eq!(account(&batch, "ada").kind, AccountType::Human, "a person class makes it a person's login");
}
