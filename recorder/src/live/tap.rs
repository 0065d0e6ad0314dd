/*!
What the taps share on their way to the writer: [`TapContext`] (the bounded channel, the stop
signal, the counters, the redactor), the [`Batch`] they send, and the per-source [`SourceStats`]
the writer and the status line read. A full channel drops the batch and counts it; the next batch
that fits carries a [`Gap`] saying how many events were lost — never backpressure on a source.
*/

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cachetape_tape::{EventBody, Gap, Micros, SourceId};
use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::watch;

use super::config::RecordConfig;
use super::redact;

/// A batch of events of one source on its way to the writer.
pub(crate) struct Batch {
    /// The source the events belong to.
    pub source: SourceId,
    /// The events with their receive times.
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
    pub(crate) pending_drop: Arc<std::sync::Mutex<Option<(Micros, u64)>>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::{Argv, Name, Redaction, RedisCommand};

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
