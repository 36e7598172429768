//! `annexa ledger …`: the signing key, checkpoints, verification and proofs. The work is
//! `annexa_app::ledger`'s; this module reads the arguments and prints.

use crate::cli::{GlobalArgs, LedgerCommand, LedgerKeyCommand};
use crate::commands::setup::app;
use crate::output::print_json;
use annexa_app::ledger::verifier_from;
use annexa_ledger::checkpoint::hex;
use anyhow::Context as _;
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, cmd: LedgerCommand) -> anyhow::Result<ExitCode> {
    let app = app(global);
    match cmd {
        LedgerCommand::Key(LedgerKeyCommand::Show) => {
            println!("{}", app.ledger_verifier()?.to_vkey());
        }
        LedgerCommand::Checkpoint => {
            print!("{}", app.ledger_checkpoint()?.note);
        }
        LedgerCommand::Show { seq } => {
            let (entry, leaf) = app.ledger_entry(seq)?;
            print_json(&serde_json::json!({ "entry": entry, "leaf_hash": leaf }))?;
        }
        LedgerCommand::Verify { key, checkpoints, export: Some(dir) } => {
            let key = key.ok_or_else(|| anyhow::anyhow!("--export needs --key (the vkey the exporter gave you)"))?;
            return Ok(match annexa_app::ledger::verify_export(&dir, &verifier_from(&key)?, &checkpoints)? {
                Ok(v) => {
                    println!(
                        "exported ledger verified: {} entries, {} signed checkpoints, root {}",
                        v.entries,
                        v.checkpoints,
                        hex(&v.root)
                    );
                    ExitCode::SUCCESS
                }
                Err(tamper) => {
                    eprintln!("EXPORTED LEDGER DOES NOT VERIFY: {tamper}");
                    ExitCode::from(1)
                }
            });
        }
        LedgerCommand::Verify { key, checkpoints, export: None } => {
            let verifier = key.as_deref().map(verifier_from).transpose()?;
            return Ok(match app.verify_ledger(verifier, &checkpoints)? {
                Ok(v) => {
                    println!(
                        "ledger verified: {} entries, {} signed checkpoints (newest covers {} entries), root {}",
                        v.entries,
                        v.checkpoints,
                        v.last_checkpoint,
                        hex(&v.root)
                    );
                    if v.last_checkpoint < v.entries {
                        println!(
                            "note: the last {} entries are not yet covered by a checkpoint (`annexa ledger checkpoint`)",
                            v.entries - v.last_checkpoint
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(tamper) => {
                    eprintln!("LEDGER DOES NOT VERIFY: {tamper}");
                    ExitCode::from(1)
                }
            });
        }
        LedgerCommand::Export { dir } => {
            let (n, checkpoints) = app.export_ledger(&dir)?;
            println!("exported {n} entries and {checkpoints} signed checkpoints to {}", dir.display());
        }
        LedgerCommand::Prove { seq, consistency } => {
            let bundle = match (seq, consistency.as_deref()) {
                (Some(seq), None) => app.prove_inclusion(seq)?,
                (None, Some([old, new])) => app.prove_consistency(*old, *new)?,
                _ => anyhow::bail!("give an entry number (annexa ledger prove 12) or --consistency OLD NEW"),
            };
            print_json(&bundle)?;
        }
        LedgerCommand::VerifyProof { file, key } => {
            let verifier = verifier_from(&key)?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            return Ok(match annexa_app::ledger::verify_proof(&text, &file.display().to_string(), &verifier)? {
                Some(what) => {
                    println!("{what}");
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("PROOF DOES NOT VERIFY: {}", file.display());
                    ExitCode::from(1)
                }
            });
        }
        LedgerCommand::Bench { entries, batch } => {
            let b = app.ledger_bench(entries, batch)?;
            println!(
                "appended {} entries to a ledger of {} in {:.2} s: {:.0} appends/s (transactions of {batch}, a signed checkpoint each)",
                b.appended,
                b.start_size,
                b.append.as_secs_f64(),
                b.appended as f64 / b.append.as_secs_f64()
            );
            println!(
                "verified {} entries in {:.2} s: {:.0} entries/s",
                b.size,
                b.verify.as_secs_f64(),
                b.size as f64 / b.verify.as_secs_f64()
            );
            println!("inclusion proof at size {}: {:.3} ms on average over {} entries", b.size, b.proof.as_secs_f64() * 1000.0, b.probes);
        }
    }
    Ok(ExitCode::SUCCESS)
}
