//! What the server's tests share: a small organisation unlike the demo's (non-ASCII
//! names, `/` in a department, e-mail-shaped logins), imported, audited, with campaigns,
//! tokens of every role and a reviewer's user; and requests through the router.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // each test uses a part; a test stops loudly

pub use annexa_app::tokens::TokenRequest;
pub use annexa_app::{App, Settings};
pub use annexa_core::model::Role;
pub use annexa_server::{app, AppState, ServerConfig};
pub use axum::body::Body;
pub use axum::http::{Request, StatusCode};
pub use http_body_util::BodyExt;
pub use serde_json::{json, Value};
pub use std::collections::BTreeMap;
pub use std::sync::Arc;
pub use tower::ServiceExt;

pub const HR: &str =
    "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n\
M1,ana.nunez@example.com,Ana,Núñez,IT/Ops,Head of Ops,,Madrid,employee,active,2019-01-01,\n\
M2,soren@example.com,Søren,Kierkegaard,Finance,CFO,,Oslo,employee,active,2019-01-01,\n\
E1,zoe.ito@example.com,Zoë,Ito,IT/Ops,Engineer,M1,Madrid,employee,active,2021-01-01,\n\
E2,asa.berg@example.com,Åsa,Berg,Finance,Clerk,M2,Oslo,contractor,active,2021-01-01,2027-06-30\n\
L1,lars@example.com,Lars,Ødegård,Finance,Clerk,M2,Oslo,employee,terminated,2020-01-01,2026-01-31\n";

pub const ACCOUNTS: &str =
    "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
erp,zoe,zoe,,E1,Zoë Ito,enabled,human,2021-01-01,2026-11-20,totp,,\n\
erp,asa,asa,,E2,Åsa Berg,enabled,human,2021-01-01,2026-11-20,totp,,\n\
erp,lars,lars,,L1,Lars Ødegård,enabled,human,2020-01-01,2026-01-20,totp,,\n\
cloud,zoe.ito@example.com,zoe.ito@example.com,,,Zoë Ito,enabled,admin,2021-01-01,2026-11-20,sms,,\n\
cloud,lars@example.com,lars@example.com,,,Lars Ødegård,enabled,human,2020-01-01,2026-01-20,none,,\n";

pub const ASSIGNMENTS: &str = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n\
erp,zoe,finance/approve,true,2021-01-01,M1,request\n\
erp,asa,finance/create-vendor,false,2021-01-01,M2,request\n\
erp,lars,finance/approve,true,2020-01-01,M2,request\n\
cloud,zoe.ito@example.com,org/admins,true,2021-01-01,M1,request\n";

pub struct Org {
    pub _dir: tempfile::TempDir,
    pub state: Arc<AppState>,
    /// Role name -> token.
    pub tokens: BTreeMap<&'static str, String>,
    pub campaign: i64,
    /// A second campaign, for closing.
    pub to_close: i64,
    /// A review item of each manager.
    pub item_of: BTreeMap<&'static str, i64>,
    /// An erp finding and a cloud finding.
    pub erp_finding: String,
    pub cloud_finding: String,
    /// A nonconformity of the leavers' findings.
    pub nc: i64,
}

pub fn org(url: &str, dir: tempfile::TempDir) -> Org {
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
    let nc = admin
        .open_nc(&annexa_app::nonconformity::NcRequest {
            title: "Leavers keep their access".into(),
            control: Some("A.5.18".into()),
            checks: vec!["leaver-access".into()],
            ..Default::default()
        })
        .expect("nonconformity")
        .id;
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
    Org { _dir: dir, state, tokens, campaign: campaign.id, to_close, item_of, erp_finding, cloud_finding, nc }
}

impl Org {
    pub async fn call(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, _, body) = self.request(who, method, path, body, &[]).await;
        (status, body)
    }

    /// A request as `who` (a token's role, or none), with more headers; the status, the
    /// headers and the JSON body.
    pub async fn request(
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
        let body = match body {
            // A file, sent as it is.
            Some(Value::String(raw)) => {
                req = req.header("content-type", "application/octet-stream");
                Some(raw)
            }
            Some(v) => {
                req = req.header("content-type", "application/json");
                Some(v.to_string())
            }
            None => None,
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("request");
        let res = app(self.state.clone()).oneshot(req).await.expect("response");
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    /// Signs in; the cookie header to send back and the CSRF token.
    pub async fn sign_in(&self, username: &str, password: &str) -> (StatusCode, Option<(String, String)>) {
        let (status, headers, body) =
            self.request("nobody", "POST", "/api/v1/sign-in", Some(json!({ "username": username, "password": password })), &[]).await;
        let cookie = headers.get("set-cookie").and_then(|v| v.to_str().ok()).map(|c| {
            assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"), "{c}");
            c.split(';').next().expect("pair").to_string()
        });
        (status, cookie.map(|c| (c, body["csrf_token"].as_str().expect("csrf").to_string())))
    }

    /// The documented route with its `{id}` filled for this org.
    pub fn path(&self, route: &str) -> String {
        if route == "/api/v1/imports/{kind}" {
            return "/api/v1/imports/badges?file=badges.csv".into();
        }
        let route = route.replace("{control}", "A.5.1").replace("{seq}", "1");
        let id = if route.starts_with("/api/v1/provisioning") {
            "999999".to_string()
        } else if route.starts_with("/api/v1/nonconformities") {
            self.nc.to_string()
        } else if route.starts_with("/api/v1/findings") {
            self.erp_finding.clone()
        } else if route.ends_with("/close") {
            self.to_close.to_string()
        } else if route.starts_with("/api/v1/items") {
            self.item_of["M1"].to_string()
        } else {
            self.campaign.to_string()
        };
        route.replace("{id}", &id).replace("{file}", "evidence-pack.zip")
    }
}

pub const PASSWORD: &str = "a long enough phrase, 2026";

pub fn refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A page request with a cookie (or none) and form fields; the status, headers and body.
pub async fn page(
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

pub fn location(h: &axum::http::HeaderMap) -> &str {
    h.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The csrf token a page's forms carry.
pub fn form_token(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a form with a token") + 25;
    html[at..at + 64].to_string()
}
