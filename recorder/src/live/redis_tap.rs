/*!
One Redis node's MONITOR stream → RedisCommand and Snapshot events.

The tap opens the probe connection first (so its address is known before any of its commands
can appear), then a connection of its own that sends `MONITOR` (`monitor_conn.rs`) and reads the
raw `+…\r\n` status lines off the socket, in chunks of up to 256 KiB; every line goes through
the foundation parser ([`parse_line`](crate::monitor::parse_line())). All lines of one chunk share
one receive time and go to the writer as one batch.

- `[db lua]` lines are attached to the EVAL/EVALSHA/FCALL before them; a script command waits for
  them until the next non-`lua` line or 20 ms of silence.
- Lines of the recorder's own connections
  ([`OwnConnections`](super::redis_client::OwnConnections)) are dropped, except a snapshot
  probe's `EVAL`, which becomes its [`Snapshot`](cachetape_tape::Snapshot) at exactly that position, and the barrier
  `ECHO`, which ends the tap once stopping.
- With `--keys`, every key (located with Redis's own key specs) matching a pattern is queued for a
  snapshot probe the first time it is seen.
- A lost connection writes a [`Gap`] from the last line read to the moment MONITOR is back, and
  reconnects with backoff (100 ms doubling to 5 s).
*/

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cachetape_tape::{
    EventBody, Gap, KeyPattern, Micros, Name, RedisCommand, ScriptCall, commands,
};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot};

use super::monitor_conn::{self, MonitorError};
use super::preflight::CheckedRedis;
use super::probes::{self, BARRIER, ProbeShared};
use super::problem::Problem;
use super::redis_url::RedisUrl;
use super::resp::RespConn;
use super::tap::TapContext;
use super::{notifications, now_us, redis_client};
use crate::monitor::{LineError, parse_line, runs_script};

/// Opens a MONITOR connection; the reply must be `+OK`.
async fn start_monitor(url: &RedisUrl, shared: &ProbeShared) -> Result<RespConn, Problem> {
    // Its commands before MONITOR (AUTH) show to other monitors only, but register it anyway.
    monitor_conn::open(url, Some(&shared.own)).await.map_err(|e| match e {
        MonitorError::Login(p) => p,
        MonitorError::Refused(e) => Problem {
            source: url.to_string(),
            what: format!("the server refused MONITOR: {e}"),
            fix: if e.starts_with("NOPERM") {
                format!(
                    "`ACL SETUSER {} +monitor` on the server",
                    url.user.as_deref().unwrap_or("default")
                )
            } else {
                "MONITOR must be allowed on the node".into()
            },
        },
        MonitorError::Unexpected(other) => Problem {
            source: url.to_string(),
            what: format!("unexpected answer to MONITOR: {other:?}"),
            fix: "check that this is a Redis server".into(),
        },
        MonitorError::Lost(e) => Problem {
            source: url.to_string(),
            what: format!("MONITOR failed: {e}"),
            fix: "check that the node is reachable".into(),
        },
    })
}

/// Runs the tap of one node until the stop barrier (or the stop plus a grace period).
pub(crate) async fn run(
    ctx: TapContext,
    node: CheckedRedis,
    ready: oneshot::Sender<Result<(), Problem>>,
) {
    let url = node.parsed.clone();
    let shared = Arc::new(ProbeShared::default());
    let probe_conn = match probes::connect(&url, &shared).await {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(Problem {
                source: url.to_string(),
                what: format!("cannot open the probe connection: {e}"),
                fix: "check that the node is reachable".into(),
            }));
            return;
        }
    };
    let notify_conn = if node.notifications {
        match redis_client::subscribe_keyevents(&url, &shared.own).await {
            Ok(pubsub) => Some(pubsub),
            Err(p) => {
                let _ = ready.send(Err(p));
                return;
            }
        }
    } else {
        None
    };
    let monitor = match start_monitor(&url, &shared).await {
        Ok(c) => c,
        Err(p) => {
            let _ = ready.send(Err(p));
            return;
        }
    };
    let (snap_tx, snap_rx) = mpsc::channel(65536);
    let probe_task =
        tokio::spawn(probes::run(ctx.clone(), url.clone(), probe_conn, shared.clone(), snap_rx));
    let notify_task = notify_conn
        .map(|c| tokio::spawn(notifications::listen(ctx.clone(), url.clone(), c, shared.clone())));
    let _ = ready.send(Ok(()));

    let mut reader = MonitorTap::new(ctx.clone(), shared.clone(), snap_tx);
    reader.run(&url, monitor).await;
    let _ = probe_task.await;
    if let Some(t) = notify_task {
        let _ = t.await;
    }
    let dropped = shared.snapshot_requests_dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        ctx.warn(format!(
            "{dropped} keys were seen faster than snapshot probes could read them: their initial \
             values were not recorded (raise the probe rate or narrow --keys)"
        ));
    }
}

/// The MONITOR reading state of one node.
struct MonitorTap {
    ctx: TapContext,
    shared: Arc<ProbeShared>,
    snap_tx: mpsc::Sender<(u32, Vec<u8>)>,
    own: Vec<String>,
    own_generation: u64,
    /// A script command waiting for its `[lua]` lines, with its receive time.
    pending: Option<(Micros, RedisCommand)>,
    /// Swallow `[lua]` lines (they belong to one of the recorder's own scripts).
    swallow_lua: bool,
    clients: std::collections::HashMap<Vec<u8>, Name>,
    patterns: Vec<KeyPattern>,
    done: bool,
    last_line_us: Micros,
    skipped: u64,
}

impl MonitorTap {
    fn new(
        ctx: TapContext,
        shared: Arc<ProbeShared>,
        snap_tx: mpsc::Sender<(u32, Vec<u8>)>,
    ) -> Self {
        let patterns = ctx.config.keys.clone();
        MonitorTap {
            ctx,
            shared,
            snap_tx,
            own: Vec::new(),
            own_generation: u64::MAX,
            pending: None,
            swallow_lua: false,
            clients: Default::default(),
            patterns,
            done: false,
            last_line_us: now_us(),
            skipped: 0,
        }
    }

    async fn run(&mut self, url: &RedisUrl, mut conn: RespConn) {
        let mut stop = self.ctx.stop.clone();
        let mut stop_deadline: Option<tokio::time::Instant> = None;
        // Bytes already read past MONITOR's +OK.
        let mut buf = std::mem::take(&mut conn.buf);
        buf.reserve(256 << 10);
        loop {
            if self.ctx.stopping() && stop_deadline.is_none() {
                // The barrier normally arrives within a round trip; never wait forever.
                stop_deadline = Some(tokio::time::Instant::now() + Duration::from_secs(5));
            }
            let read = tokio::select! {
                r = conn.stream.read_buf(&mut buf) => Some(r),
                _ = tokio::time::sleep(Duration::from_millis(20)), if self.pending.is_some() => {
                    self.flush_pending();
                    continue;
                }
                _ = stop.changed(), if stop_deadline.is_none() => continue,
                _ = async { match stop_deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => None,
            };
            match read {
                None => break, // stopping and no barrier in time
                Some(Ok(n)) if n > 0 => {
                    let recv_us = now_us();
                    let used = self.lines(&buf, recv_us).await;
                    buf.drain(..used);
                    if self.done {
                        break;
                    }
                    if buf.capacity() - buf.len() < 64 << 10 {
                        buf.reserve(256 << 10);
                    }
                }
                Some(result) => {
                    // EOF or error: a gap until MONITOR is back.
                    let why = match result {
                        Ok(_) => "the server closed the MONITOR connection".to_string(),
                        Err(e) => format!("MONITOR connection lost: {e}"),
                    };
                    self.flush_pending();
                    if self.ctx.stopping() {
                        break;
                    }
                    let from_us = self.last_line_us;
                    self.ctx.warn(format!("{why}; reconnecting"));
                    let mut backoff = Duration::from_millis(100);
                    let reconnected = loop {
                        if self.ctx.stopping() {
                            break None;
                        }
                        match start_monitor(url, &self.shared).await {
                            Ok(c) => break Some(c),
                            Err(_) => {
                                tokio::time::sleep(backoff).await;
                                backoff = (backoff * 2).min(Duration::from_secs(5));
                            }
                        }
                    };
                    let to_us = now_us();
                    self.ctx.stats.gaps.fetch_add(1, Ordering::Relaxed);
                    self.ctx.send_one(to_us, EventBody::Gap(Gap { from_us, to_us, reason: why }));
                    match reconnected {
                        Some(c) => {
                            conn = c;
                            buf.clear();
                            buf.extend_from_slice(&conn.buf);
                            conn.buf.clear();
                        }
                        None => break,
                    }
                }
            }
        }
        self.flush_pending();
        if self.skipped > 0 {
            self.ctx.warn(format!(
                "{} MONITOR lines could not be parsed and were skipped",
                self.skipped
            ));
        }
    }

    fn refresh_own(&mut self) {
        let generation = self.shared.own.generation();
        if generation != self.own_generation {
            self.own = self.shared.own.list();
            self.own_generation = generation;
        }
    }

    fn flush_pending(&mut self) {
        if let Some((recv_us, mut command)) = self.pending.take() {
            self.ctx.redactor.command(&mut command);
            self.ctx.send_one(recv_us, EventBody::Redis(command));
        }
    }

    /// Processes every complete line of `buf`; returns the bytes used.
    async fn lines(&mut self, buf: &[u8], recv_us: Micros) -> usize {
        self.refresh_own();
        let mut batch: Vec<(Micros, EventBody)> = Vec::with_capacity(buf.len() / 64 + 1);
        let mut start = 0;
        let mut last_server_us = 0;
        while let Some(nl) = memchr::memchr(b'\n', &buf[start..]) {
            let line = &buf[start..start + nl + 1];
            start += nl + 1;
            if line.first() == Some(&b'-') {
                self.ctx.warn(format!(
                    "the server sent an error on the MONITOR connection: {}",
                    String::from_utf8_lossy(line.trim_ascii())
                ));
                continue;
            }
            let parsed = match parse_line(line) {
                Ok(p) => p,
                Err(LineError::Blank) => continue,
                Err(_) => {
                    self.skipped += 1;
                    continue;
                }
            };
            last_server_us = parsed.server_us;
            if parsed.is_script_call() {
                if self.swallow_lua {
                    continue;
                }
                if self.pending.is_some() {
                    self.note_keys(parsed.db, &parsed.argv);
                    if let Some((_, p)) = self.pending.as_mut() {
                        p.script.push(ScriptCall {
                            db: parsed.db,
                            server_us: parsed.server_us,
                            argv: parsed.argv,
                        });
                    }
                    continue;
                }
            }
            self.swallow_lua = false;
            if let Some((t, mut command)) = self.pending.take() {
                self.ctx.redactor.command(&mut command);
                batch.push((t, EventBody::Redis(command)));
            }
            if self.own.iter().any(|a| a == parsed.client) {
                // The recorder's own command.
                if parsed.argv.is("ECHO")
                    && let Some(token) = parsed.argv.get(1).and_then(|a| a.strip_prefix(BARRIER))
                {
                    let token: u64 =
                        std::str::from_utf8(token).ok().and_then(|t| t.parse().ok()).unwrap_or(0);
                    let barrier = self.shared.barrier.load(Ordering::Acquire);
                    if barrier != 0 && token == barrier {
                        self.done = true;
                        break;
                    }
                } else if parsed.argv.is("EVAL")
                    && parsed.argv.get(1) == Some(probes::SNAPSHOT_SCRIPT.as_bytes())
                {
                    self.swallow_lua = true;
                    let id: Option<u64> = parsed
                        .argv
                        .get(4)
                        .and_then(|a| std::str::from_utf8(a).ok())
                        .and_then(|t| t.parse().ok());
                    let rx = id.and_then(|id| {
                        self.shared.snapshots.lock().unwrap_or_else(|e| e.into_inner()).remove(&id)
                    });
                    if let Some(rx) = rx
                        && let Ok(Ok(mut snapshot)) =
                            tokio::time::timeout(Duration::from_secs(2), rx).await
                    {
                        self.ctx.redactor.snapshot(&mut snapshot);
                        batch.push((recv_us, EventBody::Snapshot(snapshot)));
                    }
                }
                continue;
            }
            let client = match self.clients.get(parsed.client.as_bytes()) {
                Some(name) => name.clone(),
                None => {
                    let name: Name = Name::from(parsed.client);
                    self.clients.insert(parsed.client.as_bytes().to_vec(), name.clone());
                    name
                }
            };
            if !self.patterns.is_empty() {
                self.note_keys(parsed.db, &parsed.argv);
            }
            let command = RedisCommand {
                db: parsed.db,
                client,
                server_us: parsed.server_us,
                argv: parsed.argv,
                script: Vec::new(),
            };
            if runs_script(&command.argv) {
                self.pending = Some((recv_us, command));
            } else {
                let mut command = command;
                self.ctx.redactor.command(&mut command);
                batch.push((recv_us, EventBody::Redis(command)));
            }
        }
        if last_server_us != 0 {
            self.last_line_us = recv_us;
            self.ctx.stats.last_server_us.store(last_server_us as u64, Ordering::Relaxed);
            self.ctx.stats.last_recv_us.store(recv_us as u64, Ordering::Relaxed);
        }
        self.ctx.send(batch);
        if self.done { buf.len() } else { start }
    }

    /// Queues the keys of a command that match `--keys` for a snapshot, on first sight.
    fn note_keys(&mut self, db: u32, argv: &cachetape_tape::Argv) {
        if self.patterns.is_empty() {
            return;
        }
        let keys = commands::keys(argv);
        for key in keys.iter(argv) {
            if !self.patterns.iter().any(|p| p.matches(key)) {
                continue;
            }
            let new = self
                .shared
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((db, key.to_vec()));
            if new && self.snap_tx.try_send((db, key.to_vec())).is_err() {
                self.shared.snapshot_requests_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
