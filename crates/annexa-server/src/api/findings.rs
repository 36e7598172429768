//! `/api/v1/findings`: the findings of the latest audits, filtered and paged in the store.

use super::{blocking, ApiError, ApiResult};
use crate::auth::Principal;
use crate::AppState;
use annexa_core::finding::{FindingState, Severity};
use annexa_core::model::Role;
use axum::extract::{MatchedPath, Path, State};
use axum::http::Method;
use axum::{Extension, Json};
use std::sync::Arc;

/// The largest page a request may ask for.
pub const MAX_PAGE: u64 = 1000;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FindingQuery {
    /// `open` (the default), `resolved` or `all`.
    status: Option<String>,
    /// A check id (`leaver-access`).
    check: Option<String>,
    /// A system's findings (a system owner sees only their own).
    system: Option<String>,
    /// The least severity: `info`, `low`, `medium`, `high`, `critical`.
    severity: Option<String>,
    /// A lifecycle state: `open`, `acknowledged`, `risk-accepted`, `false-positive`, `reopened`, …
    state: Option<String>,
    /// Findings evidencing this Annex A control (`A.5.18`; a 2013 id names its 2022 control).
    control: Option<String>,
    /// At most this many (50 by default, at most 1000).
    limit: Option<u64>,
    /// Skip this many first.
    offset: Option<u64>,
}

/// One page of findings, most severe first, with how many match in all.
#[utoipa::path(
    get, path = "/api/v1/findings", tag = "findings", params(FindingQuery),
    responses(
        (status = 200, description = "`{total, offset, findings: [...]}`", body = serde_json::Value),
        (status = 400, description = "A filter that is not one"),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    super::Params(q): super::Params<FindingQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut filter = annexa_store::FindingFilter {
        status: match q.status.as_deref().unwrap_or("open") {
            "open" => Some(annexa_store::FindingStatus::Open),
            "resolved" => Some(annexa_store::FindingStatus::Resolved),
            "all" => None,
            other => return Err(ApiError::bad_request(format!("status {other:?}: expected open, resolved or all"))),
        },
        check: q.check,
        min_severity: super::word::<Severity>("severity", q.severity.as_deref())?,
        state: super::word::<FindingState>("state", q.state.as_deref())?,
        system: q.system,
        limit: Some(q.limit.unwrap_or(50).min(MAX_PAGE)),
        offset: q.offset.unwrap_or(0),
        ..Default::default()
    };
    if let Some(c) = q.control {
        let resolved = annexa_core::catalog::Catalog::get().resolve(&c);
        if resolved.is_empty() {
            return Err(ApiError::bad_request(format!("control {c:?}: not an Annex A control")));
        }
        filter.controls = resolved.into_iter().map(|x| x.id.clone()).collect();
    }
    // A system owner lists their own system's findings unless they name one (which the
    // policy then judges).
    if principal.role == Some(Role::SystemOwner) && filter.system.is_none() {
        filter.system = principal.system.clone();
    }
    if filter.system.is_some() {
        state.authorize(&principal, &method, route.as_str(), serde_json::json!({ "system": filter.system }))?;
    }
    let app = state.app_for(&principal);
    let page = blocking(move || Ok(app.findings(&filter)?)).await?;
    Ok(Json(serde_json::to_value(page).map_err(|e| ApiError::internal(&e.to_string()))?))
}

/// One finding, with its evidence and lifecycle.
#[utoipa::path(
    get, path = "/api/v1/findings/{id}", tag = "findings",
    params(("id" = String, Path, description = "The finding's id (`F-…`), or a unique prefix of at least 6 characters")),
    responses((status = 200, description = "The finding", body = serde_json::Value), (status = 404, description = "No such finding"))
)]
pub async fn one(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = state.app_for(&principal);
    let finding = blocking(move || Ok(app.finding(&id)?)).await?;
    state.authorize(&principal, &method, route.as_str(), serde_json::json!({ "system": finding.finding.subject.system() }))?;
    Ok(Json(serde_json::to_value(finding).map_err(|e| ApiError::internal(&e.to_string()))?))
}

/// A lifecycle decision on one finding.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TriageBody {
    /// Someone owns the fix, by a due date (the finding's own by default).
    Assign { owner: String, due: Option<String> },
    /// Accepted as a risk by `approver` for `reason` until `expires` (then it reopens).
    Accept { approver: String, reason: String, expires: String },
    /// A false positive, suppressed while its records stay the same.
    Dismiss { reason: String },
    /// An acknowledgement, acceptance or dismissal withdrawn.
    Reopen { reason: String },
    /// A note.
    Comment { text: String },
}

/// Acknowledges, accepts, dismisses, reopens or comments on a finding (each a ledger entry).
#[utoipa::path(
    post, path = "/api/v1/findings/{id}/triage", tag = "findings", request_body = TriageBody,
    params(("id" = String, Path, description = "The finding's id")),
    responses(
        (status = 200, description = "`{findings, state, ledger_entries}`", body = serde_json::Value),
        (status = 400, description = "Not a decision, or one the finding's state does not allow"),
        (status = 404, description = "No such finding"),
    )
)]
pub async fn triage(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Principal>,
    method: Method,
    route: MatchedPath,
    Path(id): Path<String>,
    super::Body(body): super::Body<TriageBody>,
) -> ApiResult<Json<serde_json::Value>> {
    use annexa_store::lifecycle::Triage;
    let triage = match body {
        TriageBody::Assign { owner, due } => Triage::Assign { owner, due: due.as_deref().map(|d| super::day("due", d)).transpose()? },
        TriageBody::Accept { approver, reason, expires } => Triage::Accept { approver, reason, expires: super::day("expires", &expires)? },
        TriageBody::Dismiss { reason } => Triage::Dismiss { reason },
        TriageBody::Reopen { reason } => Triage::Reopen { reason },
        TriageBody::Comment { text } => Triage::Comment { text },
    };
    let app = state.app_for(&principal);
    let lookup = id.clone();
    let finding = blocking(move || Ok(app.finding(&lookup)?)).await?;
    state.authorize(&principal, &method, route.as_str(), serde_json::json!({ "system": finding.finding.subject.system() }))?;
    let app = state.app_for(&principal);
    let done = blocking(move || Ok(app.triage(&annexa_app::lifecycle::Selection::Ids(vec![finding.finding.id]), &triage)?)).await?;
    Ok(Json(serde_json::to_value(done).map_err(|e| ApiError::internal(&e.to_string()))?))
}
