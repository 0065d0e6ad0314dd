/*!
A real cache-aside workload against a Redis and a MySQL/MariaDB server, logging what each read
returned, from where and when, and when each commit returned — the ground truth the analyzer's
verdicts are checked against (and the workload `cachetape demo` can grow from).

- **Readers** `GET order:{id}`; on a miss they `SELECT status, total` from `orders`, sometimes
  stall (the race of DESIGN: "stale set"), then `SETEX order:{id} TTL {json}`.
- **Writers** each own a share of the rows (so a row's commits are serial and the log orders
  them): `UPDATE orders SET status, total` (autocommit), then `DEL order:{id}`. With
  [`Workload::aba`] they pick one of two statuses and keep each row's total, so a row's value
  returns to earlier ones (a status column's ABA); with [`Workload::reload`] one transaction
  deletes and re-inserts every row before the traffic (a multi-row commit).
- With [`Workload::aba_incident`], one scripted race on a row of its own (`rows + 1`, which the
  readers and writers leave alone), a third into the run: a reader misses and reads `PENDING`,
  the writer commits `REFUNDED` and DELs, the reader's SETEX of `PENDING` lands and three GETs
  are served it while the row is `REFUNDED`, then the writer sets the row back to `PENDING` at
  once (its binlog event so close to the SETEX that the later commit alone could explain the
  cached value).

The cached value is the JSON rendering of the row the reader selected:
`{"id":3,"status":"PAID","total":"12.50"}`. Times are the machine's clock in µs since the
epoch, the same clock the recorder uses. Deterministic choices (ids, stalls) come from a seeded
generator; the interleaving is whatever the servers and threads make of it.
*/

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use crate::resp::{read_resp, resp_command};
use cachetape_base::Rng;
use cachetape_tape::now_us;

const STATUSES: [&str; 5] = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"];

/// How to run the workload.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Redis port on 127.0.0.1.
    pub redis_port: u16,
    /// `mysql://user@host:port` (no database).
    pub mysql_url: String,
    /// The database to create the `orders` table in (dropped and re-created).
    pub database: String,
    /// Rows (ids 1..=rows).
    pub rows: u32,
    /// Reader threads.
    pub readers: usize,
    /// Writer threads (row `id` belongs to writer `id % writers`).
    pub writers: usize,
    /// How long readers and writers run.
    pub duration: Duration,
    /// Per mille of misses after which the reader stalls between SELECT and SETEX.
    pub stall_per_mille: u64,
    /// How long a stall lasts.
    pub stall: Duration,
    /// Pause between a writer's updates.
    pub write_every: Duration,
    /// Pause between a reader's reads.
    pub read_every: Duration,
    /// TTL of the cached values (seconds).
    pub ttl_secs: u32,
    /// Seed of the random choices.
    pub seed: u64,
    /// Writers set one of two statuses (`PENDING`, `REFUNDED`) and keep each row's total: a
    /// row's value returns to earlier ones.
    pub aba: bool,
    /// Before the readers and writers start, one transaction deletes every row and inserts it
    /// again as `PENDING` (with its total), all in one commit.
    pub reload: bool,
    /// The scripted ABA race on row `rows + 1` (see the module doc).
    pub aba_incident: bool,
}

impl Workload {
    /// A small, racy workload: 6 rows, 4 readers, 2 writers, 3 s; each row is updated about
    /// every 60 ms, and one miss in four stalls 70 ms between its SELECT and its SETEX, so stalled
    /// SETEXes often land after the next commit and DEL of their row (stale sets).
    pub fn new(redis_port: u16, mysql_url: impl Into<String>, database: impl Into<String>) -> Self {
        Workload {
            redis_port,
            mysql_url: mysql_url.into(),
            database: database.into(),
            rows: 6,
            readers: 4,
            writers: 2,
            duration: Duration::from_secs(3),
            stall_per_mille: 250,
            stall: Duration::from_millis(70),
            write_every: Duration::from_millis(20),
            read_every: Duration::from_millis(2),
            ttl_secs: 300,
            seed: 42,
            aba: false,
            reload: false,
            aba_incident: false,
        }
    }
}

/// Where a read's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// A cache hit.
    Cache,
    /// A miss, then the database.
    Db,
}

/// One read, as the workload saw it.
#[derive(Clone, Debug)]
pub struct Read {
    /// The reader's Redis connection as MONITOR names it (`127.0.0.1:port`).
    pub client: String,
    /// The row id.
    pub id: u32,
    /// Where the value came from.
    pub from: From,
    /// The value (the cached JSON, or the JSON rendering of the selected row).
    pub value: String,
    /// When the GET (or SELECT) was sent.
    pub sent_us: i64,
    /// When its reply arrived.
    pub returned_us: i64,
}

/// One committed update.
#[derive(Clone, Debug)]
pub struct CommitLog {
    /// The row id.
    pub id: u32,
    /// The row after it, rendered as the readers cache it.
    pub value: String,
    /// When the UPDATE was sent.
    pub sent_us: i64,
    /// When it returned (committed).
    pub returned_us: i64,
}

/// What the workload did.
#[derive(Clone, Debug, Default)]
pub struct WorkloadLog {
    /// Each row's value before the workload, by id (index `id - 1`).
    pub initial: Vec<String>,
    /// Every read (GET hits and DB reads after misses), per reader in its order.
    pub reads: Vec<Read>,
    /// Every commit; a row's commits are in order (one writer per row).
    pub commits: Vec<CommitLog>,
}

/// What the log proves about a cache hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The DB held the served value throughout the GET.
    Fresh,
    /// The DB held another value throughout the GET.
    Stale,
    /// A commit of the row was in flight during the GET: the log proves nothing.
    Unproven,
}

impl WorkloadLog {
    /// What the log proves about `read` (a cache hit): the DB value during the GET is known
    /// when the row's last commit returned before the GET was sent and its next one was sent
    /// after the GET returned.
    pub fn proof(&self, read: &Read) -> Proof {
        let mut value = &self.initial[read.id as usize - 1];
        for c in self.commits.iter().filter(|c| c.id == read.id) {
            if c.returned_us < read.sent_us {
                value = &c.value;
            } else if c.sent_us <= read.returned_us {
                return Proof::Unproven;
            }
        }
        if *value == read.value { Proof::Fresh } else { Proof::Stale }
    }
}

/// The statuses of an [`Workload::aba`] run.
const ABA_STATUSES: [&str; 2] = ["PENDING", "REFUNDED"];

/// A row's total before the workload (kept by [`Workload::aba`] writers).
fn initial_total(id: u32) -> String {
    format!("{}.50", 10 + id)
}

fn render(id: u32, status: &str, total: &str) -> String {
    format!(r#"{{"id":{id},"status":"{status}","total":"{total}"}}"#)
}

struct Redis {
    conn: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Redis {
    fn connect(port: u16) -> Redis {
        let conn = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
        conn.set_nodelay(true).ok();
        let reader = BufReader::new(conn.try_clone().unwrap());
        Redis { conn, reader }
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.conn.write_all(&resp_command(args)).expect("send to redis");
        let mut reply = Vec::new();
        read_resp(&mut self.reader, &mut reply);
        reply
    }
}

/// The bulk string of a RESP reply (`None` for nil).
fn bulk(reply: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(reply);
    if text.starts_with("$-1") {
        return None;
    }
    let (_, body) = text.split_once("\r\n")?;
    Some(body.trim_end_matches("\r\n").to_string())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

async fn connect_db(url: &str, database: &str) -> mysql_async::Conn {
    let opts = mysql_async::Opts::from_url(&format!("{url}/{database}")).expect("a MySQL URL");
    mysql_async::Conn::new(opts).await.expect("connect to the database")
}

/// Creates the table with its rows (before recording starts), empties the cache keys, and
/// returns each row's initial rendering.
pub fn setup(w: &Workload) -> Vec<String> {
    let rt = runtime();
    let initial = rt.block_on(async {
        let opts = mysql_async::Opts::from_url(&w.mysql_url).expect("a MySQL URL");
        let mut conn = mysql_async::Conn::new(opts).await.expect("connect to the database");
        let db = &w.database;
        conn.query_drop(format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}; CREATE TABLE {db}.orders \
             (id INT PRIMARY KEY, status VARCHAR(20) NOT NULL, total DECIMAL(10,2) NOT NULL, \
             note VARCHAR(40)) ENGINE=InnoDB"
        ))
        .await
        .expect("create the table");
        let mut initial = Vec::new();
        for id in 1..=w.rows + u32::from(w.aba_incident) {
            let total = initial_total(id);
            let status = if id > w.rows { "PENDING" } else { "NEW" };
            conn.query_drop(format!(
                "INSERT INTO {db}.orders VALUES ({id}, '{status}', {total}, 'not cached')"
            ))
            .await
            .expect("insert a row");
            initial.push(render(id, status, &total));
        }
        let _ = conn.disconnect().await;
        initial
    });
    let mut redis = Redis::connect(w.redis_port);
    for id in 1..=w.rows + 1 {
        redis.call(&[b"DEL", format!("order:{id}").as_bytes()]);
    }
    initial
}

/// Runs readers and writers for `w.duration`; `setup` must have run.
pub fn run(w: &Workload, initial: Vec<String>) -> WorkloadLog {
    let mut first = WorkloadLog { initial, ..WorkloadLog::default() };
    if w.reload {
        first.commits = reload(w);
    }
    let log = Arc::new(Mutex::new(first));
    let deadline = Instant::now() + w.duration;
    let mut threads = Vec::new();
    for r in 0..w.readers {
        let (w, log) = (w.clone(), log.clone());
        threads.push(std::thread::spawn(move || reader(&w, r, deadline, &log)));
    }
    for k in 0..w.writers {
        let (w, log) = (w.clone(), log.clone());
        threads.push(std::thread::spawn(move || writer(&w, k, deadline, &log)));
    }
    if w.aba_incident {
        let (w, log) = (w.clone(), log.clone());
        threads.push(std::thread::spawn(move || {
            std::thread::sleep(w.duration / 3);
            aba_incident(&w, &log);
        }));
    }
    for t in threads {
        t.join().expect("a workload thread panicked");
    }
    std::mem::take(&mut *log.lock().unwrap())
}

/// One transaction that deletes every row and inserts it again as `PENDING`: a commit per row
/// in the log, all with the transaction's times.
fn reload(w: &Workload) -> Vec<CommitLog> {
    let rt = runtime();
    rt.block_on(async {
        let mut db = connect_db(&w.mysql_url, &w.database).await;
        let rows: Vec<String> = (1..=w.rows)
            .map(|id| format!("({id}, 'PENDING', {}, 'reloaded')", initial_total(id)))
            .collect();
        let sent_us = now_us();
        db.query_drop(format!(
            "START TRANSACTION; DELETE FROM orders WHERE id <= {}; INSERT INTO orders VALUES {}; \
             COMMIT",
            w.rows,
            rows.join(", ")
        ))
        .await
        .expect("reload the rows in one transaction");
        let returned_us = now_us();
        let _ = db.disconnect().await;
        (1..=w.rows)
            .map(|id| CommitLog {
                id,
                value: render(id, "PENDING", &initial_total(id)),
                sent_us,
                returned_us,
            })
            .collect()
    })
}

/// The scripted ABA race on row `rows + 1` (see the module doc), logged like the rest.
fn aba_incident(w: &Workload, log: &Mutex<WorkloadLog>) {
    let rt = runtime();
    let id = w.rows + 1;
    let key = format!("order:{id}");
    let total = initial_total(id);
    let mut reader_db = rt.block_on(connect_db(&w.mysql_url, &w.database));
    let mut writer_db = rt.block_on(connect_db(&w.mysql_url, &w.database));
    let mut reader = Redis::connect(w.redis_port);
    let mut writer = Redis::connect(w.redis_port);
    let client = reader.conn.local_addr().unwrap().to_string();
    let (mut reads, mut commits) = (Vec::new(), Vec::new());
    let get = |redis: &mut Redis, reads: &mut Vec<Read>| {
        let sent_us = now_us();
        let reply = redis.call(&[b"GET", key.as_bytes()]);
        let returned_us = now_us();
        bulk(&reply).map(|value| {
            let from = From::Cache;
            reads.push(Read { client: client.clone(), id, from, value, sent_us, returned_us })
        })
    };
    assert!(get(&mut reader, &mut reads).is_none(), "the incident's key is cached already");
    let sent_us = now_us();
    let row: Option<(String, String)> =
        rt.block_on(reader_db.query_first(format!(
            "SELECT status, CAST(total AS CHAR) FROM orders WHERE id = {id}"
        )))
        .expect("select the incident's row");
    let (status, read_total) = row.expect("the incident's row exists");
    let value = render(id, &status, &read_total);
    let returned_us = now_us();
    let from = From::Db;
    reads.push(Read {
        client: client.clone(),
        id,
        from,
        value: value.clone(),
        sent_us,
        returned_us,
    });
    let mut update = |status: &str, db: &mut mysql_async::Conn| {
        let sent_us = now_us();
        rt.block_on(
            db.query_drop(format!("UPDATE orders SET status = '{status}' WHERE id = {id}")),
        )
        .expect("update the incident's row");
        let returned_us = now_us();
        commits.push(CommitLog { id, value: render(id, status, &total), sent_us, returned_us });
    };
    update("REFUNDED", &mut writer_db);
    writer.call(&[b"DEL", key.as_bytes()]);
    let ttl = w.ttl_secs.to_string();
    reader.call(&[b"SETEX", key.as_bytes(), ttl.as_bytes(), value.as_bytes()]);
    for _ in 0..3 {
        assert!(get(&mut reader, &mut reads).is_some(), "the incident's SETEX is not cached");
    }
    update("PENDING", &mut writer_db);
    writer.call(&[b"DEL", key.as_bytes()]);
    let _ = rt.block_on(reader_db.disconnect());
    let _ = rt.block_on(writer_db.disconnect());
    let mut log = log.lock().unwrap();
    log.reads.extend(reads);
    log.commits.extend(commits);
}

fn reader(w: &Workload, r: usize, deadline: Instant, log: &Mutex<WorkloadLog>) {
    let rt = runtime();
    let mut db = rt.block_on(connect_db(&w.mysql_url, &w.database));
    let mut redis = Redis::connect(w.redis_port);
    let client = redis.conn.local_addr().unwrap().to_string();
    let mut rng = Rng::new(w.seed.wrapping_mul(31).wrapping_add(r as u64 + 1));
    let mut reads = Vec::new();
    while Instant::now() < deadline {
        let id = 1 + rng.below(u64::from(w.rows)) as u32;
        let key = format!("order:{id}");
        let sent_us = now_us();
        let reply = redis.call(&[b"GET", key.as_bytes()]);
        let returned_us = now_us();
        match bulk(&reply) {
            Some(value) => reads.push(Read {
                client: client.clone(),
                id,
                from: From::Cache,
                value,
                sent_us,
                returned_us,
            }),
            None => {
                let sent_us = now_us();
                let row: Option<(String, String)> = rt
                    .block_on(db.query_first(format!(
                        "SELECT status, CAST(total AS CHAR) FROM orders WHERE id = {id}"
                    )))
                    .expect("select a row");
                let returned_us = now_us();
                let (status, total) = row.expect("the row exists");
                let value = render(id, &status, &total);
                reads.push(Read {
                    client: client.clone(),
                    id,
                    from: From::Db,
                    value: value.clone(),
                    sent_us,
                    returned_us,
                });
                if rng.below(1000) < w.stall_per_mille {
                    std::thread::sleep(w.stall);
                }
                let ttl = w.ttl_secs.to_string();
                redis.call(&[b"SETEX", key.as_bytes(), ttl.as_bytes(), value.as_bytes()]);
            }
        }
        std::thread::sleep(w.read_every);
    }
    let _ = rt.block_on(db.disconnect());
    log.lock().unwrap().reads.extend(reads);
}

fn writer(w: &Workload, k: usize, deadline: Instant, log: &Mutex<WorkloadLog>) {
    let rt = runtime();
    let mut db = rt.block_on(connect_db(&w.mysql_url, &w.database));
    let mut redis = Redis::connect(w.redis_port);
    let mut rng = Rng::new(w.seed.wrapping_mul(131).wrapping_add(k as u64 + 7));
    let mine: Vec<u32> = (1..=w.rows).filter(|id| *id as usize % w.writers == k).collect();
    let mut version = 0u32;
    let mut commits = Vec::new();
    while Instant::now() < deadline && !mine.is_empty() {
        for &id in &mine {
            version += 1;
            let (status, total) = if w.aba {
                let status = ABA_STATUSES[rng.below(ABA_STATUSES.len() as u64) as usize];
                (status, initial_total(id))
            } else {
                // Every version's total differs, so every commit changes the cached value.
                (
                    STATUSES[rng.below(STATUSES.len() as u64) as usize],
                    format!("{}.{:02}", 100 + version, id),
                )
            };
            let sent_us = now_us();
            rt.block_on(db.query_drop(format!(
                "UPDATE orders SET status = '{status}', total = {total} WHERE id = {id}"
            )))
            .expect("update a row");
            let returned_us = now_us();
            commits.push(CommitLog { id, value: render(id, status, &total), sent_us, returned_us });
            redis.call(&[b"DEL", format!("order:{id}").as_bytes()]);
            std::thread::sleep(w.write_every);
        }
    }
    let _ = rt.block_on(db.disconnect());
    log.lock().unwrap().commits.extend(commits);
}
