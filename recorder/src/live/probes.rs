/*!
The recorder's own connection to each Redis node: clock probes, snapshot probes and the stop
barrier.

- **Clock probes**: `TIME` at the start, every [`RecordConfig::probe_interval`](super::RecordConfig)
  and at the stop, each a [`ClockProbe`] with the local send and receive times around it.
- **Snapshot probes**: for a key seen for the first time (or found by `SCAN` with `--snapshot`),
  one `EVAL` that reads TYPE, PTTL and the value atomically. Its reply becomes a [`Snapshot`]
  that the MONITOR reader puts exactly where the `EVAL` appears in the MONITOR stream (Redis runs
  one command at a time, so that is the state at that point). Each probe carries its id as its
  only `ARGV`, which is how the MONITOR reader finds the reply. Rate-limited per node.
- **Barrier**: at the stop, after the last `TIME`, an `ECHO cachetape-barrier-N`: when the MONITOR
  reader sees it, every command Redis ran before the stop has been read.

Every command of this connection shows up in MONITOR under its address: the MONITOR reader drops
them all (see [`OwnConnections`]), except the snapshot `EVAL`, which it replaces by its Snapshot.
The connection is the `redis` crate's ([`redis_client`]).
*/

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cachetape_tape::{ClockProbe, EventBody, Snapshot, StoredValue};
use redis::Value;
use redis::aio::MultiplexedConnection;
use tokio::sync::{mpsc, oneshot};

use super::now_us;
use super::redis_client::{self, OwnConnections, server_error};
use super::redis_url::RedisUrl;
use super::tap::TapContext;

/// The snapshot script: TYPE, PTTL and the value of `KEYS[1]`, atomically. `ARGV[1]` is the
/// probe's id (unused by the script; it identifies the probe's MONITOR line).
pub const SNAPSHOT_SCRIPT: &str = "-- cachetape snapshot probe\n\
local t = redis.call('TYPE', KEYS[1])['ok']\n\
local p = redis.call('PTTL', KEYS[1])\n\
if t == 'string' then return {t, p, redis.call('GET', KEYS[1])}\n\
elseif t == 'hash' then return {t, p, redis.call('HGETALL', KEYS[1])}\n\
elseif t == 'list' then return {t, p, redis.call('LRANGE', KEYS[1], 0, -1)}\n\
elseif t == 'set' then return {t, p, redis.call('SMEMBERS', KEYS[1])}\n\
elseif t == 'zset' then return {t, p, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}\n\
end\n\
return {t, p}";

/// The prefix of the barrier `ECHO`.
pub const BARRIER: &[u8] = b"cachetape-barrier-";

/// What the probe task and the MONITOR reader of one node share.
#[derive(Debug, Default)]
pub(crate) struct ProbeShared {
    pub own: OwnConnections,
    /// Snapshot replies by probe id, registered before the probe is sent.
    pub snapshots: Mutex<HashMap<u64, oneshot::Receiver<Snapshot>>>,
    /// Keys already probed or queued, by db.
    pub seen: Mutex<HashSet<(u32, Vec<u8>)>>,
    /// The barrier token the MONITOR reader waits for (0: none yet).
    pub barrier: AtomicU64,
    /// Snapshot requests dropped because the queue was full.
    pub snapshot_requests_dropped: AtomicU64,
    /// Snapshots taken.
    pub snapshots_taken: AtomicU64,
}

/// Opens the probe connection: logs in and registers its address. Called before MONITOR starts,
/// so none of its commands can be mistaken for the application's.
pub(crate) async fn connect(
    url: &RedisUrl,
    shared: &ProbeShared,
) -> Result<MultiplexedConnection, String> {
    redis_client::connect_own(url, &shared.own).await.map_err(|p| format!("{}: {}", p.what, p.fix))
}

/// One `TIME` round trip.
async fn clock_probe(conn: &mut MultiplexedConnection) -> Option<ClockProbe> {
    let send = now_us();
    let (secs, micros) = redis::cmd("TIME").query_async::<(i64, i64)>(conn).await.ok()?;
    let recv = now_us();
    Some(ClockProbe {
        local_send_us: send,
        remote_us: secs * 1_000_000 + micros,
        local_recv_us: recv,
    })
}

/// The bytes of a bulk or status reply.
fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        Value::Okay => Some(b"OK"),
        _ => None,
    }
}

/// An integer reply, or a bulk holding an integer.
fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        _ => std::str::from_utf8(bytes(value)?).ok()?.trim().parse().ok(),
    }
}

/// The elements of an array reply.
fn array(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

/// Reads the snapshot script's reply.
fn snapshot_value(db: u32, key: Vec<u8>, reply: &Value) -> Option<Snapshot> {
    let items = array(reply)?;
    let kind = String::from_utf8_lossy(bytes(items.first()?)?).into_owned();
    let pttl = int(items.get(1)?)?;
    let list = |r: Option<&Value>| -> Vec<Vec<u8>> {
        r.and_then(array)
            .map(|a| a.iter().filter_map(|x| bytes(x).map(<[u8]>::to_vec)).collect())
            .unwrap_or_default()
    };
    let value = match kind.as_str() {
        "none" => StoredValue::Missing,
        "string" => StoredValue::String(bytes(items.get(2)?)?.to_vec()),
        "hash" => {
            let flat = list(items.get(2));
            StoredValue::Hash(
                flat.chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| (c[0].clone(), c[1].clone()))
                    .collect(),
            )
        }
        "list" => StoredValue::List(list(items.get(2))),
        "set" => StoredValue::Set(list(items.get(2))),
        "zset" => {
            let flat = list(items.get(2));
            StoredValue::SortedSet(
                flat.chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| {
                        let score = std::str::from_utf8(&c[1]).ok().and_then(|s| s.parse().ok());
                        (c[0].clone(), score.unwrap_or(f64::NAN))
                    })
                    .collect(),
            )
        }
        other => StoredValue::Other(other.to_string()),
    };
    Some(Snapshot { db, key, value, pttl_ms: pttl })
}

/// `SELECT db`: `Ok(false)` when the server refused it, `Err` when the connection failed.
async fn select(conn: &mut MultiplexedConnection, db: u32) -> Result<bool, redis::RedisError> {
    match redis::cmd("SELECT").arg(db).query_async::<()>(conn).await {
        Ok(()) => Ok(true),
        Err(e) if server_error(&e).is_some() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Finds keys matching `--keys` with SCAN in every db that has keys.
async fn scan_keys(
    conn: &mut MultiplexedConnection,
    ctx: &TapContext,
    queue: &mut Vec<(u32, Vec<u8>)>,
) {
    let keyspace = match redis::cmd("INFO").arg("keyspace").query_async::<Value>(conn).await {
        Ok(reply) => bytes(&reply).map(|b| String::from_utf8_lossy(b).into_owned()),
        Err(e) if server_error(&e).is_some() => None,
        Err(_) => return,
    };
    let dbs: Vec<u32> = keyspace
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("db")?.split(':').next()?.parse().ok())
        .collect();
    for db in dbs {
        if !matches!(select(conn, db).await, Ok(true)) {
            continue;
        }
        for pattern in &ctx.config.keys {
            let mut cursor = b"0".to_vec();
            loop {
                let reply = redis::cmd("SCAN")
                    .arg(cursor.as_slice())
                    .arg("MATCH")
                    .arg(pattern.as_bytes())
                    .arg("COUNT")
                    .arg(1000)
                    .query_async::<Value>(conn)
                    .await;
                let reply = match reply {
                    Ok(reply) => reply,
                    Err(e) if server_error(&e).is_some() => break,
                    Err(_) => return,
                };
                let Some(items) = array(&reply) else { break };
                let (Some(next), Some(keys)) =
                    (items.first().and_then(bytes), items.get(1).and_then(array))
                else {
                    break;
                };
                for k in keys.iter().filter_map(bytes) {
                    queue.push((db, k.to_vec()));
                }
                cursor = next.to_vec();
                if cursor == b"0" || ctx.stopping() {
                    break;
                }
            }
        }
    }
}

/// The probe task of one node: clock probes every interval, snapshot probes as keys are seen,
/// and at the stop a last clock probe and the barrier.
pub(crate) async fn run(
    ctx: TapContext,
    url: RedisUrl,
    mut conn: MultiplexedConnection,
    shared: std::sync::Arc<ProbeShared>,
    mut requests: mpsc::Receiver<(u32, Vec<u8>)>,
) {
    let mut stop = ctx.stop.clone();
    let mut interval = tokio::time::interval(ctx.config.probe_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let spacing = Duration::from_secs_f64(1.0 / f64::from(ctx.config.snapshot_rate.max(1)));
    let mut current_db: Option<u32> = None;
    let mut next_id: u64 = 1;
    let mut queue: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut connected = true;
    let mut warned_eval = false;
    if ctx.config.snapshot && !ctx.config.keys.is_empty() {
        scan_keys(&mut conn, &ctx, &mut queue).await;
        current_db = None;
        let mut seen = shared.seen.lock().unwrap_or_else(|e| e.into_inner());
        queue.retain(|k| seen.insert(k.clone()));
        queue.reverse(); // popped from the end: keep SCAN order
    }
    loop {
        if !connected {
            // Reconnect with backoff; the MONITOR reader keeps going meanwhile.
            let mut backoff = Duration::from_millis(100);
            loop {
                if ctx.stopping() {
                    return;
                }
                match connect(&url, &shared).await {
                    Ok(c) => {
                        conn = c;
                        current_db = None;
                        connected = true;
                        break;
                    }
                    Err(_) => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
        let snapshot_ready = !queue.is_empty();
        tokio::select! {
            biased;
            _ = stop.changed() => {}
            _ = interval.tick() => {
                match clock_probe(&mut conn).await {
                    Some(p) => ctx.send_one(p.local_recv_us, EventBody::ClockProbe(p)),
                    None => connected = false,
                }
            }
            req = requests.recv(), if !ctx.stopping() => {
                if let Some(k) = req { queue.insert(0, k); }
            }
            _ = tokio::time::sleep(spacing), if snapshot_ready => {
                let Some((db, key)) = queue.pop() else { continue };
                if current_db != Some(db) {
                    match select(&mut conn, db).await {
                        Ok(true) => current_db = Some(db),
                        Ok(false) => continue,
                        Err(_) => { connected = false; continue; }
                    }
                }
                let id = next_id;
                next_id += 1;
                let (tx, rx) = oneshot::channel();
                shared.snapshots.lock().unwrap_or_else(|e| e.into_inner()).insert(id, rx);
                let eval = redis::cmd("EVAL")
                    .arg(SNAPSHOT_SCRIPT)
                    .arg(1)
                    .arg(key.as_slice())
                    .arg(id)
                    .query_async::<Value>(&mut conn)
                    .await;
                match eval {
                    Ok(reply @ Value::Array(_)) => {
                        if let Some(s) = snapshot_value(db, key, &reply) {
                            shared.snapshots_taken.fetch_add(1, Ordering::Relaxed);
                            let _ = tx.send(s);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => match server_error(&e) {
                        Some(e) => {
                            shared.snapshots.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                            if !warned_eval {
                                warned_eval = true;
                                ctx.warn(format!("snapshot probe refused ({e}); initial values of --keys are not recorded"));
                            }
                        }
                        None => connected = false,
                    },
                }
            }
        }
        if ctx.stopping() {
            break;
        }
    }
    // The stop: a last clock probe, then the barrier.
    if connected {
        if let Some(p) = clock_probe(&mut conn).await {
            ctx.send_one(p.local_recv_us, EventBody::ClockProbe(p));
        }
        let token = now_us().max(1) as u64;
        shared.barrier.store(token, Ordering::Release);
        let mut echo = BARRIER.to_vec();
        echo.extend_from_slice(token.to_string().as_bytes());
        let _ = redis::cmd("ECHO").arg(echo).query_async::<Value>(&mut conn).await;
    }
}
