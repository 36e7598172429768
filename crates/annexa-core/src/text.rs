//! How Annexa compares text that people and systems type: logins, names, attribute values.
//!
//! One name can reach Annexa in two Unicode encodings: "é" as one code point (U+00E9, NFC)
//! or as "e" followed by a combining accent (NFD, what macOS file systems and some HR tools
//! produce). They are the same name, so comparisons use the canonical composition (NFC).
//! Case is folded with Unicode lower-casing where a comparison ignores case. ASCII text,
//! nearly all of it, is returned as it is without allocating.
//!
//! ```
//! use annexa_core::text::{canonical, fold, login_key};
//! assert_eq!(canonical("Rene\u{301}"), "Ren\u{e9}");
//! assert_eq!(fold("RENE\u{301}"), fold("ren\u{e9}"));
//! assert_eq!(login_key(" Ren\u{e9}@Example.com "), "ren\u{e9}@example.com");
//! ```

use std::borrow::Cow;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// `s` in Unicode canonical composition (NFC); borrowed when it already is.
pub fn canonical(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// `s` composed and lower-cased: two strings are equal ignoring case and encoding exactly
/// when their folds are equal, and one contains, starts or ends with another (ignoring
/// case) exactly when their folds do.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    // Letter by letter (no final-sigma rule): then a fold of a part is a part of the fold,
    // which `co`, `sw` and `ew` indexes rely on.
    canonical(s).chars().flat_map(char::to_lowercase).collect()
}

/// What makes two logins the same login: surrounding white space, case and Unicode
/// encoding do not count.
pub fn login_key(login: &str) -> String {
    fold(login.trim())
}

/// What makes two e-mail addresses (or e-mail-shaped logins) the same: surrounding white
/// space, case and Unicode compatibility forms do not count. NFKC, not only NFC, because
/// directories and HR tools differ in more than encoding here (a full-width `＠` or a
/// ligature typed into one of them), and an address is an identifier, never prose.
/// Borrowed when it already is its own key (plain lower-case ASCII, the usual case).
pub fn email_key(address: &str) -> Cow<'_, str> {
    let t = address.trim();
    if t.is_ascii() {
        return if t.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(t.to_ascii_lowercase()) } else { Cow::Borrowed(t) };
    }
    let lower: String = t.nfkc().flat_map(char::to_lowercase).collect();
    // Lower-casing can leave text that composes differently (e.g. a capital with a
    // combining mark): normalise once more so that the key is stable.
    Cow::Owned(lower.nfkc().collect())
}

/// Whether `login` is shaped like an e-mail address (`local@domain.tld`), as the login of
/// Okta, Entra ID, Google Workspace and many AWS IAM users is: then it can stand for the
/// account's e-mail. Down-level (`DOMAIN\user`) and bare names are not.
pub fn is_email_shaped(login: &str) -> bool {
    let t = login.trim();
    match t.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains('@')
                && !t.contains(char::is_whitespace)
                && !t.contains('\\')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// The first control character of `s` (C0, DEL or C1: NUL, CR, LF, ESC, …) and its
/// character position, if any: such characters have no place in a login or a name, and
/// in a log line or a CSV cell they can forge content.
pub fn control_char(s: &str) -> Option<(usize, char)> {
    s.chars().enumerate().find(|(_, c)| c.is_control())
}

/// `cell` made safe for a spreadsheet: a cell that begins with `=`, `+`, `-`, `@`, a tab or
/// a carriage return is a formula to Excel, LibreOffice and Google Sheets (formula
/// injection: a display name `=HYPERLINK(…)` in an export would run when opened), so it gets
/// a leading apostrophe, which they show as text. Every CSV and XLSX cell Annexa writes goes
/// through this.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Text made safe for HTML content and quoted attribute values (the report, the SoA page,
/// the server's pages that are not templates).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_keys_fold_case_and_compatibility_forms() {
        assert_eq!(email_key("\u{c5}SA.Berg@Example.com"), "\u{e5}sa.berg@example.com");
        assert_eq!(email_key("A\u{30a}sa.berg@example.com"), "\u{e5}sa.berg@example.com");
        assert_eq!(email_key("ada\u{ff20}example.com"), "ada@example.com");
        assert_eq!(email_key(" ada@example.com "), "ada@example.com");
        assert!(matches!(email_key("ada@example.com"), Cow::Borrowed(_)));
        assert!(is_email_shaped("ada.lovelace@example.com"));
        for not in ["ada", "CORP\\ada", "ada@localhost", "@example.com", "ada@.com", "a b@example.com", "ada@example."] {
            assert!(!is_email_shaped(not), "{not}");
        }
    }

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        for bad in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "=HYPERLINK(\"http://x\")"] {
            assert_eq!(spreadsheet_safe(bad), format!("'{bad}"));
        }
        for fine in ["alice", "A.5.18", "", "1-2", "a=b", " =x"] {
            assert_eq!(spreadsheet_safe(fine), fine);
        }
    }

    #[test]
    fn two_encodings_of_one_name_are_one_name() {
        let (nfc, nfd) = ("Jos\u{e9} Mu\u{f1}oz", "Jose\u{301} Mun\u{303}oz");
        assert_ne!(nfc, nfd);
        assert_eq!(canonical(nfd), nfc);
        assert!(matches!(canonical(nfc), Cow::Borrowed(_)));
        assert_eq!(fold(nfd), fold(&nfc.to_uppercase()));
        assert_eq!(login_key("  BJensen@Example.COM\t"), "bjensen@example.com");
        // Compatibility forms stay distinct: "ﬁ" (U+FB01) is not "fi".
        assert_ne!(fold("\u{fb01}le"), fold("file"));
    }

    #[test]
    fn control_characters_are_found() {
        for (s, want) in [("bob", None), ("b\u{0}ob", Some((1, '\u{0}'))), ("bob\r\n", Some((3, '\r'))), ("\u{85}x", Some((0, '\u{85}'))), ("ren\u{e9}", None)] {
            assert_eq!(control_char(s), want, "{s:?}");
        }
    }
}
