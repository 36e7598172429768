//! The evidence ledger's use cases: checkpoints, verification (of the database, of an
//! export, of a proof), proofs, export, and the ledger's own benchmark.

use crate::{App, Error, ErrorKind, Result};
use annexa_ledger::checkpoint::{hex, Checkpoint};
use annexa_ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use annexa_ledger::note::NoteVerifier;
use annexa_ledger::verify::{verify_log, LogVerifier, StoredEntry, Tamper, Verified};
use annexa_store::Store;
use std::path::{Path, PathBuf};

/// A verifier key given as vkey text or as a file holding it.
pub fn verifier_from(arg: &str) -> Result<NoteVerifier> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| Error::io(format!("cannot read {arg}"), e))?
    } else {
        arg.to_string()
    };
    NoteVerifier::from_vkey(text.trim())
        .map_err(|e| Error::caused(ErrorKind::InvalidInput, "not a verifier key (a vkey, as `annexa ledger key show` prints it)", e))
}

pub fn hashes_hex(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| hex(h)).collect()
}

pub fn unhex_hash(s: &str) -> Result<[u8; 32]> {
    let bad = || Error::invalid(format!("{s:?} is not a hex SHA-256 hash"));
    if s.len() != 64 || !s.is_ascii() {
        return Err(bad());
    }
    let bytes: std::result::Result<Vec<u8>, _> = (0..64).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16)).collect();
    bytes.map_err(|_| bad())?.try_into().map_err(|_| bad())
}

/// Checks a checkpoint note against the key, returning the checkpoint.
pub fn checked(verifier: &NoteVerifier, note: &str) -> Result<Checkpoint> {
    let text = verifier.verify(note).map_err(|e| Error::caused(ErrorKind::InvalidInput, "the checkpoint is not signed by this key", e))?;
    let c = Checkpoint::parse(text).map_err(|e| Error::caused(ErrorKind::InvalidInput, "not a checkpoint", e))?;
    if c.origin != verifier.name() {
        return Err(Error::invalid(format!("the checkpoint is for log {:?}, not {:?}", c.origin, verifier.name())));
    }
    Ok(c)
}

/// Verifies the stored ledger against `notes` (size, signed checkpoint): the verdict, or
/// the first tampering found.
pub fn verify_store(store: &mut Store, notes: &[(u64, String)], verifier: &NoteVerifier) -> Result<std::result::Result<Verified, Tamper>> {
    let mut v = match LogVerifier::new(notes, verifier) {
        Ok(v) => v,
        Err(t) => return Ok(Err(t)),
    };
    let mut found: Option<Tamper> = None;
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

/// What `annexa ledger bench` measured.
#[derive(Debug, Clone)]
pub struct LedgerBench {
    pub appended: u64,
    pub start_size: u64,
    pub size: u64,
    pub append: std::time::Duration,
    pub verify: std::time::Duration,
    pub proof: std::time::Duration,
    pub probes: u64,
}

impl App {
    /// Signs a checkpoint of the ledger as it is and returns it.
    pub fn ledger_checkpoint(&self) -> Result<annexa_store::ledger::StoredCheckpoint> {
        let mut store = self.store()?;
        self.checkpoint(&mut store)
    }

    /// The newest signed checkpoint, if any (signs nothing: a reader's view).
    pub fn latest_checkpoint(&self) -> Result<Option<annexa_store::ledger::StoredCheckpoint>> {
        Ok(self.store()?.newest_ledger_checkpoints(1)?.pop())
    }

    /// The verifier key of this ledger (its signing key must exist).
    pub fn ledger_verifier(&self) -> Result<NoteVerifier> {
        Ok(crate::keys::signer(&self.settings.ledger_key, false)?.verifier())
    }

    /// Ledger entry `seq`: its body and leaf hash.
    pub fn ledger_entry(&self, seq: u64) -> Result<(serde_json::Value, String)> {
        let mut store = self.store()?;
        let Some(e) = store.ledger_entry(seq)? else {
            return Err(Error::not_found(format!("no ledger entry {seq}: the ledger has {} entries (0 to n-1)", store.ledger_size()?)));
        };
        let body =
            serde_json::from_str(&e.body).map_err(|x| Error::caused(ErrorKind::Internal, format!("ledger entry {seq} is not JSON"), x))?;
        Ok((body, hex(&e.leaf_hash)))
    }

    /// Verifies the whole stored ledger against its checkpoints and those in `extra` (kept
    /// elsewhere, by a witness): a kept copy takes precedence over the database's, since a
    /// database copy that differs is itself tampering. `verifier` defaults to this
    /// ledger's key.
    pub fn verify_ledger(&self, verifier: Option<NoteVerifier>, extra: &[PathBuf]) -> Result<std::result::Result<Verified, Tamper>> {
        let verifier = match verifier {
            Some(v) => v,
            None => self
                .ledger_verifier()
                .map_err(|e| Error::new(e.kind, format!("no --key given and no ledger key to take it from: {}", e.message())))?,
        };
        let mut store = self.store()?;
        let mut notes: Vec<(u64, String)> = store.ledger_checkpoints()?.into_iter().map(|c| (c.size, c.note)).collect();
        for path in extra {
            let note = std::fs::read_to_string(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            let text = verifier.verify(&note).map_err(|e| {
                Error::caused(ErrorKind::InvalidInput, format!("{}: not a checkpoint signed by this key", path.display()), e)
            })?;
            let c = Checkpoint::parse(text)
                .map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("{}: not a checkpoint", path.display()), e))?;
            notes.retain(|(size, _)| *size != c.size);
            notes.push((c.size, note));
        }
        verify_store(&mut store, &notes, &verifier)
    }

    /// The ledger's state for the `log-integrity` check.
    pub fn ledger_status(&self, store: &mut Store) -> Result<annexa_engine::LedgerStatus> {
        let checkpoints = store.ledger_checkpoints()?;
        let newest = checkpoints.last().map(|c| (c.size, chrono::DateTime::from_timestamp(c.created_at, 0).unwrap_or_default()));
        let entries = store.ledger_size()?;
        let key = &self.settings.ledger_key;
        if !key.exists() {
            let problem = (entries > 0).then(|| format!("the ledger key {} is missing, so no checkpoint can be checked", key.display()));
            return Ok(annexa_engine::LedgerStatus { entries, problem, newest_checkpoint: newest });
        }
        let verifier = self.ledger_verifier()?;
        let notes: Vec<(u64, String)> = checkpoints.into_iter().map(|c| (c.size, c.note)).collect();
        let problem = verify_store(store, &notes, &verifier)?.err().map(|t| t.to_string());
        Ok(annexa_engine::LedgerStatus { entries, problem, newest_checkpoint: newest })
    }

    /// An inclusion proof of entry `seq` in the newest signed checkpoint that covers it,
    /// as a bundle that `verify_proof` checks offline.
    pub fn prove_inclusion(&self, seq: u64) -> Result<serde_json::Value> {
        let mut store = self.store()?;
        // Sizes only grow: the newest checkpoint covers the entry if any does.
        let newest = store.newest_ledger_checkpoints(1)?;
        let Some(latest) = newest.first().filter(|c| c.size > seq) else {
            return Err(Error::conflict(format!("no signed checkpoint covers entry {seq} yet: run `annexa ledger checkpoint` first")));
        };
        let Some(entry) = store.ledger_entry(seq)? else { return Err(Error::not_found(format!("no ledger entry {seq}"))) };
        let proof = store.ledger_inclusion_proof(seq, latest.size)?;
        Ok(serde_json::json!({
            "type": "inclusion", "seq": seq, "size": latest.size, "entry": entry.body,
            "proof": hashes_hex(&proof), "checkpoint": latest.note,
        }))
    }

    /// A consistency proof between two signed checkpoints (by size).
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<serde_json::Value> {
        let mut store = self.store()?;
        let checkpoints = store.ledger_checkpoints()?;
        let find = |size: u64| checkpoints.iter().find(|c| c.size == size);
        let (Some(o), Some(n)) = (find(old), find(new)) else {
            let sizes: Vec<String> = checkpoints.iter().map(|c| c.size.to_string()).collect();
            return Err(Error::not_found(format!(
                "both sizes must be signed checkpoints; the ledger has checkpoints of sizes {}",
                sizes.join(", ")
            )));
        };
        let proof = store.ledger_consistency_proof(old, new)?;
        Ok(serde_json::json!({
            "type": "consistency", "old": old, "new": new, "proof": hashes_hex(&proof),
            "old_checkpoint": o.note, "new_checkpoint": n.note,
        }))
    }

    /// Writes every entry (`entries.jsonl`), every signed checkpoint and the verifier key
    /// to `dir`, after signing a checkpoint of the ledger as it is: what a third party needs
    /// to verify it without the database. How many entries and checkpoints.
    pub fn export_ledger(&self, dir: &Path) -> Result<(u64, usize)> {
        use std::io::Write;
        let mut store = self.store()?;
        let signer = self.signer()?;
        store.ledger_checkpoint(&signer, self.now())?;
        let cannot = |what: &Path| {
            let what = what.display().to_string();
            move |e| Error::io(format!("cannot write {what}"), e)
        };
        std::fs::create_dir_all(dir.join("checkpoints")).map_err(cannot(dir))?;
        let entries = dir.join("entries.jsonl");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&entries).map_err(cannot(&entries))?);
        let mut n = 0u64;
        store.ledger_each(|e| {
            writeln!(out, "{}", e.body).map_err(annexa_store::StoreError::Io)?;
            n += 1;
            Ok(())
        })?;
        out.flush().map_err(cannot(&entries))?;
        let checkpoints = store.ledger_checkpoints()?;
        for c in &checkpoints {
            let path = dir.join("checkpoints").join(format!("{}.note", c.size));
            std::fs::write(&path, &c.note).map_err(cannot(&path))?;
        }
        let vkey = dir.join("annexa.vkey");
        std::fs::write(&vkey, format!("{}\n", signer.verifier().to_vkey())).map_err(cannot(&vkey))?;
        Ok((n, checkpoints.len()))
    }

    /// Appends `entries` entries in transactions of `batch` (a signed checkpoint each),
    /// verifies the whole ledger, and times inclusion proofs: on a scratch database.
    pub fn ledger_bench(&self, entries: u64, batch: u64) -> Result<LedgerBench> {
        use annexa_store::ledger::Change;
        let mut store = self.store()?;
        let signer = self.signer()?;
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
            store.ledger_record("bench", self.now(), &changes)?;
            store.ledger_checkpoint(&signer, self.now())?;
            written += n;
        }
        let append = t.elapsed();
        let size = store.ledger_size()?;
        let t = std::time::Instant::now();
        let notes: Vec<(u64, String)> = store.ledger_checkpoints()?.into_iter().map(|c| (c.size, c.note)).collect();
        let verified = verify_store(&mut store, &notes, &signer.verifier())?;
        let verify = t.elapsed();
        if let Err(t) = verified {
            return Err(Error::internal(format!("the benchmark ledger does not verify: {t}")));
        }
        let probes = 200u64;
        let t = std::time::Instant::now();
        for i in 0..probes {
            let seq = (i * 7_919_993) % size.max(1);
            store.ledger_inclusion_proof(seq, size)?;
        }
        let proof = t.elapsed() / probes as u32;
        Ok(LedgerBench { appended: entries, start_size, size, append, verify, proof, probes })
    }
}

/// What a proof bundle showed, when it verifies.
pub fn verify_proof(bundle_text: &str, file: &str, verifier: &NoteVerifier) -> Result<Option<String>> {
    let bundle: serde_json::Value = serde_json::from_str(bundle_text)
        .map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("{file} is not a proof bundle"), e))?;
    let field = |k: &str| bundle.get(k).ok_or_else(|| Error::invalid(format!("{file}: no {k:?} in the proof bundle")));
    let num = |k: &str| -> Result<u64> { field(k)?.as_u64().ok_or_else(|| Error::invalid(format!("{file}: {k:?} is not a number"))) };
    let text_of = |k: &str| -> Result<String> {
        Ok(field(k)?.as_str().ok_or_else(|| Error::invalid(format!("{file}: {k:?} is not text")))?.to_string())
    };
    let proof: Vec<[u8; 32]> = field("proof")?
        .as_array()
        .ok_or_else(|| Error::invalid(format!("{file}: \"proof\" is not a list")))?
        .iter()
        .map(|h| unhex_hash(h.as_str().unwrap_or("")))
        .collect::<Result<_>>()?;
    match field("type")?.as_str() {
        Some("inclusion") => {
            let c = checked(verifier, &text_of("checkpoint")?)?;
            let (seq, size) = (num("seq")?, num("size")?);
            let entry = text_of("entry")?;
            let good = c.size == size && verify_inclusion(seq, size, &leaf_hash(entry.as_bytes()), &proof, &c.root);
            Ok(good.then(|| format!("entry {seq} is in the log {} of {size} entries, as signed by {}", c.origin, verifier.name())))
        }
        Some("consistency") => {
            let (o, n) = (checked(verifier, &text_of("old_checkpoint")?)?, checked(verifier, &text_of("new_checkpoint")?)?);
            let good = o.size == num("old")? && n.size == num("new")? && verify_consistency(o.size, n.size, &o.root, &n.root, &proof);
            Ok(good.then(|| {
                format!("the log of {} entries is a prefix of the log of {} entries: nothing was changed, only appended", o.size, n.size)
            }))
        }
        _ => Err(Error::invalid(format!("{file}: \"type\" must be inclusion or consistency"))),
    }
}

/// Verifies a ledger export (`annexa ledger export`): no database involved, only the
/// files and the verifier key; `extra` adds checkpoints kept elsewhere.
pub fn verify_export(dir: &Path, verifier: &NoteVerifier, extra: &[PathBuf]) -> Result<std::result::Result<Verified, Tamper>> {
    let entries_path = dir.join("entries.jsonl");
    let text = std::fs::read_to_string(&entries_path).map_err(|e| Error::io(format!("cannot read {}", entries_path.display()), e))?;
    let mut notes = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("checkpoints"))
        .map_err(|e| Error::io(format!("no checkpoints folder in {}", dir.display()), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.extend(extra.iter().cloned());
    for path in paths {
        let note = std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let size = verifier
            .verify(&note)
            .ok()
            .and_then(|t| Checkpoint::parse(t).ok())
            .map(|c| c.size)
            .ok_or_else(|| Error::invalid(format!("{} is not a checkpoint signed by {}", path.display(), verifier.name())))?;
        notes.retain(|(s, _): &(u64, String)| *s != size);
        notes.push((size, note));
    }
    // An export carries no stored leaf hashes: each is recomputed, and the checkpoints decide.
    let stored = text.lines().enumerate().map(|(i, body)| StoredEntry { seq: i as u64, body, leaf_hash: leaf_hash(body.as_bytes()) });
    Ok(verify_log(stored, &notes, verifier))
}

/// Where an entry is in the ledger, with its inclusion proof in the newest signed
/// checkpoint that covers it, checked here against the ledger's own key.
#[derive(Debug, Clone)]
pub struct EntryProof {
    pub seq: u64,
    /// What the entry records, and its leaf hash.
    pub body: serde_json::Value,
    pub leaf_hash: String,
    /// The bundle `annexa ledger verify-proof` checks offline; none while no signed
    /// checkpoint covers the entry.
    pub bundle: Option<serde_json::Value>,
    /// What the proof showed when it verified, or why there is none or it failed.
    pub outcome: std::result::Result<String, String>,
}

impl App {
    /// Entry `seq` with its inclusion proof, verified.
    pub fn entry_proof(&self, seq: u64) -> Result<EntryProof> {
        let (body, leaf_hash) = self.ledger_entry(seq)?;
        let bundle = match self.prove_inclusion(seq) {
            Ok(b) => b,
            Err(e) if e.kind == ErrorKind::Conflict => {
                return Ok(EntryProof { seq, body, leaf_hash, bundle: None, outcome: Err(e.message().to_string()) })
            }
            Err(e) => return Err(e),
        };
        let outcome = match verify_proof(&bundle.to_string(), "the proof", &self.ledger_verifier()?)? {
            Some(shown) => Ok(shown),
            None => Err("the proof does not verify against the signed checkpoint: the ledger was changed".to_string()),
        };
        Ok(EntryProof { seq, body, leaf_hash, bundle: Some(bundle), outcome })
    }

    /// The ledger entry that recorded finding `id` (its latest), if any.
    pub fn finding_ledger_seq(&self, id: &str) -> Result<Option<u64>> {
        let ids = std::collections::HashSet::from([id.to_string()]);
        Ok(self.store()?.finding_ledger_entries(&ids)?.get(id).copied())
    }

    /// The ledger's size and its newest `limit` signed checkpoints, newest first.
    pub fn ledger_checkpoints(&self, limit: u64) -> Result<(u64, Vec<annexa_store::ledger::StoredCheckpoint>)> {
        let mut store = self.store()?;
        Ok((store.ledger_size()?, store.newest_ledger_checkpoints(limit)?))
    }

    /// The newest `limit` ledger entries, newest first.
    pub fn recent_ledger_entries(&self, limit: u64) -> Result<Vec<annexa_store::ledger::LedgerEntry>> {
        let mut store = self.store()?;
        let size = store.ledger_size()?;
        let mut entries = Vec::new();
        for seq in (size.saturating_sub(limit)..size).rev() {
            entries.extend(store.ledger_entry(seq)?);
        }
        Ok(entries)
    }
}
