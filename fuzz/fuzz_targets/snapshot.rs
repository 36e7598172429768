//! Fuzzes the store's snapshot codec: any bytes decode or are refused as corrupt, never a
//! panic (a damaged blob must never be misread as records).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = annexa_store::decode_snapshot(data);
});
