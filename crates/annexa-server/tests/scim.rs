//! SCIM 2.0 conformance of `/scim/v2`, driven through the router without a socket, on
//! SQLite and PostgreSQL, with the RFC's example payloads from `../shared/reference`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

#[test]
fn requests_without_a_valid_token_are_refused() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            for token in ["", "annexa_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000", "not-a-token"] {
                let r = s.raw("GET", "/Users", None, token, &[]).await;
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token:?}");
                assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"annexa\""));
                assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
            }
            // The right id with a wrong secret.
            let wrong = format!("{}{}", &s.token[..s.token.len() - 1], if s.token.ends_with('0') { "1" } else { "0" });
            assert_eq!(s.raw("GET", "/Users", None, &wrong, &[]).await.status, StatusCode::UNAUTHORIZED);
            assert_eq!(s.send("GET", "/ServiceProviderConfig", None, &[]).await.status, StatusCode::OK);
            sync(|| {
                let mut store = annexa_store::Store::open(url).expect("open");
                assert!(store.revoke_token("okta", "test", chrono::Utc::now()).expect("revoke"));
            });
            assert_eq!(s.send("GET", "/Users", None, &[]).await.status, StatusCode::UNAUTHORIZED);
        })
    });
}

#[test]
fn discovery_documents_are_served() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = server(&format!("sqlite://{}", dir.path().join("a.db").display()));
        let spc = s.send("GET", "/ServiceProviderConfig", None, &[]).await.body;
        for feature in ["patch", "bulk", "filter", "sort", "etag"] {
            assert_eq!(spc[feature]["supported"], true, "{feature}");
        }
        assert_eq!(spc["filter"]["maxResults"], 1000);
        let types = s.send("GET", "/ResourceTypes", None, &[]).await.body;
        assert_eq!(types["totalResults"], 2);
        assert_eq!(s.send("GET", "/ResourceTypes/User", None, &[]).await.body["endpoint"], "/Users");
        let schemas = s.send("GET", "/Schemas", None, &[]).await.body;
        assert_eq!(schemas["totalResults"], 3);
        let group = s.send("GET", &format!("/Schemas/{GROUP}"), None, &[]).await;
        assert_eq!(group.body["attributes"], sample("rfc7643-8.7.1-schema-group.json")["attributes"]);
        assert_eq!(s.send("GET", "/Schemas/urn:nothing", None, &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(s.send("GET", "/Nothing", None, &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(s.send("GET", "/Me", None, &[]).await.status, StatusCode::NOT_IMPLEMENTED);
    });
}

#[test]
fn users_are_created_read_replaced_patched_and_deleted() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            // RFC 7644 §3.3: the example POST.
            let created = s.send("POST", "/Users", Some(sample("rfc7644-3.3-user-post_request.json")), &[]).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            let id = created.body["id"].as_str().expect("id").to_string();
            let location = format!("https://annexa.test/scim/v2/Users/{id}");
            assert_eq!(created.header("location"), Some(location.as_str()));
            assert_eq!(created.header("etag"), Some("W/\"1\""));
            assert_eq!(created.body["meta"]["version"], "W/\"1\"");
            assert_eq!(created.body["meta"]["resourceType"], "User");
            assert_eq!(created.body["meta"]["location"], location);
            assert_eq!(created.body["name"], sample("rfc7644-3.3-user-post_request.json")["name"]);

            // The same userName in another case is taken (userName is not caseExact).
            let dup = s.send("POST", "/Users", Some(json!({"schemas": [USER], "userName": "BJENSEN"})), &[]).await;
            assert_eq!(dup.outcome(), (409, Some("uniqueness")));

            let got = s.send("GET", &format!("/Users/{id}"), None, &[]).await;
            assert_eq!(got.body, created.body);
            assert_eq!(s.send("GET", &format!("/Users/{id}"), None, &[("if-none-match", "W/\"1\"")]).await.status, StatusCode::NOT_MODIFIED);
            let partial = s.send("GET", &format!("/Users/{id}?attributes=userName"), None, &[]).await.body;
            assert_eq!(partial.as_object().map(|o| o.len()), Some(3), "{partial}"); // id, schemas, userName

            // RFC 7644 §3.5.1: PUT replaces; a stale If-Match is refused.
            let mut put = sample("rfc7644-3.5.1-user-put_request.json");
            put["id"] = id.clone().into();
            let stale = s.send("PUT", &format!("/Users/{id}"), Some(put.clone()), &[("if-match", "W/\"7\"")]).await;
            assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
            let replaced = s.send("PUT", &format!("/Users/{id}"), Some(put.clone()), &[("if-match", "W/\"1\"")]).await;
            assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
            assert_eq!(replaced.body["meta"]["version"], "W/\"2\"");
            assert_eq!(replaced.body["meta"]["created"], created.body["meta"]["created"]);
            assert_eq!(replaced.body["emails"], put["emails"]);

            // RFC 7644 §3.5.2: PATCH add, replace with a value filter, remove.
            let add = s.send("PATCH", &format!("/Users/{id}"), Some(sample("rfc7644-3.5.2.1-patch_op-add_emails.json")), &[]).await;
            assert_eq!(add.status, StatusCode::OK, "{}", add.body);
            assert_eq!(add.body["emails"].as_array().map(Vec::len), Some(put["emails"].as_array().map_or(0, Vec::len) + 1));
            // No work address yet: a value filter that matches nothing is noTarget.
            let replace_work = sample("rfc7644-3.5.2.3-patch_op-replace_user_work_address.json");
            let none = s.send("PATCH", &format!("/Users/{id}"), Some(replace_work.clone()), &[]).await;
            assert_eq!(none.outcome(), (400, Some("noTarget")));
            let address = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "addresses", "value": [{"type": "work", "locality": "Springfield"}]}]});
            assert_eq!(s.send("PATCH", &format!("/Users/{id}"), Some(address), &[]).await.status, StatusCode::OK);
            let work = s.send("PATCH", &format!("/Users/{id}"), Some(replace_work), &[]).await;
            assert_eq!(work.status, StatusCode::OK, "{}", work.body);
            assert_eq!(work.body["addresses"][0]["locality"], "Hollywood");
            let deactivate = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
            let off = s.send("PATCH", &format!("/Users/{id}"), Some(deactivate), &[("if-match", "W/\"5\"")]).await;
            assert_eq!((off.status, &off.body["active"], off.header("etag")), (StatusCode::OK, &json!(false), Some("W/\"6\"")));
            for (ops, want) in [
                (json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]), (400, Some("noTarget"))),
                (json!([{"op": "replace", "path": "name..x", "value": 1}]), (400, Some("invalidPath"))),
                (json!([{"op": "replace", "path": "emails[type eq]", "value": 1}]), (400, Some("invalidFilter"))),
                (json!([{"op": "replace", "path": "id", "value": "mine"}]), (400, Some("mutability"))),
                (json!([{"op": "replace", "path": "active", "value": "yes"}]), (400, Some("invalidValue"))),
                // An attribute the schema does not have is an invalid path (RFC 7644 Table 9).
                (json!([{"op": "add", "path": "favouriteColour", "value": "red"}]), (400, Some("invalidPath"))),
                (json!([{"op": "replace", "path": "name.nickname", "value": "B"}]), (400, Some("invalidPath"))),
                (json!([{"op": "add", "path": "urn:example:ext:1.0:User:shoeSize", "value": 42}]), (400, Some("invalidPath"))),
                // A path-less value with an unknown attribute is a malformed resource.
                (json!([{"op": "add", "value": {"favouriteColour": "red"}}]), (400, Some("invalidSyntax"))),
                (json!([{"op": "jump"}]), (400, Some("invalidSyntax"))),
            ] {
                let r = s.send("PATCH", &format!("/Users/{id}"), Some(json!({"schemas": [PATCH], "Operations": ops})), &[]).await;
                assert_eq!(r.outcome(), want, "{ops}: {}", r.body);
            }
            // Nothing of the refused PATCHes was applied.
            assert_eq!(s.send("GET", &format!("/Users/{id}"), None, &[]).await.header("etag"), Some("W/\"6\""));

            assert_eq!(s.send("DELETE", &format!("/Users/{id}"), None, &[("if-match", "W/\"4\"")]).await.status, StatusCode::PRECONDITION_FAILED);
            assert_eq!(s.send("DELETE", &format!("/Users/{id}"), None, &[]).await.status, StatusCode::NO_CONTENT);
            let gone = s.send("GET", &format!("/Users/{id}"), None, &[]).await;
            assert_eq!(gone.status, StatusCode::NOT_FOUND);
            assert_eq!(gone.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
            assert_eq!(s.send("DELETE", &format!("/Users/{id}"), None, &[]).await.status, StatusCode::NOT_FOUND);
            // The userName is free again.
            s.create_user("bjensen", json!({})).await;

            // Every write is a ledger entry.
            let mut kinds = Vec::new();
            sync(|| {
                annexa_store::Store::open(url).expect("open").ledger_each(|e| {
                    kinds.push(e.kind);
                    Ok(())
                })
            })
            .expect("ledger");
            let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
            assert_eq!((count("scim-created"), count("scim-replaced"), count("scim-patched"), count("scim-deleted")), (2, 1, 4, 1));
        })
    });
}

#[test]
fn bad_requests_get_the_rfc_status_and_scim_type_and_change_nothing() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = server(&format!("sqlite://{}", dir.path().join("a.db").display()));
        type Case<'a> = (Vec<u8>, (u16, Option<&'a str>));
        let cases: Vec<Case> = vec![
            (b"{\"schemas\": [".to_vec(), (400, Some("invalidSyntax"))),
            (b"\xff\xfe".to_vec(), (400, Some("invalidSyntax"))),
            (json!({"userName": "x"}).to_string().into_bytes(), (400, Some("invalidSyntax"))),
            (json!({"schemas": [USER], "userName": "x", "shoeSize": 44}).to_string().into_bytes(), (400, Some("invalidSyntax"))),
            (json!({"schemas": [USER], "userName": 7}).to_string().into_bytes(), (400, Some("invalidValue"))),
            (json!({"schemas": [USER], "userName": "x", "emails": {"value": "a@b"}}).to_string().into_bytes(), (400, Some("invalidValue"))),
            (json!({"schemas": [USER], "displayName": "no userName"}).to_string().into_bytes(), (400, Some("invalidValue"))),
            (json!({"schemas": [USER], "userName": "  "}).to_string().into_bytes(), (400, Some("invalidValue"))),
            (
                json!({"schemas": [USER, ENTERPRISE], "userName": "x", ENTERPRISE: {"costCenter": 1}}).to_string().into_bytes(),
                (400, Some("invalidValue")),
            ),
        ];
        for (body, want) in cases {
            let r = s.raw("POST", "/Users", Some(body.clone()), &s.token.clone(), &[]).await;
            assert_eq!(r.outcome(), want, "{}: {}", String::from_utf8_lossy(&body), r.body);
            assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
        let huge = json!({"schemas": [USER], "userName": "x", "displayName": "y".repeat(3 * 1024 * 1024)}).to_string().into_bytes();
        assert_eq!(s.raw("POST", "/Users", Some(huge), &s.token.clone(), &[]).await.status, StatusCode::PAYLOAD_TOO_LARGE);
        let r = s.raw("POST", "/Users", Some(b"{}".to_vec()), &s.token.clone(), &[("content-type", "text/plain")]).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        for (path, want) in [
            ("/Users?filter=userName%20eq", (400, Some("invalidFilter"))),
            ("/Users?filter=userName%20zz%20%22x%22", (400, Some("invalidFilter"))),
            ("/Users?sortBy=shoeSize", (400, Some("invalidValue"))),
            ("/Users?count=many", (400, Some("invalidValue"))),
            ("/Users?sortOrder=sideways", (400, Some("invalidValue"))),
        ] {
            assert_eq!(s.send("GET", path, None, &[]).await.outcome(), want, "{path}");
        }
        assert_eq!(s.send("GET", "/Users", None, &[]).await.body["totalResults"], 0);
        let mut store = annexa_store::Store::open(&format!("sqlite://{}", dir.path().join("a.db").display())).expect("open");
        assert_eq!(store.scim_last_seq().expect("seq"), 0, "a refused request wrote nothing");
    });
}

#[test]
fn filters_sorting_paging_and_projection() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = server(&format!("sqlite://{}", dir.path().join("a.db").display()));
        let people = [
            ("bjensen", "Barbara", "Jensen", "Engineering", "bjensen@example.com", true),
            ("jsmith", "John", "Smith", "Sales", "john@example.org", true),
            ("mpepper", "Mandy", "Pepperidge", "Engineering", "mandy@example.com", false),
            ("alee", "Ann", "Lee", "Finance", "ann@example.org", true),
        ];
        for (login, given, family, dept, mail, active) in people {
            s.create_user(
                login,
                json!({
                    "schemas": [USER, ENTERPRISE],
                    "name": {"givenName": given, "familyName": family},
                    "emails": [{"value": mail, "type": "work", "primary": true}],
                    "active": active,
                    "title": if dept == "Engineering" { Value::from("Engineer") } else { Value::Null },
                    ENTERPRISE: {"department": dept, "employeeNumber": format!("E-{login}")},
                }),
            )
            .await;
        }
        let q = |f: &str| format!("/Users?filter={}", f.replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D"));
        for (filter, want) in [
            (r#"userName eq "BJENSEN""#, vec!["bjensen"]),
            (r#"userName ne "bjensen""#, vec!["jsmith", "mpepper", "alee"]),
            (r#"name.familyName co "e""#, vec!["bjensen", "mpepper", "alee"]),
            (r#"userName sw "j""#, vec!["jsmith"]),
            (r#"emails.value ew "example.org""#, vec!["jsmith", "alee"]),
            ("title pr", vec!["bjensen", "mpepper"]),
            ("not (title pr)", vec!["jsmith", "alee"]),
            (r#"active eq false"#, vec!["mpepper"]),
            (r#"emails[type eq "work" and value co "example.com"]"#, vec!["bjensen", "mpepper"]),
            (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Engineering" and active eq true"#, vec!["bjensen"]),
            (r#"(userName eq "alee" or userName eq "jsmith") and not (name.givenName sw "J")"#, vec!["alee"]),
            (r#"meta.lastModified gt "2000-01-01T00:00:00Z""#, vec!["bjensen", "jsmith", "mpepper", "alee"]),
            (r#"meta.created lt "2000-01-01T00:00:00Z""#, vec![]),
            (r#"userName eq "bjensen" and active eq false"#, vec![]),
            (r#"externalId eq "nobody""#, vec![]),
        ] {
            let mut got = s.ids(&q(filter)).await;
            let mut want: Vec<String> = want.into_iter().map(String::from).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{filter}");
        }
        // Equality indexes, built by the first query, follow every change.
        assert_eq!(s.ids(&q(r#"title eq "engineer""#)).await.len(), 2);
        let jsmith = s.send("GET", &q(r#"userName eq "jsmith""#), None, &[]).await.body["Resources"][0]["id"].as_str().expect("id").to_string();
        let promote = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Engineer"}, {"op": "add", "path": "externalId", "value": "X-1"}]});
        assert_eq!(s.send("PATCH", &format!("/Users/{jsmith}"), Some(promote), &[]).await.status, StatusCode::OK);
        assert_eq!(s.ids(&q(r#"title eq "ENGINEER""#)).await.len(), 3);
        assert_eq!(s.ids(&q(r#"externalId eq "X-1""#)).await, ["jsmith"]);
        assert_eq!(s.ids(&q(r#"externalId eq "x-1""#)).await, Vec::<String>::new(), "externalId is caseExact");
        assert_eq!(s.send("DELETE", &format!("/Users/{jsmith}"), None, &[]).await.status, StatusCode::NO_CONTENT);
        assert_eq!(s.ids(&q(r#"title eq "Engineer" and externalId eq "X-1""#)).await, Vec::<String>::new());
        s.create_user("jsmith", json!({"title": "Sales Rep"})).await;
        assert_eq!(s.ids("/Users?sortBy=userName").await, ["alee", "bjensen", "jsmith", "mpepper"]);
        assert_eq!(s.ids("/Users?sortBy=name.familyName&sortOrder=descending").await, ["jsmith", "mpepper", "alee", "bjensen"]);
        let page = s.send("GET", "/Users?sortBy=userName&startIndex=2&count=2", None, &[]).await.body;
        assert_eq!((page["totalResults"].clone(), page["startIndex"].clone(), page["itemsPerPage"].clone()), (json!(4), json!(2), json!(2)));
        assert_eq!(page["Resources"][0]["userName"], "bjensen");
        let slim = s.send("GET", "/Users?attributes=userName,name.givenName&count=1&sortBy=userName", None, &[]).await.body;
        assert_eq!(slim["Resources"][0], json!({"id": slim["Resources"][0]["id"], "schemas": [USER, ENTERPRISE], "userName": "alee", "name": {"givenName": "Ann"}}));
        let without = s.send("GET", "/Users?excludedAttributes=emails,meta&count=1", None, &[]).await.body;
        assert!(without["Resources"][0].get("emails").is_none() && without["Resources"][0].get("meta").is_none());
        // POST /.search (RFC 7644 §3.4.3) gives what the query string gives.
        let search = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "emails.value ew \"example.com\"", "sortBy": "userName", "attributes": ["userName"], "startIndex": 1, "count": 10,
        });
        let found = s.send("POST", "/Users/.search", Some(search), &[]).await.body;
        let names: Vec<&str> = found["Resources"].as_array().expect("list").iter().filter_map(|r| r["userName"].as_str()).collect();
        assert_eq!(names, ["bjensen", "mpepper"]);
        let bad = s.send("POST", "/Users/.search", Some(json!({"filter": "x eq 1"})), &[]).await;
        assert_eq!(bad.outcome(), (400, Some("invalidSyntax")));
        // The RFC's own search request runs.
        assert_eq!(s.send("POST", "/Users/.search", Some(sample("rfc7644-3.4.3-search_request.json")), &[]).await.status, StatusCode::OK);
    });
}

#[test]
fn groups_hold_members_and_users_show_their_groups() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            let babs = s.create_user("bjensen", json!({})).await["id"].as_str().expect("id").to_string();
            let mandy = s.create_user("mpepper", json!({})).await["id"].as_str().expect("id").to_string();
            let mut group = sample("rfc7643-8.4-group.json");
            group["members"][0]["value"] = babs.clone().into();
            group["members"][1]["value"] = mandy.clone().into();
            let created = s.send("POST", "/Groups", Some(group), &[]).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            let gid = created.body["id"].as_str().expect("id").to_string();
            assert_ne!(gid, "e9e30dba-f08f-4109-8486-d5c6a331660a", "the server assigns ids");
            assert_eq!(created.body["members"][0]["type"], "User");
            let user = s.send("GET", &format!("/Users/{babs}"), None, &[]).await.body;
            assert_eq!(user["groups"], json!([{"value": gid, "$ref": format!("https://annexa.test/scim/v2/Groups/{gid}"), "display": "Tour Guides", "type": "direct"}]));
            let by_group = s.ids(&format!("/Users?filter=groups.value%20eq%20%22{gid}%22")).await;
            assert_eq!(by_group.len(), 2);
            assert_eq!(s.ids("/Groups?filter=displayName%20eq%20%22tour%20guides%22").await, ["Tour Guides"]);

            // RFC 7644 §3.5.2.2: remove one member by a value filter.
            let mut remove = sample("rfc7644-3.5.2.2-patch_op-remove_one_member.json");
            remove["Operations"][0]["path"] = format!("members[value eq \"{mandy}\"]").into();
            let r = s.send("PATCH", &format!("/Groups/{gid}"), Some(remove), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["members"].as_array().map(Vec::len), Some(1));
            assert!(s.send("GET", &format!("/Users/{mandy}"), None, &[]).await.body.get("groups").is_none());
            // Microsoft Entra ID's shapes: a member removed by naming it, `active` as a string.
            let entra = json!({"schemas": [PATCH], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": babs}]}]});
            let r = s.send("PATCH", &format!("/Groups/{gid}"), Some(entra), &[]).await;
            assert!(r.body.get("members").is_none(), "{}", r.body);
            let back = json!({"schemas": [PATCH], "Operations": [{"op": "Add", "path": "members", "value": [{"value": babs}]}]});
            assert_eq!(s.send("PATCH", &format!("/Groups/{gid}"), Some(back), &[]).await.body["members"].as_array().map(Vec::len), Some(1));
            let off = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
            assert_eq!(s.send("PATCH", &format!("/Users/{mandy}"), Some(off), &[]).await.body["active"], false);
            let attributes = json!({"schemas": [PATCH], "Operations": [
                {"op": "Replace", "value": {"name.familyName": "Pepperidge", format!("{ENTERPRISE}:employeeNumber"): "E7"}},
                {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": babs},
            ]});
            let r = s.send("PATCH", &format!("/Users/{mandy}"), Some(attributes), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["name"]["familyName"], "Pepperidge");
            assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "E7");
            assert_eq!(r.body[ENTERPRISE]["manager"]["value"], babs.as_str());
            // A member that does not exist is refused.
            let ghost = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": "no-such-id"}]}]});
            assert_eq!(s.send("PATCH", &format!("/Groups/{gid}"), Some(ghost), &[]).await.outcome(), (400, Some("invalidValue")));
            // Deleting a User takes it out of its Groups.
            assert_eq!(s.send("DELETE", &format!("/Users/{babs}"), None, &[]).await.status, StatusCode::NO_CONTENT);
            let g = s.send("GET", &format!("/Groups/{gid}"), None, &[]).await.body;
            assert!(g.get("members").and_then(Value::as_array).is_none_or(Vec::is_empty), "{g}");
            // RFC 7644 §3.5.2.2: remove all members.
            let all = s.send("PATCH", &format!("/Groups/{gid}"), Some(sample("rfc7644-3.5.2.2-patch_op-remove_all_members.json")), &[]).await;
            assert_eq!(all.status, StatusCode::OK, "{}", all.body);
            // Root search sees Users and Groups.
            let root = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName pr or userName pr"});
            assert_eq!(s.send("POST", "/.search", Some(root), &[]).await.body["totalResults"], 2);
        })
    });
}

#[test]
fn bulk_requests_resolve_bulk_ids_and_stop_on_errors() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = server(&format!("sqlite://{}", dir.path().join("a.db").display()));
        // RFC 7644 §3.7.2: a Group whose member is a User created in the same request.
        let r = s.send("POST", "/Bulk", Some(sample("rfc7644-3.7.2-bulk_request-temporary_identifier.json")), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ops = r.body["Operations"].as_array().expect("ops");
        assert_eq!((ops[0]["status"].as_str(), ops[1]["status"].as_str()), (Some("201"), Some("201")), "{}", r.body);
        let alice = ops[0]["location"].as_str().and_then(|l| l.rsplit('/').next()).expect("alice").to_string();
        let groups = s.send("GET", "/Groups", None, &[]).await.body;
        assert_eq!(groups["Resources"][0]["members"][0]["value"], alice.as_str());
        // RFC 7644 §3.7.1: circular references fail with 409.
        let circular = s.send("POST", "/Bulk", Some(sample("rfc7644-3.7.1-bulk_request-circular_conflict.json")), &[]).await;
        let statuses: Vec<&str> = circular.body["Operations"].as_array().expect("ops").iter().filter_map(|o| o["status"].as_str()).collect();
        assert!(statuses.iter().all(|s| *s == "409"), "{}", circular.body);
        // RFC 7644 §3.7.3: failOnErrors 1 stops after the first error (Alice exists now).
        let multi = s.send("POST", "/Bulk", Some(sample("rfc7644-3.7.3-bulk_request-multiple_operations.json")), &[]).await;
        let ops = multi.body["Operations"].as_array().expect("ops");
        assert_eq!(ops.len(), 1, "{}", multi.body);
        assert_eq!(ops[0]["status"], "400", "{}", multi.body); // the RFC's first operation lists a message schema
        let too_many: Vec<Value> = (0..1001).map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")})).collect();
        let big = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": too_many});
        assert_eq!(s.send("POST", "/Bulk", Some(big), &[]).await.status, StatusCode::PAYLOAD_TOO_LARGE);
        let huge = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [{"method": "POST", "path": "/Users", "data": {"x": "y".repeat(3_000_000)}}]});
        let r = s.send("POST", "/Bulk", Some(huge), &[]).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("maxPayloadSize")), "{}", r.body);
    });
}

#[test]
fn each_token_sees_only_its_own_system_and_state_survives_a_restart() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            s.create_user("bjensen", json!({})).await;
            let entra = new_token(url, "entra", "entra");
            let theirs = s.raw("GET", "/Users", None, &entra, &[]).await;
            assert_eq!(theirs.body["totalResults"], 0);
            // The same userName in another system is no conflict.
            let r = s
                .raw("POST", "/Users", Some(json!({"schemas": [USER], "userName": "bjensen"}).to_string().into_bytes()), &entra, &[])
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
            // A second instance on the same database sees both, and a write of one is read
            // by the other (two servers sharing PostgreSQL).
            let other = Server { state: state(url, "https://b.test"), token: s.token.clone() };
            assert_eq!(other.ids("/Users").await, ["bjensen"]);
            let id = s.create_user("jsmith", json!({})).await["id"].as_str().expect("id").to_string();
            assert_eq!(other.send("GET", &format!("/Users/{id}"), None, &[]).await.status, StatusCode::OK);
            let patch = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "John"}]});
            assert_eq!(other.send("PATCH", &format!("/Users/{id}"), Some(patch), &[("if-match", "W/\"1\"")]).await.status, StatusCode::OK);
            let seen = s.send("GET", &format!("/Users/{id}"), None, &[]).await;
            assert_eq!((seen.body["displayName"].as_str(), seen.header("etag")), (Some("John"), Some("W/\"2\"")));
        })
    });
}

#[test]
fn concurrent_changes_from_two_instances_lose_nothing() {
    // Two servers on one database add different members to one Group at the same time:
    // a change planned on a version the other replaced is planned again, so every member
    // ends up in the Group and every version is used once.
    each_database(|url| {
        runtime().block_on(async {
            let a = server(url);
            let b = Server { state: state(url, "https://b.test"), token: a.token.clone() };
            let mut ids = Vec::new();
            for i in 0..40 {
                ids.push(a.create_user(&format!("u{i:02}"), json!({})).await["id"].as_str().expect("id").to_string());
            }
            let group = a.send("POST", "/Groups", Some(json!({"schemas": [GROUP], "displayName": "all"})), &[]).await;
            let gid = group.body["id"].as_str().expect("id").to_string();
            let add = |id: &str| json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
            let (a, b) = (Arc::new(a), Arc::new(b));
            let mut tasks = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let (s, body, path) = (if i % 2 == 0 { a.clone() } else { b.clone() }, add(id), format!("/Groups/{gid}"));
                tasks.push(tokio::spawn(async move { s.send("PATCH", &path, Some(body), &[]).await.status }));
            }
            for t in tasks {
                assert_eq!(t.await.expect("task"), StatusCode::OK);
            }
            let g = a.send("GET", &format!("/Groups/{gid}"), None, &[]).await;
            assert_eq!(g.body["members"].as_array().map(Vec::len), Some(40), "{}", g.body);
            assert_eq!(g.header("etag"), Some("W/\"41\""));
            let seen_by_b = b.send("GET", &format!("/Groups/{gid}"), None, &[]).await;
            assert_eq!(seen_by_b.header("etag"), Some("W/\"41\""));
            sync(move || drop((a, b)));
        })
    });
}
