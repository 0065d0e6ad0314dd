/*!
Feeding an [`Analysis`] from a trace decoded and replayed on a thread of its own.

Decoding a trace (zstd, then each frame's events) and replaying its commands on the fake store
(a cache miss or three per command on a large key space) are a large part of what analysis
costs, and need nothing the judging computes. [`feed`] moves the analysis' replaying front to a
second thread, with the caller's decoder: there events are decoded and observed a batch at a
time into reused buffers, while this thread judges the batch before. The judge gets the same
events with the same observations, in the same order, as [`Analysis::push`] would give it, so
the report is the same. A few batches are in flight at most, so memory stays flat. The analyzer
still does no I/O: the decoder is the caller's closure.
*/

use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use cachetape_tape::{Argv, Event, EventBody, RedisCommand, SourceId};

use crate::analysis::observations::{BATCH, Observations};
use crate::analysis::{Analysis, AnalysisError};

/// Batches decoded ahead of the judge at most.
const AHEAD: usize = 4;

/// Why feeding stopped.
#[derive(Debug)]
pub enum FeedError<E> {
    /// The decoder failed (after every event before the failure was analyzed).
    Decode(E),
    /// The analysis failed.
    Analysis(AnalysisError),
}

/// Events decoded into reused buffers, and what the front saw of them.
struct Batch {
    events: Vec<Event>,
    /// Events decoded.
    n: usize,
    observations: Observations,
}

/// Analyzes every event `next` decodes, decoding and replaying on another thread: `next` fills
/// the event it is given (reusing its buffers, like `Reader::next_event_into`) and answers
/// `Ok(false)` at the end. The first error in trace order wins: an analysis error on an event
/// decoded before a decoding error is the one returned.
pub fn feed<E, N>(analysis: &mut Analysis, mut next: N) -> Result<(), FeedError<E>>
where
    N: FnMut(&mut Event) -> Result<bool, E> + Send,
    E: Send,
{
    let (observer, judge) = analysis.halves();
    let (analyzed, decoded) = std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Batch>(AHEAD);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(AHEAD + 1);
        for _ in 0..AHEAD + 1 {
            let batch =
                Batch { events: vec![blank(); BATCH], n: 0, observations: Observations::default() };
            empty_tx.send(batch).expect("the receiver is here");
        }
        let worker = std::thread::Builder::new()
            .name("cachetape-replay".into())
            .spawn_scoped(scope, move || -> Result<(), E> {
                while let Ok(mut batch) = empty_rx.recv() {
                    let mut failed = None;
                    batch.n = 0;
                    while batch.n < BATCH {
                        match next(&mut batch.events[batch.n]) {
                            Ok(true) => batch.n += 1,
                            Ok(false) => break,
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    batch.observations.clear();
                    observer.observe_all(&batch.events[..batch.n], &mut batch.observations);
                    let last = batch.n < BATCH;
                    // Whatever was decoded is analyzed, even before a failure.
                    if full_tx.send(batch).is_err() {
                        return Ok(()); // The analysis stopped.
                    }
                    if let Some(e) = failed {
                        return Err(e);
                    }
                    if last {
                        return Ok(());
                    }
                }
                Ok(())
            })
            .expect("spawn the replaying thread");
        let mut analyzed = Ok(());
        for batch in full_rx.iter() {
            if let Err(e) = judge.push_all(&batch.events[..batch.n], &batch.observations) {
                analyzed = Err(e);
                break;
            }
            // The worker may have finished: then nobody takes the batch back.
            let _ = empty_tx.send(batch);
        }
        drop(full_rx);
        drop(empty_tx);
        let decoded = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (analyzed, decoded)
    });
    analyzed.map_err(FeedError::Analysis)?;
    decoded.map_err(FeedError::Decode)
}

/// An event for the decoder to overwrite (a Redis command, whose buffers most events reuse).
fn blank() -> Event {
    Event {
        seq: 0,
        source: SourceId(0),
        recv_us: 0,
        body: EventBody::Redis(RedisCommand {
            db: 0,
            client: Arc::from(""),
            server_us: 0,
            argv: Argv::new(),
            script: Vec::new(),
        }),
    }
}
