/*!
Preflight: everything that would make a recording useless, checked before it starts.

Each failure is one [`Problem`]: what is wrong, on which source, and the fix — the exact setting,
`GRANT` or `ACL SETUSER` to run. `cachetape record --dry-run` prints them all and records nothing;
`cachetape record` runs the same checks and refuses to start while any fails.

Redis: the URL, reaching the host, the password (`AUTH`), `TIME` and `CLIENT INFO` for the probe
connection, `EVAL` when `--keys` asks for snapshots, `MONITOR` itself (tried on a connection of its
own and closed at once: an ACL user without `+monitor` gets `-NOPERM`), and keyspace
notifications when `--notifications` asks for them.

MySQL/MariaDB: the URL, reaching the host, the password, `log_bin`, `binlog_format=ROW`,
`binlog_row_image=FULL`, the replication privileges (`REPLICATION SLAVE` to stream the binlog,
`REPLICATION CLIENT` — renamed `BINLOG MONITOR` in MariaDB 10.5 — to read the current position),
and a `--server-id` no other replica uses.

No message ever shows a password: URLs are printed through
`strip_credentials`.
*/

use cachetape_tape::{SourceKind, strip_credentials};
use mysql_async::prelude::Queryable;
use redis::Value;
use redis::aio::MultiplexedConnection;

use super::RecordError;
use super::config::RecordConfig;
use super::monitor_conn::{self, MonitorError};
use super::mysql_client::{master_status, mysql_connect, mysql_name, mysql_opts};
pub use super::problem::{Problem, format_problems};
use super::redis_client::{self, is_noperm, lost, server_error};
use super::redis_url::RedisUrl;

/// A Redis node that passed its checks.
#[derive(Clone, Debug)]
pub struct CheckedRedis {
    /// The node's name in the trace (`host:port`).
    pub name: String,
    /// The URL as given (with its password: kept in memory only, never printed).
    pub url: String,
    /// The parsed URL.
    pub parsed: RedisUrl,
    /// `redis_version` from `INFO server`.
    pub version: Option<String>,
    /// Keyspace notifications are to be recorded (and are enabled on the server).
    pub notifications: bool,
}

/// The database server that passed its checks.
#[derive(Clone, Debug)]
pub struct CheckedMysql {
    /// The server's name in the trace (`host:port`).
    pub name: String,
    /// The URL as given (with its password: kept in memory only, never printed).
    pub url: String,
    /// Connection options.
    pub opts: mysql_async::Opts,
    /// MySQL or MariaDB.
    pub kind: SourceKind,
    /// `VERSION()`.
    pub version: Option<String>,
}

/// What the checks found.
#[derive(Clone, Debug, Default)]
pub struct PreflightReport {
    /// Redis nodes that passed.
    pub redis: Vec<CheckedRedis>,
    /// The database server, when it passed.
    pub mysql: Option<CheckedMysql>,
    /// Everything that failed.
    pub problems: Vec<Problem>,
    /// Checks that passed, one line each (printed by `--dry-run`).
    pub passed: Vec<String>,
    /// Things worth knowing that do not stop the recording.
    pub notes: Vec<String>,
}

/// Runs every check. With `for_real`, `--enable-notifications` changes server config; a dry
/// run only says it would.
pub(crate) async fn check_all(
    config: &RecordConfig,
    for_real: bool,
) -> Result<PreflightReport, RecordError> {
    if config.redis.is_empty() && config.mysql.is_none() {
        return Err(RecordError::NoSources);
    }
    let mut report = PreflightReport::default();
    let mut names = std::collections::HashSet::new();
    for url in &config.redis {
        if let Some(checked) = check_redis(config, url, for_real, &mut report).await {
            if !names.insert(checked.name.clone()) {
                report.problems.push(Problem {
                    source: checked.parsed.to_string(),
                    what: "this node is given twice".into(),
                    fix: "give each --redis URL once".into(),
                });
                continue;
            }
            report.redis.push(checked);
        }
    }
    if let Some(url) = &config.mysql
        && let Some(checked) = check_mysql(config, url, &mut report).await
    {
        report.mysql = Some(checked);
    }
    Ok(report)
}

fn redis_problem(report: &mut PreflightReport, source: &str, what: String, fix: String) {
    report.problems.push(Problem { source: source.to_string(), what, fix });
}

fn acl_fix(url: &RedisUrl, perm: &str) -> String {
    let user = url.user.as_deref().unwrap_or("default");
    format!(
        "allow it on the server: `ACL SETUSER {user} {perm}` (and add `{perm}` to the user's line \
         in the ACL file or redis.conf to keep it)"
    )
}

/// A command the recorder will need, the ACL permission it takes, and why.
struct Needed {
    command: &'static [&'static str],
    perm: &'static str,
    why: &'static str,
}

async fn check_redis(
    config: &RecordConfig,
    url: &str,
    for_real: bool,
    report: &mut PreflightReport,
) -> Option<CheckedRedis> {
    let parsed = match RedisUrl::parse(url) {
        Ok(u) => u,
        Err(problem) => {
            redis_problem(
                report,
                &strip_credentials(url),
                "not a usable Redis URL".into(),
                problem,
            );
            return None;
        }
    };
    let source = parsed.to_string();
    let mut conn = match redis_client::connect(&parsed, None).await {
        Ok(c) => c,
        Err(p) => {
            report.problems.push(p);
            return None;
        }
    };
    let before = report.problems.len();
    let version = match redis::cmd("INFO").arg("server").query_async::<String>(&mut conn).await {
        Err(e) if e.code() == Some("NOAUTH") => {
            redis_problem(
                report,
                &source,
                "Redis requires a password (NOAUTH)".into(),
                "put it in the URL: redis://:PASSWORD@host:port, or redis://USER:PASSWORD@… for \
                 an ACL user"
                    .into(),
            );
            return None;
        }
        Ok(info) => info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:").map(|v| v.trim().to_string())),
        Err(e) if server_error(&e).is_some() => None,
        Err(e) => {
            report.problems.push(lost(&source, "asking INFO", e));
            return None;
        }
    };
    let mut wanted = vec![
        Needed { command: &["TIME"], perm: "+time", why: "clock probes need TIME" },
        Needed {
            command: &["CLIENT", "INFO"],
            perm: "+client|info",
            why: "the recorder finds its own commands by CLIENT INFO",
        },
    ];
    if !config.keys.is_empty() {
        wanted.push(Needed {
            command: &["EVAL", "return 1", "0"],
            perm: "+eval",
            why: "snapshot probes (--keys) read a key's value and TTL atomically with EVAL",
        });
        wanted.push(Needed {
            command: &["SELECT", "0"],
            perm: "+select",
            why: "snapshot probes switch db with SELECT",
        });
    }
    if config.snapshot {
        wanted.push(Needed {
            command: &["SCAN", "0", "COUNT", "1"],
            perm: "+scan",
            why: "--snapshot finds keys with SCAN",
        });
    }
    for needed in wanted {
        let mut cmd = redis::cmd(needed.command[0]);
        for arg in &needed.command[1..] {
            cmd.arg(*arg);
        }
        match cmd.query_async::<Value>(&mut conn).await {
            Err(e) if is_noperm(&e) => redis_problem(
                report,
                &source,
                format!("the ACL user may not run {}: {}", needed.command[0], needed.why),
                acl_fix(&parsed, needed.perm),
            ),
            Ok(_) => {}
            Err(e) if server_error(&e).is_some() => {}
            Err(e) => {
                report.problems.push(lost(&source, "probing permissions", e));
                return None;
            }
        }
    }
    check_monitor(&parsed, report).await;
    let mut notifications = false;
    if config.notifications {
        notifications = check_notifications(config, &parsed, &mut conn, for_real, report).await;
    }
    if report.problems.len() > before {
        return None;
    }
    report.passed.push(format!(
        "{source}: reachable, logged in, Redis {}",
        version.as_deref().unwrap_or("(version unknown)")
    ));
    Some(CheckedRedis {
        name: parsed.host_port(),
        url: url.to_string(),
        parsed,
        version,
        notifications,
    })
}

/// MONITOR itself, opened as the tap opens it (a connection of its own) and closed at once.
async fn check_monitor(url: &RedisUrl, report: &mut PreflightReport) {
    let source = url.to_string();
    match monitor_conn::open(url, None).await {
        Ok(_) => report.passed.push(format!("{source}: MONITOR allowed")),
        Err(MonitorError::Login(p)) => report.problems.push(p),
        Err(MonitorError::Refused(e)) => {
            let (what, fix) = if e.starts_with("NOPERM") {
                (
                    format!("the ACL user may not run MONITOR ({})", e.trim()),
                    acl_fix(url, "+monitor"),
                )
            } else {
                (
                    format!("the server refused MONITOR: {e}"),
                    "MONITOR must be allowed (it is renamed or disabled in some managed \
                     services: `rename-command MONITOR \"\"` in redis.conf turns it off)"
                        .into(),
                )
            };
            redis_problem(report, &source, what, fix);
        }
        Err(MonitorError::Unexpected(_)) => {
            report.passed.push(format!("{source}: MONITOR allowed"))
        }
        Err(MonitorError::Lost(e)) => report.problems.push(lost(&source, "trying MONITOR", e)),
    }
}

/// `--notifications`: keyspace notifications must be on (or, with `--enable-notifications`,
/// are turned on when recording for real). True when they will be recorded.
async fn check_notifications(
    config: &RecordConfig,
    url: &RedisUrl,
    conn: &mut MultiplexedConnection,
    for_real: bool,
    report: &mut PreflightReport,
) -> bool {
    let source = url.to_string();
    let reply = redis::cmd("CONFIG")
        .arg("GET")
        .arg("notify-keyspace-events")
        .query_async::<Value>(conn)
        .await;
    let flags = match reply {
        Ok(Value::Array(items)) if items.len() == 2 => match &items[1] {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            Value::SimpleString(s) => s.clone(),
            _ => String::new(),
        },
        Ok(_) => return false,
        Err(e) => {
            match server_error(&e) {
                Some(e) => redis_problem(
                    report,
                    &source,
                    format!("--notifications: cannot read notify-keyspace-events ({e})"),
                    acl_fix(url, "+config|get"),
                ),
                None => report.problems.push(lost(&source, "CONFIG GET", e)),
            }
            return false;
        }
    };
    let has = |c: char| flags.contains(c);
    if has('E') && (has('A') || (has('x') && has('e'))) {
        report.passed.push(format!("{source}: keyspace notifications on ({flags})"));
        return true;
    }
    if !config.enable_notifications {
        redis_problem(
            report,
            &source,
            format!(
                "--notifications: keyspace notifications are off on the server \
                 (notify-keyspace-events is `{flags}`)"
            ),
            "add --enable-notifications to let the recorder run `CONFIG SET \
             notify-keyspace-events Exe`, or set `notify-keyspace-events Exe` in redis.conf"
                .into(),
        );
        return false;
    }
    let mut new_flags = flags.clone();
    for c in ['E', 'x', 'e'] {
        if !new_flags.contains(c) {
            new_flags.push(c);
        }
    }
    if !for_real {
        report.passed.push(format!(
            "{source}: keyspace notifications are off (`{flags}`); recording would turn them on \
             (CONFIG SET notify-keyspace-events {new_flags})"
        ));
        return true;
    }
    let set = redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg(&new_flags)
        .query_async::<Value>(conn)
        .await;
    match set {
        Ok(_) => {
            report.notes.push(format!(
                "{source}: keyspace notifications turned on (notify-keyspace-events was \
                 `{flags}`, now `{new_flags}`); set it back with CONFIG SET \
                 notify-keyspace-events \"{flags}\""
            ));
            true
        }
        Err(e) => {
            match server_error(&e) {
                Some(e) => redis_problem(
                    report,
                    &source,
                    format!("cannot turn keyspace notifications on: {e}"),
                    acl_fix(url, "+config|set"),
                ),
                None => report.problems.push(lost(&source, "CONFIG SET", e)),
            }
            false
        }
    }
}

async fn check_mysql(
    config: &RecordConfig,
    url: &str,
    report: &mut PreflightReport,
) -> Option<CheckedMysql> {
    let opts = match mysql_opts(url) {
        Ok(o) => o,
        Err(p) => {
            report.problems.push(p);
            return None;
        }
    };
    let name = mysql_name(&opts);
    let source = format!("mysql://{name}");
    let mut conn = match mysql_connect(&opts, &source).await {
        Ok(c) => c,
        Err(p) => {
            report.problems.push(p);
            return None;
        }
    };
    let before = report.problems.len();
    let problem = |what: String, fix: String| Problem { source: source.clone(), what, fix };
    let row = conn
        .query_first::<(Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>), _>(
            "SELECT VERSION(), @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id, CURRENT_USER()",
        )
        .await;
    let (version, log_bin, format, row_image, server_id, user) = match row {
        Ok(Some(r)) => r,
        Ok(None) => Default::default(),
        Err(e) => {
            report.problems.push(problem(
                format!("cannot read the server's binlog settings: {e}"),
                "check the user's account on the server".into(),
            ));
            let _ = conn.disconnect().await;
            return None;
        }
    };
    let version_text = version.clone().unwrap_or_default();
    let kind = if version_text.to_ascii_lowercase().contains("mariadb") {
        SourceKind::MariaDb
    } else {
        SourceKind::MySql
    };
    let on = |v: &Option<String>| matches!(v.as_deref(), Some("1") | Some("ON") | Some("on"));
    if !on(&log_bin) {
        report.problems.push(problem(
            "binary logging is off (log_bin=OFF): there is no binlog to follow".into(),
            "add `log-bin=mysql-bin` (and a unique `server-id=1`) under [mysqld] in the server's \
             config file and restart it; log_bin cannot be turned on while the server runs"
                .into(),
        ));
    }
    let format = format.unwrap_or_default();
    if on(&log_bin) && !format.eq_ignore_ascii_case("ROW") {
        report.problems.push(problem(
            format!(
                "binlog_format is {format}: the binlog holds SQL text, not the rows it changed"
            ),
            "run `SET GLOBAL binlog_format=ROW` (sessions already open keep their format: \
             reconnect the applications) and set `binlog_format=ROW` under [mysqld] in the \
             config file"
                .into(),
        ));
    }
    let row_image = row_image.unwrap_or_default();
    if on(&log_bin) && !row_image.eq_ignore_ascii_case("FULL") {
        report.problems.push(problem(
            format!(
                "binlog_row_image is {row_image}: row events lack the columns that did not \
                 change, so before/after values are incomplete"
            ),
            "run `SET GLOBAL binlog_row_image=FULL` and set `binlog_row_image=FULL` under \
             [mysqld] in the config file"
                .into(),
        ));
    }
    if server_id.as_deref().and_then(|s| s.parse::<u32>().ok()) == Some(config.server_id) {
        report.problems.push(problem(
            format!(
                "the server's own server_id is {}, the id the recorder would use",
                config.server_id
            ),
            "pick another --server-id".into(),
        ));
    }
    // Privileges.
    let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap_or_default();
    let global: Vec<String> =
        grants.iter().map(|g| g.to_ascii_uppercase()).filter(|g| g.contains(" ON *.* ")).collect();
    let has = |p: &str| global.iter().any(|g| g.contains("ALL PRIVILEGES") || g.contains(p));
    let mariadb_105 = kind == SourceKind::MariaDb && version_at_least(&version_text, 10, 5);
    let monitor_priv = if mariadb_105 { "BINLOG MONITOR" } else { "REPLICATION CLIENT" };
    let mut missing = Vec::new();
    if !has("REPLICATION SLAVE") && !has("REPLICATION REPLICA") {
        missing.push("REPLICATION SLAVE");
    }
    if !has(monitor_priv) && !has("SUPER") && !has("REPLICATION CLIENT") {
        missing.push(monitor_priv);
    }
    if !missing.is_empty() && !grants.is_empty() {
        let account = user
            .as_deref()
            .and_then(|u| u.rsplit_once('@'))
            .map(|(u, h)| format!("'{u}'@'{h}'"))
            .unwrap_or_else(|| "'USER'@'HOST'".into());
        let why = missing
            .iter()
            .map(|p| match *p {
                "REPLICATION SLAVE" => "REPLICATION SLAVE (to stream the binlog)",
                _ if mariadb_105 => {
                    "BINLOG MONITOR (to read the binlog position; MariaDB 10.5 \
                                     renamed REPLICATION CLIENT to it)"
                }
                _ => "REPLICATION CLIENT (to read the binlog position)",
            })
            .collect::<Vec<_>>()
            .join(" and ");
        report.problems.push(problem(
            format!("the user lacks {why}"),
            format!("run `GRANT {} ON *.* TO {account};` as an administrator", missing.join(", ")),
        ));
    }
    if let Some(hb) = &config.heartbeat {
        let account = user
            .as_deref()
            .and_then(|u| u.rsplit_once('@'))
            .map(|(u, h)| format!("'{u}'@'{h}'"))
            .unwrap_or_else(|| "'USER'@'HOST'".into());
        for (what, fix) in super::heartbeat::preflight(&mut conn, hb, &grants, &account).await {
            report.problems.push(problem(what, fix));
        }
    }
    if report.problems.len() == before {
        match master_status(&mut conn).await {
            Ok(Some((file, pos))) => report
                .passed
                .push(format!("{source}: binlog on, ROW, FULL images; now at {file}:{pos}")),
            Ok(None) => report.problems.push(problem(
                "SHOW MASTER STATUS is empty: the binlog is off".into(),
                "start the server with log-bin".into(),
            )),
            Err(e) => report.problems.push(problem(
                format!("cannot read the binlog position: {e}"),
                format!("run `GRANT {monitor_priv} ON *.* TO` the recording user"),
            )),
        }
    }
    let _ = conn.disconnect().await;
    if report.problems.len() > before {
        return None;
    }
    report.passed.push(format!("{source}: {version_text}, replication privileges present"));
    Some(CheckedMysql { name, url: url.to_string(), opts, kind, version })
}

fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts =
        version.split(|c: char| !c.is_ascii_digit()).filter_map(|p| p.parse::<u32>().ok());
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else { return false };
    (a, b) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_at_least("10.11.6-MariaDB-log", 10, 5));
        assert!(!version_at_least("10.4.2-MariaDB", 10, 5));
        assert!(version_at_least("8.4.0", 8, 4));
    }
}
