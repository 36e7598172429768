//! Fuzzes the SCIM snapshot importer: any bytes are either a batch or an `ImportError`, never a panic.
#![no_main]

use annexa_connect::{parse, ImportKind, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(ImportKind::Scim, "fuzz", data, &ImportOptions { system: Some("s".into()), ..ImportOptions::default() });
});
