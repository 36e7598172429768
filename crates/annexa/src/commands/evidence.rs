//! `annexa evidence pack|verify`: the arguments turned into `annexa_app::evidence`, and
//! its result printed.

use crate::cli::{EvidenceCommand, GlobalArgs};
use crate::commands::setup::app;
use std::process::ExitCode;

pub fn run(global: &GlobalArgs, cmd: EvidenceCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EvidenceCommand::Pack { out } => {
            let p = app(global).evidence_pack(&out)?;
            println!(
                "wrote {}: {} open findings of audit run #{}, {} imports, {} ledger entries with inclusion proofs against the signed checkpoint of size {}",
                out.display(),
                p.findings,
                p.run_id,
                p.imports,
                p.proofs,
                p.checkpoint_size
            );
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Verify { file, key } => {
            let verifier = annexa_app::ledger::verifier_from(&key)?;
            match annexa_app::evidence::verify_pack(&file, &verifier)? {
                Ok(v) => {
                    println!(
                        "evidence pack verified: signed by {}, {} findings and {} imports, each proven in the ledger of {} entries (root {})",
                        v.signer, v.findings, v.imports, v.checkpoint_size, v.root
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(reason) => {
                    eprintln!("EVIDENCE PACK DOES NOT VERIFY: {reason}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
