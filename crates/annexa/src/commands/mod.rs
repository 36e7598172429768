//! One module per subcommand; `run` dispatches.

mod controls;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Controls(cmd) => controls::run(&cli.global, cmd),
        _ => anyhow::bail!("this command is not available yet"),
    }
}
