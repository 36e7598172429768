//! Fifty reviewers deciding at once through the API lose no decision: every item is decided
//! once, as its reviewer said, and the ledger verifies. On SQLite and, when the test script
//! starts one, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_app::tokens::TokenRequest;
use annexa_app::{App, Settings};
use annexa_core::model::Role;
use annexa_server::{app, AppState, ServerConfig};
use axum::body::Body;
use axum::http::Request;
use std::collections::BTreeMap;
use tower::ServiceExt;

const REVIEWERS: usize = 50;
const EACH: usize = 12;

fn org(url: &str, dir: &std::path::Path) -> (App, BTreeMap<String, String>, i64) {
    let mut settings = Settings::beside(url);
    settings.ledger_key = dir.join("ledger.key");
    settings.pushed_dir = dir.join("pushed");
    let admin = App::new(settings, "test:setup");
    let mut hr = String::from(
        "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date\n",
    );
    let mut accounts = String::from(
        "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n",
    );
    let mut assignments = String::from("system,account_id,entitlement,privileged,granted_at,granted_by,source\n");
    for r in 0..REVIEWERS {
        hr.push_str(&format!("M{r},m{r}@example.com,Mån{r},Lead,Ops/{r},Lead,,Oslo,employee,active,2019-01-01,\n"));
        hr.push_str(&format!("E{r},e{r}@example.com,Ève{r},Staff,Ops/{r},Engineer,M{r},Oslo,employee,active,2020-01-01,\n"));
        accounts.push_str(&format!("erp,e{r}@example.com,e{r}@example.com,,E{r},Ève {r},enabled,human,2020-01-01,2026-11-20,totp,,\n"));
        for g in 0..EACH {
            assignments.push_str(&format!("erp,e{r}@example.com,team/{g},false,2020-01-01,M{r},request\n"));
        }
    }
    let kind = |k: &str| annexa_connect::ImportKind::parse(k).expect("kind");
    admin.import_file(kind("hr"), "hr.csv", hr.as_bytes(), &Default::default(), false).expect("hr");
    admin.import_file(kind("accounts"), "accounts.csv", accounts.as_bytes(), &Default::default(), false).expect("accounts");
    admin.import_file(kind("assignments"), "assignments.csv", assignments.as_bytes(), &Default::default(), false).expect("assignments");
    let campaign = admin
        .create_campaign(&annexa_app::campaign::CampaignRequest {
            name: "everyone at once".into(),
            scope: vec!["system:erp".into()],
            reviewer: "manager".into(),
            due: chrono::Utc::now() + chrono::Duration::days(14),
            fallback: None,
            origin: None,
        })
        .expect("campaign");
    let mut tokens = BTreeMap::new();
    for r in 0..REVIEWERS {
        let request = TokenRequest { role: Some(Role::Reviewer), employee_id: Some(format!("M{r}")), ..Default::default() };
        tokens.insert(format!("M{r}"), admin.create_token(&format!("m{r}"), &request).expect("token"));
    }
    (admin, tokens, campaign.id)
}

async fn call(
    state: &std::sync::Arc<AppState>,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).expect("request");
    let res = app(state.clone()).oneshot(req).await.expect("response");
    let status = res.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(res.into_body()).await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_reviewers_deciding_at_once_lose_no_decision() {
    let root = tempfile::tempdir().expect("tempdir");
    let urls = tokio::task::block_in_place(|| annexa_store::testing::fresh_databases(root.path()));
    for url in urls {
        let dir = tempfile::tempdir().expect("tempdir");
        let (admin, tokens, campaign) = tokio::task::block_in_place(|| org(&url, dir.path()));
        let mut config = ServerConfig::new("http://annexa.test");
        config.settings = Some(admin.settings.clone());
        let state = tokio::task::block_in_place(|| AppState::open(&url, config)).expect("state");
        // Each reviewer lists their items, then decides them one by one, all reviewers at once.
        let mut tasks = Vec::new();
        for (reviewer, token) in tokens.clone() {
            let state = state.clone();
            tasks.push(tokio::spawn(async move {
                let (status, page) = call(&state, &token, "GET", &format!("/api/v1/campaigns/{campaign}/items"), None).await;
                assert_eq!(status, 200, "{reviewer}: {page}");
                let ids: Vec<i64> = page["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect();
                assert_eq!(ids.len(), EACH, "{reviewer}'s items");
                let mut decided = Vec::new();
                for (n, id) in ids.iter().enumerate() {
                    let decision = if n % 3 == 0 { "revoke" } else { "certify" };
                    let body = serde_json::json!({ "decision": decision, "comment": format!("{reviewer} on {id}") });
                    let (status, reply) = call(&state, &token, "POST", &format!("/api/v1/items/{id}/decision"), Some(body)).await;
                    assert_eq!(status, 200, "{reviewer} deciding {id}: {reply}");
                    decided.push((*id, decision));
                }
                decided
            }));
        }
        let mut expected = BTreeMap::new();
        for t in tasks {
            for (id, decision) in t.await.expect("a reviewer's task") {
                expected.insert(id, decision);
            }
        }
        assert_eq!(expected.len(), REVIEWERS * EACH);
        // Every decision is stored as made, once; the campaign counts them all.
        let (stored, counted, verified) = tokio::task::block_in_place(|| {
            let mut stored = BTreeMap::new();
            admin
                .campaign_items(campaign, &annexa_store::campaign::ItemFilter { limit: Some(10_000), ..Default::default() }, |i| {
                    stored.insert(i.id, i.decision.clone().unwrap_or_default());
                    Ok(())
                })
                .expect("items");
            let counted = admin.campaign(campaign).expect("campaign").decided;
            let verified = admin.verify_ledger(None, &[]).expect("verify").is_ok();
            (stored, counted, verified)
        });
        for (id, decision) in &expected {
            assert_eq!(stored.get(id).map(String::as_str), Some(*decision), "{url}: item {id}");
        }
        assert_eq!(counted as usize, REVIEWERS * EACH, "{url}: the campaign's count");
        assert!(verified, "{url}: the ledger verifies after the rush");
        tokio::task::block_in_place(move || drop(state));
    }
}
