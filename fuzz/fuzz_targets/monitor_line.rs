//! The MONITOR line parser never panics, and whatever it accepts writes back to a line that
//! parses to the same command (the formatter is the parser's inverse).
#![no_main]

use cachetape_recorder::monitor::{parse_line, write_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = parse_line(data) {
        let mut out = Vec::new();
        write_line(&mut out, line.server_us, line.db, line.client, &line.argv);
        let again = parse_line(&out).expect("a written line parses");
        assert_eq!(again.argv, line.argv);
        assert_eq!(again.db, line.db);
        assert_eq!(again.client, line.client);
        assert_eq!(again.server_us, line.server_us);
        let mut twice = Vec::new();
        write_line(&mut twice, again.server_us, again.db, again.client, &again.argv);
        assert_eq!(out, twice);
    }
});
