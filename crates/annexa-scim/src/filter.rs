//! The filter language of RFC 7644 §3.4.2.2: the syntax tree, its parser, and its errors.
//!
//! The parser is a hand-written recursive descent over the bytes of the input. Recursion only
//! happens at `(`, `not (` and `[`, and is bounded by [`MAX_DEPTH`]; chains of `and`/`or` are
//! parsed by loops into flat lists, so a long filter never makes a deep tree (which would
//! otherwise overflow the stack when evaluated or dropped).

use std::fmt;

/// The longest filter (or PATCH path) accepted, in bytes. Real filters are short; the limit
/// bounds the work an untrusted request can cause.
pub const MAX_FILTER_LEN: usize = 16 * 1024;

/// The deepest nesting of `( )`, `not ( )` and `[ ]` accepted.
pub const MAX_DEPTH: usize = 64;

/// An attribute path (RFC 7644 §3.10): `[schema URN ":"] name ["." subAttr]`.
///
/// Names keep the spelling of the input; every comparison of names is case-insensitive
/// (RFC 7643 §2.1), so `UserName` and `userName` name the same attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN the path is qualified with, e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub schema: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute of a complex attribute (`name.familyName`), if any.
    pub sub_attr: Option<String>,
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3), `pr` excepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// The operator as written in a filter, lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn from_word(word: &str) -> Option<CompareOp> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
    }

    fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

/// A comparison value (`compValue` of the ABNF): a JSON literal.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number, integer or decimal.
    Number(serde_json::Number),
    /// A JSON string, escapes decoded.
    String(String),
}

/// A parsed filter.
///
/// `And` and `Or` hold two or more operands each; `a and b and c` is one `And` of three, and
/// `a or b and c` is `Or([a, And([b, c])])` because `and` binds tighter. Parentheses leave no
/// node of their own: they only shape the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attrPath op value`.
    Compare(AttrPath, CompareOp, CompValue),
    /// `attrPath[filter]`: some value of a multi-valued attribute matches the inner filter,
    /// whose attribute paths are relative to that value.
    ValuePath(AttrPath, Box<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// Every operand matches.
    And(Vec<Filter>),
    /// Some operand matches.
    Or(Vec<Filter>),
}

/// What an error makes of the request: SCIM's `scimType` (RFC 7644 §3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxKind {
    /// The filter is malformed: `invalidFilter`.
    InvalidFilter,
    /// A PATCH path is malformed outside its value filter: `invalidPath`.
    InvalidPath,
}

/// A filter or PATCH path that does not parse: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {position})")]
pub struct FilterError {
    position: usize,
    message: String,
    kind: SyntaxKind,
}

impl FilterError {
    pub(crate) fn new(position: usize, message: impl Into<String>, kind: SyntaxKind) -> Self {
        FilterError { position, message: message.into(), kind }
    }

    /// The byte offset in the input where the problem was found.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What went wrong, naming what was expected and what was found.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the filter or the path around it is at fault.
    pub fn kind(&self) -> SyntaxKind {
        self.kind
    }

    /// The SCIM `scimType` to answer with: `invalidFilter` or `invalidPath`.
    pub fn scim_type(&self) -> &'static str {
        match self.kind {
            SyntaxKind::InvalidFilter => "invalidFilter",
            SyntaxKind::InvalidPath => "invalidPath",
        }
    }
}

/// Parses a filter (RFC 7644 §3.4.2.2, Figure 1).
///
/// Accepted beyond the letter of the ABNF, because real clients (and the RFC's own examples)
/// send it: any run of whitespace where the ABNF has one `SP`; whitespace inside `( )` and
/// `[ ]`; `not(`; no space between an operator and its value (`value eq"x"`, as in the RFC's
/// PATCH example). Keywords, operators and the literals `true`, `false` and `null` are
/// case-insensitive.
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(input, SyntaxKind::InvalidFilter, "filter")?;
    p.skip_ws();
    if p.at_end() {
        return Err(p.err(p.pos, "empty filter: expected an attribute path, '(' or 'not'"));
    }
    let filter = p.parse_or(false)?;
    p.skip_ws();
    if !p.at_end() {
        let found = p.found();
        return Err(p.err(p.pos, format!("expected 'and', 'or' or the end of the filter, found {found}")));
    }
    Ok(filter)
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_filter(s)
    }
}

/// The parser state, shared with the PATCH path parser.
pub(crate) struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pub(crate) pos: usize,
    depth: usize,
    /// What errors are reported as; the path parser switches it inside `[ ]`.
    pub(crate) kind: SyntaxKind,
    /// "filter" or "path", for "end of the …" in messages.
    what: &'static str,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, kind: SyntaxKind, what: &'static str) -> Result<Self, FilterError> {
        if src.len() > MAX_FILTER_LEN {
            // Report the last character boundary within the limit, so that the position can
            // always be used to slice the input.
            let position = (0..=MAX_FILTER_LEN).rev().find(|&i| src.is_char_boundary(i)).unwrap_or(0);
            return Err(FilterError::new(position, format!("{what} is longer than {MAX_FILTER_LEN} bytes"), kind));
        }
        Ok(Parser { src, bytes: src.as_bytes(), pos: 0, depth: 0, kind, what })
    }

    pub(crate) fn err(&self, position: usize, message: impl Into<String>) -> FilterError {
        FilterError::new(position, message, self.kind)
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Skips whitespace (space, tab, CR, LF, FF).
    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// A short quotation of the input at the current position, for error messages.
    pub(crate) fn found(&self) -> String {
        self.found_at(self.pos)
    }

    fn found_at(&self, pos: usize) -> String {
        match self.src.get(pos..) {
            Some(rest) if !rest.is_empty() => {
                let first = rest.chars().next().filter(|c| !c.is_ascii_alphanumeric());
                let frag: String = match first {
                    // A lone punctuation character says more than the run it starts.
                    Some(c) => c.to_string(),
                    None => rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .take(24)
                        .collect(),
                };
                format!("'{frag}'")
            }
            _ => format!("the end of the {}", self.what),
        }
    }

    /// The run of ASCII letters at the current position (keywords and operators).
    fn word(&self) -> &'a str {
        let end = self.bytes[self.pos.min(self.bytes.len())..]
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .map_or(self.bytes.len(), |n| self.pos + n);
        self.src.get(self.pos..end).unwrap_or("")
    }

    fn enter(&mut self, at: usize) -> Result<(), FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(at, format!("{} nested deeper than {MAX_DEPTH} levels", self.what)));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// `or`-level: operands separated by `or`.
    pub(crate) fn parse_or(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut items = vec![self.parse_and(in_value)?];
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.word().eq_ignore_ascii_case("or") {
                self.pos += 2;
                items.push(self.parse_and(in_value)?);
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Filter::Or(items) })
    }

    /// `and`-level: operands separated by `and`, which binds tighter than `or`.
    fn parse_and(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut items = vec![self.parse_unary(in_value)?];
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.word().eq_ignore_ascii_case("and") {
                self.pos += 3;
                items.push(self.parse_unary(in_value)?);
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Filter::And(items) })
    }

    /// A group, a negation, an attribute expression or a value path.
    fn parse_unary(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some(b'(') {
            return self.parse_group(in_value);
        }
        if self.word().eq_ignore_ascii_case("not") {
            // `not` is only the operator when a `(` follows; otherwise it is an attribute
            // that happens to be called "not".
            let save = self.pos;
            self.pos += 3;
            self.skip_ws();
            if self.peek() == Some(b'(') {
                let inner = self.parse_group(in_value)?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            self.pos = save;
        }
        if !self.peek().is_some_and(|b| b.is_ascii_alphabetic() || b == b'$') {
            let found = self.found();
            return Err(self.err(start, format!("expected an attribute path, '(' or 'not', found {found}")));
        }
        self.parse_attr_expr(in_value)
    }

    /// `( filter )`, the current byte being `(`.
    fn parse_group(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        let inner = self.parse_or(in_value)?;
        self.skip_ws();
        if self.peek() != Some(b')') {
            let found = self.found();
            return Err(self
                .err(self.pos, format!("expected 'and', 'or' or ')' closing the '(' at byte {open}, found {found}")));
        }
        self.pos += 1;
        self.leave();
        Ok(inner)
    }

    /// `attrPath pr`, `attrPath op value` or `attrPath[valFilter]`.
    fn parse_attr_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let path = self.parse_attr_path()?;
        if self.peek() == Some(b'[') {
            let open = self.pos;
            if in_value {
                return Err(self.err(open, "a value filter '[…]' cannot be nested inside another value filter"));
            }
            let inner = self.parse_value_filter()?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let after_path = self.pos;
        self.skip_ws();
        if self.pos == after_path && !self.at_end() {
            let found = self.found();
            return Err(self.err(self.pos, format!("unexpected {found} after attribute path")));
        }
        let op_at = self.pos;
        let word = self.word();
        if word.is_empty() {
            let found = self.found();
            return Err(self.err(
                op_at,
                format!("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found {found}"),
            ));
        }
        self.pos += word.len();
        if word.eq_ignore_ascii_case("pr") {
            self.reject_value_after_pr()?;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_word(word) else {
            return Err(self
                .err(op_at, format!("unknown operator '{word}' (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)")));
        };
        self.skip_ws();
        let value_at = self.pos;
        let value = self.parse_value()?;
        check_operand(op, &value).map_err(|m| self.err(value_at, m))?;
        Ok(Filter::Compare(path, op, value))
    }

    /// `[ valFilter ]`, the current byte being `[`.
    pub(crate) fn parse_value_filter(&mut self) -> Result<Filter, FilterError> {
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b']') {
            return Err(self.err(self.pos, "empty value filter: expected an attribute path, '(' or 'not'"));
        }
        let inner = self.parse_or(true)?;
        self.skip_ws();
        if self.peek() != Some(b']') {
            let found = self.found();
            return Err(self
                .err(self.pos, format!("expected 'and', 'or' or ']' closing the '[' at byte {open}, found {found}")));
        }
        self.pos += 1;
        self.leave();
        Ok(inner)
    }

    /// `pr` takes no value; say so rather than "expected 'and' or 'or'".
    fn reject_value_after_pr(&mut self) -> Result<(), FilterError> {
        let save = self.pos;
        self.skip_ws();
        let next = self.peek();
        let word = self.word();
        let looks_like_value = matches!(next, Some(b'"' | b'-' | b'0'..=b'9'))
            || ["true", "false", "null"].iter().any(|w| w.eq_ignore_ascii_case(word));
        if looks_like_value {
            return Err(self.err(self.pos, "the 'pr' operator takes no comparison value"));
        }
        self.pos = save;
        Ok(())
    }

    /// `[URN ":"] ATTRNAME ["." ATTRNAME]`.
    pub(crate) fn parse_attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        let mut schema = None;
        let rest = self.src.get(start..).unwrap_or("");
        if rest.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            // A schema URN contains ':' and '.' ("…:core:2.0:User"); attribute names contain
            // neither ':' nor a second '.', so the URN ends at the last ':' of the token.
            let token_len = rest
                .bytes()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-' | b'_' | b'$')))
                .unwrap_or(rest.len());
            let token = rest.get(..token_len).unwrap_or("");
            let colon = token.rfind(':').unwrap_or(3);
            let urn = token.get(..colon).unwrap_or("");
            if urn.len() <= 4 {
                return Err(
                    self.err(start, "expected a schema URN such as 'urn:ietf:params:scim:schemas:core:2.0:User'")
                );
            }
            schema = Some(urn.to_string());
            self.pos = start + colon + 1;
            if !self.peek().is_some_and(|b| b.is_ascii_alphabetic() || b == b'$') {
                let found = self.found();
                return Err(
                    self.err(self.pos, format!("expected an attribute name after the schema URN, found {found}"))
                );
            }
        }
        let name = self.parse_attr_name("an attribute name")?;
        let mut sub_attr = None;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            sub_attr = Some(self.parse_attr_name("a sub-attribute name after '.'")?);
            if self.peek() == Some(b'.') {
                return Err(self.err(self.pos, "an attribute path has at most one sub-attribute"));
            }
        }
        Ok(AttrPath { schema, name, sub_attr })
    }

    /// `ATTRNAME = ALPHA *(nameChar)`, plus a leading `$` for `$ref` (RFC 7643 §2.4 uses
    /// `$ref` as a sub-attribute name although the ABNF has no `$`).
    pub(crate) fn parse_attr_name(&mut self, expected: &str) -> Result<String, FilterError> {
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'$' => self.pos += 1,
            _ => {
                let found = self.found();
                return Err(self.err(start, format!("expected {expected}, found {found}")));
            }
        }
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            self.pos += 1;
        }
        if self.src.get(start..self.pos) == Some("$") {
            return Err(self.err(start, format!("expected {expected}, found '$'")));
        }
        Ok(self.src.get(start..self.pos).unwrap_or("").to_string())
    }

    /// A JSON string, number, `true`, `false` or `null`, followed by a delimiter.
    fn parse_value(&mut self) -> Result<CompValue, FilterError> {
        const EXPECTED: &str = "expected a comparison value (a \"quoted string\", a number, true, false or null)";
        let start = self.pos;
        let value = match self.peek() {
            Some(b'"') => CompValue::String(self.parse_string()?),
            Some(b'-' | b'0'..=b'9') => CompValue::Number(self.parse_number()?),
            Some(b) if b.is_ascii_alphabetic() => {
                let word = self.word();
                let value = if word.eq_ignore_ascii_case("true") {
                    CompValue::Bool(true)
                } else if word.eq_ignore_ascii_case("false") {
                    CompValue::Bool(false)
                } else if word.eq_ignore_ascii_case("null") {
                    CompValue::Null
                } else {
                    let found = self.found();
                    return Err(self.err(start, format!("{EXPECTED}, found {found} (strings must be quoted)")));
                };
                self.pos += word.len();
                value
            }
            _ => {
                let found = self.found();
                return Err(self.err(start, format!("{EXPECTED}, found {found}")));
            }
        };
        match self.peek() {
            None | Some(b')' | b']') => Ok(value),
            Some(b) if b.is_ascii_whitespace() => Ok(value),
            Some(_) => {
                let found = self.found();
                Err(self.err(self.pos, format!("expected whitespace, ')' or ']' after the value, found {found}")))
            }
        }
    }

    /// A JSON number (RFC 8259 §6), validated and converted by serde_json.
    fn parse_number(&mut self) -> Result<serde_json::Number, FilterError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
            self.pos += 1;
        }
        let text = self.src.get(start..self.pos).unwrap_or("");
        serde_json::from_str::<serde_json::Number>(text)
            .map_err(|_| self.err(start, format!("invalid number '{text}' (expected a JSON number)")))
    }

    /// A JSON string (RFC 8259 §7), the current byte being the opening quote.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one piece; it ends on an ASCII byte, so
            // the slice boundaries are character boundaries.
            let run_start = self.pos;
            while self.peek().is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            out.push_str(self.src.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                None => return Err(self.err(open, format!("unterminated string starting at byte {open}"))),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.parse_unicode_escape(esc_at)?;
                            out.push(c);
                            continue;
                        }
                        None => return Err(self.err(open, format!("unterminated string starting at byte {open}"))),
                        Some(_) => {
                            let found = self.found();
                            return Err(self.err(esc_at, format!("invalid escape '\\' followed by {found} in string")));
                        }
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.err(self.pos, "control character in string (it must be escaped)"));
                }
            }
        }
    }

    /// The `XXXX` of `\uXXXX` (and a second `\uXXXX` for a surrogate pair).
    fn parse_unicode_escape(&mut self, esc_at: usize) -> Result<char, FilterError> {
        let high = self.hex4(esc_at)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if self.bytes.get(self.pos) != Some(&b'\\') || self.bytes.get(self.pos + 1) != Some(&b'u') {
                return Err(self.err(esc_at, "unpaired UTF-16 surrogate in \\u escape"));
            }
            self.pos += 2;
            let low = self.hex4(esc_at)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.err(esc_at, "unpaired UTF-16 surrogate in \\u escape"));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| self.err(esc_at, "unpaired UTF-16 surrogate in \\u escape"))
    }

    fn hex4(&mut self, esc_at: usize) -> Result<u32, FilterError> {
        let digits = self.src.get(self.pos..self.pos + 4).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.err(esc_at, "invalid \\u escape: expected four hexadecimal digits"));
        };
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.err(esc_at, "invalid \\u escape"))
    }
}

/// Rejects operator/value pairs that have no meaning, at parse time, so they are reported as
/// `invalidFilter` rather than silently matching nothing. RFC 7644 §3.4.2.2 requires this
/// for `gt`/`ge`/`lt`/`le` on booleans; substring operators get the same treatment for
/// anything but strings, and ordering against `null` has no meaning either.
fn check_operand(op: CompareOp, value: &CompValue) -> Result<(), String> {
    match value {
        CompValue::String(_) => Ok(()),
        CompValue::Bool(_) | CompValue::Null if op.is_ordering() => {
            Err(format!("'{}' cannot compare with true, false or null", op.as_str()))
        }
        _ if op.is_substring() => Err(format!("'{}' needs a string value", op.as_str())),
        _ => Ok(()),
    }
}

impl Filter {
    /// Calls `f` with every attribute path the filter reads, in order; the paths inside a
    /// value filter are relative to one value of the filtered attribute.
    pub fn visit_paths(&self, f: &mut dyn FnMut(&AttrPath)) {
        match self {
            Filter::Present(attr) | Filter::Compare(attr, _, _) => f(attr),
            Filter::ValuePath(attr, inner) => {
                f(attr);
                inner.visit_paths(f);
            }
            Filter::Not(inner) => inner.visit_paths(f),
            Filter::And(items) | Filter::Or(items) => items.iter().for_each(|i| i.visit_paths(f)),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            // serde_json's Display of a string value is the escaped JSON literal.
            CompValue::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
        }
    }
}

/// Writes the filter in the RFC's syntax, with parentheses only where precedence needs them;
/// parsing the text gives back an equal filter.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Compare(path, op, value) => write!(f, "{path} {op} {value}"),
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(items) => write_joined(f, items, " and ", |c| matches!(c, Filter::And(_) | Filter::Or(_))),
            Filter::Or(items) => write_joined(f, items, " or ", |c| matches!(c, Filter::Or(_))),
        }
    }
}

fn write_joined(
    f: &mut fmt::Formatter<'_>,
    items: &[Filter],
    sep: &str,
    needs_parens: impl Fn(&Filter) -> bool,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if needs_parens(item) {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}
