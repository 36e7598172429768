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
