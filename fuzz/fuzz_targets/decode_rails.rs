//! The Rails cache entry decoder (6.1/7.0 Marshal entries, the 7.1 coder, MessagePack) on
//! arbitrary bytes never panics, and stays within its limits.
#![no_main]

use cachetape_analyzer::decode::{self, Codec, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    for codec in [Codec::Rails, Codec::Auto] {
        if let Ok(d) = decode::decode(data, codec, &limits) {
            assert!(d.doc.to_string().len() <= 8 * limits.max_bytes);
        }
    }
});
