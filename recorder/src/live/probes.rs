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
*/

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cachetape_tape::{ClockProbe, EventBody, Snapshot, StoredValue};
use tokio::sync::{mpsc, oneshot};

use super::resp::{RedisUrl, Reply, RespConn};
use super::{TapContext, now_us, preflight};

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

/// The addresses of the recorder's own connections to one node, as MONITOR names clients.
#[derive(Debug, Default)]
pub struct OwnConnections {
    addrs: Mutex<Vec<String>>,
    generation: AtomicU64,
}

impl OwnConnections {
    /// Adds an address (`127.0.0.1:5000`, `[::1]:5000`).
    pub fn add(&self, addr: String) {
        let mut a = self.addrs.lock().unwrap_or_else(|e| e.into_inner());
        if !a.contains(&addr) {
            a.push(addr);
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// A counter that changes whenever the set does.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The addresses now.
    pub fn list(&self) -> Vec<String> {
        self.addrs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

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

/// Registers the connection's address, as the server sees it, among the recorder's own.
pub(crate) async fn learn_own_address(conn: &mut RespConn, own: &OwnConnections) {
    if let Ok(local) = conn.stream.local_addr() {
        own.add(local.to_string());
    }
    if let Ok(reply) = conn.call(&[b"CLIENT", b"INFO"]).await
        && let Some(info) = reply.text()
        && let Some(addr) = info.split_whitespace().find_map(|f| f.strip_prefix("addr="))
    {
        // IPv6 addresses come without brackets from older servers.
        if addr.matches(':').count() > 1 && !addr.starts_with('[') {
            if let Some((host, port)) = addr.rsplit_once(':') {
                own.add(format!("[{host}]:{port}"));
            }
        } else {
            own.add(addr.to_string());
        }
    }
}

/// Opens the probe connection: logs in and registers its address. Called before MONITOR starts,
/// so none of its commands can be mistaken for the application's.
pub(crate) async fn connect(url: &RedisUrl, shared: &ProbeShared) -> Result<RespConn, String> {
    let mut conn = preflight::redis_login(url, Some(&shared.own))
        .await
        .map_err(|p| format!("{}: {}", p.what, p.fix))?;
    learn_own_address(&mut conn, &shared.own).await;
    Ok(conn)
}

/// One `TIME` round trip.
async fn clock_probe(conn: &mut RespConn) -> Option<ClockProbe> {
    let send = now_us();
    let reply = conn.call(&[b"TIME"]).await.ok()?;
    let recv = now_us();
    let items = reply.array()?;
    let secs = items.first()?.int()?;
    let micros = items.get(1)?.int()?;
    Some(ClockProbe {
        local_send_us: send,
        remote_us: secs * 1_000_000 + micros,
        local_recv_us: recv,
    })
}

/// Reads the snapshot script's reply.
fn snapshot_value(db: u32, key: Vec<u8>, reply: &Reply) -> Option<Snapshot> {
    let items = reply.array()?;
    let kind = items.first()?.text()?;
    let pttl = items.get(1)?.int()?;
    let list = |r: Option<&Reply>| -> Vec<Vec<u8>> {
        r.and_then(Reply::array)
            .map(|a| a.iter().filter_map(|x| x.bytes().map(<[u8]>::to_vec)).collect())
            .unwrap_or_default()
    };
    let value = match kind.as_str() {
        "none" => StoredValue::Missing,
        "string" => StoredValue::String(items.get(2)?.bytes()?.to_vec()),
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

/// Finds keys matching `--keys` with SCAN in every db that has keys.
async fn scan_keys(conn: &mut RespConn, ctx: &TapContext, queue: &mut Vec<(u32, Vec<u8>)>) {
    let dbs: Vec<u32> = match conn.call(&[b"INFO", b"keyspace"]).await {
        Ok(reply) => reply
            .text()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("db")?.split(':').next()?.parse().ok())
            .collect(),
        Err(_) => return,
    };
    for db in dbs {
        if !matches!(conn.call(&[b"SELECT", db.to_string().as_bytes()]).await, Ok(Reply::Status(_)))
        {
            continue;
        }
        for pattern in &ctx.config.keys {
            let mut cursor = b"0".to_vec();
            loop {
                let reply = conn
                    .call(&[b"SCAN", &cursor, b"MATCH", pattern.as_bytes(), b"COUNT", b"1000"])
                    .await;
                let Ok(reply) = reply else { return };
                let Some(items) = reply.array() else { break };
                let (Some(next), Some(keys)) =
                    (items.first().and_then(Reply::bytes), items.get(1).and_then(Reply::array))
                else {
                    break;
                };
                for k in keys.iter().filter_map(Reply::bytes) {
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
    mut conn: RespConn,
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
                    match conn.call(&[b"SELECT", db.to_string().as_bytes()]).await {
                        Ok(Reply::Status(_)) => current_db = Some(db),
                        Ok(_) => continue,
                        Err(_) => { connected = false; continue; }
                    }
                }
                let id = next_id;
                next_id += 1;
                let (tx, rx) = oneshot::channel();
                shared.snapshots.lock().unwrap_or_else(|e| e.into_inner()).insert(id, rx);
                let id_text = id.to_string();
                match conn.call(&[b"EVAL", SNAPSHOT_SCRIPT.as_bytes(), b"1", &key, id_text.as_bytes()]).await {
                    Ok(reply @ Reply::Array(_)) => {
                        if let Some(s) = snapshot_value(db, key, &reply) {
                            shared.snapshots_taken.fetch_add(1, Ordering::Relaxed);
                            let _ = tx.send(s);
                        }
                    }
                    Ok(Reply::Error(e)) => {
                        shared.snapshots.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                        if !warned_eval {
                            warned_eval = true;
                            ctx.warn(format!("snapshot probe refused ({e}); initial values of --keys are not recorded"));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => connected = false,
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
        let _ = conn.call(&[b"ECHO", &echo]).await;
    }
}

/// The keyspace notification listener of one node (`--notifications`).
pub(crate) async fn notifications(
    ctx: TapContext,
    url: RedisUrl,
    mut conn: RespConn,
    shared: std::sync::Arc<ProbeShared>,
) {
    let mut stop = ctx.stop.clone();
    let _ = conn.send(&[b"PSUBSCRIBE", b"__keyevent@*__:expired", b"__keyevent@*__:evicted"]).await;
    loop {
        let reply = tokio::select! {
            _ = stop.changed() => break,
            r = conn.read_reply_no_timeout() => r,
        };
        let Ok(reply) = reply else {
            // Lost: reconnect (the MONITOR reader records the Gap for the node).
            if ctx.stopping() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            match preflight::redis_login(&url, Some(&shared.own)).await {
                Ok(c) => {
                    conn = c;
                    let _ = conn
                        .send(&[
                            b"PSUBSCRIBE",
                            b"__keyevent@*__:expired",
                            b"__keyevent@*__:evicted",
                        ])
                        .await;
                }
                Err(_) => continue,
            }
            continue;
        };
        let Some(items) = reply.array() else { continue };
        if items.len() != 4 || items[0].bytes() != Some(b"pmessage") {
            continue;
        }
        let (Some(channel), Some(key)) = (items[2].text(), items[3].bytes()) else { continue };
        let Some(rest) = channel.strip_prefix("__keyevent@") else { continue };
        let Some((db, event)) = rest.split_once("__:") else { continue };
        let Ok(db) = db.parse::<u32>() else { continue };
        let mut notice =
            cachetape_tape::KeyspaceNotice { db, key: key.to_vec(), event: event.into() };
        ctx.redactor.keyspace(&mut notice);
        ctx.send_one(now_us(), EventBody::Keyspace(notice));
    }
}
