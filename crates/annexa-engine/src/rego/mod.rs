//! Checks written in Rego (OPA's policy language), evaluated in-process by `regorus`.
//!
//! A policy file adds one check. It declares `metadata` (id, title, severity, controls, and
//! whether its subjects are accounts or people) and a `findings` set; Annexa gives it its
//! subjects in batches (`input.items`, a few hundred at a time, never one document of
//! millions of grants: see `docs/rego-input.schema.json`), with the check's parameters and the
//! as-of time. Each element of `findings` names the subject it is about (`key`), and says
//! what is wrong (`message`), optionally with `values` and its own `severity`.
//!
//! A policy is compiled once and the compiled engine cloned for each batch, with an
//! execution-time limit. A policy that does not compile, fails at run time, or returns the
//! wrong shape stops only its own check, which reports an error (naming the file, line and
//! rule where regorus says them), never "passed".
//!
//! This module does no I/O: the app reads the files and hands over their text.

mod input;
pub mod reference;
pub mod test;

use crate::checks::registry::CheckDef;
use crate::context::{Context, FindingBuilder};
use annexa_core::finding::{Severity, Subject};
use std::num::NonZeroU32;
use std::time::Duration;

pub use input::Batch;

/// The batches a policy of `sort` is given (for tests and tools).
pub fn input_batches(
    ctx: &Context<'_>,
    sort: SubjectSort,
    parameters: &serde_json::Value,
    size: usize,
    each: &mut dyn FnMut(&Batch) -> bool,
) {
    input::batches(ctx, sort, parameters, size, each)
}

/// A policy file's name and text.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub file: String,
    pub text: String,
}

/// What a check's subjects are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectSort {
    Account,
    Person,
    /// Who holds access: each person with their accounts, and each account linked to no one.
    Holder,
    /// The revocations decided in campaigns and not yet seen carried out (Annexa's own
    /// records; none when the audit is not given them).
    Revocation,
    /// The evidence ledger's verification status: one subject (none when not verified).
    Ledger,
}

/// A compiled policy: one check.
#[derive(Clone)]
pub struct Policy {
    pub def: &'static CheckDef,
    pub file: String,
    pub package: String,
    pub subjects: SubjectSort,
    engine: regorus::Engine,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy").field("check", &self.def.id).field("file", &self.file).finish()
    }
}

/// A policy that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The check's id when the policy got that far, else the file name.
    pub check: String,
    pub file: String,
    pub message: String,
}

/// How long one batch may take before the policy is stopped.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subjects per batch.
pub const BATCH: usize = 500;

fn engine_with(sources: &[&PolicySource], timeout: Duration) -> Result<regorus::Engine, (String, String)> {
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: timeout,
        check_interval: NonZeroU32::MIN.saturating_add(999),
    });
    for s in sources {
        engine.add_policy(s.file.clone(), s.text.clone()).map_err(|e| (s.file.clone(), first_lines(&e.to_string())))?;
    }
    Ok(engine)
}

/// regorus's messages carry the file, line and a caret under the spot: kept, but short.
fn first_lines(message: &str) -> String {
    message.lines().take(6).collect::<Vec<_>>().join("\n")
}

/// Compiles the check policies among `sources` (every `.rego` file but `*_test.rego`),
/// each with the helper files (none yet: each policy stands alone). Returns the policies
/// that compiled and the errors of those that did not.
pub fn compile(sources: &[PolicySource], timeout: Duration) -> (Vec<Policy>, Vec<PolicyError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in sources.iter().filter(|s| !s.file.ends_with("_test.rego")) {
        let fail = |check: String, message: String| PolicyError { check, file: s.file.clone(), message };
        let stem = std::path::Path::new(&s.file).file_stem().and_then(|x| x.to_str()).unwrap_or(&s.file).to_string();
        match compile_one(s, timeout) {
            Ok(p) => {
                if crate::checks::registry::CHECKS.iter().any(|c| c.id == p.def.id) && !s.file.starts_with("builtin:") {
                    errors.push(fail(p.def.id.to_string(), format!("check id {:?} is a built-in check's: choose another", p.def.id)));
                } else if !seen.insert(p.def.id) {
                    errors.push(fail(p.def.id.to_string(), format!("check id {:?} is declared by two policies", p.def.id)));
                } else {
                    out.push(p);
                }
            }
            Err((check, message)) => errors.push(fail(check.unwrap_or(stem), message)),
        }
    }
    (out, errors)
}

fn compile_one(s: &PolicySource, timeout: Duration) -> Result<Policy, (Option<String>, String)> {
    let mut engine = engine_with(&[s], timeout).map_err(|(_, m)| (None, m))?;
    let packages = engine.get_packages().map_err(|e| (None, e.to_string()))?;
    let Some(package) = packages.first().cloned() else { return Err((None, "no package".into())) };
    let meta =
        engine.eval_rule(format!("{package}.metadata")).map_err(|e| (None, format!("rule metadata: {}", first_lines(&e.to_string()))))?;
    let meta: serde_json::Value = serde_json::to_value(&meta).map_err(|e| (None, e.to_string()))?;
    let id = meta.get("id").and_then(|v| v.as_str()).map(str::to_string);
    let bad = |what: &str| (id.clone(), format!("rule metadata: {what}"));
    if !meta.is_object() {
        return Err(bad("undefined or not an object: declare metadata := {\"id\": …, \"title\": …, \"severity\": …, \"controls\": […], \"subjects\": \"accounts\"}"));
    }
    let Some(id) = id.clone().filter(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')) else {
        return Err(bad("\"id\" must be a string of letters, digits, - and _"));
    };
    let title = meta.get("title").and_then(|v| v.as_str()).unwrap_or(&id).to_string();
    let severity = match meta.get("severity").and_then(|v| v.as_str()).map(Severity::parse) {
        Some(Some(s)) => s,
        _ => return Err(bad(&format!("\"severity\" must be one of {}", Severity::expected()))),
    };
    let mut controls = Vec::new();
    for c in meta.get("controls").and_then(|v| v.as_array()).into_iter().flatten() {
        let Some(c) = c.as_str() else { return Err(bad("\"controls\" must be a list of Annex A ids")) };
        match annexa_core::catalog::Catalog::get().resolve(c).as_slice() {
            [one] if controls.contains(&one.id) => {}
            [one] => controls.push(one.id.clone()),
            _ => return Err(bad(&format!("{c:?} is not one Annex A control"))),
        }
    }
    if controls.is_empty() {
        return Err(bad("\"controls\" must name at least one Annex A control"));
    }
    let subjects = match meta.get("subjects").and_then(|v| v.as_str()) {
        Some("accounts") | None => SubjectSort::Account,
        Some("people") => SubjectSort::Person,
        Some("holders") => SubjectSort::Holder,
        Some("revocations") => SubjectSort::Revocation,
        Some("ledger") => SubjectSort::Ledger,
        Some(other) => {
            return Err(bad(&format!(
                "\"subjects\" is {other:?}: expected \"accounts\", \"people\", \"holders\", \"revocations\" or \"ledger\""
            )))
        }
    };
    let description = meta.get("description").and_then(|v| v.as_str()).unwrap_or("A check written in Rego.").to_string();
    let def = register(CheckDef {
        id: leak(id),
        title: leak(title),
        controls: Box::leak(controls.into_iter().map(leak).collect::<Vec<_>>().into_boxed_slice()),
        default_severity: severity,
        description: leak(description),
    });
    Ok(Policy { def, file: s.file.clone(), package, subjects, engine })
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Registers a policy's check so that `checks::check(id)` finds it. A check loaded twice
/// with the same definition is registered once (a process loads a few policies, once: what
/// is leaked is bounded by the policy files).
fn register(def: CheckDef) -> &'static CheckDef {
    crate::checks::registry::register_custom(def)
}

/// Runs a policy over the graph and hands its findings to `f`, all of them once every batch
/// has been evaluated: a policy that fails in a later batch must not have stored the
/// findings of the earlier ones (its check reports an error, `error: …`, and nothing else).
/// What is held meanwhile is the findings of this one check.
pub fn run(ctx: &Context<'_>, policy: &Policy, parameters: &serde_json::Value, f: &mut FindingBuilder<'_>) {
    match cannot_judge(ctx, policy, parameters) {
        Err(e) => return f.not_evaluated(&format!("error: {e}")),
        Ok(Some(reason)) => return f.not_evaluated(&reason),
        Ok(None) => {}
    }
    let mut found = Vec::new();
    let outcome = run_batches(ctx, policy, parameters, &mut |subject, message, records, values, severity| {
        found.push((subject, message, records, values, severity));
    });
    match outcome {
        Err(e) => f.not_evaluated(&format!("error: {e}")),
        Ok(()) => {
            for (subject, message, records, values, severity) in found {
                match severity {
                    Some(s) => f.push_with_severity(s, subject, message, records, values),
                    None => f.push(subject, message, records, values),
                }
            }
        }
    }
}

/// Why the policy cannot judge, when its `not_evaluated` rule says so: a string, evaluated
/// once over the input without items (the as-of time, the parameters, the role model), as
/// a built-in check without its configuration reports "not evaluated" instead of passing.
fn cannot_judge(ctx: &Context<'_>, policy: &Policy, parameters: &serde_json::Value) -> Result<Option<String>, String> {
    let mut engine = policy.engine.clone();
    engine.set_input(regorus::Value::from(input::head(ctx, parameters)));
    // A query, not `eval_rule`: most policies declare no such rule, which is no error.
    let results = engine
        .eval_query(format!("{}.not_evaluated", policy.package), false)
        .map_err(|e| format!("{}: rule not_evaluated: {}", policy.file, first_lines(&e.to_string())))?;
    let value = results.result.into_iter().next().and_then(|r| r.expressions.into_iter().next()).map(|e| e.value);
    match value.unwrap_or(regorus::Value::Undefined) {
        regorus::Value::Undefined => Ok(None),
        regorus::Value::String(s) if !s.trim().is_empty() => Ok(Some(s.to_string())),
        other => Err(format!("{}: rule not_evaluated must be a string saying why, not {}", policy.file, short(&other))),
    }
}

type Sink<'s> = dyn FnMut(Subject, String, Vec<annexa_core::finding::SourceRecord>, serde_json::Value, Option<Severity>) + 's;

/// Evaluates the policy batch by batch; the first error stops it.
pub fn run_batches(ctx: &Context<'_>, policy: &Policy, parameters: &serde_json::Value, sink: &mut Sink<'_>) -> Result<(), String> {
    let rule = format!("{}.findings", policy.package);
    let mut failure = None;
    input::batches(ctx, policy.subjects, parameters, BATCH, &mut |batch| {
        let mut engine = policy.engine.clone();
        engine.set_input(regorus::Value::from(batch.input.clone()));
        let value = match engine.eval_rule(rule.clone()) {
            Ok(v) => v,
            Err(e) => {
                failure = Some(format!("{}: rule findings: {}", policy.file, first_lines(&e.to_string())));
                return false;
            }
        };
        if value == regorus::Value::Undefined {
            return true;
        }
        let json = match serde_json::to_value(&value) {
            Ok(serde_json::Value::Array(items)) => items,
            _ => {
                failure = Some(format!("{}: rule findings must be a set of objects, not {}", policy.file, short(&value)));
                return false;
            }
        };
        for item in json {
            match interpret(&item, batch) {
                Ok((subject, message, records, values, severity)) => sink(subject, message, records, values, severity),
                Err(e) => {
                    failure = Some(format!("{}: rule findings: {e}", policy.file));
                    return false;
                }
            }
        }
        true
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn short(v: &regorus::Value) -> String {
    let s = v.to_json_str().unwrap_or_default();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

type Interpreted = (Subject, String, Vec<annexa_core::finding::SourceRecord>, serde_json::Value, Option<Severity>);

fn interpret(item: &serde_json::Value, batch: &Batch) -> Result<Interpreted, String> {
    let shown = || {
        let s = item.to_string();
        if s.chars().count() > 80 {
            format!("{}…", s.chars().take(80).collect::<String>())
        } else {
            s
        }
    };
    let key =
        item.get("key").and_then(|k| k.as_str()).ok_or_else(|| format!("an element has no \"key\" naming its subject: {}", shown()))?;
    let message = item.get("message").and_then(|m| m.as_str()).ok_or_else(|| format!("an element has no \"message\": {}", shown()))?;
    // `SUBJECT#qualifier` names one of several findings about one subject (one per SoD rule).
    let base = batch.subject(key).or_else(|| key.rsplit_once('#').and_then(|(base, _)| batch.subject(base)));
    let subject = base.ok_or_else(|| format!("\"key\" {key:?} is not a subject of this batch: {}", shown()))?;
    let severity = match item.get("severity") {
        None => None,
        Some(s) => {
            Some(s.as_str().and_then(Severity::parse).ok_or_else(|| format!("\"severity\" must be one of {}", Severity::expected()))?)
        }
    };
    let values = item.get("values").cloned().unwrap_or_else(|| serde_json::json!({}));
    // The subject's own kind: a check of people may find about their accounts and badges.
    Ok((
        Subject { kind: subject.kind, key: key.to_string(), label: subject.label.clone() },
        message.to_string(),
        subject.records.clone(),
        values,
        severity,
    ))
}

/// Evaluates one ad-hoc query against the policies, with `input`.
pub fn eval(sources: &[PolicySource], query: &str, input: Option<serde_json::Value>) -> Result<serde_json::Value, String> {
    let refs: Vec<&PolicySource> = sources.iter().collect();
    let mut engine = engine_with(&refs, DEFAULT_TIMEOUT).map_err(|(f, m)| format!("{f}: {m}"))?;
    if let Some(i) = input {
        engine.set_input(regorus::Value::from(i));
    }
    let results = engine.eval_query(query.to_string(), false).map_err(|e| first_lines(&e.to_string()))?;
    serde_json::to_value(&results).map_err(|e| e.to_string())
}
