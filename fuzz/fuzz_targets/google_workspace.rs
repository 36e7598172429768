//! Fuzzes the Google Workspace importer, as one file (JSON or the admin console's CSV, as
//! its first character decides), leniently, and as two parts named like a users page and a
//! group's member list: any bytes are either a batch or an `ImportError`, never a panic.
#![no_main]

use annexa_connect::{parse, ImportKind, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(ImportKind::GoogleWorkspace, "fuzz", data, &ImportOptions::default());
    let _ = parse(ImportKind::GoogleWorkspace, "fuzz", data, &ImportOptions { lenient: true, ..ImportOptions::default() });
    let parts = vec![("users.json".to_string(), 0), ("groups/g1/members.json".to_string(), data.len() / 2)];
    let _ = parse(ImportKind::GoogleWorkspace, "fuzz", data, &ImportOptions { parts, ..ImportOptions::default() });
});
