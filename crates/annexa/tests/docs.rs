//! The user guide's examples, run: `docs/` must describe what `annexa` really does.
//!
//! * Every example file of the format pages (a fenced block whose info string names it,
//!   ```` ```csv file=hr.csv ````) is written to one directory, with the example
//!   `annexa.toml` of the configuration page, and every `annexa import` line of those pages'
//!   ```` ```sh ```` blocks runs there against one SQLite database; then the whole
//!   organisation is audited as of [`AS_OF`].
//! * Every audit summary (```` ```text audit-output ````) and every example finding
//!   (```` ```text finding ````, the output of `annexa findings show ID`) shown anywhere in
//!   the guide is compared with what the binary prints for that database.
//! * Every built-in check has its page, naming its controls, its default severity and each
//!   parameter of its `[checks.<id>]` table with the default value.
//! * Every TOML snippet of the configuration and check pages is a valid `annexa.toml`.
//! * The index links every page, and every relative link resolves, anchors included.
//!
//! When a message or an example file changes, the failure prints what `annexa` prints now:
//! that is the text to put in the guide. The example database stays in
//! `$CARGO_TARGET_TMPDIR/docs-examples` for a look after a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops loudly

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const ANNEXA: &str = env!("CARGO_BIN_EXE_annexa");

/// The instant the example organisation is audited as of (the guide says so too).
const AS_OF: &str = "2026-04-01";

/// The format pages, in the order their examples are imported: people first, so that the
/// others can be linked to them.
const FORMAT_PAGES: &[&str] = &["hr", "accounts", "assignments", "ldif", "aws-credential-report", "badges"];

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ------------------------------------------------------------------ fenced blocks

/// A fenced code block of a Markdown page.
#[derive(Debug)]
struct Block {
    /// The first word of the info string (`csv`, `sh`, `text`), or "".
    lang: String,
    /// The other words of the info string (`file=hr.csv`, `finding`).
    attrs: Vec<String>,
    /// The lines between the fences, each ending with `\n`.
    content: String,
    /// The line of the opening fence (1-based), for messages.
    line: usize,
}

impl Block {
    /// The value of a `key=value` attribute.
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }

    fn has(&self, flag: &str) -> bool {
        self.attrs.iter().any(|a| a == flag)
    }
}

/// The fenced (```` ``` ````) blocks of `markdown`, in order. A closing fence is a bare
/// ```` ``` ````; a fence with an info string inside a block (a block nested by mistake)
/// is refused.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match open.take() {
            None if fence => {
                let mut words = line.trim_start().trim_start_matches('`').split_whitespace().map(String::from);
                let lang = words.next().unwrap_or_default();
                open = Some(Block { lang, attrs: words.collect(), content: String::new(), line: i + 1 });
            }
            None => {}
            Some(block) if fence => {
                assert!(
                    line.trim().chars().all(|c| c == '`'),
                    "line {}: `{line}` inside the block opened on line {}: blocks cannot nest",
                    i + 1,
                    block.line
                );
                out.push(block);
            }
            Some(mut block) => {
                block.content.push_str(line);
                block.content.push('\n');
                open = Some(block);
            }
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    out
}

/// The `annexa import ...` command lines of a page's `sh` blocks, as arguments after
/// `annexa` (a trailing `# comment` dropped).
fn import_commands(markdown: &str) -> Vec<Vec<String>> {
    blocks(markdown)
        .iter()
        .filter(|b| b.lang == "sh")
        .flat_map(|b| b.content.lines().map(str::trim).collect::<Vec<_>>())
        .filter(|line| line.starts_with("annexa import "))
        .map(|line| line.split_whitespace().skip(1).take_while(|w| !w.starts_with('#')).map(String::from).collect())
        .collect()
}

// ------------------------------------------------------------- the example organisation

/// A directory holding the example files and the database they were imported into.
struct ExampleOrg {
    dir: PathBuf,
    /// What `annexa audit --as-of AS_OF` printed (run #1).
    audit_output: String,
}

impl ExampleOrg {
    /// Runs `annexa --db <the example database> ARGS` in the example directory.
    fn annexa(&self, args: &[String]) -> Output {
        annexa_in(&self.dir, args)
    }
}

fn annexa_in(dir: &Path, args: &[String]) -> Output {
    Command::new(ANNEXA)
        .arg("--db")
        .arg(format!("sqlite://{}", dir.join("docs.db").display()))
        .args(args)
        .current_dir(dir)
        .env_remove("ANNEXA_DB")
        .env_remove("ANNEXA_CONFIG")
        .output()
        .expect("run annexa")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes a page's example files into `dir`; returns their names.
fn write_example_files(page: &Path, dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for block in blocks(&read(page)) {
        if let Some(name) = block.attr("file") {
            assert!(
                !name.contains('/') && !name.contains(".."),
                "{}: file={name} must be a plain name",
                page.display()
            );
            std::fs::write(dir.join(name), &block.content).expect("write example file");
            names.push(name.to_string());
        }
    }
    names
}

/// The example organisation, imported and audited once for all tests.
fn example_org() -> &'static ExampleOrg {
    static ORG: OnceLock<ExampleOrg> = OnceLock::new();
    ORG.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs-examples");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the example directory");

        let config = write_example_files(&docs_dir().join("configuration.md"), &dir);
        assert_eq!(config, ["annexa.toml"], "configuration.md has one complete example, annexa.toml");

        for name in FORMAT_PAGES {
            let page = docs_dir().join("formats").join(format!("{name}.md"));
            let files = write_example_files(&page, &dir);
            assert!(!files.is_empty(), "{}: no example file (```csv file=NAME)", page.display());
            let commands = import_commands(&read(&page));
            assert!(!commands.is_empty(), "{}: no `annexa import` command in a ```sh block", page.display());
            for args in commands {
                assert_eq!(
                    args.get(1).map(String::as_str),
                    Some(*name),
                    "{}: imports another kind: {args:?}",
                    page.display()
                );
                let out = annexa_in(&dir, &args);
                assert!(
                    out.status.success(),
                    "{}: `annexa {}` failed ({:?}):\n{}",
                    page.display(),
                    args.join(" "),
                    out.status.code(),
                    text(&out.stderr)
                );
            }
        }

        let out = annexa_in(&dir, &["audit".into(), "--as-of".into(), AS_OF.into()]);
        assert!(out.status.success(), "annexa audit failed ({:?}):\n{}", out.status.code(), text(&out.stderr));
        ExampleOrg { dir, audit_output: text(&out.stdout) }
    })
}

// ------------------------------------------------------------------------- pages

/// Every Markdown page under `docs/`, as a path relative to it.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read docs dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path.strip_prefix(base).expect("under docs").to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&docs_dir(), &docs_dir(), &mut out);
    out.sort();
    out
}

/// The targets of the inline links `[text](target)` of a page, outside code blocks and
/// code spans.
fn links(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        // Drop code spans, which may hold `[x](y)`-looking text.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// The file a relative link points at (its `#anchor` dropped), or `None` for external
/// links and in-page anchors.
fn link_target(page: &Path, link: &str) -> Option<PathBuf> {
    if link.contains("://") || link.starts_with("mailto:") || link.starts_with('#') {
        return None;
    }
    let file = link.split('#').next().unwrap_or(link);
    Some(docs_dir().join(page).parent().expect("page dir").join(file))
}

/// The anchors of a page's headings, as GitHub and mdBook make them: lower-cased,
/// punctuation dropped, spaces turned into hyphens.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_block = false;
    let mut out = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if !in_block && line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            let slug: String = title
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect();
            out.insert(slug);
        }
    }
    out
}

// ------------------------------------------------------------------------- tests

#[test]
fn format_examples_import_and_audit() {
    let org = example_org();
    let imports = org.annexa(&["--format".into(), "csv".into(), "imports".into()]);
    assert!(imports.status.success(), "{}", text(&imports.stderr));
    let listed = text(&imports.stdout);
    for kind in FORMAT_PAGES {
        assert!(listed.contains(&format!(",{kind},")), "no current {kind} import:\n{listed}");
    }
}

/// The identity providers' pages. Their examples are Example Ltd's too, but each is
/// imported into a database of its own, with the HR feed, and audited there: adding their
/// accounts to the example organisation would change the findings the whole guide shows.
const IDP_FORMAT_PAGES: &[&str] = &["okta", "entra", "google-workspace", "github"];

#[test]
fn identity_provider_examples_import_and_audit() {
    for name in IDP_FORMAT_PAGES {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("docs-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the example directory");
        write_example_files(&docs_dir().join("formats/hr.md"), &dir);
        let out = annexa_in(&dir, &["import".into(), "hr".into(), "hr.csv".into()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let page = docs_dir().join("formats").join(format!("{name}.md"));
        assert!(!write_example_files(&page, &dir).is_empty(), "{}: no example file (```json file=NAME)", page.display());
        let commands = import_commands(&read(&page));
        assert!(!commands.is_empty(), "{}: no `annexa import` command in a ```sh block", page.display());
        for args in commands {
            // Lines naming files or directories the example does not have illustrate usage.
            if args.iter().skip(2).any(|a| !a.starts_with("--") && !dir.join(a).is_file()) {
                continue;
            }
            assert_eq!(args.get(1).map(String::as_str), Some(*name), "{}: imports another kind: {args:?}", page.display());
            let out = annexa_in(&dir, &args);
            assert!(out.status.success(), "{}: `annexa {}` failed:\n{}", page.display(), args.join(" "), text(&out.stderr));
        }
        let out = annexa_in(&dir, &["--format".into(), "csv".into(), "imports".into()]);
        assert!(text(&out.stdout).contains(&format!(",{name},")), "{}: nothing imported:\n{}", page.display(), text(&out.stdout));
        let out = annexa_in(&dir, &["audit".into(), "--as-of".into(), AS_OF.into()]);
        assert!(out.status.success(), "{}: annexa audit failed:\n{}", page.display(), text(&out.stderr));
    }
}

#[test]
fn audit_outputs_shown_are_real() {
    let org = example_org();
    let mut shown = 0;
    for page in pages() {
        for block in blocks(&read(&docs_dir().join(&page))).iter().filter(|b| b.has("audit-output")) {
            shown += 1;
            assert_eq!(
                block.content.trim_end(),
                org.audit_output.trim_end(),
                "{}:{}: the audit output shown differs from `annexa audit --as-of {AS_OF}` (left: shown, right: actual)",
                page.display(),
                block.line
            );
        }
    }
    assert!(shown > 0, "no ```text audit-output block in docs/");
}

#[test]
fn example_findings_shown_are_real() {
    let org = example_org();
    let mut failures = Vec::new();
    for page in pages() {
        for block in blocks(&read(&docs_dir().join(&page))).iter().filter(|b| b.has("finding")) {
            let id = block.content.split_whitespace().next().unwrap_or_default().to_string();
            let out = org.annexa(&["findings".into(), "show".into(), id.clone()]);
            let actual = text(&out.stdout);
            if !out.status.success() || block.content.trim_end() != actual.trim_end() {
                failures.push(format!(
                    "{}:{}: `annexa findings show {id}` prints:\n{actual}{}",
                    page.display(),
                    block.line,
                    text(&out.stderr)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example finding(s) differ from the real output:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_check_has_a_page_with_its_controls_and_parameter_defaults() {
    use annexa_engine::checks::CHECKS;
    let defaults = serde_json::to_value(annexa_engine::config::Config::default().checks).expect("serialise defaults");
    let mut problems = Vec::new();
    for check in CHECKS {
        let path = docs_dir().join("checks").join(format!("{}.md", check.id));
        let Ok(page) = std::fs::read_to_string(&path) else {
            problems.push(format!("{}: missing", path.display()));
            continue;
        };
        for control in check.controls {
            if !page.contains(control) {
                problems.push(format!("{}.md does not name control {control}", check.id));
            }
        }
        if !page.contains(&format!("**{}**", check.default_severity)) {
            problems.push(format!("{}.md does not give its default severity **{}**", check.id, check.default_severity));
        }
        // The page's finding examples are of this check. A `finding-sketch` stands in where
        // the example organisation cannot produce the finding (a tampered ledger); it is
        // held to the check's id but not compared with real output.
        let examples: Vec<Block> =
            blocks(&page).into_iter().filter(|b| b.has("finding") || b.has("finding-sketch")).collect();
        if examples.is_empty() {
            problems.push(format!("{}.md has no ```text finding example", check.id));
        }
        for b in &examples {
            let first = b.content.lines().next().unwrap_or_default();
            if !first.ends_with(&format!("] {}", check.id)) {
                problems
                    .push(format!("{}.md:{}: the example is not a {} finding: {first}", check.id, b.line, check.id));
            }
        }
        let Some(params) = defaults.get(check.id).and_then(|p| p.as_object()) else {
            problems.push(format!("no [checks.{}] table in the configuration", check.id));
            continue;
        };
        for (key, value) in params.iter().filter(|(k, _)| *k != "enabled" && *k != "severity") {
            problems.extend(parameter_problem(check.id, &page, key, value));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What is wrong with how `page` documents parameter `key` whose default is `value`:
/// a scalar must share a line with `` `key` ``; every item of a list must appear in
/// backticks.
fn parameter_problem(check: &str, page: &str, key: &str, value: &serde_json::Value) -> Option<String> {
    let named = format!("`{key}`");
    match value {
        serde_json::Value::Array(items) => {
            let missing: Vec<String> = items
                .iter()
                .map(|i| format!("`{}`", i.as_str().unwrap_or_default()))
                .filter(|i| !page.contains(i.as_str()))
                .collect();
            if !page.contains(&named) || !missing.is_empty() {
                return Some(format!("{check}.md: parameter {named} or its default items {missing:?} are missing"));
            }
            None
        }
        scalar => {
            let shown = match scalar {
                serde_json::Value::Number(n) if n.is_f64() => format!("{:?}", n.as_f64().unwrap_or_default()),
                other => other.to_string(),
            };
            let documented = page.lines().any(|line| {
                line.contains(&named)
                    && line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_')).any(|w| w == shown)
            });
            (!documented).then(|| format!("{check}.md: no line names {named} with its default {shown}"))
        }
    }
}

#[test]
fn configuration_snippets_are_valid() {
    let mut checked = 0;
    for page in pages().iter().filter(|p| p.starts_with("checks") || p.as_path() == Path::new("configuration.md")) {
        for block in blocks(&read(&docs_dir().join(page))).iter().filter(|b| b.lang == "toml") {
            checked += 1;
            if let Err(e) = annexa_engine::config::Config::parse("annexa.toml", &block.content) {
                panic!("{}:{}: not a valid annexa.toml: {e}\n{}", page.display(), block.line, block.content);
            }
        }
    }
    assert!(checked >= 5, "only {checked} TOML snippets found");
}

#[test]
fn the_index_links_every_page_and_every_link_resolves() {
    let index = read(&docs_dir().join("README.md"));
    let linked: BTreeSet<PathBuf> = links(&index)
        .iter()
        .filter_map(|l| link_target(Path::new("README.md"), l))
        .map(|p| {
            p.canonicalize().unwrap_or_else(|_| panic!("docs/README.md links to {}, which does not exist", p.display()))
        })
        .collect();
    let mut problems = Vec::new();
    for page in pages() {
        let path = docs_dir().join(&page).canonicalize().expect("page exists");
        if page != Path::new("README.md") && !linked.contains(&path) {
            problems.push(format!("docs/README.md does not link {}", page.display()));
        }
        let markdown = read(&path);
        for link in links(&markdown) {
            let (target, anchor) = match link.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (link.as_str(), None),
            };
            let target_page = if target.is_empty() { Some(path.clone()) } else { link_target(&page, &link) };
            let Some(target_page) = target_page else { continue };
            if !target_page.exists() {
                problems.push(format!("{}: link ({link}) does not resolve", page.display()));
            } else if let Some(anchor) = anchor.filter(|_| target_page.extension().is_some_and(|e| e == "md")) {
                if !anchors(&read(&target_page)).contains(anchor) {
                    problems.push(format!("{}: link ({link}): no heading #{anchor} there", page.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn block_parser_reads_info_strings() {
    let md = "text\n```csv file=a.csv\nx,y\n1,2\n```\n\n```sh\nannexa import hr a.csv # the feed\nls\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].lang.as_str(), b[0].attr("file"), b[0].content.as_str()), ("csv", Some("a.csv"), "x,y\n1,2\n"));
    assert_eq!(import_commands(md), [["import", "hr", "a.csv"]]);
    assert_eq!(links("[a](b.md#c) `[x](y)` [d](https://e)"), ["b.md#c", "https://e"]);
    assert!(anchors("# Title\n## Example: Active Directory\n## `annexa audit`\n```\n# no\n```\n").into_iter().eq([
        "annexa-audit",
        "example-active-directory",
        "title"
    ]));
    let nested = std::panic::catch_unwind(|| blocks("```text\n```text finding\nF-1\n```\n```\n"));
    assert!(nested.is_err(), "a nested fence must be refused");
}
