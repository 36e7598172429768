//! PATCH paths and operations: every RFC 7644 §3.5.2 example request applied to the RFC's
//! example resources, then the rules one by one, and the errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use annexa_scim::schema::ResourceSchema;
use annexa_scim::{
    apply_operations, apply_operations_for, apply_operations_with, apply_patch, parse_filter, parse_patch_request, parse_path, AttrPath,
    PatchError, PatchOp, PatchOperation, PatchPath,
};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn attr(name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath { schema: None, name: name.into(), sub_attr: sub.map(Into::into) }
}

fn path(text: &str) -> PatchPath {
    parse_path(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Applies one operation, given as the JSON of an `Operations` element.
fn apply(resource: &mut Value, operation: Value) -> Result<(), PatchError> {
    PatchOperation::from_json(&operation)?.apply(resource)
}

fn scim_type(result: Result<(), PatchError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(e) => e.scim_type(),
    }
}

// ---------------------------------------------------------------------------------------
// Paths

#[test]
fn paths_parse() {
    let work = || parse_filter(r#"type eq "work""#).ok();
    let cases: Vec<(&str, PatchPath)> = vec![
        ("members", PatchPath { attr: attr("members", None), filter: None }),
        ("name.familyName", PatchPath { attr: attr("name", Some("familyName")), filter: None }),
        ("members.$ref", PatchPath { attr: attr("members", Some("$ref")), filter: None }),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            PatchPath {
                attr: AttrPath { schema: Some(ENTERPRISE.into()), name: "employeeNumber".into(), sub_attr: None },
                filter: None,
            },
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
            PatchPath {
                attr: AttrPath {
                    schema: Some(ENTERPRISE.into()),
                    name: "manager".into(),
                    sub_attr: Some("displayName".into()),
                },
                filter: None,
            },
        ),
        (r#"addresses[type eq "work"]"#, PatchPath { attr: attr("addresses", None), filter: work() }),
        (
            r#"addresses[type eq "work"].streetAddress"#,
            PatchPath { attr: attr("addresses", Some("streetAddress")), filter: work() },
        ),
        (
            r#"ADDRESSES[TYPE EQ "work"].streetaddress"#,
            PatchPath {
                attr: attr("ADDRESSES", Some("streetaddress")),
                filter: parse_filter(r#"TYPE eq "work""#).ok(),
            },
        ),
        (
            r#"emails[type eq "work" and value ew "example.com"]"#,
            PatchPath {
                attr: attr("emails", None),
                filter: parse_filter(r#"type eq "work" and value ew "example.com""#).ok(),
            },
        ),
        (
            r#"members[value eq"2819c223...919d-413861904646"]"#,
            PatchPath {
                attr: attr("members", None),
                filter: parse_filter(r#"value eq "2819c223...919d-413861904646""#).ok(),
            },
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value"#,
            PatchPath {
                attr: AttrPath {
                    schema: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
                    name: "emails".into(),
                    sub_attr: Some("value".into()),
                },
                filter: work(),
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_path(text).as_ref(), Ok(&want), "{text}");
        assert_eq!(parse_path(&want.to_string()).as_ref(), Ok(&want), "{text} printed as {want}");
    }
}

#[test]
fn bad_paths() {
    // (path, scimType, byte position, words of the message)
    let cases: &[(&str, &str, usize, &str)] = &[
        ("", "invalidPath", 0, "empty path"),
        (" members", "invalidPath", 0, "expected an attribute name, found ' '"),
        ("members ", "invalidPath", 7, "expected '.', '[' or the end of the path, found ' '"),
        ("name.familyName.x", "invalidPath", 15, "at most one sub-attribute"),
        ("name.", "invalidPath", 5, "expected a sub-attribute name after '.', found the end of the path"),
        ("emails..value", "invalidPath", 7, "expected a sub-attribute name"),
        ("1emails", "invalidPath", 0, "expected an attribute name"),
        ("emails value", "invalidPath", 6, "expected '.', '[' or the end of the path"),
        (r#"emails[type eq "work"]x"#, "invalidPath", 22, "expected the end of the path, found 'x'"),
        (r#"emails[type eq "work"]."#, "invalidPath", 23, "expected a sub-attribute name after '.'"),
        (r#"emails[type eq "work"].value.x"#, "invalidPath", 28, "expected the end of the path, found '.'"),
        (r#"emails[type eq "work"][value pr]"#, "invalidPath", 22, "expected the end of the path, found '['"),
        (r#"emails.value[type eq "work"]"#, "invalidPath", 12, "must follow an attribute, not a sub-attribute"),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:",
            "invalidPath",
            43,
            "expected an attribute name after the schema URN",
        ),
        // The value filter's own errors are filter errors.
        (r#"emails[type eq "work""#, "invalidFilter", 21, "closing the '[' at byte 6"),
        ("emails[]", "invalidFilter", 7, "empty value filter"),
        ("emails[type eq]", "invalidFilter", 14, "expected a comparison value"),
        ("emails[type xx \"w\"]", "invalidFilter", 12, "unknown operator 'xx'"),
        ("emails[type[value pr]]", "invalidFilter", 11, "cannot be nested"),
        (r#"emails[type eq "work]"#, "invalidFilter", 15, "unterminated string"),
    ];
    for &(text, want_type, position, words) in cases {
        let err = match parse_path(text) {
            Ok(p) => panic!("{text:?} parsed as {p:?}"),
            Err(e) => e,
        };
        assert_eq!(err.scim_type(), want_type, "{text:?}: {err}");
        assert_eq!(err.position(), position, "{text:?}: {err}");
        assert!(err.message().contains(words), "{text:?}: {:?} lacks {words:?}", err.message());
        // Through an operation, the same error keeps its scimType.
        let op = json!({"op": "remove", "path": text});
        assert_eq!(PatchOperation::from_json(&op).map(|_| ()).map_err(|e| e.scim_type()), Err(want_type), "{text:?}");
    }
    let long = "a".repeat(annexa_scim::MAX_FILTER_LEN + 1);
    assert_eq!(parse_path(&long).map_err(|e| e.scim_type()), Err("invalidPath"));
}

// ---------------------------------------------------------------------------------------
// The RFC 7644 §3.5.2 example requests

/// The example requests in the sample directory, checked to be exactly the files this test
/// knows, so that a new one cannot be skipped silently.
const PATCH_FILES: [&str; 10] = [
    "rfc7644-3.5.2.1-patch_op-add_emails.json",
    "rfc7644-3.5.2.1-patch_op-add_members.json",
    "rfc7644-3.5.2.2-patch_op-remove_all_members.json",
    "rfc7644-3.5.2.2-patch_op-remove_and_add_one_member.json",
    "rfc7644-3.5.2.2-patch_op-remove_multi_complex_value.json",
    "rfc7644-3.5.2.2-patch_op-remove_one_member.json",
    "rfc7644-3.5.2.3-patch_op-replace_all_email_values.json",
    "rfc7644-3.5.2.3-patch_op-replace_all_members.json",
    "rfc7644-3.5.2.3-patch_op-replace_street_address.json",
    "rfc7644-3.5.2.3-patch_op-replace_user_work_address.json",
];

struct Samples {
    dir: std::path::PathBuf,
    user: Value,
    minimal: Value,
    group: Value,
}

impl Samples {
    fn load() -> Option<Samples> {
        let dir = common::samples_dir()?;
        let user = common::load(&dir, "rfc7643-8.2-user-full.json");
        let minimal = common::load(&dir, "rfc7643-8.1-user-minimal.json");
        let group = common::load(&dir, "rfc7643-8.4-group.json");
        Some(Samples { dir, user, minimal, group })
    }

    fn request(&self, name: &str) -> Vec<PatchOperation> {
        parse_patch_request(&common::load(&self.dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Applies a sample request to a copy of `start`.
    fn patched(&self, name: &str, start: &Value) -> Result<Value, PatchError> {
        let mut resource = start.clone();
        apply_operations(&mut resource, &self.request(name))?;
        Ok(resource)
    }
}

#[test]
fn the_sample_directory_holds_exactly_the_known_patch_requests() {
    let Some(s) = Samples::load() else { return };
    let mut found: Vec<String> = std::fs::read_dir(&s.dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("rfc7644-3.5.2.") && n.contains("-patch_op-") && n.ends_with(".json"))
        .collect();
    found.sort();
    assert_eq!(found, PATCH_FILES);
    for name in PATCH_FILES {
        assert!(!s.request(name).is_empty(), "{name}");
    }
}

/// RFC 7644 §3.5.2.1, first example: add emails and a nickname, without a path.
#[test]
fn rfc_add_emails() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[0];
    // Babs already has that home email and that nickname: nothing changes (the request
    // writes "nickname"; attribute names ignore case, so it is her "nickName").
    assert_eq!(s.patched(name, &s.user).unwrap(), s.user);
    // The minimal user gains both.
    let mut want = s.minimal.clone();
    want["emails"] = json!([{"value": "babs@jensen.org", "type": "home"}]);
    want["nickname"] = json!("Babs");
    assert_eq!(s.patched(name, &s.minimal).unwrap(), want);
    // Babs with only her work email gains the home one, appended.
    let mut start = s.user.clone();
    start["emails"].as_array_mut().unwrap().truncate(1);
    assert_eq!(s.patched(name, &start).unwrap(), s.user);
}

/// RFC 7644 §3.5.2.1, second example: add a member.
#[test]
fn rfc_add_members() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[1];
    let added = &s.request(name)[0];
    let new_member = added.value.as_ref().unwrap()[0].clone();
    // Babs is already a member of the example group (same "value"; the request spells her
    // "$ref" abbreviated): "no changes SHOULD be made".
    assert_eq!(s.patched(name, &s.group).unwrap(), s.group);
    // A group without Babs gains her, appended after the existing members.
    let mut start = s.group.clone();
    start["members"].as_array_mut().unwrap().remove(0);
    let mut want = start.clone();
    want["members"].as_array_mut().unwrap().push(new_member.clone());
    assert_eq!(s.patched(name, &start).unwrap(), want);
    // A group without members gets the attribute.
    let mut start = s.group.clone();
    start.as_object_mut().unwrap().remove("members");
    let mut want = start.clone();
    want["members"] = json!([new_member]);
    assert_eq!(s.patched(name, &start).unwrap(), want);
}

/// RFC 7644 §3.5.2.2: remove all members.
#[test]
fn rfc_remove_all_members() {
    let Some(s) = Samples::load() else { return };
    let mut want = s.group.clone();
    want.as_object_mut().unwrap().remove("members");
    assert_eq!(s.patched(PATCH_FILES[2], &s.group).unwrap(), want);
    // Again: removing what is not there is no error.
    assert_eq!(s.patched(PATCH_FILES[2], &want).unwrap(), want);
}

/// RFC 7644 §3.5.2.2: remove one member by a filter. The RFC abbreviates the member id
/// ("2819c223-7f76-...413861904646"), so against the example group the filter matches no
/// member: noTarget, and the group is left as it was. With the abbreviated id as the
/// member's value, the member goes.
#[test]
fn rfc_remove_one_member() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[5];
    let err = s.patched(name, &s.group).unwrap_err();
    assert_eq!(err.scim_type(), "noTarget", "{err}");

    let mut start = s.group.clone();
    start["members"][0]["value"] = json!("2819c223-7f76-...413861904646");
    let mut want = s.group.clone();
    want["members"].as_array_mut().unwrap().remove(0);
    assert_eq!(s.patched(name, &start).unwrap(), want);
}

/// RFC 7644 §3.5.2.2: remove one member and add another, in one request (note the RFC's
/// `value eq"…"` without a space). As above, the abbreviated id matches nothing in the
/// example group: noTarget, and since a request applies all or nothing, James Smith is not
/// added either.
#[test]
fn rfc_remove_and_add_one_member() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[3];
    let mut group = s.group.clone();
    let err = apply_operations(&mut group, &s.request(name)).unwrap_err();
    assert_eq!(err.scim_type(), "noTarget");
    assert_eq!(group, s.group, "a failed request changes nothing");

    let mut start = s.group.clone();
    start["members"][0]["value"] = json!("2819c223...919d-413861904646");
    let james = s.request(name)[1].value.as_ref().unwrap()[0].clone();
    let mut want = s.group.clone();
    want["members"] = json!([s.group["members"][1], james]);
    assert_eq!(s.patched(name, &start).unwrap(), want);
}

/// RFC 7644 §3.5.2.2: remove Babs's work email with a complex filter.
#[test]
fn rfc_remove_multi_complex_value() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[4];
    let mut want = s.user.clone();
    want["emails"].as_array_mut().unwrap().remove(0);
    let got = s.patched(name, &s.user).unwrap();
    assert_eq!(got, want);
    // The work email is gone now, so a second time there is no target.
    assert_eq!(s.patched(name, &got).unwrap_err().scim_type(), "noTarget");
}

/// RFC 7644 §3.5.2.3: replace all emails (and the nickname), without a path.
#[test]
fn rfc_replace_all_email_values() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[6];
    let emails = s.request(name)[0].value.as_ref().unwrap()["emails"].clone();
    // Babs already has exactly these.
    assert_eq!(s.patched(name, &s.user).unwrap(), s.user);
    // Other emails are replaced wholesale, not merged.
    let mut start = s.user.clone();
    start["emails"] = json!([{"value": "old@example.net", "type": "other"}]);
    start["nickName"] = json!("Barb");
    assert_eq!(s.patched(name, &start).unwrap(), s.user);
    // The minimal user gains both; "nickname" is spelt as in the request.
    let mut want = s.minimal.clone();
    want["emails"] = emails;
    want["nickname"] = json!("Babs");
    assert_eq!(s.patched(name, &s.minimal).unwrap(), want);
}

/// RFC 7644 §3.5.2.3: replace all members (remove, then add).
#[test]
fn rfc_replace_all_members() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[7];
    let members = s.request(name)[1].value.clone().unwrap();
    let mut want = s.group.clone();
    want["members"] = members;
    assert_eq!(s.patched(name, &s.group).unwrap(), want);
}

/// RFC 7644 §3.5.2.3: replace the street of the work address.
#[test]
fn rfc_replace_street_address() {
    let Some(s) = Samples::load() else { return };
    let mut want = s.user.clone();
    want["addresses"][0]["streetAddress"] = json!("1010 Broadway Ave");
    assert_eq!(s.patched(PATCH_FILES[8], &s.user).unwrap(), want);
    // A user without addresses has no work address to change.
    assert_eq!(s.patched(PATCH_FILES[8], &s.minimal).unwrap_err().scim_type(), "noTarget");
}

/// RFC 7644 §3.5.2.3: replace the whole work address; the home address stays as it was.
#[test]
fn rfc_replace_user_work_address() {
    let Some(s) = Samples::load() else { return };
    let name = PATCH_FILES[9];
    let new_address = s.request(name)[0].value.clone().unwrap();
    let mut want = s.user.clone();
    want["addresses"][0] = new_address.clone();
    assert_eq!(s.patched(name, &s.user).unwrap(), want);
    // The new work address is primary; a home address that was primary no longer is.
    let mut start = s.user.clone();
    start["addresses"][0]["primary"] = json!(false);
    start["addresses"][1]["primary"] = json!(true);
    let mut want = start.clone();
    want["addresses"][0] = new_address;
    want["addresses"][1]["primary"] = json!(false);
    assert_eq!(s.patched(name, &start).unwrap(), want);
}

// ---------------------------------------------------------------------------------------
// The rules, one by one

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1",
        "userName": "bjensen",
        "title": "Tour Guide",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "roles": ["guide"],
    })
}

/// (operation, what the user looks like after it). Each starts from [`user`].
fn rule_cases() -> Vec<(Value, Value)> {
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut u = user();
        edit(&mut u);
        u
    };
    vec![
        // add: a simple attribute is replaced, a new one added.
        (json!({"op": "add", "path": "title", "value": "Boss"}), with(&|u| u["title"] = json!("Boss"))),
        (json!({"op": "add", "path": "nickName", "value": "Babs"}), with(&|u| u["nickName"] = json!("Babs"))),
        (json!({"op": "add", "path": "TITLE", "value": "Boss"}), with(&|u| u["title"] = json!("Boss"))),
        // add: a complex attribute gets sub-attributes merged in.
        (
            json!({"op": "add", "path": "name", "value": {"middleName": "Jane", "givenName": "Babs"}}),
            with(&|u| u["name"] = json!({"givenName": "Babs", "middleName": "Jane", "familyName": "Jensen"})),
        ),
        (
            json!({"op": "add", "path": "name.middleName", "value": "Jane"}),
            with(&|u| u["name"]["middleName"] = json!("Jane")),
        ),
        (
            json!({"op": "add", "path": "addresses.locality", "value": "Hollywood"}),
            with(&|u| u["addresses"] = json!({"locality": "Hollywood"})),
        ),
        // add: multi-valued attributes get new values appended, known ones skipped.
        (
            json!({"op": "add", "path": "roles", "value": ["admin", "guide"]}),
            with(&|u| u["roles"] = json!(["guide", "admin"])),
        ),
        (json!({"op": "add", "path": "roles", "value": "admin"}), with(&|u| u["roles"] = json!(["guide", "admin"]))),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home", "display": "x"}]}),
            user(),
        ),
        (
            json!({"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "other"}]}),
            with(&|u| u["emails"].as_array_mut().unwrap().push(json!({"value": "babs@jensen.org", "type": "other"}))),
        ),
        // add: a new primary value demotes the old one.
        (
            json!({"op": "add", "path": "emails", "value": [{"value": "b@new.example", "type": "other", "primary": true}]}),
            with(&|u| {
                u["emails"][0]["primary"] = json!(false);
                u["emails"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"value": "b@new.example", "type": "other", "primary": true}));
            }),
        ),
        // add with a value filter: to the matching values.
        (
            json!({"op": "add", "path": "emails[type eq \"home\"].display", "value": "Home"}),
            with(&|u| u["emails"][1]["display"] = json!("Home")),
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}),
            with(&|u| u["emails"][1]["display"] = json!("Home")),
        ),
        // add without a path: attribute by attribute.
        (
            json!({"op": "add", "value": {"title": "Boss", "NAME": {"middleName": "Jane"}, "roles": ["admin"]}}),
            with(&|u| {
                u["title"] = json!("Boss");
                u["name"]["middleName"] = json!("Jane");
                u["roles"] = json!(["guide", "admin"]);
            }),
        ),
        // replace: simple attributes replaced; missing ones added; null unassigns.
        (json!({"op": "replace", "path": "title", "value": "Boss"}), with(&|u| u["title"] = json!("Boss"))),
        (json!({"op": "replace", "path": "nickName", "value": "Babs"}), with(&|u| u["nickName"] = json!("Babs"))),
        (
            json!({"op": "replace", "path": "title", "value": null}),
            with(&|u| drop(u.as_object_mut().unwrap().remove("title"))),
        ),
        (json!({"op": "replace", "path": "nickName", "value": null}), user()),
        (
            json!({"op": "replace", "path": "name.givenName", "value": null}),
            with(&|u| drop(u["name"].as_object_mut().unwrap().remove("givenName"))),
        ),
        // replace: a complex attribute has the given sub-attributes replaced, others kept.
        (
            json!({"op": "replace", "path": "name", "value": {"givenName": "Babs"}}),
            with(&|u| u["name"]["givenName"] = json!("Babs")),
        ),
        // replace: a multi-valued attribute without a filter is replaced whole.
        (json!({"op": "replace", "path": "roles", "value": ["admin"]}), with(&|u| u["roles"] = json!(["admin"]))),
        (json!({"op": "replace", "path": "roles", "value": "admin"}), with(&|u| u["roles"] = json!(["admin"]))),
        (
            json!({"op": "replace", "path": "emails", "value": [{"value": "x@example.com"}]}),
            with(&|u| u["emails"] = json!([{"value": "x@example.com"}])),
        ),
        (
            json!({"op": "replace", "path": "roles", "value": []}),
            with(&|u| drop(u.as_object_mut().unwrap().remove("roles"))),
        ),
        // replace with a filter: every matching value, or its sub-attribute.
        (
            json!({"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "babs@example.org", "type": "home"}}),
            with(&|u| u["emails"][1] = json!({"value": "babs@example.org", "type": "home"})),
        ),
        (
            json!({"op": "replace", "path": "emails[value ew \".org\" or value ew \".com\"].type", "value": "other"}),
            with(&|u| {
                u["emails"][0]["type"] = json!("other");
                u["emails"][1]["type"] = json!("other");
            }),
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}),
            with(&|u| {
                u["emails"][0]["primary"] = json!(false);
                u["emails"][1]["primary"] = json!(true);
            }),
        ),
        (
            json!({"op": "replace", "path": "emails[type eq \"home\"]", "value": null}),
            with(&|u| drop(u["emails"].as_array_mut().unwrap().remove(1))),
        ),
        (
            json!({"op": "replace", "path": "roles[value eq \"GUIDE\"]", "value": "lead"}),
            with(&|u| u["roles"] = json!(["lead"])),
        ),
        // replace without a path.
        (
            json!({"op": "replace", "value": {"userName": "babs", "name": {"familyName": "J"}, "emails": []}}),
            with(&|u| {
                u["userName"] = json!("babs");
                u["name"]["familyName"] = json!("J");
                u.as_object_mut().unwrap().remove("emails");
            }),
        ),
        // remove: attributes, sub-attributes, matching values and their sub-attributes.
        (json!({"op": "remove", "path": "title"}), with(&|u| drop(u.as_object_mut().unwrap().remove("title")))),
        (json!({"op": "remove", "path": "Title"}), with(&|u| drop(u.as_object_mut().unwrap().remove("title")))),
        (json!({"op": "remove", "path": "nickName"}), user()),
        (
            json!({"op": "remove", "path": "name.givenName"}),
            with(&|u| drop(u["name"].as_object_mut().unwrap().remove("givenName"))),
        ),
        (json!({"op": "remove", "path": "name.middleName"}), user()),
        (json!({"op": "remove", "path": "emails"}), with(&|u| drop(u.as_object_mut().unwrap().remove("emails")))),
        (
            json!({"op": "remove", "path": "emails[type eq \"work\"]"}),
            with(&|u| drop(u["emails"].as_array_mut().unwrap().remove(0))),
        ),
        (
            json!({"op": "remove", "path": "emails[type eq \"work\"].primary"}),
            with(&|u| drop(u["emails"][0].as_object_mut().unwrap().remove("primary"))),
        ),
        // The last value removed: the attribute is unassigned.
        (
            json!({"op": "remove", "path": "emails[value co \"@\"]"}),
            with(&|u| drop(u.as_object_mut().unwrap().remove("emails"))),
        ),
        (
            json!({"op": "remove", "path": "roles[value eq \"guide\"]"}),
            with(&|u| drop(u.as_object_mut().unwrap().remove("roles"))),
        ),
        // Op names ignore case (Microsoft Entra ID sends "Replace"), as do member names.
        (json!({"op": "Replace", "path": "title", "value": "Boss"}), with(&|u| u["title"] = json!("Boss"))),
        (
            json!({"OP": "REMOVE", "Path": "title", "Value": null}),
            with(&|u| drop(u.as_object_mut().unwrap().remove("title"))),
        ),
    ]
}

#[test]
fn rules_one_by_one() {
    for (operation, want) in rule_cases() {
        let mut u = user();
        apply(&mut u, operation.clone()).unwrap_or_else(|e| panic!("{operation}: {e}"));
        assert_eq!(u, want, "{operation}");
    }
}

#[test]
fn enterprise_extension() {
    let Some(s) = Samples::load() else { return };
    let user = s.user.clone();
    let mut enterprise = common::load(&s.dir, "rfc7643-8.3-enterprise_user.json");
    // Adding an extension attribute creates the extension object and lists its schema.
    let mut u = user.clone();
    let op = json!({"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "701984"});
    apply(&mut u, op).unwrap();
    let mut want = user.clone();
    want["schemas"].as_array_mut().unwrap().push(json!(ENTERPRISE));
    want[ENTERPRISE] = json!({"employeeNumber": "701984"});
    assert_eq!(u, want);

    // Replacing one inside it touches nothing else.
    let before = enterprise.clone();
    let op = json!({"op": "replace", "path": format!("{ENTERPRISE}:manager.displayName"), "value": "Jane Doe"});
    apply(&mut enterprise, op).unwrap();
    let mut want = before.clone();
    want[ENTERPRISE]["manager"]["displayName"] = json!("Jane Doe");
    assert_eq!(enterprise, want);

    // Without a path, the extension object merges attribute by attribute.
    let mut e = before.clone();
    let op = json!({"op": "replace", "value": {ENTERPRISE: {"costCenter": "5000", "manager": {"value": "m2"}}}});
    apply(&mut e, op).unwrap();
    let mut want = before.clone();
    want[ENTERPRISE]["costCenter"] = json!("5000");
    want[ENTERPRISE]["manager"]["value"] = json!("m2");
    assert_eq!(e, want);

    // ... and is created, schema and all, when the user had none.
    let mut u = user.clone();
    apply(&mut u, json!({"op": "add", "value": {ENTERPRISE: {"division": "Parks"}}})).unwrap();
    assert_eq!(u[ENTERPRISE], json!({"division": "Parks"}));
    assert_eq!(u["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]));

    // The whole extension is addressed by its URN.
    let mut e = before.clone();
    apply(&mut e, json!({"op": "remove", "path": ENTERPRISE})).unwrap();
    assert!(e.get(ENTERPRISE).is_none());
    let mut e = before.clone();
    apply(&mut e, json!({"op": "replace", "path": ENTERPRISE, "value": {"division": "Parks"}})).unwrap();
    assert_eq!(e[ENTERPRISE]["division"], "Parks");
    assert_eq!(e[ENTERPRISE]["employeeNumber"], "701984");

    // Removing from an extension the user does not have is no error; the core schema URN
    // addresses core attributes.
    let mut u = user.clone();
    apply(&mut u, json!({"op": "remove", "path": format!("{ENTERPRISE}:employeeNumber")})).unwrap();
    assert_eq!(u, user);
    let op =
        json!({"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", "value": "Babs"});
    apply(&mut u, op).unwrap();
    assert_eq!(u["name"]["givenName"], "Babs");
}

#[test]
fn case_exact_hook_applies_to_path_filters() {
    let ops = [PatchOperation::from_json(&json!({"op": "remove", "path": "emails[value eq \"BJENSEN@example.com\"]"}))
        .unwrap()];
    let mut u = user();
    let exact = |attr: &str| attr == "emails.value";
    assert_eq!(apply_operations_with(&mut u, &ops, &exact).unwrap_err().scim_type(), "noTarget");
    assert_eq!(u, user());
    apply_operations(&mut u, &ops).unwrap();
    assert_eq!(u["emails"].as_array().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn errors_and_their_scim_types() {
    let cases: &[(Value, &str)] = &[
        // noTarget: a filter that matches nothing, whatever the op; remove without a path.
        (json!({"op": "remove", "path": "emails[type eq \"fax\"]"}), "noTarget"),
        (json!({"op": "replace", "path": "emails[type eq \"fax\"]", "value": {"value": "x"}}), "noTarget"),
        (json!({"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}), "noTarget"),
        // `add` creates the value a filter of equalities describes; other filters cannot.
        (json!({"op": "add", "path": "emails[type eq \"fax\" or type eq \"pager\"].value", "value": "x"}), "noTarget"),
        (json!({"op": "add", "path": "emails[type ne \"work\" and type ne \"home\"].value", "value": "x"}), "noTarget"),
        (json!({"op": "remove", "path": "phoneNumbers[type eq \"work\"]"}), "noTarget"),
        (json!({"op": "remove", "path": "urn:example:ext:1.0:User:tags[value eq \"x\"]"}), "noTarget"),
        (json!({"op": "remove"}), "noTarget"),
        // invalidPath: malformed, or naming what is not there to name.
        (json!({"op": "replace", "path": "userName.first", "value": "x"}), "invalidPath"),
        (json!({"op": "remove", "path": "userName.first"}), "invalidPath"),
        (json!({"op": "replace", "path": "emails.value", "value": "x"}), "invalidPath"),
        (json!({"op": "remove", "path": "emails.type"}), "invalidPath"),
        (json!({"op": "add", "path": "emails.display", "value": "x"}), "invalidPath"),
        (json!({"op": "replace", "path": "name[givenName eq \"Barbara\"]", "value": "x"}), "invalidPath"),
        (json!({"op": "remove", "path": "title[value eq \"Tour Guide\"]"}), "invalidPath"),
        (json!({"op": "replace", "path": "roles[value eq \"guide\"].x", "value": "y"}), "invalidPath"),
        (json!({"op": "replace", "path": "name..x", "value": "x"}), "invalidPath"),
        (json!({"op": "replace", "path": 7, "value": "x"}), "invalidPath"),
        // invalidFilter: the path's filter is malformed.
        (json!({"op": "remove", "path": "emails[type eq]"}), "invalidFilter"),
        (json!({"op": "remove", "path": "emails[active gt true]"}), "invalidFilter"),
        // invalidValue: missing, null for add, or of the wrong shape.
        (json!({"op": "add", "path": "title"}), "invalidValue"),
        (json!({"op": "replace", "path": "title"}), "invalidValue"),
        (json!({"op": "add", "path": "title", "value": null}), "invalidValue"),
        (json!({"op": "add", "value": "Boss"}), "invalidValue"),
        (json!({"op": "replace", "value": ["title"]}), "invalidValue"),
        (json!({"op": "replace", "path": "name", "value": "Babs Jensen"}), "invalidValue"),
        (json!({"op": "add", "path": "name", "value": ["x"]}), "invalidValue"),
        (json!({"op": "replace", "path": "emails[type eq \"home\"]", "value": [{"value": "x"}]}), "invalidValue"),
        (json!({"op": "add", "path": "emails[type eq \"home\"]", "value": "x"}), "invalidValue"),
        (json!({"op": "remove", "path": "title", "value": "Tour Guide"}), "invalidValue"),
        (json!({"op": "remove", "path": "emails[type eq \"work\"]", "value": [{"value": "x"}]}), "invalidValue"),
        (json!({"op": "remove", "path": "name.givenName", "value": "Barbara"}), "invalidValue"),
        // invalidSyntax: not an operation.
        (json!({"op": "move", "path": "title"}), "invalidSyntax"),
        (json!({"path": "title", "value": "x"}), "invalidSyntax"),
        (json!({"op": 1, "path": "title"}), "invalidSyntax"),
        (json!(["op", "add"]), "invalidSyntax"),
    ];
    for (operation, want) in cases {
        let mut u = user();
        let got = scim_type(apply(&mut u, operation.clone()));
        assert_eq!(got, *want, "{operation}");
        assert_eq!(u, user(), "{operation}: a failed operation changes nothing");
    }
}

#[test]
fn requests_must_be_patch_ops() {
    let ok = json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "Operations": [{"op": "remove", "path": "title"}]});
    assert_eq!(parse_patch_request(&ok).unwrap().len(), 1);
    let lower = json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "operations": [{"op": "remove", "path": "title"}]});
    assert_eq!(parse_patch_request(&lower).unwrap().len(), 1);
    for bad in [
        json!({"Operations": [{"op": "remove", "path": "title"}]}),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}),
        json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA]}),
        json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "Operations": []}),
        json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "Operations": {"op": "add"}}),
        json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "Operations": [{"op": "add", "path": "x", "value": 1}, {"op": "copy"}]}),
        json!("PATCH"),
    ] {
        assert_eq!(parse_patch_request(&bad).map(|_| ()).map_err(|e| e.scim_type()), Err("invalidSyntax"), "{bad}");
    }
    let bad_path = json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "Operations": [{"op": "remove", "path": "a b"}]});
    assert_eq!(parse_patch_request(&bad_path).map(|_| ()).map_err(|e| e.scim_type()), Err("invalidPath"));
}

#[test]
fn requests_apply_all_or_nothing() {
    let ops: Vec<PatchOperation> = [
        json!({"op": "replace", "path": "title", "value": "Boss"}),
        json!({"op": "remove", "path": "name.givenName"}),
        json!({"op": "remove", "path": "emails[type eq \"fax\"]"}),
    ]
    .iter()
    .map(|o| PatchOperation::from_json(o).unwrap())
    .collect();
    let mut u = user();
    assert_eq!(apply_operations(&mut u, &ops).unwrap_err().scim_type(), "noTarget");
    assert_eq!(u, user());
    apply_operations(&mut u, &ops[..2]).unwrap();
    assert_eq!(u["title"], "Boss");
    assert!(u["name"].get("givenName").is_none());

    // A single operation is all or nothing too: the first matching value is fine, the
    // second is not complex.
    let mut r = json!({"tags": [{"value": "a"}, "a"]});
    let p = path(r#"tags[value eq "a"].label"#);
    let err = apply_patch(&mut r, PatchOp::Add, Some(&p), Some(&json!("x"))).unwrap_err();
    assert_eq!(err.scim_type(), "invalidPath");
    assert_eq!(r, json!({"tags": [{"value": "a"}, "a"]}));
}

#[test]
fn non_object_resources_are_refused() {
    for mut r in [json!(null), json!([1]), json!("x")] {
        let p = path("title");
        let err = apply_patch(&mut r, PatchOp::Replace, Some(&p), Some(&json!("x"))).unwrap_err();
        assert_eq!(err.scim_type(), "invalidValue");
    }
}

#[test]
fn errors_display_their_cause() {
    let err = PatchOperation::from_json(&json!({"op": "remove", "path": "emails[type eq]"})).unwrap_err();
    assert!(err.to_string().starts_with("invalid filter: expected a comparison value"), "{err}");
    assert!(err.to_string().contains("at byte 14"), "{err}");
    let mut u = user();
    let err = apply(&mut u, json!({"op": "remove", "path": "emails[type eq \"fax\"]"})).unwrap_err();
    assert_eq!(err.to_string(), r#"no target: no value of "emails" matches the path "emails[type eq "fax"]""#);
    let err = apply(&mut u, json!({"op": "replace", "path": "emails.value", "value": "x"})).unwrap_err();
    assert!(err.to_string().contains(r#"emails[type eq "work"].value"#), "{err}");
}

#[test]
fn remove_with_a_value_removes_the_named_values() {
    // How Microsoft Entra ID removes a Group member: the path names the attribute, the
    // value names the members.
    let mut g = json!({"displayName": "Tour Guides", "members": [{"value": "a", "type": "User"}, {"value": "b"}, {"value": "c"}]});
    apply(&mut g, json!({"op": "Remove", "path": "members", "value": [{"value": "b"}, {"value": "zz"}]})).unwrap();
    assert_eq!(g["members"], json!([{"value": "a", "type": "User"}, {"value": "c"}]));
    // Naming one already gone changes nothing (a repeated removal is not an error).
    apply(&mut g, json!({"op": "remove", "path": "members", "value": [{"value": "b"}]})).unwrap();
    assert_eq!(g["members"].as_array().map(Vec::len), Some(2));
    // A single value, not in an array, is read as one.
    apply(&mut g, json!({"op": "remove", "path": "members", "value": {"value": "a"}})).unwrap();
    apply(&mut g, json!({"op": "remove", "path": "members", "value": [{"value": "c"}]})).unwrap();
    assert!(g.get("members").is_none(), "the last member removed removes the attribute: {g}");
    // Simple multi-valued values are named as they are.
    let mut u = json!({"userName": "x", "tags": ["a", "b"]});
    apply(&mut u, json!({"op": "remove", "path": "tags", "value": ["a"]})).unwrap();
    assert_eq!(u["tags"], json!(["b"]));
}

#[test]
fn path_less_values_may_name_attribute_paths() {
    // How Microsoft Entra ID replaces sub-attributes and extension attributes.
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ext], "userName": "x", "name": {"givenName": "A"}, ext: {"department": "Sales"}});
    apply(&mut u, json!({"op": "Replace", "value": {
        "name.familyName": "Jensen",
        "name.givenName": "Barbara",
        format!("{ext}:employeeNumber"): "701984",
        format!("{ext}:manager.value"): "26118915",
        "displayName": "Babs",
    }})).unwrap();
    assert_eq!(u["name"], json!({"givenName": "Barbara", "familyName": "Jensen"}));
    assert_eq!(u[ext], json!({"department": "Sales", "employeeNumber": "701984", "manager": {"value": "26118915"}}));
    assert_eq!(u["displayName"], "Babs");
    // An object under a schema URN is still that extension's attributes.
    apply(&mut u, json!({"op": "replace", "value": {ext: {"costCenter": "4130"}}})).unwrap();
    assert_eq!(u[ext]["costCenter"], "4130");
}
// ---------------------------------------------------------------------------------------
// What Microsoft Entra ID sends

fn ops(body: Value) -> Vec<PatchOperation> {
    parse_patch_request(&json!({"schemas": [annexa_scim::PATCH_OP_SCHEMA], "Operations": body})).unwrap()
}

#[test]
fn add_through_a_filter_that_matches_nothing_creates_the_value() {
    // A User with no e-mail at all: the attribute and its value are created.
    let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new"});
    apply_operations(&mut u, &ops(json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]))).unwrap();
    assert_eq!(u["emails"], json!([{"type": "work", "value": "new@example.com"}]));
    // Once it exists the same operation changes that value and adds no other.
    apply_operations(&mut u, &ops(json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "n2@example.com"}]))).unwrap();
    assert_eq!(u["emails"], json!([{"type": "work", "value": "n2@example.com"}]));
    // A User with only a home e-mail gets a work one beside it; a conjunction of equalities
    // and a path without a sub-attribute build the value too.
    let mut u = user();
    let op = json!([{"op": "add", "path": "emails[type eq \"other\" and primary eq true]", "value": {"value": "o@x.io", "display": "O"}}]);
    apply_operations(&mut u, &ops(op)).unwrap();
    let emails = u["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3);
    assert_eq!(emails[2], json!({"type": "other", "primary": true, "value": "o@x.io", "display": "O"}));
    assert_eq!(emails[0]["primary"], false, "a new primary value demotes the old one");
}

#[test]
fn roles_with_primary_written_as_a_string() {
    let mut u = user();
    u["roles"] = json!([{"value": "guide", "primary": true}]);
    // `primary eq "True"` compares with the boolean true.
    apply_operations(&mut u, &ops(json!([{"op": "replace", "path": "roles[primary eq \"True\"].value", "value": "ranger"}]))).unwrap();
    assert_eq!(u["roles"], json!([{"value": "ranger", "primary": true}]));
    // On a User without roles, `add` creates the primary role; the schema turns "True"
    // into true when the resource is validated.
    let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "r"});
    apply_operations(&mut u, &ops(json!([{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": "Reader"}]))).unwrap();
    let stored = ResourceSchema::user().validate(&u).unwrap();
    assert_eq!(stored["roles"], json!([{"primary": true, "value": "Reader"}]));
    // Inside `roles`, a value's "primary": "True" is the boolean too.
    let with_string = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "r", "roles": [{"value": "a", "primary": "True"}, {"value": "b", "primary": "false"}]});
    assert_eq!(ResourceSchema::user().validate(&with_string).unwrap()["roles"], json!([{"value": "a", "primary": true}, {"value": "b", "primary": false}]));
}

#[test]
fn a_whole_extension_path_means_the_extension_the_resource_type_declares() {
    let schema = ResourceSchema::user();
    let core_only = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"});
    for op in ["add", "replace"] {
        let mut u = core_only.clone();
        let body = json!([{"op": op, "path": ENTERPRISE, "value": {"employeeNumber": "42", "department": "Parks"}}]);
        apply_operations_for(&mut u, &ops(body), &schema).unwrap_or_else(|e| panic!("{op}: {e}"));
        assert_eq!(u[ENTERPRISE], json!({"employeeNumber": "42", "department": "Parks"}), "{op}");
        assert_eq!(u["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]), "{op}");
        schema.validate(&u).unwrap_or_else(|e| panic!("{op}: {e}"));
    }
    // The same request on a User that has the extension already: the same result.
    let mut u = core_only.clone();
    apply_operations_for(&mut u, &ops(json!([{"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "1"}])), &schema).unwrap();
    apply_operations_for(&mut u, &ops(json!([{"op": "replace", "path": ENTERPRISE, "value": {"employeeNumber": "42"}}])), &schema).unwrap();
    assert_eq!(u[ENTERPRISE], json!({"employeeNumber": "42"}));
}
