//! The REST API through its router: every documented route for every role (the matrix must
//! name each route the OpenAPI document lists, so a new route cannot go untested), without
//! credentials, with a token of the wrong scope, expired or revoked; a reviewer reaching for
//! another reviewer's items; a system owner for another system; hostile filter values. On
//! SQLite and, when the test script starts one, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_app::tokens::TokenRequest;
use annexa_app::{App, Settings};
use annexa_core::model::Role;
use annexa_server::{app, AppState, ServerConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const HR: &str = "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
M1,ana.nunez@example.com,Ana,Núñez,IT/Ops,Head of Ops,,Madrid,employee,active,2019-01-01,\n\
M2,soren@example.com,Søren,Kierkegaard,Finance,CFO,,Oslo,employee,active,2019-01-01,\n\
E1,zoe.ito@example.com,Zoë,Ito,IT/Ops,Engineer,M1,Madrid,employee,active,2021-01-01,\n\
E2,asa.berg@example.com,Åsa,Berg,Finance,Clerk,M2,Oslo,contractor,active,2021-01-01,2027-06-30\n\
L1,lars@example.com,Lars,Ødegård,Finance,Clerk,M2,Oslo,employee,terminated,2020-01-01,2026-01-31\n";

const ACCOUNTS: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
erp,zoe,zoe,,E1,Zoë Ito,enabled,human,2021-01-01,2026-11-20,totp,,\n\
erp,asa,asa,,E2,Åsa Berg,enabled,human,2021-01-01,2026-11-20,totp,,\n\
erp,lars,lars,,L1,Lars Ødegård,enabled,human,2020-01-01,2026-01-20,totp,,\n\
cloud,zoe.ito@example.com,zoe.ito@example.com,,,Zoë Ito,enabled,admin,2021-01-01,2026-11-20,sms,,\n\
cloud,lars@example.com,lars@example.com,,,Lars Ødegård,enabled,human,2020-01-01,2026-01-20,none,,\n";

const ASSIGNMENTS: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n\
erp,zoe,finance/approve,true,2021-01-01,M1,request\n\
erp,asa,finance/create-vendor,false,2021-01-01,M2,request\n\
erp,lars,finance/approve,true,2020-01-01,M2,request\n\
cloud,zoe.ito@example.com,org/admins,true,2021-01-01,M1,request\n";

struct Org {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    /// Role name -> token.
    tokens: BTreeMap<&'static str, String>,
    campaign: i64,
    /// A second campaign, for closing.
    to_close: i64,
    /// A review item of each manager.
    item_of: BTreeMap<&'static str, i64>,
    /// An erp finding and a cloud finding.
    erp_finding: String,
    cloud_finding: String,
}

fn org(url: &str, dir: tempfile::TempDir) -> Org {
    let mut settings = Settings::beside(url);
    // Files in the test's own directory, whatever the database.
    settings.ledger_key = dir.path().join("ledger.key");
    settings.pushed_dir = dir.path().join("pushed");
    let admin = App::new(settings.clone(), "test:setup");
    let kind = |k: &str| annexa_connect::ImportKind::parse(k).expect("kind");
    for (k, file, text) in [("hr", "hr.csv", HR), ("accounts", "accounts.csv", ACCOUNTS), ("assignments", "assignments.csv", ASSIGNMENTS)] {
        admin.import_file(kind(k), file, text.as_bytes(), &Default::default(), false).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    admin.audit(&[], None).expect("audit");
    let campaign = admin
        .create_campaign(&annexa_app::campaign::CampaignRequest {
            name: "Q4 review".into(),
            scope: vec!["system:erp".into()],
            reviewer: "manager".into(),
            due: chrono::Utc::now() + chrono::Duration::days(30),
            fallback: Some("M1".into()),
            origin: None,
        })
        .expect("campaign");
    let to_close = admin
        .create_campaign(&annexa_app::campaign::CampaignRequest {
            name: "to close".into(),
            scope: vec!["system:cloud".into()],
            reviewer: "named:M2".into(),
            due: chrono::Utc::now() + chrono::Duration::days(30),
            fallback: None,
            origin: None,
        })
        .expect("campaign")
        .id;
    let mut item_of = BTreeMap::new();
    admin
        .campaign_items(campaign.id, &Default::default(), |i| {
            let who = match i.item.reviewer.as_deref() {
                Some("M1") => "M1",
                Some("M2") => "M2",
                other => panic!("a reviewer {other:?}"),
            };
            item_of.entry(who).or_insert(i.id);
            Ok(())
        })
        .expect("items");
    let page = admin.findings(&Default::default()).expect("findings");
    let of_system = |s: &str| page.findings.iter().find(|f| f.finding.subject.system().as_deref() == Some(s)).expect(s).finding.id.clone();
    let (erp_finding, cloud_finding) = (of_system("erp"), of_system("cloud"));
    let token = |name: &str, role: Role, employee: Option<&str>, system: Option<&str>| {
        let request = TokenRequest {
            role: Some(role),
            employee_id: employee.map(String::from),
            system: system.map(String::from),
            ..Default::default()
        };
        admin.create_token(name, &request).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let mut tokens = BTreeMap::new();
    tokens.insert("admin", token("admin", Role::Admin, None, None));
    tokens.insert("compliance-manager", token("cm", Role::ComplianceManager, None, None));
    tokens.insert("auditor", token("auditor", Role::Auditor, None, None));
    tokens.insert("reviewer", token("ana", Role::Reviewer, Some("M1"), None));
    tokens.insert("other-reviewer", token("soren", Role::Reviewer, Some("M2"), None));
    tokens.insert("system-owner", token("erp-owner", Role::SystemOwner, Some("M1"), Some("erp")));
    tokens.insert(
        "scim",
        admin
            .create_token(
                "okta",
                &TokenRequest { scope: Some(annexa_core::model::TokenScope::Scim), system: Some("okta".into()), ..Default::default() },
            )
            .expect("scim"),
    );
    tokens.insert("revoked", token("gone", Role::Admin, None, None));
    let reviewer =
        annexa_app::users::UserRequest { username: "ana.r".into(), role: Role::Reviewer, employee_id: Some("M1".into()), system: None };
    admin.create_user(&reviewer, PASSWORD).expect("user");
    admin.revoke_token("gone").expect("revoke");
    // Expired: made as a store row whose expiry has passed (the app only makes live ones).
    let t = annexa_server::auth::new_token().expect("token");
    let grant = annexa_store::tokens::TokenGrant {
        scope: annexa_core::model::TokenScope::Api,
        system: None,
        role: Some(Role::Admin),
        employee_id: None,
        expires_at: Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
    };
    annexa_store::Store::open(url)
        .expect("open")
        .create_token(&t.id, "expired", &grant, &t.secret_sha256, "test", chrono::Utc::now())
        .expect("expired");
    tokens.insert("expired", t.token);
    let mut config = ServerConfig::new("http://annexa.test");
    config.settings = Some(settings);
    let state = AppState::open(url, config).expect("state");
    Org { _dir: dir, state, tokens, campaign: campaign.id, to_close, item_of, erp_finding, cloud_finding }
}

impl Org {
    async fn call(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, _, body) = self.request(who, method, path, body, &[]).await;
        (status, body)
    }

    /// A request as `who` (a token's role, or none), with more headers; the status, the
    /// headers and the JSON body.
    async fn request(
        &self,
        who: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = self.tokens.get(who) {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).expect("request");
        let res = app(self.state.clone()).oneshot(req).await.expect("response");
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    /// Signs in; the cookie header to send back and the CSRF token.
    async fn sign_in(&self, username: &str, password: &str) -> (StatusCode, Option<(String, String)>) {
        let (status, headers, body) =
            self.request("nobody", "POST", "/api/v1/sign-in", Some(json!({ "username": username, "password": password })), &[]).await;
        let cookie = headers.get("set-cookie").and_then(|v| v.to_str().ok()).map(|c| {
            assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"), "{c}");
            c.split(';').next().expect("pair").to_string()
        });
        (status, cookie.map(|c| (c, body["csrf_token"].as_str().expect("csrf").to_string())))
    }

    /// The documented route with its `{id}` filled for this org.
    fn path(&self, route: &str) -> String {
        let id = if route.starts_with("/api/v1/findings") {
            self.erp_finding.clone()
        } else if route.ends_with("/close") {
            self.to_close.to_string()
        } else if route.starts_with("/api/v1/items") {
            self.item_of["M1"].to_string()
        } else {
            self.campaign.to_string()
        };
        route.replace("{id}", &id)
    }
}

const PASSWORD: &str = "a long enough phrase, 2026";

const ROLES: [&str; 5] = ["admin", "compliance-manager", "auditor", "reviewer", "system-owner"];

/// What each role gets on each route (in ROLES order).
fn expected(method: &str, route: &str) -> [u16; 5] {
    match (method, route) {
        ("GET", "/api/v1/me") => [200, 200, 200, 200, 200],
        ("GET", "/api/v1/findings") | ("GET", "/api/v1/findings/{id}") => [200, 200, 200, 403, 200],
        ("GET", "/api/v1/controls") => [200, 200, 200, 403, 200],
        ("GET", "/api/v1/campaigns/{id}/items") => [200, 200, 200, 200, 403],
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
        ("GET", "/api/v1/campaigns" | "/api/v1/audits" | "/api/v1/soa" | "/api/v1/risks" | "/api/v1/ledger/checkpoint") => {
            [200, 200, 200, 403, 403]
        }
        other => panic!("the role matrix has no row for {other:?}: add one"),
    }
}

/// A valid body for each route that takes one.
fn body_for(method: &str, route: &str) -> Option<Value> {
    match (method, route) {
        ("POST", "/api/v1/items/{id}/decision") => Some(json!({ "decision": "revoke", "comment": "no longer in finance approvals" })),
        ("POST", "/api/v1/findings/{id}/triage") => Some(json!({ "action": "comment", "text": "seen, on it" })),
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

fn refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
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
        sessions_sign_in_and_guard_changes(&o).await;
        the_first_admin_comes_from_a_one_time_link(&o, &url).await;
        let state = o.state.clone();
        drop(o);
        tokio::task::block_in_place(move || drop(state));
        seen += 1;
    }
    assert!(seen >= 1);
}

/// A page request with a cookie (or none) and form fields; the status, headers and body.
async fn page(
    o: &Org,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> (u16, axum::http::HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let body = if form.is_empty() {
        Body::empty()
    } else {
        req = req.header("content-type", "application/x-www-form-urlencoded");
        let encoded: Vec<String> = form
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.bytes()
                        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                        .collect::<String>()
                )
            })
            .collect();
        Body::from(encoded.join("&"))
    };
    let res = app(o.state.clone()).oneshot(req.body(body).expect("request")).await.expect("response");
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn location(h: &axum::http::HeaderMap) -> &str {
    h.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The csrf token a page's forms carry.
fn form_token(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a form with a token") + 25;
    html[at..at + 64].to_string()
}

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
    assert!(!html.contains("<script"), "no script on the page");

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
    let (status, h, _) = page(&o, "POST", &decide(mine), Some(&cookie), &refs(&form(&token)), &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!((status, location(&h)), (303, format!("/review?done={mine}#item-{mine}").as_str()));
    let (_, _, html) = page(&o, "GET", &format!("/review?done={mine}"), Some(&cookie), &[], &[]).await;
    assert!(html.contains(&format!("Item {mine} decided.")) && !html.contains(&format!("action=\"/review/{mine}\"")), "{html}");
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
    focused.send_keys(&char::from(Key::Enter).to_string()).await.expect("Enter");
    c.wait().for_element(Locator::Css("p.notice")).await.expect("the decision's notice");
    let source = c.source().await.expect("source");
    assert!(source.contains(&format!("Item {mine} decided.")) && !source.contains(&format!("action=\"/review/{mine}\"")));
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
