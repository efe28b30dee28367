//! `flagctl stale --format markdown`: a pull-request comment or a weekly
//! report — a summary line, a table per verdict (remove, review), and the
//! code references to change folded in `<details>`.
//!
//! Keys, owners, file names and lines of code are what the repository and
//! the code searched hold, so each is a code span (docs/security.md,
//! "Output"): a file name holding a backtick or a newline adds no list item
//! or link.

use std::fmt::Write as _;

use hotswap_flags_core::escape::markdown::{code, code_in_table};

use super::stale::{FlagReport, StaleReport};
use super::utc_date;
use super::verdict::Verdict;

/// Renders the whole report.
pub fn render(report: &StaleReport) -> String {
    let mut out = String::new();
    let s = report.summary;
    let _ = writeln!(
        out,
        "### Stale flags: {} to remove, {} to review, {} to keep\n",
        s.remove, s.review, s.keep
    );
    let codes = |items: &[String]| items.iter().map(|i| code(i)).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        out,
        "Environments {} · older than {}{}{}\n",
        codes(&report.envs),
        code(&report.older_than),
        if report.src.is_empty() {
            String::new()
        } else {
            format!(" · code in {}", codes(&report.src))
        },
        report
            .runtime
            .as_ref()
            .map(|r| format!(" · evaluations from {}", code(r)))
            .unwrap_or_default()
    );
    for verdict in [Verdict::Remove, Verdict::Review] {
        let flags: Vec<&FlagReport> = report
            .flags
            .iter()
            .filter(|f| f.verdict == verdict)
            .collect();
        if flags.is_empty() {
            continue;
        }
        let _ = writeln!(out, "**{}**\n", verdict.as_str());
        out.push_str("| flag | owner | kind | created | references | reasons |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for f in &flags {
            let e = &f.evidence;
            let reasons: Vec<String> = f.reasons.iter().map(|r| r.text.markdown_cell()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                code_in_table(&e.key),
                e.owner.as_deref().map_or("—".to_owned(), code_in_table),
                e.kind.map_or("—".to_owned(), |k| k.to_string()),
                e.created()
                    .map_or("—".to_owned(), |t| utc_date(t).to_string()),
                e.code_count.map_or("—".to_owned(), |n| n.to_string()),
                reasons.join("; ")
            );
        }
        out.push('\n');
    }
    let with_refs: Vec<&FlagReport> = report
        .flags
        .iter()
        .filter(|f| f.verdict == Verdict::Remove)
        .filter(|f| f.evidence.code.as_ref().is_some_and(|c| !c.is_empty()))
        .collect();
    if !with_refs.is_empty() {
        out.push_str("<details>\n<summary>Code to change before removing</summary>\n\n");
        for f in with_refs {
            let _ = writeln!(out, "- {}", code(&f.evidence.key));
            for r in f.evidence.code.iter().flatten() {
                let _ = writeln!(
                    out,
                    "  - {} {}",
                    code(&format!("{}:{}", r.file, r.line)),
                    code(&r.text)
                );
            }
            let listed = f.evidence.code.as_ref().map_or(0, Vec::len) as u64;
            let more = f.evidence.code_count.unwrap_or(0).saturating_sub(listed);
            if more > 0 {
                let _ = writeln!(out, "  - … and {more} more");
            }
        }
        out.push_str("\n</details>\n\n");
    }
    if !report.undefined.is_empty() {
        out.push_str("**Keys evaluated in code that no environment defines**\n\n");
        for u in &report.undefined {
            let hint = u
                .suggestion
                .as_ref()
                .map(|s| format!(" — did you mean {}?", code(s)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} at {}{hint}",
                code(&u.key),
                code(&format!("{}:{}", u.at.file, u.at.line))
            );
        }
        let more = report.undefined_count - report.undefined.len() as u64;
        if more > 0 {
            let _ = writeln!(out, "- … and {more} more");
        }
        out.push('\n');
    }
    if let Some(searched) = report.searched.as_ref().filter(|s| s.unreadable > 0) {
        let _ = writeln!(
            out,
            "**{} path(s) under the code searched could not be read**, so no flag is marked remove for having no reference.\n",
            searched.unreadable
        );
    }
    out
}
