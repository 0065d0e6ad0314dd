//! "As recorded" means one thing in `analyze` and `replay` (issue 17, item 3): the analyzer's
//! judgement of the recorded trace, each event placed inside its uncertainty —
//! `stale-definite` when stale for every placement, `stale-possible` when for some. `replay`
//! takes it from the analyzer instead of its own walk of the recorded order (which puts every
//! commit at its receipt and so called reads inside a commit's uncertainty stale for certain).
//! On every test trace — the shipped traces, the hand-built cases of `analyze_cases` and
//! `replay_cases`, and (from `analyze_workload`) recorded workloads — replay's as-recorded part
//! equals analyze's findings, and each finding of the search carries analyze's verdict when
//! analyze flags its read and `stale-possible` when only a reordering makes it stale.
//!
//! Also the hand-built minimal traces of items 1 and 3: a value equal to two versions of its row
//! (PENDING, REFUNDED, PENDING again), and a read that arrives after a commit but may have
//! happened before it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::analyze_cases::{self, MAPPING, MS, ORDERS, OTHER, READER, Trace, WRITER, json, order};
use crate::replay_cases;
use crate::util::cachetape;

fn run_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = cachetape().current_dir(dir).args(args).args(["--format", "json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// Each flagged read by (seq, key) → verdict.
fn verdicts(findings: &serde_json::Value) -> BTreeMap<(u64, String), String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let key = (f["seq"].as_u64().unwrap(), f["key"].as_str().unwrap().to_string());
            (key, f["verdict"].as_str().unwrap().to_string())
        })
        .collect()
}

/// Runs `analyze` and `replay --perturb 5ms` on `trace` (in `dir`, its mapping beside it) and
/// holds their as-recorded findings equal; returns analyze's JSON report.
pub(crate) fn same_as_recorded(dir: &Path, trace: &str) -> serde_json::Value {
    let analyze = run_json(dir, &["analyze", trace]);
    let replay = run_json(dir, &["replay", trace, "--perturb", "5ms"]);
    let recorded = verdicts(&analyze["findings"]);
    assert_eq!(
        verdicts(&replay["recorded"]),
        recorded,
        "{trace}: replay's as-recorded findings differ from analyze's"
    );
    let s = &analyze["summary"];
    assert_eq!(replay["summary"]["stale_as_recorded"], s["stale_definite"], "{trace}");
    assert_eq!(replay["summary"]["stale_possible_as_recorded"], s["stale_possible"], "{trace}");
    for (read, verdict) in verdicts(&replay["findings"]) {
        let want = recorded.get(&read).map_or("stale-possible", String::as_str);
        assert_eq!(verdict, want, "{trace}: finding {read:?} of the search");
    }
    analyze
}

/// Writes the trace `build` makes with analyze_cases' mapping, checks it, returns analyze's JSON.
fn check_built(build: impl FnOnce(&mut Trace)) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = analyze_cases::create(&dir.path().join("case.bin"));
    build(&mut trace);
    trace.finish();
    std::fs::write(dir.path().join("case.toml"), MAPPING).unwrap();
    same_as_recorded(dir.path(), "case.bin")
}

#[test]
fn the_shipped_traces_are_judged_alike_as_recorded() {
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    for name in ["incident.bin", "clean.bin"] {
        same_as_recorded(&traces, name);
    }
}

#[test]
fn the_hand_built_cases_are_judged_alike_as_recorded() {
    let analyze_cases: [fn(&mut Trace); 7] = [
        analyze_cases::stale_set,
        analyze_cases::late_invalidation,
        analyze_cases::missing_invalidation,
        analyze_cases::unexplained,
        analyze_cases::stale_possible,
        analyze_cases::unverifiable,
        analyze_cases::clean,
    ];
    for build in analyze_cases {
        check_built(build);
    }
    let replay_cases: [fn(&mut replay_cases::Trace); 4] = [
        replay_cases::late_invalidation,
        replay_cases::stale_set,
        replay_cases::causality,
        replay_cases::busy,
    ];
    for build in replay_cases {
        let (dir, _) = replay_cases::case(build);
        same_as_recorded(dir.path(), "case.bin");
    }
}

/// Item 3, minimal: the writer's commit is received at 10 ms; a GET timestamped 9.95 ms by
/// MONITOR arrives after it (at 10.05 ms). Walked in arrival order the read follows the commit
/// and is stale for certain — what `replay` used to say — but it happened before the commit's
/// receipt, and the commit may have happened then or up to 5 ms earlier: stale-possible, in
/// both.
#[test]
fn a_read_arriving_after_a_commit_it_may_precede_is_possible_in_both() {
    let doc = check_built(|t| {
        t.redis(0, READER, ["SETEX", "order:5", "300", &json(5, "NEW", "3.50")])
            .update(10 * MS, ORDERS, order(5, "NEW", "3.50"), order(5, "PAID", "3.50"))
            .redis(10 * MS - 50, OTHER, ["GET", "order:5"])
            .redis(12 * MS, WRITER, ["DEL", "order:5"]);
    });
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc}");
    assert_eq!(findings[0]["verdict"], "stale-possible", "{doc}");
}

/// Item 1, minimal: the reader misses `order:5` (PENDING), the writer commits REFUNDED and DELs
/// (nothing to delete), the reader's SETEX of PENDING lands, two reads are served PENDING while
/// the database holds REFUNDED; 4 ms later a commit sets the row back to PENDING (its binlog
/// event could be up to 5 ms late, so it may precede the SETEX). Explaining the cached PENDING
/// by that later commit alone made the two reads fresh; explained by the PENDING read before
/// REFUNDED they are stale: stale-possible, and the story names both sources.
#[test]
fn a_value_equal_to_two_versions_is_at_least_possibly_stale() {
    let pending = json(5, "PENDING", "3.50");
    let doc = check_built(|t| {
        t.redis(0, READER, ["SETEX", "order:5", "300", &pending])
            .redis(MS, WRITER, ["DEL", "order:5"])
            .redis(2 * MS, READER, ["GET", "order:5"])
            .update(10 * MS, ORDERS, order(5, "PENDING", "3.50"), order(5, "REFUNDED", "3.50"))
            .redis(11 * MS, WRITER, ["DEL", "order:5"])
            .redis(20 * MS, READER, ["SETEX", "order:5", "300", &pending])
            .redis(21 * MS, OTHER, ["GET", "order:5"])
            .redis(22 * MS, OTHER, ["GET", "order:5"])
            .update(24 * MS, ORDERS, order(5, "REFUNDED", "3.50"), order(5, "PENDING", "3.50"))
            .redis(25 * MS, WRITER, ["DEL", "order:5"]);
    });
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc}");
    for f in findings {
        assert_eq!(f["verdict"], "stale-possible", "{f}");
        assert_eq!(f["cause"], "stale-set", "{f}");
        assert!(f["db"].as_str().unwrap().contains("REFUNDED"), "{f}");
        let sources: Vec<&serde_json::Value> = f["chain"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["role"] == "could-be-from")
            .collect();
        assert_eq!(sources.len(), 2, "{f}");
        assert!(sources[0]["what"].as_str().unwrap().contains("before the trace"), "{f}");
        assert!(sources[1]["what"].as_str().unwrap().contains("PENDING"), "{f}");
    }
    assert_eq!(doc["summary"]["fresh"], 0, "{doc}");
}

/// The same row and values, but the key was last emptied after the REFUNDED commit and the
/// reader missed it after that: the fill read the database after it, so the old PENDING is no
/// source and the read after the later PENDING's receipt — and the one inside its uncertainty —
/// are fresh.
#[test]
fn an_old_equal_version_before_the_fill_window_is_no_source() {
    let pending = json(5, "PENDING", "3.50");
    let doc = check_built(|t| {
        t.redis(0, READER, ["SETEX", "order:5", "300", &json(5, "REFUNDED", "3.50")])
            .update(5 * MS, ORDERS, order(5, "PENDING", "3.50"), order(5, "REFUNDED", "3.50"))
            .redis(11 * MS, WRITER, ["DEL", "order:5"])
            .redis(15 * MS, READER, ["GET", "order:5"])
            .redis(20 * MS, READER, ["SETEX", "order:5", "300", &pending])
            .redis(21 * MS, OTHER, ["GET", "order:5"])
            .update(22 * MS, ORDERS, order(5, "REFUNDED", "3.50"), order(5, "PENDING", "3.50"))
            .redis(30 * MS, OTHER, ["GET", "order:5"]);
    });
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{doc}");
    assert_eq!(doc["summary"]["fresh"], 2, "{doc}");
}
