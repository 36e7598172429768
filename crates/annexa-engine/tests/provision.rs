//! Provisioning plans: what due lifecycle events become on the target systems, and what is
//! held back until screening.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

#[allow(dead_code)] // shared with the check tests; this file uses a few builders
mod support;

use annexa_core::model::{JmlEvent, JmlKind};
use annexa_engine::config::Config;
use annexa_engine::provision::plan;
use support::*;

const NOW: &str = "2026-04-01T00:00:00Z";

fn config(extra: &str) -> Config {
    let text = format!(
        "{extra}\n[privileged]\nentitlements = [\"corp:*-admins\"]\n\n\
         [[roles]]\nid = \"eng\"\nentitlements = [\"corp:eng-team\", \"corp:eng-admins\"]\n\n\
         [[birthright]]\nid = \"eng\"\nwhen = {{ department = \"Eng\" }}\nroles = [\"eng\"]\n\n\
         [[connectors]]\nsystem = \"corp\"\nkind = \"ldap\"\nurl = \"ldap://127.0.0.1:389\"\nbase = \"dc=x\"\ncreate_accounts = true\n"
    );
    Config::parse("annexa.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn joined(id: &str) -> JmlEvent {
    JmlEvent {
        id: format!("J-{id}"),
        kind: JmlKind::Joiner,
        employee_id: id.into(),
        effective_at: at(NOW),
        detected_at: at(NOW),
        changes: Vec::new(),
        reason: "new in HR".into(),
    }
}

fn planned(extra: &str) -> (Vec<String>, Vec<String>) {
    let g = graph()
        .with(person("E1").name("Ann", "Lee")) // never screened
        .with(person("E2").name("Bo", "Day").screened("2026-03-01"))
        .with(person("E3").name("Cy", "Fox").screened("2026-04-15")); // screening still running
    let events = [joined("E1"), joined("E2"), joined("E3")];
    let p = plan(&g.0, &config(extra), &events, at(NOW));
    let mut tasks: Vec<String> =
        p.tasks.iter().map(|t| format!("{} {} {}", t.action, t.account_id, t.entitlement.as_deref().unwrap_or("-"))).collect();
    tasks.sort();
    let mut held: Vec<String> = p.held.iter().map(|h| format!("{} {} {}: {}", h.employee_id, h.account_id, h.entitlement, h.reason)).collect();
    held.sort();
    (tasks, held)
}

#[test]
fn privileged_birthright_waits_for_screening_where_configured() {
    let (tasks, held) = planned("[provisioning]\nscreening_before_privileged = true\n");
    assert_eq!(
        tasks,
        [
            "add-membership ann.lee eng-team",
            "add-membership bo.day eng-admins",
            "add-membership bo.day eng-team",
            "add-membership cy.fox eng-team",
            "create-account ann.lee -",
            "create-account bo.day -",
            "create-account cy.fox -",
        ]
    );
    assert_eq!(
        held,
        [
            "E1 ann.lee eng-admins: no screening recorded (A.6.1)",
            "E3 cy.fox eng-admins: screening not complete until 2026-04-15",
        ]
    );
}

#[test]
fn without_the_setting_screening_does_not_hold_access() {
    let (tasks, held) = planned("");
    assert_eq!(tasks.iter().filter(|t| t.contains("eng-admins")).count(), 3, "{tasks:?}");
    assert!(held.is_empty());
}
