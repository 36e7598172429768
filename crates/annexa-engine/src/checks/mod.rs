//! The built-in control checks.

mod registry;

pub use registry::{check, checks_for_control, CheckDef, CHECKS};
