//! `annexa import KIND FILE`: the arguments turned into an import of `annexa-app`, and its
//! line printed.

use crate::cli::{GlobalArgs, ImportArgs, ImportSource};
use crate::commands::setup::app;
use annexa_connect::{ImportKind, ImportOptions};
use anyhow::Context as _;
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<ExitCode> {
    if args.lenient && (args.kind == ImportSource::Ldap || args.url.is_some() || args.pushed) {
        anyhow::bail!("--lenient applies to files: a directory or application read live is imported whole or not at all");
    }
    if args.kind == ImportSource::Ldap {
        return import_ldap(global, args);
    }
    if args.kind == ImportSource::Scim && (args.url.is_some() || args.pushed) {
        return import_scim_live(global, args);
    }
    let kind = args.kind.kind();
    let mut options =
        ImportOptions { system: args.system.clone(), lenient: args.lenient, quarantine: args.quarantine.clone(), ..Default::default() };
    if let Some(m) = &args.mapping {
        if kind != ImportKind::Hr {
            anyhow::bail!("--mapping applies to hr imports only");
        }
        let text = std::fs::read_to_string(m).with_context(|| format!("cannot read column mapping {}", m.display()))?;
        options.hr_mapping = annexa_connect::hr::Mapping::parse(&m.display().to_string(), &text).map_err(anyhow::Error::msg)?;
    }
    // Several files (or a directory) are read, concatenated and imported as one.
    let paths: Vec<std::path::PathBuf> = std::iter::once(args.file.clone()).chain(args.more_files.iter().cloned()).collect();
    let outcome = app(global).import_paths(kind, &paths, &options, args.allow_empty)?;
    report(&outcome);
    Ok(ExitCode::SUCCESS)
}

/// The import's line, and where its time went when `ANNEXA_TIMINGS` is set.
pub fn report(outcome: &annexa_app::import::ImportOutcome) {
    if std::env::var_os("ANNEXA_TIMINGS").is_some() {
        let t = &outcome.timings;
        eprintln!("timings: hash and parse {:?}, lifecycle diff {:?}, store {:?}", t.parse, t.lifecycle_diff, t.store);
    }
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("{}", outcome.summary);
}

/// `annexa import ldap FILE --url … --base …`: read the directory, save it as LDIF to FILE
/// (the evidence an auditor can open), and import that file.
fn import_ldap(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let url = args.url.clone().ok_or_else(|| anyhow::anyhow!("import ldap needs --url ldap://host:port"))?;
    let base_dn = args.base.clone().ok_or_else(|| anyhow::anyhow!("import ldap needs --base (the base DN)"))?;
    let bind = match (&args.bind_dn, &args.password_env) {
        (None, None) => None,
        (Some(dn), Some(var)) => {
            let password = std::env::var(var).map_err(|_| anyhow::anyhow!("--password-env {var}: that variable is not set"))?;
            Some((dn.clone(), password))
        }
        _ => anyhow::bail!("--bind-dn and --password-env go together"),
    };
    let tls = annexa_connect::ldap::LdapTls { starttls: args.starttls, ca_file: args.ca_file.clone() };
    let source = annexa_connect::ldap::LdapSource {
        url,
        base_dn,
        filter: args.filter.clone(),
        bind,
        page_size: args.page_size,
        timeout_secs: 30,
        tls,
    };
    let (entries, outcome) = app(global).import_ldap(&source, &args.file, args.system.as_deref(), args.allow_empty)?;
    eprintln!("read {entries} entries from {} under {}, saved as {}", source.url, source.base_dn, args.file.display());
    report(&outcome);
    Ok(ExitCode::SUCCESS)
}

/// `annexa import scim FILE --system S (--url URL --token-env VAR | --pushed)`: read the
/// Users and Groups, save them as a SCIM snapshot to FILE (the evidence), import that.
fn import_scim_live(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let Some(system) = args.system.clone() else {
        anyhow::bail!("import scim --url or --pushed needs --system (the system these accounts are in)")
    };
    let app = app(global);
    let (n, from, outcome) = match (&args.url, args.pushed) {
        (Some(_), true) => anyhow::bail!("--url and --pushed exclude each other"),
        (Some(url), false) => {
            let var = args
                .token_env
                .clone()
                .ok_or_else(|| anyhow::anyhow!("import scim --url needs --token-env (the variable holding the bearer token)"))?;
            let token = std::env::var(&var).map_err(|_| anyhow::anyhow!("--token-env {var}: that variable is not set"))?;
            let (n, outcome) = app.import_scim_url(url, &token, args.ca_file.as_deref(), &args.file, &system, args.allow_empty)?;
            (n, url.clone(), outcome)
        }
        (None, _) => {
            let (n, outcome) = app.import_pushed_system(&system, &args.file, args.allow_empty)?;
            (n, format!("the SCIM endpoint ({system})"), outcome)
        }
    };
    eprintln!("read {n} Users and Groups from {from}, saved as {}", args.file.display());
    report(&outcome);
    Ok(ExitCode::SUCCESS)
}
