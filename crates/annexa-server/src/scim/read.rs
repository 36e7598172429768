//! Reading: discovery documents, one resource, lists and searches (RFC 7644 §3.4, §4).

use super::cache::{eq_index_key, Held, Kind, SystemData};
use super::{blocking, json_body, system_of, Answer, ScimError};
use crate::auth::Principal;
use crate::AppState;
use annexa_scim::discovery::{self, list_response};
use annexa_scim::query::ListQuery;
use annexa_scim::{AttrPath, CompValue, CompareOp, Filter};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Extension;
use serde_json::Value;
use std::sync::Arc;

pub type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn params(p: Params) -> Result<Vec<(String, String)>, ScimError> {
    p.map(|Query(v)| v).map_err(|e| ScimError::bad("invalidValue", format!("the query string cannot be read: {e}")))
}

pub fn body_bytes(body: Result<Bytes, BytesRejection>, max: u64) -> Result<Bytes, ScimError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ScimError::new(413, None, format!("the request body is larger than maxPayloadSize ({max} bytes)")),
        _ => ScimError::bad("invalidSyntax", format!("the request body cannot be read: {e}")),
    })
}

impl Answer {
    pub fn ok(body: Value) -> Answer {
        Answer { status: StatusCode::OK, body: Some(body), etag: None, location: None }
    }
}

pub async fn service_provider_config(State(s): State<Arc<AppState>>) -> Answer {
    Answer::ok(discovery::service_provider_config(&s.base(), &s.config.limits))
}

pub async fn resource_types(State(s): State<Arc<AppState>>) -> Answer {
    let all = discovery::resource_types(&s.base());
    let n = all.len();
    Answer::ok(list_response(all, n, 1))
}

pub async fn resource_type(State(s): State<Arc<AppState>>, Path(name): Path<String>) -> Result<Answer, ScimError> {
    discovery::resource_types(&s.base())
        .into_iter()
        .find(|t| t["id"].as_str() == Some(&name) || t["name"].as_str() == Some(&name))
        .map(Answer::ok)
        .ok_or_else(|| ScimError::new(404, None, format!("no resource type {name:?}")))
}

pub async fn schemas(State(s): State<Arc<AppState>>) -> Answer {
    let all = discovery::schemas(&s.base());
    let n = all.len();
    Answer::ok(list_response(all, n, 1))
}

pub async fn schema(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Answer, ScimError> {
    discovery::schemas(&s.base())
        .into_iter()
        .find(|d| d["id"].as_str() == Some(&id))
        .map(Answer::ok)
        .ok_or_else(|| ScimError::new(404, None, format!("no schema {id:?}")))
}

/// The comparisons of a string an index could answer: `eq`, `co`, `sw`, `ew`, alone or as
/// operands of an `and`. Date-times are left out of `eq`: two spellings of one instant are
/// equal.
fn indexable(filter: &Filter) -> Vec<(&AttrPath, CompareOp, &str)> {
    match filter {
        Filter::Compare(path, op @ (CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew), CompValue::String(v))
            if *op != CompareOp::Eq || chrono::DateTime::parse_from_rfc3339(v).is_err() =>
        {
            vec![(path, *op, v.as_str())]
        }
        Filter::And(items) => items.iter().flat_map(indexable).collect(),
        _ => Vec::new(),
    }
}

/// The resources that can match `filter`, when an index narrows them. The whole filter is
/// still evaluated on them, so this only has to be a superset: the indexes hold values
/// lower-cased, which a case-insensitive comparison matches exactly and a case-exact one
/// matches within.
fn indexed<'a>(filter: &Filter, sys: &'a SystemData, kind: Kind) -> Option<Vec<&'a Held>> {
    indexable(filter).into_iter().find_map(|(path, op, v)| {
        let key = eq_index_key(path);
        let want = annexa_core::text::fold(v);
        match (key.as_str(), kind, op) {
            ("id", _, CompareOp::Eq) => Some(sys.get(kind, v).into_iter().collect()),
            ("username", Kind::User, CompareOp::Eq) => Some(sys.user_named(v).and_then(|id| sys.users.get(id)).into_iter().collect()),
            (_, _, CompareOp::Eq) => sys.eq_lookup(kind, &key, v),
            (_, _, CompareOp::Co) => sys.value_scan(kind, &key, |x| x.contains(&want)),
            (_, _, CompareOp::Sw) => sys.value_scan(kind, &key, |x| x.starts_with(&want)),
            (_, _, _) => sys.value_scan(kind, &key, |x| x.ends_with(&want)),
        }
    })
}

/// Builds the equality index the filter's first indexable comparison needs, if missing.
fn index_for(s: &AppState, system: &str, kind: Kind, filter: &Filter) -> Result<(), ScimError> {
    // `id` and `userName` equality has its own lookup; everything else an index answers.
    let wanted = indexable(filter)
        .into_iter()
        .map(|(p, op, _)| (eq_index_key(p), op, p))
        .find(|(k, op, _)| *op != CompareOp::Eq || (k != "id" && k != "username"));
    let Some((key, _, path)) = wanted else { return Ok(()) };
    if s.cache.read().map_err(|_| ScimError::internal("the cache lock is poisoned"))?.system(system).has_eq_index(kind, &key) {
        return Ok(());
    }
    let mut cache = s.cache.write().map_err(|_| ScimError::internal("the cache lock is poisoned"))?;
    cache.system_mut(system).build_eq_index(kind, &key, path);
    Ok(())
}

async fn list(s: Arc<AppState>, principal: Principal, kind: Kind, query: ListQuery) -> Result<Answer, ScimError> {
    let system = system_of(&principal)?;
    blocking(move || {
        if let Some(f) = &query.filter {
            index_for(&s, &system, kind, f)?;
        }
        let cache = s.fresh()?;
        let sys = cache.system(&system);
        let schema = s.schema(kind);
        let body = match query.filter.as_ref().and_then(|f| indexed(f, sys, kind)) {
            Some(candidates) => query.run(schema, candidates.into_iter().map(|h| h.view.as_ref())),
            None => query.run(schema, sys.of(kind).values().map(|h| h.view.as_ref())),
        };
        Ok(Answer::ok(body))
    })
    .await
}

fn query_error(e: annexa_scim::query::QueryError) -> ScimError {
    ScimError::bad(e.scim_type, e.message)
}

async fn list_from_params(s: Arc<AppState>, p: Principal, kind: Kind, q: Params) -> Result<Answer, ScimError> {
    let query = ListQuery::from_params(&params(q)?, s.schema(kind), s.config.limits.max_results as usize).map_err(query_error)?;
    list(s, p, kind, query).await
}

async fn search(s: Arc<AppState>, p: Principal, kind: Kind, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Answer, ScimError> {
    let body = json_body(&headers, &body_bytes(body, s.config.limits.max_payload_size)?)?;
    let query = ListQuery::from_search_request(&body, s.schema(kind), s.config.limits.max_results as usize).map_err(query_error)?;
    list(s, p, kind, query).await
}

pub async fn list_users(State(s): State<Arc<AppState>>, Extension(p): Extension<Principal>, q: Params) -> Result<Answer, ScimError> {
    list_from_params(s, p, Kind::User, q).await
}

pub async fn list_groups(State(s): State<Arc<AppState>>, Extension(p): Extension<Principal>, q: Params) -> Result<Answer, ScimError> {
    list_from_params(s, p, Kind::Group, q).await
}

pub async fn search_users(
    State(s): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Answer, ScimError> {
    search(s, p, Kind::User, headers, body).await
}

pub async fn search_groups(
    State(s): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Answer, ScimError> {
    search(s, p, Kind::Group, headers, body).await
}

/// `POST /.search` at the root: Users and Groups together (RFC 7644 §3.4.3). Each
/// resource is matched and projected with its own schema; sorting across types has no
/// common attribute to sort by, so `sortBy` is refused here.
pub async fn search_all(
    State(s): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Answer, ScimError> {
    let body = json_body(&headers, &body_bytes(body, s.config.limits.max_payload_size)?)?;
    let max = s.config.limits.max_results as usize;
    let query = ListQuery::from_search_request(&body, s.schema(Kind::User), max).map_err(query_error)?;
    if query.sort_by.is_some() {
        return Err(ScimError::bad("invalidValue", "sortBy is not supported in a search across resource types; search /Users or /Groups"));
    }
    let system = system_of(&p)?;
    blocking(move || {
        let cache = s.fresh()?;
        let sys = cache.system(&system);
        let mut matching = Vec::new();
        for kind in [Kind::User, Kind::Group] {
            let schema = s.schema(kind);
            let exact = |path: &str| schema.case_exact(path);
            for h in sys.of(kind).values() {
                if query.filter.as_ref().is_none_or(|f| f.matches_with(&h.view, &exact)) {
                    matching.push((kind, h));
                }
            }
        }
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(query.start_index - 1)
            .take(query.count)
            .map(|(kind, h)| s.schema(kind).project(&h.view, &query.attributes, &query.excluded))
            .collect();
        Ok(Answer::ok(list_response(page, total, query.start_index)))
    })
    .await
}

/// Answers with one resource: projected as asked, with its ETag (and a 304 when the
/// client's `If-None-Match` names the current version).
pub fn one(s: &AppState, kind: Kind, held: &Held, status: StatusCode, params: &[(String, String)], if_none_match: Option<&str>) -> Result<Answer, ScimError> {
    let etag = annexa_scim::etag::etag(held.version as u64);
    if let Some(h) = if_none_match {
        if annexa_scim::etag::if_none_match(h, &etag).map_err(|e| ScimError::bad("invalidValue", format!("If-None-Match: {e}")))? {
            return Ok(Answer { status: StatusCode::NOT_MODIFIED, body: None, etag: Some(etag), location: None });
        }
    }
    let list = |name: &str| -> Vec<String> {
        params.iter().filter(|(k, _)| k == name).flat_map(|(_, v)| v.split(',').map(|x| x.trim().to_string())).filter(|x| !x.is_empty()).collect()
    };
    let body = s.schema(kind).project(&held.view, &list("attributes"), &list("excludedAttributes"));
    let location = (status == StatusCode::CREATED).then(|| held.view["meta"]["location"].as_str().map(String::from)).flatten();
    Ok(Answer { status, body: Some(body), etag: Some(etag), location })
}

async fn get_one(s: Arc<AppState>, p: Principal, kind: Kind, id: String, q: Params, headers: HeaderMap) -> Result<Answer, ScimError> {
    let system = system_of(&p)?;
    let params = params(q)?;
    let inm = headers.get(header::IF_NONE_MATCH).map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    blocking(move || {
        let cache = s.fresh()?;
        let held = cache.system(&system).get(kind, &id).ok_or_else(|| ScimError::not_found(kind, &id))?;
        one(&s, kind, held, StatusCode::OK, &params, inm.as_deref())
    })
    .await
}

pub async fn get_user(
    State(s): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    q: Params,
    headers: HeaderMap,
) -> Result<Answer, ScimError> {
    get_one(s, p, Kind::User, id, q, headers).await
}

pub async fn get_group(
    State(s): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    q: Params,
    headers: HeaderMap,
) -> Result<Answer, ScimError> {
    get_one(s, p, Kind::Group, id, q, headers).await
}

/// The query parameters of a write (`attributes`, `excludedAttributes` for the answer).
pub fn write_params(q: Params) -> Result<Vec<(String, String)>, ScimError> {
    params(q)
}

pub type QueryParams = Params;
