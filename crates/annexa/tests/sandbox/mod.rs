//! A temporary directory with its own SQLite database, and the real `annexa` binary run in
//! it: what the import tests (bad input, lenient imports) share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const ANNEXA: &str = env!("CARGO_BIN_EXE_annexa");

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub db: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}", dir.path().join("a.db").display());
        Sandbox { dir, db }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// Runs `annexa --db DB ARGS` in the sandbox (so no stray annexa.toml is read),
    /// without RUST_BACKTRACE, so that a panic would show its `RUST_BACKTRACE` hint.
    pub fn annexa(&self, args: &[&str]) -> Output {
        Command::new(ANNEXA)
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("ANNEXA_DB")
            .env_remove("ANNEXA_CONFIG")
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .output()
            .expect("run annexa")
    }

    pub fn import(&self, kind: &str, file: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["import", kind, file.to_str().expect("UTF-8 temp path")];
        args.extend_from_slice(extra);
        self.annexa(&args)
    }

    /// The database file's bytes (and its WAL's, if one is left behind): what a refused
    /// import must not change. Every byte counts but two counters of SQLite's own in the
    /// file's header (the change counter at offset 24 and its copy at 92), which SQLite
    /// bumps whenever the journal mode changes: an import alone writes with a rollback
    /// journal and turns the write-ahead log back on after (`Conn::bulk_transaction`).
    pub fn bytes(&self) -> Vec<Option<Vec<u8>>> {
        let mut files: Vec<Option<Vec<u8>>> = ["a.db", "a.db-wal"].iter().map(|n| std::fs::read(self.path(n)).ok()).collect();
        if let Some(Some(db)) = files.first_mut() {
            for counter in [24..28, 92..96] {
                if let Some(bytes) = db.get_mut(counter) {
                    bytes.fill(0);
                }
            }
        }
        files
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
