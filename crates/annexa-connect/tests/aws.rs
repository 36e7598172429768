//! AWS IAM credential report import: a realistic report, and the inputs that must be
//! refused with a precise line and column.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_connect::aws::REQUIRED;
use annexa_connect::{parse, ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, Credential, CredentialKind, MfaFactor};
use annexa_core::time::parse_instant;

fn import(bytes: &[u8]) -> Result<ImportBatch, ImportError> {
    parse(ImportKind::AwsCredentialReport, "report.csv", bytes, &ImportOptions::default())
}

fn at(s: &str) -> Option<annexa_core::time::Instant> {
    Some(parse_instant(s).expect("valid instant in test"))
}

fn header() -> String {
    REQUIRED.join(",")
}

/// A row for a user with nothing (no password, keys or certs), with `changes` applied.
fn row(user: &str, changes: &[(&str, &str)]) -> String {
    REQUIRED
        .iter()
        .map(|&col| {
            if let Some((_, v)) = changes.iter().find(|(c, _)| *c == col) {
                return v.to_string();
            }
            match col {
                "user" => user.to_string(),
                "arn" => format!("arn:aws:iam::123456789012:user/{user}"),
                "user_creation_time" => "2019-03-01T10:00:00+00:00".to_string(),
                c if c.ends_with("_active") || c == "password_enabled" => "false".to_string(),
                _ => "N/A".to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn report() -> String {
    let rows = [
        header(),
        row(
            "<root_account>",
            &[
                ("arn", "arn:aws:iam::123456789012:root"),
                ("user_creation_time", "2015-06-24T12:45:00+00:00"),
                ("password_enabled", "not_supported"),
                ("password_last_used", "no_information"),
                ("password_last_changed", "not_supported"),
                ("password_next_rotation", "not_supported"),
                ("mfa_active", "true"),
            ],
        ),
        row(
            "alice",
            &[
                ("password_enabled", "true"),
                ("password_last_used", "2024-05-30T08:12:00+00:00"),
                ("password_last_changed", "2024-01-10T09:00:00+00:00"),
                ("password_next_rotation", "2024-04-09T09:00:00+00:00"),
                ("mfa_active", "true"),
            ],
        ),
        row(
            "bob",
            &[
                ("password_enabled", "true"),
                ("password_last_used", "2024-04-02T17:45:10+00:00"),
                ("password_last_changed", "2020-07-15T14:30:00+00:00"),
            ],
        ),
        row(
            "ci-deploy",
            &[
                ("access_key_1_active", "true"),
                ("access_key_1_last_rotated", "2021-01-05T11:00:00+00:00"),
                ("access_key_1_last_used_date", "2024-06-01T03:00:00+00:00"),
                ("access_key_1_last_used_region", "eu-west-1"),
                ("access_key_1_last_used_service", "sts"),
                ("access_key_2_last_rotated", "2020-02-01T00:00:00+00:00"),
                ("access_key_2_last_used_date", "2020-06-01T00:00:00+00:00"),
                ("access_key_2_last_used_region", "us-east-1"),
                ("access_key_2_last_used_service", "s3"),
            ],
        ),
        row("legacy", &[]),
        // Console user whose password use AWS cannot tell, but whose inactive key shows use.
        row(
            "carol",
            &[
                ("password_enabled", "true"),
                ("password_last_used", "no_information"),
                ("mfa_active", "true"),
                ("access_key_1_last_rotated", "2022-01-01T00:00:00+00:00"),
                ("access_key_1_last_used_date", "2022-03-01T00:00:00+00:00"),
            ],
        ),
        row("signer", &[("cert_1_active", "true"), ("cert_1_last_rotated", "2023-08-08T08:08:08+00:00")]),
    ];
    rows.join("\n") + "\n"
}

fn account<'b>(batch: &'b ImportBatch, id: &str) -> &'b Account {
    batch.accounts.iter().find(|a| &*a.account_id == id).unwrap_or_else(|| panic!("no account {id}"))
}

#[test]
fn credential_report_mapping() {
    let batch = import(report().as_bytes()).expect("parses");
    assert_eq!(batch.rows, 7);
    assert_eq!(batch.systems, ["aws"]);

    // (user, kind, status, interactive, root, mfa, last login, known, password set)
    type Row = (
        &'static str,
        AccountType,
        AccountStatus,
        bool,
        bool,
        MfaFactor,
        Option<&'static str>,
        bool,
        Option<&'static str>,
    );
    let cases: [Row; 7] = [
        ("<root_account>", AccountType::Admin, AccountStatus::Enabled, true, true, MfaFactor::Totp, None, false, None),
        (
            "alice",
            AccountType::Human,
            AccountStatus::Enabled,
            true,
            false,
            MfaFactor::Totp,
            Some("2024-05-30T08:12:00Z"),
            true,
            Some("2024-01-10T09:00:00Z"),
        ),
        (
            "bob",
            AccountType::Human,
            AccountStatus::Enabled,
            true,
            false,
            MfaFactor::None,
            Some("2024-04-02T17:45:10Z"),
            true,
            Some("2020-07-15T14:30:00Z"),
        ),
        (
            "ci-deploy",
            AccountType::Service,
            AccountStatus::Enabled,
            false,
            false,
            MfaFactor::None,
            Some("2024-06-01T03:00:00Z"),
            true,
            None,
        ),
        ("legacy", AccountType::Service, AccountStatus::Disabled, false, false, MfaFactor::None, None, true, None),
        (
            "carol",
            AccountType::Human,
            AccountStatus::Enabled,
            true,
            false,
            MfaFactor::Totp,
            Some("2022-03-01T00:00:00Z"),
            true,
            None,
        ),
        ("signer", AccountType::Service, AccountStatus::Enabled, false, false, MfaFactor::None, None, true, None),
    ];
    for (line, (user, kind, status, interactive, root, mfa, login, known, pwd)) in (2u32..).zip(cases) {
        let a = account(&batch, user);
        assert_eq!(a.kind, kind, "{user} kind");
        assert_eq!(a.status, status, "{user} status");
        assert_eq!((a.interactive, a.root), (interactive, root), "{user} interactive/root");
        assert_eq!(a.mfa, Some(vec![mfa]), "{user} mfa");
        assert_eq!(a.last_login_at, login.and_then(at), "{user} last login");
        assert_eq!(a.last_login_known, known, "{user} last login known");
        assert_eq!(a.password_last_set_at, pwd.and_then(at), "{user} password set");
        assert_eq!(a.username, user);
        assert_eq!((a.employee_id.as_ref(), a.email.as_ref(), a.owner.as_ref()), (None, None, None));
        assert_eq!(&*a.system, "aws");
        assert_eq!(a.origin.line, line, "{user} line");
    }
    let root = account(&batch, "<root_account>");
    assert_eq!(root.display_name, "arn:aws:iam::123456789012:root");
    assert_eq!(root.created_at, at("2015-06-24T12:45:00Z"));
    assert!(root.credentials.is_empty());
    assert!(account(&batch, "legacy").credentials.is_empty());

    assert_eq!(
        account(&batch, "ci-deploy").credentials,
        [
            Credential {
                slot: "access_key_1".into(),
                kind: CredentialKind::AccessKey,
                active: true,
                rotated_at: at("2021-01-05T11:00:00Z"),
                last_used_at: at("2024-06-01T03:00:00Z"),
            },
            // Inactive, but it exists (it has a rotation date) and was used.
            Credential {
                slot: "access_key_2".into(),
                kind: CredentialKind::AccessKey,
                active: false,
                rotated_at: at("2020-02-01T00:00:00Z"),
                last_used_at: at("2020-06-01T00:00:00Z"),
            },
        ]
    );
    assert_eq!(
        account(&batch, "signer").credentials,
        [Credential {
            slot: "cert_1".into(),
            kind: CredentialKind::Certificate,
            active: true,
            rotated_at: at("2023-08-08T08:08:08Z"),
            last_used_at: None,
        }]
    );
}

#[test]
fn system_option_names_the_accounts() {
    let options = ImportOptions { system: Some("aws-prod".into()), ..ImportOptions::default() };
    let batch = parse(ImportKind::AwsCredentialReport, "r.csv", report().as_bytes(), &options).expect("parses");
    assert_eq!(batch.systems, ["aws-prod"]);
    assert!(batch.accounts.iter().all(|a| &*a.system == "aws-prod"));
}

#[test]
fn bad_input_is_refused_with_line_and_column() {
    let with = |rows: &[String]| format!("{}\n{}\n", header(), rows.join("\n")).into_bytes();
    let missing_mfa: Vec<&str> = REQUIRED.iter().copied().filter(|c| *c != "mfa_active").collect();
    let alice = row("alice", &[("password_enabled", "true")]);
    let truncated: String = alice.split(',').take(10).collect::<Vec<_>>().join(",");
    let mut bad_utf8 = format!("{}\nal", header()).into_bytes();
    bad_utf8.push(0xFF);
    bad_utf8.extend_from_slice(row("ice", &[]).as_bytes());
    let cases: Vec<(&str, Vec<u8>, u64, Option<&str>, &str)> = vec![
        ("empty file", b"".to_vec(), 0, None, "the file is empty"),
        (
            "missing column",
            format!("{}\n{}\n", missing_mfa.join(","), row("alice", &[])).into_bytes(),
            1,
            None,
            "missing column(s) mfa_active",
        ),
        ("truncated row", with(&[alice.clone(), truncated]), 3, None, "truncated row"),
        (
            "bad creation date",
            with(&[row("alice", &[("user_creation_time", "24/06/2015")])]),
            2,
            Some("user_creation_time"),
            "\"24/06/2015\" is not a date",
        ),
        (
            "creation date missing",
            with(&[row("alice", &[("user_creation_time", "N/A")])]),
            2,
            Some("user_creation_time"),
            "a date is required",
        ),
        (
            "bad key date",
            with(&[row("alice", &[("access_key_1_last_used_date", "yesterday")])]),
            2,
            Some("access_key_1_last_used_date"),
            "not a date",
        ),
        (
            "bad next rotation date",
            with(&[row("alice", &[("password_next_rotation", "2024-13-01")])]),
            2,
            Some("password_next_rotation"),
            "not a date",
        ),
        (
            "bad boolean",
            with(&[row("alice", &[("mfa_active", "yes")])]),
            2,
            Some("mfa_active"),
            "\"yes\" is not a boolean",
        ),
        (
            "not_supported is only for the password",
            with(&[row("alice", &[("access_key_2_active", "not_supported")])]),
            2,
            Some("access_key_2_active"),
            "not a boolean",
        ),
        ("empty boolean", with(&[row("alice", &[("cert_2_active", "")])]), 2, Some("cert_2_active"), "not a boolean"),
        ("bad UTF-8", bad_utf8, 2, Some("user"), "not valid UTF-8"),
        (
            "duplicate user",
            with(&[alice.clone(), alice.clone()]),
            3,
            Some("user"),
            "duplicate user \"alice\": already on line 2",
        ),
        ("empty user", with(&[row("", &[])]), 2, Some("user"), "a value is required"),
        (
            "10 MB field",
            with(&[row("alice", &[("arn", &"a".repeat(10 * 1024 * 1024))])]),
            2,
            Some("arn"),
            "at most 65536",
        ),
    ];
    for (what, bytes, line, column, fragment) in cases {
        let err = match import(&bytes) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e,
        };
        assert_eq!(err.file, "report.csv", "{what}");
        assert_eq!(err.line, line, "{what}: line ({err})");
        assert_eq!(err.column.as_deref(), column, "{what}: column ({err})");
        assert!(err.message.contains(fragment), "{what}: message {:?} lacks {fragment:?}", err.message);
    }
}

#[test]
fn truncated_input_never_panics() {
    let bytes = report().into_bytes();
    for end in 0..=bytes.len() {
        let _ = import(bytes.get(..end).unwrap_or_default());
    }
}
