//! Several writers on one database at once, as when a CLI import runs while an identity
//! provider pushes to `annexa serve`: every change lands, each with its ledger entry, and
//! the ledger still verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;
use common::account;

use annexa_store::scim::{ScimWrite, ScimWritten};
use annexa_store::{NewImport, Store, StoreError};

const IMPORTERS: usize = 4;
const IMPORTS_EACH: usize = 5;
const PUSHERS: usize = 4;
const PUSHES_EACH: usize = 10;


fn import_now(store: &mut Store, system: &str, n: usize) -> Result<(), StoreError> {
    let systems = vec![system.to_string()];
    let accounts = vec![account(system, &format!("user{n}"))];
    store.import(&NewImport {
        actor: "importer",
        kind: annexa_core::model::ImportKind::Accounts,
        file: "accounts.csv",
        sha256: "ab",
        rows: 1,
        at: chrono::Utc::now(),
        systems: &systems,
        people: &[],
        accounts: &accounts,
        entitlements: &[],
        assignments: &[],
        badges: &[],
        jml_events: &[],
        quarantine: None,
    })?;
    Ok(())
}

fn push_now(store: &mut Store, pusher: usize, n: usize) -> Result<(), StoreError> {
    let id = format!("u-{pusher}-{n}");
    let name = format!("user-{pusher}-{n}");
    let write = ScimWrite {
        body: Some(serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": name}).to_string()),
        id,
        system: "okta".into(),
        resource_type: "User",
        unique_key: Some(name),
        expected_version: None,
        kind: "scim-created",
    };
    // Each writer catches up from the start: what it pulls is not what is tested here.
    match store.scim_change(0, |_, _| Ok::<(), StoreError>(()), || Ok(vec![write]), "okta-push", chrono::Utc::now())? {
        ScimWritten::Done { .. } => Ok(()),
        other => panic!("push {pusher}/{n}: {other:?}"),
    }
}

#[test]
fn concurrent_imports_and_scim_pushes_all_land_and_the_ledger_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in annexa_store::testing::fresh_databases(dir.path()) {
        Store::open(&url).expect("create");
        let start = std::sync::Barrier::new(IMPORTERS + PUSHERS);
        std::thread::scope(|scope| {
            for t in 0..IMPORTERS {
                let (url, start) = (&url, &start);
                scope.spawn(move || {
                    let mut store = Store::open(url).expect("open");
                    start.wait();
                    for n in 0..IMPORTS_EACH {
                        import_now(&mut store, &format!("sys{t}"), n).unwrap_or_else(|e| panic!("{url}: import {t}/{n}: {e}"));
                    }
                });
            }
            for p in 0..PUSHERS {
                let (url, start) = (&url, &start);
                scope.spawn(move || {
                    let mut store = Store::open(url).expect("open");
                    start.wait();
                    for n in 0..PUSHES_EACH {
                        push_now(&mut store, p, n).unwrap_or_else(|e| panic!("{url}: push {p}/{n}: {e}"));
                    }
                });
            }
        });
        let mut store = Store::open(&url).expect("open");
        assert_eq!(store.scim_resources("okta").expect("resources").len(), PUSHERS * PUSHES_EACH, "{url}");
        assert_eq!(store.current_imports().expect("imports").len(), IMPORTERS, "{url}");
        assert_eq!(store.ledger_size().expect("size") as usize, IMPORTERS * IMPORTS_EACH + PUSHERS * PUSHES_EACH, "{url}");
        let signer = annexa_ledger::note::NoteSigner::new("annexa.test/ledger", &[7u8; 32]).expect("signer");
        store.ledger_checkpoint(&signer, chrono::Utc::now()).expect("checkpoint");
        let mut verifier = annexa_ledger::verify::LogVerifier::new(
            &store.ledger_checkpoints().expect("checkpoints").into_iter().map(|c| (c.size, c.note)).collect::<Vec<_>>(),
            &signer.verifier(),
        )
        .expect("checkpoints verify");
        store
            .ledger_each(|e| {
                verifier
                    .feed(&annexa_ledger::verify::StoredEntry { seq: e.seq, body: &e.body, leaf_hash: e.leaf_hash })
                    .map_err(|t| StoreError::Corrupt(t.to_string()))
            })
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let verified = verifier.finish().unwrap_or_else(|t| panic!("{url}: {t}"));
        assert_eq!(verified.entries as usize, IMPORTERS * IMPORTS_EACH + PUSHERS * PUSHES_EACH);
    }
}
