//! The risk register and its simulations as stored. Every change is a ledger entry holding
//! the risk's whole new state, in the transaction that makes it; an edit names the version
//! it was made from, so a concurrent edit is refused rather than overwritten.

use crate::db::Tx;
use crate::{instant, Store, StoreError};
use annexa_core::posture::Posture;
use annexa_core::risk::{risk_label, Rating, Risk, Treatment};
use annexa_core::time::Instant;
use serde::Serialize;
use std::collections::BTreeSet;

/// A stored simulation.
#[derive(Debug, Clone, Serialize)]
pub struct StoredSimulation {
    pub id: i64,
    pub at: Instant,
    pub actor: String,
    pub seed: u64,
    pub iterations: u32,
    pub generator: String,
    pub inputs_sha256: String,
    pub inputs: serde_json::Value,
    pub outcome: serde_json::Value,
}

/// A simulation to record.
#[derive(Debug, Clone)]
pub struct NewSimulation<'a> {
    pub seed: u64,
    pub iterations: u32,
    pub generator: &'a str,
    pub inputs_sha256: &'a str,
    pub inputs: &'a serde_json::Value,
    pub outcome: &'a serde_json::Value,
    /// What goes into the ledger entry besides the seed, count, generator and hash: the
    /// result in brief.
    pub summary: serde_json::Value,
}

const COLUMNS: &str = "id, library_key, title, asset, threat, vulnerability, owner, inherent_likelihood, inherent_impact, \
    residual_likelihood, residual_impact, treatment, plan, controls, checks, review_due, quantification, version, updated_at, updated_by";

fn read_risk(r: &crate::db::DbRow<'_>) -> Result<Risk, StoreError> {
    let rating = |l: usize| -> Result<u8, StoreError> { Ok(r.req_int(l)?.clamp(0, 255) as u8) };
    let words = |i: usize| -> Result<Vec<String>, StoreError> { Ok(r.req_text(i)?.split_whitespace().map(str::to_string).collect()) };
    let treatment = r.req_text(11)?;
    Ok(Risk {
        id: r.req_int(0)?,
        key: r.text(1)?.map(str::to_string),
        title: r.req_text(2)?.to_string(),
        asset: r.req_text(3)?.to_string(),
        threat: r.req_text(4)?.to_string(),
        vulnerability: r.req_text(5)?.to_string(),
        owner: r.req_text(6)?.to_string(),
        inherent: Rating { likelihood: rating(7)?, impact: rating(8)? },
        residual: Rating { likelihood: rating(9)?, impact: rating(10)? },
        treatment: Treatment::parse(treatment).ok_or_else(|| StoreError::Corrupt(format!("risk treatment {treatment:?}")))?,
        plan: r.text(12)?.map(str::to_string),
        controls: words(13)?,
        checks: words(14)?,
        review_due: instant(r.int(15)?),
        quantification: match r.text(16)? {
            None => None,
            Some(json) => Some(serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("risk quantification: {e}")))?),
        },
        version: r.req_int(17)?,
        updated_at: instant(r.int(18)?).unwrap_or_default(),
        updated_by: r.req_text(19)?.to_string(),
    })
}

fn one_risk(tx: &mut Tx<'_>, id: i64) -> Result<Risk, StoreError> {
    let mut out = None;
    tx.query_each(&format!("SELECT {COLUMNS} FROM risks WHERE id = ?"), &[id.into()], |r| {
        out = Some(read_risk(r)?);
        Ok(())
    })?;
    out.ok_or_else(|| StoreError::NotFound(format!("there is no risk {}", risk_label(id))))
}

/// The columns a risk's state is written to, in the order of [`fields`].
const FIELDS: &str = "title, asset, threat, vulnerability, owner, inherent_likelihood, inherent_impact, residual_likelihood, \
    residual_impact, treatment, plan, controls, checks, review_due, quantification";

/// A risk's state as the values of [`FIELDS`].
fn fields<'a>(risk: &'a Risk, controls: &'a str, checks: &'a str, quantification: Option<&'a str>) -> Vec<crate::db::Value<'a>> {
    vec![
        risk.title.as_str().into(),
        risk.asset.as_str().into(),
        risk.threat.as_str().into(),
        risk.vulnerability.as_str().into(),
        risk.owner.as_str().into(),
        i64::from(risk.inherent.likelihood).into(),
        i64::from(risk.inherent.impact).into(),
        i64::from(risk.residual.likelihood).into(),
        i64::from(risk.residual.impact).into(),
        risk.treatment.as_str().into(),
        risk.plan.as_deref().into(),
        controls.into(),
        checks.into(),
        risk.review_due.map(|t| t.timestamp()).into(),
        quantification.into(),
    ]
}

fn quantification_json(risk: &Risk) -> Result<Option<String>, StoreError> {
    risk.quantification.as_ref().map(|q| serde_json::to_string(q).map_err(|e| StoreError::Invalid(e.to_string()))).transpose()
}

impl Store {
    /// Adds a risk (its id, version and update stamp are assigned here).
    pub fn add_risk(&mut self, risk: &Risk, actor: &str, at: Instant) -> Result<Risk, StoreError> {
        let mut tx = self.conn.transaction()?;
        if let Some(key) = &risk.key {
            let mut existing = None;
            tx.query_each("SELECT id FROM risks WHERE library_key = ?", &[key.as_str().into()], |r| {
                existing = r.int(0)?;
                Ok(())
            })?;
            if let Some(id) = existing {
                return Err(StoreError::Conflict(format!("the library risk {key} is already in the register as {}", risk_label(id))));
            }
        }
        let (controls, checks, quantification) = (risk.controls.join(" "), risk.checks.join(" "), quantification_json(risk)?);
        let mut values = vec![risk.key.as_deref().into()];
        values.extend(fields(risk, &controls, &checks, quantification.as_deref()));
        values.extend::<[crate::db::Value<'_>; 4]>([at.timestamp().into(), actor.into(), at.timestamp().into(), actor.into()]);
        let id = tx.insert_returning_id(
            &format!(
                "INSERT INTO risks (library_key, {FIELDS}, version, created_at, created_by, updated_at, updated_by) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
            ),
            &values,
        )?;
        let stored = one_risk(&mut tx, id)?;
        let data = serde_json::json!({ "risk": risk_label(id), "state": stored });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "risk-added", data }])?;
        tx.commit()?;
        Ok(stored)
    }

    /// Replaces a risk's state with `risk`, if it is still at `risk.version`; `kind` names
    /// the change in the ledger (`risk-edited`, `risk-treated`, `risk-suggestion-applied`)
    /// and `why` adds to its entry (the reasoning of a suggestion).
    pub fn update_risk(
        &mut self,
        risk: &Risk,
        kind: &'static str,
        why: serde_json::Value,
        actor: &str,
        at: Instant,
    ) -> Result<Risk, StoreError> {
        let mut tx = self.conn.transaction()?;
        let before = one_risk(&mut tx, risk.id)?;
        if before.version != risk.version {
            return Err(StoreError::Conflict(format!(
                "{} was changed by {} at {} since it was read (version {} now, {} read): read it again and redo the change",
                risk_label(risk.id),
                before.updated_by,
                before.updated_at.format("%Y-%m-%d %H:%M:%S UTC"),
                before.version,
                risk.version
            )));
        }
        let (controls, checks, quantification) = (risk.controls.join(" "), risk.checks.join(" "), quantification_json(risk)?);
        let mut values = fields(risk, &controls, &checks, quantification.as_deref());
        values.extend::<[crate::db::Value<'_>; 4]>([at.timestamp().into(), actor.into(), risk.id.into(), risk.version.into()]);
        let assignments: Vec<String> = FIELDS.split(", ").map(|f| format!("{f} = ?")).collect();
        tx.execute(
            &format!(
                "UPDATE risks SET {}, version = version + 1, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?",
                assignments.join(", ")
            ),
            &values,
        )?;
        let stored = one_risk(&mut tx, risk.id)?;
        let changed = changed_fields(&before, &stored);
        let mut data = serde_json::json!({ "risk": risk_label(risk.id), "changed": changed, "state": stored });
        if let (Some(obj), serde_json::Value::Object(extra)) = (data.as_object_mut(), why) {
            obj.extend(extra);
        }
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind, data }])?;
        tx.commit()?;
        Ok(stored)
    }

    pub fn risk(&mut self, id: i64) -> Result<Risk, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let out = one_risk(&mut tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    /// The register, by number.
    pub fn risks(&mut self) -> Result<Vec<Risk>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(&format!("SELECT {COLUMNS} FROM risks ORDER BY id"), &[], |r| {
            out.push(read_risk(r)?);
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// The posture the latest audit that measured one recorded, with its run.
    pub fn latest_posture(&mut self) -> Result<Option<(i64, Posture)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each("SELECT id, posture FROM audit_runs WHERE posture IS NOT NULL ORDER BY id DESC LIMIT 1", &[], |r| {
            let posture = serde_json::from_str(r.req_text(1)?).map_err(|e| StoreError::Corrupt(format!("run posture: {e}")))?;
            out = Some((r.req_int(0)?, posture));
            Ok(())
        })?;
        tx.commit()?;
        Ok(out)
    }

    /// The latest run, and every check some run has evaluated (its open findings are that
    /// run's judgement).
    pub fn evaluated_checks(&mut self) -> Result<(Option<i64>, BTreeSet<String>), StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut checks = BTreeSet::new();
        let mut latest = None;
        tx.query_each("SELECT id, checks FROM audit_runs ORDER BY id", &[], |r| {
            latest = Some(r.req_int(0)?);
            let ran: Vec<String> = serde_json::from_str(r.req_text(1)?).map_err(|e| StoreError::Corrupt(format!("run checks: {e}")))?;
            checks.extend(ran);
            Ok(())
        })?;
        tx.commit()?;
        Ok((latest, checks))
    }

    /// Campaigns closed since `since`: name, closing day, items, revoked.
    pub fn campaigns_closed_since(&mut self, since: Instant) -> Result<Vec<(String, String, u64, u64)>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = Vec::new();
        tx.query_each(
            "SELECT name, closed_at, items, revoked FROM campaigns WHERE status = 'closed' AND closed_at >= ? ORDER BY closed_at, id",
            &[since.timestamp().into()],
            |r| {
                let day = instant(r.int(1)?).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default();
                out.push((r.req_text(0)?.to_string(), day, r.req_int(2)?.max(0) as u64, r.req_int(3)?.max(0) as u64));
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Records a simulation and its ledger entry; returns its number.
    pub fn record_simulation(&mut self, sim: &NewSimulation<'_>, actor: &str, at: Instant) -> Result<i64, StoreError> {
        let mut tx = self.conn.transaction()?;
        let seed = sim.seed.to_string();
        let (inputs, outcome) = (sim.inputs.to_string(), sim.outcome.to_string());
        let id = tx.insert_returning_id(
            "INSERT INTO risk_simulations (at, actor, seed, iterations, generator, inputs_sha256, inputs, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                at.timestamp().into(),
                actor.into(),
                seed.as_str().into(),
                i64::from(sim.iterations).into(),
                sim.generator.into(),
                sim.inputs_sha256.into(),
                inputs.as_str().into(),
                outcome.as_str().into(),
            ],
        )?;
        let data = serde_json::json!({
            "simulation": id, "seed": seed, "iterations": sim.iterations, "generator": sim.generator,
            "inputs_sha256": sim.inputs_sha256, "result": sim.summary,
        });
        tx.ledger_append(actor, at, &[crate::ledger::Change { kind: "risk-simulated", data }])?;
        tx.commit()?;
        Ok(id)
    }

    /// The latest simulation, if any.
    pub fn latest_simulation(&mut self) -> Result<Option<StoredSimulation>, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = None;
        tx.query_each(
            "SELECT id, at, actor, seed, iterations, generator, inputs_sha256, inputs, outcome FROM risk_simulations ORDER BY id DESC LIMIT 1",
            &[],
            |r| {
                let json = |i: usize| -> Result<serde_json::Value, StoreError> {
                    serde_json::from_str(r.req_text(i)?).map_err(|e| StoreError::Corrupt(format!("simulation: {e}")))
                };
                out = Some(StoredSimulation {
                    id: r.req_int(0)?,
                    at: instant(r.int(1)?).unwrap_or_default(),
                    actor: r.req_text(2)?.to_string(),
                    seed: r.req_text(3)?.parse().map_err(|_| StoreError::Corrupt("simulation seed".into()))?,
                    iterations: r.req_int(4)?.clamp(0, i64::from(u32::MAX)) as u32,
                    generator: r.req_text(5)?.to_string(),
                    inputs_sha256: r.req_text(6)?.to_string(),
                    inputs: json(7)?,
                    outcome: json(8)?,
                });
                Ok(())
            },
        )?;
        tx.commit()?;
        Ok(out)
    }
}

/// The names of the fields an edit changed.
fn changed_fields(before: &Risk, after: &Risk) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut note = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    note("title", before.title == after.title);
    note("asset", before.asset == after.asset);
    note("threat", before.threat == after.threat);
    note("vulnerability", before.vulnerability == after.vulnerability);
    note("owner", before.owner == after.owner);
    note("inherent", before.inherent == after.inherent);
    note("residual", before.residual == after.residual);
    note("treatment", before.treatment == after.treatment);
    note("plan", before.plan == after.plan);
    note("controls", before.controls == after.controls);
    note("checks", before.checks == after.checks);
    note("review_due", before.review_due == after.review_due);
    note("quantification", before.quantification == after.quantification);
    out
}

/// Counts a report needs, read in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ReportCounts {
    /// Open findings per (check, severity).
    pub open: Vec<(String, annexa_core::finding::Severity, u64)>,
    /// Open findings accepted as risks or dismissed as false positives.
    pub suppressed: u64,
    /// The posture of the last runs that measured one, oldest first.
    pub postures: Vec<(i64, Instant, Posture)>,
}

impl Store {
    /// What the auditor's report counts: open findings by check and severity, suppressed
    /// findings, and the posture of the last `runs` runs.
    pub fn report_counts(&mut self, runs: i64) -> Result<ReportCounts, StoreError> {
        let mut tx = self.conn.read_transaction()?;
        let mut out = ReportCounts::default();
        tx.query_each(
            "SELECT check_id, severity_rank, COUNT(*) FROM findings WHERE status = 'open' GROUP BY check_id, severity_rank",
            &[],
            |r| {
                let rank = r.req_int(1)?;
                let sev = annexa_core::finding::Severity::ALL.iter().copied().find(|s| s.rank() == rank);
                let sev = sev.ok_or_else(|| StoreError::Corrupt(format!("severity rank {rank}")))?;
                out.open.push((r.req_text(0)?.to_string(), sev, r.req_int(2)?.max(0) as u64));
                Ok(())
            },
        )?;
        tx.query_each(
            "SELECT COUNT(*) FROM findings f JOIN finding_workflow w ON w.finding_id = f.id \
             WHERE f.status = 'open' AND w.state IN ('accepted', 'false-positive')",
            &[],
            |r| {
                out.suppressed = r.req_int(0)?.max(0) as u64;
                Ok(())
            },
        )?;
        tx.query_each(
            "SELECT id, started_at, posture FROM audit_runs WHERE posture IS NOT NULL ORDER BY id DESC LIMIT ?",
            &[runs.into()],
            |r| {
                let posture = serde_json::from_str(r.req_text(2)?).map_err(|e| StoreError::Corrupt(format!("run posture: {e}")))?;
                out.postures.push((r.req_int(0)?, instant(r.int(1)?).unwrap_or_default(), posture));
                Ok(())
            },
        )?;
        out.postures.reverse();
        tx.commit()?;
        Ok(out)
    }
}
