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

The commonest event, a GET of one key, is also *briefed* on the decoding thread: its key and
client become small ids there (where the key's bytes are still in the cache), and the analysis
reads only the [`Brief`] — a few words in one compact array — instead of the event, its
arguments and its step, which the other core wrote (each a cache miss). The analysis turns those
ids into its own key tracks and clients on first sight, through the same lookups as the full
path, so every id it reports is the one it would have assigned anyway.
*/

use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use cachetape_base::{FxBuild, InlineKey};
use cachetape_replayer::{Command, KeyView, Prefetch, Reply, ReplyRef, Step, StepRef};
use cachetape_tape::{Argv, Event, EventBody, Micros, Name, RedisCommand, SourceId};

use crate::analysis::{Analysis, AnalysisError, observe};
use crate::keyindex::{self, KeyIndex};
use crate::mapping::Mapping;

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

/// What the analysis needs of an event, when that is little.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Brief {
    /// Analyze the event, its step and its views.
    Full,
    /// A GET of one key (no script): everything the analysis reads of it.
    Get {
        seq: u64,
        recv_us: Micros,
        server_us: Micros,
        source: SourceId,
        /// The key (node, db, bytes) as a [`Names`] id.
        key: u32,
        /// The client as a [`Names`] id.
        client: u32,
        reply: ReadReply,
    },
}

/// What a read's reply says, as far as the analysis cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadReply {
    /// A value.
    Hit,
    /// Nil.
    Miss,
    /// The store could not say.
    Unknown,
    /// An error: not a read.
    Error,
}

impl ReadReply {
    /// The class of a single key's reply (not an array).
    pub(crate) fn of(reply: &Reply) -> ReadReply {
        match reply {
            Reply::Error(_) => ReadReply::Error,
            Reply::Nil | Reply::NilArray => ReadReply::Miss,
            Reply::Unknown => ReadReply::Unknown,
            Reply::Array(items)
                if items.is_empty() || items.iter().all(|i| matches!(i, Reply::Nil)) =>
            {
                ReadReply::Miss
            }
            _ => ReadReply::Hit,
        }
    }
}

/// Dense ids for the mapped keys (node, db, bytes) and the clients of briefed events, assigned
/// on the decoding thread in order of first sight. Entries are never removed; keys no rule maps
/// get no id ([`UNMAPPED_KEY`]), so they cost no memory.
struct Names {
    mapping: Mapping,
    /// Each source's name, as the mapping's node patterns see it.
    nodes: Vec<String>,
    index: KeyIndex,
    keys: Vec<(SourceId, u32, InlineKey)>,
    clients: std::collections::HashMap<Name, u32, FxBuild>,
    /// Recent clients by address (the reader shares one `Arc` per name within a frame; the
    /// cached clone keeps the address from being reused by another name).
    client_cache: Vec<Option<(Name, u32)>>,
}

/// The client cache has 2^this entries.
const CLIENT_CACHE_BITS: u32 = 8;

/// A briefed GET's key that no rule maps.
pub(crate) const UNMAPPED_KEY: u32 = u32::MAX;

impl Names {
    fn new(mapping: Mapping, nodes: Vec<String>) -> Names {
        Names {
            mapping,
            nodes,
            index: KeyIndex::default(),
            keys: Vec::new(),
            clients: Default::default(),
            client_cache: vec![None; 1 << CLIENT_CACHE_BITS],
        }
    }

    /// The key a briefed GET would name, with its hash.
    #[inline]
    fn get_key(event: &Event) -> Option<(u64, &[u8])> {
        let EventBody::Redis(rc) = &event.body else { return None };
        let key = rc.argv.get(1).filter(|_| rc.script.is_empty())?;
        Some((keyindex::hash(event.source.0, rc.db, key), key))
    }

    /// Starts loading the index bucket of a key hashed `h` or, once that is cached (`near`), the
    /// entry it names.
    #[inline]
    fn prefetch(&self, h: Option<u64>, near: bool) {
        let Some(h) = h else { return };
        if !near {
            self.index.prefetch(h);
        } else if let Some(id) = self.index.candidate(h)
            && let Some(entry) = self.keys.get(id as usize)
        {
            cachetape_base::prefetch(entry);
        }
    }

    fn key(&mut self, h: u64, source: SourceId, db: u32, key: &[u8]) -> u32 {
        let keys = &self.keys;
        let found = self.index.find(h, |id| {
            let (s, d, name) = &keys[id as usize];
            name.as_bytes() == key && *s == source && *d == db
        });
        found.unwrap_or_else(|| {
            let node = self.nodes.get(source.0 as usize).map_or("?", String::as_str);
            if self.mapping.find(node, db, key, &mut Vec::new()).is_none() {
                return UNMAPPED_KEY;
            }
            let id = self.keys.len() as u32;
            self.keys.push((source, db, InlineKey::new(key)));
            self.index.insert(h, id);
            id
        })
    }

    #[inline]
    fn client(&mut self, name: &Name) -> u32 {
        let at = (Arc::as_ptr(name) as *const u8 as usize).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let i = at >> (usize::BITS - CLIENT_CACHE_BITS);
        if let Some((n, c)) = &self.client_cache[i]
            && Arc::ptr_eq(n, name)
        {
            return *c;
        }
        let next = self.clients.len() as u32;
        let c = *self.clients.entry(name.clone()).or_insert(next);
        self.client_cache[i] = Some((name.clone(), c));
        c
    }

    /// The brief of `event`, which replaying gave `step`; `None` when the analysis needs the
    /// whole event.
    fn brief(&mut self, event: &Event, h: Option<u64>, step: &StepRef<'_>) -> Option<Brief> {
        let EventBody::Redis(rc) = &event.body else { return None };
        if step.command != Command::Get || !rc.script.is_empty() || !step.script.is_empty() {
            return None;
        }
        let (h, key) = (h?, rc.argv.get(1)?);
        let reply = match &step.reply {
            ReplyRef::Bulk(_) => ReadReply::Hit,
            ReplyRef::Owned(r) => ReadReply::of(r),
        };
        Some(Brief::Get {
            seq: event.seq,
            recv_us: event.recv_us,
            server_us: rc.server_us,
            source: event.source,
            key: self.key(h, event.source, rc.db, key),
            client: self.client(&rc.client),
            reply,
        })
    }
}

/// A batch of events with what replaying them gave.
struct Batch {
    events: Vec<Event>,
    /// Events decoded.
    n: usize,
    steps: Vec<Option<Step>>,
    briefs: Vec<Brief>,
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
                briefs: Vec::with_capacity(BATCH),
                views: Vec::new(),
                ends: Vec::with_capacity(BATCH),
            };
            empty_tx.send(batch).expect("the receiver is here");
        }
        let replayer = &mut replayer;
        let nodes = analysis.source_names().to_vec();
        let mut names = Names::new(analysis.mapping().clone(), nodes);
        let mut hashes: Vec<Option<u64>> = Vec::with_capacity(BATCH);
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
                    batch.briefs.clear();
                    batch.views.clear();
                    batch.ends.clear();
                    let events = &batch.events[..batch.n];
                    // Each command's first key hashed once (while the decoder's bytes are warm).
                    hashes.clear();
                    hashes.extend(events.iter().map(|e| Names::get_key(e).map(|(h, _)| h)));
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
                        if let Some(&h) = hashes.get(i + 6) {
                            names.prefetch(h, false);
                        }
                        if let Some(&h) = hashes.get(i + 3) {
                            names.prefetch(h, true);
                        }
                        // A briefed GET's reply stays in the store (no copy); every other
                        // step is kept whole.
                        let (brief, step) = match replayer.apply_ref(event) {
                            None => (Brief::Full, None),
                            Some(step) => match names.brief(event, hashes[i], &step) {
                                Some(brief) => (brief, None),
                                None => (Brief::Full, Some(step.to_step())),
                            },
                        };
                        if let Some(step) = &step {
                            observe(replayer, event, step, &mut batch.views);
                        }
                        batch.ends.push(batch.views.len());
                        batch.briefs.push(brief);
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
                &batch.briefs,
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
