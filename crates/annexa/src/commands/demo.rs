use crate::cli::{DemoArgs, GlobalArgs}; pub fn run(_g: &GlobalArgs, _a: DemoArgs) -> anyhow::Result<std::process::ExitCode> { anyhow::bail!("demo is not available yet") }
