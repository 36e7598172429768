//! Fuzzes the Okta importer, as one file and as two parts named like a users listing and a
//! group's member list: any bytes are either a batch or an `ImportError`, never a panic.
#![no_main]

use annexa_connect::{parse, ImportKind, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(ImportKind::Okta, "fuzz", data, &ImportOptions::default());
    let parts = vec![("users.json".to_string(), 0), ("groups/00g1/users.json".to_string(), data.len() / 2)];
    let _ = parse(ImportKind::Okta, "fuzz", data, &ImportOptions { parts, ..ImportOptions::default() });
});
