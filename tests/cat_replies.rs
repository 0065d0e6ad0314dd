//! `cat --replies`: each command with the reply the fake Redis computed, and on stderr the
//! replay's summary — what it could not know (unmodelled commands, keys left unknown).

use cachetape_testkit::trace::{TraceBuilder, redis_only};

use crate::util::cachetape;

const T0: i64 = 1_795_666_525_000_000;

#[test]
fn cat_replies_names_unmodelled_commands_and_the_keys_they_left_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let mut t = TraceBuilder::create(&path, &redis_only(T0, "cache", "redis://127.0.0.1:6379"));
    t.redis(T0, "10.0.0.1:5000", ["SET", "order:1", "PAID"])
        .redis(T0 + 1_000, "10.0.0.1:5000", ["XADD", "events", "*", "f", "v"])
        .redis(T0 + 2_000, "10.0.0.2:5001", ["GET", "order:1"])
        .redis(T0 + 3_000, "10.0.0.2:5001", ["XLEN", "events"]);
    t.finish();
    let out = cachetape().arg("cat").arg("--replies").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("\"PAID\""), "the GET's reply is shown: {stdout}");
    let summary: Vec<&str> = stderr.lines().filter(|l| l.starts_with("replay: ")).collect();
    assert_eq!(
        summary,
        [
            "replay: replayed 4 Redis commands (0 run by scripts) from 4 events",
            "replay: replies unknown: 2",
            "replay: unmodelled commands: xadd ×1, xlen ×1",
            "replay: unknown keys (1): events",
        ],
        "{stderr}"
    );
}
