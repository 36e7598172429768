//! `annexa policy test`: the `test_` rules of the policies, as `opa test` runs them. A test
//! passes when its rule is true; it fails when it is false or undefined; an evaluation error
//! is an error.

use super::{engine_with, first_lines, PolicySource, DEFAULT_TIMEOUT};
use serde::Serialize;

/// One test's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub file: String,
    /// `data.package.test_name`.
    pub test: String,
    /// `pass`, `fail` or `error`.
    pub outcome: &'static str,
    pub message: Option<String>,
}

/// The `test_` rules of `text`, by name, in order (a rule is named at the start of a line).
fn test_rules(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.starts_with("test_") && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Runs every test of `sources` (all files load together, so tests see the policies).
pub fn run(sources: &[PolicySource]) -> Result<Vec<TestResult>, String> {
    let refs: Vec<&PolicySource> = sources.iter().collect();
    let engine = engine_with(&refs, DEFAULT_TIMEOUT).map_err(|(file, m)| format!("{file}: {m}"))?;
    let mut out = Vec::new();
    for s in sources {
        let one = engine_with(&[s], DEFAULT_TIMEOUT).map_err(|(file, m)| format!("{file}: {m}"))?;
        let package = one.get_packages().map_err(|e| e.to_string())?.into_iter().next().unwrap_or_default();
        for name in test_rules(&s.text) {
            let rule = format!("{package}.{name}");
            let mut e = engine.clone();
            let (outcome, message) = match e.eval_rule(rule.clone()) {
                Ok(regorus::Value::Bool(true)) => ("pass", None),
                Ok(regorus::Value::Undefined) => ("fail", Some("undefined".to_string())),
                Ok(v) => ("fail", Some(v.to_json_str().unwrap_or_default())),
                Err(err) => ("error", Some(first_lines(&err.to_string()))),
            };
            out.push(TestResult { file: s.file.clone(), test: rule, outcome, message });
        }
    }
    Ok(out)
}
