/*!
The live recorder against a private redis-server and the binary's shared mariadbd (binlog ROW).

`live_workload_is_captured_completely_and_in_order` is the recorder's main acceptance test: 10,000
mixed commands over 8 connections (pipelined, with MULTI/EXEC blocks and scripts) and 1,000 row
updates in 100 ten-row transactions, recorded at the same time. Every command must be in the
trace in each connection's order, the per-command counts must equal `INFO commandstats`, and
every row change must carry the right column names and before/after values, grouped by
transaction with its Commit. The other tests cover snapshots, redaction of row images and
preflight failures at the library level.
*/

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use cachetape_recorder::live::{RecordConfig, RecordError, Recording};
use cachetape_tape::{Event, EventBody, KeyPattern, Reader, Redaction, RowOp, StoredValue, Value};
use cachetape_testkit::{RedisServer, read_resp, resp_command};

use crate::binlog_file::shared_mariadb;

const DB: &str = "ct_record_live";

/// Reads every event of a trace.
pub fn read_trace(path: &Path) -> Vec<Event> {
    let reader = Reader::open(path).expect("open the trace");
    reader.map(|e| e.expect("read an event")).collect()
}

/// The commands of one client connection of the workload, as sent.
fn client_commands(c: usize, n: usize) -> Vec<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
    let s = |parts: &[&str]| parts.iter().map(|p| p.as_bytes().to_vec()).collect::<Vec<_>>();
    let mut i = 0;
    while out.len() < n {
        let k = format!("c{c}:k{}", i % 50);
        let cmd = match i % 10 {
            0..=3 => s(&["GET", &k]),
            4 => s(&["SET", &k, &format!("v{c}-{i} \"quoted\"\n"), "EX", "300"]),
            5 => s(&["DEL", &k]),
            6 => s(&["HSET", &format!("c{c}:h"), &format!("f{}", i % 5), &i.to_string()]),
            7 => s(&["INCR", &format!("c{c}:n")]),
            8 => s(&["MGET", &format!("c{c}:k1"), &format!("c{c}:k2")]),
            _ if i % 20 == 9 && out.len() + 4 <= n => {
                out.push(s(&["MULTI"]));
                out.push(s(&["SET", &format!("c{c}:m"), &i.to_string()]));
                out.push(s(&["INCR", &format!("c{c}:n")]));
                s(&["EXEC"])
            }
            _ if i % 20 == 19 => s(&[
                "EVAL",
                "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
                "1",
                &format!("c{c}:e"),
                &i.to_string(),
            ]),
            _ => s(&["LPUSH", &format!("c{c}:l"), &i.to_string()]),
        };
        out.push(cmd);
        i += 1;
    }
    out
}

/// Sends `commands` on one connection, 50 at a time, reading every reply; returns the client's
/// address as MONITOR names it.
fn drive_client(port: u16, commands: &[Vec<Vec<u8>>]) -> String {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let addr = conn.local_addr().unwrap().to_string();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    for chunk in commands.chunks(50) {
        let mut out = Vec::new();
        for c in chunk {
            let parts: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            out.extend(resp_command(&parts));
        }
        conn.write_all(&out).unwrap();
        for _ in chunk {
            let mut reply = Vec::new();
            read_resp(&mut reader, &mut reply);
        }
    }
    addr
}

fn commandstats(redis: &RedisServer) -> HashMap<String, u64> {
    let reply = redis.command(&[b"INFO", b"commandstats"]);
    String::from_utf8_lossy(&reply)
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("cmdstat_")?;
            let (name, stats) = rest.split_once(':')?;
            let calls = stats.split(',').find_map(|f| f.strip_prefix("calls="))?;
            Some((name.to_string(), calls.parse().ok()?))
        })
        .collect()
}

fn config(out: &Path) -> RecordConfig {
    let mut config = RecordConfig::new(out);
    config.probe_interval = Duration::from_millis(200);
    config
}

#[test]
fn live_workload_is_captured_completely_and_in_order() {
    let redis = RedisServer::start();
    let db = shared_mariadb();
    db.sql(&format!(
        "DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB};
         CREATE TABLE {DB}.orders (id INT PRIMARY KEY, status VARCHAR(20) NOT NULL,
                                   total DECIMAL(10,2), note TEXT) ENGINE=InnoDB;"
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.bin");
    let mut config = config(&out);
    config.redis = vec![redis.url()];
    config.mysql = Some(db.url());
    config.tables = vec![KeyPattern::new(format!("{DB}.*"))];
    let recording = Recording::start(config).expect("start recording");

    // 1,000 row updates in 100 transactions of 10, plus the 100 inserts before them.
    let mut sql = String::from("BEGIN;");
    for id in 1..=100 {
        sql.push_str(&format!("INSERT INTO {DB}.orders VALUES ({id}, 'new', {id}.50, NULL);"));
    }
    sql.push_str("COMMIT;");
    for t in 0..100 {
        sql.push_str("BEGIN;");
        let group = t % 10;
        for id in group * 10 + 1..=group * 10 + 10 {
            sql.push_str(&format!(
                "UPDATE {DB}.orders SET status = 'v{t}', total = total + 1, \
                 note = 'txn {t}' WHERE id = {id};"
            ));
        }
        sql.push_str("COMMIT;");
    }
    let db_writer = std::thread::spawn(move || shared_mariadb().sql(&sql));

    let clients: Vec<Vec<Vec<Vec<u8>>>> = (0..8).map(|c| client_commands(c, 1250)).collect();
    let port = redis.port;
    let handles: Vec<_> = clients
        .iter()
        .cloned()
        .map(|cmds| std::thread::spawn(move || drive_client(port, &cmds)))
        .collect();
    let addrs: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    db_writer.join().unwrap();
    recording.stop();
    let summary = recording.wait().expect("recording finishes");
    assert_eq!(summary.dropped, 0);
    assert_eq!(summary.gaps, 0, "{summary}");

    let events = read_trace(&out);
    let reader = Reader::open(&out).unwrap();
    assert_eq!(reader.header().sources.len(), 2);

    // Redis: each connection's commands, in its order.
    let redis_events: Vec<&cachetape_tape::RedisCommand> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Redis(c) => Some(c),
            _ => None,
        })
        .collect();
    for (addr, sent) in addrs.iter().zip(&clients) {
        let got: Vec<Vec<Vec<u8>>> = redis_events
            .iter()
            .filter(|c| &*c.client == addr.as_str())
            .map(|c| c.argv.iter().map(<[u8]>::to_vec).collect())
            .collect();
        assert_eq!(got.len(), sent.len(), "commands of client {addr}");
        assert!(got == *sent, "client {addr}: commands differ from what it sent");
    }
    // MONITOR order is Redis's order: server times never go back.
    assert!(redis_events.windows(2).all(|w| w[0].server_us <= w[1].server_us));
    // Counts, script calls included, equal Redis's own.
    let stats = commandstats(&redis);
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for c in &redis_events {
        *counted.entry(String::from_utf8_lossy(c.argv.name()).to_lowercase()).or_default() += 1;
        for s in &c.script {
            *counted.entry(String::from_utf8_lossy(s.argv.name()).to_lowercase()).or_default() += 1;
        }
    }
    for name in ["get", "set", "del", "hset", "incr", "mget", "multi", "exec", "eval", "lpush"] {
        assert_eq!(
            counted.get(name).copied().unwrap_or(0),
            stats.get(name).copied().unwrap_or(0),
            "{name}: trace vs INFO commandstats"
        );
    }
    assert_eq!(redis_events.len(), 10_000, "every top-level command, nothing else");
    // The recorder's own commands are not in the trace.
    for own in ["time", "client", "echo", "info", "monitor"] {
        assert!(!counted.contains_key(own), "the recorder's own {own} leaked into the trace");
    }

    // The database: 100 inserts and 1,000 updates, each checked against a model of the table.
    let mut model: HashMap<i64, (String, String)> = HashMap::new();
    let mut open_txn: Option<u64> = None;
    let mut rows_in_txn = 0;
    let (mut inserts, mut updates, mut commits) = (0, 0, 0);
    for e in &events {
        match &e.body {
            EventBody::Row(r) => {
                assert_eq!(&*r.table, &format!("{DB}.orders"));
                if let Some(t) = open_txn {
                    assert_eq!(r.txn, t, "row changes of one transaction are contiguous");
                }
                open_txn = Some(r.txn);
                rows_in_txn += 1;
                let after = r.after.as_ref();
                let names: Vec<&str> =
                    after.or(r.before.as_ref()).unwrap().cells.iter().map(|c| &*c.column).collect();
                assert_eq!(names, ["id", "status", "total", "note"]);
                let id = match r.after.as_ref().unwrap().get("id") {
                    Some(Value::Int(id)) => *id,
                    other => panic!("id is {other:?}"),
                };
                let text = |img: &cachetape_tape::RowImage, col: &str| match img.get(col) {
                    Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                    Some(Value::Decimal(d)) => d.clone(),
                    other => format!("{other:?}"),
                };
                let after = r.after.as_ref().unwrap();
                match r.op {
                    RowOp::Insert => inserts += 1,
                    RowOp::Update => {
                        updates += 1;
                        let before = r.before.as_ref().unwrap();
                        assert_eq!(
                            model.get(&id),
                            Some(&(text(before, "status"), text(before, "total"))),
                            "before image of row {id}"
                        );
                    }
                    RowOp::Delete => panic!("no deletes in the workload"),
                }
                model.insert(id, (text(after, "status"), text(after, "total")));
            }
            EventBody::Commit(c) => {
                if open_txn == Some(c.txn) {
                    assert!(rows_in_txn == 10 || rows_in_txn == 100, "{rows_in_txn} rows");
                    commits += 1;
                }
                open_txn = None;
                rows_in_txn = 0;
            }
            _ => {}
        }
    }
    assert_eq!((inserts, updates, commits), (100, 1000, 101));
    let now = db.sql(&format!("SELECT id, status, total FROM {DB}.orders ORDER BY id"));
    for line in now.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let id: i64 = f[0].parse().unwrap();
        assert_eq!(model[&id], (f[1].to_string(), f[2].to_string()), "row {id} at the end");
    }
    // Clock probes from both sources, at least at start and stop.
    let probes = |src: u16| {
        events
            .iter()
            .filter(|e| e.source.0 == src && matches!(e.body, EventBody::ClockProbe(_)))
            .count()
    };
    assert!(probes(0) >= 2 && probes(1) >= 2, "{} and {} probes", probes(0), probes(1));
    assert!(summary.perturb_window_us.is_some());
}

#[test]
fn snapshots_sit_where_the_probe_ran() {
    let redis = RedisServer::start();
    redis.command(&[b"SET", b"order:1", b"CANCELLED", b"EX", b"600"]);
    redis.command(&[b"HSET", b"order:2", b"status", b"PAID"]);
    redis.command(&[b"SET", b"other", b"x"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.bin");
    let mut config = config(&out);
    config.redis = vec![redis.url()];
    config.keys = vec![KeyPattern::new("order:*")];
    config.snapshot = true;
    let recording = Recording::start(config).unwrap();
    // First sight of order:3 (missing), then a write.
    redis.command(&[b"GET", b"order:3"]);
    std::thread::sleep(Duration::from_millis(300));
    redis.command(&[b"SET", b"order:3", b"NEW"]);
    std::thread::sleep(Duration::from_millis(300));
    recording.stop();
    recording.wait().unwrap();
    let events = read_trace(&out);
    let snaps: Vec<(&[u8], &StoredValue, i64, usize)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.body {
            EventBody::Snapshot(s) => Some((&s.key[..], &s.value, s.pttl_ms, i)),
            _ => None,
        })
        .collect();
    let find = |k: &[u8]| {
        snaps.iter().find(|s| s.0 == k).unwrap_or_else(|| panic!("no snapshot of {k:?}"))
    };
    let one = find(b"order:1");
    assert_eq!(one.1, &StoredValue::String(b"CANCELLED".to_vec()));
    assert!(one.2 > 500_000 && one.2 <= 600_000);
    assert_eq!(
        find(b"order:2").1,
        &StoredValue::Hash(vec![(b"status".to_vec(), b"PAID".to_vec())])
    );
    let three = find(b"order:3");
    assert_eq!((three.1, three.2), (&StoredValue::Missing, -2));
    // order:3's snapshot comes after its first GET and before the SET.
    let pos = |name: &str, key: &[u8]| {
        events
            .iter()
            .position(|e| matches!(&e.body, EventBody::Redis(c) if c.argv.is(name) && c.argv.get(1) == Some(key)))
            .unwrap()
    };
    assert!(pos("GET", b"order:3") < three.3 && three.3 < pos("SET", b"order:3"));
    assert!(snaps.iter().all(|s| s.0 != b"other"));
    // No trace of the probe's EVAL or its [lua] calls.
    assert!(!events.iter().any(|e| matches!(&e.body, EventBody::Redis(c) if c.argv.is("EVAL"))));
}

#[test]
fn redacted_rows_match_redacted_cache_values() {
    let redis = RedisServer::start();
    let db = shared_mariadb();
    let schema = "ct_record_redact";
    db.sql(&format!(
        "DROP DATABASE IF EXISTS {schema}; CREATE DATABASE {schema};
         CREATE TABLE {schema}.orders (id INT PRIMARY KEY, status VARCHAR(20), total DECIMAL(10,2));"
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("redact.bin");
    let mut config = config(&out);
    config.redis = vec![redis.url()];
    config.mysql = Some(db.url());
    config.tables = vec![KeyPattern::new(format!("{schema}.*"))];
    config.redaction = Redaction::Values;
    let recording = Recording::start(config).unwrap();
    db.sql(&format!("INSERT INTO {schema}.orders VALUES (42, 'SECRETPAID', 19.99)"));
    redis.command(&[b"SET", b"order:42", b"SECRETPAID", b"EX", b"300"]);
    redis.command(&[
        b"SET",
        b"order:42:json",
        br#"{"id":42,"status":"SECRETPAID","total":"19.99"}"#,
    ]);
    std::thread::sleep(Duration::from_millis(200));
    recording.stop();
    recording.wait().unwrap();
    let events = read_trace(&out);
    let set_value = |key: &[u8]| {
        events
            .iter()
            .find_map(|e| match &e.body {
                EventBody::Redis(c) if c.argv.get(1) == Some(key) => {
                    c.argv.get(2).map(<[u8]>::to_vec)
                }
                _ => None,
            })
            .unwrap()
    };
    let row = events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::Row(r) => r.after.clone(),
            _ => None,
        })
        .unwrap();
    let status = match row.get("status") {
        Some(Value::Bytes(b)) => b.clone(),
        other => panic!("status is {other:?}"),
    };
    assert_eq!(set_value(b"order:42"), status, "cache value and column hash equal");
    assert_eq!(row.get("id"), Some(&Value::Int(42)), "primary keys are kept under values");
    let json: serde_json::Value = serde_json::from_slice(&set_value(b"order:42:json")).unwrap();
    assert_eq!(json["status"].as_str().unwrap().as_bytes(), &status[..]);
    assert_eq!(
        Some(&Value::Bytes(json["total"].as_str().unwrap().as_bytes().to_vec())),
        row.get("total")
    );
    assert_eq!(Reader::open(&out).unwrap().header().redaction, Redaction::Values);
    let text = format!("{events:?}");
    assert!(!text.contains("SECRET"), "a value leaked: {text}");
}

#[test]
fn a_refused_password_names_the_fix_and_never_shows_it() {
    // (testkit's readiness check does not log in: set the password once the server runs.)
    let redis = RedisServer::start();
    redis.command(&[b"CONFIG", b"SET", b"requirepass", b"right-horse"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.bin");
    let mut config = config(&out);
    config.redis = vec![format!("redis://:wrong-battery@127.0.0.1:{}", redis.port)];
    let err = match Recording::start(config) {
        Err(e) => e,
        Ok(_) => panic!("recording started with a wrong password"),
    };
    let text = err.to_string();
    assert!(matches!(err, RecordError::Preflight(_)));
    assert!(text.contains("refused the password"), "{text}");
    assert!(text.contains("redis://USER:PASSWORD@host:port"), "{text}");
    assert!(!text.contains("wrong-battery"), "{text}");
    assert!(!out.exists(), "nothing is written when preflight fails");

    // An ACL user without +monitor.
    let mut conn = TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    conn.write_all(&resp_command(&[b"AUTH", b"right-horse"])).unwrap();
    conn.write_all(&resp_command(&[
        b"ACL",
        b"SETUSER",
        b"watcher",
        b"on",
        b">pw",
        b"~*",
        b"+@all",
        b"-monitor",
    ]))
    .unwrap();
    let mut reader = BufReader::new(conn);
    for _ in 0..2 {
        let mut reply = Vec::new();
        read_resp(&mut reader, &mut reply);
        assert!(reply.starts_with(b"+OK"), "{}", String::from_utf8_lossy(&reply));
    }
    let mut config = RecordConfig::new(&out);
    config.redis = vec![format!("redis://watcher:pw@127.0.0.1:{}", redis.port)];
    let text = Recording::start(config).err().expect("MONITOR is refused").to_string();
    assert!(text.contains("may not run MONITOR"), "{text}");
    assert!(text.contains("ACL SETUSER watcher +monitor"), "{text}");
}

#[test]
fn two_nodes_are_two_sources_and_expirations_are_recorded() {
    let (a, b) = (RedisServer::start(), RedisServer::start());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nodes.bin");
    let mut config = config(&out);
    config.redis = vec![a.url(), b.url()];
    config.notifications = true;
    config.enable_notifications = true;
    let recording = Recording::start(config).unwrap();
    a.command(&[b"SET", b"on-a", b"1", b"PX", b"50"]);
    b.command(&[b"SET", b"on-b", b"2"]);
    let start = std::time::Instant::now();
    // Expiry is lazy or by the 10 Hz cycle: touch the key until it is gone.
    while a.command(&[b"EXISTS", b"on-a"]) != b":0\r\n" {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    recording.stop();
    let summary = recording.wait().unwrap();
    assert_eq!(summary.sources.len(), 2);
    let events = read_trace(&out);
    let header = Reader::open(&out).unwrap().header().clone();
    let names: Vec<&str> = header.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [format!("127.0.0.1:{}", a.port), format!("127.0.0.1:{}", b.port)]);
    let mut sets: Vec<(u16, Vec<u8>)> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Redis(c) if c.argv.is("SET") => Some((e.source.0, c.argv.get(1)?.to_vec())),
            _ => None,
        })
        .collect();
    // Across sources the trace's order is the order events reached the writer: only each
    // command's source is asserted, not which node's SET came first.
    sets.sort();
    assert_eq!(sets, [(0, b"on-a".to_vec()), (1, b"on-b".to_vec())]);
    let expired: Vec<(u16, &[u8], &str)> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Keyspace(k) => Some((e.source.0, &k.key[..], &*k.event)),
            _ => None,
        })
        .collect();
    assert_eq!(expired, [(0, &b"on-a"[..], "expired")]);
    // The recorder turned notifications on and said so.
    assert!(
        header.notes.iter().any(|n| n.contains("notify-keyspace-events")),
        "{:?}",
        header.notes
    );
}

#[test]
fn column_names_follow_ddl_during_the_recording() {
    let db = shared_mariadb();
    let schema = "ct_record_ddl";
    db.sql(&format!(
        "DROP DATABASE IF EXISTS {schema}; CREATE DATABASE {schema};
         CREATE TABLE {schema}.t (id INT PRIMARY KEY, a VARCHAR(10));"
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ddl.bin");
    let mut config = config(&out);
    config.mysql = Some(db.url());
    config.tables = vec![KeyPattern::new(format!("{schema}.*"))];
    let recording = Recording::start(config).unwrap();
    db.sql(&format!(
        "INSERT INTO {schema}.t VALUES (1, 'x');
         ALTER TABLE {schema}.t CHANGE a renamed VARCHAR(10), ADD COLUMN b INT;
         INSERT INTO {schema}.t VALUES (2, 'y', 7);"
    ));
    recording.stop();
    recording.wait().unwrap();
    let columns: Vec<Vec<String>> = read_trace(&out)
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Row(r) => {
                Some(r.after.as_ref()?.cells.iter().map(|c| c.column.to_string()).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(columns, [vec!["id", "a"], vec!["id", "renamed", "b"]]);
}

#[test]
fn missing_replication_grants_name_the_grant() {
    let db = shared_mariadb();
    // (Anonymous users for localhost would shadow a '%' account: create it for each host.)
    for host in ["localhost", "127.0.0.1", "%"] {
        db.sql(&format!(
            "DROP USER IF EXISTS 'ct_nogrant'@'{host}';
             CREATE USER 'ct_nogrant'@'{host}' IDENTIFIED BY 'pw';
             GRANT SELECT ON *.* TO 'ct_nogrant'@'{host}';"
        ));
    }
    let mut config = RecordConfig::new("never.bin");
    config.mysql = Some(format!("mysql://ct_nogrant:pw@127.0.0.1:{}", db.port));
    let report = cachetape_recorder::live::dry_run(&config).unwrap();
    let text = cachetape_recorder::live::preflight::format_problems(&report.problems);
    assert_eq!(report.problems.len(), 1, "{text}");
    assert!(
        text.contains("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'ct_nogrant'@'"),
        "{text}"
    );
    assert!(text.contains("renamed REPLICATION CLIENT"), "{text}");
    assert!(!text.contains("pw@"), "{text}");
    // A wrong password is its own message.
    config.mysql = Some(format!("mysql://ct_nogrant:nope@127.0.0.1:{}", db.port));
    let report = cachetape_recorder::live::dry_run(&config).unwrap();
    let text = cachetape_recorder::live::preflight::format_problems(&report.problems);
    assert!(text.contains("refused the login of user `ct_nogrant`"), "{text}");
    assert!(!text.contains("nope"), "{text}");
}

#[test]
fn a_lost_monitor_connection_is_a_gap_then_recording_goes_on() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reconnect.bin");
    let mut config = config(&out);
    config.redis = vec![redis.url()];
    let recording = Recording::start(config).unwrap();
    redis.command(&[b"SET", b"before", b"1"]);
    // The ids of the MONITOR clients. Preflight's own MONITOR check, opened before the tap and
    // closed at once, may still be listed: the tap's client is the newest.
    let monitors = || -> Vec<u64> {
        let list = String::from_utf8_lossy(&redis.command(&[b"CLIENT", b"LIST"])).into_owned();
        list.lines()
            .filter(|l| l.contains("cmd=monitor"))
            .filter_map(|l| l.split_whitespace().find_map(|f| f.strip_prefix("id=")))
            .filter_map(|id| id.parse().ok())
            .collect()
    };
    let id = monitors().into_iter().max().expect("the recorder's MONITOR client");
    redis.command(&[b"CLIENT", b"KILL", b"ID", id.to_string().as_bytes()]);
    // Wait until MONITOR is back (a client newer than the one killed), then write again.
    let start = std::time::Instant::now();
    loop {
        if monitors().into_iter().any(|m| m > id) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "MONITOR never came back");
        std::thread::sleep(Duration::from_millis(20));
    }
    redis.command(&[b"SET", b"after", b"1"]);
    recording.stop();
    let summary = recording.wait().unwrap();
    assert_eq!(summary.gaps, 1);
    let events = read_trace(&out);
    let gap = events
        .iter()
        .position(|e| matches!(&e.body, EventBody::Gap(g) if g.reason.contains("MONITOR")));
    let set = |k: &[u8]| {
        events.iter().position(|e| matches!(&e.body, EventBody::Redis(c) if c.argv.is("SET") && c.argv.get(1) == Some(k)))
    };
    let (before, gap, after) =
        (set(b"before").unwrap(), gap.expect("a Gap"), set(b"after").unwrap());
    assert!(before < gap && gap < after);
    assert!(summary.warnings.iter().any(|w| w.contains("reconnecting")), "{:?}", summary.warnings);
}

#[test]
fn a_lost_binlog_connection_resumes_without_losing_or_repeating_a_transaction() {
    let db = {
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        cachetape_testkit::MariaDb::start_with(Default::default())
    };
    db.sql("CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v INT);");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("binlog-reconnect.bin");
    let mut config = config(&out);
    config.mysql = Some(db.url());
    let recording = Recording::start(config).unwrap();
    let txns = |from: i32, to: i32| {
        let sql: String = (from..to)
            .map(|i| format!("BEGIN; INSERT INTO r.t VALUES ({i}, 0); UPDATE r.t SET v = 1 WHERE id = {i}; COMMIT;"))
            .collect();
        db.sql(&sql);
    };
    txns(0, 10);
    let dump =
        db.sql("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
    let dump = dump.trim();
    assert!(!dump.is_empty(), "no binlog dump thread");
    db.sql(&format!("KILL {dump}"));
    txns(10, 20); // committed while the recorder reconnects: read on resume
    std::thread::sleep(Duration::from_millis(300));
    txns(20, 30);
    recording.stop();
    let summary = recording.wait().unwrap();
    let events = read_trace(&out);
    let ids: Vec<i64> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Row(r) if r.op == RowOp::Insert => match r.after.as_ref()?.get("id") {
                Some(Value::Int(id)) => Some(*id),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(ids, (0..30).collect::<Vec<_>>(), "each transaction exactly once, in order");
    let commits = events.iter().filter(|e| matches!(e.body, EventBody::Commit(_))).count();
    assert_eq!(commits, 30);
    assert_eq!(summary.gaps, 1, "{summary}");
    assert!(
        events.iter().any(|e| matches!(&e.body, EventBody::Gap(g) if g.reason.contains("binlog")))
    );
}

#[test]
fn max_events_and_duration_stop_the_recording() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("max.bin");
    let mut config = config(&out);
    config.redis = vec![redis.url()];
    config.max_events = Some(5);
    config.probe_interval = Duration::from_secs(60);
    let recording = Recording::start(config).unwrap();
    for i in 0..20 {
        redis.command(&[b"SET", format!("k{i}").as_bytes(), b"v"]);
    }
    let summary = recording.wait().unwrap();
    assert_eq!(summary.stop_reason, Some(cachetape_recorder::live::StopReason::MaxEvents));
    assert_eq!(summary.events, 5);
    assert_eq!(read_trace(&out).len(), 5);

    let mut config = RecordConfig::new(dir.path().join("duration.bin"));
    config.redis = vec![redis.url()];
    config.duration = Some(Duration::from_millis(700));
    let start = std::time::Instant::now();
    let summary = Recording::start(config).unwrap().wait().unwrap();
    assert_eq!(summary.stop_reason, Some(cachetape_recorder::live::StopReason::Duration));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn redacted_keys_keep_their_prefix_and_match_row_ids() {
    let redis = RedisServer::start();
    let db = shared_mariadb();
    let schema = "ct_record_redact_keys";
    db.sql(&format!(
        "DROP DATABASE IF EXISTS {schema}; CREATE DATABASE {schema};
         CREATE TABLE {schema}.orders (id INT PRIMARY KEY, status VARCHAR(20));"
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys.bin");
    let mut config = config(&out);
    config.redis = vec![redis.url()];
    config.mysql = Some(db.url());
    config.tables = vec![KeyPattern::new(format!("{schema}.*"))];
    config.redaction = Redaction::KeysAndValues;
    let recording = Recording::start(config).unwrap();
    db.sql(&format!("INSERT INTO {schema}.orders VALUES (4242, 'PAID')"));
    redis.command(&[b"SET", b"order:4242", b"PAID"]);
    redis.command(&[b"SET", b"cart:{4242}", b"x"]);
    recording.stop();
    recording.wait().unwrap();
    let events = read_trace(&out);
    let keys: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Redis(c) => Some(String::from_utf8_lossy(c.argv.get(1)?).into_owned()),
            _ => None,
        })
        .collect();
    let id = events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::Row(r) => match r.after.as_ref()?.get("id")? {
                Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            },
            _ => None,
        })
        .expect("the row");
    assert!(id.starts_with('~'), "{id}");
    assert_eq!(keys, [format!("order:{id}"), format!("cart:{{{id}}}")]);
    assert!(!format!("{events:?}").contains("4242"));
}

#[test]
fn a_password_that_works_appears_nowhere() {
    let redis = RedisServer::start();
    redis.command(&[b"CONFIG", b"SET", b"requirepass", b"hunter2-horse"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pw.bin");
    let mut config = config(&out);
    config.redis = vec![format!("redis://:hunter2-horse@127.0.0.1:{}", redis.port)];
    let recording = Recording::start(config).unwrap();
    recording.stop();
    let summary = recording.wait().unwrap();
    let header = Reader::open(&out).unwrap().header().clone();
    assert_eq!(header.sources[0].address, format!("redis://127.0.0.1:{}", redis.port));
    let everything = format!("{summary}{summary:?}{header:?}{:?}", read_trace(&out));
    assert!(!everything.contains("hunter2"), "{everything}");
    assert!(!std::fs::read(&out).unwrap().windows(7).any(|w| w == b"hunter2"));
}

/// `--heartbeat`: on a private MariaDB the recorder creates the table when asked, writes its
/// clock every 100 ms, and each write comes back as a Heartbeat event (never as a row change of
/// the table) with a commit→receipt lag that is positive and small; without
/// `--heartbeat-create` a missing table is a preflight problem naming the fix.
#[test]
fn the_heartbeat_measures_the_binlog_lag() {
    let db = shared_mariadb();
    let schema = "ct_heartbeat";
    db.sql(&format!("DROP DATABASE IF EXISTS {schema}; CREATE DATABASE {schema};"));
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&dir.path().join("never.bin"));
    config.mysql = Some(db.url());
    config.heartbeat = Some(
        cachetape_recorder::live::HeartbeatConfig::parse(&format!("{schema}.hb"), false).unwrap(),
    );
    let report = cachetape_recorder::live::dry_run(&config).unwrap();
    let text = cachetape_recorder::live::preflight::format_problems(&report.problems);
    assert!(text.contains("heartbeat table ct_heartbeat.hb does not exist"), "{text}");
    assert!(text.contains("--heartbeat-create"), "{text}");

    let out = dir.path().join("beat.bin");
    let mut config = config.clone();
    config.output = out.clone();
    config.heartbeat.as_mut().unwrap().create = true;
    config.tables = vec![KeyPattern::new("shop_none.*")];
    config.duration = Some(Duration::from_millis(1_500));
    let recording = Recording::start(config).unwrap();
    recording.wait().unwrap();
    let events = read_trace(&out);
    let lags: Vec<i64> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Heartbeat(h) => {
                assert_eq!(&*h.table, "ct_heartbeat.hb");
                Some(h.lag_us(e.recv_us))
            }
            _ => None,
        })
        .collect();
    assert!(
        !events
            .iter()
            .any(|e| matches!(&e.body, EventBody::Row(r) if &*r.table == "ct_heartbeat.hb")),
        "heartbeat rows are not application data"
    );
    assert!(lags.len() >= 8, "about one heartbeat per 100 ms: {lags:?}");
    assert!(lags.iter().all(|&l| l > 0 && l < 1_000_000), "{lags:?}");
    eprintln!(
        "heartbeat lags (µs): {} samples, worst {}, median {}",
        lags.len(),
        lags.iter().max().unwrap(),
        {
            let mut s = lags.clone();
            s.sort();
            s[s.len() / 2]
        }
    );
}
