//! `annexa serve` and `annexa token …`: the arguments turned into the server's settings
//! and the token use cases of `annexa-app`; the scheduler's jobs call the app as well.

use crate::cli::{GlobalArgs, ServeArgs, TokenCommand, UserCommand};
use crate::commands::setup::{app, load_config, settings};
use crate::output::Table;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn token(global: &GlobalArgs, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let app = app(global);
    match cmd {
        TokenCommand::Create { name, role, scope, system, employee, expires } => {
            let request = annexa_app::tokens::TokenRequest { scope, system, role, employee_id: employee, expires_days: expires };
            let token = app.create_token(&name, &request)?;
            let what = match role {
                Some(role) => format!("role {role}"),
                None => format!("scope {}", scope.map(|s| s.as_str()).unwrap_or("api")),
            };
            eprintln!("created token {:?} ({what}); it is shown once, here, and stored only as a hash:", name.trim());
            println!("{token}");
        }
        TokenCommand::List => {
            let mut table = Table::new(&[
                "name",
                "id",
                "scope",
                "role",
                "employee",
                "system",
                "created",
                "created_by",
                "expires",
                "last_used",
                "revoked",
            ]);
            let when = |t: Option<i64>| t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.to_rfc3339()).unwrap_or_default();
            for t in app.tokens()? {
                table.push(vec![
                    t.name,
                    t.id,
                    t.scope.to_string(),
                    t.role.map(|r| r.to_string()).unwrap_or_default(),
                    t.employee_id.unwrap_or_default(),
                    t.system.unwrap_or_default(),
                    when(Some(t.created_at)),
                    t.created_by,
                    when(t.expires_at),
                    when(t.last_used_at),
                    when(t.revoked_at),
                ]);
            }
            table.print(global.format)?;
        }
        TokenCommand::Revoke { name } => {
            app.revoke_token(&name)?;
            eprintln!("token {name:?} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn user(global: &GlobalArgs, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let app = app(global);
    match cmd {
        UserCommand::Add { username, role, employee, system, password_env, oidc } => {
            let request = annexa_app::users::UserRequest { username, role, employee_id: employee, system };
            let user = match password_env {
                Some(var) if !oidc => {
                    let password = std::env::var(&var)
                        .map_err(|_| annexa_app::Error::invalid(format!("--password-env {var}: that environment variable is not set")))?;
                    app.create_user(&request, &password)?
                }
                _ => app.create_federated_user(&request)?,
            };
            eprintln!("created user {:?} ({})", user.username, user.role);
        }
        UserCommand::List => {
            let mut table = Table::new(&["username", "role", "employee", "system", "created", "created_by", "disabled"]);
            let when = |t: Option<i64>| t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.to_rfc3339()).unwrap_or_default();
            for u in app.users()? {
                table.push(vec![
                    u.username,
                    u.role.to_string(),
                    u.employee_id.unwrap_or_default(),
                    u.system.unwrap_or_default(),
                    when(Some(u.created_at)),
                    u.created_by,
                    when(u.disabled_at),
                ]);
            }
            table.print(global.format)?;
        }
        UserCommand::Disable { username } => {
            app.disable_user(&username)?;
            eprintln!("user {username:?} disabled; their sessions ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the scheduler says goes to the server's log, each line marked as the server's.
struct ServerLog;

impl annexa_app::Progress for ServerLog {
    fn step(&self, _: &str) {}
    fn note(&self, message: &str) {
        tracing::info!("{message}");
    }
}

/// The use cases as the scheduler runs them: acting as `scheduler`, with the effective
/// configuration, logging its notes.
fn scheduler_app(global: &GlobalArgs) -> anyhow::Result<annexa_app::App> {
    let mut settings = settings(global);
    settings.config = load_config(global)?.0;
    Ok(annexa_app::App::new(settings, "scheduler").with_progress(Arc::new(ServerLog)))
}

/// How long a job's lease lasts unless renewed (see `annexa_server::jobs`).
const JOB_LEASE: Duration = Duration::from_secs(60);

/// The scheduler's jobs: each use case opens its own connection.
fn jobs(app: annexa_app::App, every: u64) -> Vec<annexa_server::Job> {
    if every == 0 {
        return Vec::new();
    }
    let every = Duration::from_secs(every);
    let why = |e: annexa_app::Error| annexa_app::error_chain(&e);
    // The SCIM change number of the last import of pushed resources: a snapshot is only
    // built again when something was pushed since.
    let imported_at_seq = std::sync::Mutex::new(None::<i64>);
    let lifecycle_app = app.clone();
    let lifecycle = annexa_server::Job {
        name: "lifecycle",
        every,
        lease: JOB_LEASE,
        run: Box::new(move || {
            let app = &lifecycle_app;
            let seq = app.pushed_changes().map_err(why)?;
            let mut seen = imported_at_seq.lock().map_err(|_| "the scheduler's state is poisoned".to_string())?;
            if *seen != Some(seq) {
                // A system that fails is reported and recorded there; the rest goes on.
                app.import_pushed().map_err(why)?;
                *seen = Some(seq);
            }
            drop(seen);
            // Only wake the planner and the worker when there is something for them, so the
            // log says what happened rather than that nothing did.
            let (events, tasks) = app.provisioning_due().map_err(why)?;
            let mut said = Vec::new();
            if events {
                let q = app.run_due().map_err(why)?;
                said.push(format!("{} due events planned: {} tasks queued", q.events, q.tasks));
            }
            if events || tasks {
                let w = app.work(1000, 300).map_err(why)?;
                if w.leased > 0 {
                    said.push(format!("{} tasks: {} done, {} failed or to retry", w.leased, w.done, w.failed));
                }
            }
            Ok(said.join("; "))
        }),
    };
    let campaigns_app = app.clone();
    let campaigns = annexa_server::Job {
        name: "campaigns",
        every,
        lease: JOB_LEASE,
        run: Box::new(move || {
            let done = campaigns_app.run_due_campaigns().map_err(why)?;
            let mut said: Vec<String> =
                done.opened.iter().map(|c| format!("opened campaign #{} \"{}\" ({} items)", c.id, c.name, c.items)).collect();
            said.extend(done.not_opened.iter().map(|w| format!("not opened: {w}")));
            said.extend(done.expired.iter().map(|c| format!("revalidation #{} unanswered: disabling queued", c.id)));
            said.extend(done.escalated.iter().map(|(id, n)| format!("campaign #{id} past due: {n} items escalated")));
            said.extend(done.reminded.iter().map(|w| format!("reminded {w}")));
            said.extend(done.not_sent.iter().map(|w| format!("not sent: {w}")));
            Ok(said.join("; "))
        }),
    };
    let checkpoint = annexa_server::Job {
        name: "checkpoint",
        every,
        lease: JOB_LEASE,
        run: Box::new(move || {
            // SCIM pushes are ledger entries; sign what they added since the last checkpoint.
            let mut store = app.store().map_err(why)?;
            let size = store.ledger_size().map_err(|e| e.to_string())?;
            let signed = store.ledger_checkpoints().map_err(|e| e.to_string())?.last().map_or(0, |c| c.size);
            if size > signed {
                app.checkpoint(&mut store).map_err(why)?;
                return Ok(format!("signed a checkpoint of {size} entries"));
            }
            Ok(String::new())
        }),
    };
    vec![lifecycle, campaigns, checkpoint]
}

/// The server's log on stderr: readable lines on a terminal, JSON lines otherwise (for a log
/// collector); `ANNEXA_LOG` (`error`, `warn`, `info`, `debug`) sets how much, `info` by default.
fn init_log() {
    use std::io::IsTerminal;
    let level = std::env::var("ANNEXA_LOG").ok().and_then(|l| l.parse::<tracing::Level>().ok()).unwrap_or(tracing::Level::INFO);
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_target(false);
    let _ = if std::io::stderr().is_terminal() { builder.try_init() } else { builder.json().flatten_event(true).try_init() };
}

pub fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.print_authorization {
        print!("{}", annexa_server::authz::BUILTIN);
        return Ok(ExitCode::SUCCESS);
    }
    init_log();
    let app = scheduler_app(global)?;
    // The signing key must exist before jobs sign with it; refusing a readable key belongs
    // at start-up, not in the first job.
    app.signer()?;
    let scrubbed = app.secure_snapshots()?;
    if scrubbed > 0 {
        tracing::info!("removed the passwords earlier versions kept in {scrubbed} pushed snapshot files");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&args.listen))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let bound = listener.local_addr()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let files = annexa_server::tls::TlsFiles { cert: cert.clone(), key: key.clone() };
            // Checked now, so that a wrong file is a clear refusal before anything listens.
            annexa_server::tls::acceptor(&files).map_err(annexa_app::Error::invalid)?;
            Some(files)
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = args.public_url.clone().unwrap_or_else(|| format!("{scheme}://{bound}"));
    let mut config = annexa_server::ServerConfig::new(&public_url);
    config.http.max_connections = args.max_connections as usize;
    config.http.trusted_proxies = args.trusted_proxy.clone();
    config.tls = tls;
    config.settings = Some(app.settings.clone());
    if let Some(issuer) = &args.oidc_issuer {
        let (Some(client_id), Some(var)) = (&args.oidc_client_id, &args.oidc_client_secret_env) else {
            return Err(annexa_app::Error::invalid("--oidc-issuer needs --oidc-client-id and --oidc-client-secret-env").into());
        };
        let client_secret = std::env::var(var)
            .map_err(|_| annexa_app::Error::invalid(format!("--oidc-client-secret-env {var}: that environment variable is not set")))?;
        config.oidc = Some(annexa_server::oidc::OidcConfig {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret,
            username_claim: args.oidc_username_claim.clone(),
            timeout: std::time::Duration::from_secs(10),
        });
    }
    if let Some(path) = &args.authorization {
        let text =
            std::fs::read_to_string(path).map_err(|e| annexa_app::Error::invalid(format!("--authorization {}: {e}", path.display())))?;
        config.authorization = Some((path.display().to_string(), text));
    }
    let state = annexa_server::AppState::open(&app.settings.db, config).map_err(annexa_app::Error::invalid)?;
    // Which policy decides is evidence too: each change of it is a ledger entry.
    if app.record_authorization_policy(&state.authorizer.file, &state.authorizer.sha256)? {
        tracing::info!(policy = %state.authorizer.file, sha256 = %state.authorizer.sha256, "recorded the authorization policy in the ledger");
    }
    // A fresh server has no admin: a one-time link creates one (there is no default password).
    if let Some(token) = app.setup_link()? {
        eprintln!(
            "annexa serve: no admin yet; create one within {} hours at {public_url}/setup?token={token} (the link works once)",
            annexa_app::users::SETUP_LINK_HOURS
        );
    }
    tracing::info!(listen = %bound, scim = %format!("{public_url}/scim/v2"), "listening");
    // Also as a plain line, which scripts read the address from.
    eprintln!("annexa serve: listening on {scheme}://{bound}; REST API {public_url}/api/v1 (OpenAPI {public_url}/api/openapi.json); SCIM endpoint {public_url}/scim/v2");
    // Keep a handle here, so the state (and its database connection) is dropped outside the
    // runtime after it stops.
    let kept: Arc<annexa_server::AppState> = state.clone();
    runtime.block_on(annexa_server::serve(listener, state, jobs(app, args.jobs_every)))?;
    drop(runtime);
    drop(kept);
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
