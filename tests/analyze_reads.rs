//! `analyze --reads FILE` (every judged read as JSON lines) and `cat --seq` / `cat --around`
//! (the events near one finding): on a hand-built trace with every verdict, whose file is
//! checked line by line, and on the shipped incident, whose log must agree with the report.

use std::path::{Path, PathBuf};

use cachetape_tape::{RowImage, Value};
use cachetape_testkit::trace::{image, text};
use serde_json::Value as Json;

use crate::analyze_cases::{MAPPING, Trace, create};
use crate::util::cachetape;

/// 2026-11-26 04:15:25 UTC, the hand-built traces' start (`analyze_cases::create`).
const T0: i64 = 1_795_666_525_000_000;
const MS: i64 = 1_000;
const ORDERS: &str = "shop.orders";
const READER: &str = "10.0.0.9:40000";
const OTHER: &str = "10.0.0.8:41000";
const WRITER: &str = "10.0.0.7:51234";

fn order(id: i64, status: &str) -> RowImage {
    image([("id", Value::Int(id)), ("status", text(status)), ("total", Value::Decimal("1".into()))])
}

fn json(id: i64, status: &str) -> String {
    format!(r#"{{"id":{id},"status":"{status}","total":1}}"#)
}

/// One read of each verdict: a fresh hit of `order:1`, a stale set on `order:2` (its later hit
/// stale for certain), a hit of a row the trace never changed (`order:3`, unverifiable), a miss
/// (`order:4`, not judged), and an MGET of two keys in one event.
fn every_verdict(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:1", "300", &json(1, "NEW")])
        .update(MS, ORDERS, order(1, "OLD"), order(1, "NEW"))
        .redis(10 * MS, OTHER, ["GET", "order:1"])
        .redis(20 * MS, READER, ["GET", "order:2"])
        .update(30 * MS, ORDERS, order(2, "CANCELLED"), order(2, "PAID"))
        .redis(31 * MS, WRITER, ["DEL", "order:2"])
        .redis(40 * MS, READER, ["SETEX", "order:2", "300", &json(2, "CANCELLED")])
        .redis(60 * MS, OTHER, ["GET", "order:2"])
        .redis(70 * MS, READER, ["SETEX", "order:3", "300", &json(3, "NEW")])
        .redis(80 * MS, OTHER, ["GET", "order:3"])
        .redis(90 * MS, OTHER, ["GET", "order:4"])
        .redis(100 * MS, OTHER, ["MGET", "order:2", "order:1"]);
}

/// Writes the trace and its mapping into `dir`, returns the trace's path.
fn write_case(dir: &Path) -> PathBuf {
    let path = dir.join("case.bin");
    let mut trace = create(&path);
    every_verdict(&mut trace);
    trace.finish();
    std::fs::write(dir.join("case.toml"), MAPPING).unwrap();
    path
}

/// Runs `analyze TRACE --reads FILE` in `dir`; returns the file's lines as JSON.
fn reads_of(dir: &Path, trace: &Path, file: &str) -> Vec<Json> {
    let out = cachetape()
        .current_dir(dir)
        .arg("analyze")
        .arg(trace)
        .args(["--reads", file])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

fn seq_of(events: &str, what: &str) -> u64 {
    let line = events.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("{what}"));
    line.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn every_judged_read_is_a_line_with_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_case(dir.path());
    let events = String::from_utf8(
        cachetape().current_dir(dir.path()).args(["cat", "case.bin"]).output().unwrap().stdout,
    )
    .unwrap();
    let reads = reads_of(dir.path(), &trace, "reads.jsonl");

    // Every hit, no miss: GET order:1, GET order:2 (stale), GET order:3, MGET's two hits.
    let fresh_get = seq_of(&events, "GET order:1");
    let stale_get = seq_of(&events, &format!("{OTHER} db0  GET order:2"));
    let unverifiable_get = seq_of(&events, "GET order:3");
    let mget = seq_of(&events, "MGET");
    let got: Vec<(u64, &str, &str)> = reads
        .iter()
        .map(|r| {
            (r["seq"].as_u64().unwrap(), r["key"].as_str().unwrap(), r["verdict"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (fresh_get, "order:1", "fresh"),
            (stale_get, "order:2", "stale-definite"),
            (unverifiable_get, "order:3", "unverifiable"),
            (mget, "order:1", "fresh"),
            (mget, "order:2", "stale-definite"),
        ],
        "{reads:#?}"
    );

    // The fields, in their documented order, with what each verdict carries.
    let keys: Vec<&str> = reads[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "seq",
            "key",
            "node",
            "redis_db",
            "client",
            "t_us",
            "uncertainty_us",
            "verdict",
            "cause",
            "age_us",
            "served",
            "db",
            "reason"
        ]
    );
    let fresh = &reads[0];
    assert_eq!(fresh["client"], OTHER);
    assert_eq!(fresh["node"], "cache");
    assert_eq!(fresh["redis_db"], 0);
    assert_eq!(fresh["served"], "id=1 status=NEW total=1");
    assert_eq!(fresh["db"], "id=1 status=NEW total=1");
    assert!(fresh["cause"].is_null() && fresh["reason"].is_null() && fresh["age_us"].is_null());
    let stale = &reads[1];
    assert_eq!(stale["cause"], "stale-set");
    assert_eq!(stale["served"], "id=2 status=CANCELLED total=1");
    assert_eq!(stale["db"], "id=2 status=PAID total=1");
    assert!(stale["age_us"].as_i64().unwrap() > 0, "{stale}");
    let unverifiable = &reads[2];
    assert_eq!(unverifiable["reason"], "row never changed in the trace");
    assert_eq!(unverifiable["served"], "id=3 status=NEW total=1");
    assert!(unverifiable["db"].is_null() && unverifiable["cause"].is_null());
    // A read's time is on the recorder's clock, its MONITOR time (100 µs before receipt).
    let t0 = reads.iter().map(|r| r["t_us"].as_i64().unwrap()).min().unwrap();
    assert_eq!(reads[1]["t_us"].as_i64().unwrap() - t0, 50 * MS);

    // The same trace, the same bytes; and nothing left beside the file.
    let first = std::fs::read(dir.path().join("reads.jsonl")).unwrap();
    reads_of(dir.path(), &trace, "again.jsonl");
    assert_eq!(first, std::fs::read(dir.path().join("again.jsonl")).unwrap());
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["again.jsonl", "case.bin", "case.toml", "reads.jsonl"]);
}

#[test]
fn the_reads_file_is_never_an_input() {
    let dir = tempfile::tempdir().unwrap();
    write_case(dir.path());
    let before = std::fs::read(dir.path().join("case.bin")).unwrap();
    for file in ["case.bin", "./case.toml"] {
        let out = cachetape()
            .current_dir(dir.path())
            .args(["analyze", "case.bin", "--reads", file])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is also an input of this command"), "{stderr}");
    }
    assert_eq!(before, std::fs::read(dir.path().join("case.bin")).unwrap());
    // A directory that does not exist: a clear error, no stray file.
    let out = cachetape()
        .current_dir(dir.path())
        .args(["analyze", "case.bin", "--reads", "missing/reads.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot create") && stderr.contains("reads file"), "{stderr}");
}

#[test]
fn cat_shows_one_event_or_the_window_around_it() {
    let dir = tempfile::tempdir().unwrap();
    write_case(dir.path());
    let cat = |args: &[&str]| {
        let out =
            cachetape().current_dir(dir.path()).arg("cat").arg("case.bin").args(args).output();
        let out = out.unwrap();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
            out.status.code(),
        )
    };
    let (all, _, _) = cat(&[]);
    let stale_get = seq_of(&all, &format!("{OTHER} db0  GET order:2"));
    let seqs = |out: &str| -> Vec<u64> {
        out.lines().filter_map(|l| l.split_whitespace().next()?.parse().ok()).collect()
    };

    let (one, _, code) = cat(&["--seq", &stale_get.to_string()]);
    assert_eq!((seqs(&one), code), (vec![stale_get], Some(0)), "{one}");
    let range = format!("{}..{}", stale_get - 1, stale_get + 1);
    assert_eq!(seqs(&cat(&["--seq", &range]).0), vec![stale_get - 1, stale_get, stale_get + 1]);

    let (window, stderr, code) = cat(&["--around", &stale_get.to_string(), "--context", "2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "a window is not a truncated trace: {stderr}");
    assert_eq!(seqs(&window), (stale_get - 2..=stale_get + 2).collect::<Vec<_>>());
    // With a key filter the window counts that key's events only; the center is always shown.
    let (keyed, _, _) =
        cat(&["--around", &stale_get.to_string(), "--context", "1", "--key", "order:2"]);
    let keyed = seqs(&keyed);
    assert_eq!(keyed.len(), 3, "{keyed:?}");
    assert_eq!(keyed[1], stale_get);
    assert!(
        all.lines()
            .any(|l| l.starts_with(&format!("{:>8}", keyed[0])) && l.contains("SETEX order:2"))
    );
    // JSON lines too.
    let (json, _, _) = cat(&["--around", &stale_get.to_string(), "--context", "0", "--json"]);
    let doc: Json = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(doc["seq"].as_u64(), Some(stale_get));

    let (_, stderr, code) = cat(&["--around", "99999"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no event of case.bin has sequence number 99999"), "{stderr}");
    let (_, stderr, code) = cat(&["--seq", "9..3"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is empty"), "{stderr}");
}

/// On the shipped incident: one line per hit, the counts of the report's summary, and its stale
/// lines exactly the report's findings; `cat --around` of the stale set's read shows it.
#[test]
fn the_shipped_incident_log_agrees_with_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("traces");
    let trace = dir.path().join("incident.bin");
    std::fs::copy(shipped.join("incident.bin"), &trace).unwrap();
    std::fs::copy(shipped.join("incident.toml"), dir.path().join("incident.toml")).unwrap();
    let out = cachetape()
        .current_dir(dir.path())
        .args(["analyze", "incident.bin", "--format", "json", "--reads", "reads.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Json = serde_json::from_slice(&out.stdout).unwrap();
    let s = &report["summary"];
    let reads: Vec<Json> = std::fs::read_to_string(dir.path().join("reads.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reads.len() as u64, s["hits"].as_u64().unwrap());
    for (verdict, field) in [
        ("fresh", "fresh"),
        ("stale-definite", "stale_definite"),
        ("stale-possible", "stale_possible"),
        ("unverifiable", "unverifiable"),
    ] {
        let n = reads.iter().filter(|r| r["verdict"] == verdict).count() as u64;
        assert_eq!(n, s[field].as_u64().unwrap(), "{verdict}");
    }
    let seqs: Vec<u64> = reads.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "in sequence order");

    let mut stale: Vec<(u64, String, String, String, String, String)> = reads
        .iter()
        .filter(|r| r["verdict"].as_str().unwrap().starts_with("stale"))
        .map(|r| {
            let f = |k: &str| r[k].as_str().unwrap().to_string();
            (r["seq"].as_u64().unwrap(), f("key"), f("verdict"), f("cause"), f("served"), f("db"))
        })
        .collect();
    let mut findings: Vec<(u64, String, String, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let f = |k: &str| r[k].as_str().unwrap().to_string();
            (r["seq"].as_u64().unwrap(), f("key"), f("verdict"), f("cause"), f("served"), f("db"))
        })
        .collect();
    stale.sort();
    findings.sort();
    assert_eq!(stale, findings);

    // The stale set on order:42, CANCELLED served while the database says PAID.
    let read = reads
        .iter()
        .find(|r| r["key"] == "order:42" && r["cause"] == "stale-set")
        .expect("the incident's stale set");
    assert!(read["served"].as_str().unwrap().contains("CANCELLED"), "{read}");
    assert!(read["db"].as_str().unwrap().contains("PAID"), "{read}");
    let seq = read["seq"].as_u64().unwrap().to_string();
    let out = cachetape()
        .current_dir(dir.path())
        .args(["cat", "incident.bin", "--around", &seq, "--context", "5", "--key", "order:42"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with(&format!("{seq} ")) && l.contains("GET order:42")),
        "{text}"
    );
    assert!(text.contains("SETEX order:42") && text.contains("CANCELLED"), "{text}");
}

/// The database lag measured by the recorder's heartbeat (`record --heartbeat`) replaces the
/// assumed 5 ms: a read 2 ms before a commit's receipt is possibly stale under 5 ms, but fresh
/// when the heartbeats never saw a commit arrive more than 1.2 ms after it was sent; `--db-lag`
/// still wins, and the report says where its bound came from.
#[test]
fn a_measured_heartbeat_lag_replaces_the_assumed_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beat.bin");
    let mut t = create(&path);
    let db = cachetape_tape::SourceId(1);
    let beat = |sent_us: i64| {
        cachetape_tape::EventBody::Heartbeat(cachetape_tape::Heartbeat {
            table: "cachetape.heartbeat".into(),
            sent_us: T0 + sent_us,
        })
    };
    t.redis(0, READER, ["SETEX", "order:5", "300", &json(5, "NEW")])
        .redis(18 * MS, OTHER, ["GET", "order:5"])
        .update(20 * MS, ORDERS, order(5, "NEW"), order(5, "PAID"))
        .redis(21 * MS, WRITER, ["DEL", "order:5"]);
    t.event(db, T0 + 22 * MS + 300, beat(22 * MS));
    t.event(db, T0 + 105 * MS + 1_200, beat(105 * MS));
    t.finish();
    std::fs::write(dir.path().join("beat.toml"), MAPPING).unwrap();
    let run = |extra: &[&str]| {
        let out = cachetape()
            .current_dir(dir.path())
            .args(["analyze", "beat.bin", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let doc: Json = serde_json::from_slice(&out.stdout).unwrap();
        doc["summary"].clone()
    };
    let measured = run(&[]);
    assert_eq!(measured["db_lag_us"], 1_200, "{measured}");
    assert_eq!(measured["db_lag"]["source"], "heartbeat");
    assert_eq!(measured["db_lag"]["samples"], 2);
    assert_eq!(measured["fresh"], 1, "{measured}");
    assert_eq!(measured["stale_possible"], 0, "{measured}");
    let given = run(&["--db-lag", "5ms"]);
    assert_eq!(given["db_lag"]["source"], "given");
    assert_eq!(given["stale_possible"], 1, "{given}");
    let text =
        cachetape().current_dir(dir.path()).args(["analyze", "beat.bin"]).output().unwrap().stdout;
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(
            "up to 1.2ms before their receipt: measured by heartbeat: worst 1.2ms over 2 samples"
        ),
        "{text}"
    );
    // `cat` shows each heartbeat with the lag it measured.
    let out = cachetape().current_dir(dir.path()).args(["cat", "beat.bin"]).output().unwrap();
    let cat = String::from_utf8(out.stdout).unwrap();
    assert!(cat.contains("HEARTBEAT cachetape.heartbeat") && cat.contains("1.2ms later"), "{cat}");
}
