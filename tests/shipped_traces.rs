//! Regression tests of the shipped traces (`traces/`): the incident is found as recorded — a
//! stale set on `order:42`, CANCELLED served while the database says PAID — and the clean trace
//! stays clean, as recorded and under ±5 ms of jitter. Through the CLI's `--expect`, the way a CI
//! step uses it, and through the regression API (`cachetape::Replay`), the way a project's own
//! Rust test would.

use std::path::PathBuf;

use cachetape::report::{ReportFormat, TextReport};

use crate::util::cachetape;

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces").join(name)
}

/// The JSON report of `analyze`.
fn analyze_json(name: &str) -> serde_json::Value {
    let out =
        cachetape().arg("analyze").arg(trace(name)).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(if name.starts_with("incident") { 1 } else { 0 }));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn shipped_traces_are_small_and_have_their_mappings() {
    for name in ["incident", "clean"] {
        let bin = trace(&format!("{name}.bin"));
        let size = std::fs::metadata(&bin).unwrap().len();
        assert!(size <= 1 << 20, "{} is {size} bytes, over 1 MB", bin.display());
        assert!(trace(&format!("{name}.toml")).exists(), "{name}.toml is missing");
    }
}

#[test]
fn the_shipped_incident_is_found_as_a_stale_set_on_order_42() {
    cachetape().arg("analyze").arg(trace("incident.bin")).assert().code(1);
    cachetape()
        .arg("analyze")
        .arg(trace("incident.bin"))
        .args(["--expect", "stale"])
        .assert()
        .code(0);
    cachetape()
        .arg("analyze")
        .arg(trace("incident.bin"))
        .args(["--expect", "clean"])
        .assert()
        .code(1);

    let doc = analyze_json("incident.bin");
    let findings = doc["findings"].as_array().unwrap();
    let on_42: Vec<_> = findings.iter().filter(|f| f["key"] == "order:42").collect();
    assert!(!on_42.is_empty(), "no finding on order:42: {}", doc["summary"]);
    for f in &on_42 {
        assert_eq!(f["cause"], "stale-set", "{f}");
        assert_eq!(f["verdict"], "stale-definite", "{f}");
        assert!(f["served"].as_str().unwrap().contains("status=CANCELLED"), "{f}");
        assert!(f["db"].as_str().unwrap().contains("status=PAID"), "{f}");
    }
    // The worst key, first in the report, is the incident's.
    assert_eq!(doc["keys"][0]["key"], "order:42");
    assert_eq!(findings[0]["key"], "order:42");
    // Its exposure lasts until the end of the trace, with the TTL still running.
    let exposure = &doc["keys"][0]["exposure"][0];
    assert_eq!(exposure["ended_by"], "end-of-trace", "{exposure}");
    assert!(exposure["ttl_left_us"].as_i64().unwrap() > 290_000_000, "{exposure}");
}

#[test]
fn the_shipped_clean_trace_stays_clean() {
    cachetape().arg("analyze").arg(trace("clean.bin")).assert().code(0);
    cachetape().arg("analyze").arg(trace("clean.bin")).args(["--expect", "clean"]).assert().code(0);
    let doc = analyze_json("clean.bin");
    assert_eq!(doc["summary"]["verdict"], "clean");
    assert!(doc["findings"].as_array().unwrap().is_empty());
    // Clean with evidence: most hits are of rows the trace changes.
    assert!(doc["summary"]["share_verifiable"].as_f64().unwrap() > 0.9, "{}", doc["summary"]);
    assert!(doc["summary"]["commits"].as_u64().unwrap() > 100, "{}", doc["summary"]);
}

/// The regression API, as a project's own test would use it.
#[test]
fn replay_api_finds_the_incident_as_a_stale_set_and_keeps_the_clean_trace_clean() {
    use std::time::Duration;

    let incident = cachetape::Replay::open(trace("incident.bin"))
        .unwrap()
        .perturb(Duration::from_millis(5))
        .seed(1)
        .run()
        .unwrap();
    let text = TextReport.render(&incident, &trace("incident.bin").display().to_string());
    assert!(!incident.is_clean(), "{text}");
    let on_42: Vec<_> =
        incident.stale_reads().iter().map(|r| &r.read).filter(|r| r.key == "order:42").collect();
    assert!(!on_42.is_empty(), "{text}");
    for r in &on_42 {
        assert_eq!(r.cause, cachetape::analyzer::Cause::StaleSet, "{r:?}");
        assert!(r.served.contains("status=CANCELLED") && r.db.contains("status=PAID"), "{r:?}");
    }
    for r in incident.stale_reads().iter().filter(|r| r.read.key == "order:42") {
        assert_eq!(r.margin_us, 0, "stale as recorded: {r:?}");
    }
    assert!(text.contains("order:42") && text.contains("stale-set"), "{text}");

    let clean = cachetape::Replay::open(trace("clean.bin"))
        .unwrap()
        .perturb(Duration::from_millis(5))
        .seed(1)
        .run()
        .unwrap();
    let text = TextReport.render(&clean, &trace("clean.bin").display().to_string());
    assert!(clean.is_clean(), "{text}");
    assert!(clean.is_exhaustive(), "every order within ±5ms was tried: {text}");
    assert!(clean.schedules() > 0);
}

#[test]
fn replay_perturb_5ms_expectations_hold_for_the_shipped_traces() {
    let replay = |name: &str, expect: &str| {
        cachetape()
            .args(["replay", "--perturb", "5ms"])
            .arg(trace(name))
            .args(["--expect", expect])
            .output()
            .unwrap()
    };
    let out = replay("incident.bin", "stale");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = replay("clean.bin", "clean");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("clean under ±5ms (exhaustive)"), "{stdout}");
    assert_eq!(replay("clean.bin", "stale").status.code(), Some(1));
}
