//! The Annexa engine: configuration, correlation of accounts to people, and the built-in
//! control checks that turn an identity graph into findings.
//!
//! Checks are pure functions of the graph, the configuration and an as-of instant: the
//! same inputs always give the same findings, which is what makes `annexa audit --as-of`
//! reproducible and what lets the same logic be compared with a Rego or SQL version.

pub mod checks;
