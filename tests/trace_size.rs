//! A trace must be small enough to commit: smaller than `zstd -3` of the MONITOR text it came
//! from. The figures against `zstd -19` are in the README (bench/trace-size.sh).

use cachetape_testkit::synthetic::cache_aside_monitor_text;

use crate::util::import_monitor;

#[test]
fn a_trace_is_smaller_than_zstd_3_of_its_monitor_text() {
    let text = cache_aside_monitor_text(200_000, 7);
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.txt");
    std::fs::write(&capture, &text).unwrap();
    let trace = dir.path().join("trace.bin");
    let out = import_monitor(&capture, &trace);
    assert!(out.contains("200,000 commands"), "{out}");
    let zstd3 = zstd::encode_all(text.as_bytes(), 3).unwrap().len();
    let trace_len = std::fs::metadata(&trace).unwrap().len() as usize;
    assert!(
        trace_len < zstd3,
        "trace {trace_len} bytes, zstd -3 of the text {zstd3} bytes: the trace must be smaller"
    );
}
