//! Importing sources: a file parsed whole, then stored as its source's snapshot in one
//! transaction (nothing is half-written); a live directory or SCIM application read,
//! saved as a file (the evidence), and imported as one.

use crate::{App, Error, ErrorKind, Result};
use annexa_connect::{ImportKind, ImportOptions};
use annexa_core::model::{JmlKind, Quarantine};
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
    /// The rows a lenient import refused and where they are listed (`None`: none refused).
    pub quarantine: Option<Quarantine>,
    /// What was imported all the same but deserves a look (`file:line: …`).
    pub warnings: Vec<String>,
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
        if i > 0 && (s.len() - i).is_multiple_of(3) {
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
    pub fn import_file(
        &self,
        kind: ImportKind,
        file: &str,
        bytes: &[u8],
        options: &ImportOptions,
        allow_empty: bool,
    ) -> Result<ImportOutcome> {
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
        if matches!(kind, ImportKind::Accounts | ImportKind::Assignments) {
            return self.import_streamed(store, kind, file, bytes, options, allow_empty);
        }
        self.progress.step(&format!("reading {file}"));
        let t0 = std::time::Instant::now();
        // Hashing a large export takes a while: do it on another core while parsing.
        let (sha256, batch) = std::thread::scope(|scope| {
            let hashing = scope.spawn(|| annexa_core::to_hex(&Sha256::digest(bytes)));
            let batch = annexa_connect::parse(kind, file, bytes, options);
            (hashing.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), batch)
        });
        let mut batch = batch?;
        let mut warnings: Vec<String> = batch.warnings.iter().map(ToString::to_string).collect();
        let parse = t0.elapsed();
        let records = batch.people.len() + batch.accounts.len() + batch.entitlements.len() + batch.assignments.len() + batch.badges.len();
        if records == 0 && !allow_empty {
            return Err(no_records(kind, file));
        }
        self.progress.step(&format!("storing {} records", thousands(batch.rows)));
        // A new HR snapshot is compared with the current one; the first one is the baseline.
        let now = self.now();
        let t_diff = std::time::Instant::now();
        let jml = if kind == ImportKind::Hr {
            let previous = store.current_people()?;
            keep_refused_people(&mut batch, &previous, file, &mut warnings);
            if previous.is_empty() {
                Vec::new()
            } else {
                annexa_engine::jml::detect(&previous, &batch.people, now)
            }
        } else {
            Vec::new()
        };
        let lifecycle_diff = t_diff.elapsed();
        let quarantine = match batch.refused.is_empty() {
            true => None,
            false => Some(self.write_quarantine(kind, file, &batch.refused, options)?),
        };
        let stored = store.import(&annexa_store::NewImport {
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
            quarantine: quarantine.as_ref(),
        });
        let record = forget_report_unless_stored(stored, &quarantine)?;
        self.progress.finish();
        let records = [batch.people.len(), batch.accounts.len(), batch.entitlements.len(), batch.assignments.len(), batch.badges.len()];
        let timings = ImportTimings { parse, lifecycle_diff, store: t0.elapsed().saturating_sub(parse + lifecycle_diff) };
        Ok(outcome(kind, record, records, &jml, warnings, timings))
    }

    /// [`App::import_into`] for an accounts or assignments file, the largest kinds
    /// (millions of rows): stored while it is read, the parser on one thread handing chunks
    /// to the store on this one, the file hashed on a third; one transaction all the same,
    /// rolled back when the file turns out bad.
    fn import_streamed(
        &self,
        store: &mut annexa_store::Store,
        kind: ImportKind,
        file: &str,
        bytes: &[u8],
        options: &ImportOptions,
        allow_empty: bool,
    ) -> Result<ImportOutcome> {
        /// Records handed from the parser to the store at a time.
        const CHUNK: usize = 16_384;
        use annexa_store::StreamedRecords;
        self.progress.step(&format!("reading and storing {file}"));
        let t0 = std::time::Instant::now();
        let now = self.now();
        // What the parser found once it finished: the file refused, or the rest of it.
        let mut refused: Option<Error> = None;
        // Its warnings, and how many entitlements and records it held.
        let mut parsed: Option<(Vec<String>, usize, usize)> = None;
        let mut quarantine: Option<Quarantine> = None;
        let mut parse = Duration::ZERO;
        let stored = std::thread::scope(|scope| {
            let (send, receive) = std::sync::mpsc::sync_channel::<StreamedRecords>(4);
            let mut hashing = Some(scope.spawn(|| annexa_core::to_hex(&Sha256::digest(bytes))));
            let mut parsing = Some(scope.spawn(move || {
                let batch = if kind == ImportKind::Accounts {
                    let emit = &mut |chunk| send.send(StreamedRecords::Accounts(chunk)).is_ok();
                    annexa_connect::accounts::parse_streamed(file, bytes, options, CHUNK, emit)
                } else {
                    let emit = &mut |chunk| send.send(StreamedRecords::Assignments(chunk)).is_ok();
                    annexa_connect::assignments::parse_streamed(file, bytes, options, CHUNK, emit)
                };
                (batch, t0.elapsed())
            }));
            let mut chunks = receive.into_iter();
            let stored = store.import_streamed(kind, &self.actor, now, &mut chunks, &mut |records| {
                let (batch, took) = parsing.take()?.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                let sha256 = hashing.take()?.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                parse = took;
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(e) => {
                        refused = Some(e.into());
                        return None;
                    }
                };
                if records + batch.entitlements.len() == 0 && !allow_empty {
                    refused = Some(no_records(kind, file));
                    return None;
                }
                if !batch.refused.is_empty() {
                    match self.write_quarantine(kind, file, &batch.refused, options) {
                        Ok(q) => quarantine = Some(q),
                        Err(e) => {
                            refused = Some(e);
                            return None;
                        }
                    }
                }
                parsed = Some((batch.warnings.iter().map(ToString::to_string).collect(), batch.entitlements.len(), records));
                Some(annexa_store::RestOfImport {
                    file: file.to_string(),
                    sha256,
                    rows: batch.rows,
                    systems: batch.systems,
                    entitlements: batch.entitlements,
                    quarantine: quarantine.clone(),
                })
            });
            // A store that stopped early stops the parser: its next chunk finds no receiver.
            drop(chunks);
            stored
        });
        if let Some(e) = refused {
            return Err(e);
        }
        let Some(record) = forget_report_unless_stored(stored, &quarantine)? else {
            return Err(Error::internal("the streamed import was abandoned without a reason"));
        };
        let Some((warnings, entitlements, records)) = parsed else {
            return Err(Error::internal("the streamed import was stored without its parsed rest"));
        };
        self.progress.finish();
        let records = match kind {
            ImportKind::Accounts => [0, records, entitlements, 0, 0],
            _ => [0, 0, entitlements, records, 0],
        };
        let timings = ImportTimings { parse, lifecycle_diff: Duration::ZERO, store: t0.elapsed().saturating_sub(parse) };
        Ok(outcome(kind, record, records, &[], warnings, timings))
    }

    /// Writes the report of the rows a lenient import refused: to `options.quarantine`, or
    /// beside the database (`annexa.db.quarantine/`; for PostgreSQL `annexa.quarantine/` in
    /// the working directory), named after the time and the kind.
    fn write_quarantine(
        &self,
        kind: ImportKind,
        file: &str,
        refused: &[annexa_connect::RefusedRow],
        options: &ImportOptions,
    ) -> Result<Quarantine> {
        let bytes = quarantine_csv(file, refused)?;
        let path = match &options.quarantine {
            Some(path) => path.clone(),
            None => {
                let dir = crate::beside_db(&self.settings.db, ".quarantine", "annexa.quarantine");
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
                let stem = format!("{}-{}", self.now().format("%Y%m%dT%H%M%SZ"), kind.as_str());
                let mut path = dir.join(format!("{stem}.csv"));
                let mut n = 1;
                while path.exists() {
                    n += 1;
                    path = dir.join(format!("{stem}-{n}.csv"));
                }
                path
            }
        };
        std::fs::write(&path, &bytes).map_err(|e| Error::io(format!("cannot write the quarantine report {}", path.display()), e))?;
        Ok(Quarantine {
            refused: refused.len() as u64,
            file: path.display().to_string(),
            sha256: annexa_core::to_hex(&Sha256::digest(&bytes)),
        })
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
    pub fn import_scim_url(
        &self,
        url: &str,
        token: &str,
        ca_file: Option<&Path>,
        file: &Path,
        system: &str,
        allow_empty: bool,
    ) -> Result<(usize, ImportOutcome)> {
        let options = annexa_connect::scim_client::ScimOptions { ca_file: ca_file.map(Path::to_path_buf), ..Default::default() };
        let client = annexa_connect::scim_client::ScimClient::new(url, token, options)
            .map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("cannot use the SCIM application at {url}"), e))?;
        self.progress.step(&format!("reading {url}"));
        let (text, n) =
            client.snapshot().map_err(|e| Error::caused(ErrorKind::Internal, format!("cannot read the SCIM application at {url}"), e))?;
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

/// The quarantine report: `file,line,column,value,reason`, one line per refused row, every
/// cell safe to open in a spreadsheet (a refused value may well be a formula).
pub fn quarantine_csv(file: &str, refused: &[annexa_connect::RefusedRow]) -> Result<Vec<u8>> {
    let failed = |e: csv::Error| Error::caused(ErrorKind::Internal, "cannot write the quarantine report", e);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["file", "line", "column", "value", "reason"]).map_err(failed)?;
    for r in refused {
        let line = r.line.to_string();
        let cells = [file, line.as_str(), r.column.as_deref().unwrap_or_default(), r.value.as_str(), r.reason.as_str()];
        out.write_record(cells.map(|c| annexa_core::text::spreadsheet_safe(c).into_owned())).map_err(failed)?;
    }
    out.into_inner().map_err(|e| Error::internal(format!("cannot write the quarantine report: {e}")))
}

/// A lenient HR import keeps the previous record of a person whose row it refused: their
/// absence would read as a leaver (and the fixed row, next time, as a joiner), and a
/// leaver's accounts are disabled. The record points at the refused row's line.
fn keep_refused_people(
    batch: &mut annexa_connect::ImportBatch,
    previous: &[annexa_core::model::Person],
    file: &str,
    warnings: &mut Vec<String>,
) {
    let present: std::collections::HashSet<String> = batch.people.iter().map(|p| p.employee_id.to_string()).collect();
    let mut kept = Vec::new();
    for r in &batch.refused {
        let Some(key) = r.key.as_deref() else { continue };
        if present.contains(key) || kept.iter().any(|p: &annexa_core::model::Person| &*p.employee_id == key) {
            continue;
        }
        if let Some(before) = previous.iter().find(|p| &*p.employee_id == key) {
            let mut person = before.clone();
            person.origin = annexa_core::model::Origin { import_id: 0, line: u32::try_from(r.line).unwrap_or(u32::MAX) };
            warnings.push(format!("{file}:{}: the row of {key} is refused; their previous record is kept", r.line));
            kept.push(person);
        }
    }
    batch.people.extend(kept);
}

/// What an import stored (`records`: people, accounts, entitlements, assignments, badges),
/// with the events it brought and its one-line summary.
fn outcome(
    kind: ImportKind,
    record: annexa_core::model::ImportRecord,
    records: [usize; 5],
    jml: &[annexa_core::model::JmlEvent],
    warnings: Vec<String>,
    timings: ImportTimings,
) -> ImportOutcome {
    let count = |k: JmlKind| jml.iter().filter(|e| e.kind == k).count();
    let [people, accounts, entitlements, assignments, badges] = records;
    let mut outcome = ImportOutcome {
        import_id: record.id,
        kind: kind.as_str(),
        file: record.file,
        sha256: record.sha256,
        rows: record.rows,
        systems: record.systems,
        people,
        accounts,
        entitlements,
        assignments,
        badges,
        joiners: count(JmlKind::Joiner),
        movers: count(JmlKind::Mover),
        leavers: count(JmlKind::Leaver),
        quarantine: record.quarantine,
        warnings,
        summary: String::new(),
        timings,
    };
    outcome.summary = summary(&outcome, kind, !jml.is_empty());
    outcome
}

/// What was stored; when storing failed, the quarantine report written for it is removed:
/// the report of an import that did not happen would only mislead.
fn forget_report_unless_stored<T>(stored: std::result::Result<T, annexa_store::StoreError>, report: &Option<Quarantine>) -> Result<T> {
    stored.map_err(|e| {
        if let Some(q) = report {
            let _ = std::fs::remove_file(&q.file);
        }
        e.into()
    })
}

/// The refusal of a file without records: importing it would retire every record of its
/// source, which `--allow-empty` does on purpose.
fn no_records(kind: ImportKind, file: &str) -> Error {
    let what = if kind == ImportKind::Hr {
        "every person of the HR feed".to_string()
    } else {
        format!("every {} record of its systems", kind.as_str())
    };
    let message = format!("no records: importing this file would remove {what}; pass --allow-empty to do that on purpose");
    annexa_connect::ImportError::new(file, 0, None, message).into()
}

fn summary(o: &ImportOutcome, kind: ImportKind, diffed: bool) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (o.people, "people"),
        (o.accounts, "accounts"),
        (o.entitlements, "entitlements"),
        (o.assignments, "assignments"),
        (o.badges, "badges"),
    ] {
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
    let refused = match &o.quarantine {
        Some(q) => format!(
            "; refused {} {} (quarantine report {}, sha256 {}…)",
            thousands(q.refused),
            if kind == ImportKind::Ldif { "entries" } else { "rows" },
            q.file,
            &q.sha256[..12]
        ),
        None => String::new(),
    };
    format!(
        "imported {}{systems} from {} ({} {}, sha256 {}…) as import #{}{lifecycle}{refused}",
        parts.join(", "),
        o.file,
        thousands(o.rows),
        if kind == ImportKind::Ldif { "entries" } else { "rows" },
        &o.sha256[..12],
        o.import_id
    )
}
