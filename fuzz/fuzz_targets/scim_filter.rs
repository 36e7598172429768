#![no_main]
//! SCIM filters and PATCH paths arrive from any client: neither parser may panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = annexa_scim::parse_filter(text);
        let _ = annexa_scim::parse_path(text);
    }
});
