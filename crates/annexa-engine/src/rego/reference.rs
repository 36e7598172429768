//! The built-in checks written again in Rego, as references: to show how a check reads in
//! Rego, as a starting point for custom checks, and to hold the two implementations to the
//! same answers ([`compare`], which the test suite runs on the demo organisation and the
//! benchmark on a large one). So far thirteen of the built-in checks have one.

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
    /// A Rego failure, if any.
    pub error: Option<String>,
}

/// Runs each check natively and through its reference policy over `ctx`.
pub fn compare(ctx: &Context<'_>, config: &Config, checks: &[&str]) -> Vec<Comparison> {
    let mut out = Vec::new();
    for id in checks {
        let Some(src) = source(id) else { continue };
        let t = Instant::now();
        let Some((native, severity, parameters)) = crate::checks::evaluate_one(ctx, config, id) else { continue };
        let native_seconds = t.elapsed().as_secs_f64();
        let (policies, errors) = compile(std::slice::from_ref(&src), DEFAULT_TIMEOUT);
        let mut cmp = Comparison {
            check: id.to_string(),
            native_findings: native.len(),
            rego_findings: 0,
            only_native: Vec::new(),
            only_rego: Vec::new(),
            different: Vec::new(),
            native_seconds,
            rego_seconds: 0.0,
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
                severity,
                parameters: parameters.clone(),
                as_of: ctx.as_of,
                out: crate::context::Emitter::new(&send),
                not_evaluated: None,
            };
            super::run(ctx, policy, &serde_json::Value::Object(parameters), &mut builder);
            builder.out.flush();
            if let Some(e) = builder.not_evaluated.take() {
                cmp.error = Some(e);
            }
            drop(builder);
            cmp.rego_seconds = t.elapsed().as_secs_f64();
            let rego = found.into_inner().unwrap_or_default();
            cmp.rego_findings = rego.len();
            diff(&native, &rego, &mut cmp);
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
