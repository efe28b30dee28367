//! Flag files in all three formats (and `flags.toml`) → load → compile →
//! evaluate → bundle round trip. See `hotswap_flags_fuzz::flag_file`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotswap_flags_fuzz::flag_file(data));
