//! Checks that start from the person: leavers with access, contractors without an end.

use crate::config::{ContractorNoEndDate, LeaverAccess};
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{Subject, SubjectKind};
use annexa_core::model::{BadgeStatus, PersonStatus, WorkerType};
use annexa_core::time::{start_of_day, Instant};
use serde_json::json;

/// When a person stopped being entitled to access: the end of their last day, or — when
/// HR says terminated but gives no end date — `None` (already past any deadline).
fn left_at(p: &annexa_core::model::Person, as_of: Instant) -> Option<Option<Instant>> {
    let end_of_last_day = p.end_date.map(|d| start_of_day(d) + chrono::Duration::days(1));
    match (p.status, end_of_last_day) {
        (PersonStatus::Terminated, end) => Some(end),
        (_, Some(end)) if end <= as_of => Some(Some(end)),
        _ => None,
    }
}

/// Leavers who still have an enabled account or an active badge after the SLA.
pub fn leaver_access(ctx: &Context<'_>, p: &LeaverAccess, f: &mut FindingBuilder<'_>) {
    let sla = chrono::Duration::hours(i64::from(p.sla_hours));
    for (pi, person) in ctx.graph.people.iter().enumerate() {
        let Some(left) = left_at(person, ctx.as_of) else { continue };
        if let Some(left) = left {
            if left + sla > ctx.as_of {
                continue;
            }
        }
        let since = match left {
            Some(l) => format!("left on {} ({} days ago)", person.end_date.map(|d| d.to_string()).unwrap_or_default(), ctx.days_since(l)),
            None => "is terminated in HR (no end date on record)".to_string(),
        };
        for &a in &ctx.accounts_of_person[pi] {
            let acc = &ctx.graph.accounts[a];
            if !acc.is_enabled() {
                continue;
            }
            f.push(
                ctx.account_subject(a),
                format!("{} {since} but {} account {} is still enabled", person.display_name(), acc.system, acc.username),
                vec![ctx.person_source(person), ctx.account_source(acc)],
                json!({ "status": person.status, "end_date": person.end_date, "left_at": left,
                        "sla_hours": p.sla_hours, "account_status": acc.status }),
            );
        }
        for &b in &ctx.badges_of_person[pi] {
            let badge = &ctx.graph.badges[b];
            if badge.status != BadgeStatus::Active {
                continue;
            }
            f.push(
                Subject {
                    kind: SubjectKind::Badge,
                    key: annexa_core::key::join(&[&badge.system, &badge.badge_id]),
                    label: format!("badge {} ({})", badge.badge_id, person.display_name()),
                },
                format!("{} {since} but badge {} still opens {}", person.display_name(), badge.badge_id, badge.zones.join(", ")),
                vec![
                    ctx.person_source(person),
                    ctx.source("badge", annexa_core::key::join(&[&badge.system, &badge.badge_id]), badge.origin),
                ],
                json!({ "status": person.status, "end_date": person.end_date, "left_at": left,
                        "sla_hours": p.sla_hours, "badge_last_used_at": badge.last_used_at, "zones": badge.zones }),
            );
        }
    }
}

/// Active contractors and vendors with no end date, or past it.
pub fn contractor_no_end_date(ctx: &Context<'_>, _: &ContractorNoEndDate, f: &mut FindingBuilder<'_>) {
    let today = ctx.as_of.date_naive();
    for person in &ctx.graph.people {
        if person.worker_type == WorkerType::Employee || person.status == PersonStatus::Terminated {
            continue;
        }
        let message = match person.end_date {
            None => format!("{} {} has no end date", person.worker_type, person.display_name()),
            Some(end) if end < today => {
                format!("{} {} is still active in HR, past the end date {end}", person.worker_type, person.display_name())
            }
            Some(_) => continue,
        };
        f.push(
            ctx.person_subject(person),
            message,
            vec![ctx.person_source(person)],
            json!({ "worker_type": person.worker_type, "end_date": person.end_date, "status": person.status }),
        );
    }
}
