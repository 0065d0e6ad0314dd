//! `cachetape analyze` on small hand-written traces, one per verdict and cause, with golden
//! text and JSON (insta): a stale set, a late invalidation, a missing invalidation, an
//! unexplained value, a possibly stale read inside the DB's uncertainty, an unverifiable read of
//! a row the trace never changed (inconclusive: nothing else was judged), and a clean trace.
//! Also the exit codes, `--expect`, and the errors a bad mapping gets.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use cachetape_tape::{RowImage, Value};
use cachetape_testkit::trace::{TraceBuilder, cache_and_db, image, text};

use crate::util::cachetape;

/// 2026-11-26 04:15:25 UTC.
const T0: i64 = 1_795_666_525_000_000;
pub(crate) const MS: i64 = 1_000;
pub(crate) const ORDERS: &str = "shop.orders";

pub(crate) const MAPPING: &str = r#"[[rule]]
key = "order:{id}"
table = "shop.orders"
json = ["id", "status", "total"]
"#;

/// A trace of a Redis node `cache` and a MariaDB `db`, recorded live from T0: times are µs after
/// T0, MONITOR lines arrive 100 µs after their timestamp, commits carry their XID.
pub(crate) type Trace = TraceBuilder<BufWriter<File>>;

/// Starts the trace at `path`.
pub(crate) fn create(path: &Path) -> Trace {
    let mut trace = TraceBuilder::create(path, &cache_and_db(T0));
    trace.monitor_delay(100);
    trace
}

pub(crate) fn order(id: i64, status: &str, total: &str) -> RowImage {
    image([
        ("id", Value::Int(id)),
        ("status", text(status)),
        ("total", Value::Decimal(total.into())),
        ("note", Value::Null),
    ])
}

/// The JSON a reader caches for an order.
pub(crate) fn json(id: i64, status: &str, total: &str) -> String {
    format!(r#"{{"id":{id},"status":"{status}","total":{total}}}"#)
}

pub(crate) const READER: &str = "10.0.0.9:40000";
pub(crate) const OTHER: &str = "10.0.0.8:41000";
pub(crate) const WRITER: &str = "10.0.0.7:51234";

/// Writes the trace made by `build` and the default mapping into a temp dir; runs `analyze`
/// with `args` there; returns (stdout, exit code).
fn analyze(build: impl FnOnce(&mut Trace), mapping: Option<&str>, args: &[&str]) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = create(&dir.path().join("case.bin"));
    build(&mut trace);
    trace.finish();
    if let Some(m) = mapping {
        std::fs::write(dir.path().join("case.toml"), m).unwrap();
    }
    let out = cachetape()
        .current_dir(dir.path())
        .arg("analyze")
        .arg("case.bin")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() != Some(2), "analyze failed: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

fn golden(name: &str, build: impl Fn(&mut Trace), expect_code: i32) {
    let (text, code) = analyze(&build, Some(MAPPING), &[]);
    assert_eq!(code, expect_code, "{text}");
    insta::assert_snapshot!(format!("{name}_text"), text);
    let (json, code) = analyze(&build, Some(MAPPING), &["--format", "json"]);
    assert_eq!(code, expect_code);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(doc["summary"].is_object() && doc["findings"].is_array());
    insta::assert_snapshot!(format!("{name}_json"), json);
}

/// Reader misses, the writer commits PAID and DELs (nothing to delete), then the reader's SETEX
/// of what it read before lands: every later hit is stale until the TTL.
pub(crate) fn stale_set(t: &mut Trace) {
    t.redis(0, READER, ["GET", "order:42"])
        .update(10 * MS, ORDERS, order(42, "CANCELLED", "9.99"), order(42, "PAID", "9.99"))
        .redis(11 * MS, WRITER, ["DEL", "order:42"])
        .redis(30 * MS, READER, ["SETEX", "order:42", "300", &json(42, "CANCELLED", "9.99")])
        .redis(50 * MS, OTHER, ["GET", "order:42"])
        .redis(2_000 * MS, OTHER, ["GET", "order:42"]);
}

#[test]
fn stale_set_is_named_with_its_age_and_exposure() {
    golden("stale_set", stale_set, 1);
}

/// Cached while fresh; the commit supersedes it; a read before the DEL is stale.
pub(crate) fn late_invalidation(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:7", "300", &json(7, "NEW", "20.00")])
        .redis(2 * MS, OTHER, ["GET", "order:7"])
        .update(10 * MS, ORDERS, order(7, "NEW", "20.00"), order(7, "PAID", "20.00"))
        .redis(20 * MS, OTHER, ["GET", "order:7"])
        .redis(30 * MS, WRITER, ["DEL", "order:7"])
        .redis(40 * MS, OTHER, ["GET", "order:7"]);
}

#[test]
fn late_invalidation_is_named() {
    golden("late_invalidation", late_invalidation, 1);
}

/// No DEL follows the commit: the value stays until its 1 s TTL runs out.
pub(crate) fn missing_invalidation(t: &mut Trace) {
    t.redis(0, READER, ["SET", "order:8", &json(8, "NEW", "5"), "EX", "1"])
        .update(10 * MS, ORDERS, order(8, "NEW", "5.00"), order(8, "SHIPPED", "5.00"))
        .redis(20 * MS, OTHER, ["GET", "order:8"])
        .redis(1_500 * MS, OTHER, ["GET", "order:8"]);
}

#[test]
fn missing_invalidation_is_named() {
    golden("missing_invalidation", missing_invalidation, 1);
}

/// A value the DB never held: unexplained, never a silent stale-set.
pub(crate) fn unexplained(t: &mut Trace) {
    t.update(0, ORDERS, order(9, "NEW", "1.00"), order(9, "PAID", "1.00"))
        .redis(10 * MS, READER, ["SETEX", "order:9", "60", &json(9, "LOST", "1.00")])
        .redis(20 * MS, OTHER, ["GET", "order:9"]);
}

#[test]
fn unexplained_value_is_named() {
    golden("unexplained", unexplained, 1);
}

/// A read 2 ms before the commit's receipt: the commit may have happened up to 5 ms before it
/// (the binlog's delivery), so the read is possibly stale, not for certain.
pub(crate) fn stale_possible(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:5", "300", &json(5, "NEW", "3.50")])
        .redis(18 * MS, OTHER, ["GET", "order:5"])
        .update(20 * MS, ORDERS, order(5, "NEW", "3.50"), order(5, "PAID", "3.50"))
        .redis(21 * MS, WRITER, ["DEL", "order:5"]);
}

#[test]
fn read_inside_the_commit_uncertainty_is_possibly_stale() {
    golden("stale_possible", stale_possible, 1);
}

/// The binlog late: the writer commits PAID, refills the cache with it and a reader gets it,
/// all before the commit's binlog event arrives 15 ms after the commit (more than the 5 ms
/// `--db-lag` allows for). The cached value is the commit's, so by value causality the commit
/// came before the refill: the read is fresh, not an "unexplained" stale read. (Seen on a
/// loaded machine: binlog receipt up to 9.8 ms after the commit returned.)
#[test]
fn a_value_from_a_commit_whose_binlog_arrived_late_is_fresh() {
    let late = |t: &mut Trace| {
        t.redis(0, READER, ["SETEX", "order:6", "300", &json(6, "NEW", "2.00")])
            .update(MS, ORDERS, order(6, "CANCELLED", "2.00"), order(6, "NEW", "2.00"))
            .redis(30 * MS, WRITER, ["SETEX", "order:6", "300", &json(6, "PAID", "2.00")])
            .redis(32 * MS, OTHER, ["GET", "order:6"])
            .update(45 * MS, ORDERS, order(6, "NEW", "2.00"), order(6, "PAID", "2.00"))
            .redis(60 * MS, OTHER, ["GET", "order:6"]);
    };
    let (json, code) = analyze(late, Some(MAPPING), &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["fresh"], 2, "{doc}");
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{doc}");
}

/// A row the trace never changed: its reads are unverifiable, not fresh — and since nothing
/// else was judged, the trace is inconclusive (exit 3), never clean.
pub(crate) fn unverifiable(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:3", "300", &json(3, "NEW", "1")])
        .redis(10 * MS, OTHER, ["GET", "order:3"])
        .update(20 * MS, ORDERS, order(4, "NEW", "1.00"), order(4, "PAID", "1.00"));
}

#[test]
fn reads_of_a_row_never_changed_are_unverifiable() {
    golden("unverifiable", unverifiable, 3);
}

/// Cache-aside done right: commit, DEL, miss, refill, hit.
pub(crate) fn clean(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:1", "300", &json(1, "NEW", "12.5")])
        .redis(2 * MS, OTHER, ["GET", "order:1"])
        .update(10 * MS, ORDERS, order(1, "NEW", "12.50"), order(1, "PAID", "12.50"))
        .redis(11 * MS, WRITER, ["DEL", "order:1"])
        .redis(30 * MS, OTHER, ["GET", "order:1"])
        .redis(31 * MS, OTHER, ["SETEX", "order:1", "300", &json(1, "PAID", "12.500")])
        .redis(40 * MS, READER, ["GET", "order:1"]);
}

#[test]
fn clean_trace_exits_zero() {
    golden("clean", clean, 0);
}

#[test]
fn expect_turns_the_verdict_into_the_exit_code() {
    assert_eq!(analyze(stale_set, Some(MAPPING), &["--expect", "stale"]).1, 0);
    assert_eq!(analyze(stale_set, Some(MAPPING), &["--expect", "clean"]).1, 1);
    assert_eq!(analyze(clean, Some(MAPPING), &["--expect", "clean"]).1, 0);
    assert_eq!(analyze(clean, Some(MAPPING), &["--expect", "stale"]).1, 1);
}

#[test]
fn without_a_mapping_file_the_inferred_one_is_used_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = create(&dir.path().join("case.bin"));
    stale_set(&mut trace);
    trace.finish();
    let out = cachetape()
        .current_dir(dir.path())
        .args(["analyze", "case.bin", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("using the mapping inferred from the trace"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"][0]["cause"], "stale-set");
    let out =
        cachetape().current_dir(dir.path()).args(["map", "--infer", "case.bin"]).output().unwrap();
    let toml = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("inferred_mapping", toml);
}

#[test]
fn a_rule_naming_an_unknown_column_or_table_is_an_error_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = create(&dir.path().join("case.bin"));
    stale_set(&mut trace);
    trace.finish();
    let bad_column =
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"state\"\n";
    std::fs::write(dir.path().join("case.toml"), bad_column).unwrap();
    let out = cachetape().current_dir(dir.path()).args(["analyze", "case.bin"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rule 1 (order:{id}) names column `state`, which table `shop.orders` does not have (its columns: id, status, total, note)"),
        "{stderr}"
    );
    let bad_table = "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.order\"\ncolumn = \"status\"\n";
    std::fs::write(dir.path().join("case.toml"), bad_table).unwrap();
    let out = cachetape().current_dir(dir.path()).args(["analyze", "case.bin"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rule 1 (order:{id}) names table `shop.order`"), "{stderr}");
    let bad_toml = "[[rule]]\nkey = \"order\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n";
    std::fs::write(dir.path().join("case.toml"), bad_toml).unwrap();
    let out = cachetape().current_dir(dir.path()).args(["analyze", "case.bin"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rule 1 (order): `order` has no {placeholder}"), "{stderr}");
}
