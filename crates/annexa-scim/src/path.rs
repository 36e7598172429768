//! PATCH paths (RFC 7644 §3.5.2, "PATH = attrPath / valuePath [subAttr]").

use std::fmt;

use crate::filter::{AttrPath, Filter, FilterError, Parser, SyntaxKind};

/// The target of a PATCH operation: `attr`, `attr.sub`, `urn:…:attr`, `attr[filter]` or
/// `attr[filter].sub`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute, with its schema URN if written. Its `sub_attr` is the sub-attribute
    /// the operation addresses — after the value filter when there is one
    /// (`addresses[type eq "work"].streetAddress`).
    pub attr: AttrPath,
    /// The value selection filter (`valuePath`), whose paths are relative to one value.
    pub filter: Option<Filter>,
}

/// Parses a PATCH path.
///
/// Errors in the value filter between `[` and `]` are `invalidFilter`; every other error is
/// `invalidPath`. A value filter may only follow a plain attribute (`name.x[…]` has no
/// meaning in SCIM, whose complex attributes do not nest), and no whitespace is allowed
/// outside the brackets.
pub fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(input, SyntaxKind::InvalidPath, "path")?;
    if p.at_end() {
        return Err(p.err(0, "empty path: expected an attribute name"));
    }
    let mut attr = p.parse_attr_path()?;
    let mut filter = None;
    if p.peek() == Some(b'[') {
        if attr.sub_attr.is_some() {
            return Err(p.err(p.pos, "a value filter '[…]' must follow an attribute, not a sub-attribute"));
        }
        p.kind = SyntaxKind::InvalidFilter;
        filter = Some(p.parse_value_filter()?);
        p.kind = SyntaxKind::InvalidPath;
        if p.peek() == Some(b'.') {
            p.pos += 1;
            attr.sub_attr = Some(p.parse_attr_name("a sub-attribute name after '.'")?);
        }
    }
    if !p.at_end() {
        let found = p.found();
        let expected = if filter.is_some() || attr.sub_attr.is_some() {
            "the end of the path"
        } else {
            "'.', '[' or the end of the path"
        };
        return Err(p.err(p.pos, format!("expected {expected}, found {found}")));
    }
    Ok(PatchPath { attr, filter })
}

impl std::str::FromStr for PatchPath {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_path(s)
    }
}

/// Writes the path in the RFC's syntax; parsing the text gives back an equal path.
impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => write!(f, "{}", self.attr),
            Some(filter) => {
                if let Some(schema) = &self.attr.schema {
                    write!(f, "{schema}:")?;
                }
                write!(f, "{}[{filter}]", self.attr.name)?;
                if let Some(sub) = &self.attr.sub_attr {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}
