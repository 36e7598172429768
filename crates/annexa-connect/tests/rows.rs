//! Row-level problems: what real exports and bad input showed (duplicate header columns,
//! NUL bytes, huge values quoted, `ldifde` add records, SCIM list answers, HR mappings of
//! values and dates, rehires), and lenient imports, which set a bad row aside instead of
//! failing the file, while a problem of the file as a whole still fails it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_connect::hr::Mapping;
use annexa_connect::{parse, ImportKind, ImportOptions, RefusedRow};
use annexa_core::model::PersonStatus;

const HR_HEADER: &str =
    "employee_id,email,given_name,family_name,department,title,manager_id,location,worker_type,status,start_date,end_date";

fn strict() -> ImportOptions {
    ImportOptions { system: Some("x".into()), ..Default::default() }
}

fn lenient() -> ImportOptions {
    ImportOptions { lenient: true, ..strict() }
}

fn refused(kind: ImportKind, file: &str) -> Vec<RefusedRow> {
    parse(kind, "f", file.as_bytes(), &lenient()).expect("lenient import").refused
}

fn error(kind: ImportKind, file: &[u8], options: &ImportOptions) -> String {
    parse(kind, "f", file, options).expect_err("refused").to_string()
}

#[test]
fn a_duplicate_header_column_is_refused_naming_both_positions() {
    let file = format!("{HR_HEADER},Status\nE1,a@x.io,A,B,D,T,,L,employee,active,2020-01-01,,terminated\n");
    let want = "f:1: column `status`: duplicate column in the header: fields 10 and 13 are both \"status\"";
    for options in [strict(), lenient()] {
        let err = error(ImportKind::Hr, file.as_bytes(), &options);
        assert!(err.starts_with(want), "{err}");
    }
    // A column no importer reads may repeat.
    let file = format!("{HR_HEADER},note,note\nE1,a@x.io,A,B,D,T,,L,employee,active,2020-01-01,,x,y\n");
    assert_eq!(parse(ImportKind::Hr, "f", file.as_bytes(), &strict()).expect("imports").people.len(), 1);
}

#[test]
fn nul_bytes_are_refused_in_every_importer() {
    let hr = format!("{HR_HEADER}\nE\0 1,a@x.io,A,B,D,T,,L,employee,active,2020-01-01,\n");
    assert!(
        error(ImportKind::Hr, hr.as_bytes(), &strict()).starts_with("f:2: column `employee_id`: contains a NUL byte (byte 2 of the value)")
    );
    let badges = "badge_id,employee_id,status,last_used_at,zones\nB1,E\0,active,,\n";
    assert!(error(ImportKind::Badges, badges.as_bytes(), &strict()).starts_with("f:2: column `employee_id`: contains a NUL byte"));
    let ldif = "dn: uid=a\0,dc=x\nobjectClass: account\nuid: a\n";
    assert!(error(ImportKind::Ldif, ldif.as_bytes(), &strict()).starts_with("f:1: column `dn`: the DN contains a NUL byte"));
    // Base64 hides nothing: "a\0" is YQA=.
    let ldif = "dn: uid=a,dc=x\nobjectClass: account\nuid:: YQA=\n";
    assert!(error(ImportKind::Ldif, ldif.as_bytes(), &strict()).starts_with("f:3: column `uid`: the value contains a NUL byte"));
    let scim = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"a\u0000b"}"#;
    let err = error(ImportKind::Scim, scim.as_bytes(), &strict());
    assert!(err.starts_with("f:1: column `userName`: the value contains a NUL byte"), "{err}");
}

#[test]
fn refusals_quote_a_short_excerpt_of_the_input() {
    let long = "9".repeat(60_000);
    let hr = format!("{HR_HEADER}\nE1,a@x.io,A,B,D,T,,L,employee,active,{long},\n");
    let err = error(ImportKind::Hr, hr.as_bytes(), &strict());
    assert!(err.len() < 300, "{} bytes: {}", err.len(), &err[..300]);
    assert!(err.contains(&format!("\"{}…\" is not a date", "9".repeat(80))), "{err}");
    let ldif = format!("dn: uid=a,dc=x\nobjectClass: user\nsAMAccountName: a\nuserAccountControl: {long}\n");
    let err = error(ImportKind::Ldif, ldif.as_bytes(), &strict());
    assert!(err.len() < 300 && err.contains("…\" is not an integer"), "{err}");
    let scim = format!(r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"a","active":"{long}"}}"#);
    let err = error(ImportKind::Scim, scim.as_bytes(), &strict());
    assert!(err.len() < 300 && err.contains("expected true or false, found"), "{err}");
    // In a quarantine report too.
    let rows = refused(ImportKind::Hr, &hr);
    assert_eq!(rows[0].value, format!("{}…", "9".repeat(80)));
}

#[test]
fn ldifde_add_records_are_entries_and_other_changes_are_refused() {
    let ldifde = "dn: CN=Ada,OU=Users,DC=corp\nchangetype: add\nobjectClass: user\nsAMAccountName: ada\n\n\
                  dn: CN=Admins,OU=Groups,DC=corp\nchangetype: add\nobjectClass: group\ncn: Admins\nmember: CN=Ada,OU=Users,DC=corp\n";
    let b = parse(ImportKind::Ldif, "f", ldifde.as_bytes(), &strict()).expect("ldifde export");
    assert_eq!((b.accounts.len(), b.entitlements.len(), b.assignments.len()), (1, 1, 1));
    for change in ["modify", "delete", "modrdn"] {
        let file = format!("dn: CN=Ada,DC=corp\nchangetype: {change}\n");
        for options in [strict(), lenient()] {
            let err = error(ImportKind::Ldif, file.as_bytes(), &options);
            assert!(err.contains(&format!("LDIF change records (changetype: {change}) are not supported")), "{err}");
        }
    }
    let late = "dn: CN=Ada,DC=corp\nobjectClass: user\nchangetype: add\n";
    assert!(error(ImportKind::Ldif, late.as_bytes(), &strict()).contains("`changetype: add` must directly follow the entry's dn line"));
}

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn scim_user(id: &str, login: &str) -> String {
    format!(r#"{{"schemas":["{USER}"],"id":"{id}","userName":"{login}"}}"#)
}

#[test]
fn scim_list_responses_import_like_json_lines() {
    let list = |resources: &[String]| {
        format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":{},"startIndex":1,"itemsPerPage":100,"Resources":[{}]}}"#,
            resources.len(),
            resources.join(",")
        )
    };
    let group = format!(r#"{{"schemas":["{GROUP}"],"id":"g1","displayName":"Staff","members":[{{"value":"u1"}},{{"value":"u2"}}]}}"#);
    let users = list(&[scim_user("u1", "ada"), scim_user("u2", "bob")]);
    let groups = list(std::slice::from_ref(&group));
    // One per line, concatenated on one line, with a byte-order mark.
    for file in [format!("{users}\n{groups}\n"), format!("{users}{groups}"), format!("\u{feff}{users}\n\n{groups}")] {
        let b = parse(ImportKind::Scim, "f", file.as_bytes(), &strict()).expect("list answers");
        assert_eq!((b.accounts.len(), b.entitlements.len(), b.assignments.len()), (2, 1, 2), "{file}");
    }
    // Pretty-printed, as saved from `curl | jq`: each resource keeps its own line.
    let pretty = |s: &str| serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(s).unwrap()).unwrap();
    let file = format!("{}\n{}\n", pretty(&users), pretty(&groups));
    let b = parse(ImportKind::Scim, "f", file.as_bytes(), &strict()).expect("pretty list answers");
    let line_of = |needle: &str| file.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    assert_eq!(b.accounts[1].origin.line, line_of("\"u2\"") - 1, "a resource's line is where it opens");
    assert_eq!(b.assignments.len(), 2);
    // A broken document spread over lines is the file's problem, even when lenient.
    let broken = &file[..file.len() / 2];
    assert!(error(ImportKind::Scim, broken.as_bytes(), &lenient()).contains("not a JSON document"));
    // An empty answer holds nothing.
    let empty = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#;
    assert_eq!(parse(ImportKind::Scim, "f", empty.as_bytes(), &strict()).expect("empty").accounts.len(), 0);
}

#[test]
fn a_duplicate_scim_id_is_refused_with_both_lines() {
    let file = format!("{}\n{}\n{}\n", scim_user("u1", "ada"), scim_user("u2", "bob"), scim_user("u1", "cy"));
    let err = error(ImportKind::Scim, file.as_bytes(), &strict());
    assert!(err.starts_with("f:3: column `id`: duplicate User id \"u1\": line 1 has it too"), "{err}");
}

fn hr_mapping(toml: &str) -> ImportOptions {
    ImportOptions { hr_mapping: Mapping::parse("m.toml", toml).expect("mapping"), ..strict() }
}

#[test]
fn hr_mapping_translates_words_and_dates_and_allows_absent_columns() {
    let options = hr_mapping(
        r#"
date_format = "%m/%d/%Y"
optional = ["location", "manager_id", "title"]
[columns]
employee_id = "Employee #"
status = "Employment Status"
worker_type = "Type"
start_date = "Hire Date"
end_date = "Termination Date"
[values.status]
"Active" = "active"
"Terminated" = "terminated"
[values.worker_type]
"Full-Time" = "employee"
"Contingent Worker" = "contractor"
"#,
    );
    let header = "Employee #,email,given_name,family_name,department,Type,Employment Status,Hire Date,Termination Date";
    let file = format!(
        "{header}\nE1,a@x.io,A,B,Eng,Full-Time,Active,3/4/2019,\nE2,b@x.io,B,C,Eng,contingent worker,Terminated,11/04/2019,2026-03-13\n"
    );
    let b = parse(ImportKind::Hr, "f", file.as_bytes(), &options).expect("mapped export");
    assert_eq!(b.people[0].start_date.map(|d| d.to_string()).as_deref(), Some("2019-03-04"));
    assert_eq!(b.people[1].status, PersonStatus::Terminated);
    assert_eq!(b.people[1].end_date.map(|d| d.to_string()).as_deref(), Some("2026-03-13"));
    assert_eq!(b.people[0].location, "");
    // Errors name the export's column, and say the mapping could translate the word.
    let bad = format!("{header}\nE1,a@x.io,A,B,Eng,Intern,Active,13/45/2019,\n");
    let err = error(ImportKind::Hr, bad.as_bytes(), &options);
    assert!(
        err.starts_with("f:2: column `Type`: unknown value \"Intern\": expected one of employee, contractor, vendor (or a word"),
        "{err}"
    );
    let bad = format!("{header}\nE1,a@x.io,A,B,Eng,Full-Time,Active,13/45/2019,\n");
    let err = error(ImportKind::Hr, bad.as_bytes(), &options);
    assert!(
        err.starts_with("f:2: column `Hire Date`: \"13/45/2019\" is not a date: expected %m/%d/%Y (the mapping's date_format)"),
        "{err}"
    );
}

#[test]
fn hr_mapping_mistakes_are_named() {
    for (toml, want) in [
        ("[values.department]\n\"x\" = \"y\"\n", "m.toml: [values.department]: only the words of status and worker_type can be mapped"),
        ("[values.status]\n\"Gone\" = \"departed\"\n", "m.toml: [values.status] maps \"Gone\" to \"departed\", which is not a status"),
        ("date_format = \"%m/%d\"\n", "m.toml: date_format \"%m/%d\" does not name a whole date"),
        ("date_format = \"%Q\"\n", "m.toml: date_format \"%Q\" is not a valid strftime format"),
        ("optional = [\"status\"]\n", "m.toml: optional names \"status\", whose value every person needs"),
        ("optional = [\"nickname\"]\n", "m.toml: optional names \"nickname\", which is not an HR column"),
        ("[columns]\nnickname = \"Nick\"\n", "m.toml: [columns] names \"nickname\", which is not an HR column"),
    ] {
        let err = Mapping::parse("m.toml", toml).expect_err(toml);
        assert!(err.starts_with(want), "{toml}\n  got: {err}\n want: {want}");
    }
}

#[test]
fn a_rehire_keeps_working_and_a_terminated_contradiction_is_refused() {
    let file = format!(
        "{HR_HEADER}\nE1,a@x.io,A,B,D,T,,L,employee,active,2024-05-01,2021-02-28\nE2,b@x.io,B,C,D,T,,L,employee,leave,2024-05-01,2021-02-28\n"
    );
    let b = parse(ImportKind::Hr, "f", file.as_bytes(), &strict()).expect("rehires");
    assert_eq!((b.people[0].end_date, b.people[1].end_date), (None, None));
    let warnings: Vec<String> = b.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0].starts_with("f:2: column `end_date`: end date 2021-02-28 is before start date 2024-05-01 of a person who is active"),
        "{warnings:?}"
    );
    let file = format!("{HR_HEADER}\nE1,a@x.io,A,B,D,T,,L,employee,terminated,2024-05-01,2021-02-28\n");
    let err = error(ImportKind::Hr, file.as_bytes(), &strict());
    assert!(err.starts_with("f:2: column `end_date`: end date 2021-02-28 is before start date 2024-05-01 of a terminated person"), "{err}");
}

#[test]
fn lenient_imports_set_bad_rows_aside() {
    let hr = format!(
        "{HR_HEADER}\nE1,a@x.io,A,B,D,T,,L,employee,active,2020-01-01,\nE2,b@x.io,B,C,D,T,,L,employee,retired,2020-01-01,\n\
         E3,c@x.io\nE1,d@x.io,D,E,D,T,,L,employee,active,2020-01-01,\nE4,e@x.io,E,F,D,T,,L,employee,active,2020-01-01,\n"
    );
    let b = parse(ImportKind::Hr, "f", hr.as_bytes(), &lenient()).expect("lenient");
    let kept: Vec<&str> = b.people.iter().map(|p| &*p.employee_id).collect();
    assert_eq!(kept, ["E1", "E4"]);
    assert_eq!(b.rows, 5);
    let shown: Vec<(u64, Option<&str>, &str)> = b.refused.iter().map(|r| (r.line, r.column.as_deref(), r.value.as_str())).collect();
    assert_eq!(shown, [(3, Some("status"), "retired"), (4, None, "E3,c@x.io"), (5, Some("employee_id"), "E1")]);
    assert!(b.refused[2].reason.contains("already on line 2"), "{:?}", b.refused[2]);
    // Strict, the first bad row fails the file.
    assert!(error(ImportKind::Hr, hr.as_bytes(), &strict()).starts_with("f:3: column `status`"));
    // The file's own problems are not rows'.
    for (kind, file) in [
        (ImportKind::Hr, String::new()),
        (ImportKind::Hr, "employee_id,email\nE1,a@x.io\n".to_string()),
        (ImportKind::Accounts, "system,account_id\n".to_string()),
    ] {
        assert!(parse(kind, "f", file.as_bytes(), &lenient()).is_err(), "{kind:?} {file:?}");
    }
    assert!(parse(ImportKind::Scim, "f", b"{}\n\xff", &lenient()).is_err());
    assert!(parse(ImportKind::Ldif, "f", b"\xFF\xFEd\0n\0", &lenient()).is_err());

    let accounts =
        "system,account_id,username,email,employee_id,display_name,status,type,created_at,last_login_at,mfa,password_last_set_at,owner\n\
                    x,u1,ada,,,Ada,enabled,human,,,,,\nx,u2,bob,,,Bob,maybe,human,,,,,\nx,u3,cy,,,Cy,enabled,human,,,,,\n";
    assert_eq!(refused(ImportKind::Accounts, accounts).iter().map(|r| r.line).collect::<Vec<_>>(), [3]);

    // An assignment set aside leaves no entitlement behind.
    let assignments = "system,account_id,entitlement,privileged,granted_at,granted_by,source\n\
                       x,u1,solo,true,yesterday,,\nx,u1,admins,true,,,\nx,u2,admins,false,,,\n";
    let b = parse(ImportKind::Assignments, "f", assignments.as_bytes(), &lenient()).expect("lenient");
    assert_eq!(b.entitlements.iter().map(|e| e.name.to_string()).collect::<Vec<_>>(), ["admins"]);
    assert_eq!(b.refused.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);

    let ldif = "dn: uid=a,dc=x\nobjectClass: account\nuid: a\n\n\
                dn: uid=b,dc=x\nobjectClass: account\nuid: b\ncreateTimestamp: soon\n\n\
                junk line\nmore\n\n\
                dn: uid=c,dc=x\nobjectClass: account\nuid:: /w==\n\n\
                dn: uid=a,dc=x\nobjectClass: account\nuid: a2\n\n\
                dn: cn=g,dc=x\nobjectClass: groupOfNames\ncn: g\nmember: uid=a,dc=x\nmember: uid=b,dc=x\n";
    let b = parse(ImportKind::Ldif, "f", ldif.as_bytes(), &lenient()).expect("lenient");
    assert_eq!(b.accounts.iter().map(|a| a.account_id.to_string()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(b.assignments.len(), 1);
    assert_eq!(b.refused.iter().map(|r| r.line).collect::<Vec<_>>(), [8, 10, 15, 17]);
    assert_eq!(b.rows, 6);

    let group = format!(r#"{{"schemas":["{GROUP}"],"id":"g1","displayName":"G","members":[{{"value":"u1"}},{{"value":"u3"}}]}}"#);
    let scim = format!(
        "{}\n{{broken\n{}\n{}\n{group}\n",
        scim_user("u1", "ada"),
        scim_user("u2", "ADA"),
        scim_user("u3", "cy").replace("\"cy\"", "\"cy\",\"active\":\"no\""),
    );
    let b = parse(ImportKind::Scim, "f", scim.as_bytes(), &lenient()).expect("lenient");
    assert_eq!((b.accounts.len(), b.assignments.len()), (1, 1));
    assert_eq!(b.refused.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
}
