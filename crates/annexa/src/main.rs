//! `annexa`: the command line. Thin: parses arguments, wires the library crates, prints.

mod cli;
mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: an audit builds and drops millions of small
/// strings and JSON values (a first audit's findings), and glibc's malloc spent about a
/// third of that time in allocation and consolidation (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    quiet_on_closed_stdout();
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

/// `println!` panics when the reader of stdout went away (`annexa findings show ID | head`):
/// that is the reader's choice, not a failure, so the process ends quietly, with success,
/// as it does when a streamed listing meets the same closed pipe. Every other panic keeps
/// the default report.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(is_pipe)
}

/// Whether `e` is, or wraps (a JSON or CSV writer's error carried in an `io::Error`), a
/// closed pipe.
fn is_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let pipe = std::io::ErrorKind::BrokenPipe;
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io.kind() == pipe || io.get_ref().is_some_and(|inner| is_pipe(inner));
    }
    e.downcast_ref::<serde_json::Error>().is_some_and(|e| e.io_error_kind() == Some(pipe))
        || e.downcast_ref::<csv::Error>().is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == pipe))
}
