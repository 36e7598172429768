//! Writing: create (POST), replace (PUT), modify (PATCH), delete, and Bulk (RFC 7644 §3.3,
//! §3.5, §3.6, §3.7), with `If-Match` preconditions (§3.14).
//!
//! A write is checked against the schema and against what the cache holds (unique
//! `userName`, Group members that exist), then stored with a ledger entry; the answer is
//! what the cache holds after pulling that change back from the database. A write whose
//! result equals what is stored changes nothing: same version, no ledger entry. A
//! `password` is dropped before anything reads it.

use super::cache::{stored_form, Held, Kind, SystemData};
use super::read::{body_bytes, one, write_params, QueryParams};
use super::{blocking, json_body, system_of, Answer, ScimError};
use crate::auth::Principal;
use crate::AppState;
use annexa_scim::bulk::{self, Method, Outcome};
use annexa_scim::schema::{SchemaError, MAX_RESOURCE_BYTES};
use annexa_scim::{apply_operations_for, parse_patch_request, PatchError};
use annexa_store::scim::{ScimWrite, ScimWritten};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Extension;
use serde_json::{json, Value};
use std::sync::Arc;

/// One change asked for.
pub enum Mutation {
    Create(Value),
    Replace(String, Value),
    Patch(String, Value),
    Delete(String),
}

/// What a write did: its status and the resource as it now is (none after a delete).
pub struct Done {
    pub status: StatusCode,
    pub id: String,
    pub held: Option<Held>,
}

fn schema_error(e: SchemaError) -> ScimError {
    ScimError::bad(e.scim_type, e.message)
}

fn patch_error(e: PatchError) -> ScimError {
    ScimError::bad(e.scim_type(), e.to_string())
}

/// A new resource id: 128 random bits in the UUID text form IdPs expect.
fn new_id() -> Result<String, ScimError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| ScimError::internal(&format!("no randomness for an id: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = annexa_core::to_hex(&b);
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

fn precondition(if_match: Option<&str>, current: &Held) -> Result<(), ScimError> {
    let Some(header) = if_match else { return Ok(()) };
    let etag = annexa_scim::etag::etag(current.version as u64);
    match annexa_scim::etag::if_match(header, &etag) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ScimError::new(412, None, format!("the resource is at version {etag}, not {header}"))),
        Err(e) => Err(ScimError::bad("invalidValue", format!("If-Match: {e}"))),
    }
}

/// Checks what only the stored data can tell, and completes Group members with their type.
/// `current` is the resource before the change: its members are known to exist (a deleted
/// resource leaves its Groups in the same transaction), so only new ones are looked up.
fn check(kind: Kind, resource: &mut Value, sys: &SystemData, id: &str, current: Option<&Held>) -> Result<(), ScimError> {
    check_size(kind, resource)?;
    match kind {
        Kind::User => {
            let name = resource.get("userName").and_then(Value::as_str).unwrap_or_default();
            if name.trim().is_empty() {
                return Err(ScimError::bad("invalidValue", "userName must not be empty"));
            }
            // A NUL, CR or LF in a login forges lines in logs and exports downstream.
            if let Some((at, c)) = annexa_core::text::control_char(name) {
                return Err(ScimError::bad("invalidValue", format!("userName must not contain control characters: U+{:04X} at character {at}", c as u32)));
            }
            if sys.user_named(name).is_some_and(|other| other != id) {
                return Err(ScimError::new(409, Some("uniqueness"), format!("userName {name:?} is already taken")));
            }
        }
        Kind::Group => {
            fn pair(m: &Value) -> Option<(&str, &str)> {
                Some((m.get("value")?.as_str()?, m.get("type")?.as_str()?))
            }
            let known: std::collections::HashSet<(&str, &str)> = current
                .and_then(|h| h.view.get("members"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(pair)
                .collect();
            if let Some(members) = resource.get_mut("members").and_then(Value::as_array_mut) {
                for m in members.iter_mut() {
                    let Some(value) = m.get("value").and_then(Value::as_str).map(String::from) else {
                        return Err(ScimError::bad("invalidValue", "every member needs a value (the id of a User or Group)"));
                    };
                    if pair(m).is_some_and(|p| known.contains(&p)) {
                        continue;
                    }
                    let member_kind = if sys.users.contains_key(&value) {
                        Kind::User
                    } else if sys.groups.contains_key(&value) && value != id {
                        Kind::Group
                    } else {
                        return Err(ScimError::bad("invalidValue", format!("member {value:?} is no User or Group of this system")));
                    };
                    // `type` is "User" or "Group" (RFC 7643 §4.2), and must say what the member is.
                    match m.get("type") {
                        None | Some(Value::Null) => {}
                        Some(Value::String(t)) if t.eq_ignore_ascii_case(member_kind.as_str()) => {}
                        Some(other) => {
                            return Err(ScimError::bad(
                                "invalidValue",
                                format!("member {value:?} is a {}, but its type says {other}; type is \"User\" or \"Group\"", member_kind.as_str()),
                            ))
                        }
                    }
                    if let Some(o) = m.as_object_mut() {
                        o.insert("type".into(), member_kind.as_str().into());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Refuses a resource larger than [`MAX_RESOURCE_BYTES`] apart from a Group's members:
/// what the server stores, its importer must read, and a Group's membership may grow
/// with the organisation, so only the rest is bounded.
fn check_size(kind: Kind, resource: &mut Value) -> Result<(), ScimError> {
    let members = match kind {
        Kind::Group => resource.as_object_mut().and_then(|o| o.remove("members")),
        Kind::User => None,
    };
    let size = serde_json::to_vec(resource).map_or(0, |v| v.len());
    if let (Some(m), Some(o)) = (members, resource.as_object_mut()) {
        o.insert("members".into(), m);
    }
    if size > MAX_RESOURCE_BYTES {
        let what = if kind == Kind::Group { " apart from its members" } else { "" };
        return Err(ScimError::bad("invalidValue", format!("a {} may hold at most {MAX_RESOURCE_BYTES} bytes{what}; this one would hold {size}", kind.as_str())));
    }
    Ok(())
}

/// Whether a new stored form says what the current one says: then the write changes
/// nothing, keeps its version and records nothing (`meta` is the server's own).
fn unchanged(new: &Value, current: &Held) -> bool {
    let content = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("meta");
            o.remove("id");
        }
        v
    };
    content(new) == content(&stored_form(&current.view))
}

/// Sets the attributes the server owns: `id` and `meta`.
fn finish(resource: &mut Value, kind: Kind, id: &str, created: &Value, now: &str, version: i64) {
    if let Some(o) = resource.as_object_mut() {
        o.insert("id".into(), id.into());
        o.insert(
            "meta".into(),
            json!({
                "resourceType": kind.as_str(),
                "created": created,
                "lastModified": now,
                "version": annexa_scim::etag::etag(version as u64),
            }),
        );
    }
}

/// The attributes a PATCH must not touch: the server's own.
fn patches_read_only(ops: &[annexa_scim::PatchOperation], kind: Kind) -> Option<String> {
    ops.iter().filter_map(|op| op.path.as_ref()).map(|p| &p.attr).find_map(|a| {
        let name = a.name.to_ascii_lowercase();
        let read_only = name == "id" || name == "meta" || (kind == Kind::User && name == "groups");
        (read_only && a.schema.as_deref().is_none_or(|s| s.starts_with("urn:ietf:params:scim:schemas:core:"))).then(|| a.name.clone())
    })
}

/// What one mutation writes, computed against the current state; the first write is the
/// resource itself, any others keep Groups consistent with a deleted member.
struct Planned {
    status: StatusCode,
    id: String,
    writes: Vec<PlannedWrite>,
}

/// One resource to store: its new JSON (`None`: delete), the version it was planned on
/// (`None`: new), and the ledger entry's kind.
struct PlannedWrite {
    id: String,
    kind: Kind,
    body: Option<Value>,
    expected: Option<i64>,
    ledger_kind: &'static str,
}

fn write(id: &str, kind: Kind, body: Option<Value>, expected: Option<i64>, ledger_kind: &'static str) -> PlannedWrite {
    PlannedWrite { id: id.to_string(), kind, body, expected, ledger_kind }
}

fn plan(s: &AppState, sys: &SystemData, kind: Kind, m: &Mutation, if_match: Option<&str>) -> Result<Planned, ScimError> {
    let schema = s.schema(kind);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let current = |id: &str| sys.get(kind, id).ok_or_else(|| ScimError::not_found(kind, id));
    let created_of = |h: &Held| h.view["meta"]["created"].clone();
    Ok(match m {
        Mutation::Create(body) => {
            let mut r = schema.validate(body).map_err(schema_error)?;
            let id = new_id()?;
            check(kind, &mut r, sys, &id, None)?;
            finish(&mut r, kind, &id, &now.clone().into(), &now, 1);
            Planned { status: StatusCode::CREATED, writes: vec![write(&id, kind, Some(r), None, "scim-created")], id }
        }
        Mutation::Replace(id, body) => {
            let cur = current(id)?;
            precondition(if_match, cur)?;
            let mut r = schema.validate(body).map_err(schema_error)?;
            check(kind, &mut r, sys, id, Some(cur))?;
            if unchanged(&r, cur) {
                return Ok(Planned { status: StatusCode::OK, id: id.clone(), writes: Vec::new() });
            }
            finish(&mut r, kind, id, &created_of(cur), &now, cur.version + 1);
            Planned { status: StatusCode::OK, id: id.clone(), writes: vec![write(id, kind, Some(r), Some(cur.version), "scim-replaced")] }
        }
        Mutation::Patch(id, body) => {
            let cur = current(id)?;
            precondition(if_match, cur)?;
            let ops = parse_patch_request(body).map_err(patch_error)?;
            for path in ops.iter().filter_map(|op| op.path.as_ref()) {
                schema.check_patch_path(path).map_err(schema_error)?;
            }
            if let Some(attr) = patches_read_only(&ops, kind) {
                return Err(ScimError::bad("mutability", format!("{attr} is read-only")));
            }
            // A password is dropped before anything reads it (see `ResourceSchema::validate`).
            let ops = schema.without_write_only(ops);
            let mut r = stored_form(&cur.view);
            apply_operations_for(&mut r, &ops, schema).map_err(patch_error)?;
            let mut r = schema.validate(&r).map_err(schema_error)?;
            check(kind, &mut r, sys, id, Some(cur))?;
            if unchanged(&r, cur) {
                return Ok(Planned { status: StatusCode::OK, id: id.clone(), writes: Vec::new() });
            }
            finish(&mut r, kind, id, &created_of(cur), &now, cur.version + 1);
            Planned { status: StatusCode::OK, id: id.clone(), writes: vec![write(id, kind, Some(r), Some(cur.version), "scim-patched")] }
        }
        Mutation::Delete(id) => {
            let cur = current(id)?;
            precondition(if_match, cur)?;
            let mut writes = vec![write(id, kind, None, Some(cur.version), "scim-deleted")];
            // A deleted resource leaves every Group that listed it (RFC 7644 §3.6).
            for gid in sys.groups_of(id) {
                let Some(g) = sys.groups.get(gid) else { continue };
                let mut r = stored_form(&g.view);
                if let Some(members) = r.get_mut("members").and_then(Value::as_array_mut) {
                    members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
                }
                finish(&mut r, Kind::Group, gid, &created_of(g), &now, g.version + 1);
                writes.push(write(gid, Kind::Group, Some(r), Some(g.version), "scim-member-removed"));
            }
            Planned { status: StatusCode::NO_CONTENT, id: id.clone(), writes }
        }
    })
}

/// Performs one mutation for `system`: planned on the current state with every other
/// writer held off (the store's `scim_change`), stored, then pulled back into the cache.
pub fn perform(s: &AppState, system: &str, actor: &str, kind: Kind, m: &Mutation, if_match: Option<&str>) -> Result<Done, ScimError> {
    let _writing = s.writing.lock().map_err(|_| ScimError::internal("the write lock is poisoned"))?;
    let mut store = s.store.get()?;
    let seq = s.cache.read().map_err(|_| ScimError::internal("the cache lock is poisoned"))?.seq;
    let mut answer = None;
    let written = store.scim_change(
        seq,
        |rows, last| s.absorb(rows, last),
        || {
            let cache = s.cache.read().map_err(|_| ScimError::internal("the cache lock is poisoned"))?;
            let planned = plan(s, cache.system(system), kind, m, if_match)?;
            answer = Some((planned.status, planned.id));
            Ok(planned
                .writes
                .into_iter()
                .map(|w| ScimWrite {
                    unique_key: match (w.kind, &w.body) {
                        (Kind::User, Some(r)) => r.get("userName").and_then(Value::as_str).map(annexa_core::text::login_key),
                        _ => None,
                    },
                    body: w.body.as_ref().map(Value::to_string),
                    id: w.id,
                    system: system.to_string(),
                    resource_type: w.kind.as_str(),
                    expected_version: w.expected,
                    kind: w.ledger_kind,
                })
                .collect())
        },
        actor,
        chrono::Utc::now(),
    )?;
    let Some((status, id)) = answer else { return Err(ScimError::internal("a change was stored without a plan")) };
    match written {
        ScimWritten::Done { .. } | ScimWritten::Unchanged => {
            s.sync(&mut store)?;
            let cache = s.cache.read().map_err(|_| ScimError::internal("the cache lock is poisoned"))?;
            let held = cache.system(system).get(kind, &id).cloned();
            Ok(Done { status, id, held })
        }
        ScimWritten::NotUnique(_) => Err(ScimError::new(409, Some("uniqueness"), "userName is already taken")),
        // Cannot happen while every writer goes through `scim_change`; answered, not assumed.
        ScimWritten::VersionMismatch => Err(ScimError::new(409, None, "the resource changed while this request was applied; try again")),
    }
}

fn if_match_of(headers: &HeaderMap) -> Option<String> {
    headers.get(header::IF_MATCH).map(|v| v.to_str().unwrap_or("\u{0}").to_string())
}

fn actor_of(p: &Principal) -> String {
    format!("token:{}", p.name)
}

#[allow(clippy::too_many_arguments)]
async fn mutate(
    s: Arc<AppState>,
    p: Principal,
    kind: Kind,
    id: Option<String>,
    method: Method,
    q: QueryParams,
    headers: HeaderMap,
    body: Option<Result<Bytes, BytesRejection>>,
) -> Result<Answer, ScimError> {
    let system = system_of(&p)?;
    let params = write_params(q)?;
    let json = match body {
        Some(b) => Some(json_body(&headers, &body_bytes(b, s.config.limits.max_payload_size)?)?),
        None => None,
    };
    let m = match (method, id, json) {
        (Method::Post, None, Some(j)) => Mutation::Create(j),
        (Method::Put, Some(id), Some(j)) => Mutation::Replace(id, j),
        (Method::Patch, Some(id), Some(j)) => Mutation::Patch(id, j),
        (Method::Delete, Some(id), _) => Mutation::Delete(id),
        _ => return Err(ScimError::bad("invalidSyntax", "a request body is required")),
    };
    let if_match = if_match_of(&headers);
    blocking(move || {
        let done = perform(&s, &system, &actor_of(&p), kind, &m, if_match.as_deref())?;
        match &done.held {
            Some(h) => one(&s, kind, h, done.status, &params, None),
            None => Ok(Answer { status: done.status, body: None, etag: None, location: None }),
        }
    })
    .await
}

type B = Result<Bytes, BytesRejection>;
type S = State<Arc<AppState>>;
type P = Extension<Principal>;

pub async fn create_user(State(s): S, Extension(p): P, q: QueryParams, h: HeaderMap, b: B) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::User, None, Method::Post, q, h, Some(b)).await
}
pub async fn create_group(State(s): S, Extension(p): P, q: QueryParams, h: HeaderMap, b: B) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::Group, None, Method::Post, q, h, Some(b)).await
}
pub async fn replace_user(State(s): S, Extension(p): P, Path(id): Path<String>, q: QueryParams, h: HeaderMap, b: B) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::User, Some(id), Method::Put, q, h, Some(b)).await
}
pub async fn replace_group(State(s): S, Extension(p): P, Path(id): Path<String>, q: QueryParams, h: HeaderMap, b: B) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::Group, Some(id), Method::Put, q, h, Some(b)).await
}
pub async fn patch_user(State(s): S, Extension(p): P, Path(id): Path<String>, q: QueryParams, h: HeaderMap, b: B) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::User, Some(id), Method::Patch, q, h, Some(b)).await
}
pub async fn patch_group(State(s): S, Extension(p): P, Path(id): Path<String>, q: QueryParams, h: HeaderMap, b: B) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::Group, Some(id), Method::Patch, q, h, Some(b)).await
}
pub async fn delete_user(State(s): S, Extension(p): P, Path(id): Path<String>, q: QueryParams, h: HeaderMap) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::User, Some(id), Method::Delete, q, h, None).await
}
pub async fn delete_group(State(s): S, Extension(p): P, Path(id): Path<String>, q: QueryParams, h: HeaderMap) -> Result<Answer, ScimError> {
    mutate(s, p, Kind::Group, Some(id), Method::Delete, q, h, None).await
}

/// `/Users`, `/Users/{id}`, `/Groups`, `/Groups/{id}` of a Bulk operation.
fn bulk_target(path: &str) -> Option<(Kind, Option<String>)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let kind = match parts.next()? {
        "Users" => Kind::User,
        "Groups" => Kind::Group,
        _ => return None,
    };
    let id = parts.next().filter(|s| !s.is_empty()).map(String::from);
    parts.next().is_none().then_some((kind, id))
}

/// `POST /Bulk` (RFC 7644 §3.7).
pub async fn bulk(State(s): S, Extension(p): P, headers: HeaderMap, body: B) -> Result<Answer, ScimError> {
    let system = system_of(&p)?;
    let max = s.config.limits.max_payload_size;
    let raw = match body_bytes(body, max) {
        Ok(b) => b,
        Err(e) if e.status == 413 => {
            let too_large = bulk::payload_too_large(max);
            return Ok(Answer { status: StatusCode::PAYLOAD_TOO_LARGE, body: Some(too_large.response), etag: None, location: None });
        }
        Err(e) => return Err(e),
    };
    let json = json_body(&headers, &raw)?;
    let request = match bulk::parse_bulk_request(&json, s.config.limits.max_operations as usize) {
        Ok(r) => r,
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            return Ok(Answer { status, body: Some(e.response), etag: None, location: None });
        }
    };
    blocking(move || {
        let actor = actor_of(&p);
        let response = bulk::run_bulk(&request, |op| {
            let failed = |e: ScimError| Outcome { status: e.status, id: None, location: None, version: None, error: Some(e.body()) };
            let Some((kind, id)) = bulk_target(&op.path) else {
                return failed(ScimError::bad("invalidPath", format!("{:?} is not /Users, /Groups or one of theirs", op.path)));
            };
            let data = op.data.clone();
            let m = match (op.method, id, data) {
                (Method::Post, None, Some(d)) => Mutation::Create(d),
                (Method::Put, Some(id), Some(d)) => Mutation::Replace(id, d),
                (Method::Patch, Some(id), Some(d)) => Mutation::Patch(id, d),
                (Method::Delete, Some(id), _) => Mutation::Delete(id),
                _ => return failed(ScimError::bad("invalidSyntax", format!("{} {} needs {}", op.method.as_str(), op.path, "an id in the path for PUT, PATCH and DELETE, none for POST, and data for POST, PUT and PATCH"))),
            };
            match perform(&s, &system, &actor, kind, &m, op.version.as_deref()) {
                Ok(done) => Outcome {
                    status: done.status.as_u16(),
                    location: done.held.as_ref().and_then(|h| h.view["meta"]["location"].as_str().map(String::from)),
                    version: done.held.as_ref().map(|h| annexa_scim::etag::etag(h.version as u64)),
                    id: Some(done.id),
                    error: None,
                },
                Err(e) => failed(e),
            }
        });
        Ok(Answer::ok(response))
    })
    .await
}
