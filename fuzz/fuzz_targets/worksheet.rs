//! Fuzzes the reader of returned review worksheets (CSV and XLSX): any bytes are rows or a
//! `ReportError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = [7u8; 32];
    for name in ["fuzz.csv", "fuzz.xlsx"] {
        let _ = annexa_report::worksheet::read_bytes(std::path::Path::new(name), data, &key);
    }
});
