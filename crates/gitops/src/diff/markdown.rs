//! The diff as a pull-request comment: a summary line, a table of changes,
//! policy findings, and the field-by-field details folded in `<details>`.

use std::fmt::Write as _;

use super::{ChangeType, EnvDiff, Kind, Presence, RepoDiff, percent, policy::PolicyHit};

/// Escapes text for a markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the whole diff.
pub fn render(diff: &RepoDiff, hits: &[PolicyHit]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Flag changes: {} → {}\n", diff.base, diff.head);
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
            let _ = writeln!(out, "- `{}` ({}): {}", h.policy, h.env, h.message);
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
    let _ = writeln!(out, "<sub>{}</sub>", method_note(diff));
    out
}

/// "**3 changes in 2 environments** · production: 12 % of users served
/// differently · **staging invalid**"
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
                e.env,
                percent(s)
            ));
        }
    }
    if !invalid.is_empty() {
        let names: Vec<&str> = invalid.iter().map(|e| e.env.as_str()).collect();
        parts.push(format!("**{} invalid**", names.join(", ")));
    }
    parts.join(" · ")
}

/// A caution block with the errors of each side that does not validate.
fn invalid_sides(out: &mut String, invalid: &[&EnvDiff]) {
    for e in invalid {
        for inv in &e.invalid {
            let _ = writeln!(
                out,
                "> [!CAUTION]\n> **{}** does not validate on the {} side ({}):\n",
                e.env, inv.side, inv.revision
            );
            out.push_str("```text\n");
            for err in &inv.errors {
                let _ = writeln!(out, "{err}");
            }
            out.push_str("```\n\n");
        }
    }
}

/// One row per change: the first field change in words, the share moved.
fn change_table(out: &mut String, changed: &[&EnvDiff]) {
    out.push_str("| environment | | key | change | users affected |\n");
    out.push_str("| --- | --- | --- | --- | ---: |\n");
    for e in changed {
        let env = if e.protected {
            format!("{} (protected)", e.env)
        } else {
            e.env.clone()
        };
        for c in &e.changes {
            let what = match c.change {
                ChangeType::Modified => {
                    let first = c.fields.first().map_or("", |f| f.text.as_str());
                    if c.fields.len() > 1 {
                        format!("{first} (+{} more)", c.fields.len() - 1)
                    } else {
                        first.to_owned()
                    }
                }
                ChangeType::Added if c.kind == Kind::Flag => {
                    format!("added: serves {}", exposure(&c.exposure))
                }
                ChangeType::Added => "added".to_owned(),
                ChangeType::Removed => "removed".to_owned(),
            };
            let affected = c.affected_share.map_or_else(|| "–".to_owned(), percent);
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {affected} |",
                cell(&env),
                c.kind.as_str(),
                cell(&c.key),
                cell(&what)
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
    let _ = writeln!(out, "#### {} ({protected}{presence})\n", e.env);
    for c in &e.changes {
        let head = match (c.change, c.affected_share) {
            (ChangeType::Modified, Some(s)) => {
                format!("modified, {} of users served differently", percent(s))
            }
            (change, _) => change.as_str().to_owned(),
        };
        let _ = writeln!(out, "- {} **`{}`** ({head})", c.kind.as_str(), c.key);
        for f in &c.fields {
            let _ = writeln!(out, "  - {}", f.text);
        }
        match c.change {
            ChangeType::Added if c.kind == Kind::Flag => {
                let _ = writeln!(out, "  - serves {}", exposure(&c.exposure));
            }
            ChangeType::Removed if c.kind == Kind::Flag => {
                let _ = writeln!(
                    out,
                    "  - served {}; clients now get FLAG_NOT_FOUND",
                    exposure(&c.exposure)
                );
            }
            _ => {}
        }
        if !c.used_by.is_empty() {
            let users: Vec<String> = c.used_by.iter().map(|k| format!("`{k}`")).collect();
            let _ = writeln!(out, "  - used by {}", users.join(", "));
        }
    }
    for m in &e.moved {
        let _ = writeln!(
            out,
            "- {} `{}` moved from `{}` to `{}`",
            m.kind.as_str(),
            m.key,
            m.from,
            m.to
        );
    }
    out.push('\n');
}

/// How the shares were computed, in one sentence.
pub fn method_note(diff: &RepoDiff) -> String {
    let mut s = format!(
        "Users affected: {} evaluated on both sides, rollouts where they start.",
        diff.population
    );
    if diff.synthetic_population {
        s.push_str(
            " Rules on other attributes match no one here; pass `--contexts` for a realistic mix.",
        );
    }
    s
}

/// `on 10 %, off 90 %`.
pub fn exposure(v: &[super::VariantShare]) -> String {
    if v.is_empty() {
        return "nothing".to_owned();
    }
    v.iter()
        .filter(|s| s.users > 0)
        .map(|s| format!("{} {}", s.variant, percent(s.share)))
        .collect::<Vec<_>>()
        .join(", ")
}
