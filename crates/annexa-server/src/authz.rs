//! Authorization: every API request is decided by a Rego policy (`policy/authorization.rego`
//! is the one shipped; `annexa serve --authorization FILE` names an admin's own). The policy is
//! compiled once; each decision evaluates a clone of it, under a time limit, with the
//! principal, the request's method and declared route, and (when a handler has loaded it)
//! the resource the request touches. Undefined is a refusal, as is any failure: a policy
//! that cannot decide denies.

use sha2::{Digest, Sha256};
use std::num::NonZeroU32;
use std::time::Duration;

/// The policy shipped with Annexa.
pub const BUILTIN: &str = include_str!("../policy/authorization.rego");
/// Its file name, as errors and the ledger name it.
pub const BUILTIN_FILE: &str = "builtin:authorization.rego";

/// How long one decision may take.
const DECISION_TIME: Duration = Duration::from_millis(100);

/// A compiled authorization policy.
#[derive(Clone)]
pub struct Authorizer {
    engine: regorus::Engine,
    /// Where it came from, and the SHA-256 of its text (hex): what the ledger records.
    pub file: String,
    pub sha256: String,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").field("file", &self.file).field("sha256", &self.sha256).finish()
    }
}

impl Authorizer {
    /// The shipped policy.
    pub fn builtin() -> Result<Authorizer, String> {
        Authorizer::compile(BUILTIN_FILE, BUILTIN)
    }

    /// Compiles `text` (named `file` in errors); it must define `data.annexa.authz.allow`.
    pub fn compile(file: &str, text: &str) -> Result<Authorizer, String> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: DECISION_TIME,
            check_interval: NonZeroU32::MIN.saturating_add(99),
        });
        engine.add_policy(file.to_string(), text.to_string()).map_err(|e| format!("{file}: {e}"))?;
        let authorizer = Authorizer { engine, file: file.to_string(), sha256: annexa_core::to_hex(&Sha256::digest(text.as_bytes())) };
        // A policy without the rule would deny everything, silently: refuse it at start-up.
        let probe = serde_json::json!({
            "principal": { "name": "probe", "role": "admin", "employee_id": null, "systems": [] },
            "request": { "method": "GET", "route": "/api/v1/me" },
            "resource": null,
        });
        authorizer.decide(&probe).map_err(|e| format!("{file}: {e}"))?;
        Ok(authorizer)
    }

    /// Whether the policy allows `input`; an error when it cannot say.
    pub fn decide(&self, input: &serde_json::Value) -> Result<bool, String> {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input.clone()));
        match engine.eval_rule("data.annexa.authz.allow".to_string()) {
            Ok(regorus::Value::Bool(b)) => Ok(b),
            Ok(regorus::Value::Undefined) => Ok(false),
            Ok(other) => Err(format!("rule allow must be true or false, not {}", other.to_json_str().unwrap_or_default())),
            Err(e) => Err(format!("rule allow: {}", e.to_string().lines().take(6).collect::<Vec<_>>().join("\n"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(a: &Authorizer, role: &str, employee: Option<&str>, call: (&str, &str), resource: serde_json::Value) -> bool {
        let input = serde_json::json!({
            "principal": { "name": "t", "role": role, "employee_id": employee, "systems": ["erp"] },
            "request": { "method": call.0, "route": call.1 },
            "resource": resource,
        });
        a.decide(&input).expect("decides")
    }

    #[test]
    fn the_shipped_policy_decides_by_role_route_and_resource() {
        let a = Authorizer::builtin().expect("compiles");
        let null = serde_json::Value::Null;
        let items = ("GET", "/api/v1/campaigns/{id}/items");
        assert!(ask(&a, "auditor", None, ("GET", "/api/v1/findings"), null.clone()));
        assert!(!ask(&a, "auditor", None, ("POST", "/api/v1/items/{id}/decision"), null.clone()), "an auditor changes nothing");
        assert!(!ask(&a, "reviewer", Some("E1"), ("GET", "/api/v1/findings"), null.clone()));
        assert!(ask(&a, "reviewer", Some("E1"), items, serde_json::json!({ "reviewer": "E1" })));
        assert!(!ask(&a, "reviewer", Some("E1"), items, serde_json::json!({ "reviewer": "E2" })), "another reviewer's items");
        assert!(!ask(&a, "reviewer", None, items, serde_json::json!({ "reviewer": null })));
        assert!(ask(&a, "system-owner", Some("E1"), ("GET", "/api/v1/findings"), serde_json::json!({ "system": "erp" })));
        assert!(!ask(&a, "system-owner", Some("E1"), ("GET", "/api/v1/findings"), serde_json::json!({ "system": "crm" })));
        assert!(!ask(&a, "compliance-manager", None, ("GET", "/api/v1/tokens"), null.clone()));
        assert!(ask(&a, "admin", None, ("GET", "/api/v1/tokens"), null.clone()));
        assert!(!ask(&a, "nobody", None, ("GET", "/api/v1/findings"), null), "an unknown role may do nothing");
    }

    #[test]
    fn a_policy_that_cannot_decide_is_refused_at_start() {
        assert!(Authorizer::compile("p.rego", "package annexa.other\n\nallow := true\n").is_err(), "no data.annexa.authz.allow");
        assert!(Authorizer::compile("p.rego", "package annexa.authz\n\nallow := \"yes\"\n").is_err(), "not a boolean");
        let e = Authorizer::compile("p.rego", "package annexa.authz\n\nallow if {\n").expect_err("syntax");
        assert!(e.starts_with("p.rego"), "{e}");
    }
}
