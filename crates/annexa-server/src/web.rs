//! The server's pages: sign-in, the dashboard, and the reviewer's page. Rendered on the
//! server (askama templates, compile-time checked and escaped), working without JavaScript:
//! every action is a form. Every page needs a session (else it sends the browser to sign
//! in) and goes through the authorization policy like the API; every form carries the
//! session's CSRF token and is refused from another site.

// A page's refusal is the page the browser shows, a `Response`: made once per request.
#![allow(clippy::result_large_err)]

use crate::api::session::{cookie_session, cross_site_refused, COOKIE};
use crate::api::{blocking, ApiError};
use crate::auth::Principal;
use crate::setup::page;
use crate::AppState;
use annexa_core::model::Role;
use askama::Template;
use axum::extract::{MatchedPath, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<AppState>> {
    axum::Router::new()
        .route("/", axum::routing::get(dashboard))
        .route("/sign-in", axum::routing::get(sign_in_page).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/review", axum::routing::get(review))
        .route("/review/{id}", axum::routing::post(decide))
        .route("/assets/annexa.css", axum::routing::get(css))
}

async fn css() -> Response {
    let mut r = include_str!("../assets/annexa.css").into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// Who is signed in, as the layout shows them.
pub struct SignedIn {
    pub name: String,
    pub role: String,
    pub csrf_token: String,
    /// Sees the programme's dashboard.
    pub programme: bool,
    /// Has review items of their own.
    pub reviews: bool,
}

impl SignedIn {
    fn of(p: &Principal) -> SignedIn {
        let role = p.role.map(|r| r.as_str()).unwrap_or_default().to_string();
        SignedIn {
            name: p.name.clone(),
            programme: matches!(p.role, Some(Role::Admin | Role::ComplianceManager | Role::Auditor | Role::SystemOwner)),
            reviews: p.employee_id.is_some(),
            csrf_token: p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
            role,
        }
    }
}

/// A page's answer: the HTML with the pages' security headers, or a redirect.
fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => page(status, html),
        Err(e) => ApiError::internal(&format!("a page failed to render: {e}")).into_response(),
    }
}

/// The signed-in principal of a page request, or where to send the browser instead.
async fn session(state: &Arc<AppState>, headers: &HeaderMap) -> Result<Principal, Response> {
    let to_sign_in = || Redirect::to("/sign-in").into_response();
    let Some(id) = cookie_session(headers) else { return Err(to_sign_in()) };
    let app = annexa_app::App::new(state.settings.clone(), "server").with_pool(state.store.clone());
    let lookup = id.clone();
    match blocking(move || Ok(app.session(&lookup)?)).await {
        Ok(Some(s)) => Ok(Principal::of_session(id, s)),
        Ok(None) => Err(to_sign_in()),
        Err(e) => Err(e.into_response()),
    }
}

/// A form's CSRF token must be the session's, and the request must not come from elsewhere.
fn form_allowed(state: &AppState, headers: &HeaderMap, p: &Principal, sent: &str) -> Result<(), Response> {
    let refused = |m: &str| page(StatusCode::FORBIDDEN, format!("<!doctype html><title>Refused</title><p>{}</p>", crate::setup::escape(m)));
    cross_site_refused(state, headers).map_err(|e| refused(&e.message))?;
    let expected = p.session.as_ref().map(|s| s.csrf_token.as_str()).unwrap_or_default();
    if expected.is_empty() || !annexa_app::tokens::same_secret(sent, expected) {
        return Err(refused("this form is out of date or not this session's: reload the page and try again"));
    }
    Ok(())
}

fn authorized(state: &AppState, p: &Principal, method: &Method, route: &str, resource: serde_json::Value) -> Result<(), Response> {
    state.authorize(p, method, route, resource).map_err(|e| {
        if e.status == StatusCode::FORBIDDEN {
            page(
                StatusCode::FORBIDDEN,
                "<!doctype html><title>Forbidden</title><h1>Forbidden</h1><p>Your role does not allow this page.</p>".into(),
            )
        } else {
            e.into_response()
        }
    })
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    signed_in: Option<SignedIn>,
    username: String,
    error: Option<String>,
}

async fn sign_in_page() -> Response {
    render(StatusCode::OK, &SignInPage { signed_in: None, username: String::new(), error: None })
}

#[derive(Debug, serde::Deserialize)]
struct SignInForm {
    username: String,
    password: String,
}

async fn sign_in(State(state): State<Arc<AppState>>, headers: HeaderMap, Form(f): Form<SignInForm>) -> Response {
    let again = |status, error: &str, username: &str| {
        render(status, &SignInPage { signed_in: None, username: username.to_string(), error: Some(error.to_string()) })
    };
    if let Err(e) = cross_site_refused(&state, &headers) {
        return again(StatusCode::FORBIDDEN, &e.message, &f.username);
    }
    match crate::api::session::start_session(&state, f.username.clone(), f.password).await {
        Ok(started) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().insert(header::SET_COOKIE, started.cookie);
            r
        }
        Err(e) => again(e.status, &e.message, &f.username),
    }
}

#[derive(Debug, serde::Deserialize)]
struct CsrfForm {
    csrf_token: String,
}

async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = form_allowed(&state, &headers, &p, &f.csrf_token) {
        return r;
    }
    let Some(s) = p.session.clone() else { return Redirect::to("/sign-in").into_response() };
    let app = state.app_for(&p);
    if let Err(e) = blocking(move || Ok(app.sign_out(&s.id)?)).await {
        return e.into_response();
    }
    let mut r = Redirect::to("/sign-in").into_response();
    if let Ok(clear) = HeaderValue::from_str(&format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")) {
        r.headers_mut().insert(header::SET_COOKIE, clear);
    }
    r
}

struct Bar {
    label: String,
    count: u64,
    y: u32,
    width: u32,
}

struct CampaignRow {
    id: i64,
    name: String,
    status: String,
    due: String,
    items: i64,
    decided: i64,
    revoked: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    signed_in: Option<SignedIn>,
    open_total: u64,
    last_audit: Option<String>,
    bars: Vec<Bar>,
    chart_height: u32,
    campaigns: Vec<CampaignRow>,
    ledger_entries: u64,
    pending_tasks: u64,
}

async fn dashboard(State(state): State<Arc<AppState>>, headers: HeaderMap, method: Method, route: MatchedPath) -> Response {
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if p.role == Some(Role::Reviewer) {
        return Redirect::to("/review").into_response();
    }
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::Value::Null) {
        return r;
    }
    let app = state.app_for(&p);
    let read = blocking(move || Ok((app.monitoring()?, app.campaigns()?))).await;
    let (m, campaigns) = match read {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let most = m.open_findings.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = annexa_core::finding::Severity::ALL
        .iter()
        .rev()
        .enumerate()
        .map(|(i, s)| {
            let count = m.open_findings.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
            Bar { label: s.to_string(), count, y: i as u32 * 26, width: ((count as f64 / most as f64) * 260.0).round() as u32 }
        })
        .collect();
    let pending = m.tasks.iter().find(|(s, _)| *s == annexa_core::model::TaskStatus::Pending).map_or(0, |(_, n)| *n);
    let t = Dashboard {
        signed_in: Some(SignedIn::of(&p)),
        open_total: m.open_findings.iter().map(|(_, n)| n).sum(),
        last_audit: m.last_audit.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        chart_height: bars.len() as u32 * 26,
        bars,
        campaigns: campaigns
            .into_iter()
            .map(|c| CampaignRow {
                id: c.id,
                name: c.name,
                status: c.status,
                due: c.due.format("%Y-%m-%d").to_string(),
                items: c.items,
                decided: c.decided,
                revoked: c.revoked,
            })
            .collect(),
        ledger_entries: m.ledger_entries,
        pending_tasks: pending,
    };
    render(StatusCode::OK, &t)
}

/// Items a campaign shows a reviewer on their page at most (the API pages through the rest).
const PAGE_ITEMS: u64 = 500;

struct ItemRow {
    id: i64,
    entitlement: String,
    system: String,
    account: String,
    holder: String,
    privileged: bool,
    context: String,
    recommendation: String,
    reason: String,
    decision: Option<String>,
    comment_required: bool,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    signed_in: Option<SignedIn>,
    csrf_token: String,
    items: Vec<ItemRow>,
    decided: usize,
    total: usize,
    notice: Option<String>,
    error: Option<String>,
    /// Said when a campaign has more items than the page shows.
    more: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ReviewQuery {
    done: Option<i64>,
    error: Option<String>,
}

fn context(i: &annexa_store::campaign::StoredItem) -> String {
    let mut parts = Vec::new();
    match i.item.last_used_at {
        Some(t) => parts.push(format!("last used {}", t.format("%Y-%m-%d"))),
        None => parts.push("no recorded use".into()),
    }
    if i.item.open_findings > 0 {
        parts.push(format!("{} open finding(s)", i.item.open_findings));
    }
    if !i.item.sod_rules.is_empty() {
        parts.push(format!("SoD: {}", i.item.sod_rules.join(", ")));
    }
    if let Some(share) = i.item.peer_share {
        parts.push(format!("held by {:.0} % of {} peers", share * 100.0, i.item.peers));
    }
    parts.join("; ")
}

async fn review(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::json!({ "reviewer": p.employee_id })) {
        return r;
    }
    let Some(me) = p.employee_id.clone() else {
        return page(
            StatusCode::OK,
            "<!doctype html><title>My reviews</title><p>Your user is not a person in HR, so no item is yours.</p>".into(),
        );
    };
    let app = state.app_for(&p);
    let read = blocking(move || {
        let mut items = Vec::new();
        for c in app.campaigns()?.into_iter().filter(|c| c.status == "open") {
            let filter = annexa_store::campaign::ItemFilter { reviewer: Some(me.clone()), limit: Some(PAGE_ITEMS), ..Default::default() };
            app.campaign_items(c.id, &filter, |i| {
                items.push(i);
                Ok(())
            })?;
        }
        Ok(items)
    })
    .await;
    let items = match read {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let shown_per_campaign = items.iter().fold(std::collections::HashMap::<i64, u64>::new(), |mut m, i| {
        *m.entry(i.campaign_id).or_default() += 1;
        m
    });
    let more = shown_per_campaign.values().any(|n| *n >= PAGE_ITEMS);
    let decided = items.iter().filter(|i| i.decision.is_some()).count();
    let total = items.len();
    let mut rows: Vec<ItemRow> = items
        .iter()
        .map(|i| ItemRow {
            id: i.id,
            entitlement: if i.item.entitlement.is_empty() { "(the account itself)".into() } else { i.item.entitlement.clone() },
            system: i.item.system.clone(),
            account: i.item.account_id.clone(),
            holder: i.item.holder.clone(),
            privileged: i.item.privileged,
            context: context(i),
            recommendation: i.item.recommendation.as_str().to_string(),
            reason: i.item.recommendation_reason.clone(),
            decision: i.decision.clone(),
            comment_required: i.item.privileged || i.item.open_findings > 0,
        })
        .collect();
    // What is still to decide first.
    rows.sort_by_key(|r| (r.decision.is_some(), r.id));
    let t = ReviewPage {
        csrf_token: p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
        signed_in: Some(SignedIn::of(&p)),
        items: rows,
        decided,
        total,
        notice: q.done.map(|id| format!("Item {id} decided.")),
        more: more.then(|| format!("A campaign has more than {PAGE_ITEMS} items for you: only the first {PAGE_ITEMS} of each are shown here; GET /api/v1/campaigns/ID/items?undecided=true lists them all.")),
        error: q.error,
    };
    render(StatusCode::OK, &t)
}

#[derive(Debug, serde::Deserialize)]
struct DecisionForm {
    csrf_token: String,
    decision: String,
    #[serde(default)]
    comment: String,
}

async fn decide(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = form_allowed(&state, &headers, &p, &f.csrf_token) {
        return r;
    }
    let app = state.app_for(&p);
    let item = match blocking(move || Ok(app.campaign_item(id)?)).await {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::json!({ "reviewer": item.item.reviewer })) {
        return r;
    }
    let Some(reviewer) = p.employee_id.clone() else { return Redirect::to("/review").into_response() };
    let comment = Some(f.comment.trim().to_string()).filter(|c| !c.is_empty());
    let request = annexa_store::campaign::DecisionRequest { items: vec![id], reviewer, decision: f.decision, comment };
    let app = state.app_for(&p);
    match blocking(move || Ok(app.decide(&request)?)).await {
        Ok(_) => Redirect::to(&format!("/review?done={id}#item-{id}")).into_response(),
        Err(e) if e.status.is_client_error() => {
            let message: String = e.message.chars().filter(|c| !c.is_control()).collect();
            let query = percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC);
            Redirect::to(&format!("/review?error={query}#item-{id}")).into_response()
        }
        Err(e) => e.into_response(),
    }
}
