//! Hostile but tiny traces (issue 18, item 3): each is generated here, then every command that
//! reads it runs under hard limits of address space and CPU time (`bounded.rs`), so a value
//! allocated for a tiny input, or a pass quadratic in a command's arguments or in the report's
//! size, fails the test instead of taking the machine.

use std::path::{Path, PathBuf};

use cachetape_testkit::trace::{TraceBuilder, redis_only};

use crate::bounded::{self, Bounded, Limits};

/// 2026-11-26 04:15:25 UTC.
const T0: i64 = 1_795_666_525_000_000;
const CLIENT: &str = "10.0.0.1:5000";

/// Room for the binary, its threads and the trace, and none for a 512 MiB value.
const LIMITS: Limits = Limits { address_space: 384 << 20, cpu_seconds: 20 };

/// Writes a Redis-only trace that `build` fills, as `name` in a new temporary directory.
fn trace(
    name: &str,
    build: impl FnOnce(&mut TraceBuilder<std::io::BufWriter<std::fs::File>>),
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let mut t = TraceBuilder::create(&path, &redis_only(T0, "cache", "redis://127.0.0.1:6379"));
    build(&mut t);
    t.finish();
    (dir, path)
}

/// `cachetape ARGS… TRACE` under [`LIMITS`]; panics when it did not end by itself.
fn run(args: &[&str], trace: &Path) -> Bounded {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    all.push(trace.as_os_str());
    let out = bounded::run(all, LIMITS);
    out.code();
    out
}

#[test]
fn setrange_far_past_the_end_is_answered_but_not_allocated() {
    // 20 SETRANGEs 512 MiB out (the trace is under 1 KB), one small one, and reads of both.
    let (_dir, path) = trace("setrange.bin", |t| {
        for i in 0..20 {
            let key = format!("k{i}");
            t.redis(i * 1_000, CLIENT, ["SETRANGE", key.as_str(), "536870000", "x"]);
        }
        t.redis(30_000, CLIENT, ["SETRANGE", "small", "3", "x"])
            .redis(31_000, CLIENT, ["GET", "small"])
            .redis(32_000, CLIENT, ["STRLEN", "k0"])
            .redis(33_000, CLIENT, ["SETRANGE", "k1", "0", "y"]);
    });
    assert!(std::fs::metadata(&path).unwrap().len() < 1024);

    let cat = run(&["cat", "--replies"], &path);
    assert_eq!(cat.code(), 0, "{}", cat.stderr());
    let out = cat.stdout();
    let replies: Vec<&str> =
        out.lines().filter_map(|l| l.split_once(" ⇒ ").map(|(_, r)| r)).collect();
    let mut expected = vec!["(integer) 536870001"; 20];
    expected.extend([
        "(integer) 4",
        r#""\x00\x00\x00x""#,
        "(unknown: not modelled, or an unknown key)",
        "(unknown: not modelled, or an unknown key)",
    ]);
    assert_eq!(replies, expected, "{out}");
    let err = cat.stderr();
    assert!(
        err.contains(
            "replay: not materialised: 20 write(s) would have grown a value past the fake \
             Redis's bound (16 MiB of SETRANGE zero fill); their keys became unknown"
        ),
        "{err}"
    );
    assert!(err.contains("replay: unknown keys (20): k0, k1, k10"), "{err}");

    for args in [&["analyze"][..], &["replay", "--perturb", "5ms"]] {
        let r = run(args, &path);
        assert_eq!(r.code(), 3, "{args:?}: inconclusive (no mapping rule)\n{}", r.stderr());
        assert!(
            r.stdout().contains(
                "note: 20 write(s) would have grown a value past the fake Redis's bound (16 MiB \
                 of SETRANGE zero fill): not allocated, their keys became unknown"
            ),
            "{args:?}: {}",
            r.stdout()
        );
    }
}

#[test]
fn an_append_loop_grows_its_string_in_place() {
    // 50,000 APPENDs of 100 bytes: copying the string at each would move 125 GB.
    let tail = "abcdefghij".repeat(10);
    let (_dir, path) = trace("append.bin", |t| {
        for i in 0..50_000 {
            t.redis(i, CLIENT, ["APPEND", "log", tail.as_str()]);
        }
        t.redis(60_000, CLIENT, ["STRLEN", "log"]).redis(
            60_001,
            CLIENT,
            ["GETRANGE", "log", "-3", "-1"],
        );
    });
    let cat = run(&["cat", "--replies"], &path);
    let out = cat.stdout();
    let last: Vec<&str> = out.lines().rev().take(3).collect();
    assert!(last[2].ends_with("⇒ (integer) 5000000"), "{out:.2000}");
    assert!(last[1].ends_with("⇒ (integer) 5000000"), "{last:?}");
    assert!(last[0].ends_with(r#"⇒ "hij""#), "{last:?}");
}

#[test]
fn a_50k_pair_mset_and_a_100k_key_del_cost_linear_time() {
    // Three commands; a duplicate check or a unit effect scanned per key made them quadratic
    // (74 s in `analyze`, over 300 s in `replay --perturb` before).
    let (dir, path) = trace("mset.bin", |t| {
        let keys: Vec<String> = (0..100_000).map(|i| format!("k:{i}")).collect();
        let mut mset = vec!["MSET".to_string()];
        for k in &keys[..50_000] {
            mset.extend([k.clone(), format!("v{k}")]);
        }
        t.redis(1, CLIENT, &mset);
        t.redis(2, CLIENT, std::iter::once("DEL").chain(keys.iter().map(String::as_str)));
        t.redis(3, CLIENT, ["GET", "k:1"]);
    });
    std::fs::write(
        dir.path().join("mset.toml"),
        "[[rule]]\nkey = \"k:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
    )
    .unwrap();
    let cat = run(&["cat", "--replies"], &path);
    let out = cat.stdout();
    let replies: Vec<&str> =
        out.lines().filter_map(|l| l.split_once(" ⇒ ").map(|(_, r)| r)).collect();
    assert_eq!(replies, ["OK", "(integer) 50000", "(nil)"], "{out:.1000}");
    for args in [&["analyze"][..], &["replay", "--perturb", "5ms"]] {
        let r = run(args, &path);
        // Inconclusive: the rows were never changed, so the one hit cannot be judged.
        assert_eq!(r.code(), 3, "{args:?}: {}\n{}", r.stdout(), r.stderr());
        assert!(r.stdout().contains("INCONCLUSIVE"), "{args:?}: {}", r.stdout());
    }
}

#[test]
fn a_report_of_20k_flagged_keys_is_built_in_linear_time() {
    // Each key: its row moves from NEW to PAID, then the old value is cached and read (a stale
    // set). Matching each key's findings by a scan of all of them was O(keys × findings).
    use cachetape_tape::Value;
    use cachetape_testkit::trace::{cache_and_db, image, text};
    const KEYS: i64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flagged.bin");
    std::fs::write(
        dir.path().join("flagged.toml"),
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
    )
    .unwrap();
    let mut t = TraceBuilder::create(&path, &cache_and_db(T0));
    let row = |id: i64, s: &str| image([("id", Value::Int(id)), ("status", text(s))]);
    for id in 0..KEYS {
        let at = id * 20_000;
        let key = format!("order:{id}");
        t.update(at, "shop.orders", row(id, "NEW"), row(id, "PAID"));
        t.redis(at + 2_000, CLIENT, ["SET", key.as_str(), "NEW"]);
        t.redis(at + 4_000, CLIENT, ["GET", key.as_str()]);
    }
    t.finish();
    // The JSON document is built whole (serde_json values) before it is written: it needs more
    // room than the text report, so it runs under a wider address-space limit.
    let wide = Limits { address_space: 2 << 30, ..LIMITS };
    for (args, limits) in [(&["analyze"][..], LIMITS), (&["analyze", "--format", "json"], wide)] {
        let r =
            bounded::run(args.iter().map(std::ffi::OsStr::new).chain([path.as_os_str()]), limits);
        assert_eq!(r.code(), 1, "{args:?}: stale\n{}", r.stderr());
        let out = r.stdout();
        assert!(out.contains("order:19999"), "{args:?}: every flagged key is reported");
    }
}
