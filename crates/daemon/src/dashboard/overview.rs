//! `/ui/`: every flag of the served ruleset in one table — type, what it
//! serves, client visibility, rollout, last check outcome, owner, expiry
//! and a stale hint — searched and filtered on the server by query
//! parameters, [`PAGE`] flags a page (docs/dashboard.md, Overview).

use std::collections::HashMap;
use std::fmt::Write as _;

use hotswap_flags_client::wire::{CheckOutcome, RolloutStatus};
use hotswap_flags_core::ruleset::{CompiledFlag, CompiledServe};
use jiff::Timestamp;
use serde::Deserialize;

use super::Viewer;
use super::html::{esc, num, page, time, url_part};
use crate::live::Served;

/// Flags a page.
pub const PAGE: usize = 100;

/// Days before its expiry a flag is hinted as due.
const DUE_DAYS: i64 = 14;

/// The overview's query parameters: `q` (a key or owner substring), `type`,
/// `phase` (a rollout phase, or `none` for flags without a rollout),
/// `client` (`yes`, `no`) and `page` (from 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Substring of the key or the owner, case-insensitive.
    pub q: String,
    /// A flag type.
    pub kind: String,
    /// A rollout phase, or `none`.
    pub phase: String,
    /// `yes` or `no`.
    pub client: String,
    /// The page, from 1.
    pub page: usize,
}

impl Filter {
    /// Reads a query string; unknown parameters are ignored.
    pub fn parse(query: Option<&str>) -> Filter {
        let mut f = Filter {
            page: 1,
            ..Filter::default()
        };
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let v = v.trim().to_owned();
            match &*k {
                "q" => f.q = v,
                "type" => f.kind = v,
                "phase" => f.phase = v,
                "client" => f.client = v,
                "page" => f.page = v.parse().unwrap_or(1).max(1),
                _ => {}
            }
        }
        f
    }

    /// The query string of this filter at `page`.
    fn at(&self, page: usize) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("type", &self.kind),
            ("phase", &self.phase),
            ("client", &self.client),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", url_part(v)));
            }
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// What the overview reads of a flag as written.
#[derive(Debug, Default, Deserialize)]
struct Written {
    owner: Option<String>,
    expires: Option<String>,
}

/// What a flag serves when no rule matches: a variant, a split, or the
/// kill switch's variant.
pub fn serves(flag: &CompiledFlag) -> String {
    if !flag.enabled {
        return format!("off: {}", flag.variant(flag.off_variant).name);
    }
    match &flag.default {
        CompiledServe::Variant(v) => flag.variant(*v).name.to_string(),
        CompiledServe::Split(split) => split
            .slots
            .iter()
            .map(|s| format!("{} {}%", flag.variant(s.variant).name, num(s.weight)))
            .collect::<Vec<_>>()
            .join(" / "),
    }
}

/// The outcome of a rollout's latest round: the worst of its checks.
pub fn last_outcome(status: &RolloutStatus) -> Option<CheckOutcome> {
    if status.checks.is_empty() {
        return None;
    }
    let has = |o| status.checks.iter().any(|c| c.outcome == o);
    Some(if has(CheckOutcome::Fail) {
        CheckOutcome::Fail
    } else if has(CheckOutcome::NoData) {
        CheckOutcome::NoData
    } else {
        CheckOutcome::Pass
    })
}

/// A hint that a flag may be due for removal: expired or expiring soon, or
/// a rollout completed at 100 %.
fn stale_hint(expires: Option<&str>, status: Option<&RolloutStatus>, now: Timestamp) -> String {
    // Timestamps format in UTC.
    let Ok(today) = now
        .strftime("%Y-%m-%d")
        .to_string()
        .parse::<jiff::civil::Date>()
    else {
        return String::new();
    };
    if let Some(date) = expires.and_then(|e| e.parse::<jiff::civil::Date>().ok()) {
        if date < today {
            return "expired".to_owned();
        }
        if let Ok(span) = today.until(date)
            && span.get_days() <= DUE_DAYS as i32
        {
            return format!("expires in {} d", span.get_days());
        }
    }
    if let Some(s) = status
        && s.phase == hotswap_flags_client::wire::Phase::Completed
        && s.percentage >= 100.0
    {
        return "rolled out: remove?".to_owned();
    }
    String::new()
}

/// The header line: environment, ruleset version and when it was loaded.
pub fn header(served: &Served) -> String {
    let meta = served.ruleset.meta();
    format!(
        "<span>env <strong>{}</strong></span> <span>version <code>{}</code></span> <span>loaded {}</span>",
        esc(&meta.env),
        esc(served.ruleset.version()),
        esc(&time(served.loaded_at)),
    )
}

/// The overview page.
pub fn render(
    served: &Served,
    statuses: &HashMap<String, RolloutStatus>,
    filter: &Filter,
    viewer: &Viewer,
    now: Timestamp,
) -> String {
    let q = filter.q.to_lowercase();
    let mut matched: Vec<(&CompiledFlag, Written)> = Vec::new();
    for flag in served.ruleset.flags() {
        if !filter.kind.is_empty() && flag.kind.as_str() != filter.kind {
            continue;
        }
        match filter.client.as_str() {
            "yes" if !flag.client_side => continue,
            "no" if flag.client_side => continue,
            _ => {}
        }
        let status = statuses.get(&*flag.key);
        match filter.phase.as_str() {
            "" => {}
            "none" if flag.rollout.is_some() => continue,
            "none" => {}
            p if status.is_none_or(|s| s.phase.as_str() != p) => continue,
            _ => {}
        }
        let key_matches = q.is_empty() || flag.key.to_lowercase().contains(&q);
        let written: Written = serde_json::from_str(&flag.definition).unwrap_or_default();
        if !key_matches
            && !written
                .owner
                .as_deref()
                .is_some_and(|o| o.to_lowercase().contains(&q))
        {
            continue;
        }
        matched.push((flag, written));
    }
    matched.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    let total = matched.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page_no = filter.page.min(pages);
    let mut body = String::with_capacity(256 * PAGE.min(total) + 4096);
    body.push_str("<h1>Flags</h1>");
    filter_form(&mut body, filter);
    let _ = write!(
        body,
        "<p class=\"count\" id=\"count\">{total} flag{} of {}{}</p>",
        if total == 1 { "" } else { "s" },
        served.ruleset.flags().len(),
        if pages > 1 {
            format!(", page {page_no} of {pages}")
        } else {
            String::new()
        }
    );
    body.push_str(
        "<div class=\"table-wrap\" id=\"flags\" data-region><table class=\"flags\"><caption class=\"visually-hidden\">Flags of the served ruleset</caption><thead><tr>\
<th scope=\"col\">Flag</th><th scope=\"col\">Type</th><th scope=\"col\">Serves</th><th scope=\"col\">Client</th>\
<th scope=\"col\">Rollout</th><th scope=\"col\">Next transition</th><th scope=\"col\">Health</th>\
<th scope=\"col\">Owner</th><th scope=\"col\">Expires</th><th scope=\"col\">Hint</th></tr></thead><tbody>",
    );
    for (flag, written) in matched.iter().skip((page_no - 1) * PAGE).take(PAGE) {
        let status = statuses.get(&*flag.key);
        let key = esc(&flag.key);
        let _ = write!(
            body,
            "<tr data-flag=\"{key}\"><th scope=\"row\"><a href=\"/ui/flags/{}\">{key}</a></th><td>{}</td><td>{}</td><td>{}</td>",
            url_part(&flag.key),
            flag.kind.as_str(),
            esc(&serves(flag)),
            if flag.client_side { "yes" } else { "no" },
        );
        match status {
            Some(s) => {
                let stage = match s.stages {
                    Some(n) => format!(" stage {}/{n}", s.stage + 1),
                    None => String::new(),
                };
                let _ = write!(
                    body,
                    "<td class=\"rollout\" data-phase=\"{phase}\"><span class=\"phase {phase}\">{phase}</span>{} {}%</td><td>{}</td>",
                    esc(&stage),
                    num(s.percentage),
                    s.stage_ends_at.map(time).unwrap_or_default(),
                    phase = s.phase.as_str(),
                );
                let outcome = last_outcome(s);
                let _ = write!(
                    body,
                    "<td>{}</td>",
                    outcome
                        .map(|o| format!("<span class=\"outcome {0}\">{0}</span>", o.as_str()))
                        .unwrap_or_default()
                );
            }
            None => body.push_str("<td>—</td><td></td><td></td>"),
        }
        let _ = write!(
            body,
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(written.owner.as_deref().unwrap_or("")),
            esc(written.expires.as_deref().unwrap_or("")),
            esc(&stale_hint(written.expires.as_deref(), status, now)),
        );
    }
    body.push_str("</tbody></table></div>");
    if pages > 1 {
        body.push_str("<nav class=\"pages\" aria-label=\"Pages\">");
        if page_no > 1 {
            let _ = write!(
                body,
                "<a rel=\"prev\" href=\"/ui/{}\">Previous</a>",
                esc(&filter.at(page_no - 1))
            );
        }
        let _ = write!(body, "<span>page {page_no} of {pages}</span>");
        if page_no < pages {
            let _ = write!(
                body,
                "<a rel=\"next\" href=\"/ui/{}\">Next</a>",
                esc(&filter.at(page_no + 1))
            );
        }
        body.push_str("</nav>");
    }
    page("Flags", &header(served), viewer, &body)
}

fn filter_form(out: &mut String, f: &Filter) {
    let option = |value: &str, label: &str, current: &str| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if value == current { " selected" } else { "" },
            esc(label)
        )
    };
    let _ = write!(
        out,
        "<form class=\"filter\" method=\"get\" action=\"/ui/\" role=\"search\">\
<label>Search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"key or owner\"></label>\
<label>Type <select name=\"type\">{}</select></label>\
<label>Rollout <select name=\"phase\">{}</select></label>\
<label>Client-visible <select name=\"client\">{}</select></label>\
<button type=\"submit\">Filter</button></form>",
        esc(&f.q),
        ["", "boolean", "string", "integer", "float", "object"]
            .iter()
            .map(|t| option(t, if t.is_empty() { "any" } else { t }, &f.kind))
            .collect::<String>(),
        [
            ("", "any"),
            ("none", "no rollout"),
            ("progressing", "progressing"),
            ("paused", "paused"),
            ("completed", "completed"),
            ("rolled_back", "rolled back"),
        ]
        .iter()
        .map(|(v, l)| option(v, l, &f.phase))
        .collect::<String>(),
        [("", "any"), ("yes", "yes"), ("no", "no")]
            .iter()
            .map(|(v, l)| option(v, l, &f.client))
            .collect::<String>(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_and_write_back() {
        let f = Filter::parse(Some("q=check%20out&type=boolean&page=3&x=1"));
        assert_eq!(f.q, "check out");
        assert_eq!(f.kind, "boolean");
        assert_eq!(f.page, 3);
        assert_eq!(f.at(4), "?q=check+out&type=boolean&page=4");
        assert_eq!(Filter::parse(Some("page=0")).page, 1);
        assert_eq!(Filter::parse(None).at(1), "");
    }

    #[test]
    fn stale_hints() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(stale_hint(Some("2026-05-31"), None, now), "expired");
        assert_eq!(stale_hint(Some("2026-06-11"), None, now), "expires in 10 d");
        assert_eq!(stale_hint(Some("2027-01-01"), None, now), "");
    }
}
