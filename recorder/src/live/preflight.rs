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
[`strip_credentials`](cachetape_tape::strip_credentials).
*/

use std::fmt;
use std::time::Duration;

use cachetape_tape::{SourceKind, strip_credentials};
use mysql_async::prelude::Queryable;

use super::resp::{RedisUrl, Reply, RespConn, RespError};
use super::{RecordConfig, RecordError};

/// One thing that stops a recording, with its fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The source (`redis://host:port`, `mysql://host:port`), never with a password.
    pub source: String,
    /// What is wrong.
    pub what: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}.\n  fix: {}", self.source, self.what, self.fix)
    }
}

/// All problems, one paragraph each.
pub fn format_problems(problems: &[Problem]) -> String {
    let mut out = format!(
        "cannot record: {} problem{} found",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str("\n- ");
        out.push_str(&p.to_string());
    }
    out
}

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

/// Connects and logs in; problems name the fix. With `own`, the connection's address is
/// registered among the recorder's own before its first command.
pub(crate) async fn redis_login(
    url: &RedisUrl,
    own: Option<&super::probes::OwnConnections>,
) -> Result<RespConn, Problem> {
    let source = url.to_string();
    let mut conn = RespConn::connect(url).await.map_err(|e| Problem {
        source: source.clone(),
        what: format!("cannot reach Redis at {}: {e}", url.host_port()),
        fix: "check the host and port, that redis-server runs there and that no firewall blocks \
              this machine"
            .into(),
    })?;
    if let Some(own) = own
        && let Ok(local) = conn.stream.local_addr()
    {
        own.add(local.to_string());
    }
    if let Some(password) = &url.password {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(user) = &url.user {
            args.push(user.as_bytes());
        }
        args.push(password.as_bytes());
        match conn.call(&args).await {
            Ok(Reply::Error(e)) => {
                let user = url.user.as_deref().unwrap_or("default");
                let (what, fix) = if e.contains("without any password configured") {
                    (
                        "the URL has a password but the server has none configured".to_string(),
                        "drop the password from the URL (redis://host:port)".to_string(),
                    )
                } else {
                    (
                        format!("Redis refused the password of user `{user}` ({})", first_word(&e)),
                        "check the password in the URL (redis://USER:PASSWORD@host:port; \
                         percent-encode `@` `:` `/` in it)"
                            .to_string(),
                    )
                };
                return Err(Problem { source, what, fix });
            }
            Ok(_) => {}
            Err(e) => return Err(lost(&source, "logging in", e)),
        }
    }
    Ok(conn)
}

fn lost(source: &str, doing: &str, e: RespError) -> Problem {
    Problem {
        source: source.to_string(),
        what: format!("the connection failed while {doing}: {e}"),
        fix: "check that the node is up and reachable, then try again".into(),
    }
}

fn first_word(e: &str) -> &str {
    e.split_whitespace().next().unwrap_or(e)
}

fn acl_fix(url: &RedisUrl, perm: &str) -> String {
    let user = url.user.as_deref().unwrap_or("default");
    format!(
        "allow it on the server: `ACL SETUSER {user} {perm}` (and add `{perm}` to the user's line \
         in the ACL file or redis.conf to keep it)"
    )
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
    let mut conn = match redis_login(&parsed, None).await {
        Ok(c) => c,
        Err(p) => {
            report.problems.push(p);
            return None;
        }
    };
    let before = report.problems.len();
    let version = match conn.call(&[b"INFO", b"server"]).await {
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => {
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
        Ok(reply) => reply.text().and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("redis_version:").map(|v| v.trim().to_string()))
        }),
        Err(e) => {
            report.problems.push(lost(&source, "asking INFO", e));
            return None;
        }
    };
    let probe =
        |cmd: &'static [&'static [u8]], perm: &'static str, why: &'static str| (cmd, perm, why);
    let mut wanted = vec![
        probe(&[b"TIME"], "+time", "clock probes need TIME"),
        probe(
            &[b"CLIENT", b"INFO"],
            "+client|info",
            "the recorder finds its own commands by CLIENT INFO",
        ),
    ];
    if !config.keys.is_empty() {
        wanted.push(probe(
            &[b"EVAL", b"return 1", b"0"],
            "+eval",
            "snapshot probes (--keys) read a key's value and TTL atomically with EVAL",
        ));
        wanted.push(probe(&[b"SELECT", b"0"], "+select", "snapshot probes switch db with SELECT"));
    }
    if config.snapshot {
        wanted.push(probe(
            &[b"SCAN", b"0", b"COUNT", b"1"],
            "+scan",
            "--snapshot finds keys with SCAN",
        ));
    }
    for (cmd, perm, why) in wanted {
        match conn.call(cmd).await {
            Ok(Reply::Error(e)) if e.starts_with("NOPERM") => {
                let name = String::from_utf8_lossy(cmd[0]).into_owned();
                redis_problem(
                    report,
                    &source,
                    format!("the ACL user may not run {name}: {why}"),
                    acl_fix(&parsed, perm),
                );
            }
            Ok(_) => {}
            Err(e) => {
                report.problems.push(lost(&source, "probing permissions", e));
                return None;
            }
        }
    }
    // MONITOR itself, on a connection of its own.
    match redis_login(&parsed, None).await {
        Ok(mut m) => match m.call(&[b"MONITOR"]).await {
            Ok(Reply::Error(e)) => {
                let (what, fix) = if e.starts_with("NOPERM") {
                    (
                        format!("the ACL user may not run MONITOR ({})", e.trim()),
                        acl_fix(&parsed, "+monitor"),
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
            Ok(_) => report.passed.push(format!("{source}: MONITOR allowed")),
            Err(e) => report.problems.push(lost(&source, "trying MONITOR", e)),
        },
        Err(p) => report.problems.push(p),
    }
    let mut notifications = false;
    if config.notifications {
        match conn.call(&[b"CONFIG", b"GET", b"notify-keyspace-events"]).await {
            Ok(Reply::Array(Some(items))) if items.len() == 2 => {
                let flags = items[1].text().unwrap_or_default();
                let has = |c: char| flags.contains(c);
                let enough = has('E') && (has('A') || (has('x') && has('e')));
                if enough {
                    notifications = true;
                    report.passed.push(format!("{source}: keyspace notifications on ({flags})"));
                } else if config.enable_notifications {
                    let mut new_flags = flags.clone();
                    for c in ['E', 'x', 'e'] {
                        if !new_flags.contains(c) {
                            new_flags.push(c);
                        }
                    }
                    if for_real {
                        match conn
                            .call(&[
                                b"CONFIG",
                                b"SET",
                                b"notify-keyspace-events",
                                new_flags.as_bytes(),
                            ])
                            .await
                        {
                            Ok(Reply::Error(e)) => redis_problem(
                                report,
                                &source,
                                format!("cannot turn keyspace notifications on: {e}"),
                                acl_fix(&parsed, "+config|set"),
                            ),
                            Ok(_) => {
                                notifications = true;
                                report.notes.push(format!(
                                    "{source}: keyspace notifications turned on \
                                     (notify-keyspace-events was `{flags}`, now `{new_flags}`); \
                                     set it back with CONFIG SET notify-keyspace-events \"{flags}\""
                                ));
                            }
                            Err(e) => report.problems.push(lost(&source, "CONFIG SET", e)),
                        }
                    } else {
                        notifications = true;
                        report.passed.push(format!(
                            "{source}: keyspace notifications are off (`{flags}`); recording would \
                             turn them on (CONFIG SET notify-keyspace-events {new_flags})"
                        ));
                    }
                } else {
                    redis_problem(
                        report,
                        &source,
                        format!(
                            "--notifications: keyspace notifications are off on the server \
                             (notify-keyspace-events is `{flags}`)"
                        ),
                        "add --enable-notifications to let the recorder run `CONFIG SET \
                         notify-keyspace-events Exe`, or set `notify-keyspace-events Exe` in \
                         redis.conf"
                            .into(),
                    );
                }
            }
            Ok(Reply::Error(e)) => redis_problem(
                report,
                &source,
                format!("--notifications: cannot read notify-keyspace-events ({e})"),
                acl_fix(&parsed, "+config|get"),
            ),
            Ok(_) => {}
            Err(e) => report.problems.push(lost(&source, "CONFIG GET", e)),
        }
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

/// Connects to MySQL/MariaDB with a timeout; failures name the fix.
pub(crate) async fn mysql_connect(
    opts: &mysql_async::Opts,
    source: &str,
) -> Result<mysql_async::Conn, Problem> {
    let connect = mysql_async::Conn::new(opts.clone());
    let user = opts.user().unwrap_or("");
    let result = tokio::time::timeout(Duration::from_secs(10), connect).await;
    let problem = |what: String, fix: &str| Problem {
        source: source.to_string(),
        what,
        fix: fix.to_string(),
    };
    match result {
        Err(_) => Err(problem(
            format!("no answer from {source} within 10 s"),
            "check the host and port and that no firewall drops the connection",
        )),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(mysql_async::Error::Server(e))) if e.code == 1045 => Err(problem(
            format!("the server refused the login of user `{user}` (Access denied)"),
            "check the user and password in the --mysql URL (mysql://USER:PASSWORD@host:port; \
             percent-encode `@` `:` `/` in the password)",
        )),
        Ok(Err(mysql_async::Error::Server(e))) => Err(problem(
            format!("the server refused the connection: {} (error {})", e.message, e.code),
            "check the user's account on the server",
        )),
        Ok(Err(mysql_async::Error::Io(e))) => Err(problem(
            format!("cannot reach MySQL at {source}: {e}"),
            "check the host and port, that the server runs there and that no firewall blocks this \
             machine",
        )),
        Ok(Err(e)) => Err(problem(
            format!("cannot connect: {e}"),
            "check the --mysql URL and that the server is a MySQL or MariaDB",
        )),
    }
}

/// Parses a `mysql://` URL into options (TCP only, no socket switching).
pub(crate) fn mysql_opts(url: &str) -> Result<mysql_async::Opts, Problem> {
    let source = strip_credentials(url);
    let opts = mysql_async::Opts::from_url(url).map_err(|e| Problem {
        source: source.clone(),
        what: format!("not a usable MySQL URL ({e})"),
        fix: "write mysql://USER:PASSWORD@host:port".into(),
    })?;
    Ok(mysql_async::OptsBuilder::from_opts(opts).prefer_socket(false).into())
}

/// `host:port` of a MySQL URL.
pub(crate) fn mysql_name(opts: &mysql_async::Opts) -> String {
    let host = opts.ip_or_hostname();
    if host.contains(':') {
        format!("[{host}]:{}", opts.tcp_port())
    } else {
        format!("{host}:{}", opts.tcp_port())
    }
}

/// The current binlog file and position: `SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` on
/// MySQL 8.4+. `Ok(None)` when the binlog is off.
pub(crate) async fn master_status(
    conn: &mut mysql_async::Conn,
) -> Result<Option<(String, u64)>, mysql_async::Error> {
    let row = match conn.query_first::<mysql_async::Row, _>("SHOW MASTER STATUS").await {
        Ok(row) => row,
        Err(mysql_async::Error::Server(e)) if e.code == 1064 => {
            conn.query_first::<mysql_async::Row, _>("SHOW BINARY LOG STATUS").await?
        }
        Err(e) => return Err(e),
    };
    Ok(row.and_then(|r| {
        let file: Option<String> = r.get(0);
        let pos: Option<String> = r.get(1);
        Some((file?, pos?.parse().ok()?))
    }))
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

    #[test]
    fn problems_read_as_paragraphs() {
        let text = format_problems(&[Problem {
            source: "mysql://db:3306".into(),
            what: "binary logging is off".into(),
            fix: "turn it on".into(),
        }]);
        assert_eq!(
            text,
            "cannot record: 1 problem found\n- mysql://db:3306: binary logging is off.\n  fix: turn it on"
        );
    }
}
