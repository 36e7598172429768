//! What identity providers pushed to `annexa serve`, imported as SCIM snapshots: by the
//! scheduler, for each system whose resources changed, and by `import scim --pushed`.
//!
//! One system's trouble is that system's alone: a snapshot that fails to import is recorded
//! (`annexa imports --failed`, the server's log, a warning at every audit) and not tried
//! again until its resources change, while every other system is imported and the
//! lifecycle jobs go on. Snapshots are written beside the database, one folder per system,
//! readable by the owner only, only when the resources changed, and the oldest are pruned.

use crate::{App, Error, Result};
use annexa_connect::{ImportKind, ImportOptions};
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Snapshots kept per system besides the one of its current import: enough to compare the
/// last few pushes, few enough that a busy identity provider does not fill the disk.
pub const KEEP: usize = 5;

/// What one run of the scheduler's import did: a line per system imported or failed.
#[derive(Debug, Default)]
pub struct PushedImports {
    pub imported: Vec<String>,
    pub failed: Vec<String>,
}

/// The Users and Groups pushed to this Annexa's SCIM endpoint for `system`, as a SCIM
/// snapshot, and how many resources it holds.
pub fn pushed_snapshot(store: &mut annexa_store::Store, system: &str) -> Result<(String, usize)> {
    let rows = store.scim_resources(system)?;
    let mut text = String::new();
    for r in &rows {
        text.push_str(&r.body);
        text.push('\n');
    }
    Ok((text, rows.len()))
}

/// A system's folder: its name where that is a safe file name, else a safe form of it
/// told apart by a hash of the name (`a b` and `a_b` are two systems).
fn folder(root: &Path, system: &str) -> PathBuf {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let name = if !system.is_empty() && system.chars().all(safe) {
        system.to_string()
    } else {
        let plain: String = system.chars().map(|c| if safe(c) { c } else { '_' }).collect();
        format!("{plain}-{}", &annexa_core::to_hex(&Sha256::digest(system.as_bytes()))[..8])
    };
    root.join(name)
}

/// Writes `text` to a new file that only the owner may read (the folders too).
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let cannot = |e| Error::io(format!("cannot write {}", path.display()), e);
    let mut file = options.open(path).map_err(cannot)?;
    // An existing file keeps its mode on open: set it.
    restrict(path)?;
    file.write_all(text.as_bytes()).map_err(cannot)?;
    Ok(())
}

/// Makes a file (0600) or folder (0700) the owner's alone.
fn restrict(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| Error::io(format!("cannot restrict {}", path.display()), e))?;
    }
    Ok(())
}

fn private_folder(path: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    restrict(path)
}

/// Writes a system's new snapshot to its folder, named by the time.
fn write_snapshot(root: &Path, system: &str, text: &str, now: annexa_core::time::Instant) -> Result<PathBuf> {
    let dir = folder(root, system);
    private_folder(root)?;
    private_folder(&dir)?;
    let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let mut path = dir.join(format!("{stamp}.jsonl"));
    for n in 1.. {
        if !path.exists() {
            break;
        }
        path = dir.join(format!("{stamp}-{n}.jsonl"));
    }
    write_private(&path, text)?;
    Ok(path)
}

/// Removes a system's snapshots but the newest [`KEEP`] and `current` (its import's file).
fn prune(root: &Path, system: &str, current: Option<&str>) -> Result<usize> {
    let dir = folder(root, system);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(0) };
    let mut files: Vec<PathBuf> = entries.filter_map(std::result::Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "jsonl")).collect();
    // Names are times: the newest sort last.
    files.sort();
    let old = files.len().saturating_sub(KEEP);
    let mut removed = 0;
    for path in &files[..old] {
        if current.is_some_and(|c| Path::new(c) == path.as_path()) {
            continue;
        }
        std::fs::remove_file(path).map_err(|e| Error::io(format!("cannot prune {}", path.display()), e))?;
        removed += 1;
    }
    Ok(removed)
}

impl App {
    /// The scheduler's import of pushed resources: each system pushed to whose resources
    /// differ from its last import and from its last failed attempt is written as a
    /// snapshot and imported. A system that fails is recorded and reported, and the others
    /// go on; an error is returned only when the database itself fails. An empty push is
    /// not imported (it would remove every account): [`App::import_pushed_system`] with
    /// `allow_empty` does that.
    pub fn import_pushed(&self) -> Result<PushedImports> {
        let root = self.settings.pushed_dir.clone();
        let mut store = self.store()?;
        let imports = store.current_imports()?;
        let failures = store.import_failures()?;
        let mut report = PushedImports::default();
        for system in store.scim_systems()? {
            let (text, n) = pushed_snapshot(&mut store, &system)?;
            let sha = annexa_core::to_hex(&Sha256::digest(text.as_bytes()));
            let last = imports.iter().find(|i| i.kind == "scim" && i.systems.contains(&system));
            let failed_before = failures.iter().any(|f| f.kind == "scim" && f.system == system && f.sha256 == sha);
            if n == 0 || last.is_some_and(|i| i.sha256 == sha) || failed_before {
                continue;
            }
            let (file, result) = match write_snapshot(&root, &system, &text, self.now()) {
                Ok(path) => {
                    let file = path.display().to_string();
                    let options = ImportOptions { system: Some(system.clone()), ..Default::default() };
                    let result = self.import_into(&mut store, ImportKind::Scim, &file, text.as_bytes(), &options, false);
                    (file, result)
                }
                Err(e) => (String::new(), Err(e)),
            };
            match result {
                Ok(outcome) => {
                    self.progress.note(&outcome.summary);
                    report.imported.push(outcome.summary);
                    prune(&root, &system, None)?;
                }
                Err(e) => {
                    let cause = crate::error::chain(&e);
                    store.record_import_failure("scim", &system, &sha, &file, &cause, self.now())?;
                    let line = format!("the resources pushed for {system} could not be imported; the other systems go on (`annexa imports --failed`): {cause}");
                    self.progress.note(&line);
                    report.failed.push(line);
                    prune(&root, &system, last.map(|i| i.file.as_str()))?;
                }
            }
        }
        if !report.imported.is_empty() {
            self.checkpoint(&mut store)?;
        }
        Ok(report)
    }

    /// What was pushed for `system`, saved as a SCIM snapshot to `file` (owner-only) and
    /// imported at once; how many resources it held.
    pub fn import_pushed_system(&self, system: &str, file: &Path, allow_empty: bool) -> Result<(usize, crate::import::ImportOutcome)> {
        let mut store = self.store()?;
        let (text, n) = pushed_snapshot(&mut store, system)?;
        write_private(file, &text)?;
        let options = ImportOptions { system: Some(system.to_string()), ..Default::default() };
        let outcome = self.import_into(&mut store, ImportKind::Scim, &file.display().to_string(), text.as_bytes(), &options, allow_empty)?;
        self.checkpoint(&mut store)?;
        Ok((n, outcome))
    }

    /// The highest change number of what was pushed: the scheduler imports again only
    /// when it moved.
    pub fn pushed_changes(&self) -> Result<i64> {
        Ok(self.store()?.scim_last_seq()?)
    }

    /// Makes the snapshots already written the owner's alone, and removes the passwords
    /// that earlier versions kept in them (an identity provider's `password` attribute).
    /// Run when `annexa serve` starts; returns how many files held passwords. Such a file
    /// no longer hashes to the SHA-256 its import recorded: the password is gone for good,
    /// and the ledger keeps that the file was imported as it was.
    pub fn secure_snapshots(&self) -> Result<usize> {
        secure_snapshots(&self.settings.pushed_dir)
    }
}

fn secure_snapshots(root: &Path) -> Result<usize> {
    let root = root.to_path_buf();
    if !root.is_dir() {
        return Ok(0);
    }
    let mut files = Vec::new();
    let mut folders = vec![root];
    while let Some(dir) = folders.pop() {
        restrict(&dir)?;
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?.filter_map(std::result::Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|x| x == "jsonl") {
                files.push(path);
            }
        }
    }
    let mut scrubbed = 0;
    for path in files {
        restrict(&path)?;
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if !text.to_ascii_lowercase().contains("\"password\"") {
            continue;
        }
        let mut changed = false;
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(mut o)) if o.keys().any(|k| k.eq_ignore_ascii_case("password")) => {
                    o.retain(|k, _| !k.eq_ignore_ascii_case("password"));
                    out.push_str(&serde_json::Value::Object(o).to_string());
                    changed = true;
                }
                _ => out.push_str(line),
            }
            out.push('\n');
        }
        if changed {
            let temp = path.with_extension("jsonl.tmp");
            write_private(&temp, &out)?;
            std::fs::rename(&temp, &path).map_err(|e| Error::io(format!("cannot replace {}", path.display()), e))?;
            scrubbed += 1;
        }
    }
    Ok(scrubbed)
}
