//! The findings: a list with filters and paging (decided in the store, as the API's), and a
//! finding's page with its evidence, its lifecycle, its place in the ledger with an
//! inclusion proof checked against the signed checkpoint, and the triage form.

use super::*;
use annexa_core::finding::{FindingState, Severity};
use axum::extract::{Path, Query};

/// Findings a page lists.
const PAGE: u64 = 50;
/// Source records a finding's page shows (a finding over many assignments has thousands;
/// the API and the evidence pack have them all).
const RECORDS_SHOWN: usize = 200;

#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    check: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    offset: u64,
}

struct Row {
    id: String,
    severity: String,
    check: String,
    subject: String,
    message: String,
    state: String,
    due: String,
}

#[derive(Template)]
#[template(path = "findings.html")]
struct ListPage {
    signed_in: Option<SignedIn>,
    q: ListQuery,
    checks: Vec<&'static str>,
    severities: Vec<&'static str>,
    states: Vec<&'static str>,
    rows: Vec<Row>,
    total: u64,
    first: u64,
    last: u64,
    previous: Option<String>,
    next: Option<String>,
    error: Option<String>,
}

impl ListQuery {
    /// This query at another offset, as a link.
    fn at(&self, offset: u64) -> String {
        let mut link = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("check", &self.check),
            ("system", &self.system),
            ("severity", &self.severity),
            ("state", &self.state),
            ("overdue", &self.overdue),
        ] {
            if !v.is_empty() {
                link.append_pair(k, v);
            }
        }
        link.append_pair("offset", &offset.to_string());
        format!("/findings?{}", link.finish())
    }

    fn filter(&self, p: &Principal) -> Result<annexa_store::FindingFilter, ApiError> {
        Ok(annexa_store::FindingFilter {
            status: match self.status.as_str() {
                "" | "open" => Some(annexa_store::FindingStatus::Open),
                "resolved" => Some(annexa_store::FindingStatus::Resolved),
                "all" => None,
                other => return Err(ApiError::bad_request(format!("status {other:?}: expected open, resolved or all"))),
            },
            check: given(&self.check),
            min_severity: crate::api::word::<Severity>("severity", Some(&self.severity))?,
            state: crate::api::word::<FindingState>("state", Some(&self.state))?,
            // A system owner sees their own system's findings, whatever the link says.
            system: if p.role == Some(Role::SystemOwner) { p.system.clone() } else { given(&self.system) },
            overdue_at: (self.overdue == "true").then(chrono::Utc::now),
            limit: Some(PAGE),
            offset: self.offset,
            ..Default::default()
        })
    }
}

pub(super) async fn list(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Query(q): Query<ListQuery>) -> Response {
    let (page, error) = match q.filter(&p) {
        Ok(filter) => {
            let app = state.app_for(&p);
            match read(move || Ok(app.findings(&filter)?)).await {
                Ok(page) => (page, None),
                Err(r) => return r,
            }
        }
        Err(e) => (annexa_store::FindingPage { total: 0, offset: 0, findings: Vec::new() }, Some(e.message)),
    };
    let rows: Vec<Row> = page
        .findings
        .iter()
        .map(|f| Row {
            id: f.finding.id.clone(),
            severity: f.finding.severity.to_string(),
            check: f.finding.check.clone(),
            subject: f.finding.subject.label.clone(),
            message: f.finding.message.clone(),
            state: f.state.to_string(),
            due: f.handling.due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        })
        .collect();
    let shown = rows.len() as u64;
    let t = ListPage {
        signed_in: Some(SignedIn::of(&p)),
        checks: annexa_engine::checks::CHECKS.iter().map(|c| c.id).collect(),
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        states: FindingState::ALL.iter().map(|s| s.as_str()).collect(),
        total: page.total,
        first: if shown == 0 { 0 } else { q.offset + 1 },
        last: q.offset + shown,
        previous: (q.offset > 0).then(|| q.at(q.offset.saturating_sub(PAGE))),
        next: (q.offset + shown < page.total).then(|| q.at(q.offset + PAGE)),
        rows,
        error,
        q,
    };
    render(StatusCode::OK, &t)
}

struct RecordRow {
    record: String,
    key: String,
    file: String,
    line: u32,
    sha256: String,
}

#[derive(Template)]
#[template(path = "finding.html")]
struct FindingPage {
    signed_in: Option<SignedIn>,
    flash: Flash,
    f: annexa_store::StoredFinding,
    system: Option<String>,
    records: Vec<RecordRow>,
    more_records: usize,
    values: Vec<(String, String)>,
    parameters: Vec<(String, String)>,
    comments: Vec<annexa_store::lifecycle::Comment>,
    proof: Option<annexa_app::ledger::EntryProof>,
    proof_json: String,
    /// The triage form is shown.
    triage: bool,
}

fn pairs(m: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
}

pub(super) async fn one(
    State(state): State<Arc<AppState>>,
    Viewer(p): Viewer,
    method: Method,
    route: MatchedPath,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let app = state.app_for(&p);
    let lookup = id.clone();
    let f = match read(move || Ok(app.finding(&lookup)?)).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let system = f.finding.subject.system();
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::json!({ "system": system })) {
        return r;
    }
    let app = state.app_for(&p);
    let full_id = f.finding.id.clone();
    let (comments, proof) = match read(move || {
        let comments = app.finding_comments(&full_id)?;
        let proof = match app.finding_ledger_seq(&full_id)? {
            Some(seq) => Some(app.entry_proof(seq)?),
            None => None,
        };
        Ok((comments, proof))
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all = &f.finding.evidence.records;
    let records = all
        .iter()
        .take(RECORDS_SHOWN)
        .map(|r| RecordRow {
            record: r.record.to_string(),
            key: r.key.clone(),
            file: r.file.clone(),
            line: r.line,
            sha256: r.sha256.clone(),
        })
        .collect();
    let may_triage = matches!(p.role, Some(Role::Admin | Role::ComplianceManager))
        || (p.role == Some(Role::SystemOwner) && system.is_some() && system == p.system);
    let t = FindingPage {
        signed_in: Some(SignedIn::of(&p)),
        flash,
        system,
        records,
        more_records: all.len().saturating_sub(RECORDS_SHOWN),
        values: pairs(&f.finding.evidence.values),
        parameters: pairs(&f.finding.evidence.parameters),
        comments,
        proof_json: proof
            .as_ref()
            .and_then(|x| x.bundle.as_ref())
            .map(|b| serde_json::to_string_pretty(b).unwrap_or_default())
            .unwrap_or_default(),
        proof,
        triage: may_triage,
        f,
    };
    render(StatusCode::OK, &t)
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct TriageForm {
    csrf_token: String,
    action: String,
    /// The owner (assign) or the approver (accept).
    #[serde(default)]
    who: String,
    /// The reason (accept, dismiss, reopen) or the comment.
    #[serde(default)]
    text: String,
    /// The due day (assign) or the expiry (accept).
    #[serde(default)]
    day: String,
}

impl TriageForm {
    fn triage(&self) -> Result<annexa_store::lifecycle::Triage, ApiError> {
        use annexa_store::lifecycle::Triage;
        let needed = |v: &str, what: &str| given(v).ok_or_else(|| ApiError::bad_request(format!("{} needs {what}", self.action)));
        Ok(match self.action.as_str() {
            "assign" => {
                Triage::Assign { owner: needed(&self.who, "an owner")?, due: given(&self.day).map(|d| day("the due day", &d)).transpose()? }
            }
            "accept" => Triage::Accept {
                approver: needed(&self.who, "an approver")?,
                reason: needed(&self.text, "a reason")?,
                expires: day("the expiry", &needed(&self.day, "an expiry day")?)?,
            },
            "dismiss" => Triage::Dismiss { reason: needed(&self.text, "a reason")? },
            "reopen" => Triage::Reopen { reason: needed(&self.text, "a reason")? },
            "comment" => Triage::Comment { text: needed(&self.text, "a comment")? },
            other => return Err(ApiError::bad_request(format!("{other:?}: expected assign, accept, dismiss, reopen or comment"))),
        })
    }
}

pub(super) async fn triage(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Path(id): Path<String>,
    Form(form): Form<TriageForm>,
) -> Response {
    let p = match poster(&state, &headers, &method, &route, &form.csrf_token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let app = state.app_for(&p);
    let f = match read(move || Ok(app.finding(&id)?)).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::json!({ "system": f.finding.subject.system() })) {
        return r;
    }
    let to = format!("/findings/{}", f.finding.id);
    let triage = match form.triage() {
        Ok(t) => t,
        Err(e) => return back(&to, Err(e)),
    };
    let app = state.app_for(&p);
    let selection = annexa_app::lifecycle::Selection::Ids(vec![f.finding.id.clone()]);
    let done = blocking(move || Ok(app.triage(&selection, &triage)?)).await;
    back(&to, done.map(|_| format!("Recorded: {} (a ledger entry).", form.action)))
}
