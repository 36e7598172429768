//! What the auditor takes away: the audit report, the SoA as XLSX and the signed evidence
//! pack, made when asked (each signs a checkpoint first, as the CLI's do) and streamed from
//! a file, so that a pack of any size is never held in memory.

use super::*;
use axum::extract::Path;

pub(super) async fn download(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Path(name): Path<String>) -> Response {
    file(state.app_for(&p), &name).await.unwrap_or_else(failure)
}

/// The auditor's file `name`, made now as `app`'s principal: for the pages and the API.
pub(crate) async fn file(app: annexa_app::App, name: &str) -> Result<Response, ApiError> {
    match name {
        "report.html" => made(name, move |path| Ok(app.report_html(path)?)).await,
        "soa.xlsx" => made(name, move |path| Ok(app.export_soa(annexa_app::soa::SoaFormat::Xlsx, path).map(|_| ())?)).await,
        "evidence-pack.zip" => made(name, move |path| Ok(app.evidence_pack(path).map(|_| ())?)).await,
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "no such file: report.html, soa.xlsx or evidence-pack.zip")),
    }
}

/// Makes `name` with `make` in a directory of its own, then streams it as an attachment.
pub(super) async fn made(
    name: &str,
    make: impl FnOnce(&std::path::Path) -> crate::api::ApiResult<()> + Send + 'static,
) -> Result<Response, ApiError> {
    let file_name = name.to_string();
    let opened = blocking(move || {
        let dir = tempfile::tempdir().map_err(|e| ApiError::internal(&format!("a temporary directory: {e}")))?;
        let path = dir.path().join(&file_name);
        make(&path)?;
        // Open, then let the directory go: the open file stays readable until it is sent.
        let file = std::fs::File::open(&path).map_err(|e| ApiError::internal(&format!("{}: {e}", path.display())))?;
        let len = file.metadata().map(|m| m.len()).ok();
        Ok((file, len))
    })
    .await;
    let (file, len) = opened?;
    let kind = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    };
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)));
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The report is a page of its own with its own policy; served as a download it never
    // runs in this origin, and nothing may frame it.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"));
    Ok(r)
}
