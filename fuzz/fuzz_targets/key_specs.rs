//! Key extraction from Redis's key specs on arbitrary argument lists never panics.
#![no_main]

use cachetape_tape::{Argv, commands};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let argv = Argv::from_parts(data.split(|&b| b == b' '));
    let keys = commands::keys(&argv);
    assert!(keys.positions.iter().all(|&(i, _)| i < argv.len()));
});
