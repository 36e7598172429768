//! Fuzzes the accounts importer: any bytes are either a batch or an `ImportError`, never a panic.
#![no_main]

use annexa_connect::{parse, ImportKind, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(ImportKind::Accounts, "fuzz", data, &ImportOptions::default());
});
