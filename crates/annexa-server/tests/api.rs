//! The REST API through its router: every documented route for every role (the matrix must
//! name each route the OpenAPI document lists, so a new route cannot go untested), without
//! credentials, with a token of the wrong scope, expired or revoked; a reviewer reaching for
//! another reviewer's items; a system owner for another system; hostile filter values. On
//! SQLite and, when the test script starts one, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod org;

use org::*;
use serde_json::{json, Value};

const BADGES: &str = "badge_id,employee_id,status,last_used_at,zones\nB-1,E1,active,2026-11-30T08:02:00Z,lobby|office\n";

const ROLES: [&str; 5] = ["admin", "compliance-manager", "auditor", "reviewer", "system-owner"];

/// What each role gets on each route (in ROLES order).
fn expected(method: &str, route: &str) -> [u16; 5] {
    match (method, route) {
        ("GET", "/api/v1/me") => [200, 200, 200, 200, 200],
        ("GET", "/api/v1/findings") | ("GET", "/api/v1/findings/{id}") => [200, 200, 200, 403, 200],
        ("GET", "/api/v1/controls") => [200, 200, 200, 403, 200],
        ("GET", "/api/v1/campaigns/{id}/items") => [200, 200, 200, 200, 403],
        // Tokens that act for no person have no worksheet of their own: they name one.
        ("GET", "/api/v1/campaigns/{id}/worksheet") => [400, 400, 400, 200, 403],
        // No file named: refused before anything is read.
        ("POST", "/api/v1/campaigns/{id}/worksheet") => [400, 400, 403, 400, 403],
        // An admin or compliance manager may call it, but their token acts for no reviewer.
        ("POST", "/api/v1/items/{id}/decision") => [400, 400, 403, 200, 403],
        ("GET", "/api/v1/tokens") => [200, 403, 403, 403, 403],
        // A token has no session to end: revoking it is how.
        ("POST", "/api/v1/sign-out") => [400, 400, 400, 400, 400],
        ("GET", "/metrics") => [200, 200, 200, 403, 403],
        ("POST", "/api/v1/findings/{id}/triage") => [200, 200, 403, 403, 200],
        ("POST", "/api/v1/audits") => [200, 200, 403, 403, 403],
        ("POST", "/api/v1/campaigns") => [201, 201, 403, 403, 403],
        // The compliance manager closes it; the admin, after, finds it closed.
        ("POST", "/api/v1/campaigns/{id}/close") => [409, 200, 403, 403, 403],
        ("POST", "/api/v1/imports/{kind}") => [201, 201, 403, 403, 403],
        ("POST", "/api/v1/nonconformities" | "/api/v1/risks") => [201, 201, 403, 403, 403],
        ("POST", "/api/v1/soa/{control}" | "/api/v1/risks/simulate") => [200, 200, 403, 403, 403],
        ("GET", "/api/v1/jml" | "/api/v1/provisioning/tasks") => [200, 200, 200, 403, 403],
        ("POST", "/api/v1/nonconformities/{id}/actions") => [201, 201, 403, 403, 403],
        // Its findings are still open: not ready to close.
        ("POST", "/api/v1/nonconformities/{id}/close") => [409, 409, 403, 403, 403],
        // No such item: nothing handed over; an admin's token is no reviewer's.
        ("POST", "/api/v1/items/delegate") => [400, 400, 403, 400, 403],
        // No manual task in this organisation: the number is no task's.
        ("POST", "/api/v1/provisioning/tasks/{id}/confirm") => [404, 404, 403, 403, 403],
        // Refused while controls are undecided, whoever asks.
        ("POST", "/api/v1/soa/approve") => [409, 409, 403, 403, 403],
        ("GET", "/api/v1/nonconformities" | "/api/v1/nonconformities/{id}" | "/api/v1/ledger/entries/{seq}") => [200, 200, 200, 403, 403],
        (
            "GET",
            "/api/v1/campaigns"
            | "/api/v1/audits"
            | "/api/v1/soa"
            | "/api/v1/risks"
            | "/api/v1/ledger/checkpoint"
            | "/api/v1/reports/{file}",
        ) => [200, 200, 200, 403, 403],
        other => panic!("the role matrix has no row for {other:?}: add one"),
    }
}

/// A valid body for each route that takes one.
fn body_for(method: &str, route: &str) -> Option<Value> {
    match (method, route) {
        ("POST", "/api/v1/items/{id}/decision") => Some(json!({ "decision": "revoke", "comment": "no longer in finance approvals" })),
        ("POST", "/api/v1/findings/{id}/triage") => Some(json!({ "action": "comment", "text": "seen, on it" })),
        // A file, sent as it is (a JSON string is sent raw).
        ("POST", "/api/v1/imports/{kind}") => Some(Value::String(BADGES.into())),
        ("POST", "/api/v1/nonconformities") => {
            Some(json!({ "title": "Badge readers log no exits", "description": "an observation of the stage 2 audit" }))
        }
        ("POST", "/api/v1/soa/{control}") => {
            Some(json!({ "applicable": true, "reasons": ["regulatory"], "status": "implemented", "implementation": "ISMS-POL-001" }))
        }
        ("POST", "/api/v1/soa/approve") => Some(json!({ "approver": "M1" })),
        ("POST", "/api/v1/risks") => Some(json!({
            "title": "Leavers keep ERP access", "asset": "ERP", "threat": "A former employee approves payments",
            "vulnerability": "Leavers are removed by hand", "owner": "M2", "likelihood": 4, "impact": 5, "controls": ["A.5.18"],
            "frequency": [0.1, 0.5], "loss": [10000.0, 200000.0]
        })),
        ("POST", "/api/v1/risks/simulate") => Some(json!({ "seed": 7, "iterations": 1000 })),
        ("POST", "/api/v1/nonconformities/{id}/actions") => {
            Some(json!({ "description": "Leavers' access removed by the JML run, daily", "owner": "M1", "due": "2027-01-31" }))
        }
        ("POST", "/api/v1/nonconformities/{id}/close") => Some(json!({ "effectiveness": "the next audit found no leaver access" })),
        ("POST", "/api/v1/items/delegate") => Some(json!({ "items": [999999], "to": "M2" })),
        ("POST", "/api/v1/provisioning/tasks/{id}/confirm") => Some(json!({ "note": "zone removed at the door system by facilities" })),
        ("POST", "/api/v1/audits") => Some(json!({})),
        ("POST", "/api/v1/campaigns") => {
            Some(json!({ "name": "Ad hoc", "scope": ["system:erp"], "reviewer": "manager", "due": "2099-01-31", "fallback": "M1" }))
        }
        ("POST", "/api/v1/campaigns/{id}/close") => Some(json!({ "revoke_undecided": false })),
        ("POST", _) => Some(json!({})),
        _ => None,
    }
}

fn routes() -> Vec<(String, String)> {
    let doc = annexa_server::api::openapi();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("PATCH", &item.patch), ("DELETE", &item.delete)]
        {
            if op.is_some() && !annexa_server::api::PUBLIC.contains(&(method, path.as_str())) {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out
}

async fn every_route_for_every_role(o: &Org) {
    let routes = routes();
    assert!(routes.len() >= 12, "{routes:?}");
    for (method, route) in &routes {
        let path = o.path(route);
        let body = body_for(method, route);
        // Nobody without credentials, nor with a token that is not a live API token.
        for who in ["nobody", "expired", "revoked"] {
            let (status, body) = o.call(who, method, &path, body.clone()).await;
            assert_eq!(status, 401, "{who} {method} {route}: {body}");
            assert_eq!(body["error"]["code"], "unauthenticated");
        }
        assert_eq!(o.call("scim", method, &path, body.clone()).await.0, 403, "a SCIM token on {method} {route}");
        let want = expected(method, route);
        // The reviewer decides last: their decision changes the item.
        for (i, role) in ROLES.iter().enumerate().rev() {
            let (status, reply) = o.call(role, method, &path, body.clone()).await;
            assert_eq!(status.as_u16(), want[i], "{role} {method} {route}: {reply}");
            if status.is_client_error() {
                assert!(reply["error"]["message"].is_string(), "{role} {method} {route}: {reply}");
            }
        }
    }
    // An upload's name is a file's name, never a path; its kind one Annexa reads.
    for (query, why) in [
        ("/api/v1/imports/badges?file=..%2F..%2Fetc%2Fpasswd", "a path"),
        ("/api/v1/imports/badges?file=badges%2Fx.csv", "a path"),
        ("/api/v1/imports/badges?file=..", "a path"),
        ("/api/v1/imports/badges?file=a%00b.csv", "a path"),
        ("/api/v1/imports/spreadsheets?file=x.csv", "expected"),
        ("/api/v1/imports/badges?file=b.csv&shell=rm", "unknown field"),
    ] {
        let (status, reply) = o.call("admin", "POST", query, Some(Value::String(BADGES.into()))).await;
        assert_eq!(status.as_u16(), 400, "{query}: {reply}");
        assert!(reply["error"]["message"].as_str().is_some_and(|m| m.contains(why)), "{query}: {reply}");
    }
    let (status, reply) =
        o.call("admin", "POST", "/api/v1/imports/badges?file=bad.csv", Some(Value::String("badge_id\nB-1\n".into()))).await;
    assert!(status == 400 && reply["error"]["message"].as_str().is_some_and(|m| m.contains("bad.csv")), "a bad file is named: {reply}");
    // The auditor's files by name only: a path is not a name.
    for file in ["..%2F..%2Fetc%2Fpasswd", "report.pdf", "%2Fetc%2Fpasswd"] {
        let (status, reply) = o.call("auditor", "GET", &format!("/api/v1/reports/{file}"), None).await;
        assert_eq!((status.as_u16(), reply["error"]["code"].as_str()), (404, Some("not-found")), "{file}");
    }
}

async fn reviewers_and_owners_see_only_their_own(o: &Org) {
    let items = format!("/api/v1/campaigns/{}/items", o.campaign);
    // A reviewer's own items, by default; another's, refused; the other item, not theirs.
    let (status, mine) = o.call("reviewer", "GET", &items, None).await;
    assert_eq!(status, 200, "{mine}");
    let mine = mine["items"].as_array().expect("items");
    assert!(!mine.is_empty() && mine.iter().all(|i| i["reviewer"] == "M1"), "{mine:?}");
    assert_eq!(o.call("reviewer", "GET", &format!("{items}?reviewer=M2"), None).await.0, 403);
    let theirs = format!("/api/v1/items/{}/decision", o.item_of["M2"]);
    let body = Some(json!({ "decision": "certify", "comment": "ok" }));
    let (status, reply) = o.call("reviewer", "POST", &theirs, body.clone()).await;
    assert_eq!(status, 403, "{reply}");
    // Its own reviewer may; the refusal left it undecided.
    let (status, reply) = o.call("other-reviewer", "POST", &theirs, body).await;
    assert_eq!(status, 200, "{reply}");
    // A decision that is not one is the caller's error, nothing decided.
    let (status, reply) = o.call("other-reviewer", "POST", &theirs, Some(json!({ "decision": "maybe" }))).await;
    assert_eq!(status, 400, "{reply}");
    // A system owner: their system's findings by default, another system refused.
    let (status, page) = o.call("system-owner", "GET", "/api/v1/findings?status=all", None).await;
    assert_eq!(status, 200);
    let findings = page["findings"].as_array().expect("findings");
    assert!(!findings.is_empty() && findings.iter().all(|f| f["subject"]["key"].as_str().is_some_and(|k| k.starts_with("erp/"))), "{page}");
    assert_eq!(o.call("system-owner", "GET", "/api/v1/findings?system=cloud", None).await.0, 403);
    assert_eq!(o.call("system-owner", "GET", &format!("/api/v1/findings/{}", o.cloud_finding), None).await.0, 403);
    let triage = |f: &str| format!("/api/v1/findings/{f}/triage");
    let ack = Some(json!({ "action": "assign", "owner": "M1", "due": "2027-01-31" }));
    assert_eq!(o.call("system-owner", "POST", &triage(&o.cloud_finding), ack.clone()).await.0, 403, "another system's finding");
    let (status, done) = o.call("system-owner", "POST", &triage(&o.erp_finding), ack).await;
    assert_eq!((status.as_u16(), &done["state"]), (200, &json!("acknowledged")), "{done}");
    let bad = Some(json!({ "action": "accept", "approver": "M1", "reason": "r", "expires": "soon" }));
    assert_eq!(o.call("compliance-manager", "POST", &triage(&o.erp_finding), bad).await.0, 400);
    let unknown = Some(json!({ "action": "delete" }));
    let (status, reply) = o.call("compliance-manager", "POST", &triage(&o.erp_finding), unknown).await;
    assert_eq!((status.as_u16(), &reply["error"]["code"]), (422, &json!("invalid")), "not an action, in the API's error shape: {reply}");
    let (status, me) = o.call("system-owner", "GET", "/api/v1/me", None).await;
    assert_eq!((status.as_u16(), &me["role"], &me["systems"]), (200, &json!("system-owner"), &json!(["erp"])));
}

async fn hostile_filters_are_data(o: &Org) {
    let (_, all) = o.call("auditor", "GET", "/api/v1/findings?status=all&limit=1000", None).await;
    let total = all["total"].as_u64().expect("total");
    assert!(total > 0);
    for q in ["check=%27%20OR%201%3D1%20--", "system=x%27%3B%20DROP%20TABLE%20findings%3B--", "state=open%27--"] {
        let (status, reply) = o.call("auditor", "GET", &format!("/api/v1/findings?{q}"), None).await;
        assert!(status == 200 && reply["total"] == 0 || status == 400, "{q}: {status} {reply}");
    }
    assert_eq!(o.call("auditor", "GET", "/api/v1/findings?status=all&limit=1000", None).await.1["total"], total, "nothing dropped");
    assert_eq!(o.call("auditor", "GET", "/api/v1/findings?severity=severe", None).await.0, 400);
    assert_eq!(o.call("auditor", "GET", "/api/v1/findings?bogus=1", None).await.0, 400, "an unknown parameter is refused");
    let capped = o.call("auditor", "GET", "/api/v1/findings?limit=5000", None).await.1;
    assert!(capped["findings"].as_array().is_some_and(|f| f.len() <= 1000), "a page is at most 1000");
    assert_eq!(o.call("auditor", "GET", "/api/v1/findings/F-nothing-here", None).await.0, 404);
    assert_eq!(o.call("auditor", "GET", "/api/v1/campaigns/999999/items", None).await.0, 404);
}

async fn metrics_count_requests_by_route(o: &Org) {
    let (status, headers, text) = o.request("auditor", "GET", "/metrics", None, &[("x-request-id", "probe-42")]).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some("probe-42"), "the caller's id is echoed");
    let text = text.as_str().expect("text").to_string();
    // By declared route, never by id: one series for every finding's page.
    assert!(text.contains("annexa_http_requests_total{method=\"GET\",route=\"/api/v1/findings/{id}\",status=\"200\"}"), "{text}");
    assert!(!text.contains(&o.erp_finding), "an id in a label would make a series per finding");
    assert!(text.contains("annexa_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/me\",le=\"+Inf\"}"));
    let open: u64 =
        text.lines().filter(|l| l.starts_with("annexa_open_findings{")).filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok()).sum();
    let listed = o.call("auditor", "GET", "/api/v1/findings?limit=1", None).await.1["total"].as_u64();
    assert_eq!(Some(open), listed, "the gauges add up to the open findings: {text}");
    assert!(open > 0);
    assert!(text.contains("annexa_provisioning_tasks{status=\"pending\"}"));
    assert!(text.lines().any(|l| l.starts_with("annexa_ledger_entries ") && l != "annexa_ledger_entries 0"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("annexa_last_audit_duration_seconds ")), "the audit's duration: {text}");
    let (_, headers, _) = o.request("auditor", "GET", "/api/v1/me", None, &[("x-request-id", "bad id\twith tabs")]).await;
    let id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).expect("an id").to_string();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "a new id for a strange one: {id}");
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    assert_eq!(headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    let big = json!({ "decision": "x".repeat(2 << 20) });
    let path = format!("/api/v1/items/{}/decision", o.item_of["M2"]);
    assert_eq!(o.call("other-reviewer", "POST", &path, Some(big)).await.0, 413, "a body past 1 MiB");
}

async fn operations_answer_without_credentials(o: &Org) {
    let (status, _) = o.call("nobody", "GET", "/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(o.call("nobody", "GET", "/readyz", None).await.0, 200);
    let (status, doc) = o.call("nobody", "GET", "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true), "{doc}");
    assert!(doc["paths"]["/api/v1/findings"]["get"]["parameters"].as_array().is_some_and(|p| p.len() >= 5));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

async fn sessions_sign_in_and_guard_changes(o: &Org) {
    let (status, _) = o.sign_in("ana.r", "not the password at all").await;
    assert_eq!(status, 401);
    let (status, none) = o.sign_in("nobody.here", PASSWORD).await;
    assert_eq!((status.as_u16(), none), (401, None), "an unknown name gets the same answer");
    let (status, first) = o.sign_in("ANA.R", PASSWORD).await;
    assert_eq!(status, 200, "names sign in in any case");
    let (cookie, csrf) = first.expect("a session");
    let (_, again) = o.sign_in("ana.r", PASSWORD).await;
    assert_ne!(again.expect("another").0, cookie, "every sign-in makes a new session id");
    let with = |extra: &[(&'static str, String)]| {
        let mut h: Vec<(&str, String)> = vec![("cookie", cookie.clone())];
        h.extend(extra.iter().cloned());
        h
    };
    let (status, _, me) = o.request("nobody", "GET", "/api/v1/me", None, &refs(&with(&[]))).await;
    assert_eq!((status.as_u16(), &me["kind"], &me["role"]), (200, &json!("user"), &json!("reviewer")), "{me}");
    // A session id nobody was given is no session (fixation is pointless).
    let planted = format!("annexa_session={}", "ab".repeat(32));
    assert_eq!(o.request("nobody", "GET", "/api/v1/me", None, &[("cookie", &planted)]).await.0, 401);
    // A change by cookie needs the CSRF token and no sign of another site.
    let item = format!("/api/v1/items/{}/decision", o.item_of["M1"]);
    let decision = Some(json!({ "decision": "certify", "comment": "still needed" }));
    for (extra, why) in [
        (vec![], "no token"),
        (vec![("x-csrf-token", "0".repeat(64))], "a wrong token"),
        (vec![("x-csrf-token", csrf.clone()), ("sec-fetch-site", "cross-site".into())], "from another site"),
        (vec![("x-csrf-token", csrf.clone()), ("origin", "https://evil.example".into())], "another origin"),
    ] {
        let (status, _, reply) = o.request("nobody", "POST", &item, decision.clone(), &refs(&with(&extra))).await;
        assert_eq!(status, 403, "{why}: {reply}");
    }
    // Signing out ends it: the cookie is worth nothing after.
    let out = with(&[("x-csrf-token", csrf.clone()), ("sec-fetch-site", "same-origin".into())]);
    let (status, headers, _) = o.request("nobody", "POST", "/api/v1/sign-out", None, &refs(&out)).await;
    assert_eq!(status, 200);
    assert!(headers.get("set-cookie").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("Max-Age=0")));
    assert_eq!(o.request("nobody", "GET", "/api/v1/me", None, &refs(&with(&[]))).await.0, 401);
    // Guessing is slow: after five failures the name waits, even with the right password.
    for _ in 0..5 {
        assert_eq!(o.sign_in("ana.r", "wrong guess number n").await.0, 401);
    }
    let (status, headers, _) =
        o.request("nobody", "POST", "/api/v1/sign-in", Some(json!({ "username": "ana.r", "password": PASSWORD })), &[]).await;
    assert_eq!(status, 429);
    assert!(headers.get("retry-after").is_some());
}

async fn the_first_admin_comes_from_a_one_time_link(o: &Org, url: &str) {
    let app = App::new(o.state.settings.clone(), "test");
    let token = tokio::task::block_in_place(|| app.setup_link()).expect("link").expect("no admin yet");
    let (status, _, page) = o.request("nobody", "GET", &format!("/setup?token={token}%22%3E%3Cscript%3E"), None, &[]).await;
    let page = page.as_str().expect("html").to_string();
    assert_eq!(status, 200);
    assert!(page.contains("&quot;&gt;&lt;script&gt;") && !page.contains("\"><script>"), "escaped: {page}");
    let setup = |password: &str| Some(json!({ "token": token, "username": "root", "password": password }));
    assert_eq!(o.call("nobody", "POST", "/api/v1/setup", setup("short")).await.0, 400, "too short, and the link is not used up");
    let (status, created) = o.call("nobody", "POST", "/api/v1/setup", setup(PASSWORD)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(o.call("nobody", "POST", "/api/v1/setup", setup(PASSWORD)).await.0, 400, "the link works once");
    assert!(tokio::task::block_in_place(|| app.setup_link()).expect("link").is_none(), "an admin exists: no more links");
    let (status, session) = o.sign_in("root", PASSWORD).await;
    assert_eq!(status, 200);
    let (cookie, _) = session.expect("session");
    assert_eq!(o.request("nobody", "GET", "/api/v1/tokens", None, &[("cookie", &cookie)]).await.0, 200, "the admin's role");
    let _ = url;
}

/// Items handed from one reviewer to another: by an admin naming whose they are, and back by
/// the reviewer who received them; a reviewer cannot hand over someone else's.
async fn delegation_hands_items_over(o: &Org) {
    let (_, undecided) = o.call("admin", "GET", &format!("/api/v1/campaigns/{}/items?reviewer=M2&undecided=true", o.campaign), None).await;
    let theirs = undecided["items"][0]["id"].as_i64().expect("an undecided item of M2's");
    let (status, reply) = o.call("reviewer", "POST", "/api/v1/items/delegate", Some(json!({ "items": [theirs], "to": "E1" }))).await;
    assert_eq!(status, 400, "M1 cannot hand over M2's item: {reply}");
    let (status, reply) =
        o.call("admin", "POST", "/api/v1/items/delegate", Some(json!({ "items": [theirs], "from": "M2", "to": "M1" }))).await;
    assert_eq!((status.as_u16(), reply["delegated"].as_u64()), (200, Some(1)), "{reply}");
    let (_, mine) = o.call("reviewer", "GET", &format!("/api/v1/campaigns/{}/items", o.campaign), None).await;
    assert!(mine["items"].as_array().expect("items").iter().any(|i| i["id"] == theirs), "now M1's: {mine}");
    let (status, reply) = o.call("reviewer", "POST", "/api/v1/items/delegate", Some(json!({ "items": [theirs], "to": "M2" }))).await;
    assert_eq!((status.as_u16(), reply["delegated"].as_u64()), (200, Some(1)), "and back: {reply}");
}

/// A reviewer's worksheet through the API: downloaded (CSV or XLSX), filled in, returned;
/// another's refused both ways; an edit outside the decision cells refused, naming the row.
async fn worksheets_go_out_and_come_back(o: &Org) {
    // The cloud access: the erp access was decided in the open campaign already, and the
    // same access is decided alike in every open campaign.
    let body = json!({ "name": "Offline", "scope": ["system:cloud"], "reviewer": "named:M2", "due": "2099-01-31", "fallback": "M1" });
    let (status, campaign) = o.call("compliance-manager", "POST", "/api/v1/campaigns", Some(body)).await;
    assert_eq!(status, 201, "{campaign}");
    let sheet = format!("/api/v1/campaigns/{}/worksheet", campaign["id"]);
    let (status, headers, csv_text) = o.request("other-reviewer", "GET", &format!("{sheet}?format=csv"), None, &[]).await;
    assert_eq!(status, 200, "{csv_text}");
    assert!(headers["content-type"].to_str().expect("type").starts_with("text/csv"), "{headers:?}");
    assert!(headers["content-disposition"].to_str().expect("name").contains(".csv"), "{headers:?}");
    let text = csv_text.as_str().expect("CSV text").to_string();
    let mut rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    assert!(rows.len() >= 2 && rows[1..].iter().all(|r| r[2] == "M2"), "M2's items: {rows:?}");
    let first_item: i64 = rows[1][1].parse().expect("item id");
    rows[1][12] = "certify".into();
    rows[1][13] = "still approves vendor payments".into();
    let write = |rows: &[Vec<String>]| {
        let mut out = csv::Writer::from_writer(Vec::new());
        for r in rows {
            out.write_record(r).expect("row");
        }
        String::from_utf8(out.into_inner().expect("csv")).expect("utf8")
    };
    let filled = write(&rows);
    let back = |file: &str| format!("{sheet}?file={file}");
    // Someone else's rows: refused whole, naming them; nothing decided.
    let (status, reply) = o.call("reviewer", "POST", &back("m2.csv"), Some(Value::String(filled.clone()))).await;
    assert_eq!(status, 403, "{reply}");
    assert!(
        reply["error"]["message"].as_str().is_some_and(|m| m.contains("M2's to review") && m.contains("nothing was applied")),
        "{reply}"
    );
    assert_eq!(o.call("reviewer", "GET", &format!("{sheet}?reviewer=M2"), None).await.0, 403, "another's worksheet");
    // A row edited outside its decision cells: refused, naming the row.
    let mut tampered = rows.clone();
    tampered[1][4] = "cloud: org/everything".into();
    let (status, reply) = o.call("other-reviewer", "POST", &back("m2.csv"), Some(Value::String(write(&tampered)))).await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply["error"]["message"].as_str().is_some_and(|m| m.contains("row 2") && m.contains("changed")), "{reply}");
    // A compliance manager fetches anyone's, as XLSX by default; a format that is none, refused.
    let (status, headers, _) = o.request("compliance-manager", "GET", &format!("{sheet}?reviewer=M2"), None, &[]).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().expect("type").contains("spreadsheetml"), "{headers:?}");
    assert_eq!(o.call("compliance-manager", "GET", &format!("{sheet}?reviewer=M2&format=pdf"), None).await.0, 400);
    // Their own, as filled in: applied.
    let (status, decided) = o.call("other-reviewer", "POST", &back("m2.csv"), Some(Value::String(filled))).await;
    assert_eq!((status.as_u16(), &decided["items"]), (200, &json!([first_item])), "{decided}");
    assert_eq!(o.call("other-reviewer", "POST", &back("..%2Fm2.csv"), Some(Value::String(write(&rows)))).await.0, 400, "a path");
}

/// A read answered again from the cache is the same answer, until a change (a ledger
/// entry) makes it stale; one principal's answer is never another's.
async fn kept_reads_follow_every_change(o: &Org) {
    let path = format!("/api/v1/findings/{}", o.erp_finding);
    let (_, first) = o.call("admin", "GET", &path, None).await;
    let kept = o.state.read_cache.len();
    let (_, again) = o.call("admin", "GET", &path, None).await;
    assert_eq!((first.clone(), kept), (again, o.state.read_cache.len()), "the second read was the kept answer");
    let assign = json!({ "action": "assign", "owner": "M2", "due": "2027-02-28" });
    assert_eq!(o.call("admin", "POST", &format!("{path}/triage"), Some(assign)).await.0, 200);
    let (_, after) = o.call("admin", "GET", &path, None).await;
    assert_eq!(after["owner"], "M2", "a change is seen at once: {after}");
    assert_ne!(after, first);
    // The same address, another principal: the system owner's own list, not the admin's.
    let (_, all) = o.call("admin", "GET", "/api/v1/findings?status=all", None).await;
    let (_, own) = o.call("system-owner", "GET", "/api/v1/findings?status=all", None).await;
    assert!(own["total"].as_u64() < all["total"].as_u64(), "{own} / {all}");
    assert_eq!(o.call("reviewer", "GET", "/api/v1/findings?status=all", None).await.0, 403, "the policy comes before the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_each_role_as_the_policy_says() {
    let root = tempfile::tempdir().expect("tempdir");
    let urls = tokio::task::block_in_place(|| annexa_store::testing::fresh_databases(root.path()));
    let mut seen = 0;
    for url in urls {
        let o = tokio::task::block_in_place(|| org(&url, tempfile::tempdir().expect("tempdir")));
        every_route_for_every_role(&o).await;
        reviewers_and_owners_see_only_their_own(&o).await;
        hostile_filters_are_data(&o).await;
        operations_answer_without_credentials(&o).await;
        metrics_count_requests_by_route(&o).await;
        kept_reads_follow_every_change(&o).await;
        delegation_hands_items_over(&o).await;
        worksheets_go_out_and_come_back(&o).await;
        sessions_sign_in_and_guard_changes(&o).await;
        the_first_admin_comes_from_a_one_time_link(&o, &url).await;
        let state = o.state.clone();
        drop(o);
        tokio::task::block_in_place(move || drop(state));
        seen += 1;
    }
    assert!(seen >= 1);
}
