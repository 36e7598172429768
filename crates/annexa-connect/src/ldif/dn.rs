//! Distinguished-name comparison: exports write the same DN with different case and
//! spacing (`uid=nd, ou=People` in one attribute, `UID=nd,ou=people` in another), so
//! references are matched on a normalised form, never on the text as written.

/// `dn` lower-cased, with the whitespace around unescaped `,`, `+` and `=` removed.
/// Escaped characters (`\,`, a trailing `\ `) stay part of their value.
pub(super) fn normalize(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    // Whitespace is held back until we know whether a separator follows it.
    let mut pending = String::new();
    let mut after_separator = true;
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            ',' | '+' | '=' => {
                pending.clear();
                out.push(c);
                after_separator = true;
            }
            c if c.is_whitespace() => {
                if !after_separator {
                    pending.push(c);
                }
            }
            '\\' => {
                out.push_str(&pending);
                pending.clear();
                out.push('\\');
                if let Some(escaped) = chars.next() {
                    out.extend(escaped.to_lowercase());
                }
                after_separator = false;
            }
            c => {
                out.push_str(&pending);
                pending.clear();
                out.extend(c.to_lowercase());
                after_separator = false;
            }
        }
    }
    out
}

/// A `uniqueMember` value may carry an optional bit-string UID (`cn=x,dc=y#'0101'B`,
/// RFC 4517 NameAndOptionalUID) that is not part of the DN.
pub(super) fn strip_optional_uid(value: &str) -> &str {
    match value.rfind("#'") {
        Some(i) if value.ends_with("'B") => value.get(..i).unwrap_or(value),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_case_do_not_matter_but_escapes_do() {
        assert_eq!(normalize("uid=nd, ou=People, dc=example, dc=com"), "uid=nd,ou=people,dc=example,dc=com");
        assert_eq!(normalize(" CN = Neil Dunbar ,OU=People "), "cn=neil dunbar,ou=people");
        assert_eq!(normalize(r"cn=Doe\, John,dc=x"), r"cn=doe\, john,dc=x");
        assert_eq!(normalize(r"cn=trailing\ ,dc=x"), r"cn=trailing\ ,dc=x");
        assert_eq!(strip_optional_uid("cn=a,dc=b#'0101'B"), "cn=a,dc=b");
        assert_eq!(strip_optional_uid("cn=a#b,dc=c"), "cn=a#b,dc=c");
    }
}
