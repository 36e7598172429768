//! PATCH operations (RFC 7644 §3.5.2): `add`, `remove` and `replace` applied to a resource.
//!
//! Without a schema, the resource's data decides what an attribute is: an array is
//! multi-valued, an object complex, anything else simple. A new attribute takes the shape of
//! the value given. Every public function applies all or nothing: it works on a copy and
//! writes it back only when every step succeeded, as RFC 7644 §3.5.2 requires of a request.

use std::fmt;

use serde_json::{Map, Value};

use crate::eval::{element_matches, find_key, get_ci, hook_name, resolve, schemas, Container, Resolved};
use crate::filter::{CompValue, CompareOp, FilterError, SyntaxKind};
use crate::path::{parse_path, PatchPath};

/// The schema URN every PATCH request body carries (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// How deep nested objects are merged sub-attribute by sub-attribute. SCIM needs two levels
/// (extension object → complex attribute); deeper objects are replaced as a whole, so an
/// adversarial value cannot drive the recursion.
const MAX_MERGE_DEPTH: usize = 8;

/// A PATCH operation's `op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOp {
    /// `add` (RFC 7644 §3.5.2.1).
    Add,
    /// `remove` (RFC 7644 §3.5.2.2).
    Remove,
    /// `replace` (RFC 7644 §3.5.2.3).
    Replace,
}

impl PatchOp {
    /// Reads an `op`, ignoring case: Microsoft Entra ID sends `Add`, `Replace`, `Remove`.
    pub fn parse(op: &str) -> Option<PatchOp> {
        [PatchOp::Add, PatchOp::Remove, PatchOp::Replace].into_iter().find(|o| o.as_str().eq_ignore_ascii_case(op))
    }

    /// The operation's name, lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Remove => "remove",
            PatchOp::Replace => "replace",
        }
    }
}

impl fmt::Display for PatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a PATCH cannot be applied; each variant is one SCIM `scimType` (RFC 7644 §3.12),
/// returned with HTTP status 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The path is malformed, or names something it cannot address (a sub-attribute of a
    /// simple attribute, say): `invalidPath`.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// The value filter of the path is malformed: `invalidFilter`.
    #[error("invalid filter: {0}")]
    InvalidFilter(FilterError),
    /// The path selected nothing to operate on — a value filter matched no value, or
    /// `remove` came without a path: `noTarget`.
    #[error("no target: {0}")]
    NoTarget(String),
    /// The value is missing or does not fit the target: `invalidValue`.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// The operation itself is malformed (no or unknown `op`, no `Operations`):
    /// `invalidSyntax`.
    #[error("invalid syntax: {0}")]
    InvalidSyntax(String),
}

impl PatchError {
    /// The SCIM `scimType` to answer with.
    pub fn scim_type(&self) -> &'static str {
        match self {
            PatchError::InvalidPath(_) => "invalidPath",
            PatchError::InvalidFilter(_) => "invalidFilter",
            PatchError::NoTarget(_) => "noTarget",
            PatchError::InvalidValue(_) => "invalidValue",
            PatchError::InvalidSyntax(_) => "invalidSyntax",
        }
    }
}

impl From<FilterError> for PatchError {
    fn from(e: FilterError) -> Self {
        match e.kind() {
            SyntaxKind::InvalidFilter => PatchError::InvalidFilter(e),
            SyntaxKind::InvalidPath => PatchError::InvalidPath(e.to_string()),
        }
    }
}

/// One element of a PATCH request's `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// `add`, `remove` or `replace`.
    pub op: PatchOp,
    /// The target; `None` addresses the resource itself.
    pub path: Option<PatchPath>,
    /// The operand of `add` and `replace`.
    pub value: Option<Value>,
}

impl PatchOperation {
    /// Reads one operation object (`{"op": …, "path": …, "value": …}`; member names ignore
    /// case, and a `null` path is no path).
    pub fn from_json(operation: &Value) -> Result<Self, PatchError> {
        let Value::Object(map) = operation else {
            return Err(PatchError::InvalidSyntax("an operation must be a JSON object".into()));
        };
        let Some(name) = get_ci(map, "op").and_then(Value::as_str) else {
            return Err(PatchError::InvalidSyntax("an operation needs an \"op\" of add, remove or replace".into()));
        };
        let Some(op) = PatchOp::parse(name) else {
            return Err(PatchError::InvalidSyntax(format!("unknown op \"{name}\" (expected add, remove or replace)")));
        };
        let path = match get_ci(map, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(parse_path(text)?),
            Some(_) => return Err(PatchError::InvalidPath("\"path\" must be a string".into())),
        };
        Ok(PatchOperation { op, path, value: get_ci(map, "value").cloned() })
    }

    /// Applies the operation, comparing strings in path filters case-insensitively.
    pub fn apply(&self, resource: &mut Value) -> Result<(), PatchError> {
        self.apply_with(resource, &|_: &str| false)
    }

    /// Applies the operation; `case_exact` is as for [`crate::Filter::matches_with`].
    pub fn apply_with(&self, resource: &mut Value, case_exact: &dyn Fn(&str) -> bool) -> Result<(), PatchError> {
        apply_patch_with(resource, self.op, self.path.as_ref(), self.value.as_ref(), case_exact)
    }
}

/// Reads the operations of a PATCH request body, which must name [`PATCH_OP_SCHEMA`] in
/// `schemas` and hold a non-empty `Operations` array.
pub fn parse_patch_request(body: &Value) -> Result<Vec<PatchOperation>, PatchError> {
    let Value::Object(map) = body else {
        return Err(PatchError::InvalidSyntax("a PATCH request must be a JSON object".into()));
    };
    if !schemas(map).any(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA)) {
        return Err(PatchError::InvalidSyntax(format!("\"schemas\" must contain \"{PATCH_OP_SCHEMA}\"")));
    }
    match get_ci(map, "Operations").and_then(Value::as_array) {
        Some(ops) if !ops.is_empty() => ops.iter().map(PatchOperation::from_json).collect(),
        _ => Err(PatchError::InvalidSyntax("\"Operations\" must be a non-empty array".into())),
    }
}

/// Applies every operation in order, or none: on an error, `resource` is left as it was.
pub fn apply_operations(resource: &mut Value, operations: &[PatchOperation]) -> Result<(), PatchError> {
    apply_operations_with(resource, operations, &|_: &str| false)
}

/// [`apply_operations`] with a `case_exact` hook for path filters.
pub fn apply_operations_with(
    resource: &mut Value,
    operations: &[PatchOperation],
    case_exact: &dyn Fn(&str) -> bool,
) -> Result<(), PatchError> {
    apply_operations_for(resource, operations, &CaseOnly(case_exact))
}

/// [`apply_operations`] knowing the resource type's schema: its `caseExact` attributes for
/// path filters, and its extensions, so that a path naming a whole extension
/// (`urn:…:enterprise:2.0:User`) means that extension whether or not the resource has
/// values for it yet.
pub fn apply_operations_for(resource: &mut Value, operations: &[PatchOperation], schema: &dyn PatchSchema) -> Result<(), PatchError> {
    let mut work = resource.clone();
    for operation in operations {
        apply_in_place(&mut work, operation.op, operation.path.as_ref(), operation.value.as_ref(), schema)?;
    }
    *resource = work;
    Ok(())
}

/// What PATCH may know of a resource type's schema (RFC 7643 §7). Without one, the data
/// decides (see the module's documentation).
pub trait PatchSchema {
    /// Whether string comparisons on an attribute are case-sensitive; the attribute is
    /// named as for [`crate::Filter::matches_with`].
    fn case_exact(&self, path: &str) -> bool;
    /// Whether `urn` is an extension schema of the resource type.
    fn is_extension(&self, urn: &str) -> bool;
}

/// A `case_exact` hook alone: no extensions known.
struct CaseOnly<'h>(&'h dyn Fn(&str) -> bool);

impl PatchSchema for CaseOnly<'_> {
    fn case_exact(&self, path: &str) -> bool {
        (self.0)(path)
    }
    fn is_extension(&self, _: &str) -> bool {
        false
    }
}

impl PatchSchema for crate::schema::ResourceSchema {
    fn case_exact(&self, path: &str) -> bool {
        crate::schema::ResourceSchema::case_exact(self, path)
    }
    fn is_extension(&self, urn: &str) -> bool {
        crate::schema::ResourceSchema::is_extension(self, urn)
    }
}

/// Applies one operation to `resource` (a SCIM resource as a JSON object), or nothing when it
/// fails. Path filters compare strings case-insensitively.
///
/// - `add` (§3.5.2.1): a new attribute is set; a multi-valued attribute gets the given values
///   appended, except those it already holds (equal JSON, or equal `value` and `type`); a
///   complex attribute gets the given sub-attributes merged in; a simple one is replaced.
///   Without a path, every attribute of the value object is added that way.
/// - `replace` (§3.5.2.3): the target is replaced, except that a complex attribute only has
///   the given sub-attributes replaced; with a value filter, each matching value (or its
///   sub-attribute) is replaced. Without a path, every attribute of the value object is
///   replaced. A missing target is added; `null` makes it unassigned.
/// - `remove` (§3.5.2.2): the attribute, the matching values, or their sub-attribute are
///   removed; a multi-valued attribute left with no values is removed.
///
/// A value filter that matches nothing is `noTarget` for all three, as is `remove` without a
/// path. Setting a value's `primary` to true sets it to false on the attribute's other values
/// (§3.5.2).
pub fn apply_patch(
    resource: &mut Value,
    op: PatchOp,
    path: Option<&PatchPath>,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    apply_patch_with(resource, op, path, value, &|_: &str| false)
}

/// [`apply_patch`] with a `case_exact` hook for path filters.
pub fn apply_patch_with(
    resource: &mut Value,
    op: PatchOp,
    path: Option<&PatchPath>,
    value: Option<&Value>,
    case_exact: &dyn Fn(&str) -> bool,
) -> Result<(), PatchError> {
    let mut work = resource.clone();
    apply_in_place(&mut work, op, path, value, &CaseOnly(case_exact))?;
    *resource = work;
    Ok(())
}

/// Applies one operation; on an error, `resource` may be half-changed (callers work on a copy).
fn apply_in_place(
    resource: &mut Value,
    op: PatchOp,
    path: Option<&PatchPath>,
    value: Option<&Value>,
    schema: &dyn PatchSchema,
) -> Result<(), PatchError> {
    let Value::Object(root) = resource else {
        return Err(PatchError::InvalidValue("the resource is not a JSON object".into()));
    };
    if op == PatchOp::Remove {
        let Some(path) = path else {
            return Err(PatchError::NoTarget("\"remove\" needs a path".into()));
        };
        if let Some(named) = value.filter(|v| !v.is_null()) {
            // Microsoft Entra ID removes Group members by naming them, with a value instead
            // of a filter. Ignoring the value would remove every member, so it is honoured.
            return remove_named(root, path, named);
        }
        return remove_at(root, path, schema);
    }
    let value = match value {
        None => return Err(PatchError::InvalidValue(format!("\"{op}\" needs a value"))),
        Some(Value::Null) if op == PatchOp::Add => {
            return Err(PatchError::InvalidValue("\"add\" needs a value, not null".into()));
        }
        Some(v) => v,
    };
    match path {
        Some(path) => set_at(root, op, path, value, schema),
        None => {
            let Value::Object(attributes) = value else {
                return Err(PatchError::InvalidValue(format!(
                    "without a path, the value of \"{op}\" must be an object of attributes"
                )));
            };
            for (key, v) in attributes {
                // The value is a partial resource: its keys are attribute names or extension
                // schema URNs. Microsoft Entra ID also sends attribute paths as keys
                // (`name.givenName`, `urn:…:enterprise:2.0:User:employeeNumber`); those are
                // applied as if each were the operation's path.
                if let Some(path) = key_as_path(key, v) {
                    set_at(root, op, &path, v, schema)?;
                    continue;
                }
                let is_new = find_key(root, key).is_none();
                set_attribute(root, key, v, op, 0)?;
                if is_new && v.is_object() && key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
                    note_extension(root, key);
                }
            }
            Ok(())
        }
    }
}

/// A key of a path-less operation's value that is an attribute path rather than a name: a
/// sub-attribute path (`name.givenName`), or a schema URN followed by an attribute when its
/// value is not an object (an object under a URN key is an extension's attributes).
fn key_as_path(key: &str, value: &Value) -> Option<PatchPath> {
    let urn = key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if urn && value.is_object() {
        return None;
    }
    if !urn && !key.contains('.') {
        return None;
    }
    parse_path(key).ok().filter(|p| p.filter.is_none())
}

/// `add` or `replace` at a path.
fn set_at(
    root: &mut Map<String, Value>,
    op: PatchOp,
    path: &PatchPath,
    value: &Value,
    schema: &dyn PatchSchema,
) -> Result<(), PatchError> {
    let resolved = resolve(root, &path.attr, false, &|urn| schema.is_extension(urn));
    let Some(filter) = &path.filter else {
        // Replacing with null something that does not exist is already done.
        let Some(container) = container_mut(root, &resolved, !value.is_null()) else { return Ok(()) };
        let Some(sub) = &path.attr.sub_attr else {
            set_attribute(container, &resolved.name, value, op, 0)?;
            // A whole extension (`urn:…:enterprise:2.0:User`) that now has values is listed
            // in `schemas`.
            if resolved.container == Container::Root && is_urn(&resolved.name) && find_key(root, &resolved.name).is_some() {
                note_extension(root, &resolved.name);
            }
            return Ok(());
        };
        let key = find_key(container, &resolved.name).cloned();
        return match key.as_ref().and_then(|k| container.get_mut(k)) {
            None | Some(Value::Null) => {
                if !value.is_null() {
                    let mut complex = Map::new();
                    complex.insert(sub.clone(), value.clone());
                    container.insert(key.unwrap_or_else(|| resolved.name.clone()), Value::Object(complex));
                }
                Ok(())
            }
            Some(Value::Object(complex)) => {
                set_attribute(complex, sub, value, op, 1)?;
                if complex.is_empty() {
                    remove_key(container, key.as_deref());
                }
                Ok(())
            }
            Some(Value::Array(_)) => Err(needs_filter(path)),
            Some(_) => Err(not_complex(&resolved.name, sub)),
        };
    };
    let prefix = hook_name(&resolved, &path.attr, None, None);
    let case_exact = |p: &str| schema.case_exact(p);
    let Some(container) = container_mut(root, &resolved, op == PatchOp::Add) else { return Err(no_target(path)) };
    let key = find_key(container, &resolved.name).cloned();
    if op == PatchOp::Add {
        let matches_some = match key.as_deref().and_then(|k| container.get(k)) {
            Some(Value::Array(items)) => !matching(items, filter, &prefix, &case_exact).is_empty(),
            _ => false,
        };
        if !matches_some {
            if let Some(element) = value_selected_by(filter, path, value)? {
                return add_selected(container, key, &resolved.name, element, path);
            }
        }
    }
    let items = selectable_values(container, key.as_deref(), path)?;
    let matched = matching(items, filter, &prefix, &case_exact);
    let Some(&first) = matched.first() else { return Err(no_target(path)) };
    let sets_primary = match &path.attr.sub_attr {
        None => {
            if value.is_array() {
                return Err(PatchError::InvalidValue(format!(
                    "\"{path}\" selects single values of \"{}\", so the value must not be an array",
                    resolved.name
                )));
            }
            if op == PatchOp::Replace && value.is_null() {
                remove_indices(items, &matched);
            } else {
                for &i in &matched {
                    if let Some(item) = items.get_mut(i) {
                        match op {
                            // "all matching record values SHALL be replaced" (§3.5.2.3).
                            PatchOp::Replace => *item = value.clone(),
                            _ => merge(item, value, &resolved.name, op, 1)?,
                        }
                    }
                }
            }
            is_primary(value)
        }
        Some(sub) => {
            for &i in &matched {
                let Some(Value::Object(item)) = items.get_mut(i) else {
                    return Err(not_complex(&resolved.name, sub));
                };
                set_attribute(item, sub, value, op, 1)?;
            }
            sub.eq_ignore_ascii_case("primary") && is_true(value)
        }
    };
    if sets_primary {
        demote_primaries(items, first);
    }
    if items.is_empty() {
        remove_key(container, key.as_deref());
    }
    Ok(())
}

/// The value an `add` creates when its path's value filter matches nothing: the filter's
/// equalities make the new value, and the operation's value is its sub-attribute (or, with
/// no sub-attribute, merged in). Microsoft Entra ID sets a User's first work e-mail with
/// `add` to `emails[type eq "work"].value`, expecting that. `None` when the filter is not a
/// conjunction of equalities, so there is nothing to build from: `noTarget` then.
fn value_selected_by(filter: &crate::Filter, path: &PatchPath, value: &Value) -> Result<Option<Value>, PatchError> {
    fn equalities(filter: &crate::Filter, out: &mut Map<String, Value>) -> bool {
        match filter {
            crate::Filter::Compare(attr, CompareOp::Eq, lit) if attr.schema.is_none() && attr.sub_attr.is_none() => {
                let v = match lit {
                    CompValue::String(s) => Value::String(s.clone()),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Null => return false,
                };
                out.insert(attr.name.clone(), v);
                true
            }
            crate::Filter::And(items) => items.iter().all(|f| equalities(f, out)),
            _ => false,
        }
    }
    let mut element = Map::new();
    if !equalities(filter, &mut element) {
        return Ok(None);
    }
    match (&path.attr.sub_attr, value) {
        (_, Value::Array(_)) => {
            return Err(PatchError::InvalidValue(format!("\"{path}\" selects single values, so the value must not be an array")))
        }
        (Some(sub), v) => {
            element.insert(sub.clone(), v.clone());
        }
        (None, Value::Object(subs)) => element.extend(subs.iter().map(|(k, v)| (k.clone(), v.clone()))),
        (None, _) => {
            return Err(PatchError::InvalidValue(format!("\"{path}\" selects complex values, so the value must be an object of sub-attributes")))
        }
    }
    Ok(Some(Value::Object(element)))
}

/// Appends a value [`value_selected_by`] built, creating the attribute when missing.
fn add_selected(container: &mut Map<String, Value>, key: Option<String>, name: &str, element: Value, path: &PatchPath) -> Result<(), PatchError> {
    let primary = is_primary(&element);
    match key.as_deref().and_then(|k| container.get_mut(k)) {
        Some(Value::Array(items)) => {
            items.push(element);
            let last = items.len() - 1;
            if primary {
                demote_primaries(items, last);
            }
        }
        None | Some(Value::Null) => {
            container.insert(key.unwrap_or_else(|| name.to_string()), Value::Array(vec![element]));
        }
        Some(_) => {
            return Err(PatchError::InvalidPath(format!("\"{}\" is not multi-valued, so a value filter cannot select from it", path.attr.name)))
        }
    }
    Ok(())
}

fn is_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

/// `remove` at a path.
fn remove_at(root: &mut Map<String, Value>, path: &PatchPath, schema: &dyn PatchSchema) -> Result<(), PatchError> {
    let resolved = resolve(root, &path.attr, false, &|urn| schema.is_extension(urn));
    let case_exact = |p: &str| schema.case_exact(p);
    let prefix = hook_name(&resolved, &path.attr, None, None);
    let Some(container) = container_mut(root, &resolved, false) else {
        return if path.filter.is_some() { Err(no_target(path)) } else { Ok(()) };
    };
    let key = find_key(container, &resolved.name).cloned();
    let Some(filter) = &path.filter else {
        // Removing what is not there leaves the resource as asked; noTarget is for filters.
        let Some(key) = key else { return Ok(()) };
        let Some(sub) = &path.attr.sub_attr else {
            container.remove(&key);
            return Ok(());
        };
        return match container.get_mut(&key) {
            Some(Value::Object(complex)) => {
                if let Some(k) = find_key(complex, sub).cloned() {
                    complex.remove(&k);
                }
                if complex.is_empty() {
                    container.remove(&key);
                }
                Ok(())
            }
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(_)) => Err(needs_filter(path)),
            Some(_) => Err(not_complex(&resolved.name, sub)),
        };
    };
    let items = selectable_values(container, key.as_deref(), path)?;
    let matched = matching(items, filter, &prefix, &case_exact);
    if matched.is_empty() {
        return Err(no_target(path));
    }
    match &path.attr.sub_attr {
        None => remove_indices(items, &matched),
        Some(sub) => {
            for &i in &matched {
                let Some(Value::Object(item)) = items.get_mut(i) else {
                    return Err(not_complex(&resolved.name, sub));
                };
                if let Some(k) = find_key(item, sub).cloned() {
                    item.remove(&k);
                }
            }
        }
    }
    if items.is_empty() {
        remove_key(container, key.as_deref());
    }
    Ok(())
}

/// `remove` with a value (`{"op": "remove", "path": "members", "value": [{"value": "id"}]}`):
/// the values of the multi-valued attribute at `path` that one of `named` names (by its
/// `value`, or whole for simple values) are removed. Naming a value that is not there
/// changes nothing, so a client that repeats a removal is not refused.
fn remove_named(root: &mut Map<String, Value>, path: &PatchPath, named: &Value) -> Result<(), PatchError> {
    let refuse = || {
        PatchError::InvalidValue(format!(
            "\"remove\" takes a value only to name values of a multi-valued attribute (not {path}); otherwise select them with a filter in the path"
        ))
    };
    if path.filter.is_some() || path.attr.sub_attr.is_some() {
        return Err(refuse());
    }
    let resolved = resolve(root, &path.attr, false, &|_| false);
    let Some(container) = container_mut(root, &resolved, false) else { return Ok(()) };
    let Some(key) = find_key(container, &resolved.name).cloned() else { return Ok(()) };
    let identity = |v: &Value| v.as_object().and_then(|o| o.get("value")).cloned().unwrap_or_else(|| v.clone());
    let names: Vec<Value> = match named {
        Value::Array(items) => items.iter().map(identity).collect(),
        one => vec![identity(one)],
    };
    let Some(Value::Array(items)) = container.get_mut(&key) else { return Err(refuse()) };
    items.retain(|item| !names.contains(&identity(item)));
    if items.is_empty() {
        container.remove(&key);
    }
    Ok(())
}

/// The values of the multi-valued attribute under `key` that a value filter selects from.
fn selectable_values<'c>(
    container: &'c mut Map<String, Value>,
    key: Option<&str>,
    path: &PatchPath,
) -> Result<&'c mut Vec<Value>, PatchError> {
    match key.and_then(|k| container.get_mut(k)) {
        None | Some(Value::Null) => Err(no_target(path)),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(PatchError::InvalidPath(format!(
            "\"{}\" is not multi-valued, so a value filter cannot select from it",
            path.attr.name
        ))),
    }
}

fn matching(items: &[Value], filter: &crate::Filter, prefix: &str, case_exact: &dyn Fn(&str) -> bool) -> Vec<usize> {
    items.iter().enumerate().filter(|(_, v)| element_matches(filter, v, prefix, case_exact)).map(|(i, _)| i).collect()
}

fn remove_indices(items: &mut Vec<Value>, indices: &[usize]) {
    let mut i = 0;
    items.retain(|_| {
        let keep = !indices.contains(&i);
        i += 1;
        keep
    });
}

fn remove_key(container: &mut Map<String, Value>, key: Option<&str>) {
    if let Some(key) = key {
        container.remove(key);
    }
}

/// The object that holds the path's attribute; for a missing extension, created (with its URN
/// added to `schemas`) when `create`, else `None`.
fn container_mut<'r>(
    root: &'r mut Map<String, Value>,
    resolved: &Resolved,
    create: bool,
) -> Option<&'r mut Map<String, Value>> {
    match &resolved.container {
        Container::Root => Some(root),
        Container::Extension(key) => root.get_mut(key).and_then(Value::as_object_mut),
        Container::MissingExtension(urn) => {
            if !create {
                return None;
            }
            root.insert(urn.clone(), Value::Object(Map::new()));
            note_extension(root, urn);
            root.get_mut(urn).and_then(Value::as_object_mut)
        }
    }
}

/// Lists an extension the resource now has values for in its `schemas` (RFC 7643 §3 wants
/// every schema of the representation there), when the resource has a `schemas` array.
fn note_extension(root: &mut Map<String, Value>, urn: &str) {
    let Some(key) = find_key(root, "schemas").cloned() else { return };
    if let Some(Value::Array(list)) = root.get_mut(&key) {
        if !list.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn))) {
            list.push(Value::String(urn.to_string()));
        }
    }
}

/// `add` or `replace` of the attribute `name` of `container` (no path below it). `null`
/// makes the attribute unassigned (RFC 7643 §2.5), and so does an empty array.
fn set_attribute(
    container: &mut Map<String, Value>,
    name: &str,
    value: &Value,
    op: PatchOp,
    depth: usize,
) -> Result<(), PatchError> {
    let Some(key) = find_key(container, name).cloned() else {
        // "If the target location does not exist, the attribute and value are added"
        // (§3.5.2.1); replace does the same (§3.5.2.3).
        if !is_unassigned(value) {
            container.insert(name.to_string(), value.clone());
        }
        return Ok(());
    };
    if value.is_null() {
        container.remove(&key);
        return Ok(());
    }
    if let Some(slot) = container.get_mut(&key) {
        merge(slot, value, &key, op, depth)?;
        if is_unassigned(slot) {
            container.remove(&key);
        }
    }
    Ok(())
}

/// Writes `new` into an existing attribute value: `add` appends to arrays, `replace`
/// replaces their values; both ops merge an object of sub-attributes into a complex value;
/// anything else is replaced.
fn merge(slot: &mut Value, new: &Value, name: &str, op: PatchOp, depth: usize) -> Result<(), PatchError> {
    if depth > MAX_MERGE_DEPTH {
        *slot = new.clone();
        return Ok(());
    }
    match (slot, new) {
        (Value::Array(existing), _) if op == PatchOp::Add => {
            append(existing, new);
            Ok(())
        }
        // A multi-valued attribute stays multi-valued when replaced by a single value.
        (Value::Array(existing), single) if !single.is_array() => {
            *existing = vec![single.clone()];
            Ok(())
        }
        (Value::Object(existing), Value::Object(subs)) => {
            for (k, v) in subs {
                set_attribute(existing, k, v, op, depth + 1)?;
            }
            Ok(())
        }
        (Value::Object(_), _) => Err(PatchError::InvalidValue(format!(
            "\"{name}\" is complex: the value must be an object of its sub-attributes"
        ))),
        (slot, new) => {
            *slot = new.clone();
            Ok(())
        }
    }
}

/// `add` to a multi-valued attribute: the new values not already there are appended.
/// Values with a `value` sub-attribute are looked up by it (and `type`), so that adding
/// members to a Group of tens of thousands costs what is added, not what is there.
fn append(existing: &mut Vec<Value>, new: &Value) {
    let items = match new {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut held: std::collections::HashSet<(String, Option<String>)> = existing.iter().filter_map(identity).collect();
    let mut new_primary = None;
    for item in items {
        // "If the target location already contains the value specified, no changes
        // SHOULD be made to the resource" (§3.5.2.1).
        let known = match identity(item) {
            Some(id) => !held.insert(id),
            None => existing.iter().any(|e| same_value(e, item)),
        };
        if item.is_null() || known {
            continue;
        }
        existing.push(item.clone());
        if new_primary.is_none() && is_primary(item) {
            new_primary = Some(existing.len() - 1);
        }
    }
    if let Some(keep) = new_primary {
        demote_primaries(existing, keep);
    }
}

/// What makes a complex value the same as another for [`same_value`]: its `value` and
/// `type`, when it has a `value`.
fn identity(v: &Value) -> Option<(String, Option<String>)> {
    let o = v.as_object()?;
    Some((get_ci(o, "value")?.to_string(), get_ci(o, "type").map(Value::to_string)))
}

/// Whether two values of a multi-valued attribute are the same value: equal JSON, or complex
/// values with equal `value` and `type` (the RFC's own add-member example repeats a member
/// with a different `$ref` spelling).
fn same_value(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let (Value::Object(x), Value::Object(y)) = (a, b) else { return false };
    match (get_ci(x, "value"), get_ci(y, "value")) {
        (Some(vx), Some(vy)) => vx == vy && get_ci(x, "type") == get_ci(y, "type"),
        _ => false,
    }
}

fn is_primary(value: &Value) -> bool {
    value.as_object().and_then(|m| get_ci(m, "primary")).is_some_and(is_true)
}

/// `true`, or Microsoft Entra ID's `"True"`.
fn is_true(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => crate::eval::text_bool(s) == Some(true),
        _ => false,
    }
}

/// "a PATCH operation that sets a value's "primary" sub-attribute to "true" SHALL cause the
/// server to automatically set "primary" to "false" for any other values in the array"
/// (§3.5.2).
fn demote_primaries(items: &mut [Value], keep: usize) {
    for (i, item) in items.iter_mut().enumerate() {
        if i == keep {
            continue;
        }
        if let Value::Object(map) = item {
            if let Some(key) = find_key(map, "primary").cloned() {
                if map.get(&key).is_some_and(is_true) {
                    map.insert(key, Value::Bool(false));
                }
            }
        }
    }
}

fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn no_target(path: &PatchPath) -> PatchError {
    PatchError::NoTarget(format!("no value of \"{}\" matches the path \"{path}\"", path.attr.name))
}

fn needs_filter(path: &PatchPath) -> PatchError {
    PatchError::InvalidPath(format!(
        "\"{}\" is multi-valued: select the values with a filter, e.g. {}[type eq \"work\"].{}",
        path.attr.name,
        path.attr.name,
        path.attr.sub_attr.as_deref().unwrap_or("value")
    ))
}

fn not_complex(name: &str, sub: &str) -> PatchError {
    PatchError::InvalidPath(format!("\"{name}\" is not complex, so it has no sub-attribute \"{sub}\""))
}
