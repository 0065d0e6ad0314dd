//! No password reaches any output: `cachetape record` with Redis and MySQL URLs of every shape
//! (valid, percent-encoded, unencoded reserved characters, scheme-less, wrong password) against
//! a private redis-server with `requirepass` and a binlog-enabled mariadbd with a password-holding
//! user. stdout, stderr, the trace file's bytes and what `info` and `cat` print of it must never
//! hold the password, nor a piece of it.

use std::path::Path;
use std::time::Duration;

use cachetape_testkit::{MariaDb, RedisServer};

use crate::util::cachetape;

/// A password with every character a URL reserves; `PIECES` are parts of it long enough that
/// finding one in an output means the password leaked.
const PASSWORD: &str = "Kp4Zr/x#y?z@Wm:q";
const PIECES: [&str; 5] = ["Kp4Zr", "x#y?z", "y?z@Wm", "Kp4Zr%2F", "z%40Wm"];

fn encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn assert_hidden(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for piece in PIECES {
        assert!(!text.contains(piece), "{what} holds `{piece}` of the password:\n{text}");
    }
}

/// Runs `record` with these URLs (briefly, or `--dry-run`) and checks every output.
fn record(dir: &Path, name: &str, redis: &str, mysql: &str, dry_run: bool) -> (bool, String) {
    let out = dir.join(format!("{name}.bin"));
    let mut cmd = cachetape();
    cmd.args(["record", "--quiet", "--redis", redis, "--mysql", mysql, "-o"]).arg(&out);
    if dry_run {
        cmd.arg("--dry-run");
    } else {
        cmd.args(["--duration", "1s"]);
    }
    let output = cmd.timeout(Duration::from_secs(60)).output().unwrap();
    assert_hidden(&format!("{name}: stdout"), &output.stdout);
    assert_hidden(&format!("{name}: stderr"), &output.stderr);
    if out.exists() {
        assert_hidden(&format!("{name}: the trace's bytes"), &std::fs::read(&out).unwrap());
        for args in [&["info"][..], &["cat"], &["cat", "--json"]] {
            let shown = cachetape().args(args).arg(&out).output().unwrap();
            assert_hidden(&format!("{name}: {args:?}"), &shown.stdout);
            assert_hidden(&format!("{name}: {args:?} stderr"), &shown.stderr);
        }
    }
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn no_password_reaches_any_output_for_any_url_shape() {
    let redis = RedisServer::start_with(&["--requirepass", PASSWORD]);
    let db = MariaDb::shared();
    // Named for the loopback addresses too: an anonymous ''@'localhost' would otherwise win.
    for host in ["%", "localhost", "127.0.0.1"] {
        db.sql(&format!(
            "CREATE USER IF NOT EXISTS 'secretive'@'{host}' IDENTIFIED BY '{PASSWORD}'; \
             GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* \
             TO 'secretive'@'{host}';"
        ));
    }
    let mysql_host = db.url().rsplit_once('@').map(|(_, h)| h.to_string()).unwrap();
    let redis_host = format!("127.0.0.1:{}", redis.port);
    let enc = encoded(PASSWORD);
    let good_redis = format!("redis://:{enc}@{redis_host}");
    let good_mysql = format!("mysql://secretive:{enc}@{mysql_host}");
    let dir = tempfile::tempdir().unwrap();

    // Valid URLs record, and the trace holds no password.
    let (ok, stderr) = record(dir.path(), "valid", &good_redis, &good_mysql, false);
    assert!(ok, "{stderr}");
    let (ok, stderr) = record(
        dir.path(),
        "valid-user",
        &format!("redis://default:{enc}@{redis_host}/0"),
        &good_mysql,
        true,
    );
    assert!(ok, "{stderr}");

    // Every other shape is refused, with a message that names the problem and masks the
    // password.
    let shapes: Vec<(&str, String, String, &str)> = vec![
        ("redis-scheme-less", format!(":{PASSWORD}@{redis_host}"), good_mysql.clone(), "no scheme"),
        ("redis-unencoded", format!("redis://:{PASSWORD}@{redis_host}"), good_mysql.clone(), ""),
        (
            "redis-user-unencoded",
            format!("redis://default:{PASSWORD}@{redis_host}"),
            good_mysql.clone(),
            "",
        ),
        ("redis-wrong", format!("redis://:{enc}x@{redis_host}"), good_mysql.clone(), ""),
        ("redis-none", format!("redis://{redis_host}"), good_mysql.clone(), ""),
        (
            "mysql-scheme-less",
            good_redis.clone(),
            format!("secretive:{PASSWORD}@{mysql_host}"),
            "no scheme",
        ),
        (
            "mysql-unencoded",
            good_redis.clone(),
            format!("mysql://secretive:{PASSWORD}@{mysql_host}"),
            "",
        ),
        ("mysql-wrong", good_redis.clone(), format!("mysql://secretive:{enc}x@{mysql_host}"), ""),
    ];
    for (name, redis_url, mysql_url, expect) in shapes {
        for dry_run in [true, false] {
            let (ok, stderr) = record(dir.path(), name, &redis_url, &mysql_url, dry_run);
            assert!(!ok, "{name}: recorded with a bad URL:\n{stderr}");
            assert!(stderr.contains(expect), "{name}: `{expect}` missing from:\n{stderr}");
        }
    }
}
