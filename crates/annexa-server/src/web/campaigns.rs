//! Campaigns for the compliance lead: the list with a form to launch one, and a campaign's
//! page with its progress, the population it covers, how each reviewer reviewed (so that
//! rubber-stamping shows), the report to download and the form that closes it.

use super::*;
use axum::extract::{Path, Query};

struct Row {
    id: i64,
    name: String,
    scope: String,
    status: String,
    due: String,
    items: i64,
    decided: i64,
    revoked: i64,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    signed_in: Option<SignedIn>,
    flash: Flash,
    rows: Vec<Row>,
    default_due: String,
}

pub(super) async fn list(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Query(flash): Query<Flash>) -> Response {
    let app = state.app_for(&p);
    let campaigns = match read(move || Ok(app.campaigns()?)).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let rows = campaigns
        .into_iter()
        .map(|c| Row {
            id: c.id,
            name: c.name,
            scope: c.scope,
            status: c.status,
            due: c.due.format("%Y-%m-%d").to_string(),
            items: c.items,
            decided: c.decided,
            revoked: c.revoked,
        })
        .collect();
    let default_due = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    render(StatusCode::OK, &ListPage { signed_in: Some(SignedIn::of(&p)), flash, rows, default_due })
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct CreateForm {
    csrf_token: String,
    name: String,
    /// Scope terms separated by commas or spaces (`privileged, system:erp`).
    scope: String,
    reviewer: String,
    due: String,
    #[serde(default)]
    fallback: String,
}

pub(super) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Form(f): Form<CreateForm>,
) -> Response {
    let p = match poster(&state, &headers, &method, &route, &f.csrf_token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let due = match day("the due day", &f.due) {
        Ok(d) => d,
        Err(e) => return back("/campaigns", Err(e)),
    };
    let request = annexa_app::campaign::CampaignRequest {
        name: f.name.trim().to_string(),
        scope: f.scope.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        reviewer: f.reviewer.trim().to_string(),
        due,
        fallback: given(&f.fallback),
        origin: None,
    };
    let app = state.app_for(&p);
    match blocking(move || Ok(app.create_campaign(&request)?)).await {
        Ok(c) => back(&format!("/campaigns/{}", c.id), Ok(format!("Campaign #{} launched with {} items.", c.id, c.items))),
        Err(e) => back("/campaigns", Err(e)),
    }
}

struct ReviewerRow {
    reviewer: String,
    items: u64,
    decided: u64,
    certified_share: String,
    median_hours: String,
    fast_runs: u64,
    items_in_fast_runs: u64,
    certified_with_open_findings: u64,
    against_recommendation: u64,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    signed_in: Option<SignedIn>,
    flash: Flash,
    c: annexa_store::campaign::Campaign,
    reviewers: Vec<ReviewerRow>,
    population: String,
}

pub(super) async fn one(
    State(state): State<Arc<AppState>>,
    Viewer(p): Viewer,
    Path(id): Path<i64>,
    Query(flash): Query<Flash>,
) -> Response {
    let app = state.app_for(&p);
    let (c, diligence) = match read(move || Ok(app.campaign_report(id)?)).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let reviewers = diligence
        .into_iter()
        .map(|d| ReviewerRow {
            reviewer: d.reviewer,
            items: d.items,
            decided: d.decided,
            certified_share: format!("{:.0} %", d.certified_share * 100.0),
            median_hours: d.median_hours_to_decide.map(|h| format!("{h:.1} h")).unwrap_or_default(),
            fast_runs: d.fast_runs,
            items_in_fast_runs: d.items_in_fast_runs,
            certified_with_open_findings: d.certified_with_open_findings,
            against_recommendation: d.certified_against_recommendation,
        })
        .collect();
    let population = serde_json::to_string_pretty(&c.population).unwrap_or_default();
    render(StatusCode::OK, &CampaignPage { signed_in: Some(SignedIn::of(&p)), flash, c, reviewers, population })
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct CloseForm {
    csrf_token: String,
    #[serde(default)]
    undecided: String,
}

pub(super) async fn close(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Response {
    let p = match poster(&state, &headers, &method, &route, &f.csrf_token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let to = format!("/campaigns/{id}");
    let revoke = match f.undecided.as_str() {
        "" | "keep" => false,
        "revoke" => true,
        other => return back(&to, Err(ApiError::bad_request(format!("undecided {other:?}: expected keep or revoke")))),
    };
    let app = state.app_for(&p);
    let closed = blocking(move || Ok(app.close_campaign(id, revoke)?)).await;
    back(&to, closed.map(|c| format!("Campaign #{} closed: {} certified, {} revoked.", c.id, c.certified, c.revoked)))
}

/// The campaign's evidence as XLSX: who reviewed what, when, the decision, the comment, the
/// recommendation shown, and the population proof.
pub(super) async fn report(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Path(id): Path<i64>) -> Response {
    let app = state.app_for(&p);
    super::downloads::made(&format!("campaign-{id}.xlsx"), move |path| Ok(app.campaign_report_xlsx(id, path).map(|_| ())?))
        .await
        .unwrap_or_else(failure)
}
