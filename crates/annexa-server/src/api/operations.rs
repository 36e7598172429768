//! What runs the programme day to day, through the API: a ledger entry with its proof, the
//! joiner/mover/leaver events, and the provisioning queue with its manual tasks.

use super::{blocking, json, ApiResult, Body, Params};
use crate::auth::Principal;
use crate::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use std::sync::Arc;

/// A ledger entry with its inclusion proof in the newest signed checkpoint that covers it,
/// verified here, and the bundle `annexa ledger verify-proof` checks offline.
#[utoipa::path(
    get, path = "/api/v1/ledger/entries/{seq}", tag = "programme", params(("seq" = u64, Path, description = "The entry's number, from 0")),
    responses((status = 200, description = "`{seq, body, leaf_hash, bundle, verified | problem}`", body = serde_json::Value), (status = 404, description = "No such entry"))
)]
pub async fn ledger_entry(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(seq): Path<u64>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    let p = blocking(move || Ok(app.entry_proof(seq)?)).await?;
    let (verified, problem) = match p.outcome {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    Ok(Json(serde_json::json!({
        "seq": p.seq, "body": p.body, "leaf_hash": p.leaf_hash, "bundle": p.bundle, "verified": verified, "problem": problem,
    })))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JmlQuery {
    /// joiner, mover or leaver.
    kind: Option<String>,
}

/// The joiner, mover and leaver events HR imports revealed, and where each stands.
#[utoipa::path(get, path = "/api/v1/jml", tag = "programme", params(JmlQuery), responses((status = 200, description = "The events", body = serde_json::Value)))]
pub async fn jml(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Params(q): Params<JmlQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let kind = super::word::<annexa_core::model::JmlKind>("kind", q.kind.as_deref())?;
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.jml_events(kind)?)).await?)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// pending, done, failed, manual, …
    status: Option<String>,
}

/// The provisioning queue: what the lifecycle and the campaigns' revocations asked of the
/// connectors, and where each task stands.
#[utoipa::path(get, path = "/api/v1/provisioning/tasks", tag = "programme", params(TaskQuery), responses((status = 200, description = "The tasks", body = serde_json::Value)))]
pub async fn tasks(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Params(q): Params<TaskQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let status = super::word::<annexa_core::model::TaskStatus>("status", q.status.as_deref())?;
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.tasks(status)?)).await?)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// What was done, by whom (kept with the task and in the ledger).
    note: String,
}

/// Confirms that a person carried out a manual task (a badge's zone removed at the door
/// system, an account closed in an application without a connector).
#[utoipa::path(
    post, path = "/api/v1/provisioning/tasks/{id}/confirm", tag = "programme", request_body = ConfirmBody,
    params(("id" = i64, Path, description = "The task's number")),
    responses((status = 200, description = "Confirmed"), (status = 400, description = "Not a manual task waiting for a person"), (status = 404, description = "No such task"))
)]
pub async fn confirm_task(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Body(b): Body<ConfirmBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    blocking(move || Ok(app.confirm_task(id, &b.note)?)).await?;
    Ok(Json(serde_json::json!({ "task": id, "confirmed": true })))
}
