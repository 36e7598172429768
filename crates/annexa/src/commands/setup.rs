//! What every command needs: the use cases of `annexa-app` set up for this invocation
//! (database, key, configuration, who acts, progress on the terminal).

use crate::cli::GlobalArgs;
use annexa_engine::config::Config;

/// The effective configuration: `--config`, else `./annexa.toml` when present, else defaults.
pub fn load_config(global: &GlobalArgs) -> anyhow::Result<(Config, Option<String>)> {
    Ok(annexa_app::config::load(global.config.as_deref())?)
}

/// Where this invocation keeps things: `--db`, `--ledger-key`, the files beside the database.
pub fn settings(global: &GlobalArgs) -> annexa_app::Settings {
    let mut settings = annexa_app::Settings::beside(&global.db);
    if let Some(key) = &global.ledger_key {
        settings.ledger_key = key.clone();
    }
    settings
}

/// The use cases, acting as the operating-system user, reporting progress with a spinner
/// on a terminal and notes on stderr. The configuration is the built-in one: commands
/// that read `annexa.toml` use [`app_with_config`].
pub fn app(global: &GlobalArgs) -> annexa_app::App {
    annexa_app::App::new(settings(global), &actor()).with_progress(std::sync::Arc::new(Terminal::default()))
}

/// [`app`] with the effective configuration (`--config`, `./annexa.toml` or defaults).
pub fn app_with_config(global: &GlobalArgs) -> anyhow::Result<annexa_app::App> {
    let mut app = app(global);
    app.settings.config = load_config(global)?.0;
    Ok(app)
}

/// Progress on stderr: a spinner when it is a terminal, and notes always.
#[derive(Default)]
pub struct Terminal {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl annexa_app::Progress for Terminal {
    fn step(&self, message: &str) {
        let Ok(mut bar) = self.bar.lock() else { return };
        match bar.as_ref() {
            Some(b) => b.set_message(message.to_string()),
            None => *bar = spinner(message),
        }
    }
    fn finish(&self) {
        if let Some(b) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            b.finish_and_clear();
        }
    }
    fn note(&self, message: &str) {
        self.finish();
        eprintln!("{message}");
    }
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

pub use annexa_app::import::thousands;

/// Who runs this command, for the ledger: the operating-system user.
pub fn actor() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .map(|u| format!("os:{u}"))
        .unwrap_or_else(|| "os:unknown".to_string())
}
