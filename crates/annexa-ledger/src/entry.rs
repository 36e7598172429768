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
    let mut out = Vec::with_capacity(256);
    write(value, &mut out);
    into_string(out)
}

// Written straight into one buffer: an audit's ledger entries name a thousand findings
// each, and a copy or a small string per member was most of what appending them cost.
fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                leaf(key, out);
                out.push(b':');
                write(member, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(v, out);
            }
            out.push(b']');
        }
        other => leaf(other, out),
    }
}

/// A string, number, boolean or null, as serde_json writes it (its escaping is the one the
/// canonical form names).
fn leaf<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // INVARIANT: plain values always serialise, and writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn into_string(out: Vec<u8>) -> String {
    // serde_json writes UTF-8 only; the lossy path is never taken.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// What an entry records: a JSON value, or one already written in canonical form (by
/// whoever had its parts at hand, on another thread: an audit's findings).
#[derive(Clone, Copy)]
pub enum Data<'a> {
    Value(&'a Value),
    /// Canonical JSON text, written as it is: the caller answers for its form.
    Canonical(&'a str),
}

/// The canonical body of entry `seq`: its members in key order, `data` written in place.
pub fn entry_body(seq: u64, time_rfc3339: &str, actor: &str, kind: &str, data: &Value) -> String {
    entry_body_of(seq, time_rfc3339, actor, kind, Data::Value(data))
}

/// [`entry_body`] of data in either form.
pub fn entry_body_of(seq: u64, time_rfc3339: &str, actor: &str, kind: &str, data: Data<'_>) -> String {
    let mut out = Vec::with_capacity(match data {
        Data::Value(_) => 256,
        Data::Canonical(text) => text.len() + 128,
    });
    out.extend_from_slice(b"{\"actor\":");
    leaf(actor, &mut out);
    out.extend_from_slice(b",\"data\":");
    match data {
        Data::Value(v) => write(v, &mut out),
        Data::Canonical(text) => out.extend_from_slice(text.as_bytes()),
    }
    out.extend_from_slice(b",\"kind\":");
    leaf(kind, &mut out);
    out.extend_from_slice(b",\"seq\":");
    leaf(&seq, &mut out);
    out.extend_from_slice(b",\"time\":");
    leaf(time_rfc3339, &mut out);
    out.push(b'}');
    into_string(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escaping and the numbers are serde_json's, byte for byte, as the entries already
    /// stored were written: their leaf hashes must come out the same.
    #[test]
    fn strings_and_numbers_are_written_as_before() {
        let v = serde_json::json!({
            "z": "tab\there \"quoted\" back\\slash \u{1} é 😀 \u{7f}",
            "a": [1.5, -3, 0, 18446744073709551615u64, true, null, ""],
            "é": { "b": [], "a": {} },
        });
        assert_eq!(
            canonical(&v),
            "{\"a\":[1.5,-3,0,18446744073709551615,true,null,\"\"],\"z\":\"tab\\there \\\"quoted\\\" back\\\\slash \\u0001 é 😀 \u{7f}\",\"é\":{\"a\":{},\"b\":[]}}"
        );
        let body = entry_body(u64::MAX, "t", "a\"b", "k", &v);
        assert!(body.starts_with("{\"actor\":\"a\\\"b\",\"data\":{\"a\":"), "{body}");
        assert!(body.ends_with(",\"kind\":\"k\",\"seq\":18446744073709551615,\"time\":\"t\"}"), "{body}");
    }

    #[test]
    fn keys_are_sorted_at_every_depth_and_nothing_is_padded() {
        let v: Value = serde_json::from_str(r#"{ "b": 1, "a": { "z": [true, null, "x\"y"], "m": -3 } }"#).expect("json");
        assert_eq!(canonical(&v), r#"{"a":{"m":-3,"z":[true,null,"x\"y"]},"b":1}"#);
        let body = entry_body(7, "2026-01-01T00:00:00Z", "ada", "import", &serde_json::json!({"file": "hr.csv"}));
        assert_eq!(body, r#"{"actor":"ada","data":{"file":"hr.csv"},"kind":"import","seq":7,"time":"2026-01-01T00:00:00Z"}"#);
    }
}
