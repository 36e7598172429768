//! The dashboard: the programme's posture at a glance, drawn from the same figures as the
//! auditor's report (so the lead watches what the auditor will read), and the one action
//! that starts a cycle, running an audit.

use super::*;
use annexa_report::charts;

struct Bar {
    label: String,
    count: u64,
    y: u32,
    width: u32,
}

struct CampaignRow {
    id: i64,
    name: String,
    status: String,
    due: String,
    items: u64,
    decided: u64,
    revoked: u64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    signed_in: Option<SignedIn>,
    flash: Flash,
    open_total: u64,
    overdue: u64,
    last_audit: Option<String>,
    bars: Vec<Bar>,
    chart_height: u32,
    /// Inline SVG made by `annexa_report::charts` (escaped there).
    findings_trend: Option<String>,
    posture: String,
    strength: Option<String>,
    fido2_trend: Option<String>,
    fido2: Option<(String, String)>,
    heat_map: Option<String>,
    soa_decided: usize,
    soa_total: usize,
    soa_applicable: usize,
    risks: usize,
    campaigns: Vec<CampaignRow>,
    /// Lifecycle events by kind: pending, planned.
    jml: Vec<(String, u64, u64)>,
    leavers_overdue: u64,
    nonconformities: (u64, u64),
    ledger_entries: u64,
    checkpoint: Option<u64>,
    pending_tasks: u64,
}

pub(super) async fn dashboard(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    axum::extract::Query(flash): axum::extract::Query<Flash>,
) -> Response {
    let p = match session(&state, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if p.role == Some(Role::Reviewer) {
        return Redirect::to("/review").into_response();
    }
    if let Err(r) = authorized(&state, &p, &method, route.as_str(), serde_json::Value::Null) {
        return r;
    }
    let app = state.app_for(&p);
    let (m, r) = match read(move || Ok((app.monitoring()?, app.report_figures()?))).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let most = m.open_findings.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = annexa_core::finding::Severity::ALL
        .iter()
        .rev()
        .enumerate()
        .map(|(i, s)| {
            let count = m.open_findings.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
            Bar { label: s.to_string(), count, y: i as u32 * 26, width: ((count as f64 / most as f64) * 260.0).round() as u32 }
        })
        .collect();
    let pending = m.tasks.iter().find(|(s, _)| *s == annexa_core::model::TaskStatus::Pending).map_or(0, |(_, n)| *n);
    let t = Dashboard {
        signed_in: Some(SignedIn::of(&p)),
        flash,
        open_total: m.open_findings.iter().map(|(_, n)| n).sum(),
        overdue: r.overdue,
        last_audit: m.last_audit.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        chart_height: bars.len() as u32 * 26,
        bars,
        findings_trend: charts::findings_over_time(&r),
        posture: charts::posture_by_theme(&r),
        strength: charts::authentication_strength(&r),
        fido2_trend: charts::fido2_over_time(&r),
        fido2: r
            .posture
            .as_ref()
            .map(|p| (format!("{:.1}", charts::fido2_share(&p.accounts)), format!("{:.1}", charts::fido2_share(&p.privileged)))),
        heat_map: charts::risk_heat_map(&r),
        soa_decided: r.soa_controls.iter().filter(|c| c.applicable.is_some()).count(),
        soa_total: r.soa_controls.len(),
        soa_applicable: r.soa_controls.iter().filter(|c| c.applicable == Some(true)).count(),
        risks: r.risks.len(),
        campaigns: r
            .campaigns
            .iter()
            .map(|c| CampaignRow {
                id: c.id,
                name: c.name.clone(),
                status: c.status.clone(),
                due: c.due.clone(),
                items: c.items,
                decided: c.decided,
                revoked: c.revoked,
            })
            .collect(),
        jml: r.jml.clone(),
        leavers_overdue: r.leavers_overdue,
        nonconformities: r.nonconformities,
        ledger_entries: m.ledger_entries,
        checkpoint: r.checkpoint.as_ref().map(|(size, _)| *size),
        pending_tasks: pending,
    };
    render(StatusCode::OK, &t)
}

/// Runs an audit over the stored identity graph now, and goes back to the dashboard with
/// what it found.
pub(super) async fn run_audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Form(f): Form<CsrfForm>,
) -> Response {
    let p = match poster(&state, &headers, &method, &route, &f.csrf_token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let app = state.app_for(&p);
    let outcome = blocking(move || Ok(app.audit(&[], None)?)).await.map(|o| {
        let not_evaluated = o.summary.not_evaluated.len();
        format!(
            "Audit run #{} done: {} open findings ({} new, {} resolved){}.",
            o.outcome.run_id,
            o.outcome.total,
            o.outcome.new,
            o.outcome.resolved,
            if not_evaluated > 0 { format!("; {not_evaluated} check(s) could not judge") } else { String::new() }
        )
    });
    back("/", outcome)
}
