//! `annexa`: the command line. Thin: parses arguments, wires the library crates, prints.

mod cli;
mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        // A reader that stopped early (`annexa ... | head`) is not an error of ours.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
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

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        let pipe = std::io::ErrorKind::BrokenPipe;
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == pipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|e| e.io_error_kind() == Some(pipe))
            || c.downcast_ref::<csv::Error>().is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == pipe))
    })
}
