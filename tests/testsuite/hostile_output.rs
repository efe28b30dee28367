//! What flag files and file names hold cannot write flagctl's output
//! (docs/security.md, "Output"), end to end: the pull-request comment a
//! change gets, the stale report and the commit `retire` makes (Markdown,
//! read back with pulldown-cmark), and what terminals are shown. The
//! property tests in `src/bin/flagctl/hostile.rs` feed hostile strings
//! through every field of every output in process; these run the binary
//! on the findings of the security probe.

use std::path::Path;

use crate::support::files::copy_dir;
use crate::support::gitops::*;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::json;

/// Headings (level and text), HTML, links and images of a Markdown
/// document, as GitHub reads it.
#[derive(Debug, Default)]
struct Markup {
    headings: Vec<(HeadingLevel, String)>,
    html: Vec<String>,
    links: Vec<String>,
    texts: Vec<String>,
}

fn markup(markdown: &str) -> Markup {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    let mut m = Markup::default();
    let mut heading: Option<(HeadingLevel, String)> = None;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => m.headings.extend(heading.take()),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                m.links.push(dest_url.to_string());
            }
            Event::Html(h) | Event::InlineHtml(h) => m.html.push(h.to_string()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = &mut heading {
                    text.push_str(&t);
                }
                m.texts.push(t.to_string());
            }
            _ => {}
        }
    }
    m
}

/// A variant name closing the code it once sat in, a condition value
/// closing `<details>` and adding a heading and a mention, an invalid key
/// quoted in a validation error breaking out of its fence: the comment
/// `flagctl diff --format markdown` writes has only its own headings and
/// HTML, and no link (the security probe's findings).
#[test]
fn a_change_cannot_forge_its_pull_request_comment() {
    let flags = |default: &str, value: &str| {
        json!({"flags": {"checkout": {
            "type": "boolean",
            "variants": {"on": true, (default): false},
            "default": default,
            "rules": [{"name": "eu", "when": {"attr": "country", "op": "in", "values": ["DE", value]}, "serve": "on"}],
        }}})
        .to_string()
    };
    let Some(tmp) = repo(&[
        ("envs/staging/flags.json", &flags("off", "FR")),
        ("envs/production/flags.json", &flags("off", "FR")),
    ]) else {
        return;
    };
    let root = tmp.path();
    let variant = "off</code>\u{1b}]8;;https://evil.example\u{7}<h1>LGTM</h1>";
    let value = "FR\n</details>\n\n## All checks passed ✅ @acme/security-team\n\n<details>";
    write(root, "envs/production/flags.json", &flags(variant, value));
    let key = "bad```\n# Approved by @acme/security-team\n```";
    let invalid =
        json!({"flags": {(key): {"type": "boolean", "variants": {"on": true}, "default": "on"}}});
    write(root, "envs/staging/flags.json", &invalid.to_string());

    let out = flagctl(root)
        .args(["diff", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let m = markup(&text);
    let headings: Vec<&str> = m.headings.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(headings.len(), 2, "{headings:?}\n{text}");
    assert!(headings[0].starts_with("Flag changes: "), "{text}");
    assert_eq!(headings[1], "production (protected)", "{text}");
    assert_eq!(
        m.html,
        [
            "<details>\n",
            "<summary>Details</summary>\n",
            "</details>\n",
            "<sub>",
            "</sub>"
        ],
        "{text}"
    );
    assert!(m.links.is_empty(), "{:?}\n{text}", m.links);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    // What the change holds is there, as code.
    assert!(
        text.contains("`off</code>\\u{1b}]8;;https://evil.example\\u{7}<h1>LGTM</h1>`"),
        "{text}"
    );
    assert!(text.contains("@acme/security-team"), "{text}");

    // The terminal's diff: no escape sequence; 100 columns but for the
    // findings, kept whole on their lines for editors.
    let out = flagctl(root).args(["diff"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.contains("\\u{1b}]8;;https://evil.example\\u{7}"),
        "{text}"
    );
    for line in text.lines().filter(|l| !l.contains(": error: ")) {
        assert!(line.chars().count() <= 100, "wider than 100:\n{text}");
    }
}

/// An invalid key holding an escape sequence, a variant holding an OSC 8
/// link: `flagctl validate` and `flagctl eval` show them escaped.
#[test]
fn validate_and_eval_write_no_escape_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "flags.toml", CONFIG);
    let variant = "on\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}\u{202e}";
    let good = json!({"flags": {"checkout": {
        "type": "boolean",
        "variants": {(variant): true, "off": false},
        "default": variant,
        "rules": [{"name": "r\u{1b}[2J", "when": {"attr": "a", "op": "eq", "value": "b"}, "serve": "off"}],
    }}});
    write(root, "envs/production/flags.json", &good.to_string());
    let bad = json!({"flags": {"x\u{1b}[2J\u{1b}[1;1H✓ 0 errors": {"type": "boolean", "variants": {"on": true}, "default": "on"}}});
    write(root, "envs/staging/flags.json", &bad.to_string());

    let out = flagctl(root).args(["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("x\\u{1b}[2J\\u{1b}[1;1H✓ 0 errors"), "{text}");

    let out = flagctl(root)
        .args(["eval", "checkout", "--env", "production"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(['\u{1b}', '\u{7}', '\u{202e}']), "{text:?}");
    assert!(
        text.contains("on\\u{1b}]8;;https://evil.example\\u{7}click"),
        "{text}"
    );
    // JSON keeps the name as it is, escaped the JSON way.
    let out = flagctl(root)
        .args([
            "eval",
            "checkout",
            "--env",
            "production",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(['\u{1b}', '\u{202e}']), "{text:?}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["variant"], variant);
}

/// A flags-example edit: every line of `flagctl diff` fits 100 columns
/// (the tables were 105 to 123 wide, the note under them 191).
#[test]
fn a_diff_of_the_example_fits_the_terminal() {
    if crate::support::require("git").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("flags-example");
    copy_dir(&example, root);
    init_repo(root);
    commit_all(root, "example");
    let path = root.join("envs/production/checkout.yaml");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replacen(
            "default: off                  # served",
            "default: on # served",
            1,
        )
        .replacen("values: [DE, FR]", "values: [DE, FR, NL, AT, BE, LU]", 1)
        .replacen(
            "{ split: { on: 50, off: 50 } }",
            "{ split: { on: 70, off: 30 } }",
            1,
        )
        .replacen("duration: 2h", "duration: 3h", 1);
    std::fs::write(&path, edited).unwrap();
    for width in [None, Some("80"), Some("160")] {
        let mut cmd = flagctl(root);
        cmd.args(["diff"]);
        if let Some(w) = width {
            cmd.env("COLUMNS", w);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let limit: usize = width.map_or(100, |w| w.parse().unwrap());
        assert!(text.contains("new-checkout-flow"), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= limit, "wider than {limit}:\n{text}");
        }
    }
}
