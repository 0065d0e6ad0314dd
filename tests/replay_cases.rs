//! `cachetape replay --perturb W` on small hand-written traces: (a) a late
//! invalidation 4 ms after its commit with no read in the gap is clean as recorded and found at
//! 5 ms with a margin between 0 and 5 ms; (b) a stale-set race likewise; (c) events further apart
//! than the window have one schedule and stay clean; (d) no schedule puts a SET before the commit
//! of the value it writes. Also: byte-identical JSON for `--jobs 1` and `--jobs 2` on a trace
//! with sampled components; every finding's `--schedule`, replayed through the full analyzer,
//! flags that read; the regression API; `--expect`, the HTML page and the errors.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use cachetape::report::{ReportFormat, TextReport};
use cachetape_tape::{RowImage, Value};
use cachetape_testkit::trace::{TraceBuilder, cache_and_db, image, text};

use crate::util::cachetape;

/// 2026-11-26 04:15:25 UTC.
const T0: i64 = 1_795_666_525_000_000;
const MS: i64 = 1_000;
const ORDERS: &str = "shop.orders";

const MAPPING: &str = r#"[[rule]]
key = "order:{id}"
table = "shop.orders"
column = "status"
"#;

const READER: &str = "10.0.0.9:40000";
const OTHER: &str = "10.0.0.8:41000";
const WRITER: &str = "10.0.0.7:51234";

/// A trace of a Redis node `cache` and a MariaDB `db`, recorded live from T0: times are µs after
/// T0, MONITOR lines arrive 50 µs after their timestamp, commits carry no XID.
pub(crate) type Trace = TraceBuilder<BufWriter<File>>;

/// Writes the trace `build` makes as `case.bin`, with the mapping beside it, in a temporary
/// directory; returns the directory (the trace lives as long as it) and the trace's path.
pub(crate) fn case(build: impl FnOnce(&mut Trace)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.bin");
    std::fs::write(dir.path().join("case.toml"), MAPPING).unwrap();
    let mut trace = TraceBuilder::create(&path, &cache_and_db(T0));
    trace.monitor_delay(50).xids(false);
    build(&mut trace);
    trace.finish();
    (dir, path)
}

fn order(id: i64, status: &str) -> RowImage {
    image([("id", Value::Int(id)), ("status", text(status))])
}

/// `cachetape replay TRACE ARGS…`: (stdout, exit code); panics on an error exit.
fn replay(trace: &Path, args: &[&str]) -> (String, i32) {
    let out = cachetape().arg("replay").arg(trace).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "replay {args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

fn replay_json(trace: &Path, args: &[&str]) -> (serde_json::Value, i32) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (out, code) = replay(trace, &all);
    (serde_json::from_str(&out).expect("one JSON document"), code)
}

/// Every finding's schedule, replayed through the full analyzer (`--schedule`), flags its read.
fn every_schedule_flags_its_read(trace: &Path, window: &str, doc: &serde_json::Value) {
    for f in doc["findings"].as_array().unwrap() {
        let id = f["schedule"].as_str().unwrap();
        let (replayed, code) = replay_json(trace, &["--perturb", window, "--schedule", id]);
        let flagged: Vec<u64> = replayed["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["seq"].as_u64().unwrap())
            .collect();
        assert!(
            flagged.contains(&f["seq"].as_u64().unwrap()),
            "schedule {id} replayed through the analyzer does not flag read #{}: {flagged:?}\n{f}",
            f["seq"]
        );
        assert_eq!(code, 1);
    }
}

/// Cached while fresh; the commit supersedes it; the DEL comes 4 ms later; the next read comes
/// after the DEL (a miss): no read falls inside the gap.
pub(crate) fn late_invalidation(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:7", "300", "NEW"])
        .redis(2 * MS, OTHER, ["GET", "order:7"])
        .update(10 * MS, ORDERS, order(7, "NEW"), order(7, "PAID"))
        .redis(14 * MS, WRITER, ["DEL", "order:7"])
        .redis(16 * MS, OTHER, ["GET", "order:7"]);
}

#[test]
fn late_invalidation_is_clean_as_recorded_and_found_under_5ms() {
    let (_dir, trace) = case(late_invalidation);
    let (text, code) = replay(&trace, &["--perturb", "0"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("verdict: clean under ±0 (exhaustive)"), "{text}");

    let (text, code) = replay(&trace, &["--perturb", "5ms"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "DEL order:7 from 10.0.0.7:51234 lands 2.0ms later, after GET order:7 from \
             10.0.0.8:41000"
        ),
        "{text}"
    );
    assert!(text.contains("margin: clean below 2.0ms, stale from 2.0ms"), "{text}");

    let (doc, code) = replay_json(&trace, &["--perturb", "5ms"]);
    assert_eq!(code, 1);
    assert_eq!(doc["summary"]["verdict"], "stale");
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc}");
    let f = &findings[0];
    assert_eq!(f["key"], "order:7");
    assert_eq!(f["client"], OTHER);
    assert_eq!(f["seq"], 5);
    assert_eq!(f["served"], "NEW");
    assert_eq!(f["db"], "PAID");
    assert_eq!(f["verdict"], "stale-possible");
    assert_eq!(f["cause"], "late-invalidation");
    let margin = f["margin_us"].as_i64().unwrap();
    assert!(margin > 0 && margin < 5 * MS, "{f}");
    assert_eq!(f["moves"][0]["moved"], 5);
    assert_eq!(f["moves"][0]["past"], 4);
    assert_eq!(f["moves"][0]["shift_us"], 2 * MS);
    let roles: Vec<&str> =
        f["chain"].as_array().unwrap().iter().map(|l| l["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["write", "superseded-by", "invalidation"]);
    every_schedule_flags_its_read(&trace, "5ms", &doc);

    // Below the margin it is clean again.
    assert_eq!(replay(&trace, &["--perturb", "1900us"]).1, 0);
}

/// The commit lands first; the reader's SETEX of the old value comes 1 ms later and the
/// writer's DEL 1 ms after that removes it; the next read (a miss) comes 8 ms later. Clean as
/// recorded; if the DEL lands before the SETEX, the old value stays and the read is served it.
pub(crate) fn stale_set(t: &mut Trace) {
    t.redis(0, READER, ["GET", "order:42"])
        .update(10 * MS, ORDERS, order(42, "CANCELLED"), order(42, "PAID"))
        .redis(11 * MS, READER, ["SETEX", "order:42", "300", "CANCELLED"])
        .redis(12 * MS, WRITER, ["DEL", "order:42"])
        .redis(20 * MS, OTHER, ["GET", "order:42"]);
}

#[test]
fn stale_set_is_clean_as_recorded_and_found_under_5ms() {
    let (_dir, trace) = case(stale_set);
    // As recorded both reads miss: no stale read, but nothing judged either — inconclusive,
    // never clean.
    let (doc, code) = replay_json(&trace, &["--perturb", "0"]);
    assert_eq!(code, 3, "{doc}");
    assert_eq!(doc["summary"]["verdict"], "inconclusive");
    assert_eq!(
        doc["summary"]["verdict_text"],
        "inconclusive: no read of a mapped key hit a value (2 read(s)), so none was judged; the \
         mapped keys were written 1 time(s): if a cache tier in front of Redis (an in-process memory \
         store, such as cache-manager's first store) served the reads, they never reached \
         Redis, and no trace of Redis shows them"
    );
    let (doc, code) = replay_json(&trace, &["--perturb", "5ms"]);
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc}");
    let f = &findings[0];
    assert_eq!((f["key"].as_str(), f["seq"].as_u64()), (Some("order:42"), Some(5)));
    assert_eq!(f["cause"], "stale-set");
    assert_eq!((f["served"].as_str(), f["db"].as_str()), (Some("CANCELLED"), Some("PAID")));
    let margin = f["margin_us"].as_i64().unwrap();
    assert!(margin > 0 && margin < 5 * MS, "{f}");
    assert_eq!(f["age_us"], 10 * MS);
    every_schedule_flags_its_read(&trace, "5ms", &doc);
    let (text, _) = replay(&trace, &["--perturb", "5ms"]);
    assert!(
        text.contains(
            "SETEX order:42 → CANCELLED from 10.0.0.9:40000 lands 1.0ms later, after DEL \
             order:42 from 10.0.0.7:51234"
        ),
        "{text}"
    );
}

#[test]
fn events_further_apart_than_the_window_have_one_schedule() {
    let (_dir, trace) = case(|t| {
        t.redis(0, READER, ["SETEX", "order:3", "300", "NEW"])
            .redis(10 * MS, OTHER, ["GET", "order:3"])
            .update(20 * MS, ORDERS, order(3, "NEW"), order(3, "PAID"))
            .redis(30 * MS, WRITER, ["DEL", "order:3"])
            .redis(40 * MS, OTHER, ["GET", "order:3"])
            .redis(50 * MS, OTHER, ["SETEX", "order:3", "300", "PAID"])
            .redis(60 * MS, READER, ["GET", "order:3"]);
    });
    let (doc, code) = replay_json(&trace, &["--perturb", "5ms"]);
    assert_eq!(code, 0, "{doc}");
    let s = &doc["summary"];
    // Quiet gaps longer than the window cut the key's history into parts: one schedule each.
    let parts = s["components"].as_u64().unwrap() + s["components_quiet"].as_u64().unwrap();
    assert!(parts >= 1, "{s}");
    assert_eq!(s["schedules"].as_u64().unwrap(), parts, "{s}");
    assert_eq!(s["verdict_text"], "clean under ±5ms (exhaustive)");
    assert!(doc["findings"].as_array().unwrap().is_empty());
}

/// The commit of PAID, the reader's SET of PAID 1 ms later (a value it can only have read after
/// that commit), another client's GET 1 ms after that. The GET may run before the commit, but
/// the SET may not: so no order serves the GET anything before the commit.
pub(crate) fn causality(t: &mut Trace) {
    t.redis(0, OTHER, ["GET", "order:5"])
        .update(10 * MS, ORDERS, order(5, "NEW"), order(5, "PAID"))
        .redis(11 * MS, READER, ["SET", "order:5", "PAID"])
        .redis(12 * MS, OTHER, ["GET", "order:5"]);
}

#[test]
fn no_schedule_puts_a_set_before_the_commit_of_its_value() {
    let (_dir, trace) = case(causality);
    let (doc, code) = replay_json(&trace, &["--perturb", "5ms"]);
    assert_eq!(code, 0, "{doc}");
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{doc}");
    // The first GET is more than 5 ms before the rest: a part of its own, and provably clean
    // (nothing cached, nothing committed), so not explored. In component 0 (COMMIT, SET, GET),
    // the order the window alone would allow that puts the SET and the GET before the commit is
    // refused by name.
    assert_eq!(doc["summary"]["components_quiet"], 1);
    let id = cachetape::perturb::schedule_id(0, &[1, 2, 0]);
    let out = cachetape()
        .arg("replay")
        .arg(&trace)
        .args(["--perturb", "5ms", "--schedule", &id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not an order the trace could have taken under ±5ms"), "{stderr}");
    // The same order through the API, and the recorded order, which replays clean.
    let replay = cachetape::Replay::open(&trace).unwrap().perturb(ms(5));
    assert!(replay.replay_schedule(&id).is_err());
    let recorded = cachetape::perturb::schedule_id(0, &[0, 1, 2]);
    assert!(replay.replay_schedule(&recorded).unwrap().report.is_clean());
}

fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

/// Several keys, each with clients racing within a few ms: components too large for a small
/// budget are sampled.
pub(crate) fn busy(t: &mut Trace) {
    let clients = ["10.0.0.1:1", "10.0.0.2:2", "10.0.0.3:3", "10.0.0.4:4"];
    let statuses = ["A", "B", "C", "D", "E", "F"];
    for key in 0..4i64 {
        let base = key * 100 * MS;
        let name = format!("order:{key}");
        t.redis(base, clients[0], ["SETEX", &name, "300", "A"]);
        for step in 0..5i64 {
            let at = base + MS + step * 700;
            let (from, to) = (statuses[step as usize], statuses[step as usize + 1]);
            t.update(at, ORDERS, order(key, from), order(key, to));
            t.redis(at + 200, clients[(step % 4) as usize], ["GET", &name]);
            t.redis(at + 400, clients[((step + 1) % 4) as usize], ["SETEX", &name, "300", to]);
            t.redis(at + 500, clients[((step + 2) % 4) as usize], ["DEL", &name]);
            t.redis(at + 600, clients[((step + 3) % 4) as usize], ["GET", &name]);
        }
    }
}

#[test]
fn json_is_byte_identical_for_any_jobs_and_every_schedule_flags_its_read() {
    let (_dir, trace) = case(busy);
    let args = ["--perturb", "5ms", "--budget", "50", "--seed", "7", "--format", "json"];
    let mut one = args.to_vec();
    one.extend(["--jobs", "1"]);
    let mut two = args.to_vec();
    two.extend(["--jobs", "2"]);
    let (a, code) = replay(&trace, &one);
    let (b, _) = replay(&trace, &two);
    assert_eq!(a, b, "--jobs 1 and --jobs 2 differ");
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(doc["summary"]["components"], 4);
    assert!(doc["summary"]["components_sampled"].as_u64().unwrap() >= 1, "{}", doc["summary"]);
    let sampled = &doc["summary"]["sampled"][0];
    assert!(sampled["tried"].as_u64().unwrap() <= 50, "{sampled}");
    assert!(sampled["about"].as_u64().unwrap() > 50, "{sampled}");
    assert!(
        doc["summary"]["verdict_text"] == "stale"
            || !doc["findings"].as_array().unwrap().is_empty()
    );
    every_schedule_flags_its_read(&trace, "5ms", &doc);
    // The text names the sampled components with their coverage.
    let (text, _) = replay(&trace, &["--perturb", "5ms", "--budget", "50", "--seed", "7"]);
    assert!(text.contains("sampled ") && text.contains(" of about "), "{text}");
}

#[test]
fn the_regression_api_reports_what_the_cli_prints() {
    let (_dir, trace) = case(stale_set);
    let report = cachetape::Replay::open(&trace)
        .unwrap()
        .perturb(ms(5))
        .seed(1)
        .jobs(2)
        .budget(1_000)
        .run()
        .unwrap();
    assert!(!report.is_clean());
    let stale = report.stale_reads();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].read.key, "order:42");
    assert_eq!(stale[0].read.cause, cachetape::analyzer::Cause::StaleSet);
    assert_eq!(stale[0].read.verdict, cachetape::analyzer::Verdict::StalePossible);
    assert!(stale[0].story[0].starts_with("SETEX order:42 → CANCELLED"), "{:?}", stale[0].story);
    let (text, _) = replay(&trace, &["--perturb", "5ms", "--budget", "1000"]);
    assert_eq!(TextReport.render(&report, &trace.display().to_string()), text);
    // As recorded no read hits: no stale read, nothing judged — inconclusive, never clean.
    let recorded = cachetape::Replay::open(&trace).unwrap().run().unwrap();
    assert!(!recorded.is_clean() && recorded.is_exhaustive(), "{}", recorded.verdict_text());
    assert_eq!(recorded.verdict(), cachetape::analyzer::TraceVerdict::Inconclusive);
    assert!(recorded.stale_reads().is_empty());
    // A mapping given explicitly; a missing one is an error that says so.
    let err = cachetape::Replay::open(&trace).unwrap().map("/nonexistent.toml").run().unwrap_err();
    assert!(err.to_string().contains("/nonexistent.toml does not exist"), "{err}");
    assert!(cachetape::Replay::open("/nonexistent.bin").is_err());
}

#[test]
fn expect_html_and_bad_input() {
    let (_dir, trace) = case(stale_set);
    assert_eq!(replay(&trace, &["--perturb", "5ms", "--expect", "stale"]).1, 0);
    assert_eq!(replay(&trace, &["--perturb", "5ms", "--expect", "clean"]).1, 1);
    // As recorded nothing is judged (both reads miss): inconclusive, which `--expect clean`
    // does not pass.
    assert_eq!(replay(&trace, &["--expect", "clean"]).1, 3);
    let html = trace.with_extension("html");
    let html_arg = html.display().to_string();
    replay(&trace, &["--perturb", "5ms", "--html", &html_arg]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Perturbation ±5ms</h2>") && page.contains("stale-set"), "{page}");
    assert!(page.trim_end().ends_with("</html>"));
    for (args, message) in [
        (&["--perturb", "5 parsecs"][..], "unknown unit"),
        (&["--perturb", "5ms", "--schedule", "nonsense"][..], "schedule"),
        (&["--perturb", "5ms", "--schedule", "c9-n1"][..], "names component 9"),
    ] {
        let out = cachetape().arg("replay").arg(&trace).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn every_finding_on_the_shipped_incident_replays_stale_through_the_analyzer() {
    let replay = cachetape::Replay::open("traces/incident.bin").unwrap().perturb(ms(5)).jobs(2);
    let report = replay.run().unwrap();
    assert!(
        report
            .stale_reads()
            .iter()
            .any(|r| r.read.verdict == cachetape::analyzer::Verdict::StalePossible)
    );
    let mut checked = std::collections::BTreeMap::new();
    for read in report.stale_reads() {
        let flagged = checked.entry(read.schedule.clone()).or_insert_with(|| {
            let replayed = replay.replay_schedule(&read.schedule).unwrap();
            replayed.report.findings.iter().map(|f| f.seq).collect::<Vec<u64>>()
        });
        assert!(
            flagged.contains(&read.read.seq),
            "schedule {} does not flag #{} ({} {})",
            read.schedule,
            read.read.seq,
            read.read.key,
            read.read.cause
        );
    }
}

/// The binlog late: the writer deletes, a reader misses and refills with PAID, and the commit
/// that produced PAID is recorded 2 ms after the refill (its binlog event arrived late); another
/// client reads PAID right after the commit's receipt. By value causality the commit came before
/// the refill, so no order serves that read stale: no schedule may move the commit after the
/// read while the refill stays before it.
#[test]
fn a_refill_recorded_before_its_late_commit_is_never_stale_under_5ms() {
    let (_dir, trace) = case(|t| {
        t.redis(0, READER, ["SETEX", "order:5", "300", "NEW"])
            .update(MS, ORDERS, order(5, "CANCELLED"), order(5, "NEW"))
            .redis(20 * MS, WRITER, ["DEL", "order:5"])
            .redis(20 * MS + 10, READER, ["GET", "order:5"])
            .redis(20 * MS + 100, READER, ["SETEX", "order:5", "300", "PAID"])
            .update(22 * MS, ORDERS, order(5, "NEW"), order(5, "PAID"))
            .redis(22 * MS + 200, OTHER, ["GET", "order:5"]);
    });
    let (doc, _) = replay_json(&trace, &["--perturb", "5ms"]);
    let last_read = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["key"] == "order:5" && f["served"] == "PAID")
        .map(|f| f.to_string())
        .collect::<Vec<_>>();
    assert!(last_read.is_empty(), "the read of PAID is fresh in every order: {last_read:?}");
    every_schedule_flags_its_read(&trace, "5ms", &doc);
}
