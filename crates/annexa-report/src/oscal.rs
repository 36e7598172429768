//! NIST OSCAL 1.1 documents of an audit: the assessment results (the controls reviewed, an
//! observation per check and per reported finding, with links to the ledger entries that
//! record them and their inclusion proofs; a finding per control; the risk register), the
//! assessment plan they import (an activity per check), and a component definition of the
//! checks (which Annex A control each implements a test of).
//!
//! Identifiers are name-based UUIDs (version 5, in a namespace of Annexa's own), so the same
//! audit gives the same documents. Control ids are the Annex A ids (`A.5.18`); the source
//! catalog is named by URI, as no OSCAL catalog of ISO/IEC 27001 is public.

use serde_json::{json, Value};

/// What the documents are made from.
#[derive(Debug, Clone, Default)]
pub struct OscalInput {
    /// RFC 3339.
    pub generated: String,
    pub tool_version: String,
    pub organisation: String,
    pub run: OscalRun,
    pub checks: Vec<OscalCheck>,
    /// Reported findings (the most severe, bounded by the caller).
    pub findings: Vec<OscalFinding>,
    /// Open findings in all (the reported ones are the most severe of these).
    pub open_total: u64,
    pub risks: Vec<OscalRisk>,
    /// Ledger entries referenced, each with its inclusion proof bundle (JSON text), if a
    /// checkpoint covers it.
    pub proofs: Vec<(u64, String, Option<String>)>,
    /// The signed checkpoint the proofs are against: size and note.
    pub checkpoint: Option<(u64, String)>,
    /// File names the documents refer to each other by.
    pub plan_href: String,
    pub components_href: String,
}

#[derive(Debug, Clone, Default)]
pub struct OscalRun {
    pub id: i64,
    pub started: String,
    pub finished: String,
    pub as_of: String,
}

#[derive(Debug, Clone, Default)]
pub struct OscalCheck {
    pub id: String,
    pub title: String,
    pub description: String,
    pub controls: Vec<String>,
    /// `passed`, `failed`, `not evaluated`, `not run`.
    pub result: String,
    pub open: u64,
    pub reason: Option<String>,
    /// The run's `audit-run` ledger entry.
    pub ledger_seq: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct OscalFinding {
    pub id: String,
    pub check: String,
    pub severity: String,
    pub controls: Vec<String>,
    pub subject: String,
    pub message: String,
    pub state: String,
    pub evidence: Vec<String>,
    /// The ledger entry that recorded it (opened or regraded).
    pub ledger_seq: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct OscalRisk {
    pub label: String,
    pub title: String,
    pub statement: String,
    pub treatment: String,
    pub plan: Option<String>,
    pub likelihood: u8,
    pub impact: u8,
    pub level: String,
    pub controls: Vec<String>,
}

/// The three documents.
#[derive(Debug, Clone)]
pub struct OscalDocuments {
    pub assessment_results: Value,
    pub assessment_plan: Value,
    pub component_definition: Value,
}

const OSCAL_VERSION: &str = "1.1.2";
/// Where Annexa's own property names live (a namespace, never fetched).
const NS: &str = "https://annexa.dev/ns/oscal";
/// The catalog the control ids come from.
const CATALOG: &str = "https://www.iso.org/standard/27001";
/// The namespace of Annexa's name-based UUIDs.
const UUID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_4a52_9a0e_5c3d_8e21_2a6f_03c4_d7e9);

/// A stable UUID for `name`.
fn id(name: &str) -> String {
    uuid::Uuid::new_v5(&UUID_NAMESPACE, name.as_bytes()).to_string()
}

fn metadata(title: &str, input: &OscalInput) -> Value {
    json!({
        "title": title,
        "last-modified": input.generated,
        "version": format!("audit-run-{}", input.run.id),
        "oscal-version": OSCAL_VERSION,
        "roles": [{ "id": "assessor", "title": "Automated assessor (Annexa)" }],
        "parties": [
            { "uuid": id("party:annexa"), "type": "organization", "name": format!("Annexa {}", input.tool_version) },
            { "uuid": id("party:organisation"), "type": "organization", "name": input.organisation },
        ],
        "responsible-parties": [{ "role-id": "assessor", "party-uuids": [id("party:annexa")] }],
    })
}

fn control_selection(controls: &[String]) -> Value {
    let include: Vec<Value> = controls.iter().map(|c| json!({ "control-id": c })).collect();
    json!({ "control-selections": [{ "include-controls": include }] })
}

/// Every control some check tests, in the order first met.
fn reviewed(input: &OscalInput) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &input.checks {
        for control in &c.controls {
            if !out.contains(control) {
                out.push(control.clone());
            }
        }
    }
    out
}

fn ledger_link(seq: u64) -> Value {
    json!({ "href": format!("#{}", id(&format!("ledger-entry:{seq}"))), "text": format!("ledger entry {seq} and its inclusion proof") })
}

/// Builds the three documents.
pub fn documents(input: &OscalInput) -> OscalDocuments {
    let controls = reviewed(input);
    OscalDocuments {
        assessment_results: results(input, &controls),
        assessment_plan: plan(input, &controls),
        component_definition: components(input),
    }
}

fn activity(c: &OscalCheck) -> Value {
    json!({
        "uuid": id(&format!("activity:{}", c.id)),
        "title": format!("Check {}: {}", c.id, c.title),
        "description": c.description,
        "props": [{ "name": "method", "value": "TEST" }],
        "related-controls": control_selection(&c.controls),
    })
}

fn plan(input: &OscalInput, controls: &[String]) -> Value {
    let activities: Vec<Value> = input.checks.iter().map(activity).collect();
    json!({ "assessment-plan": {
        "uuid": id(&format!("assessment-plan:{}", input.run.id)),
        "metadata": metadata("Automated assessment of the ISO/IEC 27001:2022 identity controls", input),
        "import-ssp": {
            "href": "./system-security-plan.json",
            "remarks": "The organisation's system security plan; Annexa assesses the identity controls it describes and does not write it.",
        },
        "local-definitions": { "activities": activities },
        "terms-and-conditions": { "parts": [{
            "name": "assumptions",
            "title": "How the assessment runs",
            "prose": format!(
                "Each activity is one of Annexa's built-in control checks, run over the identity data imported from HR, directories, cloud and applications (each import hashed and recorded in the tamper-evident ledger), as of {}. The checks' parameters are recorded with each run.",
                input.run.as_of
            ),
        }]},
        "reviewed-controls": control_selection(controls),
    }})
}

fn components(input: &OscalInput) -> Value {
    let mut by_control: Vec<(String, Vec<&OscalCheck>)> = Vec::new();
    for c in &input.checks {
        for control in &c.controls {
            match by_control.iter_mut().find(|(k, _)| k == control) {
                Some((_, v)) => v.push(c),
                None => by_control.push((control.clone(), vec![c])),
            }
        }
    }
    let requirements: Vec<Value> = by_control
        .iter()
        .map(|(control, checks)| {
            let names: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
            let props: Vec<Value> = checks.iter().map(|c| json!({ "name": "check", "ns": NS, "value": c.id })).collect();
            json!({
                "uuid": id(&format!("requirement:{control}")),
                "control-id": control,
                "description": format!("Tested by Annexa's built-in check(s) {} on every audit.", names.join(", ")),
                "props": props,
            })
        })
        .collect();
    json!({ "component-definition": {
        "uuid": id("component-definition:annexa-checks"),
        "metadata": metadata("Annexa's built-in identity control checks", input),
        "components": [{
            "uuid": id("component:annexa-checks"),
            "type": "validation",
            "title": "Annexa built-in identity control checks",
            "description": "Automated tests of the ISO/IEC 27001:2022 Annex A identity controls over imported people, accounts, entitlements and badges.",
            "purpose": "Provide continuous, evidence-backed assessment of identity controls.",
            "control-implementations": [{
                "uuid": id("control-implementation:annexa-checks"),
                "source": CATALOG,
                "description": "The Annex A controls each built-in check tests.",
                "implemented-requirements": requirements,
            }],
        }],
    }})
}

fn results(input: &OscalInput, controls: &[String]) -> Value {
    let subject = json!([{ "subject-uuid": id("component:annexa-checks"), "type": "component" }]);
    let mut observations = Vec::new();
    for c in &input.checks {
        let description = match (c.result.as_str(), &c.reason) {
            ("not evaluated", Some(why)) => format!("{} ({}) could not judge: {why}", c.id, c.title),
            ("failed", _) => format!("{} ({}) found {} open finding(s).", c.id, c.title, c.open),
            ("passed", _) => format!("{} ({}) found nothing.", c.id, c.title),
            (r, _) => format!("{} ({}): {r}.", c.id, c.title),
        };
        let mut o = json!({
            "uuid": id(&format!("observation:run-{}:check:{}", input.run.id, c.id)),
            "title": format!("Check {}", c.id),
            "description": description,
            "props": [{ "name": "result", "ns": NS, "value": c.result.replace(' ', "-") }],
            "methods": ["TEST"],
            "types": [if c.result == "failed" { "finding" } else { "control-objective" }],
            "subjects": subject,
            "collected": input.run.finished,
        });
        if let Some(seq) = c.ledger_seq {
            o["relevant-evidence"] = json!([{ "href": ledger_link(seq)["href"], "description": format!("The audit run's entry in Annexa's ledger (entry {seq}), with its inclusion proof.") }]);
        }
        observations.push(o);
    }
    for f in &input.findings {
        let mut evidence: Vec<Value> = f.evidence.iter().map(|e| json!({ "description": e })).collect();
        if let Some(seq) = f.ledger_seq {
            evidence.push(json!({ "href": ledger_link(seq)["href"], "description": format!("The ledger entry that recorded this finding (entry {seq}), with its inclusion proof.") }));
        }
        observations.push(json!({
            "uuid": id(&format!("observation:finding:{}", f.id)),
            "title": format!("{} {}", f.id, f.check),
            "description": f.message,
            "props": [
                { "name": "finding-id", "ns": NS, "value": f.id },
                { "name": "severity", "ns": NS, "value": f.severity },
                { "name": "state", "ns": NS, "value": f.state },
            ],
            "methods": ["TEST"],
            "types": ["finding"],
            "subjects": subject,
            "collected": input.run.finished,
            "relevant-evidence": evidence,
            "remarks": format!("Subject: {}. Controls: {}.", f.subject, f.controls.join(", ")),
        }));
    }
    let risk_uuid = |label: &str| id(&format!("risk:{label}"));
    let risks: Vec<Value> = input
        .risks
        .iter()
        .map(|r| {
            let status = match r.treatment.as_str() {
                "modify" => "remediating",
                "retain" => "deviation-approved",
                _ => "closed",
            };
            let mut risk = json!({
                "uuid": risk_uuid(&r.label),
                "title": format!("{} {}", r.label, r.title),
                "description": r.title,
                "statement": r.statement,
                "props": [{ "name": "treatment", "ns": NS, "value": r.treatment }],
                "status": status,
                "characterizations": [{
                    "origin": { "actors": [{ "type": "tool", "actor-uuid": id("party:annexa") }] },
                    "facets": [
                        { "name": "likelihood", "system": NS, "value": r.likelihood.to_string() },
                        { "name": "impact", "system": NS, "value": r.impact.to_string() },
                        { "name": "risk", "system": NS, "value": r.level },
                    ],
                }],
            });
            if let Some(plan) = &r.plan {
                risk["remediations"] = json!([{
                    "uuid": id(&format!("remediation:{}", r.label)),
                    "lifecycle": "planned",
                    "title": format!("Treatment: {}", r.treatment),
                    "description": plan,
                }]);
            }
            risk
        })
        .collect();
    let findings: Vec<Value> = controls
        .iter()
        .map(|control| {
            let checks: Vec<&OscalCheck> = input.checks.iter().filter(|c| c.controls.contains(control)).collect();
            let failed: Vec<&&OscalCheck> = checks.iter().filter(|c| c.result == "failed").collect();
            let judged = checks.iter().any(|c| c.result == "passed" || c.result == "failed");
            let state = if failed.is_empty() && judged { "satisfied" } else { "not-satisfied" };
            let description = if !failed.is_empty() {
                let parts: Vec<String> = failed.iter().map(|c| format!("{} ({} open)", c.id, c.open)).collect();
                format!("Open findings of {}.", parts.join(", "))
            } else if judged {
                "Every check of this control passed.".to_string()
            } else {
                "No check of this control could judge it in this run.".to_string()
            };
            let related_observations: Vec<Value> = checks
                .iter()
                .map(|c| json!({ "observation-uuid": id(&format!("observation:run-{}:check:{}", input.run.id, c.id)) }))
                .chain(
                    input
                        .findings
                        .iter()
                        .filter(|f| f.controls.contains(control))
                        .map(|f| json!({ "observation-uuid": id(&format!("observation:finding:{}", f.id)) })),
                )
                .collect();
            let related_risks: Vec<Value> =
                input.risks.iter().filter(|r| r.controls.contains(control)).map(|r| json!({ "risk-uuid": risk_uuid(&r.label) })).collect();
            let mut finding = json!({
                "uuid": id(&format!("finding:run-{}:{control}", input.run.id)),
                "title": format!("{control}: {}", if state == "satisfied" { "satisfied" } else { "not satisfied" }),
                "description": description,
                "target": {
                    "type": "objective-id",
                    "target-id": format!("{control}_obj"),
                    "status": { "state": state },
                },
                "related-observations": related_observations,
            });
            if !related_risks.is_empty() {
                finding["related-risks"] = Value::Array(related_risks);
            }
            finding
        })
        .collect();
    let mut resources: Vec<Value> = vec![json!({
        "uuid": id("resource:component-definition"),
        "title": "Component definition of the checks",
        "description": "Which Annex A control each of Annexa's built-in checks tests.",
        "rlinks": [{ "href": input.components_href, "media-type": "application/json" }],
    })];
    resources.extend(input
        .proofs
        .iter()
        .map(|(seq, kind, proof)| {
            let mut r = json!({
                "uuid": id(&format!("ledger-entry:{seq}")),
                "title": format!("Ledger entry {seq} ({kind})"),
                "description": match proof {
                    Some(_) => "The entry and its inclusion proof against the signed checkpoint: check it offline with `annexa ledger verify-proof FILE --key KEY`.".to_string(),
                    None => "No signed checkpoint covered this entry when the document was written.".to_string(),
                },
            });
            if let Some(p) = proof {
                use base64::Engine as _;
                r["base64"] = json!({
                    "filename": format!("ledger-entry-{seq}.proof.json"),
                    "media-type": "application/json",
                    "value": base64::engine::general_purpose::STANDARD.encode(p.as_bytes()),
                });
            }
            r
        }));
    let mut result = json!({
        "uuid": id(&format!("result:run-{}", input.run.id)),
        "title": format!("Audit run #{} as of {}", input.run.id, input.run.as_of),
        "description": format!(
            "Annexa's built-in checks of the identity controls. {} open finding(s) in all; the {} most severe are reported as observations here, every one is in Annexa (`annexa findings list`) and its evidence pack.",
            input.open_total,
            input.findings.len()
        ),
        "start": input.run.started,
        "end": input.run.finished,
        "reviewed-controls": control_selection(controls),
        "observations": observations,
        "findings": findings,
    });
    if !risks.is_empty() {
        result["risks"] = Value::Array(risks);
    }
    let mut doc = json!({
        "uuid": id(&format!("assessment-results:run-{}", input.run.id)),
        "metadata": metadata(&format!("Assessment results of the identity controls: audit run #{}", input.run.id), input),
        "import-ap": { "href": input.plan_href },
        "results": [result],
    });
    if let Some((size, note)) = &input.checkpoint {
        doc["metadata"]["remarks"] = json!(format!("The evidence is in Annexa's tamper-evident ledger; inclusion proofs are against this signed checkpoint of its first {size} entries:\n\n{note}"));
    }
    doc["back-matter"] = json!({ "resources": resources });
    json!({ "assessment-results": doc })
}
