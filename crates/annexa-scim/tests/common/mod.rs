//! The RFC 7643/7644 example payloads in the shared sample directory.

use std::path::PathBuf;

use serde_json::Value;

/// The shared SCIM sample directory, or `None` (skip) when it is absent outside CI.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/samples/scim/");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "sample SCIM directory {} is missing", dir.display());
    eprintln!("skipping: sample SCIM directory {} is missing", dir.display());
    None
}

/// One sample file, parsed.
pub fn load(dir: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}
