//! SCIM 2.0 filters and PATCH paths: the small query and update language of RFC 7644, as a
//! pure library over `serde_json` values.
//!
//! - [`parse_filter`] reads a filter (RFC 7644 §3.4.2.2): attribute paths with optional
//!   schema URN and sub-attribute, the operators `eq ne co sw ew gt ge lt le pr`, `and`,
//!   `or`, `not ( )`, grouping, and value paths such as `emails[type eq "work"]`. A
//!   [`FilterError`] gives the byte position and what was expected there; its
//!   [`scim_type`](FilterError::scim_type) is the `scimType` to answer with.
//! - [`Filter::matches`] evaluates a filter against a resource: attribute names ignore case,
//!   a multi-valued attribute matches when any value does, strings compare case-insensitively
//!   unless the [`Filter::matches_with`] hook marks them `caseExact`, numbers compare
//!   numerically and RFC 3339 date-times chronologically.
//! - [`parse_path`] reads a PATCH path (RFC 7644 §3.5.2), and [`apply_patch`],
//!   [`PatchOperation`] and [`apply_operations`] apply `add`, `remove` and `replace` with the
//!   semantics of RFC 7644 §3.5.2.1–3, all or nothing, failing with a [`PatchError`] whose
//!   [`scim_type`](PatchError::scim_type) is `invalidPath`, `invalidFilter`, `noTarget`,
//!   `invalidValue` or `invalidSyntax`.
//!
//! Filters and PATCH know no schema: the JSON decides whether an attribute is multi-valued
//! (an array), complex (an object) or a date-time (a string in RFC 3339 form). The
//! [`schema`] module holds the RFC 7643 User (with the enterprise extension) and Group
//! schemas: it validates what a client sends (unknown attributes, types, required ones,
//! read-only ones dropped), answers `caseExact` for the filter hook, and projects resources
//! for `attributes` / `excludedAttributes`.
//! [`discovery`] builds `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, list
//! responses and error responses. [`query`] reads list requests (query string or `/.search` body)
//! and runs them: filter with the schema's `caseExact`, sort (primary values, missing values
//! last ascending), page, project. [`bulk`] reads Bulk requests and runs them through a
//! callback: `bulkId:` references resolved (a reference to a later operation waits for it,
//! circular ones fail with 409), `failOnErrors` honoured, the response built. [`etag`]
//! turns resource versions into weak ETags and reads `If-Match` / `If-None-Match`. There is no I/O, and no input makes it panic: the length
//! of a filter is limited to [`MAX_FILTER_LEN`] bytes and its nesting to [`MAX_DEPTH`].
//!
//! ```
//! use annexa_scim::{parse_filter, parse_path, apply_patch, PatchOp};
//! use serde_json::json;
//!
//! let mut user = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "id": "2819c223",
//!     "userName": "bjensen@example.com",
//!     "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
//! });
//!
//! let filter = parse_filter(r#"userName sw "BJENSEN" and emails[type eq "work"]"#).unwrap();
//! assert!(filter.matches(&user));
//! // `id` is caseExact in RFC 7643 §3.1; the hook says so.
//! let by_id = parse_filter(r#"id eq "2819C223""#).unwrap();
//! assert!(by_id.matches(&user));
//! assert!(!by_id.matches_with(&user, &|attr| attr == "id" || attr == "externalid"));
//!
//! let err = parse_filter(r#"userName eq "bjensen"#).unwrap_err();
//! assert_eq!((err.position(), err.scim_type()), (12, "invalidFilter"));
//!
//! let path = parse_path(r#"emails[type eq "work"].value"#).unwrap();
//! apply_patch(&mut user, PatchOp::Replace, Some(&path), Some(&json!("babs@example.com"))).unwrap();
//! assert_eq!(user["emails"][0]["value"], "babs@example.com");
//!
//! let none = parse_path(r#"emails[type eq "home"]"#).unwrap();
//! let err = apply_patch(&mut user, PatchOp::Remove, Some(&none), None).unwrap_err();
//! assert_eq!(err.scim_type(), "noTarget");
//! ```

mod eval;
pub mod bulk;
pub mod discovery;
pub mod etag;
pub mod filter;
pub mod patch;
pub mod path;
pub mod query;
pub mod schema;

pub use eval::compared_values;
pub use filter::{
    parse_filter, AttrPath, CompValue, CompareOp, Filter, FilterError, SyntaxKind, MAX_DEPTH, MAX_FILTER_LEN,
};
pub use patch::{
    apply_operations, apply_operations_for, apply_operations_with, apply_patch, apply_patch_with, parse_patch_request, PatchError, PatchOp,
    PatchOperation, PatchSchema, PATCH_OP_SCHEMA,
};
pub use path::{parse_path, PatchPath};

/// A sample document of `../shared/reference/samples/scim/` (the RFC examples), for tests.
#[cfg(test)]
pub(crate) fn reference_sample(name: &str) -> serde_json::Value {
    let path = format!("{}/../../../shared/reference/samples/scim/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}
