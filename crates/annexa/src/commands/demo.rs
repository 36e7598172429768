//! `annexa demo`: generate a realistic organisation with known problems (`annexa_app::demo`),
//! import it, audit it, and show a newcomer what Annexa found and what to try next.

use annexa_app::demo::{generate, AS_OF};

use crate::cli::{DemoArgs, GlobalArgs};
use crate::commands::audit::Report;
use crate::commands::setup::{spinner, thousands};
use crate::output::{print_json, Format, Table};
use annexa_connect::ImportOptions;
use anyhow::Context as _;
use std::process::ExitCode;

const DEFAULT_DB: &str = "sqlite://annexa.db";

pub fn run(global: &GlobalArgs, args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.people == 0 {
        anyhow::bail!("--people must be at least 1");
    }
    let bar = spinner(&format!("generating {} people", thousands(args.people as u64)));
    let profile = if args.first_audit { annexa_app::demo::Profile::FirstAudit } else { annexa_app::demo::Profile::Demo };
    let org = generate(args.people, args.seed, args.directory_format.into(), profile);
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    for f in &org.files {
        let path = args.out.join(f.name);
        std::fs::write(&path, &f.content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let config_path = args.out.join("annexa.toml");
    std::fs::write(&config_path, &org.config).with_context(|| format!("cannot write {}", config_path.display()))?;
    let expected_path = args.out.join("expected-findings.json");
    std::fs::write(&expected_path, serde_json::to_string_pretty(&org.expected)?)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let quiet = global.format == Format::Json;
    if !quiet {
        println!(
            "Generated a synthetic organisation in {}: {} people, {} accounts, {} assignments (seed {}).",
            args.out.display(),
            thousands(org.people as u64),
            thousands(org.accounts as u64),
            thousands(org.assignments as u64),
            args.seed
        );
    }
    if args.generate_only {
        return Ok(ExitCode::SUCCESS);
    }

    // The demo gets a database of its own unless one was named explicitly, so it never
    // mixes synthetic people into a real inventory.
    let db = if global.db == DEFAULT_DB {
        let path = args.out.join("annexa.db");
        for suffix in ["", "-wal", "-shm"] {
            let p = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if p.exists() {
                std::fs::remove_file(&p).with_context(|| format!("cannot remove the previous demo database {}", p.display()))?;
            }
        }
        format!("sqlite://{}", path.display())
    } else {
        global.db.clone()
    };
    let demo_global = GlobalArgs { db: db.clone(), ..global.clone() };
    let demo_app = crate::commands::setup::app(&demo_global);
    for f in &org.files {
        let options = ImportOptions { system: f.system.map(String::from), ..Default::default() };
        let path = args.out.join(f.name).display().to_string();
        let line = demo_app.import_file(f.kind, &path, &f.content, &options, false)?.summary;
        if !quiet {
            println!("  {line}");
        }
    }
    // The seeded problems are found with the configuration generated for them; another one
    // would make the demo's own check of its findings meaningless.
    if let Some(given) = &global.config {
        eprintln!(
            "note: the demo audits with the configuration it generated, {}, not {} (`annexa audit --config` uses yours)",
            config_path.display(),
            given.display()
        );
    }
    let config = annexa_engine::config::Config::parse(&config_path.display().to_string(), &org.config)?;
    let as_of = annexa_core::time::parse_instant(AS_OF).context("demo reference date")?;
    let mut demo_app = demo_app;
    demo_app.settings.config = config;
    let audit = demo_app.audit(&[], Some(as_of))?;
    let outcome = &audit.outcome;
    // Plan: the identity risks of the built-in library, their likelihood following what the
    // audit measured, and the SoA drafted from the register and the audit.
    let risks = demo_app.add_library_risks(&[], "Information Security Officer")?;
    let suggestions = demo_app.suggest_risks()?.len();
    let drafted = demo_app.draft_soa()?;
    let mut store = demo_app.store()?;
    let ledger_entries = store.ledger_size()?;
    let ledger = demo_app.ledger_status(&mut store)?;
    if let Some(problem) = ledger.problem {
        anyhow::bail!("the demo's own ledger does not verify: {problem}");
    }

    let mut found: std::collections::BTreeMap<&str, u64> = org.expected.keys().map(|k| (*k, 0)).collect();
    for c in &outcome.checks {
        if let Some(n) = found.get_mut(c.check.as_str()) {
            *n += c.open;
        }
    }
    let all_found = found == org.expected;
    if quiet {
        print_json(&serde_json::json!({
            "out": args.out, "db": db, "seed": args.seed, "people": org.people, "accounts": org.accounts,
            "assignments": org.assignments, "as_of": AS_OF, "run_id": outcome.run_id,
            "expected": org.expected, "found": found, "all_found": all_found, "ledger_entries": ledger_entries,
            "risks": risks.len(), "soa_drafted": drafted.len(),
        }))?;
    } else {
        println!();
        let report = Report { app: &demo_app, not_evaluated: &audit.summary.not_evaluated, outcome, as_of };
        let stdout = std::io::stdout();
        report.table(&mut stdout.lock())?;
        println!();
        let mut table = Table::new(&["check", "seeded", "found"]);
        for (check, want) in &org.expected {
            let got = found.get(check).copied().unwrap_or(0);
            table.push(vec![check.to_string(), want.to_string(), format!("{got}{}", if got == *want { "" } else { "  <- MISMATCH" })]);
        }
        if all_found {
            println!("Every seeded problem was found ({} findings), and nothing else.", thousands(outcome.total));
        } else {
            println!("Seeded problems and findings differ:");
            table.print(Format::Table)?;
        }
        let db_arg = if db == global.db { String::new() } else { format!(" --db {db}") };
        let top = demo_app.findings(&annexa_store::FindingFilter { run: Some(outcome.run_id), limit: Some(1), ..Default::default() })?;
        let example = top.findings.first().map(|f| f.finding.id.clone()).unwrap_or_else(|| "F-...".into());
        println!(
            "\nEvery import, the audit run, the findings it opened (up to a thousand to an entry), the risks and the SoA decisions are {} entries in the tamper-evident ledger, under a signed checkpoint; the ledger verifies.",
            thousands(ledger_entries)
        );
        println!(
            "\nThe risk register holds the {} identity risks of the built-in library, quantified, their likelihood following the audit ({suggestions} change(s) suggested); the Statement of Applicability is drafted: {} of 93 controls applicable by risk assessment.",
            risks.len(),
            drafted.len()
        );
        println!("\nThe demo is audited as of {AS_OF}, its reference date, so the results are the same every day.");
        println!("What to try next:");
        for (command, why) in [
            (format!("annexa{db_arg} findings list --severity high"), "the urgent findings"),
            (format!("annexa{db_arg} findings show {example}"), "one finding with its evidence"),
            (format!("annexa{db_arg} findings list --control A.9.2.6"), "by control (2013 ids work too)"),
            ("annexa controls show A.5.18".to_string(), "what a control covers, which checks test it"),
            (
                format!("annexa{db_arg} --config {} --format junit audit --as-of {AS_OF}", config_path.display()),
                "the audit as JUnit XML for CI",
            ),
            (format!("annexa{db_arg} risk list"), "the risk register, inherent and residual"),
            (format!("annexa{db_arg} risk suggest"), "what the findings say about the risks, with the reasoning"),
            (format!("annexa{db_arg} risk simulate --seed 42"), "the annual loss: ALE, P10 to P99, reproducible from the seed"),
            (format!("annexa{db_arg} soa show"), "the Statement of Applicability, automated controls following the audit"),
            (format!("annexa{db_arg} soa export --format xlsx --out SoA.xlsx"), "the SoA as an auditor opens it"),
            (format!("annexa{db_arg} imports"), "what was imported, with SHA-256"),
            (format!("annexa{db_arg} ledger verify"), "prove that no record was altered since"),
        ] {
            println!("  # {why}\n  {command}");
        }
    }
    Ok(if all_found { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
