//! Evaluating filters against SCIM resources given as JSON (RFC 7644 §3.4.2.2).
//!
//! There is no schema here, so the shape of the data decides: an array is a multi-valued
//! attribute, an object a complex one, and a string that parses as RFC 3339 a dateTime.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Number, Value};

use crate::filter::{AttrPath, CompValue, CompareOp, Filter};
use annexa_core::text::{canonical, fold};

/// Schema URNs under this prefix are core schemas, whose attributes sit at the top level of a
/// resource rather than inside an extension object (RFC 7643 §3, §8.7.1).
const CORE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:";

/// How deep [`non_empty`] looks into a value; SCIM values are at most three levels deep
/// (extension → complex attribute → sub-attribute), and anything deeper counts as present.
const MAX_VALUE_DEPTH: usize = 16;

impl Filter {
    /// Whether `resource` (a SCIM resource as JSON) matches, comparing every string
    /// case-insensitively (the default `caseExact` of RFC 7643 §2.2 is false).
    ///
    /// - A multi-valued attribute matches when any of its values does; a complex value
    ///   compared without a sub-attribute (`emails co "x"`) compares its `value`.
    /// - `pr` wants a value that is not null, `""`, `[]` or `{}`; `eq null` is the opposite
    ///   of `pr` and `ne null` the same (null and unassigned are one state, RFC 7643 §2.5).
    /// - `ne` matches an unassigned attribute: it equals no value.
    /// - Two strings that are both RFC 3339 date-times compare as instants (`eq` included);
    ///   other strings compare by code point, numbers numerically, booleans by `eq`/`ne`.
    ///   Values of different JSON types never compare equal or ordered.
    pub fn matches(&self, resource: &Value) -> bool {
        self.matches_with(resource, &|_: &str| false)
    }

    /// Whether `resource` matches, asking `case_exact` which string attributes compare
    /// case-sensitively.
    ///
    /// `case_exact` receives the attribute path in ASCII lower case, without a core schema
    /// URN and with an extension's URN (`id`, `emails.value`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber`); inside a
    /// value filter the path includes the filtered attribute (`emails[value eq "x"]` asks about
    /// `emails.value`), and so does the comparison of a complex value by its `value`
    /// sub-attribute (`emails co "x"` asks about `emails.value`).
    pub fn matches_with(&self, resource: &Value, case_exact: &dyn Fn(&str) -> bool) -> bool {
        let empty = Map::new();
        let root = resource.as_object().unwrap_or(&empty);
        Eval { case_exact }.eval(self, root, None)
    }
}

/// The values a comparison on `path` reads in `resource`, as [`Filter::matches`] reads them:
/// multi-valued attributes flattened, nulls dropped, a complex value by its `value`
/// sub-attribute. An index that must agree with filter evaluation reads values through this.
pub fn compared_values<'v>(resource: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let Some(obj) = resource.as_object() else { return Vec::new() };
    values(obj, path, None)
        .0
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(map) => get_ci(map, "value"),
            other => Some(other),
        })
        .collect()
}

/// Whether one value of a multi-valued attribute matches a value filter. `prefix` is the
/// attribute's lower-case path, for the `case_exact` hook.
pub(crate) fn element_matches(
    filter: &Filter,
    element: &Value,
    prefix: &str,
    case_exact: &dyn Fn(&str) -> bool,
) -> bool {
    Eval { case_exact }.element_matches(filter, element, prefix)
}

/// The key of `map` that names `name`: the exact spelling if present, else the first key equal
/// to it ignoring ASCII case (attribute names are case-insensitive, RFC 7643 §2.1).
pub(crate) fn find_key<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m String> {
    if let Some((key, _)) = map.get_key_value(name) {
        return Some(key);
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name))
}

pub(crate) fn get_ci<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    find_key(map, name).and_then(|k| map.get(k))
}

/// Where the attribute of a path lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Container {
    /// At the top level of the object: core attributes, and everything inside a value filter.
    Root,
    /// Inside the extension object under this key.
    Extension(String),
    /// In an extension (this URN, as written) that the object has no values for.
    MissingExtension(String),
}

/// An attribute path resolved against one object.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub container: Container,
    /// The attribute's key within the container.
    pub name: String,
}

/// Decides where `attr` lives in `obj`.
///
/// A schema URN names an extension object when `obj` has a key equal to it; otherwise it is
/// the resource's core schema when it is one of the IETF core schemas or the first entry of
/// `schemas` (core attributes are not nested). `urn:…:enterprise:2.0:User` parses as
/// attribute `User` of schema `urn:…:enterprise:2.0`; when the whole text is a key of the
/// resource or an entry of its `schemas`, or `is_extension` knows it as an extension of the
/// resource type, it addresses that extension object as a whole.
pub(crate) fn resolve(obj: &Map<String, Value>, attr: &AttrPath, in_element: bool, is_extension: &dyn Fn(&str) -> bool) -> Resolved {
    let root = |name: String| Resolved { container: Container::Root, name };
    let Some(urn) = attr.schema.as_deref() else { return root(attr.name.clone()) };
    if in_element {
        return root(attr.name.clone());
    }
    if let Some(key) = find_key(obj, urn) {
        if obj.get(key).is_some_and(Value::is_object) {
            return Resolved { container: Container::Extension(key.clone()), name: attr.name.clone() };
        }
    }
    let whole = format!("{urn}:{}", attr.name);
    if find_key(obj, &whole).is_some() || schemas(obj).any(|s| s.eq_ignore_ascii_case(&whole)) || is_extension(&whole) {
        return root(whole);
    }
    let is_core = urn.get(..CORE_SCHEMA_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(CORE_SCHEMA_PREFIX))
        || schemas(obj).next().is_some_and(|s| s.eq_ignore_ascii_case(urn));
    if is_core {
        root(attr.name.clone())
    } else {
        Resolved { container: Container::MissingExtension(urn.to_string()), name: attr.name.clone() }
    }
}

/// The entries of the `schemas` attribute of `obj`.
pub(crate) fn schemas(obj: &Map<String, Value>) -> impl Iterator<Item = &str> {
    get_ci(obj, "schemas").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// The lower-case name the `case_exact` hook is asked about (see [`Filter::matches_with`]).
/// `sub_attr` is passed apart from `attr` so that PATCH can name the attribute a value filter
/// selects from without the sub-attribute that follows the filter.
pub(crate) fn hook_name(resolved: &Resolved, attr: &AttrPath, sub_attr: Option<&str>, prefix: Option<&str>) -> String {
    let mut name = String::new();
    if let Some(prefix) = prefix {
        name.push_str(prefix);
        name.push('.');
    }
    if let (Container::Extension(_) | Container::MissingExtension(_), Some(urn)) = (&resolved.container, &attr.schema) {
        name.push_str(urn);
        name.push(':');
    }
    name.push_str(&resolved.name);
    if let Some(sub) = sub_attr {
        name.push('.');
        name.push_str(sub);
    }
    name.make_ascii_lowercase();
    name
}

struct Eval<'h> {
    case_exact: &'h dyn Fn(&str) -> bool,
}

impl Eval<'_> {
    /// `prefix` is `Some` inside a value filter, where paths are relative to one value.
    fn eval(&self, filter: &Filter, obj: &Map<String, Value>, prefix: Option<&str>) -> bool {
        match filter {
            Filter::And(items) => items.iter().all(|f| self.eval(f, obj, prefix)),
            Filter::Or(items) => items.iter().any(|f| self.eval(f, obj, prefix)),
            Filter::Not(inner) => !self.eval(inner, obj, prefix),
            Filter::Present(attr) => values(obj, attr, prefix).0.iter().any(|v| non_empty(v, 0)),
            Filter::Compare(attr, op, lit) => self.compare(obj, attr, *op, lit, prefix),
            Filter::ValuePath(attr, inner) => {
                let (vals, resolved) = values(obj, attr, prefix);
                let name = hook_name(&resolved, attr, attr.sub_attr.as_deref(), prefix);
                vals.into_iter().any(|v| self.element_matches(inner, v, &name))
            }
        }
    }

    fn element_matches(&self, filter: &Filter, element: &Value, prefix: &str) -> bool {
        match element {
            Value::Object(map) => self.eval(filter, map, Some(prefix)),
            Value::Null => false,
            // A value of a multi-valued attribute of simple type: RFC 7644 §3.5.2.2 filters
            // those by "value", as if each were `{"value": …}`.
            simple => {
                let mut map = Map::new();
                map.insert("value".to_string(), simple.clone());
                self.eval(filter, &map, Some(prefix))
            }
        }
    }

    fn compare(
        &self,
        obj: &Map<String, Value>,
        attr: &AttrPath,
        op: CompareOp,
        lit: &CompValue,
        prefix: Option<&str>,
    ) -> bool {
        let (vals, resolved) = values(obj, attr, prefix);
        // The hook's name is only built when a comparison needs it.
        let name = || hook_name(&resolved, attr, attr.sub_attr.as_deref(), prefix);
        if let CompValue::Null = lit {
            // null and unassigned are the same state (RFC 7643 §2.5).
            let present = vals.iter().any(|v| non_empty(v, 0));
            return match op {
                CompareOp::Eq => !present,
                CompareOp::Ne => present,
                _ => false,
            };
        }
        if vals.is_empty() {
            // An unassigned attribute equals no value, so it is "not equal" to every one.
            return op == CompareOp::Ne;
        }
        vals.iter().any(|v| {
            // A complex value without a sub-attribute compares by its "value" (as in the RFC's
            // `emails co "example.com"`).
            let (leaf, implicit) = match v {
                Value::Object(map) => (get_ci(map, "value"), true),
                other => (Some(*other), false),
            };
            let Some(leaf) = leaf else { return op == CompareOp::Ne };
            let case_exact = || {
                if implicit {
                    (self.case_exact)(&format!("{}.value", name()))
                } else {
                    (self.case_exact)(&name())
                }
            };
            compare_leaf(leaf, op, lit, case_exact)
        })
    }
}

/// The values `attr` selects in `obj`, multi-valued attributes flattened and nulls dropped,
/// with where the path resolved to (for the hook name).
fn values<'v>(obj: &'v Map<String, Value>, attr: &AttrPath, prefix: Option<&str>) -> (Vec<&'v Value>, Resolved) {
    let resolved = resolve(obj, attr, prefix.is_some(), &|_| false);
    let container = match &resolved.container {
        Container::Root => Some(obj),
        Container::Extension(key) => obj.get(key).and_then(Value::as_object),
        Container::MissingExtension(_) => None,
    };
    let mut out = Vec::new();
    if let Some(value) = container.and_then(|c| get_ci(c, &resolved.name)) {
        match &attr.sub_attr {
            None => push_flat(&mut out, value),
            Some(sub) => {
                let mut parents = Vec::new();
                push_flat(&mut parents, value);
                for parent in parents {
                    if let Some(v) = parent.as_object().and_then(|m| get_ci(m, sub)) {
                        push_flat(&mut out, v);
                    }
                }
            }
        }
    }
    (out, resolved)
}

fn push_flat<'v>(out: &mut Vec<&'v Value>, value: &'v Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null())),
        other => out.push(other),
    }
}

/// `pr`: "a non-empty value, or … a non-empty node for complex attributes" (RFC 7644
/// §3.4.2.2). Null, "", [] and {} (and containers of only those) are empty.
pub(crate) fn non_empty(value: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return true;
    }
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(|v| non_empty(v, depth + 1)),
        Value::Object(map) => map.values().any(|v| non_empty(v, depth + 1)),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_leaf(leaf: &Value, op: CompareOp, lit: &CompValue, case_exact: impl Fn() -> bool) -> bool {
    match op {
        CompareOp::Eq => equal(leaf, lit, &case_exact),
        CompareOp::Ne => !equal(leaf, lit, &case_exact),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            let (Value::String(have), CompValue::String(want)) = (leaf, lit) else { return false };
            let test = |have: &str, want: &str| match op {
                CompareOp::Co => have.contains(want),
                CompareOp::Sw => have.starts_with(want),
                _ => have.ends_with(want),
            };
            // A case-sensitive match is a match either way, and no case-insensitive match
            // is none either way: only in between does the attribute's caseExact decide
            // (and the hook is asked far less often). Text is compared in one Unicode
            // encoding (NFC), so the two encodings of "é" are one letter.
            if have.is_ascii() && want.is_ascii() {
                return test(have, want) || (ascii_affix(have.as_bytes(), want.as_bytes(), op) && !case_exact());
            }
            if test(&canonical(have), &canonical(want)) {
                return true;
            }
            test(&fold(have), &fold(want)) && !case_exact()
        }
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            let Some(ord) = ordering(leaf, lit, &case_exact) else { return false };
            match op {
                CompareOp::Gt => ord == Ordering::Greater,
                CompareOp::Ge => ord != Ordering::Less,
                CompareOp::Lt => ord == Ordering::Less,
                _ => ord != Ordering::Greater,
            }
        }
    }
}

/// `co`, `sw` or `ew` ignoring ASCII case, without allocating.
fn ascii_affix(have: &[u8], want: &[u8], op: CompareOp) -> bool {
    if want.len() > have.len() {
        return false;
    }
    match op {
        CompareOp::Sw => have[..want.len()].eq_ignore_ascii_case(want),
        CompareOp::Ew => have[have.len() - want.len()..].eq_ignore_ascii_case(want),
        _ => want.is_empty() || have.windows(want.len()).any(|w| w.eq_ignore_ascii_case(want)),
    }
}

fn equal(leaf: &Value, lit: &CompValue, case_exact: &dyn Fn() -> bool) -> bool {
    match (leaf, lit) {
        (Value::String(have), CompValue::String(want)) => {
            if have == want {
                return true;
            }
            if let (Some(a), Some(b)) = (date_time(have), date_time(want)) {
                return a == b;
            }
            if have.is_ascii() && want.is_ascii() {
                // Equal only when case is ignored: the attribute's caseExact decides.
                return have.eq_ignore_ascii_case(want) && !case_exact();
            }
            canonical(have) == canonical(want) || (fold(have) == fold(want) && !case_exact())
        }
        (Value::Number(a), CompValue::Number(b)) => number_cmp(a, b) == Some(Ordering::Equal),
        (Value::Bool(a), CompValue::Bool(b)) => a == b,
        // Microsoft Entra ID writes booleans in filters as strings (`primary eq "True"`).
        (Value::Bool(a), CompValue::String(b)) => text_bool(b) == Some(*a),
        _ => false,
    }
}

/// Strings: chronological when both are RFC 3339 date-times, else lexicographic (by code
/// point, after Unicode lower-casing unless case-exact). Numbers: numeric. Anything else
/// (booleans, mismatched types) does not compare.
fn ordering(leaf: &Value, lit: &CompValue, case_exact: &dyn Fn() -> bool) -> Option<Ordering> {
    match (leaf, lit) {
        (Value::String(have), CompValue::String(want)) => {
            if let (Some(a), Some(b)) = (date_time(have), date_time(want)) {
                return Some(a.cmp(&b));
            }
            if case_exact() {
                Some(canonical(have).cmp(&canonical(want)))
            } else {
                Some(fold(have).cmp(&fold(want)))
            }
        }
        (Value::Number(a), CompValue::Number(b)) => number_cmp(a, b),
        _ => None,
    }
}

/// `"true"` or `"false"` in any case, as a boolean.
pub(crate) fn text_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn date_time(s: &str) -> Option<DateTime<FixedOffset>> {
    // Cheap pre-check: every RFC 3339 date-time starts with a four-digit year.
    if s.len() < 20 || !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// Integers exactly (i64 and u64 both fit an i128), anything else as f64.
fn number_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}
