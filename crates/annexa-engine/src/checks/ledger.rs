//! `log-integrity`: the evidence ledger verifies, and is checkpointed recently.

use crate::config::LogIntegrity;
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{Severity, Subject, SubjectKind};
use serde_json::json;

pub fn integrity(ctx: &Context<'_>, p: &LogIntegrity, f: &mut FindingBuilder<'_>) {
    let Some(status) = &ctx.ledger else { return };
    let subject = || Subject { kind: SubjectKind::Ledger, key: "ledger".into(), label: "evidence ledger".into() };
    if let Some(problem) = &status.problem {
        f.push(
            subject(),
            format!("The evidence ledger does not verify: {problem}"),
            Vec::new(),
            json!({ "entries": status.entries, "problem": problem }),
        );
        return;
    }
    let limit = i64::from(p.max_checkpoint_age_hours);
    let (message, values) = match status.newest_checkpoint {
        None if status.entries == 0 => return,
        None => (
            format!("The evidence ledger has {} entries and no signed checkpoint", status.entries),
            json!({ "entries": status.entries }),
        ),
        Some((size, at)) => {
            let hours = (ctx.as_of - at).num_hours();
            if hours <= limit {
                return;
            }
            (
                format!("The newest signed checkpoint of the evidence ledger is {hours} hours old (limit {limit})"),
                json!({ "entries": status.entries, "checkpoint_size": size, "checkpoint_at": at, "age_hours": hours }),
            )
        }
    };
    // A stale checkpoint weakens the evidence; a log that fails to verify destroys it.
    let severity = f.severity.min(Severity::High);
    f.push_with_severity(severity, subject(), message, Vec::new(), values);
}
