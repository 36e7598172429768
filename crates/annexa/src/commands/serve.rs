//! `annexa serve` and `annexa token …`.

use crate::cli::{GlobalArgs, ServeArgs, TokenCommand};
use crate::commands::setup::{actor, open_store};
use crate::output::Table;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn token(global: &GlobalArgs, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let mut store = open_store(global)?;
    match cmd {
        TokenCommand::Create { name, scope, system } => {
            if !annexa_server::auth::SCOPES.contains(&scope.as_str()) {
                anyhow::bail!("--scope {scope:?}: expected one of {}", annexa_server::auth::SCOPES.join(", "));
            }
            let system = system.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            if scope == "scim" && system.is_none() {
                anyhow::bail!("a scim token pushes for one system: give --system (e.g. --system okta)");
            }
            if name.trim().is_empty() {
                anyhow::bail!("the token needs a name");
            }
            let t = annexa_server::auth::new_token().map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
            store.create_token(&t.id, name.trim(), &scope, system.as_deref(), &t.secret_sha256, &actor(), chrono::Utc::now())?;
            crate::commands::ledger::checkpoint_after_change(&mut store, global)?;
            eprintln!("created token {name:?} (scope {scope}); it is shown once, here, and stored only as a hash:");
            println!("{}", t.token);
        }
        TokenCommand::List => {
            let mut table = Table::new(&["name", "id", "scope", "system", "created", "created_by", "last_used", "revoked"]);
            let when = |t: Option<i64>| t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.to_rfc3339()).unwrap_or_default();
            for t in store.tokens()? {
                table.push(vec![
                    t.name,
                    t.id,
                    t.scope,
                    t.system.unwrap_or_default(),
                    when(Some(t.created_at)),
                    t.created_by,
                    when(t.last_used_at),
                    when(t.revoked_at),
                ]);
            }
            table.print(global.format)?;
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_token(&name, &actor(), chrono::Utc::now())? {
                anyhow::bail!("no live token named {name:?}: `annexa token list` shows them");
            }
            crate::commands::ledger::checkpoint_after_change(&mut store, global)?;
            eprintln!("token {name:?} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the scheduler says goes to the server's log, each line marked as the server's.
struct ServerLog;

impl annexa_app::Progress for ServerLog {
    fn step(&self, _: &str) {}
    fn note(&self, message: &str) {
        eprintln!("annexa serve: {message}");
    }
}

/// The use cases as the scheduler runs them: acting as `scheduler`, logging its notes.
fn scheduler_app(global: &GlobalArgs) -> annexa_app::App {
    annexa_app::App::new(crate::commands::setup::settings(global), "scheduler").with_progress(std::sync::Arc::new(ServerLog))
}

/// The scheduler's jobs: each opens its own connection, as the CLI commands do.
fn jobs(global: &GlobalArgs, every: u64) -> Vec<annexa_server::Job> {
    if every == 0 {
        return Vec::new();
    }
    let every = Duration::from_secs(every);
    let g = global.clone();
    // The SCIM change number of the last import of pushed resources: a snapshot is only
    // built again when something was pushed since.
    let imported_at_seq = std::sync::Mutex::new(None::<i64>);
    let app = scheduler_app(global);
    let lifecycle = annexa_server::Job {
        name: "lifecycle",
        every,
        run: Box::new(move || {
            let mut store = open_store(&g).map_err(|e| format!("{e:#}"))?;
            let seq = app.pushed_changes().map_err(|e| annexa_app::error_chain(&e))?;
            let mut seen = imported_at_seq.lock().map_err(|_| "the scheduler's state is poisoned".to_string())?;
            if *seen != Some(seq) {
                // A system that fails is reported and recorded there; the rest goes on.
                app.import_pushed().map_err(|e| annexa_app::error_chain(&e))?;
                *seen = Some(seq);
            }
            drop(seen);
            // Only wake the planner and the worker when there is something for them, so the
            // log says what happened rather than that nothing did.
            let now = chrono::Utc::now();
            if !store.due_jml_events(now).map_err(|e| e.to_string())?.is_empty() {
                crate::commands::provision::run_due(&g).map_err(|e| format!("{e:#}"))?;
            }
            let waiting = store.tasks(Some("pending")).map_err(|e| e.to_string())?.iter().any(|t| t.next_attempt_at <= now)
                || !store.tasks(Some("running")).map_err(|e| e.to_string())?.is_empty();
            if waiting {
                crate::commands::provision::work(&g, 1000, 300).map_err(|e| format!("{e:#}"))?;
            }
            Ok(String::new())
        }),
    };
    let g = global.clone();
    let checkpoint = annexa_server::Job {
        name: "checkpoint",
        every,
        run: Box::new(move || {
            // SCIM pushes are ledger entries; sign what they added since the last checkpoint.
            let mut store = open_store(&g).map_err(|e| format!("{e:#}"))?;
            let size = store.ledger_size().map_err(|e| e.to_string())?;
            let signed = store.ledger_checkpoints().map_err(|e| e.to_string())?.last().map_or(0, |c| c.size);
            if size > signed {
                crate::commands::ledger::checkpoint_after_change(&mut store, &g).map_err(|e| format!("{e:#}"))?;
                return Ok(format!("signed a checkpoint of {size} entries"));
            }
            Ok(String::new())
        }),
    };
    vec![lifecycle, checkpoint]
}

pub fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // The signing key must exist before jobs sign with it; refusing a readable key belongs
    // at start-up, not in the first job.
    crate::commands::ledger::signer(global, true)?;
    let store = open_store(global)?;
    let scrubbed = scheduler_app(global).secure_snapshots()?;
    if scrubbed > 0 {
        eprintln!("annexa serve: removed the passwords earlier versions kept in {scrubbed} pushed snapshot files");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&args.listen))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let bound = listener.local_addr()?;
    let public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{bound}"));
    let mut config = annexa_server::ServerConfig::new(&public_url);
    config.http.max_connections = args.max_connections as usize;
    let state = annexa_server::AppState::new(store, config).map_err(|e| anyhow::anyhow!("cannot load the SCIM resources: {e}"))?;
    eprintln!("annexa serve: listening on http://{bound}; SCIM endpoint {public_url}/scim/v2");
    // Keep a handle here, so the state (and its database connection) is dropped outside the
    // runtime after it stops.
    let kept: Arc<annexa_server::AppState> = state.clone();
    runtime.block_on(annexa_server::serve(listener, state, jobs(global, args.jobs_every)))?;
    drop(runtime);
    drop(kept);
    eprintln!("annexa serve: stopped");
    Ok(ExitCode::SUCCESS)
}
