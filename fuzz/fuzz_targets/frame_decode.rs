//! A frame's raw bytes (what zstd gives back) decoded directly, past the checksums that keep
//! random damage away from the decoder in `trace_reader`: errors, never panics; and whatever
//! decodes re-encodes to bytes that decode to the same encoding again.
#![no_main]

use cachetape_tape::wire::{decode_frame, encode_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(events) = decode_frame(data) {
        let once = encode_frame(&events);
        let again = decode_frame(&once).expect("an encoded frame decodes");
        assert_eq!(encode_frame(&again), once);
    }
});
