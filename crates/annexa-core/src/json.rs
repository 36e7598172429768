//! JSON text written straight into a buffer, byte for byte as `serde_json` writes the same
//! values: for the few shapes written millions of times (a first audit's finding bodies),
//! where `serde_json` looks at every byte of every string on its own and formats each
//! instant through `fmt`. Everything else goes through `serde_json`.

use crate::time::Instant;

/// Whether `serde_json` escapes byte `b` in a string: the quote, the backslash and the
/// control characters below space (not DEL, not anything beyond ASCII).
fn escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it: `\"`, `\\`, the short
/// forms `\b \t \n \f \r`, `\u00XX` for the other control characters; the rest as it is.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    // Sixteen bytes at a time while none needs escaping (the usual case): a check of a
    // whole block compiles to a few vector instructions.
    while i + 16 <= bytes.len() {
        if !bytes[i..i + 16].iter().fold(false, |any, &b| any | escaped(b)) {
            i += 16;
            continue;
        }
        for &b in &bytes[i..i + 16] {
            if escaped(b) {
                out.extend_from_slice(&bytes[start..i]);
                push_escape(out, b);
                start = i + 1;
            }
            i += 1;
        }
    }
    while i < bytes.len() {
        let b = bytes[i];
        if escaped(b) {
            out.extend_from_slice(&bytes[start..i]);
            push_escape(out, b);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\n' => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\r' => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]),
    }
}

/// Appends an integer as JSON does.
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends an instant as its `serde` form does (RFC 3339 in UTC, `Z`, fractions of a
/// second only when there are any): whole seconds of years 0 to 9999 written here, the
/// rest by chrono.
pub fn push_instant(out: &mut Vec<u8>, t: &Instant) {
    use chrono::{Datelike, Timelike};
    let (date, time) = (t.date_naive(), t.time());
    if time.nanosecond() != 0 || !(0..=9999).contains(&date.year()) {
        // INVARIANT: an instant always serialises (to a string).
        let _ = serde_json::to_writer(&mut *out, t);
        return;
    }
    let two = |n: u32| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
    let year = date.year() as u32;
    out.push(b'"');
    out.extend_from_slice(&two(year / 100));
    out.extend_from_slice(&two(year % 100));
    out.push(b'-');
    out.extend_from_slice(&two(date.month()));
    out.push(b'-');
    out.extend_from_slice(&two(date.day()));
    out.push(b'T');
    out.extend_from_slice(&two(time.hour()));
    out.push(b':');
    out.extend_from_slice(&two(time.minute()));
    out.push(b':');
    out.extend_from_slice(&two(time.second()));
    out.extend_from_slice(b"Z\"");
}

/// Appends `key` and the colon of an object's member, after a comma unless `first`.
pub fn push_key(out: &mut Vec<u8>, first: bool, key: &str) {
    if !first {
        out.push(b',');
    }
    push_str(out, key);
    out.push(b':');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut awkward: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "Åsa Berg/Ärzte \u{2028} \u{7f} ✓".into(),
            "\"quoted\" \\ back\\slash".into(),
            (0u8..0x20).map(char::from).collect(),
        ];
        // Escapes at every place of a sixteen-byte block, and across blocks.
        for at in 0..40 {
            let mut s: String = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH".chars().take(41).collect();
            s.insert(at, ['"', '\\', '\n', '\u{1}', '\u{1f}'][at % 5]);
            awkward.push(s);
        }
        for s in awkward {
            let mut out = Vec::new();
            push_str(&mut out, &s);
            assert_eq!(String::from_utf8(out).expect("utf-8"), serde_json::to_string(&s).expect("json"), "{s:?}");
        }
    }

    #[test]
    fn integers_and_instants_are_written_as_serde_json_writes_them() {
        for n in [0, 7, -7, 10, 870_449, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_int(&mut out, n);
            assert_eq!(String::from_utf8(out).expect("utf-8"), n.to_string());
        }
        for t in ["2025-12-05T09:00:00Z", "0001-01-01T00:00:00Z", "2026-03-02T23:59:59.250Z", "1999-12-31T00:00:00.000001Z"] {
            let t: Instant = chrono::DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&chrono::Utc)).expect("instant");
            let mut out = Vec::new();
            push_instant(&mut out, &t);
            assert_eq!(String::from_utf8(out).expect("utf-8"), serde_json::to_string(&t).expect("json"));
        }
        for t in [Instant::MIN_UTC, Instant::MAX_UTC] {
            let mut out = Vec::new();
            push_instant(&mut out, &t);
            assert_eq!(String::from_utf8(out).expect("utf-8"), serde_json::to_string(&t).expect("json"));
        }
    }
}
