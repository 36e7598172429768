//! Evidence packs: one archive an auditor can check on another machine with nothing but
//! the binary and the ledger's public key.
//!
//! The archive holds `findings.json`, `findings.csv`, `imports.json`, `campaigns.json` and
//! `campaign-items.json` (the closed certification campaigns: population proof, diligence,
//! every decision), `checkpoint.note`,
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

/// `findings.csv`'s header.
const CSV_HEADER: [&str; 6] = ["id", "check", "severity", "controls", "subject", "message"];

/// One line of `findings.csv`: every cell safe to open in a spreadsheet (a message or
/// subject that begins with `=` is text, not a formula).
fn csv_row(f: &annexa_core::finding::Finding) -> [String; 6] {
    let row = [f.id.as_str(), f.check.as_str(), f.severity.as_str(), &f.controls.join(" "), f.subject.key.as_str(), f.message.as_str()];
    row.map(|c| annexa_core::text::spreadsheet_safe(c).into_owned())
}

/// `findings.csv` for `findings`, whole (the pack streams it; tests read it whole).
#[cfg(test)]
fn findings_csv(findings: &[annexa_core::finding::Finding]) -> Result<Vec<u8>> {
    let csv_failed = |e: csv::Error| Error::caused(ErrorKind::Internal, "cannot write findings.csv", e);
    let mut csv_out = csv::Writer::from_writer(Vec::new());
    csv_out.write_record(CSV_HEADER).map_err(csv_failed)?;
    for f in findings {
        csv_out.write_record(csv_row(f)).map_err(csv_failed)?;
    }
    csv_out.into_inner().map_err(|e| Error::internal(format!("cannot write findings.csv: {e}")))
}

/// A writer (or reader) that hashes and counts what goes through it: a pack's members are
/// written and checked as streams, so the manifest's hashes are taken on the way.
struct Hashing<T> {
    inner: T,
    sha: Sha256,
    bytes: u64,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Hashing<T> {
        Hashing { inner, sha: Sha256::new(), bytes: 0 }
    }
    fn manifest_entry(self, name: &str) -> serde_json::Value {
        serde_json::json!({ "name": name, "bytes": self.bytes, "sha256": annexa_core::to_hex(&self.sha.finalize()) })
    }
    fn hex(self) -> String {
        annexa_core::to_hex(&self.sha.finalize())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
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
        // What the auditor reads first: the report, the SoA and the risk register, made
        // before the pack's checkpoint so that it covers what they show.
        let report = annexa_report::auditor::html(&self.auditor_report()?).into_bytes();
        let soa_xlsx = {
            let dir = tempfile::tempdir().map_err(|e| Error::io("cannot make a temporary directory", e))?;
            let path = dir.path().join("soa.xlsx");
            self.export_soa(crate::soa::SoaFormat::Xlsx, &path)?;
            std::fs::read(&path).map_err(|e| Error::io("cannot read the SoA workbook back", e))?
        };
        let risks = store.risks()?;
        let checkpoint = store.ledger_checkpoint(&signer, self.now())?;
        // The pack's findings are the open ones: their ids first (the ledger entries behind
        // them are chosen by id), then the findings themselves, streamed into the archive.
        let open = FindingFilter { status: Some(FindingStatus::Open), ..Default::default() };
        let mut finding_ids: HashSet<String> = HashSet::new();
        store.open_finding_ids(|id| {
            finding_ids.insert(id.to_string());
            Ok(())
        })?;
        let imports = store.current_imports()?;
        // Closed campaigns are evidence too: their decisions, diligence and population proof.
        let closed: Vec<annexa_store::campaign::Campaign> = store.campaigns()?.into_iter().filter(|c| c.status == "closed").collect();
        let closed_ids: HashSet<i64> = closed.iter().map(|c| c.id).collect();
        // The ledger entries behind what the pack holds: each current import, the latest run,
        // and the newest opening of each open finding.
        let import_ids: HashSet<i64> = imports.iter().map(|i| i.id).collect();
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
                "campaign-launched" | "campaign-closed" if data["campaign"].as_i64().is_some_and(|c| closed_ids.contains(&c)) => {
                    format!("{}:{}", e.kind, data["campaign"])
                }
                "finding-opened" if data["finding_id"].as_str().is_some_and(|f| finding_ids.contains(f)) => {
                    format!("finding:{}", data["finding_id"].as_str().unwrap_or_default())
                }
                // A run's findings are opened (or regraded) a thousand to an entry: the entry
                // stands for each of the pack's findings it names, the newest for each.
                "findings-opened" | "findings-regraded" => {
                    let named = data["findings"].as_array().map(Vec::as_slice).unwrap_or_default();
                    let mine: Vec<&str> = named.iter().filter_map(|f| f["id"].as_str()).filter(|id| finding_ids.contains(*id)).collect();
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
        let cannot = |e: std::io::Error| Error::io(format!("cannot write {}", out.display()), e);
        let zipped = |e: zip::result::ZipError| Error::caused(ErrorKind::Internal, format!("cannot write {}", out.display()), e);
        let file = std::fs::File::create(out).map_err(cannot)?;
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true);
        let mut listed = Vec::new();

        // findings.json: a list, a finding to a line, written as read; findings.csv in the
        // same pass, to a file beside the pack (an archive is written a member at a time).
        let csv_path = out.with_extension("findings.csv.part");
        let csv_file = std::fs::File::create(&csv_path).map_err(|e| Error::io(format!("cannot write {}", csv_path.display()), e))?;
        let written = (|| -> Result<usize> {
            zip.start_file("findings.json", options).map_err(zipped)?;
            // Buffered: a finding is written a token at a time.
            let mut member = std::io::BufWriter::with_capacity(1 << 16, Hashing::new(&mut zip));
            member.write_all(b"[").map_err(cannot)?;
            let mut csv_out = csv::Writer::from_writer(std::io::BufWriter::new(&csv_file));
            let csv_failed = |e: csv::Error| Error::caused(ErrorKind::Internal, "cannot write findings.csv", e);
            csv_out.write_record(CSV_HEADER).map_err(csv_failed)?;
            let mut packed = 0usize;
            let mut changed = false;
            store.findings_each(&open, false, |f| {
                let io = annexa_store::StoreError::Io;
                changed |= !finding_ids.contains(&f.finding.id);
                member.write_all(if packed == 0 { b"\n" } else { b",\n" }).map_err(io)?;
                serde_json::to_writer(&mut member, &f.finding).map_err(|e| io(e.into()))?;
                csv_out.write_record(csv_row(&f.finding)).map_err(|e| io(std::io::Error::other(e)))?;
                packed += 1;
                Ok(())
            })?;
            member.write_all(b"\n]\n").map_err(cannot)?;
            let member = member.into_inner().map_err(|e| cannot(e.into_error()))?;
            listed.push(member.manifest_entry("findings.json"));
            csv_out.flush().map_err(cannot)?;
            drop(csv_out);
            // A finding opened between the two reads has no ledger entry chosen for it.
            if changed || packed != finding_ids.len() {
                return Err(Error::conflict("the open findings changed while the pack was written (an audit ran meanwhile): run it again"));
            }
            zip.start_file("findings.csv", options).map_err(zipped)?;
            let mut member = Hashing::new(&mut zip);
            let mut part = std::fs::File::open(&csv_path).map_err(|e| Error::io(format!("cannot read {}", csv_path.display()), e))?;
            std::io::copy(&mut part, &mut member).map_err(cannot)?;
            listed.push(member.manifest_entry("findings.csv"));
            Ok(packed)
        })();
        let _ = std::fs::remove_file(&csv_path);
        let packed = written?;

        // campaign-items.json: every item of the closed campaigns, written as read.
        let mut campaigns = Vec::with_capacity(closed.len());
        {
            zip.start_file("campaign-items.json", options).map_err(zipped)?;
            let mut member = std::io::BufWriter::with_capacity(1 << 16, Hashing::new(&mut zip));
            member.write_all(b"[").map_err(cannot)?;
            let mut first = true;
            for c in &closed {
                store.campaign_items(c.id, &annexa_store::campaign::ItemFilter::default(), |i| {
                    let io = annexa_store::StoreError::Io;
                    member.write_all(if first { b"\n" } else { b",\n" }).map_err(io)?;
                    first = false;
                    serde_json::to_writer(&mut member, &i).map_err(|e| io(e.into()))
                })?;
                campaigns.push(serde_json::json!({ "campaign": c, "diligence": store.campaign_diligence(c.id)? }));
            }
            member.write_all(b"\n]\n").map_err(cannot)?;
            let member = member.into_inner().map_err(|e| cannot(e.into_error()))?;
            listed.push(member.manifest_entry("campaign-items.json"));
        }
        let small: [(&str, Vec<u8>); 7] = [
            ("report.html", report),
            ("soa.xlsx", soa_xlsx),
            ("risks.json", serde_json::to_vec_pretty(&risks).map_err(json_err("the risks"))?),
            ("campaigns.json", serde_json::to_vec_pretty(&campaigns).map_err(json_err("the campaigns"))?),
            ("imports.json", serde_json::to_vec_pretty(&imports).map_err(json_err("the imports"))?),
            ("checkpoint.note", checkpoint.note.clone().into_bytes()),
            (
                "ledger-proofs.json",
                serde_json::to_vec_pretty(&serde_json::json!({ "size": checkpoint.size, "entries": proofs }))
                    .map_err(json_err("the proofs"))?,
            ),
        ];
        for (name, bytes) in &small {
            zip.start_file(*name, options).map_err(zipped)?;
            let mut member = Hashing::new(&mut zip);
            member.write_all(bytes).map_err(cannot)?;
            listed.push(member.manifest_entry(name));
        }
        let manifest = serde_json::json!({
            "format": FORMAT,
            "log": signer.name(),
            "audit_run": run.id,
            "checkpoint_size": checkpoint.size,
            "files": listed,
        });
        let manifest_note = signer
            .sign(&format!("{}\n", serde_json::to_string(&manifest).map_err(json_err("the manifest"))?))
            .map_err(|e| Error::caused(ErrorKind::Internal, "cannot sign the manifest", e))?;
        zip.start_file("manifest.note", options).map_err(zipped)?;
        zip.write_all(manifest_note.as_bytes()).map_err(cannot)?;
        zip.finish().map_err(zipped)?;
        Ok(Packed { findings: packed, run_id: run.id, imports: imports.len(), proofs: proofs.len(), checkpoint_size: checkpoint.size })
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
    // The findings, as large as an organisation's first audit, are checked as streams; the
    // other members are small and read whole.
    const STREAMED: [&str; 3] = ["findings.json", "findings.csv", "campaign-items.json"];
    let names: Vec<String> = zip.file_names().map(String::from).collect();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for name in names.iter().filter(|n| !STREAMED.contains(&n.as_str())) {
        let mut entry =
            zip.by_name(name).map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("{} is damaged", path.display()), e))?;
        if entry.size() > (1 << 30) {
            return refuse(format!("{} is too large", entry.name()));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        files.insert(name.clone(), bytes);
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
    let mut streamed_sha: HashMap<&str, String> = HashMap::new();
    for f in &listed {
        let name = f["name"].as_str().unwrap_or_default();
        let sha = f["sha256"].as_str().unwrap_or_default();
        if STREAMED.contains(&name) && names.iter().any(|n| n == name) {
            streamed_sha.insert(name, sha.to_string());
            continue;
        }
        let Some(bytes) = files.get(name) else { return refuse(format!("{name} is listed but missing")) };
        if annexa_core::to_hex(&Sha256::digest(bytes)) != sha {
            return refuse(format!("{name} was changed: its SHA-256 differs from the signed manifest"));
        }
    }
    if names.len() != listed.len() + 1 {
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
            Some("campaign-closed") => {
                in_ledger.insert(format!("campaign:{}:{}:{}", d["campaign"], d["population_hash"], d["items"]));
            }
            _ => {}
        }
    }
    let parse_list = |name: &str| serde_json::from_slice::<Vec<serde_json::Value>>(files.get(name).map(Vec::as_slice).unwrap_or(b"[]"));
    let Ok(imports) = parse_list("imports.json") else { return refuse("imports.json is not a list".into()) };
    for i in &imports {
        if !in_ledger.contains(&format!("import:{}:{}", i["id"], i["sha256"])) {
            return refuse(format!("import {} ({}) is not in the ledger", i["id"], i["file"]));
        }
    }
    let Ok(campaigns) = parse_list("campaigns.json") else { return refuse("campaigns.json is not a list".into()) };
    let mut campaign_items: HashMap<i64, u64> = HashMap::new();
    for c in &campaigns {
        let c = &c["campaign"];
        if !in_ledger.contains(&format!("campaign:{}:{}:{}", c["id"], c["population_hash"], c["items"])) {
            return refuse(format!("campaign {} is not in the ledger as packed", c["id"]));
        }
        campaign_items.insert(c["id"].as_i64().unwrap_or_default(), 0);
    }
    // The findings: each one read, checked against the ledger and dropped; the member's
    // hash taken on the way. A changed member is named as such before anything it says.
    let mut findings = 0usize;
    for name in STREAMED {
        let Some(expected) = streamed_sha.get(name) else { continue };
        let entry = zip.by_name(name).map_err(|e| Error::caused(ErrorKind::InvalidInput, format!("{} is damaged", path.display()), e))?;
        // Hashed under the buffer, so that the hash takes whole blocks, not JSON's bytes.
        let mut reader = std::io::BufReader::with_capacity(1 << 16, Hashing::new(entry));
        let mut not_in_ledger: Option<String> = None;
        let parsed = if name == "findings.json" {
            let mut each = |f: serde_json::Value| {
                findings += 1;
                if not_in_ledger.is_none() && !in_ledger.contains(&format!("finding:{}:{}:{}", f["id"], f["check"], f["severity"])) {
                    not_in_ledger = Some(f["id"].to_string());
                }
            };
            let mut de = serde_json::Deserializer::from_reader(&mut reader);
            serde::de::DeserializeSeed::deserialize(EachOf(&mut each), &mut de).and_then(|()| de.end()).is_ok()
        } else if name == "campaign-items.json" {
            // Each item belongs to a packed campaign; their counts are checked below.
            let mut each = |i: serde_json::Value| match campaign_items.get_mut(&i["campaign_id"].as_i64().unwrap_or_default()) {
                Some(n) => *n += 1,
                None if not_in_ledger.is_none() => not_in_ledger = Some(format!("item {} of an unpacked campaign", i["id"])),
                None => {}
            };
            let mut de = serde_json::Deserializer::from_reader(&mut reader);
            serde::de::DeserializeSeed::deserialize(EachOf(&mut each), &mut de).and_then(|()| de.end()).is_ok()
        } else {
            true
        };
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if reader.into_inner().hex() != *expected {
            return refuse(format!("{name} was changed: its SHA-256 differs from the signed manifest"));
        }
        if !parsed {
            return refuse(format!("{name} is not a list"));
        }
        if let Some(id) = not_in_ledger {
            return refuse(format!("finding {id} is not in the ledger as packed"));
        }
    }
    for c in &campaigns {
        let c = &c["campaign"];
        let packed = campaign_items.get(&c["id"].as_i64().unwrap_or_default()).copied().unwrap_or_default();
        if Some(packed) != c["items"].as_u64() {
            return refuse(format!("campaign {} has {} items in the ledger but {packed} in the pack", c["id"], c["items"]));
        }
    }
    Ok(Ok(PackVerified {
        signer: verifier.name().to_string(),
        findings,
        imports: imports.len(),
        checkpoint_size: checkpoint.size,
        root: hex(&checkpoint.root),
    }))
}

/// Calls its function on each element of a JSON list as it is read, holding one at a time.
struct EachOf<'f, F>(&'f mut F);

impl<'de, F: FnMut(serde_json::Value)> serde::de::DeserializeSeed<'de> for EachOf<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(serde_json::Value)> serde::de::Visitor<'de> for EachOf<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            (self.0)(v);
        }
        Ok(())
    }
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
