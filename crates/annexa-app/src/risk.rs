//! The risk register (ISO/IEC 27001 clause 6.1.2 and 6.1.3) as people drive it: risks added
//! by hand or from the built-in library, edited and treated, changes suggested by the latest
//! findings and campaigns and applied on confirmation, and the register quantified by a
//! reproducible simulation. Every change is a ledger entry and signs a checkpoint.

use crate::{App, Error, Result};
use annexa_core::risk::{risk_label, LossShape, Quantification, Rating, Risk, Treatment};
use annexa_core::time::Instant;
use annexa_engine::risk::simulate::{self, Correlated, Outcome, SimRisk, Simulation};
use annexa_engine::risk::suggest::Suggestion;
use annexa_engine::risk::{library, settle, Driver, Given, Measures, RiskMatrix};
use annexa_store::risk::NewSimulation;
use annexa_store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a person gives when adding or editing a risk: only what is given changes.
#[derive(Debug, Clone, Default)]
pub struct RiskDraft {
    pub title: Option<String>,
    pub asset: Option<String>,
    pub threat: Option<String>,
    pub vulnerability: Option<String>,
    pub owner: Option<String>,
    pub likelihood: Option<u8>,
    pub impact: Option<u8>,
    pub residual_likelihood: Option<u8>,
    pub residual_impact: Option<u8>,
    pub treatment: Option<Treatment>,
    pub plan: Option<String>,
    /// Replace the linked controls or checks.
    pub controls: Option<Vec<String>>,
    pub checks: Option<Vec<String>>,
    pub review_due: Option<Instant>,
    /// Events a year, low and high.
    pub frequency: Option<(f64, f64)>,
    /// A driver, or `none` to remove it.
    pub driver: Option<String>,
    /// Loss per event, low and high.
    pub loss: Option<(f64, f64)>,
    pub loss_most_likely: Option<f64>,
    pub shape: Option<LossShape>,
    /// Remove the quantification.
    pub unquantify: bool,
}

/// A simulation as run and recorded.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationReport {
    pub simulation: i64,
    pub seed: u64,
    pub iterations: u32,
    pub generator: String,
    pub inputs_sha256: String,
    pub currency: String,
    /// Each risk's driver and its measured value, as used.
    pub drivers: Vec<(String, String, f64)>,
    /// Quantified risks left out, and why: their driver has no measure yet (its check was
    /// not evaluated, no audit ran).
    pub not_simulated: Vec<(String, String)>,
    pub outcome: Outcome,
}

fn invalid(label: &str, problems: Vec<String>) -> Error {
    Error::invalid(format!("{label} is not valid:\n  - {}", problems.join("\n  - ")))
}

impl App {
    fn matrix_config(&self) -> &annexa_engine::config::RiskConfig {
        &self.settings.config.risk
    }

    /// What the latest audit measured, for drivers and suggestions.
    fn measures(&self, store: &mut Store) -> Result<Measures> {
        let (run, evaluated) = store.evaluated_checks()?;
        let open = store.open_counts()?;
        let mut m = Measures { audit_run: run, evaluated, open_findings: open.into_iter().collect(), ..Default::default() };
        if let Some((_, p)) = store.latest_posture()? {
            m.privileged_accounts = Some(p.privileged.known());
            m.privileged_without_phishing_resistant = p.privileged.known() - p.privileged.phishing_resistant;
            m.accounts_with_known_mfa = Some(p.accounts.known());
            m.accounts_without_mfa = p.accounts.none;
        }
        m.campaigns_closed = store.campaigns_closed_since(self.now() - chrono::Duration::days(365))?;
        Ok(m)
    }

    fn review_due(&self) -> Instant {
        self.now() + chrono::Duration::days(i64::from(self.matrix_config().review_days))
    }

    /// Adds a risk described by `draft` (title, asset, threat, vulnerability, owner,
    /// likelihood and impact required).
    pub fn add_risk(&self, draft: &RiskDraft) -> Result<Risk> {
        let mut missing = Vec::new();
        let text = |v: &Option<String>, flag: &str, missing: &mut Vec<String>| {
            v.clone().unwrap_or_else(|| {
                missing.push(flag.to_string());
                String::new()
            })
        };
        let title = text(&draft.title, "--title", &mut missing);
        let asset = text(&draft.asset, "--asset", &mut missing);
        let threat = text(&draft.threat, "--threat", &mut missing);
        let vulnerability = text(&draft.vulnerability, "--vulnerability", &mut missing);
        let owner = text(&draft.owner, "--owner", &mut missing);
        if draft.likelihood.is_none() {
            missing.push("--likelihood".into());
        }
        if draft.impact.is_none() {
            missing.push("--impact".into());
        }
        if !missing.is_empty() {
            return Err(Error::invalid(format!("a new risk needs {}", missing.join(", "))));
        }
        let inherent = Rating { likelihood: draft.likelihood.unwrap_or(0), impact: draft.impact.unwrap_or(0) };
        let mut risk = Risk {
            id: 0,
            key: None,
            title,
            asset,
            threat,
            vulnerability,
            owner,
            inherent,
            residual: inherent,
            treatment: Treatment::Retain,
            plan: None,
            controls: Vec::new(),
            checks: Vec::new(),
            review_due: Some(self.review_due()),
            quantification: None,
            version: 0,
            updated_at: self.now(),
            updated_by: self.actor.clone(),
        };
        let given = apply(&mut risk, draft)?;
        let mut store = self.store()?;
        let measures = self.measures(&mut store)?;
        settle(&mut risk, given, &RiskMatrix::new(self.matrix_config()), &measures).map_err(|p| invalid("the risk", p))?;
        let stored = store.add_risk(&risk, &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(stored)
    }

    /// Adds risks of the built-in library (every one not yet in the register when `keys`
    /// is empty), owned by `owner`. Returns what was added.
    pub fn add_library_risks(&self, keys: &[String], owner: &str) -> Result<Vec<Risk>> {
        if owner.trim().is_empty() {
            return Err(Error::invalid("library risks need an owner (--owner)"));
        }
        let mut store = self.store()?;
        let present: Vec<String> = store.risks()?.into_iter().filter_map(|r| r.key).collect();
        let chosen: Vec<&library::LibraryRisk> = if keys.is_empty() {
            library::LIBRARY.iter().filter(|l| !present.iter().any(|p| p == l.key)).collect()
        } else {
            let mut out = Vec::new();
            for k in keys {
                let lib = library::get(k).ok_or_else(|| {
                    let known: Vec<&str> = library::LIBRARY.iter().map(|l| l.key).collect();
                    Error::invalid(format!("{k:?} is not a library risk: expected one of {}", known.join(", ")))
                })?;
                out.push(lib);
            }
            out
        };
        let measures = self.measures(&mut store)?;
        let matrix = RiskMatrix::new(self.matrix_config());
        let mut risks = Vec::new();
        for lib in &chosen {
            let mut risk = lib.to_risk(owner);
            risk.review_due = Some(self.review_due());
            // A driver not measured yet leaves the residual at the inherent rating until an
            // audit measures it (then `risk suggest` follows it).
            let given = Given::default();
            settle(&mut risk, given, &matrix, &measures).map_err(|p| invalid(lib.key, p))?;
            risks.push(risk);
        }
        let mut added = Vec::new();
        for risk in &risks {
            added.push(store.add_risk(risk, &self.actor, self.now())?);
        }
        if !added.is_empty() {
            self.checkpoint(&mut store)?;
        }
        Ok(added)
    }

    /// Changes what `draft` gives of risk `id`, if it is still at `version` (when given).
    pub fn edit_risk(&self, id: i64, draft: &RiskDraft, version: Option<i64>) -> Result<Risk> {
        self.change_risk(id, draft, version, "risk-edited")
    }

    /// Records a risk's treatment: how it is treated, the plan, the controls, and the
    /// residual rating expected. A treatment needs a plan (what is done, or why the risk
    /// is retained); modifying needs a control that does it.
    pub fn treat_risk(&self, id: i64, draft: &RiskDraft, version: Option<i64>) -> Result<Risk> {
        let Some(treatment) = draft.treatment else {
            return Err(Error::invalid("say how the risk is treated: --treatment modify|retain|avoid|share"));
        };
        let mut store = self.store()?;
        let current = store.risk(id)?;
        let plan = draft.plan.clone().or(current.plan.clone()).unwrap_or_default();
        if plan.trim().is_empty() {
            return Err(Error::invalid(format!("treating {} needs a plan (--plan): what is done, or why that is enough", risk_label(id))));
        }
        let controls = draft.controls.as_ref().unwrap_or(&current.controls);
        if treatment == Treatment::Modify && controls.is_empty() {
            return Err(Error::invalid(format!("modifying {} needs the controls that do it (--control A.8.5)", risk_label(id))));
        }
        drop(store);
        self.change_risk(id, draft, version, "risk-treated")
    }

    fn change_risk(&self, id: i64, draft: &RiskDraft, version: Option<i64>, kind: &'static str) -> Result<Risk> {
        let mut store = self.store()?;
        let mut risk = store.risk(id)?;
        if let Some(v) = version {
            if v != risk.version {
                return Err(Error::conflict(format!("{} is at version {}, not {v}: read it again", risk_label(id), risk.version)));
            }
        }
        let given = apply(&mut risk, draft)?;
        let measures = self.measures(&mut store)?;
        settle(&mut risk, given, &RiskMatrix::new(self.matrix_config()), &measures).map_err(|p| invalid(&risk_label(id), p))?;
        let stored = store.update_risk(&risk, kind, serde_json::json!({}), &self.actor, self.now())?;
        self.checkpoint(&mut store)?;
        Ok(stored)
    }

    pub fn risk(&self, id: i64) -> Result<Risk> {
        Ok(self.store()?.risk(id)?)
    }

    pub fn risks(&self) -> Result<Vec<Risk>> {
        Ok(self.store()?.risks()?)
    }

    /// What the latest findings and campaigns suggest changing.
    pub fn suggest_risks(&self) -> Result<Vec<Suggestion>> {
        let mut store = self.store()?;
        let risks = store.risks()?;
        let measures = self.measures(&mut store)?;
        Ok(annexa_engine::risk::suggest::suggest(&risks, &RiskMatrix::new(self.matrix_config()), &measures))
    }

    /// Applies the suggestions for the risks named (every suggestion when `only` is
    /// empty), each a ledger entry with its reasoning. Naming a risk with no suggestion is
    /// refused, nothing applied.
    pub fn apply_suggestions(&self, only: &[i64]) -> Result<Vec<(Suggestion, Risk)>> {
        let suggestions = self.suggest_risks()?;
        for id in only {
            if !suggestions.iter().any(|s| s.risk == *id) {
                return Err(Error::invalid(format!("there is no suggestion for {}: see `annexa risk suggest`", risk_label(*id))));
            }
        }
        let chosen: Vec<Suggestion> = suggestions.into_iter().filter(|s| only.is_empty() || only.contains(&s.risk)).collect();
        let mut store = self.store()?;
        let mut out = Vec::new();
        for s in chosen {
            let mut risk = store.risk(s.risk)?;
            if risk.version != s.version {
                return Err(Error::conflict(format!("{} changed while the suggestions were computed: run it again", s.label)));
            }
            risk.residual.likelihood = s.likelihood_to;
            if let (Some((lo, hi)), Some(q)) = (s.frequency, risk.quantification.as_mut()) {
                q.frequency_low = lo;
                q.frequency_high = hi;
            }
            let why = serde_json::json!({ "likelihood_from": s.likelihood_from, "likelihood_to": s.likelihood_to, "reasons": s.reasons });
            let stored = store.update_risk(&risk, "risk-suggestion-applied", why, &self.actor, self.now())?;
            out.push((s, stored));
        }
        if !out.is_empty() {
            self.checkpoint(&mut store)?;
        }
        Ok(out)
    }

    /// Quantifies the register: every quantified risk, its driver measured now, simulated
    /// `iterations` years from `seed`; the result and everything it depends on recorded in
    /// the ledger.
    pub fn simulate_risks(&self, seed: u64, iterations: u32) -> Result<SimulationReport> {
        let mut store = self.store()?;
        let risks = store.risks()?;
        let measures = self.measures(&mut store)?;
        let mut sim_risks = Vec::new();
        let mut drivers = Vec::new();
        let mut not_simulated = Vec::new();
        for r in &risks {
            let Some(q) = &r.quantification else { continue };
            let value = match q.driver.as_deref() {
                None => 1.0,
                Some(d) => {
                    let driver = Driver::parse(d).map_err(|e| Error::invalid(format!("{}: {e}", risk_label(r.id))))?;
                    match measures.value(&driver) {
                        Ok(v) => {
                            drivers.push((risk_label(r.id), d.to_string(), v));
                            v
                        }
                        Err(e) => {
                            not_simulated.push((risk_label(r.id), format!("its frequency follows {d}, but {e}")));
                            continue;
                        }
                    }
                }
            };
            sim_risks.push(SimRisk::new(r.id, &r.title, q, value));
        }
        let mut correlations = Vec::new();
        for c in &self.matrix_config().correlations {
            let mut ids = Vec::new();
            for name in &c.risks {
                let id = annexa_core::risk::parse_risk_label(name)
                    .or_else(|| risks.iter().find(|r| r.key.as_deref() == Some(name.as_str())).map(|r| r.id))
                    .ok_or_else(|| Error::invalid(format!("[risk] correlations name {name:?}, which is not a risk in the register")))?;
                ids.push(id);
            }
            correlations.push(Correlated { risks: ids, rho: c.rho });
        }
        let sim = Simulation { seed, iterations, risks: sim_risks, correlations };
        let inputs = serde_json::json!({
            "simulation": sim, "drivers": drivers, "not_simulated": not_simulated, "generator": simulate::GENERATOR,
        });
        let inputs_sha256 = annexa_core::to_hex(&Sha256::digest(inputs.to_string().as_bytes()));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let outcome = simulate::run(&sim, threads).map_err(|e| Error::invalid(e.0))?;
        let brief = |s: &simulate::LossSummary| serde_json::json!({ "label": s.label, "ale": s.ale, "p10": s.p10, "p50": s.p50, "p90": s.p90, "p99": s.p99, "std_error": s.std_error });
        let mut summary: Vec<serde_json::Value> = outcome.risks.iter().map(brief).collect();
        summary.push(brief(&outcome.portfolio));
        let outcome_json = serde_json::to_value(&outcome).map_err(|e| Error::internal(e.to_string()))?;
        let id = store.record_simulation(
            &NewSimulation {
                seed,
                iterations,
                generator: simulate::GENERATOR,
                inputs_sha256: &inputs_sha256,
                inputs: &inputs,
                outcome: &outcome_json,
                summary: serde_json::Value::Array(summary),
            },
            &self.actor,
            self.now(),
        )?;
        self.checkpoint(&mut store)?;
        Ok(SimulationReport {
            simulation: id,
            seed,
            iterations,
            generator: simulate::GENERATOR.to_string(),
            inputs_sha256,
            currency: self.matrix_config().currency.clone(),
            drivers,
            not_simulated,
            outcome,
        })
    }

    /// The latest simulation's result per risk label, for the register's listing.
    pub fn latest_simulation(&self) -> Result<Option<annexa_store::risk::StoredSimulation>> {
        Ok(self.store()?.latest_simulation()?)
    }
}

/// Applies what `draft` gives to `risk`; returns which residual ratings were given.
fn apply(risk: &mut Risk, draft: &RiskDraft) -> Result<Given> {
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *field = v.clone();
        }
    };
    set(&mut risk.title, &draft.title);
    set(&mut risk.asset, &draft.asset);
    set(&mut risk.threat, &draft.threat);
    set(&mut risk.vulnerability, &draft.vulnerability);
    set(&mut risk.owner, &draft.owner);
    let inherent_before = risk.inherent;
    if let Some(l) = draft.likelihood {
        risk.inherent.likelihood = l;
    }
    if let Some(i) = draft.impact {
        risk.inherent.impact = i;
    }
    // An unquantified, untreated risk's residual rating moves with its inherent one.
    if risk.quantification.is_none()
        && risk.residual == inherent_before
        && draft.residual_likelihood.is_none()
        && draft.residual_impact.is_none()
    {
        risk.residual = risk.inherent;
    }
    if let Some(l) = draft.residual_likelihood {
        risk.residual.likelihood = l;
    }
    if let Some(i) = draft.residual_impact {
        risk.residual.impact = i;
    }
    if let Some(t) = draft.treatment {
        risk.treatment = t;
    }
    if let Some(p) = &draft.plan {
        risk.plan = Some(p.clone()).filter(|p| !p.trim().is_empty());
    }
    if let Some(c) = &draft.controls {
        risk.controls = c.clone();
    }
    if let Some(c) = &draft.checks {
        risk.checks = c.clone();
    }
    if let Some(d) = draft.review_due {
        risk.review_due = Some(d);
    }
    if draft.unquantify {
        risk.quantification = None;
    }
    let touches = draft.frequency.is_some()
        || draft.loss.is_some()
        || draft.driver.is_some()
        || draft.shape.is_some()
        || draft.loss_most_likely.is_some();
    if touches && !draft.unquantify {
        let q = match risk.quantification.take() {
            Some(q) => q,
            None => {
                let (Some(f), Some(l)) = (draft.frequency, draft.loss) else {
                    return Err(Error::invalid(
                        "quantifying a risk needs both --frequency LOW-HIGH (events a year) and --loss LOW-HIGH (per event)",
                    ));
                };
                Quantification {
                    frequency_low: f.0,
                    frequency_high: f.1,
                    driver: None,
                    loss_low: l.0,
                    loss_high: l.1,
                    loss_most_likely: None,
                    shape: LossShape::Lognormal,
                }
            }
        };
        let mut q = q;
        if let Some((lo, hi)) = draft.frequency {
            (q.frequency_low, q.frequency_high) = (lo, hi);
        }
        if let Some((lo, hi)) = draft.loss {
            (q.loss_low, q.loss_high) = (lo, hi);
        }
        if let Some(d) = &draft.driver {
            q.driver = if d == "none" { None } else { Some(d.clone()) };
        }
        if let Some(s) = draft.shape {
            q.shape = s;
        }
        if draft.loss_most_likely.is_some() {
            q.loss_most_likely = draft.loss_most_likely;
        }
        risk.quantification = Some(q);
    }
    Ok(Given { residual_likelihood: draft.residual_likelihood.is_some(), residual_impact: draft.residual_impact.is_some() })
}

/// A range from `0.2-2` or `10000-250000` (`_` and `,` allowed as digit separators).
pub fn parse_range(s: &str, what: &str) -> Result<(f64, f64)> {
    let clean: String = s.chars().filter(|c| *c != '_' && *c != ',').collect();
    let parsed = clean.split_once('-').and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
    match parsed {
        Some((a, b)) if a.is_finite() && b.is_finite() => Ok((a, b)),
        _ => Err(Error::invalid(format!("{what} {s:?} is not a range: expected LOW-HIGH, e.g. 0.2-2 or 10000-250000"))),
    }
}

/// A risk's number from `R-7` or `7`.
pub fn risk_number(s: &str) -> Result<i64> {
    annexa_core::risk::parse_risk_label(s).ok_or_else(|| Error::invalid(format!("{s:?} is not a risk: expected R-7 or 7")))
}
