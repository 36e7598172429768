//! The filter parser: the RFC 7644 §3.4.2.2 examples, the syntax tree it builds, and the
//! errors it reports for bad filters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use annexa_scim::{parse_filter, parse_path, AttrPath, CompValue, CompareOp, Filter, MAX_DEPTH, MAX_FILTER_LEN};
use serde_json::json;

/// Every example filter of RFC 7644 §3.4.2.2, as printed there.
pub const RFC_EXAMPLES: [&str; 17] = [
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    r#"title pr"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType eq "Employee" and (emails.type eq "work")"#,
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
];

fn path(name: &str) -> AttrPath {
    AttrPath { schema: None, name: name.into(), sub_attr: None }
}

fn sub(name: &str, sub: &str) -> AttrPath {
    AttrPath { schema: None, name: name.into(), sub_attr: Some(sub.into()) }
}

fn s(v: &str) -> CompValue {
    CompValue::String(v.into())
}

fn cmp(p: AttrPath, op: CompareOp, v: CompValue) -> Filter {
    Filter::Compare(p, op, v)
}

#[test]
fn every_rfc_example_parses_and_prints_back() {
    for text in RFC_EXAMPLES {
        let filter = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let printed = filter.to_string();
        assert_eq!(parse_filter(&printed).as_ref(), Ok(&filter), "{text} printed as {printed}");
    }
}

#[test]
fn rfc_examples_build_the_expected_trees() {
    let work_example_com =
        || Filter::And(vec![cmp(path("type"), CompareOp::Eq, s("work")), cmp(path("value"), CompareOp::Co, s("@example.com"))]);
    let cases: Vec<(&str, Filter)> = vec![
        (RFC_EXAMPLES[0], cmp(path("userName"), CompareOp::Eq, s("bjensen"))),
        (RFC_EXAMPLES[1], cmp(sub("name", "familyName"), CompareOp::Co, s("O'Malley"))),
        (
            RFC_EXAMPLES[3],
            cmp(
                AttrPath { schema: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()), name: "userName".into(), sub_attr: None },
                CompareOp::Sw,
                s("J"),
            ),
        ),
        (RFC_EXAMPLES[4], Filter::Present(path("title"))),
        (RFC_EXAMPLES[5], cmp(sub("meta", "lastModified"), CompareOp::Gt, s("2011-05-13T04:42:34Z"))),
        (RFC_EXAMPLES[10], Filter::Or(vec![Filter::Present(path("title")), cmp(path("userType"), CompareOp::Eq, s("Intern"))])),
        (
            RFC_EXAMPLES[13],
            Filter::And(vec![
                cmp(path("userType"), CompareOp::Ne, s("Employee")),
                Filter::Not(Box::new(Filter::Or(vec![
                    cmp(path("emails"), CompareOp::Co, s("example.com")),
                    cmp(sub("emails", "value"), CompareOp::Co, s("example.org")),
                ]))),
            ]),
        ),
        (
            RFC_EXAMPLES[14],
            Filter::And(vec![cmp(path("userType"), CompareOp::Eq, s("Employee")), cmp(sub("emails", "type"), CompareOp::Eq, s("work"))]),
        ),
        (
            RFC_EXAMPLES[16],
            Filter::Or(vec![
                Filter::ValuePath(path("emails"), Box::new(work_example_com())),
                Filter::ValuePath(
                    path("ims"),
                    Box::new(Filter::And(vec![
                        cmp(path("type"), CompareOp::Eq, s("xmpp")),
                        cmp(path("value"), CompareOp::Co, s("@foo.com")),
                    ])),
                ),
            ]),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_filter(text).as_ref(), Ok(&want), "{text}");
    }
}

#[test]
fn precedence_not_then_and_then_or() {
    let a = || Filter::Present(path("a"));
    let b = || Filter::Present(path("b"));
    let c = || Filter::Present(path("c"));
    let d = || Filter::Present(path("d"));
    let cases: Vec<(&str, Filter)> = vec![
        ("a pr or b pr and c pr", Filter::Or(vec![a(), Filter::And(vec![b(), c()])])),
        ("a pr and b pr or c pr", Filter::Or(vec![Filter::And(vec![a(), b()]), c()])),
        ("a pr and b pr and c pr or d pr", Filter::Or(vec![Filter::And(vec![a(), b(), c()]), d()])),
        ("(a pr or b pr) and c pr", Filter::And(vec![Filter::Or(vec![a(), b()]), c()])),
        ("a pr and (b pr and c pr)", Filter::And(vec![a(), Filter::And(vec![b(), c()])])),
        ("not (a pr) and b pr", Filter::And(vec![Filter::Not(Box::new(a())), b()])),
        ("((a pr))", a()),
        ("emails[a pr or b pr and c pr]", Filter::ValuePath(path("emails"), Box::new(Filter::Or(vec![a(), Filter::And(vec![b(), c()])])))),
    ];
    for (text, want) in cases {
        let got = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
        assert_eq!(parse_filter(&got.to_string()), Ok(got), "{text} round trip");
    }
}

#[test]
fn names_operators_and_keywords_ignore_case() {
    // RFC 7644 §3.4.2.2: `userName Eq "john"` and `Username eq "john"` are the same filter.
    let cases = [
        (r#"userName Eq "john""#, cmp(path("userName"), CompareOp::Eq, s("john"))),
        (r#"Username eq "john""#, cmp(path("Username"), CompareOp::Eq, s("john"))),
        (
            "title PR AND active EQ TRUE",
            Filter::And(vec![Filter::Present(path("title")), cmp(path("active"), CompareOp::Eq, CompValue::Bool(true))]),
        ),
        ("NOT (x Pr) Or y pR", Filter::Or(vec![Filter::Not(Box::new(Filter::Present(path("x")))), Filter::Present(path("y"))])),
        ("x eq NULL", cmp(path("x"), CompareOp::Eq, CompValue::Null)),
        ("x ne False", cmp(path("x"), CompareOp::Ne, CompValue::Bool(false))),
        (
            r#"URN:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#,
            cmp(
                AttrPath { schema: Some("URN:ietf:params:scim:schemas:core:2.0:User".into()), name: "userName".into(), sub_attr: None },
                CompareOp::Eq,
                s("x"),
            ),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_filter(text).as_ref(), Ok(&want), "{text}");
    }
}

#[test]
fn every_operator() {
    for (word, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("co", CompareOp::Co),
        ("sw", CompareOp::Sw),
        ("ew", CompareOp::Ew),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        let text = format!(r#"x {word} "v""#);
        assert_eq!(parse_filter(&text), Ok(cmp(path("x"), op, s("v"))), "{text}");
        assert_eq!(op.as_str(), word);
    }
}

#[test]
fn attribute_paths() {
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let cases = [
        ("userName pr", AttrPath { schema: None, name: "userName".into(), sub_attr: None }),
        ("name.familyName pr", sub("name", "familyName")),
        ("members.$ref pr", sub("members", "$ref")),
        ("x-y_z9 pr", path("x-y_z9")),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr",
            AttrPath { schema: Some(enterprise.into()), name: "employeeNumber".into(), sub_attr: None },
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName pr",
            AttrPath { schema: Some(enterprise.into()), name: "manager".into(), sub_attr: Some("displayName".into()) },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_filter(text), Ok(Filter::Present(want)), "{text}");
    }
    // An attribute may be called "not" (or "and", "or"): only `not (` is the operator.
    assert_eq!(parse_filter(r#"not eq "x""#), Ok(cmp(path("not"), CompareOp::Eq, s("x"))));
    assert_eq!(parse_filter("or pr and and pr"), Ok(Filter::And(vec![Filter::Present(path("or")), Filter::Present(path("and"))])));
}

#[test]
fn comparison_values() {
    let cases = [
        (r#""plain""#, s("plain")),
        (r#""""#, s("")),
        (r#""q\"b\\s\/n\nt\tr\rb\bf\f""#, s("q\"b\\s/n\nt\tr\rb\u{8}f\u{c}")),
        (r#""\u00e9\u00C9 é 😀 \ud83d\ude00""#, s("éÉ é 😀 😀")),
        (r#""O'Malley""#, s("O'Malley")),
        ("42", CompValue::Number(42.into())),
        ("-7", CompValue::Number((-7).into())),
        ("0", CompValue::Number(0.into())),
        ("18446744073709551615", CompValue::Number(u64::MAX.into())),
        ("4.5", CompValue::Number(serde_json::Number::from_f64(4.5).unwrap_or_else(|| unreachable!()))),
        ("-1.5e3", CompValue::Number(serde_json::Number::from_f64(-1500.0).unwrap_or_else(|| unreachable!()))),
        ("true", CompValue::Bool(true)),
        ("false", CompValue::Bool(false)),
        ("null", CompValue::Null),
    ];
    for (literal, want) in cases {
        let text = format!("x eq {literal}");
        assert_eq!(parse_filter(&text), Ok(cmp(path("x"), CompareOp::Eq, want)), "{text}");
    }
}

#[test]
fn whitespace_is_lenient_where_it_cannot_confuse() {
    let want = || cmp(path("userName"), CompareOp::Eq, s("x"));
    for text in [
        r#"userName  eq   "x""#,
        "userName\teq\t\"x\"",
        r#"  userName eq "x"  "#,
        r#"userName eq"x""#, // as in RFC 7644 §3.5.2.2's `members[value eq"2819c223…"]`
        r#"( userName eq "x" )"#,
        r#"(userName eq "x")"#,
    ] {
        assert_eq!(parse_filter(text), Ok(want()), "{text:?}");
    }
    let not = Filter::Not(Box::new(Filter::Present(path("title"))));
    assert_eq!(parse_filter("not(title pr)"), Ok(not.clone()));
    assert_eq!(parse_filter("not   ( title pr )"), Ok(not));
    assert_eq!(
        parse_filter(r#"emails[ type eq "work" ]"#),
        Ok(Filter::ValuePath(path("emails"), Box::new(cmp(path("type"), CompareOp::Eq, s("work")))))
    );
    assert!(parse_filter("(a pr)and(b pr)").is_ok());
}

/// (filter, byte position, words the message must contain).
const BAD_FILTERS: &[(&str, usize, &str)] = &[
    ("", 0, "empty filter"),
    ("   ", 3, "empty filter"),
    // unbalanced parentheses
    (r#"(userName eq "x""#, 16, "')' closing the '(' at byte 0, found the end of the filter"),
    (r#"((a pr) or b pr"#, 15, "closing the '(' at byte 0"),
    (r#"userName eq "x")"#, 15, "expected 'and', 'or' or the end of the filter, found ')'"),
    (")", 0, "expected an attribute path, '(' or 'not', found ')'"),
    ("(", 1, "expected an attribute path, '(' or 'not', found the end of the filter"),
    ("()", 1, "expected an attribute path, '(' or 'not', found ')'"),
    // unknown operators
    (r#"userName xx "x""#, 9, "unknown operator 'xx'"),
    (r#"userName equals "x""#, 9, "unknown operator 'equals'"),
    (r#"userName eqtrue"#, 9, "unknown operator 'eqtrue'"),
    (r#"userName "x""#, 9, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found '\"'"),
    ("userName", 8, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found the end of the filter"),
    (r#"userName=="x""#, 8, "unexpected '=' after attribute path"),
    // missing or malformed values
    ("userName eq", 11, "expected a comparison value"),
    ("userName eq ", 12, "expected a comparison value"),
    (r#"userName eq ) "#, 12, "expected a comparison value (a \"quoted string\", a number, true, false or null), found ')'"),
    ("userName eq bjensen", 12, "found 'bjensen' (strings must be quoted)"),
    ("userName eq 'bjensen'", 12, "expected a comparison value"),
    ("x eq 01", 5, "invalid number '01'"),
    ("x eq 1.", 5, "invalid number '1.'"),
    ("x eq -", 5, "invalid number '-'"),
    ("x eq 1e999", 5, "invalid number '1e999'"),
    ("x eq 5and y pr", 6, "expected whitespace, ')' or ']' after the value, found 'and'"),
    (r#"x eq "v"and y pr"#, 8, "expected whitespace, ')' or ']' after the value"),
    // strings
    (r#"userName eq "abc"#, 12, "unterminated string starting at byte 12"),
    (r#"userName eq "abc\"#, 12, "unterminated string"),
    (r#"userName eq "abc\""#, 12, "unterminated string"),
    (r#"x eq "\q""#, 6, "invalid escape"),
    (r#"x eq "\ud800""#, 6, "unpaired UTF-16 surrogate"),
    (r#"x eq "\udc00x""#, 6, "unpaired UTF-16 surrogate"),
    (r#"x eq "\ud800\u0041""#, 6, "unpaired UTF-16 surrogate"),
    (r#"x eq "\u12""#, 6, "four hexadecimal digits"),
    ("x eq \"a\tb\"", 7, "control character in string"),
    // trailing garbage
    (r#"userName eq "x" foo"#, 16, "expected 'and', 'or' or the end of the filter, found 'foo'"),
    (r#"title pr title pr"#, 9, "expected 'and', 'or' or the end of the filter, found 'title'"),
    (r#"emails[type eq "work"]]"#, 22, "found ']'"),
    // dangling logical operators
    (r#"userName eq "x" and"#, 19, "expected an attribute path, '(' or 'not', found the end of the filter"),
    (r#"title pr or "#, 12, "expected an attribute path"),
    ("not (", 5, "expected an attribute path"),
    ("not (a pr", 9, "closing the '(' at byte 4"),
    // pr with a value
    (r#"title pr "x""#, 9, "the 'pr' operator takes no comparison value"),
    ("title pr true", 9, "takes no comparison value"),
    ("title pr 3", 9, "takes no comparison value"),
    // operator and value that do not go together
    ("active gt true", 10, "'gt' cannot compare with true, false or null"),
    ("x le null", 5, "'le' cannot compare with true, false or null"),
    ("title co 5", 9, "'co' needs a string value"),
    ("title sw null", 9, "'sw' needs a string value"),
    ("title ew false", 9, "'ew' needs a string value"),
    // attribute paths
    ("1abc pr", 0, "expected an attribute path"),
    ("a.b.c pr", 3, "at most one sub-attribute"),
    ("name. pr", 5, "expected a sub-attribute name after '.'"),
    ("$ pr", 0, "expected an attribute name, found '$'"),
    (r#"urn:ietf:params:scim:schemas:core:2.0:User: eq "x""#, 43, "expected an attribute name after the schema URN"),
    (r#"urn:userName eq "x""#, 0, "expected a schema URN"),
    // value filters
    (r#"emails[type eq "work""#, 21, "expected 'and', 'or' or ']' closing the '[' at byte 6"),
    ("emails[]", 7, "empty value filter"),
    ("emails[type[value pr]]", 11, "cannot be nested"),
    (r#"emails[type eq "work"] eq "x""#, 23, "expected 'and', 'or' or the end of the filter, found 'eq'"),
];

#[test]
fn bad_filters_name_position_and_expectation() {
    for &(text, position, words) in BAD_FILTERS {
        let err = match parse_filter(text) {
            Ok(f) => panic!("{text:?} parsed as {f:?}"),
            Err(e) => e,
        };
        assert_eq!(err.scim_type(), "invalidFilter", "{text:?}");
        assert!(err.message().contains(words), "{text:?}: {:?} lacks {words:?}", err.message());
        assert_eq!(err.position(), position, "{text:?}: {err}");
        assert!(err.to_string().contains(&format!("at byte {position}")), "{err}");
    }
}

#[test]
fn depth_is_limited() {
    let nested = |n: usize, open: &str, close: &str| format!("{}a pr{}", open.repeat(n), close.repeat(n));
    assert!(parse_filter(&nested(MAX_DEPTH, "(", ")")).is_ok());
    let err = parse_filter(&nested(MAX_DEPTH + 1, "(", ")")).unwrap_err();
    assert_eq!(err.position(), MAX_DEPTH);
    assert!(err.message().contains("nested deeper than 64 levels"), "{err}");

    assert!(parse_filter(&nested(MAX_DEPTH, "not (", ")")).is_ok());
    let err = parse_filter(&nested(MAX_DEPTH + 1, "not (", ")")).unwrap_err();
    assert_eq!(err.position(), MAX_DEPTH * 5 + 4, "{err}");

    // A bomb far beyond the limit fails fast, at the first level too deep.
    let bomb = "(".repeat(MAX_FILTER_LEN);
    assert_eq!(parse_filter(&bomb).unwrap_err().position(), MAX_DEPTH);

    // The brackets of a value filter count as a level.
    let in_brackets = format!("emails[{}a pr{}]", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert!(parse_filter(&in_brackets).is_ok());
    let in_brackets = format!("emails[{}a pr{}]", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse_filter(&in_brackets).unwrap_err().position(), 7 + MAX_DEPTH - 1);
}

#[test]
fn length_is_limited_and_long_chains_stay_flat() {
    let too_long = "a".repeat(MAX_FILTER_LEN + 1);
    let err = parse_filter(&too_long).unwrap_err();
    assert_eq!(err.position(), MAX_FILTER_LEN);
    assert!(err.message().contains("longer than"), "{err}");

    // Thousands of `and`s parse into one flat node: no recursion to overflow when the filter
    // is evaluated, printed or dropped.
    let n = (MAX_FILTER_LEN - 10) / "a pr and ".len();
    let chain = vec!["a pr"; n].join(" and ");
    let Ok(Filter::And(items)) = parse_filter(&chain) else { panic!("no flat And") };
    assert_eq!(items.len(), n);
    let filter = Filter::And(items);
    assert!(filter.matches(&json!({"a": "x"})));
    assert!(!filter.matches(&json!({"b": "x"})));
    assert_eq!(filter.to_string(), chain);
}

/// A tiny deterministic generator, so the test needs no dependency and fails reproducibly.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl XorShift {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PATHS: &[&str] = &[
    "emails",
    "type",
    "value",
    "name.familyName",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "members.$ref",
    "not",
    "urn:x:y:type",
    "Primary",
];
const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ"];
const VALUES: &[&str] =
    &["\"work\"", "\"a\\\"b\"", "\"é😀\"", "42", "-1.5e3", "true", "null", "\"2011-05-13T04:42:34Z\"", "\"\\ud83d\\ude00\"", "\"\""];
const NOISE: &[&str] = &[
    " ", "(", ")", "[", "]", "\"", "\\", "\\u", ".", ":", "-", "$", "\t", "é", "😀", "and", "or", "not", "pr", "eq", "1", "e9", "urn:", "x",
];

/// A random filter from the grammar (valid unless an operator meets a value it refuses).
fn gen_filter(rng: &mut XorShift, depth: usize, in_value: bool) -> String {
    let choice = if depth > 3 { 0 } else { rng.next() % 6 };
    match choice {
        1 => format!("{} and {}", gen_filter(rng, depth + 1, in_value), gen_filter(rng, depth + 1, in_value)),
        2 => format!("{} or {}", gen_filter(rng, depth + 1, in_value), gen_filter(rng, depth + 1, in_value)),
        3 => format!("not ({})", gen_filter(rng, depth + 1, in_value)),
        4 => format!("({})", gen_filter(rng, depth + 1, in_value)),
        5 if !in_value => {
            format!("{}[{}]", rng.pick(&["emails", "addresses", "roles"]), gen_filter(rng, depth + 1, true))
        }
        _ if rng.next().is_multiple_of(4) => format!("{} pr", rng.pick(PATHS)),
        _ => format!("{} {} {}", rng.pick(PATHS), rng.pick(OPS), rng.pick(VALUES)),
    }
}

/// Deletes a character or inserts noise, at a random character boundary.
fn mutate(rng: &mut XorShift, text: &str) -> String {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let at = bounds[(rng.next() % bounds.len() as u64) as usize];
    let mut out = text.to_string();
    if rng.next().is_multiple_of(2) && at < text.len() {
        out.remove(at);
    } else {
        out.insert_str(at, rng.pick(NOISE));
    }
    out
}

#[test]
fn random_filters_and_near_misses_never_panic_and_round_trip() {
    let resource = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "emails": [{"type": "work", "value": "a@example.com", "primary": true}, "loose"],
        "name": {"familyName": "é😀", "type": null},
        "type": "work", "value": 42, "not": true, "roles": ["work", 42],
        "urn:x:y": {"type": [1, 2, {"value": "x"}]},
    });
    let mut rng = XorShift(0x5eed_0fa1_15c1);
    let (mut parsed, mut failed, mut paths) = (0, 0, 0);
    for round in 0..6_000 {
        let mut text = gen_filter(&mut rng, 0, false);
        for _ in 0..(round % 3) {
            text = mutate(&mut rng, &text);
        }
        match parse_filter(&text) {
            Ok(filter) => {
                parsed += 1;
                let printed = filter.to_string();
                assert_eq!(parse_filter(&printed).as_ref(), Ok(&filter), "{text:?} printed as {printed:?}");
                let _ = filter.matches(&resource);
                let _ = filter.matches_with(&resource, &|_| true);
            }
            Err(e) => {
                failed += 1;
                assert!(e.position() <= text.len(), "{text:?}: {e}");
                assert!(text.is_char_boundary(e.position()), "{text:?}: {e}");
            }
        }
        // The same text as a PATCH path (mostly invalid), and a path made of its parts.
        let as_path = format!("{}[{}].value", rng.pick(&["emails", "addresses"]), text);
        for candidate in [text.as_str(), as_path.as_str()] {
            match parse_path(candidate) {
                Ok(p) => {
                    paths += 1;
                    assert_eq!(parse_path(&p.to_string()).as_ref(), Ok(&p), "{candidate:?}");
                }
                Err(e) => assert!(e.position() <= candidate.len(), "{candidate:?}: {e}"),
            }
        }
    }
    // Both the success and the error paths were exercised, plenty.
    assert!(parsed > 1_000 && failed > 1_000 && paths > 500, "parsed {parsed}, failed {failed}, paths {paths}");
}
