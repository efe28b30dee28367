//! The diff as a pull-request comment: a summary line, a table of changes,
//! policy findings, and the field-by-field details folded in `<details>`.
//!
//! The comment is how a change gets approved, so the change cannot write
//! any of it: every name, value, label and error it holds is a code span or
//! a fenced block (`hotswap_flags_core::escape::markdown`), our own words
//! are escaped, and no newline it holds starts a line (docs/security.md,
//! "Output").

use std::fmt::Write as _;

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::escape::markdown::{code, code_in_table, fenced};

use super::{ChangeType, EnvDiff, Kind, Presence, RepoDiff, percent, policy::PolicyHit};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the whole diff.
pub fn render(diff: &RepoDiff, hits: &[PolicyHit]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Flag changes: {} → {}\n",
        code(&diff.base),
        code(&diff.head)
    );
    let changed: Vec<&EnvDiff> = diff
        .environments
        .iter()
        .filter(|e| !e.changes.is_empty())
        .collect();
    let invalid: Vec<&EnvDiff> = diff
        .environments
        .iter()
        .filter(|e| e.is_invalid())
        .collect();
    if changed.is_empty() && invalid.is_empty() {
        out.push_str("**No flag changes.**\n");
        return out;
    }
    let _ = writeln!(out, "{}\n", summary(diff, &changed, &invalid));
    invalid_sides(&mut out, &invalid);
    if !hits.is_empty() {
        out.push_str("**Policy findings**\n\n");
        for h in hits {
            let _ = writeln!(
                out,
                "- `{}` ({}): {}",
                h.policy,
                code(&h.env),
                h.message.markdown()
            );
        }
        out.push('\n');
    }
    if !changed.is_empty() {
        change_table(&mut out, &changed);
        out.push_str("<details>\n<summary>Details</summary>\n\n");
        for e in &changed {
            env_details(&mut out, e);
        }
        out.push_str("</details>\n\n");
    }
    let _ = writeln!(out, "<sub>{}</sub>", method_note(diff).markdown());
    out
}

/// "**3 changes in 2 environments** · `production`: 12 % of users served
/// differently · **`staging` invalid**"
fn summary(diff: &RepoDiff, changed: &[&EnvDiff], invalid: &[&EnvDiff]) -> String {
    let mut parts = vec![format!(
        "**{} in {}**",
        plural(diff.change_count(), "change", "changes"),
        plural(changed.len(), "environment", "environments")
    )];
    for e in changed {
        if let Some(s) = e.affected_share {
            parts.push(format!(
                "{}: {} of users served differently",
                code(&e.env),
                percent(s)
            ));
        }
    }
    if !invalid.is_empty() {
        let names: Vec<String> = invalid.iter().map(|e| code(&e.env)).collect();
        parts.push(format!("**{} invalid**", names.join(", ")));
    }
    parts.join(" · ")
}

/// A caution block with the errors of each side that does not validate, in
/// a fence no error can close.
fn invalid_sides(out: &mut String, invalid: &[&EnvDiff]) {
    for e in invalid {
        for inv in &e.invalid {
            let _ = writeln!(
                out,
                "> [!CAUTION]\n> **{}** does not validate on the {} side ({}):\n",
                code(&e.env),
                inv.side,
                code(&inv.revision)
            );
            // An error is a line, and its hint one more.
            let lines = inv.errors.iter().flat_map(|err| err.split('\n'));
            out.push_str(&fenced("text", lines));
            out.push('\n');
        }
    }
}

/// One row per change: the first field change in words, the share moved.
fn change_table(out: &mut String, changed: &[&EnvDiff]) {
    out.push_str("| environment | | key | change | users affected |\n");
    out.push_str("| --- | --- | --- | --- | ---: |\n");
    for e in changed {
        let env = if e.protected {
            format!("{} (protected)", code_in_table(&e.env))
        } else {
            code_in_table(&e.env)
        };
        for c in &e.changes {
            let what = match c.change {
                ChangeType::Modified => match c.fields.first() {
                    Some(first) if c.fields.len() > 1 => first
                        .text
                        .clone()
                        .ours(format!(" (+{} more)", c.fields.len() - 1)),
                    Some(first) => first.text.clone(),
                    None => Words::new(),
                },
                ChangeType::Added if c.kind == Kind::Flag => {
                    Words::from("added: serves ").then(exposure(&c.exposure))
                }
                ChangeType::Added => Words::from("added"),
                ChangeType::Removed => Words::from("removed"),
            };
            let affected = c.affected_share.map_or_else(|| "–".to_owned(), percent);
            let _ = writeln!(
                out,
                "| {env} | {} | {} | {} | {affected} |",
                c.kind.as_str(),
                code_in_table(&c.key),
                what.markdown_cell()
            );
        }
    }
    out.push('\n');
}

/// An environment's changes field by field, and the definitions that moved.
fn env_details(out: &mut String, e: &EnvDiff) {
    let presence = match e.presence {
        Presence::Both => "",
        Presence::Added => ", new environment",
        Presence::Removed => ", environment removed",
    };
    let protected = if e.protected {
        "protected"
    } else {
        "not protected"
    };
    let _ = writeln!(out, "#### {} ({protected}{presence})\n", code(&e.env));
    for c in &e.changes {
        let head = match (c.change, c.affected_share) {
            (ChangeType::Modified, Some(s)) => {
                format!("modified, {} of users served differently", percent(s))
            }
            (change, _) => change.as_str().to_owned(),
        };
        let _ = writeln!(out, "- {} **{}** ({head})", c.kind.as_str(), code(&c.key));
        for f in &c.fields {
            let _ = writeln!(out, "  - {}", f.text.markdown());
        }
        match c.change {
            ChangeType::Added if c.kind == Kind::Flag => {
                let _ = writeln!(out, "  - serves {}", exposure(&c.exposure).markdown());
            }
            ChangeType::Removed if c.kind == Kind::Flag => {
                let _ = writeln!(
                    out,
                    "  - served {}; clients now get FLAG\\_NOT\\_FOUND",
                    exposure(&c.exposure).markdown()
                );
            }
            _ => {}
        }
        if !c.used_by.is_empty() {
            let users: Vec<String> = c.used_by.iter().map(|k| code(k)).collect();
            let _ = writeln!(out, "  - used by {}", users.join(", "));
        }
    }
    for m in &e.moved {
        let _ = writeln!(
            out,
            "- {} {} moved from {} to {}",
            m.kind.as_str(),
            code(&m.key),
            code(&m.from),
            code(&m.to)
        );
    }
    out.push('\n');
}

/// How the shares were computed, in one sentence.
pub fn method_note(diff: &RepoDiff) -> Words {
    let s = Words::from("Users affected: ")
        .then(diff.population.clone())
        .ours(" evaluated on both sides, rollouts where they start.");
    if diff.synthetic_population {
        s.ours(" Rules on other attributes match no one here; pass ")
            .quoted("--contexts")
            .ours(" for a realistic mix.")
    } else {
        s
    }
}

/// `on 10 %, off 90 %`.
pub fn exposure(v: &[super::VariantShare]) -> Words {
    if v.is_empty() {
        return Words::from("nothing");
    }
    Words::join(
        v.iter().filter(|s| s.users > 0).map(|s| {
            Words::new()
                .bare(&s.variant)
                .ours(format!(" {}", percent(s.share)))
        }),
        ", ",
    )
}
