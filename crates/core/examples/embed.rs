//! Embedding HotSwap Flags in a Rust service: open a flags repository,
//! compile one environment into a ruleset, evaluate flags for a few contexts.
//!
//! Run from the crate root: `cargo run --example embed`

use hotswap_flags_core::{Context, EvalEnv, Repository};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Open the repository: `flags.toml` plus one directory per environment.
    //    The path is relative to the working directory (the crate root under
    //    `cargo run`).
    let repo = Repository::open("flags-example")?;

    // 2. Load, validate and compile one environment. Any error in its files
    //    fails here, with `file:line:column` for each finding. The ruleset is
    //    immutable: a service swaps in a new one when the files change.
    let ruleset = repo.ruleset("production")?;
    println!(
        "loaded {} flags of `production` (version {})\n",
        ruleset.flags().len(),
        ruleset.version()
    );

    // 3. Build a context per request with the typed setters. `targetingKey`
    //    (`with_key`, or the alias `userId`) is what splits and rollouts hash;
    //    everything else is an attribute that rules can test. Short names and
    //    strings (up to 24 bytes) and up to six attributes take no allocation.
    let staff = Context::new()
        .with_key("emp-7")
        .with_str("email", "ana@example.com");
    let german_customer = Context::new()
        .with_key("cust-4711")
        .with_str("country", "DE")
        .with_str("platform", "ios")
        // A parsed version: `semver_*` conditions compare it without parsing.
        .with_version("appVersion", "5.4.2".parse()?)
        .with_number("seats", 12)
        .with_bool("beta", false)
        .with_time("signedUp", "2026-03-01T09:00:00Z".parse()?)
        .with_list("groups", ["buyers", "newsletter"]);
    let vip = Context::new().with_str("userId", "cust-1001");
    // Contexts that arrive as JSON (as flagd's HTTP API reads them) give the
    // same context: a string version is parsed when a rule compares it.
    let anonymous = Context::from_json(json!({"country": "FR"}))?;

    // 4. Evaluate. `EvalEnv::now()` evaluates at the current time with every
    //    rollout at its starting point (flagd supplies live positions instead).
    let env = EvalEnv::now();
    let cases = [
        ("new-checkout-flow", "staff", &staff),
        ("new-checkout-flow", "german customer", &german_customer),
        ("checkout-config", "german customer", &german_customer),
        ("search-autocomplete", "german customer", &german_customer),
        ("loyalty-program", "vip", &vip),
        ("support-chat-provider", "anonymous", &anonymous),
        // Only a split could place an anonymous visitor here: an error.
        ("product-page-layout", "anonymous", &anonymous),
        ("no-such-flag", "anonymous", &anonymous),
    ];
    for (flag, who, ctx) in cases {
        match ruleset.evaluate(flag, ctx, &env) {
            Ok(eval) => println!(
                "{flag} for {who}: value={} variant={} reason={}\n    {}",
                eval.value(),
                eval.variant_name(),
                eval.reason,
                eval.detail()
            ),
            // Errors carry the OFREP code (FLAG_NOT_FOUND, TARGETING_KEY_MISSING):
            // serve your code's built-in default in that case.
            Err(e) => println!("{flag} for {who}: error {} ({e})", e.code()),
        }
    }
    Ok(())
}
