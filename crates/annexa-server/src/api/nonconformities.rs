//! Nonconformities through the API: listed, opened, given corrective actions, closed after
//! their effectiveness check.

use super::{blocking, json, ApiResult, Body};
use crate::auth::Principal;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::sync::Arc;

/// The nonconformities, open and closed.
#[utoipa::path(get, path = "/api/v1/nonconformities", tag = "programme", responses((status = 200, description = "Every nonconformity", body = serde_json::Value)))]
pub async fn nonconformities(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.ncs(None)?)).await?)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NcBody {
    title: String,
    /// The Annex A control (a 2013 id that maps to one is taken).
    control: Option<String>,
    description: Option<String>,
    root_cause: Option<String>,
    /// Findings it groups, by id.
    #[serde(default)]
    findings: Vec<String>,
    /// Checks whose open findings it groups.
    #[serde(default)]
    checks: Vec<String>,
}

/// Opens a nonconformity over findings of one control, or for a manual audit observation.
#[utoipa::path(
    post, path = "/api/v1/nonconformities", tag = "programme", request_body = NcBody,
    responses((status = 201, description = "The nonconformity", body = serde_json::Value), (status = 400, description = "Not a valid nonconformity"))
)]
pub async fn open_nc(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Body(b): Body<NcBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let request = annexa_app::nonconformity::NcRequest {
        title: b.title,
        control: b.control,
        description: b.description,
        root_cause: b.root_cause,
        findings: b.findings,
        checks: b.checks,
    };
    let app = state.app_for(&principal);
    Ok((StatusCode::CREATED, json(blocking(move || Ok(app.open_nc(&request)?)).await?)?))
}

/// One nonconformity with its findings, corrective actions and what keeps it open.
#[utoipa::path(
    get, path = "/api/v1/nonconformities/{id}", tag = "programme", params(("id" = i64, Path, description = "The nonconformity's number")),
    responses((status = 200, description = "The nonconformity", body = serde_json::Value), (status = 404, description = "No such nonconformity"))
)]
pub async fn nonconformity(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.nc(id)?)).await?)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    description: String,
    /// Who carries it out (an employee id).
    owner: String,
    /// By when (`2027-01-31`).
    due: String,
}

/// Adds a corrective action to a nonconformity.
#[utoipa::path(
    post, path = "/api/v1/nonconformities/{id}/actions", tag = "programme", request_body = ActionBody,
    params(("id" = i64, Path, description = "The nonconformity's number")),
    responses((status = 201, description = "`{nonconformity, action}`: the action's number", body = serde_json::Value), (status = 404, description = "No such nonconformity"))
)]
pub async fn add_action(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Body(b): Body<ActionBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let due = super::day("due", &b.due)?;
    let app = state.app_for(&principal);
    let seq = blocking(move || Ok(app.add_nc_action(id, &b.description, &b.owner, due)?)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "nonconformity": id, "action": seq }))))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseNcBody {
    /// How the correction was shown to work.
    effectiveness: String,
}

/// Closes a nonconformity after its effectiveness check: refused, with every reason, while
/// its findings are open, its actions not done, or no later audit has confirmed it.
#[utoipa::path(
    post, path = "/api/v1/nonconformities/{id}/close", tag = "programme", request_body = CloseNcBody,
    params(("id" = i64, Path, description = "The nonconformity's number")),
    responses((status = 200, description = "The closed nonconformity", body = serde_json::Value), (status = 409, description = "Not ready to close, and why"))
)]
pub async fn close_nc(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Body(b): Body<CloseNcBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.close_nc(id, &b.effectiveness)?)).await?)
}
