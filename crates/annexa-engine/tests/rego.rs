//! The reference Rego policies against the native checks at their boundaries (the same
//! edge cases the native tables hold), and the policies' input against its documented JSON
//! Schema, so that the schema a policy author reads is the input they get.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

#[allow(dead_code)] // the graph builders the boundary tables of checks.rs use, and this file does not
mod support;

use annexa_engine::config::Config;
use annexa_engine::context::Context;
use annexa_engine::rego::{self, reference, SubjectSort};
use support::*;

fn edge_cases() -> Graph {
    graph()
        .with(person("E1").name("Ann", "Lee"))
        .with(person("E2").name("Bo", "Ek").worker("contractor"))
        .with(person("E3").name("Cy", "Ng").worker("contractor").ends("2026-03-31"))
        .with(person("E4").name("Di", "Øst").worker("vendor").ends("2026-04-01"))
        .with(person("E5").name("Ed", "Fay").worker("contractor").terminated_on("2025-12-31"))
        // Leavers at the SLA's edge (24 hours after the end of the last day).
        .with(person("L1").name("Lo", "Ke").terminated_on("2026-03-30"))
        .with(person("L2").name("Mo", "Ri").terminated_on("2026-03-31"))
        .with(person("L3").name("Ny", "Ås").terminated())
        .with(person("L4").name("Oz", "Pe").ends("2026-03-30"))
        .with(person("L5").name("Pi", "Qu").status("terminated").ends("2026-06-30"))
        .with(account("ad", "lo.ke").employee("L1"))
        .with(account("ad", "mo.ri").employee("L2"))
        .with(account("ad", "ny.as").employee("L3"))
        .with(account("ad", "ny.old").employee("L3").disabled())
        .with(account("ad", "oz.pe").employee("L4"))
        .with(account("ad", "pi.qu").employee("L5"))
        .with(badge("B1", "L1"))
        // Orphans, each for its own reason; and accounts that are not.
        .with(person("K1").name("Kim", "Ng").email("team@corp.example"))
        .with(person("K2").name("Lee", "Ng").email("team@corp.example"))
        .with(account("ad", "ghost").employee("E404"))
        .with(account("ad", "mailer").email("nobody@corp.example"))
        .with(account("ad", "zz"))
        .with(account("aws", "team@corp.example"))
        .with(account("aws", "stranger@corp.example"))
        .with(account("ad", "adm-ghost").kind("admin").employee("E404"))
        .with(account("ad", "owned").employee("E404").owner("E1"))
        .with(account("ad", "ghost-off").employee("E404").disabled())
        // Segregation of duties: over two accounts of one person, on one account linked to
        // no one, a disabled account that does not count, patterns in any case and system.
        .with(person("S1").name("Sam", "Oak"))
        .with(account("erp", "sam").employee("S1"))
        .with(account("bank", "sam.oak").employee("S1"))
        .with(assignment("erp", "sam", "AP-Create-Vendor"))
        .with(assignment("bank", "sam.oak", "Pay.Approve"))
        .with(account("erp", "batch-x"))
        .with(assignment("erp", "batch-x", "ap-create-vendor"))
        .with(assignment("erp", "batch-x", "AP-Create-Invoice"))
        .with(assignment("erp", "batch-x", "GL-Post"))
        .with(person("S2").name("Una", "Fir"))
        .with(account("erp", "una").employee("S2"))
        .with(account("bank", "una.old").employee("S2").disabled())
        .with(assignment("erp", "una", "AP-Create-Vendor"))
        .with(assignment("bank", "una.old", "Pay.Approve"))
        // Certification: privileged at 90/91 days, standard at 365/366, granted and never
        // certified, several on one account (named, then counted), undated.
        .with(entitlement("app", "root").privileged())
        .with(account("app", "c1").employee("E1"))
        .with(assignment("app", "c1", "root").privileged().certified(ago(90)))
        .with(account("app", "c2").employee("E1"))
        .with(assignment("app", "c2", "root").privileged().certified(ago(91)))
        .with(account("app", "c3").employee("E1"))
        .with(assignment("app", "c3", "reader").granted(ago(366)))
        .with(assignment("app", "c3", "writer").granted(ago(365)))
        .with(account("app", "c4").employee("E1"))
        .with(assignment("app", "c4", "g-f").certified(ago(400)))
        .with(assignment("app", "c4", "g-b").granted(ago(500)))
        .with(assignment("app", "c4", "g-e").granted(ago(600)))
        .with(assignment("app", "c4", "g-a").certified(ago(700)))
        .with(assignment("app", "c4", "g-d").granted(ago(800)))
        .with(assignment("app", "c4", "g-c").granted(ago(900)))
        .with(assignment("app", "c4", "root").privileged().granted(ago(100)))
        .with(account("app", "c5").employee("E1"))
        .with(assignment("app", "c5", "undated"))
        // Credentials at the 90-day limit, and passwords.
        .with(account("aws", "ci-bot").kind("service").cred(key("access_key_1").rotated(ago(90)).used(ago(1))))
        .with(account("aws", "old-bot").kind("service").cred(key("access_key_1").rotated(ago(91)).used(ago(1))))
        .with(
            account("aws", "idle-bot")
                .kind("service")
                .cred(key("access_key_1").rotated(ago(120)))
                .cred(key("cert").kind("certificate").rotated(ago(900))),
        )
        .with(account("aws", "tok/bot").kind("service").cred(key("tok/1").kind("api-token").rotated(ago(95)).inactive()))
        .with(account("ad", "pw-old").employee("E1").password_set(ago(400)))
        .with(account("ad", "pw-new").employee("E1").password_set(ago(30)))
        .with(badge("B3", "L3"))
        .with(account("ad", "used-90d").employee("E1").last_login(ago(90)))
        .with(account("ad", "used-91d").employee("E1").last_login(ago(91)))
        .with(account("ad", "never-used-old").created(ago(200)))
        .with(account("ad", "never-used-new").created(ago(10)))
        .with(account("ad", "svc-idle").kind("service").last_login(ago(400)))
        .with(account("ad", "unknown-login").login_unknown())
        .with(account("ad", "no-mfa").employee("E1").mfa("none"))
        .with(account("ad", "sms").employee("E1").mfa("sms"))
        .with(account("ad", "mfa-unknown").employee("E1"))
        .with(account("ad", "adm-totp").kind("admin").employee("E1").mfa("totp"))
        .with(account("ad", "adm-fido").kind("admin").employee("E1").mfa("webauthn"))
        .with(account("aws", "<root_account>").root().mfa(""))
        .with(account("aws-prod", "<root_account>").root().last_login(ago(30)).cred(key("access_key_1")))
        .with(account("aws-dev", "<root_account>").root().last_login(ago(31)))
        .with(account("aws-lab", "<root_account>").root().cred(key("access_key_2").inactive()))
        .with(account("ad", "ops-totp").employee("E2").mfa("totp"))
        .with(entitlement("ad", "Domain Admins").privileged())
        .with(assignment("ad", "ops-totp", "Domain Admins").privileged())
        .with(account("ad", "svc-orphan").kind("service"))
        .with(account("ad", "svc-owned").kind("service").owner("E1"))
        .with(account("ad", "svc-leaver").kind("service").owner("E5"))
        .with(account("ad", "svc-off").kind("service").disabled())
        .with(account("ad", "frontdesk").kind("shared"))
        .with(account("ad", "CORP\\Test01"))
        .with(account("ad", "shared-ops@corp.example"))
        .with(account("ad", "tester"))
        .with(account("ad", "test.owned").owner("E1"))
}

#[test]
fn reference_policies_give_the_native_findings_at_the_boundaries() {
    let sod = "[[sod.rules]]\nid = \"vendor-pay\"\ndescription = \"create vendors and approve payments\"\n\
               sides = [[\"erp:AP-Create-*\", \"ERP:ap-create-vendor\"], [\"*.approve\"]]\n\n\
               [[sod.rules]]\nid = \"post-own\"\ndescription = \"create invoices and post them\"\nseverity = \"medium\"\n\
               sides = [[\"erp:AP-Create-Invoice\"], [\"erp:GL-*\"]]\n";
    let with_password_age = config(&format!(
        "[checks.stale-credential]\nmax_password_age_days = 365\n\n[checks.certification-overdue]\ninclude_undated = true\nseverity = \"critical\"\n\n{sod}"
    ));
    for (g, config) in [(edge_cases(), config(sod)), (edge_cases().reversed(), with_password_age)] {
        let graph = g.0.resolved();
        let ctx = Context::new(&graph, &config, at(AS_OF));
        // The checks of movers, roles, peers and Annexa's own records have their cases below.
        let ids: Vec<&str> = reference::REFERENCE.iter().map(|(id, _)| *id).filter(|id| !LIFECYCLE_CHECKS.contains(id)).collect();
        for c in reference::compare(&ctx, &config, &ids) {
            assert_eq!(c.error, None, "{}", c.check);
            assert!(c.only_native.is_empty() && c.only_rego.is_empty() && c.different.is_empty(), "{c:#?}");
            assert!(c.native_findings > 0, "{} has a case", c.check);
        }
    }
}

/// `id` moved from Sales to Eng (and to a new manager) `days` before [`AS_OF`].
fn moved(id: &str, days: i64) -> annexa_core::model::JmlEvent {
    use annexa_core::model::{AttributeChange, JmlEvent, JmlKind};
    let change = |attribute: &str, before: &str, after: &str| AttributeChange {
        attribute: attribute.into(),
        before: before.into(),
        after: after.into(),
    };
    JmlEvent {
        id: format!("J-{id}"),
        kind: JmlKind::Mover,
        employee_id: id.into(),
        effective_at: at(AS_OF) - chrono::Duration::days(days),
        detected_at: at(AS_OF) - chrono::Duration::days(days),
        changes: vec![change("department", "Sales", "Eng"), change("manager_id", "M1", "M2")],
        reason: "department changed".into(),
    }
}

/// Movers, access with and without a role behind it, peer groups of privileged access, and
/// the checks of Annexa's own records: each at its edges.
fn lifecycle_cases() -> Graph {
    let mut g = graph()
        // Movers: Ada 40 days ago, Bo 20, Cy (a leaver now) 40, Di 31 (an older move first).
        .with(person("E1").name("Ada", "Lee").department("Eng"))
        .with(person("E2").name("Bo", "Day").department("Eng"))
        .with(person("E3").name("Cy", "Fox").department("Eng").terminated_on("2026-03-30"))
        .with(person("E4").name("Di", "Øst").department("Eng").title("Lead"))
        .with(account("crm", "ada").employee("E1"))
        .with(account("crm", "ada-old").employee("E1").disabled())
        .with(account("crm", "bo@corp.example").employee("E2"))
        .with(account("crm", "cy").employee("E3"))
        .with(account("crm", "di").employee("E4"))
        .with(account("git", "svc-build").kind("service").employee("E1"))
        // Birthright of the old position only, of both, of the new only.
        .with(assignment("crm", "ada", "sales-team").source("birthright"))
        .with(assignment("crm", "ada", "sales-read").source("birthright"))
        .with(assignment("crm", "ada", "Sales-Forecast").source("birthright"))
        .with(assignment("git", "ada", "dev").source("request").granted_by("mgr").granted(ago(400)))
        // Requested before the move: carried over, undated, reviewed since, reviewed before only, after the move.
        .with(assignment("crm", "ada", "pipeline-admin").source("request").granted_by("mgr").granted(ago(300)))
        .with(assignment("crm", "ada", "quotes").source("request").granted_by("mgr"))
        .with(assignment("crm", "ada", "reports").source("request").granted_by("mgr").granted(ago(300)).certified(ago(10)))
        .with(assignment("crm", "ada", "forecast").source("request").granted_by("mgr").granted(ago(300)).certified(ago(81)))
        .with(assignment("crm", "ada", "exports").source("request").granted_by("new-mgr").granted(ago(5)))
        // Unexplained, for each reason; a request with no approver.
        .with(assignment("crm", "ada", "legacy").source("manual"))
        .with(assignment("crm", "ada", "mystery"))
        .with(assignment("crm", "ada", "asked").source("request"))
        .with(assignment("crm", "ada-old", "sales-team").source("birthright"))
        .with(assignment("git", "svc-build", "deploy"))
        .with(assignment("crm", "bo@corp.example", "sales-team").source("birthright"))
        .with(assignment("crm", "bo@corp.example", "pipeline-admin").source("request").granted_by("mgr").granted(ago(300)))
        .with(assignment("crm", "cy", "sales-team").source("birthright"))
        .with(assignment("crm", "cy", "pipeline-admin").source("request").granted_by("mgr").granted(ago(300)))
        .with(assignment("crm", "di", "sales-team").source("birthright"))
        .with(assignment("crm", "di", "lead-tools").source("birthright"));
    // Peer groups of privileged access: medians of 1 (3 and 4 above it), of 0 (counted as 1),
    // and a group of four, smaller than min_peers.
    for (department, title, counts) in
        [("Ops", "SRE", &[1, 1, 1, 3, 4][..]), ("Fin/AP", "Clerk", &[0, 0, 0, 0, 4, 2][..]), ("Ops", "Lead", &[0, 0, 0, 10][..])]
    {
        for (i, n) in counts.iter().enumerate() {
            let id = format!("{}-{}-{i}", department.replace('/', ""), title);
            let acc = id.to_lowercase();
            g = g.with(person(&id).name("Zoë", &id).department(department).title(title)).with(account("ad", &acc).employee(&id));
            for k in 0..*n {
                g = g.with(assignment("ad", &acc, &format!("Priv-{k}")).privileged());
            }
        }
    }
    // The outlier's second, disabled account counts for nothing; a leaver is in no group.
    g = g
        .with(account("ad", "ops-sre-4-old").employee("Ops-SRE-4").disabled())
        .with(assignment("ad", "ops-sre-4-old", "Priv-9").privileged())
        .with(person("Ops-SRE-x").department("Ops").title("SRE").terminated_on("2026-01-01"))
        .with(account("ad", "ops-sre-x").employee("Ops-SRE-x"))
        // Revoked in campaigns: still held past the window, at its edge, not yet, no import since.
        .with(account("erp", "a").employee("E1"))
        .with(account("erp", "off").employee("E1").disabled())
        .with(assignment("erp", "a", "r12"))
        .with(assignment("erp", "a", "r7"))
        .with(assignment("erp", "a", "r6"))
        .with(assignment("erp", "a", "after"))
        .with(assignment("erp", "off", "r12"))
        .with(badge("B9", "E1"));
    g.0.movers = vec![moved("E4", 200), moved("E1", 40), moved("E2", 20), moved("E3", 40), moved("E4", 31)];
    g
}

fn revocations() -> Vec<annexa_core::campaign::Revocation> {
    use annexa_core::campaign::{ItemKind, Revocation};
    let revocation = |item: i64, kind: ItemKind, account: &str, entitlement: &str, decided: &str| Revocation {
        item,
        campaign: 3,
        kind,
        system: if kind == ItemKind::BadgeZone { "badge".into() } else { "erp".into() },
        account_id: account.into(),
        entitlement: entitlement.into(),
        holder: format!("holder of {account}"),
        decided_at: at(decided),
        task: (item % 2 == 0).then_some(item),
    };
    vec![
        revocation(1, ItemKind::Assignment, "a", "r12", "2026-03-20T00:00:00Z"),
        revocation(2, ItemKind::Assignment, "a", "r7", "2026-03-25T00:00:00Z"),
        revocation(3, ItemKind::Assignment, "a", "r6", "2026-03-25T00:00:01Z"),
        revocation(4, ItemKind::Assignment, "a", "after", "2026-03-31T21:00:00Z"),
        revocation(5, ItemKind::Assignment, "a", "gone", "2026-03-01T00:00:00Z"),
        revocation(6, ItemKind::Assignment, "off", "r12", "2026-03-01T00:00:00Z"),
        revocation(7, ItemKind::Account, "a", "", "2026-03-01T00:00:00Z"),
        revocation(8, ItemKind::BadgeZone, "B9", "HQ", "2026-03-01T00:00:00Z"),
    ]
}

const LIFECYCLE_CHECKS: [&str; 6] = [
    "mover-residual-access",
    "mover-access-review",
    "unexplained-access",
    "privilege-outlier",
    "revocation-not-fulfilled",
    "log-integrity",
];

/// Roles and birthright rules, conditions nested, patterns in any case.
const ROLE_MODEL: &str = "[[roles]]\nid = \"sales\"\nentitlements = [\"crm:sales-*\"]\n\n\
                          [[roles]]\nid = \"eng\"\nentitlements = [\"git:dev\", \"crm:sales-read\"]\n\n\
                          [[roles]]\nid = \"lead\"\nentitlements = [\"crm:lead-*\"]\n\n\
                          [[roles]]\nid = \"ops\"\nentitlements = [\"ad:*\"]\n\n\
                          [[birthright]]\nid = \"sales\"\nwhen = { department = \"Sales\" }\nroles = [\"sales\"]\n\n\
                          [[birthright]]\nid = \"eng\"\nwhen = { all = [{ department = \"eng\" }, { not = { title = \"Lead\" } }] }\nroles = [\"eng\"]\n\n\
                          [[birthright]]\nid = \"leads\"\nwhen = { title = [\"Lead\", \"Head*\"] }\nroles = [\"lead\"]\n\n\
                          [[birthright]]\nid = \"ops\"\nwhen = { department = \"Ops\" }\nroles = [\"ops\"]\n";

#[test]
fn reference_policies_of_movers_roles_peers_and_own_records_agree_at_the_boundaries() {
    use annexa_engine::LedgerStatus;
    let hour = |h: i64| at(AS_OF) - chrono::Duration::hours(h);
    let ledgers = [
        LedgerStatus { entries: 12, problem: None, newest_checkpoint: Some((10, hour(23))) },
        LedgerStatus { entries: 12, problem: None, newest_checkpoint: Some((10, hour(25))) },
        LedgerStatus { entries: 5, problem: None, newest_checkpoint: None },
        LedgerStatus { entries: 0, problem: None, newest_checkpoint: None },
        LedgerStatus { entries: 12, problem: Some("entry 3 was changed".into()), newest_checkpoint: Some((10, hour(1))) },
    ];
    let configs = [
        ROLE_MODEL.to_string(),
        String::new(),
        format!(
            "{ROLE_MODEL}\n[checks.mover-residual-access]\ngrace_days = 41\n\n[checks.mover-access-review]\nreview_days = 20\n\n\
             [checks.privilege-outlier]\nfactor = 1.5\nmin_privileged = 2\nmin_peers = 4\n\n\
             [checks.revocation-not-fulfilled]\ndays = 12\n\n[checks.log-integrity]\nmax_checkpoint_age_hours = 48\nseverity = \"medium\"\n"
        ),
    ];
    let ids = LIFECYCLE_CHECKS;
    let mut found: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut not_evaluated = Vec::new();
    for (n, (g, config_toml)) in
        [lifecycle_cases(), lifecycle_cases().reversed()].into_iter().flat_map(|g| configs.clone().map(|c| (g.clone(), c))).enumerate()
    {
        let config = config(&config_toml);
        let graph = g.0.resolved();
        let mut ctx = Context::new(&graph, &config, at(AS_OF));
        ctx.ledger = Some(ledgers[n % ledgers.len()].clone());
        ctx.revocations = Some(revocations());
        for c in reference::compare(&ctx, &config, &ids) {
            assert_eq!(c.error, None, "{}", c.check);
            assert!(c.only_native.is_empty() && c.only_rego.is_empty() && c.different.is_empty(), "{c:#?}");
            *found.entry(ids.iter().find(|i| **i == c.check).expect("id")).or_default() += c.native_findings;
            not_evaluated.extend(c.not_evaluated.map(|r| (c.check.clone(), r)));
        }
    }
    for id in ids {
        assert!(found.get(id) > Some(&0), "{id} found something in one of the cases");
    }
    // Without a role model both sides say they cannot judge, in the same words.
    not_evaluated.sort();
    not_evaluated.dedup();
    let checks: Vec<&str> = not_evaluated.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(checks, ["mover-residual-access", "unexplained-access"]);
}

/// The properties a schema object declares, and those it requires.
fn declared(schema: &serde_json::Value, def: &serde_json::Value) -> (Vec<String>, Vec<String>) {
    let def = match def.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => &schema["$defs"][r.trim_start_matches("#/$defs/")],
        None => def,
    };
    let props = def["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
    let required = def["required"].as_array().map(|r| r.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    (props, required)
}

fn conforms(schema: &serde_json::Value, def: &serde_json::Value, value: &serde_json::Value, at: &str) {
    let (props, required) = declared(schema, def);
    let obj = value.as_object().unwrap_or_else(|| panic!("{at} is not an object"));
    for k in obj.keys() {
        assert!(props.contains(k), "{at}.{k} is not in docs/rego-input.schema.json");
    }
    for r in required {
        assert!(obj.contains_key(&r), "{at} lacks {r}, which the schema requires");
    }
}

#[test]
fn the_input_is_what_its_schema_documents() {
    let schema: serde_json::Value = serde_json::from_str(include_str!("../../../docs/rego-input.schema.json")).expect("schema");
    let sorts = [
        (SubjectSort::Account, "accountItem"),
        (SubjectSort::Person, "personItem"),
        (SubjectSort::Holder, "holderItem"),
        (SubjectSort::Revocation, "revocationItem"),
        (SubjectSort::Ledger, "ledgerItem"),
    ];
    for (g, config) in [(edge_cases(), Config::default()), (lifecycle_cases(), config(ROLE_MODEL))] {
        let graph = g.0.resolved();
        let mut ctx = Context::new(&graph, &config, at(AS_OF));
        ctx.ledger = Some(annexa_engine::LedgerStatus { entries: 3, problem: None, newest_checkpoint: Some((3, at(AS_OF))) });
        ctx.revocations = Some(revocations());
        for (sort, def) in sorts {
            let mut seen = 0;
            rego::input_batches(&ctx, sort, &serde_json::json!({}), 7, &mut |batch| {
                conforms(&schema, &schema, &batch.input, "input");
                conforms(&schema, &schema["properties"]["role_model"], &batch.input["role_model"], "input.role_model");
                for item in batch.input["items"].as_array().expect("items") {
                    let item_def = &schema["$defs"][def];
                    conforms(&schema, item_def, item, def);
                    for (field, sub) in item.as_object().expect("item") {
                        let sub_def = &item_def["properties"][field];
                        if sub.is_object() && (sub_def.get("$ref").is_some() || sub_def.get("properties").is_some()) {
                            conforms(&schema, sub_def, sub, &format!("{def}.{field}"));
                        }
                        if field == "person" && sub.is_object() {
                            let person = &schema["$defs"]["person"];
                            conforms(&schema, person, sub, "person");
                            if sub["latest_move"].is_object() {
                                conforms(&schema, &person["properties"]["latest_move"], &sub["latest_move"], "person.latest_move");
                            }
                        }
                    }
                    seen += 1;
                }
                true
            });
            assert!(seen > 0, "{def}");
        }
    }
}

#[test]
fn a_policy_failing_in_a_later_batch_stores_nothing_and_is_an_error() {
    // 500 subjects make the first batch, in which every finding is fine; the 501st account
    // makes the second batch fail.
    let mut g = graph();
    for i in 1..=500 {
        g = g.with(account("app", &i.to_string()));
    }
    g = g.with(account("app", "not-a-number"));
    let policy = rego::PolicySource {
        file: "policies/numbers.rego".into(),
        text: r#"package annexa.custom.numbers

metadata := {"id": "numbers", "severity": "low", "controls": ["A.5.15"]}

findings contains f if {
	some item in input.items
	n := to_number(item.account.username)
	n > 0
	f := {"key": item.subject.key, "message": "a number"}
}
"#
        .into(),
    };
    let (policies, errors) = rego::compile(&[policy], rego::DEFAULT_TIMEOUT);
    assert!(errors.is_empty(), "{errors:?}");
    let own =
        annexa_engine::OwnRecords { policies: policies.into_iter().map(|p| (p, serde_json::json!({}))).collect(), ..Default::default() };
    let mut found = Vec::new();
    let summary =
        annexa_engine::audit_stream(&g.0, &Config::default(), at(AS_OF), &["numbers".to_string()], own, &|batch| batch, &mut |batch| {
            found.extend(batch);
            true
        })
        .expect("audit");
    assert!(found.is_empty(), "{} findings of a check that failed", found.len());
    assert_eq!(summary.not_evaluated.len(), 1);
    assert!(summary.not_evaluated[0].reason.starts_with("error: policies/numbers.rego: rule findings:"), "{:?}", summary.not_evaluated);
    assert!(!summary.checks_run.contains(&"numbers".to_string()), "never passed");
}

#[test]
fn a_policy_that_cannot_judge_says_so_and_finds_nothing() {
    let g = graph().with(account("app", "a"));
    let policy = |not_evaluated: &str| rego::PolicySource {
        file: "policies/needs-roles.rego".into(),
        text: format!(
            "package annexa.custom.needs_roles\n\n\
             metadata := {{\"id\": \"needs-roles\", \"severity\": \"low\", \"controls\": [\"A.5.15\"]}}\n\n\
             {not_evaluated}\n\n\
             findings contains {{\"key\": item.subject.key, \"message\": \"found\"}} if some item in input.items\n"
        ),
    };
    let run = |source: rego::PolicySource| {
        let (policies, errors) = rego::compile(&[source], rego::DEFAULT_TIMEOUT);
        assert!(errors.is_empty(), "{errors:?}");
        let own = annexa_engine::OwnRecords {
            policies: policies.into_iter().map(|p| (p, serde_json::json!({}))).collect(),
            ..Default::default()
        };
        let mut found = 0;
        let summary =
            annexa_engine::audit_stream(&g.0, &Config::default(), at(AS_OF), &["needs-roles".to_string()], own, &|b| b, &mut |b| {
                found += b.len();
                true
            })
            .expect("audit");
        (found, summary.not_evaluated.into_iter().map(|n| n.reason).collect::<Vec<_>>())
    };
    // Its reason is the audit's, not an error; nothing is found.
    let cannot = "not_evaluated := \"no role model\" if count(input.role_model.birthright) == 0";
    assert_eq!(run(policy(cannot)), (0, vec!["no role model".to_string()]));
    // With a role model configured it judges (an undefined rule is no reason).
    let can = "not_evaluated := \"no role model\" if count(input.role_model.birthright) == 99";
    assert_eq!(run(policy(can)), (1, vec![]));
    // A reason that is not a string is the policy's error, never a pass.
    let (found, reasons) = run(policy("not_evaluated := 42"));
    assert_eq!(found, 0);
    assert!(reasons[0].starts_with("error: policies/needs-roles.rego: rule not_evaluated must be a string"), "{reasons:?}");
}
