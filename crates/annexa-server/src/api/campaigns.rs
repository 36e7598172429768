//! `/api/v1/campaigns` and review items: the compliance lead sees every campaign and item; a
//! reviewer sees and decides only their own items (the policy judges each item's reviewer).

use super::findings::MAX_PAGE;
use super::{blocking, ApiError, ApiResult, Body};
use crate::auth::Principal;
use crate::AppState;
use annexa_core::model::Role;
use axum::extract::{MatchedPath, Path, State};
use axum::http::Method;
use axum::{Extension, Json};
use std::sync::Arc;

/// Every campaign, newest first, with its progress.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", responses((status = 200, description = "The campaigns", body = serde_json::Value)))]
pub async fn list(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    let campaigns = blocking(move || Ok(app.campaigns()?)).await?;
    Ok(Json(serde_json::to_value(campaigns).map_err(|e| ApiError::internal(&e.to_string()))?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemQuery {
    /// One reviewer's items (employee id); a reviewer's own by default.
    reviewer: Option<String>,
    /// Only items nobody has decided yet.
    #[serde(default)]
    undecided: bool,
    /// One system's items.
    system: Option<String>,
    /// At most this many (100 by default, at most 1000).
    limit: Option<u64>,
    offset: Option<u64>,
}

/// A campaign's items, in id order, with their context and recommendation.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/items", tag = "campaigns", params(("id" = i64, Path, description = "The campaign"), ItemQuery),
    responses((status = 200, description = "`{items: [...]}`", body = serde_json::Value), (status = 403, description = "Another reviewer's items"), (status = 404, description = "No such campaign"))
)]
pub async fn items(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    Path(id): Path<i64>,
    super::Params(q): super::Params<ItemQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut reviewer = q.reviewer;
    if principal.role == Some(Role::Reviewer) && reviewer.is_none() {
        reviewer = principal.employee_id.clone();
    }
    // Whose items these are is the resource: a reviewer asking for another's is refused.
    if reviewer.is_some() || principal.role == Some(Role::Reviewer) {
        state.authorize(&principal, &method, route.as_str(), serde_json::json!({ "reviewer": reviewer }))?;
    }
    let filter = annexa_store::campaign::ItemFilter {
        reviewer,
        undecided: q.undecided,
        system: q.system,
        limit: Some(q.limit.unwrap_or(100).min(MAX_PAGE)),
        offset: q.offset.unwrap_or(0),
    };
    let app = state.app_for(&principal);
    let items = blocking(move || {
        let mut items = Vec::new();
        app.campaign_items(id, &filter, |i| {
            items.push(i);
            Ok(())
        })?;
        Ok(items)
    })
    .await?;
    Ok(Json(serde_json::json!({ "campaign": id, "items": items })))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `certify` or `revoke`.
    decision: String,
    /// Required to revoke privileged access and to certify an item with open findings.
    comment: Option<String>,
}

/// Decides one review item as the calling reviewer (the person the token acts for).
#[utoipa::path(
    post, path = "/api/v1/items/{id}/decision", tag = "campaigns", params(("id" = i64, Path, description = "The review item")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "What was decided, the revocation tasks queued and the ledger entry", body = serde_json::Value),
        (status = 400, description = "Not a decision, or a comment is missing"),
        (status = 403, description = "Another reviewer's item"),
        (status = 404, description = "No such item"),
    )
)]
pub async fn decide(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    Path(id): Path<i64>,
    super::Body(body): super::Body<DecisionBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    let item = blocking(move || Ok(app.campaign_item(id)?)).await?;
    state.authorize(&principal, &method, route.as_str(), serde_json::json!({ "reviewer": item.item.reviewer }))?;
    let Some(reviewer) = principal.employee_id.clone() else {
        return Err(ApiError::bad_request("this token acts for no person, so it cannot decide as a reviewer: use a reviewer's token"));
    };
    let request = annexa_store::campaign::DecisionRequest { items: vec![id], reviewer, decision: body.decision, comment: body.comment };
    let app = state.app_for(&principal);
    let decided = blocking(move || Ok(app.decide(&request)?)).await?;
    Ok(Json(serde_json::to_value(decided).map_err(|e| ApiError::internal(&e.to_string()))?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    name: String,
    /// Scope terms, all of which an item meets: `all`, `privileged`, `system:NAME`,
    /// `department:NAME`, `entitlement:PATTERN`, `uncertified:DAYS`, `check:CHECK_ID`.
    scope: Vec<String>,
    /// `manager`, `entitlement-owner`, `system-owner` or `named:EMPLOYEE_ID`.
    reviewer: String,
    /// The due date (`2027-01-31`).
    due: String,
    /// Who takes items whose reviewer is missing or a leaver.
    fallback: Option<String>,
}

/// Launches a campaign: its scope is drawn and snapshotted now.
#[utoipa::path(
    post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignBody,
    responses((status = 201, description = "The campaign", body = serde_json::Value), (status = 400, description = "A scope, reviewer or date that is not one"))
)]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    super::Body(body): super::Body<CampaignBody>,
) -> ApiResult<(axum::http::StatusCode, Json<serde_json::Value>)> {
    let due = super::day("due", &body.due)?;
    let request = annexa_app::campaign::CampaignRequest {
        name: body.name,
        scope: body.scope,
        reviewer: body.reviewer,
        due,
        fallback: body.fallback,
        origin: None,
    };
    let app = state.app_for(&principal);
    let campaign = blocking(move || Ok(app.create_campaign(&request)?)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(serde_json::to_value(campaign).map_err(|e| ApiError::internal(&e.to_string()))?)))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// Revoke what nobody decided (otherwise it stays as it is, reported undecided).
    #[serde(default)]
    revoke_undecided: bool,
}

/// Closes a campaign.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/close", tag = "campaigns", request_body = CloseBody,
    params(("id" = i64, Path, description = "The campaign")),
    responses((status = 200, description = "The closed campaign", body = serde_json::Value), (status = 409, description = "Closed already"))
)]
pub async fn close(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    super::Body(body): super::Body<CloseBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let revoke = body.revoke_undecided;
    let app = state.app_for(&principal);
    let campaign = blocking(move || Ok(app.close_campaign(id, revoke)?)).await?;
    Ok(Json(serde_json::to_value(campaign).map_err(|e| ApiError::internal(&e.to_string()))?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateBody {
    /// The review items to hand over.
    items: Vec<i64>,
    /// Their current reviewer: a reviewer's own by default (an admin names one).
    from: Option<String>,
    /// Who reviews them now (an employee id).
    to: String,
}

/// Hands review items to another reviewer (a manager to a team lead, say). A reviewer hands
/// over only their own; the items' own holders can never receive them.
#[utoipa::path(
    post, path = "/api/v1/items/delegate", tag = "campaigns", request_body = DelegateBody,
    responses((status = 200, description = "`{delegated}`", body = serde_json::Value), (status = 400, description = "An item that is not the reviewer's, or a delegate who cannot take it"))
)]
pub async fn delegate(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Body(b): Body<DelegateBody>,
) -> ApiResult<Json<serde_json::Value>> {
    // A reviewer hands over their own items only; whose they are is the resource.
    let from = match (principal.role, b.from) {
        (Some(annexa_core::model::Role::Reviewer), _) => principal.employee_id.clone(),
        (_, Some(f)) => Some(f),
        (_, None) => principal.employee_id.clone(),
    }
    .ok_or_else(|| ApiError::bad_request("whose items? give \"from\": their reviewer's employee id"))?;
    let app = state.app_for(&principal);
    let n = blocking(move || Ok(app.delegate(&b.items, &from, &b.to)?)).await?;
    Ok(Json(serde_json::json!({ "delegated": n })))
}

/// The largest returned worksheet the API takes (the CLI's limit too).
pub const MAX_WORKSHEET: usize = 256 << 20;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorksheetQuery {
    /// Whose worksheet (employee id); a reviewer's own by default.
    reviewer: Option<String>,
    /// `xlsx` (the default: locked cells, a drop-down for the decision) or `csv`.
    format: Option<String>,
}

/// A reviewer's undecided items as a worksheet to decide offline: the decision and comment
/// cells are theirs, every row carries an integrity code (`annexa campaign export`).
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/worksheet", tag = "campaigns", params(("id" = i64, Path, description = "The campaign"), WorksheetQuery),
    responses(
        (status = 200, description = "The worksheet, as a download", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "No reviewer named (a token that acts for no person), or nothing left to decide"),
        (status = 403, description = "Another reviewer's worksheet"),
        (status = 404, description = "No such campaign"),
    )
)]
pub async fn worksheet(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    Path(id): Path<i64>,
    super::Params(q): super::Params<WorksheetQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let reviewer = q.reviewer.or_else(|| principal.employee_id.clone()).ok_or_else(|| {
        ApiError::bad_request("name the reviewer (reviewer=EMPLOYEE_ID): this token acts for no person, so it has no worksheet of its own")
    })?;
    state.authorize(&principal, &method, route.as_str(), serde_json::json!({ "reviewer": reviewer }))?;
    let (xlsx, kind) = match q.format.as_deref() {
        None | Some("xlsx") => (true, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        Some("csv") => (false, "text/csv; charset=utf-8"),
        Some(other) => {
            return Err(ApiError::bad_request(format!("format {:?}: expected xlsx or csv", other.chars().take(40).collect::<String>())))
        }
    };
    // The file's name from the campaign and the reviewer, kept to characters a header and
    // a file system take as they are.
    let plain: String = reviewer.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).take(64).collect();
    let name = format!("campaign-{id}-{plain}.{}", if xlsx { "xlsx" } else { "csv" });
    let app = state.app_for(&principal);
    let (_, bytes) = blocking(move || Ok(app.worksheet_bytes(id, &reviewer, xlsx)?)).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnedQuery {
    /// The returned file's name (`campaign-7-E0042.xlsx`): its extension says its format,
    /// and the ledger cites it. A name, not a path.
    file: String,
}

/// Applies a returned worksheet (the request's body, as the reviewer saved it): every row
/// checked first, nothing applied from a file with any bad row (`annexa campaign
/// import-decisions`). A reviewer returns only their own rows; a compliance manager may
/// return anyone's worksheet for them.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/worksheet", tag = "campaigns", params(("id" = i64, Path, description = "The campaign"), ReturnedQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The worksheet as returned (XLSX or CSV, at most 256 MiB)"),
    responses(
        (status = 200, description = "What was decided, the revocation tasks queued and the ledger entry", body = serde_json::Value),
        (status = 400, description = "A row that was edited outside its decision cells, an item decided already, a comment missing…: each named, nothing applied"),
        (status = 403, description = "Rows that are another reviewer's (named); nothing applied"),
        (status = 409, description = "The campaign is closed"),
        (status = 413, description = "Larger than 256 MiB"),
    )
)]
pub async fn return_worksheet(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    Path(id): Path<i64>,
    super::Params(q): super::Params<ReturnedQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let name = super::imports::plain_name(&q.file)?;
    let app = state.app_for(&principal);
    let route = route.as_str().to_string();
    let judge = Arc::clone(&state);
    let decided = blocking(move || {
        // Whose rows the caller may return is the policy's to say, once per reviewer.
        let judged = std::cell::RefCell::new(std::collections::HashMap::<String, bool>::new());
        let may = |reviewer: &str| {
            let known = judged.borrow().get(reviewer).copied();
            known.unwrap_or_else(|| {
                let ok = judge.authorize(&principal, &method, &route, serde_json::json!({ "reviewer": reviewer })).is_ok();
                judged.borrow_mut().insert(reviewer.to_string(), ok);
                ok
            })
        };
        Ok(app.apply_worksheet(id, std::path::Path::new(&name), &body, &may)?)
    })
    .await?;
    Ok(Json(serde_json::to_value(decided).map_err(|e| ApiError::internal(&e.to_string()))?))
}
