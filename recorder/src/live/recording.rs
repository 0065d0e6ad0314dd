/*!
A recording from start to stop: [`Recording::start`] runs the preflight checks, writes the header,
starts the writer thread and every tap and returns once each is capturing; the stop conditions
(`--duration`, `--max-events`, SIGINT/SIGTERM, the `-- COMMAND`'s exit, [`Recording::stop`]) are
watched on the recorder's runtime; at the stop each tap reads up to its barrier, and the summary
is built from what was written.
*/

use std::sync::Arc;
use std::time::Instant;

use cachetape_tape::output::OutputFile;
use cachetape_tape::{
    Capture, Header, Redaction, Source, SourceKind, Writer, WriterOptions, strip_credentials,
};
use tokio::sync::watch;

use super::config::RecordConfig;
use super::status::{self, RecordSummary};
use super::tap::{Batch, SourceStats, TapContext};
use super::writer::{commit, discard, write_loop};
use super::{RecordError, StopReason, binlog_tap, preflight, redact, redis_tap, runtime};

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

    // Streamed into OUT.partial, renamed to OUT once closed (`writer.rs`).
    let writer = Writer::to_output(
        OutputFile::partial(&config.output)?,
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
        std::thread::Builder::new()
            .name("cachetape-writer".into())
            .spawn(move || {
                write_loop(writer, rx, max_events, &writer_stats, &clock_log, || {
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
        if let Ok(Ok(drained)) = writer_thread.join() {
            discard(drained);
        }
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
                if let Ok(Ok(drained)) = writer_thread.join() {
                    discard(drained);
                }
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
        // It clears its line and ends once the stop is given.
        let _ = t.await;
    }
    let drained = writer_thread
        .join()
        .map_err(|_| RecordError::Runtime(std::io::Error::other("the writer thread panicked")))??;
    let written = commit(drained, &config.output)?;

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
