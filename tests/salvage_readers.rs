//! Every command that reads a trace — `analyze`, `replay`, `shrink`, `map`, `cat`, `info` —
//! stops at a damaged frame with advice it accepts (`--salvage`), and with `--salvage` reads
//! what is recoverable and says what was skipped (bytes, offset, events) on stderr and in its
//! report. A second trace after the first (`cat a.bin b.bin > ab.bin`) is refused by each, naming
//! where it starts; with `--salvage` the first trace is used and the second said to be unread.

use std::path::{Path, PathBuf};
use std::process::Output;

use cachetape_tape::Reader;

use crate::util::cachetape;

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces").join(name)
}

fn run(args: &[&str], trace: &Path, more: &[&str]) -> Output {
    cachetape().args(args).arg(trace).args(more).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every reading command, as (its arguments before the trace, after it), writing into `dir`.
fn readers(dir: &Path, finding: u64) -> Vec<(Vec<&'static str>, Vec<String>)> {
    let small = dir.join("small.bin").display().to_string();
    vec![
        (vec!["analyze"], vec!["--format".into(), "json".into()]),
        (vec!["replay", "--perturb", "1ms"], vec!["--format".into(), "json".into()]),
        (vec!["shrink"], vec!["--finding".into(), finding.to_string(), "-o".into(), small]),
        (vec!["map", "--infer"], vec![]),
        (vec!["cat"], vec!["--json".into()]),
        (vec!["info"], vec![]),
    ]
}

/// The incident's order:42 finding (its seq).
fn incident_finding() -> u64 {
    let out = run(&["analyze"], &shipped("incident.bin"), &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = doc["findings"].as_array().unwrap().iter().find(|f| f["key"] == "order:42");
    found.unwrap()["seq"].as_u64().unwrap()
}

#[test]
fn every_reader_stops_at_a_damaged_frame_and_salvages_past_it() {
    let finding = incident_finding();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("a.bin");
    std::fs::copy(shipped("incident.toml"), dir.path().join("a.toml")).unwrap();
    // Damage the payload of a frame that does not hold the finding.
    let mut reader = Reader::open(shipped("incident.bin")).unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        frames.push((frame.offset, frame.events.iter().map(|e| e.seq).collect::<Vec<_>>()));
    }
    let total: usize = frames.iter().map(|f| f.1.len()).sum();
    let (offset, lost) = frames.iter().find(|f| !f.1.contains(&finding)).expect("another frame");
    let mut bytes = std::fs::read(shipped("incident.bin")).unwrap();
    bytes[*offset as usize + 40 + 9] ^= 0x10;
    std::fs::write(&trace, &bytes).unwrap();
    let skipped =
        format!("at offset {offset} (payload checksum mismatch, {} events lost)", lost.len());

    for (before, after) in readers(dir.path(), finding) {
        let after: Vec<&str> = after.iter().map(String::as_str).collect();
        let out = run(&before, &trace, &after);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{before:?}: {stderr}");
        assert!(stderr.contains("is corrupt") && stderr.contains("--salvage"), "{stderr}");

        let out = run(&before, &trace, &[&after[..], &["--salvage"]].concat());
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let code = out.status.code();
        assert!(matches!(code, Some(0 | 1)), "{before:?} --salvage: {code:?}\n{stderr}");
        assert!(stderr.contains(&skipped) || stdout.contains(&skipped), "{before:?}: {stderr}");
        match before[0] {
            "analyze" | "replay" => {
                assert_eq!(code, Some(1), "the finding is still there: {stdout}");
                assert!(stderr.contains(&skipped), "said on stderr: {stderr}");
                assert!(stdout.contains(&skipped), "and in the report: {stdout}");
            }
            "map" => {
                assert!(stderr.contains(&skipped), "{stderr}");
                assert!(stdout.starts_with("# inferred from part of"), "{stdout}");
            }
            "shrink" => {
                let small = Reader::open(dir.path().join("small.bin")).unwrap();
                let notes = small.header().notes.join("\n");
                assert!(notes.contains(&skipped), "the small trace says: {notes}");
            }
            "cat" => assert_eq!(stdout.lines().count(), total - lost.len()),
            _ => assert!(stdout.contains(&skipped), "{stdout}"),
        }
    }
}

#[test]
fn a_second_trace_is_refused_by_every_reader_unless_salvaged() {
    let finding = incident_finding();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        std::fs::read(shipped("incident.bin")).unwrap(),
        std::fs::read(shipped("clean.bin")).unwrap(),
    );
    let trace = dir.path().join("ab.bin");
    std::fs::write(&trace, [a.clone(), b.clone()].concat()).unwrap();
    std::fs::copy(shipped("incident.toml"), dir.path().join("ab.toml")).unwrap();
    let unread = format!("a second trace of {} bytes follows from byte {}", b.len(), a.len());

    for (before, after) in readers(dir.path(), finding) {
        let after: Vec<&str> = after.iter().map(String::as_str).collect();
        let out = run(&before, &trace, &after);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{before:?} read past the second trace: {stderr}");
        assert!(
            stderr.contains("holds a second trace")
                && stderr.contains(&format!("from byte {}", a.len()))
                && stderr.contains("--salvage"),
            "{before:?}: {stderr}"
        );

        let out = run(&before, &trace, &[&after[..], &["--salvage"]].concat());
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let code = out.status.code();
        assert!(matches!(code, Some(0 | 1)), "{before:?} --salvage: {code:?}\n{stderr}");
        match before[0] {
            "analyze" | "replay" => {
                assert!(stderr.contains(&unread), "said on stderr: {stderr}");
                assert!(stdout.contains(&unread), "and in the report: {stdout}");
                // The first trace, judged as if alone.
                let alone = run(&before, &shipped("incident.bin"), &after);
                let doc = |s: &[u8]| serde_json::from_slice::<serde_json::Value>(s).unwrap();
                assert_eq!(doc(&out.stdout)["findings"], doc(&alone.stdout)["findings"]);
            }
            "cat" => {
                assert!(stderr.contains(&unread), "{stderr}");
                let alone = run(&["cat"], &shipped("incident.bin"), &after);
                assert_eq!(out.stdout, alone.stdout, "the first trace's events, exactly");
            }
            "map" => {
                assert!(stderr.contains(&unread), "{stderr}");
                assert!(stdout.starts_with("# inferred from part of"), "{stdout}");
            }
            "shrink" => {
                let small = Reader::open(dir.path().join("small.bin")).unwrap();
                let notes = small.header().notes.join("\n");
                assert!(notes.contains(&unread), "the small trace says: {notes}");
            }
            _ => assert!(stdout.contains(&unread), "{stdout}"),
        }
    }
}
