//! Escaping and the frame every dashboard page shares.

use std::fmt::Write as _;

use super::Viewer;

/// `text` safe inside HTML text and double-quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one component of a URL (path segment or query value).
pub fn url_part(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A time as people read it on the page: `2026-11-24 21:14:03 UTC`.
pub fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A number without needless digits.
pub fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 0.01 {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.3e}")
    }
}

/// The whole page: `title`, the header (ruleset `version` and when it was
/// loaded), then `body`.
pub fn page(title: &str, header: &str, viewer: &Viewer, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 2048);
    let events = viewer
        .events
        .as_deref()
        .map(|e| format!(" data-events=\"{}\"", esc(e)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · flagd</title><link rel=\"icon\" href=\"data:,\">\
<link rel=\"stylesheet\" href=\"/ui/assets/dashboard.css\">\
<script src=\"/ui/assets/dashboard.js\" defer></script></head>\
<body{events}><a class=\"skip\" href=\"#main\">Skip to content</a>\
<header class=\"top\"><nav aria-label=\"Dashboard\"><a href=\"/ui/\">flagd dashboard</a></nav>\
<div class=\"ruleset\" id=\"ruleset\" data-region>{header}</div>",
        title = esc(title),
    );
    if let Some(subject) = &viewer.subject {
        let _ = write!(out, "<div class=\"who\">{}", esc(subject));
        if viewer.signed_in {
            out.push_str(
                "<form method=\"post\" action=\"/ui/logout\"><button type=\"submit\">Sign out</button></form>",
            );
        }
        out.push_str("</div>");
    }
    out.push_str(
        "</header><p id=\"live-status\" class=\"live\" role=\"status\" aria-live=\"polite\"></p><main id=\"main\">",
    );
    out.push_str(body);
    out.push_str("</main></body></html>\n");
    out
}

/// The login page (auth on, no session yet).
pub fn login(error: Option<&str>, next: &str) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1>{error}<form class=\"login\" method=\"post\" action=\"/ui/login\">\
<input type=\"hidden\" name=\"next\" value=\"{next}\">\
<label for=\"token\">Bearer token (viewer or admin role)</label>\
<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>\
<button type=\"submit\">Sign in</button></form>\
<p class=\"hint\">The token is exchanged for a session cookie of a few hours; it is not stored.</p>",
        next = esc(next)
    );
    page("Sign in", "", &Viewer::default(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(num(30.0), "30");
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(0.000123), "1.230e-4");
    }
}
