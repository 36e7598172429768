//! Evidence packs: one archive an auditor can check on another machine with nothing but
//! the binary and the ledger's public key.
//!
//! The archive holds `findings.json`, `findings.csv`, `imports.json`, `checkpoint.note`,
//! `ledger-proofs.json` (each ledger entry behind an included item, with its inclusion
//! proof against the checkpoint) and `manifest.note`: a signed note whose text is a JSON
//! manifest of every other file's SHA-256.

use crate::ledger::{checked, hashes_hex, unhex_hash};
use crate::{App, Error, ErrorKind, Result};
use annexa_ledger::checkpoint::hex;
use annexa_ledger::merkle::{leaf_hash, verify_inclusion};
use annexa_ledger::note::NoteVerifier;
use annexa_store::{FindingFilter, FindingStatus};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;

const FORMAT: &str = "annexa-evidence-pack/1";

/// What a pack holds.
#[derive(Debug, Clone)]
pub struct Packed {
    pub findings: usize,
    pub run_id: i64,
    pub imports: usize,
    pub proofs: usize,
    pub checkpoint_size: u64,
}

/// What a pack that verifies proves.
#[derive(Debug, Clone)]
pub struct PackVerified {
    pub signer: String,
    pub findings: usize,
    pub imports: usize,
    pub checkpoint_size: u64,
    pub root: String,
}

fn json_err(what: &str) -> impl FnOnce(serde_json::Error) -> Error + '_ {
    move |e| Error::caused(ErrorKind::Internal, format!("cannot encode {what}"), e)
}

/// `findings.csv`: one line per finding, every cell safe to open in a spreadsheet (a
/// message or subject that begins with `=` is text, not a formula).
fn findings_csv(findings: &[annexa_core::finding::Finding]) -> Result<Vec<u8>> {
    let csv_failed = |e: csv::Error| Error::caused(ErrorKind::Internal, "cannot write findings.csv", e);
    let mut csv_out = csv::Writer::from_writer(Vec::new());
    csv_out.write_record(["id", "check", "severity", "controls", "subject", "message"]).map_err(csv_failed)?;
    for f in findings {
        let row = [f.id.as_str(), f.check.as_str(), f.severity.as_str(), &f.controls.join(" "), f.subject.key.as_str(), f.message.as_str()];
        csv_out.write_record(row.map(|c| annexa_core::text::spreadsheet_safe(c).into_owned())).map_err(csv_failed)?;
    }
    csv_out.into_inner().map_err(|e| Error::internal(format!("cannot write findings.csv: {e}")))
}

impl App {
    /// Writes the evidence pack of the latest audit run to `out`: its open findings, the
    /// current imports, a checkpoint signed now, an inclusion proof for every ledger entry
    /// behind them, and a signed manifest.
    pub fn evidence_pack(&self, out: &Path) -> Result<Packed> {
        let mut store = self.store()?;
        let signer = self.signer()?;
        let runs = store.runs(1)?;
        let Some(run) = runs.first() else { return Err(Error::conflict("no audit has run yet: run `annexa audit` first")) };
        let checkpoint = store.ledger_checkpoint(&signer, self.now())?;
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
        let mut latest_of: HashMap<String, u64> = HashMap::new();
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
                // A run's findings are opened (or regraded) a thousand to an entry: the entry
                // stands for each of the pack's findings it names, the newest for each.
                "findings-opened" | "findings-regraded" => {
                    let named = data["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
                    let mine: Vec<&str> = named.iter().filter_map(|f| f["id"].as_str()).filter(|id| finding_ids.contains(id)).collect();
                    for id in &mine {
                        latest_of.insert(id.to_string(), e.seq);
                    }
                    if mine.is_empty() {
                        return Ok(());
                    }
                    format!("entry:{}", e.seq)
                }
                _ => return Ok(()),
            };
            wanted.insert(key, (e.seq, e.body));
            Ok(())
        })?;
        // A batch entry superseded for every finding it names (each opened or regraded again
        // later) is not needed.
        let needed: HashSet<u64> = latest_of.values().copied().collect();
        wanted.retain(|key, (seq, _)| !key.starts_with("entry:") || needed.contains(seq));
        let mut proofs = Vec::with_capacity(wanted.len());
        for (seq, body) in wanted.values() {
            let proof = store.ledger_inclusion_proof(*seq, checkpoint.size)?;
            proofs.push(serde_json::json!({ "seq": seq, "entry": body, "proof": hashes_hex(&proof) }));
        }
        let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
        files.push(("findings.json", serde_json::to_vec_pretty(&findings).map_err(json_err("the findings"))?));
        files.push(("findings.csv", findings_csv(&findings)?));
        files.push(("imports.json", serde_json::to_vec_pretty(&imports).map_err(json_err("the imports"))?));
        files.push(("checkpoint.note", checkpoint.note.clone().into_bytes()));
        files.push((
            "ledger-proofs.json",
            serde_json::to_vec_pretty(&serde_json::json!({ "size": checkpoint.size, "entries": proofs }))
                .map_err(json_err("the proofs"))?,
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
        let manifest_note = signer
            .sign(&format!("{}\n", serde_json::to_string(&manifest).map_err(json_err("the manifest"))?))
            .map_err(|e| Error::caused(ErrorKind::Internal, "cannot sign the manifest", e))?;
        let cannot = |e: std::io::Error| Error::io(format!("cannot write {}", out.display()), e);
        let zipped = |e: zip::result::ZipError| Error::caused(ErrorKind::Internal, format!("cannot write {}", out.display()), e);
        let file = std::fs::File::create(out).map_err(cannot)?;
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in files.iter().chain(std::iter::once(&("manifest.note", manifest_note.into_bytes()))) {
            zip.start_file(*name, options).map_err(zipped)?;
            zip.write_all(bytes).map_err(cannot)?;
        }
        zip.finish().map_err(zipped)?;
        Ok(Packed {
            findings: findings.len(),
            run_id: run.id,
            imports: imports.len(),
            proofs: proofs.len(),
            checkpoint_size: checkpoint.size,
        })
    }
}

/// Verifies an evidence pack with only the ledger's verifier key: every file against the
/// signed manifest, every ledger entry against the signed checkpoint, every finding and
/// import against an entry. `Ok(Err(reason))` when it does not verify.
pub fn verify_pack(path: &Path, verifier: &NoteVerifier) -> Result<std::result::Result<PackVerified, String>> {
    let refuse = |reason: String| Ok(Err(reason));
    let file = std::fs::File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("{} is not a zip archive", path.display()), e))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("{} is damaged", path.display()), e))?;
        // Packs are small; a member claiming more than 1 GiB is not one of ours.
        if entry.size() > (1 << 30) {
            return refuse(format!("{} is too large", entry.name()));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        files.insert(entry.name().to_string(), bytes);
    }
    let Some(note) = files.get("manifest.note").map(|b| String::from_utf8_lossy(b).into_owned()) else {
        return refuse("no manifest.note".into());
    };
    let Ok(text) = verifier.verify(&note) else {
        return refuse(format!("the manifest is not signed by {}", verifier.name()));
    };
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(text) else { return refuse("the manifest is not JSON".into()) };
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
    let Ok(checkpoint) = checked(verifier, &text_of("checkpoint.note")) else {
        return refuse("checkpoint.note is not signed by this key".into());
    };
    let Ok(proofs) = serde_json::from_str::<serde_json::Value>(&text_of("ledger-proofs.json")) else {
        return refuse("ledger-proofs.json is not JSON".into());
    };
    let mut in_ledger: HashSet<String> = HashSet::new();
    for p in proofs["entries"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let seq = p["seq"].as_u64().unwrap_or(u64::MAX);
        let body = p["entry"].as_str().unwrap_or_default();
        let proof: Vec<[u8; 32]> =
            p["proof"].as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(|h| unhex_hash(h.as_str()?).ok()).collect();
        if !verify_inclusion(seq, checkpoint.size, &leaf_hash(body.as_bytes()), &proof, &checkpoint.root) {
            return refuse(format!("the inclusion proof of ledger entry {seq} does not verify"));
        }
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(body) else { return refuse(format!("ledger entry {seq} is not JSON")) };
        let d = &entry["data"];
        match entry["kind"].as_str() {
            Some("finding-opened") => {
                in_ledger.insert(format!("finding:{}:{}:{}", d["finding_id"], d["check"], d["severity"]));
            }
            Some("findings-opened" | "findings-regraded") => {
                for f in d["findings"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    in_ledger.insert(format!("finding:{}:{}:{}", f["id"], f["check"], f["severity"]));
                }
            }
            Some("import") => {
                in_ledger.insert(format!("import:{}:{}", d["import_id"], d["sha256"]));
            }
            _ => {}
        }
    }
    let parse_list = |name: &str| serde_json::from_slice::<Vec<serde_json::Value>>(files.get(name).map(Vec::as_slice).unwrap_or(b"[]"));
    let Ok(findings) = parse_list("findings.json") else { return refuse("findings.json is not a list".into()) };
    for f in &findings {
        if !in_ledger.contains(&format!("finding:{}:{}:{}", f["id"], f["check"], f["severity"])) {
            return refuse(format!("finding {} is not in the ledger as packed", f["id"]));
        }
    }
    let Ok(imports) = parse_list("imports.json") else { return refuse("imports.json is not a list".into()) };
    for i in &imports {
        if !in_ledger.contains(&format!("import:{}:{}", i["id"], i["sha256"])) {
            return refuse(format!("import {} ({}) is not in the ledger", i["id"], i["file"]));
        }
    }
    Ok(Ok(PackVerified {
        signer: verifier.name().to_string(),
        findings: findings.len(),
        imports: imports.len(),
        checkpoint_size: checkpoint.size,
        root: hex(&checkpoint.root),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_csv_cells_are_never_formulas() {
        use annexa_core::finding::{Evidence, Finding, Severity, Subject, SubjectKind};
        let finding = Finding {
            id: "=1+1".into(),
            check: "orphaned-account".into(),
            severity: Severity::High,
            subject: Subject { kind: SubjectKind::Account, key: "@evil/-x".into(), label: "+x".into() },
            controls: vec!["A.5.16".into()],
            message: "=HYPERLINK(\"http://x\")".into(),
            evidence: Evidence::default(),
        };
        let csv = String::from_utf8(findings_csv(&[finding]).expect("csv")).expect("UTF-8");
        assert_eq!(csv.lines().nth(1), Some(r#"'=1+1,orphaned-account,high,A.5.16,'@evil/-x,"'=HYPERLINK(""http://x"")""#));
    }
}
