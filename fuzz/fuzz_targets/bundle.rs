//! Arbitrary bytes as a bundle file → parse → compile → evaluate. See
//! `hotswap_flags_fuzz::bundle`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hotswap_flags_fuzz::bundle(data));
