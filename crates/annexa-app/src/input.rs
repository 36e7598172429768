//! An import's input read from disk: one file, or, for the kinds whose exports come as
//! several files (the pages and per-group lists of an identity provider's API: see
//! [`annexa_connect::takes_parts`]), several files and/or a directory.
//!
//! The files are concatenated in the order given (a directory's files, recursively, in the
//! order of their paths relative to it) and imported as one: the import's file is their
//! names joined with ` + ` (or the directory), its SHA-256 that of the concatenation, so
//! `cat f1 f2 | sha256sum` verifies it, and evidence line numbers count lines through the
//! concatenation. The importer learns each file's name and offset, to name it in messages
//! and, where the content cannot tell, to know what it holds.

use crate::import::ImportOutcome;
use crate::{App, Error, Result};
use annexa_connect::{ImportKind, ImportOptions};
use std::path::{Path, PathBuf};

/// The bytes of an import, and the files they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInput {
    /// What the import records as its file.
    pub name: String,
    pub bytes: Vec<u8>,
    /// Each file's name and the offset of its first byte in `bytes`.
    pub parts: Vec<(String, usize)>,
}

/// Reads `paths` for an import of `kind`: one file, or for kinds that take parts, several
/// files and directories (hidden files, whose names start with `.`, are skipped).
pub fn read(kind: ImportKind, paths: &[PathBuf]) -> Result<ImportInput> {
    let several = paths.len() > 1 || paths.iter().any(|p| p.is_dir());
    if several && !annexa_connect::takes_parts(kind) {
        return Err(Error::invalid(format!(
            "a {} import reads one file; several files or a directory are for the identity providers' kinds (okta, entra, ...)",
            kind.as_str()
        )));
    }
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            // By relative path as text: every path here starts with `path`.
            files[before..].sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
            if files.len() == before {
                return Err(Error::invalid(format!("{}: no files in this directory", path.display())));
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut input = ImportInput {
        name: paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + "),
        bytes: Vec::new(),
        parts: Vec::new(),
    };
    for file in &files {
        let name = file.display().to_string();
        let bytes = std::fs::read(file).map_err(|e| Error::io(format!("cannot read {name}"), e))?;
        input.parts.push((name, input.bytes.len()));
        // One file (the usual case) is taken as read: a copy of 150 MB costs as much as parsing it.
        if input.bytes.is_empty() {
            input.bytes = bytes;
        } else {
            input.bytes.extend_from_slice(&bytes);
        }
    }
    Ok(input)
}

/// The files under `dir`, recursively. Symbolic links to directories are not followed (a
/// link may lead back up the tree).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(format!("cannot read the directory {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot read the directory {}", dir.display()), e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

impl App {
    /// Reads `paths` (see [`read`]) and imports them as one import of `kind`.
    pub fn import_paths(&self, kind: ImportKind, paths: &[PathBuf], options: &ImportOptions, allow_empty: bool) -> Result<ImportOutcome> {
        let input = read(kind, paths)?;
        let options = ImportOptions { parts: if input.parts.len() > 1 { input.parts } else { Vec::new() }, ..options.clone() };
        self.import_file(kind, &input.name, &input.bytes, &options, allow_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_its_files_in_path_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("okta");
        std::fs::create_dir_all(root.join("groups/00g1")).expect("mkdir");
        std::fs::write(root.join("users.json"), "[1]\n").expect("write");
        std::fs::write(root.join("groups/00g1/users.json"), "[2]").expect("write");
        std::fs::write(root.join("groups.json"), "[3]\n").expect("write");
        std::fs::write(root.join(".DS_Store"), "x").expect("write");
        let input = read(ImportKind::Okta, std::slice::from_ref(&root)).expect("read");
        assert_eq!(input.name, root.display().to_string());
        assert_eq!(input.bytes, b"[3]\n[2][1]\n");
        let names: Vec<(String, usize)> =
            input.parts.iter().map(|(n, o)| (n.strip_prefix(&*root.display().to_string()).unwrap_or(n).to_string(), *o)).collect();
        assert_eq!(names, [("/groups.json".to_string(), 0), ("/groups/00g1/users.json".to_string(), 4), ("/users.json".to_string(), 7)]);
        let err = read(ImportKind::Hr, &[root.join("users.json"), root.join("groups.json")]).expect_err("hr reads one file");
        assert!(err.message().contains("reads one file"), "{}", err.message());
    }
}
