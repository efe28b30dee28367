//! flagd as a browser sees it: the real OpenFeature web SDK with the OFREP
//! web provider (pinned by tests/browser/package-lock.json, installed by
//! `npm ci` in scripts/test.sh), in headless Chromium, on a page served from
//! another origin than flagd's. The provider polls never (`pollInterval: 0`),
//! so a change the page shows came over flagd's event stream; the page also
//! shows the message of the last change event, which is the SSE re-fetch's
//! (`Flags updated`; a poll's names its reason). With a client key the
//! page sees the client-side flags only. See docs/flagd.md, "Browsers and
//! mobile apps".

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::browser::Browser;
use crate::support::flagd::*;

/// How soon after a change the page must show it (docs/flagd.md, browsers: a change reaches a page "within 1 s").
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

/// `key` as a string flag serving `value`, available to client SDKs.
fn client_flag(key: &str, value: &str) -> String {
    string_flag(key, value).replacen(
        "    type: string\n",
        "    type: string\n    clientSide: true\n",
        1,
    )
}

/// The client key the page sends in `X-API-Key`.
const CLIENT_KEY: &str = "web-0123456789abcdef";

#[test]
fn with_a_client_key_the_page_sees_only_client_flags() {
    let Some(browser) = Browser::require() else {
        return;
    };
    let repo = TempRepo::new(&[
        (BANNER_FILE, &client_flag("banner", "v1")),
        (
            "envs/prod/internal.yaml",
            &string_flag("internal", "unreleased-plan"),
        ),
    ]);
    // Outside the watched repository: a token key, which client keys need,
    // and the client key itself.
    let secrets = tempfile::tempdir().unwrap();
    let secret = secrets.path().join("jwt-secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef-secret\n").unwrap();
    let keys = secrets.path().join("client-keys");
    std::fs::write(&keys, format!("# the shop's pages\nweb = {CLIENT_KEY}\n")).unwrap();
    let site = browser.site();
    let d = Daemon::on_repo(
        &repo,
        &[
            "--cors-origin",
            &site.origin,
            "--auth-jwt-secret-file",
            secret.to_str().unwrap(),
            "--client-api-keys-file",
            keys.to_str().unwrap(),
            "--auth-eval",
        ],
    );
    d.wait_ready();
    let query = |key: &str| {
        format!(
            "flagd={}&user=visitor-1&{key}flags=banner:string,internal:string",
            d.base
        )
    };

    let mut page = browser.open(&site.page(&query(&format!("key={CLIENT_KEY}&"))));
    let (first, _) = page.wait_for(DEADLINE, "banner v1", |p| shown(p, "banner") == "v1");
    assert_eq!(first["status"], "ready", "{first}");
    assert_eq!(
        known(&first),
        ["banner"],
        "a server-only flag reached the page: {first}"
    );
    assert_eq!(
        first["flags"]["internal"]["errorCode"], "FLAG_NOT_FOUND",
        "{first}"
    );
    assert_eq!(shown(&first, "internal"), "", "{first}");
    assert!(!first.to_string().contains("unreleased-plan"), "{first}");

    // An edit of a server-only flag sends the client's stream nothing; an
    // edit of the client flag reaches the page by it within a second
    // (EventSource sends no headers: the stream's URI carries a ticket).
    let events = || metric(&d.get_text("/metrics"), "flagd_change_events_sent_total");
    let reloads = || {
        metric(
            &d.get_text("/metrics"),
            "flagd_reloads_total{result=\"success\"}",
        )
    };
    let (sent, loaded) = (events(), reloads());
    repo.save(
        "envs/prod/internal.yaml",
        &string_flag("internal", "next-plan"),
    );
    eventually(DEADLINE, "the server-only edit to load", || {
        (reloads() > loaded).then_some(())
    });
    let written = Instant::now();
    repo.save(BANNER_FILE, &client_flag("banner", "v2"));
    let (now, at) = page.wait_for(LIVE, "banner v2 within 1 s", |p| shown(p, "banner") == "v2");
    assert!(at - written < LIVE, "v2 took {:?}", at - written);
    assert_eq!(now["lastChange"], SSE_REFETCH, "{now}");
    assert_eq!(known(&now), ["banner"], "{now}");
    assert_eq!(
        events(),
        sent.map(|n| n + 1.0),
        "the client's stream heard of the server-only edit"
    );

    // A flag that stops being client-side leaves the page.
    repo.save_banner("v3");
    let (gone, _) = page.wait_for(LIVE, "banner gone within 1 s", |p| known(p).is_empty());
    assert_eq!(
        gone["flags"]["banner"]["errorCode"], "FLAG_NOT_FOUND",
        "{gone}"
    );

    // Without the key, evaluation needs credentials: the page gets nothing.
    let mut keyless = browser.open(&site.page(&query("")));
    let (refused, _) = keyless.wait_for(DEADLINE, "an error", |p| {
        p["status"].as_str().is_some_and(|s| s.starts_with("error"))
    });
    assert_eq!(known(&refused), Vec::<&str>::new(), "{refused}");
}
