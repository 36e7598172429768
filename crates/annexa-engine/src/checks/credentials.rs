//! Stale credentials: unrotated or unused access keys and API tokens, and password age where
//! a maximum is set.

use crate::config::StaleCredential;
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{Subject, SubjectKind};
use annexa_core::model::CredentialKind;
use serde_json::json;

pub fn stale(ctx: &Context<'_>, p: &StaleCredential, f: &mut FindingBuilder<'_>) {
    let limit = i64::from(p.days);
    for (i, a) in ctx.graph.accounts.iter().enumerate() {
        // Access keys and API tokens only: a signing certificate's life is its validity
        // period, and sources report no use of it.
        for c in a.credentials.iter().filter(|c| c.active && c.kind != CredentialKind::Certificate) {
            let Some(rotated) = c.rotated_at else { continue };
            let age = ctx.days_since(rotated);
            let mut reasons = Vec::new();
            if age > limit {
                reasons.push(format!("not rotated for {age} days (limit {limit})"));
            }
            if c.last_used_at.is_none() && age > limit {
                reasons.push(format!("never used in the {age} days since it was issued"));
            }
            if reasons.is_empty() {
                continue;
            }
            let subject = ctx.account_subject(i);
            f.push(
                Subject {
                    kind: SubjectKind::Credential,
                    key: format!("{}/{}", subject.key, annexa_core::key::part(&c.slot)),
                    label: format!("{} {}", subject.label, c.slot),
                },
                format!("Active {} {} of {} account {} is {}", c.kind, c.slot, a.system, a.username, reasons.join(" and ")),
                vec![ctx.account_source(a)],
                json!({ "slot": c.slot, "kind": c.kind, "rotated_at": rotated, "days_since_rotation": age,
                        "last_used_at": c.last_used_at, "limit_days": limit }),
            );
        }
        if p.max_password_age_days == 0 || !a.is_enabled() {
            continue;
        }
        let Some(set) = a.password_last_set_at else { continue };
        let age = ctx.days_since(set);
        if age > i64::from(p.max_password_age_days) {
            let subject = ctx.account_subject(i);
            f.push(
                Subject { kind: SubjectKind::Credential, key: format!("{}/password", subject.key), label: format!("{} password", subject.label) },
                format!("Password of {} account {} is {age} days old (maximum {})", a.system, a.username, p.max_password_age_days),
                vec![ctx.account_source(a)],
                json!({ "password_last_set_at": set, "password_age_days": age, "max_password_age_days": p.max_password_age_days }),
            );
        }
    }
}
