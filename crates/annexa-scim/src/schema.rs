//! Resource schemas (RFC 7643 §2, §7): what a User or Group may hold, checked on the way in
//! and applied on the way out.
//!
//! The definitions are the RFC's own schema documents (§8.7.1, in `schemas/`), read at
//! start-up, plus the common attributes every resource has (§3.1: `id`, `externalId`,
//! `meta`), which the RFC documents in prose only. [`ResourceSchema::validate`] turns a
//! client's resource into what may be stored: unknown attributes and wrong types are
//! refused with the `scimType` to answer with, read-only attributes the client sent are
//! dropped (§2.2: the server ignores them), and required ones must be present.
//! [`ResourceSchema::project`] applies `returned` and the `attributes` /
//! `excludedAttributes` parameters (RFC 7644 §3.4.2.5, §3.9) to what is sent back.

use crate::filter::{AttrPath, Filter};
use crate::patch::PatchOperation;
use crate::path::PatchPath;
use serde_json::{Map, Value};

/// The URN of the core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The URN of the enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The URN of the core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The most a stored resource may hold, in bytes of its JSON, apart from a Group's
/// `members`: the server refuses more, and the importer of its snapshots reads as much.
/// Membership is not bounded here, since a Group grows with the organisation.
pub const MAX_RESOURCE_BYTES: usize = 1 << 20;

const USER_JSON: &str = include_str!("../schemas/rfc7643-8.7.1-schema-user.json");
const ENTERPRISE_USER_JSON: &str = include_str!("../schemas/rfc7643-8.7.1-schema-enterprise_user.json");
const GROUP_JSON: &str = include_str!("../schemas/rfc7643-8.7.1-schema-group.json");

/// Whether and how an attribute may change (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// One attribute definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    /// `string`, `boolean`, `decimal`, `integer`, `dateTime`, `binary`, `reference`, `complex`.
    pub kind: String,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub sub_attributes: Vec<Attribute>,
}

/// A schema: its URN and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub id: String,
    pub name: String,
    pub attributes: Vec<Attribute>,
    /// The RFC document it was read from, served at `/Schemas`.
    pub document: Value,
}

/// Why a resource does not fit its schema, with the RFC 7644 §3.12 `scimType`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SchemaError {
    pub scim_type: &'static str,
    pub message: String,
}

fn syntax(message: String) -> SchemaError {
    SchemaError { scim_type: "invalidSyntax", message }
}

fn value(message: String) -> SchemaError {
    SchemaError { scim_type: "invalidValue", message }
}

fn find<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn attribute(v: &Value) -> Result<Attribute, String> {
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let name = text("name").ok_or("an attribute without a name")?.to_string();
    let mutability = match text("mutability").unwrap_or("readWrite") {
        "readOnly" => Mutability::ReadOnly,
        "readWrite" => Mutability::ReadWrite,
        "immutable" => Mutability::Immutable,
        "writeOnly" => Mutability::WriteOnly,
        other => return Err(format!("{name}: mutability {other:?}")),
    };
    let returned = match text("returned").unwrap_or("default") {
        "always" => Returned::Always,
        "never" => Returned::Never,
        "default" => Returned::Default,
        "request" => Returned::Request,
        other => return Err(format!("{name}: returned {other:?}")),
    };
    let sub_attributes = match v.get("subAttributes").and_then(Value::as_array) {
        Some(subs) => subs.iter().map(attribute).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(Attribute {
        kind: text("type").ok_or_else(|| format!("{name}: no type"))?.to_string(),
        multi_valued: flag("multiValued"),
        required: flag("required"),
        case_exact: flag("caseExact"),
        mutability,
        returned,
        sub_attributes,
        name,
    })
}

impl Schema {
    /// Reads an RFC 7643 §7 schema document.
    pub fn from_document(document: Value) -> Result<Schema, String> {
        let id = document.get("id").and_then(Value::as_str).ok_or("a schema without an id")?.to_string();
        let name = document.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let attributes = document
            .get("attributes")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{id}: no attributes"))?
            .iter()
            .map(attribute)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{id}: {e}"))?;
        Ok(Schema { id, name, attributes, document })
    }
}

/// The common attributes of every resource (RFC 7643 §3.1).
fn common() -> Vec<Attribute> {
    let a = |name: &str, kind: &str, case_exact: bool, mutability, returned| Attribute {
        name: name.into(),
        kind: kind.into(),
        multi_valued: false,
        required: false,
        case_exact,
        mutability,
        returned,
        sub_attributes: Vec::new(),
    };
    let mut meta = a("meta", "complex", false, Mutability::ReadOnly, Returned::Default);
    meta.sub_attributes = vec![
        a("resourceType", "string", true, Mutability::ReadOnly, Returned::Default),
        a("created", "dateTime", false, Mutability::ReadOnly, Returned::Default),
        a("lastModified", "dateTime", false, Mutability::ReadOnly, Returned::Default),
        a("location", "reference", true, Mutability::ReadOnly, Returned::Default),
        a("version", "string", true, Mutability::ReadOnly, Returned::Default),
    ];
    vec![
        a("id", "string", true, Mutability::ReadOnly, Returned::Always),
        a("externalId", "string", true, Mutability::ReadWrite, Returned::Default),
        meta,
    ]
}

/// A resource type's schemas: the core one and its extensions (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    pub core: Schema,
    pub extensions: Vec<Schema>,
    common: Vec<Attribute>,
}

impl ResourceSchema {
    /// User with the enterprise extension.
    pub fn user() -> ResourceSchema {
        ResourceSchema { core: embedded(USER_JSON), extensions: vec![embedded(ENTERPRISE_USER_JSON)], common: common() }
    }

    /// Group.
    pub fn group() -> ResourceSchema {
        ResourceSchema { core: embedded(GROUP_JSON), extensions: Vec::new(), common: common() }
    }

    fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` is one of this resource type's extension schemas.
    pub fn is_extension(&self, urn: &str) -> bool {
        self.extension(urn).is_some()
    }

    /// Checks that a PATCH path names an attribute of this resource type (RFC 7644 §3.5.2:
    /// an unknown one is `invalidPath`): a core or common attribute, an extension's, one of
    /// their sub-attributes, or a whole extension (`urn:…:enterprise:2.0:User`).
    pub fn check_patch_path(&self, path: &PatchPath) -> Result<(), SchemaError> {
        let attr = &path.attr;
        let invalid = |message: String| SchemaError { scim_type: "invalidPath", message };
        if let Some(urn) = &attr.schema {
            if self.is_extension(&format!("{urn}:{}", attr.name)) {
                if attr.sub_attr.is_some() || path.filter.is_some() {
                    return Err(invalid(format!("{path}: a whole extension takes no sub-attribute or value filter; name its attribute after the URN")));
                }
                return Ok(());
            }
            if !urn.eq_ignore_ascii_case(&self.core.id) && !self.is_extension(urn) {
                return Err(invalid(format!("{path}: unknown schema {urn:?} for a {}", self.core.name)));
            }
        }
        let plain = AttrPath { schema: attr.schema.clone(), name: attr.name.clone(), sub_attr: None };
        let Some(def) = self.attribute(&plain.to_string()) else {
            return Err(invalid(format!("unknown attribute {:?} for a {}", plain.to_string(), self.core.name)));
        };
        if path.filter.is_some() && !def.multi_valued {
            return Err(invalid(format!("{path}: {} is not multi-valued, so a value filter cannot select from it", def.name)));
        }
        if let Some(sub) = &attr.sub_attr {
            if find(&def.sub_attributes, sub).is_none() {
                return Err(invalid(format!("{path}: {} has no sub-attribute {sub:?}", def.name)));
            }
        }
        Ok(())
    }

    /// The PATCH operations with every write-only value taken out (see [`kept`]): an
    /// operation on such an attribute is dropped, and so is such a key of a path-less
    /// operation's value. What is left is applied as usual.
    pub fn without_write_only(&self, operations: Vec<PatchOperation>) -> Vec<PatchOperation> {
        let write_only = |path: &str| self.attribute(path).is_some_and(|a| a.mutability == Mutability::WriteOnly);
        operations
            .into_iter()
            .filter_map(|mut op| {
                match &op.path {
                    Some(p) => {
                        let plain = AttrPath { schema: p.attr.schema.clone(), name: p.attr.name.clone(), sub_attr: None };
                        if write_only(&plain.to_string()) {
                            return None;
                        }
                    }
                    None => {
                        if let Some(Value::Object(values)) = op.value.as_mut() {
                            values.retain(|k, _| !write_only(k));
                            for (k, inner) in values.iter_mut() {
                                if let (Some(ext), Value::Object(inner)) = (self.extension(k), inner) {
                                    inner.retain(|ik, _| find(&ext.attributes, ik).is_none_or(|a| a.mutability != Mutability::WriteOnly));
                                }
                            }
                        }
                    }
                }
                Some(op)
            })
            .collect()
    }

    /// The first attribute `filter` reads that is never returned (`password`): filtering on
    /// such an attribute would let a client learn its value one guess at a time.
    pub fn never_returned_in(&self, filter: &Filter) -> Option<String> {
        let never = |path: String| self.attribute(&path).is_some_and(|a| a.returned == Returned::Never).then_some(path);
        match filter {
            Filter::Present(attr) | Filter::Compare(attr, _, _) => never(attr.to_string()),
            Filter::ValuePath(attr, inner) => never(attr.to_string()).or_else(|| {
                let mut found = None;
                inner.visit_paths(&mut |sub: &AttrPath| {
                    if found.is_none() {
                        found = never(format!("{attr}.{}", sub.name));
                    }
                });
                found
            }),
            Filter::Not(inner) => self.never_returned_in(inner),
            Filter::And(items) | Filter::Or(items) => items.iter().find_map(|f| self.never_returned_in(f)),
        }
    }

    /// Whether `path` names an attribute that is never returned, so nothing may be sorted by it.
    pub fn is_never_returned(&self, path: &str) -> bool {
        self.attribute(path).is_some_and(|a| a.returned == Returned::Never)
    }

    /// The definition of an attribute path (`userName`, `name.givenName`, `emails.value`,
    /// or with a schema URN prefix), for `caseExact` and sorting.
    pub fn attribute(&self, path: &str) -> Option<&Attribute> {
        let (attrs, rest) = match self.extensions.iter().find(|s| path.len() > s.id.len() && path[..s.id.len()].eq_ignore_ascii_case(&s.id)) {
            Some(s) => (&s.attributes, path[s.id.len()..].trim_start_matches(':')),
            None if path.len() > self.core.id.len() && path[..self.core.id.len()].eq_ignore_ascii_case(&self.core.id) => {
                (&self.core.attributes, path[self.core.id.len()..].trim_start_matches(':'))
            }
            None => (&self.core.attributes, path),
        };
        let mut parts = rest.split('.');
        let first = parts.next()?;
        let mut at = find(attrs, first).or_else(|| find(&self.common, first))?;
        for part in parts {
            at = find(&at.sub_attributes, part)?;
        }
        Some(at)
    }

    /// Whether string comparisons on `path` are case-sensitive (unknown paths are not).
    pub fn case_exact(&self, path: &str) -> bool {
        self.attribute(path).is_some_and(|a| a.case_exact)
    }

    /// Checks a resource a client sent (create or replace) and returns what may be stored:
    /// read-only attributes dropped, everything else as sent.
    pub fn validate(&self, resource: &Value) -> Result<Value, SchemaError> {
        let Some(object) = resource.as_object() else {
            return Err(syntax("the resource must be a JSON object".into()));
        };
        let schemas: Vec<&str> = match object.get("schemas") {
            Some(Value::Array(list)) => list.iter().map(|v| v.as_str().ok_or_else(|| syntax("schemas must list URN strings".into()))).collect::<Result<_, _>>()?,
            _ => return Err(syntax(format!("the resource must list its schemas, including {:?}", self.core.id))),
        };
        if !schemas.iter().any(|s| s.eq_ignore_ascii_case(&self.core.id)) {
            return Err(syntax(format!("schemas must include {:?}", self.core.id)));
        }
        for s in &schemas {
            if !s.eq_ignore_ascii_case(&self.core.id) && self.extension(s).is_none() {
                return Err(syntax(format!("unknown schema {s:?} for a {}", self.core.name)));
            }
        }
        let mut out = Map::new();
        for (key, v) in object {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key.clone(), v.clone());
                continue;
            }
            if let Some(ext) = self.extension(key) {
                if !schemas.iter().any(|s| s.eq_ignore_ascii_case(&ext.id)) {
                    return Err(syntax(format!("{key} is present but not listed in schemas")));
                }
                let Some(inner) = v.as_object() else {
                    return Err(value(format!("{key} must be an object of that extension's attributes")));
                };
                out.insert(key.clone(), Value::Object(check_object(&ext.attributes, inner, key)?));
                continue;
            }
            let def = find(&self.core.attributes, key)
                .or_else(|| find(&self.common, key))
                .ok_or_else(|| syntax(format!("unknown attribute {key:?} for a {}", self.core.name)))?;
            if !kept(def) {
                continue;
            }
            out.insert(key.clone(), normalize(def, v, key)?);
        }
        require(&self.core.attributes, &out, "")?;
        for ext in &self.extensions {
            if let Some(inner) = out.iter().find(|(k, _)| k.eq_ignore_ascii_case(&ext.id)).and_then(|(_, v)| v.as_object()) {
                require(&ext.attributes, inner, &format!("{}:", ext.id))?;
            }
        }
        Ok(Value::Object(out))
    }

    /// What to send back: attributes `returned: never` removed, `request` ones only when
    /// asked for, `attributes` keeping only the named ones (and `always` ones), and
    /// `excludedAttributes` removing named ones that are not `always`.
    pub fn project(&self, resource: &Value, attributes: &[String], excluded: &[String]) -> Value {
        let Some(object) = resource.as_object() else { return resource.clone() };
        let asked = |path: &str| attributes.iter().any(|a| a.eq_ignore_ascii_case(path) || starts_with_path(a, path) || starts_with_path(path, a));
        let excluded_here = |path: &str| excluded.iter().any(|a| a.eq_ignore_ascii_case(path));
        let keep = |def: &Attribute, path: &str| match def.returned {
            Returned::Never => false,
            Returned::Always => true,
            Returned::Request => asked(path),
            Returned::Default => if attributes.is_empty() { !excluded_here(path) } else { asked(path) },
        };
        let mut out = Map::new();
        for (key, v) in object {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key.clone(), v.clone());
            } else if let Some(ext) = self.extension(key) {
                let Some(inner) = v.as_object() else { continue };
                let mut kept = Map::new();
                for (k, iv) in inner {
                    let path = format!("{}:{k}", ext.id);
                    if find(&ext.attributes, k).is_some_and(|d| keep(d, &path)) {
                        kept.insert(k.clone(), iv.clone());
                    }
                }
                if !kept.is_empty() {
                    out.insert(key.clone(), Value::Object(kept));
                }
            } else if let Some(def) = find(&self.core.attributes, key).or_else(|| find(&self.common, key)) {
                if !keep(def, key) {
                    continue;
                }
                // Asked for by sub-attribute only (`name.givenName`): just those.
                let whole = attributes.is_empty() || def.returned == Returned::Always || attributes.iter().any(|a| a.eq_ignore_ascii_case(key));
                out.insert(key.clone(), if whole { v.clone() } else { only_sub_attributes(v, key, attributes) });
            }
        }
        Value::Object(out)
    }
}

/// `v` (a complex value or an array of them) with only the sub-attributes `attributes`
/// names under `parent`.
fn only_sub_attributes(v: &Value, parent: &str, attributes: &[String]) -> Value {
    let wanted = |k: &str| attributes.iter().any(|a| starts_with_path(a, parent) && a[parent.len() + 1..].eq_ignore_ascii_case(k));
    let trim = |item: &Value| match item.as_object() {
        Some(o) => Value::Object(o.iter().filter(|(k, _)| wanted(k)).map(|(k, x)| (k.clone(), x.clone())).collect()),
        None => item.clone(),
    };
    match v {
        Value::Array(items) => Value::Array(items.iter().map(trim).collect()),
        other => trim(other),
    }
}

/// Whether `path` names a sub-attribute of `parent` (`name.givenName` under `name`).
fn starts_with_path(path: &str, parent: &str) -> bool {
    path.len() > parent.len() && path[..parent.len()].eq_ignore_ascii_case(parent) && path.as_bytes()[parent.len()] == b'.'
}

fn embedded(json: &str) -> Schema {
    // INVARIANT: the embedded RFC documents parse; the crate's tests read every one.
    let document: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    Schema::from_document(document).unwrap_or_else(|_| Schema { id: String::new(), name: String::new(), attributes: Vec::new(), document: Value::Null })
}

fn check_object(attrs: &[Attribute], object: &Map<String, Value>, at: &str) -> Result<Map<String, Value>, SchemaError> {
    let mut out = Map::new();
    for (key, v) in object {
        if key.eq_ignore_ascii_case("schemas") {
            // Some clients (scim2-models, which the scim2-tester suite is built on) repeat
            // the extension's URN inside it; it says nothing the key does not.
            continue;
        }
        let path = format!("{at}:{key}");
        let def = find(attrs, key).ok_or_else(|| syntax(format!("unknown attribute {path:?}")))?;
        if !kept(def) {
            continue;
        }
        out.insert(key.clone(), normalize(def, v, &path)?);
    }
    Ok(out)
}

/// Whether a client's value of `def` is stored. Read-only attributes are the server's own
/// (RFC 7643 §2.2: a client's values are ignored). Write-only ones are dropped unread:
/// the only one in these schemas is `password`, and Annexa governs access without ever
/// needing a password, so one it never keeps can never leak, not even in an error message.
fn kept(def: &Attribute) -> bool {
    !matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly)
}

fn require(attrs: &[Attribute], object: &Map<String, Value>, prefix: &str) -> Result<(), SchemaError> {
    for def in attrs.iter().filter(|a| a.required && a.mutability != Mutability::ReadOnly) {
        let present = object.iter().find(|(k, _)| k.eq_ignore_ascii_case(&def.name)).map(|(_, v)| v);
        let empty = match present {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if empty {
            return Err(value(format!("{prefix}{} is required", def.name)));
        }
    }
    Ok(())
}

/// Checks a value against its definition and returns it as stored. Two shapes Microsoft
/// Entra ID sends are read as what they mean, at any depth: a boolean as the string
/// `"True"` or `"False"` (any case), as it sends `active` and `roles[].primary`; and a
/// string for a single-valued complex attribute with a `value` sub-attribute, as it sends
/// the enterprise `manager` (the string is that `value`).
fn normalize(def: &Attribute, v: &Value, path: &str) -> Result<Value, SchemaError> {
    if v.is_null() {
        return Ok(Value::Null); // an unassigned value (RFC 7643 §2.5)
    }
    if def.multi_valued {
        let Some(items) = v.as_array() else {
            return Err(value(format!("{path} is multi-valued: expected an array")));
        };
        return items.iter().map(|item| normalize_single(def, item, path, true)).collect::<Result<_, _>>().map(Value::Array);
    }
    normalize_single(def, v, path, false)
}

fn normalize_single(def: &Attribute, v: &Value, path: &str, in_array: bool) -> Result<Value, SchemaError> {
    let ok = match def.kind.as_str() {
        "string" | "reference" | "binary" => v.is_string(),
        "boolean" => match v.as_str().and_then(crate::eval::text_bool) {
            Some(b) => return Ok(Value::Bool(b)),
            None => v.is_boolean(),
        },
        "integer" => v.is_i64() || v.is_u64(),
        "decimal" => v.is_number(),
        "dateTime" => v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "complex" => {
            if let (Some(t), false, Some(_)) = (v.as_str(), in_array, find(&def.sub_attributes, "value")) {
                let mut o = Map::new();
                o.insert("value".into(), t.into());
                return Ok(Value::Object(o));
            }
            let Some(object) = v.as_object() else {
                return Err(value(format!("{path} is complex: expected an object")));
            };
            let mut out = Map::new();
            for (key, sub) in object {
                let sub_path = format!("{path}.{key}");
                let sub_def = find(&def.sub_attributes, key).ok_or_else(|| syntax(format!("unknown attribute {sub_path:?}")))?;
                if sub_def.mutability == Mutability::WriteOnly {
                    continue;
                }
                out.insert(key.clone(), normalize(sub_def, sub, &sub_path)?);
            }
            return Ok(Value::Object(out));
        }
        _ => true,
    };
    if ok {
        Ok(v.clone())
    } else {
        let what = if def.kind == "dateTime" { "an RFC 3339 date-time string".to_string() } else { format!("a {}", def.kind) };
        Err(value(format!("{path} must be {what}, not {v}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::reference_sample as sample;

    #[test]
    fn the_embedded_schemas_are_the_rfc_documents() {
        for (file, embedded) in [
            ("rfc7643-8.7.1-schema-user.json", USER_JSON),
            ("rfc7643-8.7.1-schema-enterprise_user.json", ENTERPRISE_USER_JSON),
            ("rfc7643-8.7.1-schema-group.json", GROUP_JSON),
        ] {
            let doc: Value = serde_json::from_str(embedded).expect("json");
            assert_eq!(doc, sample(file), "{file}");
            Schema::from_document(doc).expect("a schema");
        }
        let user = ResourceSchema::user();
        assert_eq!((user.core.id.as_str(), user.extensions[0].id.as_str()), (USER, ENTERPRISE_USER));
        assert_eq!(ResourceSchema::group().core.id, GROUP);
    }

    #[test]
    fn the_rfc_example_resources_validate() {
        let user = ResourceSchema::user();
        for file in ["rfc7643-8.1-user-minimal.json", "rfc7643-8.2-user-full.json", "rfc7643-8.3-enterprise_user.json", "rfc7644-3.3-user-post_request.json"] {
            let stored = user.validate(&sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            // Read-only attributes sent by a client are ignored.
            assert!(stored.get("id").is_none() && stored.get("meta").is_none(), "{file}");
        }
        ResourceSchema::group().validate(&sample("rfc7643-8.4-group.json")).expect("group");
    }

    #[test]
    fn bad_resources_get_the_right_scim_type() {
        let user = ResourceSchema::user();
        let base = |extra: Value| {
            let mut u = json!({ "schemas": [USER], "userName": "bjensen" });
            if let (Some(o), Some(e)) = (u.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            u
        };
        let cases = [
            (json!([]), "invalidSyntax", "JSON object"),
            (json!({ "userName": "x" }), "invalidSyntax", "list its schemas"),
            (json!({ "schemas": [GROUP], "userName": "x" }), "invalidSyntax", "must include"),
            (json!({ "schemas": [USER, "urn:example:x"], "userName": "x" }), "invalidSyntax", "unknown schema"),
            (json!({ "schemas": [USER] }), "invalidValue", "userName is required"),
            (json!({ "schemas": [USER], "userName": "" }), "invalidValue", "userName is required"),
            (base(json!({ "shoeSize": 42 })), "invalidSyntax", "unknown attribute \"shoeSize\""),
            (base(json!({ "active": "yes" })), "invalidValue", "active must be a boolean"),
            (base(json!({ "emails": { "value": "a@b" } })), "invalidValue", "emails is multi-valued"),
            (base(json!({ "name": "Babs" })), "invalidValue", "name is complex"),
            (base(json!({ "name": { "nickname": "B" } })), "invalidSyntax", "unknown attribute \"name.nickname\""),
            (base(json!({ "emails": [{ "value": 7 }] })), "invalidValue", "emails.value must be a string"),
            (base(json!({ ENTERPRISE_USER: { "employeeNumber": "1" } })), "invalidSyntax", "not listed in schemas"),
        ];
        for (resource, scim_type, says) in cases {
            let err = user.validate(&resource).expect_err(&resource.to_string());
            assert_eq!(err.scim_type, scim_type, "{resource}: {err}");
            assert!(err.message.contains(says), "{resource}: {err}");
        }
        let ext = json!({ "schemas": [USER, ENTERPRISE_USER], "userName": "b", ENTERPRISE_USER: { "manager": { "value": "26118915" }, "badge": 1 } });
        assert_eq!(user.validate(&ext).expect_err("unknown").message, format!("unknown attribute \"{ENTERPRISE_USER}:badge\""));
        assert!(user.validate(&json!({ "schemas": [USER], "userName": "b", "meta": "anything" })).is_ok(), "read-only input is ignored");
    }

    #[test]
    fn passwords_are_dropped_unread() {
        let user = ResourceSchema::user();
        for password in [json!("Hunter2-secret"), json!(12345), json!({"nested": "x"}), json!(null)] {
            for key in ["password", "PassWord"] {
                let stored = user.validate(&json!({ "schemas": [USER], "userName": "u", key: password })).expect("accepted");
                assert_eq!(stored, json!({ "schemas": [USER], "userName": "u" }), "{key}: {password}");
            }
        }
        // In PATCH: a path to it, or a key of a path-less value, is taken out.
        let ops = crate::parse_patch_request(&json!({
            "schemas": [crate::PATCH_OP_SCHEMA],
            "Operations": [
                { "op": "replace", "path": "password", "value": "x" },
                { "op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "x" },
                { "op": "replace", "value": { "PASSWORD": "x", "title": "t", "urn:ietf:params:scim:schemas:core:2.0:User:password": "y" } },
                { "op": "replace", "path": "title", "value": "t2" },
            ]
        }))
        .expect("ops");
        let kept = user.without_write_only(ops);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].value, Some(json!({ "title": "t" })));
    }

    #[test]
    fn patch_paths_are_checked_against_the_schema() {
        let user = ResourceSchema::user();
        let check = |p: &str| user.check_patch_path(&crate::parse_path(p).expect("parses")).map_err(|e| (e.scim_type, e.message));
        for ok in ["userName", "name.givenName", "emails[type eq \"work\"].value", "externalId", ENTERPRISE_USER, &format!("{ENTERPRISE_USER}:manager.value"), &format!("{USER}:title")] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok));
        }
        assert!(ResourceSchema::group().check_patch_path(&crate::parse_path("members[value eq \"1\"]").expect("parses")).is_ok());
        for (bad, says) in [
            ("shoeSize", "unknown attribute \"shoeSize\""),
            ("name.nickname", "has no sub-attribute"),
            ("title[value eq \"x\"]", "not multi-valued"),
            ("urn:example:ext:1.0:User:x", "unknown schema"),
            (&format!("{ENTERPRISE_USER}:badge"), "unknown attribute"),
        ] {
            let (scim_type, message) = check(bad).expect_err(bad);
            assert_eq!(scim_type, "invalidPath", "{bad}");
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn never_returned_attributes_are_found_in_filters() {
        let user = ResourceSchema::user();
        let find = |f: &str| user.never_returned_in(&crate::parse_filter(f).expect("parses"));
        assert_eq!(find("userName eq \"u\" and password sw \"Hunt\""), Some("password".into()));
        assert_eq!(find("not (PASSWORD pr)"), Some("PASSWORD".into()));
        assert_eq!(find("urn:ietf:params:scim:schemas:core:2.0:User:password gt \"a\""), Some(format!("{USER}:password")));
        assert_eq!(find("userName eq \"u\" or emails[value co \"x\"]"), None);
        assert!(user.is_never_returned("password") && !user.is_never_returned("userName"));
    }

    #[test]
    fn case_exactness_comes_from_the_schema() {
        let user = ResourceSchema::user();
        assert!(user.case_exact("id"));
        assert!(user.case_exact("externalId"));
        assert!(!user.case_exact("userName"));
        assert!(!user.case_exact("emails.value"));
        assert!(!user.case_exact("urn:ietf:params:scim:schemas:core:2.0:User:userName"));
        assert!(user.attribute(&format!("{ENTERPRISE_USER}:manager.value")).is_some());
        assert!(user.attribute("shoeSize").is_none());
    }

    #[test]
    fn projection_follows_returned_and_the_request() {
        let user = ResourceSchema::user();
        let full = sample("rfc7643-8.2-user-full.json");
        let all = user.project(&full, &[], &[]);
        assert!(all.get("password").is_none(), "returned: never");
        assert!(all.get("userName").is_some() && all.get("id").is_some());
        let some = user.project(&full, &["userName".into(), "name.givenName".into()], &[]);
        let mut keys: Vec<&String> = some.as_object().expect("object").keys().collect();
        keys.sort();
        assert_eq!(keys, ["id", "name", "schemas", "userName"]);
        assert_eq!(some["name"], json!({ "givenName": "Barbara" }));
        let without = user.project(&full, &[], &["emails".into(), "id".into()]);
        assert!(without.get("emails").is_none());
        assert!(without.get("id").is_some(), "returned: always survives excludedAttributes");
    }
}
