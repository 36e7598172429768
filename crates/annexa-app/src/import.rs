//! Importing sources: a file parsed whole, then stored as its source's snapshot in one
//! transaction (nothing is half-written); a live directory or SCIM application read,
//! saved as a file (the evidence), and imported as one.

use crate::{App, Error, ErrorKind, Result};
use annexa_connect::{ImportKind, ImportOptions};
use annexa_core::model::JmlKind;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// What an import stored.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub import_id: i64,
    pub kind: &'static str,
    pub file: String,
    pub sha256: String,
    pub rows: u64,
    pub systems: Vec<String>,
    pub people: usize,
    pub accounts: usize,
    pub entitlements: usize,
    pub assignments: usize,
    pub badges: usize,
    pub joiners: usize,
    pub movers: usize,
    pub leavers: usize,
    /// One line for a person: what was imported from where, as which import.
    pub summary: String,
    #[serde(skip)]
    pub timings: ImportTimings,
}

/// Where an import's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportTimings {
    pub parse: Duration,
    pub lifecycle_diff: Duration,
    pub store: Duration,
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

/// A directory to read over LDAP.
pub type LdapSource = annexa_connect::ldap::LdapSource;

impl App {
    /// Parses `bytes` (the content of `file`) as `kind` and stores it as its source's new
    /// snapshot, then signs a checkpoint. A file without records is refused unless
    /// `allow_empty`: importing it would remove every record of its source. An HR feed is
    /// compared with the previous one, and the joiners, movers and leavers recorded.
    pub fn import_file(&self, kind: ImportKind, file: &str, bytes: &[u8], options: &ImportOptions, allow_empty: bool) -> Result<ImportOutcome> {
        let mut store = self.store()?;
        let outcome = self.import_into(&mut store, kind, file, bytes, options, allow_empty)?;
        self.checkpoint(&mut store)?;
        Ok(outcome)
    }

    /// [`App::import_file`] on an open connection, without the checkpoint: for a use case
    /// that imports several files and signs once.
    pub(crate) fn import_into(
        &self,
        store: &mut annexa_store::Store,
        kind: ImportKind,
        file: &str,
        bytes: &[u8],
        options: &ImportOptions,
        allow_empty: bool,
    ) -> Result<ImportOutcome> {
        self.progress.step(&format!("reading {file}"));
        let t0 = std::time::Instant::now();
        // Hashing a large export takes a while: do it on another core while parsing.
        let (sha256, batch) = std::thread::scope(|scope| {
            let hashing = scope.spawn(|| annexa_core::to_hex(&Sha256::digest(bytes)));
            let batch = annexa_connect::parse(kind, file, bytes, options);
            (hashing.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), batch)
        });
        let batch = batch?;
        let parse = t0.elapsed();
        let records = batch.people.len() + batch.accounts.len() + batch.entitlements.len() + batch.assignments.len() + batch.badges.len();
        if records == 0 && !allow_empty {
            let what = if kind == ImportKind::Hr { "every person of the HR feed".to_string() } else { format!("every {} record of its systems", kind.as_str()) };
            let message = format!("no records: importing this file would remove {what}; pass --allow-empty to do that on purpose");
            return Err(annexa_connect::ImportError::new(file, 0, None, message).into());
        }
        self.progress.step(&format!("storing {} records", thousands(batch.rows)));
        // A new HR snapshot is compared with the current one; the first one is the baseline.
        let now = self.now();
        let t_diff = std::time::Instant::now();
        let jml = if kind == ImportKind::Hr {
            let previous = store.current_people()?;
            if previous.is_empty() { Vec::new() } else { annexa_engine::jml::detect(&previous, &batch.people, now) }
        } else {
            Vec::new()
        };
        let lifecycle_diff = t_diff.elapsed();
        let record = store.import(&annexa_store::NewImport {
            actor: &self.actor,
            kind,
            file,
            sha256: &sha256,
            rows: batch.rows,
            at: now,
            systems: &batch.systems,
            people: &batch.people,
            accounts: &batch.accounts,
            entitlements: &batch.entitlements,
            assignments: &batch.assignments,
            badges: &batch.badges,
            jml_events: &jml,
        })?;
        self.progress.finish();
        let count = |k: JmlKind| jml.iter().filter(|e| e.kind == k).count();
        let mut outcome = ImportOutcome {
            import_id: record.id,
            kind: kind.as_str(),
            file: file.to_string(),
            sha256,
            rows: batch.rows,
            systems: batch.systems.clone(),
            people: batch.people.len(),
            accounts: batch.accounts.len(),
            entitlements: batch.entitlements.len(),
            assignments: batch.assignments.len(),
            badges: batch.badges.len(),
            joiners: count(JmlKind::Joiner),
            movers: count(JmlKind::Mover),
            leavers: count(JmlKind::Leaver),
            summary: String::new(),
            timings: ImportTimings { parse, lifecycle_diff, store: t0.elapsed().saturating_sub(parse + lifecycle_diff) },
        };
        outcome.summary = summary(&outcome, kind, !jml.is_empty());
        Ok(outcome)
    }

    /// Reads a live directory over LDAP (a paged search), saves it as LDIF to `file` (the
    /// evidence an auditor can open) and imports that file; `system` names the directory.
    pub fn import_ldap(&self, source: &LdapSource, file: &Path, system: Option<&str>, allow_empty: bool) -> Result<(u64, ImportOutcome)> {
        self.progress.step(&format!("reading {}", source.url));
        let (ldif, entries) = annexa_connect::ldap::read_as_ldif(source)
            .map_err(|e| Error::caused(ErrorKind::Internal, format!("cannot read the directory at {}", source.url), e))?;
        self.progress.finish();
        std::fs::write(file, &ldif).map_err(|e| Error::io(format!("cannot save the directory to {}", file.display()), e))?;
        let options = ImportOptions { system: system.map(String::from), ..Default::default() };
        let outcome = self.import_file(ImportKind::Ldif, &file.display().to_string(), ldif.as_bytes(), &options, allow_empty)?;
        Ok((entries, outcome))
    }

    /// Reads a SCIM 2.0 application's Users and Groups (`url`, bearer `token`), saves them
    /// as a SCIM snapshot to `file` (owner-only) and imports it for `system`.
    pub fn import_scim_url(&self, url: &str, token: &str, ca_file: Option<&Path>, file: &Path, system: &str, allow_empty: bool) -> Result<(usize, ImportOutcome)> {
        let options = annexa_connect::scim_client::ScimOptions { ca_file: ca_file.map(Path::to_path_buf), ..Default::default() };
        let client = annexa_connect::scim_client::ScimClient::new(url, token, options)
            .map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("cannot use the SCIM application at {url}"), e))?;
        self.progress.step(&format!("reading {url}"));
        let (text, n) = client.snapshot().map_err(|e| Error::caused(ErrorKind::Internal, format!("cannot read the SCIM application at {url}"), e))?;
        self.progress.finish();
        crate::pushed::write_private(file, &text)?;
        let options = ImportOptions { system: Some(system.to_string()), ..Default::default() };
        let outcome = self.import_file(ImportKind::Scim, &file.display().to_string(), text.as_bytes(), &options, allow_empty)?;
        Ok((n, outcome))
    }

    /// Every import whose records are current, oldest first.
    pub fn imports(&self) -> Result<Vec<annexa_core::model::ImportRecord>> {
        Ok(self.store()?.current_imports()?)
    }

    /// The sources whose latest automatic import failed.
    pub fn import_failures(&self) -> Result<Vec<annexa_store::failures::ImportFailure>> {
        Ok(self.store()?.import_failures()?)
    }
}

fn summary(o: &ImportOutcome, kind: ImportKind, diffed: bool) -> String {
    let mut parts = Vec::new();
    for (n, what) in [(o.people, "people"), (o.accounts, "accounts"), (o.entitlements, "entitlements"), (o.assignments, "assignments"), (o.badges, "badges")] {
        if n > 0 {
            parts.push(format!("{} {what}", thousands(n as u64)));
        }
    }
    if parts.is_empty() {
        parts.push("no records".into());
    }
    let systems = if o.systems.is_empty() { String::new() } else { format!(" for {}", o.systems.join(", ")) };
    let lifecycle = if diffed {
        format!(
            "; compared with the previous HR snapshot: {} joiners, {} movers, {} leavers (`annexa jml list`)",
            thousands(o.joiners as u64),
            thousands(o.movers as u64),
            thousands(o.leavers as u64)
        )
    } else {
        String::new()
    };
    format!(
        "imported {}{systems} from {} ({} {}, sha256 {}…) as import #{}{lifecycle}",
        parts.join(", "),
        o.file,
        thousands(o.rows),
        if kind == ImportKind::Ldif { "entries" } else { "rows" },
        &o.sha256[..12],
        o.import_id
    )
}
