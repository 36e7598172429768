//! The risk register: the heat map of residual risks, the register, a form to add a risk
//! (or the built-in library's identity risks at once), and the Monte Carlo simulation run
//! from the page.

use super::*;
use annexa_core::risk::{risk_label, Treatment};
use axum::extract::Query;

/// Years a simulation from the page draws (the CLI's default).
const SIMULATED_YEARS: u32 = 100_000;

struct Row {
    label: String,
    title: String,
    owner: String,
    inherent: String,
    residual: String,
    level: String,
    treatment: String,
    controls: String,
    review_due: String,
}

#[derive(Template)]
#[template(path = "risks.html")]
struct RiskPage {
    signed_in: Option<SignedIn>,
    flash: Flash,
    rows: Vec<Row>,
    /// Inline SVG from `annexa_report::svg` (escaped there).
    heat_map: Option<String>,
    simulation: Option<String>,
    treatments: Vec<&'static str>,
}

pub(super) async fn register(State(state): State<Arc<AppState>>, Viewer(p): Viewer, Query(flash): Query<Flash>) -> Response {
    let app = state.app_for(&p);
    let (risks, simulation) = match read(move || Ok((app.risks()?, app.latest_simulation()?))).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let config = &state.settings.config.risk;
    let matrix = annexa_engine::risk::RiskMatrix::new(config);
    let placed: Vec<(String, u8, u8)> = risks.iter().map(|r| (risk_label(r.id), r.residual.likelihood, r.residual.impact)).collect();
    let scores = config.level_scores.clone();
    let heat_map = (!placed.is_empty()).then(|| {
        annexa_report::svg::heat_map(
            "Residual risk heat map (likelihood by impact)",
            &move |l, i| annexa_report::charts::level_colour(&scores, l, i),
            &placed,
        )
    });
    let rows = risks
        .iter()
        .map(|r| Row {
            label: risk_label(r.id),
            title: r.title.clone(),
            owner: r.owner.clone(),
            inherent: format!("{}×{}", r.inherent.likelihood, r.inherent.impact),
            residual: format!("{}×{}", r.residual.likelihood, r.residual.impact),
            level: matrix.level_of(r.residual).to_string(),
            treatment: r.treatment.to_string(),
            controls: r.controls.join(", "),
            review_due: r.review_due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        })
        .collect();
    let t = RiskPage {
        signed_in: Some(SignedIn::of(&p)),
        flash,
        rows,
        heat_map,
        simulation: simulation
            .map(|s| format!("Simulation #{} on {}: {} years, seed {}.", s.id, s.at.format("%Y-%m-%d"), s.iterations, s.seed)),
        treatments: Treatment::ALL.iter().map(|t| t.as_str()).collect(),
    };
    render(StatusCode::OK, &t)
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct RiskForm {
    csrf_token: String,
    /// `add` (the fields below), `library` (the built-in risks, owned by `owner`) or
    /// `simulate`.
    action: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    asset: String,
    #[serde(default)]
    threat: String,
    #[serde(default)]
    vulnerability: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    likelihood: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    treatment: String,
    #[serde(default)]
    controls: String,
    #[serde(default)]
    plan: String,
}

fn rating(field: &str, v: &str) -> Result<Option<u8>, ApiError> {
    match given(v) {
        None => Ok(None),
        Some(s) => s
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{field} {s:?}: expected 1 to 5"))),
    }
}

impl RiskForm {
    fn draft(&self) -> Result<annexa_app::risk::RiskDraft, ApiError> {
        Ok(annexa_app::risk::RiskDraft {
            title: given(&self.title),
            asset: given(&self.asset),
            threat: given(&self.threat),
            vulnerability: given(&self.vulnerability),
            owner: given(&self.owner),
            likelihood: rating("likelihood", &self.likelihood)?,
            impact: rating("impact", &self.impact)?,
            treatment: crate::api::word::<Treatment>("treatment", Some(&self.treatment))?,
            plan: given(&self.plan),
            controls: given(&self.controls).map(|c| c.split([',', ' ']).filter(|s| !s.is_empty()).map(String::from).collect()),
            ..Default::default()
        })
    }
}

pub(super) async fn add(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    method: Method,
    route: MatchedPath,
    Form(f): Form<RiskForm>,
) -> Response {
    let p = match poster(&state, &headers, &method, &route, &f.csrf_token).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let app = state.app_for(&p);
    let done = match f.action.as_str() {
        "add" => match f.draft() {
            Ok(draft) => blocking(move || Ok(app.add_risk(&draft)?)).await.map(|r| format!("{} added to the register.", risk_label(r.id))),
            Err(e) => Err(e),
        },
        "library" => match given(&f.owner) {
            Some(owner) => blocking(move || Ok(app.add_library_risks(&[], &owner)?))
                .await
                .map(|added| format!("{} risk(s) of the built-in library added.", added.len())),
            None => Err(ApiError::bad_request("name the owner of the library's risks")),
        },
        // A seed from the clock, recorded with the result (as the CLI does without --seed).
        "simulate" => {
            blocking(move || Ok(app.simulate_risks(chrono::Utc::now().timestamp_micros() as u64, SIMULATED_YEARS)?)).await.map(|s| {
                format!(
                    "Simulation #{} done ({} years, seed {}): portfolio ALE {} {}.",
                    s.simulation,
                    s.iterations,
                    s.seed,
                    annexa_engine::risk::money(s.outcome.portfolio.ale),
                    s.currency
                )
            })
        }
        other => Err(ApiError::bad_request(format!("{other:?}: expected add, library or simulate"))),
    };
    back("/risks", done)
}
