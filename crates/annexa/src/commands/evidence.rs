//! `annexa evidence pack|verify`: one archive an auditor can check on another machine with
//! nothing but the binary and the ledger's public key.
//!
//! The archive holds `findings.json`, `findings.csv`, `imports.json`, `checkpoint.note`,
//! `ledger-proofs.json` (each ledger entry behind an included item, with its inclusion
//! proof against the checkpoint) and `manifest.note`: a signed note whose text is a JSON
//! manifest of every other file's SHA-256.

use crate::cli::{EvidenceCommand, GlobalArgs};
use crate::commands::ledger::{checked, hashes_hex, signer, unhex_hash, verifier_from};
use crate::commands::setup::open_store;
use annexa_ledger::checkpoint::hex;
use annexa_ledger::merkle::{leaf_hash, verify_inclusion};
use annexa_store::{FindingFilter, FindingStatus};
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::process::ExitCode;

const FORMAT: &str = "annexa-evidence-pack/1";

pub fn run(global: &GlobalArgs, cmd: EvidenceCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvidenceCommand::Pack { out } => pack(global, &out),
        EvidenceCommand::Verify { file, key } => verify(&file, &key),
    }
}

fn pack(global: &GlobalArgs, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut store = open_store(global)?;
    let signer = signer(global, true)?;
    let runs = store.runs(1)?;
    let Some(run) = runs.first() else { anyhow::bail!("no audit has run yet: run `annexa audit` first") };
    let checkpoint = store.ledger_checkpoint(&signer, chrono::Utc::now())?;
    let findings: Vec<_> = store
        .findings(&FindingFilter { status: Some(FindingStatus::Open), ..Default::default() })?
        .into_iter()
        .map(|f| f.finding)
        .collect();
    let imports = store.current_imports()?;
    // The ledger entries behind what the pack holds: each current import, the latest run,
    // and the newest opening of each open finding.
    let import_ids: HashSet<i64> = imports.iter().map(|i| i.id).collect();
    let finding_ids: HashSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let mut wanted: BTreeMap<String, (u64, String)> = BTreeMap::new();
    store.ledger_each(|e| {
        if e.seq >= checkpoint.size {
            return Ok(());
        }
        let body: serde_json::Value = serde_json::from_str(&e.body).map_err(|x| annexa_store::StoreError::Corrupt(x.to_string()))?;
        let data = &body["data"];
        let key = match e.kind.as_str() {
            "import" if data["import_id"].as_i64().is_some_and(|i| import_ids.contains(&i)) => format!("import:{}", data["import_id"]),
            "audit-run" if data["run_id"].as_i64() == Some(run.id) => "run".to_string(),
            "finding-opened" if data["finding_id"].as_str().is_some_and(|f| finding_ids.contains(f)) => {
                format!("finding:{}", data["finding_id"].as_str().unwrap_or_default())
            }
            _ => return Ok(()),
        };
        wanted.insert(key, (e.seq, e.body));
        Ok(())
    })?;
    let mut proofs = Vec::with_capacity(wanted.len());
    for (seq, body) in wanted.values() {
        let proof = store.ledger_inclusion_proof(*seq, checkpoint.size)?;
        proofs.push(serde_json::json!({ "seq": seq, "entry": body, "proof": hashes_hex(&proof) }));
    }
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    files.push(("findings.json", serde_json::to_vec_pretty(&findings)?));
    let mut csv_out = csv::Writer::from_writer(Vec::new());
    csv_out.write_record(["id", "check", "severity", "controls", "subject", "message"])?;
    for f in &findings {
        csv_out.write_record([&f.id, &f.check, f.severity.as_str(), &f.controls.join(" "), &f.subject.key, &f.message])?;
    }
    files.push(("findings.csv", csv_out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?));
    files.push(("imports.json", serde_json::to_vec_pretty(&imports)?));
    files.push(("checkpoint.note", checkpoint.note.clone().into_bytes()));
    files.push((
        "ledger-proofs.json",
        serde_json::to_vec_pretty(&serde_json::json!({ "size": checkpoint.size, "entries": proofs }))?,
    ));
    let manifest = serde_json::json!({
        "format": FORMAT,
        "log": signer.name(),
        "audit_run": run.id,
        "checkpoint_size": checkpoint.size,
        "files": files.iter().map(|(name, bytes)| serde_json::json!({
            "name": name, "bytes": bytes.len(), "sha256": annexa_core::to_hex(&Sha256::digest(bytes)),
        })).collect::<Vec<_>>(),
    });
    let manifest_note = signer.sign(&format!("{}\n", serde_json::to_string(&manifest)?))?;
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files.iter().chain(std::iter::once(&("manifest.note", manifest_note.into_bytes()))) {
        zip.start_file(*name, options)?;
        zip.write_all(bytes)?;
    }
    zip.finish()?;
    println!(
        "wrote {}: {} open findings of audit run #{}, {} imports, {} ledger entries with inclusion proofs against the signed checkpoint of size {}",
        out.display(),
        findings.len(),
        run.id,
        imports.len(),
        proofs.len(),
        checkpoint.size
    );
    Ok(ExitCode::SUCCESS)
}

/// Why a pack does not verify.
fn refuse(reason: String) -> anyhow::Result<ExitCode> {
    eprintln!("EVIDENCE PACK DOES NOT VERIFY: {reason}");
    Ok(ExitCode::from(1))
}

fn verify(path: &std::path::Path, key: &str) -> anyhow::Result<ExitCode> {
    let verifier = verifier_from(key)?;
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut zip = zip::ZipArchive::new(file).with_context(|| format!("{} is not a zip archive", path.display()))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        // Packs are small; a member claiming more than 1 GiB is not one of ours.
        if entry.size() > (1 << 30) {
            return refuse(format!("{} is too large", entry.name()));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        files.insert(entry.name().to_string(), bytes);
    }
    let Some(note) = files.get("manifest.note").map(|b| String::from_utf8_lossy(b).into_owned()) else {
        return refuse("no manifest.note".into());
    };
    let Ok(text) = verifier.verify(&note) else {
        return refuse(format!("the manifest is not signed by {}", verifier.name()));
    };
    let manifest: serde_json::Value = serde_json::from_str(text).context("the manifest is not JSON")?;
    if manifest["format"] != FORMAT {
        return refuse(format!("unknown format {}", manifest["format"]));
    }
    let listed: Vec<&serde_json::Value> = manifest["files"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    for f in &listed {
        let name = f["name"].as_str().unwrap_or_default();
        let Some(bytes) = files.get(name) else { return refuse(format!("{name} is listed but missing")) };
        if Some(annexa_core::to_hex(&Sha256::digest(bytes)).as_str()) != f["sha256"].as_str() {
            return refuse(format!("{name} was changed: its SHA-256 differs from the signed manifest"));
        }
    }
    if files.len() != listed.len() + 1 {
        return refuse("the archive holds files the manifest does not list".into());
    }
    let text_of = |name: &str| String::from_utf8_lossy(files.get(name).map(Vec::as_slice).unwrap_or_default()).into_owned();
    let Ok(checkpoint) = checked(&verifier, &text_of("checkpoint.note")) else {
        return refuse("checkpoint.note is not signed by this key".into());
    };
    let proofs: serde_json::Value = serde_json::from_str(&text_of("ledger-proofs.json")).context("ledger-proofs.json")?;
    let mut in_ledger: HashSet<String> = HashSet::new();
    for p in proofs["entries"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let seq = p["seq"].as_u64().unwrap_or(u64::MAX);
        let body = p["entry"].as_str().unwrap_or_default();
        let proof: Vec<[u8; 32]> =
            p["proof"].as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(|h| unhex_hash(h.as_str()?).ok()).collect();
        if !verify_inclusion(seq, checkpoint.size, &leaf_hash(body.as_bytes()), &proof, &checkpoint.root) {
            return refuse(format!("the inclusion proof of ledger entry {seq} does not verify"));
        }
        let entry: serde_json::Value = serde_json::from_str(body).context("a ledger entry")?;
        let d = &entry["data"];
        match entry["kind"].as_str() {
            Some("finding-opened") => {
                in_ledger.insert(format!("finding:{}:{}:{}", d["finding_id"], d["check"], d["severity"]));
            }
            Some("import") => {
                in_ledger.insert(format!("import:{}:{}", d["import_id"], d["sha256"]));
            }
            _ => {}
        }
    }
    let findings: Vec<serde_json::Value> = serde_json::from_slice(files.get("findings.json").map(Vec::as_slice).unwrap_or(b"[]"))?;
    for f in &findings {
        if !in_ledger.contains(&format!("finding:{}:{}:{}", f["id"], f["check"], f["severity"])) {
            return refuse(format!("finding {} is not in the ledger as packed", f["id"]));
        }
    }
    let imports: Vec<serde_json::Value> = serde_json::from_slice(files.get("imports.json").map(Vec::as_slice).unwrap_or(b"[]"))?;
    for i in &imports {
        if !in_ledger.contains(&format!("import:{}:{}", i["id"], i["sha256"])) {
            return refuse(format!("import {} ({}) is not in the ledger", i["id"], i["file"]));
        }
    }
    println!(
        "evidence pack verified: signed by {}, {} findings and {} imports, each proven in the ledger of {} entries (root {})",
        verifier.name(),
        findings.len(),
        imports.len(),
        checkpoint.size,
        hex(&checkpoint.root)
    );
    Ok(ExitCode::SUCCESS)
}
