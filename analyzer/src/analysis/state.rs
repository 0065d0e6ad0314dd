/*!
The judging back's state: [`Judge`] and what it keeps per mapped key ([`KeyTrack`]), per
unsettled episode ([`Slot`]), per read or episode end waiting for its verdict ([`Pending`]) or
for its row's first change ([`Parked`]), and per flagged key ([`KeyAcc`]).

What the judge does with it lives beside: taking observed events (`ingest.rs`), reads
(`reads.rs`), episodes (`episodes.rs`), the queue of what waits (`pending.rs`), verdicts
(`verdicts.rs`), settling (`settle.rs`), and the end of the analysis and its report
(`finish.rs`).
*/

use std::collections::{HashMap, VecDeque};

use cachetape_base::FxBuild;
use cachetape_base::InlineKey;
use cachetape_tape::{Header, Micros, Name, SourceId};

use super::coverage::RuleCoverage;
use super::detail::Detail;
use super::options::AnalysisOptions;
use crate::dbstate::{DbState, SubjectId};
use crate::mapping::{Mapping, ValueId, ValueTable};
use crate::oracle::{Cached, Episode, Judgement};
use crate::report::{ExposureReport, StaleRead};
use crate::timeline::{Stamp, Timeline};

/// What the store holds for a key, as far as starting and ending episodes needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Now {
    /// Nothing.
    Missing,
    /// A value (its hash), its expiry (ms) and the framework's own expiry inside the value
    /// (ms, [`crate::mapping::Projected::expires_ms`]), from which the app takes a hit for a
    /// miss.
    Present { hash: u64, expires_ms: Option<i64>, app_expires_ms: Option<i64> },
    /// Not known (an unmodelled command, a gap, an eviction).
    Unknown,
}

/// A hit waiting for its verdict.
#[derive(Clone, Copy, Debug)]
pub(super) struct ReadObs {
    pub seq: u64,
    pub stamp: Stamp,
    pub client: u32,
    pub served: ValueId,
    /// The episode read: its slot, and its number among the key's episodes (a slot is reused
    /// once its episode is settled).
    pub slot: u32,
    pub no: u32,
}

/// An unsettled episode (from its start until its end has been judged), in the slot arena.
pub(super) struct Slot {
    /// The key, or [`VACANT`].
    pub key: u32,
    pub no: u32,
    pub subject: SubjectId,
    /// The key's timeline is kept ([`KeyTrack::detail`]).
    pub detail: bool,
    pub episode: Episode,
    pub stale: Vec<(ReadObs, Judgement)>,
}

/// Clients whose latest miss of a key is kept ([`KeyTrack::misses`]); a fill by a client not
/// among them has no bound on when it read the database.
pub(super) const MISSES_KEPT: usize = 16;

/// A slot or parked item no key owns.
pub(super) const VACANT: u32 = u32::MAX;
/// No live episode.
pub(super) const NO_SLOT: u32 = u32::MAX;
/// The end of a subject's parked list.
pub(super) const NO_PARKED: u32 = u32::MAX;

/// One mapped key, by the id the observer gave it.
pub(super) struct KeyTrack {
    pub source: SourceId,
    pub rule: u16,
    pub db: u32,
    pub subject: SubjectId,
    /// The live episode's slot ([`NO_SLOT`] when none) and its value.
    pub live: u32,
    pub live_value: Cached,
    pub now: Now,
    /// The earliest a value written next can have been read from the database, as far as the
    /// key's own episodes tell ([`Episode::fill_from`]): when the last episode ended, or that
    /// episode's own `fill_from` when a write overwrote it; [`Micros::MIN`] before any, and
    /// after the state was unknown.
    pub fill_from: Micros,
    /// The latest miss of the key by each of the last [`MISSES_KEPT`] clients that missed it:
    /// (client, the miss's `lo`). A fill follows its client's miss.
    pub misses: Vec<(u32, Micros)>,
    pub next_no: u32,
    pub reads: u64,
    pub hits: u64,
    /// The key's timeline, for the keys the options name.
    pub detail: Option<Box<Detail>>,
    /// The key's bytes, for the report.
    pub name: InlineKey,
}

impl KeyTrack {
    /// The key holds a live episode.
    pub(super) fn is_live(&self) -> bool {
        self.live != NO_SLOT
    }

    /// Client `c` missed the key at `lo`.
    pub(super) fn missed(&mut self, c: u32, lo: Micros) {
        if let Some(m) = self.misses.iter_mut().find(|m| m.0 == c) {
            m.1 = lo;
        } else if self.misses.len() < MISSES_KEPT {
            self.misses.push((c, lo));
        } else if let Some(oldest) = self.misses.iter_mut().min_by_key(|m| m.1) {
            *oldest = (c, lo);
        }
    }

    /// The earliest a value client `c` writes now can have been read from the database: after
    /// both the miss it followed (its client's latest) and the start of the key's absence —
    /// whichever came first, since a fill whose connection differs from its miss's (a pool)
    /// or whose miss came before an earlier fill of the key (a long stall) breaks one of the
    /// two; without a miss of its client, unbounded.
    pub(super) fn fill_window(&self, c: u32) -> Micros {
        match self.misses.iter().find(|m| m.0 == c) {
            Some(&(_, miss)) => miss.min(self.fill_from),
            None => Micros::MIN,
        }
    }
}

/// A read or an episode's end waiting for its row's first change: one of a subject's list
/// (newest first).
pub(super) struct Parked {
    pub key: u32,
    pub next: u32,
    pub what: ParkedWhat,
}

/// What is parked.
pub(super) enum ParkedWhat {
    Read(ReadObs),
    Episode { slot: u32, no: u32 },
}

/// A read to judge, or an ended episode to settle, once the trace has moved far enough past it.
pub(super) enum Pending {
    Read { key: u32, subject: SubjectId, read: ReadObs },
    Settle { key: u32, slot: u32, no: u32, hi: Micros },
}

impl Pending {
    /// The latest time it may have happened.
    pub(super) fn time(&self) -> Micros {
        match self {
            Pending::Read { read, .. } => read.stamp.hi,
            Pending::Settle { hi, .. } => *hi,
        }
    }
}

/// What the report will say of one flagged key.
#[derive(Default)]
pub(super) struct KeyAcc {
    pub stale_definite: u64,
    pub stale_possible: u64,
    pub exposure: Vec<ExposureReport>,
    pub exposed_us: Micros,
    pub findings: Vec<StaleRead>,
}

/// The judging back of a streaming analysis.
pub(crate) struct Judge {
    pub(super) mapping: Mapping,
    pub(super) options: AnalysisOptions,
    pub(super) values: ValueTable,
    pub(super) db: DbState,
    pub(super) timeline: Timeline,
    /// By the observer's key id.
    pub(super) keys: Vec<KeyTrack>,
    /// Unsettled episodes; `free_slots` are vacant.
    pub(super) slots: Vec<Slot>,
    pub(super) free_slots: Vec<u32>,
    /// Parked items; the newest of each subject's list by [`SubjectId`] ([`NO_PARKED`] when
    /// none); vacant items.
    pub(super) parked: Vec<Parked>,
    pub(super) parked_heads: Vec<u32>,
    pub(super) free_parked: Vec<u32>,
    /// By the observer's client id.
    pub(super) client_names: Vec<Name>,
    pub(super) pending: VecDeque<Pending>,
    pub(super) max_recv: Micros,
    pub(super) judged_until: Micros,
    pub(super) first_us: Option<Micros>,
    pub(super) last_t: Micros,
    pub(super) last_server_us: Vec<Micros>,
    pub(super) db_gaps: Vec<(Micros, Micros)>,
    pub(super) accs: HashMap<u32, KeyAcc, FxBuild>,
    // Counters.
    pub(super) events: u64,
    pub(super) redis_commands: u64,
    pub(super) reads: u64,
    pub(super) hits: u64,
    pub(super) misses: u64,
    pub(super) fresh: u64,
    pub(super) stale_definite: u64,
    pub(super) stale_possible: u64,
    pub(super) unverifiable: HashMap<&'static str, u64, FxBuild>,
    pub(super) by_cause: [u64; 4],
    pub(super) within: Vec<u64>,
    pub(super) late_commits: u64,
    pub(super) unsettled_exposure: u64,
    pub(super) newly_known: Vec<SubjectId>,
    /// Per rule: what its keys showed of the trace's coverage.
    pub(super) coverage: Vec<RuleCoverage>,
    /// Scratch bytes for projections and row identities.
    pub(super) proj: Vec<u8>,
    /// Every judged read, when the options keep a read log (`readlog.rs`).
    pub(super) read_log: Option<Vec<super::readlog::Logged>>,
}

impl Judge {
    /// A judge of a trace with `header`, under `mapping`.
    pub(crate) fn new(header: &Header, mapping: Mapping, options: AnalysisOptions) -> Judge {
        let timeline = Timeline::new(header, options.timeline);
        let within = vec![0; options.ages_us.len()];
        let coverage = vec![RuleCoverage::default(); mapping.rules.len()];
        let read_log = options.log_reads.then(Vec::new);
        Judge {
            mapping,
            options,
            values: ValueTable::default(),
            db: DbState::default(),
            timeline,
            keys: Vec::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            parked: Vec::new(),
            parked_heads: Vec::new(),
            free_parked: Vec::new(),
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
            coverage,
            proj: Vec::new(),
            read_log,
        }
    }

    /// Every source's name (what the mapping's node patterns see), by [`SourceId`].
    pub(crate) fn source_names(&self) -> &[String] {
        self.timeline.names()
    }

    /// Counts a read that could not be judged, and why.
    pub(super) fn count_unverifiable(&mut self, reason: &'static str) {
        *self.unverifiable.entry(reason).or_insert(0) += 1;
    }
}
