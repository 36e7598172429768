//! The Statement of Applicability's controls and approval, and the risk register and its
//! simulation, through the API.

use super::{blocking, json, ApiError, ApiResult, Body};
use crate::auth::Principal;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::sync::Arc;

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SoaBody {
    /// Decided applicable or not (unchanged when absent).
    applicable: Option<bool>,
    /// Why it is included: regulatory, contractual, best-practice, risk-assessment.
    reasons: Option<Vec<String>>,
    justification: Option<String>,
    /// not-started, partial, implemented (for a control no check tests).
    status: Option<String>,
    implementation: Option<String>,
    owner: Option<String>,
    /// Document references to add.
    #[serde(default)]
    documents: Vec<String>,
}

/// Decides and describes one control (or clause) of the SoA, as `annexa soa set` does.
#[utoipa::path(
    post, path = "/api/v1/soa/{control}", tag = "programme", request_body = SoaBody,
    params(("control" = String, Path, description = "A.5.15, or a clause (6.1.2)")),
    responses((status = 200, description = "The control's row as it now stands", body = serde_json::Value), (status = 400, description = "Not a control, or not a valid change"))
)]
pub async fn set_soa(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(control): Path<String>,
    Body(b): Body<SoaBody>,
) -> ApiResult<Json<serde_json::Value>> {
    use annexa_core::soa::{Implementation, InclusionReason};
    let reasons = match b.reasons {
        None => None,
        Some(r) => Some(super::words::<InclusionReason>("reason", &r.iter().map(String::as_str).collect::<Vec<_>>())?),
    };
    let status = super::word::<Implementation>("status", b.status.as_deref())?;
    let set = annexa_app::soa::SoaSet {
        controls: vec![control],
        applicable: b.applicable,
        reasons,
        justification: b.justification,
        status,
        implementation: b.implementation,
        owner: b.owner,
        documents: b.documents,
        clear_documents: false,
    };
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.set_soa(&set)?)).await?)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    approver: String,
    note: Option<String>,
}

/// Approves the SoA as it stands as its next version (refused while a control is undecided).
#[utoipa::path(
    post, path = "/api/v1/soa/approve", tag = "programme", request_body = ApproveBody,
    responses((status = 200, description = "The version", body = serde_json::Value), (status = 409, description = "Controls are still undecided"))
)]
pub async fn approve_soa(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Body(b): Body<ApproveBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.approve_soa(&b.approver, b.note.as_deref())?)).await?)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    title: String,
    asset: String,
    threat: String,
    vulnerability: String,
    owner: String,
    /// 1 to 5.
    likelihood: u8,
    /// 1 to 5.
    impact: u8,
    /// modify, retain, avoid, share.
    treatment: Option<String>,
    plan: Option<String>,
    /// Annex A controls that treat it.
    #[serde(default)]
    controls: Vec<String>,
    /// Quantified: events a year, low and high (90 % interval)...
    frequency: Option<[f64; 2]>,
    /// ...and the loss per event, low and high, for the simulation.
    loss: Option<[f64; 2]>,
}

/// Adds a risk to the register.
#[utoipa::path(
    post, path = "/api/v1/risks", tag = "programme", request_body = RiskBody,
    responses((status = 201, description = "The risk", body = serde_json::Value), (status = 400, description = "Not a valid risk"))
)]
pub async fn add_risk(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Body(b): Body<RiskBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    use annexa_core::risk::Treatment;
    let treatment = super::word::<Treatment>("treatment", b.treatment.as_deref())?;
    let draft = annexa_app::risk::RiskDraft {
        title: Some(b.title),
        asset: Some(b.asset),
        threat: Some(b.threat),
        vulnerability: Some(b.vulnerability),
        owner: Some(b.owner),
        likelihood: Some(b.likelihood),
        impact: Some(b.impact),
        treatment,
        plan: b.plan,
        controls: (!b.controls.is_empty()).then_some(b.controls),
        frequency: b.frequency.map(|[lo, hi]| (lo, hi)),
        loss: b.loss.map(|[lo, hi]| (lo, hi)),
        ..Default::default()
    };
    let app = state.app_for(&principal);
    Ok((StatusCode::CREATED, json(blocking(move || Ok(app.add_risk(&draft)?)).await?)?))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateBody {
    /// The generator's seed (recorded with the result; from the clock when absent).
    seed: Option<u64>,
    /// Years drawn: 1,000 to 10,000,000 (100,000 by default).
    iterations: Option<u32>,
}

/// Runs the Monte Carlo simulation of the quantified risks (recorded in the ledger).
#[utoipa::path(
    post, path = "/api/v1/risks/simulate", tag = "programme", request_body = SimulateBody,
    responses((status = 200, description = "The simulation: inputs, seed, the portfolio and each risk's loss distribution", body = serde_json::Value), (status = 400, description = "Not a valid simulation"))
)]
pub async fn simulate(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Body(b): Body<SimulateBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let iterations = b.iterations.unwrap_or(100_000);
    if !(1_000..=10_000_000).contains(&iterations) {
        return Err(ApiError::bad_request(format!("iterations {iterations}: expected 1,000 to 10,000,000")));
    }
    let seed = b.seed.unwrap_or_else(|| chrono::Utc::now().timestamp_micros() as u64);
    let app = state.app_for(&principal);
    json(blocking(move || Ok(app.simulate_risks(seed, iterations)?)).await?)
}
