//! The built-in checks written again in Rego, as references: to show how a check reads in
//! Rego, as a starting point for custom checks, and to hold the two implementations to the
//! same answers ([`compare`], which the test suite runs on the demo organisation and the
//! benchmark on a large one). Every built-in check has one.

use super::{compile, PolicySource, DEFAULT_TIMEOUT};
use crate::config::Config;
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::Finding;
use serde::Serialize;
use std::time::Instant;

/// (check id, policy text).
pub const REFERENCE: &[(&str, &str)] = &[
    ("orphaned-account", include_str!("../../policies/orphaned-account.rego")),
    ("leaver-access", include_str!("../../policies/leaver-access.rego")),
    ("dormant-account", include_str!("../../policies/dormant-account.rego")),
    ("mfa-missing", include_str!("../../policies/mfa-missing.rego")),
    ("privileged-weak-mfa", include_str!("../../policies/privileged-weak-mfa.rego")),
    ("service-account-no-owner", include_str!("../../policies/service-account-no-owner.rego")),
    ("contractor-no-end-date", include_str!("../../policies/contractor-no-end-date.rego")),
    ("root-account-use", include_str!("../../policies/root-account-use.rego")),
    ("admin-not-separated", include_str!("../../policies/admin-not-separated.rego")),
    ("shared-account", include_str!("../../policies/shared-account.rego")),
    ("sod-conflict", include_str!("../../policies/sod-conflict.rego")),
    ("certification-overdue", include_str!("../../policies/certification-overdue.rego")),
    ("stale-credential", include_str!("../../policies/stale-credential.rego")),
    ("mover-residual-access", include_str!("../../policies/mover-residual-access.rego")),
    ("mover-access-review", include_str!("../../policies/mover-access-review.rego")),
    ("unexplained-access", include_str!("../../policies/unexplained-access.rego")),
    ("privilege-outlier", include_str!("../../policies/privilege-outlier.rego")),
    ("revocation-not-fulfilled", include_str!("../../policies/revocation-not-fulfilled.rego")),
    ("log-integrity", include_str!("../../policies/log-integrity.rego")),
];

/// The reference policy of a built-in check, as a source.
pub fn source(check: &str) -> Option<PolicySource> {
    REFERENCE
        .iter()
        .find(|(id, _)| *id == check)
        .map(|(id, text)| PolicySource { file: format!("builtin:{id}.rego"), text: text.to_string() })
}

/// How a check's native and Rego implementations compare on one graph.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub check: String,
    pub native_findings: usize,
    pub rego_findings: usize,
    /// Findings (by id) only one side reported, and those both reported differently
    /// (severity, subject or message).
    pub only_native: Vec<String>,
    pub only_rego: Vec<String>,
    pub different: Vec<String>,
    pub native_seconds: f64,
    pub rego_seconds: f64,
    /// Why neither could judge (both said the same), if they could not.
    pub not_evaluated: Option<String>,
    /// A Rego failure, if any.
    pub error: Option<String>,
}

/// Runs each check natively and through its reference policy over `ctx`.
pub fn compare(ctx: &Context<'_>, config: &Config, checks: &[&str]) -> Vec<Comparison> {
    let mut out = Vec::new();
    for id in checks {
        let Some(src) = source(id) else { continue };
        let t = Instant::now();
        let Some(native) = crate::checks::evaluate_one(ctx, config, id) else { continue };
        let native_seconds = t.elapsed().as_secs_f64();
        let (policies, errors) = compile(std::slice::from_ref(&src), DEFAULT_TIMEOUT);
        let mut cmp = Comparison {
            check: id.to_string(),
            native_findings: native.findings.len(),
            rego_findings: 0,
            only_native: Vec::new(),
            only_rego: Vec::new(),
            different: Vec::new(),
            native_seconds,
            rego_seconds: 0.0,
            not_evaluated: None,
            error: errors.first().map(|e| format!("{}: {}", e.file, e.message)),
        };
        if let Some(policy) = policies.first() {
            let found = std::sync::Mutex::new(Vec::<Finding>::new());
            let send = |batch: Vec<Finding>| {
                if let Ok(mut f) = found.lock() {
                    f.extend(batch);
                }
                true
            };
            let t = Instant::now();
            let mut builder = FindingBuilder {
                check: policy.def,
                severity: native.severity,
                parameters: native.parameters.clone(),
                as_of: ctx.as_of,
                out: crate::context::Emitter::new(&send),
                not_evaluated: None,
                part: crate::context::Part::WHOLE,
            };
            super::run(ctx, policy, &serde_json::Value::Object(native.parameters.clone()), &mut builder);
            builder.out.flush();
            let rego_not_evaluated = builder.not_evaluated.take();
            drop(builder);
            cmp.rego_seconds = t.elapsed().as_secs_f64();
            match rego_not_evaluated {
                Some(e) if e.starts_with("error: ") => cmp.error = Some(e),
                other if other == native.not_evaluated => cmp.not_evaluated = other,
                other => cmp.different.push(format!("not evaluated: native {:?} / rego {other:?}", native.not_evaluated)),
            }
            let rego = found.into_inner().unwrap_or_default();
            cmp.rego_findings = rego.len();
            diff(&native.findings, &rego, &mut cmp);
        }
        out.push(cmp);
    }
    out
}

fn diff(native: &[Finding], rego: &[Finding], cmp: &mut Comparison) {
    let by_id: std::collections::HashMap<&str, &Finding> = rego.iter().map(|f| (f.id.as_str(), f)).collect();
    for n in native {
        match by_id.get(n.id.as_str()) {
            None => cmp.only_native.push(n.id.clone()),
            Some(r) if r.severity != n.severity || r.subject != n.subject || r.message != n.message || r.controls != n.controls => {
                cmp.different.push(format!("{}: native {:?} / rego {:?}", n.id, n.message, r.message))
            }
            Some(_) => {}
        }
    }
    let native_ids: std::collections::HashSet<&str> = native.iter().map(|f| f.id.as_str()).collect();
    cmp.only_rego = rego.iter().filter(|f| !native_ids.contains(f.id.as_str())).map(|f| f.id.clone()).collect();
}
