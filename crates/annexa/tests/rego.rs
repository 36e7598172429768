//! Checks written in Rego, through the CLI: the reference policies agree with the native
//! checks on the demo organisation; a custom check finds what it should on data shaped
//! unlike the demo, its own tests pass; a policy that does not compile, fails at run time or
//! returns the wrong shape stops only its own check, reported as an error naming the file,
//! never as passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use serde_json::Value;
use support::{annexa_in as annexa, import_in as import, json_in as json, ok_in as ok};

#[test]
fn reference_policies_agree_with_the_native_checks_on_the_demo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let db = format!("sqlite://{}", d.join("annexa.db").display());
    let org = d.join("org");
    ok(d, &db, &["demo", "--out", org.to_str().expect("utf8")]);
    let config = org.join("annexa.toml");
    let out = annexa(
        d,
        &db,
        &["--config", config.to_str().expect("utf8"), "--format", "json", "policy", "compare", "--as-of", "2026-10-01T00:00:00Z"],
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(out.status.success(), "{report:#}");
    let checks = report.as_array().expect("list");
    assert_eq!(checks.len(), annexa_engine::checks::CHECKS.len(), "every built-in check has a reference policy");
    for c in checks {
        assert_eq!(c["error"], Value::Null, "{c:#}");
        assert_eq!((c["only_native"].as_array().map(Vec::len), c["only_rego"].as_array().map(Vec::len)), (Some(0), Some(0)), "{c:#}");
        assert_eq!(c["different"].as_array().map(Vec::len), Some(0), "{c:#}");
        // The demo has no mover past its grace period on that day, no revocation left
        // undone, and a sound ledger: the engine's tests hold those to their edges.
        let quiet = ["mover-residual-access", "mover-access-review", "revocation-not-fulfilled", "log-integrity"];
        if !quiet.contains(&c["check"].as_str().unwrap_or_default()) {
            assert!(c["native_findings"].as_u64() > Some(0), "the demo seeds it: {c:#}");
        }
        assert_eq!(c["native_findings"], c["rego_findings"]);
    }
    // The reference policies can be written out to start a check from.
    let refs = d.join("reference");
    ok(d, &db, &["policy", "reference", "--out", refs.to_str().expect("utf8")]);
    assert!(refs.join("dormant-account.rego").is_file());
}

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
E1,ana.nunez@example.com,Ana,Núñez,IT/Ops,CISO,,Madrid,employee,active,2019-01-01,\n\
E2,søren.kierkegaard@example.com,Søren,Kierkegaard,IT/Ops,Consultant,E1,Oslo,contractor,active,2025-01-01,2027-06-30\n\
E3,zoe.ito@example.com,Zoë,Ito,Finance,Clerk,E1,Madrid,contractor,active,2025-01-01,2027-06-30\n";

const ACCOUNTS: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
cloud,ana@example.com,ana@example.com,,E1,Ana Núñez,enabled,admin,2020-01-01,2026-11-20,webauthn,,\n\
cloud,soren@example.com,soren@example.com,,E2,Søren Kierkegaard,enabled,human,2025-01-01,2026-11-20,totp,,\n\
cloud,zoe@example.com,zoe@example.com,,E3,Zoë Ito,enabled,human,2025-01-01,2026-11-20,totp,,\n";

const ASSIGNMENTS: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n\
cloud,ana@example.com,org/admins,true,2020-01-01,E1,request\n\
cloud,soren@example.com,org/admins,true,2025-01-01,E1,request\n\
cloud,zoe@example.com,finance/readers,false,2025-01-01,E1,request\n";

const CUSTOM: &str = r#"package annexa.custom.contractor_privileged

metadata := {
	"id": "contractor-privileged",
	"title": "Contractor with privileged access",
	"severity": "high",
	"controls": ["A.9.2.3", "A.5.18", "A.8.2"],
	"subjects": "accounts",
}

privileged(item) := [g.entitlement | some g in item.grants; g.privileged]

findings contains f if {
	some item in input.items
	item.person.worker_type in {w | some w in input.parameters.worker_types}
	count(privileged(item)) > 0
	f := {
		"key": item.subject.key,
		"message": sprintf("%s %s holds %s", [item.person.worker_type, item.person.display_name, concat(", ", privileged(item))]),
		"values": {"entitlements": privileged(item)},
	}
}
"#;

const CUSTOM_TEST: &str = r#"package annexa.custom.contractor_privileged_test

import data.annexa.custom.contractor_privileged

batch := {"parameters": {"worker_types": ["contractor"]}, "items": [{
	"subject": {"key": "x/y", "label": "y"},
	"person": {"worker_type": "contractor", "display_name": "Y"},
	"grants": [{"entitlement": "x:root", "privileged": true}],
}]}

test_a_privileged_contractor_is_found if {
	count(contractor_privileged.findings) == 1 with input as batch
}

employee_batch := {"parameters": {"worker_types": ["contractor"]}, "items": [{
	"subject": {"key": "x/y", "label": "y"},
	"person": {"worker_type": "employee", "display_name": "Y"},
	"grants": [{"entitlement": "x:root", "privileged": true}],
}]}

test_an_employee_is_not if {
	count(contractor_privileged.findings) == 0 with input as employee_batch
}
"#;

#[test]
fn custom_checks_run_in_the_audit_and_broken_ones_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let policies = d.join("policies");
    std::fs::create_dir(&policies).expect("dir");
    std::fs::write(policies.join("contractor_privileged.rego"), CUSTOM).expect("write");
    std::fs::write(policies.join("contractor_privileged_test.rego"), CUSTOM_TEST).expect("write");
    std::fs::write(
        policies.join("broken_syntax.rego"),
        "package annexa.custom.broken\n\nmetadata := {\"id\": \"broken\"\n\nfindings contains f if {\n",
    )
    .expect("write");
    std::fs::write(
        policies.join("runtime_error.rego"),
        "package annexa.custom.runtime\n\nmetadata := {\"id\": \"runtime-error\", \"severity\": \"low\", \"controls\": [\"A.5.15\"]}\n\nfindings contains f if {\n\tsome item in input.items\n\tn := to_number(item.account.username)\n\tf := {\"key\": item.subject.key, \"message\": sprintf(\"%v\", [n])}\n}\n",
    )
    .expect("write");
    std::fs::write(
        policies.join("wrong_shape.rego"),
        "package annexa.custom.shape\n\nmetadata := {\"id\": \"wrong-shape\", \"severity\": \"low\", \"controls\": [\"A.5.15\"]}\n\nfindings contains \"everything is fine\" if { true }\n",
    )
    .expect("write");
    std::fs::write(
        d.join("annexa.toml"),
        format!(
            "[policy]\ndir = \"{}\"\n\n[policy.parameters.contractor-privileged]\nworker_types = [\"contractor\", \"vendor\"]\n",
            policies.display()
        ),
    )
    .expect("write");
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", ACCOUNTS);
        import(d, db, "assignments", ASSIGNMENTS);
        let report = json(d, db, &["audit", "--as-of", "2026-12-01T00:00:00Z"]);
        let custom: Vec<&Value> =
            report["findings"].as_array().expect("findings").iter().filter(|f| f["check"] == "contractor-privileged").collect();
        assert_eq!(custom.len(), 1, "{report:#}");
        assert_eq!(custom[0]["message"], "contractor Søren Kierkegaard holds cloud:org/admins");
        assert_eq!(custom[0]["severity"], "high");
        assert_eq!(custom[0]["controls"], serde_json::json!(["A.8.2", "A.5.18"]), "a 2013 id becomes its 2022 control, once");
        assert_eq!(custom[0]["evidence"]["records"][0]["record"], "account");
        let errors: Vec<(String, String)> = report["not_evaluated"]
            .as_array()
            .expect("not evaluated")
            .iter()
            .map(|n| (n["check"].as_str().unwrap().to_string(), n["reason"].as_str().unwrap().to_string()))
            .collect();
        let reason = |check: &str| {
            errors.iter().find(|(c, _)| c == check).map(|(_, r)| r.clone()).unwrap_or_else(|| panic!("{check} not reported: {errors:#?}"))
        };
        assert!(
            reason("broken_syntax").starts_with("error: ") && reason("broken_syntax").contains("broken_syntax.rego:"),
            "{}",
            reason("broken_syntax")
        );
        assert!(
            reason("runtime-error").contains("runtime_error.rego") && reason("runtime-error").contains("findings"),
            "{}",
            reason("runtime-error")
        );
        assert!(
            reason("wrong-shape").contains("no \"key\"") || reason("wrong-shape").contains("set of objects"),
            "{}",
            reason("wrong-shape")
        );
        // Never passed: the table says error, JUnit has an error, --fail-on fails.
        let table = ok(d, db, &["audit", "--as-of", "2026-12-01T00:00:00Z"]);
        assert!(table.contains("runtime-error: error: "), "{table}");
        let junit = ok(d, db, &["--format", "junit", "audit", "--as-of", "2026-12-01T00:00:00Z"]);
        assert!(junit.contains("errors=\"3\"") && junit.contains("<error message="), "{junit}");
        let out = annexa(d, db, &["audit", "--as-of", "2026-12-01T00:00:00Z", "--fail-on", "critical"]);
        assert_eq!(out.status.code(), Some(1), "a check in error fails --fail-on");
        // The custom check is selectable by its id.
        let only = json(d, db, &["audit", "--as-of", "2026-12-01T00:00:00Z", "--check", "contractor-privileged"]);
        assert_eq!(only["findings"].as_array().map(Vec::len), Some(1));
    }
    // The tests cannot run beside a policy that does not compile: said, with where.
    let out = annexa(d, "sqlite://unused.db", &["policy", "test", policies.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken_syntax.rego:5:1"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn policy_test_and_eval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let policies = d.join("p");
    std::fs::create_dir(&policies).expect("dir");
    std::fs::write(policies.join("contractor_privileged.rego"), CUSTOM).expect("write");
    std::fs::write(policies.join("contractor_privileged_test.rego"), CUSTOM_TEST).expect("write");
    let db = "sqlite://unused.db";
    let tests = json(d, db, &["policy", "test", policies.to_str().expect("utf8")]);
    let outcomes: Vec<(String, String)> = tests
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| (t["test"].as_str().unwrap().to_string(), t["outcome"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(outcomes.len(), 2, "{tests:#}");
    assert!(outcomes.iter().all(|(_, o)| o == "pass"), "{tests:#}");
    std::fs::write(policies.join("failing_test.rego"), "package failing_test\n\ntest_one_is_two if { 1 == 2 }\n").expect("write");
    let out = annexa(d, db, &["policy", "test", policies.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL data.failing_test.test_one_is_two"));

    let input = d.join("batch.json");
    std::fs::write(
        &input,
        r#"{"parameters": {"worker_types": ["vendor"]}, "items": [{"subject": {"key": "a/b", "label": "b"}, "person": {"worker_type": "vendor", "display_name": "B"}, "grants": [{"entitlement": "a:x", "privileged": true}]}]}"#,
    )
    .expect("write");
    let answer = json(
        d,
        db,
        &[
            "policy",
            "eval",
            "count(data.annexa.custom.contractor_privileged.findings)",
            "--input",
            input.to_str().expect("utf8"),
            "--dir",
            policies.to_str().expect("utf8"),
        ],
    );
    assert_eq!(answer["result"][0]["expressions"][0]["value"], 1, "{answer:#}");
    let out = annexa(d, db, &["policy", "eval", "data.x[", "--dir", policies.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2), "a bad query is bad input");
}
