//! A trace cut at any byte offset never makes `info` or `cat` panic; they say how many events
//! were recovered. The library test (`tape/tests/format.rs`) cuts at every offset;
//! here the real binary is run on a spread of cuts, including every block boundary.

use cachetape_testkit::synthetic::cache_aside_monitor_text;

use crate::util::{cachetape, import_monitor};

#[test]
fn info_and_cat_survive_any_cut() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.txt");
    std::fs::write(&capture, cache_aside_monitor_text(3_000, 3)).unwrap();
    let trace = dir.path().join("trace.bin");
    import_monitor(&capture, &trace);
    let bytes = std::fs::read(&trace).unwrap();

    let mut cuts: Vec<usize> = (0..bytes.len()).step_by(bytes.len() / 40).collect();
    cuts.extend([0, 1, 7, 8, 17, 18, 19, bytes.len() - 1, bytes.len() - 40, bytes.len() - 41]);
    let cut_path = dir.path().join("cut.bin");
    for cut in cuts {
        std::fs::write(&cut_path, &bytes[..cut]).unwrap();
        for sub in [&["info"][..], &["cat"], &["cat", "--json"]] {
            let out = cachetape().args(sub).arg(&cut_path).output().unwrap();
            let code = out.status.code().expect("exited, not killed by a signal");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(code == 0 || code == 2, "{sub:?} at cut {cut}: exit {code}\n{stderr}");
            assert!(!stderr.contains("panicked"), "{sub:?} at cut {cut} panicked:\n{stderr}");
            let says = format!("{stdout}{stderr}");
            assert!(
                says.contains("events recovered") || says.contains("no events can be recovered"),
                "{sub:?} at cut {cut} does not say what was recovered:\n{says}"
            );
        }
    }
}

#[test]
fn a_corrupt_frame_is_an_error_naming_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.txt");
    std::fs::write(&capture, cache_aside_monitor_text(2_000, 5)).unwrap();
    let trace = dir.path().join("trace.bin");
    import_monitor(&capture, &trace);
    let mut bytes = std::fs::read(&trace).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&trace, &bytes).unwrap();
    let out = cachetape().arg("info").arg(&trace).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is corrupt") && stderr.contains("byte offset"), "{stderr}");
    assert!(stderr.contains("--salvage"), "{stderr}");
}
