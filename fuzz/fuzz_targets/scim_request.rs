#![no_main]
//! SCIM request bodies arrive from any client: schema validation, projection, search
//! requests and Bulk requests must refuse what they cannot use, never panic.
use annexa_scim::query::ListQuery;
use annexa_scim::schema::ResourceSchema;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for schema in [ResourceSchema::user(), ResourceSchema::group()] {
        if let Ok(stored) = schema.validate(&body) {
            let _ = schema.project(&stored, &["userName".into(), "name.givenName".into()], &[]);
        }
        if let Ok(query) = ListQuery::from_search_request(&body, &schema, 100) {
            let _ = query.run(&schema, [body.clone()]);
        }
    }
    if let Ok(request) = annexa_scim::bulk::parse_bulk_request(&body, 100) {
        let _ = annexa_scim::bulk::run_bulk(&request, |_| annexa_scim::bulk::Outcome {
            status: 201,
            id: Some("x".into()),
            location: None,
            version: None,
            error: None,
        });
    }
});
