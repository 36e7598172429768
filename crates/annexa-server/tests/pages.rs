//! The server's pages: through the router (sessions, CSRF, the policy, every page of the
//! cycle a newcomer walks: audit, findings, campaign, SoA, risks, ledger, downloads), and in
//! a real headless Chromium driven by chromedriver with the keyboard.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod org;

use annexa_app::App;
use annexa_core::model::Role;
use annexa_server::{app, AppState, ServerConfig};
use org::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_sign_in_show_the_dashboard_and_let_a_reviewer_decide_only_their_items() {
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", root.path().join("web.db").display());
    let o = tokio::task::block_in_place(|| org(&url, tempfile::tempdir().expect("tempdir")));
    let app = App::new(o.state.settings.clone(), "test");
    let lead = annexa_app::users::UserRequest { username: "lead".into(), role: Role::ComplianceManager, employee_id: None, system: None };
    tokio::task::block_in_place(|| app.create_user(&lead, PASSWORD)).expect("user");

    // No session: every page sends the browser to sign in.
    for path in ["/", "/review"] {
        let (status, h, _) = page(&o, "GET", path, None, &[], &[]).await;
        assert_eq!((status, location(&h)), (303, "/sign-in"), "{path}");
    }
    let (status, h, html) = page(&o, "GET", "/sign-in", None, &[], &[]).await;
    assert_eq!(status, 200);
    assert!(h.get("content-security-policy").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("default-src 'none'")));
    assert!(html.contains("<form method=\"post\" action=\"/sign-in\">") && html.contains("autocomplete=\"current-password\""));
    let (status, _, html) = page(&o, "POST", "/sign-in", None, &[("username", "lead"), ("password", "wrong password here")], &[]).await;
    assert!(status == 401 && html.contains("wrong username or password") && html.contains("value=\"lead\""), "{status}");
    let (status, _, _) =
        page(&o, "POST", "/sign-in", None, &[("username", "lead"), ("password", PASSWORD)], &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, 403, "a sign-in form posted from another site");

    // The compliance lead's dashboard: findings by severity as SVG, the campaigns.
    let (status, h, _) = page(&o, "POST", "/sign-in", None, &[("username", "lead"), ("password", PASSWORD)], &[]).await;
    assert_eq!((status, location(&h)), (303, "/"));
    let lead_cookie = h.get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").split(';').next().expect("pair").to_string();
    let (status, _, html) = page(&o, "GET", "/", Some(&lead_cookie), &[], &[]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<svg role=\"img\"") && html.contains("Open findings by severity") && html.contains("Q4 review"), "{html}");
    assert!(only_vendored_script(&html), "no script on the page but the vendored htmx");

    // The reviewer: sent to their page, their items only, decided with the form's token.
    let (status, h, _) = page(&o, "POST", "/sign-in", None, &[("username", "ana.r"), ("password", PASSWORD)], &[]).await;
    assert_eq!(status, 303);
    let cookie = h.get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").split(';').next().expect("pair").to_string();
    let (status, h, _) = page(&o, "GET", "/", Some(&cookie), &[], &[]).await;
    assert_eq!((status, location(&h)), (303, "/review"));
    let (status, _, html) = page(&o, "GET", "/review", Some(&cookie), &[], &[]).await;
    assert_eq!(status, 200);
    let mine = o.item_of["M1"];
    assert!(html.contains(&format!("action=\"/review/{mine}\"")), "{html}");
    assert!(!html.contains(&format!("action=\"/review/{}\"", o.item_of["M2"])), "another reviewer's item is not shown");
    let token = form_token(&html);
    let decide = |id: i64| format!("/review/{id}");
    let form = |t: &str| vec![("csrf_token", t.to_string()), ("decision", "revoke".to_string()), ("comment", "left finance".to_string())];
    let (status, _, _) = page(&o, "POST", &decide(mine), Some(&cookie), &refs(&form(&"0".repeat(64))), &[]).await;
    assert_eq!(status, 403, "a form without this session's token");
    let (status, _, _) = page(&o, "POST", &decide(o.item_of["M2"]), Some(&cookie), &refs(&form(&token)), &[]).await;
    assert_eq!(status, 403, "another reviewer's item");
    // Several at once: nothing ticked, or one item that is not theirs, decides nothing.
    assert!(html.contains(&format!("value=\"{mine}\" form=\"bulk\"")) && html.contains("action=\"/review/bulk\""), "{html}");
    let bulk = |items: &[i64], comment: &str| {
        let mut f = vec![("csrf_token", token.clone()), ("decision", "certify".to_string()), ("comment", comment.to_string())];
        f.extend(items.iter().map(|i| ("item", i.to_string())));
        f
    };
    let (status, h, _) = page(&o, "POST", "/review/bulk", Some(&cookie), &refs(&bulk(&[], "")), &[]).await;
    assert!(status == 303 && location(&h).contains("error=tick%20the%20items"), "{}", location(&h));
    let (status, h, _) = page(&o, "POST", "/review/bulk", Some(&cookie), &refs(&bulk(&[mine, o.item_of["M2"]], "fine")), &[]).await;
    assert!(status == 303 && location(&h).contains("error=nothing%20was%20decided"), "{}", location(&h));
    let undecided = |id: i64| tokio::task::block_in_place(|| app.campaign_item(id).expect("item").decision.is_none());
    assert!(undecided(mine) && undecided(o.item_of["M2"]), "all or nothing");
    // With htmx the answer is the item's row alone: here, refused, with why.
    let no_comment = [("csrf_token", token.as_str()), ("decision", "revoke"), ("comment", "")];
    let (status, _, row) = page(&o, "POST", &decide(mine), Some(&cookie), &no_comment, &[("hx-request", "true")]).await;
    assert_eq!(status, 200, "{row}");
    assert!(row.contains(&format!("<tr id=\"item-{mine}\"")) && row.contains("class=\"error\"") && !row.contains("<html"), "{row}");
    assert!(undecided(mine), "refused: still undecided");
    let (status, h, js) = page(&o, "GET", "/assets/htmx.min.js", None, &[], &[]).await;
    assert!(status == 200 && js.len() > 40_000, "the vendored htmx is served");
    assert!(h.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/javascript")));
    let (status, h, _) = page(&o, "POST", &decide(mine), Some(&cookie), &refs(&form(&token)), &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!((status, location(&h)), (303, format!("/review?done={mine}#item-{mine}").as_str()));
    let (_, _, html) = page(&o, "GET", &format!("/review?done={mine}"), Some(&cookie), &[], &[]).await;
    assert!(html.contains(&format!("Item {mine} decided.")) && !html.contains(&format!("action=\"/review/{mine}\"")), "{html}");
    // Another reviewer certifies all of theirs at once, with the comment their privileged
    // item needs.
    let soren =
        annexa_app::users::UserRequest { username: "soren.r".into(), role: Role::Reviewer, employee_id: Some("M2".into()), system: None };
    tokio::task::block_in_place(|| app.create_user(&soren, PASSWORD)).expect("user");
    let (_, h, _) = page(&o, "POST", "/sign-in", None, &[("username", "soren.r"), ("password", PASSWORD)], &[]).await;
    let theirs_cookie = h.get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").split(';').next().expect("pair").to_string();
    let (_, _, html) = page(&o, "GET", "/review", Some(&theirs_cookie), &[], &[]).await;
    let theirs: Vec<i64> =
        html.split("name=\"item\" value=\"").skip(1).filter_map(|s| s.split('"').next().and_then(|n| n.parse().ok())).collect();
    assert!(theirs.len() >= 2 && theirs.contains(&o.item_of["M2"]), "{theirs:?}");
    let their_token = form_token(&html);
    let mut certify = vec![("csrf_token", their_token.clone()), ("decision", "certify".to_string()), ("comment", String::new())];
    certify.extend(theirs.iter().map(|i| ("item", i.to_string())));
    let (_, h, _) = page(&o, "POST", "/review/bulk", Some(&theirs_cookie), &refs(&certify), &[]).await;
    assert!(location(&h).contains("error="), "a privileged item needs the comment: {}", location(&h));
    certify[2].1 = "reviewed with the finance lead".into();
    let (_, h, _) = page(&o, "POST", "/review/bulk", Some(&theirs_cookie), &refs(&certify), &[]).await;
    assert!(location(&h).contains(&format!("notice={}%20items%20decided", theirs.len())), "{}", location(&h));
    assert!(theirs.iter().all(|i| !undecided(*i)));
    // Signing out by the form ends the session.
    let (status, h, _) = page(&o, "POST", "/sign-out", Some(&cookie), &[("csrf_token", &token)], &[]).await;
    assert_eq!((status, location(&h)), (303, "/sign-in"));
    assert_eq!(page(&o, "GET", "/review", Some(&cookie), &[], &[]).await.0, 303);
    let state = o.state.clone();
    drop(o);
    tokio::task::block_in_place(move || drop(state));
}

/// chromedriver, or `None` (a skip, except under CI: scripts/test installs it).
fn chromedriver() -> Option<String> {
    let found = std::process::Command::new("chromedriver").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "chromedriver is not installed: under CI the browser test must run (scripts/test installs it)"
        );
        eprintln!("skipped: the pages in Chromium without chromedriver (scripts/test installs chromium-driver)");
        return None;
    }
    Some("chromedriver".into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Kills chromedriver (and so its Chromium) when the test ends, however it ends.
struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_headless_chromium_with_the_keyboard() {
    use fantoccini::{key::Key, ClientBuilder, Locator};
    let Some(driver) = chromedriver() else { return };
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", root.path().join("browser.db").display());
    let o = tokio::task::block_in_place(|| org(&url, tempfile::tempdir().expect("tempdir")));
    let lead = annexa_app::users::UserRequest { username: "lead".into(), role: Role::ComplianceManager, employee_id: None, system: None };
    tokio::task::block_in_place(|| App::new(o.state.settings.clone(), "test").create_user(&lead, PASSWORD)).expect("user");
    // The server on a real socket, its public URL the one the browser uses (Origin checks).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut config = ServerConfig::new(&base);
    config.settings = Some(o.state.settings.clone());
    let state = tokio::task::block_in_place(|| AppState::open(&url, config)).expect("state");
    let server = tokio::spawn(std::future::IntoFuture::into_future(axum::serve(listener, app(state.clone()))));
    // chromedriver, with Chromium's own log (console messages) in its log file.
    let port = free_port();
    let log = root.path().join("chromedriver.log");
    let child = std::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", log.display()))
        .arg("--enable-chrome-logs")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let _driver = Driver(child);
    let profile = root.path().join("profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                         "--enable-logging=stderr", "--v=0", format!("--user-data-dir={}", profile.display())] }),
    );
    let mut client = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("a WebDriver session");
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let shot = |name: &'static str, png: Vec<u8>| {
        assert!(png.starts_with(b"\x89PNG") && png.len() > 4000, "{name}: a screenshot with something on it ({} bytes)", png.len());
        std::fs::write(shots.join(name), png).expect("keep the screenshot");
    };
    let sign_in = |who: &'static str| {
        let c = c.clone();
        let base = base.clone();
        async move {
            c.goto(&format!("{base}/")).await.expect("goto");
            assert_eq!(c.current_url().await.expect("url").path(), "/sign-in", "a page without a session sends to sign in");
            c.find(Locator::Id("username")).await.expect("username").send_keys(who).await.expect("type");
            let password = c.find(Locator::Id("password")).await.expect("password");
            password.send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter))).await.expect("type and press Enter");
        }
    };

    // The compliance lead signs in with the keyboard and sees the dashboard.
    sign_in("lead").await;
    if c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("svg[role=img]")).await.is_err() {
        panic!("no chart at {:?}: {}", c.current_url().await.map(|u| u.to_string()), c.source().await.unwrap_or_default());
    }
    assert_eq!(c.current_url().await.expect("url").path(), "/");
    assert!(c.source().await.expect("source").contains("Q4 review"));
    shot("dashboard.png", c.screenshot().await.expect("screenshot"));

    // The lead runs an audit from the dashboard with the keyboard, then walks the pages of
    // the cycle: a finding with its proof, the SoA, the risks, the campaigns, the ledger.
    let run = c.find(Locator::Css("form[action='/audits'] button")).await.expect("the audit button");
    run.send_keys(&char::from(Key::Enter).to_string()).await.expect("Enter on the button");
    c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("p.notice")).await.expect("the audit's notice");
    assert!(c.source().await.expect("source").contains("Audit run #2 done"));
    c.goto(&format!("{base}/findings")).await.expect("goto");
    c.find(Locator::Css("main table a")).await.expect("a finding").click().await.expect("open it");
    c.wait().for_element(Locator::Css("p.ok")).await.expect("the finding's verified proof");
    shot("finding.png", c.screenshot().await.expect("screenshot"));
    for (path, name, sign) in [
        ("/soa", "soa.png", "Annex A controls"),
        ("/soa/A.5.15", "soa-control.png", "Decide and describe"),
        ("/risks", "risks.png", "Add a risk"),
        ("/campaigns", "campaigns.png", "Launch a campaign"),
        ("/ledger", "ledger.png", "Newest entries"),
    ] {
        c.goto(&format!("{base}{path}")).await.expect("goto");
        assert!(c.source().await.expect("source").contains(sign), "{path} shows {sign:?}");
        shot(name, c.screenshot().await.expect("screenshot"));
    }
    c.find(Locator::Css("header form button")).await.expect("sign out").click().await.expect("click");
    c.wait().for_element(Locator::Id("username")).await.expect("back at sign-in");

    // The reviewer: their page; a revoke with a comment, by the keyboard alone.
    sign_in("ana.r").await;
    c.wait().for_element(Locator::Css("main table")).await.expect("the items");
    assert_eq!(c.current_url().await.expect("url").path(), "/review");
    let mine = o.item_of["M1"];
    let comment = c.find(Locator::Id(&format!("comment-{mine}"))).await.expect("the item's comment field");
    let tab = char::from(Key::Tab);
    comment.send_keys(&format!("left finance{tab}{tab}")).await.expect("type, then Tab to Revoke");
    let focused = c.active_element().await.expect("focus");
    assert_eq!(focused.attr("value").await.expect("attr").as_deref(), Some("revoke"), "Tab reaches Revoke");
    // htmx is there (its script loaded under the CSP): the decision swaps the row alone.
    assert_eq!(c.execute("return typeof htmx", vec![]).await.expect("script"), json!("object"), "the vendored htmx runs");
    focused.send_keys(&char::from(Key::Enter).to_string()).await.expect("Enter");
    c.wait().for_element(Locator::Css(&format!("#item-{mine} .decided"))).await.expect("the row shows the decision");
    let source = c.source().await.expect("source");
    assert!(!source.contains(&format!("action=\"/review/{mine}\"")), "the item's form is gone");
    assert_eq!(c.current_url().await.expect("url").as_str(), format!("{base}/review"), "no page load: only the row changed");
    let progress = c.find(Locator::Id("progress")).await.expect("the progress").text().await.expect("text");
    assert!(progress.starts_with("1 of 1 decided"), "the progress follows, out of band: {progress}");
    shot("review.png", c.screenshot().await.expect("screenshot"));

    // A page the role does not allow is refused.
    c.goto(&format!("{base}/api/v1/tokens")).await.expect("goto");
    assert!(c.source().await.expect("source").contains("\"forbidden\""), "a reviewer may not list tokens");
    c.close().await.expect("close the browser");
    server.abort();

    // No console message: nothing broke the Content-Security-Policy or the page.
    let chrome_log = std::fs::read_to_string(&log).unwrap_or_default();
    let console: Vec<&str> = chrome_log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Refused to")).collect();
    assert!(console.is_empty(), "console: {console:?}");
    let decided = tokio::task::block_in_place(|| {
        let mut d = None;
        App::new(o.state.settings.clone(), "test").campaign_item(mine).map(|i| d = i.decision).expect("item");
        d
    });
    assert_eq!(decided.as_deref(), Some("revoke"), "the browser's decision is stored");
    drop(o);
    tokio::task::block_in_place(move || drop(state));
}

/// Whether a page's only script is the vendored htmx (no inline script, nothing fetched
/// from elsewhere).
fn only_vendored_script(html: &str) -> bool {
    html.matches("<script").count() == html.matches("<script src=\"/assets/htmx.min.js\" defer></script>").count()
}

/// Signs `username` in through the sign-in form; the cookie to send back.
async fn signed_in(o: &Org, username: &str) -> String {
    let (status, h, html) = page(o, "POST", "/sign-in", None, &[("username", username), ("password", PASSWORD)], &[]).await;
    assert_eq!(status, 303, "{username}: {html}");
    h.get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").split(';').next().expect("pair").to_string()
}

/// A form post that must send the browser back to `to` with a notice (or, with `refused`,
/// an error); the page it lands on.
async fn post_back(o: &Org, path: &str, cookie: &str, form: &[(&str, &str)], to: &str, refused: bool) -> String {
    let (status, h, html) = page(o, "POST", path, Some(cookie), form, &[]).await;
    let at = location(&h).to_string();
    assert_eq!(status, 303, "{path}: {html}");
    let key = if refused { "error=" } else { "notice=" };
    assert!(at.starts_with(to) && at.contains(key), "{path} sent the browser to {at}, not back to {to} with {key}");
    let (status, _, html) = page(o, "GET", &at, Some(cookie), &[], &[]).await;
    assert_eq!(status, 200, "{at}");
    html
}

/// Everything a newcomer does in the browser after `annexa serve`, page by page, for each
/// role: audit, findings, a campaign, the SoA, risks, the ledger, the auditor's downloads.
async fn the_cycle_through_the_pages(o: &Org) {
    let app = App::new(o.state.settings.clone(), "test");
    let user = |name: &str, role: Role, employee: Option<&str>, system: Option<&str>| annexa_app::users::UserRequest {
        username: name.into(),
        role,
        employee_id: employee.map(String::from),
        system: system.map(String::from),
    };
    tokio::task::block_in_place(|| {
        for u in [
            user("lead", Role::ComplianceManager, None, None),
            user("auditor", Role::Auditor, None, None),
            user("erp.owner", Role::SystemOwner, Some("M2"), Some("erp")),
        ] {
            app.create_user(&u, PASSWORD).expect("user");
        }
    });
    let lead = signed_in(o, "lead").await;
    let get = |path: String, cookie: String| async move {
        let (status, h, html) = page(o, "GET", &path, Some(&cookie), &[], &[]).await;
        assert!(status != 200 || only_vendored_script(&html), "{path}: no script on a page but the vendored htmx");
        if status == 200 && html.starts_with("<!doctype") {
            let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{path}: {csp}");
        }
        (status, h, html)
    };

    // The dashboard: every chart of the programme, and the audit run from it.
    let (status, _, html) = get("/".into(), lead.clone()).await;
    assert_eq!(status, 200, "{html}");
    for shown in
        ["Open, new and resolved findings per audit run", "Annex A controls by theme", "Accounts by strongest authentication factor"]
    {
        assert!(html.contains(shown), "the dashboard shows {shown:?}");
    }
    assert!(html.contains("action=\"/audits\"") && html.contains("/downloads/evidence-pack.zip"));
    let token = form_token(&html);
    let (status, _, _) = page(o, "POST", "/audits", Some(&lead), &[("csrf_token", "0".repeat(64).as_str())], &[]).await;
    assert_eq!(status, 403, "an audit from a form without the session's token");
    let html = post_back(o, "/audits", &lead, &[("csrf_token", &token)], "/", false).await;
    assert!(html.contains("Audit run #2 done"), "{html}");

    // Findings: filtered and paged in the store; hostile values are data.
    let (status, _, html) = get("/findings".into(), lead.clone()).await;
    assert!(status == 200 && html.contains(&o.erp_finding) && html.contains(&o.cloud_finding), "{html}");
    let (_, _, html) = get("/findings?check=leaver-access&severity=high".into(), lead.clone()).await;
    let rows = html.matches("<tr><td><a href=\"/findings/").count();
    assert!(rows > 0 && html.matches("<td>leaver-access</td>").count() == rows, "only leaver-access rows: {html}");
    assert!(!html.contains("class=\"sev-text-medium\"") && !html.contains("class=\"sev-text-low\""), "high or worse only: {html}");
    let (status, _, html) = get("/findings?severity=bogus".into(), lead.clone()).await;
    assert!(status == 200 && (html.contains("severity &#34;bogus&#34;") || html.contains("severity &quot;bogus&quot;")), "{html}");
    let (status, _, html) =
        get("/findings?check=%27%20OR%201%3D1%20--&system=x%27%3B%20DROP%20TABLE%20findings%3B--".into(), lead.clone()).await;
    assert!(status == 200 && html.contains("No finding matches."), "{html}");

    // A finding: its evidence, its ledger entry with a proof checked against the checkpoint,
    // and its triage.
    let finding = format!("/findings/{}", o.erp_finding);
    let (status, _, html) = get(finding.clone(), lead.clone()).await;
    assert!(status == 200 && html.contains("Source records") && html.contains("erp"), "{html}");
    assert!(html.contains("Inclusion proof verified"), "the finding's ledger entry is proven: {html}");
    let token = form_token(&html);
    let triage = format!("{finding}/triage");
    let html = post_back(o, &triage, &lead, &[("csrf_token", &token), ("action", "accept"), ("who", "M1")], &finding, true).await;
    assert!(html.contains("accept needs a reason"), "{html}");
    let assign = [("csrf_token", token.as_str()), ("action", "assign"), ("who", "M1"), ("day", "2027-01-31")];
    let html = post_back(o, &triage, &lead, &assign, &finding, false).await;
    assert!(html.contains("owned by M1") && html.contains("due 2027-01-31"), "{html}");

    // A campaign launched, looked at, its evidence downloaded, closed.
    let (_, _, html) = get("/campaigns".into(), lead.clone()).await;
    assert!(html.contains("Q4 review") && html.contains("action=\"/campaigns\""));
    let launch = [
        ("csrf_token", token.as_str()),
        ("name", "Privileged, Q1"),
        ("scope", "privileged"),
        ("reviewer", "manager"),
        ("fallback", "M1"),
        ("due", "2027-03-31"),
    ];
    let (status, h, html) = page(o, "POST", "/campaigns", Some(&lead), &launch, &[]).await;
    assert_eq!(status, 303, "{html}");
    let at = location(&h).to_string();
    assert!(at.starts_with("/campaigns/") && at.contains("notice="), "{at}");
    let id: i64 = at["/campaigns/".len()..].split('?').next().and_then(|n| n.parse().ok()).expect("the campaign's id");
    let (_, _, html) = get(at.clone(), lead.clone()).await;
    assert!(html.contains("Privileged, Q1") && html.contains("Reviewer diligence") && html.contains("launched with"), "{html}");
    let (status, h, body) = get(format!("/campaigns/{id}/report.xlsx"), lead.clone()).await;
    assert!(status == 200 && body.starts_with("PK"), "{status}");
    assert!(h.get("content-disposition").and_then(|v| v.to_str().ok()).is_some_and(|d| d.contains("attachment")));
    let html =
        post_back(o, &format!("/campaigns/{id}/close"), &lead, &[("csrf_token", &token), ("undecided", "maybe")], "/campaigns/", true)
            .await;
    assert!(html.contains("expected keep or revoke"), "{html}");
    let html =
        post_back(o, &format!("/campaigns/{id}/close"), &lead, &[("csrf_token", &token), ("undecided", "keep")], "/campaigns/", false)
            .await;
    assert!(html.contains(&format!("Campaign #{id} closed")) && !html.contains("Close the campaign"), "{html}");
    let bad_due = [("csrf_token", token.as_str()), ("name", "x"), ("scope", "all"), ("reviewer", "manager"), ("due", "31/03/2027")];
    let html = post_back(o, "/campaigns", &lead, &bad_due, "/campaigns", true).await;
    assert!(html.contains("expected a day such as 2027-01-31"), "{html}");

    // The SoA: 93 controls, one decided and described, the approval refused while others
    // are undecided.
    let (_, _, html) = get("/soa".into(), lead.clone()).await;
    assert_eq!(html.matches("<a href=\"/soa/A.").count(), 93, "every Annex A control");
    let (_, _, html) = get("/soa/A.5.1".into(), lead.clone()).await;
    assert!(html.contains("Policies for information security") && html.contains("action=\"/soa/A.5.1\""), "{html}");
    let decide = [
        ("csrf_token", token.as_str()),
        ("applicable", "yes"),
        ("reason", "regulatory"),
        ("reason", "risk-assessment"),
        ("status", "implemented"),
        ("implementation", "Policy ISMS-POL-001 approved by the board"),
        ("owner", "M1"),
    ];
    let html = post_back(o, "/soa/A.5.1", &lead, &decide, "/soa/A.5.1", false).await;
    assert!(html.contains("Policy ISMS-POL-001 approved by the board") && html.contains("regulatory, risk-assessment"), "{html}");
    let html = post_back(o, "/soa/A.5.1", &lead, &[("csrf_token", &token), ("applicable", "perhaps")], "/soa/A.5.1", true).await;
    assert!(html.contains("expected yes or no"), "{html}");
    let html = post_back(o, "/soa/approve", &lead, &[("csrf_token", &token), ("approver", "M1")], "/soa", true).await;
    assert!(html.contains("class=\"error\""), "approval refused while controls are undecided: {html}");

    // Risks: one added, the heat map drawn, a refusal that names what is missing.
    let risk = [
        ("csrf_token", token.as_str()),
        ("action", "add"),
        ("title", "Leavers keep ERP access"),
        ("asset", "ERP"),
        ("threat", "A former employee approves payments"),
        ("vulnerability", "Leavers are removed by hand"),
        ("owner", "M2"),
        ("likelihood", "4"),
        ("impact", "5"),
        ("treatment", "modify"),
        ("controls", "A.5.18, A.6.5"),
    ];
    let html = post_back(o, "/risks", &lead, &risk, "/risks", false).await;
    assert!(html.contains("R-1 added") && html.contains("Residual risk heat map") && html.contains("Leavers keep ERP access"), "{html}");
    let html = post_back(o, "/risks", &lead, &[("csrf_token", &token), ("action", "add"), ("title", "half")], "/risks", true).await;
    assert!(html.contains("a new risk needs"), "{html}");
    let html = post_back(o, "/risks", &lead, &[("csrf_token", &token), ("action", "add"), ("likelihood", "9")], "/risks", true).await;
    assert!(html.contains("expected 1 to 5"), "{html}");

    // The ledger: verified whole on request, an entry with its proof.
    let (_, _, html) = get("/ledger".into(), lead.clone()).await;
    assert!(html.contains("Newest entries") && html.contains("Verifier key"), "{html}");
    let (_, _, html) = get("/ledger?verify=true".into(), lead.clone()).await;
    assert!(html.contains("Verified: all"), "{html}");
    let (status, h, _) = get("/ledger?seq=1".into(), lead.clone()).await;
    assert_eq!((status, location(&h)), (303, "/ledger/1"));
    let (status, _, html) = get("/ledger/1".into(), lead.clone()).await;
    assert!(status == 200 && html.contains("Inclusion proof verified"), "{html}");
    assert_eq!(get("/ledger/999999".into(), lead.clone()).await.0, 404);

    // The auditor's downloads, made when asked; nothing else is a download.
    for (file, starts) in [("report.html", "<!DOCTYPE html>"), ("soa.xlsx", "PK"), ("evidence-pack.zip", "PK")] {
        let (status, h, body) = get(format!("/downloads/{file}"), lead.clone()).await;
        assert!(status == 200 && body.starts_with(starts), "{file}: {status}");
        let disposition = h.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!(disposition, format!("attachment; filename=\"{file}\""));
    }
    for file in ["..%2F..%2Fetc%2Fpasswd", "report.pdf", "%2Fetc%2Fpasswd"] {
        assert_eq!(get(format!("/downloads/{file}"), lead.clone()).await.0, 404, "{file}");
    }

    // The auditor reads and downloads, and changes nothing.
    let auditor = signed_in(o, "auditor").await;
    for path in ["/", "/findings", "/soa", "/risks", "/ledger", "/campaigns", "/downloads/evidence-pack.zip"] {
        assert_eq!(get(path.into(), auditor.clone()).await.0, 200, "the auditor reads {path}");
    }
    let (_, _, html) = get("/".into(), auditor.clone()).await;
    assert!(!html.contains("action=\"/audits\""), "no form the auditor may not send");
    let token = form_token(&html);
    assert_eq!(page(o, "POST", "/audits", Some(&auditor), &[("csrf_token", &token)], &[]).await.0, 403);
    assert_eq!(page(o, "POST", &triage, Some(&auditor), &[("csrf_token", &token), ("action", "comment"), ("text", "x")], &[]).await.0, 403);

    // A system owner: their system's findings only, and nothing of the programme's.
    let owner = signed_in(o, "erp.owner").await;
    let (_, _, html) = get("/findings?system=cloud".into(), owner.clone()).await;
    assert!(html.contains(&o.erp_finding) && !html.contains(&o.cloud_finding), "only erp's findings: {html}");
    assert_eq!(get(format!("/findings/{}", o.cloud_finding), owner.clone()).await.0, 403);
    assert_eq!(get(finding.clone(), owner.clone()).await.0, 200);
    for path in ["/soa", "/risks", "/ledger", "/campaigns", "/downloads/report.html"] {
        assert_eq!(get(path.into(), owner.clone()).await.0, 403, "a system owner and {path}");
    }

    // A reviewer: their own page only.
    let reviewer = signed_in(o, "ana.r").await;
    for path in ["/findings", "/soa", "/risks", "/ledger", "/campaigns", "/downloads/evidence-pack.zip", &finding] {
        assert_eq!(get(path.to_string(), reviewer.clone()).await.0, 403, "a reviewer and {path}");
    }
    // Without a session every page sends the browser to sign in.
    for path in ["/findings", "/soa", "/risks", "/ledger", "/campaigns", "/downloads/report.html", &finding] {
        let (status, h, _) = page(o, "GET", path, None, &[], &[]).await;
        assert_eq!((status, location(&h)), (303, "/sign-in"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_walks_the_whole_cycle_through_the_pages() {
    let root = tempfile::tempdir().expect("tempdir");
    let urls = tokio::task::block_in_place(|| annexa_store::testing::fresh_databases(root.path()));
    for url in urls {
        let o = tokio::task::block_in_place(|| org(&url, tempfile::tempdir().expect("tempdir")));
        the_cycle_through_the_pages(&o).await;
        let state = o.state.clone();
        drop(o);
        tokio::task::block_in_place(move || drop(state));
    }
}
