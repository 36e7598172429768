//! The programme as a whole: audit runs, controls and the Statement of Applicability, the
//! risk register, the ledger's checkpoint, and (admins only) the API tokens.

use super::{blocking, json, ApiError, ApiResult};
use crate::auth::Principal;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use std::sync::Arc;

/// The latest audit runs, newest first, with their counts and authentication posture.
#[utoipa::path(get, path = "/api/v1/audits", tag = "programme", responses((status = 200, description = "Up to 100 runs", body = serde_json::Value)))]
pub async fn audits(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.audit_runs(100)?)).await?)
}

/// Every Annex A control with its checks' latest results and its status in the SoA.
#[utoipa::path(get, path = "/api/v1/controls", tag = "programme", responses((status = 200, description = "The 93 controls", body = serde_json::Value)))]
pub async fn controls(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.soa()?.controls)).await?)
}

/// The Statement of Applicability as it stands: controls, clauses 4 to 10, the latest
/// approved version and what changed since.
#[utoipa::path(get, path = "/api/v1/soa", tag = "programme", responses((status = 200, description = "The SoA", body = serde_json::Value)))]
pub async fn soa(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.soa()?)).await?)
}

/// The risk register.
#[utoipa::path(get, path = "/api/v1/risks", tag = "programme", responses((status = 200, description = "Every risk", body = serde_json::Value)))]
pub async fn risks(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.risks()?)).await?)
}

/// The ledger's newest signed checkpoint (a C2SP signed note), to verify evidence against.
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "programme", responses((status = 200, description = "`{size, created_at, note}`", body = serde_json::Value), (status = 404, description = "Nothing signed yet")))]
pub async fn checkpoint(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    let c = blocking(move || Ok(app.latest_checkpoint()?)).await?;
    let c = c.ok_or_else(|| ApiError::new(axum::http::StatusCode::NOT_FOUND, "the ledger has no signed checkpoint yet"))?;
    Ok(Json(serde_json::json!({ "size": c.size, "created_at": c.created_at, "note": c.note })))
}

/// The API and SCIM tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "programme", responses((status = 200, description = "Every token", body = serde_json::Value)))]
pub async fn tokens(State(state): State<Arc<AppState>>, Extension(principal): Extension<Principal>) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.tokens()?)).await?)
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditBody {
    /// The checks to run (all enabled ones when absent or empty).
    #[serde(default)]
    checks: Vec<String>,
}

/// Runs an audit over the stored identity graph now, and stores its findings.
#[utoipa::path(
    post, path = "/api/v1/audits", tag = "programme", request_body = AuditBody,
    responses((status = 200, description = "The run: its id, counts, the checks that ran and those that could not judge", body = serde_json::Value))
)]
pub async fn run_audit(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    super::Body(body): super::Body<AuditBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let checks = body.checks;
    let app = state.app_for(&principal);
    let outcome = blocking(move || Ok(app.audit(&checks, None)?)).await?;
    Ok(Json(serde_json::json!({
        "run": outcome.outcome,
        "as_of": outcome.as_of,
        "checks_run": outcome.summary.checks_run,
        "not_evaluated": outcome.summary.not_evaluated,
    })))
}

/// The auditor's files, made now (each signs a checkpoint first, so that it covers what they
/// show): the audit report, the SoA as XLSX, the signed evidence pack.
#[utoipa::path(
    get, path = "/api/v1/reports/{file}", tag = "programme",
    params(("file" = String, Path, description = "`report.html`, `soa.xlsx` or `evidence-pack.zip`")),
    responses(
        (status = 200, description = "The file, as an attachment"),
        (status = 404, description = "No such file"),
        (status = 409, description = "Nothing to pack yet: no audit has run"),
    )
)]
pub async fn report(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    crate::web::downloads::file(state.app_for(&principal), &file).await.unwrap_or_else(IntoResponse::into_response)
}
