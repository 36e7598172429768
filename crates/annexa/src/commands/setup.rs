//! Opening what every command needs: the store, the configuration.

use crate::cli::GlobalArgs;
use annexa_engine::config::Config;
use anyhow::Context as _;

/// Opens the database named by `--db`.
pub fn open_store(global: &GlobalArgs) -> anyhow::Result<annexa_store::Store> {
    // The URL may carry a password: name only its scheme in the error.
    let scheme = global.db.split("://").next().unwrap_or("");
    annexa_store::Store::open(&global.db).with_context(|| format!("cannot open the {scheme} database given by --db / ANNEXA_DB"))
}

/// The effective configuration: `--config`, else `./annexa.toml` when present, else defaults.
pub fn load_config(global: &GlobalArgs) -> anyhow::Result<(Config, Option<String>)> {
    let path = match &global.config {
        Some(p) => Some(p.clone()),
        None => {
            let default = std::path::PathBuf::from("annexa.toml");
            default.exists().then_some(default)
        }
    };
    let Some(path) = path else { return Ok((Config::default(), None)) };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read configuration {}", path.display()))?;
    let mut config = Config::parse(&path.display().to_string(), &text)?;
    // A relative path in the configuration means next to the file, wherever annexa runs.
    let dir = path.parent().unwrap_or(std::path::Path::new(""));
    for c in &mut config.connectors {
        if let Some(file) = c.ca_file.as_mut().filter(|f| std::path::Path::new(f.as_str()).is_relative()) {
            *file = dir.join(&*file).display().to_string();
        }
    }
    Ok((config, Some(path.display().to_string())))
}

/// A spinner on stderr when it is a terminal; nothing otherwise.
pub fn spinner(message: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Who runs this command, for the ledger: the operating-system user.
pub fn actor() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .map(|u| format!("os:{u}"))
        .unwrap_or_else(|| "os:unknown".to_string())
}

/// A file kept beside the SQLite database (`annexa.db` + `suffix`), or `fallback` in the
/// working directory when the database is not a file (PostgreSQL, `:memory:`).
pub fn beside_db(global: &GlobalArgs, suffix: &str, fallback: &str) -> std::path::PathBuf {
    match global.db.strip_prefix("sqlite://") {
        Some(path) if path != ":memory:" && !path.is_empty() => std::path::PathBuf::from(format!("{path}{suffix}")),
        _ => std::path::PathBuf::from(fallback),
    }
}
