//! What an identity provider and an attacker showed the SCIM server (issue 8), one test per
//! point, on SQLite and PostgreSQL: pushed passwords never kept, Microsoft Entra ID's
//! shapes accepted, whole-extension PATCH paths, writes that change nothing, member types,
//! user names with control characters or in two Unicode encodings, unknown paths and
//! methods, and large Groups.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const SECRET: &str = "Hunter2-secret";

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}

/// Every stored body of the server's database, and every ledger entry, as text.
fn stored_text(url: &str) -> String {
    sync(|| {
        let mut store = annexa_store::Store::open(url).expect("open");
        let mut all = String::new();
        for system in store.scim_systems().expect("systems") {
            for r in store.scim_resources(&system).expect("resources") {
                all.push_str(&r.body);
            }
        }
        store
            .ledger_each(|e| {
                all.push_str(&e.body);
                Ok(())
            })
            .expect("ledger");
        all
    })
}

#[test]
fn a_pushed_password_is_dropped_and_cannot_be_probed() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            // Accepted and dropped: in a POST, a PUT, a PATCH (with a path, and path-less),
            // and a Bulk operation; with any value, even one of the wrong type.
            let created = s.send("POST", "/Users", Some(json!({"schemas": [USER], "userName": "u", "password": SECRET})), &[]).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            let id = created.body["id"].as_str().expect("id").to_string();
            let put = json!({"schemas": [USER], "userName": "u", "PASSWORD": {"not": "a string"}, "title": "t"});
            assert_eq!(s.send("PUT", &format!("/Users/{id}"), Some(put), &[]).await.status, StatusCode::OK);
            for ops in [
                json!([{"op": "replace", "path": "password", "value": SECRET}]),
                json!([{"op": "add", "value": {"password": SECRET, "nickName": "n"}}]),
            ] {
                let r = s.send("PATCH", &format!("/Users/{id}"), Some(patch(ops.clone())), &[]).await;
                assert_eq!(r.status, StatusCode::OK, "{ops}: {}", r.body);
            }
            let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER], "userName": "v", "password": SECRET}}]});
            assert_eq!(s.send("POST", "/Bulk", Some(bulk), &[]).await.status, StatusCode::OK);
            // Never in a response, the database or the ledger.
            for path in
                ["/Users", &format!("/Users/{id}"), &format!("/Users/{id}?attributes=password"), "/Users?attributes=password,userName"]
            {
                let r = s.send("GET", path, None, &[]).await;
                assert!(!r.body.to_string().to_ascii_lowercase().contains("password"), "{path}: {}", r.body);
            }
            let stored = stored_text(url);
            assert!(!stored.contains(SECRET) && !stored.to_ascii_lowercase().contains("password"), "stored: {stored}");
            // Filters and sorting on it are refused, so it cannot be guessed letter by letter.
            for query in [
                "filter=userName%20eq%20%22u%22%20and%20password%20sw%20%22Hunt%22",
                "filter=password%20co%20%22e%22",
                "filter=password%20gt%20%22a%22%20or%20password%20lt%20%22z%22",
                "filter=not%20(password%20pr)",
                "filter=urn:ietf:params:scim:schemas:core:2.0:User:password%20ew%20%22t%22",
                "sortBy=password",
            ] {
                let r = s.send("GET", &format!("/Users?{query}"), None, &[]).await;
                assert_eq!(r.outcome(), (400, Some("invalidFilter")), "{query}: {}", r.body);
                assert!(!r.body.to_string().contains("Hunt"));
            }
            let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "password sw \"H\""});
            assert_eq!(s.send("POST", "/Users/.search", Some(search.clone()), &[]).await.outcome(), (400, Some("invalidFilter")));
            assert_eq!(s.send("POST", "/.search", Some(search), &[]).await.outcome(), (400, Some("invalidFilter")));
            // /Schemas says it is write-only and never returned.
            let schema = s.send("GET", &format!("/Schemas/{USER}"), None, &[]).await.body;
            let password =
                schema["attributes"].as_array().expect("attributes").iter().find(|a| a["name"] == "password").expect("password").clone();
            assert_eq!((&password["mutability"], &password["returned"]), (&json!("writeOnly"), &json!("never")));
        })
    });
}

#[test]
fn passwords_stored_by_an_earlier_version_are_removed_on_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    {
        // A database at schema version 6, holding what that version stored for a push.
        drop(annexa_store::Store::open_at_version(&format!("sqlite://{}", path.display()), 6).expect("version 6"));
        let c = rusqlite::Connection::open(&path).expect("sqlite");
        let body = json!({"schemas": [USER], "id": "u1", "userName": "Rene\u{301}", "Password": SECRET, "meta": {"version": "W/\"1\""}})
            .to_string();
        c.execute(
            "INSERT INTO scim_resources (id, system, resource_type, unique_key, version, seq, deleted, body) VALUES ('u1', 'okta', 'User', 'rene\u{301}', 1, 1, 0, ?1)",
            [&body],
        )
        .expect("old row");
        c.execute("UPDATE scim_sequence SET seq = 1", []).expect("seq");
    }
    let url = format!("sqlite://{}", path.display());
    let mut store = annexa_store::Store::open(&url).expect("upgrade");
    let rows = store.scim_resources("okta").expect("rows");
    assert!(!rows[0].body.contains(SECRET) && !rows[0].body.to_ascii_lowercase().contains("password"), "{}", rows[0].body);
    assert!(rows[0].seq > 1, "running servers pull the change");
    let key: String = rusqlite::Connection::open(&path)
        .expect("sqlite")
        .query_row("SELECT unique_key FROM scim_resources", [], |r| r.get(0))
        .expect("key");
    assert_eq!(key, "ren\u{e9}", "re-keyed as names are now compared");
    let mut kinds = Vec::new();
    store
        .ledger_each(|e| {
            kinds.push(e.kind.clone());
            Ok(())
        })
        .expect("ledger");
    assert_eq!(kinds, ["scim-password-removed"]);
    drop(store);
    // The re-keyed name: the other encoding of "René" is taken.
    runtime().block_on(async {
        let s = Server { state: state(&url, "https://annexa.test"), token: new_token(&url, "okta", "okta") };
        let r = s.send("POST", "/Users", Some(json!({"schemas": [USER], "userName": "Ren\u{e9}"})), &[]).await;
        assert_eq!(r.outcome(), (409, Some("uniqueness")), "{}", r.body);
    });
}

#[test]
fn microsoft_entra_id_shapes_are_accepted() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            let id = s.create_user("entra@example.com", json!({})).await["id"].as_str().expect("id").to_string();
            // The first work e-mail, through a filter that matches nothing yet.
            let add_email = patch(json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "entra@example.com"}]));
            let r = s.send("PATCH", &format!("/Users/{id}"), Some(add_email), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["emails"], json!([{"type": "work", "value": "entra@example.com"}]));
            // A role, then its value through `primary eq "True"`.
            let add_role = patch(json!([{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": "Reader"}]));
            let r = s.send("PATCH", &format!("/Users/{id}"), Some(add_role), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["roles"], json!([{"primary": true, "value": "Reader"}]));
            let replace_role = patch(json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Writer"}]));
            let r = s.send("PATCH", &format!("/Users/{id}"), Some(replace_role), &[]).await;
            assert_eq!(r.body["roles"], json!([{"primary": true, "value": "Writer"}]), "{}", r.body);
            // `"primary": "True"` inside roles, in a whole role value and in a POST.
            let roles = patch(json!([{"op": "Add", "path": "roles", "value": [{"value": "Owner", "primary": "True"}]}]));
            let r = s.send("PATCH", &format!("/Users/{id}"), Some(roles), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(r.body["roles"], json!([{"primary": false, "value": "Writer"}, {"primary": true, "value": "Owner"}]));
            let posted = s
                .create_user(
                    "x@example.com",
                    json!({"roles": [{"value": "A", "primary": "True", "type": "WindowsAzureActiveDirectoryRole"}]}),
                )
                .await;
            assert_eq!(posted["roles"][0]["primary"], true);
        })
    });
}

#[test]
fn a_whole_extension_path_works_whatever_the_user_holds() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            for op in ["add", "replace"] {
                let id = s.create_user(&format!("core-only-{op}"), json!({})).await["id"].as_str().expect("id").to_string();
                let body =
                    patch(json!([{"op": op, "path": ENTERPRISE, "value": {"employeeNumber": "701984", "department": "Tour Operations"}}]));
                let r = s.send("PATCH", &format!("/Users/{id}"), Some(body), &[]).await;
                assert_eq!(r.status, StatusCode::OK, "{op}: {}", r.body);
                assert_eq!(r.body[ENTERPRISE], json!({"employeeNumber": "701984", "department": "Tour Operations"}), "{op}");
                assert!(r.body["schemas"].as_array().expect("schemas").contains(&json!(ENTERPRISE)), "{op}");
            }
        })
    });
}

#[test]
fn a_write_that_changes_nothing_keeps_its_version_and_records_nothing() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            let body = json!({"schemas": [USER], "userName": "same", "name": {"givenName": "S"}, "emails": [{"value": "s@x.io", "type": "work"}]});
            let id = s.send("POST", "/Users", Some(body.clone()), &[]).await.body["id"].as_str().expect("id").to_string();
            let ledger = || sync(|| annexa_store::Store::open(url).expect("open").ledger_size().expect("size"));
            let before = ledger();
            for _ in 0..3 {
                let r = s.send("PUT", &format!("/Users/{id}"), Some(body.clone()), &[]).await;
                assert_eq!((r.status, r.header("etag")), (StatusCode::OK, Some("W/\"1\"")), "{}", r.body);
            }
            let same = patch(json!([{"op": "replace", "path": "name.givenName", "value": "S"}, {"op": "add", "path": "emails", "value": [{"value": "s@x.io", "type": "work"}]}]));
            let r = s.send("PATCH", &format!("/Users/{id}"), Some(same), &[("if-match", "W/\"1\"")]).await;
            assert_eq!((r.status, r.header("etag")), (StatusCode::OK, Some("W/\"1\"")), "{}", r.body);
            assert_eq!(ledger(), before, "no ledger entry for a write that changed nothing");
            // A real change still moves the version and is recorded.
            let r = s.send("PATCH", &format!("/Users/{id}"), Some(patch(json!([{"op": "replace", "path": "name.givenName", "value": "T"}]))), &[]).await;
            assert_eq!(r.header("etag"), Some("W/\"2\""));
            assert_eq!(ledger(), before + 1);
            // Groups too: the same members again.
            let g = s.send("POST", "/Groups", Some(json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": id}]})), &[]).await.body;
            let gid = g["id"].as_str().expect("id");
            let again = patch(json!([{"op": "add", "path": "members", "value": [{"value": id, "type": "User"}]}]));
            assert_eq!(s.send("PATCH", &format!("/Groups/{gid}"), Some(again), &[]).await.header("etag"), Some("W/\"1\""));
        })
    });
}

#[test]
fn member_types_and_user_names_are_checked() {
    each_database(|url| {
        runtime().block_on(async {
            let s = server(url);
            let user = s.create_user("ada", json!({})).await["id"].as_str().expect("id").to_string();
            let group = |members: Value| json!({"schemas": [GROUP], "displayName": "G", "members": members});
            for (members, says) in [
                (json!([{"value": user, "type": "Group"}]), "is a User, but its type says \"Group\""),
                (json!([{"value": user, "type": "Robot"}]), "type is \"User\" or \"Group\""),
                (json!([{"value": user, "type": 7}]), "must be a string"),
            ] {
                let r = s.send("POST", "/Groups", Some(group(members.clone())), &[]).await;
                assert_eq!(r.outcome(), (400, Some("invalidValue")), "{members}");
                assert!(r.body["detail"].as_str().is_some_and(|d| d.contains(says)), "{members}: {}", r.body);
            }
            let r = s.send("POST", "/Groups", Some(group(json!([{"value": user, "type": "user"}]))), &[]).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            assert_eq!(r.body["members"][0]["type"], "User", "stored in its canonical case");

            for bad in ["a\u{0}b", "evil\r\nSet-Cookie: x", "tab\there", "\u{85}next"] {
                let r = s.send("POST", "/Users", Some(json!({"schemas": [USER], "userName": bad})), &[]).await;
                assert_eq!(r.outcome(), (400, Some("invalidValue")), "{bad:?}");
                assert!(r.body["detail"].as_str().is_some_and(|d| d.contains("control characters")), "{}", r.body);
            }
            // The two Unicode encodings of one name are one user, also for lookups.
            s.create_user("Jos\u{e9}.Mu\u{f1}oz@example.com", json!({})).await;
            for other in
                ["Jose\u{301}.Mun\u{303}oz@example.com", "JOSE\u{301}.MUN\u{303}OZ@EXAMPLE.COM", " jos\u{e9}.mu\u{f1}oz@example.com "]
            {
                let r = s.send("POST", "/Users", Some(json!({"schemas": [USER], "userName": other})), &[]).await;
                assert_eq!(r.outcome(), (409, Some("uniqueness")), "{other:?}: {}", r.body);
            }
            let nfd = "Jose\u{301}.Mun\u{303}oz@example.com";
            let filter = format!("userName eq \"{nfd}\"");
            let query = format!("/Users?filter={}", filter.bytes().map(|b| format!("%{b:02X}")).collect::<String>());
            assert_eq!(s.ids(&query).await, ["Jos\u{e9}.Mu\u{f1}oz@example.com"]);
            let co = format!("/Users?filter={}", "userName co \"MUN\u{303}OZ\"".bytes().map(|b| format!("%{b:02X}")).collect::<String>());
            assert_eq!(s.ids(&co).await, ["Jos\u{e9}.Mu\u{f1}oz@example.com"], "indexed or not, one encoding");
        })
    });
}

#[test]
fn unknown_methods_and_paths_answer_with_the_scim_error_schema() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = server(&format!("sqlite://{}", dir.path().join("a.db").display()));
        for (method, path) in [("DELETE", "/Users"), ("PUT", "/ServiceProviderConfig"), ("PATCH", "/Groups"), ("POST", "/Schemas")] {
            let r = s.send(method, path, None, &[]).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_eq!(
                (r.body["schemas"][0].as_str(), r.body["status"].as_str()),
                (Some("urn:ietf:params:scim:api:messages:2.0:Error"), Some("405")),
                "{method} {path}"
            );
        }
        let long = format!("/Users?filter=userName%20eq%20%22{}%22", "a".repeat(9000));
        let r = s.send("GET", &long, None, &[]).await;
        assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (414, Some("414")));
        let big = "x".repeat(20_000);
        let r = s.send("GET", "/Users", None, &[("x-padding", big.as_str())]).await;
        assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (431, Some("431")));
    });
}

#[test]
fn groups_with_one_name_and_a_group_of_twenty_thousand_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    // 20,000 Users, stored in one transaction (through HTTP each would wait for its own
    // durable commit), before the server starts.
    let ids: Vec<String> = (0..20_000).map(|i| format!("00000000-0000-4000-8000-{i:012}")).collect();
    sync(|| {
        let mut store = annexa_store::Store::open(&url).expect("open");
        let writes = ids
            .iter()
            .enumerate()
            .map(|(i, id)| annexa_store::scim::ScimWrite {
                id: id.clone(),
                system: "okta".into(),
                resource_type: "User",
                unique_key: Some(format!("user{i}@example.com")),
                expected_version: None,
                body: Some(json!({"schemas": [USER], "id": id, "userName": format!("user{i}@example.com"), "meta": {"resourceType": "User", "created": "2026-12-01T00:00:00Z", "lastModified": "2026-12-01T00:00:00Z", "version": "W/\"1\""}}).to_string()),
                kind: "scim-created",
            })
            .collect();
        let written =
            store.scim_change(0, |_, _| Ok::<(), annexa_store::StoreError>(()), || Ok(writes), "test", chrono::Utc::now()).expect("users");
        assert!(matches!(written, annexa_store::scim::ScimWritten::Done { .. }));
    });
    runtime().block_on(async {
        let s = server(&url);
        // Two Groups may share a displayName (RFC 7643 and Entra ID allow it).
        for _ in 0..2 {
            assert_eq!(
                s.send("POST", "/Groups", Some(json!({"schemas": [GROUP], "displayName": "Sales"})), &[]).await.status,
                StatusCode::CREATED
            );
        }
        // Into one Group, a thousand members per PATCH: it outgrows the limit on one
        // resource, which does not count members.
        let g = s.send("POST", "/Groups", Some(json!({"schemas": [GROUP], "displayName": "Everyone"})), &[]).await.body;
        let gid = g["id"].as_str().expect("id").to_string();
        for chunk in ids.chunks(1000) {
            let members: Vec<Value> =
                chunk.iter().map(|id| json!({"value": id, "display": format!("member {id} of a very large group indeed")})).collect();
            let r = s
                .send(
                    "PATCH",
                    &format!("/Groups/{gid}?excludedAttributes=members"),
                    Some(patch(json!([{"op": "add", "path": "members", "value": members}]))),
                    &[],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let stored = sync(|| annexa_store::Store::open(&url).expect("open").scim_resources("okta").expect("rows"));
        let everyone = stored.iter().find(|r| r.id == gid).expect("stored");
        assert!(everyone.body.len() > annexa_scim::schema::MAX_RESOURCE_BYTES, "{} bytes", everyone.body.len());
        // What the server stored, its importer reads: duplicate names and the large Group.
        let text: String = stored.iter().map(|r| format!("{}\n", r.body)).collect();
        let options = annexa_connect::ImportOptions { system: Some("okta".into()), ..Default::default() };
        let batch = annexa_connect::scim_snapshot::parse("pushed.jsonl", text.as_bytes(), &options).expect("imports");
        assert_eq!(batch.entitlements.len(), 3);
        assert_eq!(batch.assignments.len(), 20_000);
        // A User is still bounded.
        let huge = json!({"schemas": [USER], "userName": "big", "displayName": "d".repeat(annexa_scim::schema::MAX_RESOURCE_BYTES)});
        let r = s.send("POST", "/Users", Some(huge), &[]).await;
        assert_eq!(r.outcome(), (400, Some("invalidValue")), "{}", r.body["detail"]);
    });
}
