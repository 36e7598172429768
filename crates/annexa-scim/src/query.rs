//! List queries (RFC 7644 §3.4.2, §3.4.3): `filter`, `sortBy`, `sortOrder`, `startIndex`,
//! `count`, `attributes` and `excludedAttributes`, read from a query string or a `/.search`
//! body and run over resources.

use crate::discovery::list_response;
use crate::schema::ResourceSchema;
use crate::{parse_filter, Filter};
use serde_json::Value;
use std::borrow::Borrow;
use std::cmp::Ordering;

/// The schema URN of a `/.search` request body.
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A query parameter that cannot be used, with the `scimType` to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub scim_type: &'static str,
    pub message: String,
}

fn invalid(message: String) -> QueryError {
    QueryError { scim_type: "invalidValue", message }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// One list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub sort_by: Option<String>,
    pub sort_order: SortOrder,
    /// 1-based.
    pub start_index: usize,
    pub count: usize,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

/// The parameters, by name, as strings (a query string) or JSON values (a search body).
trait Params {
    fn text(&self, name: &str) -> Result<Option<String>, QueryError>;
    fn list(&self, name: &str) -> Result<Vec<String>, QueryError>;
}

impl Params for [(String, String)] {
    fn text(&self, name: &str) -> Result<Option<String>, QueryError> {
        let mut found = self.iter().filter(|(k, _)| k == name);
        let first = found.next().map(|(_, v)| v.clone());
        if found.next().is_some() {
            return Err(invalid(format!("{name} is given twice")));
        }
        Ok(first)
    }
    fn list(&self, name: &str) -> Result<Vec<String>, QueryError> {
        Ok(self.text(name)?.map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default())
    }
}

impl Params for serde_json::Map<String, Value> {
    fn text(&self, name: &str) -> Result<Option<String>, QueryError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(invalid(format!("{name} must be a string or a number, not {other}"))),
        }
    }
    fn list(&self, name: &str) -> Result<Vec<String>, QueryError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(String::from).ok_or_else(|| invalid(format!("{name} must list attribute names"))))
                .collect(),
            Some(other) => Err(invalid(format!("{name} must be an array of attribute names, not {other}"))),
        }
    }
}

fn integer(name: &str, text: Option<String>) -> Result<Option<i64>, QueryError> {
    text.map(|t| t.trim().parse::<i64>().map_err(|_| invalid(format!("{name} must be an integer, not {t:?}")))).transpose()
}

impl ListQuery {
    /// From the query string of a GET (RFC 7644 §3.4.2). `count` is capped at `max_results`,
    /// and is `max_results` when absent.
    pub fn from_params(params: &[(String, String)], schema: &ResourceSchema, max_results: usize) -> Result<ListQuery, QueryError> {
        read(params, schema, max_results)
    }

    /// From the body of a `POST …/.search` (RFC 7644 §3.4.3).
    pub fn from_search_request(body: &Value, schema: &ResourceSchema, max_results: usize) -> Result<ListQuery, QueryError> {
        let Some(object) = body.as_object() else {
            return Err(QueryError { scim_type: "invalidSyntax", message: "a search request must be a JSON object".into() });
        };
        let listed = object.get("schemas").and_then(Value::as_array).is_some_and(|s| s.iter().any(|v| v.as_str() == Some(SEARCH_REQUEST)));
        if !listed {
            return Err(QueryError { scim_type: "invalidSyntax", message: format!("a search request must list the schema {SEARCH_REQUEST}") });
        }
        read(object, schema, max_results)
    }

    /// Filters, sorts and pages `resources`, and projects each one: the list response.
    /// Resources are only borrowed until the page is projected, so a server can query what
    /// it holds in memory without copying it.
    pub fn run<R: Borrow<Value>>(&self, schema: &ResourceSchema, resources: impl IntoIterator<Item = R>) -> Value {
        let case_exact = |p: &str| schema.case_exact(p);
        let mut matching: Vec<R> = resources
            .into_iter()
            .filter(|r| self.filter.as_ref().is_none_or(|f| f.matches_with(r.borrow(), &case_exact)))
            .collect();
        if let Some(path) = &self.sort_by {
            let exact = schema.case_exact(path);
            // Each resource's key is computed once, not at every comparison.
            let mut keyed: Vec<(Option<SortKey>, R)> =
                matching.into_iter().map(|r| (sort_value(r.borrow(), path, schema).map(|v| SortKey::of(&v, exact)), r)).collect();
            // Resources without a value come last in ascending order and first in
            // descending order (RFC 7644 §3.4.2.3): reversing the whole order does that.
            keyed.sort_by(|(a, _), (b, _)| match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => x.cmp(y),
            });
            if self.sort_order == SortOrder::Descending {
                keyed.reverse();
            }
            matching = keyed.into_iter().map(|(_, r)| r).collect();
        }
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(self.start_index - 1)
            .take(self.count)
            .map(|r| schema.project(r.borrow(), &self.attributes, &self.excluded))
            .collect();
        list_response(page, total, self.start_index)
    }
}

fn read<P: Params + ?Sized>(params: &P, schema: &ResourceSchema, max_results: usize) -> Result<ListQuery, QueryError> {
    let filter = match params.text("filter")? {
        Some(f) => Some(parse_filter(&f).map_err(|e| QueryError { scim_type: e.scim_type(), message: format!("filter: {e}") })?),
        None => None,
    };
    if let Some(path) = filter.as_ref().and_then(|f| schema.never_returned_in(f)) {
        return Err(QueryError { scim_type: "invalidFilter", message: format!("filter: {path} is never returned, so it cannot be filtered on") });
    }
    let sort_by = params.text("sortBy")?;
    if let Some(path) = &sort_by {
        if schema.is_never_returned(path) {
            return Err(QueryError { scim_type: "invalidFilter", message: format!("sortBy: {path} is never returned, so nothing can be sorted by it") });
        }
        if schema.attribute(path).is_none() {
            return Err(invalid(format!("sortBy names no attribute of a {}: {path:?}", schema.core.name)));
        }
    }
    let sort_order = match params.text("sortOrder")?.as_deref() {
        None | Some("ascending") => SortOrder::Ascending,
        Some("descending") => SortOrder::Descending,
        Some(other) => return Err(invalid(format!("sortOrder must be ascending or descending, not {other:?}"))),
    };
    // Out-of-range values are read as the nearest allowed one (RFC 7644 §3.4.2.4).
    let start_index = integer("startIndex", params.text("startIndex")?)?.unwrap_or(1).max(1) as usize;
    let count = integer("count", params.text("count")?)?.map_or(max_results, |c| (c.max(0) as usize).min(max_results));
    Ok(ListQuery { filter, sort_by, sort_order, start_index, count, attributes: params.list("attributes")?, excluded: params.list("excludedAttributes")? })
}

/// The value a resource is sorted by: for a multi-valued attribute the primary value, or
/// else the first; for a complex value its `value` sub-attribute.
fn sort_value(resource: &Value, path: &str, schema: &ResourceSchema) -> Option<Value> {
    let mut here = resource;
    let mut rest = path;
    for ext in std::iter::once(&schema.core).chain(&schema.extensions) {
        if rest.len() > ext.id.len() && rest[..ext.id.len()].eq_ignore_ascii_case(&ext.id) {
            rest = rest[ext.id.len()..].trim_start_matches(':');
            if ext.id != schema.core.id {
                here = get(here, &ext.id)?;
            }
            break;
        }
    }
    let mut parts = rest.split('.').peekable();
    while let Some(part) = parts.next() {
        here = get(here, part)?;
        if let Value::Array(items) = here {
            here = items.iter().find(|i| i.get("primary").and_then(Value::as_bool) == Some(true)).or_else(|| items.first())?;
            if parts.peek().is_none() && here.is_object() {
                here = get(here, "value")?;
            }
        }
    }
    (!here.is_null()).then(|| here.clone())
}

fn get<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, x)| x)
}

/// What a resource is sorted by: date-times as instants, numbers numerically, strings by
/// code point (lower-cased unless case-exact), booleans false first. Values of different
/// kinds are equal to each other, as they do not compare.
#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    Time(chrono::DateTime<chrono::FixedOffset>),
    Number(f64),
    Text(String),
    Bool(bool),
    Other,
}

impl SortKey {
    fn of(v: &Value, case_exact: bool) -> SortKey {
        match v {
            Value::Number(n) => n.as_f64().map_or(SortKey::Other, SortKey::Number),
            Value::Bool(b) => SortKey::Bool(*b),
            Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(t) => SortKey::Time(t),
                Err(_) if case_exact => SortKey::Text(annexa_core::text::canonical(s).into_owned()),
                Err(_) => SortKey::Text(annexa_core::text::fold(s)),
            },
            _ => SortKey::Other,
        }
    }

    fn cmp(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Time(a), SortKey::Time(b)) => a.cmp(b),
            (SortKey::Number(a), SortKey::Number(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Bool(a), SortKey::Bool(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::USER;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn users() -> Vec<Value> {
        vec![
            json!({ "schemas": [USER], "id": "1", "userName": "carol", "title": "Dev", "emails": [{ "value": "z@x.io" }, { "value": "c@x.io", "primary": true }] }),
            json!({ "schemas": [USER], "id": "2", "userName": "Alice", "emails": [{ "value": "a@x.io" }], "meta": { "lastModified": "2026-01-02T00:00:00+01:00" } }),
            json!({ "schemas": [USER], "id": "3", "userName": "bob", "title": "Ops", "password": "secret", "meta": { "lastModified": "2026-01-01T23:30:00Z" } }),
        ]
    }

    fn ids(response: &Value) -> Vec<&str> {
        response["Resources"].as_array().map(|r| r.iter().filter_map(|u| u["id"].as_str()).collect()).unwrap_or_default()
    }

    #[test]
    fn filter_sort_and_page() {
        let schema = ResourceSchema::user();
        let run = |pairs: &[(&str, &str)]| ListQuery::from_params(&params(pairs), &schema, 2).expect("query").run(&schema, users());
        // userName is not caseExact: Alice sorts first.
        let r = run(&[("sortBy", "userName")]);
        assert_eq!((ids(&r), r["totalResults"].as_u64(), r["itemsPerPage"].as_u64()), (vec!["2", "3"], Some(3), Some(2)));
        assert_eq!(ids(&run(&[("sortBy", "userName"), ("startIndex", "3")])), ["1"]);
        assert_eq!(ids(&run(&[("sortBy", "userName"), ("sortOrder", "descending")])), ["1", "3"]);
        // Multi-valued: by the primary value, else the first.
        assert_eq!(ids(&run(&[("sortBy", "emails.value")])), ["2", "1"]);
        // Missing values come last ascending, first descending; count is capped at the
        // maximum (2 here).
        assert_eq!(ids(&run(&[("sortBy", "title"), ("startIndex", "2"), ("count", "5")])), ["3", "2"]);
        assert_eq!(ids(&run(&[("sortBy", "title"), ("sortOrder", "descending"), ("count", "5")])), ["2", "3"]);
        // Date-times compare as instants, not strings.
        assert_eq!(ids(&run(&[("sortBy", "meta.lastModified")])), ["2", "3"]);
        // Filters use the schema's caseExact; out-of-range paging is clamped.
        assert_eq!(ids(&run(&[("filter", "userName eq \"ALICE\"")])), ["2"]);
        assert_eq!(ids(&run(&[("filter", "id eq \"1\" or id eq \"3\""), ("startIndex", "-4"), ("count", "-1")])), Vec::<&str>::new());
        assert_eq!(run(&[("count", "0")])["totalResults"], 3);
        // Projection: never-returned attributes are gone; `attributes` keeps id.
        let r = run(&[("attributes", "userName"), ("filter", "id eq \"3\"")]);
        assert_eq!(r["Resources"][0], json!({ "schemas": [USER], "id": "3", "userName": "bob" }));
    }

    #[test]
    fn bad_parameters_get_the_right_scim_type() {
        let schema = ResourceSchema::user();
        for (pairs, scim_type, says) in [
            (vec![("filter", "userName eq")], "invalidFilter", "filter"),
            (vec![("sortBy", "shoeSize")], "invalidValue", "sortBy names no attribute"),
            (vec![("sortOrder", "up")], "invalidValue", "sortOrder must be"),
            (vec![("count", "ten")], "invalidValue", "count must be an integer"),
            (vec![("count", "1"), ("count", "2")], "invalidValue", "given twice"),
            // A password is never returned, so it can neither be filtered on nor sorted by.
            (vec![("filter", "userName eq \"bob\" and password sw \"s\"")], "invalidFilter", "password is never returned"),
            (vec![("filter", "password co \"e\" or password lt \"m\"")], "invalidFilter", "password is never returned"),
            (vec![("sortBy", "password")], "invalidFilter", "password is never returned"),
        ] {
            let err = ListQuery::from_params(&params(&pairs), &schema, 10).expect_err("refused");
            assert_eq!(err.scim_type, scim_type, "{pairs:?}: {err}");
            assert!(err.message.contains(says), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn the_rfc_search_request_is_read() {
        let schema = ResourceSchema::user();
        let q = ListQuery::from_search_request(&crate::reference_sample("rfc7644-3.4.3-search_request.json"), &schema, 100).expect("query");
        assert_eq!(q.attributes, ["displayName", "userName"]);
        assert_eq!((q.start_index, q.count), (1, 10));
        assert!(q.filter.is_some());
        let err = ListQuery::from_search_request(&json!({ "filter": "id pr" }), &schema, 10).expect_err("no schemas");
        assert_eq!(err.scim_type, "invalidSyntax");
    }
}
