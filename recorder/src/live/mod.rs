/*!
The live recorder: `cachetape record`.

[`record`] taps every Redis node named in a [`RecordConfig`] (MONITOR, plus a probe connection
of the recorder's own) and, optionally, one MySQL/MariaDB server's binlog, and writes what they
say into one trace, on the recorder's clock:

```text
 redis_tap (one per node) ──┐  batches of events   ┌──────────────┐
 binlog_tap ────────────────┼── bounded channel ──>│ writer thread │──> tape::Writer ──> FILE
 probes (clocks, snapshots) ┘  (full: drop, count) └──────────────┘
```

Reader tasks run on a small tokio runtime; one plain thread owns the [`Writer`] and calls
[`Writer::tick`] at least every 100 ms, so a frame closes within a second even when nothing
happens, and a recorder killed at any moment loses at most about one second. If the channel is
ever full, the tap drops the events, counts them and writes a [`Gap`] saying how many once there
is room again: never silently.

Submodules: [`preflight`] (every check, each failure one message with the fix; also
`record --dry-run`), [`redis_tap`], [`binlog_tap`], [`probes`] (clock probes and
snapshot probes on Redis), [`redact`] (keyed hashing of values and keys), [`status`] (the live
status line and the end-of-recording [`RecordSummary`]).

Stopping: after `--duration`, `--max-events`, SIGINT/SIGTERM, or when the `-- COMMAND` exits.
Each tap then takes a final clock probe and reads up to a barrier — on Redis the final `TIME`
probe's own MONITOR line, on the database the position `SHOW MASTER STATUS` gives at the stop —
so everything the servers did before the stop is in the trace.
*/

pub mod binlog_tap;
pub mod preflight;
pub mod probes;
pub mod redact;
pub mod redis_tap;
pub mod resp;
pub mod status;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cachetape_tape::{
    Capture, EventBody, Gap, Header, KeyPattern, Micros, Redaction, Source, SourceId, SourceKind,
    Writer, WriterOptions, strip_credentials,
};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use tokio::sync::watch;

pub use preflight::{PreflightReport, Problem};
pub use status::{RecordSummary, SourceSummary};

/// Everything `cachetape record` was asked to do, in the library's own terms.
#[derive(Clone, Debug)]
pub struct RecordConfig {
    /// Redis nodes: `redis://[user:password@]host:port[/db]`, one source each.
    pub redis: Vec<String>,
    /// The MySQL/MariaDB server whose binlog to follow: `mysql://user:password@host:port`.
    pub mysql: Option<String>,
    /// The trace to write.
    pub output: PathBuf,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Keys whose initial state is probed (Snapshot events) on first sight.
    pub keys: Vec<KeyPattern>,
    /// Also SCAN for keys matching [`RecordConfig::keys`] at the start and probe them.
    pub snapshot: bool,
    /// Only row changes of these tables (`db.table`, globs allowed); empty: every table.
    pub tables: Vec<KeyPattern>,
    /// The server id the recorder registers with as a replica (must be unique among replicas).
    pub server_id: u32,
    /// Record expired/evicted keyspace notifications when the server has them enabled.
    pub notifications: bool,
    /// Turn keyspace notifications on (`CONFIG SET notify-keyspace-events`) when they are off.
    pub enable_notifications: bool,
    /// Replace values (and keys) with keyed hashes.
    pub redaction: Redaction,
    /// zstd level of the trace.
    pub level: i32,
    /// A command to run while recording; recording stops when it exits.
    pub command: Vec<OsString>,
    /// Print a live status line on stderr (only on a terminal).
    pub status_line: bool,
    /// Time between clock probes.
    pub probe_interval: Duration,
    /// Snapshot probes per second and node at most.
    pub snapshot_rate: u32,
    /// Capacity of the channel between the taps and the writer, in batches.
    pub channel_batches: usize,
    /// The creation time written into the trace header (µs since the epoch).
    pub created_us: Micros,
}

impl RecordConfig {
    /// A config writing `output` with the defaults of `cachetape record`.
    pub fn new(output: impl Into<PathBuf>) -> RecordConfig {
        RecordConfig {
            redis: Vec::new(),
            mysql: None,
            output: output.into(),
            duration: None,
            max_events: None,
            keys: Vec::new(),
            snapshot: false,
            tables: Vec::new(),
            server_id: default_server_id(),
            notifications: false,
            enable_notifications: false,
            redaction: Redaction::None,
            level: 3,
            command: Vec::new(),
            status_line: false,
            probe_interval: Duration::from_secs(1),
            snapshot_rate: 200,
            channel_batches: 1024,
            created_us: now_us(),
        }
    }
}

/// A replica server id unlikely to collide with real replicas or another recorder: random, in
/// 2³⁰..2³¹. (Two replicas with one id kick each other off the server, MariaDB error 4052.)
pub fn default_server_id() -> u32 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        let t = now_us() as u64 ^ u64::from(std::process::id()).rotate_left(32);
        bytes = (t as u32 ^ (t >> 32) as u32).to_le_bytes();
    }
    0x4000_0000 | (u32::from_le_bytes(bytes) & 0x3fff_ffff)
}

/// Why recording could not start or went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Nothing to record.
    #[error("nothing to record: give at least one --redis URL or a --mysql URL")]
    NoSources,
    /// A URL could not be understood.
    #[error("{url}: {problem}")]
    BadUrl {
        /// The URL, without credentials.
        url: String,
        /// What is wrong and what to write instead.
        problem: String,
    },
    /// Preflight checks failed; each problem names its fix.
    #[error("{}", preflight::format_problems(.0))]
    Preflight(Vec<Problem>),
    /// The trace file could not be written.
    #[error(transparent)]
    Trace(#[from] cachetape_tape::Error),
    /// The command to run could not be started.
    #[error("cannot run `{command}`: {source}")]
    Command {
        /// The command.
        command: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The async runtime or a thread could not be started.
    #[error("cannot start the recorder's threads: {0}")]
    Runtime(std::io::Error),
}

/// Microseconds since the epoch, now, on the recorder's clock.
pub fn now_us() -> Micros {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as Micros)
}

/// Why recording stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `--duration` elapsed.
    Duration,
    /// `--max-events` reached.
    MaxEvents,
    /// SIGINT or SIGTERM.
    Signal(&'static str),
    /// The `-- COMMAND` exited.
    CommandExited,
    /// Every tap ended on its own (lost for good).
    TapsEnded,
    /// [`Recording::stop`] was called.
    Requested,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Duration => f.write_str("--duration elapsed"),
            StopReason::MaxEvents => f.write_str("--max-events reached"),
            StopReason::Signal(s) => write!(f, "{s} received"),
            StopReason::CommandExited => f.write_str("the command exited"),
            StopReason::TapsEnded => f.write_str("every source ended"),
            StopReason::Requested => f.write_str("stop requested"),
        }
    }
}

/// A batch of events of one source on its way to the writer.
pub(crate) struct Batch {
    pub source: SourceId,
    pub events: Vec<(Micros, EventBody)>,
    /// Events the tap dropped because the channel was full (already reported by a Gap in
    /// `events`).
    pub dropped: u64,
}

/// Counters shared between the taps, the writer and the status line.
#[derive(Debug, Default)]
pub(crate) struct SourceStats {
    pub events: AtomicU64,
    pub dropped: AtomicU64,
    pub gaps: AtomicU64,
    /// Server time of the last command or binlog event (µs), for the lag shown by the status line.
    pub last_server_us: AtomicU64,
    pub last_recv_us: AtomicU64,
}

/// What the taps share: the way to the writer, the stop signal and the counters.
#[derive(Clone)]
pub(crate) struct TapContext {
    pub source: SourceId,
    pub name: String,
    pub tx: Sender<Batch>,
    pub stats: Arc<SourceStats>,
    pub stop: watch::Receiver<bool>,
    pub config: Arc<RecordConfig>,
    pub redactor: Arc<redact::Redactor>,
    /// Set while the channel is full: the time of the first event dropped and the count.
    pending_drop: Arc<std::sync::Mutex<Option<(Micros, u64)>>>,
    pub warnings: Arc<std::sync::Mutex<Vec<String>>>,
}

impl TapContext {
    /// Sends a batch to the writer; when the channel is full the events are dropped and counted,
    /// and a Gap is written with the next batch that fits.
    pub fn send(&self, mut events: Vec<(Micros, EventBody)>) {
        if events.is_empty() {
            return;
        }
        let n = events.len() as u64;
        let first_us = events[0].0;
        let mut pending = self.pending_drop.lock().unwrap_or_else(|e| e.into_inner());
        let mut dropped = 0;
        if let Some((from_us, count)) = *pending {
            let gap = Gap {
                from_us,
                to_us: first_us,
                reason: format!(
                    "recorder queue full: {count} events dropped (the writer could not keep up)"
                ),
            };
            events.insert(0, (first_us, EventBody::Gap(gap)));
            dropped = count;
        }
        let batch = Batch { source: self.source, events, dropped };
        match self.tx.try_send(batch) {
            Ok(()) => {
                if dropped > 0 {
                    *pending = None;
                    self.stats.gaps.fetch_add(1, Ordering::Relaxed);
                }
                self.stats.events.fetch_add(n, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                self.stats.dropped.fetch_add(n, Ordering::Relaxed);
                match pending.as_mut() {
                    Some((_, count)) => *count += n,
                    None => {
                        *pending = Some((first_us, n));
                        eprintln!(
                            "\nWARNING: {}: the recorder's queue is full, events are being \
                             DROPPED (counted, and marked by a Gap in the trace); the disk or \
                             the writer thread cannot keep up",
                            self.name
                        );
                    }
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Sends one event.
    pub fn send_one(&self, recv_us: Micros, body: EventBody) {
        self.send(vec![(recv_us, body)]);
    }

    /// True once stopping was requested.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Keeps a warning for the summary (and prints it now).
    pub fn warn(&self, message: String) {
        eprintln!("\nwarning: {}: {message}", self.name);
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{}: {message}", self.name));
    }
}

/// Checks every source and says what is wrong, without recording (`record --dry-run`).
pub fn dry_run(config: &RecordConfig) -> Result<PreflightReport, RecordError> {
    let runtime = runtime()?;
    runtime.block_on(preflight::check_all(config, false))
}

fn runtime() -> Result<tokio::runtime::Runtime, RecordError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cachetape-tap")
        .enable_all()
        .build()
        .map_err(RecordError::Runtime)
}

/// A recording in progress: every tap is capturing once [`Recording::start`] returns.
pub struct Recording {
    thread: std::thread::JoinHandle<Result<RecordSummary, RecordError>>,
    control: Control,
}

/// The stop signal and why it was given.
#[derive(Clone)]
struct Control {
    stop_tx: Arc<watch::Sender<bool>>,
    stop_rx: watch::Receiver<bool>,
    reason: Arc<std::sync::Mutex<Option<StopReason>>>,
}

impl Control {
    fn stop(&self, why: StopReason) {
        set_stop(&self.stop_tx, &self.reason, why);
    }
}

impl Recording {
    /// Checks every source, opens the trace and starts every tap; returns once all of them are
    /// capturing (and the `-- COMMAND`, if any, has been started).
    pub fn start(config: RecordConfig) -> Result<Recording, RecordError> {
        if config.redis.is_empty() && config.mysql.is_none() {
            return Err(RecordError::NoSources);
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let control = Control { stop_tx: Arc::new(stop_tx), stop_rx, reason: Arc::default() };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<bool>();
        let thread_control = control.clone();
        let thread = std::thread::Builder::new()
            .name("cachetape-record".into())
            .spawn(move || {
                let runtime = runtime()?;
                runtime.block_on(record_async(config, thread_control, ready_tx))
            })
            .map_err(RecordError::Runtime)?;
        match ready_rx.recv() {
            Ok(true) => Ok(Recording { thread, control }),
            _ => Err(thread
                .join()
                .unwrap_or_else(|_| {
                    Err(RecordError::Runtime(std::io::Error::other("the recorder thread panicked")))
                })
                .err()
                .unwrap_or_else(|| {
                    RecordError::Runtime(std::io::Error::other("recorder did not start"))
                })),
        }
    }

    /// Asks the recording to stop (it still reads up to each source's barrier).
    pub fn stop(&self) {
        self.control.stop(StopReason::Requested);
    }

    /// Waits until the recording stopped (by any condition) and the trace is closed.
    pub fn wait(self) -> Result<RecordSummary, RecordError> {
        self.thread.join().unwrap_or_else(|_| {
            Err(RecordError::Runtime(std::io::Error::other("the recorder thread panicked")))
        })
    }
}

/// Records until a stop condition, then closes the trace with its footer and returns what was
/// recorded. Preflight problems are returned as [`RecordError::Preflight`] before anything is
/// written.
pub fn record(config: RecordConfig) -> Result<RecordSummary, RecordError> {
    Recording::start(config)?.wait()
}

async fn record_async(
    config: RecordConfig,
    control: Control,
    ready_tx: std::sync::mpsc::Sender<bool>,
) -> Result<RecordSummary, RecordError> {
    let report = preflight::check_all(&config, true).await?;
    if !report.problems.is_empty() {
        return Err(RecordError::Preflight(report.problems));
    }
    let started = Instant::now();
    let config = Arc::new(config);
    let redactor = Arc::new(redact::Redactor::new(config.redaction));

    let mut header = Header::new(config.created_us);
    header.redaction = config.redaction;
    let mut sources = Vec::new();
    for checked in &report.redis {
        let id = header.add_source(Source {
            name: checked.name.clone(),
            kind: SourceKind::Redis,
            address: strip_credentials(&checked.url),
            version: checked.version.clone(),
            capture: Capture::Live,
        });
        sources.push((id, checked.name.clone(), SourceKind::Redis));
    }
    if let Some(db) = &report.mysql {
        let id = header.add_source(Source {
            name: db.name.clone(),
            kind: db.kind,
            address: strip_credentials(&db.url),
            version: db.version.clone(),
            capture: Capture::Live,
        });
        sources.push((id, db.name.clone(), db.kind));
    }
    header.notes.push(format!(
        "recorded live by cachetape record; receive times are the recorder's clock{}",
        if config.redis.is_empty() {
            ""
        } else {
            "; MONITOR shows every unix-socket client as one"
        }
    ));
    if config.redaction != Redaction::None {
        header.notes.push(format!(
            "--redact {}: values{} replaced by keyed hashes (key random per trace, not stored); \
             equal values stay equal",
            config.redaction.name(),
            if config.redaction == Redaction::KeysAndValues { " and keys" } else { "" }
        ));
    }
    header.notes.extend(report.notes.iter().cloned());

    let writer = Writer::create(
        &config.output,
        &header,
        WriterOptions { level: config.level, ..WriterOptions::default() },
    )?;

    let (tx, rx) = crossbeam_channel::bounded::<Batch>(config.channel_batches);
    let stop_tx = control.stop_tx.clone();
    let stop_rx = control.stop_rx.clone();
    let stop_reason = control.reason.clone();
    let writer_stats = Arc::new(status::WriterStats::default());
    let stats: Vec<Arc<SourceStats>> = sources.iter().map(|_| Arc::default()).collect();
    let warnings: Arc<std::sync::Mutex<Vec<String>>> =
        Arc::new(std::sync::Mutex::new(report.notes.clone()));
    let clock_log: Arc<std::sync::Mutex<status::ClockLog>> = Arc::default();

    // The writer thread.
    let writer_thread = {
        let stop_tx = stop_tx.clone();
        let stop_reason = stop_reason.clone();
        let writer_stats = writer_stats.clone();
        let max_events = config.max_events;
        let clock_log = clock_log.clone();
        let output = config.output.clone();
        std::thread::Builder::new()
            .name("cachetape-writer".into())
            .spawn(move || {
                write_loop(writer, &output, rx, max_events, &writer_stats, &clock_log, || {
                    set_stop(&stop_tx, &stop_reason, StopReason::MaxEvents)
                })
            })
            .map_err(RecordError::Runtime)?
    };

    let ctx = |i: usize| TapContext {
        source: sources[i].0,
        name: sources[i].1.clone(),
        tx: tx.clone(),
        stats: stats[i].clone(),
        stop: stop_rx.clone(),
        config: config.clone(),
        redactor: redactor.clone(),
        pending_drop: Arc::new(std::sync::Mutex::new(None)),
        warnings: warnings.clone(),
    };

    // Start every tap and wait until each is capturing.
    let mut taps = tokio::task::JoinSet::new();
    let mut ready = Vec::new();
    for (i, checked) in report.redis.iter().enumerate() {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        ready.push(ready_rx);
        taps.spawn(redis_tap::run(ctx(i), checked.clone(), ready_tx));
    }
    if let Some(db) = &report.mysql {
        let i = sources.len() - 1;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        ready.push(ready_rx);
        taps.spawn(binlog_tap::run(ctx(i), db.clone(), ready_tx));
    }
    drop(tx);
    let mut start_errors = Vec::new();
    for r in ready {
        match r.await {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => start_errors.push(problem),
            Err(_) => {}
        }
    }
    if !start_errors.is_empty() {
        set_stop(&stop_tx, &stop_reason, StopReason::TapsEnded);
        while taps.join_next().await.is_some() {}
        let _ = writer_thread.join();
        let _ = std::fs::remove_file(&config.output);
        return Err(RecordError::Preflight(start_errors));
    }

    // The command, the clock and the signals.
    let mut child = None;
    if let Some((program, args)) = config.command.split_first() {
        let spawned = tokio::process::Command::new(program).args(args).spawn().map_err(|e| {
            RecordError::Command { command: program.to_string_lossy().into_owned(), source: e }
        });
        match spawned {
            Ok(c) => child = Some(c),
            Err(e) => {
                set_stop(&stop_tx, &stop_reason, StopReason::TapsEnded);
                while taps.join_next().await.is_some() {}
                let _ = writer_thread.join();
                return Err(e);
            }
        }
    }
    let _ = ready_tx.send(true);
    let status_task = config.status_line.then(|| {
        let names: Vec<String> = sources.iter().map(|s| s.1.clone()).collect();
        tokio::spawn(status::status_line(
            names,
            stats.clone(),
            writer_stats.clone(),
            stop_rx.clone(),
        ))
    });

    let mut sigint = signal(tokio::signal::unix::SignalKind::interrupt());
    let mut sigterm = signal(tokio::signal::unix::SignalKind::terminate());
    let deadline = config.duration.map(|d| tokio::time::Instant::now() + d);
    let mut child_status = None;
    let mut stop_watch = stop_rx.clone();
    loop {
        tokio::select! {
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                set_stop(&stop_tx, &stop_reason, StopReason::Duration);
            }
            _ = async { match sigint.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                set_stop(&stop_tx, &stop_reason, StopReason::Signal("SIGINT"));
            }
            _ = async { match sigterm.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                set_stop(&stop_tx, &stop_reason, StopReason::Signal("SIGTERM"));
            }
            status = async { match child.as_mut() { Some(c) => c.wait().await, None => std::future::pending().await } } => {
                child_status = Some(status);
                child = None;
                set_stop(&stop_tx, &stop_reason, StopReason::CommandExited);
            }
            joined = taps.join_next(), if !taps.is_empty() => {
                if joined.is_none() || taps.is_empty() {
                    set_stop(&stop_tx, &stop_reason, StopReason::TapsEnded);
                }
            }
            _ = stop_watch.changed() => {}
        }
        if *stop_rx.borrow() {
            break;
        }
    }
    // Let the taps reach their barriers and finish.
    while taps.join_next().await.is_some() {}
    if let Some(mut c) = child.take() {
        // Stopped for another reason while the command still runs: ask it to stop too.
        if let Some(pid) = c.id() {
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        child_status = Some(c.wait().await);
    }
    if let Some(t) = status_task {
        t.abort();
        status::clear_status_line();
    }
    let written = writer_thread
        .join()
        .map_err(|_| RecordError::Runtime(std::io::Error::other("the writer thread panicked")))??;

    let reason = stop_reason.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let command_exit = match child_status {
        Some(Ok(status)) => Some(exit_code(status)),
        Some(Err(_)) => Some(2),
        None => None,
    };
    let clocks = clock_log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let warnings = warnings.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(status::summarize(status::SummaryInput {
        output: config.output.clone(),
        elapsed: started.elapsed(),
        reason,
        sources: sources.iter().map(|(id, name, kind)| (*id, name.clone(), *kind)).collect(),
        stats: &stats,
        written,
        clocks,
        warnings,
        command_exit,
    }))
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 2,
    }
}

fn set_stop(
    stop: &watch::Sender<bool>,
    reason: &std::sync::Mutex<Option<StopReason>>,
    why: StopReason,
) {
    let mut r = reason.lock().unwrap_or_else(|e| e.into_inner());
    if r.is_none() {
        *r = Some(why);
    }
    let _ = stop.send(true);
}

/// The writer thread: appends batches in arrival order, ticks at least every 100 ms, and closes
/// the trace when every tap has hung up.
fn write_loop<W: std::io::Write>(
    mut writer: Writer<W>,
    output: &std::path::Path,
    rx: Receiver<Batch>,
    max_events: Option<u64>,
    stats: &status::WriterStats,
    clocks: &std::sync::Mutex<status::ClockLog>,
    on_max: impl Fn(),
) -> Result<status::Written, RecordError> {
    let mut appended: u64 = 0;
    let mut over_limit: u64 = 0;
    let mut per_source: Vec<u64> = Vec::new();
    let mut error: Option<cachetape_tape::Error> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(batch) => {
                if error.is_some() {
                    continue; // keep draining so the taps never block; the error is reported
                }
                if batch.dropped > 0 {
                    writer.note_dropped(batch.dropped);
                }
                for (recv_us, body) in batch.events {
                    if max_events.is_some_and(|m| appended >= m) {
                        over_limit += 1;
                        continue;
                    }
                    if let EventBody::ClockProbe(p) = &body {
                        clocks
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .add(batch.source, p.clone());
                    }
                    if let Err(e) = writer.append(batch.source, recv_us, body) {
                        error = Some(e);
                        break;
                    }
                    appended += 1;
                    let i = batch.source.0 as usize;
                    if per_source.len() <= i {
                        per_source.resize(i + 1, 0);
                    }
                    per_source[i] += 1;
                    if max_events == Some(appended) {
                        on_max();
                    }
                }
                stats.events.store(appended, Ordering::Relaxed);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if error.is_none() {
            if let Err(e) = writer.tick() {
                error = Some(e);
            }
            stats.bytes.store(writer.bytes_written(), Ordering::Relaxed);
        }
    }
    if let Some(e) = error {
        return Err(e.into());
    }
    writer.close_frame()?;
    let raw_bytes = writer.raw_bytes();
    let (_, footer) = writer.finish()?;
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    Ok(status::Written { footer, over_limit, per_source, bytes, raw_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::{Argv, Name, RedisCommand};

    fn command(n: u32) -> EventBody {
        EventBody::Redis(RedisCommand {
            db: n,
            client: Name::from("1.2.3.4:5"),
            server_us: 0,
            argv: Argv::from_parts(["GET", "k"]),
            script: Vec::new(),
        })
    }

    #[test]
    fn a_full_queue_drops_counts_and_leaves_a_gap() {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (_stop_tx, stop) = watch::channel(false);
        let ctx = TapContext {
            source: SourceId(0),
            name: "node".into(),
            tx,
            stats: Arc::default(),
            stop,
            config: Arc::new(RecordConfig::new("x.bin")),
            redactor: Arc::new(redact::Redactor::new(Redaction::None)),
            pending_drop: Arc::default(),
            warnings: Arc::default(),
        };
        ctx.send(vec![(10, command(0))]);
        ctx.send(vec![(20, command(1)), (21, command(2))]); // full: dropped
        ctx.send(vec![(30, command(3))]); // still full: dropped
        assert_eq!(ctx.stats.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(rx.try_recv().unwrap().events.len(), 1);
        ctx.send(vec![(40, command(4))]);
        let batch = rx.try_recv().unwrap();
        assert_eq!(batch.dropped, 3);
        match &batch.events[0].1 {
            EventBody::Gap(g) => {
                assert_eq!((g.from_us, g.to_us), (20, 40));
                assert!(g.reason.contains("3 events dropped"), "{}", g.reason);
            }
            other => panic!("expected a Gap, got {other:?}"),
        }
        assert_eq!(batch.events.len(), 2);
        assert_eq!(ctx.stats.gaps.load(Ordering::Relaxed), 1);
    }
}
