//! `cachetape record` end to end, against private servers: a `-- COMMAND`'s lifetime and exit
//! code, SIGKILL (the `.partial` file kept, an older trace untouched) and SIGINT in the middle of
//! a recording, preflight messages for a mariadbd with
//! the binlog off or in STATEMENT format, and `--redact values`.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cachetape::tape::{EventBody, Reader};
use cachetape_testkit::{MariaDb, MariaDbOptions, RedisServer, read_resp, resp_command};

use crate::util::cachetape;

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("cachetape")
}

/// The argv of every Redis command in a trace (script calls not included).
fn commands(trace: &Path) -> Vec<Vec<String>> {
    let reader = Reader::open(trace).unwrap();
    reader
        .filter_map(|e| match e.unwrap().body {
            EventBody::Redis(c) => {
                Some(c.argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect())
            }
            _ => None,
        })
        .collect()
}

/// Starts `cachetape record` with `args` and a command that creates `ready` once recording is
/// under way, then sleeps; returns the recorder and the sleeper's pid file.
fn start_recorder(dir: &Path, args: &[String]) -> (Child, PathBuf) {
    let ready = dir.join("READY");
    let pid = dir.join("PID");
    let script = format!("echo $$ > {}; touch {}; exec sleep 60", pid.display(), ready.display());
    let child = Command::new(binary())
        .arg("record")
        .args(args)
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ready.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "the recorder never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, pid)
}

fn kill_sleeper(pid_file: &Path) {
    if let Ok(pid) = std::fs::read_to_string(pid_file) {
        signal(pid.trim(), "KILL");
    }
}

/// Sends a signal with kill(1) (the root package has no libc).
fn signal(pid: &str, name: &str) {
    let _ = Command::new("kill").arg(format!("-{name}")).arg(pid).stderr(Stdio::null()).status();
}

/// `SET key value` on an open connection, waiting for the reply.
fn set(conn: &mut TcpStream, reader: &mut BufReader<TcpStream>, key: &str, value: &str) {
    conn.write_all(&resp_command(&[b"SET", key.as_bytes(), value.as_bytes()])).unwrap();
    let mut reply = Vec::new();
    read_resp(reader, &mut reply);
}

#[test]
fn record_covers_exactly_the_command_and_returns_its_exit_code() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("suite.bin");
    redis.command(&[b"SET", b"before", b"1"]);
    let port = redis.port.to_string();
    let script = format!(
        "redis-cli -p {port} set first 1 >/dev/null; sleep 0.3; \
         redis-cli -p {port} set last 1 >/dev/null; exit 7"
    );
    let output = cachetape()
        .args(["record", "--redis", &redis.url(), "-o"])
        .arg(&out)
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    redis.command(&[b"SET", b"after", b"1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("command exited with 7"), "{stderr}");
    let keys: Vec<String> = commands(&out).into_iter().map(|c| c[1].clone()).collect();
    assert_eq!(keys, ["first", "last"], "only the command's own traffic, the last included");
}

#[test]
fn sigkill_leaves_a_trace_readable_up_to_about_the_last_second() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    // An older trace of the same name is never cut: the recording streams into `.partial`.
    let older = dir.path().join("killed.bin");
    std::fs::write(&older, b"an older recording").unwrap();
    let out = dir.path().join("killed.bin.partial");
    let args = vec!["--redis".into(), redis.url(), "-o".into(), older.display().to_string()];
    let (mut recorder, sleeper) = start_recorder(dir.path(), &args);
    assert!(out.exists(), "the recording streams into {}", out.display());
    let mut conn = TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let start = Instant::now();
    let mut sent: Vec<(Instant, String)> = Vec::new();
    let mut i = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        let key = format!("k{i}");
        set(&mut conn, &mut reader, &key, "v");
        sent.push((Instant::now(), key));
        i += 1;
        if i % 100 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let killed_at = Instant::now();
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    kill_sleeper(&sleeper);
    assert_eq!(std::fs::read(&older).unwrap(), b"an older recording", "the older trace is whole");

    let info = cachetape().arg("info").arg(&out).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&info.stdout),
        String::from_utf8_lossy(&info.stderr)
    );
    assert!(info.status.success(), "info fails on a killed recording: {text}");
    assert!(text.contains("ends early"), "{text}");
    let recorded: std::collections::HashSet<String> =
        commands(&out).into_iter().map(|c| c[1].clone()).collect();
    // Everything sent more than 1.5 s before the kill (a frame closes within 1 s) is there.
    let old: Vec<&String> = sent
        .iter()
        .filter(|(t, _)| killed_at.duration_since(*t) > Duration::from_millis(1500))
        .map(|(_, k)| k)
        .collect();
    assert!(!old.is_empty());
    let missing: Vec<&&String> = old.iter().filter(|k| !recorded.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} old commands lost: {:?}",
        missing.len(),
        old.len(),
        &missing[..missing.len().min(5)]
    );

    // The next recording into the same name keeps the killed one's events: it refuses to start.
    let kept = commands(&out).len();
    let output = cachetape().args(["record", "--redis", &redis.url(), "-o"]).arg(&older).output();
    let output = output.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("killed.bin.partial already exists"), "{stderr}");
    assert!(stderr.contains("info --salvage"), "{stderr}");
    assert_eq!(commands(&out).len(), kept, "the partial trace is kept as it was");
}

#[test]
fn sigint_closes_the_trace_with_its_footer() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("interrupted.bin");
    let args = vec!["--redis".into(), redis.url(), "-o".into(), out.display().to_string()];
    let (recorder, sleeper) = start_recorder(dir.path(), &args);
    for i in 0..100 {
        redis.command(&[b"SET", format!("k{i}").as_bytes(), b"v"]);
    }
    signal(&recorder.id().to_string(), "INT");
    let output = recorder.wait_with_output().unwrap();
    kill_sleeper(&sleeper);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stopped: SIGINT received"), "{stderr}");
    let mut reader = Reader::open(&out).unwrap();
    let n =
        (&mut reader).filter(|e| matches!(e.as_ref().unwrap().body, EventBody::Redis(_))).count();
    assert_eq!(n, 100);
    assert!(reader.report().is_complete(), "{}", reader.report());
    assert!(!dir.path().join("interrupted.bin.partial").exists(), "renamed into place");
}

/// Starting mariadbd instances one at a time keeps `mariadb-install-db` runs apart.
fn private_mariadb(options: MariaDbOptions) -> MariaDb {
    static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    MariaDb::start_with(options)
}

#[test]
fn binlog_off_and_statement_format_each_name_their_fix() {
    for (options, expect) in [
        (
            MariaDbOptions { binlog: false, ..MariaDbOptions::default() },
            ["binary logging is off", "log-bin=mysql-bin"],
        ),
        (
            MariaDbOptions { binlog_format: "STATEMENT", ..MariaDbOptions::default() },
            ["binlog_format is STATEMENT", "SET GLOBAL binlog_format=ROW"],
        ),
    ] {
        let db = private_mariadb(options);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("never.bin");
        for dry_run in [true, false] {
            let mut cmd = cachetape();
            cmd.args(["record", "--mysql", &db.url(), "-o"]).arg(&out);
            if dry_run {
                cmd.arg("--dry-run");
            }
            let output = cmd.timeout(Duration::from_secs(60)).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            for e in expect {
                assert!(stderr.contains(e), "`{e}` missing from:\n{stderr}");
            }
            assert!(!out.exists(), "nothing is recorded");
        }
    }
}

#[test]
fn redact_values_hides_every_value_and_keeps_equal_values_equal() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("redacted.bin");
    let port = redis.port.to_string();
    let commands_sent: Vec<Vec<&str>> = vec![
        vec!["SET", "order:1", "SECRET-PAID", "EX", "300"],
        vec!["SET", "order:2", "SECRET-PAID"],
        vec!["SET", "order:3", r#"{"id":3,"status":"SECRET-JSON"}"#],
        vec!["SETEX", "s", "100", "SECRET-SETEX"],
        vec!["MSET", "m1", "SECRET-M1", "m2", "SECRET-M2"],
        vec!["HSET", "h", "status", "SECRET-H"],
        vec!["LPUSH", "l", "SECRET-L1", "SECRET-L2"],
        vec!["SADD", "set", "SECRET-S"],
        vec!["ZADD", "z", "1.5", "SECRET-Z"],
        vec!["XADD", "x", "*", "field", "SECRET-X"],
        vec!["APPEND", "a", "SECRET-A"],
        vec!["GETSET", "g", "SECRET-G"],
        vec!["PUBLISH", "chan", "SECRET-PUB"],
        vec!["EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "e", "SECRET-EVAL"],
        vec!["GET", "order:1"],
    ];
    let script: String = commands_sent
        .iter()
        .map(|c| {
            let quoted: Vec<String> =
                c.iter().map(|a| format!("'{}'", a.replace('\'', "'\\''"))).collect();
            format!("redis-cli -p {port} {} >/dev/null; ", quoted.join(" "))
        })
        .collect();
    let output = cachetape()
        .args(["record", "--redis", &redis.url(), "--redact", "values", "-o"])
        .arg(&out)
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let file = std::fs::read(&out).unwrap();
    assert!(!file.windows(6).any(|w| w == b"SECRET"));
    let mut shown = String::new();
    for format in [&["cat"][..], &["cat", "--json"], &["cat", "--format", "monitor"]] {
        let o = cachetape().args(format).arg(&out).output().unwrap();
        assert!(o.status.success());
        shown.push_str(&String::from_utf8_lossy(&o.stdout));
    }
    assert!(!shown.contains("SECRET"), "a value leaked:\n{shown}");
    let recorded = commands(&out);
    assert_eq!(recorded.len(), commands_sent.len(), "{recorded:?}");
    // Keys, names and numbers stay; equal values stay equal.
    assert_eq!(recorded[0][..2], ["SET", "order:1"]);
    assert_eq!(recorded[0][3..], ["EX", "300"]);
    assert_eq!(recorded[0][2], recorded[1][2]);
    assert_ne!(recorded[0][2], recorded[3][3]);
    assert!(recorded[2][2].starts_with(r#"{"id":"~"#), "{}", recorded[2][2]);
    assert_eq!(recorded[8][2], "1.5");
    assert!(shown.contains("order:1"));
}
