//! The AWS IAM credential report (`aws iam get-credential-report`), one row per IAM user
//! plus the account's root user.
//!
//! The report writes `N/A`, `not_supported` and `no_information` where a date or flag
//! does not apply; those are absence, not errors. `no_information` on
//! `password_last_used` means AWS cannot tell whether the password was ever used, so the
//! account's last login is then unknown rather than "never".

use crate::error::{quote, Refusals};
use crate::fields::note_system;
use crate::table::{KeySet, Row, Table};
use crate::{ImportBatch, ImportError, ImportKind, ImportOptions};
use annexa_core::model::{Account, AccountStatus, AccountType, Credential, CredentialKind, MfaFactor, Origin};
use annexa_core::time::{parse_instant, Instant};
use annexa_core::Name;

/// The report's columns, in AWS's order.
pub const REQUIRED: &[&str] = &[
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// The name AWS gives the account's root user in the report.
pub const ROOT_USER: &str = "<root_account>";

/// What the report writes where a date or flag does not apply.
const NOT_APPLICABLE: &[&str] = &["N/A", "not_supported", "no_information"];

pub fn parse(file: &str, bytes: &[u8], options: &ImportOptions) -> Result<ImportBatch, ImportError> {
    let mut table = Table::open(file, bytes, REQUIRED, &[], &Default::default())?;
    let system_name = options
        .system
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(crate::default_system(ImportKind::AwsCredentialReport));
    let system: Name = system_name.into();
    let mut batch = ImportBatch::default();
    note_system(&mut batch.systems, system_name);
    let mut users = KeySet::new("user");
    let mut refusals = Refusals::new(options);
    while let Some(row) = table.next_good_row(&mut refusals)? {
        match account(&row, &system, &mut users) {
            Ok(account) => batch.accounts.push(account),
            Err(e) => refusals.refuse(e)?,
        }
    }
    batch.rows = (batch.accounts.len() + refusals.len()) as u64;
    batch.refused = refusals.into_rows();
    Ok(batch)
}

/// One row of the report as an account.
fn account(row: &Row<'_>, system: &Name, users: &mut KeySet) -> Result<Account, ImportError> {
    let user = row.required("user")?;
    users.insert(row, "user", user.to_string())?;
    let root = user == ROOT_USER;
    let created_at =
        date(row, "user_creation_time")?.ok_or_else(|| row.error("user_creation_time", "a date is required (the user's creation time)"))?;
    // The root user always has a password (AWS writes `not_supported`).
    let password = root || flag(row, "password_enabled", true)?.unwrap_or(false);
    let password_last_used = date(row, "password_last_used")?;
    let password_last_changed = date(row, "password_last_changed")?;
    // Not mapped, but a value AWS would never write means the report is not what it claims.
    date(row, "password_next_rotation")?;
    let mfa_active = flag(row, "mfa_active", false)?.unwrap_or(false);
    let mut credentials = Vec::new();
    let mut key_last_used = Vec::new();
    for n in 1..=2 {
        let slot = format!("access_key_{n}");
        let active = flag(row, &format!("{slot}_active"), false)?.unwrap_or(false);
        let rotated_at = date(row, &format!("{slot}_last_rotated"))?;
        let last_used_at = date(row, &format!("{slot}_last_used_date"))?;
        // An inactive key can still show use from before it was deactivated.
        key_last_used.extend(last_used_at);
        if active || rotated_at.is_some() {
            credentials.push(Credential { slot, kind: CredentialKind::AccessKey, active, rotated_at, last_used_at });
        }
    }
    let mut active_cert = false;
    for n in 1..=2 {
        let slot = format!("cert_{n}");
        let active = flag(row, &format!("{slot}_active"), false)?.unwrap_or(false);
        let rotated_at = date(row, &format!("{slot}_last_rotated"))?;
        active_cert |= active;
        if active || rotated_at.is_some() {
            credentials.push(Credential { slot, kind: CredentialKind::Certificate, active, rotated_at, last_used_at: None });
        }
    }
    let active_key = credentials.iter().any(|c| c.kind == CredentialKind::AccessKey && c.active);
    let (kind, interactive) = if root {
        (AccountType::Admin, true)
    } else if password {
        (AccountType::Human, true)
    } else {
        (AccountType::Service, false)
    };
    let no_information = row.text("password_last_used")? == "no_information";
    Ok(Account {
        system: system.clone(),
        account_id: user.into(),
        username: user.to_string(),
        email: None,
        employee_id: None,
        display_name: row.required("arn")?.to_string(),
        status: if password || active_key || active_cert { AccountStatus::Enabled } else { AccountStatus::Disabled },
        kind,
        created_at: Some(created_at),
        last_login_at: password_last_used.into_iter().chain(key_last_used.iter().copied()).max(),
        last_login_known: !(no_information && key_last_used.is_empty()),
        mfa: Some(vec![if mfa_active { MfaFactor::Totp } else { MfaFactor::None }]),
        password_last_set_at: password_last_changed,
        interactive,
        root,
        owner: None,
        credentials,
        origin: Origin { import_id: 0, line: row.line_u32() },
    })
}

/// A date column: an ISO-8601 date(-time), or one of the report's "does not apply" words.
fn date(row: &Row<'_>, column: &str) -> Result<Option<Instant>, ImportError> {
    let t = row.text(column)?;
    if t.is_empty() || NOT_APPLICABLE.contains(&t) {
        return Ok(None);
    }
    parse_instant(t).map(Some).ok_or_else(|| {
        row.error(column, format!("{} is not a date: expected ISO 8601 (2015-06-24T12:45:00+00:00), N/A or no_information", quote(t)))
    })
}

/// `true` / `false`; `not_supported` (`None`) only where the report writes it (root's
/// password columns).
fn flag(row: &Row<'_>, column: &str, may_be_unsupported: bool) -> Result<Option<bool>, ImportError> {
    let t = row.text(column)?;
    match t {
        "true" | "TRUE" | "True" => Ok(Some(true)),
        "false" | "FALSE" | "False" => Ok(Some(false)),
        "not_supported" if may_be_unsupported => Ok(None),
        _ => Err(row.error(column, format!("{} is not a boolean: expected true or false", quote(t)))),
    }
}
