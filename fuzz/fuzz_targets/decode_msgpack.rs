//! The MessagePack decoder never panics and stays within its limits on any input.
#![no_main]

use cachetape_analyzer::decode::{self, Codec, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    let _ = decode::decode(data, Codec::Msgpack, &limits);
    let _ = decode::decode(data, Codec::Auto, &limits);
});
