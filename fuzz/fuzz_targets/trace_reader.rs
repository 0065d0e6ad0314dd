//! The trace reader on arbitrary bytes, plain and in salvage mode: errors, never panics, and
//! bounded memory. Inputs that start like a real trace reach the frame decoder.
#![no_main]

use cachetape_tape::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for salvage in [false, true] {
        if let Ok(reader) = Reader::new(data, "fuzz") {
            let mut reader = reader.salvage(salvage);
            for event in &mut reader {
                if event.is_err() {
                    break;
                }
            }
            let _ = reader.report().to_string();
        }
    }
});
