//! Fuzzes the time parsers every importer relies on: any text is a time or `None`, never a panic.
#![no_main]

use annexa_core::time::{parse_date, parse_filetime, parse_generalized_time, parse_instant, parse_slashed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_instant(s);
        let _ = parse_date(s);
        let _ = parse_generalized_time(s);
        let _ = parse_filetime(s);
        let _ = parse_slashed(s);
    }
});
