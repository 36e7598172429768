//! Ledger entries and their canonical form.
//!
//! An entry is a JSON object with five members: `seq` (its position, from 0), `time` (RFC
//! 3339 UTC, whole seconds), `actor`, `kind` (`import`, `audit-run`, `finding-opened`, ...)
//! and `data` (what changed, with values before and after for updates). Its canonical form,
//! which the leaf hash covers, is JSON with every object's members sorted by key (UTF-8
//! byte order), no insignificant whitespace, strings escaped as JSON requires and nothing
//! more, integers in plain decimal. Anyone can recompute a leaf hash from an exported
//! entry with any JSON library that can sort keys.

use serde_json::Value;

/// The canonical JSON of `value`.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The canonical body of entry `seq`.
pub fn entry_body(seq: u64, time_rfc3339: &str, actor: &str, kind: &str, data: &Value) -> String {
    let mut map = serde_json::Map::new();
    map.insert("seq".into(), Value::from(seq));
    map.insert("time".into(), Value::from(time_rfc3339));
    map.insert("actor".into(), Value::from(actor));
    map.insert("kind".into(), Value::from(kind));
    map.insert("data".into(), data.clone());
    canonical(&Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_at_every_depth_and_nothing_is_padded() {
        let v: Value = serde_json::from_str(r#"{ "b": 1, "a": { "z": [true, null, "x\"y"], "m": -3 } }"#).expect("json");
        assert_eq!(canonical(&v), r#"{"a":{"m":-3,"z":[true,null,"x\"y"]},"b":1}"#);
        let body = entry_body(7, "2026-01-01T00:00:00Z", "ada", "import", &serde_json::json!({"file": "hr.csv"}));
        assert_eq!(body, r#"{"actor":"ada","data":{"file":"hr.csv"},"kind":"import","seq":7,"time":"2026-01-01T00:00:00Z"}"#);
    }
}
