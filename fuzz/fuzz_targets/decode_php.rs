//! The php decoder never panics on any input (a PHP `serialize()` of any shape, damaged or
//! hostile), and what it makes stays within its limits: the document's JSON text is at most a
//! small multiple of `Limits::max_bytes`.
#![no_main]

use cachetape_analyzer::decode::{self, Codec, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 16, max_depth: 48 };
    for codec in [Codec::Php, Codec::Auto] {
        if let Ok(d) = decode::decode(data, codec, &limits) {
            let text = serde_json::to_vec(&d.doc).expect("a document serializes");
            assert!(text.len() <= 8 * limits.max_bytes + 1024, "{} bytes of document", text.len());
        }
    }
});
