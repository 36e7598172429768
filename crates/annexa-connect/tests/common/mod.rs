//! Shared by the importers' tests: the example files of a format page, and several files
//! concatenated as the application passes them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_connect::ImportOptions;

/// The example files of `docs/formats/{page}.md` (fenced blocks with `file=NAME`), in order.
pub fn doc_files(page: &str) -> Vec<(String, String)> {
    let path = format!("{}/../../docs/formats/{page}.md", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match open.take() {
            None => {
                if let Some(name) = line.strip_prefix("```").and_then(|info| info.split_whitespace().find_map(|w| w.strip_prefix("file=")))
                {
                    open = Some((name.to_string(), String::new()));
                }
            }
            Some(file) if line.starts_with("```") => out.push(file),
            Some((name, mut content)) => {
                content.push_str(line);
                content.push('\n');
                open = Some((name, content));
            }
        }
    }
    assert!(!out.is_empty(), "{path}: no example files");
    out
}

/// `files` concatenated, with the options naming each part (and `system`).
pub fn concat(files: &[(String, String)], system: Option<&str>) -> (String, Vec<u8>, ImportOptions) {
    let mut bytes = Vec::new();
    let mut parts = Vec::new();
    for (name, content) in files {
        parts.push((name.clone(), bytes.len()));
        bytes.extend_from_slice(content.as_bytes());
    }
    let name = files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" + ");
    (name, bytes, ImportOptions { system: system.map(String::from), parts, ..Default::default() })
}
