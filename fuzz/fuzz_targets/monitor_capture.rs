//! A whole capture of arbitrary bytes: the reader never panics and accounts for every line.
#![no_main]

use cachetape_recorder::monitor::MonitorReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = MonitorReader::new(data);
    let commands = (&mut reader).map(|c| c.expect("reading from memory cannot fail")).count();
    let report = reader.report();
    assert_eq!(commands as u64, report.commands);
    assert_eq!(report.lines, report.commands + report.script_calls + report.skipped);
});
