//! Fuzzes the GitHub importer, as one file and as parts named like a members listing, a
//! `2fa_disabled` listing and a team's member list: any bytes are either a batch or an
//! `ImportError`, never a panic.
#![no_main]

use annexa_connect::{parse, ImportKind, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse(ImportKind::Github, "fuzz", data, &ImportOptions::default());
    let parts = vec![
        ("members.json".to_string(), 0),
        ("members-2fa_disabled.json".to_string(), data.len() / 3),
        ("teams/core/members.json".to_string(), 2 * data.len() / 3),
    ];
    let _ = parse(ImportKind::Github, "fuzz", data, &ImportOptions { parts, ..ImportOptions::default() });
});
