//! Imports through the API: the request's body is the file, as the export wrote it.

use super::{blocking, json, ApiError, ApiResult, Params};
use crate::auth::Principal;
use crate::AppState;
use annexa_core::model::ImportKind;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use std::sync::Arc;

/// The largest file an import takes through the API.
pub const MAX_UPLOAD: usize = 512 << 20;

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
pub(super) fn plain_name(name: &str) -> ApiResult<String> {
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
