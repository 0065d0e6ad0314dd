/*!
Feeding an [`Analysis`] from a trace decoded and replayed on a thread of its own.

Decoding a trace (zstd, then each frame's events) and replaying its commands on the fake store
(a cache miss or three per command on a large key space) are a third of what analysis costs,
and need nothing the analysis computes. [`feed`] runs the caller's decoder and the analysis'
replayer on a second thread, a batch of events at a time into reused buffers — each command's
[`Step`] and what the store then held of the keys it may have written — while this thread
analyzes the batch before. Events reach the analysis in trace order with what the replayer saw
right after each, exactly as [`Analysis::push`] would compute it, so the report is the same. A
few batches are in flight at most, so memory stays flat. The analyzer still does no I/O: the
decoder is the caller's closure.
*/

use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use cachetape_replayer::{KeyView, Prefetch, Step};
use cachetape_tape::{Argv, Event, EventBody, RedisCommand, SourceId};

use crate::analysis::{Analysis, AnalysisError, observe};

/// Events per batch.
const BATCH: usize = 256;
/// Batches decoded ahead of the analysis at most.
const AHEAD: usize = 4;

/// Why feeding stopped.
#[derive(Debug)]
pub enum FeedError<E> {
    /// The decoder failed (after every event before the failure was analyzed).
    Decode(E),
    /// The analysis failed.
    Analysis(AnalysisError),
}

/// A batch of events with what replaying them gave.
struct Batch {
    events: Vec<Event>,
    /// Events decoded.
    n: usize,
    steps: Vec<Option<Step>>,
    /// Every event's views, one after the other; `ends[i]` is where event `i`'s end.
    views: Vec<KeyView>,
    ends: Vec<usize>,
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
    let mut replayer = analysis.replayer.take().expect("the analysis owns its replayer");
    let (analyzed, decoded) = std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Batch>(AHEAD);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(AHEAD + 1);
        for _ in 0..AHEAD + 1 {
            let batch = Batch {
                events: vec![blank(); BATCH],
                n: 0,
                steps: Vec::with_capacity(BATCH),
                views: Vec::new(),
                ends: Vec::with_capacity(BATCH),
            };
            empty_tx.send(batch).expect("the receiver is here");
        }
        let replayer = &mut replayer;
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
                    batch.steps.clear();
                    batch.views.clear();
                    batch.ends.clear();
                    let events = &batch.events[..batch.n];
                    for (i, event) in events.iter().enumerate() {
                        // The store's memory for the commands ahead, in steps (see `Prefetch`).
                        if let Some(e) = events.get(i + 3) {
                            replayer.prefetch(e, Prefetch::Control);
                        }
                        if let Some(e) = events.get(i + 2) {
                            replayer.prefetch(e, Prefetch::Bucket);
                        }
                        if let Some(e) = events.get(i + 1) {
                            replayer.prefetch(e, Prefetch::Value);
                        }
                        let step = replayer.apply(event);
                        if let Some(step) = &step {
                            observe(replayer, event, step, &mut batch.views);
                        }
                        batch.ends.push(batch.views.len());
                        batch.steps.push(step);
                    }
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
            let n = batch.n;
            if let Err(e) = analysis.push_replayed_all(
                &batch.events[..n],
                &batch.steps,
                &batch.views,
                &batch.ends,
            ) {
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
    analysis.replayer = Some(replayer);
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
