//! The Statement of Applicability: all 93 controls and clauses 4 to 10 as they stand, a
//! control's page to decide and describe it, and the approval of the whole as a version.
//! Controls that built-in checks test take their status from the latest audit; people
//! decide applicability, the reasons and justification, and the status of the others.

use super::*;
use annexa_core::soa::{Implementation, InclusionReason, SoaRow};
use axum::extract::{Path, Query};

struct Row {
    control: String,
    title: String,
    applicable: &'static str,
    status: String,
    status_source: String,
    owner: String,
    checks: String,
    approval: String,
}

fn applicable(a: Option<bool>) -> &'static str {
    match a {
        Some(true) => "yes",
        Some(false) => "no",
        None => "undecided",
    }
}

fn row(r: &SoaRow) -> Row {
    Row {
        control: r.control.clone(),
        title: r.title.clone(),
        applicable: applicable(r.applicable),
        status: r.status.map(|s| s.to_string()).unwrap_or_default(),
        status_source: r.status_source.clone(),
        owner: r.owner.clone().unwrap_or_default(),
        checks: r.checks.iter().map(|c| format!("{} {}", c.check, c.result)).collect::<Vec<_>>().join(", "),
        approval: r.approval.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "soa.html")]
struct SoaPage {
    signed_in: Option<SignedIn>,
    flash: Flash,
    controls: Vec<Row>,
    clauses: Vec<Row>,
    decided: usize,
    approved: Option<String>,
    changes: usize,
}

pub(super) async fn table(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Query(flash): Query<Flash>) -> Response {
    let app = state.app_for(&p);
    let view = match read(move || Ok(app.soa()?)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = SoaPage {
        signed_in: Some(SignedIn::of(&p)),
        flash,
        decided: view.controls.iter().filter(|c| c.applicable.is_some()).count(),
        controls: view.controls.iter().map(row).collect(),
        clauses: view.clauses.iter().map(row).collect(),
        approved: view
            .approved
            .as_ref()
            .map(|v| format!("version {}, approved by {} on {}", v.version, v.approver, v.approved_at.format("%Y-%m-%d"))),
        changes: view.changes_since_approval.len(),
    };
    render(StatusCode::OK, &t)
}

#[derive(Template)]
#[template(path = "soa_control.html")]
struct ControlPage {
    signed_in: Option<SignedIn>,
    flash: Flash,
    r: SoaRow,
    applicable: &'static str,
    reasons: Vec<(&'static str, bool)>,
    statuses: Vec<(&'static str, bool)>,
    /// The status comes from the audits, not from people.
    tested: bool,
}

pub(super) async fn control(
    State(state): State<Arc<AppState>>,
    Viewer(p): Viewer,
    Path(control): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let app = state.app_for(&p);
    let view = match read(move || Ok(app.soa()?)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(r) = view.controls.into_iter().chain(view.clauses).find(|r| r.control.eq_ignore_ascii_case(&control)) else {
        return failure(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{control:?} is not an Annex A control or a clause of ISO/IEC 27001"),
        ));
    };
    let t = ControlPage {
        signed_in: Some(SignedIn::of(&p)),
        flash,
        applicable: applicable(r.applicable),
        reasons: InclusionReason::ALL.iter().map(|x| (x.as_str(), r.reasons.contains(x))).collect(),
        statuses: Implementation::ALL.iter().map(|x| (x.as_str(), r.status == Some(*x))).collect(),
        tested: !r.checks.is_empty(),
        r,
    };
    render(StatusCode::OK, &t)
}

/// The control's form. Reasons come as repeated fields, so the form is read as pairs.
pub(super) async fn set(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Path(control): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    let p = match poster(&state, &headers, &method, &route, field("csrf_token")).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    // A control's id as a path segment: its dots stay as they are.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_');
    let to = format!("/soa/{}", percent_encoding::utf8_percent_encode(&control, SEGMENT));
    let set = match soa_set(&control, &fields) {
        Ok(s) => s,
        Err(e) => return back(&to, Err(e)),
    };
    let app = state.app_for(&p);
    let done = blocking(move || Ok(app.set_soa(&set)?)).await;
    back(&to, done.map(|_| format!("{control} recorded (a ledger entry); the SoA awaits approval.")))
}

fn soa_set(control: &str, fields: &[(String, String)]) -> Result<annexa_app::soa::SoaSet, ApiError> {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    let applicable = match field("applicable") {
        "yes" => Some(true),
        "no" => Some(false),
        "" | "undecided" => None,
        other => return Err(ApiError::bad_request(format!("applicable {other:?}: expected yes or no"))),
    };
    let given_reasons: Vec<&str> = fields.iter().filter(|(n, _)| n == "reason").map(|(_, v)| v.as_str()).collect();
    let reasons = crate::api::words::<InclusionReason>("reason", &given_reasons)?;
    let status = crate::api::word::<Implementation>("status", Some(field("status")))?;
    Ok(annexa_app::soa::SoaSet {
        controls: vec![control.to_string()],
        applicable,
        reasons: applicable.map(|_| reasons),
        justification: given(field("justification")),
        status,
        implementation: given(field("implementation")),
        owner: given(field("owner")),
        documents: given(field("document")).into_iter().collect(),
        clear_documents: false,
    })
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct ApproveForm {
    csrf_token: String,
    approver: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn approve(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Form(f): Form<ApproveForm>,
) -> Response {
    let p = match poster(&state, &headers, &method, &route, &f.csrf_token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(approver) = given(&f.approver) else {
        return back("/soa", Err(ApiError::bad_request("name who approves (an employee id or a name)")));
    };
    let app = state.app_for(&p);
    let done = blocking(move || Ok(app.approve_soa(&approver, given(&f.note).as_deref())?)).await;
    back("/soa", done.map(|v| format!("The SoA is approved as version {} (SHA-256 {}).", v.version, v.sha256)))
}
