//! Records the store tests share.
#![allow(dead_code)]

use annexa_core::model::*;
use annexa_core::time::parse_instant;

pub fn at(s: &str) -> annexa_core::time::Instant {
    parse_instant(s).expect("valid instant")
}

/// An enabled human account with MFA and an access key.
pub fn account(system: &str, id: &str) -> Account {
    Account {
        system: system.into(),
        account_id: id.into(),
        username: id.into(),
        email: None,
        employee_id: Some("E1".into()),
        display_name: "Someone".into(),
        status: AccountStatus::Enabled,
        kind: AccountType::Human,
        created_at: Some(at("2021-01-01T00:00:00Z")),
        last_login_at: None,
        last_login_known: true,
        mfa: Some(vec![MfaFactor::Totp, MfaFactor::Webauthn]),
        password_last_set_at: None,
        interactive: true,
        root: false,
        owner: None,
        credentials: vec![Credential {
            slot: "access_key_1".into(),
            kind: CredentialKind::AccessKey,
            active: true,
            rotated_at: Some(at("2022-02-02T00:00:00Z")),
            last_used_at: None,
        }],
        origin: Origin { import_id: 0, line: 3 },
    }
}
