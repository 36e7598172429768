//! The reviewer's page: their items in open campaigns, each with its context and the
//! recommendation, certified or revoked with a comment.

use super::*;
use axum::extract::{Path, Query};

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
    /// Why a decision on it was just refused (htmx's answer only).
    error: Option<String>,
}

fn row(i: &annexa_store::campaign::StoredItem) -> ItemRow {
    ItemRow {
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
        error: None,
    }
}

/// A single item's row, the answer to a decision htmx sent: the page stays as it is and
/// only the row changes.
#[derive(Template)]
#[template(path = "review_answer.html")]
struct RowAnswer {
    i: ItemRow,
    csrf_token: String,
    /// The reviewer's progress, swapped in out of band.
    decided: usize,
    total: usize,
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
pub(super) struct ReviewQuery {
    done: Option<i64>,
    notice: Option<String>,
    error: Option<String>,
}

/// The reviewer's items in the open campaigns, at most [`PAGE_ITEMS`] of each.
fn my_items(app: &annexa_app::App, me: &str) -> crate::api::ApiResult<Vec<annexa_store::campaign::StoredItem>> {
    let mut items = Vec::new();
    for c in app.campaigns()?.into_iter().filter(|c| c.status == "open") {
        let filter = annexa_store::campaign::ItemFilter { reviewer: Some(me.to_string()), limit: Some(PAGE_ITEMS), ..Default::default() };
        app.campaign_items(c.id, &filter, |i| {
            items.push(i);
            Ok(())
        })?;
    }
    Ok(items)
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

pub(super) async fn review(
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
    let items = match blocking(move || my_items(&app, &me)).await {
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
    let mut rows: Vec<ItemRow> = items.iter().map(row).collect();
    // What is still to decide first.
    rows.sort_by_key(|r| (r.decision.is_some(), r.id));
    let t = ReviewPage {
        csrf_token: p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
        signed_in: Some(SignedIn::of(&p)),
        items: rows,
        decided,
        total,
        notice: q.done.map(|id| format!("Item {id} decided.")).or(q.notice),
        more: more.then(|| format!("A campaign has more than {PAGE_ITEMS} items for you: only the first {PAGE_ITEMS} of each are shown here; GET /api/v1/campaigns/ID/items?undecided=true lists them all.")),
        error: q.error,
    };
    render(StatusCode::OK, &t)
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct DecisionForm {
    csrf_token: String,
    decision: String,
    #[serde(default)]
    comment: String,
}

pub(super) async fn decide(
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
    let decided = blocking(move || Ok(app.decide(&request)?)).await;
    if headers.get("hx-request").is_some_and(|v| v == "true") {
        // htmx asked: answer the item's row as it now stands, with the refusal if any.
        let refused = match decided {
            Ok(_) => None,
            Err(e) if e.status.is_client_error() => Some(e.message),
            Err(e) => return e.into_response(),
        };
        let app = state.app_for(&p);
        let me = p.employee_id.clone().unwrap_or_default();
        let (item, mine) = match blocking(move || Ok((app.campaign_item(id)?, my_items(&app, &me)?))).await {
            Ok(x) => x,
            Err(e) => return e.into_response(),
        };
        let mut answer = row(&item);
        answer.error = refused;
        let csrf_token = p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default();
        let decided = mine.iter().filter(|i| i.decision.is_some()).count();
        return render(StatusCode::OK, &RowAnswer { i: answer, csrf_token, decided, total: mine.len() });
    }
    match decided {
        Ok(_) => Redirect::to(&format!("/review?done={id}#item-{id}")).into_response(),
        Err(e) if e.status.is_client_error() => {
            let message: String = e.message.chars().filter(|c| !c.is_control()).collect();
            let query = percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC);
            Redirect::to(&format!("/review?error={query}#item-{id}")).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Several items decided at once with one shared comment: the items ticked on the page (a
/// checkbox per row, bound to this form by its `form` attribute), all of them or none.
/// The store decides all or nothing: one item that is not the reviewer's, already decided,
/// or needing a comment it lacks refuses the lot, naming it.
pub(super) async fn bulk(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = form_allowed(&state, &headers, &p, field("csrf_token")) {
        return r;
    }
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::json!({ "reviewer": p.employee_id })) {
        return r;
    }
    let Some(reviewer) = p.employee_id.clone() else { return Redirect::to("/review").into_response() };
    let items: Result<Vec<i64>, _> = fields.iter().filter(|(n, _)| n == "item").map(|(_, v)| v.parse::<i64>()).collect();
    let Ok(items) = items else { return back("/review", Err(ApiError::bad_request("an item that is not a number"))) };
    if items.is_empty() {
        return back("/review", Err(ApiError::bad_request("tick the items to decide first")));
    }
    let count = items.len();
    let request = annexa_store::campaign::DecisionRequest {
        items,
        reviewer,
        decision: field("decision").to_string(),
        comment: given(field("comment")),
    };
    let app = state.app_for(&p);
    let done = blocking(move || Ok(app.decide(&request)?)).await;
    back("/review", done.map(|_| format!("{count} items decided with one comment.")))
}
