//! The Annexa engine: configuration, correlation of accounts to people, and the built-in
//! control checks that turn an identity graph into findings.
//!
//! Checks are pure functions of the graph, the configuration and an as-of instant: the
//! same inputs always give the same findings, which is what makes `annexa audit --as-of`
//! reproducible and what lets the same logic be compared with a Rego or SQL version.
//!
//! ```
//! use annexa_core::graph::IdentityGraph;
//! use annexa_engine::{audit, config::Config};
//! let graph = IdentityGraph::default();
//! let as_of = annexa_core::time::parse_instant("2026-01-31T00:00:00Z").unwrap();
//! let result = audit(&graph, &Config::default(), as_of, &[]).unwrap();
//! assert!(result.findings.is_empty());
//! ```

pub mod campaign;
pub mod checks;
pub mod config;
pub mod context;
pub mod correlate;
pub mod explain;
pub mod jml;
pub mod pattern;
pub mod posture;
pub mod provision;
pub mod rego;
pub mod risk;
pub mod soa;

pub use checks::{audit, audit_stream, audit_with_ledger, AuditResult, AuditSummary, OwnRecords, UnknownCheck};
pub use context::LedgerStatus;
