//! The evidence ledger, end to end on both engines: the demo leaves a verified ledger; a
//! proof checks offline with only the public key; and every way of editing the database
//! behind Annexa's back is caught by `annexa ledger verify`, which names what was changed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_ledger::checkpoint::hex;
use annexa_ledger::entry::entry_body;
use annexa_ledger::merkle::leaf_hash;
use annexa_ledger::note::NoteSigner;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Ledger {
    dir: PathBuf,
    db: String,
    key: PathBuf,
}

/// One fresh ledger per engine, in a folder of its own.
fn ledgers(dir: &Path, name: &str) -> Vec<Ledger> {
    let base = dir.join(name);
    std::fs::create_dir_all(&base).expect("dir");
    annexa_store::testing::fresh_databases(&base)
        .into_iter()
        .enumerate()
        .map(|(n, db)| Ledger::new(&base, db, &format!("engine{n}")))
        .collect()
}

impl Ledger {
    /// A small demo organisation, imported and audited into `db`.
    fn new(dir: &Path, db: String, name: &str) -> Ledger {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).expect("dir");
        let l = Ledger { key: dir.join("ledger.key"), dir, db };
        let out = l.run(&["demo", "--people", "60", "--out", l.dir.join("org").to_str().expect("utf8")]);
        assert!(out.status.success(), "demo: {}", String::from_utf8_lossy(&out.stderr));
        l
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_annexa"))
            .args(["--db", &self.db, "--ledger-key", self.key.to_str().expect("utf8")])
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("annexa runs")
    }

    /// Runs SQL behind Annexa's back.
    fn sql(&self, statements: &str) {
        if let Some(path) = self.db.strip_prefix("sqlite://") {
            rusqlite::Connection::open(path).expect("open").execute_batch(statements).expect("sql");
        } else {
            postgres::Client::connect(&self.db, postgres::NoTls).expect("connect").batch_execute(statements).expect("sql");
        }
    }

    /// A blob literal in this engine's SQL.
    fn blob(&self, bytes: &[u8]) -> String {
        if self.db.starts_with("sqlite://") {
            format!("X'{}'", hex(bytes))
        } else {
            format!("'\\x{}'::bytea", hex(bytes))
        }
    }

    /// `annexa ledger verify`'s exit code and stderr.
    fn verify(&self, extra: &[&str]) -> (Option<i32>, String) {
        let mut args = vec!["ledger", "verify"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[track_caller]
fn assert_caught(l: &Ledger, extra: &[&str], fragment: &str) {
    let (code, stderr) = l.verify(extra);
    assert_eq!(code, Some(1), "{}: verify should fail: {stderr}", l.db);
    assert!(stderr.contains(fragment), "{}: {stderr:?} lacks {fragment:?}", l.db);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_demo_leaves_a_verified_ledger_and_proofs_check_offline() {
    let dir = tempfile::tempdir().expect("tempdir");
    for l in ledgers(dir.path(), "ok") {
        let (code, stderr) = l.verify(&[]);
        assert_eq!(code, Some(0), "{stderr}");
        let vkey = String::from_utf8(l.run(&["ledger", "key", "show"]).stdout).expect("utf8");
        let vkey_file = l.dir.join("annexa.vkey");
        std::fs::write(&vkey_file, &vkey).expect("write");
        let proof = l.run(&["ledger", "prove", "3"]);
        assert!(proof.status.success(), "{}", String::from_utf8_lossy(&proof.stderr));
        let proof_file = l.dir.join("proof.json");
        std::fs::write(&proof_file, &proof.stdout).expect("write");
        // Offline: no database, no private key — only the bundle and the verifier key.
        let offline = |file: &Path| {
            Command::new(env!("CARGO_BIN_EXE_annexa"))
                .args(["ledger", "verify-proof", file.to_str().expect("utf8"), "--key", vkey_file.to_str().expect("utf8")])
                .current_dir(dir.path())
                .output()
                .expect("runs")
        };
        assert!(offline(&proof_file).status.success());
        // An export checks on its own, and an edited export does not.
        let export = l.dir.join("export");
        assert!(l.run(&["ledger", "export", export.to_str().expect("utf8")]).status.success());
        let vkey_path = export.join("annexa.vkey");
        let verify_export = || {
            Command::new(env!("CARGO_BIN_EXE_annexa"))
                .args(["ledger", "verify", "--export", export.to_str().expect("utf8"), "--key", vkey_path.to_str().expect("utf8")])
                .current_dir(dir.path())
                .output()
                .expect("runs")
        };
        assert!(verify_export().status.success(), "{}", String::from_utf8_lossy(&verify_export().stderr));
        let entries = export.join("entries.jsonl");
        let edited = std::fs::read_to_string(&entries).expect("read").replacen("hr.csv", "hx.csv", 1);
        std::fs::write(&entries, edited).expect("write");
        assert_eq!(verify_export().status.code(), Some(1));

        // An evidence pack verifies elsewhere with only the public key; any edit to a
        // member, even one the manifest's own hash list would not show, is refused.
        let pack = l.dir.join("evidence.zip");
        let packed = l.run(&["evidence", "pack", "--out", pack.to_str().expect("utf8")]);
        assert!(packed.status.success(), "{}", String::from_utf8_lossy(&packed.stderr));
        let check = |file: &Path| {
            Command::new(env!("CARGO_BIN_EXE_annexa"))
                .args(["evidence", "verify", file.to_str().expect("utf8"), "--key", vkey_file.to_str().expect("utf8")])
                .current_dir(dir.path())
                .output()
                .expect("runs")
        };
        let good = check(&pack);
        assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
        // The report, the SoA and the risk register travel with the evidence, under the
        // same signed manifest.
        for (member, from, to) in [
            ("findings.json", "\"critical\"", "\"low\""),
            ("imports.json", "hr.csv", "hx.csv"),
            ("risks.json", "Unauthorised access", "Authorised access"),
            ("report.html", "audit report", "audit rapport"),
        ] {
            let bad = l.dir.join(format!("bad-{member}.zip"));
            rewrite_member(&pack, &bad, member, from, to);
            let out = check(&bad);
            assert_eq!(out.status.code(), Some(1), "{member}");
            assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{member} was changed")));
        }
        let forged = String::from_utf8(proof.stdout).expect("utf8").replacen("\"seq\": 3", "\"seq\": 4", 1);
        std::fs::write(&proof_file, forged).expect("write");
        assert_eq!(offline(&proof_file).status.code(), Some(1));
    }
}

#[test]
fn tampering_is_caught_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    for l in ledgers(dir.path(), "byte") {
        // One byte of one entry's payload.
        l.sql("UPDATE ledger_entries SET body = replace(body, 'hr.csv', 'hx.csv') WHERE seq = 0");
        assert_caught(&l, &[], "entry 0 was changed");
        // The next audit reports it as a log-integrity finding (A.8.15).
        let config = l.dir.join("org/annexa.toml");
        let audit = l.run(&["--config", config.to_str().expect("utf8"), "audit", "--check", "log-integrity", "--fail-on", "critical"]);
        assert_eq!(audit.status.code(), Some(1), "{}", String::from_utf8_lossy(&audit.stderr));
        let found = l.run(&["--format", "json", "findings", "list", "--check", "log-integrity"]);
        let found: serde_json::Value = serde_json::from_slice(&found.stdout).expect("json");
        assert!(found[0]["message"].as_str().is_some_and(|m| m.contains("entry 0 was changed")), "{found}");
    }
    for l in ledgers(dir.path(), "hole") {
        // An entry deleted in the middle.
        l.sql("DELETE FROM ledger_entries WHERE seq = 3");
        assert_caught(&l, &[], "entry at position 3 says it is entry 4");
    }
    for l in ledgers(dir.path(), "cut") {
        // The last entries deleted: caught against the stored checkpoint, and — when the
        // stored checkpoints are deleted too — against one kept outside the database.
        let kept = l.run(&["ledger", "checkpoint"]);
        let kept_file = l.dir.join("kept.note");
        std::fs::write(&kept_file, &kept.stdout).expect("write");
        l.sql("DELETE FROM ledger_entries WHERE seq >= 6");
        assert_caught(&l, &[], "entries from 6 on were removed");
        l.sql("DELETE FROM ledger_checkpoints");
        let (code, _) = l.verify(&[]);
        assert_eq!(code, Some(0), "without any checkpoint a truncated log looks whole");
        assert_caught(&l, &["--checkpoint", kept_file.to_str().expect("utf8")], "entries from 6 on were removed");
    }
    for l in ledgers(dir.path(), "swap") {
        // Two entries swapped.
        l.sql(
            "UPDATE ledger_entries SET seq = -1 WHERE seq = 2; UPDATE ledger_entries SET seq = 2 WHERE seq = 3; \
             UPDATE ledger_entries SET seq = 3 WHERE seq = -1",
        );
        assert_caught(&l, &[], "entry at position 2 says it is entry 3");
    }
    for l in ledgers(dir.path(), "forge") {
        // A forged entry inserted, the later ones renumbered.
        let body = entry_body(5, "2026-10-01T00:00:00Z", "os:mallory", "import", &serde_json::json!({"file": "forged.csv"}));
        let leaf = l.blob(&leaf_hash(body.as_bytes()));
        l.sql(&format!(
            "UPDATE ledger_entries SET seq = seq + 1000000 WHERE seq >= 5; \
             UPDATE ledger_entries SET seq = seq - 999999 WHERE seq >= 1000000; \
             INSERT INTO ledger_entries (seq, recorded_at, actor, kind, body, leaf_hash) VALUES (5, 0, 'os:mallory', 'import', '{body}', {leaf})"
        ));
        assert_caught(&l, &[], "entry at position 6 says it is entry 5");
    }
    for l in ledgers(dir.path(), "sig") {
        // A checkpoint re-signed by another key with the same name.
        let note = String::from_utf8(l.run(&["ledger", "checkpoint"]).stdout).expect("utf8");
        let text = note.split("\n\n").next().expect("text").to_string() + "\n";
        let origin = text.lines().next().expect("origin");
        let size: u64 = text.lines().nth(1).expect("size").parse().expect("number");
        let forged = NoteSigner::new(origin, &[9u8; 32]).expect("signer").sign(&text).expect("sign");
        l.sql(&format!("UPDATE ledger_checkpoints SET note = '{forged}' WHERE size = {size}"));
        assert_caught(&l, &[], &format!("the checkpoint of size {size} is not validly signed"));
    }
    for l in ledgers(dir.path(), "rewrite") {
        // The whole log rewritten consistently (content and hashes), without the key.
        let body = entry_body(1, "2026-10-01T00:00:00Z", "os:mallory", "import", &serde_json::json!({"file": "nothing-to-see.csv"}));
        let leaf = l.blob(&leaf_hash(body.as_bytes()));
        l.sql(&format!("UPDATE ledger_entries SET body = '{body}', leaf_hash = {leaf} WHERE seq = 1"));
        assert_caught(&l, &[], "the log no longer matches the signed checkpoint");
    }
}

/// Copies a zip archive, replacing `from` by `to` in one member.
fn rewrite_member(src: &Path, dst: &Path, member: &str, from: &str, to: &str) {
    use std::io::{Read, Write};
    let mut input = zip::ZipArchive::new(std::fs::File::open(src).expect("open")).expect("zip");
    let mut output = zip::ZipWriter::new(std::fs::File::create(dst).expect("create"));
    for i in 0..input.len() {
        let mut e = input.by_index(i).expect("member");
        let name = e.name().to_string();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).expect("read");
        if name == member {
            bytes = String::from_utf8(bytes).expect("utf8").replacen(from, to, 1).into_bytes();
        }
        output.start_file(name, zip::write::SimpleFileOptions::default()).expect("start");
        output.write_all(&bytes).expect("write");
    }
    output.finish().expect("finish");
}
