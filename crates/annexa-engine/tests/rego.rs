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
        .with(account("aws", "idle-bot").kind("service").cred(key("access_key_1").rotated(ago(120))).cred(key("cert").kind("certificate").rotated(ago(900))))
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
        let ids: Vec<&str> = reference::REFERENCE.iter().map(|(id, _)| *id).collect();
        for c in reference::compare(&ctx, &config, &ids) {
            assert_eq!(c.error, None, "{}", c.check);
            assert!(c.only_native.is_empty() && c.only_rego.is_empty() && c.different.is_empty(), "{c:#?}");
            assert!(c.native_findings > 0, "{} has a case", c.check);
        }
    }
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
    let g = edge_cases();
    let graph = g.0.resolved();
    let config = Config::default();
    let ctx = Context::new(&graph, &config, at(AS_OF));
    for (sort, def) in [(SubjectSort::Account, "accountItem"), (SubjectSort::Person, "personItem"), (SubjectSort::Holder, "holderItem")] {
        let mut seen = 0;
        rego::input_batches(&ctx, sort, &serde_json::json!({}), 7, &mut |batch| {
            conforms(&schema, &schema, &batch.input, "input");
            for item in batch.input["items"].as_array().expect("items") {
                let item_def = &schema["$defs"][def];
                conforms(&schema, item_def, item, def);
                for (field, sub) in item.as_object().expect("item") {
                    let sub_def = &item_def["properties"][field];
                    if sub.is_object() && (sub_def.get("$ref").is_some() || sub_def.get("properties").is_some()) {
                        conforms(&schema, sub_def, sub, &format!("{def}.{field}"));
                    }
                    if field == "person" && sub.is_object() {
                        conforms(&schema, &schema["$defs"]["person"], sub, "person");
                    }
                }
                seen += 1;
            }
            true
        });
        assert!(seen > 0);
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
