//! `cachetape shrink` on the shipped incident: the result keeps at most 5% of the events, is a
//! valid trace that reproduces the same finding (key, cause, served and DB value) on its own, keeps
//! the header's sources, and names the findings there are when asked for one that is not.

use std::path::PathBuf;

use cachetape::report::{ReportFormat, TextReport};
use cachetape_tape::{EventBody, Reader};

use crate::util::cachetape;

fn incident() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces/incident.bin")
}

fn findings(trace: &std::path::Path) -> Vec<serde_json::Value> {
    let out = cachetape().arg("analyze").arg(trace).args(["--format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    doc["findings"].as_array().unwrap().clone()
}

#[test]
fn shrink_keeps_at_most_5_percent_of_the_incident_and_reproduces_its_finding() {
    let original = findings(&incident());
    let target = original.iter().find(|f| f["key"] == "order:42").expect("the incident finding");
    let seq = target["seq"].as_u64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("order42.bin");
    let out = cachetape()
        .arg("shrink")
        .arg(incident())
        .args(["--finding", &format!("#{seq}"), "-o"])
        .arg(&small)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("verified"), "{stdout}");
    assert!(dir.path().join("order42.toml").exists(), "the mapping goes beside the result");

    let before = Reader::open(incident()).unwrap().count();
    let reader = Reader::open(&small).unwrap();
    let header = reader.header().clone();
    let events: Vec<_> = reader.map(Result::unwrap).collect();
    assert!(
        events.len() * 20 <= before,
        "kept {} of {before} events (more than 5%):\n{stdout}",
        events.len()
    );
    assert_eq!(header.sources, Reader::open(incident()).unwrap().header().sources);
    assert!(
        header
            .notes
            .iter()
            .any(|n| n.contains("cut by `cachetape shrink`") && n.contains(&format!("#{seq}")))
    );
    assert!(events.iter().any(|e| e.seq == seq), "the read #{seq} keeps its number");
    assert!(events.iter().any(|e| matches!(e.body, EventBody::Commit(_))));

    // The small trace, analyzed on its own (mapping beside it), has the same finding.
    let again = findings(&small);
    let same = again.iter().find(|f| f["seq"] == seq).expect("the finding in the small trace");
    for field in ["key", "cause", "verdict", "served", "db", "client"] {
        assert_eq!(same[field], target[field], "{field}");
    }
    cachetape().arg("analyze").arg(&small).args(["--expect", "stale"]).assert().code(0);

    // The README's regression test, on the committed small trace: still caught under ±5ms.
    let report = cachetape::Replay::open(&small)
        .unwrap()
        .perturb(std::time::Duration::from_millis(5))
        .seed(1)
        .run()
        .unwrap();
    let text = TextReport.render(&report, &small.display().to_string());
    assert!(!report.is_clean(), "{text}");
    assert!(
        report.stale_reads().iter().any(|r| r.read.key == "order:42" && r.read.seq == seq),
        "{text}"
    );
}

#[test]
fn shrink_names_the_findings_when_the_number_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = cachetape()
        .arg("shrink")
        .arg(incident())
        .args(["--finding", "0", "-o"])
        .arg(dir.path().join("x.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has no finding #0") && stderr.contains("order:42"), "{stderr}");
    assert!(!dir.path().join("x.bin").exists());

    let clean = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces/clean.bin");
    let out = cachetape()
        .arg("shrink")
        .arg(clean)
        .args(["--finding", "5", "-o"])
        .arg(dir.path().join("y.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stale read"));
}

/// The perturbation findings of `replay --perturb 5ms` on `trace`, from its JSON.
fn perturbed(trace: &std::path::Path) -> Vec<serde_json::Value> {
    let out = cachetape()
        .args(["replay", "--perturb", "5ms", "--format", "json"])
        .arg(trace)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    doc["findings"].as_array().unwrap().clone()
}

#[test]
fn shrink_perturb_keeps_a_read_that_only_a_reordering_makes_stale() {
    // A read of the incident that is fresh as recorded and stale in some order within ±5ms.
    let all = perturbed(&incident());
    let target = all
        .iter()
        .find(|f| f["verdict"] == "stale-possible" && f["margin_us"].as_i64().unwrap() > 0)
        .expect("a perturbation-only finding in the incident");
    let seq = target["seq"].as_u64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("jitter.bin");
    let out = cachetape()
        .arg("shrink")
        .arg(incident())
        .args(["--perturb", "5ms", "--finding", &seq.to_string(), "-o"])
        .arg(&small)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("under --perturb 5ms"), "{stdout}");

    let before = Reader::open(incident()).unwrap().count();
    let kept = Reader::open(&small).unwrap().count();
    assert!(kept * 20 <= before, "kept {kept} of {before}:\n{stdout}");
    let again = perturbed(&small);
    let same = again.iter().find(|f| f["seq"] == seq).expect("the finding in the small trace");
    for field in ["key", "cause", "verdict", "served", "db"] {
        assert_eq!(same[field], target[field], "{field}");
    }
    assert!(same["margin_us"].as_i64().unwrap() > 0, "still only under jitter: {same}");
}
