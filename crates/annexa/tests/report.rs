//! The auditor's report from the demo organisation, on SQLite and PostgreSQL: the HTML page
//! is self-contained and shows every section; headless Chromium renders it without a single
//! console message (a page that breaks its policy is caught, to prove the check can fail)
//! into a screenshot that is not blank; the PDF has pages and the report's text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod support;

use std::path::Path;
use std::process::Command;
use support::ok_in as ok;

/// Debian's Chromium, or why the test cannot use it (a failure under CI).
fn chromium() -> Option<String> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .map(str::to_string);
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "Chromium is not installed: under CI the report tests must render (scripts/test installs it)"
        );
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "skipped: rendering the report without Chromium (scripts/test installs it)");
    }
    found
}

/// Renders `page` headless: the console messages it logged, and the screenshot's pixels.
fn render(chromium: &str, page: &Path, dir: &Path) -> (Vec<String>, Vec<u8>) {
    let shot = dir.join("shot.png");
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--window-size=1280,1600"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<String> = log.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    let decoder = png::Decoder::new(std::fs::File::open(&shot).expect("a screenshot"));
    let mut reader = decoder.read_info().expect("png");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("frame");
    pixels.truncate(info.buffer_size());
    (console, pixels)
}

#[test]
fn the_auditor_report_renders_and_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let chromium = chromium();
    for (n, db) in annexa_store::testing::fresh_databases(d).into_iter().enumerate() {
        let db = db.as_str();
        let org = d.join(format!("org{n}"));
        ok(d, db, &["demo", "--out", org.to_str().expect("utf8")]);
        ok(d, db, &["risk", "simulate", "--seed", "3", "--iterations", "20000"]);
        let html = d.join(format!("report{n}.html"));
        ok(d, db, &["report", "html", "--out", html.to_str().expect("utf8")]);
        let page = std::fs::read_to_string(&html).expect("html");
        for section in [
            "id=\"summary\"",
            "id=\"posture\"",
            "id=\"authentication\"",
            "id=\"findings\"",
            "id=\"trend\"",
            "id=\"soa\"",
            "id=\"risks\"",
            "id=\"campaigns\"",
            "id=\"jml\"",
            "id=\"ledger\"",
        ] {
            assert!(page.contains(section), "{section} missing");
        }
        assert!(page.matches("<svg").count() >= 5, "posture, authentication, trend, heat map, loss exceedance");
        assert!(page.contains("default-src 'none'"), "a policy that forbids every request");
        assert!(!page.contains(" src=") && !page.contains(" href="), "nothing to fetch");
        assert!(page.contains("Account takeover through weak authentication"));
        assert!(page.contains("Simulation #1"), "the loss-exceedance curve's simulation is named");
        assert!(page.contains("This signed checkpoint covers its first"));
        assert!(page.contains("The 25 most severe of 58 open findings"), "the demo's 58 findings");

        let Some(chromium) = &chromium else { continue };
        let (console, pixels) = render(chromium, &html, d);
        assert!(console.is_empty(), "console messages: {console:#?}");
        let first = &pixels[..4];
        assert!(pixels.chunks(4).any(|p| p != first), "the screenshot is not blank");
        // The same check catches a page that breaks the policy.
        let bad = d.join("bad.html");
        std::fs::write(&bad, page.replace("</main>", "<img alt=\"\" src=\"http://127.0.0.1:9/x.png\"></main>")).expect("write");
        let (console, _) = render(chromium, &bad, d);
        assert!(!console.is_empty(), "a blocked request is reported");

        let pdf = d.join(format!("report{n}.pdf"));
        ok(d, db, &["report", "pdf", "--out", pdf.to_str().expect("utf8")]);
        let info = Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo (poppler-utils) runs");
        let info = String::from_utf8_lossy(&info.stdout);
        let pages: u32 = info.lines().find_map(|l| l.strip_prefix("Pages:")).expect("pages").trim().parse().expect("number");
        assert!(pages >= 5, "{pages} pages");
        let text = Command::new("pdftotext").arg(&pdf).arg("-").output().expect("pdftotext runs");
        let text = String::from_utf8_lossy(&text.stdout);
        for expected in [
            "audit report",
            "Statement of Applicability",
            "Authentication strength",
            "Unauthorised access by former staff",
            "Evidence ledger",
        ] {
            assert!(text.contains(expected), "the PDF lacks {expected:?}");
        }
    }
}

/// `trestle validate` on each document, in a trestle workspace of its own; or why the test
/// cannot (a failure under CI).
fn trestle_validate(docs: &[(&str, &Path)], dir: &Path) {
    let Some(trestle) = annexa_store::testing::component("ANNEXA_TEST_TRESTLE", "compliance-trestle") else { return };
    let ws = dir.join("trestle");
    std::fs::create_dir_all(&ws).expect("workspace");
    let init = Command::new(&trestle).arg("init").current_dir(&ws).output().expect("trestle runs");
    assert!(init.status.success(), "trestle init: {}", String::from_utf8_lossy(&init.stderr));
    for (model, file) in docs {
        let (folder, name) = match *model {
            "assessment-results" => ("assessment-results", "assessment-results.json"),
            "assessment-plan" => ("assessment-plans", "assessment-plan.json"),
            _ => ("component-definitions", "component-definition.json"),
        };
        let target = ws.join(folder).join("annexa");
        std::fs::create_dir_all(&target).expect("folder");
        std::fs::copy(file, target.join(name)).expect("copy");
        let rel = format!("{folder}/annexa/{name}");
        let out = Command::new(&trestle).args(["validate", "-f", &rel]).current_dir(&ws).output().expect("trestle runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("VALID: Model"), "{model} is not valid OSCAL: {text}");
    }
}

#[test]
fn the_audit_exports_as_valid_oscal_with_verifiable_proofs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let db = format!("sqlite://{}", d.join("annexa.db").display());
    let db = db.as_str();
    ok(d, db, &["demo", "--out", d.join("org").to_str().expect("utf8")]);
    ok(d, db, &["risk", "treat", "R-2", "--treatment", "modify", "--control", "A.8.5", "--plan", "FIDO2 keys for every admin by Q2"]);
    let out = d.join("assessment-results.json");
    ok(d, db, &["report", "oscal", "--out", out.to_str().expect("utf8")]);
    let plan = d.join("assessment-results.assessment-plan.json");
    let components = d.join("assessment-results.component-definition.json");
    let read = |p: &Path| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json") };
    let (ar, ap, cd) = (read(&out), read(&plan), read(&components));
    let ar = &ar["assessment-results"];
    assert_eq!(ar["import-ap"]["href"], "./assessment-results.assessment-plan.json");
    let result = &ar["results"][0];
    let reviewed = result["reviewed-controls"]["control-selections"][0]["include-controls"].as_array().expect("controls");
    assert!(reviewed.iter().any(|c| c["control-id"] == "A.5.18"));
    // A finding per control: A.6.5 is not satisfied (the demo's leavers kept access).
    let a65 = result["findings"].as_array().expect("findings").iter().find(|f| f["target"]["target-id"] == "A.6.5_obj").expect("A.6.5");
    assert_eq!(a65["target"]["status"]["state"], "not-satisfied");
    // An observation per check and per open finding (58 in the demo), with evidence.
    let observations = result["observations"].as_array().expect("observations");
    let per_finding: Vec<&serde_json::Value> = observations.iter().filter(|o| o["props"][0]["name"] == "finding-id").collect();
    assert_eq!(per_finding.len(), 58);
    assert!(per_finding.iter().all(|o| o["relevant-evidence"].as_array().is_some_and(|e| e.iter().any(|x| x["href"].is_string()))));
    assert_eq!(result["risks"].as_array().expect("risks").len(), 7);
    let treated = result["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .find(|r| r["title"].as_str().is_some_and(|t| t.starts_with("R-2 ")))
        .expect("R-2");
    assert_eq!(treated["remediations"][0]["description"], "FIDO2 keys for every admin by Q2");
    assert!(ap["assessment-plan"]["local-definitions"]["activities"].as_array().is_some_and(|a| a.len() >= 17));
    assert!(cd["component-definition"]["components"][0]["control-implementations"][0]["implemented-requirements"]
        .as_array()
        .is_some_and(|r| r.len() > 10));

    // Every ledger link resolves to a back-matter resource whose proof verifies offline.
    let resources = ar["back-matter"]["resources"].as_array().expect("resources");
    let key = ok(d, db, &["ledger", "key", "show"]);
    let key = key.trim();
    let mut verified = 0;
    for r in resources.iter().filter(|r| r["base64"].is_object()) {
        use base64::Engine as _;
        let proof = base64::engine::general_purpose::STANDARD.decode(r["base64"]["value"].as_str().expect("base64")).expect("decodes");
        let file = d.join(r["base64"]["filename"].as_str().expect("name"));
        std::fs::write(&file, proof).expect("write");
        ok(d, db, &["ledger", "verify-proof", file.to_str().expect("utf8"), "--key", key]);
        verified += 1;
    }
    assert!(verified >= 2, "the audit run's entry and the findings' entries: {verified}");
    for o in observations {
        for e in o["relevant-evidence"].as_array().into_iter().flatten() {
            if let Some(href) = e["href"].as_str() {
                let uuid = href.trim_start_matches('#');
                assert!(resources.iter().any(|r| r["uuid"] == uuid), "{href} resolves");
            }
        }
    }
    // The same audit gives the same documents (bar the time they were written).
    let again = d.join("again.json");
    ok(d, db, &["report", "oscal", "--out", again.to_str().expect("utf8")]);
    let mut second = read(&again);
    second["assessment-results"]["metadata"]["last-modified"] = ar["metadata"]["last-modified"].clone();
    assert_eq!(second["assessment-results"]["results"], ar["results"]);

    trestle_validate(&[("assessment-results", &out), ("assessment-plan", &plan), ("component-definition", &components)], d);
}
