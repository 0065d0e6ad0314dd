//! The Ruby Marshal reader on arbitrary bytes never panics, and stays within its limits.
#![no_main]

use cachetape_analyzer::decode::{self, Codec, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_bytes: 1 << 20, max_depth: 64 };
    // With the signature in front, so that mutations explore the body rather than the header.
    let mut signed = vec![4, 8];
    signed.extend_from_slice(data);
    for bytes in [data, &signed[..]] {
        if let Ok(d) = decode::decode(bytes, Codec::Marshal, &limits) {
            assert!(d.doc.to_string().len() <= 8 * limits.max_bytes);
        }
    }
});
