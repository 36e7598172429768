//! Joiners, movers and leavers: what changed between two HR snapshots.
//!
//! The HR feed is the source of truth for who works here. Comparing the previous snapshot
//! with the new one gives the lifecycle events that access must follow (A.5.16, A.5.18,
//! A.6.5): a joiner gets birthright access, a mover the new department's and, after a
//! grace period, loses the old one's, a leaver loses everything. Events carry the date
//! they take effect; those in the future wait for it.

use annexa_core::model::{AttributeChange, JmlEvent, JmlKind, Person, PersonStatus};
use annexa_core::time::{start_of_day, Instant};
use rustc_hash::FxHashMap as HashMap;
use sha2::{Digest, Sha256};

/// The stable id of an event.
fn event_id(kind: JmlKind, employee_id: &str, effective_at: Instant) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update([0]);
    h.update(employee_id.as_bytes());
    h.update([0]);
    h.update(effective_at.timestamp().to_be_bytes());
    format!("J-{}", annexa_core::to_hex(&h.finalize()[..8]))
}

fn event(kind: JmlKind, p: &Person, effective_at: Instant, now: Instant, changes: Vec<AttributeChange>, reason: String) -> JmlEvent {
    JmlEvent {
        id: event_id(kind, &p.employee_id, effective_at),
        kind,
        employee_id: p.employee_id.clone(),
        effective_at,
        detected_at: now,
        changes,
        reason,
    }
}

fn change(attribute: &str, before: &str, after: &str) -> AttributeChange {
    AttributeChange { attribute: attribute.to_string(), before: before.to_string(), after: after.to_string() }
}

/// When a leaver's access must go: the end of their last day, or now if HR gives none.
fn leaving_at(p: &Person, now: Instant) -> Instant {
    p.end_date.map(|d| start_of_day(d) + chrono::Duration::days(1)).unwrap_or(now)
}

/// The events that turn `old` into `new` (whole HR snapshots), detected at `now`.
pub fn detect(old: &[Person], new: &[Person], now: Instant) -> Vec<JmlEvent> {
    let before: HashMap<&str, &Person> = old.iter().map(|p| (&*p.employee_id, p)).collect();
    let mut seen: HashMap<&str, ()> = HashMap::default();
    let mut events = Vec::new();
    for p in new {
        seen.insert(&p.employee_id, ());
        // A start date in the future is when access is due; one in the past means now.
        let starts = match p.start_date.map(start_of_day) {
            Some(s) if s > now => s,
            _ => now,
        };
        match before.get(&*p.employee_id) {
            None if p.status != PersonStatus::Terminated => {
                events.push(event(JmlKind::Joiner, p, starts, now, Vec::new(), "new in the HR feed".into()));
            }
            None => {}
            Some(o) if o.status == PersonStatus::Terminated && p.status != PersonStatus::Terminated => {
                let changes = vec![change("status", o.status.as_str(), p.status.as_str())];
                events.push(event(JmlKind::Joiner, p, starts, now, changes, "rehired".into()));
            }
            Some(o) => {
                if o.status != PersonStatus::Terminated && p.status == PersonStatus::Terminated {
                    let changes = vec![change("status", o.status.as_str(), p.status.as_str())];
                    events.push(event(JmlKind::Leaver, p, leaving_at(p, now), now, changes, "terminated in HR".into()));
                    continue;
                }
                if p.status != PersonStatus::Terminated && p.end_date.is_some() && p.end_date != o.end_date {
                    // A known last day: the leaver event waits for it.
                    let d = p.end_date.map(|d| d.to_string()).unwrap_or_default();
                    let was = o.end_date.map(|d| d.to_string()).unwrap_or_default();
                    events.push(event(JmlKind::Leaver, p, leaving_at(p, now), now, vec![change("end_date", &was, &d)], format!("last day {d}")));
                }
                let mut changes = Vec::new();
                for (attribute, a, b) in [
                    ("department", o.department.as_str(), p.department.as_str()),
                    ("title", o.title.as_str(), p.title.as_str()),
                    ("location", o.location.as_str(), p.location.as_str()),
                    ("manager_id", o.manager_id.as_deref().unwrap_or(""), p.manager_id.as_deref().unwrap_or("")),
                ] {
                    if a != b {
                        changes.push(change(attribute, a, b));
                    }
                }
                if !changes.is_empty() && p.status != PersonStatus::Terminated {
                    let what: Vec<&str> = changes.iter().map(|c| c.attribute.as_str()).collect();
                    events.push(event(JmlKind::Mover, p, now, now, changes.clone(), format!("{} changed", what.join(", "))));
                }
            }
        }
    }
    // Whoever vanished from a complete feed has left.
    for o in old {
        if o.status != PersonStatus::Terminated && !seen.contains_key(&*o.employee_id) {
            events.push(event(JmlKind::Leaver, o, now, now, Vec::new(), "no longer in the HR feed".into()));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use annexa_core::model::{Origin, WorkerType};
    use annexa_core::time::parse_instant;

    fn person(id: &str, dept: &str) -> Person {
        Person {
            employee_id: id.into(),
            email: None,
            given_name: id.into(),
            family_name: "X".into(),
            department: dept.into(),
            title: "Engineer".into(),
            manager_id: None,
            location: "Berlin".into(),
            worker_type: WorkerType::Employee,
            status: PersonStatus::Active,
            start_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1),
            end_date: None,
            screening_date: None,
            origin: Origin::default(),
        }
    }

    #[test]
    fn joiners_movers_and_leavers() {
        let now = parse_instant("2026-05-01T10:00:00Z").expect("now");
        let mut future = person("NEW2", "Sales");
        future.start_date = chrono::NaiveDate::from_ymd_opt(2026, 6, 1);
        let mut moved = person("MOV", "Sales");
        moved.title = "Lead".into();
        let mut left = person("LEFT", "Eng");
        left.status = PersonStatus::Terminated;
        left.end_date = chrono::NaiveDate::from_ymd_opt(2026, 4, 30);
        let mut leaving = person("SOON", "Eng");
        leaving.end_date = chrono::NaiveDate::from_ymd_opt(2026, 5, 31);
        let mut rehired_before = person("BACK", "Eng");
        rehired_before.status = PersonStatus::Terminated;
        let old = vec![person("MOV", "Eng"), person("LEFT", "Eng"), person("SOON", "Eng"), person("GONE", "Eng"), rehired_before, person("SAME", "Eng")];
        let new = vec![person("NEW1", "Eng"), future, moved, left, leaving, person("BACK", "Eng"), person("SAME", "Eng")];
        let events = detect(&old, &new, now);
        let got: Vec<(String, &str, String)> =
            events.iter().map(|e| (e.employee_id.to_string(), e.kind.as_str(), e.effective_at.to_rfc3339())).collect();
        let want = [
            ("NEW1", "joiner", "2026-05-01T10:00:00+00:00"),
            ("NEW2", "joiner", "2026-06-01T00:00:00+00:00"),
            ("MOV", "mover", "2026-05-01T10:00:00+00:00"),
            ("LEFT", "leaver", "2026-05-01T00:00:00+00:00"),
            ("SOON", "leaver", "2026-06-01T00:00:00+00:00"),
            ("BACK", "joiner", "2026-05-01T10:00:00+00:00"),
            ("GONE", "leaver", "2026-05-01T10:00:00+00:00"),
        ];
        let want: Vec<(String, &str, String)> = want.iter().map(|(a, b, c)| (a.to_string(), *b, c.to_string())).collect();
        assert_eq!(got, want);
        let mover = events.iter().find(|e| &*e.employee_id == "MOV").expect("mover");
        assert_eq!(mover.changes, vec![change("department", "Eng", "Sales"), change("title", "Engineer", "Lead")]);
        // Detecting again gives the same ids: re-importing a snapshot records nothing new.
        let again = detect(&old, &new, now);
        assert_eq!(events.iter().map(|e| &e.id).collect::<Vec<_>>(), again.iter().map(|e| &e.id).collect::<Vec<_>>());
    }
}
