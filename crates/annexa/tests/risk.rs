//! The risk register end to end through the CLI, on SQLite and PostgreSQL, on an
//! organisation the demo did not make: the library added before any audit, the first
//! audit's leavers and weak admin MFA suggesting changes with their reasoning, a suggestion
//! applied on confirmation, FIDO2 everywhere lowering account takeover, bad edits refused
//! with nothing changed, and a simulation that reproduces bit for bit from its seed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use serde_json::Value;
use std::path::Path;
use support::{annexa_in as annexa, import_in as import, json_in as json, ok_in as ok};

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
E1,ana.nunez@example.com,Ana,Núñez,IT/Ops,CISO,,Madrid,employee,active,2019-01-01,\n\
E2,leo.berg@example.com,Leo,Berg,Finance,Clerk,E1,Madrid,employee,terminated,2020-01-01,2026-09-01\n\
E3,zoe.ito@example.com,Zoë,Ito,Finance,Clerk,E1,Madrid,employee,terminated,2021-01-01,2026-08-01\n\
E4,jon.ek@example.com,Jon,Ek,IT/Ops,Admin,E1,Madrid,employee,active,2021-01-01,\n";

fn accounts(admin_mfa: &str) -> String {
    format!(
        "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
erp,ana.nunez@example.com,ana.nunez@example.com,,E1,Ana Núñez,enabled,human,2020-01-01,2026-11-20,webauthn,,\n\
erp,leo.berg@example.com,leo.berg@example.com,,E2,Leo Berg,enabled,human,2020-01-01,2026-08-20,totp,,\n\
erp,zoe.ito@example.com,zoe.ito@example.com,,E3,Zoë Ito,enabled,human,2021-01-01,2026-07-20,totp,,\n\
cloud,adm-jon,adm-jon,jon.ek@example.com,E4,Jon Ek (admin),enabled,admin,2021-01-01,2026-11-20,{admin_mfa},,\n"
    )
}

fn risk_by_key<'a>(risks: &'a Value, key: &str) -> &'a Value {
    risks.as_array().expect("risks").iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("no {key} in {risks:#}"))
}

fn label(risk: &Value) -> String {
    format!("R-{}", risk["id"])
}

fn ledger_entries(dir: &Path, db: &str) -> String {
    let out = ok(dir, db, &["ledger", "verify"]);
    out.split(',').next().expect("count").to_string()
}

/// The ledger's newest entry.
fn last_entry(dir: &Path, db: &str) -> Value {
    let count = ledger_entries(dir, db);
    let n: u64 = count.trim_start_matches("ledger verified: ").trim_end_matches(" entries").parse().expect("count");
    json(dir, db, &["ledger", "show", &(n - 1).to_string()])["entry"].clone()
}

fn refused(dir: &Path, db: &str, args: &[&str], expected: &str) {
    let before = (json(dir, db, &["risk", "list"]), ledger_entries(dir, db));
    let out = annexa(dir, db, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert_eq!((json(dir, db, &["risk", "list"]), ledger_entries(dir, db)), before, "{args:?} changed nothing");
}

#[test]
fn the_register_follows_the_evidence_and_the_simulation_reproduces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for db in annexa_store::testing::fresh_databases(d) {
        let db = db.as_str();
        import(d, db, "hr", HR);
        import(d, db, "accounts", &accounts("totp"));

        // Before any audit, risks whose frequency follows a measure keep their inherent
        // likelihood: nothing measured it yet.
        let added = json(d, db, &["risk", "add", "--library", "all", "--owner", "E1"]);
        assert_eq!(added.as_array().expect("added").len(), 7);
        let former = risk_by_key(&added, "former-staff-access");
        assert_eq!(former["residual"]["likelihood"], 4);
        assert_eq!(former["controls"], serde_json::json!(["A.5.16", "A.5.18", "A.6.5"]));
        let (former_label, takeover_label) = (label(former), label(risk_by_key(&added, "account-takeover")));
        let out = String::from_utf8(annexa(d, db, &["risk", "add", "--library", "all", "--owner", "E1"]).stdout).expect("utf8");
        assert!(out.contains("already in the register"), "{out}");
        refused(d, db, &["risk", "add", "--library", "former-staff-access", "--owner", "E1"], "already in the register as");
        assert!(json(d, db, &["risk", "suggest"]).as_array().expect("list").is_empty(), "no audit, no evidence");
        // Risks whose driver nothing measured yet are left out of a simulation, and it says so.
        let sim = json(d, db, &["risk", "simulate", "--seed", "1", "--iterations", "1000"]);
        assert_eq!(sim["outcome"]["risks"].as_array().expect("risks").len(), 4);
        assert_eq!(sim["not_simulated"][0][0].as_str(), Some(former_label.as_str()));
        assert_eq!(
            sim["not_simulated"][0][1],
            "its frequency follows open-findings:leaver-access, but no audit has evaluated leaver-access yet"
        );

        // The first audit: two leavers keep their ERP accounts, the admin has TOTP only.
        ok(d, db, &["audit", "--as-of", "2026-12-01T00:00:00Z"]);
        let suggestions = json(d, db, &["risk", "suggest"]);
        let of = |l: &str| suggestions.as_array().expect("list").iter().find(|s| s["label"] == l).cloned();
        let s = of(&former_label).expect("former staff suggested");
        // 2 leavers × 0.05 a year each is 0.1 a year: likelihood 2.
        assert_eq!((s["likelihood_from"].as_u64(), s["likelihood_to"].as_u64()), (Some(4), Some(2)), "{s:#}");
        assert_eq!(s["reasons"][0], "audit run #1 measured 2 open leaver-access finding(s)");
        // The one privileged account has no phishing-resistant factor: 100 % of 0.5–2.5 a
        // year is typically 1.5, likelihood 4, what the register already holds.
        assert!(of(&takeover_label).is_none(), "{suggestions:#}");

        // Applied on confirmation only, one risk named; each a ledger entry with the reasoning.
        let applied = json(d, db, &["risk", "suggest", "--apply", &former_label]);
        assert_eq!(applied[0]["residual"]["likelihood"], 2);
        assert_eq!(applied[0]["version"], 2);
        let entry = last_entry(d, db);
        assert_eq!(entry["kind"], "risk-suggestion-applied", "{entry:#}");
        assert_eq!(entry["data"]["reasons"][0], "audit run #1 measured 2 open leaver-access finding(s)");
        assert_eq!(entry["data"]["state"]["residual"]["likelihood"], 2);
        let shown = json(d, db, &["risk", "show", &takeover_label]);
        assert_eq!(shown["version"], 1, "a suggestion not named is not applied");
        refused(d, db, &["risk", "suggest", "--apply", &former_label], "there is no suggestion for");

        // FIDO2 on the admin: the next audit's posture lowers account takeover.
        import(d, db, "accounts", &accounts("webauthn"));
        ok(d, db, &["audit", "--as-of", "2026-12-02T00:00:00Z"]);
        let t = json(d, db, &["risk", "suggest"]).as_array().expect("list").iter().find(|s| s["label"] == takeover_label.as_str()).cloned();
        let t = t.expect("takeover suggested");
        assert_eq!(t["likelihood_to"], 1, "{t:#}");
        assert!(t["reasons"][0].as_str().expect("text").contains("0 % of 1 privileged account(s)"), "{t:#}");
        json(d, db, &["risk", "suggest", "--apply", "all"]);
        assert!(json(d, db, &["risk", "suggest"]).as_array().expect("list").is_empty(), "the register agrees with the evidence");

        // A risk of one's own, quantified: its residual rating follows the ranges.
        let mine = json(
            d,
            db,
            &[
                "risk",
                "add",
                "--title",
                "Vendor access to payroll",
                "--asset",
                "Payroll data",
                "--threat",
                "A vendor account is misused",
                "--vulnerability",
                "Vendor accounts never expire",
                "--owner",
                "E1",
                "--likelihood",
                "3",
                "--impact",
                "4",
                "--control",
                "A.15.1.1",
                "--frequency",
                "0.5-1.5",
                "--loss",
                "60_000-2,000,000",
                "--shape",
                "lognormal",
            ],
        );
        let mine_label = label(&mine[0]);
        // 1 event a year is likelihood 4; the median loss (~346,000) is impact 4.
        assert_eq!(mine[0]["residual"], serde_json::json!({ "likelihood": 4, "impact": 4 }));
        assert_eq!(mine[0]["controls"], serde_json::json!(["A.5.19"]), "a 2013 control id becomes its 2022 one");

        // Bad input: refused with the reason, nothing changed.
        refused(d, db, &["risk", "edit", &mine_label, "--residual-likelihood", "1"], "contradicts the frequency range");
        refused(d, db, &["risk", "edit", &mine_label, "--loss", "500-100"], "is not a range of loss per event");
        refused(d, db, &["risk", "edit", &mine_label, "--control", "A.99.9"], "is not an Annex A control");
        refused(d, db, &["risk", "edit", &mine_label, "--driver", "open-findings:no-such-check"], "is not a built-in check");
        refused(d, db, &["risk", "edit", &mine_label, "--owner", "E4", "--version", "7"], "is at version 1, not 7");
        refused(d, db, &["risk", "edit", "R-99", "--owner", "E4"], "there is no risk R-99");
        refused(d, db, &["risk", "treat", &mine_label, "--treatment", "modify"], "needs a plan");
        refused(
            d,
            db,
            &["risk", "add", "--title", "x", "--owner", "E1"],
            "a new risk needs --asset, --threat, --vulnerability, --likelihood, --impact",
        );
        refused(d, db, &["risk", "simulate", "--iterations", "0"], "0 iterations");
        let treated = json(
            d,
            db,
            &["risk", "treat", &mine_label, "--treatment", "share", "--plan", "Cyber insurance covers vendor breaches", "--version", "1"],
        );
        assert_eq!((treated["treatment"].as_str(), treated["version"].as_i64()), (Some("share"), Some(2)));

        // The simulation reproduces bit for bit from its seed, and is in the ledger.
        let args = ["risk", "simulate", "--seed", "20261203", "--iterations", "20000"];
        let (a, b) = (json(d, db, &args), json(d, db, &args));
        assert_eq!(a["outcome"].to_string(), b["outcome"].to_string());
        assert_eq!(a["inputs_sha256"], b["inputs_sha256"]);
        assert_ne!(a["simulation"], b["simulation"], "each run is recorded");
        // The SoD risk's driver was not evaluated (no SoD rules): it is left out, and said so.
        assert_eq!(a["outcome"]["risks"].as_array().expect("risks").len(), 7);
        assert!(
            a["not_simulated"][0][1].as_str().expect("why").contains("no audit has evaluated sod-conflict"),
            "{:#}",
            a["not_simulated"]
        );
        let other = json(d, db, &["risk", "simulate", "--seed", "7", "--iterations", "20000"]);
        assert_ne!(other["outcome"]["portfolio"]["ale"], a["outcome"]["portfolio"]["ale"]);
        let p = &a["outcome"]["portfolio"];
        let (p10, p50, p90, p99) =
            (p["p10"].as_f64().unwrap(), p["p50"].as_f64().unwrap(), p["p90"].as_f64().unwrap(), p["p99"].as_f64().unwrap());
        assert!(p10 <= p50 && p50 <= p90 && p90 <= p99 && p99 > 0.0, "{p:#}");
        let listed = ok(d, db, &["risk", "list"]);
        assert!(listed.contains(" EUR"), "the list shows the latest ALE: {listed}");
        let entry = last_entry(d, db);
        assert_eq!(entry["kind"], "risk-simulated", "{entry:#}");
        assert_eq!(entry["data"]["seed"], "7");
        assert_eq!(entry["data"]["inputs_sha256"], other["inputs_sha256"]);
        assert!(entry["data"]["generator"].as_str().expect("generator").contains("ChaCha20"));
        ok(d, db, &["ledger", "verify"]);
    }
}
