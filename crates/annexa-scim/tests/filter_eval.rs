//! Filter evaluation, against the RFC 7643 §8 example users and small inline resources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

mod common;

use annexa_scim::parse_filter;
use serde_json::{json, Value};

fn eval(filter: &str, resource: &Value) -> bool {
    parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(resource)
}

/// Every RFC 7644 §3.4.2.2 example against the full user of RFC 7643 §8.2 (Babs Jensen), the
/// enterprise user of §8.3 (the same, plus the enterprise extension) and the minimal user of
/// §8.1.
#[test]
fn rfc_examples_against_the_rfc_users() {
    let Some(dir) = common::samples_dir() else { return };
    let full = common::load(&dir, "rfc7643-8.2-user-full.json");
    let enterprise = common::load(&dir, "rfc7643-8.3-enterprise_user.json");
    let minimal = common::load(&dir, "rfc7643-8.1-user-minimal.json");
    // (filter, full user, enterprise user, minimal user)
    let cases: &[(&str, bool, bool, bool)] = &[
        // userName is "bjensen@example.com": equality needs the whole value.
        (r#"userName eq "bjensen""#, false, false, false),
        (r#"name.familyName co "O'Malley""#, false, false, false),
        (r#"userName sw "J""#, false, false, false),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, false, false, false),
        (r#"title pr"#, true, true, false),
        // meta.lastModified is exactly 2011-05-13T04:42:34Z.
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false, false, false),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true, true, true),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false, false, false),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true, true, true),
        (r#"title pr and userType eq "Employee""#, true, true, false),
        (r#"title pr or userType eq "Intern""#, true, true, false),
        (r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, false, true, false),
        (r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, true, true, false),
        // The minimal user has no userType, which is "not equal" to "Employee", and no emails.
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            false,
            false,
            true,
        ),
        (r#"userType eq "Employee" and (emails.type eq "work")"#, true, true, false),
        (r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#, true, true, false),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            true,
            true,
            false,
        ),
    ];
    for &(filter, want_full, want_enterprise, want_minimal) in cases {
        assert_eq!(eval(filter, &full), want_full, "{filter} on the full user");
        assert_eq!(eval(filter, &enterprise), want_enterprise, "{filter} on the enterprise user");
        assert_eq!(eval(filter, &minimal), want_minimal, "{filter} on the minimal user");
    }
}

/// Variations on the RFC examples that do match Babs, so that each rule is seen to say yes
/// as well as no.
#[test]
fn variations_against_the_full_user() {
    let Some(dir) = common::samples_dir() else { return };
    let user = common::load(&dir, "rfc7643-8.2-user-full.json");
    let cases: &[(&str, bool)] = &[
        (r#"userName eq "bjensen@example.com""#, true),
        (r#"userName eq "BJensen@Example.COM""#, true), // caseExact is false by default
        (r#"USERNAME Eq "bjensen@example.com""#, true),
        (r#"userName sw "b""#, true),
        (r#"userName ew "@EXAMPLE.com""#, true),
        (r#"name.familyName co "ense""#, true),
        (r#"name.familyName eq "Jensen""#, true),
        (r#"name.middlename eq "jane""#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:title eq "Tour Guide""#, true),
        (r#"userName ne "bjensen""#, true),
        (r#"not (userName eq "bjensen")"#, true),
        (r#"not (not (title pr))"#, true),
        // Multi-valued: any value may match.
        (r#"emails.type eq "home""#, true),
        (r#"emails.type eq "other""#, false),
        (r#"emails.type ne "work""#, true),  // the home address is not "work"
        (r#"emails co "jensen.org""#, true), // complex without sub-attribute: by "value"
        (r#"emails eq "babs@jensen.org""#, true),
        (r#"emails.value co "example.org""#, false),
        (r#"phoneNumbers[type eq "mobile" and value sw "555-555-4"]"#, true),
        (r#"phoneNumbers[type eq "mobile" and value sw "555-555-5"]"#, false), // not the same value
        (r#"phoneNumbers.type eq "mobile" and phoneNumbers.value sw "555-555-5""#, true), // but some values
        (r#"emails[primary eq true and type eq "work"]"#, true),
        (r#"emails[primary eq true and type eq "home"]"#, false),
        (r#"emails[not (type eq "work")]"#, true),
        (r#"emails[primary pr]"#, true),
        (r#"ims[type eq "aim"]"#, true),
        (r#"ims[type eq "xmpp"]"#, false),
        (r#"groups[display eq "US Employees"]"#, true),
        (r#"groups.$ref sw "https://example.com/v2/Groups/""#, true),
        (r#"groups[$ref ew "/fc348aa8-3835-40eb-a20b-c726e15c55b5"]"#, true),
        (r#"addresses[type eq "work" and postalCode eq "91608" and primary eq true]"#, true),
        (r#"addresses.formatted co "Hollywood, CA""#, true),
        // Booleans.
        (r#"active eq true"#, true),
        (r#"active eq false"#, false),
        (r#"active ne false"#, true),
        // Microsoft Entra ID writes booleans as strings; other strings are no booleans.
        (r#"active eq "True""#, true),
        (r#"active eq "false""#, false),
        (r#"active eq "yes""#, false),
        (r#"active ne "yes""#, true),
        // Presence.
        (r#"nickName pr"#, true),
        (r#"name pr"#, true),
        (r#"emails pr"#, true),
        (r#"manager pr"#, false),
        (r#"x509Certificates.value pr"#, true),
        (r#"meta pr and meta.created pr and meta.version pr"#, true),
        // null is "unassigned" (RFC 7643 §2.5).
        (r#"title eq null"#, false),
        (r#"title ne null"#, true),
        (r#"manager eq null"#, true),
        (r#"manager ne null"#, false),
        // An unassigned attribute equals nothing, and so is "not equal" to anything.
        (r#"manager eq "x""#, false),
        (r#"manager ne "x""#, true),
        (r#"manager gt "a""#, false),
        // Strings order lexicographically.
        (r#"displayName gt "Babs""#, true),
        (r#"displayName gt "babs jensen""#, false),
        (r#"displayName ge "babs jensen""#, true),
        (r#"displayName lt "C""#, true),
        (r#"displayName le "A""#, false),
        // Core attributes are not found in extension objects, nor the other way round.
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr"#, false),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#, false),
        (r#"urn:example:unknown:1.0:User:userName pr"#, false),
    ];
    for &(filter, want) in cases {
        assert_eq!(eval(filter, &user), want, "{filter}");
    }
}

#[test]
fn date_times_compare_chronologically() {
    let Some(dir) = common::samples_dir() else { return };
    let user = common::load(&dir, "rfc7643-8.2-user-full.json"); // lastModified 2011-05-13T04:42:34Z
    let cases: &[(&str, bool)] = &[
        // The same instant, written in another offset: lexicographically smaller.
        (r#"meta.lastModified eq "2011-05-12T23:42:34-05:00""#, true),
        (r#"meta.lastModified gt "2011-05-12T23:42:34-05:00""#, false),
        (r#"meta.lastModified ge "2011-05-12T23:42:34-05:00""#, true),
        // 05:00+01:00 is 04:00Z, before 04:42:34Z, though "…T04" < "…T05" as text.
        (r#"meta.lastModified lt "2011-05-13T05:00:00+01:00""#, false),
        (r#"meta.lastModified gt "2011-05-13T05:00:00+01:00""#, true),
        (r#"meta.lastModified eq "2011-05-13T04:42:34.000Z""#, true),
        (r#"meta.lastModified lt "2011-05-13T04:42:34.001Z""#, true),
        (r#"meta.created lt "2011-01-01T00:00:00Z" and meta.lastModified ge "2011-01-01T00:00:00Z""#, true),
        // Not both RFC 3339: compared as text.
        (r#"meta.lastModified gt "2011""#, true),
        (r#"meta.lastModified sw "2011-05-13""#, true),
    ];
    for &(filter, want) in cases {
        assert_eq!(eval(filter, &user), want, "{filter}");
    }
}

#[test]
fn enterprise_extension_attributes_are_addressed_by_urn() {
    let Some(dir) = common::samples_dir() else { return };
    let user = common::load(&dir, "rfc7643-8.3-enterprise_user.json");
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let cases: &[(String, bool)] = &[
        (format!(r#"{ext}:employeeNumber eq "701984""#), true),
        (format!(r#"{ext}:EMPLOYEENUMBER eq "701984""#), true),
        (format!(r#"{}:employeeNumber eq "701984""#, ext.to_uppercase().replace("URN:", "urn:")), true),
        (format!(r#"{ext}:employeeNumber eq "701985""#), false),
        (format!(r#"{ext}:manager.displayName eq "John Smith""#), true),
        (format!(r#"{ext}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#), true), // by "value"
        (format!(r#"{ext}:manager.value sw "26118915""#), true),
        (format!(r#"{ext}:department pr and {ext}:costCenter eq "4130""#), true),
        (format!(r#"{ext}:division eq "Theme Park" and userName sw "bjensen""#), true),
        (format!(r#"{ext}:title pr"#), false), // title is a core attribute
        // Without the URN, a name is a core attribute.
        ("employeeNumber pr".to_string(), false),
        // The extension object as a whole.
        (format!("{ext} pr"), true),
    ];
    for (filter, want) in cases {
        assert_eq!(eval(filter, &user), *want, "{filter}");
    }
}

#[test]
fn case_exact_hook() {
    let Some(dir) = common::samples_dir() else { return };
    let user = common::load(&dir, "rfc7643-8.3-enterprise_user.json");
    let asked = std::cell::RefCell::new(Vec::<String>::new());
    let exact = |attr: &str| {
        asked.borrow_mut().push(attr.to_string());
        matches!(attr, "id" | "externalid" | "emails.value" | "photos.value") || attr.ends_with(":manager.value")
    };
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let cases: &[(String, bool, bool)] = &[
        // (filter, case-insensitive result, case-exact result)
        (r#"id eq "2819C223-7F76-453A-919D-413861904646""#.into(), true, false),
        (r#"id eq "2819c223-7f76-453a-919d-413861904646""#.into(), true, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:id sw "2819C""#.into(), true, false),
        (r#"externalId eq "701984""#.into(), true, true),
        (r#"userName eq "BJENSEN@example.com""#.into(), true, true), // userName is not case-exact
        (r#"emails[value eq "BJensen@example.com"]"#.into(), true, false),
        (r#"emails co "EXAMPLE.COM""#.into(), true, false), // compared by emails.value
        (r#"emails.value ew "Example.com""#.into(), true, false),
        (r#"emails.type eq "WORK""#.into(), true, true),
        // Ignoring case, "…/profilephoto…" < "…/z"; with case, 'h' > 'H' decides first.
        (r#"photos.value gt "HTTPS://PHOTOS.EXAMPLE.COM/Z""#.into(), false, true),
        (format!(r#"{ext}:manager.value eq "26118915-6090-4610-87E4-49D8CA9F808D""#), true, false),
        (format!(r#"{ext}:manager eq "26118915-6090-4610-87E4-49D8CA9F808D""#), true, false),
    ];
    for (filter, insensitive, exact_result) in cases {
        let f = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(f.matches(&user), *insensitive, "{filter} (caseExact false)");
        assert_eq!(f.matches_with(&user, &exact), *exact_result, "{filter} (with hook)");
    }
    // The hook hears lower-case paths: no core URN, an extension's URN, value filters
    // prefixed with their attribute. It is only asked when case decides (the externalId
    // above is equal byte for byte, so it is not asked).
    let asked = asked.into_inner();
    for name in ["id", "emails.value", "emails.type", &format!("{}:manager.value", ext.to_lowercase())] {
        assert!(asked.iter().any(|a| a == name), "hook never asked about {name}: {asked:?}");
    }
}

#[test]
fn numbers_compare_numerically() {
    let r = json!({
        "age": 30, "score": 4.5, "big": 18446744073709551615u64, "neg": -3,
        "counts": [1, 5, 10], "label": "30",
    });
    let cases: &[(&str, bool)] = &[
        ("age eq 30", true),
        ("age eq 30.0", true),
        ("age eq 3e1", true),
        ("age ne 31", true),
        ("age gt 29", true),
        ("age gt 30", false),
        ("age ge 30", true),
        ("age lt 100", true), // numerically, though "100" < "30" as text
        ("age le 29.99", false),
        ("score gt 4", true),
        ("score lt 4.51", true),
        ("score eq 4.5", true),
        ("big gt 9223372036854775807", true),
        ("big eq 18446744073709551615", true),
        ("neg lt 0", true),
        ("neg gt -4", true),
        ("counts gt 9", true),
        ("counts lt 1", false),
        ("counts eq 5", true),
        // A number and a string never compare equal or ordered.
        (r#"age eq "30""#, false),
        ("label eq 30", false),
        ("label gt 1", false),
    ];
    for &(filter, want) in cases {
        assert_eq!(eval(filter, &r), want, "{filter}");
    }
}

#[test]
fn presence_and_emptiness() {
    let r = json!({
        "empty": "", "nothing": null, "none": [], "blank": {}, "zero": 0, "no": false,
        "hollow": {"a": null, "b": ""}, "list": ["", null], "filled": [{"value": ""}, {"value": "x"}],
    });
    let cases: &[(&str, bool)] = &[
        ("empty pr", false),
        ("nothing pr", false),
        ("none pr", false),
        ("blank pr", false),
        ("hollow pr", false),
        ("list pr", false),
        ("zero pr", true),
        ("no pr", true),
        ("filled pr", true),
        ("filled.value pr", true),
        ("absent pr", false),
        ("empty eq null", true),
        ("none eq null", true),
        ("zero eq null", false),
        (r#"empty eq """#, true),
        (r#"empty co """#, true),
    ];
    for &(filter, want) in cases {
        assert_eq!(eval(filter, &r), want, "{filter}");
    }
}

#[test]
fn simple_multi_valued_attributes_filter_by_value() {
    let r = json!({"schemas": ["urn:a", "urn:b"], "tags": ["Red", "green"]});
    let cases: &[(&str, bool)] = &[
        (r#"schemas eq "urn:b""#, true),
        (r#"schemas[value eq "URN:B"]"#, true),
        (r#"tags[value eq "red" or value eq "blue"]"#, true),
        (r#"tags[value sw "bl"]"#, false),
        (r#"tags.value eq "red""#, false), // simple values have no sub-attributes
    ];
    for &(filter, want) in cases {
        assert_eq!(eval(filter, &r), want, "{filter}");
    }
}

#[test]
fn unicode_strings_compare_ignoring_case() {
    let r = json!({"name": {"familyName": "Ørsted-Ünal"}, "displayName": "ÉMILE"});
    let cases: &[(&str, bool)] = &[
        (r#"name.familyName eq "ørsted-ünal""#, true),
        (r#"name.familyName sw "\u00d8RS""#, true),
        (r#"displayName co "mil""#, true),
        (r#"displayName eq "émile""#, true),
    ];
    for &(filter, want) in cases {
        assert_eq!(eval(filter, &r), want, "{filter}");
    }
}

#[test]
fn non_object_resources_match_only_absence() {
    for resource in [json!(null), json!([1, 2]), json!("userName"), json!(3)] {
        assert!(!eval("userName pr", &resource));
        assert!(!eval(r#"userName eq "x""#, &resource));
        assert!(eval("userName eq null", &resource));
    }
}

#[test]
fn duplicate_spellings_prefer_the_exact_name() {
    let r = json!({"nickName": "Babs", "nickname": "Other"});
    assert!(eval(r#"nickName eq "Babs""#, &r));
    assert!(eval(r#"nickname eq "Other""#, &r));
    assert!(!eval(r#"nickName eq "Other""#, &r));
}
