//! `annexa`: the command line. Thin: parses arguments, wires the library crates, prints.

mod cli;
mod commands;
mod demo;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // One clear message, never a backtrace: the chain says what, where, and why.
            eprintln!("error: {err}");
            let mut said = err.to_string();
            for cause in err.chain().skip(1) {
                let text = cause.to_string();
                // Library errors often repeat their source in their own message.
                if !said.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                said.push_str(&text);
            }
            ExitCode::from(2)
        }
    }
}
