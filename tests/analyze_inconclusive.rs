//! A trace that could not be judged is never clean: `analyze` and `replay --perturb` end
//! `inconclusive` (exit code 3, `"verdict": "inconclusive"`, its own line at the top of the
//! text report, `--expect clean` failing with a reason) when nothing was judged or fewer than
//! `--min-verifiable` of the hits of mapped keys could be decoded and compared. One test per way
//! a trace goes unjudged: a mapping whose `node` is a typo, an empty mapping, a key pattern that
//! matches no key, a Redis-only trace, a trace of no events, and values no rule can decode
//! (Python pickles under a JSON rule with `decode = "json"`), and a rule none of whose hits could
//! be compared while the others were. Also: the key families nothing judged are listed on stderr
//! and in every report, and `replay` treats a value it cannot compare as unverifiable, never as a
//! stale "unexplained" read.

use std::path::{Path, PathBuf};

use cachetape_tape::{RowImage, Value};
use cachetape_testkit::trace::{TraceBuilder, image, redis_only, text};

use crate::analyze_cases::{MAPPING, Trace, create};
use crate::util::cachetape;

/// 2026-11-26 04:15:25 UTC.
const T0: i64 = 1_795_666_525_000_000;
const MS: i64 = 1_000;
const ORDERS: &str = "shop.orders";
const READER: &str = "10.0.0.9:40000";
const WRITER: &str = "10.0.0.7:51234";

fn order(id: i64, status: &str) -> RowImage {
    image([
        ("id", Value::Int(id)),
        ("status", text(status)),
        ("total", Value::Decimal("9.99".into())),
        ("note", Value::Null),
    ])
}

fn json(id: i64, status: &str) -> String {
    format!(r#"{{"id":{id},"status":"{status}","total":9.99}}"#)
}

/// Cache-aside done right on order:1 (judged fresh), and sessions written that no rule maps.
fn cache_aside(t: &mut Trace) {
    t.redis(0, READER, ["SETEX", "order:1", "300", &json(1, "NEW")])
        .redis(2 * MS, READER, ["GET", "order:1"])
        .update(10 * MS, ORDERS, order(1, "NEW"), order(1, "PAID"))
        .redis(11 * MS, WRITER, ["DEL", "order:1"])
        .redis(30 * MS, READER, ["SETEX", "order:1", "300", &json(1, "PAID")])
        .redis(40 * MS, READER, ["GET", "order:1"])
        .redis(41 * MS, READER, ["SET", "session:ab12", "x"])
        .redis(42 * MS, READER, ["SET", "session:cd34", "y"])
        .redis(43 * MS, READER, ["GET", "session:cd34"]);
}

/// What `analyze` printed and exited with.
struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `cachetape ARGS… case.bin MORE…` in `dir`.
fn run(dir: &Path, args: &[&str], more: &[&str]) -> Run {
    let out = cachetape().current_dir(dir).args(args).arg("case.bin").args(more).output().unwrap();
    let run = Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap(),
    };
    assert_ne!(run.code, 2, "cachetape {args:?} failed: {}", run.stderr);
    run
}

/// The trace `build` makes (Redis + MariaDB) and `mapping` beside it, in a temporary directory.
fn case(build: impl FnOnce(&mut Trace), mapping: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut trace = create(&dir.path().join("case.bin"));
    build(&mut trace);
    trace.finish();
    std::fs::write(dir.path().join("case.toml"), mapping).unwrap();
    dir
}

/// `analyze` calls the trace in `dir` inconclusive in text, JSON and HTML, exits 3 with and
/// without `--expect clean` (saying why), and never prints "100% verifiable" of nothing.
/// Returns the JSON summary.
fn assert_inconclusive(dir: &Path, why: &str) -> serde_json::Value {
    let text = run(dir, &["analyze"], &[]);
    assert_eq!(text.code, 3, "{}", text.stdout);
    let verdict = text.stdout.lines().find(|l| l.starts_with("INCONCLUSIVE: ")).unwrap_or("");
    assert!(!verdict.is_empty(), "no verdict line: {}", text.stdout);
    assert!(!text.stdout.contains("CLEAN"), "{}", text.stdout);
    assert!(text.stdout.contains(why), "`{why}` not in {}", text.stdout);
    assert!(text.stderr.contains(why), "`{why}` not on stderr: {}", text.stderr);

    let expect = run(dir, &["analyze"], &["--expect", "clean"]);
    assert_eq!(expect.code, 3);
    assert!(
        expect.stderr.contains("expected a clean trace, but the verdict is inconclusive"),
        "{}",
        expect.stderr
    );
    assert_eq!(run(dir, &["analyze"], &["--expect", "stale"]).code, 3);

    let json = run(dir, &["analyze"], &["--format", "json"]);
    assert_eq!(json.code, 3);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let s = doc["summary"].clone();
    assert_eq!(s["verdict"], "inconclusive", "{s}");
    assert!(!s["inconclusive"].as_array().unwrap().is_empty(), "{s}");
    if s["hits"] == 0 {
        assert!(s["share_verifiable"].is_null(), "{s}");
    }

    let html = run(dir, &["analyze"], &["--html", "case.html"]);
    assert_eq!(html.code, 3);
    let page = std::fs::read_to_string(dir.join("case.html")).unwrap();
    assert!(page.contains(r#"<p class="verdict inconclusive">"#), "{page}");
    s
}

#[test]
fn a_mapping_whose_node_is_a_typo_is_inconclusive() {
    let mapping = format!("{MAPPING}node = \"cahce\"\n");
    let dir = case(cache_aside, &mapping);
    let s = assert_inconclusive(dir.path(), "no key in the trace matches a rule");
    assert_eq!(s["hits"], 0);
    // What was written is listed: its family, count and a sample key.
    let families = s["unmapped_families"].as_array().unwrap();
    assert_eq!(families[0]["family"], "order:{…}", "{s}");
    assert_eq!(families[0]["writes"], 2, "{s}");
    assert_eq!(families[0]["sample_key"], "order:1", "{s}");
    assert_eq!(families[1]["family"], "session:{…}", "{s}");
}

#[test]
fn an_empty_mapping_is_inconclusive() {
    let dir = case(cache_aside, "");
    assert_inconclusive(dir.path(), "the mapping has no rule");
}

#[test]
fn a_key_pattern_matching_no_key_is_inconclusive() {
    let mapping = MAPPING.replace("order:{id}", "orders:{id}");
    let dir = case(cache_aside, &mapping);
    let s = assert_inconclusive(dir.path(), "no key in the trace matches a rule");
    let stderr = run(dir.path(), &["analyze"], &[]).stderr;
    assert!(
        stderr.contains("key family order:{…} is written (2 write(s), e.g. order:1)"),
        "{stderr}"
    );
    assert_eq!(s["unmapped_rest"]["writes"], 0, "{s}");
}

#[test]
fn a_redis_only_trace_is_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    let mut trace =
        TraceBuilder::create(dir.path().join("case.bin"), &redis_only(T0, "cache", "cache:1"));
    trace
        .redis(0, READER, ["SETEX", "order:1", "300", &json(1, "NEW")])
        .redis(2 * MS, READER, ["GET", "order:1"])
        .redis(4 * MS, READER, ["GET", "order:1"]);
    trace.finish();
    std::fs::write(dir.path().join("case.toml"), MAPPING).unwrap();
    let s = assert_inconclusive(dir.path(), "the trace has no database evidence for their rows");
    assert_eq!((s["hits"].as_u64(), s["no_db_evidence"].as_u64()), (Some(2), Some(2)), "{s}");
    // No database evidence is its own figure: the values were read and compared.
    assert_eq!(s["share_verifiable"], 1.0, "{s}");
}

#[test]
fn a_trace_of_no_events_is_inconclusive() {
    let dir = case(|_| {}, MAPPING);
    let s = assert_inconclusive(dir.path(), "the trace has no events");
    assert_eq!(s["events"], 0);
    let text = run(dir.path(), &["analyze"], &[]).stdout;
    assert!(!text.contains("100%"), "{text}");
    assert!(text.contains("decoded and compared: no hit of a mapped key"), "{text}");
}

/// The pickled values of `tests/fixtures/pickled/orders.hex` (made by `generate.py` with
/// Python's pickle, as Django's `RedisCache` stores a dict): (id, status, bytes).
fn pickled() -> Vec<(i64, String, Vec<u8>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickled/orders.hex");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            let mut parts = line.split(' ');
            let id = parts.next().unwrap().parse().unwrap();
            let status = parts.next().unwrap().to_string();
            let hex = parts.next().unwrap();
            let bytes =
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
            (id, status, bytes.collect())
        })
        .collect()
}

/// Django's cache-aside with pickled values: a reader caches order:42 as CANCELLED, the writer
/// commits PAID and deletes it, a reader caches PAID; reads in between. Every hit serves a value
/// the JSON rule cannot read.
fn pickled_cache_aside(t: &mut Trace) {
    pickled_cache_aside_at(t, 0, "order:42");
}

/// [`pickled_cache_aside`], `base` µs later, on `key`.
fn pickled_cache_aside_at(t: &mut Trace, base: i64, key: &str) {
    let key = key.as_bytes();
    let values = pickled();
    let value =
        |status: &str| values.iter().find(|(id, s, _)| *id == 42 && s == status).unwrap().2.clone();
    let cmd = |args: &[&[u8]]| args.iter().map(|a| a.to_vec()).collect::<Vec<Vec<u8>>>();
    t.redis(base, READER, cmd(&[b"SETEX", key, b"300", &value("CANCELLED")]))
        .redis(base + 2 * MS, READER, cmd(&[b"GET", key]))
        .update(base + 10 * MS, ORDERS, order(42, "CANCELLED"), order(42, "PAID"))
        .redis(base + 12 * MS, READER, cmd(&[b"GET", key]))
        .redis(base + 13 * MS, WRITER, cmd(&[b"DEL", key]))
        .redis(base + 30 * MS, READER, cmd(&[b"SETEX", key, b"300", &value("PAID")]))
        .redis(base + 40 * MS, READER, cmd(&[b"GET", key]))
        .redis(base + 41 * MS, READER, cmd(&[b"GET", key]));
}

const JSON_RULE: &str = r#"[[rule]]
key = "order:{id}"
table = "shop.orders"
json = ["id", "status", "total"]
decode = "json"
"#;

#[test]
fn values_no_rule_can_decode_are_inconclusive_and_listed_with_their_first_bytes() {
    let dir = case(pickled_cache_aside, JSON_RULE);
    let s = assert_inconclusive(dir.path(), "none of the 4 hit(s) of mapped keys was judged");
    assert_eq!((s["uncomparable"].as_u64(), s["judged"].as_u64()), (Some(4), Some(0)), "{s}");
    assert_eq!(s["share_verifiable"], 0.0, "{s}");
    let f = &s["undecodable_families"][0];
    assert_eq!(f["family"], "order:{id}", "{s}");
    assert_eq!((f["unreadable"].as_u64(), f["writes"].as_u64()), (Some(2), Some(2)), "{f}");
    assert!(f["head"].as_str().unwrap().starts_with("80 05 95"), "{f}");
    let text = run(dir.path(), &["analyze"], &[]);
    assert!(
        text.stdout.contains("mapped, but with values the rule could not read"),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr.contains("value(s) written to keys order:{id} could not be read"),
        "{}",
        text.stderr
    );
}

#[test]
fn min_verifiable_bounds_the_share_of_hits_decoded_and_compared() {
    // order:1 judged fresh twice; order:42's four pickled hits cannot be compared: 33%.
    let both = |t: &mut Trace| {
        cache_aside(t);
        pickled_cache_aside_at(t, 100 * MS, "order:42");
    };
    let dir = case(both, JSON_RULE);
    let s = assert_inconclusive(dir.path(), "only 33.3% of the 6 hit(s) of mapped keys");
    assert_eq!(s["min_verifiable"], 0.9);
    let lenient = run(dir.path(), &["analyze"], &["--min-verifiable", "30%"]);
    assert_eq!(lenient.code, 0, "{}", lenient.stdout);
    assert!(lenient.stdout.contains("CLEAN: "), "{}", lenient.stdout);
    let bad = cachetape()
        .current_dir(dir.path())
        .args(["analyze", "case.bin", "--min-verifiable", "190%"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_rule_none_of_whose_hits_could_be_compared_is_inconclusive_whatever_the_share() {
    // 42 hits of order:1 judged fresh; the 4 of legacy:42 (pickled, another rule) cannot be
    // compared: 91% of the hits were, above --min-verifiable, but one rule was not judged at all.
    let build = |t: &mut Trace| {
        cache_aside(t);
        for i in 0..40 {
            t.redis(50 * MS + i * 100, READER, ["GET", "order:1"]);
        }
        pickled_cache_aside_at(t, 100 * MS, "legacy:42");
    };
    let mapping = format!("{JSON_RULE}\n{}", JSON_RULE.replace("order:{id}", "legacy:{id}"));
    let dir = case(build, &mapping);
    let s =
        assert_inconclusive(dir.path(), "no hit of keys legacy:{id} was judged: 4 of its 4 hit(s)");
    assert_eq!((s["judged"].as_u64(), s["uncomparable"].as_u64()), (Some(42), Some(4)), "{s}");
    assert_eq!(s["inconclusive"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["undecodable_families"][0]["family"], "legacy:{id}", "{s}");
}

#[test]
fn replay_calls_values_it_cannot_compare_unverifiable_never_stale() {
    let dir = case(pickled_cache_aside, JSON_RULE);
    let text = run(dir.path(), &["replay", "--perturb", "5ms"], &[]);
    assert_eq!(text.code, 3, "{}", text.stdout);
    assert!(
        text.stdout.starts_with("cachetape replay --perturb 5ms case.bin\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("\nINCONCLUSIVE: "), "{}", text.stdout);
    assert!(
        text.stdout.contains("4 hit(s) unverifiable (the cached value is not JSON: 4)"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("verdict: inconclusive: "), "{}", text.stdout);
    assert!(!text.stdout.contains("stale-definite"), "{}", text.stdout);
    let json = run(dir.path(), &["replay", "--perturb", "5ms"], &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["verdict"], "inconclusive", "{doc}");
    assert_eq!(doc["summary"]["recorded"]["verdict"], "inconclusive", "{doc}");
    assert!(doc["findings"].as_array().unwrap().is_empty(), "{doc}");
    assert_eq!(doc["summary"]["recorded"]["uncomparable"], 4, "{doc}");
    let expect = run(dir.path(), &["replay", "--perturb", "5ms"], &["--expect", "clean"]);
    assert_eq!(expect.code, 3);
    assert!(expect.stderr.contains("the verdict is inconclusive"), "{}", expect.stderr);
}

#[test]
fn a_judged_trace_lists_its_unmapped_families_and_stays_clean() {
    let dir = case(cache_aside, MAPPING);
    let out = run(dir.path(), &["analyze"], &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("written, but matched by no rule of the mapping:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("    session:{…}  2 write(s), e.g. session:ab12"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("key family session:{…} is written"), "{}", out.stderr);
}
