//! Arbitrary request bodies → JSON context → every flag of flags-example and
//! of the synthetic ruleset. See `hotswap_flags_fuzz::contexts`.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use hotswap_flags_fuzz::Rulesets;
use libfuzzer_sys::fuzz_target;

static RULESETS: LazyLock<Rulesets> = LazyLock::new(|| {
    Rulesets::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../flags-example"))
});

fuzz_target!(|data: &[u8]| hotswap_flags_fuzz::contexts(&RULESETS, data));
