//! Checks written in Rego: the policy directory read and compiled for an audit, the
//! policies' own tests (`annexa policy test`), one ad-hoc query (`annexa policy eval`), and
//! the built-in checks compared with their reference policies (`annexa policy compare`).

use crate::{App, Error, Result};
use annexa_engine::rego::{self, PolicyError, PolicySource};
use std::path::Path;
use std::time::Duration;

/// Reads every `.rego` file of `dir` (not its subdirectories), in name order.
pub fn read_policies(dir: &Path) -> Result<Vec<PolicySource>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::invalid(format!("cannot read the policy directory {}: {e}", dir.display())))?;
    let mut files: Vec<std::path::PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "rego") && p.is_file()).collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::invalid(format!("cannot read {}: {e}", path.display())))?;
            Ok(PolicySource { file: path.display().to_string(), text })
        })
        .collect()
}

impl App {
    fn policy_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.settings.config.policy.timeout_ms.max(1)))
    }

    /// The configured policy directory's checks, compiled, each with its parameters; and
    /// the policies that did not compile (each becomes its check's error in the audit).
    pub fn policies(&self) -> Result<(Vec<(rego::Policy, serde_json::Value)>, Vec<PolicyError>)> {
        let Some(dir) = &self.settings.config.policy.dir else { return Ok((Vec::new(), Vec::new())) };
        let sources = read_policies(Path::new(dir))?;
        let (compiled, errors) = rego::compile(&sources, self.policy_timeout());
        let with_parameters = compiled
            .into_iter()
            .map(|p| {
                let params = self.settings.config.policy.parameters.get(p.def.id).cloned().unwrap_or_default();
                let json = serde_json::to_value(params).unwrap_or_else(|_| serde_json::json!({}));
                (p, json)
            })
            .collect();
        Ok((with_parameters, errors))
    }

    /// Runs the `test_` rules of the policies in `dir` (the configured directory by default).
    pub fn policy_tests(&self, dir: Option<&Path>) -> Result<Vec<rego::test::TestResult>> {
        let dir = self.policy_dir(dir)?;
        let sources = read_policies(&dir)?;
        rego::test::run(&sources).map_err(Error::invalid)
    }

    /// Evaluates `query` against the policies in `dir`, with `input`.
    pub fn policy_eval(&self, dir: Option<&Path>, query: &str, input: Option<serde_json::Value>) -> Result<serde_json::Value> {
        let sources = match self.policy_dir(dir) {
            Ok(dir) => read_policies(&dir)?,
            Err(_) => Vec::new(),
        };
        rego::eval(&sources, query, input).map_err(Error::invalid)
    }

    fn policy_dir(&self, dir: Option<&Path>) -> Result<std::path::PathBuf> {
        match (dir, &self.settings.config.policy.dir) {
            (Some(d), _) => Ok(d.to_path_buf()),
            (None, Some(d)) => Ok(d.into()),
            (None, None) => Err(Error::invalid("no policy directory: give one, or set [policy] dir in annexa.toml")),
        }
    }

    /// Each built-in check with a reference policy (or those named), run both ways over the
    /// identity graph as of `as_of`, side by side.
    pub fn compare_policies(&self, checks: &[String], as_of: annexa_core::time::Instant) -> Result<Vec<rego::reference::Comparison>> {
        let mut store = self.store()?;
        let loaded = self.load_graph(&mut store)?;
        let graph = loaded.resolved();
        let mut ctx = annexa_engine::context::Context::new(&graph, &self.settings.config, as_of);
        // What an audit gives the checks of Annexa's own records.
        ctx.ledger = Some(self.ledger_status(&mut store)?);
        ctx.revocations = Some(self.pending_revocations(&mut store)?);
        let ids: Vec<&str> = if checks.is_empty() {
            rego::reference::REFERENCE.iter().map(|(id, _)| *id).collect()
        } else {
            let mut ids = Vec::new();
            for c in checks {
                if rego::reference::source(c).is_none() {
                    let have: Vec<&str> = rego::reference::REFERENCE.iter().map(|(id, _)| *id).collect();
                    return Err(Error::invalid(format!("{c:?} has no reference policy: one of {}", have.join(", "))));
                }
                ids.push(c.as_str());
            }
            ids
        };
        Ok(rego::reference::compare(&ctx, &self.settings.config, &ids))
    }
}
