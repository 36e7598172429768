//! Changing the programme through the API: imports uploaded as files, nonconformities,
//! the SoA's controls and its approval, risks and their simulation, and a ledger entry with
//! its verified inclusion proof. Each is the CLI's use case, as the caller.

use super::{blocking, ApiError, ApiResult, Body, Params};
use crate::auth::Principal;
use crate::AppState;
use annexa_core::model::ImportKind;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::sync::Arc;

/// The largest file an import takes through the API.
pub const MAX_UPLOAD: usize = 512 << 20;

fn json(v: impl serde::Serialize) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::to_value(v).map_err(|e| ApiError::internal(&e.to_string()))?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name as the export named it (`hr.csv`): a name, not a path. It is what
    /// findings' evidence cites.
    file: String,
    /// The system of every record, for the kinds that need one (`--system`).
    system: Option<String>,
    /// Import the good rows and set the bad ones aside in a quarantine report.
    #[serde(default)]
    lenient: bool,
}

/// A file name as evidence may cite it: no directory, no way out of one, nothing unprintable.
fn plain_name(name: &str) -> ApiResult<String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    if ok {
        Ok(name.to_string())
    } else {
        Err(ApiError::bad_request(format!(
            "file {:?}: a file name, not a path (no '/', '\\\\', '..' or control characters)",
            name.chars().take(80).collect::<String>()
        )))
    }
}

/// Imports the request's body as a file of `kind`, as `annexa import KIND FILE` does: the
/// whole file or nothing (or, `lenient`, its good rows).
#[utoipa::path(
    post, path = "/api/v1/imports/{kind}", tag = "programme", params(("kind" = String, Path, description = "hr, accounts, assignments, ldif, okta, entra, …"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file, as exported (at most 512 MiB)"),
    responses(
        (status = 201, description = "What was imported", body = serde_json::Value),
        (status = 400, description = "Not a kind, not a file name, or a file that does not read as the kind (the database is unchanged)"),
        (status = 413, description = "Larger than 512 MiB"),
    )
)]
pub async fn import(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    Path(kind): Path<String>,
    Params(q): Params<UploadQuery>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let kind =
        ImportKind::parse(&kind).ok_or_else(|| ApiError::bad_request(format!("kind {kind:?}: expected {}", ImportKind::expected())))?;
    let file = plain_name(&q.file)?;
    let options = annexa_connect::ImportOptions { system: q.system, lenient: q.lenient, ..Default::default() };
    let app = state.app_for(&principal);
    let outcome = blocking(move || Ok(app.import_file(kind, &file, &body, &options, false)?)).await?;
    Ok((StatusCode::CREATED, json(outcome)?))
}

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
    let due = annexa_core::time::parse_instant(&b.due)
        .ok_or_else(|| ApiError::bad_request(format!("due {:?}: expected 2027-01-31 or RFC 3339", b.due)))?;
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
