//! Bulk requests (RFC 7644 §3.7): reading a request, ordering its operations so that
//! `bulkId:` references resolve, stopping after `failOnErrors` errors, and building the
//! response. Performing one operation is the caller's: this module never touches storage.

use crate::discovery::error;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The schema URN of a Bulk request.
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// The schema URN of a Bulk response.
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One operation of a Bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: Method,
    pub bulk_id: Option<String>,
    /// The ETag the resource must still have (`If-Match`).
    pub version: Option<String>,
    /// `/Users`, `/Groups/{id}`, …; a `bulkId:` reference is resolved before performing.
    pub path: String,
    /// The resource (POST, PUT) or the PATCH operations.
    pub data: Option<Value>,
}

/// A Bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkOperation>,
}

/// A Bulk request that cannot be run: the HTTP status and the error response to send.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", response["detail"].as_str().unwrap_or_default())]
pub struct BulkError {
    pub status: u16,
    pub response: Value,
}

fn bad(detail: String) -> BulkError {
    BulkError { status: 400, response: error(400, Some("invalidSyntax"), &detail) }
}

/// The error for a request body over `max` bytes (RFC 7644 §3.7.4).
pub fn payload_too_large(max: u64) -> BulkError {
    BulkError { status: 413, response: error(413, None, &format!("The size of the bulk operation exceeds the maxPayloadSize ({max}).")) }
}

/// Reads a Bulk request; more than `max_operations` operations is a 413.
pub fn parse_bulk_request(body: &Value, max_operations: usize) -> Result<BulkRequest, BulkError> {
    let listed = body.get("schemas").and_then(Value::as_array).is_some_and(|s| s.iter().any(|v| v.as_str() == Some(BULK_REQUEST)));
    if !listed {
        return Err(bad(format!("a Bulk request must be a JSON object listing the schema {BULK_REQUEST}")));
    }
    let fail_on_errors = match body.get("failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| bad(format!("failOnErrors must be a positive integer, not {v}")))? as usize),
    };
    let ops = body.get("Operations").and_then(Value::as_array).ok_or_else(|| bad("a Bulk request needs an Operations array".into()))?;
    if ops.len() > max_operations {
        let detail = format!("The number of operations ({}) exceeds maxOperations ({max_operations}).", ops.len());
        return Err(BulkError { status: 413, response: error(413, None, &detail) });
    }
    let mut seen = HashMap::new();
    let mut operations = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let at = |what: String| bad(format!("Operations[{i}]: {what}"));
        let text = |k: &str| op.get(k).and_then(Value::as_str).map(String::from);
        let method = match text("method").as_deref() {
            Some("POST") => Method::Post,
            Some("PUT") => Method::Put,
            Some("PATCH") => Method::Patch,
            Some("DELETE") => Method::Delete,
            other => return Err(at(format!("method must be POST, PUT, PATCH or DELETE, not {other:?}"))),
        };
        let path = text("path").filter(|p| p.starts_with('/')).ok_or_else(|| at("path must be a resource path such as /Users".into()))?;
        let bulk_id = text("bulkId");
        if method == Method::Post && bulk_id.is_none() {
            return Err(at("a POST needs a bulkId".into()));
        }
        if let Some(id) = &bulk_id {
            if seen.insert(id.clone(), i).is_some() {
                return Err(at(format!("bulkId {id:?} is used twice")));
            }
        }
        let data = op.get("data").cloned();
        if method != Method::Delete && data.is_none() {
            return Err(at(format!("a {} needs data", method.as_str())));
        }
        operations.push(BulkOperation { method, bulk_id, version: text("version"), path, data });
    }
    Ok(BulkRequest { fail_on_errors, operations })
}

/// What performing one operation gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// HTTP status: 2xx done, otherwise failed with `error` as the response.
    pub status: u16,
    /// The id of a resource a POST created (what `bulkId:` references resolve to).
    pub id: Option<String>,
    pub location: Option<String>,
    pub version: Option<String>,
    pub error: Option<Value>,
}

/// The `bulkId`s a value or path refers to.
fn references(op: &BulkOperation) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.extend(s.strip_prefix("bulkId:").map(String::from)),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(o) => o.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(d) = &op.data {
        walk(d, &mut out);
    }
    out.extend(op.path.split('/').filter_map(|s| s.strip_prefix("bulkId:")).map(String::from));
    out
}

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, ids)),
        Value::Object(o) => o.values_mut().for_each(|i| substitute(i, ids)),
        _ => {}
    }
}

/// Runs a Bulk request: operations in order, except that one referring to a `bulkId` not
/// yet created waits until it is. Operations that can never run (a circular reference, a
/// reference to an unknown or failed operation) fail with 409. After `failOnErrors`
/// errors, the rest is not performed and not reported (RFC 7644 §3.7.3).
pub fn run_bulk(request: &BulkRequest, mut perform: impl FnMut(&BulkOperation) -> Outcome) -> Value {
    let mut created: HashMap<String, String> = HashMap::new();
    // bulkIds whose operation ran but left nothing to refer to.
    let mut failed: Vec<String> = Vec::new();
    let mut results: Vec<Option<Value>> = vec![None; request.operations.len()];
    let mut pending: Vec<usize> = (0..request.operations.len()).collect();
    let mut errors = 0;
    let limit_reached = |errors: usize| request.fail_on_errors.is_some_and(|n| errors >= n);
    'passes: while !pending.is_empty() {
        let mut progressed = false;
        let mut waiting = Vec::new();
        for &i in &pending {
            if limit_reached(errors) {
                break 'passes;
            }
            let op = &request.operations[i];
            let refs = references(op);
            if refs.iter().any(|r| !created.contains_key(r) && !failed.contains(r) && request.operations.iter().any(|o| o.bulk_id.as_deref() == Some(r))) {
                waiting.push(i);
                continue;
            }
            progressed = true;
            let unresolved: Vec<&String> = refs.iter().filter(|r| !created.contains_key(*r)).collect();
            let outcome = if let Some(r) = unresolved.first() {
                let detail = format!("bulkId {r:?} refers to no operation that created a resource");
                Outcome { status: 409, id: None, location: None, version: None, error: Some(error(409, None, &detail)) }
            } else {
                let mut resolved = op.clone();
                if let Some(d) = resolved.data.as_mut() {
                    substitute(d, &created);
                }
                resolved.path = resolved
                    .path
                    .split('/')
                    .map(|s| s.strip_prefix("bulkId:").and_then(|b| created.get(b)).map_or(s, String::as_str))
                    .collect::<Vec<_>>()
                    .join("/");
                perform(&resolved)
            };
            let ok = (200..300).contains(&outcome.status);
            match (&op.bulk_id, ok, &outcome.id) {
                (Some(b), true, Some(id)) => {
                    created.insert(b.clone(), id.clone());
                }
                // Failed, or created nothing to refer to: references to it cannot resolve.
                (Some(b), _, _) => failed.push(b.clone()),
                _ => {}
            }
            if !ok {
                errors += 1;
            }
            results[i] = Some(response_entry(op, &outcome));
        }
        if !progressed {
            // Only circular references are left.
            for &i in &waiting {
                if limit_reached(errors) {
                    break 'passes;
                }
                let op = &request.operations[i];
                let detail = "circular bulkId references: the operations refer to each other";
                let outcome = Outcome { status: 409, id: None, location: None, version: None, error: Some(error(409, None, detail)) };
                errors += 1;
                results[i] = Some(response_entry(op, &outcome));
            }
            break;
        }
        pending = waiting;
    }
    json!({ "schemas": [BULK_RESPONSE], "Operations": results.into_iter().flatten().collect::<Vec<_>>() })
}

fn response_entry(op: &BulkOperation, outcome: &Outcome) -> Value {
    let mut entry = serde_json::Map::new();
    if let Some(l) = &outcome.location {
        entry.insert("location".into(), l.clone().into());
    }
    entry.insert("method".into(), op.method.as_str().into());
    if let Some(b) = &op.bulk_id {
        entry.insert("bulkId".into(), b.clone().into());
    }
    if let Some(v) = &outcome.version {
        entry.insert("version".into(), v.clone().into());
    }
    entry.insert("status".into(), outcome.status.to_string().into());
    if let Some(e) = &outcome.error {
        entry.insert("response".into(), e.clone());
    }
    Value::Object(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference_sample as sample;

    fn done(id: &str, location: &str, version: &str) -> Outcome {
        Outcome { status: 201, id: Some(id.into()), location: Some(location.into()), version: Some(version.into()), error: None }
    }

    #[test]
    fn temporary_identifiers_resolve_to_the_created_ids() {
        let req = parse_bulk_request(&sample("rfc7644-3.7.2-bulk_request-temporary_identifier.json"), 1000).expect("request");
        let want = sample("rfc7644-3.7.2-bulk_response-temporary_identifier.json");
        let mut seen_members = None;
        let response = run_bulk(&req, |op| match op.bulk_id.as_deref() {
            Some("qwerty") => done("92b725cd-9465-4e7d-8c16-01f8e146b87a", "https://example.com/v2/Users/92b725cd-9465-4e7d-8c16-01f8e146b87a", "W\\/\"4weymrEsh5O6cAEK\""),
            _ => {
                seen_members = op.data.as_ref().map(|d| d["members"][0]["value"].clone());
                done("e9e30dba-f08f-4109-8486-d5c6a331660a", "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a", "W\\/\"lha5bbazU3fNvfe5\"")
            }
        });
        assert_eq!(response, want);
        assert_eq!(seen_members, Some(json!("92b725cd-9465-4e7d-8c16-01f8e146b87a")));
    }

    #[test]
    fn a_reference_to_a_later_operation_waits_for_it() {
        let mut body = sample("rfc7644-3.7.2-bulk_request-temporary_identifier.json");
        if let Some(ops) = body["Operations"].as_array_mut() {
            ops.reverse(); // the group comes first and refers to the user
        }
        let req = parse_bulk_request(&body, 1000).expect("request");
        let mut order = Vec::new();
        let response = run_bulk(&req, |op| {
            order.push(op.bulk_id.clone().unwrap_or_default());
            done(&format!("id-{}", order.len()), "l", "v")
        });
        assert_eq!(order, ["qwerty", "ytrewq"]);
        // The response keeps the request's order.
        assert_eq!(response["Operations"][0]["bulkId"], "ytrewq");
    }

    #[test]
    fn circular_references_fail_with_409() {
        let req = parse_bulk_request(&sample("rfc7644-3.7.1-bulk_request-circular_conflict.json"), 1000).expect("request");
        let response = run_bulk(&req, |_| panic!("nothing is performed"));
        let statuses: Vec<&str> = response["Operations"].as_array().expect("ops").iter().filter_map(|o| o["status"].as_str()).collect();
        assert_eq!(statuses, ["409", "409"]);
    }

    #[test]
    fn fail_on_errors_stops_the_run() {
        let req = parse_bulk_request(&sample("rfc7644-3.7.3-bulk_request-multiple_operations.json"), 1000).expect("request");
        assert_eq!(req.fail_on_errors, Some(1));
        let invalid = error(400, Some("invalidSyntax"), "Request is unparsable, syntactically incorrect, or violates schema.");
        let mut calls = 0;
        let response = run_bulk(&req, |_| {
            calls += 1;
            Outcome { status: 400, id: None, location: None, version: None, error: Some(invalid.clone()) }
        });
        assert_eq!(calls, 1);
        assert_eq!(response, sample("rfc7644-3.7.3-bulk_response-error_invalid_syntax.json"));
        // Without the limit every operation is reported, in the RFC's envelope.
        let mut all = req.clone();
        all.fail_on_errors = None;
        let want = sample("rfc7644-3.7.3-bulk_response-multiple_errors.json");
        let mut n = 0;
        let response = run_bulk(&all, |_| {
            let w = &want["Operations"][n];
            n += 1;
            Outcome {
                status: w["status"].as_str().and_then(|s| s.parse().ok()).unwrap_or(500),
                id: None,
                location: w["location"].as_str().map(String::from),
                version: None,
                error: Some(w["response"].clone()),
            }
        });
        assert_eq!(response, want);
    }

    #[test]
    fn bad_requests_are_refused_whole() {
        let ok = |ops: Value| json!({ "schemas": [BULK_REQUEST], "Operations": ops });
        for (body, status, says) in [
            (json!({ "Operations": [] }), 400, "listing the schema"),
            (json!({ "schemas": [BULK_REQUEST] }), 400, "Operations array"),
            (json!({ "schemas": [BULK_REQUEST], "failOnErrors": 0, "Operations": [] }), 400, "failOnErrors"),
            (ok(json!([{ "method": "GET", "path": "/Users" }])), 400, "Operations[0]: method"),
            (ok(json!([{ "method": "POST", "path": "/Users", "data": {} }])), 400, "needs a bulkId"),
            (ok(json!([{ "method": "PUT", "path": "/Users/1" }])), 400, "needs data"),
            (ok(json!([{ "method": "DELETE", "path": "Users/1" }])), 400, "path must be"),
            (ok(json!([{ "method": "POST", "path": "/Users", "bulkId": "a", "data": {} }, { "method": "POST", "path": "/Users", "bulkId": "a", "data": {} }])), 400, "used twice"),
            (
                ok(json!([{ "method": "DELETE", "path": "/Users/1" }, { "method": "DELETE", "path": "/Users/2" }, { "method": "DELETE", "path": "/Users/3" }])),
                413,
                "exceeds maxOperations (2)",
            ),
        ] {
            let err = parse_bulk_request(&body, 2).expect_err(&body.to_string());
            assert_eq!(err.status, status, "{body}: {err}");
            assert!(err.to_string().contains(says), "{body}: {err}");
        }
        assert_eq!(payload_too_large(1_048_576).response, sample("rfc7644-3.7.4-error-payload_too_large.json"));
    }
}
