//! The documents a SCIM service provider publishes about itself and the message envelopes
//! it answers with (RFC 7643 §5–§7, RFC 7644 §3.4.2, §3.12, §4): built here, so the server
//! only serves them.

use crate::schema::{ResourceSchema, ENTERPRISE_USER, GROUP, USER};
use serde_json::{json, Value};

/// The schema URN of error responses.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The schema URN of list responses.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// What the service provider accepts, announced in `/ServiceProviderConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations in one Bulk request.
    pub max_operations: u32,
    /// Bytes of one request body (Bulk included).
    pub max_payload_size: u64,
    /// Resources in one list response, whatever `count` asks.
    pub max_results: u32,
}

/// `/ServiceProviderConfig` (RFC 7643 §5): PATCH, Bulk, filters, sorting and ETags are
/// supported; password changes are not (Annexa holds no passwords); bearer tokens only.
pub fn service_provider_config(base: &str, limits: &Limits) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": { "supported": true },
        "bulk": { "supported": true, "maxOperations": limits.max_operations, "maxPayloadSize": limits.max_payload_size },
        "filter": { "supported": true, "maxResults": limits.max_results },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "http://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": { "location": format!("{base}/ServiceProviderConfig"), "resourceType": "ServiceProviderConfig" },
    })
}

/// `/ResourceTypes` (RFC 7643 §6): User, with the enterprise extension optional, and Group.
pub fn resource_types(base: &str) -> Vec<Value> {
    let meta = |id: &str| json!({ "location": format!("{base}/ResourceTypes/{id}"), "resourceType": "ResourceType" });
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account", "schema": USER,
            "schemaExtensions": [{ "schema": ENTERPRISE_USER, "required": false }],
            "meta": meta("User"),
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group", "schema": GROUP,
            "meta": meta("Group"),
        }),
    ]
}

/// `/Schemas` (RFC 7643 §7): the schema documents, located under `base`.
pub fn schemas(base: &str) -> Vec<Value> {
    let (user, group) = (ResourceSchema::user(), ResourceSchema::group());
    [&user.core, &user.extensions[0], &group.core]
        .into_iter()
        .map(|s| {
            let mut doc = s.document.clone();
            if let Some(o) = doc.as_object_mut() {
                o.insert("meta".into(), json!({ "resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id) }));
            }
            doc
        })
        .collect()
}

/// A list response (RFC 7644 §3.4.2): one page of `total` results starting at
/// `start_index` (1-based).
pub fn list_response(resources: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

/// An error response (RFC 7644 §3.12); `status` is a string, as the RFC's examples have it.
pub fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut e = json!({ "schemas": [ERROR], "detail": detail, "status": status.to_string() });
    if let (Some(t), Some(o)) = (scim_type, e.as_object_mut()) {
        o.insert("scimType".into(), t.into());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::reference_sample as sample;

    #[test]
    fn resource_types_are_the_rfcs() {
        let types = resource_types("https://example.com/v2");
        let mut user = sample("rfc7643-8.6-resource_type-user.json");
        // The RFC's example makes the extension required; IdPs send it only when they have
        // enterprise attributes, so it is optional here.
        user["schemaExtensions"][0]["required"] = false.into();
        assert_eq!(types[0], user);
        assert_eq!(types[1], sample("rfc7643-8.6-resource_type-group.json"));
    }

    #[test]
    fn service_provider_config_has_the_rfcs_shape() {
        let ours = service_provider_config("https://example.com/v2", &Limits { max_operations: 1000, max_payload_size: 1_048_576, max_results: 200 });
        let rfc = sample("rfc7643-8.5-service_provider_configuration.json");
        for key in ["schemas", "patch", "bulk", "filter", "sort", "etag"] {
            assert_eq!(ours[key], rfc[key], "{key}");
        }
        assert_eq!(ours["changePassword"]["supported"], false);
        assert_eq!(ours["authenticationSchemes"].as_array().map(Vec::len), Some(1));
        assert_eq!(ours["authenticationSchemes"][0]["type"], rfc["authenticationSchemes"][0]["type"]);
        assert_eq!(ours["meta"]["location"], rfc["meta"]["location"]);
    }

    #[test]
    fn schemas_are_served_with_their_location() {
        let docs = schemas("https://example.com/v2");
        let ids: Vec<&str> = docs.iter().filter_map(|d| d["id"].as_str()).collect();
        assert_eq!(ids, [USER, ENTERPRISE_USER, GROUP]);
        assert_eq!(docs[2]["meta"]["location"], format!("https://example.com/v2/Schemas/{GROUP}"));
        assert_eq!(docs[0]["attributes"], sample("rfc7643-8.7.1-schema-user.json")["attributes"]);
    }

    #[test]
    fn envelopes_are_the_rfcs() {
        let rfc = sample("rfc7644-3.4.3-list_response-post_query.json");
        let page = list_response(rfc["Resources"].as_array().cloned().unwrap_or_default(), 100, 1);
        let mut want = rfc.clone();
        want["itemsPerPage"] = 2.into(); // the RFC's example shows 2 of its 10 items
        assert_eq!(page, want);
        assert_eq!(error(400, Some("mutability"), "Attribute 'id' is readOnly"), sample("rfc7644-3.12-error-bad_request.json"));
        assert_eq!(error(404, None, "Resource 2819c223-7f76-453a-919d-413861904646 not found"), sample("rfc7644-3.12-error-not_found.json"));
    }
}
