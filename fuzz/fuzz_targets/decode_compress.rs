//! Peeling compression (and decoding what it wraps under `auto`) never panics, and no input decompresses past the limit.
#![no_main]

use cachetape_analyzer::decode::{self, Codec, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    let _ = decode::decode(data, Codec::Auto, &limits);
    if let Ok((out, _)) = decode::compress::peel(data, &limits) {
        assert!(out.len() <= limits.max_bytes);
    }
});
