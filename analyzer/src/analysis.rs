/*!
The streaming analysis: events in, one [`Report`] out.

[`Analysis::push`] takes the trace's events in trace order. Redis commands run on the fake store
([`cachetape_replayer::Replayer`]) in each node's order; what a mapped key held
after each command cuts its life into [`Episode`]s (a value from its write to what ended it);
each hit of a mapped key is a read of the current episode's value. Row changes and commits build
each row's [`Versions`].

Reads are judged once nothing that could change their verdict can still arrive: the trace is in
arrival order, so once the recorder had received events `reorder slack` past a read's latest
possible time (plus the DB lag), every commit that may precede it is in. Fresh and unverifiable
reads are then only counted; stale ones wait in their episode until it ends, when their cause
(which depends on what ended the value), their chain and the episode's exposure are known.
Memory therefore holds: one small record per mapped key, the versions of changed rows, the
interned values, the reads of the last moments, and the stale reads of live episodes. Reads of a
row that has not changed yet wait for its first change (whose before image says what the row
held); if it never changes they are unverifiable.
*/

use std::collections::{HashMap, VecDeque};
use std::hash::Hasher;
use std::sync::Arc;

use cachetape_base::{FxBuild, FxHasher, InlineKey, prefetch};
use cachetape_replayer::{
    Command, KeyState, KeyView, Prefetch, ReplayOptions, Replayer, Reply, Step, Value as RValue,
};
use cachetape_tape::{Event, EventBody, Header, Micros, Name, SourceId, StoredValue};

use crate::dbstate::Tail;
use crate::dbstate::{DbState, RowValue, SubjectId, Versions};
use crate::exposure::{Exposure, ExposureEnd, ExposureStart, exposures};
use crate::feed::{Brief, ReadReply, UNMAPPED_KEY};
use crate::keyindex::{self, KeyIndex};
use crate::mapping::{Mapping, MappingError, ValueId, ValueShape, ValueTable};
use crate::oracle::{
    self, CACHE_UNKNOWN, Cached, End, Episode, Judgement, Mark, Origin, ROW_UNKNOWN, Verdict,
};
use crate::report::{
    ExposureReport, KeyReport, KeyTimeline, Link, Report, StaleRead, Summary, TimelineMark,
};
use crate::timeline::{Stamp, Timeline, TimelineOptions};

/// How to analyze.
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    /// Placement of events on the timeline.
    pub timeline: TimelineOptions,
    /// Age limits for the "fresh within" figures (µs).
    pub ages_us: Vec<Micros>,
    /// How far out of time order events may arrive in the trace (µs).
    pub reorder_slack_us: Micros,
    /// Where the mapping came from, for the report.
    pub mapping_origin: String,
    /// Keys whose whole timeline the report should carry (for the HTML page).
    pub detail_keys: Vec<String>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            timeline: TimelineOptions::default(),
            ages_us: vec![0, 10_000, 1_000_000, 300_000_000],
            reorder_slack_us: 1_000_000,
            mapping_origin: String::new(),
            detail_keys: Vec::new(),
        }
    }
}

/// An analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The mapping does not fit the trace.
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Now {
    Missing,
    Present { hash: u64, expires_ms: Option<i64> },
    Unknown,
}

/// A hit waiting for its verdict.
#[derive(Clone, Copy, Debug)]
struct ReadObs {
    seq: u64,
    stamp: Stamp,
    client: u32,
    served: ValueId,
    /// The episode read: its slot, and its number among the key's episodes (a slot is reused
    /// once its episode is settled).
    slot: u32,
    no: u32,
}

/// An unsettled episode (from its start until its end has been judged), in the slot arena.
struct Slot {
    /// The key, or [`VACANT`].
    key: u32,
    no: u32,
    subject: SubjectId,
    /// The key's timeline is kept ([`KeyTrack::detail`]).
    detail: bool,
    episode: Episode,
    stale: Vec<(ReadObs, Judgement)>,
}

const VACANT: u32 = u32::MAX;
/// No live episode.
const NO_SLOT: u32 = u32::MAX;

/// One mapped key: what a read needs sits in its first bytes (the name the index compares, the
/// live episode, the counters), the rarely used parts behind pointers.
struct KeyTrack {
    name: InlineKey,
    source: SourceId,
    rule: u16,
    db: u32,
    subject: SubjectId,
    /// The live episode's slot ([`NO_SLOT`] when none) and its value.
    live: u32,
    live_value: Cached,
    now: Now,
    next_no: u32,
    reads: u64,
    hits: u64,
    detail: Option<Box<Detail>>,
}

impl KeyTrack {
    fn is_live(&self) -> bool {
        self.live != NO_SLOT
    }
}

/// A read or an episode's end waiting for its row's first change: one of a subject's list
/// (newest first).
struct Parked {
    key: u32,
    next: u32,
    what: ParkedWhat,
}

enum ParkedWhat {
    Read(ReadObs),
    Episode { slot: u32, no: u32 },
}

const NO_PARKED: u32 = u32::MAX;

#[derive(Default)]
struct Detail {
    marks: Vec<TimelineMark>,
    cached: Vec<(Micros, Micros, String)>,
    clients: Vec<u32>,
}

enum Pending {
    Read { key: u32, subject: SubjectId, read: ReadObs },
    Settle { key: u32, slot: u32, no: u32, hi: Micros },
}

impl Pending {
    fn time(&self) -> Micros {
        match self {
            Pending::Read { read, .. } => read.stamp.hi,
            Pending::Settle { hi, .. } => *hi,
        }
    }
}

#[derive(Default)]
struct KeyAcc {
    stale_definite: u64,
    stale_possible: u64,
    exposure: Vec<ExposureReport>,
    exposed_us: Micros,
    findings: Vec<StaleRead>,
}

/// A streaming analysis of one trace.
pub struct Analysis {
    mapping: Mapping,
    options: AnalysisOptions,
    values: ValueTable,
    db: DbState,
    timeline: Timeline,
    /// `None` while [`crate::feed`] runs it on a thread of its own.
    pub(crate) replayer: Option<Replayer>,
    views_buf: Vec<KeyView>,
    keys: Vec<KeyTrack>,
    /// Unsettled episodes; `free_slots` are vacant.
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Parked items; the newest of each subject's list by [`SubjectId`] ([`NO_PARKED`] when
    /// none); vacant items.
    parked: Vec<Parked>,
    parked_heads: Vec<u32>,
    free_parked: Vec<u32>,
    /// Mapped keys (node, db, bytes) → their track.
    key_index: KeyIndex,
    /// [`crate::feed`]'s key ids → their track ([`UNSEEN`] until first looked up, [`UNMAPPED`]
    /// for keys no rule maps), and its client ids → this analysis' ([`NO_CLIENT`] until seen).
    brief_keys: Vec<u32>,
    brief_clients: Vec<u32>,
    clients: HashMap<Name, u32, FxBuild>,
    /// Recent names by address → their client id.
    client_cache: Vec<Option<(Name, u32)>>,
    client_names: Vec<Name>,
    pending: VecDeque<Pending>,
    max_recv: Micros,
    judged_until: Micros,
    first_us: Option<Micros>,
    last_t: Micros,
    last_server_us: Vec<Micros>,
    db_gaps: Vec<(Micros, Micros)>,
    accs: HashMap<u32, KeyAcc, FxBuild>,
    // Counters.
    events: u64,
    redis_commands: u64,
    reads: u64,
    hits: u64,
    misses: u64,
    fresh: u64,
    stale_definite: u64,
    stale_possible: u64,
    unverifiable: HashMap<&'static str, u64, FxBuild>,
    by_cause: [u64; 4],
    within: Vec<u64>,
    late_commits: u64,
    unsettled_exposure: u64,
    newly_known: Vec<SubjectId>,
    holes_buf: Vec<u8>,
    proj: Vec<u8>,
}

const NO_CLIENT: u32 = u32::MAX;
/// A briefed key not looked up yet.
const UNSEEN: u32 = u32::MAX;
/// A briefed key no rule maps.
const UNMAPPED: u32 = u32::MAX - 1;
/// The client cache has 2^this entries.
const CLIENT_CACHE_BITS: u32 = 8;
/// How many pending items ahead [`Analysis::drain`] prefetches.
const PREFETCH_AHEAD: usize = 6;
/// [`Analysis::push_all`] takes each prefetch step this many events before the next.
const AHEAD: usize = 1;

impl Analysis {
    /// An analysis of a trace with `header`, under `mapping`.
    pub fn new(header: &Header, mapping: Mapping, options: AnalysisOptions) -> Analysis {
        let timeline = Timeline::new(header, options.timeline);
        // No key views: the store is asked about mapped keys only after commands that may write.
        let replayer = Replayer::new(header, ReplayOptions::default());
        let within = vec![0; options.ages_us.len()];
        Analysis {
            mapping,
            options,
            values: ValueTable::default(),
            db: DbState::default(),
            timeline,
            replayer: Some(replayer),
            views_buf: Vec::new(),
            keys: Vec::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            parked: Vec::new(),
            parked_heads: Vec::new(),
            free_parked: Vec::new(),
            key_index: KeyIndex::default(),
            brief_keys: Vec::new(),
            brief_clients: Vec::new(),
            clients: HashMap::default(),
            client_cache: vec![None; 1 << CLIENT_CACHE_BITS],
            client_names: Vec::new(),
            pending: VecDeque::new(),
            max_recv: Micros::MIN,
            judged_until: Micros::MIN,
            first_us: None,
            last_t: Micros::MIN,
            last_server_us: Vec::new(),
            db_gaps: Vec::new(),
            accs: HashMap::default(),
            events: 0,
            redis_commands: 0,
            reads: 0,
            hits: 0,
            misses: 0,
            fresh: 0,
            stale_definite: 0,
            stale_possible: 0,
            unverifiable: HashMap::default(),
            by_cause: [0; 4],
            within,
            late_commits: 0,
            unsettled_exposure: 0,
            newly_known: Vec::new(),
            holes_buf: Vec::new(),
            proj: Vec::new(),
        }
    }

    /// Takes the next events of the trace, in order: the same as [`Analysis::push`] for each,
    /// faster — knowing what comes next, it starts loading each command's key (the index, the
    /// key's track) a couple of events before analyzing it, so those cache misses overlap the
    /// work on the events before. Stops at the first error.
    pub fn push_all(&mut self, events: &[Event]) -> Result<(), AnalysisError> {
        for (i, event) in events.iter().enumerate() {
            // The event itself (a decoder on another core wrote it), then its arguments.
            if let Some(next) = events.get(i + 8 * AHEAD) {
                prefetch(next);
            }
            if let Some(next) = events.get(i + 5 * AHEAD)
                && let EventBody::Redis(rc) = &next.body
                && let Some(key) = rc.argv.get(1)
            {
                prefetch(key.as_ptr());
                prefetch(Arc::as_ptr(&rc.client) as *const u8);
            }
            if let Some(next) = events.get(i + 3 * AHEAD) {
                self.prefetch_key(next, false);
                self.replayer().prefetch(next, Prefetch::Control);
            }
            if let Some(next) = events.get(i + 2 * AHEAD) {
                self.prefetch_key(next, true);
                self.replayer().prefetch(next, Prefetch::Bucket);
            }
            if let Some(next) = events.get(i + AHEAD) {
                self.replayer().prefetch(next, Prefetch::Value);
            }
            self.push(event)?;
        }
        Ok(())
    }

    /// [`Analysis::push_replayed`] for a batch another thread replayed ([`crate::feed`]):
    /// `steps[i]` and `views[ends[i - 1]..ends[i]]` belong to `events[i]`, and a briefed event
    /// (`briefs[i]`) is analyzed from its brief alone. Loads each event the analysis will read
    /// (the other thread wrote it), its key's index bucket and track a few events ahead.
    pub(crate) fn push_replayed_all(
        &mut self,
        events: &[Event],
        steps: &[Option<Step>],
        briefs: &[Brief],
        views: &[KeyView],
        ends: &[usize],
    ) -> Result<(), AnalysisError> {
        let mut start = 0;
        for (i, event) in events.iter().enumerate() {
            if let Some(Brief::Full) = briefs.get(i + 8 * AHEAD) {
                prefetch(&events[i + 8 * AHEAD]);
                prefetch(&steps[i + 8 * AHEAD]);
            }
            if let Some(Brief::Full) = briefs.get(i + 5 * AHEAD)
                && let EventBody::Redis(rc) = &events[i + 5 * AHEAD].body
                && let Some(key) = rc.argv.get(1)
            {
                prefetch(key.as_ptr());
            }
            if let Some(Brief::Get { key, .. }) = briefs.get(i + 8 * AHEAD)
                && let Some(k) = self.brief_keys.get(*key as usize)
            {
                prefetch(k);
            }
            match briefs.get(i + 3 * AHEAD) {
                Some(Brief::Full) => self.prefetch_key(&events[i + 3 * AHEAD], false),
                Some(Brief::Get { key, .. }) => {
                    if let Some(&k) = self.brief_keys.get(*key as usize)
                        && let Some(kt) = self.keys.get(k as usize)
                    {
                        prefetch(&kt.name);
                        prefetch(&kt.hits);
                    }
                }
                None => {}
            }
            if let Some(Brief::Full) = briefs.get(i + 2 * AHEAD) {
                self.prefetch_key(&events[i + 2 * AHEAD], true);
            }
            match briefs[i] {
                Brief::Full => {
                    self.push_replayed(event, steps[i].as_ref(), &views[start..ends[i]])?
                }
                Brief::Get { seq, recv_us, server_us, source, key, client, reply } => {
                    self.push_get(event, seq, recv_us, server_us, source, key, client, reply)
                }
            }
            start = ends[i];
        }
        Ok(())
    }

    /// Analyzes a briefed GET exactly as [`Analysis::push_replayed`] would: `event` is read only
    /// on the first sight of its key or client id.
    #[allow(clippy::too_many_arguments)]
    fn push_get(
        &mut self,
        event: &Event,
        seq: u64,
        recv_us: Micros,
        server_us: Micros,
        source: SourceId,
        key: u32,
        client: u32,
        reply: ReadReply,
    ) {
        self.events += 1;
        self.first_us.get_or_insert(recv_us);
        self.max_recv = self.max_recv.max(recv_us);
        self.redis_commands += 1;
        let stamp = self.timeline.redis(source, server_us, recv_us);
        self.note_time(stamp.t);
        let i = source.0 as usize;
        if self.last_server_us.len() <= i {
            self.last_server_us.resize(i + 1, Micros::MIN);
        }
        self.last_server_us[i] = server_us;
        if reply != ReadReply::Error && key != UNMAPPED_KEY {
            let k = match self.brief_keys.get(key as usize) {
                Some(&k) if k != UNSEEN => k,
                _ => {
                    let EventBody::Redis(rc) = &event.body else { unreachable!("a briefed GET") };
                    let k = rc
                        .argv
                        .get(1)
                        .and_then(|name| self.track(source, rc.db, name))
                        .unwrap_or(UNMAPPED);
                    if self.brief_keys.len() <= key as usize {
                        self.brief_keys.resize(key as usize + 1, UNSEEN);
                    }
                    self.brief_keys[key as usize] = k;
                    k
                }
            };
            if k != UNMAPPED {
                let client_of = |a: &mut Analysis| match a.brief_clients.get(client as usize) {
                    Some(&c) if c != NO_CLIENT => c,
                    _ => {
                        let EventBody::Redis(rc) = &event.body else {
                            unreachable!("a briefed GET")
                        };
                        let c = a.client(&rc.client);
                        if a.brief_clients.len() <= client as usize {
                            a.brief_clients.resize(client as usize + 1, NO_CLIENT);
                        }
                        a.brief_clients[client as usize] = c;
                        c
                    }
                };
                let server_ms = server_us.div_euclid(1000);
                self.read_key(k, seq, stamp, server_ms, reply, client_of, &Reply::Unknown, &[]);
            }
        }
        self.drain(self.max_recv - self.options.reorder_slack_us);
    }

    /// The mapping.
    pub(crate) fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Every source's name (what the mapping's node patterns see), by [`SourceId`].
    pub(crate) fn source_names(&self) -> &[String] {
        self.timeline.names()
    }

    /// The analysis' replayer (taken away only while [`crate::feed`] runs it on its own
    /// thread).
    fn replayer(&self) -> &Replayer {
        self.replayer.as_ref().expect("the replayer is back once feeding ends")
    }

    /// Replays `event` on the analysis' own replayer, then analyzes it.
    pub fn push(&mut self, event: &Event) -> Result<(), AnalysisError> {
        let replayer = self.replayer.as_mut().expect("the replayer is back once feeding ends");
        let step = replayer.apply(event);
        let mut views = std::mem::take(&mut self.views_buf);
        views.clear();
        if let Some(step) = &step {
            observe(replayer, event, step, &mut views);
        }
        let analyzed = self.push_replayed(event, step.as_ref(), &views);
        self.views_buf = views;
        analyzed
    }

    /// Starts loading the index bucket of a command's first key or, once that is cached
    /// (`near`), the track it names.
    #[inline]
    fn prefetch_key(&self, event: &Event, near: bool) {
        let EventBody::Redis(rc) = &event.body else { return };
        let Some(key) = rc.argv.get(1) else { return };
        let h = keyindex::hash(event.source.0, rc.db, key);
        if !near {
            self.key_index.prefetch(h);
        } else if let Some(kt) = self.key_index.candidate(h).and_then(|k| self.keys.get(k as usize))
        {
            prefetch(&kt.name);
            prefetch(&kt.hits);
        }
    }

    /// Analyzes `event`, which the replayer has applied: `step` is what it returned, `views`
    /// what [`observe`] saw of the keys the command may have written.
    pub(crate) fn push_replayed(
        &mut self,
        event: &Event,
        step: Option<&Step>,
        views: &[KeyView],
    ) -> Result<(), AnalysisError> {
        self.events += 1;
        self.first_us.get_or_insert(event.recv_us);
        self.max_recv = self.max_recv.max(event.recv_us);
        match &event.body {
            EventBody::Redis(rc) => {
                self.redis_commands += 1;
                let stamp = self.timeline.redis(event.source, rc.server_us, event.recv_us);
                self.note_time(stamp.t);
                let i = event.source.0 as usize;
                if self.last_server_us.len() <= i {
                    self.last_server_us.resize(i + 1, Micros::MIN);
                }
                self.last_server_us[i] = rc.server_us;
                if let Some(step) = step {
                    self.redis(event, &rc.client, rc.server_us, stamp, step, views);
                }
            }
            EventBody::Row(change) => {
                self.db.row(event.source, change, &self.mapping, &mut self.values)?;
            }
            EventBody::Commit(commit) => {
                let stamp = self.timeline.commit(
                    event.source,
                    event.recv_us,
                    commit.header_secs,
                    commit.commit_us,
                );
                self.note_time(stamp.t);
                if stamp.lo <= self.judged_until {
                    self.late_commits += 1;
                }
                let mut newly = std::mem::take(&mut self.newly_known);
                self.db.commit(event.source, commit, event.seq, stamp, &mut newly);
                for &s in &newly {
                    self.row_became_known(s);
                }
                newly.clear();
                self.newly_known = newly;
            }
            EventBody::ClockProbe(p) => self.timeline.probe(event.source, p),
            EventBody::Snapshot(s) => {
                let server = self.last_server_us.get(event.source.0 as usize).copied();
                let server = server.filter(|&s| s != Micros::MIN).unwrap_or(event.recv_us);
                let stamp = self.timeline.redis(event.source, server, event.recv_us.max(server));
                self.snapshot(event.source, event.seq, s, server, stamp);
            }
            EventBody::Gap(g) => {
                if self.timeline.is_redis(event.source) {
                    let stamp = Stamp { t: g.from_us, lo: g.from_us, hi: g.to_us };
                    for k in 0..self.keys.len() {
                        if self.keys[k].source == event.source {
                            self.set_unknown(k as u32, stamp, None);
                        }
                    }
                } else {
                    self.db_gaps.push((g.from_us, g.to_us));
                }
            }
            EventBody::Keyspace(k) => {
                if &*k.event == "evicted"
                    && let Some(key) = self.lookup(event.source, k.db, &k.key)
                {
                    let stamp = Stamp::at(event.recv_us);
                    self.set_unknown(key, stamp, Some(event.seq));
                }
            }
        }
        self.drain(self.max_recv - self.options.reorder_slack_us);
        Ok(())
    }

    fn note_time(&mut self, t: Micros) {
        self.last_t = self.last_t.max(t);
    }

    #[inline]
    fn client(&mut self, name: &Name) -> u32 {
        // The reader shares one `Arc` per name within a frame: most lookups are one pointer
        // compare (the cached clone keeps the address from being reused by another name).
        let at = (Arc::as_ptr(name) as *const u8 as usize).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let i = at >> (usize::BITS - CLIENT_CACHE_BITS);
        if let Some((n, c)) = &self.client_cache[i]
            && Arc::ptr_eq(n, name)
        {
            return *c;
        }
        let c = match self.clients.get(name) {
            Some(&c) => c,
            None => {
                let c = self.client_names.len() as u32;
                self.client_names.push(name.clone());
                self.clients.insert(name.clone(), c);
                c
            }
        };
        self.client_cache[i] = Some((name.clone(), c));
        c
    }

    fn lookup(&self, source: SourceId, db: u32, key: &[u8]) -> Option<u32> {
        self.lookup_hashed(keyindex::hash(source.0, db, key), source, db, key)
    }

    #[inline]
    fn lookup_hashed(&self, h: u64, source: SourceId, db: u32, key: &[u8]) -> Option<u32> {
        let keys = &self.keys;
        self.key_index.find(h, |k| {
            let kt = &keys[k as usize];
            kt.name.as_bytes() == key && kt.source == source && kt.db == db
        })
    }

    /// The track of a mapped key, created on first sight; `None` for keys no rule maps.
    fn track(&mut self, source: SourceId, db: u32, key: &[u8]) -> Option<u32> {
        let h = keyindex::hash(source.0, db, key);
        if let Some(k) = self.lookup_hashed(h, source, db, key) {
            return Some(k);
        }
        let mut holes = Vec::new();
        let rule = self.mapping.find(self.timeline.name(source), db, key, &mut holes)?;
        self.mapping.rules[rule].row_id_from_key(&holes, &mut self.holes_buf);
        let row_id = std::mem::take(&mut self.holes_buf);
        let subject = self.db.subject(rule as u16, &row_id);
        self.holes_buf = row_id;
        let k = self.keys.len() as u32;
        let detail = (!self.options.detail_keys.is_empty()
            && self.options.detail_keys.iter().any(|d| *d == String::from_utf8_lossy(key)))
        .then(|| Box::new(Detail::default()));
        self.keys.push(KeyTrack {
            name: InlineKey::new(key),
            source,
            db,
            rule: rule as u16,
            subject,
            live: NO_SLOT,
            live_value: Cached::Unknown,
            now: Now::Missing,
            next_no: 0,
            reads: 0,
            hits: 0,
            detail,
        });
        self.key_index.insert(h, k);
        Some(k)
    }

    fn redis(
        &mut self,
        event: &Event,
        client: &Name,
        server_us: Micros,
        stamp: Stamp,
        step: &Step,
        views: &[KeyView],
    ) {
        let EventBody::Redis(rc) = &event.body else { return };
        let command = step.command;
        let is_read = command.is_judged_read();
        if is_read && !step.reply.is_error() {
            let db = rc.db;
            match command {
                Command::MGet => {
                    for (i, key) in rc.argv.iter().skip(1).enumerate() {
                        let reply = match &step.reply {
                            Reply::Array(items) => items.get(i).unwrap_or(&Reply::Unknown),
                            other => other,
                        };
                        self.read(event, client, db, key, stamp, reply, &[]);
                    }
                }
                Command::HGet | Command::HMGet => {
                    if let Some(key) = rc.argv.get(1) {
                        let fields: Vec<&[u8]> = rc.argv.iter().skip(2).collect();
                        self.read(event, client, db, key, stamp, &step.reply, &fields);
                    }
                }
                _ => {
                    if let Some(key) = rc.argv.get(1) {
                        self.read(event, client, db, key, stamp, &step.reply, &[]);
                    }
                }
            }
        }
        let now_ms = server_us.div_euclid(1000);
        let mut views = views.iter();
        if !command.is_read_only() {
            let unconditional = command.overwrites(&rc.argv);
            let (db, argv) = (rc.db, &rc.argv);
            self.after_write(
                event,
                client,
                command,
                unconditional,
                db,
                argv,
                stamp,
                now_ms,
                &mut views,
            );
        }
        for (s, call) in step.script.iter().zip(&rc.script) {
            if !s.command.is_read_only() {
                let unconditional = s.command.overwrites(&call.argv);
                self.after_write(
                    event,
                    client,
                    s.command,
                    unconditional,
                    call.db,
                    &call.argv,
                    stamp,
                    now_ms,
                    &mut views,
                );
            }
        }
        debug_assert!(views.next().is_none(), "every view observed is used");
    }

    /// What a command that may write left in each of its mapped keys.
    #[allow(clippy::too_many_arguments)]
    fn after_write(
        &mut self,
        event: &Event,
        client: &Name,
        command: Command,
        unconditional: bool,
        db: u32,
        argv: &cachetape_tape::Argv,
        stamp: Stamp,
        now_ms: i64,
        views: &mut std::slice::Iter<'_, KeyView>,
    ) {
        command.for_written_keys(argv, |key| {
            let view = views.next().expect("one view per written key");
            if let Some(k) = self.track(event.source, db, key) {
                self.view(
                    k,
                    event.source,
                    event.seq,
                    client,
                    command,
                    unconditional,
                    view,
                    stamp,
                    now_ms,
                );
            }
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn read(
        &mut self,
        event: &Event,
        client: &Name,
        db: u32,
        key: &[u8],
        stamp: Stamp,
        reply: &Reply,
        fields: &[&[u8]],
    ) {
        let Some(k) = self.track(event.source, db, key) else { return };
        let class = ReadReply::of(reply);
        let client_of = |a: &mut Analysis| a.client(client);
        self.read_key(k, event.seq, stamp, stamp_server_ms(event), class, client_of, reply, fields);
    }

    /// A read of track `k` whose reply was `class` (`reply` itself is read only for the fields
    /// of a field read); `client_of` gives the reader's client id (asked only on a hit).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn read_key(
        &mut self,
        k: u32,
        seq: u64,
        stamp: Stamp,
        now_ms: i64,
        class: ReadReply,
        client_of: impl FnOnce(&mut Analysis) -> u32,
        reply: &Reply,
        fields: &[&[u8]],
    ) {
        self.reads += 1;
        self.keys[k as usize].reads += 1;
        let hit = match class {
            ReadReply::Miss => false,
            ReadReply::Unknown => {
                self.hits += 1;
                self.keys[k as usize].hits += 1;
                self.count_unverifiable(CACHE_UNKNOWN);
                return;
            }
            ReadReply::Hit | ReadReply::Error => true,
        };
        if !hit {
            self.misses += 1;
            if let Now::Present { expires_ms, .. } = self.keys[k as usize].now {
                match expires_ms {
                    Some(e) if e <= now_ms => self.expire(k, e),
                    _ => self.keys[k as usize].now = Now::Missing,
                }
            }
            return;
        }
        self.hits += 1;
        let c = client_of(self);
        let kt = &mut self.keys[k as usize];
        kt.hits += 1;
        // The served value: the live episode's, or (a field read) the fields it returned.
        if !kt.is_live() {
            self.count_unverifiable(CACHE_UNKNOWN);
            return;
        }
        let (slot, no, value) = (kt.live, kt.next_no - 1, kt.live_value);
        let subject = kt.subject;
        let served = if fields.is_empty() {
            value
        } else {
            let rule = &self.mapping.rules[kt.rule as usize];
            let returned: Vec<Option<&[u8]>> = match reply {
                Reply::Bulk(b) => vec![Some(&b[..])],
                Reply::Array(items) => items.iter().map(|i| i.as_bulk()).collect(),
                _ => Vec::new(),
            };
            let get = |f: &[u8]| -> Option<&[u8]> {
                fields.iter().position(|x| *x == f).and_then(|i| returned.get(i).copied().flatten())
            };
            match rule.project_hash(get, &mut self.proj) {
                Ok(()) => Cached::Value(self.values.intern(&self.proj)),
                Err(why) => Cached::Unreconciled(why),
            }
        };
        match served {
            Cached::Value(v) => {
                let read = ReadObs { seq, stamp, client: c, served: v, slot, no };
                self.pending.push_back(Pending::Read { key: k, subject, read });
            }
            Cached::Unreconciled(why) => self.count_unverifiable(why),
            Cached::Unknown => self.count_unverifiable(CACHE_UNKNOWN),
        }
    }

    fn count_unverifiable(&mut self, reason: &'static str) {
        *self.unverifiable.entry(reason).or_insert(0) += 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn view(
        &mut self,
        k: u32,
        source: SourceId,
        seq: u64,
        client: &Name,
        command: Command,
        unconditional: bool,
        view: &KeyView,
        stamp: Stamp,
        now_ms: i64,
    ) {
        let c = self.client(client);
        let what = command.upper_name_str();
        match view {
            KeyView::Missing => {
                let kt = &mut self.keys[k as usize];
                if kt.now == Now::Missing
                    && let Some(d) = kt.detail.as_deref_mut()
                {
                    // Nothing to delete: still on the client's lane.
                    d.marks.push(TimelineMark {
                        t_us: stamp.t,
                        lane: c as usize,
                        kind: "del",
                        seq: Some(seq),
                        verdict: None,
                        label: format!("{} (nothing to delete)", what),
                    });
                    if !d.clients.contains(&c) {
                        d.clients.push(c);
                    }
                }
                if let Now::Present { expires_ms, .. } = self.keys[k as usize].now {
                    match expires_ms {
                        Some(e) if e <= now_ms => self.expire(k, e),
                        _ => {
                            let mark = Mark { seq: Some(seq), stamp, client: c, what };
                            self.end_live(k, End::Del, mark);
                        }
                    }
                }
                self.keys[k as usize].now = Now::Missing;
            }
            KeyView::Unknown => {
                if self.keys[k as usize].now != Now::Unknown {
                    self.set_unknown(k, stamp, Some(seq));
                }
            }
            KeyView::Present { value, expires_at } => {
                let hash = value_hash(value);
                let old = self.keys[k as usize].now;
                if let Now::Present { hash: h, expires_ms } = old
                    && h == hash
                    && !unconditional
                {
                    if expires_ms != *expires_at {
                        // Only the TTL changed (EXPIRE, PERSIST, GETEX).
                        self.keys[k as usize].now = Now::Present { hash, expires_ms: *expires_at };
                        let exp =
                            expires_at.map(|e| self.timeline.on_source_clock(source, e * 1000).t);
                        let live = self.keys[k as usize].live;
                        debug_assert_ne!(live, NO_SLOT, "a present value is a live episode");
                        if let Some(slot) = self.slots.get_mut(live as usize) {
                            slot.episode.expires_us = exp;
                        }
                    }
                    return;
                }
                let mark = Mark { seq: Some(seq), stamp, client: c, what };
                if let Now::Present { expires_ms, .. } = old {
                    match expires_ms {
                        Some(e) if e <= now_ms => self.expire(k, e),
                        _ => self.end_live(k, End::Overwrite, mark),
                    }
                }
                let cached = self.project_view(k, value);
                let expires_us =
                    expires_at.map(|e| self.timeline.on_source_clock(source, e * 1000).t);
                self.start(k, cached, Origin::Write, mark, expires_us);
                self.keys[k as usize].now = Now::Present { hash, expires_ms: *expires_at };
            }
        }
    }

    fn project_view(&mut self, k: u32, value: &RValue) -> Cached {
        let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
        let r = match value {
            RValue::String(s) => rule.project_string(s.as_bytes(), &mut self.proj),
            RValue::Hash(h) => rule.project_hash(|f| h.get(f).map(|b| &b[..]), &mut self.proj),
            _ => Err("the cached value is a list, set or sorted set"),
        };
        match r {
            Ok(()) => Cached::Value(self.values.intern(&self.proj)),
            Err(why) => Cached::Unreconciled(why),
        }
    }

    fn snapshot(
        &mut self,
        source: SourceId,
        seq: u64,
        s: &cachetape_tape::Snapshot,
        server_us: Micros,
        stamp: Stamp,
    ) {
        let Some(k) = self.track(source, s.db, &s.key) else { return };
        let mark = Mark { seq: Some(seq), stamp, client: NO_CLIENT, what: "snapshot" };
        let now_ms = server_us.div_euclid(1000);
        if let Now::Present { expires_ms, .. } = self.keys[k as usize].now {
            match expires_ms {
                Some(e) if e <= now_ms => self.expire(k, e),
                _ => self.end_live(k, End::Overwrite, mark),
            }
        }
        let rule = &self.mapping.rules[self.keys[k as usize].rule as usize];
        let (cached, hash) = match &s.value {
            StoredValue::Missing => {
                self.keys[k as usize].now = Now::Missing;
                return;
            }
            StoredValue::String(b) => {
                let mut h = FxHasher::default();
                h.write(b);
                (rule.project_string(b, &mut self.proj), h.finish())
            }
            StoredValue::Hash(pairs) => {
                let get = |f: &[u8]| pairs.iter().find(|(x, _)| x == f).map(|(_, v)| &v[..]);
                let r = rule.project_hash(get, &mut self.proj);
                // Not the store's hash: the next view will start a new episode only if the
                // value really changed, which a snapshot cannot tell; accept one spurious split.
                (r, 0)
            }
            _ => (Err("the cached value is a list, set or sorted set"), 0),
        };
        let cached = match cached {
            Ok(()) => Cached::Value(self.values.intern(&self.proj)),
            Err(why) => Cached::Unreconciled(why),
        };
        let expires_ms = (s.pttl_ms >= 0).then(|| now_ms + s.pttl_ms);
        let expires_us = expires_ms.map(|e| self.timeline.on_source_clock(source, e * 1000).t);
        self.start(k, cached, Origin::Snapshot, mark, expires_us);
        self.keys[k as usize].now = Now::Present { hash, expires_ms };
    }

    fn start(
        &mut self,
        k: u32,
        value: Cached,
        origin: Origin,
        start: Mark,
        expires_us: Option<Micros>,
    ) {
        let kt = &mut self.keys[k as usize];
        let no = kt.next_no;
        kt.next_no += 1;
        // A live episode not ended (the store lost the key behind the analysis' back, e.g. a
        // FLUSHDB) stays unsettled, as it always has.
        let slot = Slot {
            key: k,
            no,
            subject: kt.subject,
            detail: kt.detail.is_some(),
            episode: Episode { value, origin, start, expires_us, end: None, basis: None },
            stale: Vec::new(),
        };
        let id = match self.free_slots.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        kt.live = id;
        kt.live_value = value;
        if kt.detail.is_some() {
            let label = match value {
                Cached::Value(v) => self.values.display(v, &self.mapping.rules[kt.rule as usize]),
                _ => "(not comparable)".into(),
            };
            let d = kt.detail.as_deref_mut().expect("checked");
            d.marks.push(TimelineMark {
                t_us: start.stamp.t,
                lane: start.client as usize,
                kind: "write",
                seq: start.seq,
                verdict: None,
                label: format!("{} → {label}", start.what),
            });
            d.cached.push((start.stamp.t, Micros::MAX, label));
            if start.client != NO_CLIENT && !d.clients.contains(&start.client) {
                d.clients.push(start.client);
            }
        }
    }

    fn end_live(&mut self, k: u32, end: End, mark: Mark) {
        let kt = &mut self.keys[k as usize];
        if !kt.is_live() {
            return;
        }
        let id = std::mem::replace(&mut kt.live, NO_SLOT);
        let slot = &mut self.slots[id as usize];
        slot.episode.end = Some((end, mark));
        let no = slot.no;
        if let Some(d) = kt.detail.as_deref_mut() {
            if let Some(last) = d.cached.last_mut() {
                last.1 = mark.stamp.t;
            }
            if end == End::Del {
                d.marks.push(TimelineMark {
                    t_us: mark.stamp.t,
                    lane: mark.client as usize,
                    kind: "del",
                    seq: mark.seq,
                    verdict: None,
                    label: mark.what.to_string(),
                });
                if mark.client != NO_CLIENT && !d.clients.contains(&mark.client) {
                    d.clients.push(mark.client);
                }
            }
        }
        self.pending.push_back(Pending::Settle { key: k, slot: id, no, hi: mark.stamp.hi });
    }

    fn expire(&mut self, k: u32, expires_ms: i64) {
        let source = self.keys[k as usize].source;
        let stamp = self.timeline.on_source_clock(source, expires_ms * 1000);
        let mark = Mark { seq: None, stamp, client: NO_CLIENT, what: "expired" };
        self.end_live(k, End::Expiry, mark);
        self.keys[k as usize].now = Now::Missing;
    }

    fn set_unknown(&mut self, k: u32, stamp: Stamp, seq: Option<u64>) {
        let mark = Mark { seq, stamp, client: NO_CLIENT, what: "unknown" };
        self.end_live(k, End::Unknown, mark);
        self.keys[k as usize].now = Now::Unknown;
    }

    /// Judges and settles everything whose outcome can no longer change before `watermark`.
    fn drain(&mut self, watermark: Micros) {
        let lag = self.options.timeline.db_lag_us;
        while let Some(front) = self.pending.front() {
            let t = front.time();
            if watermark != Micros::MAX && t.saturating_add(lag) > watermark {
                break;
            }
            self.judged_until = self.judged_until.max(t);
            if let Some(ahead) = self.pending.get(PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            match self.pending.pop_front().expect("front exists") {
                Pending::Read { key, subject, read } => {
                    if self.db.tails[subject.0 as usize].is_unknown() {
                        self.park(key, subject, ParkedWhat::Read(read));
                    } else {
                        self.judge(key, read);
                    }
                }
                Pending::Settle { key, slot, no, .. } => {
                    let s = self.slots[slot as usize].subject;
                    if self.db.tails[s.0 as usize].is_unknown() {
                        self.park(key, s, ParkedWhat::Episode { slot, no });
                    } else {
                        self.settle(key, slot, no);
                    }
                }
            }
        }
    }

    /// Starts loading what judging or settling `p` will read.
    #[inline]
    fn prefetch(&self, p: &Pending) {
        match p {
            Pending::Read { subject, read, .. } => {
                if let Some(t) = self.db.tails.get(subject.0 as usize) {
                    prefetch(t);
                }
                if let Some(slot) = self.slots.get(read.slot as usize) {
                    prefetch(&slot.key);
                    prefetch(&slot.episode.basis);
                }
            }
            Pending::Settle { slot, .. } => {
                if let Some(slot) = self.slots.get(*slot as usize) {
                    prefetch(&slot.key);
                    prefetch(&slot.episode.basis);
                    prefetch(&slot.episode.end);
                }
            }
        }
    }

    fn park(&mut self, key: u32, subject: SubjectId, what: ParkedWhat) {
        let s = subject.0 as usize;
        if self.parked_heads.len() <= s {
            self.parked_heads.resize(self.db.subjects.len().max(s + 1), NO_PARKED);
        }
        let item = Parked { key, next: self.parked_heads[s], what };
        self.parked_heads[s] = match self.free_parked.pop() {
            Some(i) => {
                self.parked[i as usize] = item;
                i
            }
            None => {
                self.parked.push(item);
                (self.parked.len() - 1) as u32
            }
        };
    }

    /// The items parked for subject `s`, oldest first; the list is emptied (the caller frees
    /// the items once it has read them).
    fn unpark(&mut self, s: SubjectId) -> Vec<u32> {
        let mut items = Vec::new();
        let Some(head) = self.parked_heads.get_mut(s.0 as usize) else { return items };
        let mut i = std::mem::replace(head, NO_PARKED);
        while i != NO_PARKED {
            items.push(i);
            i = self.parked[i as usize].next;
        }
        items.reverse();
        items
    }

    fn row_became_known(&mut self, s: SubjectId) {
        let items = self.unpark(s);
        // Key by key in the order they first waited: its reads, then its episodes' ends.
        let mut keys: Vec<u32> = Vec::new();
        for &i in &items {
            let key = self.parked[i as usize].key;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in keys {
            for &i in &items {
                if let Parked { key: k, what: ParkedWhat::Read(r), .. } = self.parked[i as usize]
                    && k == key
                {
                    self.judge(key, r);
                }
            }
            for &i in &items {
                if let Parked { key: k, what: ParkedWhat::Episode { slot, no }, .. } =
                    self.parked[i as usize]
                    && k == key
                {
                    self.settle(key, slot, no);
                }
            }
        }
        for &i in &items {
            self.parked[i as usize].key = VACANT;
        }
        self.free_parked.extend_from_slice(&items);
    }

    fn in_db_gap(&self, stamp: Stamp) -> bool {
        self.db_gaps.iter().any(|&(from, to)| from <= stamp.hi && to >= stamp.lo)
    }

    fn judge(&mut self, key: u32, read: ReadObs) {
        if self.in_db_gap(read.stamp) {
            self.count_unverifiable("database not observed then (gap)");
            return;
        }
        let slot = match self.slots.get_mut(read.slot as usize) {
            Some(slot) if slot.key == key && slot.no == read.no => slot,
            _ => {
                self.count_unverifiable(CACHE_UNKNOWN);
                return;
            }
        };
        let subject = slot.subject.0 as usize;
        let (tail, versions) = (&self.db.tails[subject], &self.db.subjects[subject].versions);
        let basis = episode_basis(&mut slot.episode, tail, versions, &self.values);
        let j = judge_fast(tail, versions, basis, read.stamp, read.served, &self.values);
        let age = match j.verdict {
            Verdict::Fresh => Some(0),
            Verdict::StaleDefinite | Verdict::StalePossible => j.age_us,
            Verdict::Unverifiable => None,
        };
        if j.verdict != Verdict::Unverifiable
            && let Some(age) = age
        {
            for (i, &limit) in self.options.ages_us.iter().enumerate() {
                if age <= limit {
                    self.within[i] += 1;
                }
            }
        }
        if slot.detail
            && let Some(d) = self.keys[key as usize].detail.as_deref_mut()
        {
            d.marks.push(TimelineMark {
                t_us: read.stamp.t,
                lane: read.client as usize,
                kind: "read",
                seq: Some(read.seq),
                verdict: Some(j.verdict),
                label: format!("GET: {}", j.verdict),
            });
            if !d.clients.contains(&read.client) {
                d.clients.push(read.client);
            }
        }
        match j.verdict {
            Verdict::Fresh => self.fresh += 1,
            Verdict::Unverifiable => self.count_unverifiable(j.reason.unwrap_or(ROW_UNKNOWN)),
            Verdict::StaleDefinite | Verdict::StalePossible => {
                if j.verdict == Verdict::StaleDefinite {
                    self.stale_definite += 1;
                } else {
                    self.stale_possible += 1;
                }
                slot.stale.push((read, j));
            }
        }
    }

    fn settle(&mut self, key: u32, id: u32, no: u32) {
        let slot = match self.slots.get_mut(id as usize) {
            Some(slot) if slot.key == key && slot.no == no => slot,
            _ => return,
        };
        let subject = slot.subject.0 as usize;
        let (tail, versions) = (&self.db.tails[subject], &self.db.subjects[subject].versions);
        let mut found: Vec<Exposure> = Vec::new();
        if tail.is_unknown() {
            self.unsettled_exposure += 1;
        } else {
            episode_basis(&mut slot.episode, tail, versions, &self.values);
            exposures(&mut slot.episode, versions, &self.values, &mut found);
        }
        if slot.stale.is_empty() && found.is_empty() {
            slot.key = VACANT;
            self.free_slots.push(id);
            return;
        }
        let stale = std::mem::take(&mut slot.stale);
        let episode = slot.episode.clone();
        slot.key = VACANT;
        self.free_slots.push(id);
        let versions = &self.db.subjects[subject].versions;
        let kt = &self.keys[key as usize];
        let (source, db, rule_ix) = (kt.source, kt.db, kt.rule as usize);
        let rule = &self.mapping.rules[rule_ix];
        let key_name = String::from_utf8_lossy(kt.name.as_bytes()).into_owned();
        let node = self.timeline.name(source).to_string();
        let client_name =
            |c: u32| self.client_names.get(c as usize).map_or("?".to_string(), |n| n.to_string());
        let cached = match episode.value {
            Cached::Value(v) => self.values.display(v, rule),
            Cached::Unreconciled(why) => format!("(not comparable: {why})"),
            Cached::Unknown => "?".into(),
        };
        let row_value = |v: RowValue| match v {
            RowValue::Known(id) => self.values.display(id, rule),
            RowValue::Absent => "(no row)".to_string(),
            RowValue::Unknown => "?".to_string(),
        };
        let acc = self.accs.entry(key).or_default();
        for e in &found {
            let (started_by, start_seq) = match e.start {
                ExposureStart::Write(m) => ("write", m.seq),
                ExposureStart::Commit { seq } => ("commit", Some(seq)),
            };
            let (end_seq, ttl_left_us) = match e.end {
                ExposureEnd::Cache(End::EndOfTrace { ttl_left_us }, m) => (m.seq, ttl_left_us),
                ExposureEnd::Cache(_, m) => (m.seq, None),
                ExposureEnd::DbAgreed { seq } => (Some(seq), None),
            };
            acc.exposed_us += e.duration_us();
            acc.exposure.push(ExposureReport {
                from_us: e.from_us,
                to_us: e.to_us,
                cached: cached.clone(),
                started_by,
                start_seq,
                ended_by: e.end.name(),
                end_seq,
                ttl_left_us,
            });
        }
        for (read, j) in &stale {
            let cause = oracle::cause(&episode, versions, j);
            self.by_cause[cause_index(cause)] += 1;
            if j.verdict == Verdict::StaleDefinite {
                acc.stale_definite += 1;
            } else {
                acc.stale_possible += 1;
            }
            let chain = oracle::chain(&episode, versions, j)
                .into_iter()
                .map(|(role, m)| {
                    let what = match role {
                        oracle::Role::Write => {
                            format!("{} {key_name} from {}", m.what, client_name(m.client))
                        }
                        oracle::Role::Snapshot => "found in the cache by a snapshot".to_string(),
                        oracle::Role::Superseded => {
                            let i = j.matched.map_or(0, |m| m + 1);
                            format!("commit: the row became {}", row_value(versions.value(i)))
                        }
                        oracle::Role::Invalidation => {
                            format!("{} {key_name} from {}", m.what, client_name(m.client))
                        }
                        oracle::Role::Expiry => "the TTL ran out".to_string(),
                        oracle::Role::EndOfTrace => match episode.end {
                            Some((End::EndOfTrace { ttl_left_us: Some(t) }, _)) => format!(
                                "the trace ended with the value cached, {} TTL left",
                                cachetape_tape::format_duration(t)
                            ),
                            Some((End::Unknown, _)) => "the cache state became unknown".into(),
                            _ => "the trace ended with the value cached, no TTL".to_string(),
                        },
                    };
                    Link { role: role.name(), seq: m.seq, t_us: m.stamp.t, what }
                })
                .collect();
            let served = self.values.display(read.served, rule);
            acc.findings.push(StaleRead {
                key: key_name.clone(),
                node: node.clone(),
                redis_db: db,
                client: client_name(read.client),
                seq: read.seq,
                t_us: read.stamp.t,
                uncertainty_us: read.stamp.uncertainty(),
                served,
                db: row_value(versions.value(j.db_version)),
                verdict: j.verdict,
                cause,
                age_us: j.age_us,
                chain,
            });
        }
    }

    /// Ends the analysis: closes what is still cached, judges everything left, and builds the
    /// report.
    pub fn finish(mut self) -> Result<Report, AnalysisError> {
        // Rules whose table never appeared.
        if !self.db.tables_seen.is_empty() {
            for (i, rule) in self.mapping.rules.iter().enumerate() {
                if !self.db.tables_seen.contains(&rule.table) {
                    return Err(MappingError::UnknownTable {
                        rule: rule.label(i),
                        table: rule.table.clone(),
                        seen: self.db.tables_seen.iter().cloned().collect::<Vec<_>>().join(", "),
                    }
                    .into());
                }
            }
        }
        let end_t = self.last_t;
        for k in 0..self.keys.len() as u32 {
            let kt = &self.keys[k as usize];
            if !kt.is_live() {
                continue;
            }
            let expires = self.slots[kt.live as usize].episode.expires_us;
            match expires {
                Some(e) if e <= end_t => {
                    let mark =
                        Mark { seq: None, stamp: Stamp::at(e), client: NO_CLIENT, what: "expired" };
                    self.end_live(k, End::Expiry, mark);
                }
                _ => {
                    let ttl_left_us = expires.map(|e| e - end_t);
                    let mark =
                        Mark { seq: None, stamp: Stamp::at(end_t), client: NO_CLIENT, what: "end" };
                    self.end_live(k, End::EndOfTrace { ttl_left_us }, mark);
                }
            }
        }
        self.drain(Micros::MAX);
        // What still waits: every item not released (in arena order, no list to walk).
        let mut never = 0;
        for p in std::mem::take(&mut self.parked) {
            match p.what {
                _ if p.key == VACANT => {}
                ParkedWhat::Read(_) => never += 1,
                ParkedWhat::Episode { .. } => self.unsettled_exposure += 1,
            }
        }
        if never > 0 {
            *self.unverifiable.entry(ROW_UNKNOWN).or_insert(0) += never;
        }
        Ok(self.report())
    }

    fn report(mut self) -> Report {
        let replay = self.replayer().report();
        let mut notes = Vec::new();
        if !replay.unmodelled.is_empty() {
            let list: Vec<String> =
                replay.unmodelled.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
            notes.push(format!(
                "commands the fake Redis does not model (their keys became unknown): {}",
                list.join(", ")
            ));
        }
        if replay.gaps > 0 {
            notes.push(format!(
                "{} gap(s) in a Redis source: keys were unknown after each",
                replay.gaps
            ));
        }
        if !self.db_gaps.is_empty() {
            notes.push(format!(
                "{} gap(s) in the database source: reads then are unverifiable",
                self.db_gaps.len()
            ));
        }
        if self.late_commits > 0 {
            notes.push(format!(
                "{} commit(s) arrived in the trace more than {} after reads they may precede; \
                 verdicts near them may be wrong",
                self.late_commits,
                cachetape_tape::format_duration(self.options.reorder_slack_us)
            ));
        }
        if self.db.open_transactions() > 0 {
            notes.push(format!(
                "{} transaction(s) had row changes but no commit in the trace: ignored",
                self.db.open_transactions()
            ));
        }
        let subjects_unknown = self
            .keys
            .iter()
            .filter(|k| self.db.subjects[k.subject.0 as usize].versions.is_unknown())
            .count();
        if subjects_unknown > 0 {
            notes.push(format!(
                "{subjects_unknown} mapped key(s) map to rows the trace never changed: their reads \
                 are unverifiable"
            ));
        }
        if self.unsettled_exposure > 0 {
            notes.push(format!(
                "{} cached value(s) could not be checked for exposure (row unknown)",
                self.unsettled_exposure
            ));
        }

        // Keys, worst first.
        let mut flagged: Vec<(u32, KeyAcc)> = self.accs.drain().collect();
        flagged.sort_by(|(ka, a), (kb, b)| {
            let na = &self.keys[*ka as usize];
            let nb = &self.keys[*kb as usize];
            b.stale_definite
                .cmp(&a.stale_definite)
                .then(b.stale_possible.cmp(&a.stale_possible))
                .then(b.exposed_us.cmp(&a.exposed_us))
                .then(na.name.as_bytes().cmp(nb.name.as_bytes()))
                .then(na.source.cmp(&nb.source))
                .then(na.db.cmp(&nb.db))
        });
        let mut keys = Vec::new();
        let mut findings = Vec::new();
        let mut exposure_intervals = 0;
        let mut exposure_total_us = 0;
        let mut longest: Option<(String, Micros)> = None;
        for (k, mut acc) in flagged {
            let kt = &self.keys[k as usize];
            let rule = &self.mapping.rules[kt.rule as usize];
            acc.findings.sort_by_key(|f| f.seq);
            acc.exposure.sort_by_key(|e| (e.from_us, e.to_us));
            let name = String::from_utf8_lossy(kt.name.as_bytes()).into_owned();
            for e in &acc.exposure {
                exposure_intervals += 1;
                exposure_total_us += e.to_us - e.from_us;
                if longest.as_ref().is_none_or(|(_, l)| e.to_us - e.from_us > *l) {
                    longest = Some((name.clone(), e.to_us - e.from_us));
                }
            }
            keys.push(KeyReport {
                key: name,
                node: self.timeline.name(kt.source).to_string(),
                db: kt.db,
                rule: rule_summary(rule),
                reads: kt.reads,
                hits: kt.hits,
                stale_definite: acc.stale_definite,
                stale_possible: acc.stale_possible,
                exposure: acc.exposure,
                exposed_us: acc.exposed_us,
            });
            findings.extend(acc.findings);
        }

        let mut timelines = Vec::new();
        for kt in &mut self.keys {
            let Some(d) = kt.detail.take() else { continue };
            let versions = &self.db.subjects[kt.subject.0 as usize].versions;
            let rule = &self.mapping.rules[kt.rule as usize];
            timelines.push(timeline_of(
                kt,
                *d,
                versions,
                rule,
                &self.values,
                &self.client_names,
                self.last_t,
            ));
        }
        timelines.sort_by(|a, b| a.key.cmp(&b.key));
        for t in &mut timelines {
            if let Some(k) = keys.iter().find(|k| k.key == t.key) {
                t.stale = k.exposure.iter().map(|e| (e.from_us, e.to_us)).collect();
            }
        }

        let verifiable = self.fresh + self.stale_definite + self.stale_possible;
        let mut unverifiable_by_reason: Vec<(String, u64)> =
            self.unverifiable.iter().map(|(r, c)| (r.to_string(), *c)).collect();
        unverifiable_by_reason.sort();
        let unverifiable = unverifiable_by_reason.iter().map(|(_, c)| c).sum();
        let summary = Summary {
            events: self.events,
            redis_commands: self.redis_commands,
            row_changes: self.db.row_changes,
            commits: self.db.commits,
            first_us: self.first_us.unwrap_or(0),
            last_us: if self.last_t == Micros::MIN { 0 } else { self.last_t },
            mapping_origin: self.options.mapping_origin.clone(),
            rules: self.mapping.rules.iter().map(rule_summary).collect(),
            reads: self.reads,
            hits: self.hits,
            misses: self.misses,
            fresh: self.fresh,
            stale_definite: self.stale_definite,
            stale_possible: self.stale_possible,
            unverifiable,
            unverifiable_by_reason,
            stale_by_cause: oracle::Cause::ALL
                .iter()
                .map(|&c| (c, self.by_cause[cause_index(c)]))
                .collect(),
            fresh_within: self
                .options
                .ages_us
                .iter()
                .zip(&self.within)
                .map(|(&a, &n)| {
                    (a, if verifiable == 0 { 1.0 } else { n as f64 / verifiable as f64 })
                })
                .collect(),
            keys_flagged: keys.len() as u64,
            exposure_intervals,
            exposure_total_us,
            longest_exposure: longest,
            clocks: self.timeline.summary(),
            db_lag_us: self.options.timeline.db_lag_us,
            notes,
        };
        Report { summary, keys, findings, timelines }
    }
}

/// `db` agrees with `served` (the oracle's rule).
#[inline]
fn agrees(values: &ValueTable, served: ValueId, db: RowValue) -> bool {
    match db {
        RowValue::Known(d) => values.agrees(served, d),
        RowValue::Absent | RowValue::Unknown => false,
    }
}

/// [`Episode::basis`], without reading the row's history when its [`Tail`] settles it: when
/// every change may precede the write (so all count) and the latest value agrees with the
/// cached one, the basis is the latest version.
fn episode_basis(
    episode: &mut Episode,
    tail: &Tail,
    versions: &Versions,
    values: &ValueTable,
) -> Option<usize> {
    if episode.basis.is_none()
        && let Cached::Value(v) = episode.value
        && tail.max_lo <= episode.start.stamp.hi
        && agrees(values, v, tail.current())
    {
        let b = Some(tail.n as usize);
        debug_assert_eq!(episode.clone().basis(versions, values), b);
        episode.basis = Some(b);
    }
    episode.basis(versions, values)
}

/// [`oracle::judge_read`], without reading the row's history for the common fresh read: when
/// every change surely precedes the read, the only candidate is the latest version; if it agrees
/// with the served value the read is fresh.
#[inline]
fn judge_fast(
    tail: &Tail,
    versions: &Versions,
    basis: Option<usize>,
    read: Stamp,
    served: ValueId,
    values: &ValueTable,
) -> Judgement {
    if tail.max_hi <= read.lo
        && tail.max_lo <= read.hi
        && matches!(tail.current(), RowValue::Known(d) if values.agrees(served, d))
    {
        let j = Judgement {
            verdict: Verdict::Fresh,
            reason: None,
            db_version: tail.n as usize,
            matched: None,
            age_us: None,
        };
        debug_assert_eq!(j, oracle::judge_read(versions, basis, read, served, values));
        return j;
    }
    oracle::judge_read(versions, basis, read, served, values)
}

fn cause_index(c: oracle::Cause) -> usize {
    oracle::Cause::ALL.iter().position(|&x| x == c).unwrap_or(0)
}

fn rule_summary(rule: &crate::mapping::Rule) -> String {
    let shape = match &rule.value {
        ValueShape::Column(c) => format!("column {c}"),
        ValueShape::Json(p) => {
            format!("JSON {}", p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", "))
        }
        ValueShape::Hash(p) => {
            format!("hash {}", p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(", "))
        }
    };
    let row: Vec<String> = rule.row.iter().map(|(c, p)| format!("{c} = {{{p}}}")).collect();
    format!("{} → {} where {} ({shape})", rule.key, rule.table, row.join(" and "))
}

fn timeline_of(
    kt: &KeyTrack,
    d: Detail,
    versions: &Versions,
    rule: &crate::mapping::Rule,
    values: &ValueTable,
    client_names: &[Name],
    end_t: Micros,
) -> KeyTimeline {
    let mut clients = d.clients.clone();
    clients.sort_by(|a, b| client_names[*a as usize].cmp(&client_names[*b as usize]));
    let lanes: Vec<String> =
        clients.iter().map(|c| client_names[*c as usize].to_string()).collect();
    let db_lane = lanes.len();
    let lane_of = |c: usize| clients.iter().position(|&x| x as usize == c).unwrap_or(db_lane);
    let mut marks: Vec<TimelineMark> = d
        .marks
        .into_iter()
        .map(|mut m| {
            m.lane = lane_of(m.lane);
            m
        })
        .collect();
    let show = |v: RowValue| match v {
        RowValue::Known(id) => values.display(id, rule),
        RowValue::Absent => "(no row)".to_string(),
        RowValue::Unknown => "?".to_string(),
    };
    let first = d.cached.first().map_or(end_t, |c| c.0);
    let mut db = Vec::new();
    for i in 0..versions.len() {
        let from = versions.began(i).map_or(first.min(end_t), |v| v.stamp.t);
        let to = versions.began(i + 1).map_or(end_t, |v| v.stamp.t);
        db.push((from, to, show(versions.value(i))));
        if let Some(v) = versions.began(i) {
            marks.push(TimelineMark {
                t_us: v.stamp.t,
                lane: db_lane,
                kind: "commit",
                seq: Some(v.seq),
                verdict: None,
                label: format!("COMMIT → {}", show(v.value)),
            });
        }
    }
    marks.sort_by_key(|m| (m.t_us, m.seq));
    let cached = d
        .cached
        .into_iter()
        .map(|(a, b, v)| (a, if b == Micros::MAX { end_t } else { b }, v))
        .collect();
    KeyTimeline {
        key: String::from_utf8_lossy(kt.name.as_bytes()).into_owned(),
        lanes,
        marks,
        cached,
        db,
        stale: Vec::new(),
    }
}

/// The MONITOR time of a Redis event, in ms (Redis's virtual clock).
fn stamp_server_ms(event: &Event) -> i64 {
    match &event.body {
        EventBody::Redis(rc) => rc.server_us.div_euclid(1000),
        _ => event.recv_us.div_euclid(1000),
    }
}

/// What the store holds, after `event` ran, of each key its command may have written (and each
/// of its script's calls, in order): the other half of [`Analysis::push_replayed`]. Runs on
/// whichever thread owns the replayer.
pub(crate) fn observe(replayer: &Replayer, event: &Event, step: &Step, out: &mut Vec<KeyView>) {
    let EventBody::Redis(rc) = &event.body else { return };
    let store = replayer.store(event.source);
    let now_ms = rc.server_us.div_euclid(1000);
    let mut written = |command: Command, db: u32, argv: &cachetape_tape::Argv| {
        command.for_written_keys(argv, |key| {
            out.push(match store.map(|s| s.key(db, key, now_ms)) {
                Some(KeyState::Present(e)) => {
                    KeyView::Present { value: e.value.clone(), expires_at: e.expires_at }
                }
                Some(KeyState::Unknown) => KeyView::Unknown,
                Some(KeyState::Missing) | None => KeyView::Missing,
            })
        })
    };
    if !step.command.is_read_only() {
        written(step.command, rc.db, &rc.argv);
    }
    for (s, call) in step.script.iter().zip(&rc.script) {
        if !s.command.is_read_only() {
            written(s.command, call.db, &call.argv);
        }
    }
}

fn value_hash(v: &RValue) -> u64 {
    let mut h = FxHasher::default();
    match v {
        RValue::String(s) => {
            h.write_u8(1);
            h.write(s.as_bytes());
        }
        RValue::Hash(hash) => {
            h.write_u8(2);
            let mut pairs = hash.pairs();
            pairs.sort();
            for (f, v) in pairs {
                h.write(&f);
                h.write_u8(0xff);
                h.write(&v);
                h.write_u8(0xfe);
            }
        }
        other => {
            h.write_u8(3);
            h.write(format!("{other:?}").as_bytes());
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachetape_tape::{Argv, Cell, Commit, RedisCommand, RowChange, RowImage, RowOp, Value};

    const T0: Micros = 1_795_666_525_000_000;

    fn header() -> Header {
        crate::testutil::cache_and_db_header(T0)
    }

    fn image(id: u64, v: u64) -> RowImage {
        RowImage {
            cells: vec![
                Cell { column: "id".into(), value: Value::Int(id as i64) },
                Cell { column: "status".into(), value: Value::Int(v as i64) },
            ],
        }
    }

    /// Readers caching rows (some late, some with old values), writers committing and
    /// deleting (some late, some never), on 40 keys.
    fn events() -> Vec<Event> {
        let mut out: Vec<Event> = Vec::new();
        let mut push = |source: u16, recv_us: Micros, body: EventBody| {
            let seq = out.len() as u64;
            out.push(Event { seq, source: SourceId(source), recv_us, body });
        };
        let mut rng = cachetape_base::Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut rnd = |n: u64| rng.below(n);
        let mut rows = [0u64; 40];
        let mut t = T0;
        for txn in 0..3_000u64 {
            t += 1 + rnd(2_000) as Micros;
            let id = rnd(40);
            let key = format!("order:{id}");
            let redis = |args: &[&[u8]], t: Micros| {
                EventBody::Redis(RedisCommand {
                    db: 0,
                    client: format!("10.0.0.{}:1", id % 5).into(),
                    server_us: t,
                    argv: Argv::from_parts(args.iter().copied()),
                    script: Vec::new(),
                })
            };
            if rnd(4) == 0 {
                let (old, new) = (rows[id as usize], rows[id as usize] + 1);
                rows[id as usize] = new;
                let change = RowChange {
                    table: "shop.orders".into(),
                    op: RowOp::Update,
                    before: Some(image(id, old)),
                    after: Some(image(id, new)),
                    txn,
                    header_secs: (t / 1_000_000) as u32,
                };
                push(1, t, EventBody::Row(change));
                let commit = Commit {
                    txn,
                    header_secs: (t / 1_000_000) as u32,
                    commit_us: None,
                    gtid: None,
                    xid: None,
                };
                push(1, t, EventBody::Commit(commit));
                if rnd(3) != 0 {
                    let late = t + rnd(3) as Micros * 40_000;
                    push(0, late + 50, redis(&[b"DEL", key.as_bytes()], late));
                }
            } else {
                push(0, t + 50, redis(&[b"GET", key.as_bytes()], t));
                if rnd(3) == 0 {
                    let v = rows[id as usize].saturating_sub(rnd(2));
                    let json = format!(r#"{{"id":{id},"status":{v}}}"#);
                    let at = t + 300 + rnd(2) as Micros * 60_000;
                    let set = redis(&[b"SETEX", key.as_bytes(), b"30", json.as_bytes()], at);
                    push(0, at + 50, set);
                }
            }
        }
        out
    }

    fn analyze(events: &[Event], batched: bool) -> Report {
        let mapping = Mapping::parse(
            "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"id\", \"status\"]\n",
        )
        .unwrap();
        let mut a = Analysis::new(&header(), mapping, AnalysisOptions::default());
        if batched {
            for chunk in events.chunks(100) {
                a.push_all(chunk).unwrap();
            }
        } else {
            for e in events {
                a.push(e).unwrap();
            }
        }
        a.finish().unwrap()
    }

    #[test]
    fn push_all_reports_what_pushing_one_by_one_does() {
        let events = events();
        let one = analyze(&events, false);
        assert!(one.summary.stale_definite > 0 && one.summary.fresh > 0, "{:?}", one.summary);
        assert!(one.summary.exposure_intervals > 0);
        assert_eq!(analyze(&events, true), one);
    }

    #[test]
    fn feeding_from_another_thread_reports_what_pushing_one_by_one_does() {
        let mut events = events();
        // Unmapped keys, a GET answered with an error, and another node's and db's keys among
        // the briefed GETs.
        let t = events.last().map_or(T0, |e| e.recv_us);
        for (i, (source, db, args)) in [
            (0, 0, vec![&b"GET"[..], b"session:1"]),
            (0, 0, vec![&b"SET"[..], b"session:1", b"x"]),
            (0, 0, vec![&b"GET"[..], b"session:1"]),
            (0, 0, vec![&b"GET"[..], b"order:3", b"extra"]),
            (0, 1, vec![&b"GET"[..], b"order:3"]),
            (0, 0, vec![&b"GET"[..], b"order:3"]),
        ]
        .into_iter()
        .enumerate()
        {
            let body = EventBody::Redis(RedisCommand {
                db,
                client: format!("10.0.9.{i}:1").into(),
                server_us: t + i as Micros,
                argv: Argv::from_parts(args),
                script: Vec::new(),
            });
            let seq = events.len() as u64;
            events.push(Event { seq, source: SourceId(source), recv_us: t + 50, body });
        }
        let one = analyze(&events, false);
        let mapping = Mapping::parse(
            "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\njson = [\"id\", \"status\"]\n",
        )
        .unwrap();
        let mut a = Analysis::new(&header(), mapping, AnalysisOptions::default());
        let mut it = events.iter();
        crate::feed::feed(&mut a, |e: &mut Event| -> Result<bool, ()> {
            Ok(it.next().map(|next| *e = next.clone()).is_some())
        })
        .unwrap();
        assert_eq!(a.finish().unwrap(), one);
    }
}
