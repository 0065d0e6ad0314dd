/*!
The shop: the `orders` table, the reader and writer tasks, the turns coordinator and the scripted
incident, run on one tokio runtime while the recorder captures them.

Every task has its own Redis and database connections (opened before the traffic starts), so
MONITOR shows one client address per task. The incident's reader and writer hand over through
oneshot channels: the writer starts only once the reader has read `CANCELLED`, and the reader's
`SETEX` waits for the writer's commit and invalidation plus [`DemoConfig::incident_stall`].
*/

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cachetape_recorder::live::resp::{RedisUrl, Reply, RespConn};
use cachetape_recorder::live::{RecordConfig, Recording};
use cachetape_tape::{KeyPattern, strip_credentials};
use mysql_async::prelude::Queryable;
use tokio::sync::{RwLock, oneshot};

use crate::servers::{PrivateMariaDb, PrivateRedis};
use crate::{DemoConfig, DemoError, DemoSummary, INCIDENT_ORDER, Protocol};
use cachetape_base::Rng;

/// Statuses the writers move orders between.
const STATUSES: [&str; 5] = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"];
/// The hot orders a third of the reads go to (the incident's order among them).
const HOT: std::ops::RangeInclusive<u32> = 40..=49;
/// How long readers or writers have the shop to themselves in turns mode.
const TURN: Duration = Duration::from_millis(200);
/// Reads of `order:42` the incident's reader makes after its SETEX.
const INCIDENT_REREADS: usize = 3;

/// What the shop did (background traffic and incident together).
#[derive(Clone, Debug, Default)]
pub struct ShopCounts {
    /// GETs of `order:{id}`.
    pub reads: u64,
    /// Of which hits.
    pub hits: u64,
    /// Misses that read the database and cached the row.
    pub misses: u64,
    /// Misses that stalled before caching.
    pub stalls: u64,
    /// Committed updates.
    pub writes: u64,
    /// DELs sent by writers.
    pub invalidations: u64,
}

/// How the scripted incident went, as the shop saw it.
#[derive(Clone, Debug)]
pub struct IncidentLog {
    /// The incident reader's client address as MONITOR shows it.
    pub reader: String,
    /// The incident writer's client address.
    pub writer: String,
    /// What the reader selected (`CANCELLED`) and cached.
    pub cached: String,
    /// What the writer committed (`PAID`).
    pub committed: String,
    /// From the writer's hand-over (commit and invalidation done) to the SETEX's reply.
    pub setex_after_commit: Duration,
    /// The reader's GETs of `order:42` after its SETEX.
    pub rereads: usize,
    /// Of which served `CANCELLED`.
    pub stale_rereads: usize,
}

#[derive(Default)]
struct Counters {
    reads: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    stalls: AtomicU64,
    writes: AtomicU64,
    invalidations: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ShopCounts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ShopCounts {
            reads: get(&self.reads),
            hits: get(&self.hits),
            misses: get(&self.misses),
            stalls: get(&self.stalls),
            writes: get(&self.writes),
            invalidations: get(&self.invalidations),
        }
    }

    fn operations(&self) -> u64 {
        self.reads.load(Ordering::Relaxed) + self.writes.load(Ordering::Relaxed)
    }
}

/// Whose turn it is (turns mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// Readers and writers together (no turns).
    Both,
    Read,
    Write,
    Pause,
}

/// What every task shares.
struct Shop {
    config: DemoConfig,
    redis: RedisUrl,
    mysql: String,
    counters: Counters,
    stop: AtomicBool,
    /// Background readers leave order 42 alone until the incident has cached it.
    incident_done: AtomicBool,
    turn: RwLock<Turn>,
    ttl: String,
}

impl Shop {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts one background operation; stops the shop when `operations` is reached.
    fn count_op(&self) {
        if let Some(limit) = self.config.operations
            && self.counters.operations() >= limit
        {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn redis_error(&self, e: impl std::fmt::Display) -> DemoError {
        DemoError::Redis { url: self.redis.to_string(), detail: e.to_string() }
    }

    fn db_error(&self, e: impl std::fmt::Display) -> DemoError {
        DemoError::Database { url: strip_credentials(&self.mysql), detail: e.to_string() }
    }
}

/// The JSON the shop caches for a row.
fn render(id: u32, status: &str, total: &str) -> String {
    format!(r#"{{"id":{id},"status":"{status}","total":"{total}"}}"#)
}

/// One task's Redis connection.
struct Cache {
    conn: RespConn,
    client: String,
}

impl Cache {
    async fn connect(shop: &Shop) -> Result<Cache, DemoError> {
        let mut conn = RespConn::connect(&shop.redis).await.map_err(|e| shop.redis_error(e))?;
        if let Some(password) = &shop.redis.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &shop.redis.user {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            let reply = conn.call(&args).await.map_err(|e| shop.redis_error(e))?;
            if let Reply::Error(e) = reply {
                return Err(shop.redis_error(format!("AUTH refused: {e}")));
            }
        }
        if shop.redis.db != 0 {
            let db = shop.redis.db.to_string();
            conn.call(&[b"SELECT", db.as_bytes()]).await.map_err(|e| shop.redis_error(e))?;
        }
        let client = conn.stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
        Ok(Cache { conn, client })
    }

    async fn call(&mut self, shop: &Shop, args: &[&[u8]]) -> Result<Reply, DemoError> {
        match self.conn.call(args).await.map_err(|e| shop.redis_error(e))? {
            Reply::Error(e) => {
                Err(shop.redis_error(format!("{} answered {e}", String::from_utf8_lossy(args[0]))))
            }
            reply => Ok(reply),
        }
    }
}

async fn connect_db(shop: &Shop, database: Option<&str>) -> Result<mysql_async::Conn, DemoError> {
    let opts = mysql_async::Opts::from_url(&shop.mysql).map_err(|e| shop.db_error(e))?;
    let opts = mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .db_name(database.map(str::to_string));
    // A server that has just started may refuse the first connections for a moment.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match mysql_async::Conn::new(opts.clone()).await {
            Ok(conn) => return Ok(conn),
            Err(mysql_async::Error::Io(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(shop.db_error(e)),
        }
    }
}

/// Checks the names and limits before anything starts.
fn validate(config: &DemoConfig) -> Result<(), DemoError> {
    let db = &config.database;
    if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(DemoError::Config(format!(
            "--database `{db}`: use letters, digits and `_` only"
        )));
    }
    if config.orders == 0 {
        return Err(DemoError::Config("--orders must be at least 1".into()));
    }
    if config.incident && config.orders < INCIDENT_ORDER {
        return Err(DemoError::Config(format!(
            "the incident poisons order {INCIDENT_ORDER}: use --orders {INCIDENT_ORDER} or more, \
             or --no-incident"
        )));
    }
    if config.incident && config.turns.is_some() {
        return Err(DemoError::Config(
            "--turns keeps readers and writers apart, the incident needs them together: use one \
             of --turns and --incident"
                .into(),
        ));
    }
    if config.readers == 0 && config.writers == 0 && !config.incident {
        return Err(DemoError::Config(
            "no readers, no writers, no incident: nothing to run".into(),
        ));
    }
    if !(0.0..=1.0).contains(&config.stall_probability) {
        return Err(DemoError::Config("--stall-probability is a share between 0 and 1".into()));
    }
    if config.ttl < Duration::from_secs(1) {
        return Err(DemoError::Config("--ttl must be at least 1s (SETEX takes seconds)".into()));
    }
    Ok(())
}

pub fn run(config: &DemoConfig, progress: &mut dyn FnMut(&str)) -> Result<DemoSummary, DemoError> {
    validate(config)?;
    // Private servers live until the end of this function (dropped: killed, directories removed).
    let mut _private_redis = None;
    let redis_url = match &config.redis {
        Some(url) => url.clone(),
        None => {
            progress("starting a private redis-server (loopback, free port, no persistence)");
            let redis = PrivateRedis::start()?;
            let url = redis.url();
            progress(&format!("redis-server ready at {url}"));
            _private_redis = Some(redis);
            url
        }
    };
    let mut _private_db = None;
    let mysql_url = match &config.mysql {
        Some(url) => url.clone(),
        None => {
            progress("starting a private MariaDB (binlog on, ROW format; takes a few seconds)");
            let db = PrivateMariaDb::start()?;
            let url = db.url();
            progress(&format!("MariaDB ready at {url}"));
            _private_db = Some(db);
            url
        }
    };
    let redis = RedisUrl::parse(&redis_url).map_err(|e| {
        DemoError::Config(format!("--redis {}: {e}", strip_credentials(&redis_url)))
    })?;
    let shop = Arc::new(Shop {
        config: config.clone(),
        redis,
        mysql: mysql_url.clone(),
        counters: Counters::default(),
        stop: AtomicBool::new(false),
        incident_done: AtomicBool::new(!config.incident),
        turn: RwLock::new(if config.turns.is_some() { Turn::Pause } else { Turn::Both }),
        ttl: config.ttl.as_secs().to_string(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| DemoError::Server {
            what: "the shop's runtime".into(),
            detail: e.to_string(),
        })?;

    runtime.block_on(setup(&shop))?;
    progress(&format!(
        "{}.orders holds {} orders; the cache is empty",
        config.database, config.orders
    ));

    let mut record = RecordConfig::new(&config.output);
    record.redis = vec![redis_url.clone()];
    record.mysql = Some(mysql_url.clone());
    record.tables = vec![KeyPattern::new(format!("{}.*", config.database))];
    record.level = config.level;
    record.probe_interval = config.probe_interval;
    record.created_us = config.created_us;
    record.status_line = false;
    let recording = Recording::start(record)?;
    progress(&format!("recording into {}", config.output.display()));

    let outcome = runtime.block_on(traffic(shop.clone()));
    recording.stop();
    let summary = recording.wait();
    let incident = outcome?;
    let summary = summary?;
    progress(&format!("recorded {} events", summary.events));

    let mapping = config.mapping_path();
    std::fs::write(&mapping, config.mapping_toml()).map_err(|e| DemoError::Output {
        what: format!("cannot write the mapping {}", mapping.display()),
        detail: e.to_string(),
    })?;
    Ok(DemoSummary {
        trace: config.output.clone(),
        mapping,
        trace_bytes: summary.bytes,
        events: summary.events,
        counts: shop.counters.snapshot(),
        incident,
        recording: summary,
    })
}

/// Creates the table (refusing to touch a database or Redis db the demo did not make) and fills
/// it; empties the shop's keys.
async fn setup(shop: &Shop) -> Result<(), DemoError> {
    let config = &shop.config;
    let db = &config.database;
    let mut cache = Cache::connect(shop).await?;
    // A given Redis: only the demo's own keys (from an earlier run, deleted below) may be there.
    let mut leftovers = Vec::new();
    if config.redis.is_some() {
        for key in scan_keys(shop, &mut cache).await? {
            if !is_demo_key(&key) {
                return Err(DemoError::Config(format!(
                    "Redis at {} holds keys the demo did not write in db {} (`{key}`): the demo \
                     writes and deletes order:{{id}} keys and must not mix them with yours. Give \
                     it an empty db (redis://HOST:PORT/15)",
                    shop.redis, shop.redis.db
                )));
            }
            leftovers.push(key);
        }
    }
    let mut conn = connect_db(shop, None).await?;
    let tables: Vec<(String, String)> = conn
        .exec(
            "SELECT table_name, table_comment FROM information_schema.tables WHERE table_schema = ?",
            (db.as_str(),),
        )
        .await
        .map_err(|e| shop.db_error(e))?;
    for (name, comment) in &tables {
        if name != "orders" || comment != "cachetape demo" {
            return Err(DemoError::Config(format!(
                "the database `{db}` already has a table `{name}` the demo did not create; give \
                 the demo a database of its own (--database cachetape_demo)"
            )));
        }
    }
    let mut rng = Rng::stream(config.seed, 0);
    let mut rows = Vec::with_capacity(config.orders as usize);
    for id in 1..=config.orders {
        let status = if config.incident && id == INCIDENT_ORDER {
            "CANCELLED"
        } else {
            STATUSES[rng.below(STATUSES.len() as u64) as usize]
        };
        let total = format!("{}.{:02}", 5 + rng.below(200), rng.below(100));
        rows.push(format!("({id}, '{status}', {total}, 'customer-{}')", 1 + rng.below(50)));
    }
    let statements = [
        format!("CREATE DATABASE IF NOT EXISTS `{db}`"),
        format!("DROP TABLE IF EXISTS `{db}`.orders"),
        format!(
            "CREATE TABLE `{db}`.orders (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL, \
             total DECIMAL(10,2) NOT NULL, customer VARCHAR(32) NOT NULL) ENGINE=InnoDB \
             COMMENT='cachetape demo'"
        ),
        format!(
            "INSERT INTO `{db}`.orders (id, status, total, customer) VALUES {}",
            rows.join(", ")
        ),
    ];
    for sql in statements {
        conn.query_drop(sql).await.map_err(|e| shop.db_error(e))?;
    }
    let _ = conn.disconnect().await;
    for key in (1..=config.orders).map(|id| format!("order:{id}")).chain(leftovers) {
        cache.call(shop, &[b"DEL", key.as_bytes()]).await?;
    }
    Ok(())
}

/// Every key in the demo's Redis db (SCAN, so the server never blocks on it).
async fn scan_keys(shop: &Shop, cache: &mut Cache) -> Result<Vec<String>, DemoError> {
    let mut cursor = b"0".to_vec();
    let mut all = Vec::new();
    loop {
        let reply = cache.call(shop, &[b"SCAN", &cursor, b"COUNT", b"1000"]).await?;
        let Some([next, Reply::Array(Some(keys))]) = reply.array() else {
            return Err(shop.redis_error("SCAN answered something other than [cursor, keys]"));
        };
        all.extend(keys.iter().map(|k| k.text().unwrap_or_default()));
        cursor = next.bytes().unwrap_or(b"0").to_vec();
        if cursor == b"0" {
            return Ok(all);
        }
    }
}

/// One of the demo's own keys: `order:` and digits.
fn is_demo_key(key: &str) -> bool {
    key.strip_prefix("order:")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Runs the tasks until the duration or the operation count is reached and the incident is done.
async fn traffic(shop: Arc<Shop>) -> Result<Option<IncidentLog>, DemoError> {
    let config = &shop.config;
    let mut tasks = tokio::task::JoinSet::new();
    // Connections first, so that connecting is not part of anyone's timing.
    let mut readers = Vec::new();
    for _ in 0..config.readers {
        readers
            .push((Cache::connect(&shop).await?, connect_db(&shop, Some(&config.database)).await?));
    }
    let mut writers = Vec::new();
    for _ in 0..config.writers {
        writers
            .push((Cache::connect(&shop).await?, connect_db(&shop, Some(&config.database)).await?));
    }
    let incident_conns = if config.incident {
        let reader =
            (Cache::connect(&shop).await?, connect_db(&shop, Some(&config.database)).await?);
        let writer =
            (Cache::connect(&shop).await?, connect_db(&shop, Some(&config.database)).await?);
        Some((reader, writer))
    } else {
        None
    };
    let started = Instant::now();
    for (i, (cache, db)) in readers.into_iter().enumerate() {
        let rng = Rng::stream(config.seed, 100 + i as u64);
        tasks.spawn(reader(shop.clone(), cache, db, rng));
    }
    for (i, (cache, db)) in writers.into_iter().enumerate() {
        let rng = Rng::stream(config.seed, 200 + i as u64);
        tasks.spawn(writer(shop.clone(), cache, db, rng));
    }
    if let Some(pause) = config.turns {
        tasks.spawn(turns(shop.clone(), pause));
    }
    let incident = incident_conns.map(|(reader, writer)| {
        let shop = shop.clone();
        tokio::spawn(async move {
            let result = incident(shop.clone(), started, reader, writer).await;
            // However it ended, the clock may now stop the shop; a failure stops it at once.
            if result.is_err() {
                shop.stop.store(true, Ordering::Relaxed);
            }
            shop.incident_done.store(true, Ordering::Relaxed);
            result
        })
    });
    tasks.spawn(clock(shop.clone(), started));

    let mut first_error = None;
    while let Some(result) = tasks.join_next().await {
        let result =
            result.unwrap_or_else(|e| Err(DemoError::Incident(format!("a task failed: {e}"))));
        if let Err(e) = result {
            shop.stop.store(true, Ordering::Relaxed);
            first_error.get_or_insert(e);
        }
    }
    let log = match incident {
        Some(handle) => match handle.await {
            Ok(Ok(log)) => Some(log),
            Ok(Err(e)) => return Err(first_error.unwrap_or(e)),
            Err(e) => return Err(DemoError::Incident(format!("its task failed: {e}"))),
        },
        None => None,
    };
    match first_error {
        Some(e) => Err(e),
        None => Ok(log),
    }
}

/// Stops the shop once the duration is up and the incident (if any) is done.
async fn clock(shop: Arc<Shop>, started: Instant) -> Result<(), DemoError> {
    while !shop.stopping() {
        if started.elapsed() >= shop.config.duration && shop.incident_done.load(Ordering::Relaxed) {
            shop.stop.store(true, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Turns mode: writers, pause, readers, pause, … A turn ends only when its operations in flight
/// have finished (the write lock waits for them), then the pause starts.
async fn turns(shop: Arc<Shop>, pause: Duration) -> Result<(), DemoError> {
    for next in [Turn::Write, Turn::Read].into_iter().cycle() {
        if shop.stopping() {
            break;
        }
        *shop.turn.write().await = next;
        tokio::time::sleep(TURN).await;
        *shop.turn.write().await = Turn::Pause;
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// The background reader: GET, and on a miss SELECT, maybe stall, SETEX.
async fn reader(
    shop: Arc<Shop>,
    mut cache: Cache,
    mut db: mysql_async::Conn,
    mut rng: Rng,
) -> Result<(), DemoError> {
    let orders = shop.config.orders;
    while !shop.stopping() {
        let turn = shop.turn.read().await;
        if !matches!(*turn, Turn::Read | Turn::Both) {
            drop(turn);
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let mut id = if rng.chance(1.0 / 3.0) {
            *HOT.start() + rng.below(u64::from(HOT.end() - HOT.start() + 1)) as u32
        } else {
            1 + rng.below(u64::from(orders)) as u32
        };
        if id > orders || (id == INCIDENT_ORDER && !shop.incident_done.load(Ordering::Relaxed)) {
            id = 1 + rng.below(u64::from(orders.min(INCIDENT_ORDER - 1))) as u32;
        }
        let stall = rng.chance(shop.config.stall_probability);
        read_order(&shop, &mut cache, &mut db, id, stall).await?;
        shop.count_op();
        drop(turn);
        tokio::time::sleep(shop.config.think).await;
    }
    let _ = db.disconnect().await;
    Ok(())
}

/// One cache-aside read; returns the value served (from the cache or the database).
async fn read_order(
    shop: &Shop,
    cache: &mut Cache,
    db: &mut mysql_async::Conn,
    id: u32,
    stall: bool,
) -> Result<(String, bool), DemoError> {
    let key = format!("order:{id}");
    let c = &shop.counters;
    c.reads.fetch_add(1, Ordering::Relaxed);
    if let Some(value) = cache.call(shop, &[b"GET", key.as_bytes()]).await?.text() {
        c.hits.fetch_add(1, Ordering::Relaxed);
        return Ok((value, true));
    }
    c.misses.fetch_add(1, Ordering::Relaxed);
    let value = select(shop, db, id).await?;
    if stall {
        c.stalls.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(shop.config.stall).await;
    }
    cache.call(shop, &[b"SETEX", key.as_bytes(), shop.ttl.as_bytes(), value.as_bytes()]).await?;
    Ok((value, false))
}

/// The row as the shop caches it.
async fn select(shop: &Shop, db: &mut mysql_async::Conn, id: u32) -> Result<String, DemoError> {
    let row: Option<(String, String)> = db
        .exec_first("SELECT status, CAST(total AS CHAR) FROM orders WHERE id = ?", (id,))
        .await
        .map_err(|e| shop.db_error(e))?;
    let (status, total) =
        row.ok_or_else(|| shop.db_error(format!("order {id} vanished from the orders table")))?;
    Ok(render(id, &status, &total))
}

/// The background writer: a new status and total for a random order, invalidated as the
/// protocol says. Order 42 is the incident's alone.
async fn writer(
    shop: Arc<Shop>,
    mut cache: Cache,
    mut db: mysql_async::Conn,
    mut rng: Rng,
) -> Result<(), DemoError> {
    let orders = shop.config.orders;
    while !shop.stopping() {
        let turn = shop.turn.read().await;
        if !matches!(*turn, Turn::Write | Turn::Both) {
            drop(turn);
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let mut id = 1 + rng.below(u64::from(orders)) as u32;
        if shop.config.incident && id == INCIDENT_ORDER {
            id = 1 + rng.below(u64::from(INCIDENT_ORDER - 1)) as u32;
        }
        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
        let total = format!("{}.{:02}", 5 + rng.below(200), rng.below(100));
        write_order(&shop, &mut cache, &mut db, id, status, &total, None).await?;
        shop.count_op();
        drop(turn);
        tokio::time::sleep(shop.config.write_think).await;
    }
    let _ = db.disconnect().await;
    Ok(())
}

/// One write under the protocol. `committed` is told once the commit and the invalidation that
/// goes with it are done (before a double delete's delayed second DEL).
async fn write_order(
    shop: &Shop,
    cache: &mut Cache,
    db: &mut mysql_async::Conn,
    id: u32,
    status: &str,
    total: &str,
    committed: Option<oneshot::Sender<()>>,
) -> Result<(), DemoError> {
    let key = format!("order:{id}");
    let c = &shop.counters;
    let protocol = shop.config.protocol;
    let del = async |cache: &mut Cache| -> Result<(), DemoError> {
        cache.call(shop, &[b"DEL", key.as_bytes()]).await?;
        c.invalidations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    if matches!(protocol, Protocol::DeleteBeforeWrite | Protocol::DoubleDelete { .. }) {
        del(cache).await?;
    }
    db.exec_drop("UPDATE orders SET status = ?, total = ? WHERE id = ?", (status, total, id))
        .await
        .map_err(|e| shop.db_error(e))?;
    c.writes.fetch_add(1, Ordering::Relaxed);
    if protocol == Protocol::DeleteAfterWrite {
        del(cache).await?;
    }
    if let Some(tx) = committed {
        let _ = tx.send(());
    }
    if let Protocol::DoubleDelete { delay } = protocol {
        tokio::time::sleep(delay).await;
        del(cache).await?;
    }
    Ok(())
}

/// The scripted stale set on order 42 (see the crate documentation).
async fn incident(
    shop: Arc<Shop>,
    started: Instant,
    (mut rcache, mut rdb): (Cache, mysql_async::Conn),
    (mut wcache, mut wdb): (Cache, mysql_async::Conn),
) -> Result<IncidentLog, DemoError> {
    let config = &shop.config;
    // Start once a good part of the background traffic has run (and well before its end).
    let at = config.duration.mul_f64(0.4);
    let ops_at = config.operations.map(|n| n * 2 / 5);
    loop {
        if shop.stopping()
            || started.elapsed() >= at
            || ops_at.is_some_and(|n| shop.counters.operations() >= n)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let key = format!("order:{INCIDENT_ORDER}");
    let c = &shop.counters;
    c.reads.fetch_add(1, Ordering::Relaxed);
    if let Some(v) = rcache.call(&shop, &[b"GET", key.as_bytes()]).await?.text() {
        return Err(DemoError::Incident(format!("{key} was already cached ({v}) before its read")));
    }
    c.misses.fetch_add(1, Ordering::Relaxed);
    c.stalls.fetch_add(1, Ordering::Relaxed);
    let cached = select(&shop, &mut rdb, INCIDENT_ORDER).await?;
    if !cached.contains("\"CANCELLED\"") {
        return Err(DemoError::Incident(format!("the reader selected {cached}, not CANCELLED")));
    }
    // The reader stalls here; the writer commits PAID and invalidates meanwhile.
    let (committed_tx, committed_rx) = oneshot::channel();
    let writer_shop = shop.clone();
    let writer = tokio::spawn(async move {
        let total = "99.90";
        write_order(
            &writer_shop,
            &mut wcache,
            &mut wdb,
            INCIDENT_ORDER,
            "PAID",
            total,
            Some(committed_tx),
        )
        .await?;
        let _ = wdb.disconnect().await;
        Ok::<(String, String), DemoError>((wcache.client, render(INCIDENT_ORDER, "PAID", total)))
    });
    committed_rx
        .await
        .map_err(|_| DemoError::Incident("the writer stopped before committing".into()))?;
    let handed_over = Instant::now();
    tokio::time::sleep(config.incident_stall).await;
    rcache.call(&shop, &[b"SETEX", key.as_bytes(), shop.ttl.as_bytes(), cached.as_bytes()]).await?;
    let setex_after_commit = handed_over.elapsed();
    shop.incident_done.store(true, Ordering::Relaxed);
    let (writer_client, committed) =
        writer.await.map_err(|e| DemoError::Incident(format!("the writer task failed: {e}")))??;
    let mut stale_rereads = 0;
    for _ in 0..INCIDENT_REREADS {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let (value, hit) = read_order(&shop, &mut rcache, &mut rdb, INCIDENT_ORDER, false).await?;
        if hit && value == cached {
            stale_rereads += 1;
        }
    }
    let _ = rdb.disconnect().await;
    Ok(IncidentLog {
        reader: rcache.client,
        writer: writer_client,
        cached,
        committed,
        setex_after_commit,
        rereads: INCIDENT_REREADS,
        stale_rereads,
    })
}
