//! flagd as a browser sees it: the real OpenFeature web SDK with the OFREP
//! web provider (pinned by tests/browser/package-lock.json, installed by
//! `npm ci` in scripts/test.sh), in headless Chromium, on a page served from
//! another origin than flagd's. The provider polls never (`pollInterval: 0`),
//! so a change the page shows came over flagd's event stream; the page also
//! shows the message of the last change event, which is the SSE re-fetch's
//! (`Flags updated`; a poll's names its reason). See docs/flagd.md,
//! "Browsers and mobile apps".

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::browser::Browser;
use crate::support::flagd::*;

/// How soon after a change the page must show it (issue 14: "within 1 s").
const LIVE: Duration = Duration::from_secs(1);

/// The message the provider's change event carries after an SSE re-fetch.
const SSE_REFETCH: &str = "Flags updated";

/// `checkout`, a boolean flag that is off, in a file of its own.
const CHECKOUT_FILE: &str = "envs/prod/checkout.yaml";
const CHECKOUT_OFF: &str = "flags:\n  checkout:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n";

/// The value the page shows for `flag`.
fn shown<'a>(page: &'a Value, flag: &str) -> &'a Value {
    &page["flags"][flag]["value"]
}

/// The flags the provider holds, as the page lists them.
fn known(page: &Value) -> Vec<&str> {
    page["known"]
        .as_array()
        .map(|keys| keys.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn page_on_another_origin_shows_flags_and_file_edits_arrive_by_sse() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let repo = TempRepo::new(&[
        (BANNER_FILE, &string_flag("banner", "v1")),
        (CHECKOUT_FILE, CHECKOUT_OFF),
    ]);
    let site = browser.site();
    let d = Daemon::on_repo(&repo, &["--cors-origin", &site.origin]);
    d.wait_ready();
    assert_ne!(site.origin, d.base, "the page must be cross-origin");

    let mut page = browser.open(&site.page(&format!(
        "flagd={}&user=visitor-1&flags=banner:string,checkout:boolean",
        d.base
    )));
    let (first, _) = page.wait_for(DEADLINE, "banner v1", |p| shown(p, "banner") == "v1");
    assert_eq!(first["status"], "ready", "{first}");
    assert_eq!(shown(&first, "checkout"), false, "{first}");
    assert_eq!(known(&first), ["banner", "checkout"], "{first}");
    // The provider holds flagd's event stream open.
    eventually(DEADLINE, "the page's event stream", || {
        (metric(&d.get_text("/metrics"), "flagd_event_streams_open") == Some(1.0)).then_some(())
    });

    // Each edit reaches the page by the event stream, within a second of
    // the file being written.
    for value in ["v2", "v3"] {
        let written = Instant::now();
        repo.save_banner(value);
        let (now, at) = page.wait_for(LIVE, &format!("banner {value} within {LIVE:?}"), |p| {
            shown(p, "banner") == value
        });
        assert!(at - written < LIVE, "{value} took {:?}", at - written);
        assert_eq!(now["lastChange"], SSE_REFETCH, "{now}");
    }
    let sent = metric(&d.get_text("/metrics"), "flagd_change_events_sent_total");
    assert!(sent >= Some(2.0), "change events sent: {sent:?}");
}

#[test]
fn canary_stage_change_reaches_the_page_by_sse() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let repo = TempRepo::new(&[(CHECKOUT_FILE, CHECKOUT_OFF)]);
    let site = browser.site();
    let d = Daemon::on_repo(&repo, &["--cors-origin", &site.origin]);
    d.wait_ready();
    let mut page = browser.open(&site.page(&format!(
        "flagd={}&user=visitor-1&flags=checkout:boolean",
        d.base
    )));
    page.wait_for(DEADLINE, "checkout off", |p| {
        p["status"] == "ready" && shown(p, "checkout") == false
    });

    // A canary whose first stage (0.001 %: bucket 0 of 100 000) leaves the
    // visitor out, and whose second, two seconds later, lets everyone in.
    // The file is not written again: the second change is the controller's.
    repo.save(
        CHECKOUT_FILE,
        &checkout_canary(
            "      stages:\n        - { percentage: 0.001, duration: 2s }\n        - { percentage: 100 }\n",
        ),
    );
    let serves = |d: &Daemon| {
        let (_, r) = d.get("/api/v1/flags/checkout/evaluate?userId=visitor-1");
        r["value"].clone()
    };
    eventually(DEADLINE, "the canary's first stage", || {
        let (_, r) = d.get("/api/v1/rollouts/checkout");
        (r["stage"] == 0).then_some(())
    });
    assert_eq!(serves(&d), false, "visitor-1 is in the first stage");
    let served = eventually(DEADLINE, "flagd to serve the second stage", || {
        (serves(&d) == true).then(Instant::now)
    });
    assert_eq!(d.get("/api/v1/rollouts/checkout").1["stage"], 1);
    let (now, at) = page.wait_until(served + LIVE, "checkout on within 1 s of flagd", |p| {
        shown(p, "checkout") == true
    });
    assert!(
        at.saturating_duration_since(served) < LIVE,
        "the page showed the stage {:?} after flagd served it",
        at - served
    );
    assert_eq!(now["lastChange"], SSE_REFETCH, "{now}");
}
