//! `annexa ledger …`: the signing key, checkpoints, verification and proofs.

use crate::cli::{GlobalArgs, LedgerCommand, LedgerKeyCommand};
use crate::commands::setup::open_store;
use crate::output::print_json;
use annexa_ledger::checkpoint::{hex, Checkpoint};
use annexa_ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use annexa_ledger::note::{NoteSigner, NoteVerifier};
use annexa_ledger::verify::{verify_log, StoredEntry};
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the signing key lives.
pub fn key_path(global: &GlobalArgs) -> PathBuf {
    crate::commands::setup::settings(global).ledger_key
}

/// The ledger's signing key; created (mode 0600) when `create` and none exists.
pub fn signer(global: &GlobalArgs, create: bool) -> anyhow::Result<NoteSigner> {
    if create {
        return Ok(crate::commands::setup::app(global).signer()?);
    }
    Ok(annexa_app::keys::signer(&key_path(global), false)?)
}

/// Signs a checkpoint of the ledger after a command that changed state.
pub fn checkpoint_after_change(store: &mut annexa_store::Store, global: &GlobalArgs) -> anyhow::Result<()> {
    crate::commands::setup::app(global).checkpoint(store)?;
    Ok(())
}

/// A verifier key given as vkey text or as a file holding it.
pub fn verifier_from(arg: &str) -> anyhow::Result<NoteVerifier> {
    let text = if std::path::Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    Ok(NoteVerifier::from_vkey(text.trim())?)
}

pub fn hashes_hex(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| hex(h)).collect()
}

pub fn unhex_hash(s: &str) -> anyhow::Result<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        anyhow::bail!("{s:?} is not a hex SHA-256 hash");
    }
    let bytes: Result<Vec<u8>, _> = (0..64).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16)).collect();
    bytes?.try_into().map_err(|_| anyhow::anyhow!("{s:?} is not a hex SHA-256 hash"))
}

pub fn run(global: &GlobalArgs, cmd: LedgerCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LedgerCommand::Key(LedgerKeyCommand::Show) => {
            println!("{}", signer(global, false)?.verifier().to_vkey());
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Checkpoint => {
            let mut store = open_store(global)?;
            let signer = signer(global, true)?;
            let c = store.ledger_checkpoint(&signer, chrono::Utc::now())?;
            print!("{}", c.note);
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Show { seq } => {
            let mut store = open_store(global)?;
            let Some(e) = store.ledger_entry(seq)? else {
                anyhow::bail!("no ledger entry {seq}: the ledger has {} entries (0 to n-1)", store.ledger_size()?);
            };
            let body: serde_json::Value = serde_json::from_str(&e.body).context("entry body")?;
            print_json(&serde_json::json!({ "entry": body, "leaf_hash": hex(&e.leaf_hash) }))?;
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Verify { key, checkpoints, export: Some(dir) } => {
            let key = key.ok_or_else(|| anyhow::anyhow!("--export needs --key (the vkey the exporter gave you)"))?;
            verify_export(&dir, &key, checkpoints)
        }
        LedgerCommand::Verify { key, checkpoints, export: None } => verify(global, key, checkpoints),
        LedgerCommand::Export { dir } => export(global, &dir),
        LedgerCommand::Prove { seq, consistency } => prove(global, seq, consistency),
        LedgerCommand::VerifyProof { file, key } => verify_proof(&file, &key),
        LedgerCommand::Bench { entries, batch } => bench(global, entries, batch),
    }
}

fn verify(global: &GlobalArgs, key: Option<String>, extra: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let verifier = match key {
        Some(k) => verifier_from(&k)?,
        None => signer(global, false).context("no --key given and no ledger key to take it from")?.verifier(),
    };
    let mut store = open_store(global)?;
    let mut notes: Vec<(u64, String)> = store.ledger_checkpoints()?.into_iter().map(|c| (c.size, c.note)).collect();
    for path in &extra {
        let note = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = verifier.verify(&note).with_context(|| format!("{}: not a checkpoint signed by this key", path.display()))?;
        let c = Checkpoint::parse(text)?;
        // The kept copy takes precedence: a database copy that differs is itself tampering.
        notes.retain(|(size, _)| *size != c.size);
        notes.push((c.size, note));
    }
    match verify_store(&mut store, &notes, &verifier)? {
        Ok(v) => {
            println!(
                "ledger verified: {} entries, {} signed checkpoints (newest covers {} entries), root {}",
                v.entries,
                v.checkpoints,
                v.last_checkpoint,
                hex(&v.root)
            );
            if v.last_checkpoint < v.entries {
                println!("note: the last {} entries are not yet covered by a checkpoint (`annexa ledger checkpoint`)", v.entries - v.last_checkpoint);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(tamper) => {
            eprintln!("LEDGER DOES NOT VERIFY: {tamper}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Verifies the stored log against `notes` (size, signed note).
fn verify_store(
    store: &mut annexa_store::Store,
    notes: &[(u64, String)],
    verifier: &NoteVerifier,
) -> anyhow::Result<Result<annexa_ledger::verify::Verified, annexa_ledger::verify::Tamper>> {
    let mut v = match annexa_ledger::verify::LogVerifier::new(notes, verifier) {
        Ok(v) => v,
        Err(t) => return Ok(Err(t)),
    };
    let mut found: Option<annexa_ledger::verify::Tamper> = None;
    let scanned = store.ledger_scan(|seq, body, leaf| {
        v.feed(&StoredEntry { seq, body, leaf_hash: *leaf }).map_err(|t| {
            found = Some(t);
            // Stops the scan: the first tampering is the one to report.
            annexa_store::StoreError::Conflict("tampering found".into())
        })
    });
    if let Some(t) = found {
        return Ok(Err(t));
    }
    scanned?;
    Ok(v.finish())
}

/// The ledger's state for the `log-integrity` check.
pub fn status(store: &mut annexa_store::Store, global: &GlobalArgs) -> anyhow::Result<annexa_engine::LedgerStatus> {
    let checkpoints = store.ledger_checkpoints()?;
    let newest = checkpoints
        .last()
        .map(|c| (c.size, chrono::DateTime::from_timestamp(c.created_at, 0).unwrap_or_default()));
    let entries = store.ledger_size()?;
    if !key_path(global).exists() {
        let problem = (entries > 0)
            .then(|| format!("the ledger key {} is missing, so no checkpoint can be checked", key_path(global).display()));
        return Ok(annexa_engine::LedgerStatus { entries, problem, newest_checkpoint: newest });
    }
    let verifier = signer(global, false)?.verifier();
    let notes: Vec<(u64, String)> = checkpoints.into_iter().map(|c| (c.size, c.note)).collect();
    let problem = verify_store(store, &notes, &verifier)?.err().map(|t| t.to_string());
    Ok(annexa_engine::LedgerStatus { entries, problem, newest_checkpoint: newest })
}

fn prove(global: &GlobalArgs, seq: Option<u64>, consistency: Option<Vec<u64>>) -> anyhow::Result<ExitCode> {
    let mut store = open_store(global)?;
    let checkpoints = store.ledger_checkpoints()?;
    match (seq, consistency.as_deref()) {
        (Some(seq), None) => {
            let Some(latest) = checkpoints.iter().rev().find(|c| c.size > seq) else {
                anyhow::bail!("no signed checkpoint covers entry {seq} yet: run `annexa ledger checkpoint` first");
            };
            let Some(entry) = store.ledger_entry(seq)? else { anyhow::bail!("no ledger entry {seq}") };
            let proof = store.ledger_inclusion_proof(seq, latest.size)?;
            print_json(&serde_json::json!({
                "type": "inclusion", "seq": seq, "size": latest.size, "entry": entry.body,
                "proof": hashes_hex(&proof), "checkpoint": latest.note,
            }))?;
        }
        (None, Some([old, new])) => {
            let find = |size: u64| checkpoints.iter().find(|c| c.size == size);
            let (Some(o), Some(n)) = (find(*old), find(*new)) else {
                let sizes: Vec<String> = checkpoints.iter().map(|c| c.size.to_string()).collect();
                anyhow::bail!("both sizes must be signed checkpoints; the ledger has checkpoints of sizes {}", sizes.join(", "));
            };
            let proof = store.ledger_consistency_proof(*old, *new)?;
            print_json(&serde_json::json!({
                "type": "consistency", "old": old, "new": new, "proof": hashes_hex(&proof),
                "old_checkpoint": o.note, "new_checkpoint": n.note,
            }))?;
        }
        _ => anyhow::bail!("give an entry number (annexa ledger prove 12) or --consistency OLD NEW"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks a checkpoint note against the key, returning the checkpoint.
pub fn checked(verifier: &NoteVerifier, note: &str) -> anyhow::Result<Checkpoint> {
    let text = verifier.verify(note).context("the checkpoint is not signed by this key")?;
    let c = Checkpoint::parse(text)?;
    if c.origin != verifier.name() {
        anyhow::bail!("the checkpoint is for log {:?}, not {:?}", c.origin, verifier.name());
    }
    Ok(c)
}

fn verify_proof(file: &std::path::Path, key: &str) -> anyhow::Result<ExitCode> {
    let verifier = verifier_from(key)?;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let bundle: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not a proof bundle", file.display()))?;
    let field = |k: &str| bundle.get(k).ok_or_else(|| anyhow::anyhow!("{}: no {k:?} in the proof bundle", file.display()));
    let num = |k: &str| -> anyhow::Result<u64> { field(k)?.as_u64().ok_or_else(|| anyhow::anyhow!("{k:?} is not a number")) };
    let text_of = |k: &str| -> anyhow::Result<String> {
        Ok(field(k)?.as_str().ok_or_else(|| anyhow::anyhow!("{k:?} is not text"))?.to_string())
    };
    let proof: Vec<[u8; 32]> = field("proof")?
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("\"proof\" is not a list"))?
        .iter()
        .map(|h| unhex_hash(h.as_str().unwrap_or("")))
        .collect::<anyhow::Result<_>>()?;
    let ok = match field("type")?.as_str() {
        Some("inclusion") => {
            let c = checked(&verifier, &text_of("checkpoint")?)?;
            let (seq, size) = (num("seq")?, num("size")?);
            let entry = text_of("entry")?;
            let good = c.size == size && verify_inclusion(seq, size, &leaf_hash(entry.as_bytes()), &proof, &c.root);
            if good {
                println!("entry {seq} is in the log {} of {size} entries, as signed by {}", c.origin, verifier.name());
            }
            good
        }
        Some("consistency") => {
            let (o, n) = (checked(&verifier, &text_of("old_checkpoint")?)?, checked(&verifier, &text_of("new_checkpoint")?)?);
            let good = o.size == num("old")? && n.size == num("new")? && verify_consistency(o.size, n.size, &o.root, &n.root, &proof);
            if good {
                println!("the log of {} entries is a prefix of the log of {} entries: nothing was changed, only appended", o.size, n.size);
            }
            good
        }
        _ => anyhow::bail!("{}: \"type\" must be inclusion or consistency", file.display()),
    };
    if ok {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("PROOF DOES NOT VERIFY: {}", file.display());
        Ok(ExitCode::from(1))
    }
}

/// `annexa ledger bench`: appends, verification and proofs, timed, on a scratch database.
fn bench(global: &GlobalArgs, entries: u64, batch: u64) -> anyhow::Result<ExitCode> {
    use annexa_store::ledger::Change;
    let mut store = open_store(global)?;
    let signer = signer(global, true)?;
    let start_size = store.ledger_size()?;
    let batch = batch.max(1);
    let t = std::time::Instant::now();
    let mut written = 0;
    while written < entries {
        let n = batch.min(entries - written);
        let changes: Vec<Change> = (0..n)
            .map(|i| Change {
                kind: "finding-opened",
                data: serde_json::json!({
                    "finding_id": format!("F-{:016x}", written + i), "check": "dormant-account", "severity": "medium",
                    "subject": format!("corp-ad/user{}", written + i), "controls": ["A.5.18", "A.8.2"],
                }),
            })
            .collect();
        store.ledger_record("bench", chrono::Utc::now(), &changes)?;
        store.ledger_checkpoint(&signer, chrono::Utc::now())?;
        written += n;
    }
    let append = t.elapsed();
    let size = store.ledger_size()?;
    let t = std::time::Instant::now();
    let notes: Vec<(u64, String)> = store.ledger_checkpoints()?.into_iter().map(|c| (c.size, c.note)).collect();
    let verified = verify_store(&mut store, &notes, &signer.verifier())?;
    let verify = t.elapsed();
    if let Err(t) = verified {
        anyhow::bail!("the benchmark ledger does not verify: {t}");
    }
    let probes = 200u64;
    let t = std::time::Instant::now();
    for i in 0..probes {
        let seq = (i * 7_919_993) % size;
        store.ledger_inclusion_proof(seq, size)?;
    }
    let proof = t.elapsed() / probes as u32;
    println!(
        "appended {entries} entries to a ledger of {start_size} in {:.2} s: {:.0} appends/s (transactions of {batch}, a signed checkpoint each)",
        append.as_secs_f64(),
        entries as f64 / append.as_secs_f64()
    );
    println!("verified {size} entries in {:.2} s: {:.0} entries/s", verify.as_secs_f64(), size as f64 / verify.as_secs_f64());
    println!("inclusion proof at size {size}: {:.3} ms on average over {probes} entries", proof.as_secs_f64() * 1000.0);
    Ok(ExitCode::SUCCESS)
}

/// `annexa ledger export DIR`.
fn export(global: &GlobalArgs, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut store = open_store(global)?;
    let signer = signer(global, true)?;
    store.ledger_checkpoint(&signer, chrono::Utc::now())?;
    std::fs::create_dir_all(dir.join("checkpoints")).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("entries.jsonl"))?);
    let mut n = 0u64;
    store.ledger_each(|e| {
        writeln!(out, "{}", e.body).map_err(annexa_store::StoreError::Io)?;
        n += 1;
        Ok(())
    })?;
    out.flush()?;
    let checkpoints = store.ledger_checkpoints()?;
    for c in &checkpoints {
        std::fs::write(dir.join("checkpoints").join(format!("{}.note", c.size)), &c.note)?;
    }
    std::fs::write(dir.join("annexa.vkey"), format!("{}\n", signer.verifier().to_vkey()))?;
    println!("exported {n} entries and {} signed checkpoints to {}", checkpoints.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `annexa ledger verify --export DIR --key VKEY`: no database involved.
fn verify_export(dir: &std::path::Path, key: &str, extra: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let verifier = verifier_from(key)?;
    let entries_path = dir.join("entries.jsonl");
    let text = std::fs::read_to_string(&entries_path).with_context(|| format!("cannot read {}", entries_path.display()))?;
    let mut notes = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("checkpoints"))
        .with_context(|| format!("no checkpoints folder in {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.extend(extra);
    for path in paths {
        let note = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let size = verifier
            .verify(&note)
            .ok()
            .and_then(|t| Checkpoint::parse(t).ok())
            .map(|c| c.size)
            .ok_or_else(|| anyhow::anyhow!("{} is not a checkpoint signed by {}", path.display(), verifier.name()))?;
        notes.retain(|(s, _): &(u64, String)| *s != size);
        notes.push((size, note));
    }
    // An export carries no stored leaf hashes: each is recomputed, and the checkpoints decide.
    let stored = text.lines().enumerate().map(|(i, body)| StoredEntry { seq: i as u64, body, leaf_hash: leaf_hash(body.as_bytes()) });
    match verify_log(stored, &notes, &verifier) {
        Ok(v) => {
            println!("exported ledger verified: {} entries, {} signed checkpoints, root {}", v.entries, v.checkpoints, hex(&v.root));
            Ok(ExitCode::SUCCESS)
        }
        Err(tamper) => {
            eprintln!("EXPORTED LEDGER DOES NOT VERIFY: {tamper}");
            Ok(ExitCode::from(1))
        }
    }
}
